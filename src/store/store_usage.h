/* SPDX-License-Identifier: MIT
 * store_usage.h — model usage metering and budget alerts (src/meter/ owns the
 * meaning). Part of the store interface (store.h).
 */
#ifndef GW_STORE_USAGE_H
#define GW_STORE_USAGE_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_usage_row {
    const char *tenant;
    const char *user_id; /* may be NULL */
    const char *workspace;
    const char *agent; /* may be NULL */
    const char *provider, *model;
    int64_t prompt_tokens, completion_tokens;
    double cost_usd;
    const char *month; /* "YYYY-MM" (UTC) of at_ms */
    int64_t at_ms;
    const char *request_id; /* may be NULL */
};

/* Appends rows in one fsynced transaction (nothing on failure). Called by the costs writer; it
 * shares the audit writer's connection, so API reads never wait behind a batch. */
gw_err store_usage_append(struct store *st, const struct store_usage_row *rows, size_t n);

/* One group of a month's usage: (tenant, workspace, user_id, provider, model). */
struct store_usage_sum {
    char *tenant;
    char *workspace;
    char *user_id; /* NULL when the rows had none */
    char *provider, *model;
    int64_t requests, prompt_tokens, completion_tokens;
    double cost_usd;
};

/* Sums of one month ("YYYY-MM") grouped as above, ordered by tenant, workspace, user_id,
 * provider, model (malloc'd array). tenant NULL: every tenant; workspace NULL: every workspace. */
gw_err store_usage_month(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n);
void store_usage_sums_free(struct store_usage_sum *list, size_t n);

/* Remembers that a budget alert of kind "threshold" or "exceeded" was sent for (tenant,
 * workspace, month); *inserted is true only for the first call (insert-if-absent). */
gw_err store_budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                 const char *month, const char *kind, int64_t sent_at_ms,
                                 bool *inserted);

#endif
