/* SPDX-License-Identifier: MIT
 * mem.c — aborting allocators and the arena (gw_pool).
 *
 * The arena is a list of chunks; large allocations get a chunk of their own so a big request
 * body does not waste a standard chunk. Cleanups are kept in a LIFO list inside the arena.
 */
#include "base/prelude.h"
#include "base/mem.h"

#include <stdarg.h>

#define POOL_CHUNK 8192
#define POOL_ALIGN 16

GW_NORETURN static void oom(size_t n)
{
    fprintf(stderr, "openclaw: out of memory allocating %zu bytes\n", n);
    abort();
}

void *gw_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *gw_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *gw_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *gw_xstrdup(const char *s)
{
    return gw_xstrndup(s, strlen(s));
}

char *gw_xstrndup(const char *s, size_t n)
{
    char *d = gw_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gw_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return s;
}

struct pool_chunk {
    struct pool_chunk *next;
    size_t used, cap;
    _Alignas(POOL_ALIGN) unsigned char data[];
};

struct pool_cleanup {
    struct pool_cleanup *next;
    gw_cleanup_fn *fn;
    void *arg;
};

struct gw_pool {
    struct pool_chunk *chunks;     /* current chunk first */
    struct pool_cleanup *cleanups; /* LIFO */
};

struct gw_pool *gw_pool_new(void)
{
    return gw_xcalloc(1, sizeof(struct gw_pool));
}

void gw_pool_free(struct gw_pool *p)
{
    if (!p)
        return;
    for (struct pool_cleanup *c = p->cleanups; c; c = c->next)
        c->fn(c->arg);
    struct pool_chunk *ch = p->chunks;
    while (ch) {
        struct pool_chunk *next = ch->next;
        free(ch);
        ch = next;
    }
    free(p);
}

void *gw_pool_alloc(struct gw_pool *p, size_t n)
{
    n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
    struct pool_chunk *ch = p->chunks;
    if (!ch || ch->cap - ch->used < n) {
        size_t cap = n > POOL_CHUNK / 4 ? n : POOL_CHUNK;
        struct pool_chunk *nc = gw_xmalloc(sizeof(*nc) + cap);
        nc->used = 0;
        nc->cap = cap;
        if (cap == n && ch) {
            /* dedicated chunk: keep the current chunk in front for small allocations */
            nc->next = ch->next;
            ch->next = nc;
        } else {
            nc->next = ch;
            p->chunks = nc;
        }
        ch = nc;
    }
    void *r = ch->data + ch->used;
    ch->used += n;
    return r;
}

void *gw_pool_calloc(struct gw_pool *p, size_t n)
{
    void *r = gw_pool_alloc(p, n);
    memset(r, 0, n);
    return r;
}

char *gw_pool_strndup(struct gw_pool *p, const char *s, size_t n)
{
    char *d = gw_pool_alloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gw_pool_strdup(struct gw_pool *p, const char *s)
{
    return s ? gw_pool_strndup(p, s, strlen(s)) : NULL;
}

char *gw_pool_printf(struct gw_pool *p, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = gw_pool_alloc(p, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

void gw_pool_cleanup_add(struct gw_pool *p, gw_cleanup_fn *fn, void *arg)
{
    struct pool_cleanup *c = gw_pool_alloc(p, sizeof(*c));
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
}
