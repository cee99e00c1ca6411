/* SPDX-License-Identifier: MIT
 * store_usage.c — the public API of usage metering and budget alerts (store_usage.h): argument
 * checks and dispatch through struct store_usage_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_usage_row_cols = STORE_COLS_INIT(store_usage_row,
                                                               STORE_USAGE_ROW_COLUMNS);
const struct store_cols store_usage_sum_cols = STORE_COLS_INIT(store_usage_sum,
                                                               STORE_USAGE_SUM_COLUMNS);

gw_err store_usage_append(struct store *st, const struct store_usage_row *rows, size_t n)
{
    if (n == 0)
        return GW_OK;
    if (!rows)
        return GW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].tenant || !rows[i].workspace || !rows[i].provider || !rows[i].model ||
            !rows[i].month)
            return GW_EINVAL;
    return st->ops->usage->append(st, rows, n);
}

gw_err store_usage_month(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n)
{
    if (!month || !STORE_OUT_LIST(out, n))
        return GW_EINVAL;
    return st->ops->usage->month(st, tenant, month, workspace, out, n);
}

void store_usage_sums_free(struct store_usage_sum *list, size_t n)
{
    store_rows_free(&store_usage_sum_cols, list, n);
}

gw_err store_budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                 const char *month, const char *kind, int64_t sent_at_ms,
                                 bool *inserted)
{
    if (!tenant || !workspace || !month || !kind || !inserted ||
        (strcmp(kind, "threshold") != 0 && strcmp(kind, "exceeded") != 0))
        return GW_EINVAL;
    *inserted = false;
    return st->ops->usage->budget_alert_insert(st, tenant, workspace, month, kind, sent_at_ms,
                                               inserted);
}
