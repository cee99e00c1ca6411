/* SPDX-License-Identifier: MIT
 * http_server.c — libmicrohttpd wiring: connection accounting, limits, deadlines, dispatch.
 *
 * MHD calls us at four points per request: the URI log callback (request line read: we create
 * the request and keep the raw URI), the access handler (first call: head complete; then once
 * per body chunk; last call with no data: dispatch), and the completion callback (free). We
 * answer on the second call at the earliest, never the first, because a response queued on the
 * first call makes MHD 0.9.75 close keep-alive connections (reference/c-deps.md §1.2).
 */
#include "base/prelude.h"
#include "http/http_int.h"
#include "base/cidr.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define REAPER_PERIOD_MS 250
#define DRAIN_LIMIT_FACTOR 16 /* bytes drained after a 413, relative to max_body_bytes */
#define WORKERS_AT_START 2    /* blocking workers made at start; more as they are needed */

static int64_t secs_ns(unsigned s)
{
    return (int64_t)s * 1000000000;
}

static void conn_set_state(struct http_server *s, struct http_conn *c, enum http_conn_state st)
{
    pthread_mutex_lock(&s->conns_lock);
    c->state = st;
    c->since_ns = gw_mono_ns();
    pthread_mutex_unlock(&s->conns_lock);
}

/* --- per-address counting (under conns_lock) -------------------------------------------- */

static unsigned ip_add(struct http_server *s, const char *ip)
{
    for (size_t i = 0; i < s->n_ips; i++)
        if (strcmp(s->ips[i].ip, ip) == 0)
            return ++s->ips[i].n;
    if (s->n_ips == s->cap_ips) {
        s->cap_ips = s->cap_ips ? s->cap_ips * 2 : 16;
        s->ips = gw_xrealloc(s->ips, s->cap_ips * sizeof(*s->ips));
    }
    snprintf(s->ips[s->n_ips].ip, sizeof(s->ips[0].ip), "%s", ip);
    s->ips[s->n_ips].n = 1;
    return s->ips[s->n_ips++].n;
}

static void ip_remove(struct http_server *s, const char *ip)
{
    for (size_t i = 0; i < s->n_ips; i++) {
        if (strcmp(s->ips[i].ip, ip) == 0) {
            if (--s->ips[i].n == 0)
                s->ips[i] = s->ips[--s->n_ips];
            return;
        }
    }
}

static void addr_to_ip(const struct sockaddr *sa, char *out, size_t cap)
{
    out[0] = '\0';
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/* --- MHD callbacks ------------------------------------------------------------------------ */

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct http_conn *c = gw_xcalloc(1, sizeof(*c));
        const union MHD_ConnectionInfo *fdi =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        c->fd = fdi ? fdi->connect_fd : -1;
        addr_to_ip(ai ? ai->client_addr : NULL, c->ip, sizeof(c->ip));
        c->state = CONN_HEAD; /* a new connection owes us a request head within the deadline */
        c->since_ns = gw_mono_ns();
        pthread_mutex_lock(&s->conns_lock);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        /* a trusted proxy carries many clients: the per-address limit would let one of them
         * lock out the rest, so only the total applies to it */
        c->trusted = gw_cidr_list_contains(s->trusted, s->opt.n_trusted_proxies, c->ip);
        unsigned per_ip = ip_add(s, c->ip);
        c->over_limit = s->n_conns > s->opt.max_connections ||
                        (!c->trusted && per_ip > s->opt.max_connections_per_ip);
        pthread_mutex_unlock(&s->conns_lock);
        *socket_context = c;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct http_conn *c = *socket_context;
        if (!c)
            return;
        pthread_mutex_lock(&s->conns_lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            s->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        s->n_conns--;
        ip_remove(s, c->ip);
        pthread_mutex_unlock(&s->conns_lock);
        free(c);
        *socket_context = NULL;
    }
}

static struct http_conn *conn_of(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static enum http_method parse_method(const char *m)
{
    static const struct {
        const char *name;
        enum http_method m;
    } methods[] = {
        {"GET", HTTP_GET}, {"HEAD", HTTP_HEAD},     {"POST", HTTP_POST},
        {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE}, {"PATCH", HTTP_PATCH},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(methods); i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].m;
    return HTTP_OTHER;
}

/* Request line complete: create the request with the raw URI (MHD decodes it later). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct http_server *s = cls;
    struct gw_pool *pool = gw_pool_new();
    struct http_req *r = gw_pool_calloc(pool, sizeof(*r));
    r->pool = pool;
    r->server = s;
    atomic_init(&r->refs, 1);
    r->conn = connection;
    r->hc = conn_of(connection);
    r->start_ns = gw_mono_ns();
    gw_buf_init(&r->body, s->opt.max_body_bytes);
    const char *q = strchr(uri, '?');
    r->raw_path = q ? gw_pool_strndup(pool, uri, (size_t)(q - uri)) : gw_pool_strdup(pool, uri);
    r->raw_query = q ? gw_pool_strdup(pool, q + 1) : NULL;
    if (r->hc) {
        snprintf(r->client_ip, sizeof(r->client_ip), "%s", r->hc->ip);
        conn_set_state(s, r->hc, CONN_HEAD);
    }
    atomic_fetch_add(&s->active, 1);
    return r;
}

static bool request_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

struct header_join {
    const char *name;
    struct gw_buf out;
};

static enum MHD_Result join_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct header_join *j = cls;
    if (value && strcasecmp(key, j->name) == 0)
        gw_buf_printf(&j->out, "%s%s", j->out.len ? ", " : "", value);
    return MHD_YES;
}

/* Every field line of a header, joined with ", " in order (RFC 9110 5.3), in the pool;
 * NULL when absent or larger than 2 KiB (then it is not believed at all). */
static const char *header_all(struct http_req *r, const char *name)
{
    struct header_join j = {.name = name};
    gw_buf_init(&j.out, 2048);
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_header, &j);
    const char *v = j.out.len && j.out.len < 2048 ? gw_pool_strndup(r->pool, j.out.data, j.out.len)
                                                  : NULL;
    gw_buf_release(&j.out);
    return v;
}

/* Head complete: method, request id, and the checks that need no body. */
static void begin_request(struct http_server *s, struct http_req *r, const char *method)
{
    r->method_name = gw_pool_strdup(r->pool, method);
    r->method = parse_method(method);
    r->https = s->tls_cert != NULL;
    if (r->hc && r->hc->trusted)
        http_forwarded_client(header_all(r, "Forwarded"), header_all(r, "X-Forwarded-For"),
                              header_all(r, "X-Forwarded-Proto"), s->trusted,
                              s->opt.n_trusted_proxies, r->client_ip, sizeof(r->client_ip),
                              &r->https);
    const char *rid = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && request_id_ok(rid))
        snprintf(r->request_id, sizeof(r->request_id), "%s", rid);
    else
        gw_random_hex(r->request_id, 16);
    /* MHD's memory limit is only a coarse backstop (it also holds buffers): the configured
     * limit is enforced here on the exact size of the request line and header fields. */
    size_t head = strlen(r->raw_path) + (r->raw_query ? strlen(r->raw_query) + 1 : 0) + 16;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_header_size, &head);
    if (head > s->opt.max_header_bytes)
        r->early_error = GW_EHEADERS;
    if (r->hc && r->hc->over_limit)
        r->early_error = GW_EUNAVAIL;
    if (atomic_load(&s->stopping))
        r->early_error = GW_EUNAVAIL;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end != '\0')
            r->early_error = GW_EINVAL;
        else if (n > s->opt.max_body_bytes)
            r->early_error = GW_ETOOBIG;
    }
    if (r->hc)
        conn_set_state(s, r->hc, CONN_BODY);
}

/* --- blocking workers ------------------------------------------------------------------------ */

static void *worker_main(void *arg);

static void job_push(struct http_server *s, struct http_req *r)
{
    pthread_mutex_lock(&s->jobs_lock);
    if (s->jobs_len == s->jobs_cap) {
        size_t cap = s->jobs_cap ? s->jobs_cap * 2 : 64;
        struct http_req **n = gw_xmalloc(cap * sizeof(*n));
        for (size_t i = 0; i < s->jobs_len; i++)
            n[i] = s->jobs[(s->jobs_head + i) % s->jobs_cap];
        free(s->jobs);
        s->jobs = n;
        s->jobs_cap = cap;
        s->jobs_head = 0;
    }
    s->jobs[(s->jobs_head + s->jobs_len++) % s->jobs_cap] = r;
    /* the pool grows when every started worker is busy, up to its size: 64 threads made at
     * start cost tens of ms on a VM, and most gateways never need them all */
    if (s->n_idle < s->jobs_len && s->n_started < s->n_workers && !s->workers_stop &&
        pthread_create(&s->workers[s->n_started], NULL, worker_main, s) == 0)
        s->n_started++;
    pthread_cond_signal(&s->jobs_cv);
    pthread_mutex_unlock(&s->jobs_lock);
}

static void *worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "http-blocking");
    struct http_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->jobs_lock);
        s->n_idle++;
        while (s->jobs_len == 0 && !s->workers_stop)
            pthread_cond_wait(&s->jobs_cv, &s->jobs_lock);
        s->n_idle--;
        if (s->jobs_len == 0) {
            pthread_mutex_unlock(&s->jobs_lock);
            return NULL;
        }
        struct http_req *r = s->jobs[s->jobs_head];
        s->jobs_head = (s->jobs_head + 1) % s->jobs_cap;
        s->jobs_len--;
        pthread_mutex_unlock(&s->jobs_lock);
        http_req_hold(r); /* the handler may hand r to another thread that finishes first */
        r->on_worker = true;
        if (r->job_fn)
            r->job_fn(r, r->job_arg);
        else
            s->dispatch(r, s->ctx);
        if (!atomic_load(&r->async)) {
            if (!r->responded)
                http_respond_error(r, GW_EINTERNAL, "no response produced");
            MHD_resume_connection(r->conn);
        }
        http_req_release(r);
    }
}

/* Answers 408 directly on the socket (for states where MHD cannot queue a response). */
static void send_408(int fd, const char *why)
{
    http_raw_error(fd, GW_ETIMEOUT, why);
    shutdown(fd, SHUT_RDWR);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct http_server *s = cls;
    struct http_req *r = *req_cls;
    if (!r)
        return MHD_NO; /* no URI callback: cannot happen with our options */
    if (!r->method_name) {
        begin_request(s, r, method);
        /* Errors known from the head alone are answered at once: MHD then sends no
         * "100 Continue", skips the body and closes the connection, which is what we want for a
         * client we are refusing. Everything else is answered on a later call (keep-alive). */
        if (r->early_error == GW_OK)
            return MHD_YES;
    }
    if (*upload_data_size) {
        /* MHD accepts a response only once the body is complete, so a body that is too large
         * is drained (not stored) and answered at the end, within the total deadline. */
        if (r->early_error == GW_OK &&
            gw_buf_append(&r->body, upload_data, *upload_data_size) != GW_OK)
            r->early_error = GW_ETOOBIG;
        if (r->early_error != GW_OK)
            r->discarded += *upload_data_size;
        *upload_data_size = 0;
        if (gw_mono_ns() - r->start_ns > secs_ns(s->opt.request_timeout_s)) {
            if (r->hc)
                send_408(r->hc->fd, "request body not received in time");
            return MHD_NO;
        }
        return r->discarded > DRAIN_LIMIT_FACTOR * s->opt.max_body_bytes ? MHD_NO : MHD_YES;
    }
    if (r->stored) {
        /* resumed: a blocking worker produced the answer */
        if (MHD_queue_response(connection, (unsigned)r->stored_status, r->stored) != MHD_YES)
            gw_debug("http: could not queue response %d for %s", r->status, r->request_id);
        MHD_destroy_response(r->stored);
        r->stored = NULL;
        return MHD_YES;
    }
    if (r->responded)
        return MHD_YES;
    if (r->hc)
        conn_set_state(s, r->hc, CONN_BUSY);
    if (r->hc && r->hc->reaped)
        return MHD_NO;
    if (r->early_error != GW_OK) {
        const char *close_hdr[] = {"Connection: close", NULL};
        http_respond_error_h(r, r->early_error, close_hdr, "%s",
                             r->early_error == GW_ETOOBIG
                                 ? "request body larger than the configured limit"
                             : r->early_error == GW_EHEADERS
                                 ? "request head larger than the configured limit"
                             : r->early_error == GW_ETIMEOUT ? "request body not received in time"
                             : r->early_error == GW_EUNAVAIL
                                 ? "too many connections or shutting down; retry later"
                                 : "invalid Content-Length");
        return MHD_YES;
    }
    if (s->n_workers && r->method != HTTP_GET && r->method != HTTP_HEAD &&
        !(s->opt.inline_ok && s->opt.inline_ok(r, s->ctx))) {
        r->deferred = true;
        MHD_suspend_connection(connection);
        job_push(s, r);
        return MHD_YES;
    }
    s->dispatch(r, s->ctx);
    if (!r->responded && !r->deferred)
        http_respond_error(r, GW_EINTERNAL, "no response produced");
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_req *r = *req_cls;
    if (!r)
        return;
    if (r->hc)
        conn_set_state(s, r->hc, CONN_IDLE);
    *req_cls = NULL;
    atomic_store(&r->closed, true);
    http_req_release(r);
}

void http_req_hold(struct http_req *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void http_req_release(struct http_req *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    struct http_server *s = r->server;
    if (r->method_name && s->done)
        s->done(r, s->ctx);
    if (r->stored)
        MHD_destroy_response(r->stored); /* produced but never sent */
    gw_buf_release(&r->body);
    gw_pool_free(r->pool);
    atomic_fetch_sub(&s->active, 1);
}

bool http_req_closed(struct http_req *r)
{
    return atomic_load(&r->closed);
}

void http_async_begin(struct http_req *r)
{
    http_req_hold(r);
    atomic_store(&r->async, true);
    if (!r->deferred) { /* dispatched inline: suspend now; the answer is queued on resume */
        r->deferred = true;
        MHD_suspend_connection(r->conn);
    }
}

void http_run_blocking(struct http_req *r, http_job_fn *fn, void *arg)
{
    r->job_fn = fn;
    r->job_arg = arg;
    r->deferred = true;
    MHD_suspend_connection(r->conn);
    job_push(r->server, r);
}

bool http_on_worker(const struct http_req *r)
{
    return r->on_worker;
}

void http_async_finish(struct http_req *r)
{
    if (!r->responded)
        http_respond_error(r, GW_EINTERNAL, "no response produced");
    MHD_resume_connection(r->conn);
    http_req_release(r);
}

/* --- the reaper: total deadlines MHD does not have ---------------------------------------- */

static void *reaper_main(void *arg)
{
    pthread_setname_np(pthread_self(), "http-reaper");
    struct http_server *s = arg;
    while (!atomic_load(&s->stopping)) {
        usleep(REAPER_PERIOD_MS * 1000);
        int64_t now = gw_mono_ns();
        pthread_mutex_lock(&s->conns_lock);
        for (struct http_conn *c = s->conns; c; c = c->next) {
            if (c->reaped || c->fd < 0)
                continue;
            int64_t age = now - c->since_ns;
            if (c->state == CONN_HEAD && age > secs_ns(s->opt.header_timeout_s)) {
                c->reaped = true;
                send_408(c->fd, "request head not received in time");
            } else if (c->state == CONN_IDLE &&
                       age > secs_ns(s->opt.idle_timeout_s + s->opt.header_timeout_s)) {
                c->reaped = true;
                shutdown(c->fd, SHUT_RDWR);
            } else if (c->state == CONN_BODY &&
                       age > secs_ns(s->opt.request_timeout_s + s->opt.header_timeout_s)) {
                c->reaped = true;
                shutdown(c->fd, SHUT_RDWR);
            }
        }
        pthread_mutex_unlock(&s->conns_lock);
    }
    return NULL;
}

/* --- start / stop ------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    gw_debug("http: mhd: %s", msg);
}

gw_err http_server_start(const struct http_options *o, http_dispatch_fn *dispatch,
                         http_done_fn *done, void *ctx, struct http_server **out)
{
    struct http_server *s = gw_xcalloc(1, sizeof(*s));
    s->quiesced_fd = MHD_INVALID_SOCKET;
    s->opt = *o;
    s->dispatch = dispatch;
    s->done = done;
    s->ctx = ctx;
    pthread_mutex_init(&s->conns_lock, NULL);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, o->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)o->port);
    } else if (inet_pton(AF_INET6, o->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)o->port);
        flags |= MHD_USE_IPv6;
    } else {
        gw_error("http: bind address '%s' is not an IPv4 or IPv6 address", o->host);
        free(s);
        return GW_ECONFIG;
    }
    if (o->n_trusted_proxies) {
        s->trusted = gw_xcalloc(o->n_trusted_proxies, sizeof(*s->trusted));
        memcpy(s->trusted, o->trusted_proxies, o->n_trusted_proxies * sizeof(*s->trusted));
    }
    /* with TLS our own listener sees each connection first (http_sniff.c) */
    struct MHD_OptionItem opts[3] = {{MHD_OPTION_SOCK_ADDR, 0, &ss}, {MHD_OPTION_END, 0, NULL}};
    if (o->tls_cert_pem && o->tls_key_pem) {
        flags |= MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET;
        s->tls_cert = gw_xstrdup(o->tls_cert_pem);
        s->tls_key = gw_xstrdup(o->tls_key_pem);
        opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert};
        opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key};
    }
    /* MHD's own hard limit sits above ours so that we can answer 503 instead of resetting. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, &on_request, s, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(o->threads ? o->threads : 1), MHD_OPTION_CONNECTION_LIMIT,
        o->max_connections + 64,
        /* behind trusted proxies the per-address limit is ours alone (they are exempt) */
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        o->n_trusted_proxies ? o->max_connections + 64 : o->max_connections_per_ip + 16,
        MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(o->max_header_bytes + 4096), MHD_OPTION_NOTIFY_CONNECTION, &on_connection, s,
        MHD_OPTION_URI_LOG_CALLBACK, &on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, s, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    socklen_t sa_len = ss.ss_family == AF_INET6 ? sizeof(*sin6) : sizeof(*sin);
    if (s->daemon && s->tls_cert && http_sniff_start(s, (struct sockaddr *)&ss, sa_len) != GW_OK) {
        int err = errno;
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
        errno = err;
    }
    if (!s->daemon) {
        gw_error("http: cannot listen on %s:%u (%s)", o->host, o->port, strerror(errno));
        free(s->tls_cert);
        free(s->tls_key);
        free(s->trusted);
        free(s);
        return GW_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!s->sniff)
        s->port = di ? di->port : o->port;
    pthread_create(&s->reaper, NULL, reaper_main, s);
    pthread_mutex_init(&s->jobs_lock, NULL);
    pthread_cond_init(&s->jobs_cv, NULL);
    s->n_workers = o->blocking_workers;
    s->workers = gw_xcalloc(s->n_workers ? s->n_workers : 1, sizeof(pthread_t));
    for (; s->n_started < GW_MIN(s->n_workers, WORKERS_AT_START); s->n_started++)
        pthread_create(&s->workers[s->n_started], NULL, worker_main, s);
    *out = s;
    return GW_OK;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

unsigned http_server_active(const struct http_server *s)
{
    return atomic_load(&((struct http_server *)s)->active);
}

void http_server_drain(struct http_server *s, unsigned drain_ms)
{
    if (!atomic_exchange(&s->stopping, true)) {
        /* MHD's threads may still watch the socket: it is closed after MHD_stop_daemon */
        s->quiesced_fd = s->sniff ? MHD_INVALID_SOCKET : MHD_quiesce_daemon(s->daemon);
        http_sniff_stop(s->sniff);
        s->sniff = NULL;
    }
    int64_t deadline = gw_mono_ns() + (int64_t)drain_ms * 1000000;
    while (atomic_load(&s->active) > 0 && gw_mono_ns() < deadline)
        usleep(10 * 1000);
}

void http_server_stop(struct http_server *s, unsigned drain_ms)
{
    if (!s)
        return;
    http_server_drain(s, drain_ms);
    pthread_join(s->reaper, NULL);
    pthread_mutex_lock(&s->jobs_lock);
    s->workers_stop = true; /* from here on job_push starts no worker */
    unsigned started = s->n_started;
    pthread_cond_broadcast(&s->jobs_cv);
    pthread_mutex_unlock(&s->jobs_lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(s->workers[i], NULL);
    MHD_stop_daemon(s->daemon);
    if (s->quiesced_fd != MHD_INVALID_SOCKET)
        close(s->quiesced_fd);
    pthread_mutex_destroy(&s->jobs_lock);
    pthread_cond_destroy(&s->jobs_cv);
    free(s->workers);
    free(s->jobs);
    pthread_mutex_destroy(&s->conns_lock);
    free(s->ips);
    free(s->tls_cert);
    free(s->tls_key);
    free(s->trusted);
    free(s);
}
