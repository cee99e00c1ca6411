/* SPDX-License-Identifier: MIT
 * buf.h — growable byte buffer with a mandatory maximum.
 *
 * Every buffer filled from outside (request bodies, upstream replies, files read on behalf of a
 * client) is a gw_buf with max set: appending past it fails with GW_ETOOBIG and leaves the
 * buffer unchanged. The data is always NUL-terminated for convenience (not counted in len).
 */
#ifndef GW_BUF_H
#define GW_BUF_H

#include "base/prelude.h"
#include "base/err.h"

struct gw_buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
    size_t max; /* hard limit on len */
};

void gw_buf_init(struct gw_buf *b, size_t max);
void gw_buf_release(struct gw_buf *b);
void gw_buf_reset(struct gw_buf *b);
/* Makes room for extra more bytes (and the NUL) without changing len; GW_ETOOBIG past max. */
gw_err gw_buf_reserve(struct gw_buf *b, size_t extra);
gw_err gw_buf_append(struct gw_buf *b, const void *data, size_t n);
gw_err gw_buf_puts(struct gw_buf *b, const char *s);
gw_err gw_buf_printf(struct gw_buf *b, const char *fmt, ...) GW_PRINTF(2, 3);
/* Takes ownership of the data (caller frees); buffer is reset. */
char *gw_buf_detach(struct gw_buf *b, size_t *len);

#endif
