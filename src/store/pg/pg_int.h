/* SPDX-License-Identifier: MIT
 * pg_int.h — private to src/store/pg: the PostgreSQL backend's connection pool, its prepared
 * statements and the row plumbing every domain file shares. The only header that includes
 * <libpq-fe.h>.
 *
 * A domain file (pg_tokens.c, pg_audit.c, ...) writes its SQL with $n placeholders and
 * describes each operation as a struct store_pg_call, exactly like the SQLite backend:
 * store_pg_write, _get and _list take a pooled connection, prepare the statement once on it
 * (parameter types from the row's column list and the arguments), execute, read every result
 * row into a growing array, log and give the connection back. Failures are logged with the
 * SQLSTATE and the server's primary message only (never a value, never the URL); a broken
 * connection is reset when it is next taken from the pool.
 */
#ifndef GW_STORE_PG_INT_H
#define GW_STORE_PG_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store_int.h"

#include <libpq-fe.h>
#include <pthread.h>

/* Prepared statements kept per connection (a power of two, above the number of SQL texts). */
#define STORE_PG_CACHE 256
/* Parameters of one statement at most. */
#define STORE_PG_MAX_PARAMS 32

/* One pooled connection and the statements prepared on it (named "s<slot>", keyed by the
 * address of their static SQL text; forgotten when the connection is reset). */
/* What a queued pipeline command answers: an execution, or the preparation of cache slot. */
struct store_pg_pending {
    bool prepare;
    bool conflict;
    size_t slot;
};

struct store_pg_conn {
    PGconn *pg;
    bool in_use;
    bool broken; /* reset before its next use */
    const char *cache[STORE_PG_CACHE];
    struct store_pg_pending *pending; /* a pipeline's queued commands, in order */
    size_t n_pending, cap_pending;
    bool pipe_failed; /* something could not be queued: the pipeline fails */
};

struct store_pg {
    struct store base; /* first: struct store * <-> struct store_pg * */
    char *url;         /* never logged: it may hold a password */
    int version;
    int connect_timeout_s;
    int statement_timeout_ms;
    int acquire_timeout_ms;
    pthread_mutex_t mu;  /* guards in_use of every connection, and down */
    bool down;           /* the last connection attempt failed (logged once) */
    int64_t down_try_ms; /* when it was made (monotonic) */
    pthread_cond_t freed;
    size_t n;
    struct store_pg_conn *conns;
};

static inline struct store_pg *store_pg_of(struct store *st)
{
    return (struct store_pg *)st;
}

/* A parameter for the next $n: text (NULL binds SQL NULL) or an integer (int8). */
struct store_pg_arg {
    bool text;
    const char *s;
    int64_t i;
};
#define PG_TEXT(v) ((struct store_pg_arg){.text = true, .s = (v)})
#define PG_I64(v) ((struct store_pg_arg){.i = (v)})
#define PG_ARGS(...)                                                                               \
    .args = (const struct store_pg_arg[]){__VA_ARGS__},                                            \
    .nargs = GW_ARRAY_LEN(((const struct store_pg_arg[]){__VA_ARGS__}))

/* One execution of a prepared statement: $1.. take the row's first columns, then the args. */
struct store_pg_call {
    const char *sql;               /* static text: the cache keys on its address */
    const char *what;              /* names the operation in log lines */
    const struct store_cols *cols; /* optional: bind these columns of row */
    const void *row;
    size_t ncols;                    /* how many of them; 0: all */
    const struct store_pg_arg *args; /* then these */
    size_t nargs;
    bool conflict; /* a unique violation is GW_ECONFLICT */
};
#define PG_CALL(...) (&(const struct store_pg_call){__VA_ARGS__})

/* SQLSTATE the schema's functions raise when a tenant's audit chain moved under a writer. */
#define STORE_PG_CHAIN_MOVED "GW409"

/* --- pg_pool.c: connections ---------------------------------------------------------------- */

/* Connects one libpq connection (the pool's settings, statement_timeout set); NULL when it
 * cannot, logged unless quiet (the caller already said the server is unreachable). */
PGconn *store_pg_connect(struct store_pg *s, const char *name, bool quiet);
/* A connection of the pool for this thread alone, healthy as far as a look at its socket
 * tells (reset when it was broken or the server hung up); NULL (logged) when none can be had
 * within the acquire timeout or the server cannot be reached. */
struct store_pg_conn *store_pg_acquire(struct store_pg *s, const char *what);
void store_pg_release(struct store_pg *s, struct store_pg_conn *c);

/* --- pg_stmt.c: the plumbing ---------------------------------------------------------------- */

extern const struct store_cols store_pg_i64_cols; /* one integer: an int64_t row */

/* Logs "store: <what>: <SQLSTATE> <primary message>" (or the connection's error) and returns
 * GW_ESTORE; marks c broken when the connection is gone. res may be NULL. */
gw_err store_pg_fail(struct store_pg_conn *c, const PGresult *res, const char *what);
/* Fixed SQL without parameters (simple protocol, several statements allowed). */
gw_err store_pg_exec(struct store_pg_conn *c, const char *sql, const char *what);

/* With c taken by the caller. run: executes (*changes: rows changed, may be NULL). run_get:
 * reads the first row into row (GW_ENOTFOUND when none). run_list: every row into a malloc'd
 * array of cols rows; out points to the caller's array pointer, untouched on failure. */
gw_err store_pg_run(struct store_pg_conn *c, const struct store_pg_call *call, int *changes);
gw_err store_pg_run_get(struct store_pg_conn *c, const struct store_pg_call *call,
                        const struct store_cols *cols, void *row);
gw_err store_pg_run_list(struct store_pg_conn *c, const struct store_pg_call *call,
                         const struct store_cols *cols, void *out, size_t *n);
/* BEGIN; end: COMMIT when rc is GW_OK (a failed COMMIT becomes the result), ROLLBACK else. */
gw_err store_pg_begin(struct store_pg_conn *c, const char *what);
gw_err store_pg_end(struct store_pg_conn *c, gw_err rc, const char *what);

/* The same three on a pooled connection taken and given back around the call. */
gw_err store_pg_write(struct store *st, const struct store_pg_call *call, int *changes);
gw_err store_pg_get(struct store *st, const struct store_pg_call *call,
                    const struct store_cols *cols, void *row);
gw_err store_pg_list(struct store *st, const struct store_pg_call *call,
                     const struct store_cols *cols, void *out, size_t *n);

/* Single use, atomically (one transaction): reads the row of find (which locks it: FOR
 * UPDATE) into row (GW_ENOTFOUND when none), then runs mark; when must_change, mark changing
 * no row fails it all. row is released on failure. */
gw_err store_pg_consume(struct store *st, const struct store_pg_call *find,
                        const struct store_cols *cols, void *row, const struct store_pg_call *mark,
                        bool must_change);
/* Inserts row (every column of cols); an existing key is GW_ECONFLICT. */
gw_err store_pg_insert(struct store *st, const char *sql, const char *what,
                       const struct store_cols *cols, const void *row);

/* A pipeline: calls queued and sent without waiting for their answers, then one Sync; the
 * statements between two syncs are one implicit transaction, so the batch commits (durably,
 * with synchronous_commit on) at the sync or not at all. One round trip per batch. */
gw_err store_pg_pipeline_begin(struct store_pg_conn *c, const char *what);
/* A call that cannot be queued fails the pipeline (its end returns the error). */
gw_err store_pg_pipeline_send(struct store_pg_conn *c, const struct store_pg_call *call);
/* Sends the sync and reads every answer; the first failure is the result (GW_ECONFLICT for a
 * unique violation of a call marked conflict, or STORE_PG_CHAIN_MOVED). */
gw_err store_pg_pipeline_end(struct store_pg_conn *c, const char *what);

/* Inserts n rows (an array of cols rows) with sql in one pipeline: all or nothing, durable
 * when it returns GW_OK. */
gw_err store_pg_append(struct store *st, const char *sql, const char *what,
                       const struct store_cols *cols, const void *rows, size_t n);

/* For SQL built at run time (audit filters): executes it unnamed with args as $1.. and
 * collects the rows. */
gw_err store_pg_query(struct store_pg_conn *c, const char *sql, const char *what,
                      const struct store_pg_arg *args, size_t nargs, const struct store_cols *cols,
                      void *out, size_t *n);

/* --- pg_migrations.c ----------------------------------------------------------------------- */

/* Applies every pending migration under a session advisory lock (other nodes opening the same
 * database wait for it, then find nothing to do), each in its own transaction with its
 * schema_migrations row; refuses a database newer than the binary. *version: afterwards. */
gw_err store_pg_migrate(struct store_pg_conn *c, int *version);

/* --- one file per domain ------------------------------------------------------------------- */

extern const struct store_token_ops store_pg_token_ops;       /* pg_tokens.c */
extern const struct store_agent_ops store_pg_agent_ops;       /* pg_agents.c */
extern const struct store_audit_ops store_pg_audit_ops;       /* pg_audit.c */
extern const struct store_policy_ops store_pg_policy_ops;     /* pg_policies.c */
extern const struct store_approval_ops store_pg_approval_ops; /* pg_approvals.c */
extern const struct store_usage_ops store_pg_usage_ops;       /* pg_usage.c */
extern const struct store_sso_ops store_pg_sso_ops;           /* pg_sso.c */
extern const struct store_cli_ops store_pg_cli_ops;           /* pg_cli.c */
extern const struct store_grant_ops store_pg_grant_ops;       /* pg_grants.c */
extern const struct store_model_ops store_pg_model_ops;       /* pg_models.c */
extern const struct store_memory_ops store_pg_memory_ops;     /* pg_memory.c */
extern const struct store_lease_ops store_pg_lease_ops;       /* pg_lease.c */

#endif
