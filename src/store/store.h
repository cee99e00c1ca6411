/* SPDX-License-Identifier: MIT
 * store.h — the gateway's persistent state behind one interface (the umbrella header).
 *
 * Callers see domain operations only, one header per domain (included below): tokens,
 * agents (with channel messages and conversations), the audit trail's rows and checkpoints,
 * policy versions, the approval queue, usage metering, single sign-on, the CLI sign-in,
 * namespace grants and the model providers and models added at run time.
 * Every SQL statement and dialect detail stays inside src/store. The embedded backend is SQLite
 * in WAL mode (src/store/sqlite/); the cluster backend (PostgreSQL, src/store/pg/) fills the same
 * per-domain ops tables (store_int.h) without touching callers. Migrations are versioned and
 * applied at open. src/store/README.md says how the folder is laid out.
 *
 * Threading: every function is safe to call from any thread. The audit writer owns a second
 * connection (store_audit_append) so group commits never wait behind API reads.
 * Strings returned in structs are malloc'd and released with the matching *_release function.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include "base/prelude.h"
#include "base/err.h"

#include "store/store_agents.h"
#include "store/store_approvals.h"
#include "store/store_audit.h"
#include "store/store_cli.h"
#include "store/store_grants.h"
#include "store/store_lease.h"
#include "store/store_memory.h"
#include "store/store_models.h"
#include "store/store_policies.h"
#include "store/store_sso.h"
#include "store/store_tokens.h"
#include "store/store_usage.h"

struct store;

/* --- lifecycle ------------------------------------------------------------------------- */

/* Which backend and how to reach it (gateway.yaml's store section, docs/CONFIG.md). */
struct store_options {
    const char *backend;      /* "sqlite" (NULL too) or "postgresql" */
    const char *url;          /* postgresql: a libpq URI or key=value string; never logged */
    int pool_size;            /* postgresql connections; 0: STORE_DEFAULT_POOL_SIZE */
    int connect_timeout_s;    /* 0: STORE_DEFAULT_CONNECT_TIMEOUT_S */
    int statement_timeout_ms; /* 0: STORE_DEFAULT_STATEMENT_TIMEOUT_MS */
    int acquire_timeout_ms;   /* waiting for a free connection; 0: the statement timeout */
};
#define STORE_DEFAULT_POOL_SIZE 8
#define STORE_DEFAULT_CONNECT_TIMEOUT_S 5
#define STORE_DEFAULT_STATEMENT_TIMEOUT_MS 30000

/* Opens (creating if needed) <data_dir>/gateway.db and applies pending migrations. */
gw_err store_open(const char *data_dir, struct store **out);
/* Opens the backend o names (NULL: SQLite in data_dir) and applies pending migrations; with
 * PostgreSQL, nodes opening one database at once apply them once (the others wait). */
gw_err store_open_with(const char *data_dir, const struct store_options *o, struct store **out);
/* "sqlite" or "postgresql". */
const char *store_backend(const struct store *st);
void store_close(struct store *st);
/* Cheap liveness query for /readyz. */
gw_err store_ping(struct store *st);
/* Schema version after migrations (for status). */
int store_schema_version(struct store *st);

/* --- small key/value metadata (e.g. "bootstrap_done") -------------------------------- */

/* *value is malloc'd; GW_ENOTFOUND when absent. */
gw_err store_meta_get(struct store *st, const char *key, char **value);
gw_err store_meta_put(struct store *st, const char *key, const char *value);

/* Frees a malloc'd array of malloc'd strings (conversation tails, tenant lists). */
void store_strv_free(char **v, size_t n);

#endif
