/* SPDX-License-Identifier: MIT
 * pg_approvals.c — the approval queue in PostgreSQL (table approvals).
 *
 * A decision is a compare-and-set: one UPDATE that matches only while the status is still the
 * expected one, atomic on every node. When it matched nothing, a lookup tells a lost race
 * (GW_ECONFLICT) from an absent approval (GW_ENOTFOUND); approvals are never deleted, so the
 * answer cannot flip. rid (an identity column) breaks ties of created_ms as SQLite's rowid.
 */
#include "base/prelude.h"
#include "store/pg/pg_int.h"

#define COLS STORE_COL_NAMES(STORE_APPROVAL_COLUMNS)

static const char INSERT[] = "INSERT INTO approvals (" COLS ") VALUES ($1, $2, $3, $4, $5, $6, "
                             "$7, $8, $9, $10, $11, $12, $13, $14, $15)";
static const char GET[] = "SELECT " COLS " FROM approvals WHERE tenant = $1 AND id = $2";
/* NULL text and non-positive times keep the stored values. */
static const char TRANSITION[] = "UPDATE approvals SET status = $4, "
                                 "decided_by = COALESCE($5, decided_by), "
                                 "comment = COALESCE($6, comment), "
                                 "action = COALESCE($7, action), "
                                 "result = COALESCE($8, result), "
                                 "decided_ms = CASE WHEN $9 > 0 THEN $9 ELSE decided_ms END, "
                                 "executed_ms = CASE WHEN $10 > 0 THEN $10 ELSE executed_ms END "
                                 "WHERE tenant = $1 AND id = $2 AND status = $3";
static const char EXISTS[] = "SELECT 1 FROM approvals WHERE tenant = $1 AND id = $2";
static const char LIST[] = "SELECT " COLS " FROM approvals WHERE tenant = $1 "
                           "ORDER BY created_ms DESC, rid DESC LIMIT $2";
static const char LIST_STATUS[] = "SELECT " COLS " FROM approvals WHERE tenant = $1 AND "
                                  "status = $2 ORDER BY created_ms DESC, rid DESC LIMIT $3";
static const char DUE[] = "SELECT " COLS " FROM approvals "
                          "WHERE status = 'pending' AND expires_ms <= $1 "
                          "ORDER BY expires_ms, rid LIMIT $2";

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static gw_err insert(struct store *st, const struct store_approval *a)
{
    return store_pg_insert(st, INSERT, "approval insert", &store_approval_cols, a);
}

static gw_err get(struct store *st, const char *tenant, const char *id, struct store_approval *out)
{
    return store_pg_get(st,
                        PG_CALL(.sql = GET, .what = "approval get",
                                PG_ARGS(PG_TEXT(tenant), PG_TEXT(id))),
                        &store_approval_cols, out);
}

static gw_err transition(struct store *st, const char *tenant, const char *id,
                         const struct store_approval_change *ch)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "approval transition");
    if (!c)
        return GW_ESTORE;
    int changes = 0;
    int64_t one = 0;
    gw_err rc = store_pg_run(
        c,
        PG_CALL(.sql = TRANSITION, .what = "approval transition",
                PG_ARGS(PG_TEXT(tenant), PG_TEXT(id), PG_TEXT(ch->from), PG_TEXT(ch->to),
                        PG_TEXT(ch->decided_by), PG_TEXT(ch->comment), PG_TEXT(ch->action),
                        PG_TEXT(ch->result), PG_I64(ch->decided_ms), PG_I64(ch->executed_ms))),
        &changes);
    if (rc == GW_OK && changes == 0) {
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = EXISTS, .what = "approval transition: lookup",
                                      PG_ARGS(PG_TEXT(tenant), PG_TEXT(id))),
                              &store_pg_i64_cols, &one);
        if (rc == GW_OK)
            rc = GW_ECONFLICT;
    }
    store_pg_release(s, c);
    return rc;
}

static gw_err list(struct store *st, const char *tenant, const char *status, size_t limit,
                   struct store_approval **out, size_t *n)
{
    const struct store_pg_call *call =
        status ? PG_CALL(.sql = LIST_STATUS, .what = "approval list",
                         PG_ARGS(PG_TEXT(tenant), PG_TEXT(status), PG_I64(limit_i64(limit))))
               : PG_CALL(.sql = LIST, .what = "approval list",
                         PG_ARGS(PG_TEXT(tenant), PG_I64(limit_i64(limit))));
    return store_pg_list(st, call, &store_approval_cols, out, n);
}

static gw_err due(struct store *st, int64_t now_ms, size_t limit, struct store_approval **out,
                  size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = DUE, .what = "approval due",
                                 PG_ARGS(PG_I64(now_ms), PG_I64(limit_i64(limit)))),
                         &store_approval_cols, out, n);
}

const struct store_approval_ops store_pg_approval_ops = {
    .insert = insert,
    .get = get,
    .transition = transition,
    .list = list,
    .due = due,
};
