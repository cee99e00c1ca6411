/* SPDX-License-Identifier: MIT
 * pg_migrations.c — versioned schema of the PostgreSQL backend.
 *
 * The same versions as the SQLite backend (sqlite_migrations.c), so store_schema_version means
 * the same thing on both; the SQL is PostgreSQL's: BIGINT times, TEXT COLLATE "C" (the byte
 * order SQLite's BINARY collation gives, which the audit filters' prefix ranges and every
 * listing's order rely on), identity columns where SQLite has rowids.
 *
 * Several nodes may start at once on one database: the first takes a session advisory lock
 * (keyed by the schema, so tests on separate schemas do not wait for each other), applies what
 * is pending, each migration in its own transaction with its schema_migrations row, and lets
 * go; the others wait on the lock, then find nothing left to do. A database whose recorded
 * version is newer than this binary is refused. Never edit a migration that has shipped.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

#define T "TEXT COLLATE \"C\""
#define I "BIGINT"

struct migration {
    int version;
    const char *description;
    const char *sql;
};

static const struct migration migrations[] = {
    {1, "core tables: meta, tokens, agents, messages",
     "CREATE TABLE meta (key " T " PRIMARY KEY, value " T " NOT NULL);"
     "CREATE TABLE tokens ("
     "  tenant " T " NOT NULL, id " T " NOT NULL, owner " T ", hash " T " NOT NULL UNIQUE,"
     "  scopes " T " NOT NULL DEFAULT '[]', created_by " T ", created_ms " I " NOT NULL,"
     "  expires_ms " I " NOT NULL DEFAULT 0, revoked_ms " I " NOT NULL DEFAULT 0,"
     "  last_used_ms " I " NOT NULL DEFAULT 0, PRIMARY KEY (tenant, id));"
     "CREATE TABLE agents ("
     "  tenant " T " NOT NULL, name " T " NOT NULL, channel " T ", memory_path " T ","
     "  description " T ", created_by " T ", created_ms " I " NOT NULL,"
     "  PRIMARY KEY (tenant, name));"
     "CREATE TABLE messages ("
     "  id " T " PRIMARY KEY, tenant " T " NOT NULL, channel " T " NOT NULL, sender " T ","
     "  content " T ", created_ms " I " NOT NULL);"
     "CREATE INDEX messages_by_channel ON messages (tenant, channel, created_ms);"},

    {2, "audit trail: audit_events, audit_checkpoints, audit_claim()",
     "CREATE TABLE audit_events ("
     "  tenant " T " NOT NULL, seq " I " NOT NULL, ts_ms " I " NOT NULL, type " T " NOT NULL,"
     "  outcome " T " NOT NULL, actor " T " NOT NULL, token_id " T ", org_unit " T ","
     "  team " T ", resource " T ", request_id " T ", client_ip " T ", classification " T ","
     "  status INTEGER NOT NULL DEFAULT 0, details " T ", prev_hash " T " NOT NULL,"
     "  hash " T " NOT NULL, PRIMARY KEY (tenant, seq));"
     "CREATE INDEX audit_by_actor    ON audit_events (tenant, actor, seq);"
     "CREATE INDEX audit_by_type     ON audit_events (tenant, type, seq);"
     "CREATE INDEX audit_by_resource ON audit_events (tenant, resource, seq);"
     "CREATE INDEX audit_by_request  ON audit_events (tenant, request_id, seq);"
     "CREATE INDEX audit_by_time     ON audit_events (tenant, ts_ms);"
     "CREATE TABLE audit_checkpoints ("
     "  tenant " T " NOT NULL, seq " I " NOT NULL, hash " T " NOT NULL, ts_ms " I " NOT NULL,"
     "  key_id " T " NOT NULL, signature " T " NOT NULL, PRIMARY KEY (tenant, seq));"
     /* A batch that extends a tenant's chain first claims it: under a per-tenant transaction
      * lock (held to the commit), the chain must end just before the batch's first row, at
      * the hash that row links to. Two nodes extending one chain thus serialize, and the
      * one whose view is stale fails as a whole (GW409) instead of forking the chain. */
     "CREATE FUNCTION audit_claim(t TEXT, first_seq BIGINT, prev TEXT) RETURNS void "
     "LANGUAGE plpgsql AS $f$ "
     "DECLARE h_seq BIGINT; h_hash TEXT; "
     "BEGIN "
     "  PERFORM pg_advisory_xact_lock(7032, hashtext(t)); "
     "  SELECT seq, hash INTO h_seq, h_hash FROM audit_events WHERE tenant = t "
     "    ORDER BY seq DESC LIMIT 1; "
     "  IF COALESCE(h_seq, 0) <> first_seq - 1 OR (h_seq IS NOT NULL AND h_hash <> prev) THEN "
     "    RAISE EXCEPTION 'the audit chain of a tenant moved under this writer' "
     "      USING ERRCODE = '" STORE_PG_CHAIN_MOVED "'; "
     "  END IF; "
     "END $f$;"},

    {3, "policies and approvals: policy_versions, approvals",
     "CREATE TABLE policy_versions ("
     "  tenant " T " NOT NULL, id " T " NOT NULL, version " I " NOT NULL, record " T " NOT NULL,"
     "  created_ms " I " NOT NULL, PRIMARY KEY (tenant, id, version));"
     "CREATE TABLE approvals ("
     "  id " T " PRIMARY KEY, tenant " T " NOT NULL, requester " T " NOT NULL,"
     "  approvers " T ", action " T " NOT NULL, policy " T ", status " T " NOT NULL,"
     "  decided_by " T ", comment " T ", result " T ", request_id " T ","
     "  created_ms " I " NOT NULL, expires_ms " I " NOT NULL DEFAULT 0,"
     "  decided_ms " I " NOT NULL DEFAULT 0, executed_ms " I " NOT NULL DEFAULT 0,"
     "  rid " I " GENERATED ALWAYS AS IDENTITY);" /* SQLite's rowid: insert order */
     "CREATE INDEX approvals_by_tenant ON approvals (tenant, status, created_ms);"
     "CREATE INDEX approvals_by_expiry ON approvals (status, expires_ms);"},

    {4, "model usage metering: usage_records, budget_alerts",
     "CREATE TABLE usage_records ("
     "  id " I " GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant " T " NOT NULL,"
     "  user_id " T ", workspace " T " NOT NULL, agent " T ", provider " T " NOT NULL,"
     "  model " T " NOT NULL, prompt_tokens " I " NOT NULL DEFAULT 0,"
     "  completion_tokens " I " NOT NULL DEFAULT 0,"
     "  cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0, month " T " NOT NULL,"
     "  at_ms " I " NOT NULL, request_id " T ");"
     "CREATE INDEX usage_by_month ON usage_records (tenant, month, workspace);"
     "CREATE TABLE budget_alerts ("
     "  tenant " T " NOT NULL, workspace " T " NOT NULL, month " T " NOT NULL,"
     "  kind " T " NOT NULL CHECK (kind IN ('threshold', 'exceeded')),"
     "  sent_at_ms " I " NOT NULL, PRIMARY KEY (tenant, workspace, month, kind));"},

    {5, "agent conversations: conversations, conversation_messages",
     "CREATE TABLE conversations ("
     "  id " T " PRIMARY KEY, tenant " T " NOT NULL, user_id " T " NOT NULL,"
     "  channel " T " NOT NULL, session " T " NOT NULL, created_ms " I " NOT NULL,"
     "  updated_ms " I " NOT NULL, UNIQUE (tenant, user_id, channel, session));"
     "CREATE TABLE conversation_messages ("
     "  conversation_id " T " NOT NULL REFERENCES conversations (id), seq " I " NOT NULL,"
     "  message " T " NOT NULL, created_ms " I " NOT NULL,"
     "  PRIMARY KEY (conversation_id, seq));"},

    {6, "single sign-on: sessions, sso_login_states, sso_users",
     "CREATE TABLE sessions ("
     "  id " T " PRIMARY KEY, hash " T " NOT NULL UNIQUE, tenant " T " NOT NULL,"
     "  user_id " T " NOT NULL, identity " T " NOT NULL DEFAULT '{}', client_ip " T ","
     "  created_ms " I " NOT NULL, last_seen_ms " I " NOT NULL, expires_ms " I " NOT NULL,"
     "  rid " I " GENERATED ALWAYS AS IDENTITY);"
     "CREATE INDEX sessions_user ON sessions (tenant, user_id);"
     "CREATE TABLE sso_login_states ("
     "  state_hash " T " PRIMARY KEY, tenant " T " NOT NULL, binding_hash " T " NOT NULL,"
     "  nonce " T ", verifier " T ", return_to " T ", created_ms " I " NOT NULL,"
     "  expires_ms " I " NOT NULL, consumed_ms " I " NOT NULL DEFAULT 0);"
     "CREATE INDEX sso_login_states_binding ON sso_login_states (binding_hash, created_ms);"
     "CREATE TABLE sso_users ("
     "  tenant " T " NOT NULL, id " T " NOT NULL, email " T ", name " T ", role " T ","
     "  org_unit " T ", team " T ", groups " T " NOT NULL DEFAULT '[]',"
     "  disabled INTEGER NOT NULL DEFAULT 0, created_ms " I " NOT NULL,"
     "  last_login_ms " I " NOT NULL, PRIMARY KEY (tenant, id));"},

    {7, "SAML 2.0: saml_assertions (replay cache), sessions by NameID (single logout)",
     "CREATE TABLE saml_assertions ("
     "  tenant " T " NOT NULL, id_hash " T " NOT NULL, expires_ms " I " NOT NULL,"
     "  PRIMARY KEY (tenant, id_hash));"
     "CREATE INDEX saml_assertions_expiry ON saml_assertions (expires_ms);"
     "CREATE INDEX sessions_saml_name_id ON sessions "
     "  (tenant, ((identity::jsonb) #>> '{saml,name_id}'));"},

    {8, "CLI sign-in: session kinds and refresh tokens, cli_auth_codes, cli_refresh_used",
     "ALTER TABLE sessions ADD COLUMN kind " T " NOT NULL DEFAULT 'browser';"
     "ALTER TABLE sessions ADD COLUMN refresh_hash " T ";"
     "ALTER TABLE sessions ADD COLUMN access_expires_ms " I " NOT NULL DEFAULT 0;"
     "CREATE UNIQUE INDEX sessions_refresh ON sessions (refresh_hash);"
     "CREATE TABLE cli_auth_codes ("
     "  code_hash " T " PRIMARY KEY, tenant " T " NOT NULL, user_id " T " NOT NULL,"
     "  identity " T " NOT NULL DEFAULT '{}', browser_session " T ", challenge " T " NOT NULL,"
     "  redirect_uri " T " NOT NULL, created_ms " I " NOT NULL, expires_ms " I " NOT NULL,"
     "  consumed_ms " I " NOT NULL DEFAULT 0, cli_session " T ");"
     "CREATE TABLE cli_refresh_used ("
     "  hash " T " PRIMARY KEY, tenant " T " NOT NULL, session_id " T " NOT NULL,"
     "  used_ms " I " NOT NULL);"
     "CREATE INDEX cli_refresh_used_session ON cli_refresh_used (session_id);"},

    {9, "namespace grants: namespace_grants",
     "CREATE TABLE namespace_grants ("
     "  tenant " T " NOT NULL, namespace " T " NOT NULL, kind " T " NOT NULL,"
     "  value " T " NOT NULL, created_by " T " NOT NULL, created_ms " I " NOT NULL,"
     "  PRIMARY KEY (tenant, namespace, kind, value));"},

    {10,
     "readable conversations: the owner's org unit and team; lists by owner, activity and "
     "mailbox in the order of their cursors",
     "ALTER TABLE conversations ADD COLUMN org_unit " T ";"
     "ALTER TABLE conversations ADD COLUMN team " T ";"
     "CREATE INDEX conversations_by_user ON conversations (tenant, user_id, updated_ms, id);"
     "CREATE INDEX conversations_by_activity ON conversations (tenant, updated_ms, id);"
     "DROP INDEX messages_by_channel;"
     "CREATE INDEX messages_by_channel ON messages (tenant, channel, created_ms, id);"},

    {11, "SIEM forwarding: audit_fwd_cursors",
     "CREATE TABLE audit_fwd_cursors ("
     "  destination " T " NOT NULL, tenant " T " NOT NULL, seq " I " NOT NULL,"
     "  updated_ms " I " NOT NULL, PRIMARY KEY (destination, tenant));"},

    {12, "run-time models: model_providers, model_entries, agent_models",
     "CREATE TABLE model_providers ("
     "  tenant " T " NOT NULL, name " T " NOT NULL, spec " T " NOT NULL, api_key " T ","
     "  enabled INTEGER NOT NULL DEFAULT 1, created_by " T ", created_ms " I " NOT NULL,"
     "  updated_by " T ", updated_ms " I " NOT NULL, PRIMARY KEY (tenant, name));"
     "CREATE TABLE model_entries ("
     "  tenant " T " NOT NULL, provider " T " NOT NULL, name " T " NOT NULL,"
     "  upstream " T " NOT NULL, input_per_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,"
     "  output_per_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,"
     "  enabled INTEGER NOT NULL DEFAULT 1, created_by " T ", created_ms " I " NOT NULL,"
     "  updated_by " T ", updated_ms " I " NOT NULL, PRIMARY KEY (tenant, provider, name));"
     "CREATE TABLE agent_models ("
     "  tenant " T " NOT NULL, agent " T " NOT NULL, model " T " NOT NULL, set_by " T ","
     "  set_ms " I " NOT NULL, PRIMARY KEY (tenant, agent));"},

    {13, "audit integrity: signed heads with Merkle roots, audit_tree, audit_keys",
     /* heads signed before this version keep root NULL (checkpoints of the hash chain) */
     "ALTER TABLE audit_checkpoints ADD COLUMN root " T ";"
     "CREATE TABLE audit_tree ("
     "  tenant " T " NOT NULL, level INTEGER NOT NULL, idx " I " NOT NULL, hash " T " NOT NULL,"
     "  PRIMARY KEY (tenant, level, idx));"
     /* added: the order keys were introduced in (SQLite's rowid) */
     "CREATE TABLE audit_keys ("
     "  key_id " T " PRIMARY KEY, public_key " T " NOT NULL, prev_key_id " T ","
     "  ts_ms " I " NOT NULL, sig_prev " T ", sig_new " T " NOT NULL,"
     "  added BIGSERIAL NOT NULL);"},

    {14, "memory documents in the store (cluster mode): memory_documents",
     "CREATE TABLE memory_documents ("
     "  name " T " PRIMARY KEY, content " T " NOT NULL, updated_ms " I " NOT NULL);"},
    {15, "audit across nodes: audit_keys.node_id",
     /* the node that introduced a key: several nodes sign one tenant's log (cluster mode) */
     "ALTER TABLE audit_keys ADD COLUMN node_id " T ";"},
    {16, "SIEM forwarding led by one node: audit_fwd_leaders",
     /* who holds a destination's lease (pg_lease.c): believed only while pid holds the lock */
     "CREATE TABLE audit_fwd_leaders ("
     "  destination " T " PRIMARY KEY, node_id " T " NOT NULL, pid " I " NOT NULL,"
     "  since_ms " I " NOT NULL);"},

    {17, "audit chains with a missing tail: audit_claim_past()",
     /* A tenant whose stored chain lost its tail (its heads gone too: only the log file or a
      * witness knows) goes on after the end the writer knows, never reusing those numbers:
      * the claim then only asks that nothing in the store is at or after the batch's first
      * row. The gateway has already reported the tenant's integrity failure. */
     "CREATE FUNCTION audit_claim_past(t TEXT, first_seq BIGINT) RETURNS void "
     "LANGUAGE plpgsql AS $f$ "
     "BEGIN "
     "  PERFORM pg_advisory_xact_lock(7032, hashtext(t)); "
     "  IF EXISTS (SELECT 1 FROM audit_events WHERE tenant = t AND seq >= first_seq) THEN "
     "    RAISE EXCEPTION 'the audit chain of a tenant moved under this writer' "
     "      USING ERRCODE = '" STORE_PG_CHAIN_MOVED "'; "
     "  END IF; "
     "END $f$;"},
};

int store_pg_latest_version(void)
{
    return migrations[GW_ARRAY_LEN(migrations) - 1].version;
}

size_t store_pg_migration_count(void)
{
    return GW_ARRAY_LEN(migrations);
}

static const char LOCK_TRY[] = "SELECT pg_try_advisory_lock(7031, hashtext(current_schema()))";
static const char LOCK[] = "SELECT pg_advisory_lock(7031, hashtext(current_schema()))";
static const char UNLOCK[] = "SELECT pg_advisory_unlock(7031, hashtext(current_schema()))";
static const char VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char RECORD[] = "INSERT INTO schema_migrations (version, description, applied_ms) "
                             "VALUES ($1, $2, $3)";

static gw_err current_version(struct store_pg_conn *c, int *version)
{
    int64_t v = 0;
    gw_err rc = store_pg_run_get(c, PG_CALL(.sql = VERSION, .what = "migration: reading version"),
                                 &store_pg_i64_cols, &v);
    *version = v > INT32_MAX ? INT32_MAX : v < 0 ? 0 : (int)v;
    return rc;
}

static gw_err too_new(int v, int latest)
{
    gw_error("store: database schema version %d is newer than this binary supports (%d); "
             "refusing to open it (upgrade openclaw-gateway)",
             v, latest);
    return GW_ESTORE;
}

static gw_err apply_one(struct store_pg_conn *c, const struct migration *m)
{
    char what[160];
    snprintf(what, sizeof what, "migration: %s", m->description);
    gw_err rc = store_pg_begin(c, what);
    if (rc == GW_OK)
        rc = store_pg_exec(c, m->sql, what);
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = RECORD, .what = what,
                                  PG_ARGS(PG_I64(m->version), PG_TEXT(m->description),
                                          PG_I64(gw_now_ms()))),
                          NULL);
    rc = store_pg_end(c, rc, what);
    if (rc == GW_OK)
        gw_info("store: applied schema migration %d (%s)", m->version, m->description);
    return rc;
}

/* With the lock held: everything pending. */
static gw_err migrate_locked(struct store_pg_conn *c, int *version)
{
    int latest = store_pg_latest_version();
    gw_err rc = store_pg_exec(c,
                              "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "  version     INTEGER PRIMARY KEY,"
                              "  description TEXT NOT NULL,"
                              "  applied_ms  BIGINT NOT NULL)",
                              "migration: creating schema_migrations");
    int v = 0;
    if (rc == GW_OK)
        rc = current_version(c, &v);
    if (rc == GW_OK && v > latest)
        rc = too_new(v, latest);
    for (size_t i = 0; rc == GW_OK && i < GW_ARRAY_LEN(migrations); i++)
        if (migrations[i].version > v)
            rc = apply_one(c, &migrations[i]);
    if (rc == GW_OK)
        rc = current_version(c, version);
    return rc;
}

gw_err store_pg_migrate(struct store_pg_conn *c, int *version)
{
    int64_t got = 0;
    gw_err rc = store_pg_run_get(c, PG_CALL(.sql = LOCK_TRY, .what = "migration: lock"),
                                 &store_pg_i64_cols, &got);
    if (rc == GW_OK && !got) {
        gw_info("store: another node is migrating the schema; waiting for it");
        rc = store_pg_exec(c, LOCK, "migration: lock");
    }
    if (rc != GW_OK)
        return rc;
    rc = migrate_locked(c, version);
    gw_err urc = store_pg_exec(c, UNLOCK, "migration: unlock");
    return rc != GW_OK ? rc : urc;
}
