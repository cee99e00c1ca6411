/* SPDX-License-Identifier: MIT
 * sqlite_stmt.c — the SQLite backend's statement cache and its one row reader.
 *
 * Every operation of every domain goes through here: find (or prepare once) the statement of a
 * static SQL text, bind a row by its column list and then loose arguments, step, read each
 * result row by the same kind of list into a growing array, reset and clear the bindings (text
 * is bound SQLITE_STATIC, borrowed from the caller for the call only). Failures are logged with
 * sqlite3_errmsg, never with values. A PRIMARY KEY or UNIQUE violation becomes GW_ECONFLICT
 * where the call asks for it, so callers can tell "exists" from a broken store.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/sqlite/sqlite_int.h"

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static const struct store_col i64_col[] = {{"value", STORE_COL_I64, 0}};
const struct store_cols store_sqlite_i64_cols = {sizeof(int64_t), 1, i64_col};

void store_sqlite_lock(struct store_sqlite_conn *c)
{
    int e = pthread_mutex_lock(&c->mu);
    if (e != 0) {
        gw_error("store: pthread_mutex_lock: %s", strerror(e));
        abort();
    }
}

void store_sqlite_unlock(struct store_sqlite_conn *c)
{
    pthread_mutex_unlock(&c->mu);
}

gw_err store_sqlite_fail(sqlite3 *db, const char *what)
{
    gw_error("store: %s: %s", what, sqlite3_errmsg(db));
    return GW_ESTORE;
}

gw_err store_sqlite_exec(sqlite3 *db, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        gw_error("store: %s: %s", what, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return GW_ESTORE;
    }
    return GW_OK;
}

/* --- the statement cache ------------------------------------------------------------------ */

/* The prepared statement of sql (open addressing on its address); NULL, logged, on failure. */
static sqlite3_stmt *cached(struct store_sqlite_conn *c, const char *sql, const char *what)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);
    size_t i = (size_t)(h >> 32) & (STORE_SQLITE_CACHE - 1);
    for (size_t k = 0; k < STORE_SQLITE_CACHE; k++, i = (i + 1) & (STORE_SQLITE_CACHE - 1)) {
        if (c->cache[i].sql == sql)
            return c->cache[i].q;
        if (c->cache[i].sql)
            continue;
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL) != SQLITE_OK) {
            gw_error("store: %s: preparing: %s", what, sqlite3_errmsg(c->db));
            return NULL;
        }
        c->cache[i].sql = sql;
        c->cache[i].q = q;
        return q;
    }
    gw_error("store: %s: statement cache full (raise STORE_SQLITE_CACHE)", what);
    return NULL;
}

static void finish(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

/* --- binding and reading by column list --------------------------------------------------- */

static int bind_text(sqlite3_stmt *q, int i, const char *s)
{
    return s ? sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

int store_sqlite_bind_args(sqlite3_stmt *q, int first, const struct store_sqlite_arg *args,
                           size_t n)
{
    int b = SQLITE_OK;
    for (size_t i = 0; i < n; i++)
        b |= args[i].text ? bind_text(q, first + (int)i, args[i].s)
                          : sqlite3_bind_int64(q, first + (int)i, args[i].i);
    return b;
}

/* Binds the first n columns of row to ?1..?n. */
static int bind_row(sqlite3_stmt *q, const struct store_cols *c, const void *row, size_t n)
{
    int b = SQLITE_OK;
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)row + c->col[i].offset;
        int k = (int)i + 1;
        switch (c->col[i].type) {
        case STORE_COL_TEXT:
        case STORE_COL_SECRET:
            b |= bind_text(q, k, *(const char *const *)p);
            break;
        case STORE_COL_I64:
            b |= sqlite3_bind_int64(q, k, *(const int64_t *)p);
            break;
        case STORE_COL_INT:
            b |= sqlite3_bind_int(q, k, *(const int *)p);
            break;
        case STORE_COL_BOOL:
            b |= sqlite3_bind_int(q, k, *(const bool *)p);
            break;
        case STORE_COL_REAL:
            b |= sqlite3_bind_double(q, k, *(const double *)p);
            break;
        }
    }
    return b;
}

/* malloc'd copy of a text column, NULL for SQL NULL. */
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

/* Reads result columns 0.. into the fields of row, in list order. */
static void read_row(sqlite3_stmt *q, const struct store_cols *c, void *row)
{
    for (size_t i = 0; i < c->n; i++) {
        char *p = (char *)row + c->col[i].offset;
        int k = (int)i;
        switch (c->col[i].type) {
        case STORE_COL_TEXT:
        case STORE_COL_SECRET:
            *(char **)p = col_str(q, k);
            break;
        case STORE_COL_I64:
            *(int64_t *)p = sqlite3_column_int64(q, k);
            break;
        case STORE_COL_INT:
            *(int *)p = sqlite3_column_int(q, k);
            break;
        case STORE_COL_BOOL:
            *(bool *)p = sqlite3_column_int64(q, k) != 0;
            break;
        case STORE_COL_REAL:
            *(double *)p = sqlite3_column_double(q, k);
            break;
        }
    }
}

gw_err store_sqlite_collect(sqlite3 *db, sqlite3_stmt *q, const char *what,
                            const struct store_cols *cols, void *out, size_t *n)
{
    char *rows = NULL;
    size_t len = 0, cap = 0;
    int e;
    while ((e = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            rows = gw_xrealloc(rows, cap * cols->size);
        }
        char *r = rows + len++ * cols->size;
        memset(r, 0, cols->size);
        read_row(q, cols, r);
    }
    if (e != SQLITE_DONE) {
        gw_err rc = store_sqlite_fail(db, what);
        store_rows_free(cols, rows, len);
        return rc;
    }
    void *list = rows;
    memcpy(out, &list, sizeof(list)); /* out is the caller's typed array pointer */
    *n = len;
    return GW_OK;
}

/* --- one call ----------------------------------------------------------------------------- */

/* The call's statement with every parameter bound; NULL, logged, on failure. */
static sqlite3_stmt *bound(struct store_sqlite_conn *c, const struct store_sqlite_call *call)
{
    sqlite3_stmt *q = cached(c, call->sql, call->what);
    if (!q)
        return NULL;
    int b = SQLITE_OK;
    size_t first = 1;
    if (call->cols) {
        size_t n = call->ncols ? call->ncols : call->cols->n;
        b |= bind_row(q, call->cols, call->row, n);
        first += n;
    }
    b |= store_sqlite_bind_args(q, (int)first, call->args, call->nargs);
    if (b != SQLITE_OK) {
        store_sqlite_fail(c->db, call->what);
        finish(q);
        return NULL;
    }
    return q;
}

static bool is_conflict(sqlite3 *db)
{
    int x = sqlite3_extended_errcode(db);
    return x == SQLITE_CONSTRAINT_PRIMARYKEY || x == SQLITE_CONSTRAINT_UNIQUE;
}

gw_err store_sqlite_run(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                        int *changes)
{
    sqlite3_stmt *q = bound(c, call);
    if (!q)
        return GW_ESTORE;
    gw_err rc = GW_OK;
    if (sqlite3_step(q) == SQLITE_DONE) {
        if (changes)
            *changes = sqlite3_changes(c->db);
    } else if (call->conflict && is_conflict(c->db)) {
        rc = GW_ECONFLICT;
    } else {
        rc = store_sqlite_fail(c->db, call->what);
    }
    finish(q);
    return rc;
}

gw_err store_sqlite_run_get(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                            const struct store_cols *cols, void *row)
{
    sqlite3_stmt *q = bound(c, call);
    if (!q)
        return GW_ESTORE;
    gw_err rc = GW_OK;
    int e = sqlite3_step(q);
    if (e == SQLITE_ROW)
        read_row(q, cols, row);
    else if (e == SQLITE_DONE)
        rc = GW_ENOTFOUND;
    else
        rc = store_sqlite_fail(c->db, call->what);
    finish(q);
    return rc;
}

gw_err store_sqlite_run_list(struct store_sqlite_conn *c, const struct store_sqlite_call *call,
                             const struct store_cols *cols, void *out, size_t *n)
{
    sqlite3_stmt *q = bound(c, call);
    if (!q)
        return GW_ESTORE;
    gw_err rc = store_sqlite_collect(c->db, q, call->what, cols, out, n);
    finish(q);
    return rc;
}

/* --- transactions and the main connection ------------------------------------------------- */

gw_err store_sqlite_begin(struct store_sqlite_conn *c, const char *what)
{
    return store_sqlite_run(c, SQ_CALL(.sql = SQL_BEGIN, .what = what), NULL);
}

gw_err store_sqlite_end(struct store_sqlite_conn *c, gw_err rc, const char *what)
{
    if (rc == GW_OK)
        rc = store_sqlite_run(c, SQ_CALL(.sql = SQL_COMMIT, .what = what), NULL);
    if (rc != GW_OK && !sqlite3_get_autocommit(c->db))
        store_sqlite_run(c, SQ_CALL(.sql = SQL_ROLLBACK, .what = what), NULL);
    return rc;
}

gw_err store_sqlite_write(struct store *st, const struct store_sqlite_call *call, int *changes)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(c, call, changes);
    store_sqlite_unlock(c);
    return rc;
}

gw_err store_sqlite_get(struct store *st, const struct store_sqlite_call *call,
                        const struct store_cols *cols, void *row)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run_get(c, call, cols, row);
    store_sqlite_unlock(c);
    return rc;
}

gw_err store_sqlite_list(struct store *st, const struct store_sqlite_call *call,
                         const struct store_cols *cols, void *out, size_t *n)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run_list(c, call, cols, out, n);
    store_sqlite_unlock(c);
    return rc;
}

gw_err store_sqlite_consume(struct store *st, const struct store_sqlite_call *find,
                            const struct store_cols *cols, void *row,
                            const struct store_sqlite_call *mark, bool must_change)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    int changes = 0;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, find->what);
    if (rc == GW_OK)
        rc = store_sqlite_run_get(c, find, cols, row);
    if (rc == GW_OK)
        rc = store_sqlite_run(c, mark, &changes);
    if (rc == GW_OK && must_change && changes == 0)
        rc = store_sqlite_fail(c->db, mark->what);
    rc = store_sqlite_end(c, rc, find->what);
    store_sqlite_unlock(c);
    if (rc != GW_OK)
        store_row_release(cols, row);
    return rc;
}

gw_err store_sqlite_insert(struct store *st, const char *sql, const char *what,
                           const struct store_cols *cols, const void *row)
{
    return store_sqlite_write(
        st, SQ_CALL(.sql = sql, .what = what, .cols = cols, .row = row, .conflict = true), NULL);
}

gw_err store_sqlite_append(struct store *st, const char *sql, const char *what,
                           const struct store_cols *cols, const void *rows, size_t n)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->writer;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, what);
    for (size_t i = 0; i < n && rc == GW_OK; i++) {
        const void *row = (const char *)rows + i * cols->size;
        rc = store_sqlite_run(c, SQ_CALL(.sql = sql, .what = what, .cols = cols, .row = row), NULL);
    }
    rc = store_sqlite_end(c, rc, what);
    store_sqlite_unlock(c);
    return rc;
}
