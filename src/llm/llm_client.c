/* SPDX-License-Identifier: MIT
 * llm_client.c — model calls on the outbound loop: admission, transfers, retries, fallbacks
 * (see llm.h).
 *
 * An exchange moves through: NEW (just submitted) → QUEUED (waiting in its provider's
 * scheduler) → RUNNING (an HTTP call on the net loop) → DONE, with RETRY_WAIT between attempts.
 * The client is a source of the "net-io" loop (net/net.h): on every turn of the loop it takes
 * the new submissions, handles cancels and runs the retry timers and the schedulers; the calls
 * themselves are net calls embedded in the exchanges. Only the loop thread touches an
 * exchange's state; other threads only submit (incoming list) and cancel (a flag and a
 * counter), then wake the loop.
 */
#include "base/prelude.h"
#include "llm/llm.h"
#include "llm/llm_quota.h"
#include "llm/llm_registry.h"
#include "llm/llm_sched.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "net/net.h"
#include "shared/shared.h"

#include <pthread.h>
#include <stddef.h>
#include <strings.h>

#define ERROR_BODY_MAX ((size_t)64 * 1024)   /* upstream error bodies kept for the message */
#define RESPONSE_BODY_MAX ((size_t)32 << 20) /* a complete upstream answer */
#define MAX_RETRY_DELAY_MS 30000             /* longer Retry-After: move to the next target */
#define DEFAULT_COMPLETION_ESTIMATE 512      /* tokens, when max_tokens is absent */
#define MAX_HEADERS 6

enum xstate { X_NEW, X_QUEUED, X_RETRY_WAIT, X_RUNNING, X_DONE };

struct provider_slot {
    char name[136]; /* "<provider>", or "<tenant>:<provider>" for a run-time one */
    struct llm_sched *sched;
    struct llm_quota *quota; /* the cluster's count of its limits, or NULL */
};

struct llm_exchange {
    atomic_int refs;
    struct llm_client *cl;
    struct cfg *cfg;
    struct llm_catalog *catalog;
    json_t *canon;
    bool stream;
    struct llm_target *targets;
    const struct llm_target *caller_targets; /* the caller's array, for llm_result.served */
    size_t n_targets, cur;
    unsigned tries;  /* attempts on the current target */
    char tried[384]; /* earlier targets and why each failed: "p/m: why; " */
    unsigned n_tried;
    char *tenant, *user, *client_model;
    size_t prompt_bytes;
    char id[48];
    llm_on_chunk_fn *on_chunk;
    llm_on_done_fn *on_done;
    void *arg;

    /* I/O thread only */
    enum xstate state;
    struct llm_exchange *prev, *next; /* live list */
    struct llm_exchange *link;        /* incoming or retry list */
    struct llm_ticket ticket;
    struct llm_sched *sched;
    int64_t due_ms, queued_at_ms;
    struct net_call call; /* the attempt's HTTP call */
    struct net_request nreq;
    char *url, *auth; /* of nreq */
    const char *headers[MAX_HEADERS + 1];
    struct llm_wire_req wreq;
    long status;
    unsigned retry_after_s;
    struct llm_decoder *dec;
    gw_err stream_err;
    char stream_msg[200];
    int64_t streamed_chars;
    struct llm_result res;
    atomic_bool cancel_requested;
};

struct llm_client {
    struct net_loop *net;
    struct net_source source; /* runs on every turn of the loop */
    pthread_mutex_t lock;     /* incoming, stop, slots array growth */
    struct llm_exchange *incoming;
    bool stop;
    atomic_int cancels; /* llm_cancel calls not yet handled by the loop */
    struct provider_slot *slots;
    size_t n_slots;
    struct shared *_Atomic shared; /* Redis-backed, or NULL: limits per node */
    int64_t beat_at;               /* wall ms of the next llm_quota_beat */
    unsigned nodes;                /* nodes last seen */
    /* loop thread only */
    struct llm_exchange *live;
    struct llm_exchange *retrying;
};

static int64_t now_ms(void)
{
    return gw_mono_ns() / 1000000;
}

static void xunref(struct llm_exchange *x)
{
    if (atomic_fetch_sub(&x->refs, 1) != 1)
        return;
    cfg_unref(x->cfg);
    llm_catalog_unref(x->catalog);
    json_decref(x->canon);
    free(x->targets);
    free(x->tenant);
    free(x->user);
    free(x->client_model);
    free(x);
}

void llm_exchange_unref(struct llm_exchange *x)
{
    if (x)
        xunref(x);
}

/* --- providers' schedulers ---------------------------------------------------------------- */

/* One scheduler per provider: the configuration's by name, a run-time one by tenant and name
 * (two tenants may each have a provider of one name). */
static struct llm_sched *sched_for(struct llm_client *cl, const struct llm_target *t)
{
    const struct cfg_provider *p = t->provider;
    char key[sizeof(cl->slots->name)];
    snprintf(key, sizeof(key), "%s%s%s", t->tenant ? t->tenant : "", t->tenant ? ":" : "", p->name);
    for (size_t i = 0; i < cl->n_slots; i++) {
        if (strcmp(cl->slots[i].name, key) == 0) {
            if (cl->slots[i].quota)
                llm_quota_set_limits(cl->slots[i].quota, &p->limits);
            llm_sched_set_limits(cl->slots[i].sched, &p->limits);
            return cl->slots[i].sched;
        }
    }
    pthread_mutex_lock(&cl->lock);
    cl->slots = gw_xrealloc(cl->slots, (cl->n_slots + 1) * sizeof(*cl->slots));
    struct provider_slot *s = &cl->slots[cl->n_slots++];
    snprintf(s->name, sizeof(s->name), "%s", key);
    s->sched = llm_sched_new(&p->limits);
    struct shared *sh = atomic_load(&cl->shared);
    s->quota = sh ? llm_quota_new(sh, key, &p->limits) : NULL;
    pthread_mutex_unlock(&cl->lock);
    if (s->quota) {
        struct llm_gate g = llm_quota_gate(s->quota);
        llm_quota_set_nodes(s->quota, cl->nodes);
        llm_sched_set_gate(s->sched, &g);
    }
    return s->sched;
}

/* --- finishing ---------------------------------------------------------------------------- */

static void transfer_cleanup(struct llm_exchange *x)
{
    net_call_abort(&x->call); /* nothing when the call ended already */
    free(x->url);
    x->url = NULL;
    if (x->auth) {
        explicit_bzero(x->auth, strlen(x->auth));
        free(x->auth);
        x->auth = NULL;
    }
    llm_wire_req_release(&x->wreq);
    if (x->dec) {
        llm_decoder_free(x->dec);
        x->dec = NULL;
    }
}

static void live_remove(struct llm_exchange *x)
{
    struct llm_client *cl = x->cl;
    if (x->prev)
        x->prev->next = x->next;
    else
        cl->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void retry_remove(struct llm_exchange *x)
{
    for (struct llm_exchange **pp = &x->cl->retrying; *pp; pp = &(*pp)->link) {
        if (*pp == x) {
            *pp = x->link;
            x->link = NULL;
            return;
        }
    }
}

static size_t messages_bytes(const json_t *canon)
{
    char *text = gw_json_compact(json_object_get(canon, "messages"));
    size_t n = text ? strlen(text) : 0;
    free(text);
    return n;
}

static void estimate_usage(struct llm_exchange *x)
{
    if (x->res.usage.known)
        return;
    if (!x->prompt_bytes)
        x->prompt_bytes = messages_bytes(x->canon);
    x->res.usage.prompt_tokens = (int64_t)x->prompt_bytes / 4 + 1;
    x->res.usage.completion_tokens = x->streamed_chars / 4 + (x->streamed_chars ? 1 : 0);
}

/* A target is given up (why): remembered for the message of a call that fails in the end. */
static void note_tried(struct llm_exchange *x, const char *why)
{
    const struct llm_target *t = &x->targets[x->cur];
    size_t len = strlen(x->tried);
    snprintf(x->tried + len, sizeof(x->tried) - len, "%s/%s: %.110s; ", t->provider->name,
             t->model->name, why);
    x->n_tried++;
}

/* The message of a call that failed after a fallback: every target tried, and why. */
static void name_targets(struct llm_exchange *x)
{
    char last[sizeof(x->res.msg)];
    snprintf(last, sizeof(last), "%s", x->res.msg);
    if (x->cur >= x->n_targets) { /* the last one was noted too */
        snprintf(x->res.msg, sizeof(x->res.msg), "all %u targets failed: %.250s%.200s", x->n_tried,
                 x->tried, last);
        return;
    }
    const struct llm_target *t = &x->targets[x->cur];
    snprintf(x->res.msg, sizeof(x->res.msg), "all %u targets failed: %.250s%s/%s: %.180s",
             x->n_tried + 1, x->tried, t->provider->name, t->model->name, last);
}

static void finish(struct llm_exchange *x, gw_err err, const char *fmt, ...) GW_PRINTF(3, 4);
static void finish(struct llm_exchange *x, gw_err err, const char *fmt, ...)
{
    if (x->state == X_DONE)
        return;
    if (x->state == X_QUEUED)
        llm_sched_cancel(x->sched, &x->ticket);
    if (x->state == X_RETRY_WAIT)
        retry_remove(x);
    x->state = X_DONE;
    x->res.err = err;
    x->res.status = x->status;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->res.msg, sizeof(x->res.msg), fmt, ap);
        va_end(ap);
    }
    if (err != GW_OK && err != GW_ECANCELED && x->n_tried)
        name_targets(x);
    if (x->n_targets)
        x->res.served = &x->caller_targets[x->cur < x->n_targets ? x->cur : x->n_targets - 1];
    estimate_usage(x);
    x->on_done(x->arg, &x->res);
    json_decref(x->res.response);
    x->res.response = NULL;
    transfer_cleanup(x);
    live_remove(x);
    xunref(x);
}

/* --- one attempt ---------------------------------------------------------------------------- */

static int on_chunk(void *arg, json_t *chunk)
{
    struct llm_exchange *x = arg;
    if (atomic_load(&x->cancel_requested))
        return 1;
    json_t *choices = json_object_get(chunk, "choices");
    json_t *delta = json_object_get(json_array_get(choices, 0), "delta");
    const char *content = gw_json_str(delta, "content");
    if (content)
        x->streamed_chars += (int64_t)strlen(content);
    x->res.streamed = true;
    if (x->on_chunk(x->arg, chunk) != 0) {
        atomic_store(&x->cancel_requested, true);
        return 1;
    }
    return 0;
}

static bool on_data(void *arg, long status, const char *data, size_t len)
{
    struct llm_exchange *x = arg;
    if (atomic_load(&x->cancel_requested))
        return false;
    x->status = status;
    if (!x->dec)
        x->dec = llm_decoder_new((enum llm_api)x->targets[x->cur].provider->api, x->client_model,
                                 x->id, on_chunk, x);
    x->stream_err = llm_decoder_feed(x->dec, data, len, x->stream_msg, sizeof(x->stream_msg));
    return x->stream_err == GW_OK;
}

static void on_header(void *arg, const char *data, size_t len)
{
    struct llm_exchange *x = arg;
    if (len > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
        long v = strtol(data + 12, NULL, 10);
        if (v > 0 && v < 3600)
            x->retry_after_s = (unsigned)v;
    }
}

static void transfer_done(void *arg, const struct net_result *res);

static bool launch(struct llm_exchange *x)
{
    const struct llm_target *t = &x->targets[x->cur];
    const struct cfg_provider *p = t->provider;
    const char *upstream = t->model->upstream ? t->model->upstream : t->model->name;
    char msg[200];
    x->res.attempts++;
    x->res.failure = 0;
    x->status = 0;
    x->retry_after_s = 0;
    x->stream_err = GW_OK;
    if (llm_wire_build((enum llm_api)p->api, x->canon, upstream, x->stream, &x->wreq, msg,
                       sizeof(msg)) != GW_OK) {
        llm_sched_release(x->sched, &x->ticket, 0, now_ms()); /* the slot it was admitted to */
        finish(x, GW_EINVAL, "request cannot be sent to %s: %s", p->name, msg);
        return false;
    }
    const struct llm_provider *wire = llm_provider_get((enum llm_api)p->api);
    x->url = gw_xasprintf("%s%s", p->base_url, x->wreq.path);
    size_t n = 0;
    x->headers[n++] = "Content-Type: application/json";
    x->headers[n++] = "Expect:"; /* no 100-continue round trip */
    if (x->stream)
        x->headers[n++] = "Accept: text/event-stream";
    for (size_t i = 0; wire->headers && wire->headers[i] && n + 2 < MAX_HEADERS; i++)
        x->headers[n++] = wire->headers[i];
    if (p->api_key) /* api keys are at most 4096 bytes (config) */
        x->headers[n++] = x->auth = gw_xasprintf("%s%.4096s", wire->auth_prefix, p->api_key);
    x->headers[n] = NULL;
    x->nreq = (struct net_request){
        .url = x->url,
        .body = x->wreq.body,
        .body_len = strlen(x->wreq.body),
        .headers = x->headers,
        .timeout_ms = p->timeout_ms,
        .connect_timeout_ms = p->connect_timeout_ms,
        .max_body = x->stream ? ERROR_BODY_MAX : RESPONSE_BODY_MAX,
        .on_data = x->stream ? on_data : NULL,
        .on_header = on_header,
        .on_done = transfer_done,
        .arg = x,
    };
    if (net_call_start(x->cl->net, &x->call, &x->nreq, msg, sizeof(msg)) != GW_OK) {
        llm_sched_release(x->sched, &x->ticket, 0, now_ms());
        finish(x, GW_EUPSTREAM, "provider %s: %s", p->name, msg);
        return false;
    }
    x->state = X_RUNNING;
    return true;
}

/* Tokens are estimated at 4 bytes each (admission, and usage a provider did not report). */
static int64_t estimate_tokens(struct llm_exchange *x)
{
    const json_t *canon = x->canon;
    if (!x->prompt_bytes)
        x->prompt_bytes = messages_bytes(canon);
    int64_t est = (int64_t)x->prompt_bytes / 4 + 1;
    json_t *mt = json_object_get(canon, "max_completion_tokens");
    if (!json_is_integer(mt))
        mt = json_object_get(canon, "max_tokens");
    return est + (json_is_integer(mt) ? json_integer_value(mt) : DEFAULT_COMPLETION_ESTIMATE);
}

/* Asks the current target's scheduler for a slot; moves on when its queue is full. */
static void start_target(struct llm_exchange *x)
{
    for (;;) {
        if (x->cur >= x->n_targets) {
            finish(x, GW_ETHROTTLED, "every provider for this model is at its limit; retry in %u s",
                   x->res.retry_after_s ? x->res.retry_after_s : 1);
            return;
        }
        x->sched = sched_for(x->cl, &x->targets[x->cur]);
        x->ticket = (struct llm_ticket){.tenant = x->tenant,
                                        .user = x->user,
                                        .est_tokens = estimate_tokens(x)};
        x->queued_at_ms = now_ms();
        enum llm_admit a = llm_sched_submit(x->sched, &x->ticket, x->queued_at_ms);
        if (a == LLM_ADMITTED) {
            launch(x);
            return;
        }
        if (a == LLM_QUEUED) {
            x->state = X_QUEUED;
            return;
        }
        x->res.retry_after_s = llm_sched_retry_after_s(x->sched, now_ms());
        note_tried(x, "at its limit (queue full)");
        x->cur++;
        x->tries = 0;
    }
}

static bool retryable_status(long st)
{
    return st == 429 || st == 500 || st == 502 || st == 503 || st == 504 || st == 529;
}

/* The current attempt failed in a way another attempt may fix: wait and retry, or go on to
 * the next target, or give up with this error. */
static void attempt_failed(struct llm_exchange *x, gw_err err, const char *msg)
{
    const struct cfg_provider *p = x->targets[x->cur].provider;
    transfer_cleanup(x);
    if (x->res.streamed || atomic_load(&x->cancel_requested)) {
        finish(x, x->res.streamed ? err : GW_ECANCELED, "%s", msg);
        return;
    }
    unsigned delay = x->retry_after_s ? x->retry_after_s * 1000
                                      : p->retry_base_ms << (x->tries < 16 ? x->tries : 16);
    if (x->tries < p->retries && delay <= MAX_RETRY_DELAY_MS) {
        unsigned jitter = 0;
        gw_random(&jitter, sizeof(jitter));
        if (!x->retry_after_s)
            delay += jitter % (delay / 4 + 1);
        x->tries++;
        x->state = X_RETRY_WAIT;
        x->due_ms = now_ms() + delay;
        x->link = x->cl->retrying;
        x->cl->retrying = x;
        gw_info("llm: %s: %s; retry %u/%u in %u ms", p->name, msg, x->tries, p->retries, delay);
        return;
    }
    if (x->cur + 1 < x->n_targets) {
        gw_warn("llm: %s failed (%s); falling back to %s/%s", p->name, msg,
                x->targets[x->cur + 1].provider->name, x->targets[x->cur + 1].model->name);
        note_tried(x, msg);
        x->cur++;
        x->tries = 0;
        start_target(x);
        return;
    }
    finish(x, err, "%s", msg);
}

/* The attempt's HTTP call ended (loop thread; the call is over, x->call may be reused). */
static void transfer_done(void *arg, const struct net_result *res)
{
    struct llm_exchange *x = arg;
    const struct cfg_provider *p = x->targets[x->cur].provider;
    if (!x->status)
        x->status = res->status;
    struct llm_usage u = {0};
    char msg[300];
    if (atomic_load(&x->cancel_requested)) {
        llm_sched_release(x->sched, &x->ticket, -1, now_ms());
        finish(x, GW_ECANCELED, "canceled");
        return;
    }
    if (res->err == GW_ETOOBIG && x->stream_err == GW_OK) { /* a 2xx answer above the cap */
        x->stream_err = GW_ETOOBIG;
        snprintf(x->stream_msg, sizeof(x->stream_msg), "answer larger than %zu bytes",
                 RESPONSE_BODY_MAX);
    } else if (res->err != GW_OK && x->stream_err == GW_OK) {
        llm_sched_release(x->sched, &x->ticket, -1, now_ms());
        x->res.failure = (int)res->failure;
        if (res->cut_short)
            snprintf(msg, sizeof(msg),
                     "provider %s closed the connection before the answer "
                     "was complete",
                     p->name);
        else
            snprintf(msg, sizeof(msg), "provider %s: %s", p->name, res->msg);
        if (res->err == GW_EFORBIDDEN) /* the egress policy will not change: fall back */
            x->tries = p->retries;
        attempt_failed(x, res->err == GW_EUPTIMEOUT ? GW_EUPTIMEOUT : GW_EUPSTREAM, msg);
        return;
    }
    if (x->status >= 200 && x->status < 300) {
        gw_err err = x->stream_err;
        char dmsg[200] = "";
        snprintf(dmsg, sizeof(dmsg), "%s", x->stream_msg);
        if (err == GW_OK && x->stream)
            err = llm_decoder_finish(x->dec, dmsg, sizeof(dmsg));
        if (err == GW_OK && x->stream)
            llm_decoder_usage(x->dec, &u);
        if (err == GW_OK && !x->stream)
            err = llm_wire_parse_response((enum llm_api)p->api, res->body, res->len,
                                          x->client_model, x->id, &x->res.response, &u, dmsg,
                                          sizeof(dmsg));
        if (err == GW_OK && !x->stream && !u.known) { /* estimate from the answer's text */
            const json_t *m = json_object_get(
                json_array_get(json_object_get(x->res.response, "choices"), 0), "message");
            const char *text = gw_json_str(m, "content");
            x->streamed_chars = text ? (int64_t)strlen(text) : 0;
        }
        llm_sched_release(x->sched, &x->ticket,
                          u.known ? u.prompt_tokens + u.completion_tokens : -1, now_ms());
        if (err != GW_OK) {
            snprintf(msg, sizeof(msg), "provider %s sent an invalid answer: %s", p->name, dmsg);
            attempt_failed(x, GW_EUPSTREAM, msg);
            return;
        }
        x->res.usage = u;
        finish(x, GW_OK, NULL);
        return;
    }
    llm_sched_release(x->sched, &x->ticket, -1, now_ms());
    char emsg[200];
    llm_wire_error_message(res->body, res->len, emsg, sizeof(emsg));
    snprintf(msg, sizeof(msg), "provider %s answered %ld: %s", p->name, x->status, emsg);
    if (retryable_status(x->status)) {
        if (x->status == 429) /* told to the client if this ends the call (x may be freed) */
            x->res.retry_after_s = x->retry_after_s ? x->retry_after_s : 1;
        attempt_failed(x, x->status == 429 ? GW_ETHROTTLED : GW_EUPSTREAM, msg);
        return;
    }
    if ((x->status == 401 || x->status == 403) && x->cur + 1 < x->n_targets) {
        x->tries = p->retries; /* credentials will not get better by retrying: fall back */
        attempt_failed(x, GW_EUPSTREAM, msg);
        return;
    }
    finish(x, x->status == 401 || x->status == 403 ? GW_EUPSTREAM : GW_EINVAL, "%s", msg);
}

/* --- the loop ------------------------------------------------------------------------------- */

static void take_incoming(struct llm_client *cl)
{
    pthread_mutex_lock(&cl->lock);
    struct llm_exchange *in = cl->incoming;
    cl->incoming = NULL;
    pthread_mutex_unlock(&cl->lock);
    struct llm_exchange *rev = NULL; /* the list is newest first: restore submission order */
    while (in) {
        struct llm_exchange *n = in->link;
        in->link = rev;
        rev = in;
        in = n;
    }
    for (struct llm_exchange *x = rev, *n; x; x = n) {
        n = x->link;
        x->link = NULL;
        x->next = cl->live;
        if (cl->live)
            cl->live->prev = x;
        cl->live = x;
        start_target(x);
    }
    if (atomic_exchange(&cl->cancels, 0) > 0) {
        for (struct llm_exchange *x = cl->live, *n; x; x = n) {
            n = x->next;
            if (atomic_load(&x->cancel_requested)) {
                if (x->state == X_RUNNING)
                    llm_sched_release(x->sched, &x->ticket, -1, now_ms());
                finish(x, GW_ECANCELED, "canceled");
            }
        }
    }
}

/* Cluster mode: counts this node once per epoch; each quota sends what it owes (calls released
 * on this turn, running calls in a new epoch: their leases); wakes the loop for the next
 * epoch. */
static void share_tick(struct llm_client *cl, int64_t *timeout_ms)
{
    struct shared *sh = atomic_load(&cl->shared);
    if (!sh)
        return;
    int64_t wall = gw_now_ms();
    if (wall >= cl->beat_at) {
        unsigned n = llm_quota_beat(sh, wall);
        cl->nodes = n ? n : cl->nodes;
        cl->beat_at = n ? (wall / LLM_QUOTA_EPOCH_MS + 1) * LLM_QUOTA_EPOCH_MS : wall + 1000;
    }
    int64_t w = cl->beat_at - wall;
    for (size_t i = 0; i < cl->n_slots; i++) {
        if (!cl->slots[i].quota)
            continue;
        llm_quota_set_nodes(cl->slots[i].quota, cl->nodes);
        w = GW_MIN(w, llm_quota_tick(cl->slots[i].quota, wall));
    }
    if (w < *timeout_ms)
        *timeout_ms = w > 0 ? w : 1;
}

static void run_timers(struct llm_client *cl, int64_t *timeout_ms)
{
    int64_t now = now_ms();
    for (struct llm_exchange *x = cl->retrying, *n; x; x = n) {
        n = x->link;
        if (x->due_ms <= now) {
            retry_remove(x);
            start_target(x);
        } else if (x->due_ms - now < *timeout_ms) {
            *timeout_ms = x->due_ms - now;
        }
    }
    for (size_t i = 0; i < cl->n_slots; i++) {
        struct llm_sched *s = cl->slots[i].sched;
        struct llm_ticket *t;
        while ((t = llm_sched_expired(s, now))) {
            struct llm_exchange *x = (struct llm_exchange *)((char *)t -
                                                             offsetof(struct llm_exchange, ticket));
            x->res.queued_ms += now - x->queued_at_ms;
            x->res.retry_after_s = llm_sched_retry_after_s(s, now);
            x->state = X_NEW; /* no longer queued */
            if (x->cur + 1 < x->n_targets) {
                note_tried(x, "at its limit (waited too long)");
                x->cur++;
                x->tries = 0;
                start_target(x);
            } else {
                finish(x, GW_ETHROTTLED,
                       "provider %s is at its limit and the wait exceeded %u ms; retry in %u s",
                       x->targets[x->cur].provider->name,
                       x->targets[x->cur].provider->limits.max_wait_ms, x->res.retry_after_s);
            }
        }
        while ((t = llm_sched_next(s, now))) {
            struct llm_exchange *x = (struct llm_exchange *)((char *)t -
                                                             offsetof(struct llm_exchange, ticket));
            x->res.queued_ms += now - x->queued_at_ms;
            launch(x);
        }
        int64_t w = llm_sched_next_wakeup_ms(s, now);
        if (w >= 0 && w < *timeout_ms)
            *timeout_ms = w;
    }
    share_tick(cl, timeout_ms); /* after the admissions, which carried what they could */
}

/* The client's turn on the loop: submissions, cancels, timers. */
static void client_run(void *arg, int64_t now, int64_t *timeout_ms)
{
    GW_UNUSED(now);
    struct llm_client *cl = arg;
    take_incoming(cl);
    run_timers(cl, timeout_ms);
}

/* --- public --------------------------------------------------------------------------------- */

static void attach(void *arg)
{
    struct llm_client *cl = arg;
    net_loop_add_source(cl->net, &cl->source);
}

void llm_client_share(struct llm_client *cl, struct shared *sh)
{
    atomic_store(&cl->shared, sh && strcmp(shared_backend(sh), "redis") == 0 ? sh : NULL);
}

gw_err llm_client_start(struct net_loop *net, struct llm_client **out)
{
    struct llm_client *cl = gw_xcalloc(1, sizeof(*cl));
    pthread_mutex_init(&cl->lock, NULL);
    cl->net = net;
    cl->source = (struct net_source){.run = client_run, .arg = cl};
    net_loop_call(net, attach, cl);
    *out = cl;
    return GW_OK;
}

/* On the loop: no more submissions; every call ends with GW_ECANCELED. */
static void detach(void *arg)
{
    struct llm_client *cl = arg;
    pthread_mutex_lock(&cl->lock);
    cl->stop = true;
    pthread_mutex_unlock(&cl->lock);
    for (struct llm_exchange *x = cl->incoming, *n; x; x = n) { /* never started */
        n = x->link;
        x->link = NULL;
        x->next = cl->live;
        if (cl->live)
            cl->live->prev = x;
        cl->live = x;
    }
    cl->incoming = NULL;
    while (cl->live) {
        struct llm_exchange *x = cl->live;
        if (x->state == X_RUNNING)
            llm_sched_release(x->sched, &x->ticket, -1, now_ms());
        finish(x, GW_ECANCELED, "the gateway is shutting down");
    }
    net_loop_remove_source(cl->net, &cl->source);
}

void llm_client_stop(struct llm_client *cl)
{
    if (!cl)
        return;
    net_loop_call(cl->net, detach, cl);
    for (size_t i = 0; i < cl->n_slots; i++) {
        llm_sched_free(cl->slots[i].sched);
        llm_quota_free(cl->slots[i].quota);
    }
    free(cl->slots);
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

struct llm_exchange *llm_submit(struct llm_client *cl, const struct llm_request *rq)
{
    struct llm_exchange *x = gw_xcalloc(1, sizeof(*x));
    atomic_init(&x->refs, 2); /* the caller's and the loop's */
    x->cl = cl;
    x->cfg = cfg_ref(rq->cfg);
    x->catalog = llm_catalog_ref(rq->catalog);
    x->canon = json_incref(rq->canon);
    x->stream = rq->stream;
    x->targets = gw_xmalloc((rq->n_targets ? rq->n_targets : 1) * sizeof(*x->targets));
    memcpy(x->targets, rq->targets, rq->n_targets * sizeof(*x->targets));
    x->n_targets = rq->n_targets;
    x->caller_targets = rq->targets;
    x->tenant = gw_xstrdup(rq->tenant ? rq->tenant : "");
    x->user = gw_xstrdup(rq->user ? rq->user : "");
    x->client_model = gw_xstrdup(rq->client_model ? rq->client_model : "");
    x->prompt_bytes = rq->prompt_bytes;
    char hex[25];
    gw_random_hex(hex, 12);
    snprintf(x->id, sizeof(x->id), "chatcmpl-%s", hex);
    x->on_chunk = rq->on_chunk;
    x->on_done = rq->on_done;
    x->arg = rq->arg;
    x->state = X_NEW;
    pthread_mutex_lock(&cl->lock);
    bool stopped = cl->stop;
    if (!stopped) {
        x->link = cl->incoming;
        cl->incoming = x;
    }
    pthread_mutex_unlock(&cl->lock);
    if (stopped) {
        x->res.err = GW_ECANCELED;
        snprintf(x->res.msg, sizeof(x->res.msg), "the gateway is shutting down");
        x->on_done(x->arg, &x->res);
        xunref(x);
        return x;
    }
    net_loop_wake(cl->net); /* one wake-up for a burst of submissions */
    return x;
}

void llm_cancel(struct llm_exchange *x)
{
    if (!x || atomic_exchange(&x->cancel_requested, true))
        return;
    atomic_fetch_add(&x->cl->cancels, 1);
    net_loop_wake(x->cl->net);
}

/* --- blocking form ------------------------------------------------------------------------- */

struct sync_call {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool done;
    struct llm_result res;
    json_t *response;
    struct llm_accum *acc;
    llm_on_chunk_fn *user_chunk;
    void *user_arg;
};

static int sync_chunk(void *arg, json_t *chunk)
{
    struct sync_call *sc = arg;
    llm_accum_add(sc->acc, chunk);
    return sc->user_chunk ? sc->user_chunk(sc->user_arg, chunk) : 0;
}

static void sync_done(void *arg, const struct llm_result *res)
{
    struct sync_call *sc = arg;
    pthread_mutex_lock(&sc->lock);
    sc->res = *res;
    sc->res.response = NULL;
    if (res->err == GW_OK)
        sc->response = res->response ? json_incref(res->response) : llm_accum_result(sc->acc);
    sc->done = true;
    pthread_cond_signal(&sc->cv);
    pthread_mutex_unlock(&sc->lock);
}

gw_err llm_call(struct llm_client *cl, const struct llm_request *rq, const atomic_bool *cancel,
                struct llm_result *res, json_t **response)
{
    struct sync_call sc = {.acc = llm_accum_new(), .user_chunk = rq->on_chunk, .user_arg = rq->arg};
    pthread_mutex_init(&sc.lock, NULL);
    gw_cond_init_mono(&sc.cv);
    struct llm_request r = *rq;
    r.on_chunk = sync_chunk;
    r.on_done = sync_done;
    r.arg = &sc;
    struct llm_exchange *x = llm_submit(cl, &r);
    bool canceled = false;
    pthread_mutex_lock(&sc.lock);
    while (!sc.done) {
        gw_cond_wait_until(&sc.cv, &sc.lock, gw_mono_ns() + 100 * 1000000); /* polls cancel */
        if (!sc.done && !canceled && cancel && atomic_load(cancel)) {
            canceled = true;
            llm_cancel(x);
        }
    }
    pthread_mutex_unlock(&sc.lock);
    llm_exchange_unref(x);
    *res = sc.res;
    if (response)
        *response = sc.response;
    else
        json_decref(sc.response);
    llm_accum_free(sc.acc);
    pthread_cond_destroy(&sc.cv);
    pthread_mutex_destroy(&sc.lock);
    return sc.res.err;
}

json_t *llm_client_status(struct llm_client *cl, const char *tenant)
{
    json_t *out = json_object();
    size_t tl = tenant ? strlen(tenant) : 0;
    pthread_mutex_lock(&cl->lock);
    for (size_t i = 0; i < cl->n_slots; i++) {
        const char *name = cl->slots[i].name, *colon = strchr(name, ':');
        if (colon && ((size_t)(colon - name) != tl || strncmp(name, tenant, tl) != 0))
            continue; /* another tenant's provider */
        struct llm_sched_stats st;
        llm_sched_stats(cl->slots[i].sched, &st);
        json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "running",
                              (json_int_t)st.running, "queued", (json_int_t)st.queued,
                              "max_concurrent", (json_int_t)st.max_concurrent, "admitted",
                              (json_int_t)st.admitted, "rejected", (json_int_t)st.rejected,
                              "expired", (json_int_t)st.expired, "wait_p50_ms",
                              (json_int_t)st.wait_p50_ms, "wait_p99_ms", (json_int_t)st.wait_p99_ms,
                              "wait_max_ms", (json_int_t)st.wait_max_ms);
        if (cl->slots[i].quota) { /* whose count holds the limits: the cluster's or a share */
            unsigned nodes = 1;
            json_object_set_new(o, "limits",
                                json_string(llm_quota_mode(cl->slots[i].quota, &nodes)));
            json_object_set_new(o, "nodes", json_integer(nodes));
        }
        json_object_set_new(out, colon ? colon + 1 : name, o);
    }
    pthread_mutex_unlock(&cl->lock);
    return out;
}
