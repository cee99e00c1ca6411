/* SPDX-License-Identifier: MIT
 * llm_costs_int.h — private to the costs subsystem: limits, the clock, months, pricing and the
 * alert notifier (llm_costs_notify.c), exposed to tests/unit/test_llm_costs.c.
 */
#ifndef GW_LLM_COSTS_INT_H
#define GW_LLM_COSTS_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"
#include "llm/llm_costs.h"

#include <jansson.h>

#define LLM_COSTS_QUEUE_CAP 65536   /* queued usage rows; a recorder waits when full */
#define LLM_COSTS_BATCH_MAX 256     /* rows per store transaction */
#define LLM_COSTS_FLUSH_MS 100      /* longest time a row waits for its batch */
#define LLM_COSTS_RETRY_MS 1000     /* after a failed batch */
#define LLM_ALERT_QUEUE_CAP 1024    /* queued alerts; more are dropped (logged) */
#define LLM_ALERT_ATTEMPTS 3        /* per channel (e-mail, webhook) */
#define LLM_ALERT_BACKOFF_MS 1000   /* before the 2nd attempt, doubled for the next */
#define LLM_ALERT_TIMEOUT_S 10L     /* whole SMTP / webhook transfer */

/* Wall clock of the subsystem (months, sent_at); tests pin it with llm_costs_test_set_clock
 * (0 = the real clock). */
int64_t llm_costs_now_ms(void);
void llm_costs_test_set_clock(int64_t ms);

/* UTC calendar month of a time as year*12 + month-1, and as "YYYY-MM" (out: 8 bytes). */
int llm_costs_month_of(int64_t ms, char out[8]);
/* "YYYY-MM" with month 01-12 (and year 1970-9999): its index, or -1. */
int llm_costs_period_parse(const char *s);

/* USD of one call: prompt * input_per_mtok / 1e6 + completion * output_per_mtok / 1e6 of the
 * model "<provider>/<model>" in c; 0 (and *known false) for a model without a price entry. */
double llm_costs_price(const struct cfg *c, const char *provider, const char *model,
                       int64_t prompt_tokens, int64_t completion_tokens, bool *known);

/* --- alerts (llm_costs_notify.c) ----------------------------------------------------------- */

struct llm_alert {
    char *tenant, *workspace;
    char month[8];          /* "YYYY-MM" */
    bool exceeded;          /* "exceeded", else "threshold" */
    double spent_usd, limit_usd, threshold;
    enum cfg_on_exceed on_exceed;
    char *email;            /* recipients (comma-separated) or NULL */
    char *currency;
};

void llm_alert_free(struct llm_alert *a);
/* "budget.threshold" | "budget.exceeded" */
const char *llm_alert_type(const struct llm_alert *a);
/* "[OpenClaw] Budget alert: workspace dev-team at 82% of 500.00 USD (2026-11)"; caller frees. */
char *llm_alert_subject(const struct llm_alert *a);
/* The RFC 5322 message (CRLF line ends) sent to `to` (comma-separated addresses); caller
 * frees. */
char *llm_alert_email(const struct llm_alert *a, const char *from, const char *to,
                      int64_t now_ms);
/* {"type","tenant","workspace","period","spent_usd","limit_usd","threshold","on_exceed",
 *  "currency"} */
json_t *llm_alert_webhook_json(const struct llm_alert *a);

struct llm_notifier;

/* Starts the "costs-notify" thread. The notifier keeps its own reference to c (SMTP settings
 * and the webhook URL are read when an alert is sent). */
struct net_loop;
gw_err llm_notifier_start(struct store *st, const struct cfg *c, struct net_loop *net,
                          struct llm_notifier **out);
/* Attempts every queued alert once more (no retries), then stops the thread. */
void llm_notifier_stop(struct llm_notifier *n);
void llm_notifier_reload(struct llm_notifier *n, const struct cfg *c);
/* Queues a (takes ownership); dropped with a warning when the queue is full. */
void llm_notifier_post(struct llm_notifier *n, struct llm_alert *a);
/* Waits until every alert queued before the call was handled (sent, skipped or failed). */
void llm_notifier_flush(struct llm_notifier *n);
/* Alerts handled so far / whose channels all succeeded / skipped as already sent. */
struct llm_notifier_stats {
    uint64_t handled, delivered, duplicates, failures, dropped;
};
void llm_notifier_get_stats(struct llm_notifier *n, struct llm_notifier_stats *s);
/* The notifier statistics of k (tests). */
void llm_costs_notify_stats(struct llm_costs *k, struct llm_notifier_stats *s);

#endif
