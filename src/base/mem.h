/* SPDX-License-Identifier: MIT
 * mem.h — allocation rules of the program.
 *
 * Infrastructure allocations go through gw_xmalloc & co., which abort on OOM (a gateway that
 * cannot allocate a few bytes cannot do anything useful). Anything sized by a client or an
 * upstream goes into a gw_buf created with an explicit maximum (buf.h), or into a request pool.
 *
 * gw_pool is an arena: allocations are never freed one by one; gw_pool_free releases all of
 * them and runs the registered cleanups (for fds, refcounts, ...) in reverse order.
 */
#ifndef GW_MEM_H
#define GW_MEM_H

#include "base/prelude.h"

void *gw_xmalloc(size_t n);
void *gw_xcalloc(size_t count, size_t size);
void *gw_xrealloc(void *p, size_t n);
char *gw_xstrdup(const char *s);
char *gw_xstrndup(const char *s, size_t n);
char *gw_xasprintf(const char *fmt, ...) GW_PRINTF(1, 2);

struct gw_pool;
typedef void gw_cleanup_fn(void *arg);

/* New arena; first chunk allocated lazily. */
struct gw_pool *gw_pool_new(void);
/* Runs cleanups (LIFO) and frees every allocation and the pool itself. NULL is allowed. */
void gw_pool_free(struct gw_pool *p);
/* 16-byte aligned; aborts on OOM. */
void *gw_pool_alloc(struct gw_pool *p, size_t n);
void *gw_pool_calloc(struct gw_pool *p, size_t n);
char *gw_pool_strdup(struct gw_pool *p, const char *s);
char *gw_pool_strndup(struct gw_pool *p, const char *s, size_t n);
char *gw_pool_printf(struct gw_pool *p, const char *fmt, ...) GW_PRINTF(2, 3);
/* Registers fn(arg) to run when the pool is freed. */
void gw_pool_cleanup_add(struct gw_pool *p, gw_cleanup_fn *fn, void *arg);

#endif
