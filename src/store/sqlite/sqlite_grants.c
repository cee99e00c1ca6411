/* SPDX-License-Identifier: MIT
 * sqlite_grants.c — namespace members added at run time (schema 9) in SQLite: one row per
 * (tenant, namespace, kind, value), so adding a member twice is a conflict, not a duplicate.
 * Read once at start; changes are rare.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define GRANT_COLS "tenant, namespace, kind, value, created_by, created_ms"

static const char GRANT_LIST[] = "SELECT " GRANT_COLS " FROM namespace_grants "
                                 "ORDER BY tenant, namespace, created_ms";
static const char GRANT_INSERT[] = "INSERT INTO namespace_grants (" GRANT_COLS ") "
                                   "VALUES (" STORE_COL_PARAMS(STORE_GRANT_COLUMNS) ")";
static const char GRANT_DELETE[] = "DELETE FROM namespace_grants WHERE tenant = ? AND "
                                   "namespace = ? AND kind = ? AND value = ?";

static gw_err grant_list(struct store *st, struct store_grant **out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = GRANT_LIST, .what = "namespace grant list"),
                             &store_grant_cols, out, n);
}

static gw_err grant_insert(struct store *st, const struct store_grant *g)
{
    return store_sqlite_insert(st, GRANT_INSERT, "namespace grant insert", &store_grant_cols, g);
}

static gw_err grant_remove(struct store *st, const char *tenant, const char *ns, const char *kind,
                           const char *value)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = GRANT_DELETE, .what = "namespace grant delete",
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(ns), SQ_TEXT(kind),
                                                   SQ_TEXT(value))),
                                   &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

const struct store_grant_ops store_sqlite_grant_ops = {
    .list = grant_list,
    .insert = grant_insert,
    .remove = grant_remove,
};
