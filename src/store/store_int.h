/* SPDX-License-Identifier: MIT
 * store_int.h — private to src/store: the backend vtable and the migration runner.
 *
 * store.c owns the public functions of store.h: it validates arguments that do not depend on
 * the backend and dispatches through st->ops. A backend embeds struct store as the first member
 * of its own struct and fills a const struct store_ops. The *_release / *_free functions are
 * backend independent and live in store.c.
 */
#ifndef GW_STORE_INT_H
#define GW_STORE_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store.h"

#include <sqlite3.h>

/* Single sign-on operations (store_sso.c dispatches, store_sqlite_sso.c implements). */
struct store_sso_ops {
    gw_err (*session_insert)(struct store *st, const struct store_session *s);
    gw_err (*session_get)(struct store *st, const char *hash, struct store_session *out);
    gw_err (*session_touch)(struct store *st, const char *hash, int64_t ms);
    gw_err (*session_delete)(struct store *st, const char *tenant, const char *id,
                             char **user_id);
    gw_err (*session_delete_user)(struct store *st, const char *tenant, const char *user_id,
                                  size_t *n);
    gw_err (*session_list)(struct store *st, const char *tenant, const char *user_id,
                           size_t limit, struct store_session **out, size_t *n);
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

/* CLI sign-in operations (store_cli.c dispatches, store_sqlite_cli.c implements). */
struct store_cli_ops {
    gw_err (*code_insert)(struct store *st, const struct store_cli_code *c);
    gw_err (*code_consume)(struct store *st, const char *code_hash, int64_t now_ms,
                           struct store_cli_code *out);
    gw_err (*code_link)(struct store *st, const char *code_hash, const char *session_id);
    gw_err (*refresh_find)(struct store *st, const char *refresh_hash,
                           struct store_session *out);
    gw_err (*rotate)(struct store *st, const struct store_cli_rotation *r);
    gw_err (*purge)(struct store *st, int64_t now_ms);
};

/* Namespace grants (store_grants.c dispatches, store_sqlite_grants.c implements). */
struct store_grant_ops {
    gw_err (*list)(struct store *st, struct store_grant **out, size_t *n);
    gw_err (*insert)(struct store *st, const struct store_grant *g);
    gw_err (*remove)(struct store *st, const char *tenant, const char *ns, const char *kind,
                     const char *value);
};

struct store_ops {
    const char *name;
    const struct store_sso_ops *sso;
    const struct store_cli_ops *cli;
    const struct store_grant_ops *grants;
    void (*close)(struct store *st);
    gw_err (*ping)(struct store *st);
    int (*schema_version)(struct store *st);

    gw_err (*meta_get)(struct store *st, const char *key, char **value);
    gw_err (*meta_put)(struct store *st, const char *key, const char *value);

    gw_err (*token_insert)(struct store *st, const struct store_token *t);
    gw_err (*token_set_hash)(struct store *st, const char *tenant, const char *id,
                             const char *hash);
    gw_err (*token_revoke)(struct store *st, const char *tenant, const char *id, int64_t ms);
    gw_err (*token_touch)(struct store *st, const char *tenant, const char *id, int64_t ms);
    gw_err (*token_list)(struct store *st, struct store_token **out, size_t *n);

    gw_err (*agent_insert)(struct store *st, const struct store_agent *a);
    gw_err (*agent_list)(struct store *st, struct store_agent **out, size_t *n);
    gw_err (*agent_delete)(struct store *st, const char *tenant, const char *name);

    gw_err (*message_insert)(struct store *st, const struct store_message *m);

    gw_err (*audit_append)(struct store *st, const struct audit_row *rows, size_t n);
    gw_err (*audit_head)(struct store *st, const char *tenant, int64_t *seq, char **hash);
    gw_err (*audit_tenants)(struct store *st, char ***out, size_t *n);
    gw_err (*audit_query)(struct store *st, const struct audit_filter *f, size_t limit,
                          struct audit_row **out, size_t *n);
    gw_err (*audit_scan)(struct store *st, const struct audit_filter *f,
                         store_audit_row_fn *fn, void *ctx);

    gw_err (*checkpoint_insert)(struct store *st, const struct audit_checkpoint *c);
    gw_err (*checkpoint_latest)(struct store *st, const char *tenant,
                                struct audit_checkpoint *out);
    gw_err (*checkpoint_list)(struct store *st, const char *tenant,
                              struct audit_checkpoint **out, size_t *n);

    gw_err (*policy_insert)(struct store *st, const char *tenant, const char *id,
                            int64_t version, const char *record_json);
    gw_err (*policy_list)(struct store *st, struct store_policy_version **out, size_t *n);

    gw_err (*approval_insert)(struct store *st, const struct store_approval *a);
    gw_err (*approval_get)(struct store *st, const char *tenant, const char *id,
                           struct store_approval *out);
    gw_err (*approval_transition)(struct store *st, const char *tenant, const char *id,
                                  const struct store_approval_change *ch);
    gw_err (*approval_list)(struct store *st, const char *tenant, const char *status,
                            size_t limit, struct store_approval **out, size_t *n);
    gw_err (*approval_due)(struct store *st, int64_t now_ms, size_t limit,
                           struct store_approval **out, size_t *n);

    gw_err (*conversation_open)(struct store *st, const char *tenant, const char *user,
                                const char *channel, const char *session, int64_t now_ms,
                                char *id);
    gw_err (*conversation_append)(struct store *st, const char *id,
                                  const char *const *messages, size_t n, int64_t now_ms);
    gw_err (*conversation_tail)(struct store *st, const char *id, size_t max,
                                char ***messages, size_t *n);

    gw_err (*usage_append)(struct store *st, const struct store_usage_row *rows, size_t n);
    gw_err (*usage_month)(struct store *st, const char *tenant, const char *month,
                          const char *workspace, struct store_usage_sum **out, size_t *n);
    gw_err (*budget_alert_insert)(struct store *st, const char *tenant, const char *workspace,
                                  const char *month, const char *kind, int64_t sent_at_ms,
                                  bool *inserted);
};

struct store {
    const struct store_ops *ops;
};

/* Number of rows per page in store_audit_scan. */
#define STORE_SCAN_PAGE 1000

/* --- SQLite backend (store_sqlite.c) --------------------------------------------------- */

gw_err store_sqlite_open(const char *data_dir, struct store **out);
/* The main connection, locked (for the operations kept in other files); unlock when done. */
sqlite3 *store_sqlite_main_lock(struct store *st);
void store_sqlite_main_unlock(struct store *st);
extern const struct store_sso_ops store_sqlite_sso_ops;
extern const struct store_cli_ops store_sqlite_cli_ops;
extern const struct store_grant_ops store_sqlite_grant_ops;

/* --- SQLite migrations (store_migrations.c) -------------------------------------------- */

/* Highest schema version this binary knows. */
int store_sqlite_latest_version(void);
/* Number of entries in the migration table. */
size_t store_sqlite_migration_count(void);
/* Creates schema_migrations if needed, refuses a database newer than the binary (GW_ESTORE with
 * a clear log line), then applies every pending migration in its own IMMEDIATE transaction.
 * *version receives the schema version afterwards. */
gw_err store_sqlite_migrate(sqlite3 *db, int *version);

#endif
