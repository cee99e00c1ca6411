/* SPDX-License-Identifier: MIT
 * pg_policies.c — policy versions in PostgreSQL (table policy_versions): every version of
 * every policy is kept, so a version number once used is never reused (GW_ECONFLICT), even
 * when two nodes write one at the same moment.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

static const char INSERT[] = "INSERT INTO policy_versions (tenant, id, version, record, "
                             "created_ms) VALUES ($1, $2, $3, $4, $5)";
static const char LIST[] = "SELECT " STORE_COL_NAMES(
    STORE_POLICY_VERSION_COLUMNS) " FROM policy_versions ORDER BY tenant, id, version";

static gw_err insert(struct store *st, const char *tenant, const char *id, int64_t version,
                     const char *record_json)
{
    return store_pg_write(st,
                          PG_CALL(.sql = INSERT, .what = "policy insert", .conflict = true,
                                  PG_ARGS(PG_TEXT(tenant), PG_TEXT(id), PG_I64(version),
                                          PG_TEXT(record_json), PG_I64(gw_now_ms()))),
                          NULL);
}

static gw_err list(struct store *st, struct store_policy_version **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = LIST, .what = "policy list"),
                         &store_policy_version_cols, out, n);
}

const struct store_policy_ops store_pg_policy_ops = {
    .insert = insert,
    .list = list,
};
