/* SPDX-License-Identifier: MIT
 * store_memory.c — the public store API of memory documents (store_memory.h): argument checks
 * and dispatch through struct store_memory_ops (sqlite/sqlite_memory.c, pg/pg_memory.c).
 */
#include "base/prelude.h"
#include "store/store_int.h"
#include "base/mem.h"

#define KEY_MAX 4096

const struct store_cols store_memory_doc_cols = STORE_COLS_INIT(store_memory_doc,
                                                                STORE_MEMORY_DOC_COLUMNS);

static bool key_ok(const char *key)
{
    return key && *key && strlen(key) <= KEY_MAX;
}

gw_err store_memory_get(struct store *st, const char *key, size_t max, char **data, size_t *len)
{
    if (!key_ok(key) || !data || !len)
        return GW_EINVAL;
    *data = NULL;
    *len = 0;
    struct store_memory_doc doc = {0};
    gw_err rc = st->ops->memory->get(st, key, &doc);
    if (rc != GW_OK)
        goto out;
    size_t n = strlen(doc.content);
    if (n > max) {
        rc = GW_ETOOBIG;
        goto out;
    }
    *data = doc.content;
    *len = n;
    doc.content = NULL;
out:
    store_row_release(&store_memory_doc_cols, &doc);
    return rc;
}

gw_err store_memory_put(struct store *st, const char *key, const char *data, size_t len,
                        int64_t updated_ms)
{
    if (!key_ok(key) || (!data && len) || (len && memchr(data, '\0', len)))
        return GW_EINVAL;
    char *content = gw_xstrndup(data ? data : "", len);
    struct store_memory_doc doc = {.name = (char *)key,
                                   .content = content,
                                   .updated_ms = updated_ms};
    gw_err rc = st->ops->memory->put(st, &doc);
    free(content);
    return rc;
}

gw_err store_memory_delete(struct store *st, const char *key)
{
    return key_ok(key) ? st->ops->memory->remove(st, key) : GW_EINVAL;
}
