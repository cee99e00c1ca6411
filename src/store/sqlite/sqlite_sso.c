/* SPDX-License-Identifier: MIT
 * sqlite_sso.c — the single sign-on tables in SQLite: sessions, pending login states and
 * just-in-time provisioned users (schema 6); used SAML assertion ids (insert-if-absent, so the
 * first use wins even with two nodes) and the NameID index that single logout finds sessions
 * by (schema 7).
 *
 * These run on the main connection. Consuming a login state is one read-and-mark in one
 * BEGIN IMMEDIATE transaction guarded by "consumed_ms = 0 AND expires_ms > now", so two
 * callbacks racing with the same state (even on two nodes) cannot both win; the nonce and the
 * PKCE verifier are erased by the same transaction.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define SESSION_COLS STORE_COL_NAMES(STORE_SESSION_COLUMNS)

static const char SESSION_INSERT[] = "INSERT INTO sessions (" SESSION_COLS ") VALUES (?1, ?2, ?3, "
                                     "?4, COALESCE(?5, '{}'), ?6, ?7, ?8, ?9, "
                                     "COALESCE(?10, 'browser'), ?11, ?12)";
static const char SESSION_GET[] = "SELECT " SESSION_COLS " FROM sessions WHERE hash = ?1";
static const char SESSION_TOUCH[] = "UPDATE sessions SET last_seen_ms = MAX(last_seen_ms, ?2) "
                                    "WHERE hash = ?1";
static const char SESSION_DELETE[] = "DELETE FROM sessions WHERE tenant = ?1 AND id = ?2 "
                                     "RETURNING user_id";
static const char SESSION_DELETE_USER[] = "DELETE FROM sessions WHERE tenant = ?1 AND "
                                          "user_id = ?2";
static const char SESSION_LIST[] = "SELECT " SESSION_COLS " FROM sessions WHERE tenant = ?1 AND "
                                   "(?2 IS NULL OR user_id = ?2) "
                                   "ORDER BY created_ms DESC, rowid DESC LIMIT ?3";
static const char PURGE_SESSIONS[] = "DELETE FROM sessions WHERE expires_ms <= ?1 OR "
                                     "(kind = 'browser' AND last_seen_ms < ?2)";
/* login states are kept a minute past expiry: they count for redirect-loop detection */
static const char PURGE_STATES[] = "DELETE FROM sso_login_states WHERE "
                                   "expires_ms <= ?1 - 60000";
static const char PURGE_ASSERTIONS[] = "DELETE FROM saml_assertions WHERE expires_ms <= ?1";
static const char STATE_INSERT[] = "INSERT INTO sso_login_states (" STORE_COL_NAMES(
    STORE_LOGIN_STATE_COLUMNS) ") VALUES (" STORE_COL_PARAMS(STORE_LOGIN_STATE_COLUMNS) ")";
static const char STATE_FIND[] = "SELECT " STORE_COL_NAMES(
    STORE_LOGIN_STATE_COLUMNS) " FROM sso_login_states WHERE state_hash = ?1 AND "
                               "consumed_ms = 0 AND expires_ms > ?2";
static const char STATE_MARK[] = "UPDATE sso_login_states SET consumed_ms = ?2, nonce = NULL, "
                                 "verifier = NULL WHERE state_hash = ?1 AND consumed_ms = 0";
static const char STATE_COUNT[] = "SELECT COUNT(*) FROM sso_login_states WHERE "
                                  "binding_hash = ?1 AND created_ms >= ?2";
static const char ASSERTION_USE[] = "INSERT INTO saml_assertions (tenant, id_hash, expires_ms) "
                                    "VALUES (?1, ?2, ?3) ON CONFLICT (tenant, id_hash) DO NOTHING";
/* the expression matches the index sessions_saml_name_id (schema 7) */
static const char SESSION_DELETE_SAML[] = "DELETE FROM sessions WHERE tenant = ?1 AND "
                                          "json_extract(identity, '$.saml.name_id') = ?2 AND "
                                          "(?3 IS NULL OR json_extract(identity, "
                                          "'$.saml.session_index') = ?3) RETURNING user_id";
static const char USER_UPSERT[] = "INSERT INTO sso_users (" STORE_COL_NAMES(
    STORE_SSO_USER_COLUMNS) ") "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE(?8, '[]'), 0, "
                            "?9, ?9) "
                            "ON CONFLICT (tenant, id) DO UPDATE SET email = excluded.email, "
                            "name = excluded.name, role = excluded.role, "
                            "org_unit = excluded.org_unit, team = excluded.team, "
                            "groups = excluded.groups, "
                            "last_login_ms = excluded.last_login_ms";
static const char USER_GET[] = "SELECT " STORE_COL_NAMES(
    STORE_SSO_USER_COLUMNS) " FROM sso_users WHERE tenant = ?1 AND id = ?2";

/* --- sessions ----------------------------------------------------------------------------- */

static gw_err session_insert(struct store *st, const struct store_session *s)
{
    return store_sqlite_insert(st, SESSION_INSERT, "session insert", &store_session_cols, s);
}

static gw_err session_get(struct store *st, const char *hash, struct store_session *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = SESSION_GET, .what = "session get",
                                    SQ_ARGS(SQ_TEXT(hash))),
                            &store_session_cols, out);
}

static gw_err session_touch(struct store *st, const char *hash, int64_t ms)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = SESSION_TOUCH, .what = "session touch",
                                      SQ_ARGS(SQ_TEXT(hash), SQ_I64(ms))),
                              NULL);
}

/* Runs a DELETE ... RETURNING user_id: *n rows deleted, *user (when asked) the first's user. */
static gw_err delete_returning(struct store *st, const struct store_sqlite_call *call, size_t *n,
                               char **user)
{
    char **users = NULL;
    size_t len = 0;
    gw_err rc = store_sqlite_list(st, call, &store_str_cols, &users, &len);
    if (rc == GW_OK && user && len > 0) {
        *user = users[0];
        users[0] = NULL;
    }
    store_strv_free(users, len);
    *n = len;
    return rc;
}

static gw_err session_delete(struct store *st, const char *tenant, const char *id, char **user_id)
{
    size_t n = 0;
    gw_err rc = delete_returning(st,
                                 SQ_CALL(.sql = SESSION_DELETE, .what = "session delete",
                                         SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id))),
                                 &n, user_id);
    return rc == GW_OK && n == 0 ? GW_ENOTFOUND : rc;
}

static gw_err session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                  size_t *n)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = SESSION_DELETE_USER,
                                           .what = "session delete by user",
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(user_id))),
                                   &changes);
    *n = changes > 0 ? (size_t)changes : 0;
    return rc;
}

static gw_err session_list(struct store *st, const char *tenant, const char *user_id, size_t limit,
                           struct store_session **out, size_t *n)
{
    int64_t lim = limit > INT32_MAX ? INT32_MAX : (int64_t)limit;
    return store_sqlite_list(st,
                             SQ_CALL(.sql = SESSION_LIST, .what = "session list",
                                     SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(user_id), SQ_I64(lim))),
                             &store_session_cols, out, n);
}

static gw_err session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                  const char *session_index, size_t *n, char **user)
{
    return delete_returning(st,
                            SQ_CALL(.sql = SESSION_DELETE_SAML, .what = "session delete by NameID",
                                    SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(name_id),
                                            SQ_TEXT(session_index))),
                            n, user);
}

static gw_err purge(struct store *st, int64_t now_ms, int64_t idle_before_ms)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(c,
                                 SQ_CALL(.sql = PURGE_SESSIONS, .what = "sso purge",
                                         SQ_ARGS(SQ_I64(now_ms), SQ_I64(idle_before_ms))),
                                 NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run(
            c, SQ_CALL(.sql = PURGE_STATES, .what = "sso purge", SQ_ARGS(SQ_I64(now_ms))), NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = PURGE_ASSERTIONS, .what = "sso purge",
                                      SQ_ARGS(SQ_I64(now_ms))),
                              NULL);
    store_sqlite_unlock(c);
    return rc;
}

/* --- login states and SAML assertion ids -------------------------------------------------- */

static gw_err login_state_insert(struct store *st, const struct store_login_state *s)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = STATE_INSERT, .what = "login state insert",
                                      .cols = &store_login_state_cols, .row = s),
                              NULL);
}

static gw_err login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                  struct store_login_state *out)
{
    return store_sqlite_consume(st,
                                SQ_CALL(.sql = STATE_FIND, .what = "login state consume",
                                        SQ_ARGS(SQ_TEXT(state_hash), SQ_I64(now_ms))),
                                &store_login_state_cols, out,
                                SQ_CALL(.sql = STATE_MARK, .what = "login state consume",
                                        SQ_ARGS(SQ_TEXT(state_hash), SQ_I64(now_ms))),
                                true);
}

static gw_err login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                                size_t *n)
{
    int64_t count = 0;
    gw_err rc = store_sqlite_get(st,
                                 SQ_CALL(.sql = STATE_COUNT, .what = "login state count",
                                         SQ_ARGS(SQ_TEXT(binding_hash), SQ_I64(since_ms))),
                                 &store_sqlite_i64_cols, &count);
    if (rc == GW_OK)
        *n = (size_t)count;
    return rc == GW_ENOTFOUND ? GW_ESTORE : rc;
}

static gw_err saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                 int64_t expires_ms)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = ASSERTION_USE, .what = "saml assertion use",
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id_hash),
                                                   SQ_I64(expires_ms))),
                                   &changes);
    return rc == GW_OK && changes == 0 ? GW_ECONFLICT : rc;
}

/* --- users provisioned just in time ------------------------------------------------------- */

/* Binds tenant..groups from the row and last_login_ms as ?9 (new rows: created then too). */
static gw_err sso_user_upsert(struct store *st, const struct store_sso_user *u)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = USER_UPSERT, .what = "sso user upsert",
                                      .cols = &store_sso_user_cols, .row = u, .ncols = 8,
                                      SQ_ARGS(SQ_I64(u->last_login_ms))),
                              NULL);
}

static gw_err sso_user_get(struct store *st, const char *tenant, const char *id,
                           struct store_sso_user *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = USER_GET, .what = "sso user get",
                                    SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id))),
                            &store_sso_user_cols, out);
}

const struct store_sso_ops store_sqlite_sso_ops = {
    .session_insert = session_insert,
    .session_get = session_get,
    .session_touch = session_touch,
    .session_delete = session_delete,
    .session_delete_user = session_delete_user,
    .session_list = session_list,
    .purge = purge,
    .login_state_insert = login_state_insert,
    .login_state_consume = login_state_consume,
    .login_state_count = login_state_count,
    .saml_assertion_use = saml_assertion_use,
    .session_delete_saml = session_delete_saml,
    .sso_user_upsert = sso_user_upsert,
    .sso_user_get = sso_user_get,
};
