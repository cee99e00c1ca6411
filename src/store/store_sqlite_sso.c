/* SPDX-License-Identifier: MIT
 * store_sqlite_sso.c — the SQLite side of the single sign-on tables (schema 6): sessions,
 * pending login states and just-in-time provisioned users; of schema 7: used SAML assertion
 * ids (insert-if-absent, so the first use wins even with two nodes) and the NameID index that
 * single logout finds sessions by; and of the CLI sign-in (schema 8): one-time authorization
 * codes, CLI sessions and their refresh-token rotation.
 *
 * These run on the main connection (store_sqlite_main_lock) with statements prepared per call:
 * logins are rare, and a session lookup is one indexed read. Consuming a login state is one
 * read-and-mark in one BEGIN IMMEDIATE transaction guarded by "consumed_ms = 0 AND
 * expires_ms > now", so two callbacks racing with the same state (even on two nodes) cannot
 * both win; the nonce and the PKCE verifier are erased by the same transaction. Codes and
 * refresh tokens follow the same rule: consuming a code and rotating a refresh token are
 * compare-and-set updates, so a code or a refresh token is accepted once even under a race.
 * Only placeholders appear in SQL; errors log sqlite3_errmsg only.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/store_int.h"

#define SESSION_COLS "id, hash, tenant, user_id, identity, client_ip, created_ms, " \
                     "last_seen_ms, expires_ms, kind, refresh_hash, access_expires_ms"

static gw_err fail(sqlite3 *db, const char *what)
{
    gw_error("store: %s: %s", what, sqlite3_errmsg(db));
    return GW_ESTORE;
}

static int bind_str(sqlite3_stmt *q, int i, const char *s)
{
    return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

static char *col_str(sqlite3_stmt *q, int i)
{
    if (sqlite3_column_type(q, i) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(q, i);
    if (!t) {
        fprintf(stderr, "openclaw: out of memory reading a store column\n");
        abort();
    }
    return gw_xstrndup((const char *)t, (size_t)sqlite3_column_bytes(q, i));
}

static bool prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q)
{
    return sqlite3_prepare_v2(db, sql, -1, q, NULL) == SQLITE_OK;
}

/* The main connection, locked, inside BEGIN IMMEDIATE; NULL (unlocked, logged) on failure. */
static sqlite3 *begin_immediate(struct store *st, const char *what)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK)
        return db;
    fail(db, what);
    store_sqlite_main_unlock(st);
    return NULL;
}

/* COMMIT when rc is GW_OK, else ROLLBACK; then unlocks. */
static void end_transaction(struct store *st, sqlite3 *db, gw_err rc)
{
    sqlite3_exec(db, rc == GW_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    store_sqlite_main_unlock(st);
}

static void read_session(sqlite3_stmt *q, struct store_session *s)
{
    s->id = col_str(q, 0);
    s->hash = col_str(q, 1);
    s->tenant = col_str(q, 2);
    s->user_id = col_str(q, 3);
    s->identity = col_str(q, 4);
    s->client_ip = col_str(q, 5);
    s->created_ms = sqlite3_column_int64(q, 6);
    s->last_seen_ms = sqlite3_column_int64(q, 7);
    s->expires_ms = sqlite3_column_int64(q, 8);
    s->kind = col_str(q, 9);
    s->refresh_hash = col_str(q, 10);
    s->access_expires_ms = sqlite3_column_int64(q, 11);
}

static gw_err session_insert(struct store *st, const struct store_session *s)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "INSERT INTO sessions (" SESSION_COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 &q) ||
        (bind_str(q, 1, s->id) | bind_str(q, 2, s->hash) | bind_str(q, 3, s->tenant) |
         bind_str(q, 4, s->user_id) | bind_str(q, 5, s->identity ? s->identity : "{}") |
         bind_str(q, 6, s->client_ip) | sqlite3_bind_int64(q, 7, s->created_ms) |
         sqlite3_bind_int64(q, 8, s->last_seen_ms) | sqlite3_bind_int64(q, 9, s->expires_ms) |
         bind_str(q, 10, s->kind ? s->kind : "browser") | bind_str(q, 11, s->refresh_hash) |
         sqlite3_bind_int64(q, 12, s->access_expires_ms)) != SQLITE_OK)
        rc = fail(db, "session insert");
    else if (sqlite3_step(q) != SQLITE_DONE)
        rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ||
                     sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? GW_ECONFLICT
                 : fail(db, "session insert");
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err session_get(struct store *st, const char *hash, struct store_session *out)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT " SESSION_COLS " FROM sessions WHERE hash = ?", &q) ||
        bind_str(q, 1, hash) != SQLITE_OK) {
        rc = fail(db, "session get");
    } else {
        int e = sqlite3_step(q);
        if (e == SQLITE_ROW)
            read_session(q, out);
        else
            rc = e == SQLITE_DONE ? GW_ENOTFOUND : fail(db, "session get");
    }
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

/* Runs one write statement with text and integer parameters; *changes gets sqlite3_changes. */
static gw_err write1(struct store *st, const char *sql, const char *what, const char *s1,
                     const char *s2, int64_t i3, int *changes)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, sql, &q))
        rc = fail(db, what);
    else {
        int np = sqlite3_bind_parameter_count(q);
        int b = bind_str(q, 1, s1);
        if (np >= 2)
            b |= bind_str(q, 2, s2);
        if (np >= 3)
            b |= sqlite3_bind_int64(q, 3, i3);
        if (b != SQLITE_OK || sqlite3_step(q) != SQLITE_DONE)
            rc = fail(db, what);
        else if (changes)
            *changes = sqlite3_changes(db);
    }
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err session_touch(struct store *st, const char *hash, int64_t ms)
{
    return write1(st, "UPDATE sessions SET last_seen_ms = MAX(last_seen_ms, ?3) WHERE hash = ?1",
                  "session touch", hash, NULL, ms, NULL);
}

static gw_err session_delete(struct store *st, const char *tenant, const char *id,
                             char **user_id)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "DELETE FROM sessions WHERE tenant = ? AND id = ? RETURNING user_id", &q) ||
        (bind_str(q, 1, tenant) | bind_str(q, 2, id)) != SQLITE_OK) {
        rc = fail(db, "session delete");
    } else {
        int e = sqlite3_step(q);
        if (e == SQLITE_ROW) {
            if (user_id)
                *user_id = col_str(q, 0);
            e = sqlite3_step(q);
        } else if (e == SQLITE_DONE) {
            rc = GW_ENOTFOUND;
        }
        if (e != SQLITE_DONE)
            rc = fail(db, "session delete");
    }
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                  size_t *n)
{
    int changes = 0;
    gw_err rc = write1(st, "DELETE FROM sessions WHERE tenant = ?1 AND user_id = ?2",
                       "session delete by user", tenant, user_id, 0, &changes);
    *n = changes > 0 ? (size_t)changes : 0;
    return rc;
}

static gw_err session_list(struct store *st, const char *tenant, const char *user_id,
                           size_t limit, struct store_session **out, size_t *n)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    struct store_session *list = NULL;
    size_t len = 0, cap = 0;
    if (!prepare(db, "SELECT " SESSION_COLS " FROM sessions WHERE tenant = ?1 AND "
                     "(?2 IS NULL OR user_id = ?2) ORDER BY created_ms DESC, rowid DESC LIMIT ?3",
                 &q) ||
        (bind_str(q, 1, tenant) | bind_str(q, 2, user_id) |
         sqlite3_bind_int64(q, 3, limit > INT32_MAX ? INT32_MAX : (int64_t)limit)) != SQLITE_OK) {
        rc = fail(db, "session list");
        goto out;
    }
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            list = gw_xrealloc(list, cap * sizeof(*list));
        }
        memset(&list[len], 0, sizeof(list[len]));
        read_session(q, &list[len++]);
    }
    if (e != SQLITE_DONE)
        rc = fail(db, "session list");
out:
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    if (rc != GW_OK) {
        store_session_list_free(list, len);
        return rc;
    }
    *out = list;
    *n = len;
    return GW_OK;
}

static gw_err purge(struct store *st, int64_t now_ms, int64_t idle_before_ms)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q1 = NULL, *q2 = NULL, *q3 = NULL;
    gw_err rc = GW_OK;
    /* login states are kept a minute past expiry: they count for redirect-loop detection */
    if (!prepare(db, "DELETE FROM sessions WHERE expires_ms <= ?1 OR "
                     "(kind = 'browser' AND last_seen_ms < ?2)", &q1) ||
        !prepare(db, "DELETE FROM sso_login_states WHERE expires_ms <= ?1 - 60000", &q2) ||
        !prepare(db, "DELETE FROM saml_assertions WHERE expires_ms <= ?1", &q3) ||
        (sqlite3_bind_int64(q1, 1, now_ms) | sqlite3_bind_int64(q1, 2, idle_before_ms) |
         sqlite3_bind_int64(q2, 1, now_ms) | sqlite3_bind_int64(q3, 1, now_ms)) != SQLITE_OK ||
        sqlite3_step(q1) != SQLITE_DONE || sqlite3_step(q2) != SQLITE_DONE ||
        sqlite3_step(q3) != SQLITE_DONE)
        rc = fail(db, "sso purge");
    sqlite3_finalize(q1);
    sqlite3_finalize(q2);
    sqlite3_finalize(q3);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err login_state_insert(struct store *st, const struct store_login_state *s)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "INSERT INTO sso_login_states (state_hash, tenant, binding_hash, nonce, "
                     "verifier, return_to, created_ms, expires_ms) VALUES (?,?,?,?,?,?,?,?)",
                 &q) ||
        (bind_str(q, 1, s->state_hash) | bind_str(q, 2, s->tenant) |
         bind_str(q, 3, s->binding_hash) | bind_str(q, 4, s->nonce) | bind_str(q, 5, s->verifier) |
         bind_str(q, 6, s->return_to) | sqlite3_bind_int64(q, 7, s->created_ms) |
         sqlite3_bind_int64(q, 8, s->expires_ms)) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_DONE)
        rc = fail(db, "login state insert");
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                  struct store_login_state *out)
{
    sqlite3 *db = begin_immediate(st, "login state consume: begin");
    if (!db)
        return GW_ESTORE;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT tenant, binding_hash, nonce, verifier, return_to, created_ms, "
                     "expires_ms FROM sso_login_states WHERE state_hash = ?1 AND "
                     "consumed_ms = 0 AND expires_ms > ?2", &sel) ||
        !prepare(db, "UPDATE sso_login_states SET consumed_ms = ?2, nonce = NULL, "
                     "verifier = NULL WHERE state_hash = ?1 AND consumed_ms = 0", &upd) ||
        (bind_str(sel, 1, state_hash) | sqlite3_bind_int64(sel, 2, now_ms) |
         bind_str(upd, 1, state_hash) | sqlite3_bind_int64(upd, 2, now_ms)) != SQLITE_OK) {
        rc = fail(db, "login state consume");
        goto out;
    }
    int e = sqlite3_step(sel);
    if (e == SQLITE_DONE) {
        rc = GW_ENOTFOUND;
        goto out;
    }
    if (e != SQLITE_ROW) {
        rc = fail(db, "login state consume");
        goto out;
    }
    out->state_hash = gw_xstrdup(state_hash);
    out->tenant = col_str(sel, 0);
    out->binding_hash = col_str(sel, 1);
    out->nonce = col_str(sel, 2);
    out->verifier = col_str(sel, 3);
    out->return_to = col_str(sel, 4);
    out->created_ms = sqlite3_column_int64(sel, 5);
    out->expires_ms = sqlite3_column_int64(sel, 6);
    if (sqlite3_step(upd) != SQLITE_DONE || sqlite3_changes(db) != 1)
        rc = fail(db, "login state consume");
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    end_transaction(st, db, rc);
    if (rc != GW_OK)
        store_login_state_release(out);
    return rc;
}

static gw_err login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                                size_t *n)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT COUNT(*) FROM sso_login_states WHERE binding_hash = ? AND "
                     "created_ms >= ?", &q) ||
        (bind_str(q, 1, binding_hash) | sqlite3_bind_int64(q, 2, since_ms)) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        rc = fail(db, "login state count");
    else
        *n = (size_t)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                 int64_t expires_ms)
{
    int changes = 0;
    gw_err rc = write1(st, "INSERT INTO saml_assertions (tenant, id_hash, expires_ms) "
                           "VALUES (?1, ?2, ?3) ON CONFLICT (tenant, id_hash) DO NOTHING",
                       "saml assertion use", tenant, id_hash, expires_ms, &changes);
    return rc == GW_OK && changes == 0 ? GW_ECONFLICT : rc;
}

static gw_err session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                  const char *session_index, size_t *n, char **user)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    /* the expression matches the index sessions_saml_name_id (schema 7) */
    if (!prepare(db, "DELETE FROM sessions WHERE tenant = ?1 AND "
                     "json_extract(identity, '$.saml.name_id') = ?2 AND (?3 IS NULL OR "
                     "json_extract(identity, '$.saml.session_index') = ?3) RETURNING user_id",
                 &q) ||
        (bind_str(q, 1, tenant) | bind_str(q, 2, name_id) | bind_str(q, 3, session_index)) !=
            SQLITE_OK) {
        rc = fail(db, "session delete by NameID");
    } else {
        int e;
        while ((e = sqlite3_step(q)) == SQLITE_ROW) {
            if (user && !*user)
                *user = col_str(q, 0);
            (*n)++;
        }
        if (e != SQLITE_DONE)
            rc = fail(db, "session delete by NameID");
    }
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err sso_user_upsert(struct store *st, const struct store_sso_user *u)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "INSERT INTO sso_users (tenant, id, email, name, role, org_unit, team, "
                     "groups, disabled, created_ms, last_login_ms) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, COALESCE(?8, '[]'), 0, ?9, ?9) "
                     "ON CONFLICT (tenant, id) DO UPDATE SET email = excluded.email, "
                     "name = excluded.name, role = excluded.role, org_unit = excluded.org_unit, "
                     "team = excluded.team, groups = excluded.groups, "
                     "last_login_ms = excluded.last_login_ms",
                 &q) ||
        (bind_str(q, 1, u->tenant) | bind_str(q, 2, u->id) | bind_str(q, 3, u->email) |
         bind_str(q, 4, u->name) | bind_str(q, 5, u->role) | bind_str(q, 6, u->org_unit) |
         bind_str(q, 7, u->team) | bind_str(q, 8, u->groups) |
         sqlite3_bind_int64(q, 9, u->last_login_ms)) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_DONE)
        rc = fail(db, "sso user upsert");
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err sso_user_get(struct store *st, const char *tenant, const char *id,
                           struct store_sso_user *out)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT tenant, id, email, name, role, org_unit, team, groups, disabled, "
                     "created_ms, last_login_ms FROM sso_users WHERE tenant = ? AND id = ?", &q) ||
        (bind_str(q, 1, tenant) | bind_str(q, 2, id)) != SQLITE_OK) {
        rc = fail(db, "sso user get");
    } else {
        int e = sqlite3_step(q);
        if (e == SQLITE_ROW) {
            out->tenant = col_str(q, 0);
            out->id = col_str(q, 1);
            out->email = col_str(q, 2);
            out->name = col_str(q, 3);
            out->role = col_str(q, 4);
            out->org_unit = col_str(q, 5);
            out->team = col_str(q, 6);
            out->groups = col_str(q, 7);
            out->disabled = sqlite3_column_int64(q, 8) != 0;
            out->created_ms = sqlite3_column_int64(q, 9);
            out->last_login_ms = sqlite3_column_int64(q, 10);
        } else {
            rc = e == SQLITE_DONE ? GW_ENOTFOUND : fail(db, "sso user get");
        }
    }
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
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

/* --- CLI sign-in (schema 8) ---------------------------------------------------------------- */

static gw_err cli_code_insert(struct store *st, const struct store_cli_code *c)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "INSERT INTO cli_auth_codes (code_hash, tenant, user_id, identity, "
                     "browser_session, challenge, redirect_uri, created_ms, expires_ms) "
                     "VALUES (?,?,?,?,?,?,?,?,?)", &q) ||
        (bind_str(q, 1, c->code_hash) | bind_str(q, 2, c->tenant) | bind_str(q, 3, c->user_id) |
         bind_str(q, 4, c->identity ? c->identity : "{}") | bind_str(q, 5, c->browser_session) |
         bind_str(q, 6, c->challenge) | bind_str(q, 7, c->redirect_uri) |
         sqlite3_bind_int64(q, 8, c->created_ms) | sqlite3_bind_int64(q, 9, c->expires_ms)) !=
            SQLITE_OK ||
        sqlite3_step(q) != SQLITE_DONE)
        rc = fail(db, "cli code insert");
    sqlite3_finalize(q);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err cli_code_consume(struct store *st, const char *code_hash, int64_t now_ms,
                               struct store_cli_code *out)
{
    sqlite3 *db = begin_immediate(st, "cli code consume: begin");
    if (!db)
        return GW_ESTORE;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT tenant, user_id, identity, browser_session, challenge, "
                     "redirect_uri, created_ms, expires_ms, consumed_ms, cli_session "
                     "FROM cli_auth_codes WHERE code_hash = ?1", &sel) ||
        !prepare(db, "UPDATE cli_auth_codes SET consumed_ms = ?2 WHERE code_hash = ?1 AND "
                     "consumed_ms = 0", &upd) ||
        (bind_str(sel, 1, code_hash) | bind_str(upd, 1, code_hash) |
         sqlite3_bind_int64(upd, 2, now_ms)) != SQLITE_OK) {
        rc = fail(db, "cli code consume");
        goto out;
    }
    int e = sqlite3_step(sel);
    if (e != SQLITE_ROW) {
        rc = e == SQLITE_DONE ? GW_ENOTFOUND : fail(db, "cli code consume");
        goto out;
    }
    out->code_hash = gw_xstrdup(code_hash);
    out->tenant = col_str(sel, 0);
    out->user_id = col_str(sel, 1);
    out->identity = col_str(sel, 2);
    out->browser_session = col_str(sel, 3);
    out->challenge = col_str(sel, 4);
    out->redirect_uri = col_str(sel, 5);
    out->created_ms = sqlite3_column_int64(sel, 6);
    out->expires_ms = sqlite3_column_int64(sel, 7);
    out->consumed_ms = sqlite3_column_int64(sel, 8);
    out->cli_session = col_str(sel, 9);
    if (sqlite3_step(upd) != SQLITE_DONE)
        rc = fail(db, "cli code consume");
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    end_transaction(st, db, rc);
    if (rc != GW_OK)
        store_cli_code_release(out);
    return rc;
}

static gw_err cli_code_link(struct store *st, const char *code_hash, const char *session_id)
{
    return write1(st, "UPDATE cli_auth_codes SET cli_session = ?2 WHERE code_hash = ?1",
                  "cli code link", code_hash, session_id, 0, NULL);
}

static gw_err cli_refresh_find(struct store *st, const char *refresh_hash,
                               struct store_session *out)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *cur = NULL, *used = NULL;
    gw_err rc = GW_OK;
    if (!prepare(db, "SELECT " SESSION_COLS " FROM sessions WHERE refresh_hash = ?1 AND "
                     "kind = 'cli'", &cur) ||
        !prepare(db, "SELECT u.session_id, u.tenant, s.user_id FROM cli_refresh_used u "
                     "LEFT JOIN sessions s ON s.id = u.session_id WHERE u.hash = ?1", &used) ||
        (bind_str(cur, 1, refresh_hash) | bind_str(used, 1, refresh_hash)) != SQLITE_OK) {
        rc = fail(db, "cli refresh find");
        goto out;
    }
    int e = sqlite3_step(cur);
    if (e == SQLITE_ROW) {
        read_session(cur, out);
        goto out;
    }
    if (e == SQLITE_DONE)
        e = sqlite3_step(used);
    if (e == SQLITE_ROW) {
        out->id = col_str(used, 0);
        out->tenant = col_str(used, 1);
        out->user_id = col_str(used, 2);
        rc = GW_ECONFLICT;
    } else {
        rc = e == SQLITE_DONE ? GW_ENOTFOUND : fail(db, "cli refresh find");
    }
out:
    sqlite3_finalize(cur);
    sqlite3_finalize(used);
    store_sqlite_main_unlock(st);
    return rc;
}

static gw_err cli_rotate(struct store *st, const struct store_cli_rotation *r)
{
    sqlite3 *db = begin_immediate(st, "cli rotate: begin");
    if (!db)
        return GW_ESTORE;
    sqlite3_stmt *mark = NULL, *upd = NULL;
    gw_err rc = GW_OK;
    /* the old refresh token becomes "used" only if it is still the current one */
    if (!prepare(db, "INSERT INTO cli_refresh_used (hash, tenant, session_id, used_ms) "
                     "SELECT refresh_hash, tenant, id, ?3 FROM sessions WHERE id = ?1 AND "
                     "refresh_hash = ?2 AND kind = 'cli'", &mark) ||
        !prepare(db, "UPDATE sessions SET hash = ?2, refresh_hash = ?3, access_expires_ms = ?4, "
                     "expires_ms = ?5, last_seen_ms = ?6 WHERE id = ?1", &upd) ||
        (bind_str(mark, 1, r->id) | bind_str(mark, 2, r->old_refresh_hash) |
         sqlite3_bind_int64(mark, 3, r->now_ms) | bind_str(upd, 1, r->id) |
         bind_str(upd, 2, r->access_hash) | bind_str(upd, 3, r->refresh_hash) |
         sqlite3_bind_int64(upd, 4, r->access_expires_ms) |
         sqlite3_bind_int64(upd, 5, r->expires_ms) | sqlite3_bind_int64(upd, 6, r->now_ms)) !=
            SQLITE_OK ||
        sqlite3_step(mark) != SQLITE_DONE) {
        rc = fail(db, "cli rotate");
        goto out;
    }
    if (sqlite3_changes(db) != 1) {
        rc = GW_ECONFLICT;
        goto out;
    }
    if (sqlite3_step(upd) != SQLITE_DONE || sqlite3_changes(db) != 1)
        rc = fail(db, "cli rotate");
out:
    sqlite3_finalize(mark);
    sqlite3_finalize(upd);
    end_transaction(st, db, rc);
    return rc;
}

static gw_err cli_purge(struct store *st, int64_t now_ms)
{
    sqlite3 *db = store_sqlite_main_lock(st);
    sqlite3_stmt *q1 = NULL, *q2 = NULL;
    gw_err rc = GW_OK;
    /* codes stay ten minutes past expiry, so a late replay still revokes what they issued */
    if (!prepare(db, "DELETE FROM cli_auth_codes WHERE expires_ms <= ?1", &q1) ||
        !prepare(db, "DELETE FROM cli_refresh_used WHERE session_id NOT IN "
                     "(SELECT id FROM sessions)", &q2) ||
        sqlite3_bind_int64(q1, 1, now_ms - 600000) != SQLITE_OK ||
        sqlite3_step(q1) != SQLITE_DONE || sqlite3_step(q2) != SQLITE_DONE)
        rc = fail(db, "cli purge");
    sqlite3_finalize(q1);
    sqlite3_finalize(q2);
    store_sqlite_main_unlock(st);
    return rc;
}

const struct store_cli_ops store_sqlite_cli_ops = {
    .code_insert = cli_code_insert,
    .code_consume = cli_code_consume,
    .code_link = cli_code_link,
    .refresh_find = cli_refresh_find,
    .rotate = cli_rotate,
    .purge = cli_purge,
};
