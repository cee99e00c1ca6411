/* SPDX-License-Identifier: MIT
 * buf.c — bounded growable buffer.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/mem.h"

#include <stdarg.h>

void gw_buf_init(struct gw_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void gw_buf_release(struct gw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void gw_buf_reset(struct gw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

gw_err gw_buf_reserve(struct gw_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return GW_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return GW_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    b->data = gw_xrealloc(b->data, cap);
    b->cap = cap;
    return GW_OK;
}

gw_err gw_buf_append(struct gw_buf *b, const void *data, size_t n)
{
    gw_err rc = gw_buf_reserve(b, n);
    if (rc != GW_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return GW_OK;
}

gw_err gw_buf_puts(struct gw_buf *b, const char *s)
{
    return gw_buf_append(b, s, strlen(s));
}

gw_err gw_buf_printf(struct gw_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    gw_err rc = n < 0 ? GW_EINTERNAL : gw_buf_reserve(b, (size_t)n);
    if (rc == GW_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return rc;
}

char *gw_buf_detach(struct gw_buf *b, size_t *len)
{
    char *d = b->data ? b->data : gw_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}
