/* SPDX-License-Identifier: MIT
 * sqlite_audit.c — the audit trail in SQLite: audit_events and audit_checkpoints (schema 2),
 * the signed heads' roots, audit_tree and audit_keys (schema 13).
 *
 * A group commit (rows, heads, tree nodes) is one transaction on the writer connection. Reads
 * run on the main connection: filtered queries come from store_audit_sql.c (placeholders only,
 * byte ranges instead of LIKE). A scan holds the connection for one page at a time, so API
 * requests interleave with a long export.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/sqlite/sqlite_int.h"

#define AUDIT_COLS STORE_COL_NAMES(STORE_AUDIT_ROW_COLUMNS)
#define CP_COLS STORE_COL_NAMES(STORE_CHECKPOINT_COLUMNS)
#define NODE_COLS STORE_COL_NAMES(STORE_AUDIT_NODE_COLUMNS)
#define KEY_COLS STORE_COL_NAMES(STORE_AUDIT_KEY_COLUMNS)

static const char APPEND[] = "INSERT INTO audit_events (" AUDIT_COLS ") "
                             "VALUES (" STORE_COL_PARAMS(STORE_AUDIT_ROW_COLUMNS) ")";
static const char HEAD[] = "SELECT seq, hash FROM audit_events WHERE tenant = ?1 "
                           "ORDER BY seq DESC LIMIT 1";
/* Loose index scan over the primary key: one probe per tenant, not one per row. */
static const char TENANTS[] = "WITH RECURSIVE t(tenant) AS ("
                              "  SELECT MIN(tenant) FROM audit_events"
                              "  UNION ALL"
                              "  SELECT (SELECT MIN(tenant) FROM audit_events "
                              "WHERE tenant > t.tenant)"
                              "  FROM t WHERE t.tenant IS NOT NULL"
                              ") SELECT tenant FROM t WHERE tenant IS NOT NULL";
static const char CP_INSERT[] = "INSERT INTO audit_checkpoints (" CP_COLS ") "
                                "VALUES (" STORE_COL_PARAMS(STORE_CHECKPOINT_COLUMNS) ")";
static const char HEAD_PUT[] = "INSERT OR REPLACE INTO audit_checkpoints (" CP_COLS ") "
                               "VALUES (" STORE_COL_PARAMS(STORE_CHECKPOINT_COLUMNS) ")";
static const char NODE_PUT[] = "INSERT OR REPLACE INTO audit_tree (" NODE_COLS ") "
                               "VALUES (" STORE_COL_PARAMS(STORE_AUDIT_NODE_COLUMNS) ")";
static const char CP_PAGE[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = ?1 "
                              "AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char HASHES[] = "SELECT seq, hash FROM audit_events WHERE tenant = ?1 "
                             "AND seq >= ?2 AND seq < ?3 ORDER BY seq";
static const char NODES[] = "SELECT idx, hash FROM audit_tree WHERE tenant = ?1 AND level = ?2 "
                            "AND idx >= ?3 AND idx < ?4 ORDER BY idx";
static const char KEY_INSERT[] = "INSERT INTO audit_keys (" KEY_COLS ") "
                                 "VALUES (" STORE_COL_PARAMS(STORE_AUDIT_KEY_COLUMNS) ")";
static const char KEY_LIST[] = "SELECT " KEY_COLS " FROM audit_keys ORDER BY ts_ms, rowid";
static const char CP_LATEST[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = ?1 "
                                "ORDER BY seq DESC LIMIT 1";
static const char CURSOR_GET[] = "SELECT seq FROM audit_fwd_cursors "
                                 "WHERE destination = ?1 AND tenant = ?2";
static const char CURSOR_SET[] = "INSERT INTO audit_fwd_cursors (destination, tenant, seq, "
                                 "updated_ms) VALUES (?1, ?2, ?3, ?4) "
                                 "ON CONFLICT (destination, tenant) DO UPDATE SET "
                                 "seq = MAX(seq, excluded.seq), updated_ms = excluded.updated_ms";
static const char CP_LIST[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = ?1 "
                              "ORDER BY seq";

struct head {
    int64_t seq;
    char *hash;
};
#define HEAD_COLUMNS(X, S, SEP) X(S, I64, seq) SEP X(S, TEXT, hash)
static const struct store_cols head_cols = STORE_COLS_INIT(head, HEAD_COLUMNS);

/* --- append and the chain's ends ---------------------------------------------------------- */

/* Runs sql for each of n rows of cols inside the caller's transaction. */
static gw_err put_all(struct store_sqlite_conn *c, const char *sql, const char *what,
                      const struct store_cols *cols, const void *rows, size_t n)
{
    gw_err rc = GW_OK;
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = sql, .what = what, .cols = cols,
                                      .row = (const char *)rows + i * cols->size),
                              NULL);
    return rc;
}

static gw_err commit(struct store *st, const struct store_audit_commit *b)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->writer;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, "audit commit");
    if (rc == GW_OK)
        rc = put_all(c, APPEND, "audit append", &store_audit_row_cols, b->rows, b->n_rows);
    if (rc == GW_OK)
        rc = put_all(c, HEAD_PUT, "audit head", &store_checkpoint_cols, b->heads, b->n_heads);
    if (rc == GW_OK)
        rc = put_all(c, NODE_PUT, "audit tree", &store_audit_node_cols, b->nodes, b->n_nodes);
    rc = store_sqlite_end(c, rc, "audit commit");
    store_sqlite_unlock(c);
    return rc;
}

static gw_err head(struct store *st, const char *tenant, int64_t *seq, char **hash)
{
    struct head h = {0};
    gw_err rc = store_sqlite_get(
        st, SQ_CALL(.sql = HEAD, .what = "audit head", SQ_ARGS(SQ_TEXT(tenant))), &head_cols, &h);
    if (rc == GW_ENOTFOUND) /* an empty chain */
        return GW_OK;
    *seq = h.seq;
    *hash = h.hash;
    return rc;
}

static gw_err tenants(struct store *st, char ***out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = TENANTS, .what = "audit tenants"), &store_str_cols,
                             out, n);
}

/* --- filtered reads ----------------------------------------------------------------------- */

/* Runs q (store_audit_sql.c) on the main connection and collects the rows; releases q. */
static gw_err run_query(struct store *st, struct store_audit_sql *q, struct store_audit_row **out,
                        size_t *n)
{
    gw_err rc = store_audit_sql_check(q);
    if (rc != GW_OK)
        return rc;
    struct store_sqlite_arg args[STORE_AUDIT_SQL_MAX_ARGS];
    for (size_t i = 0; i < q->nargs; i++)
        args[i] = (struct store_sqlite_arg){q->args[i].text, q->args[i].s, q->args[i].i};
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    sqlite3_stmt *stmt = NULL;
    store_sqlite_lock(c);
    if (sqlite3_prepare_v3(c->db, q->sql, (int)q->len, 0, &stmt, NULL) != SQLITE_OK)
        rc = store_sqlite_fail(c->db, "audit query: prepare");
    else if (store_sqlite_bind_args(stmt, 1, args, q->nargs) != SQLITE_OK)
        rc = store_sqlite_fail(c->db, "audit query: bind");
    else
        rc = store_sqlite_collect(c->db, stmt, "audit query", &store_audit_row_cols, out, n);
    sqlite3_finalize(stmt);
    store_sqlite_unlock(c);
    store_audit_sql_release(q);
    return rc;
}

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static gw_err query(struct store *st, const struct store_audit_filter *f, size_t limit,
                    struct store_audit_row **out, size_t *n)
{
    struct store_audit_sql q = {0};
    store_audit_sql_select(&q, f, f->after_seq, false, f->descending, limit_i64(limit));
    return run_query(st, &q, out, n);
}

static gw_err page(struct store *st, const struct store_audit_filter *f, int64_t cursor,
                   bool force_after, struct store_audit_row **out, size_t *n)
{
    struct store_audit_sql q = {0};
    store_audit_sql_select(&q, f, cursor, force_after, false, STORE_SCAN_PAGE);
    return run_query(st, &q, out, n);
}

static gw_err scan(struct store *st, const struct store_audit_filter *f, store_audit_row_fn *fn,
                   void *ctx)
{
    return store_audit_scan_pages(st, f, fn, ctx, page);
}

/* --- checkpoints -------------------------------------------------------------------------- */

static gw_err checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c)
{
    return store_sqlite_insert(st, CP_INSERT, "checkpoint insert", &store_checkpoint_cols, c);
}

static gw_err checkpoint_latest(struct store *st, const char *tenant,
                                struct store_audit_checkpoint *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = CP_LATEST, .what = "checkpoint latest",
                                    SQ_ARGS(SQ_TEXT(tenant))),
                            &store_checkpoint_cols, out);
}

static gw_err checkpoint_list(struct store *st, const char *tenant,
                              struct store_audit_checkpoint **out, size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = CP_LIST, .what = "checkpoint list",
                                     SQ_ARGS(SQ_TEXT(tenant))),
                             &store_checkpoint_cols, out, n);
}

static gw_err checkpoint_page(struct store *st, const char *tenant, int64_t after_seq, size_t limit,
                              struct store_audit_checkpoint **out, size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = CP_PAGE, .what = "checkpoint page",
                                     SQ_ARGS(SQ_TEXT(tenant), SQ_I64(after_seq),
                                             SQ_I64(limit_i64(limit)))),
                             &store_checkpoint_cols, out, n);
}

/* --- the tree and the keys ---------------------------------------------------------------- */

static int64_t end_of(int64_t first, size_t count)
{
    return count > (size_t)(INT64_MAX - first) ? INT64_MAX : first + (int64_t)count;
}

static gw_err hashes(struct store *st, const char *tenant, int64_t first, size_t count,
                     struct store_audit_hash **out, size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = HASHES, .what = "audit hashes",
                                     SQ_ARGS(SQ_TEXT(tenant), SQ_I64(first),
                                             SQ_I64(end_of(first, count)))),
                             &store_audit_hash_cols, out, n);
}

static gw_err nodes(struct store *st, const char *tenant, int level, int64_t first, size_t count,
                    struct store_audit_hash **out, size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = NODES, .what = "audit tree nodes",
                                     SQ_ARGS(SQ_TEXT(tenant), SQ_I64(level), SQ_I64(first),
                                             SQ_I64(end_of(first, count)))),
                             &store_audit_hash_cols, out, n);
}

static gw_err key_insert(struct store *st, const struct store_audit_key *k)
{
    return store_sqlite_insert(st, KEY_INSERT, "audit key insert", &store_audit_key_cols, k);
}

static gw_err key_list(struct store *st, struct store_audit_key **out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = KEY_LIST, .what = "audit key list"),
                             &store_audit_key_cols, out, n);
}

/* --- forwarding cursors (schema 11) ------------------------------------------------------ */

static gw_err cursor_get(struct store *st, const char *dest, const char *tenant, int64_t *seq)
{
    gw_err rc = store_sqlite_get(st,
                                 SQ_CALL(.sql = CURSOR_GET, .what = "forwarding cursor",
                                         SQ_ARGS(SQ_TEXT(dest), SQ_TEXT(tenant))),
                                 &store_sqlite_i64_cols, seq);
    return rc == GW_ENOTFOUND ? GW_OK : rc;
}

static gw_err cursor_set(struct store *st, const char *dest, const char *tenant, int64_t seq,
                         int64_t now_ms)
{
    return store_sqlite_write(st,
                              SQ_CALL(.sql = CURSOR_SET, .what = "forwarding cursor set",
                                      SQ_ARGS(SQ_TEXT(dest), SQ_TEXT(tenant), SQ_I64(seq),
                                              SQ_I64(now_ms))),
                              NULL);
}

const struct store_audit_ops store_sqlite_audit_ops = {
    .commit = commit,
    .head = head,
    .tenants = tenants,
    .query = query,
    .scan = scan,
    .checkpoint_insert = checkpoint_insert,
    .checkpoint_latest = checkpoint_latest,
    .checkpoint_list = checkpoint_list,
    .checkpoint_page = checkpoint_page,
    .hashes = hashes,
    .nodes = nodes,
    .key_insert = key_insert,
    .key_list = key_list,
    .cursor_get = cursor_get,
    .cursor_set = cursor_set,
};
