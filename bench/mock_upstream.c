/* SPDX-License-Identifier: MIT
 * mock_upstream.c — an instant OpenAI-compatible model provider for the benchmarks.
 *
 * libmicrohttpd, epoll with an internal thread pool (default one thread, so it fits on one
 * core). It answers
 *   POST .../chat/completions  non-streamed: a fixed small chat.completion with usage;
 *                              "stream": true: SSE — a role chunk, N content chunks, a stop
 *                              chunk, a usage chunk when stream_options.include_usage is true,
 *                              then "data: [DONE]". The first content chunk comes after
 *                              --ttft-ms, each further one after --delay-ms.
 *   GET  /v1/models, /models    one model list
 *   GET  /health, /stats        liveness; request counters (JSON)
 * Every content chunk carries the mock's send time as its text, "t=<CLOCK_MONOTONIC ns> ", so
 * a client on the same host (stream_load) can measure each chunk's latency end to end through
 * a proxy without breaking OpenAI parsers.
 *
 * Per request overrides (headers): X-Mock-Chunks, X-Mock-Chunk-Delay-Ms, X-Mock-TTFT-Ms.
 * Delayed chunks suspend the connection (MHD_suspend_connection from the content reader); one
 * timer thread resumes it when the next chunk is due, so streams cost no thread each.
 * The request body is scanned, not parsed into a tree: only the top-level "model", "stream"
 * and "stream_options.include_usage" are read (an invalid JSON object gets 400).
 *
 * Usage: mock_upstream [-p port] [-H host] [-t threads] [-n chunks] [-d delay_ms]
 *                      [-f ttft_ms] [-s pad_bytes] [-q]
 * Loopback by default; SIGINT/SIGTERM exit at once.
 */
#define _GNU_SOURCE
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (16u << 20)
#define MAX_CHUNKS 100000
#define MODEL_MAX 200

static struct {
    int port, threads, chunks, delay_ms, ttft_ms, pad;
    const char *host;
    bool quiet;
} opt = {.port = 18900,
         .threads = 1,
         .chunks = 8,
         .delay_ms = 0,
         .ttft_ms = 0,
         .pad = 0,
         .host = "127.0.0.1"};

static atomic_ullong n_requests, n_chat, n_streams, n_streams_done, n_bad;
static atomic_llong n_active;
static char *g_pad; /* opt.pad bytes of 'x' */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------------
 * Request body scan: top-level keys only. */

struct chat_req {
    char model[MODEL_MAX + 1]; /* raw JSON string content (escapes kept) */
    bool stream, include_usage;
};

struct scan {
    const char *p, *end;
};

static void ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* At '"': moves past the closing quote; *a and *n get the raw content. */
static bool str(struct scan *s, const char **a, size_t *n)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *b = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\')
            s->p++;
        s->p++;
    }
    if (s->p >= s->end)
        return false;
    *a = b;
    *n = (size_t)(s->p - b);
    s->p++;
    return true;
}

static bool skip_value(struct scan *s)
{
    const char *a;
    size_t n;
    ws(s);
    if (s->p >= s->end)
        return false;
    if (*s->p == '"')
        return str(s, &a, &n);
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        while (s->p < s->end) {
            char c = *s->p;
            if (c == '"') {
                if (!str(s, &a, &n))
                    return false;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']')
                depth--;
            s->p++;
            if (depth == 0)
                return true;
        }
        return false;
    }
    const char *b = s->p;
    while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
        s->p++;
    return s->p > b;
}

static bool lit_true(struct scan *s)
{
    ws(s);
    if (s->end - s->p >= 4 && memcmp(s->p, "true", 4) == 0) {
        s->p += 4;
        return true;
    }
    return false;
}

/* level 0: the request object; level 1: stream_options */
static bool scan_object(struct scan *s, int level, struct chat_req *r)
{
    ws(s);
    if (s->p >= s->end || *s->p != '{')
        return false;
    s->p++;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return true;
    }
    for (;;) {
        const char *k;
        size_t kn;
        ws(s);
        if (!str(s, &k, &kn))
            return false;
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        ws(s);
        bool done = false;
        if (level == 0 && kn == 5 && memcmp(k, "model", 5) == 0 && s->p < s->end && *s->p == '"') {
            const char *v;
            size_t vn;
            if (!str(s, &v, &vn))
                return false;
            if (vn > MODEL_MAX)
                vn = MODEL_MAX;
            while (vn > 0 && v[vn - 1] == '\\') /* never cut inside an escape */
                vn--;
            memcpy(r->model, v, vn);
            r->model[vn] = 0;
            done = true;
        } else if (level == 0 && kn == 6 && memcmp(k, "stream", 6) == 0) {
            r->stream = done = lit_true(s);
        } else if (level == 0 && kn == 14 && memcmp(k, "stream_options", 14) == 0 &&
                   s->p < s->end && *s->p == '{') {
            if (!scan_object(s, 1, r))
                return false;
            done = true;
        } else if (level == 1 && kn == 13 && memcmp(k, "include_usage", 13) == 0) {
            r->include_usage = done = lit_true(s);
        }
        if (!done && !skip_value(s))
            return false;
        ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return true;
        }
        return false;
    }
}

/* ---------------------------------------------------------------------------------------------
 * Streams and the timer thread that resumes them. */

enum phase { PH_ROLE, PH_CONTENT, PH_TAIL, PH_END };

struct stream {
    struct MHD_Connection *conn;
    enum phase phase;
    int total, sent, delay_ms;
    bool usage;
    int64_t due_ns;
    unsigned long long seq;
    long created;
    unsigned prompt_tokens;
    char model[MODEL_MAX + 1];
    char pend[512 + MODEL_MAX];
    size_t pend_off, pend_len;
    char *big; /* a piece larger than pend (big pad) */
};

static pthread_mutex_t tm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tm_cond;
static struct stream **heap;
static size_t heap_n, heap_cap;

static void heap_push(struct stream *s)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, heap_cap * sizeof(*heap));
        if (!heap)
            abort();
    }
    size_t i = heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (heap[p]->due_ns <= s->due_ns)
            break;
        heap[i] = heap[p];
        i = p;
    }
    heap[i] = s;
}

static struct stream *heap_pop(void)
{
    struct stream *top = heap[0], *last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l >= heap_n)
            break;
        m = (l + 1 < heap_n && heap[l + 1]->due_ns < heap[l]->due_ns) ? l + 1 : l;
        if (last->due_ns <= heap[m]->due_ns)
            break;
        heap[i] = heap[m];
        i = m;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

static void *timer_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&tm_lock);
    for (;;) {
        if (heap_n == 0) {
            pthread_cond_wait(&tm_cond, &tm_lock);
            continue;
        }
        int64_t now = now_ns(), due = heap[0]->due_ns;
        if (due > now) {
            struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
            pthread_cond_timedwait(&tm_cond, &tm_lock, &ts);
            continue;
        }
        while (heap_n && heap[0]->due_ns <= now) {
            struct stream *s = heap_pop();
            MHD_resume_connection(s->conn); /* under tm_lock: never before its suspend */
        }
    }
    return NULL;
}

static int piece(struct stream *s, char *dst, size_t cap, const char *fmt_kind, int64_t ts)
{
    /* fmt_kind: "role", "content", "stop", "usage", "done" */
    if (strcmp(fmt_kind, "done") == 0)
        return snprintf(dst, cap, "data: [DONE]\n\n");
    int n = snprintf(dst, cap,
                     "data: {\"id\":\"chatcmpl-mock-%llu\",\"object\":\"chat.completion.chunk\","
                     "\"created\":%ld,\"model\":\"%s\",",
                     s->seq, s->created, s->model);
    if ((size_t)n >= cap)
        return n;
    char *d = dst + n;
    size_t c = cap - (size_t)n;
    int m;
    if (fmt_kind[0] == 'r')
        m = snprintf(d, c,
                     "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                     "\"content\":\"\"},\"finish_reason\":null}]}\n\n");
    else if (fmt_kind[0] == 'c')
        m = snprintf(d, c,
                     "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t=%" PRId64
                     " %s\"},\"finish_reason\":null}]}\n\n",
                     ts, g_pad);
    else if (fmt_kind[0] == 's')
        m = snprintf(d, c,
                     "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    else
        m = snprintf(d, c,
                     "\"choices\":[],\"usage\":{\"prompt_tokens\":%u,\"completion_tokens\":%d,"
                     "\"total_tokens\":%u}}\n\n",
                     s->prompt_tokens, s->total, s->prompt_tokens + (unsigned)s->total);
    return n + m;
}

/* Produces the next piece into s->pend (or s->big); false when nothing is due yet. */
static bool next_piece(struct stream *s)
{
    const char *kind = NULL;
    int64_t ts = 0;
    switch (s->phase) {
    case PH_ROLE:
        kind = "role";
        s->phase = PH_CONTENT;
        s->due_ns = now_ns() + (int64_t)opt.ttft_ms * 1000000;
        break;
    case PH_CONTENT:
        if (s->sent == s->total) {
            kind = "stop";
            s->phase = PH_TAIL;
            break;
        }
        ts = now_ns();
        if (ts < s->due_ns)
            return false;
        kind = "content";
        s->sent++;
        s->due_ns = ts + (int64_t)s->delay_ms * 1000000;
        break;
    case PH_TAIL:
        kind = s->usage ? "usage" : "done";
        if (s->usage)
            s->usage = false;
        else
            s->phase = PH_END;
        break;
    case PH_END:
        return false;
    }
    free(s->big);
    s->big = NULL;
    int n = piece(s, s->pend, sizeof(s->pend), kind, ts);
    if ((size_t)n >= sizeof(s->pend)) {
        s->big = malloc((size_t)n + 1);
        if (!s->big)
            abort();
        piece(s, s->big, (size_t)n + 1, kind, ts);
    }
    s->pend_off = 0;
    s->pend_len = (size_t)n;
    return true;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    size_t out = 0;
    for (;;) {
        if (s->pend_off < s->pend_len) {
            size_t n = s->pend_len - s->pend_off;
            if (n > max - out)
                n = max - out;
            memcpy(buf + out, (s->big ? s->big : s->pend) + s->pend_off, n);
            s->pend_off += n;
            out += n;
            if (out == max)
                return (ssize_t)out;
            continue;
        }
        if (next_piece(s))
            continue;
        if (out > 0)
            return (ssize_t)out;
        if (s->phase == PH_END)
            return MHD_CONTENT_READER_END_OF_STREAM;
        /* Nothing due: sleep until the timer thread resumes us. */
        pthread_mutex_lock(&tm_lock);
        MHD_suspend_connection(s->conn);
        bool first = heap_n == 0 || s->due_ns < heap[0]->due_ns;
        heap_push(s);
        if (first)
            pthread_cond_signal(&tm_cond);
        pthread_mutex_unlock(&tm_lock);
        return 0;
    }
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    if (s->phase == PH_END)
        atomic_fetch_add(&n_streams_done, 1);
    atomic_fetch_sub(&n_active, 1);
    free(s->big);
    free(s);
}

/* ---------------------------------------------------------------------------------------------
 * HTTP */

struct req {
    char *body;
    size_t len, cap;
    bool too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result http_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char b[256];
    int n = snprintf(b, sizeof(b),
                     "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\"}}", msg);
    atomic_fetch_add(&n_bad, 1);
    return reply(c, status, "application/json", b, (size_t)n);
}

static int hdr_int(struct MHD_Connection *c, const char *name, int dflt, int lo, int hi)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    if (!v || !*v)
        return dflt;
    char *e;
    long x = strtol(v, &e, 10);
    if (*e || x < lo || x > hi)
        return dflt;
    return (int)x;
}

static enum MHD_Result chat(struct MHD_Connection *c, struct req *rq)
{
    struct chat_req cr = {.model = "instant"};
    struct scan s = {rq->body, rq->body + rq->len};
    if (rq->len == 0 || !scan_object(&s, 0, &cr))
        return http_error(c, 400, "request body is not a JSON object");
    ws(&s);
    if (s.p != s.end)
        return http_error(c, 400, "trailing data after the JSON object");
    unsigned long long seq = atomic_fetch_add(&n_chat, 1);
    unsigned prompt_tokens = (unsigned)(rq->len / 4 + 1);
    long created = (long)time(NULL);
    if (!cr.stream) {
        char b[1024];
        int n = snprintf(b, sizeof(b),
                         "{\"id\":\"chatcmpl-mock-%llu\",\"object\":\"chat.completion\","
                         "\"created\":%ld,\"model\":\"%s\",\"choices\":[{\"index\":0,"
                         "\"message\":{\"role\":\"assistant\",\"content\":\"pong\"},"
                         "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":%u,"
                         "\"completion_tokens\":1,\"total_tokens\":%u}}",
                         seq, created, cr.model, prompt_tokens, prompt_tokens + 1);
        return reply(c, 200, "application/json", b, (size_t)n);
    }
    struct stream *st = calloc(1, sizeof(*st));
    if (!st)
        return MHD_NO;
    st->conn = c;
    st->seq = seq;
    st->created = created;
    st->prompt_tokens = prompt_tokens;
    st->usage = cr.include_usage;
    st->total = hdr_int(c, "X-Mock-Chunks", opt.chunks, 0, MAX_CHUNKS);
    st->delay_ms = hdr_int(c, "X-Mock-Chunk-Delay-Ms", opt.delay_ms, 0, 600000);
    int ttft = hdr_int(c, "X-Mock-TTFT-Ms", -1, 0, 600000);
    memcpy(st->model, cr.model, sizeof(st->model));
    st->phase = PH_ROLE;
    if (ttft >= 0) { /* the role chunk goes at once; the first content chunk after ttft */
        next_piece(st);
        st->due_ns = now_ns() + (int64_t)ttft * 1000000;
    }
    atomic_fetch_add(&n_streams, 1);
    atomic_fetch_add(&n_active, 1);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                               stream_reader, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *rq = *con_cls;
    if (!rq) { /* first call: queueing now would cost keep-alive (MHD 0.9.75) */
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        atomic_fetch_add(&n_requests, 1);
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->too_big || rq->len + n > MAX_BODY) {
            rq->too_big = true;
            return MHD_YES;
        }
        if (rq->len + n > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + n)
                cap *= 2;
            char *b = realloc(rq->body, cap);
            if (!b)
                return MHD_NO;
            rq->body = b;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        return MHD_YES;
    }
    char path[512];
    size_t ul = strcspn(url, "?");
    if (ul >= sizeof(path))
        ul = sizeof(path) - 1;
    memcpy(path, url, ul);
    path[ul] = 0;
    if (strcmp(method, "POST") == 0 && ends_with(path, "/chat/completions")) {
        if (rq->too_big)
            return http_error(c, 413, "request body too large");
        return chat(c, rq);
    }
    if (strcmp(method, "GET") == 0) {
        if (strcmp(path, "/v1/models") == 0 || strcmp(path, "/models") == 0) {
            static const char models[] =
                "{\"object\":\"list\",\"data\":[{\"id\":\"instant\",\"object\":\"model\","
                "\"created\":0,\"owned_by\":\"mock\"}]}";
            return reply(c, 200, "application/json", models, sizeof(models) - 1);
        }
        if (strcmp(path, "/health") == 0)
            return reply(c, 200, "application/json", "{\"status\":\"ok\"}", 15);
        if (strcmp(path, "/stats") == 0) {
            char b[384];
            int n = snprintf(b, sizeof(b),
                             "{\"requests\":%llu,\"chat\":%llu,\"streams\":%llu,"
                             "\"streams_done\":%llu,\"streams_active\":%lld,\"errors\":%llu}",
                             atomic_load(&n_requests), atomic_load(&n_chat),
                             atomic_load(&n_streams), atomic_load(&n_streams_done),
                             atomic_load(&n_active), atomic_load(&n_bad));
            return reply(c, 200, "application/json", b, (size_t)n);
        }
    }
    return http_error(c, 404, "not found");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void on_signal(int sig)
{
    (void)sig;
    _exit(0); /* suspended connections make MHD_stop_daemon abort; nothing to flush */
}

static void usage(void)
{
    fprintf(stderr, "usage: mock_upstream [-p port] [-H host] [-t threads] [-n chunks] "
                    "[-d chunk_delay_ms] [-f ttft_ms] [-s pad_bytes] [-q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "p:H:t:n:d:f:s:q")) != -1) {
        switch (ch) {
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'H':
            opt.host = optarg;
            break;
        case 't':
            opt.threads = atoi(optarg);
            break;
        case 'n':
            opt.chunks = atoi(optarg);
            break;
        case 'd':
            opt.delay_ms = atoi(optarg);
            break;
        case 'f':
            opt.ttft_ms = atoi(optarg);
            break;
        case 's':
            opt.pad = atoi(optarg);
            break;
        case 'q':
            opt.quiet = true;
            break;
        default:
            usage();
        }
    }
    if (opt.port <= 0 || opt.port > 65535 || opt.threads < 1 || opt.chunks < 0 ||
        opt.chunks > MAX_CHUNKS || opt.delay_ms < 0 || opt.ttft_ms < 0 || opt.pad < 0 ||
        opt.pad > 1 << 20)
        usage();
    g_pad = malloc((size_t)opt.pad + 1);
    if (!g_pad)
        return 1;
    memset(g_pad, 'x', (size_t)opt.pad);
    g_pad[opt.pad] = 0;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&tm_cond, &ca);
    pthread_t tid;
    if (pthread_create(&tid, NULL, timer_main, NULL) != 0)
        return 1;

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1) {
        fprintf(stderr, "mock_upstream: bad IPv4 address %s\n", opt.host);
        return 2;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)opt.port, NULL, NULL, on_request, NULL,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt.threads,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)16384,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                            MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mock_upstream: cannot listen on %s:%d\n", opt.host, opt.port);
        return 1;
    }
    if (!opt.quiet) {
        printf("mock_upstream listening %s:%d threads=%d chunks=%d delay_ms=%d ttft_ms=%d pad=%d\n",
               opt.host, opt.port, opt.threads, opt.chunks, opt.delay_ms, opt.ttft_ms, opt.pad);
        fflush(stdout);
    }
    for (;;)
        pause();
}
