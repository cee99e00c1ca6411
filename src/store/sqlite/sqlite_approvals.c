/* SPDX-License-Identifier: MIT
 * sqlite_approvals.c — the approval queue in SQLite (table approvals).
 *
 * A decision is a compare-and-set: one UPDATE that matches only while the status is still the
 * expected one, atomic on its own in every connection and process. When it matched nothing, a
 * lookup under the same lock tells a lost race (GW_ECONFLICT) from an absent approval
 * (GW_ENOTFOUND); approvals are never deleted, so the answer cannot flip.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define COLS STORE_COL_NAMES(STORE_APPROVAL_COLUMNS)

static const char INSERT[] = "INSERT INTO approvals (" COLS ") "
                             "VALUES (" STORE_COL_PARAMS(STORE_APPROVAL_COLUMNS) ")";
static const char GET[] = "SELECT " COLS " FROM approvals WHERE tenant = ?1 AND id = ?2";
/* NULL text and non-positive times keep the stored values. */
static const char TRANSITION[] = "UPDATE approvals SET status = ?4, "
                                 "decided_by = COALESCE(?5, decided_by), "
                                 "comment = COALESCE(?6, comment), "
                                 "action = COALESCE(?7, action), "
                                 "result = COALESCE(?8, result), "
                                 "decided_ms = CASE WHEN ?9 > 0 THEN ?9 ELSE decided_ms END, "
                                 "executed_ms = CASE WHEN ?10 > 0 THEN ?10 ELSE executed_ms END "
                                 "WHERE tenant = ?1 AND id = ?2 AND status = ?3";
static const char EXISTS[] = "SELECT 1 FROM approvals WHERE tenant = ?1 AND id = ?2";
/* rowid breaks ties of created_ms: the later insert counts as newer. */
static const char LIST[] = "SELECT " COLS " FROM approvals WHERE tenant = ?1 "
                           "ORDER BY created_ms DESC, rowid DESC LIMIT ?2";
static const char LIST_STATUS[] = "SELECT " COLS " FROM approvals WHERE tenant = ?1 AND "
                                  "status = ?2 ORDER BY created_ms DESC, rowid DESC LIMIT ?3";
static const char DUE[] = "SELECT " COLS " FROM approvals "
                          "WHERE status = 'pending' AND expires_ms <= ?1 "
                          "ORDER BY expires_ms, rowid LIMIT ?2";

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static gw_err insert(struct store *st, const struct store_approval *a)
{
    return store_sqlite_insert(st, INSERT, "approval insert", &store_approval_cols, a);
}

static gw_err get(struct store *st, const char *tenant, const char *id, struct store_approval *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = GET, .what = "approval get",
                                    SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id))),
                            &store_approval_cols, out);
}

static gw_err transition(struct store *st, const char *tenant, const char *id,
                         const struct store_approval_change *ch)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    int changes = 0;
    int64_t one = 0;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(
        c,
        SQ_CALL(.sql = TRANSITION, .what = "approval transition",
                SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id), SQ_TEXT(ch->from), SQ_TEXT(ch->to),
                        SQ_TEXT(ch->decided_by), SQ_TEXT(ch->comment), SQ_TEXT(ch->action),
                        SQ_TEXT(ch->result), SQ_I64(ch->decided_ms), SQ_I64(ch->executed_ms))),
        &changes);
    if (rc == GW_OK && changes == 0) {
        rc = store_sqlite_run_get(c,
                                  SQ_CALL(.sql = EXISTS, .what = "approval transition: lookup",
                                          SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id))),
                                  &store_sqlite_i64_cols, &one);
        if (rc == GW_OK)
            rc = GW_ECONFLICT;
    }
    store_sqlite_unlock(c);
    return rc;
}

static gw_err list(struct store *st, const char *tenant, const char *status, size_t limit,
                   struct store_approval **out, size_t *n)
{
    const struct store_sqlite_call *call =
        status ? SQ_CALL(.sql = LIST_STATUS, .what = "approval list",
                         SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(status), SQ_I64(limit_i64(limit))))
               : SQ_CALL(.sql = LIST, .what = "approval list",
                         SQ_ARGS(SQ_TEXT(tenant), SQ_I64(limit_i64(limit))));
    return store_sqlite_list(st, call, &store_approval_cols, out, n);
}

static gw_err due(struct store *st, int64_t now_ms, size_t limit, struct store_approval **out,
                  size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = DUE, .what = "approval due",
                                     SQ_ARGS(SQ_I64(now_ms), SQ_I64(limit_i64(limit)))),
                             &store_approval_cols, out, n);
}

const struct store_approval_ops store_sqlite_approval_ops = {
    .insert = insert,
    .get = get,
    .transition = transition,
    .list = list,
    .due = due,
};
