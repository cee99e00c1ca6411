/* SPDX-License-Identifier: MIT
 * meter_alert.c — budget alerts: what they say and that each is sent at most once.
 *
 * Recorders raise an alert when a month total crosses a budget's threshold or limit (at most
 * one of each kind per workspace, month and process). It goes to the notifier (notify/) with
 * its e-mail text and webhook body, and a claim that runs on the notifier's thread before
 * anything is sent: the alert is inserted into the store (budget_alerts, insert-if-absent); one
 * that exists already was sent by an earlier run, and nothing is sent again. Reaching the limit
 * claims the threshold alert too.
 */
#include "base/prelude.h"
#include "meter/meter_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "notify/notify.h"
#include "store/store.h"

void meter_alert_free(struct meter_alert *a)
{
    if (!a)
        return;
    free(a->tenant);
    free(a->workspace);
    free(a->email);
    free(a->currency);
    free(a);
}

const char *meter_alert_type(const struct meter_alert *a)
{
    return a->exceeded ? "budget.exceeded" : "budget.threshold";
}

static const char *kind_of(const struct meter_alert *a)
{
    return a->exceeded ? "exceeded" : "threshold";
}

static const char *on_exceed_of(const struct meter_alert *a)
{
    return a->on_exceed == CFG_EXCEED_DISABLE ? "disable" : "alert";
}

static int percent(const struct meter_alert *a)
{
    if (a->limit_usd <= 0)
        return 0;
    double p = a->spent_usd * 100 / a->limit_usd;
    return p > 1e6 ? 1000000 : p < 0 ? 0 : (int)p;
}

char *meter_alert_subject(const struct meter_alert *a)
{
    char limit[GW_MONEY_MAX];
    gw_money(a->limit_usd, limit);
    return gw_xasprintf("[OpenClaw] Budget %s: workspace %s at %d%% of %s %s (%s)",
                        a->exceeded ? "exceeded" : "alert", a->workspace, percent(a), limit,
                        a->currency, a->month);
}

char *meter_alert_text(const struct meter_alert *a)
{
    const char *cur = a->currency;
    char spent[GW_MONEY_MAX], limit[GW_MONEY_MAX];
    gw_money(a->spent_usd, spent);
    gw_money(a->limit_usd, limit);
    char *what;
    if (a->exceeded)
        what = gw_xasprintf(
            "Workspace %s (tenant %s) has reached its monthly budget: it spent %s %s of "
            "%s %s in %s (%d%%).\r\n\r\n%s\r\n",
            a->workspace, a->tenant, spent, cur, limit, cur, a->month, percent(a),
            a->on_exceed == CFG_EXCEED_DISABLE
                ? "onExceed is disable: the gateway refuses further model calls of this "
                  "workspace until the month ends (or the budget is raised)."
                : "onExceed is alert: model calls of this workspace continue.");
    else
        what = gw_xasprintf(
            "Workspace %s (tenant %s) has spent %s %s of its monthly budget of %s %s in %s "
            "(%d%%), above the alert threshold of %.0f%%.\r\n\r\n%s\r\n",
            a->workspace, a->tenant, spent, cur, limit, cur, a->month, percent(a),
            a->threshold * 100,
            a->on_exceed == CFG_EXCEED_DISABLE
                ? "onExceed is disable: model calls of this workspace will be refused once the "
                  "limit is reached, until the month ends."
                : "onExceed is alert: model calls continue when the limit is reached.");
    char *text = gw_xasprintf("%s"
                              "\r\n"
                              "Period: %s (UTC calendar month)\r\n"
                              "Spent: %s %s\r\n"
                              "Limit: %s %s\r\n"
                              "Alert threshold: %.0f%%\r\n"
                              "onExceed: %s\r\n",
                              what, a->month, spent, cur, limit, cur, a->threshold * 100,
                              on_exceed_of(a));
    free(what);
    return text;
}

char *meter_alert_email(const struct meter_alert *a, const char *from, const char *to,
                        int64_t at_ms)
{
    char *subject = meter_alert_subject(a), *text = meter_alert_text(a);
    char *msg = notify_email(from, to, subject, meter_alert_type(a), text, at_ms);
    free(subject);
    free(text);
    return msg;
}

json_t *meter_alert_webhook_json(const struct meter_alert *a)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:s,s:s}", "type", meter_alert_type(a), "tenant",
                     a->tenant, "workspace", a->workspace, "period", a->month, "spent_usd",
                     meter_usd(a->spent_usd), "limit_usd", a->limit_usd, "threshold", a->threshold,
                     "on_exceed", on_exceed_of(a), "currency", a->currency);
}

/* --- at most once ----------------------------------------------------------------------------- */

struct claim {
    struct store *st;
    bool exceeded;
    char month[8];
    char *tenant, *workspace; /* point into text[] */
    char text[];
};

static gw_err claim_run(void *arg)
{
    struct claim *c = arg;
    const char *kind = c->exceeded ? "exceeded" : "threshold";
    int64_t now = meter_now_ms();
    bool fresh = true;
    gw_err rc = store_budget_alert_insert(c->st, c->tenant, c->workspace, c->month, kind, now,
                                          &fresh);
    if (rc == GW_OK && c->exceeded) { /* the limit supersedes the threshold alert */
        bool unused;
        store_budget_alert_insert(c->st, c->tenant, c->workspace, c->month, "threshold", now,
                                  &unused);
    }
    if (rc != GW_OK) {
        gw_warn("costs: cannot remember the budget alert of workspace '%s' in the store (%s); "
                "sending it anyway",
                c->workspace, gw_err_name(rc));
        return GW_OK;
    }
    if (!fresh)
        gw_debug("costs: the %s alert of workspace '%s' for %s was sent before", kind, c->workspace,
                 c->month);
    return fresh ? GW_OK : GW_ECONFLICT;
}

void meter_alert_send(struct notifier *n, struct store *st, const struct meter_alert *a)
{
    size_t lt = strlen(a->tenant) + 1, lw = strlen(a->workspace) + 1;
    struct claim *c = gw_xcalloc(1, sizeof *c + lt + lw);
    c->st = st;
    c->exceeded = a->exceeded;
    snprintf(c->month, sizeof c->month, "%s", a->month);
    c->tenant = memcpy(c->text, a->tenant, lt);
    c->workspace = memcpy(c->text + lt, a->workspace, lw);
    char *subject = meter_alert_subject(a), *text = meter_alert_text(a);
    char *about = gw_xasprintf("the %s alert of workspace '%s'", kind_of(a), a->workspace);
    char spent[GW_MONEY_MAX], limit[GW_MONEY_MAX];
    gw_money(a->spent_usd, spent);
    gw_money(a->limit_usd, limit);
    char *log = gw_xasprintf("costs: budget %s: workspace '%s' (tenant %s) spent %s of %s %s "
                             "in %s (onExceed: %s)",
                             a->exceeded ? "exceeded" : "alert", a->workspace, a->tenant, spent,
                             limit, a->currency, a->month, on_exceed_of(a));
    json_t *hook = meter_alert_webhook_json(a);
    struct notify_msg m = {.type = meter_alert_type(a),
                           .about = about,
                           .log = log,
                           .email_to = a->email,
                           .subject = subject,
                           .text = text,
                           .at_ms = meter_now_ms(),
                           .webhook = hook,
                           .claim = claim_run,
                           .claim_arg = c};
    notify_post(n, &m);
    json_decref(hook);
    free(log);
    free(about);
    free(text);
    free(subject);
}
