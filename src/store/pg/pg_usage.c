/* SPDX-License-Identifier: MIT
 * pg_usage.c — usage metering and budget alerts in PostgreSQL (usage_records, budget_alerts).
 *
 * Usage rows arrive in batches from the costs writer and go in one pipeline: every insert
 * sent at once, one Sync, one implicit transaction (all or nothing), one round trip. A month's
 * sums are one GROUP BY over the (tenant, month) index. A budget alert is insert-if-absent:
 * on two nodes at once, one of them sends it.
 */
#include "base/prelude.h"
#include "store/pg/pg_int.h"

#define GROUP "tenant, workspace, user_id, provider, model"
/* SQLite's order: NULL first */
#define ORDER "tenant, workspace, user_id NULLS FIRST, provider, model"
#define SUMS                                                                                       \
    GROUP ", COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), "     \
          "COALESCE(SUM(cost_usd), 0)"

static const char APPEND[] = "INSERT INTO usage_records (" STORE_COL_NAMES(
    STORE_USAGE_ROW_COLUMNS) ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
static const char MONTH[] = "SELECT " SUMS " FROM usage_records "
                            "WHERE tenant = $1 AND month = $2 AND ($3::text IS NULL OR "
                            "workspace = $3) GROUP BY " GROUP " ORDER BY " ORDER;
static const char MONTH_ALL[] = "SELECT " SUMS " FROM usage_records "
                                "WHERE month = $1 AND ($2::text IS NULL OR workspace = $2) "
                                "GROUP BY " GROUP " ORDER BY " ORDER;
static const char ALERT_INSERT[] = "INSERT INTO budget_alerts "
                                   "(tenant, workspace, month, kind, sent_at_ms) "
                                   "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

static gw_err append(struct store *st, const struct store_usage_row *rows, size_t n)
{
    return store_pg_append(st, APPEND, "usage append", &store_usage_row_cols, rows, n);
}

static gw_err month_sums(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n)
{
    const struct store_pg_call *call = tenant
                                           ? PG_CALL(.sql = MONTH, .what = "usage month",
                                                     PG_ARGS(PG_TEXT(tenant), PG_TEXT(month),
                                                             PG_TEXT(workspace)))
                                           : PG_CALL(.sql = MONTH_ALL, .what = "usage month",
                                                     PG_ARGS(PG_TEXT(month), PG_TEXT(workspace)));
    return store_pg_list(st, call, &store_usage_sum_cols, out, n);
}

static gw_err budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                  const char *month, const char *kind, int64_t sent_at_ms,
                                  bool *inserted)
{
    int changes = 0;
    gw_err rc = store_pg_write(st,
                               PG_CALL(.sql = ALERT_INSERT, .what = "budget alert insert",
                                       PG_ARGS(PG_TEXT(tenant), PG_TEXT(workspace), PG_TEXT(month),
                                               PG_TEXT(kind), PG_I64(sent_at_ms))),
                               &changes);
    *inserted = rc == GW_OK && changes > 0;
    return rc;
}

const struct store_usage_ops store_pg_usage_ops = {
    .append = append,
    .month = month_sums,
    .budget_alert_insert = budget_alert_insert,
};
