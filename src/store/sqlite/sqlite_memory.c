/* SPDX-License-Identifier: MIT
 * sqlite_memory.c — memory documents (schema 14) in SQLite: one row per document key, replaced
 * whole on each write (a document is small and written as a whole, like the file it replaces).
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

static const char MEMORY_GET[] = "SELECT name, content, updated_ms FROM memory_documents "
                                 "WHERE name = ?";
static const char MEMORY_PUT[] = "INSERT INTO memory_documents (name, content, updated_ms) "
                                 "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                                 "content = excluded.content, updated_ms = excluded.updated_ms";
static const char MEMORY_DELETE[] = "DELETE FROM memory_documents WHERE name = ?";

static gw_err memory_get(struct store *st, const char *key, struct store_memory_doc *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = MEMORY_GET, .what = "memory document read",
                                    SQ_ARGS(SQ_TEXT(key))),
                            &store_memory_doc_cols, out);
}

static gw_err memory_put(struct store *st, const struct store_memory_doc *doc)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = MEMORY_PUT, .what = "memory document write",
                                      .cols = &store_memory_doc_cols, .row = doc),
                              NULL);
}

static gw_err memory_remove(struct store *st, const char *key)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = MEMORY_DELETE, .what = "memory document delete",
                                      SQ_ARGS(SQ_TEXT(key))),
                              NULL);
}

const struct store_memory_ops store_sqlite_memory_ops = {
    .get = memory_get,
    .put = memory_put,
    .remove = memory_remove,
};
