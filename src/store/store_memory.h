/* SPDX-License-Identifier: MIT
 * store_memory.h — memory documents in the store (issue 15: nothing on local disk that a node
 * owns): in cluster mode every node reads and writes the same documents. A document is named
 * by its key (its path relative to the data directory, or an absolute path the configuration
 * names outside it) and holds UTF-8 text without NUL bytes. Included by store.h.
 */
#ifndef GW_STORE_MEMORY_H
#define GW_STORE_MEMORY_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

/* The document of key, at most max bytes: *data (malloc'd, NUL-terminated) and *len.
 * GW_ENOTFOUND when there is none, GW_ETOOBIG when it is longer than max. */
gw_err store_memory_get(struct store *st, const char *key, size_t max, char **data, size_t *len);
/* Creates or replaces the document of key (GW_EINVAL for a NUL byte in data). */
gw_err store_memory_put(struct store *st, const char *key, const char *data, size_t len,
                        int64_t updated_ms);
/* Removes it; GW_OK when there was none. */
gw_err store_memory_delete(struct store *st, const char *key);

#endif
