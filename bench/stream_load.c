/* SPDX-License-Identifier: MIT
 * stream_load.c — concurrent streaming chat-completions load and latency, one epoll thread.
 *
 * Opens C connections to URL and keeps C POST requests in flight until N streams were issued
 * (keep-alive reuse; a closed connection is reopened). Each response is read as HTTP/1.1
 * (chunked, Content-Length or close-delimited), its body as Server-Sent Events. Per stream it
 * records the time from issuing the request (connect included for a new connection) to the
 * response head, to the first `data:` event, to the first event with non-empty "content" (the
 * time to first token, TTFT), and to the end of the body. Content produced by mock_upstream
 * carries "t=<CLOCK_MONOTONIC ns>" of its emission; each one found gives a chunk-latency sample
 * (arrival − emission), so the added latency of a proxy in between can be measured per chunk.
 * A stream is completed when the status is 200 and "data: [DONE]" arrived before the body ended.
 * With -r the connections are opened evenly over ramp_ms instead of all at once (so the chunks
 * of concurrent streams do not all fall due at the same instant). With -p PID it samples that
 * process's VmRSS every 100 ms (the gateway under load).
 *
 * Usage: stream_load -u http://127.0.0.1:PORT/v1/chat/completions [-c conns] [-n streams]
 *          [-b body | -f body_file] [-a bearer_token] [-H 'Name: value']... [-T timeout_s]
 *          [-p pid] [-r ramp_ms] [-q]
 * Output: key=value lines (times in ms). Exit status 0 when every stream completed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (4u << 20)
#define MAX_HEADERS 16

enum cstate { C_CONNECTING, C_SENDING, C_HEAD, C_BODY, C_IDLE };
enum bmode { B_CHUNKED, B_LENGTH, B_CLOSE };
enum chstate { CH_SIZE, CH_DATA, CH_CRLF, CH_TRAILER };

struct conn {
    int fd;
    enum cstate st;
    size_t woff;
    char *in;
    size_t in_len, in_cap;
    int status;
    enum bmode bmode;
    bool server_close;
    long long remaining; /* B_LENGTH bytes or current chunk bytes */
    enum chstate ch;
    char *line;
    size_t line_len, line_cap;
    bool line_overflow;
    /* the stream in flight */
    int64_t t0, t_head, t_event, t_content;
    int events, contents;
    bool done_seen, usage_seen, active;
};

struct samples {
    double *v;
    size_t n, cap;
};

static struct {
    const char *host_hdr, *path;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *req;
    size_t req_len;
    int conns, total, timeout_s, ramp_ms;
    int rss_pid;
    bool quiet;
} g;

static int epfd;
static int issued, completed, failed, non200, timeouts, conn_errors, no_done;
static long long n_events, n_contents, n_usage;
static int chunks_min = -1, chunks_max;
static struct samples s_head, s_event, s_ttft, s_total, s_lag;
static long rss_max_kb;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *msg)
{
    fprintf(stderr, "stream_load: %s\n", msg);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

static void add(struct samples *s, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->v = xrealloc(s->v, s->cap * sizeof(double));
    }
    s->v[s->n++] = v;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const struct samples *s, double p)
{
    if (s->n == 0)
        return 0;
    size_t i = (size_t)(p * (double)s->n + 0.999999);
    if (i < 1)
        i = 1;
    if (i > s->n)
        i = s->n;
    return s->v[i - 1];
}

static void report(const char *name, struct samples *s)
{
    qsort(s->v, s->n, sizeof(double), cmpd);
    printf("%s_p50=%.3f %s_p90=%.3f %s_p99=%.3f %s_max=%.3f %s_n=%zu\n", name, pct(s, 0.5), name,
           pct(s, 0.9), name, pct(s, 0.99), name, s->n ? s->v[s->n - 1] : 0.0, name, s->n);
}

static long proc_kb(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* ---------------------------------------------------------------------------------------------
 * Connections */

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->st = C_IDLE;
}

static void stream_begin(struct conn *c)
{
    c->t0 = now_ns();
    c->t_head = c->t_event = c->t_content = 0;
    c->events = c->contents = 0;
    c->done_seen = c->usage_seen = false;
    c->active = true;
    c->woff = 0;
    c->in_len = 0;
    c->line_len = 0;
    c->line_overflow = false;
    c->status = 0;
    c->server_close = false;
    issued++;
}

static bool conn_open(struct conn *c)
{
    c->fd = socket(g.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket() failed (raise ulimit -n?)");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl");
    if (connect(c->fd, (struct sockaddr *)&g.addr, g.addrlen) != 0 && errno != EINPROGRESS)
        return false;
    c->st = C_CONNECTING;
    return true;
}

static void set_events(struct conn *c, uint32_t evs)
{
    struct epoll_event ev = {.events = evs, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void start_next(struct conn *c);

static void stream_end(struct conn *c, bool ok_body)
{
    if (!c->active)
        return;
    c->active = false;
    int64_t t = now_ns();
    bool ok = ok_body && c->status == 200 && c->done_seen;
    if (ok) {
        completed++;
        add(&s_head, (double)(c->t_head - c->t0) / 1e6);
        if (c->t_event)
            add(&s_event, (double)(c->t_event - c->t0) / 1e6);
        if (c->t_content)
            add(&s_ttft, (double)(c->t_content - c->t0) / 1e6);
        add(&s_total, (double)(t - c->t0) / 1e6);
        if (chunks_min < 0 || c->contents < chunks_min)
            chunks_min = c->contents;
        if (c->contents > chunks_max)
            chunks_max = c->contents;
    } else {
        failed++;
        if (c->status && c->status != 200)
            non200++;
        else if (c->status == 200 && !c->done_seen)
            no_done++;
        else
            conn_errors++;
    }
    n_usage += c->usage_seen;
}

static void fail_conn(struct conn *c)
{
    stream_end(c, false);
    conn_close(c);
    start_next(c);
}

static void start_next(struct conn *c)
{
    if (issued >= g.total) {
        if (c->fd >= 0)
            conn_close(c);
        return;
    }
    if (c->fd >= 0 && !c->server_close) {
        stream_begin(c);
        c->st = C_SENDING;
        set_events(c, EPOLLOUT | EPOLLIN);
        return;
    }
    if (c->fd >= 0)
        conn_close(c);
    stream_begin(c);
    if (!conn_open(c))
        fail_conn(c);
}

/* ---------------------------------------------------------------------------------------------
 * Response parsing */

static bool digits_after(const char *p, const char *end, int64_t *v)
{
    int64_t x = 0;
    const char *b = p;
    while (p < end && *p >= '0' && *p <= '9')
        x = x * 10 + (*p++ - '0');
    *v = x;
    return p > b;
}

static void on_data(struct conn *c, const char *p, size_t n, int64_t t)
{
    const char *end = p + n;
    c->events++;
    n_events++;
    if (!c->t_event)
        c->t_event = t;
    if (n == 6 && memcmp(p, "[DONE]", 6) == 0) {
        c->done_seen = true;
        return;
    }
    if (memmem(p, n, "\"usage\":{", 9))
        c->usage_seen = true;
    const char *k = memmem(p, n, "\"content\":\"", 11);
    if (k && k + 11 < end && k[11] != '"') {
        if (!c->t_content)
            c->t_content = t;
        c->contents++;
        n_contents++;
    }
    /* emission stamps of mock_upstream: "t=<ns>" at the start of a content string or after a
     * space (a proxy may merge several chunks into one) */
    for (const char *q = p; (q = memmem(q, (size_t)(end - q), "t=", 2)) != NULL; q += 2) {
        if (q > p && q[-1] != '"' && q[-1] != ' ')
            continue;
        int64_t ts;
        if (digits_after(q + 2, end, &ts) && ts > 0 && ts <= t)
            add(&s_lag, (double)(t - ts) / 1e6);
    }
}

static void on_line(struct conn *c, char *l, size_t n, int64_t t)
{
    if (n && l[n - 1] == '\r')
        n--;
    if (n >= 5 && memcmp(l, "data:", 5) == 0) {
        l += 5;
        n -= 5;
        if (n && *l == ' ')
            l++, n--;
        on_data(c, l, n, t);
    }
}

static void feed_sse(struct conn *c, const char *p, size_t n, int64_t t)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!c->line_overflow) {
            if (c->line_len + take > LINE_MAX_BYTES) {
                c->line_overflow = true;
            } else {
                if (c->line_len + take + 1 > c->line_cap) {
                    c->line_cap = (c->line_len + take + 1) * 2;
                    c->line = xrealloc(c->line, c->line_cap);
                }
                memcpy(c->line + c->line_len, p, take);
                c->line_len += take;
            }
        }
        if (!nl)
            return;
        if (!c->line_overflow)
            on_line(c, c->line, c->line_len, t);
        c->line_len = 0;
        c->line_overflow = false;
        p = nl + 1;
        n -= take + 1;
    }
}

static bool hdr_is(const char *line, size_t n, const char *name, const char **val)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    const char *v = line + k + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *val = v;
    return true;
}

/* Parses the head in c->in[0..hl). */
static bool parse_head(struct conn *c, size_t hl)
{
    c->in[hl - 1] = 0;
    if (hl < 12 || strncmp(c->in, "HTTP/1.", 7) != 0)
        return false;
    c->status = atoi(c->in + 9);
    c->bmode = B_CLOSE;
    if (strncmp(c->in, "HTTP/1.0", 8) == 0)
        c->server_close = true;
    char *line = strstr(c->in, "\r\n");
    while (line && line[2]) {
        line += 2;
        char *e = strstr(line, "\r\n");
        size_t n = e ? (size_t)(e - line) : strlen(line);
        const char *v;
        if (hdr_is(line, n, "Transfer-Encoding", &v) && strncasecmp(v, "chunked", 7) == 0) {
            c->bmode = B_CHUNKED;
            c->ch = CH_SIZE;
        } else if (hdr_is(line, n, "Content-Length", &v) && c->bmode != B_CHUNKED) {
            c->bmode = B_LENGTH;
            c->remaining = atoll(v);
        } else if (hdr_is(line, n, "Connection", &v) && strncasecmp(v, "close", 5) == 0) {
            c->server_close = true;
        }
        line = e;
    }
    if (c->bmode == B_CLOSE)
        c->server_close = true;
    return true;
}

/* Consumes c->in; returns false on a protocol error. Sets *end when the body is complete. */
static bool process(struct conn *c, int64_t t, bool *end)
{
    size_t off = 0;
    *end = false;
    if (c->st == C_HEAD) {
        char *h = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!h)
            return c->in_len < 65536;
        size_t hl = (size_t)(h - c->in) + 4;
        if (!parse_head(c, hl - 2))
            return false;
        c->t_head = t;
        c->st = C_BODY;
        off = hl;
        if (c->bmode == B_LENGTH && c->remaining == 0) {
            *end = true;
            c->in_len = 0;
            return true;
        }
    }
    while (off < c->in_len && !*end) {
        char *p = c->in + off;
        size_t avail = c->in_len - off;
        if (c->bmode == B_CLOSE) {
            feed_sse(c, p, avail, t);
            off += avail;
        } else if (c->bmode == B_LENGTH) {
            size_t n = avail < (size_t)c->remaining ? avail : (size_t)c->remaining;
            feed_sse(c, p, n, t);
            off += n;
            c->remaining -= (long long)n;
            if (c->remaining == 0)
                *end = true;
        } else if (c->ch == CH_DATA) {
            size_t n = avail < (size_t)c->remaining ? avail : (size_t)c->remaining;
            feed_sse(c, p, n, t);
            off += n;
            c->remaining -= (long long)n;
            if (c->remaining == 0)
                c->ch = CH_CRLF;
        } else {
            char *nl = memmem(p, avail, "\r\n", 2);
            if (!nl)
                break;
            size_t ln = (size_t)(nl - p);
            if (c->ch == CH_SIZE) {
                char *e;
                c->remaining = strtoll(p, &e, 16);
                if (e == p || c->remaining < 0)
                    return false;
                c->ch = c->remaining ? CH_DATA : CH_TRAILER;
            } else if (c->ch == CH_CRLF) {
                if (ln != 0)
                    return false;
                c->ch = CH_SIZE;
            } else if (ln == 0) { /* CH_TRAILER: the empty line ends the message */
                *end = true;
            }
            off += ln + 2;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return true;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 16384) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 65536;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            fail_conn(c);
            return;
        }
        int64_t t = now_ns();
        if (r == 0) {
            bool ok = c->st == C_BODY && c->bmode == B_CLOSE;
            if (ok && c->line_len)
                on_line(c, c->line, c->line_len, t);
            stream_end(c, ok);
            conn_close(c);
            start_next(c);
            return;
        }
        if (c->st != C_HEAD && c->st != C_BODY) { /* data before the request was sent */
            fail_conn(c);
            return;
        }
        c->in_len += (size_t)r;
        bool end;
        if (!process(c, t, &end)) {
            fail_conn(c);
            return;
        }
        if (end) {
            stream_end(c, true);
            start_next(c);
            return;
        }
    }
}

static void on_writable(struct conn *c)
{
    if (c->st == C_CONNECTING) {
        int err = 0;
        socklen_t l = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            fail_conn(c);
            return;
        }
        c->st = C_SENDING;
    }
    if (c->st != C_SENDING)
        return;
    while (c->woff < g.req_len) {
        ssize_t w = write(c->fd, g.req + c->woff, g.req_len - c->woff);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            fail_conn(c);
            return;
        }
        c->woff += (size_t)w;
    }
    c->st = C_HEAD;
    set_events(c, EPOLLIN);
}

/* ---------------------------------------------------------------------------------------------
 * main */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open the body file");
    char *b = NULL;
    size_t n = 0, cap = 0, r;
    do {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            b = xrealloc(b, cap);
        }
        r = fread(b + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return b;
}

static void parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        die("only http:// URLs");
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    char *hostport = strndup(h, hl);
    g.host_hdr = hostport;
    g.path = slash ? slash : "/";
    char *host = strdup(hostport), *port = "80";
    char *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = 0;
        port = colon + 1;
    }
    if (host[0] == '[') {
        host++;
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        die("cannot resolve the URL's host");
    memcpy(&g.addr, res->ai_addr, res->ai_addrlen);
    g.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
}

static void usage(void)
{
    fprintf(stderr, "usage: stream_load -u URL [-c conns] [-n streams] [-b body | -f body_file] "
                    "[-a token] [-H 'Name: value']... [-T timeout_s] [-p pid] [-r ramp_ms] [-q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *body = NULL, *body_file = NULL, *token = NULL;
    const char *hdrs[MAX_HEADERS];
    int nh = 0, ch;
    g.conns = 64;
    g.total = -1;
    g.timeout_s = 60;
    while ((ch = getopt(argc, argv, "u:c:n:b:f:a:H:T:p:r:q")) != -1) {
        switch (ch) {
        case 'u':
            url = optarg;
            break;
        case 'c':
            g.conns = atoi(optarg);
            break;
        case 'n':
            g.total = atoi(optarg);
            break;
        case 'b':
            body = optarg;
            break;
        case 'f':
            body_file = optarg;
            break;
        case 'a':
            token = optarg;
            break;
        case 'H':
            if (nh == MAX_HEADERS)
                die("too many -H");
            hdrs[nh++] = optarg;
            break;
        case 'T':
            g.timeout_s = atoi(optarg);
            break;
        case 'p':
            g.rss_pid = atoi(optarg);
            break;
        case 'r':
            g.ramp_ms = atoi(optarg);
            break;
        case 'q':
            g.quiet = true;
            break;
        default:
            usage();
        }
    }
    if (!url || g.conns < 1 || g.timeout_s < 1 || g.ramp_ms < 0)
        usage();
    if (g.total < 0)
        g.total = g.conns;
    size_t blen;
    char *b;
    if (body_file) {
        b = read_file(body_file, &blen);
    } else {
        if (!body)
            body =
                "{\"model\":\"mock/instant\",\"stream\":true,\"stream_options\":"
                "{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"ping\"}]}";
        b = strdup(body);
        blen = strlen(body);
    }
    parse_url(url);

    /* the request, identical for every stream */
    size_t cap = blen + 4096;
    for (int i = 0; i < nh; i++)
        cap += strlen(hdrs[i]) + 2;
    if (token)
        cap += strlen(token);
    g.req = xrealloc(NULL, cap);
    int n = snprintf(g.req, cap,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Accept: text/event-stream\r\nContent-Length: %zu\r\n",
                     g.path, g.host_hdr, blen);
    if (token)
        n += snprintf(g.req + n, cap - (size_t)n, "Authorization: Bearer %s\r\n", token);
    for (int i = 0; i < nh; i++)
        n += snprintf(g.req + n, cap - (size_t)n, "%s\r\n", hdrs[i]);
    n += snprintf(g.req + n, cap - (size_t)n, "\r\n");
    memcpy(g.req + n, b, blen);
    g.req_len = (size_t)n + blen;
    free(b);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");

    if (g.conns > g.total)
        g.conns = g.total;
    struct conn *cs = calloc((size_t)g.conns, sizeof(*cs));
    if (!cs && g.conns)
        die("out of memory");
    long rss0 = g.rss_pid ? proc_kb(g.rss_pid, "VmRSS") : 0;
    int64_t t_start = now_ns(), deadline = t_start + (int64_t)g.timeout_s * 1000000000;
    int64_t next_rss = t_start;
    for (int i = 0; i < g.conns; i++) {
        cs[i].fd = -1;
        cs[i].st = C_IDLE;
    }
    int started = 0; /* connections opened so far: spread evenly over ramp_ms */
    struct epoll_event evs[256];
    for (;;) {
        int64_t t = now_ns();
        while (started < g.conns && t >= t_start + (int64_t)g.ramp_ms * 1000000 * started / g.conns)
            start_next(&cs[started++]);
        int active = 0;
        for (int i = 0; i < g.conns; i++)
            active += cs[i].active;
        if (!active && issued >= g.total && started == g.conns)
            break;
        if (g.rss_pid && t >= next_rss) {
            long kb = proc_kb(g.rss_pid, "VmRSS");
            if (kb > rss_max_kb)
                rss_max_kb = kb;
            next_rss = t + 100000000;
        }
        if (t >= deadline) {
            for (int i = 0; i < g.conns; i++)
                if (cs[i].active) {
                    timeouts++;
                    stream_end(&cs[i], false);
                    conn_close(&cs[i]);
                }
            break;
        }
        int wait_ms = 50;
        if (started < g.conns) {
            int64_t next = t_start + (int64_t)g.ramp_ms * 1000000 * started / g.conns;
            wait_ms = next > t ? (int)((next - t) / 1000000) : 0;
            if (wait_ms > 50)
                wait_ms = 50;
        }
        int k = epoll_wait(epfd, evs, 256, wait_ms);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                if (c->st == C_CONNECTING || c->st == C_SENDING)
                    on_writable(c);
            }
            if (c->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
                (c->st == C_HEAD || c->st == C_BODY))
                on_readable(c);
        }
    }
    double secs = (double)(now_ns() - t_start) / 1e9;
    for (int i = 0; i < g.conns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);

    printf("url=%s conns=%d streams=%d completed=%d failed=%d non200=%d no_done=%d "
           "conn_errors=%d timeouts=%d duration_s=%.3f streams_per_s=%.1f\n",
           url, g.conns, issued, completed, failed, non200, no_done, conn_errors, timeouts, secs,
           secs > 0 ? completed / secs : 0.0);
    printf("events=%lld content_events=%lld usage_chunks=%lld chunks_per_stream_min=%d "
           "chunks_per_stream_max=%d lag_samples=%zu\n",
           n_events, n_contents, n_usage, chunks_min < 0 ? 0 : chunks_min, chunks_max, s_lag.n);
    report("head_ms", &s_head);
    report("first_event_ms", &s_event);
    report("ttft_ms", &s_ttft);
    report("total_ms", &s_total);
    report("chunk_lag_ms", &s_lag);
    if (g.rss_pid)
        printf("rss_pid=%d rss_before_kb=%ld rss_max_kb=%ld rss_after_kb=%ld hwm_kb=%ld\n",
               g.rss_pid, rss0, rss_max_kb, proc_kb(g.rss_pid, "VmRSS"),
               proc_kb(g.rss_pid, "VmHWM"));
    return completed == issued ? 0 : 1;
}
