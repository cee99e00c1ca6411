/* SPDX-License-Identifier: MIT
 * pg_grants.c — namespace members added at run time (schema 9) in PostgreSQL: one row per
 * (tenant, namespace, kind, value), so adding a member twice is a conflict, not a duplicate.
 */
#include "base/prelude.h"
#include "store/pg/pg_int.h"

#define GRANT_COLS "tenant, namespace, kind, value, created_by, created_ms"

static const char GRANT_LIST[] = "SELECT " GRANT_COLS " FROM namespace_grants "
                                 "ORDER BY tenant, namespace, created_ms";
static const char GRANT_INSERT[] = "INSERT INTO namespace_grants (" GRANT_COLS ") "
                                   "VALUES ($1, $2, $3, $4, $5, $6)";
static const char GRANT_DELETE[] = "DELETE FROM namespace_grants WHERE tenant = $1 AND "
                                   "namespace = $2 AND kind = $3 AND value = $4";

static gw_err grant_list(struct store *st, struct store_grant **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = GRANT_LIST, .what = "namespace grant list"),
                         &store_grant_cols, out, n);
}

static gw_err grant_insert(struct store *st, const struct store_grant *g)
{
    return store_pg_insert(st, GRANT_INSERT, "namespace grant insert", &store_grant_cols, g);
}

static gw_err grant_remove(struct store *st, const char *tenant, const char *ns, const char *kind,
                           const char *value)
{
    int changes = 0;
    gw_err rc = store_pg_write(st,
                               PG_CALL(.sql = GRANT_DELETE, .what = "namespace grant delete",
                                       PG_ARGS(PG_TEXT(tenant), PG_TEXT(ns), PG_TEXT(kind),
                                               PG_TEXT(value))),
                               &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

const struct store_grant_ops store_pg_grant_ops = {
    .list = grant_list,
    .insert = grant_insert,
    .remove = grant_remove,
};
