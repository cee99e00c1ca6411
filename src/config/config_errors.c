/* SPDX-License-Identifier: MIT
 * config_errors.c — collecting validation errors.
 *
 * The loader reports every problem it finds rather than stopping at the first, so an operator
 * fixes a file in one round. Sections are loaded in dependency order, not file order, so the
 * messages are sorted by line at the end; the count is capped so a hostile or mangled file
 * cannot make the report itself huge.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <stdarg.h>

void cfg_errlist_init(struct cfg_errlist *e, const char *file)
{
    memset(e, 0, sizeof(*e));
    e->file = file;
}

void cfg_err(struct cfg_errlist *e, int line, const char *fmt, ...)
{
    if (e->n >= CFG_MAX_ERRORS) {
        e->truncated = true;
        return;
    }
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    char *msg = gw_xmalloc((size_t)len + 1);
    vsnprintf(msg, (size_t)len + 1, fmt, ap2);
    va_end(ap2);
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->v = gw_xrealloc(e->v, e->cap * sizeof(*e->v));
    }
    e->v[e->n] = (struct cfg_errent){.line = line, .seq = e->n, .msg = msg};
    e->n++;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct cfg_errent *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfg_errlist_finish(struct cfg_errlist *e, struct cfg_errors *out)
{
    const char *file = e->file ? e->file : "<config>";
    if (e->n > 1)
        qsort(e->v, e->n, sizeof(*e->v), cmp_ent);
    if (out) {
        size_t extra = e->truncated ? 1 : 0;
        out->msgs = gw_xrealloc(out->msgs, (out->n + e->n + extra) * sizeof(char *));
        for (size_t i = 0; i < e->n; i++)
            out->msgs[out->n++] = e->v[i].line > 0
                                      ? gw_xasprintf("%s:%d: %s", file, e->v[i].line, e->v[i].msg)
                                      : gw_xasprintf("%s: %s", file, e->v[i].msg);
        if (extra)
            out->msgs[out->n++] = gw_xasprintf("%s: too many errors, only the first %d are shown",
                                               file, CFG_MAX_ERRORS);
    }
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].msg);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
    e->truncated = false;
}

void cfg_errors_release(struct cfg_errors *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->n; i++)
        free(errs->msgs[i]);
    free(errs->msgs);
    errs->msgs = NULL;
    errs->n = 0;
}

const char *cfg_shown(const char *s, char *buf, size_t cap)
{
    size_t o = 0, i = 0;
    if (cap < 8)
        return "";
    for (; s[i] && o + 4 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (s[i]) {
        /* cut: mark it, and avoid leaving half a UTF-8 sequence */
        while (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0x80)
            o--;
        if (o > 0 && ((unsigned char)buf[o - 1] & 0xC0) == 0xC0)
            o--;
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}
