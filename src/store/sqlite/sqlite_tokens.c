/* SPDX-License-Identifier: MIT
 * sqlite_tokens.c — gateway tokens in SQLite (table tokens, schema 1).
 *
 * Rows are bound and read through STORE_TOKEN_COLUMNS; the three updates share one shape:
 * "WHERE tenant = ?1 AND id = ?2" with the new value in ?3, and no matching row means
 * GW_ENOTFOUND.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define COLS STORE_COL_NAMES(STORE_TOKEN_COLUMNS)

static const char INSERT[] = "INSERT INTO tokens (" COLS ") "
                             "VALUES (?1, ?2, ?3, ?4, COALESCE(?5, '[]'), ?6, ?7, ?8, ?9, ?10)";
static const char SET_HASH[] = "UPDATE tokens SET hash = ?3 "
                               "WHERE tenant = ?1 AND id = ?2 AND revoked_ms = 0";
/* Matches the row even when already revoked (changes() == 1), keeping the first time. */
static const char REVOKE[] = "UPDATE tokens SET revoked_ms = "
                             "CASE WHEN revoked_ms = 0 THEN ?3 ELSE revoked_ms END "
                             "WHERE tenant = ?1 AND id = ?2";
static const char TOUCH[] = "UPDATE tokens SET last_used_ms = MAX(last_used_ms, ?3) "
                            "WHERE tenant = ?1 AND id = ?2";
static const char LIST[] = "SELECT " COLS " FROM tokens ORDER BY tenant, created_ms, id";

static gw_err insert(struct store *st, const struct store_token *t)
{
    return store_sqlite_insert(st, INSERT, "token insert", &store_token_cols, t);
}

static gw_err update(struct store *st, const char *sql, const char *what, const char *tenant,
                     const char *id, struct store_sqlite_arg value)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = sql, .what = what, .conflict = true,
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id), value)),
                                   &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

static gw_err set_hash(struct store *st, const char *tenant, const char *id, const char *hash)
{
    return update(st, SET_HASH, "token set_hash", tenant, id, SQ_TEXT(hash));
}

static gw_err revoke(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    return update(st, REVOKE, "token revoke", tenant, id, SQ_I64(ms));
}

static gw_err touch(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    return update(st, TOUCH, "token touch", tenant, id, SQ_I64(ms));
}

static gw_err list(struct store *st, struct store_token **out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = LIST, .what = "token list"), &store_token_cols, out,
                             n);
}

const struct store_token_ops store_sqlite_token_ops = {
    .insert = insert,
    .set_hash = set_hash,
    .revoke = revoke,
    .touch = touch,
    .list = list,
};
