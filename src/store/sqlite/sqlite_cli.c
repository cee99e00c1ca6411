/* SPDX-License-Identifier: MIT
 * sqlite_cli.c — the CLI sign-in in SQLite (schema 8): one-time authorization codes, and the
 * rotation of CLI sessions' refresh tokens (sessions of kind "cli", cli_refresh_used).
 *
 * Consuming a code and rotating a refresh token are compare-and-set updates inside BEGIN
 * IMMEDIATE, so a code or a refresh token is accepted once even under a race; a refresh token
 * that was rotated away stays recognizable as used, naming its session.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define CODE_COLS STORE_COL_NAMES(STORE_CLI_CODE_COLUMNS)

static const char CODE_INSERT[] = "INSERT INTO cli_auth_codes (" CODE_COLS ") VALUES (?1, ?2, "
                                  "?3, COALESCE(?4, '{}'), ?5, ?6, ?7, ?8, ?9, 0, NULL)";
static const char CODE_FIND[] = "SELECT " CODE_COLS " FROM cli_auth_codes WHERE code_hash = ?1";
static const char CODE_MARK[] = "UPDATE cli_auth_codes SET consumed_ms = ?2 WHERE "
                                "code_hash = ?1 AND consumed_ms = 0";
static const char CODE_LINK[] = "UPDATE cli_auth_codes SET cli_session = ?2 WHERE code_hash = ?1";
static const char REFRESH_FIND[] = "SELECT " STORE_COL_NAMES(
    STORE_SESSION_COLUMNS) " FROM sessions WHERE refresh_hash = ?1 AND kind = 'cli'";
static const char REFRESH_USED[] = "SELECT u.session_id, u.tenant, s.user_id FROM "
                                   "cli_refresh_used u LEFT JOIN sessions s "
                                   "ON s.id = u.session_id WHERE u.hash = ?1";
/* the old refresh token becomes "used" only if it is still the current one */
static const char ROTATE_MARK[] = "INSERT INTO cli_refresh_used (hash, tenant, session_id, "
                                  "used_ms) SELECT refresh_hash, tenant, id, ?3 FROM sessions "
                                  "WHERE id = ?1 AND refresh_hash = ?2 AND kind = 'cli'";
static const char ROTATE[] = "UPDATE sessions SET hash = ?2, refresh_hash = ?3, "
                             "access_expires_ms = ?4, expires_ms = ?5, last_seen_ms = ?6 "
                             "WHERE id = ?1";
/* codes stay ten minutes past expiry, so a late replay still revokes what they issued */
static const char PURGE_CODES[] = "DELETE FROM cli_auth_codes WHERE expires_ms <= ?1";
static const char PURGE_USED[] = "DELETE FROM cli_refresh_used WHERE session_id NOT IN "
                                 "(SELECT id FROM sessions)";

/* What a used refresh token still tells: its session (and that session's user). */
#define USED_COLUMNS(X, S, SEP)                                                                    \
    X(S, TEXT, id) SEP X(S, TEXT, tenant)                                                          \
    SEP X(S, TEXT, user_id)
static const struct store_cols used_cols = STORE_COLS_INIT(store_session, USED_COLUMNS);

static gw_err code_insert(struct store *st, const struct store_cli_code *c)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = CODE_INSERT, .what = "cli code insert",
                                      .cols = &store_cli_code_cols, .row = c,
                                      .ncols = STORE_CLI_CODE_INSERT_COLS),
                              NULL);
}

/* A replay finds the code consumed already: the caller sees consumed_ms and cli_session. */
static gw_err code_consume(struct store *st, const char *code_hash, int64_t now_ms,
                           struct store_cli_code *out)
{
    return store_sqlite_consume(st,
                                SQ_CALL(.sql = CODE_FIND, .what = "cli code consume",
                                        SQ_ARGS(SQ_TEXT(code_hash))),
                                &store_cli_code_cols, out,
                                SQ_CALL(.sql = CODE_MARK, .what = "cli code consume",
                                        SQ_ARGS(SQ_TEXT(code_hash), SQ_I64(now_ms))),
                                false);
}

static gw_err code_link(struct store *st, const char *code_hash, const char *session_id)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = CODE_LINK, .what = "cli code link",
                                      SQ_ARGS(SQ_TEXT(code_hash), SQ_TEXT(session_id))),
                              NULL);
}

static gw_err refresh_find(struct store *st, const char *refresh_hash, struct store_session *out)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run_get(c,
                                     SQ_CALL(.sql = REFRESH_FIND, .what = "cli refresh find",
                                             SQ_ARGS(SQ_TEXT(refresh_hash))),
                                     &store_session_cols, out);
    if (rc == GW_ENOTFOUND) {
        rc = store_sqlite_run_get(c,
                                  SQ_CALL(.sql = REFRESH_USED, .what = "cli refresh find",
                                          SQ_ARGS(SQ_TEXT(refresh_hash))),
                                  &used_cols, out);
        if (rc == GW_OK)
            rc = GW_ECONFLICT;
    }
    store_sqlite_unlock(c);
    return rc;
}

static gw_err rotate(struct store *st, const struct store_cli_rotation *r)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    int changes = 0;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, "cli rotate: begin");
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = ROTATE_MARK, .what = "cli rotate",
                                      SQ_ARGS(SQ_TEXT(r->id), SQ_TEXT(r->old_refresh_hash),
                                              SQ_I64(r->now_ms))),
                              &changes);
    if (rc == GW_OK && changes != 1)
        rc = GW_ECONFLICT;
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = ROTATE, .what = "cli rotate",
                                      SQ_ARGS(SQ_TEXT(r->id), SQ_TEXT(r->access_hash),
                                              SQ_TEXT(r->refresh_hash),
                                              SQ_I64(r->access_expires_ms), SQ_I64(r->expires_ms),
                                              SQ_I64(r->now_ms))),
                              &changes);
    if (rc == GW_OK && changes != 1)
        rc = store_sqlite_fail(c->db, "cli rotate");
    rc = store_sqlite_end(c, rc, "cli rotate: commit");
    store_sqlite_unlock(c);
    return rc;
}

static gw_err purge(struct store *st, int64_t now_ms)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(c,
                                 SQ_CALL(.sql = PURGE_CODES, .what = "cli purge",
                                         SQ_ARGS(SQ_I64(now_ms - 600000))),
                                 NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run(c, SQ_CALL(.sql = PURGE_USED, .what = "cli purge"), NULL);
    store_sqlite_unlock(c);
    return rc;
}

const struct store_cli_ops store_sqlite_cli_ops = {
    .code_insert = code_insert,
    .code_consume = code_consume,
    .code_link = code_link,
    .refresh_find = refresh_find,
    .rotate = rotate,
    .purge = purge,
};
