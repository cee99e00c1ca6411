/* SPDX-License-Identifier: MIT
 * store.h — the gateway's persistent state behind one interface.
 *
 * Callers see domain operations only (tokens, agents, messages, audit rows, checkpoints, meta);
 * every SQL statement and dialect detail stays inside src/store. The embedded backend is SQLite
 * in WAL mode (store_sqlite.c); a cluster backend (PostgreSQL) plugs in behind the same
 * struct store_ops table without touching callers. Migrations are versioned and applied at
 * open (store_migrations.c).
 *
 * Threading: every function is safe to call from any thread. The audit writer owns a second
 * connection (store_audit_append) so group commits never wait behind API reads.
 * Strings returned in structs are malloc'd and released with the matching *_release function.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

/* --- lifecycle ------------------------------------------------------------------------- */

/* Opens (creating if needed) <data_dir>/gateway.db and applies pending migrations. */
gw_err store_open(const char *data_dir, struct store **out);
void store_close(struct store *st);
/* Cheap liveness query for /readyz. */
gw_err store_ping(struct store *st);
/* Schema version after migrations (for status). */
int store_schema_version(struct store *st);

/* --- small key/value metadata (e.g. "bootstrap_done") -------------------------------- */

/* *value is malloc'd; GW_ENOTFOUND when absent. */
gw_err store_meta_get(struct store *st, const char *key, char **value);
gw_err store_meta_put(struct store *st, const char *key, const char *value);

/* --- gateway tokens created at run time ------------------------------------------------- */

struct store_token {
    char *id;
    char *tenant;
    char *owner;          /* user id or NULL */
    char *hash;           /* hex SHA-256 of the secret; the secret itself is never stored */
    char *scopes;         /* JSON array text, e.g. ["memory:read"] */
    char *created_by;     /* principal that created it */
    int64_t created_ms;
    int64_t expires_ms;   /* 0 = never */
    int64_t revoked_ms;   /* 0 = active */
    int64_t last_used_ms; /* 0 = never */
};

void store_token_release(struct store_token *t);
/* GW_ECONFLICT when the id exists (in the tenant). */
gw_err store_token_insert(struct store *st, const struct store_token *t);
/* Replaces the hash (rotation). GW_ENOTFOUND if absent or revoked. */
gw_err store_token_set_hash(struct store *st, const char *tenant, const char *id, const char *hash);
/* Marks revoked at ms. GW_ENOTFOUND if absent; revoking twice is GW_OK. */
gw_err store_token_revoke(struct store *st, const char *tenant, const char *id, int64_t ms);
/* Records last use (best effort, batched by the caller). */
gw_err store_token_touch(struct store *st, const char *tenant, const char *id, int64_t ms);
/* All tokens of all tenants (including revoked); *out is a malloc'd array. */
gw_err store_token_list(struct store *st, struct store_token **out, size_t *n);
void store_token_list_free(struct store_token *list, size_t n);

/* --- agents registered at run time ------------------------------------------------------ */

struct store_agent {
    char *tenant;
    char *name;        /* "<namespace>/<agent>" */
    char *channel;
    char *memory_path; /* absolute */
    char *description;
    char *created_by;
    int64_t created_ms;
};

void store_agent_release(struct store_agent *a);
/* GW_ECONFLICT when (tenant, name) exists. */
gw_err store_agent_insert(struct store *st, const struct store_agent *a);
gw_err store_agent_list(struct store *st, struct store_agent **out, size_t *n);
void store_agent_list_free(struct store_agent *list, size_t n);
/* GW_ENOTFOUND when (tenant, name) is not a run-time agent. */
gw_err store_agent_delete(struct store *st, const char *tenant, const char *name);

/* --- channel messages ------------------------------------------------------------------- */

struct store_message {
    char *id;
    char *tenant;
    char *channel;
    char *sender;    /* principal */
    char *content;
    int64_t created_ms;
};

gw_err store_message_insert(struct store *st, const struct store_message *m);

/* --- audit rows (the hash chain itself is computed in src/audit) ------------------------ */

struct audit_row {
    char *tenant;
    int64_t seq;           /* 1, 2, 3 ... per tenant */
    int64_t ts_ms;
    char *type;            /* e.g. "message.sent" */
    char *outcome;         /* ok | denied | error | failed */
    char *actor;           /* user id, "token:<id>" or "anonymous" */
    char *token_id;        /* may be NULL */
    char *org_unit;        /* actor's org unit, may be NULL */
    char *team;            /* actor's team, may be NULL */
    char *resource;        /* channel, memory path, token id ...; may be NULL */
    char *request_id;
    char *client_ip;       /* may be NULL */
    char *classification;  /* public | internal | confidential | restricted */
    int status;            /* HTTP status answered, 0 when not applicable */
    char *details;         /* canonical JSON object text */
    char *prev_hash;       /* hex, 64 zeros for seq 1 */
    char *hash;            /* hex */
};

void audit_row_release(struct audit_row *r);

/* Appends rows in one transaction with a full fsync (durable when it returns GW_OK); on any
 * failure nothing is written. Called only from the audit writer thread. */
gw_err store_audit_append(struct store *st, const struct audit_row *rows, size_t n);

/* Last (seq, hash) of a tenant's chain; seq 0 and hash NULL when empty. */
gw_err store_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash);
/* Tenants that have audit rows (malloc'd array of malloc'd strings). */
gw_err store_audit_tenants(struct store *st, char ***out, size_t *n);

enum audit_visibility {
    AUDIT_VIS_ALL,      /* enterprise admin */
    AUDIT_VIS_ORG,      /* org_unit == scope or under scope + "/" */
    AUDIT_VIS_TEAM,     /* team == scope */
    AUDIT_VIS_ACTOR,    /* actor == scope */
};

struct audit_filter {
    const char *tenant;          /* required */
    enum audit_visibility vis;
    const char *vis_scope;       /* org path, team id or actor, per vis */
    const char *actor;           /* exact, optional */
    const char *type;            /* exact, or prefix when it ends with '*' */
    const char *resource;        /* exact, optional (the "channel" filter) */
    const char *outcome;         /* exact, optional */
    const char *request_id;      /* exact, optional */
    int64_t since_ms, until_ms;  /* inclusive range, 0 = open */
    int64_t after_seq;           /* ascending scan starts after this seq (cursor) */
    int64_t before_seq;          /* descending scan starts below this seq, 0 = from the end */
    bool descending;             /* newest first */
};

/* Returns up to limit rows matching f (malloc'd array). */
gw_err store_audit_query(struct store *st, const struct audit_filter *f, size_t limit,
                         struct audit_row **out, size_t *n);
void store_audit_rows_free(struct audit_row *rows, size_t n);

/* Streams every row matching f in seq order (ascending), page by page, calling fn for each;
 * fn returning non-zero stops the scan (and is returned as GW_OK). For verify and export. */
typedef int store_audit_row_fn(const struct audit_row *row, void *ctx);
gw_err store_audit_scan(struct store *st, const struct audit_filter *f, store_audit_row_fn *fn,
                        void *ctx);

/* Signed checkpoints of the chain (src/audit signs them). */
struct audit_checkpoint {
    char *tenant;
    int64_t seq;      /* the chain covers 1..seq */
    char *hash;       /* hash of event seq */
    int64_t ts_ms;
    char *key_id;     /* hex SHA-256 of the public key, first 16 chars */
    char *signature;  /* base64url Ed25519 signature over audit_checkpoint_message() */
};

void audit_checkpoint_release(struct audit_checkpoint *c);
gw_err store_checkpoint_insert(struct store *st, const struct audit_checkpoint *c);
/* Latest checkpoint of a tenant; GW_ENOTFOUND when none. */
gw_err store_checkpoint_latest(struct store *st, const char *tenant, struct audit_checkpoint *out);
/* All checkpoints of a tenant in seq order (malloc'd array). */
gw_err store_checkpoint_list(struct store *st, const char *tenant, struct audit_checkpoint **out,
                             size_t *n);
void store_checkpoint_list_free(struct audit_checkpoint *list, size_t n);

/* --- policies: every version of every policy is kept (src/policy owns the content) -------- */

struct store_policy_version {
    char *tenant;
    char *id;
    int64_t version;
    char *record;   /* pol_record_to_json text of this version */
};

/* GW_ECONFLICT when (tenant, id, version) exists. Durable when it returns. */
gw_err store_policy_insert(struct store *st, const char *tenant, const char *id, int64_t version,
                           const char *record_json);
/* Every version of every tenant, ordered by tenant, id, version (malloc'd array). */
gw_err store_policy_list(struct store *st, struct store_policy_version **out, size_t *n);
void store_policy_list_free(struct store_policy_version *list, size_t n);

/* --- approval queue ------------------------------------------------------------------------- */

struct store_approval {
    char *id;          /* "apr_<hex>" */
    char *tenant;
    char *requester;   /* principal actor that asked */
    char *approvers;   /* JSON {"users":[...],"roles":[...],"team_lead_of":"team"|null} */
    char *action;      /* JSON of the frozen action (kind, tool, args, channel...) */
    char *policy;      /* JSON of the deciding policy (id, version, scope, reason) */
    char *status;      /* pending | executing | executed | failed | rejected | expired */
    char *decided_by;  /* NULL until decided */
    char *comment;     /* approver's comment, may be NULL */
    char *result;      /* JSON result of the execution, NULL until executed */
    char *request_id;  /* of the request that parked it */
    int64_t created_ms, expires_ms, decided_ms, executed_ms;
};

void store_approval_release(struct store_approval *a);
gw_err store_approval_insert(struct store *st, const struct store_approval *a);
/* GW_ENOTFOUND when absent in the tenant. */
gw_err store_approval_get(struct store *st, const char *tenant, const char *id,
                          struct store_approval *out);
/* Compare-and-set of the status: changes (tenant, id) from `from` to `to` only if its status is
 * `from` right now (one transaction), so two approvers racing cannot both win; GW_ECONFLICT
 * otherwise, GW_ENOTFOUND when absent. Non-NULL fields replace the stored ones: decided_by,
 * comment, action (edit-then-approve), result; *_ms fields > 0 replace theirs. */
struct store_approval_change {
    const char *from, *to;
    const char *decided_by, *comment, *action, *result;
    int64_t decided_ms, executed_ms;
};
gw_err store_approval_transition(struct store *st, const char *tenant, const char *id,
                                 const struct store_approval_change *ch);
/* Approvals of a tenant, newest first, optionally of one status (NULL = all), at most limit. */
gw_err store_approval_list(struct store *st, const char *tenant, const char *status,
                           size_t limit, struct store_approval **out, size_t *n);
void store_approval_list_free(struct store_approval *list, size_t n);
/* Pending approvals (all tenants) whose expires_ms <= now_ms, oldest first, at most limit. */
gw_err store_approval_due(struct store *st, int64_t now_ms, size_t limit,
                          struct store_approval **out, size_t *n);

/* --- model usage metering and budget alerts (src/llm/llm_costs.c owns the meaning) -------- */

struct store_usage_row {
    const char *tenant;
    const char *user_id;    /* may be NULL */
    const char *workspace;
    const char *agent;      /* may be NULL */
    const char *provider, *model;
    int64_t prompt_tokens, completion_tokens;
    double cost_usd;
    const char *month;      /* "YYYY-MM" (UTC) of at_ms */
    int64_t at_ms;
    const char *request_id; /* may be NULL */
};

/* --- conversations: an agent's sessions per user and channel --------------------------- */

#define STORE_CONV_ID_LEN 40
/* The conversation of (tenant, user, channel, session), created when new; its id ("cnv_…")
 * goes to id (STORE_CONV_ID_LEN bytes). */
gw_err store_conversation_open(struct store *st, const char *tenant, const char *user,
                               const char *channel, const char *session, int64_t now_ms,
                               char *id);
/* Appends messages (canonical chat messages as JSON text) in one transaction. */
gw_err store_conversation_append(struct store *st, const char *id, const char *const *messages,
                                 size_t n, int64_t now_ms);
/* The last max messages, oldest first (release with store_strv_free). */
gw_err store_conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                               size_t *n);
void store_strv_free(char **v, size_t n);

/* Appends rows in one fsynced transaction (nothing on failure). Called by the costs writer; it
 * shares the audit writer's connection, so API reads never wait behind a batch. */
gw_err store_usage_append(struct store *st, const struct store_usage_row *rows, size_t n);

/* One group of a month's usage: (tenant, workspace, user_id, provider, model). */
struct store_usage_sum {
    char *tenant;
    char *workspace;
    char *user_id;          /* NULL when the rows had none */
    char *provider, *model;
    int64_t requests, prompt_tokens, completion_tokens;
    double cost_usd;
};

/* Sums of one month ("YYYY-MM") grouped as above, ordered by tenant, workspace, user_id,
 * provider, model (malloc'd array). tenant NULL: every tenant; workspace NULL: every workspace. */
gw_err store_usage_month(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n);
void store_usage_sums_free(struct store_usage_sum *list, size_t n);

/* Remembers that a budget alert of kind "threshold" or "exceeded" was sent for (tenant,
 * workspace, month); *inserted is true only for the first call (insert-if-absent). */
gw_err store_budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                 const char *month, const char *kind, int64_t sent_at_ms,
                                 bool *inserted);

/* --- single sign-on: browser sessions, login states, provisioned users (store_sso.c) ----- */

/* A server-side session. Only the SHA-256 of the cookie secret is stored (hash); id is the
 * public handle (first 32 hex digits of the hash) used by listings and revocation.
 * A session of kind "cli" (`openclaw auth login`, store_cli_*) has a random id that stays
 * the same across refreshes; hash is then the SHA-256 of its current access token and
 * refresh_hash that of its current refresh token. */
struct store_session {
    char *id;
    char *hash;
    char *tenant;
    char *user_id;
    char *identity;       /* JSON object: email, name, role, org_unit, team, groups, idp */
    char *client_ip;      /* at login, may be NULL */
    int64_t created_ms, last_seen_ms, expires_ms; /* expires_ms: absolute end (cli: the end
                                                     of the current refresh token) */
    char *kind;           /* "browser" (NULL on insert means browser) or "cli" */
    char *refresh_hash;   /* cli only */
    int64_t access_expires_ms; /* cli only: end of the current access token */
};

void store_session_release(struct store_session *s);
gw_err store_session_insert(struct store *st, const struct store_session *s);
/* GW_ENOTFOUND when absent. */
gw_err store_session_get(struct store *st, const char *hash, struct store_session *out);
gw_err store_session_touch(struct store *st, const char *hash, int64_t ms);
/* By public id in a tenant; GW_ENOTFOUND when absent. *user_id (malloc'd, may be NULL arg)
 * receives the owner. */
gw_err store_session_delete(struct store *st, const char *tenant, const char *id,
                            char **user_id);
/* Every session of a user; *n receives the count removed. */
gw_err store_session_delete_user(struct store *st, const char *tenant, const char *user_id,
                                 size_t *n);
/* Sessions of a tenant (user_id NULL: all), newest first, at most limit (malloc'd array). */
gw_err store_session_list(struct store *st, const char *tenant, const char *user_id,
                          size_t limit, struct store_session **out, size_t *n);
void store_session_list_free(struct store_session *list, size_t n);
/* Removes sessions whose absolute end or (browser sessions) idle limit (last_seen_ms <
 * idle_before_ms) passed, login states that expired and SAML assertion ids past their expiry. */
gw_err store_sso_purge(struct store *st, int64_t now_ms, int64_t idle_before_ms);

/* A pending authorization request (OIDC: state, nonce, PKCE verifier; SAML: the AuthnRequest
 * ID and the RelayState), single use. */
struct store_login_state {
    char *state_hash;     /* SHA-256 hex of the state sent to the IdP */
    char *tenant;
    char *binding_hash;   /* SHA-256 hex of the pre-login cookie that binds it to the browser */
    char *nonce;          /* OIDC nonce; SAML: the RelayState */
    char *verifier;       /* PKCE code_verifier; NULL for SAML */
    char *return_to;      /* local path to land on after login, may be NULL */
    int64_t created_ms, expires_ms;
};

void store_login_state_release(struct store_login_state *s);
gw_err store_login_state_insert(struct store *st, const struct store_login_state *s);
/* Consumes the state atomically (first caller wins; secrets erased): GW_ENOTFOUND when it is
 * unknown, already used or expired. */
gw_err store_login_state_consume(struct store *st, const char *state_hash, int64_t now_ms,
                                 struct store_login_state *out);
/* Number of login states (used or not) of a browser binding created at or after since_ms. */
gw_err store_login_state_count(struct store *st, const char *binding_hash, int64_t since_ms,
                               size_t *n);

/* SAML: records the hash of an assertion's issuer and ID as used until expires_ms (when the
 * assertion could no longer be accepted anyway). GW_ECONFLICT when it was recorded before: a
 * replay. Works across restarts and, with a shared store, across nodes. */
gw_err store_saml_assertion_use(struct store *st, const char *tenant, const char *id_hash,
                                int64_t expires_ms);
/* SAML single logout: deletes the sessions whose identity holds this NameID value (and this
 * SessionIndex when session_index is not NULL). *n receives the count, *user (malloc'd, may be
 * a NULL argument) the user of one of them. */
gw_err store_session_delete_saml(struct store *st, const char *tenant, const char *name_id,
                                 const char *session_index, size_t *n, char **user);

/* --- CLI sign-in: authorization codes and CLI sessions (store_cli.c) ---------------------- */

/* A one-time authorization code of `openclaw auth login`; only its SHA-256 is stored. */
struct store_cli_code {
    char *code_hash;
    char *tenant;
    char *user_id;
    char *identity;         /* identity JSON of the browser session that confirmed */
    char *browser_session;  /* public id of that session */
    char *challenge;        /* PKCE S256 code_challenge */
    char *redirect_uri;
    int64_t created_ms, expires_ms;
    int64_t consumed_ms;    /* from consume: when it had been consumed already (0: first use) */
    char *cli_session;      /* from consume: the CLI session issued for it, or NULL */
};

void store_cli_code_release(struct store_cli_code *c);
gw_err store_cli_code_insert(struct store *st, const struct store_cli_code *c);
/* Marks the code consumed (the first caller wins) and returns it as it was before, so
 * consumed_ms and cli_session reveal a replay. GW_ENOTFOUND when unknown. */
gw_err store_cli_code_consume(struct store *st, const char *code_hash, int64_t now_ms,
                              struct store_cli_code *out);
/* Records the CLI session issued for a code (a replay of the code revokes it). */
gw_err store_cli_code_link(struct store *st, const char *code_hash, const char *session_id);

/* The CLI session whose current refresh token has this hash. GW_ENOTFOUND when unknown;
 * GW_ECONFLICT when it is a refresh token that was already used: out->id and out->tenant
 * then name the session it belonged to (user_id too while that session exists). */
gw_err store_cli_refresh_find(struct store *st, const char *refresh_hash,
                              struct store_session *out);

struct store_cli_rotation {
    const char *id;               /* the CLI session */
    const char *old_refresh_hash; /* must still be current (compare-and-set) */
    const char *access_hash, *refresh_hash;
    int64_t access_expires_ms, expires_ms, now_ms;
};

/* Replaces both tokens of a CLI session in one transaction and remembers the old refresh
 * token as used. GW_ECONFLICT when old_refresh_hash is no longer current. */
gw_err store_cli_rotate(struct store *st, const struct store_cli_rotation *r);
/* Drops codes expired for more than ten minutes and the used-refresh records of sessions
 * that no longer exist. */
gw_err store_cli_purge(struct store *st, int64_t now_ms);

/* A user provisioned just in time from the IdP (not declared in identity.users). */
struct store_sso_user {
    char *tenant, *id, *email, *name, *role, *org_unit, *team;
    char *groups;         /* JSON array text */
    bool disabled;
    int64_t created_ms, last_login_ms;
};

void store_sso_user_release(struct store_sso_user *u);
/* Insert or update (keeps created_ms and disabled of an existing row). */
gw_err store_sso_user_upsert(struct store *st, const struct store_sso_user *u);
/* GW_ENOTFOUND when absent. */
gw_err store_sso_user_get(struct store *st, const char *tenant, const char *id,
                          struct store_sso_user *out);

#include "store/store_grants.h" /* namespace grants added at run time */

#endif
