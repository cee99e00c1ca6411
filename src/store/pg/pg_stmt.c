/* SPDX-License-Identifier: MIT
 * pg_stmt.c — the PostgreSQL backend's prepared statements and its one row reader.
 *
 * Every operation of every domain goes through here: prepare the statement of a static SQL
 * text once per connection (parameter types taken from the row's column list and the loose
 * arguments, so the server never guesses them), bind by the same list, execute in text format,
 * read each result row into a growing array by the caller's list. Failures are logged with the
 * SQLSTATE and the primary message (never DETAIL, which quotes key values); a unique violation
 * is GW_ECONFLICT where the call asks for it. Pipelines queue several executions and one Sync:
 * one round trip and one implicit transaction for a batch.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/pg/pg_int.h"

#include <errno.h>
#include <inttypes.h>

/* Type OIDs of the parameters we bind (pg_type.h is a server header). */
#define OID_INT8 20
#define OID_INT4 23
#define OID_TEXT 25
#define OID_FLOAT8 701

#define SQLSTATE_UNIQUE "23505"
#define STMT_NAME_MAX 24 /* "s" and a slot number */

static const struct store_col i64_col[] = {{"value", STORE_COL_I64, 0}};
const struct store_cols store_pg_i64_cols = {sizeof(int64_t), 1, i64_col};

/* --- failures ------------------------------------------------------------------------------ */

gw_err store_pg_fail(struct store_pg_conn *c, const PGresult *res, const char *what)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        gw_error("store: %s: the connection to PostgreSQL was lost", what);
    } else if (msg) {
        gw_error("store: %s: %s %s", what, state ? state : "", msg);
    } else {
        char err[256];
        snprintf(err, sizeof err, "%s", c->pg ? PQerrorMessage(c->pg) : "no connection");
        err[strcspn(err, "\n")] = '\0';
        if (!err[0] && res) /* not an error: a result of another kind than the call expects */
            snprintf(err, sizeof err, "unexpected result %s", PQresStatus(PQresultStatus(res)));
        gw_error("store: %s: %s", what, err);
    }
    return GW_ESTORE;
}

static bool state_is(const PGresult *res, const char *state)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s && strcmp(s, state) == 0;
}

gw_err store_pg_exec(struct store_pg_conn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c->pg, sql);
    ExecStatusType e = PQresultStatus(r);
    gw_err rc = e == PGRES_COMMAND_OK || e == PGRES_TUPLES_OK ? GW_OK : store_pg_fail(c, r, what);
    PQclear(r);
    return rc;
}

/* --- parameters ---------------------------------------------------------------------------- */

struct params {
    size_t n;
    const char *val[STORE_PG_MAX_PARAMS];
    Oid type[STORE_PG_MAX_PARAMS];
    char num[STORE_PG_MAX_PARAMS][32];
};

static void p_text(struct params *p, const char *s)
{
    p->val[p->n] = s;
    p->type[p->n++] = OID_TEXT;
}

static void p_int(struct params *p, Oid type, int64_t v)
{
    snprintf(p->num[p->n], sizeof p->num[p->n], "%" PRId64, v);
    p->val[p->n] = p->num[p->n];
    p->type[p->n++] = type;
}

static void p_args(struct params *p, const struct store_pg_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (args[i].text)
            p_text(p, args[i].s);
        else
            p_int(p, OID_INT8, args[i].i);
    }
}

/* The first n columns of row, as $1..$n. */
static void p_row(struct params *p, const struct store_cols *c, const void *row, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = (const char *)row + c->col[i].offset;
        switch (c->col[i].type) {
        case STORE_COL_TEXT:
        case STORE_COL_SECRET:
            p_text(p, *(const char *const *)f);
            break;
        case STORE_COL_I64:
            p_int(p, OID_INT8, *(const int64_t *)f);
            break;
        case STORE_COL_INT:
            p_int(p, OID_INT4, *(const int *)f);
            break;
        case STORE_COL_BOOL:
            p_int(p, OID_INT4, *(const bool *)f ? 1 : 0);
            break;
        case STORE_COL_REAL:
            snprintf(p->num[p->n], sizeof p->num[p->n], "%.17g", *(const double *)f);
            p->val[p->n] = p->num[p->n];
            p->type[p->n++] = OID_FLOAT8;
            break;
        }
    }
}

/* Every parameter of call; false (logged) when there are too many. */
static bool bind_call(struct params *p, const struct store_pg_call *call)
{
    size_t ncols = call->cols ? (call->ncols ? call->ncols : call->cols->n) : 0;
    p->n = 0;
    if (ncols + call->nargs > STORE_PG_MAX_PARAMS) {
        gw_error("store: %s: too many parameters (raise STORE_PG_MAX_PARAMS)", call->what);
        return false;
    }
    if (call->cols)
        p_row(p, call->cols, call->row, ncols);
    p_args(p, call->args, call->nargs);
    return true;
}

/* --- reading ------------------------------------------------------------------------------- */

static int64_t to_i64(const char *v)
{
    if (v[0] == 't')
        return 1;
    if (v[0] == 'f')
        return 0;
    return strtoll(v, NULL, 10);
}

/* Reads result row r into the fields of row, in list order. */
static void read_row(const PGresult *res, int r, const struct store_cols *c, void *row)
{
    for (size_t i = 0; i < c->n; i++) {
        char *f = (char *)row + c->col[i].offset;
        int k = (int)i;
        bool null = PQgetisnull(res, r, k);
        const char *v = PQgetvalue(res, r, k);
        switch (c->col[i].type) {
        case STORE_COL_TEXT:
        case STORE_COL_SECRET:
            *(char **)f = null ? NULL : gw_xstrndup(v, (size_t)PQgetlength(res, r, k));
            break;
        case STORE_COL_I64:
            *(int64_t *)f = null ? 0 : to_i64(v);
            break;
        case STORE_COL_INT:
            *(int *)f = null ? 0 : (int)to_i64(v);
            break;
        case STORE_COL_BOOL:
            *(bool *)f = !null && to_i64(v) != 0;
            break;
        case STORE_COL_REAL:
            *(double *)f = null ? 0 : strtod(v, NULL);
            break;
        }
    }
}

/* Every row of res into a malloc'd array (out: the caller's typed array pointer). */
static void collect(const PGresult *res, const struct store_cols *cols, void *out, size_t *n)
{
    size_t len = (size_t)PQntuples(res);
    char *rows = len ? gw_xcalloc(len, cols->size) : NULL;
    for (size_t i = 0; i < len; i++)
        read_row(res, (int)i, cols, rows + i * cols->size);
    void *list = rows;
    memcpy(out, &list, sizeof(list));
    *n = len;
}

/* --- prepared statements ------------------------------------------------------------------- */

static size_t slot_of(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (STORE_PG_CACHE - 1);
}

/* The slot of sql in c's cache: where it is, or a free one (*fresh); SIZE_MAX when full. */
static size_t find_slot(struct store_pg_conn *c, const char *sql, bool *fresh)
{
    size_t i = slot_of(sql);
    for (size_t k = 0; k < STORE_PG_CACHE; k++, i = (i + 1) & (STORE_PG_CACHE - 1)) {
        if (c->cache[i] == sql || !c->cache[i]) {
            *fresh = !c->cache[i];
            return i;
        }
    }
    return SIZE_MAX;
}

/* The name of call's statement on c, prepared now if needed; false, logged, on failure. */
static bool prepared(struct store_pg_conn *c, const struct store_pg_call *call,
                     const struct params *p, char name[STMT_NAME_MAX])
{
    bool fresh = false;
    size_t i = find_slot(c, call->sql, &fresh);
    if (i == SIZE_MAX) {
        gw_error("store: %s: statement cache full (raise STORE_PG_CACHE)", call->what);
        return false;
    }
    snprintf(name, STMT_NAME_MAX, "s%zu", i);
    if (!fresh)
        return true;
    PGresult *r = PQprepare(c->pg, name, call->sql, (int)p->n, p->type);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok)
        c->cache[i] = call->sql;
    else
        store_pg_fail(c, r, call->what);
    PQclear(r);
    return ok;
}

/* Executes call; *res is the result (PQclear it) when the statement ran, else NULL. */
static gw_err execute(struct store_pg_conn *c, const struct store_pg_call *call,
                      ExecStatusType want, PGresult **res)
{
    struct params p;
    char name[STMT_NAME_MAX];
    *res = NULL;
    if (!bind_call(&p, call) || !prepared(c, call, &p, name))
        return GW_ESTORE;
    PGresult *r = PQexecPrepared(c->pg, name, (int)p.n, p.val, NULL, NULL, 0);
    if (PQresultStatus(r) == want) {
        *res = r;
        return GW_OK;
    }
    gw_err rc = call->conflict && state_is(r, SQLSTATE_UNIQUE) ? GW_ECONFLICT
                : state_is(r, STORE_PG_CHAIN_MOVED)            ? GW_ECONFLICT
                                                               : store_pg_fail(c, r, call->what);
    PQclear(r);
    return rc;
}

gw_err store_pg_run(struct store_pg_conn *c, const struct store_pg_call *call, int *changes)
{
    PGresult *r = NULL;
    gw_err rc = execute(c, call, PGRES_COMMAND_OK, &r);
    if (rc == GW_OK && changes)
        *changes = (int)strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

gw_err store_pg_run_get(struct store_pg_conn *c, const struct store_pg_call *call,
                        const struct store_cols *cols, void *row)
{
    PGresult *r = NULL;
    gw_err rc = execute(c, call, PGRES_TUPLES_OK, &r);
    if (rc == GW_OK && PQntuples(r) == 0)
        rc = GW_ENOTFOUND;
    else if (rc == GW_OK)
        read_row(r, 0, cols, row);
    PQclear(r);
    return rc;
}

gw_err store_pg_run_list(struct store_pg_conn *c, const struct store_pg_call *call,
                         const struct store_cols *cols, void *out, size_t *n)
{
    PGresult *r = NULL;
    gw_err rc = execute(c, call, PGRES_TUPLES_OK, &r);
    if (rc == GW_OK)
        collect(r, cols, out, n);
    PQclear(r);
    return rc;
}

gw_err store_pg_query(struct store_pg_conn *c, const char *sql, const char *what,
                      const struct store_pg_arg *args, size_t nargs, const struct store_cols *cols,
                      void *out, size_t *n)
{
    struct params p;
    if (!bind_call(&p, PG_CALL(.sql = sql, .what = what, .args = args, .nargs = nargs)))
        return GW_ESTORE;
    PGresult *r = PQexecParams(c->pg, sql, (int)p.n, p.type, p.val, NULL, NULL, 0);
    gw_err rc = GW_OK;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        collect(r, cols, out, n);
    else
        rc = store_pg_fail(c, r, what);
    PQclear(r);
    return rc;
}

/* --- transactions and pooled calls --------------------------------------------------------- */

gw_err store_pg_begin(struct store_pg_conn *c, const char *what)
{
    return store_pg_exec(c, "BEGIN", what);
}

gw_err store_pg_end(struct store_pg_conn *c, gw_err rc, const char *what)
{
    if (rc == GW_OK)
        rc = store_pg_exec(c, "COMMIT", what);
    if (rc != GW_OK && c->pg && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        store_pg_exec(c, "ROLLBACK", what);
    return rc;
}

gw_err store_pg_write(struct store *st, const struct store_pg_call *call, int *changes)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, call->what);
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run(c, call, changes);
    store_pg_release(s, c);
    return rc;
}

gw_err store_pg_get(struct store *st, const struct store_pg_call *call,
                    const struct store_cols *cols, void *row)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, call->what);
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run_get(c, call, cols, row);
    store_pg_release(s, c);
    return rc;
}

gw_err store_pg_list(struct store *st, const struct store_pg_call *call,
                     const struct store_cols *cols, void *out, size_t *n)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, call->what);
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run_list(c, call, cols, out, n);
    store_pg_release(s, c);
    return rc;
}

gw_err store_pg_consume(struct store *st, const struct store_pg_call *find,
                        const struct store_cols *cols, void *row, const struct store_pg_call *mark,
                        bool must_change)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, find->what);
    if (!c)
        return GW_ESTORE;
    int changes = 0;
    gw_err rc = store_pg_begin(c, find->what);
    if (rc == GW_OK)
        rc = store_pg_run_get(c, find, cols, row);
    if (rc == GW_OK)
        rc = store_pg_run(c, mark, &changes);
    if (rc == GW_OK && must_change && changes == 0)
        rc = store_pg_fail(c, NULL, mark->what);
    rc = store_pg_end(c, rc, find->what);
    store_pg_release(s, c);
    if (rc != GW_OK)
        store_row_release(cols, row);
    return rc;
}

gw_err store_pg_insert(struct store *st, const char *sql, const char *what,
                       const struct store_cols *cols, const void *row)
{
    return store_pg_write(
        st, PG_CALL(.sql = sql, .what = what, .cols = cols, .row = row, .conflict = true), NULL);
}

gw_err store_pg_append(struct store *st, const char *sql, const char *what,
                       const struct store_cols *cols, const void *rows, size_t n)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, what);
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_pipeline_begin(c, what);
    if (rc == GW_OK) {
        for (size_t i = 0; i < n; i++)
            store_pg_pipeline_send(c, PG_CALL(.sql = sql, .what = what, .cols = cols,
                                              .row = (const char *)rows + i * cols->size));
        rc = store_pg_pipeline_end(c, what);
    }
    store_pg_release(s, c);
    return rc;
}

/* --- pipelines ----------------------------------------------------------------------------- */

static void pending_push(struct store_pg_conn *c, struct store_pg_pending p)
{
    if (c->n_pending == c->cap_pending) {
        c->cap_pending = c->cap_pending ? c->cap_pending * 2 : 64;
        c->pending = gw_xrealloc(c->pending, c->cap_pending * sizeof *c->pending);
    }
    c->pending[c->n_pending++] = p;
}

gw_err store_pg_pipeline_begin(struct store_pg_conn *c, const char *what)
{
    c->n_pending = 0;
    c->pipe_failed = false;
    if (PQenterPipelineMode(c->pg) != 1)
        return store_pg_fail(c, NULL, what);
    return GW_OK;
}

gw_err store_pg_pipeline_send(struct store_pg_conn *c, const struct store_pg_call *call)
{
    struct params p;
    char name[STMT_NAME_MAX];
    bool fresh = false;
    size_t i = find_slot(c, call->sql, &fresh);
    if (c->pipe_failed || i == SIZE_MAX || !bind_call(&p, call)) {
        c->pipe_failed = true;
        return GW_ESTORE;
    }
    snprintf(name, sizeof name, "s%zu", i);
    if (fresh) { /* known prepared only once its answer says so */
        c->cache[i] = call->sql;
        if (PQsendPrepare(c->pg, name, call->sql, (int)p.n, p.type) != 1)
            goto fail;
        pending_push(c, (struct store_pg_pending){.prepare = true, .slot = i});
    }
    if (PQsendQueryPrepared(c->pg, name, (int)p.n, p.val, NULL, NULL, 0) != 1)
        goto fail;
    pending_push(c, (struct store_pg_pending){.conflict = call->conflict});
    return GW_OK;
fail:
    c->pipe_failed = true;
    return store_pg_fail(c, NULL, call->what);
}

/* Reads the answer of one queued command (its result, then the NULL that ends it). */
static gw_err pipeline_answer(struct store_pg_conn *c, const struct store_pg_pending *p, gw_err rc,
                              const char *what)
{
    PGresult *r = PQgetResult(c->pg);
    if (!r) {
        c->broken = true;
        return rc == GW_OK ? store_pg_fail(c, NULL, what) : rc;
    }
    ExecStatusType e = PQresultStatus(r);
    bool ok = e == PGRES_COMMAND_OK || e == PGRES_TUPLES_OK;
    if (p->prepare && !ok)
        c->cache[p->slot] = NULL;
    if (!ok && rc == GW_OK) /* the first failure; the rest are skipped (aborted) */
        rc = (p->conflict && state_is(r, SQLSTATE_UNIQUE)) || state_is(r, STORE_PG_CHAIN_MOVED)
                 ? GW_ECONFLICT
                 : store_pg_fail(c, r, what);
    PQclear(r);
    PQclear(PQgetResult(c->pg)); /* the end of this command's results */
    return rc;
}

gw_err store_pg_pipeline_end(struct store_pg_conn *c, const char *what)
{
    gw_err rc = c->pipe_failed ? GW_ESTORE : GW_OK;
    if (PQpipelineSync(c->pg) != 1) {
        rc = store_pg_fail(c, NULL, what);
        c->broken = true;
    }
    for (size_t i = 0; i < c->n_pending && !c->broken; i++)
        rc = pipeline_answer(c, &c->pending[i], rc, what);
    if (!c->broken) {
        PGresult *r = PQgetResult(c->pg); /* the sync's: the implicit transaction ended */
        if (PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
            c->broken = true;
            if (rc == GW_OK)
                rc = store_pg_fail(c, r, what);
        }
        PQclear(r);
    }
    if (c->broken || PQexitPipelineMode(c->pg) != 1) {
        c->broken = true;
        for (size_t i = 0; i < c->n_pending; i++) /* unknown: prepare again */
            if (c->pending[i].prepare)
                c->cache[c->pending[i].slot] = NULL;
        if (rc == GW_OK)
            rc = GW_ESTORE;
    }
    c->n_pending = 0;
    return rc;
}
