/* SPDX-License-Identifier: MIT
 * shared_stream.c — the logs of streamed answers: a client whose connection broke resumes the
 * stream on any node (Last-Event-ID) from the events logged here.
 *
 * In-process, a log is an array of frames under one mutex (appended on the producer's thread:
 * a copy, no I/O). On Redis, a log is the list openclaw:s:<id> (element 0: the owner's hash,
 * then one element per event, prefixed by its kind) with a TTL renewed by every append; the
 * appends are queued to the "shared-streams" worker, which sends each batch as one pipeline,
 * so the stream never waits for Redis. Bounds: events and bytes per log (an event past them
 * ends the log with a cut mark), logs per owner in a TTL window, and (in-process) logs and
 * bytes in all (an event past the bytes ends its log with a cut mark).
 */
#include "base/prelude.h"
#include "shared/shared_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/crypto.h>

#define LOCAL_LOGS_MAX 4096                 /* in-process logs in all */
#define LOCAL_BYTES_MAX (64u * 1024 * 1024) /* and their events' bytes */
#define KEY_PREFIX "openclaw:s:"

/* The kind of an element, its first byte. */
enum { K_OWNER = 'o', K_EVENT = 'e', K_LAST = 'z', K_CUT = 'x' };

struct local_log {
    char id[SHARED_STREAM_ID_MAX + 1];
    char owner[65];
    int64_t expires_ms;
    bool held; /* by its producer: not freed, even expired */
    char **ev; /* kind + frame */
    size_t n, cap, bytes;
};

struct shared_streams {
    void *redis;
    struct gw_worker *w;  /* Redis only */
    int64_t warned_ms;    /* worker: when logs refused were last told (once a minute) */
    unsigned refused;     /* worker: logs refused since */
    pthread_mutex_t lock; /* in-process logs */
    struct local_log **logs;
    size_t n_logs, cap_logs, bytes;
};

struct shared_stream {
    struct shared_streams *ss;
    char id[SHARED_STREAM_ID_MAX + 1];
    char owner[65];
    atomic_int refs;     /* the producer's and one per queued item */
    atomic_bool refused; /* by the worker (too many logs of its owner): nothing is written */
    bool lost;           /* producer's thread: an event could not be queued; no more events */
    bool closed;         /* producer's thread: the last event or a cut mark was logged */
    size_t n, bytes;     /* producer's thread */
    struct local_log *local;
};

struct item {
    struct shared_stream *st;
    char *elem; /* kind + frame (K_OWNER: kind + owner hash) */
};

static void stream_unref(struct shared_stream *st)
{
    if (atomic_fetch_sub(&st->refs, 1) == 1)
        free(st);
}

/* --- in-process ------------------------------------------------------------------------------ */

static void local_log_free(struct local_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ev[i]);
    free(l->ev);
    free(l);
}

/* Lock held: drops the expired logs; the number of owner's. */
static size_t local_prune(struct shared_streams *ss, const char *owner, int64_t now)
{
    size_t k = 0, mine = 0;
    for (size_t i = 0; i < ss->n_logs; i++) {
        struct local_log *l = ss->logs[i];
        if (l->expires_ms <= now && !l->held) {
            ss->bytes -= l->bytes;
            local_log_free(l);
            continue;
        }
        mine += strcmp(l->owner, owner) == 0;
        ss->logs[k++] = l;
    }
    ss->n_logs = k;
    return mine;
}

static struct local_log *local_find(struct shared_streams *ss, const char *id, int64_t now)
{
    for (size_t i = 0; i < ss->n_logs; i++)
        if (strcmp(ss->logs[i]->id, id) == 0 && ss->logs[i]->expires_ms > now)
            return ss->logs[i];
    return NULL;
}

static bool local_begin(struct shared_stream *st)
{
    struct shared_streams *ss = st->ss;
    int64_t now = gw_now_ms();
    bool ok = false;
    pthread_mutex_lock(&ss->lock);
    if (local_prune(ss, st->owner, now) >= SHARED_STREAM_PER_OWNER ||
        ss->n_logs >= LOCAL_LOGS_MAX || local_find(ss, st->id, now))
        goto out;
    struct local_log *l = gw_xcalloc(1, sizeof(*l));
    snprintf(l->id, sizeof(l->id), "%s", st->id);
    memcpy(l->owner, st->owner, sizeof(l->owner));
    l->expires_ms = now + SHARED_STREAM_TTL_MS;
    l->held = true;
    if (ss->n_logs == ss->cap_logs) {
        ss->cap_logs = ss->cap_logs ? ss->cap_logs * 2 : 16;
        ss->logs = gw_xrealloc(ss->logs, ss->cap_logs * sizeof(*ss->logs));
    }
    ss->logs[ss->n_logs++] = l;
    st->local = l;
    ok = true;
out:
    pthread_mutex_unlock(&ss->lock);
    return ok;
}

/* Takes elem. The log stays until it expires, even when the producer is gone. An event past
 * the in-process bytes becomes a cut mark. */
static void local_append(struct shared_stream *st, char *elem)
{
    struct shared_streams *ss = st->ss;
    size_t len = strlen(elem);
    pthread_mutex_lock(&ss->lock);
    struct local_log *l = st->local;
    if (elem[0] != K_CUT && ss->bytes + len > LOCAL_BYTES_MAX) {
        elem[0] = K_CUT;
        elem[1] = '\0';
        len = 1;
        st->closed = true;
    }
    ss->bytes += len;
    l->bytes += len;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->ev = gw_xrealloc(l->ev, l->cap * sizeof(*l->ev));
    }
    l->ev[l->n++] = elem;
    l->expires_ms = gw_now_ms() + SHARED_STREAM_TTL_MS;
    pthread_mutex_unlock(&ss->lock);
}

/* --- Redis: the worker ---------------------------------------------------------------------- */

static void stream_key(char *out, size_t cap, const char *id)
{
    snprintf(out, cap, KEY_PREFIX "%s", id);
}

#define TTL_TEXT "600000" /* SHARED_STREAM_TTL_MS */
#define BATCH_MAX 64

/* One pipeline for the batch: per item RPUSH + PEXPIRE; a log's first item also counts the
 * owner's logs (INCR + PEXPIRE NX), and a log over the limit is deleted afterwards. */
static gw_err redis_process(void *ctx, void *const *items, size_t n)
{
    struct shared_streams *ss = ctx;
    char keys[BATCH_MAX][sizeof(KEY_PREFIX) + SHARED_STREAM_ID_MAX];
    char counters[BATCH_MAX][40];
    const char *argv[BATCH_MAX * 4][4];
    const char *const *pargv[BATCH_MAX * 4];
    size_t argc[BATCH_MAX * 4], k = 0;
    for (size_t i = 0; i < n; i++) {
        struct item *it = items[i];
        if (atomic_load(&it->st->refused))
            continue;
        stream_key(keys[i], sizeof(keys[i]), it->st->id);
        if (it->elem[0] == K_OWNER) {
            snprintf(counters[i], sizeof(counters[i]), "openclaw:c:streams:%.16s", it->elem + 1);
            argc[k] = 2, argv[k][0] = "INCR", argv[k++][1] = counters[i];
            argc[k] = 4, argv[k][0] = "PEXPIRE", argv[k][1] = counters[i];
            argv[k][2] = TTL_TEXT, argv[k++][3] = "NX";
        }
        argc[k] = 3, argv[k][0] = "RPUSH", argv[k][1] = keys[i], argv[k++][2] = it->elem;
        argc[k] = 3, argv[k][0] = "PEXPIRE", argv[k][1] = keys[i], argv[k++][2] = TTL_TEXT;
    }
    if (k == 0)
        return GW_OK;
    for (size_t j = 0; j < k; j++)
        pargv[j] = argv[j];
    struct shared_reply *rep = gw_xcalloc(k, sizeof(*rep));
    gw_err rc = shared_redis_exchange(ss->redis, k, argc, pargv, rep);
    if (rc != GW_OK)
        goto out;
    for (size_t j = 0; j < k; j++) {
        bool incr = strcmp(argv[j][0], "INCR") == 0;
        if (!incr || rep[j].type != RESP_INT || rep[j].i <= SHARED_STREAM_PER_OWNER)
            continue;
        /* the RPUSH of this log follows the INCR's PEXPIRE: find its item by its key */
        const char *key = argv[j + 2][1];
        for (size_t i = 0; i < n; i++) {
            struct item *it = items[i];
            if (it->elem[0] == K_OWNER && keys[i] == key)
                atomic_store(&it->st->refused, true);
        }
        const char *del[] = {"DEL", key};
        const char *const *dargv[] = {del};
        size_t dargc[] = {2};
        struct shared_reply d;
        if (shared_redis_exchange(ss->redis, 1, dargc, dargv, &d) == GW_OK)
            shared_reply_release(&d);
        ss->refused++;
    }
    if (ss->refused && gw_now_ms() - ss->warned_ms >= 60 * 1000) {
        gw_warn("shared: %u streams not resumable: their owners began more than %d in 10 min",
                ss->refused, SHARED_STREAM_PER_OWNER);
        ss->refused = 0;
        ss->warned_ms = gw_now_ms();
    }
    for (size_t j = 0; j < k; j++)
        shared_reply_release(&rep[j]);
out:
    free(rep);
    return rc;
}

static void redis_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    struct item *it = item;
    stream_unref(it->st);
    free(it->elem);
    free(it);
}

static const struct gw_worker_ops redis_worker_ops = {
    .name = "shared-streams",
    .what = "stream events",
    .queue_cap = 16384,
    .batch_max = BATCH_MAX,
    .linger_ms = 0,
    .full_wait_ms = 0, /* never hold the stream up: the log is cut instead */
    .retry_ms = 200,
    .process = redis_process,
    .release = redis_release,
};

/* Takes elem. */
static void redis_post(struct shared_stream *st, char *elem)
{
    struct item *it = gw_xmalloc(sizeof(*it));
    it->st = st;
    it->elem = elem;
    atomic_fetch_add(&st->refs, 1);
    if (gw_worker_post(st->ss->w, it) != GW_OK) {
        st->lost = true; /* a gap would replay a wrong answer: log no more events */
        redis_release(NULL, it);
    }
}

/* --- the interface ------------------------------------------------------------------------- */

struct shared_streams *shared_streams_new(void *redis)
{
    struct shared_streams *ss = gw_xcalloc(1, sizeof(*ss));
    pthread_mutex_init(&ss->lock, NULL);
    ss->redis = redis;
    if (redis && gw_worker_start(&redis_worker_ops, ss, &ss->w) != GW_OK)
        gw_error("shared: no stream log worker: streams are not resumable");
    return ss;
}

void shared_streams_free(struct shared_streams *ss)
{
    if (!ss)
        return;
    if (ss->w)
        gw_worker_stop(ss->w);
    for (size_t i = 0; i < ss->n_logs; i++)
        local_log_free(ss->logs[i]);
    free(ss->logs);
    pthread_mutex_destroy(&ss->lock);
    free(ss);
}

static void owner_hash(const char *owner, char out[65])
{
    gw_sha256_hex(owner, strlen(owner), out);
}

static void post(struct shared_stream *st, char kind, const char *data, size_t len)
{
    char *elem = gw_xmalloc(len + 2);
    elem[0] = kind;
    memcpy(elem + 1, data, len);
    elem[len + 1] = '\0';
    if (st->ss->redis)
        redis_post(st, elem);
    else
        local_append(st, elem);
}

struct shared_stream *shared_stream_begin(struct shared *s, const char *id, const char *owner)
{
    struct shared_streams *ss = shared_streams_of(s);
    if (!shared_key_ok(id, SHARED_STREAM_ID_MAX) || (ss->redis && !ss->w))
        return NULL;
    struct shared_stream *st = gw_xcalloc(1, sizeof(*st));
    st->ss = ss;
    atomic_init(&st->refs, 1);
    snprintf(st->id, sizeof(st->id), "%s", id);
    owner_hash(owner, st->owner);
    if (ss->redis) {
        post(st, K_OWNER, st->owner, 64);
    } else if (!local_begin(st)) {
        free(st);
        return NULL;
    }
    return st;
}

void shared_stream_append(struct shared_stream *st, const char *frame, size_t len, bool last)
{
    if (!st || st->closed || st->lost || atomic_load(&st->refused))
        return;
    if (len > SHARED_STREAM_EVENT_BYTES || st->n >= SHARED_STREAM_EVENTS_MAX ||
        st->bytes + len > SHARED_STREAM_BYTES_MAX || memchr(frame, '\0', len)) {
        post(st, K_CUT, "", 0);
        st->closed = true;
        return;
    }
    st->n++;
    st->bytes += len;
    post(st, last ? K_LAST : K_EVENT, frame, len);
    st->closed = st->closed || last; /* (in-process: a cut mark when over the bytes in all) */
}

void shared_stream_end(struct shared_stream *st)
{
    if (!st)
        return;
    if (!st->closed && !atomic_load(&st->refused))
        post(st, K_CUT, "", 0); /* ended without its last event (or lost one): no waiting */
    if (st->local) {
        pthread_mutex_lock(&st->ss->lock);
        st->local->held = false;
        pthread_mutex_unlock(&st->ss->lock);
    }
    stream_unref(st);
}

void shared_stream_events_free(struct shared_stream_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ev[i].frame);
}

/* One element into out; false for one this code did not write. */
static bool parse_elem(const char *elem, size_t len, struct shared_stream_event *out)
{
    if (len == 0 || (elem[0] != K_EVENT && elem[0] != K_LAST && elem[0] != K_CUT))
        return false;
    out->frame = elem[0] == K_CUT ? NULL : gw_xstrndup(elem + 1, len - 1);
    out->last = elem[0] != K_EVENT;
    return true;
}

static gw_err redis_read(struct shared_streams *ss, const char *id, const char *owner,
                         int64_t after, size_t max, struct shared_stream_event *out, size_t *n)
{
    char key[sizeof(KEY_PREFIX) + SHARED_STREAM_ID_MAX], from[24], to[24];
    stream_key(key, sizeof(key), id);
    snprintf(from, sizeof(from), "%" PRId64, after + 1);
    snprintf(to, sizeof(to), "%" PRId64, after + (int64_t)max);
    const char *idx[] = {"LINDEX", key, "0"}, *range[] = {"LRANGE", key, from, to};
    const char *const *argv[] = {idx, range};
    size_t argc[] = {3, 4};
    struct shared_reply rep[2];
    gw_err rc = shared_redis_exchange(ss->redis, 2, argc, argv, rep);
    if (rc != GW_OK)
        return rc == GW_EUPSTREAM ? GW_EUNAVAIL : rc;
    if (rep[0].type != RESP_BULK || rep[0].len != 65 || rep[0].s[0] != K_OWNER ||
        CRYPTO_memcmp(rep[0].s + 1, owner, 64) != 0) {
        rc = GW_ENOTFOUND;
    } else if (rep[1].type != RESP_ARRAY) {
        rc = GW_EUNAVAIL;
    } else {
        for (size_t i = 0; i < rep[1].n && *n < max; i++) {
            struct shared_reply *e = &rep[1].v[i];
            if (e->type != RESP_BULK || !parse_elem(e->s, e->len, &out[*n]))
                break;
            bool end = out[(*n)++].last;
            if (end)
                break;
        }
    }
    shared_reply_release(&rep[0]);
    shared_reply_release(&rep[1]);
    return rc;
}

gw_err shared_stream_read(struct shared *s, const char *id, const char *owner, int64_t after,
                          size_t max, struct shared_stream_event *out, size_t *n)
{
    struct shared_streams *ss = shared_streams_of(s);
    *n = 0;
    if (!shared_key_ok(id, SHARED_STREAM_ID_MAX) || after < 0 || max == 0)
        return GW_ENOTFOUND;
    char hash[65];
    owner_hash(owner, hash);
    if (ss->redis)
        return redis_read(ss, id, hash, after, max, out, n);
    gw_err rc = GW_ENOTFOUND;
    pthread_mutex_lock(&ss->lock);
    struct local_log *l = local_find(ss, id, gw_now_ms());
    if (l && CRYPTO_memcmp(l->owner, hash, 64) == 0) {
        rc = GW_OK;
        for (size_t i = (size_t)after; i < l->n && *n < max; i++)
            if (!parse_elem(l->ev[i], strlen(l->ev[i]), &out[*n]) || out[(*n)++].last)
                break;
    }
    pthread_mutex_unlock(&ss->lock);
    return rc;
}
