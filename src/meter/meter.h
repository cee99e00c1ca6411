/* SPDX-License-Identifier: MIT
 * meter.h — usage metering, monthly budgets per workspace, alerts, cost reports.
 *
 * meter/ owns what a model call costs and whether a workspace may spend more; it may include
 * base/, config/, store/ (usage rows, budget alert claims) and notify/ (the alert channels).
 *
 * Every model call that reaches a provider is recorded with tenant, user, workspace
 * (= namespace), agent, provider, model and tokens; its price comes from the model's entry in
 * the price table (models.providers[].models[].input_per_mtok / output_per_mtok). Month totals
 * per (tenant, workspace) are kept in memory (loaded from the store at start) so a budget check
 * costs a hash lookup; rows are written to the store by a background writer in batches.
 * Crossing alertThreshold sends one alert per workspace and month (e-mail through the SMTP
 * relay and a JSON webhook, from a notifier thread, remembered in the store so a restart does
 * not repeat it); reaching the limit sends an "exceeded" alert and, with onExceed: disable,
 * makes meter_check refuse further calls of that workspace until the month ends.
 */
#ifndef GW_METER_H
#define GW_METER_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

struct cfg;
struct store;
struct meter;

struct meter_usage {
    const char *tenant, *user, *workspace;
    const char *agent; /* "<ns>/<agent>" or NULL for direct proxy calls */
    const char *provider, *model;
    const struct cfg_model *price; /* the served model's prices; NULL: the configuration's */
    int64_t prompt_tokens, completion_tokens;
    int64_t at_ms; /* wall clock */
    const char *request_id;
};

struct net_loop;
/* Alerts go out through net (e-mail, webhook), which must outlive the costs. */
gw_err meter_open(struct store *st, const struct cfg *c, struct net_loop *net, struct meter **out);
/* Flushes pending rows and stops the writer and notifier threads. */
void meter_close(struct meter *k);
struct shared;
/* Month spend is also counted in s (shared/shared.h): budgets then hold for the spend of every
 * node of a cluster, not only this one's. */
void meter_share(struct meter *k, struct shared *s);
/* New budgets / prices / SMTP settings (reload). */
void meter_reload(struct meter *k, const struct cfg *c);

/* Before a call: GW_OK with this month's spend, or GW_EPAYMENT (msg says which budget) when the
 * workspace reached a monthly limit whose onExceed is disable. */
gw_err meter_check(struct meter *k, const char *tenant, const char *workspace, double *spent_usd,
                   char *msg, size_t cap);
/* An amount of money rounded to 1e-10 USD, the precision it needs: a price per million tokens
 * with up to four decimals times a whole number of tokens stays exact, and the sum of such
 * amounts loses its binary noise (0.00043, not 0.00043000000000000004). */
double meter_usd(double usd);
/* After a call: prices it, adds it to the totals, queues the row, fires alerts. Returns the
 * cost in USD. */
double meter_record(struct meter *k, const struct meter_usage *u);
/* Report of one tenant for one month ("YYYY-MM"), optionally one workspace:
 * {"period","currency","total_usd","requests","prompt_tokens","completion_tokens",
 *  "by_workspace":[{"workspace","total_usd","requests",...,"budget":{...}|null}],
 *  "by_user":[...], "by_model":[...]} — new reference; NULL with GW_EINVAL on a bad period. */
json_t *meter_report(struct meter *k, const char *tenant, const char *period,
                     const char *workspace);
/* The same, counting only the workspaces visible(workspace, arg) accepts (the caller's). */
typedef bool meter_visible_fn(const char *workspace, void *arg);
json_t *meter_report_visible(struct meter *k, const char *tenant, const char *period,
                             const char *workspace, meter_visible_fn *visible, void *arg);
/* Waits until queued rows are in the store and queued alerts were attempted (tests, shutdown). */
void meter_flush(struct meter *k);

#endif
