/* SPDX-License-Identifier: MIT
 * sqlite_usage.c — usage metering and budget alerts in SQLite (usage_records, budget_alerts).
 *
 * Usage rows arrive in batches from the costs writer and go to the writer connection, shared
 * with the audit writer. A month's sums are one GROUP BY over the (tenant, month) index; for
 * every tenant a loose index scan finds the tenants first, one probe each.
 */
#include "base/prelude.h"
#include "store/sqlite/sqlite_int.h"

#define GROUP "usage_records.tenant, workspace, user_id, provider, model"
#define SUMS GROUP ", COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), TOTAL(cost_usd)"

static const char APPEND[] = "INSERT INTO usage_records (" STORE_COL_NAMES(
    STORE_USAGE_ROW_COLUMNS) ") VALUES (" STORE_COL_PARAMS(STORE_USAGE_ROW_COLUMNS) ")";
static const char MONTH[] = "SELECT " SUMS " FROM usage_records "
                            "WHERE tenant = ?1 AND month = ?2 AND (?3 IS NULL OR workspace = ?3) "
                            "GROUP BY " GROUP " ORDER BY " GROUP;
static const char MONTH_ALL[] = "WITH RECURSIVE t(tenant) AS ("
                                "  SELECT MIN(tenant) FROM usage_records"
                                "  UNION ALL"
                                "  SELECT (SELECT MIN(tenant) FROM usage_records "
                                "WHERE tenant > t.tenant)"
                                "  FROM t WHERE t.tenant IS NOT NULL"
                                ") SELECT " SUMS " FROM t CROSS JOIN usage_records "
                                "ON usage_records.tenant = t.tenant "
                                "WHERE month = ?1 AND (?2 IS NULL OR workspace = ?2) "
                                "GROUP BY " GROUP " ORDER BY " GROUP;
/* Insert-if-absent: changes() says whether this call was the first. */
static const char ALERT_INSERT[] = "INSERT INTO budget_alerts "
                                   "(tenant, workspace, month, kind, sent_at_ms) "
                                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING";

static gw_err append(struct store *st, const struct store_usage_row *rows, size_t n)
{
    return store_sqlite_append(st, APPEND, "usage append", &store_usage_row_cols, rows, n);
}

static gw_err month_sums(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n)
{
    const struct store_sqlite_call *call =
        tenant ? SQ_CALL(.sql = MONTH, .what = "usage month",
                         SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(month), SQ_TEXT(workspace)))
               : SQ_CALL(.sql = MONTH_ALL, .what = "usage month",
                         SQ_ARGS(SQ_TEXT(month), SQ_TEXT(workspace)));
    return store_sqlite_list(st, call, &store_usage_sum_cols, out, n);
}

static gw_err budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                  const char *month, const char *kind, int64_t sent_at_ms,
                                  bool *inserted)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = ALERT_INSERT, .what = "budget alert insert",
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(workspace),
                                                   SQ_TEXT(month), SQ_TEXT(kind),
                                                   SQ_I64(sent_at_ms))),
                                   &changes);
    *inserted = rc == GW_OK && changes > 0;
    return rc;
}

const struct store_usage_ops store_sqlite_usage_ops = {
    .append = append,
    .month = month_sums,
    .budget_alert_insert = budget_alert_insert,
};
