/* SPDX-License-Identifier: MIT
 * llm_costs.h — usage metering, monthly budgets per workspace, alerts, cost reports.
 *
 * Every model call that reaches a provider is recorded with tenant, user, workspace
 * (= namespace), agent, provider, model and tokens; its price comes from the model's entry in
 * the price table (models.providers[].models[].input_per_mtok / output_per_mtok). Month totals
 * per (tenant, workspace) are kept in memory (loaded from the store at start) so a budget check
 * costs a hash lookup; rows are written to the store by a background writer in batches.
 * Crossing alertThreshold sends one alert per workspace and month (e-mail through the SMTP
 * relay and a JSON webhook, from a notifier thread, remembered in the store so a restart does
 * not repeat it); reaching the limit sends an "exceeded" alert and, with onExceed: disable,
 * makes llm_costs_check refuse further calls of that workspace until the month ends.
 */
#ifndef GW_LLM_COSTS_H
#define GW_LLM_COSTS_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

struct cfg;
struct store;
struct llm_costs;

struct llm_usage_record {
    const char *tenant, *user, *workspace;
    const char *agent;       /* "<ns>/<agent>" or NULL for direct proxy calls */
    const char *provider, *model;
    int64_t prompt_tokens, completion_tokens;
    int64_t at_ms;           /* wall clock */
    const char *request_id;
};

struct net_loop;
/* Alerts go out through net (e-mail, webhook), which must outlive the costs. */
gw_err llm_costs_open(struct store *st, const struct cfg *c, struct net_loop *net,
                      struct llm_costs **out);
/* Flushes pending rows and stops the writer and notifier threads. */
void llm_costs_close(struct llm_costs *k);
/* New budgets / prices / SMTP settings (reload). */
void llm_costs_reload(struct llm_costs *k, const struct cfg *c);

/* Before a call: GW_OK with this month's spend, or GW_EPAYMENT (msg says which budget) when the
 * workspace reached a monthly limit whose onExceed is disable. */
gw_err llm_costs_check(struct llm_costs *k, const char *tenant, const char *workspace,
                       double *spent_usd, char *msg, size_t cap);
/* After a call: prices it, adds it to the totals, queues the row, fires alerts. Returns the
 * cost in USD. */
double llm_costs_record(struct llm_costs *k, const struct llm_usage_record *u);
/* Report of one tenant for one month ("YYYY-MM"), optionally one workspace:
 * {"period","currency","total_usd","requests","prompt_tokens","completion_tokens",
 *  "by_workspace":[{"workspace","total_usd","requests",...,"budget":{...}|null}],
 *  "by_user":[...], "by_model":[...]} — new reference; NULL with GW_EINVAL on a bad period. */
json_t *llm_costs_report(struct llm_costs *k, const char *tenant, const char *period,
                         const char *workspace);
/* Waits until queued rows are in the store and queued alerts were attempted (tests, shutdown). */
void llm_costs_flush(struct llm_costs *k);

#endif
