/* SPDX-License-Identifier: MIT
 * sqlite_migrations.c — versioned schema of the SQLite backend.
 *
 * The schema is a static, append-only table of {version, description, sql}. The table
 * schema_migrations records every applied version (with its description and the time it was
 * applied). At open, each pending migration runs in its own BEGIN IMMEDIATE transaction together
 * with the insert of its schema_migrations row, so a crash leaves the database at a version
 * boundary. A database whose recorded version is newer than the newest entry here was written by
 * a newer binary and is refused: running old code on a newer schema could corrupt it silently.
 *
 * Never edit a migration that has shipped; add a new one. The audit_events table deliberately
 * has no triggers forbidding UPDATE/DELETE: tampering must be detectable by the hash chain, not
 * merely prevented by a trigger that anyone with the file can drop.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/util.h"
#include "store/sqlite/sqlite_int.h"

struct migration {
    int version;
    const char *description;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, "core tables: meta, tokens, agents, messages",
     "CREATE TABLE meta ("
     "  key   TEXT PRIMARY KEY NOT NULL,"
     "  value TEXT NOT NULL"
     ");"
     "CREATE TABLE tokens ("
     "  tenant       TEXT NOT NULL,"
     "  id           TEXT NOT NULL,"
     "  owner        TEXT,"
     "  hash         TEXT NOT NULL UNIQUE,"
     "  scopes       TEXT NOT NULL DEFAULT '[]',"
     "  created_by   TEXT,"
     "  created_ms   INTEGER NOT NULL,"
     "  expires_ms   INTEGER NOT NULL DEFAULT 0,"
     "  revoked_ms   INTEGER NOT NULL DEFAULT 0,"
     "  last_used_ms INTEGER NOT NULL DEFAULT 0,"
     "  PRIMARY KEY (tenant, id)"
     ");"
     "CREATE TABLE agents ("
     "  tenant      TEXT NOT NULL,"
     "  name        TEXT NOT NULL,"
     "  channel     TEXT,"
     "  memory_path TEXT,"
     "  description TEXT,"
     "  created_by  TEXT,"
     "  created_ms  INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, name)"
     ");"
     "CREATE TABLE messages ("
     "  id         TEXT PRIMARY KEY NOT NULL,"
     "  tenant     TEXT NOT NULL,"
     "  channel    TEXT NOT NULL,"
     "  sender     TEXT,"
     "  content    TEXT,"
     "  created_ms INTEGER NOT NULL"
     ");"
     "CREATE INDEX messages_by_channel ON messages (tenant, channel, created_ms);"},

    {2, "audit trail: audit_events, audit_checkpoints",
     "CREATE TABLE audit_events ("
     "  tenant         TEXT NOT NULL,"
     "  seq            INTEGER NOT NULL,"
     "  ts_ms          INTEGER NOT NULL,"
     "  type           TEXT NOT NULL,"
     "  outcome        TEXT NOT NULL,"
     "  actor          TEXT NOT NULL,"
     "  token_id       TEXT,"
     "  org_unit       TEXT,"
     "  team           TEXT,"
     "  resource       TEXT,"
     "  request_id     TEXT,"
     "  client_ip      TEXT,"
     "  classification TEXT,"
     "  status         INTEGER NOT NULL DEFAULT 0,"
     "  details        TEXT,"
     "  prev_hash      TEXT NOT NULL,"
     "  hash           TEXT NOT NULL,"
     "  PRIMARY KEY (tenant, seq)"
     ");"
     "CREATE INDEX audit_by_actor    ON audit_events (tenant, actor, seq);"
     "CREATE INDEX audit_by_type     ON audit_events (tenant, type, seq);"
     "CREATE INDEX audit_by_resource ON audit_events (tenant, resource, seq);"
     "CREATE INDEX audit_by_request  ON audit_events (tenant, request_id, seq);"
     "CREATE INDEX audit_by_time     ON audit_events (tenant, ts_ms);"
     "CREATE TABLE audit_checkpoints ("
     "  tenant    TEXT NOT NULL,"
     "  seq       INTEGER NOT NULL,"
     "  hash      TEXT NOT NULL,"
     "  ts_ms     INTEGER NOT NULL,"
     "  key_id    TEXT NOT NULL,"
     "  signature TEXT NOT NULL,"
     "  PRIMARY KEY (tenant, seq)"
     ");"},

    {3, "policies and approvals: policy_versions, approvals",
     "CREATE TABLE policy_versions ("
     "  tenant     TEXT NOT NULL,"
     "  id         TEXT NOT NULL,"
     "  version    INTEGER NOT NULL,"
     "  record     TEXT NOT NULL,"
     "  created_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, id, version)"
     ");"
     "CREATE TABLE approvals ("
     "  id          TEXT PRIMARY KEY NOT NULL,"
     "  tenant      TEXT NOT NULL,"
     "  requester   TEXT NOT NULL,"
     "  approvers   TEXT,"
     "  action      TEXT NOT NULL,"
     "  policy      TEXT,"
     "  status      TEXT NOT NULL,"
     "  decided_by  TEXT,"
     "  comment     TEXT,"
     "  result      TEXT,"
     "  request_id  TEXT,"
     "  created_ms  INTEGER NOT NULL,"
     "  expires_ms  INTEGER NOT NULL DEFAULT 0,"
     "  decided_ms  INTEGER NOT NULL DEFAULT 0,"
     "  executed_ms INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE INDEX approvals_by_tenant ON approvals (tenant, status, created_ms);"
     "CREATE INDEX approvals_by_expiry ON approvals (status, expires_ms);"},

    {4, "model usage metering: usage_records, budget_alerts",
     "CREATE TABLE usage_records ("
     "  id                INTEGER PRIMARY KEY,"
     "  tenant            TEXT NOT NULL,"
     "  user_id           TEXT,"
     "  workspace         TEXT NOT NULL,"
     "  agent             TEXT,"
     "  provider          TEXT NOT NULL,"
     "  model             TEXT NOT NULL,"
     "  prompt_tokens     INTEGER NOT NULL DEFAULT 0,"
     "  completion_tokens INTEGER NOT NULL DEFAULT 0,"
     "  cost_usd          REAL NOT NULL DEFAULT 0,"
     "  month             TEXT NOT NULL,"
     "  at_ms             INTEGER NOT NULL,"
     "  request_id        TEXT"
     ");"
     "CREATE INDEX usage_by_month ON usage_records (tenant, month, workspace);"
     "CREATE TABLE budget_alerts ("
     "  tenant     TEXT NOT NULL,"
     "  workspace  TEXT NOT NULL,"
     "  month      TEXT NOT NULL,"
     "  kind       TEXT NOT NULL CHECK (kind IN ('threshold', 'exceeded')),"
     "  sent_at_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, workspace, month, kind)"
     ");"},
    {5, "agent conversations: conversations, conversation_messages",
     "CREATE TABLE conversations ("
     "  id         TEXT PRIMARY KEY,"
     "  tenant     TEXT NOT NULL,"
     "  user_id    TEXT NOT NULL,"
     "  channel    TEXT NOT NULL,"
     "  session    TEXT NOT NULL,"
     "  created_ms INTEGER NOT NULL,"
     "  updated_ms INTEGER NOT NULL,"
     "  UNIQUE (tenant, user_id, channel, session)"
     ");"
     "CREATE TABLE conversation_messages ("
     "  conversation_id TEXT NOT NULL REFERENCES conversations (id),"
     "  seq             INTEGER NOT NULL,"
     "  message         TEXT NOT NULL,"
     "  created_ms      INTEGER NOT NULL,"
     "  PRIMARY KEY (conversation_id, seq)"
     ");"},
    {6, "single sign-on: sessions, sso_login_states, sso_users",
     "CREATE TABLE sessions ("
     "  id           TEXT PRIMARY KEY NOT NULL,"
     "  hash         TEXT NOT NULL UNIQUE,"
     "  tenant       TEXT NOT NULL,"
     "  user_id      TEXT NOT NULL,"
     "  identity     TEXT NOT NULL DEFAULT '{}',"
     "  client_ip    TEXT,"
     "  created_ms   INTEGER NOT NULL,"
     "  last_seen_ms INTEGER NOT NULL,"
     "  expires_ms   INTEGER NOT NULL"
     ");"
     "CREATE INDEX sessions_user ON sessions (tenant, user_id);"
     "CREATE TABLE sso_login_states ("
     "  state_hash   TEXT PRIMARY KEY NOT NULL,"
     "  tenant       TEXT NOT NULL,"
     "  binding_hash TEXT NOT NULL,"
     "  nonce        TEXT,"
     "  verifier     TEXT,"
     "  return_to    TEXT,"
     "  created_ms   INTEGER NOT NULL,"
     "  expires_ms   INTEGER NOT NULL,"
     "  consumed_ms  INTEGER NOT NULL DEFAULT 0"
     ");"
     "CREATE INDEX sso_login_states_binding ON sso_login_states (binding_hash, created_ms);"
     "CREATE TABLE sso_users ("
     "  tenant        TEXT NOT NULL,"
     "  id            TEXT NOT NULL,"
     "  email         TEXT,"
     "  name          TEXT,"
     "  role          TEXT,"
     "  org_unit      TEXT,"
     "  team          TEXT,"
     "  groups        TEXT NOT NULL DEFAULT '[]',"
     "  disabled      INTEGER NOT NULL DEFAULT 0,"
     "  created_ms    INTEGER NOT NULL,"
     "  last_login_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, id)"
     ");"},
    {7, "SAML 2.0: saml_assertions (replay cache), sessions by NameID (single logout)",
     /* an assertion id is remembered until the assertion could no longer be accepted anyway */
     "CREATE TABLE saml_assertions ("
     "  tenant     TEXT NOT NULL,"
     "  id_hash    TEXT NOT NULL,"
     "  expires_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, id_hash)"
     ");"
     "CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_ms);"
     /* a SAML session keeps its NameID and SessionIndex in identity (auth_session.c); an IdP's
      * LogoutRequest finds the sessions to end through this index */
     "CREATE INDEX sessions_saml_name_id ON sessions "
     "  (tenant, json_extract(identity, '$.saml.name_id'));"},
    {8, "CLI sign-in: session kinds and refresh tokens, cli_auth_codes, cli_refresh_used",
     "ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'browser';"
     "ALTER TABLE sessions ADD COLUMN refresh_hash TEXT;"
     "ALTER TABLE sessions ADD COLUMN access_expires_ms INTEGER NOT NULL DEFAULT 0;"
     "CREATE UNIQUE INDEX sessions_refresh ON sessions (refresh_hash);"
     "CREATE TABLE cli_auth_codes ("
     "  code_hash       TEXT PRIMARY KEY NOT NULL,"
     "  tenant          TEXT NOT NULL,"
     "  user_id         TEXT NOT NULL,"
     "  identity        TEXT NOT NULL DEFAULT '{}',"
     "  browser_session TEXT,"
     "  challenge       TEXT NOT NULL,"
     "  redirect_uri    TEXT NOT NULL,"
     "  created_ms      INTEGER NOT NULL,"
     "  expires_ms      INTEGER NOT NULL,"
     "  consumed_ms     INTEGER NOT NULL DEFAULT 0,"
     "  cli_session     TEXT"
     ");"
     "CREATE TABLE cli_refresh_used ("
     "  hash       TEXT PRIMARY KEY NOT NULL,"
     "  tenant     TEXT NOT NULL,"
     "  session_id TEXT NOT NULL,"
     "  used_ms    INTEGER NOT NULL"
     ");"
     "CREATE INDEX cli_refresh_used_session ON cli_refresh_used (session_id);"},
    {9, "namespace grants: namespace_grants",
     "CREATE TABLE namespace_grants ("
     "  tenant     TEXT NOT NULL,"
     "  namespace  TEXT NOT NULL,"
     "  kind       TEXT NOT NULL,"
     "  value      TEXT NOT NULL,"
     "  created_by TEXT NOT NULL,"
     "  created_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, namespace, kind, value)"
     ");"},
    {10,
     "readable conversations: the owner's org unit and team; lists by owner, activity and "
     "mailbox in the order of their cursors",
     "ALTER TABLE conversations ADD COLUMN org_unit TEXT;"
     "ALTER TABLE conversations ADD COLUMN team TEXT;"
     "CREATE INDEX conversations_by_user ON conversations (tenant, user_id, updated_ms, id);"
     "CREATE INDEX conversations_by_activity ON conversations (tenant, updated_ms, id);"
     "DROP INDEX messages_by_channel;"
     "CREATE INDEX messages_by_channel ON messages (tenant, channel, created_ms, id);"},
    {11, "SIEM forwarding: audit_fwd_cursors",
     "CREATE TABLE audit_fwd_cursors ("
     "  destination TEXT NOT NULL,"
     "  tenant      TEXT NOT NULL,"
     "  seq         INTEGER NOT NULL,"
     "  updated_ms  INTEGER NOT NULL,"
     "  PRIMARY KEY (destination, tenant)"
     ");"},
    {12, "run-time models: model_providers, model_entries, agent_models",
     "CREATE TABLE model_providers ("
     "  tenant     TEXT NOT NULL,"
     "  name       TEXT NOT NULL,"
     "  spec       TEXT NOT NULL,"
     "  api_key    TEXT,"
     "  enabled    INTEGER NOT NULL DEFAULT 1,"
     "  created_by TEXT,"
     "  created_ms INTEGER NOT NULL,"
     "  updated_by TEXT,"
     "  updated_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, name)"
     ");"
     "CREATE TABLE model_entries ("
     "  tenant          TEXT NOT NULL,"
     "  provider        TEXT NOT NULL,"
     "  name            TEXT NOT NULL,"
     "  upstream        TEXT NOT NULL,"
     "  input_per_mtok  REAL NOT NULL DEFAULT 0,"
     "  output_per_mtok REAL NOT NULL DEFAULT 0,"
     "  enabled         INTEGER NOT NULL DEFAULT 1,"
     "  created_by      TEXT,"
     "  created_ms      INTEGER NOT NULL,"
     "  updated_by      TEXT,"
     "  updated_ms      INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, provider, name)"
     ");"
     "CREATE TABLE agent_models ("
     "  tenant TEXT NOT NULL,"
     "  agent  TEXT NOT NULL,"
     "  model  TEXT NOT NULL,"
     "  set_by TEXT,"
     "  set_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (tenant, agent)"
     ");"},
    {13, "audit integrity: signed heads with Merkle roots, audit_tree, audit_keys",
     /* heads signed before this version keep root NULL (checkpoints of the hash chain) */
     "ALTER TABLE audit_checkpoints ADD COLUMN root TEXT;"
     "CREATE TABLE audit_tree ("
     "  tenant TEXT NOT NULL,"
     "  level  INTEGER NOT NULL,"
     "  idx    INTEGER NOT NULL,"
     "  hash   TEXT NOT NULL,"
     "  PRIMARY KEY (tenant, level, idx)"
     ") WITHOUT ROWID;"
     "CREATE TABLE audit_keys ("
     "  key_id      TEXT PRIMARY KEY NOT NULL,"
     "  public_key  TEXT NOT NULL,"
     "  prev_key_id TEXT,"
     "  ts_ms       INTEGER NOT NULL,"
     "  sig_prev    TEXT,"
     "  sig_new     TEXT NOT NULL"
     ");"},
    {14, "memory documents in the store (cluster mode): memory_documents",
     "CREATE TABLE memory_documents ("
     "  name       TEXT PRIMARY KEY NOT NULL,"
     "  content    TEXT NOT NULL,"
     "  updated_ms INTEGER NOT NULL"
     ");"},
    {15, "audit across nodes: audit_keys.node_id",
     /* the node that introduced a key (cluster mode, PostgreSQL; kept alike on SQLite) */
     "ALTER TABLE audit_keys ADD COLUMN node_id TEXT;"},
    {16, "SIEM forwarding led by one node: audit_fwd_leaders",
     /* PostgreSQL's lease holders (pg_lease.c); one process owns a SQLite store: kept alike */
     "CREATE TABLE audit_fwd_leaders ("
     "  destination TEXT PRIMARY KEY NOT NULL,"
     "  node_id     TEXT NOT NULL,"
     "  pid         INTEGER NOT NULL,"
     "  since_ms    INTEGER NOT NULL"
     ");"},
    {17, "audit chains with a missing tail: audit_claim_past()",
     /* PostgreSQL's claim (pg_migrations.c); one process writes a SQLite store: nothing here */
     ""},
};

int store_sqlite_latest_version(void)
{
    return migrations[GW_ARRAY_LEN(migrations) - 1].version;
}

size_t store_sqlite_migration_count(void)
{
    return GW_ARRAY_LEN(migrations);
}

static gw_err exec(sqlite3 *db, const char *sql, const char *what)
{
    char label[160];
    snprintf(label, sizeof(label), "migration: %s", what);
    return store_sqlite_exec(db, sql, label);
}

static gw_err current_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK) {
        gw_error("store: migration: reading schema version: %s", sqlite3_errmsg(db));
        return GW_ESTORE;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t v = sqlite3_column_int64(st, 0);
        *version = v > INT32_MAX ? INT32_MAX : v < 0 ? 0 : (int)v;
    } else {
        gw_error("store: migration: reading schema version: %s", sqlite3_errmsg(db));
        rc = GW_ESTORE;
    }
    sqlite3_finalize(st);
    return rc;
}

static gw_err record(sqlite3 *db, const struct migration *m)
{
    sqlite3_stmt *st = NULL;
    gw_err rc = GW_OK;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO schema_migrations (version, description, applied_ms) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK) {
        gw_error("store: migration: recording version: %s", sqlite3_errmsg(db));
        return GW_ESTORE;
    }
    sqlite3_bind_int(st, 1, m->version);
    sqlite3_bind_text(st, 2, m->description, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, gw_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE) {
        gw_error("store: migration: recording version %d: %s", m->version, sqlite3_errmsg(db));
        rc = GW_ESTORE;
    }
    sqlite3_finalize(st);
    return rc;
}

/* One migration (or none if another process applied it meanwhile) under BEGIN IMMEDIATE. */
static gw_err apply_one(sqlite3 *db, const struct migration *m, int latest)
{
    gw_err rc = exec(db, "BEGIN IMMEDIATE", "begin");
    if (rc != GW_OK)
        return rc;
    int v = 0;
    rc = current_version(db, &v);
    if (rc != GW_OK)
        goto out;
    if (v > latest) {
        gw_error("store: database schema version %d is newer than this binary supports (%d); "
                 "refusing to open it (upgrade openclaw-gateway)",
                 v, latest);
        rc = GW_ESTORE;
        goto out;
    }
    if (v >= m->version) { /* applied meanwhile by another process */
        rc = exec(db, "COMMIT", "commit");
        goto out;
    }
    rc = exec(db, m->sql, m->description);
    if (rc != GW_OK)
        goto out;
    rc = record(db, m);
    if (rc != GW_OK)
        goto out;
    rc = exec(db, "COMMIT", "commit");
    if (rc == GW_OK)
        gw_info("store: applied schema migration %d (%s)", m->version, m->description);
out:
    if (rc != GW_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

gw_err store_sqlite_migrate(sqlite3 *db, int *version)
{
    int latest = store_sqlite_latest_version();
    for (size_t i = 1; i < GW_ARRAY_LEN(migrations); i++) {
        if (migrations[i].version <= migrations[i - 1].version) {
            gw_error("store: migration table is not strictly increasing at version %d",
                     migrations[i].version);
            return GW_EINTERNAL;
        }
    }
    gw_err rc = exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "  version     INTEGER PRIMARY KEY,"
                     "  description TEXT NOT NULL,"
                     "  applied_ms  INTEGER NOT NULL"
                     ")",
                     "creating schema_migrations");
    if (rc != GW_OK)
        return rc;
    int v = 0;
    rc = current_version(db, &v);
    if (rc != GW_OK)
        return rc;
    if (v > latest) {
        gw_error("store: database schema version %d is newer than this binary supports (%d); "
                 "refusing to open it (upgrade openclaw-gateway)",
                 v, latest);
        return GW_ESTORE;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(migrations); i++) {
        if (migrations[i].version <= v)
            continue;
        rc = apply_one(db, &migrations[i], latest);
        if (rc != GW_OK)
            return rc;
    }
    rc = current_version(db, &v);
    if (rc != GW_OK)
        return rc;
    *version = v;
    return GW_OK;
}
