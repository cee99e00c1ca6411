/* SPDX-License-Identifier: MIT
 * llm_client.c — the "llm-io" thread: admission, transfers, retries, fallbacks (see llm.h).
 *
 * An exchange moves through: NEW (just submitted) → QUEUED (waiting in its provider's
 * scheduler) → RUNNING (curl transfer) → DONE, with RETRY_WAIT between attempts. Only the I/O
 * thread touches an exchange's state; other threads only submit (incoming list) and cancel
 * (cancel list), both under the client's lock, then wake the loop through an eventfd. The loop
 * waits in epoll on the transfers' sockets (curl's socket interface), so the cost of an event
 * does not grow with the number of transfers in flight (512 streams).
 */
#include "base/prelude.h"
#include "llm/llm.h"
#include "llm/llm_sched.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define ERROR_BODY_MAX ((size_t)64 * 1024)      /* upstream error bodies kept for the message */
#define RESPONSE_BODY_MAX ((size_t)32 << 20)    /* a complete upstream answer */
#define MAX_RETRY_DELAY_MS 30000                /* longer Retry-After: move to the next target */
#define DEFAULT_COMPLETION_ESTIMATE 512         /* tokens, when max_tokens is absent */
#define SPARE_HANDLES 256

enum xstate { X_NEW, X_QUEUED, X_RETRY_WAIT, X_RUNNING, X_DONE };

struct provider_slot {
    char name[64];
    struct llm_sched *sched;
};

struct llm_exchange {
    atomic_int refs;
    struct llm_client *cl;
    struct cfg *cfg;
    json_t *canon;
    bool stream;
    struct llm_target *targets;
    const struct llm_target *caller_targets; /* the caller's array, for llm_result.served */
    size_t n_targets, cur;
    unsigned tries;               /* attempts on the current target */
    char *tenant, *user, *client_model;
    size_t prompt_bytes;
    char id[48];
    llm_on_chunk_fn *on_chunk;
    llm_on_done_fn *on_done;
    void *arg;

    /* I/O thread only */
    enum xstate state;
    struct llm_exchange *prev, *next;  /* live list */
    struct llm_exchange *link;         /* incoming or retry list */
    struct llm_ticket ticket;
    struct llm_sched *sched;
    int64_t due_ms, queued_at_ms;
    CURL *easy;
    struct curl_slist *headers;
    struct llm_wire_req wreq;
    long status;
    unsigned retry_after_s;
    struct gw_buf body;
    struct llm_decoder *dec;
    gw_err stream_err;
    char stream_msg[200];
    int64_t streamed_chars;
    struct llm_result res;
    atomic_bool cancel_requested;
};

struct llm_client {
    pthread_t thread;
    CURLM *multi;
    int epfd;                          /* the transfers' sockets and wakefd */
    int wakefd;                        /* eventfd: submissions, cancels, stop */
    int64_t curl_due_ms;               /* curl's timer (monotonic ms), -1 when none */
    pthread_mutex_t lock;              /* incoming, stop, slots array growth */
    struct llm_exchange *incoming;
    bool stop;
    atomic_int cancels;                /* llm_cancel calls not yet handled by the loop */
    struct provider_slot *slots;
    size_t n_slots;
    /* I/O thread only */
    struct llm_exchange *live;
    struct llm_exchange *retrying;
    CURL *spare[SPARE_HANDLES];        /* reset easy handles, reused (saves their set-up) */
    size_t n_spare;
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

static struct llm_sched *sched_for(struct llm_client *cl, const struct cfg_provider *p)
{
    for (size_t i = 0; i < cl->n_slots; i++) {
        if (strcmp(cl->slots[i].name, p->name) == 0) {
            llm_sched_set_limits(cl->slots[i].sched, &p->limits);
            return cl->slots[i].sched;
        }
    }
    pthread_mutex_lock(&cl->lock);
    cl->slots = gw_xrealloc(cl->slots, (cl->n_slots + 1) * sizeof(*cl->slots));
    struct provider_slot *s = &cl->slots[cl->n_slots++];
    snprintf(s->name, sizeof(s->name), "%s", p->name);
    s->sched = llm_sched_new(&p->limits);
    pthread_mutex_unlock(&cl->lock);
    return s->sched;
}

/* --- finishing ---------------------------------------------------------------------------- */

static void transfer_cleanup(struct llm_exchange *x)
{
    if (x->easy) {
        struct llm_client *cl = x->cl;
        curl_multi_remove_handle(cl->multi, x->easy);
        if (cl->n_spare < SPARE_HANDLES) {
            curl_easy_reset(x->easy);
            cl->spare[cl->n_spare++] = x->easy;
        } else {
            curl_easy_cleanup(x->easy);
        }
        x->easy = NULL;
    }
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    llm_wire_req_release(&x->wreq);
    gw_buf_release(&x->body);
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
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->res.msg, sizeof(x->res.msg), fmt, ap);
        va_end(ap);
    }
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

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct llm_exchange *x = ud;
    size_t len = size * nmemb;
    if (atomic_load(&x->cancel_requested))
        return 0;
    if (!x->status)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->stream && x->status >= 200 && x->status < 300) {
        if (!x->dec)
            x->dec = llm_decoder_new((enum llm_api)x->targets[x->cur].provider->api,
                                     x->client_model, x->id, on_chunk, x);
        x->stream_err = llm_decoder_feed(x->dec, data, len, x->stream_msg, sizeof(x->stream_msg));
        return x->stream_err == GW_OK ? len : 0;
    }
    if (gw_buf_append(&x->body, data, len) != GW_OK) {
        if (x->status >= 200 && x->status < 300) {
            x->stream_err = GW_ETOOBIG;
            snprintf(x->stream_msg, sizeof(x->stream_msg), "answer larger than %zu bytes",
                     RESPONSE_BODY_MAX);
            return 0;
        }
        return len; /* an error body is only kept for its message: drop the rest */
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct llm_exchange *x = ud;
    size_t len = size * nmemb;
    if (len > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
        long v = strtol(data + 12, NULL, 10);
        if (v > 0 && v < 3600)
            x->retry_after_s = (unsigned)v;
    }
    return len;
}

static void add_header(struct llm_exchange *x, const char *name, const char *value)
{
    char line[4200]; /* api keys are at most 4096 bytes (config) */
    snprintf(line, sizeof(line), "%s: %s", name, value);
    x->headers = curl_slist_append(x->headers, line);
}

static bool launch(struct llm_exchange *x)
{
    const struct llm_target *t = &x->targets[x->cur];
    const struct cfg_provider *p = t->provider;
    const char *upstream = t->model->upstream ? t->model->upstream : t->model->name;
    char msg[200];
    x->res.attempts++;
    x->status = 0;
    x->retry_after_s = 0;
    x->stream_err = GW_OK;
    if (llm_wire_build((enum llm_api)p->api, x->canon, upstream, x->stream, &x->wreq, msg,
                       sizeof(msg)) != GW_OK) {
        llm_sched_release(x->sched, &x->ticket, 0, now_ms()); /* the slot it was admitted to */
        finish(x, GW_EINVAL, "request cannot be sent to %s: %s", p->name, msg);
        return false;
    }
    gw_buf_init(&x->body, x->stream ? ERROR_BODY_MAX : RESPONSE_BODY_MAX);
    char *url = gw_xasprintf("%s%s", p->base_url, x->wreq.path);
    x->headers = curl_slist_append(NULL, "Content-Type: application/json");
    x->headers = curl_slist_append(x->headers, "Expect:"); /* no 100-continue round trip */
    if (x->stream)
        x->headers = curl_slist_append(x->headers, "Accept: text/event-stream");
    if (p->api == CFG_LLM_ANTHROPIC) {
        x->headers = curl_slist_append(x->headers, "anthropic-version: 2023-06-01");
        if (p->api_key)
            add_header(x, "x-api-key", p->api_key);
    } else if (p->api_key) {
        {
        char bearer[4120];
        snprintf(bearer, sizeof(bearer), "Bearer %.4096s", p->api_key);
        add_header(x, "Authorization", bearer);
    }
    }
    struct llm_client *cl = x->cl;
    CURL *e = cl->n_spare ? cl->spare[--cl->n_spare] : curl_easy_init();
    x->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->wreq.body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(x->wreq.body));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)p->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)p->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    free(url);
    x->state = X_RUNNING;
    curl_multi_add_handle(cl->multi, e);
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
        x->sched = sched_for(x->cl, x->targets[x->cur].provider);
        x->ticket = (struct llm_ticket){.tenant = x->tenant, .user = x->user,
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
        x->cur++;
        x->tries = 0;
        start_target(x);
        return;
    }
    finish(x, err, "%s", msg);
}

static void transfer_done(struct llm_exchange *x, CURLcode rc)
{
    const struct cfg_provider *p = x->targets[x->cur].provider;
    if (!x->status)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    struct llm_usage u = {0};
    char msg[300];
    if (atomic_load(&x->cancel_requested)) {
        llm_sched_release(x->sched, &x->ticket, -1, now_ms());
        finish(x, GW_ECANCELED, "canceled");
        return;
    }
    if (rc != CURLE_OK && x->stream_err == GW_OK) {
        llm_sched_release(x->sched, &x->ticket, -1, now_ms());
        if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR)
            snprintf(msg, sizeof(msg), "provider %s closed the connection before the answer "
                     "was complete", p->name);
        else
            snprintf(msg, sizeof(msg), "provider %s: %s", p->name, curl_easy_strerror(rc));
        attempt_failed(x, rc == CURLE_OPERATION_TIMEDOUT ? GW_EUPTIMEOUT : GW_EUPSTREAM, msg);
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
            err = llm_wire_parse_response((enum llm_api)p->api, x->body.data ? x->body.data : "",
                                          x->body.len, x->client_model, x->id, &x->res.response,
                                          &u, dmsg, sizeof(dmsg));
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
    llm_wire_error_message(x->body.data ? x->body.data : "", x->body.len, emsg, sizeof(emsg));
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

static void take_incoming(struct llm_client *cl, bool *stop)
{
    pthread_mutex_lock(&cl->lock);
    struct llm_exchange *in = cl->incoming;
    cl->incoming = NULL;
    *stop = cl->stop;
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
}

/* --- the loop: curl's socket interface on epoll ------------------------------------------ */

static void wake(struct llm_client *cl)
{
    uint64_t one = 1;
    while (write(cl->wakefd, &one, sizeof one) < 0 && errno == EINTR)
        continue;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *socketp)
{
    GW_UNUSED(e);
    struct llm_client *cl = arg;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(cl->epfd, EPOLL_CTL_DEL, fd, NULL); /* may already be closed: ignored */
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (epoll_ctl(cl->epfd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0 && !socketp)
        curl_multi_assign(cl->multi, fd, cl); /* marks it as added */
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *arg)
{
    GW_UNUSED(m);
    struct llm_client *cl = arg;
    cl->curl_due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static void finish_transfers(struct llm_client *cl)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(cl->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct llm_exchange *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x)
            transfer_done(x, m->data.result);
    }
}

static void *io_main(void *arg)
{
    pthread_setname_np(pthread_self(), "llm-io");
    struct llm_client *cl = arg;
    bool stop = false;
    struct epoll_event ev[64];
    int running = 0;
    while (!stop) {
        take_incoming(cl, &stop);
        if (stop)
            break;
        int64_t timeout = 1000;
        run_timers(cl, &timeout);
        int64_t now = now_ms();
        if (cl->curl_due_ms >= 0 && cl->curl_due_ms <= now) {
            cl->curl_due_ms = -1;
            curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            finish_transfers(cl);
        }
        if (cl->curl_due_ms >= 0 && cl->curl_due_ms - now < timeout)
            timeout = cl->curl_due_ms - now;
        int n = epoll_wait(cl->epfd, ev, (int)GW_ARRAY_LEN(ev), (int)GW_MAX(timeout, 0));
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == cl->wakefd) {
                uint64_t v;
                while (read(cl->wakefd, &v, sizeof v) < 0 && errno == EINTR)
                    continue;
                continue;
            }
            int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                        (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                        (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(cl->multi, ev[i].data.fd, flags, &running);
        }
        finish_transfers(cl);
    }
    while (cl->live)
        finish(cl->live, GW_ECANCELED, "the gateway is shutting down");
    return NULL;
}

/* --- public --------------------------------------------------------------------------------- */

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

gw_err llm_client_start(struct llm_client **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init_once);
    struct llm_client *cl = gw_xcalloc(1, sizeof(*cl));
    pthread_mutex_init(&cl->lock, NULL);
    cl->multi = curl_multi_init();
    if (!cl->multi) {
        free(cl);
        return GW_ENOMEM;
    }
    curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, 1024L);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    cl->curl_due_ms = -1;
    cl->epfd = epoll_create1(EPOLL_CLOEXEC);
    cl->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = {.events = EPOLLIN, .data.fd = cl->wakefd};
    if (cl->epfd < 0 || cl->wakefd < 0 || epoll_ctl(cl->epfd, EPOLL_CTL_ADD, cl->wakefd, &wev) ||
        pthread_create(&cl->thread, NULL, io_main, cl) != 0) {
        if (cl->epfd >= 0)
            close(cl->epfd);
        if (cl->wakefd >= 0)
            close(cl->wakefd);
        curl_multi_cleanup(cl->multi);
        free(cl);
        return GW_EINTERNAL;
    }
    *out = cl;
    return GW_OK;
}

void llm_client_stop(struct llm_client *cl)
{
    if (!cl)
        return;
    pthread_mutex_lock(&cl->lock);
    cl->stop = true;
    pthread_mutex_unlock(&cl->lock);
    wake(cl);
    pthread_join(cl->thread, NULL);
    /* submissions that raced with the stop never started: report them canceled too */
    for (struct llm_exchange *x = cl->incoming, *n; x; x = n) {
        n = x->link;
        x->link = NULL;
        x->next = cl->live;
        if (cl->live)
            cl->live->prev = x;
        cl->live = x;
    }
    cl->incoming = NULL;
    while (cl->live)
        finish(cl->live, GW_ECANCELED, "the gateway is shutting down");
    for (size_t i = 0; i < cl->n_slots; i++)
        llm_sched_free(cl->slots[i].sched);
    free(cl->slots);
    while (cl->n_spare)
        curl_easy_cleanup(cl->spare[--cl->n_spare]);
    curl_multi_cleanup(cl->multi);
    close(cl->epfd);
    close(cl->wakefd);
    pthread_mutex_destroy(&cl->lock);
    free(cl);
}

struct llm_exchange *llm_submit(struct llm_client *cl, const struct llm_request *rq)
{
    struct llm_exchange *x = gw_xcalloc(1, sizeof(*x));
    atomic_init(&x->refs, 2); /* the caller's and the I/O thread's */
    x->cl = cl;
    x->cfg = cfg_ref(rq->cfg);
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
    /* the submission that finds the list empty wakes the thread; later ones ride along */
    bool wake_loop_now = !cl->incoming;
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
    if (wake_loop_now)
        wake(cl);
    return x;
}

void llm_cancel(struct llm_exchange *x)
{
    if (!x || atomic_exchange(&x->cancel_requested, true))
        return;
    atomic_fetch_add(&x->cl->cancels, 1);
    wake(x->cl);
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
    struct sync_call sc = {.acc = llm_accum_new(), .user_chunk = rq->on_chunk,
                           .user_arg = rq->arg};
    pthread_mutex_init(&sc.lock, NULL);
    pthread_cond_init(&sc.cv, NULL);
    struct llm_request r = *rq;
    r.on_chunk = sync_chunk;
    r.on_done = sync_done;
    r.arg = &sc;
    struct llm_exchange *x = llm_submit(cl, &r);
    bool canceled = false;
    pthread_mutex_lock(&sc.lock);
    while (!sc.done) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&sc.cv, &sc.lock, &ts);
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

json_t *llm_client_status(struct llm_client *cl)
{
    json_t *out = json_object();
    pthread_mutex_lock(&cl->lock);
    for (size_t i = 0; i < cl->n_slots; i++) {
        struct llm_sched_stats st;
        llm_sched_stats(cl->slots[i].sched, &st);
        json_object_set_new(out, cl->slots[i].name,
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "running", (json_int_t)st.running,
                      "queued", (json_int_t)st.queued, "max_concurrent",
                      (json_int_t)st.max_concurrent, "admitted", (json_int_t)st.admitted,
                      "rejected", (json_int_t)st.rejected, "expired", (json_int_t)st.expired,
                      "wait_p50_ms", (json_int_t)st.wait_p50_ms, "wait_p99_ms",
                      (json_int_t)st.wait_p99_ms, "wait_max_ms", (json_int_t)st.wait_max_ms));
    }
    pthread_mutex_unlock(&cl->lock);
    return out;
}
