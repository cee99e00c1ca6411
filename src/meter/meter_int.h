/* SPDX-License-Identifier: MIT
 * meter_int.h — private to src/meter: limits, the clock, months, pricing and budget alerts,
 * exposed to tests/unit/meter/test_meter.c.
 */
#ifndef GW_METER_INT_H
#define GW_METER_INT_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"
#include "meter/meter.h"
#include "store/store.h"

#include <jansson.h>

#define METER_QUEUE_CAP 65536 /* queued usage rows; a recorder waits when full */
#define METER_BATCH_MAX 256   /* rows per store transaction */
#define METER_FLUSH_MS 100    /* longest time a row waits for its batch */
#define METER_RETRY_MS 1000   /* after a failed batch */

/* Wall clock of the subsystem (months, sent_at); tests pin it with meter_test_set_clock
 * (0 = the real clock). */
int64_t meter_now_ms(void);
void meter_test_set_clock(int64_t ms);

/* UTC calendar month of a time as year*12 + month-1, and as "YYYY-MM" (out: 8 bytes). */
int meter_month_of(int64_t ms, char out[8]);
/* "YYYY-MM" with month 01-12 (and year 1970-9999): its index, or -1. */
int meter_period_parse(const char *s);

/* v rounded to 1/scale (1e6: micro-dollars; 10: tenths); without libm. */
double meter_round(double v, double scale);

/* USD of one call at a model's prices: prompt * input_per_mtok / 1e6 + completion *
 * output_per_mtok / 1e6. */
double meter_cost(const struct cfg_model *m, int64_t prompt_tokens, int64_t completion_tokens);
/* The same for the model "<provider>/<model>" in c; 0 (and *known false) for a model without a
 * price entry. */
double meter_price(const struct cfg *c, const char *provider, const char *model,
                   int64_t prompt_tokens, int64_t completion_tokens, bool *known);

#define METER_NO_WORKSPACE "-" /* never a valid workspace name (cfg_name_valid) */

/* A queued usage row (meter.c); its strings point into text[]. */
struct meter_row {
    struct store_usage_row r;
    char month[8];
    char text[];
};

/* For meter_report.c: the store, the usage writer, a reference to the configuration. */
struct gw_worker;
struct store *meter_store(struct meter *k);
struct gw_worker *meter_writer(struct meter *k);
struct cfg *meter_config(struct meter *k);
/* The configured currency ("USD"). */
const char *meter_currency(const struct cfg *c);

/* --- budget alerts (meter_alert.c) ------------------------------------------------------------ */

struct meter_alert {
    char *tenant, *workspace;
    char month[8]; /* "YYYY-MM" */
    bool exceeded; /* "exceeded", else "threshold" */
    double spent_usd, limit_usd, threshold;
    enum cfg_on_exceed on_exceed;
    char *email; /* recipients (comma-separated) or NULL */
    char *currency;
};

void meter_alert_free(struct meter_alert *a);
/* "budget.threshold" | "budget.exceeded" */
const char *meter_alert_type(const struct meter_alert *a);
/* "[OpenClaw] Budget alert: workspace dev-team at 82% of 500.00 USD (2026-11)"; caller frees. */
char *meter_alert_subject(const struct meter_alert *a);
/* The e-mail body (CRLF line ends); caller frees. */
char *meter_alert_text(const struct meter_alert *a);
/* The whole RFC 5322 message (notify_email) sent to `to`; caller frees. */
char *meter_alert_email(const struct meter_alert *a, const char *from, const char *to,
                        int64_t at_ms);
/* {"type","tenant","workspace","period","spent_usd","limit_usd","threshold","on_exceed",
 *  "currency"} */
json_t *meter_alert_webhook_json(const struct meter_alert *a);

struct notifier;
struct store;
/* Hands a to the notifier, claimed in st (budget_alerts) before it is sent: at most once per
 * workspace, month and kind. */
void meter_alert_send(struct notifier *n, struct store *st, const struct meter_alert *a);

/* The notifier statistics of m (tests). */
struct notify_stats;
void meter_notify_stats(struct meter *m, struct notify_stats *s);

#endif
