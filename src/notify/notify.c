/* SPDX-License-Identifier: MIT
 * notify.c — the "costs-notify" thread: notifications by e-mail and webhook (see notify.h).
 *
 * A posted notification is copied into one item and handled on a gw_worker (base/worker.h),
 * one at a time: its claim, then the e-mail through the configured SMTP relay (net_smtp_send:
 * MAIL FROM, RCPT TO, an RFC 5322 message) and the JSON POST to the webhook (net_fetch), each
 * with a 10 s transfer timeout and a few attempts with backoff (cut short by a stop). Failures
 * are logged with the transfer's reason (the SMTP password is never logged: it is not part of
 * any message, and is masked should a server echo it).
 */
#include "base/prelude.h"
#include "notify/notify.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "config/config.h"
#include "net/net.h"

#include <pthread.h>
#include <time.h>

struct notifier {
    struct net_loop *net;     /* webhooks on the loop; e-mail under its egress policy */
    struct gw_worker *worker; /* "costs-notify": one notification at a time */
    pthread_mutex_t mu;       /* cfg, stats */
    struct cfg *cfg;
    struct notify_stats stats;
};

struct item {
    const char *type, *about, *log, *email_to, *subject, *text; /* in text[] or NULL */
    int64_t at_ms;
    json_t *webhook;
    notify_claim_fn *claim;
    void *claim_arg;
    char strings[];
};

/* --- the e-mail ------------------------------------------------------------------------------- */

static void rfc5322_date(int64_t ms, char *out, size_t cap)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
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

char *notify_email(const char *from, const char *to, const char *subject, const char *type,
                   const char *text, int64_t at_ms)
{
    char date[64], domain[128], rnd[17];
    rfc5322_date(at_ms, date, sizeof date);
    domain_of(from, domain, sizeof domain);
    gw_random_hex(rnd, 8);
    return gw_xasprintf("Date: %s\r\n"
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
                        "-- \r\n"
                        "OpenClaw Enterprise Gateway\r\n",
                        date, from, to, subject, (long long)at_ms, rnd, domain, type, text);
}

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

/* --- channels (notifier thread) --------------------------------------------------------------- */

static bool send_mail(struct notifier *n, const struct cfg *c, const struct item *it, char *why,
                      size_t cap)
{
    struct gw_buf to;
    gw_buf_init(&to, 8192);
    char *list = gw_xstrdup(it->email_to), *save = NULL;
    const char **rcpt = gw_xcalloc(strlen(it->email_to) / 2 + 2, sizeof *rcpt);
    size_t n_rcpt = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ')
            tok[--len] = '\0';
        if (!address_ok(tok)) {
            gw_warn("notify: recipient '%.80s' is not a usable address; skipped", tok);
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
        char *msg = notify_email(from, to.data, it->subject, it->type, it->text, it->at_ms);
        struct net_mail m = {.url = c->smtp_url,
                             .from = from,
                             .to = rcpt,
                             .message = msg,
                             .user = c->smtp_username,
                             .password = c->smtp_password,
                             .timeout_ms = NOTIFY_TIMEOUT_S * 1000};
        ok = net_smtp_send(n->net, &m, why, cap) == GW_OK;
        free(msg);
    }
    free(rcpt);
    free(list);
    gw_buf_release(&to);
    return ok;
}

static bool send_webhook(struct notifier *n, const struct cfg *c, const struct item *it, char *why,
                         size_t cap)
{
    char *body = gw_json_compact(it->webhook);
    static const char *const headers[] = {"Content-Type: application/json",
                                          "User-Agent: openclaw-gateway/" GW_VERSION, NULL};
    struct net_request rq = {.url = c->alert_webhook,
                             .body = body,
                             .body_len = strlen(body),
                             .headers = headers,
                             .timeout_ms = NOTIFY_TIMEOUT_S * 1000,
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

typedef bool send_fn(struct notifier *n, const struct cfg *c, const struct item *it, char *why,
                     size_t cap);

static bool attempt(struct notifier *n, const struct cfg *c, const struct item *it, send_fn *fn,
                    const char *channel)
{
    unsigned wait = NOTIFY_BACKOFF_MS;
    for (unsigned i = 1;; i++) {
        char why[320] = "";
        if (fn(n, c, it, why, sizeof why))
            return true;
        bool last = i >= NOTIFY_ATTEMPTS;
        gw_warn("notify: %s of %s failed (attempt %u of %d%s): %s", channel, it->about, i,
                NOTIFY_ATTEMPTS, last ? ", giving up" : "", why);
        if (last || !gw_worker_sleep(n->worker, wait))
            return false;
        wait *= 2;
    }
}

static void count(struct notifier *n, uint64_t *counter)
{
    pthread_mutex_lock(&n->mu);
    (*counter)++;
    pthread_mutex_unlock(&n->mu);
}

static void handle(struct notifier *n, const struct item *it)
{
    if (it->claim && it->claim(it->claim_arg) == GW_ECONFLICT) {
        count(n, &n->stats.duplicates);
        return;
    }
    pthread_mutex_lock(&n->mu);
    struct cfg *c = cfg_ref(n->cfg);
    pthread_mutex_unlock(&n->mu);
    if (it->log)
        gw_warn("%s", it->log);
    bool ok = true;
    if (it->email_to && c->smtp_url)
        ok = attempt(n, c, it, send_mail, "e-mail") && ok;
    else if (it->email_to)
        gw_warn("notify: no costManagement.smtp.url: the e-mail of %s is not sent", it->about);
    if (it->webhook && c->alert_webhook)
        ok = attempt(n, c, it, send_webhook, "webhook") && ok;
    count(n, ok ? &n->stats.delivered : &n->stats.failures);
    cfg_unref(c);
}

/* --- the worker ------------------------------------------------------------------------------- */

static gw_err notify_process(void *ctx, void *const *items, size_t n)
{
    struct notifier *nt = ctx;
    for (size_t i = 0; i < n; i++) {
        handle(nt, items[i]);
        count(nt, &nt->stats.handled);
    }
    return GW_OK;
}

static void item_free(struct item *it)
{
    json_decref(it->webhook);
    free(it->claim_arg);
    free(it);
}

static void notify_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    item_free(item);
}

static const struct gw_worker_ops notify_ops = {
    .name = "costs-notify",
    .what = "notifications",
    .queue_cap = NOTIFY_QUEUE_CAP,
    .batch_max = 1,
    .full_wait_ms = 0, /* more notifications are dropped (logged) */
    .process = notify_process,
    .release = notify_release,
};

gw_err notify_start(const struct cfg *c, struct net_loop *net, struct notifier **out)
{
    *out = NULL;
    struct notifier *n = gw_xcalloc(1, sizeof *n);
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

void notify_stop(struct notifier *n)
{
    if (!n)
        return;
    gw_worker_stop(n->worker); /* every queued notification gets one attempt */
    cfg_unref(n->cfg);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

void notify_reload(struct notifier *n, const struct cfg *c)
{
    struct cfg *nc = cfg_ref((struct cfg *)c);
    pthread_mutex_lock(&n->mu);
    struct cfg *old = n->cfg;
    n->cfg = nc;
    pthread_mutex_unlock(&n->mu);
    cfg_unref(old);
}

static size_t len_of(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *put(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = memcpy(*cursor, s, n);
    *cursor += n;
    return out;
}

void notify_post(struct notifier *n, const struct notify_msg *m)
{
    const char *type = m->type ? m->type : "notification";
    const char *about = m->about ? m->about : "a notification";
    const char *subject = m->subject ? m->subject : "", *text = m->text ? m->text : "";
    struct item *it = gw_xcalloc(1, sizeof *it + len_of(type) + len_of(about) + len_of(m->log) +
                                        len_of(m->email_to) + len_of(subject) + len_of(text));
    char *c = it->strings;
    it->type = put(&c, type);
    it->about = put(&c, about);
    it->log = put(&c, m->log);
    it->email_to = put(&c, m->email_to);
    it->subject = put(&c, subject);
    it->text = put(&c, text);
    it->at_ms = m->at_ms;
    it->webhook = m->webhook ? json_deep_copy(m->webhook) : NULL;
    it->claim = m->claim;
    it->claim_arg = m->claim_arg;
    gw_err rc = gw_worker_post(n->worker, it);
    if (rc == GW_OK)
        return;
    count(n, &n->stats.dropped);
    gw_warn("notify: %s was dropped (%s)", it->about,
            rc == GW_ECANCELED ? "shutting down" : "too many notifications queued");
    item_free(it);
}

void notify_flush(struct notifier *n)
{
    gw_worker_flush(n->worker);
}

void notify_get_stats(struct notifier *n, struct notify_stats *s)
{
    pthread_mutex_lock(&n->mu);
    *s = n->stats;
    pthread_mutex_unlock(&n->mu);
}
