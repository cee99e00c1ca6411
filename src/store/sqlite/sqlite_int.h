/* SPDX-License-Identifier: MIT
 * sqlite_int.h — private to src/store/sqlite: the SQLite backend's connections, its statement
 * cache and the row plumbing every domain file shares. The only header that includes
 * <sqlite3.h>.
 *
 * A domain file (sqlite_tokens.c, sqlite_audit.c, ...) writes its SQL and describes each
 * operation as a struct store_sqlite_call: the statement, a row bound through its column list
 * (store_int.h) and/or loose arguments. store_sqlite_write, _get and _list then lock, bind,
 * step, read, grow, log, reset and unlock in one place for all of them. Only placeholders appear
 * in SQL text; errors are logged with sqlite3_errmsg only (it never contains bound values).
 */
#ifndef GW_STORE_SQLITE_INT_H
#define GW_STORE_SQLITE_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <sys/types.h>

/* Prepared statements kept per connection (a power of two, above the number of SQL texts). */
#define STORE_SQLITE_CACHE 256

/* A connection, its mutex and its statements, prepared on first use (SQLITE_PREPARE_PERSISTENT)
 * and keyed by the address of their static SQL text. */
struct store_sqlite_conn {
    pthread_mutex_t mu;
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *q;
    } cache[STORE_SQLITE_CACHE];
};

/* Two connections to one WAL file: "main" serves every API operation; "writer" only the audit
 * writer's and the costs writer's batches, so group commits never queue behind API reads. */
struct store_sqlite {
    struct store base; /* first: struct store * <-> struct store_sqlite * */
    char *path;
    dev_t dev;
    ino_t ino;
    int version;
    struct store_sqlite_conn main;
    struct store_sqlite_conn writer;
};

static inline struct store_sqlite *store_sqlite_of(struct store *st)
{
    return (struct store_sqlite *)st;
}

/* A parameter for the next ?N: text (NULL binds SQL NULL) or an integer. */
struct store_sqlite_arg {
    bool text;
    const char *s;
    int64_t i;
};
#define SQ_TEXT(v) ((struct store_sqlite_arg){.text = true, .s = (v)})
#define SQ_I64(v) ((struct store_sqlite_arg){.i = (v)})
#define SQ_ARGS(...)                                                                               \
    .args = (const struct store_sqlite_arg[]){__VA_ARGS__},                                        \
    .nargs = GW_ARRAY_LEN(((const struct store_sqlite_arg[]){__VA_ARGS__}))

/* One execution of a cached statement: ?1.. take the row's first columns, then the args. */
struct store_sqlite_call {
    const char *sql;               /* static text: the cache keys on its address */
    const char *what;              /* names the operation in log lines */
    const struct store_cols *cols; /* optional: bind these columns of row */
    const void *row;
    size_t ncols;                        /* how many of them; 0: all */
    const struct store_sqlite_arg *args; /* then these */
    size_t nargs;
    bool conflict; /* a PRIMARY KEY/UNIQUE violation is GW_ECONFLICT */
};
#define SQ_CALL(...) (&(const struct store_sqlite_call){__VA_ARGS__})

/* --- sqlite_stmt.c: the plumbing ---------------------------------------------------------- */

extern const struct store_cols store_sqlite_i64_cols; /* one integer: an int64_t row */

void store_sqlite_lock(struct store_sqlite_conn *c);
void store_sqlite_unlock(struct store_sqlite_conn *c);
/* Logs "store: <what>: <sqlite3_errmsg>" and returns GW_ESTORE. */
gw_err store_sqlite_fail(sqlite3 *db, const char *what);
/* sqlite3_exec with the same logging (for fixed SQL without parameters). */
gw_err store_sqlite_exec(sqlite3 *db, const char *sql, const char *what);

/* With c locked by the caller. run: steps a write to its end (*changes: rows changed, may be
 * NULL). run_get: reads the first row into row (GW_ENOTFOUND when there is none). run_list:
 * reads every row into a malloc'd array of cols rows; out points to the caller's array
 * pointer (e.g. struct store_token **), which stays untouched on failure. */
gw_err store_sqlite_run(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                        int *changes);
gw_err store_sqlite_run_get(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                            const struct store_cols *cols, void *row);
gw_err store_sqlite_run_list(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                             const struct store_cols *cols, void *out, size_t *n);
/* BEGIN IMMEDIATE; end: COMMIT when rc is GW_OK (a failed COMMIT becomes the result), and
 * ROLLBACK whenever the result is not GW_OK. */
gw_err store_sqlite_begin(struct store_sqlite_conn *c, const char *what);
gw_err store_sqlite_end(struct store_sqlite_conn *c, gw_err rc, const char *what);

/* The same three on the main connection, locking it around the call. */
gw_err store_sqlite_write(struct store *st, const struct store_sqlite_call *call, int *changes);
gw_err store_sqlite_get(struct store *st, const struct store_sqlite_call *call,
                        const struct store_cols *cols, void *row);
gw_err store_sqlite_list(struct store *st, const struct store_sqlite_call *call,
                         const struct store_cols *cols, void *out, size_t *n);

/* Single use, atomically (one BEGIN IMMEDIATE on the main connection): reads the row of find
 * into row (GW_ENOTFOUND when none), then runs mark; when must_change, mark changing no row
 * fails it all. row is released on failure. */
gw_err store_sqlite_consume(struct store *st, const struct store_sqlite_call *find,
                            const struct store_cols *cols, void *row,
                            const struct store_sqlite_call *mark, bool must_change);
/* Inserts row (every column of cols) on the main connection; an existing key is GW_ECONFLICT. */
gw_err store_sqlite_insert(struct store *st, const char *sql, const char *what,
                           const struct store_cols *cols, const void *row);
/* Inserts n rows (an array of cols rows) with sql in one transaction on the writer connection:
 * all or nothing, fsynced when it returns GW_OK. */
gw_err store_sqlite_append(struct store *st, const char *sql, const char *what,
                           const struct store_cols *cols, const void *rows, size_t n);

/* For a statement the caller prepared itself (SQL built from a filter): binds args from ?first
 * on (non-zero: a bind failed), and collects its rows like run_list. */
int store_sqlite_bind_args(sqlite3_stmt *q, int first, const struct store_sqlite_arg *args,
                           size_t n);
gw_err store_sqlite_collect(sqlite3 *db, sqlite3_stmt *q, const char *what,
                            const struct store_cols *cols, void *out, size_t *n);

/* --- sqlite_migrations.c ------------------------------------------------------------------ */

/* Creates schema_migrations if needed, refuses a database newer than the binary (GW_ESTORE with
 * a clear log line), then applies every pending migration in its own IMMEDIATE transaction.
 * *version receives the schema version afterwards. */
gw_err store_sqlite_migrate(sqlite3 *db, int *version);

/* --- one file per domain ------------------------------------------------------------------ */

extern const struct store_token_ops store_sqlite_token_ops;       /* sqlite_tokens.c */
extern const struct store_agent_ops store_sqlite_agent_ops;       /* sqlite_agents.c */
extern const struct store_audit_ops store_sqlite_audit_ops;       /* sqlite_audit.c */
extern const struct store_policy_ops store_sqlite_policy_ops;     /* sqlite_policies.c */
extern const struct store_approval_ops store_sqlite_approval_ops; /* sqlite_approvals.c */
extern const struct store_usage_ops store_sqlite_usage_ops;       /* sqlite_usage.c */
extern const struct store_sso_ops store_sqlite_sso_ops;           /* sqlite_sso.c */
extern const struct store_cli_ops store_sqlite_cli_ops;           /* sqlite_cli.c */
extern const struct store_grant_ops store_sqlite_grant_ops;       /* sqlite_grants.c */
extern const struct store_model_ops store_sqlite_model_ops;       /* sqlite_models.c */
extern const struct store_memory_ops store_sqlite_memory_ops;     /* sqlite_memory.c */

#endif
