/* SPDX-License-Identifier: MIT
 * pg_audit.c — the audit trail in PostgreSQL (audit_events and audit_checkpoints, schema 2;
 * the SIEM forwarding cursors, schema 11; the heads' roots, audit_tree and audit_keys, 13;
 * the keys' node ids, 15).
 *
 * A group commit is one pipeline: for each tenant it extends, a claim (audit_claim(), schema 2:
 * a per-tenant transaction lock and a check that the chain ends where the batch's first row
 * links to), then every row, signed head and tree node, then one Sync. One round trip, one implicit
 * transaction, one WAL flush; all or nothing. Two nodes appending to one tenant therefore never
 * write the same sequence number or fork the chain: the one whose view of the head is stale gets
 * GW_ECONFLICT and writes nothing. A commit whose connection broke before its answer was read
 * (a server restart, a cut network) may have committed all the same: its outcome is asked on a
 * new connection (resolve_in_doubt) so that a committed batch is never reported refused, which
 * would have its events' actions refused and retried, and logged twice. Reads build their SQL with
 * store_audit_sql.c and run unnamed (the filter decides the text); a scan takes a connection per
 * page.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

#include <unistd.h>

#define AUDIT_COLS STORE_COL_NAMES(STORE_AUDIT_ROW_COLUMNS)
#define CP_COLS STORE_COL_NAMES(STORE_CHECKPOINT_COLUMNS)

static const char CLAIM[] = "SELECT audit_claim($1, $2, $3)";
static const char CLAIM_PAST[] = "SELECT audit_claim_past($1, $2)"; /* schema 17 */
static const char APPEND[] = "INSERT INTO audit_events (" AUDIT_COLS ") VALUES ($1, $2, $3, "
                             "$4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
static const char CHAIN_LOCK[] = "SELECT 1::BIGINT FROM pg_advisory_xact_lock(7032, hashtext($1))";
static const char ROW_HASH[] = "SELECT seq, hash FROM audit_events WHERE tenant = $1 AND seq = $2";
static const char HEAD[] = "SELECT seq, hash FROM audit_events WHERE tenant = $1 "
                           "ORDER BY seq DESC LIMIT 1";
/* Loose index scan over the primary key: one probe per tenant, not one per row. */
static const char TENANTS[] = "WITH RECURSIVE t(tenant) AS ("
                              "  SELECT MIN(tenant) FROM audit_events"
                              "  UNION ALL"
                              "  SELECT (SELECT MIN(tenant) FROM audit_events "
                              "WHERE tenant > t.tenant)"
                              "  FROM t WHERE t.tenant IS NOT NULL"
                              ") SELECT tenant FROM t WHERE tenant IS NOT NULL";
#define NODE_COLS STORE_COL_NAMES(STORE_AUDIT_NODE_COLUMNS)
#define KEY_COLS STORE_COL_NAMES(STORE_AUDIT_KEY_COLUMNS)

static const char CP_INSERT[] = "INSERT INTO audit_checkpoints (" CP_COLS ") "
                                "VALUES ($1, $2, $3, $4, $5, $6, $7)";
/* a head signed again over the same size (adoption of an older trail) replaces it */
static const char HEAD_PUT[] = "INSERT INTO audit_checkpoints (" CP_COLS ") "
                               "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                               "ON CONFLICT (tenant, seq) DO UPDATE SET hash = excluded.hash, "
                               "ts_ms = excluded.ts_ms, key_id = excluded.key_id, "
                               "signature = excluded.signature, root = excluded.root";
static const char NODE_PUT[] =
    "INSERT INTO audit_tree (" NODE_COLS ") VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (tenant, level, idx) DO UPDATE SET hash = excluded.hash";
static const char CP_PAGE[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = $1 "
                              "AND seq > $2 ORDER BY seq LIMIT $3";
static const char HASHES[] = "SELECT seq, hash FROM audit_events WHERE tenant = $1 "
                             "AND seq >= $2 AND seq < $3 ORDER BY seq";
static const char NODES[] = "SELECT idx, hash FROM audit_tree WHERE tenant = $1 AND level = $2 "
                            "AND idx >= $3 AND idx < $4 ORDER BY idx";
static const char KEY_INSERT[] = "INSERT INTO audit_keys (" KEY_COLS ") "
                                 "VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char KEY_LIST[] = "SELECT " KEY_COLS " FROM audit_keys ORDER BY ts_ms, added";
static const char CP_LATEST[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = $1 "
                                "ORDER BY seq DESC LIMIT 1";
static const char CP_LIST[] = "SELECT " CP_COLS " FROM audit_checkpoints WHERE tenant = $1 "
                              "ORDER BY seq";
static const char CURSOR_GET[] = "SELECT seq FROM audit_fwd_cursors "
                                 "WHERE destination = $1 AND tenant = $2";
/* never backwards: two nodes forwarding one destination keep the larger cursor */
static const char CURSOR_SET[] = "INSERT INTO audit_fwd_cursors (destination, tenant, seq, "
                                 "updated_ms) VALUES ($1, $2, $3, $4) "
                                 "ON CONFLICT (destination, tenant) DO UPDATE SET "
                                 "seq = GREATEST(audit_fwd_cursors.seq, excluded.seq), "
                                 "updated_ms = excluded.updated_ms";

struct head {
    int64_t seq;
    char *hash;
};
#define HEAD_COLUMNS(X, S, SEP) X(S, I64, seq) SEP X(S, TEXT, hash)
static const struct store_cols head_cols = STORE_COLS_INIT(head, HEAD_COLUMNS);

/* --- append and the chain's ends ---------------------------------------------------------- */

/* Whether rows[i] is the first of its tenant in rows[0..i]. */
static bool first_of_tenant(const struct store_audit_row *rows, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(rows[k].tenant, rows[i].tenant) == 0)
            return false;
    return true;
}

static bool past_end(const struct store_audit_commit *b, const char *tenant)
{
    for (size_t i = 0; i < b->n_past_end; i++)
        if (strcmp(b->past_end[i], tenant) == 0)
            return true;
    return false;
}

/* The claim of the tenant of row r: its chain ends where r links to, or (a chain continued
 * past the store's end) nothing is stored at or after r. */
static void send_claim(struct store_pg_conn *c, const struct store_audit_commit *b,
                       const struct store_audit_row *r)
{
    if (past_end(b, r->tenant))
        store_pg_pipeline_send(c, PG_CALL(.sql = CLAIM_PAST, .what = "audit append: claim",
                                          PG_ARGS(PG_TEXT(r->tenant), PG_I64(r->seq))));
    else
        store_pg_pipeline_send(c, PG_CALL(.sql = CLAIM, .what = "audit append: claim",
                                          PG_ARGS(PG_TEXT(r->tenant), PG_I64(r->seq),
                                                  PG_TEXT(r->prev_hash))));
}

/* Sends each of n rows of cols with sql into the open pipeline. */
static void send_all(struct store_pg_conn *c, const char *sql, const char *what,
                     const struct store_cols *cols, const void *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_pg_pipeline_send(c, PG_CALL(.sql = sql, .what = what, .cols = cols,
                                          .row = (const char *)rows + i * cols->size));
}

/* How long the outcome of an in-doubt commit is asked for (PostgreSQL restarting, say), one
 * attempt per IN_DOUBT_PAUSE_MS. The writer holds its batch meanwhile: no other can commit. */
#define IN_DOUBT_WAIT_MS 15000
#define IN_DOUBT_PAUSE_MS 100

/* Whether the batch whose first row is r is in the store: GW_OK committed, GW_ENOTFOUND not.
 * Under the tenant's chain lock (audit_claim's), so a transaction of the cut connection that
 * the server is still finishing is waited for, then seen by the next statement's snapshot. */
static gw_err batch_outcome(struct store_pg_conn *c, const struct store_audit_row *r)
{
    const char *what = "audit commit: in-doubt outcome";
    struct head h = {0};
    int64_t locked = 0;
    gw_err rc = store_pg_begin(c, what);
    if (rc == GW_OK)
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = CHAIN_LOCK, .what = what, PG_ARGS(PG_TEXT(r->tenant))),
                              &store_pg_i64_cols, &locked);
    if (rc == GW_OK)
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = ROW_HASH, .what = what,
                                      PG_ARGS(PG_TEXT(r->tenant), PG_I64(r->seq))),
                              &head_cols, &h);
    gw_err end = store_pg_end(c, rc == GW_ENOTFOUND ? GW_OK : rc, what);
    if (rc == GW_OK && end == GW_OK && strcmp(h.hash, r->hash) != 0)
        rc = GW_ENOTFOUND; /* another node's row at that place: ours was not committed */
    free(h.hash);
    return end != GW_OK ? end : rc;
}

/* The outcome of a commit whose answer was lost with its connection: all or nothing in one
 * transaction, so its first row decides. GW_OK committed; rc (the commit's own error) when
 * not, and when no answer came within IN_DOUBT_WAIT_MS (then "refused" may be wrong: logged). */
static gw_err resolve_in_doubt(struct store_pg *s, const struct store_audit_commit *b, gw_err rc)
{
    int64_t deadline = gw_mono_ns() / 1000000 + IN_DOUBT_WAIT_MS;
    gw_info("store: the connection broke during an audit commit of %zu events; asking "
            "PostgreSQL whether it committed",
            b->n_rows);
    do {
        struct store_pg_conn *c = store_pg_acquire(s, "audit commit: in-doubt outcome");
        gw_err got = c ? batch_outcome(c, &b->rows[0]) : GW_ESTORE;
        store_pg_release(s, c);
        if (got == GW_OK || got == GW_ENOTFOUND) {
            gw_info("store: the in-doubt audit commit %s",
                    got == GW_OK ? "was committed" : "was not committed");
            return got == GW_OK ? GW_OK : rc;
        }
        usleep(IN_DOUBT_PAUSE_MS * 1000);
    } while (gw_mono_ns() / 1000000 < deadline);
    gw_error("store: the outcome of an audit commit stayed unknown for %d s: reported refused; "
             "if it was committed, its events are in the trail without their actions",
             IN_DOUBT_WAIT_MS / 1000);
    return rc;
}

static gw_err commit(struct store *st, const struct store_audit_commit *b)
{
    const struct store_audit_row *rows = b->rows;
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "audit commit");
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_pipeline_begin(c, "audit commit");
    if (rc == GW_OK) {
        for (size_t i = 0; i < b->n_rows; i++)
            if (first_of_tenant(rows, i))
                send_claim(c, b, &rows[i]);
        send_all(c, APPEND, "audit append", &store_audit_row_cols, rows, b->n_rows);
        send_all(c, HEAD_PUT, "audit head", &store_checkpoint_cols, b->heads, b->n_heads);
        send_all(c, NODE_PUT, "audit tree", &store_audit_node_cols, b->nodes, b->n_nodes);
        rc = store_pg_pipeline_end(c, "audit commit");
    }
    bool in_doubt = rc != GW_OK && rc != GW_ECONFLICT && b->n_rows > 0 &&
                    (c->broken || PQstatus(c->pg) != CONNECTION_OK);
    store_pg_release(s, c);
    return in_doubt ? resolve_in_doubt(s, b, rc) : rc;
}

static gw_err head(struct store *st, const char *tenant, int64_t *seq, char **hash)
{
    struct head h = {0};
    gw_err rc = store_pg_get(st,
                             PG_CALL(.sql = HEAD, .what = "audit head", PG_ARGS(PG_TEXT(tenant))),
                             &head_cols, &h);
    if (rc == GW_ENOTFOUND) /* an empty chain */
        return GW_OK;
    *seq = h.seq;
    *hash = h.hash;
    return rc;
}

static gw_err tenants(struct store *st, char ***out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = TENANTS, .what = "audit tenants"), &store_str_cols, out,
                         n);
}

/* --- filtered reads ----------------------------------------------------------------------- */

/* Runs q on a pooled connection and collects the rows; releases q. */
static gw_err run_query(struct store *st, struct store_audit_sql *q, struct store_audit_row **out,
                        size_t *n)
{
    gw_err rc = store_audit_sql_check(q);
    if (rc != GW_OK)
        return rc;
    struct store_pg_arg args[STORE_AUDIT_SQL_MAX_ARGS];
    for (size_t i = 0; i < q->nargs; i++)
        args[i] = (struct store_pg_arg){q->args[i].text, q->args[i].s, q->args[i].i};
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "audit query");
    rc = c ? store_pg_query(c, q->sql, "audit query", args, q->nargs, &store_audit_row_cols, out, n)
           : GW_ESTORE;
    store_pg_release(s, c);
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
    struct store_audit_sql q = {.dollar = true};
    store_audit_sql_select(&q, f, f->after_seq, false, f->descending, limit_i64(limit));
    return run_query(st, &q, out, n);
}

static gw_err page(struct store *st, const struct store_audit_filter *f, int64_t cursor,
                   bool force_after, struct store_audit_row **out, size_t *n)
{
    struct store_audit_sql q = {.dollar = true};
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
    return store_pg_insert(st, CP_INSERT, "checkpoint insert", &store_checkpoint_cols, c);
}

static gw_err checkpoint_latest(struct store *st, const char *tenant,
                                struct store_audit_checkpoint *out)
{
    return store_pg_get(st,
                        PG_CALL(.sql = CP_LATEST, .what = "checkpoint latest",
                                PG_ARGS(PG_TEXT(tenant))),
                        &store_checkpoint_cols, out);
}

static gw_err checkpoint_list(struct store *st, const char *tenant,
                              struct store_audit_checkpoint **out, size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = CP_LIST, .what = "checkpoint list",
                                 PG_ARGS(PG_TEXT(tenant))),
                         &store_checkpoint_cols, out, n);
}

static gw_err checkpoint_page(struct store *st, const char *tenant, int64_t after_seq, size_t limit,
                              struct store_audit_checkpoint **out, size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = CP_PAGE, .what = "checkpoint page",
                                 PG_ARGS(PG_TEXT(tenant), PG_I64(after_seq),
                                         PG_I64(limit_i64(limit)))),
                         &store_checkpoint_cols, out, n);
}

/* --- the tree and the keys (schema 13) ---------------------------------------------------- */

static int64_t end_of(int64_t first, size_t count)
{
    return count > (size_t)(INT64_MAX - first) ? INT64_MAX : first + (int64_t)count;
}

static gw_err hashes(struct store *st, const char *tenant, int64_t first, size_t count,
                     struct store_audit_hash **out, size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = HASHES, .what = "audit hashes",
                                 PG_ARGS(PG_TEXT(tenant), PG_I64(first),
                                         PG_I64(end_of(first, count)))),
                         &store_audit_hash_cols, out, n);
}

static gw_err nodes(struct store *st, const char *tenant, int level, int64_t first, size_t count,
                    struct store_audit_hash **out, size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = NODES, .what = "audit tree nodes",
                                 PG_ARGS(PG_TEXT(tenant), PG_I64(level), PG_I64(first),
                                         PG_I64(end_of(first, count)))),
                         &store_audit_hash_cols, out, n);
}

static gw_err key_insert(struct store *st, const struct store_audit_key *k)
{
    return store_pg_insert(st, KEY_INSERT, "audit key insert", &store_audit_key_cols, k);
}

static gw_err key_list(struct store *st, struct store_audit_key **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = KEY_LIST, .what = "audit key list"),
                         &store_audit_key_cols, out, n);
}

/* --- forwarding cursors (schema 11) ------------------------------------------------------ */

static gw_err cursor_get(struct store *st, const char *dest, const char *tenant, int64_t *seq)
{
    gw_err rc = store_pg_get(st,
                             PG_CALL(.sql = CURSOR_GET, .what = "forwarding cursor",
                                     PG_ARGS(PG_TEXT(dest), PG_TEXT(tenant))),
                             &store_pg_i64_cols, seq);
    return rc == GW_ENOTFOUND ? GW_OK : rc;
}

static gw_err cursor_set(struct store *st, const char *dest, const char *tenant, int64_t seq,
                         int64_t now_ms)
{
    return store_pg_write(st,
                          PG_CALL(.sql = CURSOR_SET, .what = "forwarding cursor set",
                                  PG_ARGS(PG_TEXT(dest), PG_TEXT(tenant), PG_I64(seq),
                                          PG_I64(now_ms))),
                          NULL);
}

const struct store_audit_ops store_pg_audit_ops = {
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
