/* SPDX-License-Identifier: MIT
 * sqlite_policies.c — policy versions in SQLite (table policy_versions): every version of
 * every policy is kept, so a version number once used is never reused (GW_ECONFLICT).
 */
#include "base/prelude.h"
#include "base/util.h"
#include "store/sqlite/sqlite_int.h"

static const char INSERT[] = "INSERT INTO policy_versions (tenant, id, version, record, "
                             "created_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char LIST[] = "SELECT " STORE_COL_NAMES(
    STORE_POLICY_VERSION_COLUMNS) " FROM policy_versions ORDER BY tenant, id, version";

static gw_err insert(struct store *st, const char *tenant, const char *id, int64_t version,
                     const char *record_json)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = INSERT, .what = "policy insert", .conflict = true,
                                      SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id), SQ_I64(version),
                                              SQ_TEXT(record_json), SQ_I64(gw_now_ms()))),
                              NULL);
}

static gw_err list(struct store *st, struct store_policy_version **out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = LIST, .what = "policy list"),
                             &store_policy_version_cols, out, n);
}

const struct store_policy_ops store_sqlite_policy_ops = {
    .insert = insert,
    .list = list,
};
