/* SPDX-License-Identifier: MIT
 * pg_sso.c — the single sign-on tables in PostgreSQL: sessions, pending login states and
 * just-in-time provisioned users (schema 6); used SAML assertion ids (insert-if-absent, so the
 * first use wins on any node) and the NameID index that single logout finds sessions by
 * (schema 7, an expression index on the identity JSON).
 *
 * Consuming a login state is one read-and-mark transaction: the read locks the row (FOR
 * UPDATE) and the mark is guarded by "consumed_ms = 0", so two callbacks racing with the same
 * state, on one node or two, cannot both win; the nonce and the PKCE verifier are erased by
 * the same transaction.
 */
#include "base/prelude.h"
#include "store/pg/pg_int.h"

#define SESSION_COLS STORE_COL_NAMES(STORE_SESSION_COLUMNS)
#define NAME_ID "((identity::jsonb) #>> '{saml,name_id}')" /* as in the index */

static const char SESSION_INSERT[] = "INSERT INTO sessions (" SESSION_COLS ") VALUES ($1, $2, "
                                     "$3, $4, COALESCE($5, '{}'), $6, $7, $8, $9, "
                                     "COALESCE($10, 'browser'), $11, $12)";
static const char SESSION_GET[] = "SELECT " SESSION_COLS " FROM sessions WHERE hash = $1";
static const char SESSION_TOUCH[] = "UPDATE sessions SET last_seen_ms = "
                                    "GREATEST(last_seen_ms, $2) WHERE hash = $1";
static const char SESSION_DELETE[] = "DELETE FROM sessions WHERE tenant = $1 AND id = $2 "
                                     "RETURNING user_id";
static const char SESSION_DELETE_USER[] = "DELETE FROM sessions WHERE tenant = $1 AND "
                                          "user_id = $2";
static const char SESSION_LIST[] = "SELECT " SESSION_COLS " FROM sessions WHERE tenant = $1 "
                                   "AND ($2::text IS NULL OR user_id = $2) "
                                   "ORDER BY created_ms DESC, rid DESC LIMIT $3";
static const char PURGE_SESSIONS[] = "DELETE FROM sessions WHERE expires_ms <= $1 OR "
                                     "(kind = 'browser' AND last_seen_ms < $2)";
/* login states are kept a minute past expiry: they count for redirect-loop detection */
static const char PURGE_STATES[] = "DELETE FROM sso_login_states WHERE "
                                   "expires_ms <= $1 - 60000";
static const char PURGE_ASSERTIONS[] = "DELETE FROM saml_assertions WHERE expires_ms <= $1";
static const char STATE_INSERT[] = "INSERT INTO sso_login_states (" STORE_COL_NAMES(
    STORE_LOGIN_STATE_COLUMNS) ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char STATE_FIND[] = "SELECT " STORE_COL_NAMES(
    STORE_LOGIN_STATE_COLUMNS) " FROM sso_login_states WHERE state_hash = $1 AND "
                               "consumed_ms = 0 AND expires_ms > $2 FOR UPDATE";
static const char STATE_MARK[] = "UPDATE sso_login_states SET consumed_ms = $2, nonce = NULL, "
                                 "verifier = NULL WHERE state_hash = $1 AND consumed_ms = 0";
static const char STATE_COUNT[] = "SELECT COUNT(*) FROM sso_login_states WHERE "
                                  "binding_hash = $1 AND created_ms >= $2";
static const char ASSERTION_USE[] = "INSERT INTO saml_assertions (tenant, id_hash, expires_ms) "
                                    "VALUES ($1, $2, $3) ON CONFLICT (tenant, id_hash) DO NOTHING";
static const char SESSION_DELETE_SAML[] = "DELETE FROM sessions WHERE tenant = $1 AND " NAME_ID
                                          " = $2 AND ($3::text IS NULL OR "
                                          "(identity::jsonb) #>> '{saml,session_index}' = $3) "
                                          "RETURNING user_id";
static const char USER_UPSERT[] = "INSERT INTO sso_users (" STORE_COL_NAMES(
    STORE_SSO_USER_COLUMNS) ") VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, '[]'), 0, "
                            "$9, $9) "
                            "ON CONFLICT (tenant, id) DO UPDATE SET email = excluded.email, "
                            "name = excluded.name, role = excluded.role, "
                            "org_unit = excluded.org_unit, team = excluded.team, "
                            "groups = excluded.groups, "
                            "last_login_ms = excluded.last_login_ms";
static const char USER_GET[] = "SELECT " STORE_COL_NAMES(
    STORE_SSO_USER_COLUMNS) " FROM sso_users WHERE tenant = $1 AND id = $2";

/* --- sessions ----------------------------------------------------------------------------- */

static gw_err session_insert(struct store *st, const struct store_session *s)
{
    return store_pg_insert(st, SESSION_INSERT, "session insert", &store_session_cols, s);
}

static gw_err session_get(struct store *st, const char *hash, struct store_session *out)
{
    return store_pg_get(st,
                        PG_CALL(.sql = SESSION_GET, .what = "session get", PG_ARGS(PG_TEXT(hash))),
                        &store_session_cols, out);
}

static gw_err session_touch(struct store *st, const char *hash, int64_t ms)
{
    return store_pg_write(st,
                          PG_CALL(.sql = SESSION_TOUCH, .what = "session touch",
                                  PG_ARGS(PG_TEXT(hash), PG_I64(ms))),
                          NULL);
}

/* Runs a DELETE ... RETURNING user_id: *n rows deleted, *user (when asked) the first's user. */
static gw_err delete_returning(struct store *st, const struct store_pg_call *call, size_t *n,
                               char **user)
{
    char **users = NULL;
    size_t len = 0;
    gw_err rc = store_pg_list(st, call, &store_str_cols, &users, &len);
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
                                 PG_CALL(.sql = SESSION_DELETE, .what = "session delete",
                                         PG_ARGS(PG_TEXT(tenant), PG_TEXT(id))),
                                 &n, user_id);
    return rc == GW_OK && n == 0 ? GW_ENOTFOUND : rc;
}

static gw_err session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                  size_t *n)
{
    int changes = 0;
    gw_err rc = store_pg_write(st,
                               PG_CALL(.sql = SESSION_DELETE_USER, .what = "session delete by user",
                                       PG_ARGS(PG_TEXT(tenant), PG_TEXT(user_id))),
                               &changes);
    *n = changes > 0 ? (size_t)changes : 0;
    return rc;
}

static gw_err session_list(struct store *st, const char *tenant, const char *user_id, size_t limit,
                           struct store_session **out, size_t *n)
{
    int64_t lim = limit > INT32_MAX ? INT32_MAX : (int64_t)limit;
    return store_pg_list(st,
                         PG_CALL(.sql = SESSION_LIST, .what = "session list",
                                 PG_ARGS(PG_TEXT(tenant), PG_TEXT(user_id), PG_I64(lim))),
                         &store_session_cols, out, n);
}

static gw_err session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                  const char *session_index, size_t *n, char **user)
{
    return delete_returning(st,
                            PG_CALL(.sql = SESSION_DELETE_SAML, .what = "session delete by NameID",
                                    PG_ARGS(PG_TEXT(tenant), PG_TEXT(name_id),
                                            PG_TEXT(session_index))),
                            n, user);
}

static gw_err purge(struct store *st, int64_t now_ms, int64_t idle_before_ms)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "sso purge");
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run(c,
                             PG_CALL(.sql = PURGE_SESSIONS, .what = "sso purge",
                                     PG_ARGS(PG_I64(now_ms), PG_I64(idle_before_ms))),
                             NULL);
    if (rc == GW_OK)
        rc = store_pg_run(
            c, PG_CALL(.sql = PURGE_STATES, .what = "sso purge", PG_ARGS(PG_I64(now_ms))), NULL);
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = PURGE_ASSERTIONS, .what = "sso purge",
                                  PG_ARGS(PG_I64(now_ms))),
                          NULL);
    store_pg_release(s, c);
    return rc;
}

/* --- login states and SAML assertion ids -------------------------------------------------- */

static gw_err login_state_insert(struct store *st, const struct store_login_state *s)
{
    return store_pg_write(st,
                          PG_CALL(.sql = STATE_INSERT, .what = "login state insert",
                                  .cols = &store_login_state_cols, .row = s),
                          NULL);
}

static gw_err login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                  struct store_login_state *out)
{
    return store_pg_consume(st,
                            PG_CALL(.sql = STATE_FIND, .what = "login state consume",
                                    PG_ARGS(PG_TEXT(state_hash), PG_I64(now_ms))),
                            &store_login_state_cols, out,
                            PG_CALL(.sql = STATE_MARK, .what = "login state consume",
                                    PG_ARGS(PG_TEXT(state_hash), PG_I64(now_ms))),
                            true);
}

static gw_err login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                                size_t *n)
{
    int64_t count = 0;
    gw_err rc = store_pg_get(st,
                             PG_CALL(.sql = STATE_COUNT, .what = "login state count",
                                     PG_ARGS(PG_TEXT(binding_hash), PG_I64(since_ms))),
                             &store_pg_i64_cols, &count);
    if (rc == GW_OK)
        *n = (size_t)count;
    return rc == GW_ENOTFOUND ? GW_ESTORE : rc;
}

static gw_err saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                 int64_t expires_ms)
{
    int changes = 0;
    gw_err rc = store_pg_write(st,
                               PG_CALL(.sql = ASSERTION_USE, .what = "saml assertion use",
                                       PG_ARGS(PG_TEXT(tenant), PG_TEXT(id_hash),
                                               PG_I64(expires_ms))),
                               &changes);
    return rc == GW_OK && changes == 0 ? GW_ECONFLICT : rc;
}

/* --- users provisioned just in time ------------------------------------------------------- */

/* Binds tenant..groups from the row and last_login_ms as $9 (new rows: created then too). */
static gw_err sso_user_upsert(struct store *st, const struct store_sso_user *u)
{
    return store_pg_write(st,
                          PG_CALL(.sql = USER_UPSERT, .what = "sso user upsert",
                                  .cols = &store_sso_user_cols, .row = u, .ncols = 8,
                                  PG_ARGS(PG_I64(u->last_login_ms))),
                          NULL);
}

static gw_err sso_user_get(struct store *st, const char *tenant, const char *id,
                           struct store_sso_user *out)
{
    return store_pg_get(st,
                        PG_CALL(.sql = USER_GET, .what = "sso user get",
                                PG_ARGS(PG_TEXT(tenant), PG_TEXT(id))),
                        &store_sso_user_cols, out);
}

const struct store_sso_ops store_pg_sso_ops = {
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
