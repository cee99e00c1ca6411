/* SPDX-License-Identifier: MIT
 * store_sqlite_grants.c — the SQLite side of namespace grants (schema 9): one row per member
 * added at run time, keyed by (tenant, namespace, kind, value), so adding the same member twice
 * is a conflict rather than a duplicate. Grants change rarely and are read once at start, so
 * statements are prepared per call on the main connection.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store_int.h"

static gw_err fail(sqlite3 *db, const char *what)
{
    gw_error("store: %s: %s", what, sqlite3_errmsg(db));
    return GW_ESTORE;
}

static char *col_str(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? gw_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(q, i)) : NULL;
}

static gw_err sqlite_grant_list(struct store *st, struct store_grant **out, size_t *n)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    struct store_grant *list = NULL;
    size_t len = 0, cap = 0;
    if (sqlite3_prepare_v2(db, "SELECT tenant, namespace, kind, value, created_by, created_ms "
                               "FROM namespace_grants ORDER BY tenant, namespace, created_ms",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = fail(db, "listing namespace grants");
        goto out;
    }
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            list = gw_xrealloc(list, cap * sizeof(*list));
        }
        list[len++] = (struct store_grant){
            .tenant = col_str(q, 0), .ns = col_str(q, 1), .kind = col_str(q, 2),
            .value = col_str(q, 3), .created_by = col_str(q, 4),
            .created_ms = sqlite3_column_int64(q, 5)};
    }
    if (step != SQLITE_DONE)
        rc = fail(db, "listing namespace grants");
out:
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    if (rc != GW_OK) {
        store_grant_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

static gw_err sqlite_grant_insert(struct store *st, const struct store_grant *g)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(db, "INSERT INTO namespace_grants (tenant, namespace, kind, value, "
                               "created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = fail(db, "adding a namespace grant");
        goto out;
    }
    const char *text[] = {g->tenant, g->ns, g->kind, g->value, g->created_by};
    for (int i = 0; i < 5; i++)
        sqlite3_bind_text(q, i + 1, text[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, g->created_ms);
    int step = sqlite3_step(q);
    if (step == SQLITE_CONSTRAINT)
        rc = GW_ECONFLICT;
    else if (step != SQLITE_DONE)
        rc = fail(db, "adding a namespace grant");
out:
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err sqlite_grant_delete(struct store *st, const char *tenant, const char *ns,
                                  const char *kind, const char *value)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(db, "DELETE FROM namespace_grants WHERE tenant = ? AND namespace = ? "
                               "AND kind = ? AND value = ?",
                           -1, &q, NULL) != SQLITE_OK) {
        rc = fail(db, "removing a namespace grant");
        goto out;
    }
    const char *text[] = {tenant, ns, kind, value};
    for (int i = 0; i < 4; i++)
        sqlite3_bind_text(q, i + 1, text[i], -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = fail(db, "removing a namespace grant");
    else if (sqlite3_changes(db) == 0)
        rc = GW_ENOTFOUND;
out:
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

const struct store_grant_ops store_sqlite_grant_ops = {
    .list = sqlite_grant_list,
    .insert = sqlite_grant_insert,
    .remove = sqlite_grant_delete,
};
