/* SPDX-License-Identifier: MIT
 * store_int.h — private to src/store: the backend-neutral half of the store. Row layouts as
 * column lists, the per-domain ops tables a backend fills, and the backends' entry points.
 *
 * The store_<domain>.c files own the public functions of the domain headers: they validate
 * arguments that do not depend on the backend and dispatch through st->ops-><domain>. A backend
 * embeds struct store as the first member of its own struct and fills one const table per
 * domain (src/store/sqlite/ is the SQLite one; README.md lists what a second backend writes).
 * Nothing here names a database library.
 */
#ifndef GW_STORE_INT_H
#define GW_STORE_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store.h"

/* --- row layouts ------------------------------------------------------------------------ */

/* How a field is held: TEXT (char *, malloc'd in results, NULL = SQL NULL), SECRET (TEXT that
 * is wiped before it is freed), I64 (int64_t), INT (int), BOOL (bool), REAL (double). */
enum store_col_type {
    STORE_COL_TEXT,
    STORE_COL_SECRET,
    STORE_COL_I64,
    STORE_COL_INT,
    STORE_COL_BOOL,
    STORE_COL_REAL,
};

struct store_col {
    const char *name; /* the field, and the table column of the same name */
    enum store_col_type type;
    size_t offset;
};

/* The columns of one row struct, in table order: what a backend binds, reads and frees. */
struct store_cols {
    size_t size; /* sizeof the struct */
    size_t n;
    const struct store_col *col;
};

/* Each column list below is X(S, TYPE, field) joined by SEP, so one list generates the column
 * table (STORE_COLS_INIT, the initializer of a struct store_cols for struct S), the SQL column
 * list (STORE_COL_NAMES) and its placeholders (STORE_COL_PARAMS). */
/* clang-format off */
#define STORE_COL_ENTRY(S, T, f) {#f, STORE_COL_##T, offsetof(struct S, f)},
#define STORE_COL_NAME(S, T, f) #f
#define STORE_COL_PARAM(S, T, f) "?"
#define STORE_COL_NAMES(LIST) LIST(STORE_COL_NAME, _, ", ")
#define STORE_COL_PARAMS(LIST) LIST(STORE_COL_PARAM, _, ", ")
#define STORE_COLS_INIT(S, LIST)                                                               \
    {sizeof(struct S), GW_ARRAY_LEN(((const struct store_col[]){LIST(STORE_COL_ENTRY, S, )})), \
     (const struct store_col[]){LIST(STORE_COL_ENTRY, S, )}}

#define STORE_TOKEN_COLUMNS(X, S, SEP)                                                         \
    X(S, TEXT, id) SEP X(S, TEXT, tenant) SEP X(S, TEXT, owner) SEP X(S, TEXT, hash) SEP        \
    X(S, TEXT, scopes) SEP X(S, TEXT, created_by) SEP X(S, I64, created_ms) SEP                 \
    X(S, I64, expires_ms) SEP X(S, I64, revoked_ms) SEP X(S, I64, last_used_ms)

#define STORE_AGENT_COLUMNS(X, S, SEP)                                                         \
    X(S, TEXT, tenant) SEP X(S, TEXT, name) SEP X(S, TEXT, channel) SEP                         \
    X(S, TEXT, memory_path) SEP X(S, TEXT, description) SEP X(S, TEXT, created_by) SEP          \
    X(S, I64, created_ms)

#define STORE_GRANT_COLUMNS(X, S, SEP)                                                         \
    X(S, TEXT, tenant) SEP X(S, TEXT, ns) SEP X(S, TEXT, kind) SEP X(S, TEXT, value) SEP        \
    X(S, TEXT, created_by) SEP X(S, I64, created_ms)

#define STORE_MESSAGE_COLUMNS(X, S, SEP)                                                       \
    X(S, TEXT, id) SEP X(S, TEXT, tenant) SEP X(S, TEXT, channel) SEP X(S, TEXT, sender) SEP    \
    X(S, TEXT, content) SEP X(S, I64, created_ms)

/* The last two are computed by the query (how many messages, the first one's text). */
#define STORE_CONVERSATION_COLUMNS(X, S, SEP)                                                  \
    X(S, TEXT, id) SEP X(S, TEXT, tenant) SEP X(S, TEXT, user_id) SEP X(S, TEXT, channel) SEP   \
    X(S, TEXT, session) SEP X(S, TEXT, org_unit) SEP X(S, TEXT, team) SEP                       \
    X(S, I64, created_ms) SEP X(S, I64, updated_ms) SEP X(S, I64, messages) SEP                 \
    X(S, TEXT, title)
#define STORE_CONVERSATION_INSERT_COLS 9

#define STORE_CONVERSATION_MESSAGE_COLUMNS(X, S, SEP)                                          \
    X(S, I64, seq) SEP X(S, TEXT, message) SEP X(S, I64, created_ms)

#define STORE_AUDIT_ROW_COLUMNS(X, S, SEP)                                                     \
    X(S, TEXT, tenant) SEP X(S, I64, seq) SEP X(S, I64, ts_ms) SEP X(S, TEXT, type) SEP         \
    X(S, TEXT, outcome) SEP X(S, TEXT, actor) SEP X(S, TEXT, token_id) SEP                      \
    X(S, TEXT, org_unit) SEP X(S, TEXT, team) SEP X(S, TEXT, resource) SEP                      \
    X(S, TEXT, request_id) SEP X(S, TEXT, client_ip) SEP X(S, TEXT, classification) SEP         \
    X(S, INT, status) SEP X(S, TEXT, details) SEP X(S, TEXT, prev_hash) SEP X(S, TEXT, hash)

#define STORE_CHECKPOINT_COLUMNS(X, S, SEP)                                                    \
    X(S, TEXT, tenant) SEP X(S, I64, seq) SEP X(S, TEXT, hash) SEP X(S, I64, ts_ms) SEP         \
    X(S, TEXT, key_id) SEP X(S, TEXT, signature) SEP X(S, TEXT, root)

#define STORE_AUDIT_NODE_COLUMNS(X, S, SEP)                                                    \
    X(S, TEXT, tenant) SEP X(S, INT, level) SEP X(S, I64, idx) SEP X(S, TEXT, hash)

#define STORE_AUDIT_HASH_COLUMNS(X, S, SEP) X(S, I64, n) SEP X(S, TEXT, hash)

#define STORE_AUDIT_KEY_COLUMNS(X, S, SEP)                                                     \
    X(S, TEXT, key_id) SEP X(S, TEXT, public_key) SEP X(S, TEXT, prev_key_id) SEP              \
    X(S, I64, ts_ms) SEP X(S, TEXT, sig_prev) SEP X(S, TEXT, sig_new) SEP X(S, TEXT, node_id)

#define STORE_POLICY_VERSION_COLUMNS(X, S, SEP)                                                \
    X(S, TEXT, tenant) SEP X(S, TEXT, id) SEP X(S, I64, version) SEP X(S, TEXT, record)

#define STORE_APPROVAL_COLUMNS(X, S, SEP)                                                      \
    X(S, TEXT, id) SEP X(S, TEXT, tenant) SEP X(S, TEXT, requester) SEP                         \
    X(S, TEXT, approvers) SEP X(S, TEXT, action) SEP X(S, TEXT, policy) SEP                     \
    X(S, TEXT, status) SEP X(S, TEXT, decided_by) SEP X(S, TEXT, comment) SEP                   \
    X(S, TEXT, result) SEP X(S, TEXT, request_id) SEP X(S, I64, created_ms) SEP                 \
    X(S, I64, expires_ms) SEP X(S, I64, decided_ms) SEP X(S, I64, executed_ms)

/* Input only: the strings are borrowed (const char *), never freed. */
#define STORE_USAGE_ROW_COLUMNS(X, S, SEP)                                                     \
    X(S, TEXT, tenant) SEP X(S, TEXT, user_id) SEP X(S, TEXT, workspace) SEP                    \
    X(S, TEXT, agent) SEP X(S, TEXT, provider) SEP X(S, TEXT, model) SEP                        \
    X(S, I64, prompt_tokens) SEP X(S, I64, completion_tokens) SEP X(S, REAL, cost_usd) SEP      \
    X(S, TEXT, month) SEP X(S, I64, at_ms) SEP X(S, TEXT, request_id)

/* A group of sums, read from an aggregate (the names are not table columns). */
#define STORE_USAGE_SUM_COLUMNS(X, S, SEP)                                                     \
    X(S, TEXT, tenant) SEP X(S, TEXT, workspace) SEP X(S, TEXT, user_id) SEP                    \
    X(S, TEXT, provider) SEP X(S, TEXT, model) SEP X(S, I64, requests) SEP                      \
    X(S, I64, prompt_tokens) SEP X(S, I64, completion_tokens) SEP X(S, REAL, cost_usd)

#define STORE_SESSION_COLUMNS(X, S, SEP)                                                       \
    X(S, TEXT, id) SEP X(S, TEXT, hash) SEP X(S, TEXT, tenant) SEP X(S, TEXT, user_id) SEP      \
    X(S, TEXT, identity) SEP X(S, TEXT, client_ip) SEP X(S, I64, created_ms) SEP                \
    X(S, I64, last_seen_ms) SEP X(S, I64, expires_ms) SEP X(S, TEXT, kind) SEP                  \
    X(S, TEXT, refresh_hash) SEP X(S, I64, access_expires_ms)

#define STORE_LOGIN_STATE_COLUMNS(X, S, SEP)                                                   \
    X(S, TEXT, state_hash) SEP X(S, TEXT, tenant) SEP X(S, TEXT, binding_hash) SEP              \
    X(S, SECRET, nonce) SEP X(S, SECRET, verifier) SEP X(S, TEXT, return_to) SEP                \
    X(S, I64, created_ms) SEP X(S, I64, expires_ms)

#define STORE_SSO_USER_COLUMNS(X, S, SEP)                                                      \
    X(S, TEXT, tenant) SEP X(S, TEXT, id) SEP X(S, TEXT, email) SEP X(S, TEXT, name) SEP        \
    X(S, TEXT, role) SEP X(S, TEXT, org_unit) SEP X(S, TEXT, team) SEP X(S, TEXT, groups) SEP   \
    X(S, BOOL, disabled) SEP X(S, I64, created_ms) SEP X(S, I64, last_login_ms)

/* The first nine are what an insert carries; the last two come back from consume. */
#define STORE_CLI_CODE_COLUMNS(X, S, SEP)                                                      \
    X(S, TEXT, code_hash) SEP X(S, TEXT, tenant) SEP X(S, TEXT, user_id) SEP                    \
    X(S, TEXT, identity) SEP X(S, TEXT, browser_session) SEP X(S, TEXT, challenge) SEP          \
    X(S, TEXT, redirect_uri) SEP X(S, I64, created_ms) SEP X(S, I64, expires_ms) SEP            \
    X(S, I64, consumed_ms) SEP X(S, TEXT, cli_session)
#define STORE_CLI_CODE_INSERT_COLS 9

#define STORE_MODEL_PROVIDER_COLUMNS(X, S, SEP)                                                \
    X(S, TEXT, tenant) SEP X(S, TEXT, name) SEP X(S, TEXT, spec) SEP X(S, SECRET, api_key) SEP  \
    X(S, BOOL, enabled) SEP X(S, TEXT, created_by) SEP X(S, I64, created_ms) SEP                \
    X(S, TEXT, updated_by) SEP X(S, I64, updated_ms)

#define STORE_MODEL_ENTRY_COLUMNS(X, S, SEP)                                                   \
    X(S, TEXT, tenant) SEP X(S, TEXT, provider) SEP X(S, TEXT, name) SEP                        \
    X(S, TEXT, upstream) SEP X(S, REAL, input_per_mtok) SEP X(S, REAL, output_per_mtok) SEP     \
    X(S, BOOL, enabled) SEP X(S, TEXT, created_by) SEP X(S, I64, created_ms) SEP                \
    X(S, TEXT, updated_by) SEP X(S, I64, updated_ms)

#define STORE_MEMORY_DOC_COLUMNS(X, S, SEP)                                                    \
    X(S, TEXT, name) SEP X(S, TEXT, content) SEP X(S, I64, updated_ms)

#define STORE_AGENT_MODEL_COLUMNS(X, S, SEP)                                                   \
    X(S, TEXT, tenant) SEP X(S, TEXT, agent) SEP X(S, TEXT, model) SEP X(S, TEXT, set_by) SEP   \
    X(S, I64, set_ms)
/* clang-format on */

/* Defined beside the dispatch of their domain (store_<domain>.c). */
extern const struct store_cols store_str_cols; /* one string: a char * row */
extern const struct store_cols store_token_cols, store_agent_cols, store_message_cols;
extern const struct store_cols store_audit_row_cols, store_checkpoint_cols;
extern const struct store_cols store_audit_node_cols, store_audit_hash_cols, store_audit_key_cols;
extern const struct store_cols store_policy_version_cols, store_approval_cols;
extern const struct store_cols store_usage_row_cols, store_usage_sum_cols;
extern const struct store_cols store_session_cols, store_login_state_cols;
extern const struct store_cols store_sso_user_cols, store_cli_code_cols;
extern const struct store_cols store_grant_cols;
extern const struct store_cols store_conversation_cols, store_conversation_message_cols;
extern const struct store_cols store_model_provider_cols, store_model_entry_cols;
extern const struct store_cols store_agent_model_cols;
extern const struct store_cols store_memory_doc_cols;

/* A memory document as the backends read and write it (store_memory.h). */
struct store_memory_doc {
    char *name; /* the key of store_memory.h */
    char *content;
    int64_t updated_ms;
};

/* Frees the TEXT and SECRET fields of row (wiping SECRET ones) and zeroes it; NULL is a no-op. */
void store_row_release(const struct store_cols *c, void *row);
/* Releases n rows of a malloc'd array, then the array. */
void store_rows_free(const struct store_cols *c, void *rows, size_t n);

/* An org unit filter as three parameters, in owned[0..2] (malloc'd; NULL when ou is NULL): the
 * unit without trailing '/', then the bounds of its subtree ("ou/" <= x < "ou0": '0' follows
 * '/'), for "x = ?1 OR (x >= ?2 AND x < ?3)" under a bytewise collation. */
void store_org_subtree(const char *ou, char *owned[3]);

/* For the dispatch: check an out-parameter and clear it; false when it is NULL. A row: */
#define STORE_OUT_ROW(out) ((out) && (memset((out), 0, sizeof(*(out))), true))
/* An (array, count) pair: */
#define STORE_OUT_LIST(out, n) ((out) && (n) && ((*(out) = NULL), (*(n) = 0), true))

/* --- per-domain operations: what a backend implements ------------------------------------- */

/* The arguments have been checked by store_<domain>.c; out-parameters are zeroed there. */

struct store_token_ops {
    gw_err (*insert)(struct store *st, const struct store_token *t);
    gw_err (*set_hash)(struct store *st, const char *tenant, const char *id, const char *hash);
    gw_err (*revoke)(struct store *st, const char *tenant, const char *id, int64_t ms);
    gw_err (*touch)(struct store *st, const char *tenant, const char *id, int64_t ms);
    gw_err (*list)(struct store *st, struct store_token **out, size_t *n);
};

struct store_agent_ops {
    gw_err (*agent_insert)(struct store *st, const struct store_agent *a);
    gw_err (*agent_list)(struct store *st, struct store_agent **out, size_t *n);
    gw_err (*agent_delete)(struct store *st, const char *tenant, const char *name);
    gw_err (*message_insert)(struct store *st, const struct store_message *m);
    gw_err (*message_list)(struct store *st, const char *tenant, const char *channel,
                           int64_t before_ms, const char *before_id, size_t limit,
                           struct store_message **out, size_t *n);
    gw_err (*conversation_open)(struct store *st, const struct store_conversation *c,
                                int64_t now_ms, char *id);
    gw_err (*conversation_append)(struct store *st, const char *id, const char *const *messages,
                                  size_t n, int64_t now_ms);
    gw_err (*conversation_tail)(struct store *st, const char *id, size_t max, char ***messages,
                                size_t *n);
    gw_err (*conversation_list)(struct store *st, const struct store_conversation_filter *f,
                                size_t limit, struct store_conversation **out, size_t *n);
    gw_err (*conversation_get)(struct store *st, const char *tenant, const char *id,
                               struct store_conversation *out);
    gw_err (*conversation_messages)(struct store *st, const char *id, int64_t after_seq,
                                    size_t limit, struct store_conversation_message **out,
                                    size_t *n);
    gw_err (*conversation_delete)(struct store *st, const char *tenant, const char *id,
                                  int64_t *messages);
};

struct store_audit_ops {
    gw_err (*commit)(struct store *st, const struct store_audit_commit *c);
    gw_err (*head)(struct store *st, const char *tenant, int64_t *seq, char **hash);
    gw_err (*tenants)(struct store *st, char ***out, size_t *n);
    gw_err (*query)(struct store *st, const struct store_audit_filter *f, size_t limit,
                    struct store_audit_row **out, size_t *n);
    gw_err (*scan)(struct store *st, const struct store_audit_filter *f, store_audit_row_fn *fn,
                   void *ctx);
    gw_err (*checkpoint_insert)(struct store *st, const struct store_audit_checkpoint *c);
    gw_err (*checkpoint_latest)(struct store *st, const char *tenant,
                                struct store_audit_checkpoint *out);
    gw_err (*checkpoint_list)(struct store *st, const char *tenant,
                              struct store_audit_checkpoint **out, size_t *n);
    gw_err (*checkpoint_page)(struct store *st, const char *tenant, int64_t after_seq, size_t limit,
                              struct store_audit_checkpoint **out, size_t *n);
    gw_err (*hashes)(struct store *st, const char *tenant, int64_t first, size_t count,
                     struct store_audit_hash **out, size_t *n);
    gw_err (*nodes)(struct store *st, const char *tenant, int level, int64_t first, size_t count,
                    struct store_audit_hash **out, size_t *n);
    gw_err (*key_insert)(struct store *st, const struct store_audit_key *k);
    gw_err (*key_list)(struct store *st, struct store_audit_key **out, size_t *n);
    gw_err (*cursor_get)(struct store *st, const char *dest, const char *tenant, int64_t *seq);
    gw_err (*cursor_set)(struct store *st, const char *dest, const char *tenant, int64_t seq,
                         int64_t now_ms);
};

struct store_policy_ops {
    gw_err (*insert)(struct store *st, const char *tenant, const char *id, int64_t version,
                     const char *record_json);
    gw_err (*list)(struct store *st, struct store_policy_version **out, size_t *n);
};

struct store_approval_ops {
    gw_err (*insert)(struct store *st, const struct store_approval *a);
    gw_err (*get)(struct store *st, const char *tenant, const char *id, struct store_approval *out);
    gw_err (*transition)(struct store *st, const char *tenant, const char *id,
                         const struct store_approval_change *ch);
    gw_err (*list)(struct store *st, const char *tenant, const char *status, size_t limit,
                   struct store_approval **out, size_t *n);
    gw_err (*due)(struct store *st, int64_t now_ms, size_t limit, struct store_approval **out,
                  size_t *n);
};

struct store_usage_ops {
    gw_err (*append)(struct store *st, const struct store_usage_row *rows, size_t n);
    gw_err (*month)(struct store *st, const char *tenant, const char *month, const char *workspace,
                    struct store_usage_sum **out, size_t *n);
    gw_err (*budget_alert_insert)(struct store *st, const char *tenant, const char *workspace,
                                  const char *month, const char *kind, int64_t sent_at_ms,
                                  bool *inserted);
};

struct store_sso_ops {
    gw_err (*session_insert)(struct store *st, const struct store_session *s);
    gw_err (*session_get)(struct store *st, const char *hash, struct store_session *out);
    gw_err (*session_touch)(struct store *st, const char *hash, int64_t ms);
    gw_err (*session_delete)(struct store *st, const char *tenant, const char *id, char **user_id);
    gw_err (*session_delete_user)(struct store *st, const char *tenant, const char *user_id,
                                  size_t *n);
    gw_err (*session_list)(struct store *st, const char *tenant, const char *user_id, size_t limit,
                           struct store_session **out, size_t *n);
    gw_err (*purge)(struct store *st, int64_t now_ms, int64_t idle_before_ms);
    gw_err (*login_state_insert)(struct store *st, const struct store_login_state *s);
    gw_err (*login_state_consume)(struct store *st, const char *state_hash, int64_t now_ms,
                                  struct store_login_state *out);
    gw_err (*login_state_count)(struct store *st, const char *binding_hash, int64_t since_ms,
                                size_t *n);
    gw_err (*saml_assertion_use)(struct store *st, const char *tenant, const char *id_hash,
                                 int64_t expires_ms);
    gw_err (*session_delete_saml)(struct store *st, const char *tenant, const char *name_id,
                                  const char *session_index, size_t *n, char **user);
    gw_err (*sso_user_upsert)(struct store *st, const struct store_sso_user *u);
    gw_err (*sso_user_get)(struct store *st, const char *tenant, const char *id,
                           struct store_sso_user *out);
};

struct store_grant_ops {
    gw_err (*list)(struct store *st, struct store_grant **out, size_t *n);
    gw_err (*insert)(struct store *st, const struct store_grant *g);
    gw_err (*remove)(struct store *st, const char *tenant, const char *ns, const char *kind,
                     const char *value);
};

struct store_cli_ops {
    gw_err (*code_insert)(struct store *st, const struct store_cli_code *c);
    gw_err (*code_consume)(struct store *st, const char *code_hash, int64_t now_ms,
                           struct store_cli_code *out);
    gw_err (*code_link)(struct store *st, const char *code_hash, const char *session_id);
    gw_err (*refresh_find)(struct store *st, const char *refresh_hash, struct store_session *out);
    gw_err (*rotate)(struct store *st, const struct store_cli_rotation *r);
    gw_err (*purge)(struct store *st, int64_t now_ms);
};

struct store_model_ops {
    gw_err (*provider_list)(struct store *st, struct store_model_provider **out, size_t *n);
    gw_err (*provider_insert)(struct store *st, const struct store_model_provider *p,
                              const struct store_model_entry *models, size_t n);
    gw_err (*provider_update)(struct store *st, const struct store_model_provider *p);
    gw_err (*provider_delete)(struct store *st, const char *tenant, const char *name);
    gw_err (*entry_list)(struct store *st, struct store_model_entry **out, size_t *n);
    gw_err (*entry_insert)(struct store *st, const struct store_model_entry *m);
    gw_err (*entry_update)(struct store *st, const struct store_model_entry *m);
    gw_err (*entry_delete)(struct store *st, const char *tenant, const char *provider,
                           const char *name);
    gw_err (*agent_list)(struct store *st, struct store_agent_model **out, size_t *n);
    gw_err (*agent_put)(struct store *st, const struct store_agent_model *a);
    gw_err (*agent_delete)(struct store *st, const char *tenant, const char *agent);
};

struct store_memory_ops {
    gw_err (*get)(struct store *st, const char *key, struct store_memory_doc *out);
    gw_err (*put)(struct store *st, const struct store_memory_doc *doc);
    gw_err (*remove)(struct store *st, const char *key);
};

/* A backend: the connection-level operations, then one table per domain. */
/* A lease (store_lease.h): a backend's lease struct begins with this; store_lease.c fills it
 * after open and frees the whole allocation after close. */
struct store_lease {
    struct store *st;
    char *name, *node_id;
};

/* Leases; NULL: one process owns the store, every lease is held. */
struct store_lease_ops {
    gw_err (*open)(struct store *st, const char *name, const char *node_id,
                   struct store_lease **out);
    gw_err (*hold)(struct store_lease *l, bool *held);
    gw_err (*cursor_set)(struct store_lease *l, const char *tenant, int64_t seq, int64_t now_ms);
    gw_err (*holder)(struct store *st, const char *name, char **node_id);
    void (*close)(struct store_lease *l);
};

struct store_ops {
    const char *name;
    void (*close)(struct store *st);
    gw_err (*ping)(struct store *st);
    int (*schema_version)(struct store *st);
    gw_err (*meta_get)(struct store *st, const char *key, char **value);
    gw_err (*meta_put)(struct store *st, const char *key, const char *value);

    const struct store_token_ops *tokens;
    const struct store_agent_ops *agents;
    const struct store_audit_ops *audit;
    const struct store_policy_ops *policies;
    const struct store_approval_ops *approvals;
    const struct store_usage_ops *usage;
    const struct store_sso_ops *sso;
    const struct store_cli_ops *cli;
    const struct store_grant_ops *grants;
    const struct store_model_ops *models;
    const struct store_memory_ops *memory;
    const struct store_lease_ops *lease;
};

struct store {
    const struct store_ops *ops;
};

/* Number of rows per page in store_audit_scan. */
#define STORE_SCAN_PAGE 1000

/* --- audit reads, shared by the backends (store_audit_sql.c) ------------------------------- */

#define STORE_AUDIT_SQL_MAX_ARGS 24
#define STORE_AUDIT_SQL_MAX_OWNED 8

/* A parameter: text (borrowed from the filter or owned by the query) or an integer. */
struct store_audit_sql_arg {
    bool text;
    const char *s;
    int64_t i;
};

/* The SELECT of a filtered read: SQL text with placeholders only, and its parameters. */
struct store_audit_sql {
    bool dollar; /* set by the caller: "$1, $2 ..." (PostgreSQL) rather than "?" */
    char sql[2048];
    size_t len;
    bool overflow;
    size_t nargs;
    struct store_audit_sql_arg args[STORE_AUDIT_SQL_MAX_ARGS];
    int nowned;
    char *owned[STORE_AUDIT_SQL_MAX_OWNED];
};

/* The rows of f after seq `after` (when after > 0 or force_after: the scan's cursor) and
 * below f->before_seq, newest first when descending, at most limit. */
void store_audit_sql_select(struct store_audit_sql *q, const struct store_audit_filter *f,
                            int64_t after, bool force_after, bool descending, int64_t limit);
/* GW_OK, or (released, logged) GW_EINTERNAL when the statement did not fit. */
gw_err store_audit_sql_check(struct store_audit_sql *q);
void store_audit_sql_release(struct store_audit_sql *q);

/* One page of a scan: the rows of f after cursor, ascending, at most STORE_SCAN_PAGE. */
typedef gw_err store_audit_page_fn(struct store *st, const struct store_audit_filter *f,
                                   int64_t cursor, bool force_after, struct store_audit_row **out,
                                   size_t *n);
/* store_audit_scan on top of a backend's page reader. */
gw_err store_audit_scan_pages(struct store *st, const struct store_audit_filter *f,
                              store_audit_row_fn *fn, void *ctx, store_audit_page_fn *page);

/* --- backends ----------------------------------------------------------------------------- */

/* SQLite (src/store/sqlite/): opens <data_dir>/gateway.db. */
gw_err store_sqlite_open(const char *data_dir, struct store **out);
/* Highest schema version this binary knows. */
int store_sqlite_latest_version(void);
/* Number of entries in the migration table. */
size_t store_sqlite_migration_count(void);

/* PostgreSQL (src/store/pg/): a pool of connections to o->url. */
gw_err store_pg_open(const struct store_options *o, struct store **out);
/* Highest schema version this binary knows (the same numbers as SQLite's). */
int store_pg_latest_version(void);
size_t store_pg_migration_count(void);

#endif
