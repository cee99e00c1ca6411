/* SPDX-License-Identifier: MIT
 * net_http.c — HTTP calls on the loop (struct net_call) and their blocking form (net_fetch).
 *
 * A call is one easy handle of the loop's multi handle, set up with the limits every outbound
 * request has here: http and https only, no redirects followed by libcurl (net follows them
 * itself when asked, so each hop's host is judged like the first), a total and a connect
 * timeout, the proxy the policy chooses (never one libcurl would pick up on its own), and the
 * egress check of every connection it opens. A 2xx body goes to on_data or is kept up to
 * max_body (more fails the call); other bodies keep their first max_body bytes, for messages.
 * The call's struct may be reused or freed from on_done: everything is released before.
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/mem.h"
#include "base/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

/* --- connections ------------------------------------------------------------------------------ */

static const char *verdict_text(enum net_verdict v)
{
    return v == NET_REFUSE_LINK_LOCAL ? "a link-local address" : "a private address";
}

curl_socket_t net_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct net_call *c = arg;
    if (purpose == CURLSOCKTYPE_IPCXN && !c->via_proxy) {
        enum net_verdict v = net_egress_judge(c->egress, c->allowed, c->trusted, &a->addr);
        if (v != NET_ALLOW) {
            char ip[INET6_ADDRSTRLEN] = "?";
            const struct sockaddr *sa = &a->addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
            snprintf(c->refused_addr, sizeof c->refused_addr, "%s (%s)", ip, verdict_text(v));
            c->refused = true;
            return CURL_SOCKET_BAD;
        }
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* A literal address as host, behind a proxy: judged before anything is sent. */
static enum net_verdict literal_verdict(const struct net_call *c, const char *host)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
        return net_egress_judge(c->egress, c->allowed, c->trusted, &s4);
    if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1)
        return net_egress_judge(c->egress, c->allowed, c->trusted, &s6);
    return NET_ALLOW;
}

/* --- callbacks -------------------------------------------------------------------------------- */

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct net_call *c = ud;
    size_t len = size * nmemb;
    if (!c->status)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    bool ok = c->status >= 200 && c->status < 300;
    if (ok && c->req->on_data) {
        if (c->req->on_data(c->req->arg, c->status, data, len))
            return len;
        c->stopped = true;
        return 0;
    }
    if (gw_buf_append(&c->body, data, len) == GW_OK)
        return len;
    if (ok) {
        c->too_big = true;
        return 0;
    }
    size_t room = c->body.max - c->body.len; /* an error body: its start is enough */
    if (room)
        gw_buf_append(&c->body, data, room);
    return len;
}

/* Direct transfers with a cancel flag: libcurl calls it at least once a second (and when a
 * signal interrupts its wait). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    GW_UNUSED(dt), GW_UNUSED(dn), GW_UNUSED(ut), GW_UNUSED(un);
    struct net_call *c = ud;
    if (!*c->req->cancel)
        return 0;
    c->stopped = true;
    return 1;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct net_call *c = ud;
    if (c->req->on_header)
        c->req->on_header(c->req->arg, data, size * nmemb);
    return size * nmemb;
}

/* --- set-up and clean-up ---------------------------------------------------------------------- */

static void release(struct net_call *c)
{
    if (c->easy && c->loop)
        net_loop_easy_release(c->loop, c->easy);
    else if (c->easy) /* a direct transfer (net_perform) */
        curl_easy_cleanup(c->easy);
    c->easy = NULL;
    curl_slist_free_all(c->headers);
    c->headers = NULL;
}

/* Sets up the transfer of the current hop (c->url): an easy handle of the loop, or of its own
 * for a direct transfer (no loop, no policy: net_perform). */
static gw_err setup(struct net_call *c, char *msg, size_t cap)
{
    const struct net_request *r = c->req;
    char host[256];
    if (strncasecmp(c->url, "https://", 8) != 0 && strncasecmp(c->url, "http://", 7) != 0) {
        snprintf(msg, cap, "only http and https URLs are allowed");
        return GW_EFORBIDDEN;
    }
    if (!net_url_host(c->url, host, sizeof host)) {
        snprintf(msg, cap, "malformed URL");
        return GW_EINVAL;
    }
    c->allowed = !c->egress || net_egress_host_allowed(c->egress, host);
    c->trusted = c->egress && net_egress_host_trusted(c->egress, host);
    const char *proxy = c->egress ? net_egress_proxy_for(c->egress, c->url) : NULL;
    c->via_proxy = proxy && *proxy;
    /* behind a proxy the proxy connects: judge a literal address here (otherwise every
     * connection is judged as it is opened) */
    enum net_verdict v = c->via_proxy ? literal_verdict(c, host) : NET_ALLOW;
    if (v != NET_ALLOW) {
        snprintf(msg, cap, "the egress policy refuses %.64s (%s)", host, verdict_text(v));
        return GW_EFORBIDDEN;
    }
    c->status = 0;
    c->too_big = c->stopped = c->refused = false;
    gw_buf_reset(&c->body);

    CURL *e = c->easy = c->loop ? net_loop_easy(c->loop) : curl_easy_init();
    if (!e) {
        snprintf(msg, cap, "cannot create an HTTP client");
        return GW_EINTERNAL;
    }
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        c->headers = curl_slist_append(c->headers, r->headers[i]);
    unsigned timeout = r->timeout_ms ? r->timeout_ms : NET_DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (proxy) { /* else (no policy) libcurl's own reading of the proxy environment */
        curl_easy_setopt(e, CURLOPT_PROXY, proxy);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, net_open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, c);
    }
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    if (r->stall_timeout) { /* no limit on the whole, a stall of timeout aborts */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)GW_MAX(timeout / 1000, 1u));
    } else {
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(r->connect_timeout_ms ? r->connect_timeout_ms : timeout));
    if (r->path_as_is)
        curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    if (r->on_header) {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    }
    if (c->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    if (r->body && !c->as_get) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    }
    if (r->method && !c->as_get && strcmp(r->method, r->body ? "POST" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (r->user) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, r->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, r->password ? r->password : "");
    }
    if (r->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
    if (r->cancel && !c->loop) {
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
    }
    curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    return GW_OK;
}

/* Sets up and adds the transfer of the current hop to the loop. */
static gw_err launch(struct net_call *c, char *msg, size_t cap)
{
    gw_err rc = setup(c, msg, cap);
    if (rc == GW_OK && c->loop && curl_multi_add_handle(net_loop_multi(c->loop), c->easy)) {
        release(c);
        snprintf(msg, cap, "cannot start the transfer");
        return GW_EINTERNAL;
    }
    return rc;
}

/* Everything but the body (kept for on_done). */
static void call_release(struct net_call *c)
{
    release(c);
    net_loop_unlink(c->loop, c);
    net_egress_unref(c->egress);
    c->egress = NULL;
    free(c->redirect_url);
    c->redirect_url = NULL;
    c->loop = NULL; /* ended: a later abort does nothing */
}

gw_err net_call_start(struct net_loop *l, struct net_call *call, const struct net_request *req,
                      char *msg, size_t cap)
{
    memset(call, 0, sizeof *call);
    call->loop = l;
    call->req = req;
    call->url = req->url;
    if (net_loop_stopped(l)) {
        snprintf(msg, cap, "the gateway is shutting down");
        return GW_ECANCELED;
    }
    gw_buf_init(&call->body, req->max_body ? req->max_body : NET_DEFAULT_MAX_BODY);
    call->egress = net_loop_egress(l);
    gw_err rc = req->url ? launch(call, msg, cap) : GW_EINVAL;
    if (rc == GW_EINVAL && !req->url)
        snprintf(msg, cap, "no URL");
    if (rc != GW_OK) {
        gw_buf_release(&call->body);
        net_egress_unref(call->egress);
        call->egress = NULL;
        return rc;
    }
    net_loop_link(l, call);
    return GW_OK;
}

/* Ends c with res (the body is c's): releases everything, then on_done. */
static void complete(struct net_call *c, struct net_result *res)
{
    struct gw_buf body = c->body; /* on_done may reuse or free c */
    gw_buf_init(&c->body, 0);
    res->body = body.data ? body.data : "";
    res->len = body.len;
    const struct net_request *r = c->req;
    call_release(c);
    r->on_done(r->arg, res);
    gw_buf_release(&body);
}

void net_call_start_submitted(struct net_loop *l, struct net_call *c)
{
    struct net_result res = {0};
    const struct net_request *req = c->req;
    res.err = net_call_start(l, c, req, res.msg, sizeof res.msg);
    if (res.err != GW_OK) {
        res.body = "";
        req->on_done(req->arg, &res);
    }
}

void net_call_abort(struct net_call *c)
{
    if (!c->loop)
        return;
    call_release(c);
    gw_buf_release(&c->body);
}

void net_call_cancel(struct net_call *c, const char *why)
{
    struct net_result res = {.err = GW_ECANCELED};
    snprintf(res.msg, sizeof res.msg, "%s", why);
    complete(c, &res);
}

/* A 3xx to follow: the next hop starts on the same call; false when there is none. */
static bool follow(struct net_call *c, struct net_result *res)
{
    char *loc = NULL;
    bool redirect = c->status == 301 || c->status == 302 || c->status == 303 || c->status == 307 ||
                    c->status == 308;
    if (!redirect || c->hops >= c->req->max_redirects ||
        curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
        return false;
    char *next = gw_xstrdup(loc);
    release(c);
    free(c->redirect_url);
    c->redirect_url = next;
    c->url = next;
    c->hops++;
    c->as_get = c->as_get || c->status == 303 ||
                ((c->status == 301 || c->status == 302) && c->req->body);
    res->err = launch(c, res->msg, sizeof res->msg); /* setup only without a loop */
    return res->err == GW_OK;
}

static enum net_failure failure_of(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return NET_FAIL_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        return NET_FAIL_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return NET_FAIL_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
        return NET_FAIL_TLS_VERIFY;
    case CURLE_SSL_CACERT_BADFILE:
        return NET_FAIL_TLS_CA_FILE;
    case CURLE_SSL_CONNECT_ERROR:
        return NET_FAIL_TLS_HANDSHAKE;
    case CURLE_GOT_NOTHING:
        return NET_FAIL_NO_ANSWER;
    default:
        return NET_FAIL_OTHER;
    }
}

/* The outcome of a finished hop (no redirect to follow). */
static void result_of(struct net_call *c, CURLcode rc, struct net_result *res)
{
    res->status = c->status;
    if (res->err != GW_OK) {
        /* a redirect that cannot be followed: res says why */
    } else if (rc == CURLE_OK) {
        res->err = GW_OK;
    } else if (c->refused) {
        res->err = GW_EFORBIDDEN;
        snprintf(res->msg, sizeof res->msg, "the egress policy refuses %s", c->refused_addr);
    } else if (c->stopped) {
        res->err = GW_ECANCELED;
        snprintf(res->msg, sizeof res->msg, "%s",
                 c->req->cancel && *c->req->cancel ? "cancelled" : "stopped by the receiver");
    } else if (c->too_big) {
        res->err = GW_ETOOBIG;
        snprintf(res->msg, sizeof res->msg, "response larger than %zu bytes", c->body.max);
    } else {
        res->err = rc == CURLE_OPERATION_TIMEDOUT                                  ? GW_EUPTIMEOUT
                   : rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL ? GW_EINVAL
                   : rc == CURLE_OUT_OF_MEMORY || rc == CURLE_BAD_FUNCTION_ARGUMENT ||
                           rc == CURLE_NOT_BUILT_IN
                       ? GW_EINTERNAL
                       : GW_EUPSTREAM;
        res->cut_short = rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR;
        res->failure = failure_of(rc);
        curl_off_t connect_us = 0;
        res->connected = curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T, &connect_us) ==
                             CURLE_OK &&
                         connect_us > 0;
        if (res->failure == NET_FAIL_TLS_VERIFY)
            curl_easy_getinfo(c->easy, CURLINFO_SSL_VERIFYRESULT, &res->tls_verify);
        snprintf(res->msg, sizeof res->msg, "%s", curl_easy_strerror(rc));
    }
}

void net_call_finished(struct net_call *c, CURLcode rc)
{
    struct net_result res = {0};
    if (!c->status)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
    if (rc == CURLE_OK && c->req->max_redirects && follow(c, &res))
        return;
    result_of(c, rc, &res);
    complete(c, &res);
}

/* --- on the calling thread (net_perform) ------------------------------------------------------ */

gw_err net_perform(const struct net_request *req, struct gw_buf *body, struct net_result *res)
{
    struct net_call c = {.req = req, .url = req->url, .body = *body};
    char err[CURL_ERROR_SIZE];
    memset(res, 0, sizeof *res);
    res->err = req->url ? setup(&c, res->msg, sizeof res->msg) : GW_EINVAL;
    while (res->err == GW_OK) {
        err[0] = '\0';
        curl_easy_setopt(c.easy, CURLOPT_ERRORBUFFER, err);
        CURLcode rc = curl_easy_perform(c.easy);
        curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &c.status);
        if (rc == CURLE_OK && req->max_redirects && follow(&c, res))
            continue;
        result_of(&c, rc, res);
        if (rc != CURLE_OK && res->err != GW_ECANCELED && res->err != GW_ETOOBIG && err[0])
            snprintf(res->msg, sizeof res->msg, "%.199s", err); /* the detail: the user's server */
        break;
    }
    release(&c);
    free(c.redirect_url);
    *body = c.body;
    res->body = body->data ? body->data : "";
    res->len = body->len;
    return res->err;
}

/* --- blocking form ---------------------------------------------------------------------------- */

struct fetch {
    struct net_call call;
    struct net_request req;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    gw_err err;
    struct net_response *out;
};

static void fetch_done(void *arg, const struct net_result *res)
{
    struct fetch *f = arg;
    struct net_response *o = f->out;
    o->status = res->status;
    o->cut_short = res->cut_short;
    snprintf(o->msg, sizeof o->msg, "%s", res->msg);
    o->body = gw_xmalloc(res->len + 1);
    memcpy(o->body, res->body, res->len);
    o->body[res->len] = '\0';
    o->len = res->len;
    pthread_mutex_lock(&f->mu);
    f->err = res->err;
    f->done = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

gw_err net_fetch(struct net_loop *l, const struct net_request *req, struct net_response *out)
{
    memset(out, 0, sizeof *out);
    struct fetch *f = gw_xcalloc(1, sizeof *f);
    f->req = *req;
    f->req.on_data = NULL;
    f->req.on_done = fetch_done;
    f->req.arg = f;
    f->out = out;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    net_call_submit(l, &f->call, &f->req);
    pthread_mutex_lock(&f->mu);
    while (!f->done)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    gw_err rc = f->err;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f);
    return rc;
}

void net_response_release(struct net_response *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}
