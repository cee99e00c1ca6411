/* SPDX-License-Identifier: MIT
 * llm_costs_notify.c — the "costs-notify" thread: budget alerts by e-mail and webhook.
 *
 * Recorders post an alert when a month total crosses a budget's threshold or limit (at most
 * one of each kind per workspace and month and process). The thread first claims the alert in
 * the store (budget_alerts, insert-if-absent): a claim that already exists means an earlier run
 * sent it, and nothing is sent again. Then it sends the e-mail through the configured SMTP
 * relay (net_smtp_send: MAIL FROM, RCPT TO, an RFC 5322 message) and POSTs the JSON webhook
 * (net_fetch), each with a 10 s transfer timeout and a few attempts with backoff. Failures are
 * logged with the transfer's reason (the SMTP password is never logged: it is not part of any
 * message, and is masked should a server echo it). The queue is bounded; at shutdown every
 * queued alert gets one attempt. Alerts are claimed before sending, so delivery is at most
 * once.
 */
#include "base/prelude.h"
#include "llm/llm_costs_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "net/net.h"
#include "store/store.h"

#include <pthread.h>
#include <time.h>

struct llm_notifier {
    struct store *st;
    struct net_loop *net;      /* webhooks on the loop; e-mail under its egress policy */
    struct gw_worker *worker;  /* "costs-notify": one alert at a time */
    pthread_mutex_t mu;        /* cfg, stats */
    struct cfg *cfg;
    struct llm_notifier_stats stats;
};

/* --- the alert and its messages ------------------------------------------------------------- */

void llm_alert_free(struct llm_alert *a)
{
    if (!a)
        return;
    free(a->tenant);
    free(a->workspace);
    free(a->email);
    free(a->currency);
    free(a);
}

const char *llm_alert_type(const struct llm_alert *a)
{
    return a->exceeded ? "budget.exceeded" : "budget.threshold";
}

static int percent(const struct llm_alert *a)
{
    if (a->limit_usd <= 0)
        return 0;
    double p = a->spent_usd * 100 / a->limit_usd;
    return p > 1e6 ? 1000000 : p < 0 ? 0 : (int)p;
}

char *llm_alert_subject(const struct llm_alert *a)
{
    return gw_xasprintf("[OpenClaw] Budget %s: workspace %s at %d%% of %.2f %s (%s)",
                        a->exceeded ? "exceeded" : "alert", a->workspace, percent(a),
                        a->limit_usd, a->currency, a->month);
}

static void rfc5322_date(int64_t ms, char *out, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
             tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* Domain of an address for the Message-ID ("openclaw.invalid" when there is none). */
static void domain_of(const char *addr, char *out, size_t cap)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    size_t n = 0;
    if (at)
        for (const char *p = at + 1; *p && n + 1 < cap; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '.' || *p == '-')
                out[n++] = *p;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, cap, "openclaw.invalid");
}

char *llm_alert_email(const struct llm_alert *a, const char *from, const char *to,
                      int64_t now_ms)
{
    char date[64], domain[128], rnd[17];
    rfc5322_date(now_ms, date, sizeof date);
    domain_of(from, domain, sizeof domain);
    gw_random_hex(rnd, 8);
    char *subject = llm_alert_subject(a);
    const char *cur = a->currency;
    char *what;
    if (a->exceeded)
        what = gw_xasprintf(
            "Workspace %s (tenant %s) has reached its monthly budget: it spent %.2f %s of "
            "%.2f %s in %s (%d%%).\r\n\r\n%s\r\n",
            a->workspace, a->tenant, a->spent_usd, cur, a->limit_usd, cur, a->month, percent(a),
            a->on_exceed == CFG_EXCEED_DISABLE
                ? "onExceed is disable: the gateway refuses further model calls of this "
                  "workspace until the month ends (or the budget is raised)."
                : "onExceed is alert: model calls of this workspace continue.");
    else
        what = gw_xasprintf(
            "Workspace %s (tenant %s) has spent %.2f %s of its monthly budget of %.2f %s in %s "
            "(%d%%), above the alert threshold of %.0f%%.\r\n\r\n%s\r\n",
            a->workspace, a->tenant, a->spent_usd, cur, a->limit_usd, cur, a->month, percent(a),
            a->threshold * 100,
            a->on_exceed == CFG_EXCEED_DISABLE
                ? "onExceed is disable: model calls of this workspace will be refused once the "
                  "limit is reached, until the month ends."
                : "onExceed is alert: model calls continue when the limit is reached.");
    char *msg = gw_xasprintf("Date: %s\r\n"
                             "From: %s\r\n"
                             "To: %s\r\n"
                             "Subject: %s\r\n"
                             "Message-ID: <%lld.%s@%s>\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n"
                             "Auto-Submitted: auto-generated\r\n"
                             "X-OpenClaw-Alert: %s\r\n"
                             "\r\n"
                             "%s"
                             "\r\n"
                             "Period: %s (UTC calendar month)\r\n"
                             "Spent: %.2f %s\r\n"
                             "Limit: %.2f %s\r\n"
                             "Alert threshold: %.0f%%\r\n"
                             "onExceed: %s\r\n"
                             "\r\n"
                             "-- \r\n"
                             "OpenClaw Enterprise Gateway\r\n",
                             date, from, to, subject, (long long)now_ms, rnd, domain,
                             llm_alert_type(a), what, a->month, a->spent_usd, cur, a->limit_usd,
                             cur, a->threshold * 100,
                             a->on_exceed == CFG_EXCEED_DISABLE ? "disable" : "alert");
    free(what);
    free(subject);
    return msg;
}

json_t *llm_alert_webhook_json(const struct llm_alert *a)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:s,s:s}", "type", llm_alert_type(a),
                     "tenant", a->tenant, "workspace", a->workspace, "period", a->month,
                     "spent_usd", a->spent_usd, "limit_usd", a->limit_usd,
                     "threshold", a->threshold, "on_exceed",
                     a->on_exceed == CFG_EXCEED_DISABLE ? "disable" : "alert", "currency",
                     a->currency);
}

/* --- transports ------------------------------------------------------------------------------- */

/* One mailbox: printable ASCII without blanks, brackets or commas, with one '@'. */
static bool address_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == '"' ||
            *p == '(' || *p == ')' || *p == ';' || *p == '\\')
            return false;
    return true;
}

/* Sends the e-mail; false with the reason in why. */
static bool send_mail(struct llm_notifier *n, const struct cfg *c, const struct llm_alert *a,
                      char *why, size_t cap)
{
    struct gw_buf to;
    gw_buf_init(&to, 8192);
    char *list = gw_xstrdup(a->email), *save = NULL;
    const char **rcpt = gw_xcalloc(strlen(a->email) / 2 + 2, sizeof *rcpt);
    size_t n_rcpt = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!address_ok(tok)) {
            gw_warn("costs: budget alert recipient '%.80s' is not a usable address; skipped", tok);
            continue;
        }
        rcpt[n_rcpt++] = tok;
        if (to.len)
            gw_buf_puts(&to, ", ");
        gw_buf_puts(&to, tok);
    }
    bool ok = false;
    const char *from = c->smtp_from && address_ok(c->smtp_from) ? c->smtp_from
                                                                : "openclaw-gateway@localhost";
    if (n_rcpt == 0) {
        snprintf(why, cap, "no usable recipient");
    } else {
        char *msg = llm_alert_email(a, from, to.data, llm_costs_now_ms());
        struct net_mail m = {.url = c->smtp_url, .from = from, .to = rcpt, .message = msg,
                             .user = c->smtp_username, .password = c->smtp_password,
                             .timeout_ms = LLM_ALERT_TIMEOUT_S * 1000};
        ok = net_smtp_send(n->net, &m, why, cap) == GW_OK;
        free(msg);
    }
    free(rcpt);
    free(list);
    gw_buf_release(&to);
    return ok;
}

static bool send_webhook(struct llm_notifier *n, const struct cfg *c, const struct llm_alert *a,
                         char *why, size_t cap)
{
    json_t *j = llm_alert_webhook_json(a);
    char *body = gw_json_compact(j);
    json_decref(j);
    static const char *const headers[] = {"Content-Type: application/json",
                                          "User-Agent: openclaw-gateway/" GW_VERSION, NULL};
    struct net_request rq = {.url = c->alert_webhook, .body = body, .body_len = strlen(body),
                             .headers = headers, .timeout_ms = LLM_ALERT_TIMEOUT_S * 1000,
                             .max_body = 4096};
    struct net_response r;
    gw_err rc = net_fetch(n->net, &rq, &r);
    bool ok = false;
    if (rc != GW_OK)
        snprintf(why, cap, "%s", r.msg);
    else if (r.status < 200 || r.status > 299)
        snprintf(why, cap, "HTTP status %ld", r.status);
    else
        ok = true;
    net_response_release(&r);
    free(body);
    return ok;
}

/* --- the thread ------------------------------------------------------------------------------- */

typedef bool send_fn(struct llm_notifier *n, const struct cfg *c, const struct llm_alert *a,
                     char *why, size_t cap);

static bool attempt(struct llm_notifier *n, const struct cfg *c, const struct llm_alert *a,
                    send_fn *fn, const char *channel)
{
    unsigned wait = LLM_ALERT_BACKOFF_MS;
    for (unsigned i = 1;; i++) {
        char why[320] = "";
        if (fn(n, c, a, why, sizeof why))
            return true;
        bool last = i >= LLM_ALERT_ATTEMPTS;
        gw_warn("costs: %s of the %s alert of workspace '%s' failed (attempt %u of %d%s): %s",
                channel, a->exceeded ? "exceeded" : "threshold", a->workspace, i,
                LLM_ALERT_ATTEMPTS, last ? ", giving up" : "", why);
        if (last || !gw_worker_sleep(n->worker, wait))
            return false;
        wait *= 2;
    }
}

static void handle(struct llm_notifier *n, const struct llm_alert *a)
{
    pthread_mutex_lock(&n->mu);
    struct cfg *c = cfg_ref(n->cfg);
    pthread_mutex_unlock(&n->mu);

    int64_t now = llm_costs_now_ms();
    bool fresh = true;
    gw_err rc = store_budget_alert_insert(n->st, a->tenant, a->workspace, a->month,
                                          a->exceeded ? "exceeded" : "threshold", now, &fresh);
    if (rc == GW_OK && a->exceeded) { /* the limit supersedes the threshold alert */
        bool unused;
        store_budget_alert_insert(n->st, a->tenant, a->workspace, a->month, "threshold", now,
                                  &unused);
    }
    if (rc != GW_OK) {
        gw_warn("costs: cannot remember the budget alert of workspace '%s' in the store (%s); "
                "sending it anyway", a->workspace, gw_err_name(rc));
    } else if (!fresh) {
        gw_debug("costs: the %s alert of workspace '%s' for %s was sent before",
                 a->exceeded ? "exceeded" : "threshold", a->workspace, a->month);
        pthread_mutex_lock(&n->mu);
        n->stats.duplicates++;
        pthread_mutex_unlock(&n->mu);
        cfg_unref(c);
        return;
    }
    gw_warn("costs: budget %s: workspace '%s' (tenant %s) spent %.2f of %.2f %s in %s "
            "(onExceed: %s)", a->exceeded ? "exceeded" : "alert", a->workspace, a->tenant,
            a->spent_usd, a->limit_usd, a->currency, a->month,
            a->on_exceed == CFG_EXCEED_DISABLE ? "disable" : "alert");
    bool ok = true;
    if (a->email && c->smtp_url)
        ok = attempt(n, c, a, send_mail, "e-mail") && ok;
    else if (a->email)
        gw_warn("costs: no costManagement.smtp.url: the alert e-mail of workspace '%s' is not "
                "sent", a->workspace);
    if (c->alert_webhook)
        ok = attempt(n, c, a, send_webhook, "webhook") && ok;
    pthread_mutex_lock(&n->mu);
    if (ok)
        n->stats.delivered++;
    else
        n->stats.failures++;
    pthread_mutex_unlock(&n->mu);
    cfg_unref(c);
}

static gw_err notify_process(void *ctx, void *const *items, size_t n)
{
    struct llm_notifier *nt = ctx;
    for (size_t i = 0; i < n; i++) {
        handle(nt, items[i]);
        pthread_mutex_lock(&nt->mu);
        nt->stats.handled++;
        pthread_mutex_unlock(&nt->mu);
    }
    return GW_OK;
}

static void notify_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    llm_alert_free(item);
}

static const struct gw_worker_ops notify_ops = {
    .name = "costs-notify",
    .what = "budget alerts",
    .queue_cap = LLM_ALERT_QUEUE_CAP,
    .batch_max = 1,
    .full_wait_ms = 0, /* more alerts are dropped (logged) */
    .process = notify_process,
    .release = notify_release,
};

gw_err llm_notifier_start(struct store *st, const struct cfg *c, struct net_loop *net,
                          struct llm_notifier **out)
{
    *out = NULL;
    struct llm_notifier *n = gw_xcalloc(1, sizeof *n);
    n->st = st;
    n->net = net;
    n->cfg = cfg_ref((struct cfg *)c);
    pthread_mutex_init(&n->mu, NULL);
    gw_err rc = gw_worker_start(&notify_ops, n, &n->worker);
    if (rc != GW_OK) {
        cfg_unref(n->cfg);
        pthread_mutex_destroy(&n->mu);
        free(n);
        return rc;
    }
    *out = n;
    return GW_OK;
}

void llm_notifier_stop(struct llm_notifier *n)
{
    if (!n)
        return;
    gw_worker_stop(n->worker); /* every queued alert gets one attempt */
    cfg_unref(n->cfg);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

void llm_notifier_reload(struct llm_notifier *n, const struct cfg *c)
{
    struct cfg *nc = cfg_ref((struct cfg *)c);
    pthread_mutex_lock(&n->mu);
    struct cfg *old = n->cfg;
    n->cfg = nc;
    pthread_mutex_unlock(&n->mu);
    cfg_unref(old);
}

void llm_notifier_post(struct llm_notifier *n, struct llm_alert *a)
{
    gw_err rc = gw_worker_post(n->worker, a);
    if (rc == GW_OK)
        return;
    pthread_mutex_lock(&n->mu);
    n->stats.dropped++;
    pthread_mutex_unlock(&n->mu);
    gw_warn("costs: the budget alert of workspace '%s' was dropped (%s)", a->workspace,
            rc == GW_ECANCELED ? "shutting down" : "too many alerts queued");
    llm_alert_free(a);
}

void llm_notifier_flush(struct llm_notifier *n)
{
    gw_worker_flush(n->worker);
}

void llm_notifier_get_stats(struct llm_notifier *n, struct llm_notifier_stats *s)
{
    pthread_mutex_lock(&n->mu);
    *s = n->stats;
    pthread_mutex_unlock(&n->mu);
}
