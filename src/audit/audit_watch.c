/* SPDX-License-Identifier: MIT
 * audit_watch.c — signed heads leave the machine, and integrity failures reach people.
 *
 * Witness: with audit.witness.url set, every tenant's newest signed head is POSTed there (JSON,
 * the head and its frontier as GET /api/v1/audit/head shows them, Bearer audit.witness.token
 * when set) through
 * net/ under the egress policy, on its own worker thread ("audit-witness"), never on the commit
 * path: the writer only marks the tenant as having a new head (a forwarder, audit_sink.h).
 * Heads are coalesced (the witness gets the newest, which covers every earlier one) and posted
 * again, with a backoff doubling to a minute, until the witness answers 2xx; at start the
 * current heads are posted. A witness that keeps them can later show that the log was cut or
 * rewritten before any of them (openclaw audit verify --since).
 *
 * Alerts: an integrity failure found by the audit trail goes to the alert channels (the
 * costManagement alert e-mail and webhook, notify/) as an "audit.integrity_failure".
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "config/config.h"
#include "net/net.h"
#include "notify/notify.h"

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define POST_TIMEOUT_MS 10000u

struct audit_watch {
    struct audit *a;
    struct net_loop *net;
    struct notifier *notify;
    struct gw_worker *w;
    pthread_mutex_t mu;
    char *url, *auth;  /* under mu: the witness, its Authorization header */
    char *alert_email; /* under mu */
    char **dirty;      /* under mu: tenants whose newest head was not witnessed */
    size_t n_dirty;
    unsigned backoff_ms; /* worker only */
    int64_t next_ns;
    bool failing;
};

/* --- the witness ------------------------------------------------------------------------- */

static void mark(struct audit_watch *w, const char *tenant)
{
    pthread_mutex_lock(&w->mu);
    bool have = false;
    for (size_t i = 0; i < w->n_dirty && !have; i++)
        have = strcmp(w->dirty[i], tenant) == 0;
    if (!have && w->url) {
        w->dirty = gw_xrealloc(w->dirty, (w->n_dirty + 1) * sizeof *w->dirty);
        w->dirty[w->n_dirty++] = gw_xstrdup(tenant);
    }
    pthread_mutex_unlock(&w->mu);
}

static void committed(void *arg, const char *tenant, int64_t seq)
{
    GW_UNUSED(seq);
    struct audit_watch *w = arg;
    mark(w, tenant);
    gw_worker_kick(w->w);
}

static const struct audit_forwarder_ops witness_ops = {.name = "witness", .committed = committed};

/* POSTs the tenant's newest head; GW_OK when the witness took it. */
static gw_err post(struct audit_watch *w, const char *tenant, const char *url, const char *auth)
{
    struct store_audit_checkpoint cp = {0};
    gw_err rc = store_checkpoint_latest(audit_store(w->a), tenant, &cp);
    if (rc == GW_ENOTFOUND)
        return GW_OK; /* nothing signed yet */
    if (rc != GW_OK)
        return rc;
    json_t *o = audit_checkpoint_to_json(&cp);
    struct audit_frontier *fr = gw_xmalloc(sizeof *fr);
    struct audit_store_tree src = {audit_store(w->a), tenant};
    /* with the frontier, a kept head locates where a log later parted from it */
    if (cp.root && audit_frontier_build(fr, cp.seq, audit_store_subtree, &src) == GW_OK)
        json_object_set_new(o, "frontier", audit_frontier_to_json(fr));
    free(fr);
    char *body = gw_json_compact(o);
    json_decref(o);
    store_audit_checkpoint_release(&cp);
    const char *headers[] = {"Content-Type: application/json", auth, NULL};
    struct net_request rq = {.url = url,
                             .method = "POST",
                             .body = body,
                             .body_len = strlen(body),
                             .headers = headers,
                             .timeout_ms = POST_TIMEOUT_MS,
                             .max_body = 4096};
    struct net_response rs = {0};
    rc = net_fetch(w->net, &rq, &rs);
    if (rc == GW_OK && (rs.status < 200 || rs.status > 299)) {
        snprintf(rs.msg, sizeof rs.msg, "HTTP %ld", rs.status);
        rc = GW_EUPSTREAM;
    }
    if (rc != GW_OK && !w->failing)
        gw_warn("audit: the witness did not take the head of tenant %s (%s); retrying", tenant,
                rs.msg[0] ? rs.msg : gw_err_name(rc));
    net_response_release(&rs);
    free(body);
    return rc;
}

static int64_t witness_tick(void *ctx)
{
    struct audit_watch *w = ctx;
    if (w->next_ns && gw_mono_ns() < w->next_ns)
        return w->next_ns;
    pthread_mutex_lock(&w->mu);
    char **pending = w->dirty;
    size_t n = w->n_dirty;
    char *url = w->url ? gw_xstrdup(w->url) : NULL;
    char *auth = w->auth ? gw_xstrdup(w->auth) : NULL;
    w->dirty = NULL;
    w->n_dirty = 0;
    pthread_mutex_unlock(&w->mu);
    bool failed = false;
    for (size_t i = 0; i < n; i++) {
        if (url && !failed && post(w, pending[i], url, auth) != GW_OK)
            failed = true;
        if (failed)
            mark(w, pending[i]); /* posted on a later tick, with the newest head by then */
        free(pending[i]);
    }
    free(pending);
    free(url);
    if (auth)
        explicit_bzero(auth, strlen(auth));
    free(auth);
    if (failed) {
        w->failing = true;
        w->backoff_ms = w->backoff_ms ? GW_MIN(2 * w->backoff_ms, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
        w->next_ns = gw_mono_ns() + (int64_t)w->backoff_ms * 1000000;
        return w->next_ns;
    }
    if (w->failing && n)
        gw_info("audit: the witness takes signed heads again");
    w->failing = false;
    w->backoff_ms = 0;
    w->next_ns = 0;
    return 0;
}

static gw_err no_items(void *ctx, void *const *items, size_t n)
{
    GW_UNUSED(ctx);
    GW_UNUSED(items);
    GW_UNUSED(n);
    return GW_OK;
}

static void no_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    GW_UNUSED(item);
}

static const struct gw_worker_ops witness_worker = {
    .name = "audit-witness",
    .what = "witness posts",
    .queue_cap = 1,
    .batch_max = 1,
    .process = no_items,
    .release = no_release,
    .tick = witness_tick,
};

/* --- alerts ------------------------------------------------------------------------------- */

static void alert(void *arg, const struct audit_integrity_failure *f)
{
    struct audit_watch *w = arg;
    char *subject = gw_xasprintf("OpenClaw audit trail integrity failure (tenant %s)", f->tenant);
    char *text = gw_xasprintf("The audit trail of tenant %s failed its integrity check at "
                              "event %lld:\r\n\r\n  %s\r\n\r\nNo head is signed over it any "
                              "more. Run `openclaw audit verify` and see docs/AUDIT.md.\r\n",
                              f->tenant, (long long)f->first_bad_seq, f->reason);
    char *about = gw_xasprintf("the integrity alert of tenant %s", f->tenant);
    json_t *hook = json_pack("{s:s,s:s,s:I,s:s}", "type", "audit.integrity_failure", "tenant",
                             f->tenant, "first_bad_seq", (json_int_t)f->first_bad_seq, "reason",
                             f->reason);
    pthread_mutex_lock(&w->mu);
    char *to = w->alert_email ? gw_xstrdup(w->alert_email) : NULL;
    pthread_mutex_unlock(&w->mu);
    struct notify_msg m = {.type = "audit.integrity_failure",
                           .about = about,
                           .email_to = to,
                           .subject = subject,
                           .text = text,
                           .at_ms = gw_now_ms(),
                           .webhook = hook};
    notify_post(w->notify, &m);
    json_decref(hook);
    free(to);
    free(about);
    free(text);
    free(subject);
}

/* --- lifecycle ------------------------------------------------------------------------------ */

static void configure(struct audit_watch *w, const struct cfg *c)
{
    pthread_mutex_lock(&w->mu);
    free(w->url);
    free(w->alert_email);
    if (w->auth)
        explicit_bzero(w->auth, strlen(w->auth));
    free(w->auth);
    w->url = c->audit_witness_url ? gw_xstrdup(c->audit_witness_url) : NULL;
    w->auth = c->audit_witness_token
                  ? gw_xasprintf("Authorization: Bearer %s", c->audit_witness_token)
                  : NULL;
    w->alert_email = c->alert_email ? gw_xstrdup(c->alert_email) : NULL;
    pthread_mutex_unlock(&w->mu);
}

/* Every tenant's current head goes to the witness. */
static void mark_all(struct audit_watch *w)
{
    char **tenants = NULL;
    size_t n = 0;
    if (store_audit_tenants(audit_store(w->a), &tenants, &n) == GW_OK)
        for (size_t i = 0; i < n; i++)
            mark(w, tenants[i]);
    store_strv_free(tenants, n);
    gw_worker_kick(w->w);
}

gw_err audit_watch_start(struct audit *a, const struct cfg *c, struct net_loop *net,
                         struct audit_watch **out)
{
    struct audit_watch *w = gw_xcalloc(1, sizeof *w);
    w->a = a;
    w->net = net;
    pthread_mutex_init(&w->mu, NULL);
    configure(w, c);
    gw_err rc = notify_start(c, net, &w->notify);
    if (rc == GW_OK)
        rc = gw_worker_start(&witness_worker, w, &w->w);
    if (rc == GW_OK)
        rc = audit_forwarder_add(a, &witness_ops, w);
    if (rc != GW_OK) {
        audit_watch_stop(w);
        return rc;
    }
    audit_set_alert(a, alert, w);
    mark_all(w);
    *out = w;
    return GW_OK;
}

void audit_watch_reload(struct audit_watch *w, const struct cfg *c)
{
    configure(w, c);
    notify_reload(w->notify, c);
    mark_all(w); /* a new witness gets the current heads */
}

void audit_watch_stop(struct audit_watch *w)
{
    if (!w)
        return;
    audit_set_alert(w->a, NULL, NULL);
    audit_forwarder_remove(w->a, w);
    if (w->w)
        gw_worker_stop(w->w);
    if (w->notify)
        notify_stop(w->notify);
    for (size_t i = 0; i < w->n_dirty; i++)
        free(w->dirty[i]);
    free(w->dirty);
    free(w->url);
    if (w->auth)
        explicit_bzero(w->auth, strlen(w->auth));
    free(w->auth);
    free(w->alert_email);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
