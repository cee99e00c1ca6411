/* SPDX-License-Identifier: MIT
 * api_streams.c — resumable streamed answers: every SSE event of a streamed answer carries
 * "id: <stream id>:<n>" and is logged in the cluster's stream log (shared/shared.h); a client
 * whose connection broke resumes on any node with GET /api/v1/streams/{id} (Last-Event-ID or
 * ?after=n): the events after n, then the live ones until the answer ends.
 *
 * Only the principal that began a stream (same tenant and actor: the user, or the token of a
 * token without owner) may resume it; anyone else gets the 404 of a stream that does not exist.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/util.h"
#include "shared/shared.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#define ID_PREFIX "chatcmpl-"
#define ID_HEX 24           /* 96 random bits */
#define POLL_MS 50          /* a resume looks for new events this often */
#define IDLE_MS (60 * 1000) /* and gives up after this long without one */
#define READ_MAX 256        /* events per read */
/* A resume that follows a live stream holds a request worker for as long (up to IDLE_MS
 * without an event): so many at once in all, and per principal, the rest get 429. */
#define RESUMES_MAX 16
#define RESUMES_PER_OWNER 4

/* The owners of the resumes under way (a slot is free when NULL). */
static struct {
    pthread_mutex_t mu;
    char *owner[RESUMES_MAX];
} resumes = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* A slot for a resume of owner, or -1 when the bounds are reached. */
static int resume_take(const char *owner)
{
    int free_slot = -1, mine = 0;
    pthread_mutex_lock(&resumes.mu);
    for (int i = 0; i < RESUMES_MAX; i++) {
        if (!resumes.owner[i])
            free_slot = free_slot < 0 ? i : free_slot;
        else
            mine += strcmp(resumes.owner[i], owner) == 0;
    }
    if (free_slot >= 0 && mine < RESUMES_PER_OWNER)
        resumes.owner[free_slot] = gw_xstrdup(owner);
    else
        free_slot = -1;
    pthread_mutex_unlock(&resumes.mu);
    return free_slot;
}

static void resume_give(int slot)
{
    pthread_mutex_lock(&resumes.mu);
    free(resumes.owner[slot]);
    resumes.owner[slot] = NULL;
    pthread_mutex_unlock(&resumes.mu);
}

bool api_stream_id_ok(const char *id)
{
    size_t p = strlen(ID_PREFIX);
    if (strncmp(id, ID_PREFIX, p) != 0 || strlen(id) != p + ID_HEX)
        return false;
    for (size_t i = p; id[i]; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return true;
}

void api_stream_new_id(char out[API_STREAM_ID_LEN])
{
    char hex[ID_HEX + 1];
    gw_random_hex(hex, ID_HEX / 2);
    snprintf(out, API_STREAM_ID_LEN, ID_PREFIX "%s", hex);
}

/* The stream's owner as the log keeps it (hashed there). */
static const char *owner_of(struct api_call *c)
{
    return gw_pool_printf(c->r->pool, "%s\n%s", c->gc.p->tenant, c->gc.p->actor);
}

void api_sse_begin(struct api_sse *x, struct api_call *c, const char *id)
{
    *x = (struct api_sse){0};
    if (api_stream_id_ok(id))
        snprintf(x->id, sizeof(x->id), "%s", id);
    else
        api_stream_new_id(x->id);
    x->log = shared_stream_begin(c->d->shared, x->id, owner_of(c));
    /* Whether the answer goes on when its client goes away. In a cluster the client may come
     * back through another node (a balancer's hiccup): yes unless the request says false (the
     * CLI does: Ctrl-C cancels). On one node only when asked, so a disconnect cancels. */
    const char *keep = http_header(c->r, "X-OpenClaw-Resumable");
    bool cluster = strcmp(shared_backend(c->d->shared), "redis") == 0;
    x->keep = x->log &&
              (keep && (!strcmp(keep, "true") || !strcmp(keep, "false")) ? strcmp(keep, "true") == 0
                                                                         : cluster);
}

/* "id: <id>:<n>\n" then the frame. */
static gw_err write_with_id(struct http_stream *hs, const char *id, int64_t n, const char *frame,
                            size_t len)
{
    char line[API_STREAM_ID_LEN + 32];
    int k = snprintf(line, sizeof(line), "id: %s:%" PRId64 "\n", id, n);
    char *buf = gw_xmalloc((size_t)k + len);
    memcpy(buf, line, (size_t)k);
    memcpy(buf + k, frame, len);
    gw_err rc = http_stream_write(hs, buf, (size_t)k + len);
    free(buf);
    return rc;
}

gw_err api_sse_send(struct api_sse *x, struct http_stream *hs, const char *frame, bool last)
{
    size_t len = strlen(frame);
    shared_stream_append(x->log, frame, len, last);
    x->n++;
    if (!x->failed && write_with_id(hs, x->id, x->n, frame, len) != GW_OK)
        x->failed = true; /* the client went away or read too slowly: no more writes */
    return x->failed ? GW_ECANCELED : GW_OK;
}

void api_sse_end(struct api_sse *x)
{
    shared_stream_end(x->log);
    x->log = NULL;
}

/* --- GET /api/v1/streams/{id} --------------------------------------------------------------- */

/* n of "Last-Event-ID: <id>:<n>" or of "?after=n"; false when malformed. */
static bool parse_after(struct api_call *c, const char *id, int64_t *after)
{
    const char *v = http_header(c->r, "Last-Event-ID");
    *after = 0;
    if (v) {
        size_t k = strlen(id);
        if (strncmp(v, id, k) != 0 || v[k] != ':')
            return false;
        v += k + 1;
    } else if (!(v = http_query(c->r, "after"))) {
        return true;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno || n < 0 || n > SHARED_STREAM_EVENTS_MAX || v[0] == '+')
        return false;
    *after = n;
    return true;
}

static void nap(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* An error of the resume itself: not an event of the stream, so without an id. */
static void send_error(struct http_stream *hs, gw_err code, const char *msg)
{
    json_t *e = json_pack("{s:{s:s,s:s,s:s}}", "error", "message", msg, "type", "api_error", "code",
                          gw_err_name(code));
    char *text = gw_json_compact(e);
    char *frame = gw_xasprintf("data: %s\n\n", text);
    http_stream_write(hs, frame, strlen(frame));
    free(frame);
    free(text);
    json_decref(e);
}

static void resume_on_worker(struct http_req *r, void *arg)
{
    GW_UNUSED(r);
    api_streams_resume(arg);
}

void api_streams_resume(struct api_call *c)
{
    if (!http_on_worker(c->r)) { /* a GET runs on the event loop: following a stream waits */
        http_run_blocking(c->r, resume_on_worker, c);
        return;
    }
    if (!api_require(c, "models:invoke"))
        return;
    const char *id = c->var[0];
    int64_t after = 0;
    if (!api_stream_id_ok(id)) {
        http_respond_error(c->r, GW_EINVAL,
                           "a stream id is \"" ID_PREFIX "\" and %d lowercase hex digits", ID_HEX);
        return;
    }
    c->gc.audit.resource = id;
    if (!parse_after(c, id, &after)) {
        http_respond_error(c->r, GW_EINVAL,
                           "Last-Event-ID must be \"%s:<n>\" (or ?after=<n>), n from 0 to %d", id,
                           SHARED_STREAM_EVENTS_MAX);
        return;
    }
    const char *owner = owner_of(c);
    int slot = resume_take(owner);
    if (slot < 0) {
        static const char *const retry[] = {"Retry-After: 1", NULL};
        http_respond_error_h(c->r, GW_ETHROTTLED, retry,
                             "too many resumes at once (%d per principal, %d in all); retry",
                             RESUMES_PER_OWNER, RESUMES_MAX);
        return;
    }
    struct shared_stream_event *ev = gw_xcalloc(READ_MAX, sizeof(*ev));
    size_t n = 0;
    int64_t from = after, idle_since = gw_mono_ns();
    gw_err rc = shared_stream_read(c->d->shared, id, owner, after, READ_MAX, ev, &n);
    if (rc == GW_ENOTFOUND) {
        http_respond_error(c->r, GW_ENOTFOUND,
                           "no resumable stream '%s': it never existed, it expired (10 minutes "
                           "after its last event), or another principal began it",
                           id);
        goto out;
    } else if (rc != GW_OK) {
        http_respond_error(c->r, rc, "the stream log cannot be read now; retry");
        goto out;
    }
    http_async_begin(c->r);
    struct http_stream *hs = http_stream_open(c->r, 200, "text/event-stream", NULL);
    http_async_finish(c->r); /* this worker's own hold keeps the request until we return */
    bool end = false, gone = false;
    while (!end && !gone) {
        for (size_t i = 0; i < n && !gone; i++) {
            after++;
            if (!ev[i].frame) {
                send_error(hs, GW_ETOOBIG,
                           "the rest of this stream was not logged (it outgrew the limits "
                           "of a resumable stream, or its producer stopped)");
                end = true;
            } else if (write_with_id(hs, id, after, ev[i].frame, strlen(ev[i].frame)) != GW_OK) {
                gone = true;
            }
            end = end || ev[i].last;
        }
        shared_stream_events_free(ev, n);
        n = 0;
        if (end || gone)
            break;
        if (gw_mono_ns() - idle_since > (int64_t)IDLE_MS * 1000000) {
            send_error(hs, GW_EUNAVAIL,
                       "the stream's producer stopped before the end of the answer");
            break;
        }
        nap(POLL_MS);
        rc = shared_stream_read(c->d->shared, id, owner, after, READ_MAX, ev, &n);
        if (rc == GW_OK && n)
            idle_since = gw_mono_ns();
    }
    c->gc.audit.details = json_pack("{s:I,s:I,s:b}", "after", (json_int_t)from, "events",
                                    (json_int_t)(after - from), "complete", end);
    http_stream_close(hs, true);
out:
    free(ev);
    resume_give(slot);
}
