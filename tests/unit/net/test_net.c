/* SPDX-License-Identifier: MIT
 * test_net.c — the outbound client (src/net/) against a small HTTP server on loopback.
 *
 * Covers the egress policy (address classes, the configured hosts, allow entries by name and
 * by CIDR, link-local refused even for configured hosts, checks made on the address connected
 * to, so a name is judged by what it resolves to), the limits of every call (bounded bodies,
 * timeouts, http and https only, no redirects unless asked, and each followed hop judged
 * again), proxies (the rules' proxy is used, no_proxy bypasses it, names go through it), the
 * async API on the loop (streamed bodies, several calls at once, tasks), SMTP's policy, and the
 * direct transfer of programs that are not the gateway (net_perform: failures told apart,
 * cancelling) with URL encoding.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* --- a tiny HTTP/1.1 server: one connection at a time, "Connection: close" ---------------- */

struct srv {
    int lfd, port;
    pthread_t th;
    atomic_int requests;
    char last[2048]; /* the last request head */
    pthread_mutex_t mu;
};

static struct srv S;
static struct net_loop *L;

static void reply(int fd, int status, const char *extra, const char *body, size_t len)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
                     len, extra ? extra : "");
    if (write(fd, head, (size_t)n) != n)
        return;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, body + off, len - off);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

/* Paths: /ok, /big?n=N (N bytes), /errbig?n=N (a 500 of N bytes), /slow, /stream (three
 * chunks), /to?u=URL (302 to URL), /see-other?u=URL (303). Anything else: 404. */
static void serve(int fd)
{
    char req[2048];
    size_t n = 0;
    while (n + 1 < sizeof req) {
        ssize_t r = read(fd, req + n, sizeof req - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = '\0';
    pthread_mutex_lock(&S.mu);
    snprintf(S.last, sizeof S.last, "%s", req);
    pthread_mutex_unlock(&S.mu);
    atomic_fetch_add(&S.requests, 1);
    char *path = strchr(req, ' ');
    path = path ? path + 1 : req;
    if (!strncmp(path, "http://", 7)) /* absolute form: a proxied request */
        path = strchr(path + 7, '/') ? strchr(path + 7, '/') : path;
    const char *q = strchr(path, '=');
    size_t num = q ? strtoul(q + 1, NULL, 10) : 0;
    if (!strncmp(path, "/ok ", 4)) {
        reply(fd, 200, NULL, "hello", 5);
    } else if (!strncmp(path, "/big?", 5) || !strncmp(path, "/errbig?", 8)) {
        char *b = gw_xmalloc(num + 1);
        memset(b, 'x', num);
        reply(fd, path[1] == 'b' ? 200 : 500, NULL, b, num);
        free(b);
    } else if (!strncmp(path, "/slow ", 6)) {
        usleep(1500 * 1000);
        reply(fd, 200, NULL, "late", 4);
    } else if (!strncmp(path, "/stream ", 8)) {
        const char *h = "HTTP/1.1 200 X\r\nContent-Length: 9\r\nConnection: close\r\n\r\n";
        if (write(fd, h, strlen(h)) > 0)
            for (int i = 0; i < 3; i++) {
                if (write(fd, "abc", 3) != 3)
                    break;
                usleep(20 * 1000);
            }
    } else if (!strncmp(path, "/to?u=", 6) || !strncmp(path, "/see-other?u=", 13)) {
        char loc[600];
        size_t k = strcspn(q + 1, " ");
        snprintf(loc, sizeof loc, "Location: %.*s\r\n", (int)k, q + 1);
        reply(fd, path[1] == 't' ? 302 : 303, loc, "", 0);
    } else {
        reply(fd, 404, NULL, "no", 2);
    }
}

static void *srv_main(void *arg)
{
    GW_UNUSED(arg);
    for (;;) {
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        serve(fd);
        close(fd);
    }
}

static void srv_start(void)
{
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(S.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(S.lfd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(S.lfd, (struct sockaddr *)&a, &len);
    S.port = ntohs(a.sin_port);
    pthread_mutex_init(&S.mu, NULL);
    pthread_create(&S.th, NULL, srv_main, NULL);
}

/* --- helpers ------------------------------------------------------------------------------ */

static char *url(const char *host, const char *path)
{
    return gw_xasprintf("http://%s:%d%s", host, S.port, path);
}

/* Installs a policy: trusted URLs and allow entries (NULL-terminated lists, may be NULL). */
static void policy(bool allow_private, const char *const *trusted, const char *const *allow,
                   const char *proxy, const char *const *no_proxy)
{
    struct net_egress_rules r = {.allow_private = allow_private,
                                 .trusted_urls = trusted,
                                 .allow = allow,
                                 .proxy = proxy ? proxy : "",
                                 .no_proxy = no_proxy};
    struct net_egress *e = NULL;
    char msg[128];
    assert_int_equal(net_egress_new(&r, &e, msg, sizeof msg), GW_OK);
    net_loop_set_egress(L, e);
    net_egress_unref(e);
}

static gw_err get(const char *u, struct net_response *out)
{
    struct net_request rq = {.url = u, .timeout_ms = 5000};
    return net_fetch(L, &rq, out);
}

/* --- the egress policy ----------------------------------------------------------------------- */

static enum net_verdict verdict_of(const struct net_egress *e, const char *host, const char *ip)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1)
        return net_egress_check(e, host, &s4);
    assert_int_equal(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
    return net_egress_check(e, host, &s6);
}

static void address_classes(void **state)
{
    static const char *const trusted[] = {"https://idp.corp.example/realms/x", NULL};
    static const char *const allow[] = {"10.9.0.0/16", "metadata.internal", NULL};
    struct net_egress_rules r = {.trusted_urls = trusted, .allow = allow, .proxy = ""};
    struct net_egress *e = NULL;
    char msg[128];
    assert_int_equal(net_egress_new(&r, &e, msg, sizeof msg), GW_OK);
    static const struct {
        const char *host, *ip;
        enum net_verdict v;
    } cases[] = {
        {"api.example.com", "8.8.8.8", NET_ALLOW},
        {"api.example.com", "2001:4860:4860::8888", NET_ALLOW},
        {"api.example.com", "10.1.2.3", NET_REFUSE_PRIVATE},
        {"api.example.com", "172.20.0.1", NET_REFUSE_PRIVATE},
        {"api.example.com", "192.168.1.1", NET_REFUSE_PRIVATE},
        {"api.example.com", "127.0.0.1", NET_REFUSE_PRIVATE},
        {"api.example.com", "100.64.0.1", NET_REFUSE_PRIVATE},
        {"api.example.com", "0.0.0.0", NET_REFUSE_PRIVATE},
        {"api.example.com", "::1", NET_REFUSE_PRIVATE},
        {"api.example.com", "fd00::1", NET_REFUSE_PRIVATE},
        {"api.example.com", "::ffff:127.0.0.1", NET_REFUSE_PRIVATE}, /* mapped IPv4 */
        {"api.example.com", "64:ff9b::a00:1", NET_REFUSE_PRIVATE},   /* NAT64 of 10.0.0.1 */
        {"api.example.com", "169.254.169.254", NET_REFUSE_LINK_LOCAL},
        {"api.example.com", "fe80::1", NET_REFUSE_LINK_LOCAL},
        {"IDP.corp.example", "10.1.2.3", NET_ALLOW},                    /* configured host */
        {"idp.corp.example", "169.254.169.254", NET_REFUSE_LINK_LOCAL}, /* still not that */
        {"other.corp.example", "10.1.2.3", NET_REFUSE_PRIVATE},
        {"api.example.com", "10.9.44.1", NET_ALLOW},         /* allow CIDR */
        {"metadata.internal", "169.254.169.254", NET_ALLOW}, /* allow by name */
        {NULL, "10.1.2.3", NET_REFUSE_PRIVATE},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        enum net_verdict v = verdict_of(e, cases[i].host, cases[i].ip);
        if (v != cases[i].v)
            fail_msg("%s at %s: verdict %d, expected %d", cases[i].host ? cases[i].host : "-",
                     cases[i].ip, (int)v, (int)cases[i].v);
    }
    net_egress_unref(e);

    struct net_egress_rules priv = {.allow_private = true, .proxy = ""};
    assert_int_equal(net_egress_new(&priv, &e, msg, sizeof msg), GW_OK);
    assert_int_equal(verdict_of(e, "x", "10.1.2.3"), NET_ALLOW);
    assert_int_equal(verdict_of(e, "x", "169.254.169.254"), NET_REFUSE_LINK_LOCAL);
    net_egress_unref(e);

    static const char *const bad[] = {"not a host", NULL};
    struct net_egress_rules b = {.allow = bad};
    assert_int_equal(net_egress_new(&b, &e, msg, sizeof msg), GW_EINVAL);
    assert_null(e);
}

static void connections_are_checked(void **state)
{
    struct net_response r;
    char *u = url("127.0.0.1", "/ok");
    int before = atomic_load(&S.requests);

    policy(false, NULL, NULL, NULL, NULL); /* nothing configured: loopback is refused */
    assert_int_equal(get(u, &r), GW_EFORBIDDEN);
    assert_non_null(strstr(r.msg, "private address"));
    net_response_release(&r);
    char *lh = url("localhost", "/ok"); /* a name: judged by the address it resolves to */
    assert_int_equal(get(lh, &r), GW_EFORBIDDEN);
    net_response_release(&r);
    assert_int_equal(atomic_load(&S.requests), before); /* nothing reached the server */

    const char *trusted[] = {lh, NULL}; /* "localhost" named in the configuration */
    policy(false, trusted, NULL, NULL, NULL);
    assert_int_equal(get(lh, &r), GW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    net_response_release(&r);
    assert_int_equal(get(u, &r), GW_EFORBIDDEN); /* 127.0.0.1 itself was not named */
    net_response_release(&r);

    static const char *const allow[] = {"127.0.0.0/8", NULL};
    policy(false, NULL, allow, NULL, NULL);
    assert_int_equal(get(u, &r), GW_OK);
    net_response_release(&r);
    policy(true, NULL, NULL, NULL, NULL);
    assert_int_equal(get(u, &r), GW_OK);
    net_response_release(&r);

    /* link-local: refused even when configured and private addresses are allowed */
    const char *meta[] = {"http://169.254.169.254/latest", NULL};
    policy(true, meta, NULL, NULL, NULL);
    assert_int_equal(get(meta[0], &r), GW_EFORBIDDEN);
    assert_non_null(strstr(r.msg, "link-local"));
    net_response_release(&r);
    free(lh);
    free(u);
}

/* --- limits ------------------------------------------------------------------------------- */

static void limits_of_every_call(void **state)
{
    policy(true, NULL, NULL, NULL, NULL);
    struct net_response r;
    char *u = url("127.0.0.1", "/big?n=1000");
    struct net_request rq = {.url = u, .max_body = 1000};
    assert_int_equal(net_fetch(L, &rq, &r), GW_OK);
    assert_int_equal(r.len, 1000);
    net_response_release(&r);
    free(u);
    u = url("127.0.0.1", "/big?n=1001");
    rq.url = u;
    assert_int_equal(net_fetch(L, &rq, &r), GW_ETOOBIG);
    net_response_release(&r);
    free(u);
    u = url("127.0.0.1", "/errbig?n=5000"); /* an error body keeps its start */
    rq.url = u;
    assert_int_equal(net_fetch(L, &rq, &r), GW_OK);
    assert_int_equal(r.status, 500);
    assert_int_equal(r.len, 1000);
    net_response_release(&r);
    free(u);

    u = url("127.0.0.1", "/slow");
    rq = (struct net_request){.url = u, .timeout_ms = 200};
    assert_int_equal(net_fetch(L, &rq, &r), GW_EUPTIMEOUT);
    net_response_release(&r);
    free(u);

    static const char *const other[] = {"ftp://127.0.0.1/x", "file:///etc/passwd",
                                        "gopher://127.0.0.1/", "127.0.0.1/ok"};
    for (size_t i = 0; i < GW_ARRAY_LEN(other); i++) {
        rq = (struct net_request){.url = other[i]};
        assert_int_equal(net_fetch(L, &rq, &r), GW_EFORBIDDEN);
        net_response_release(&r);
    }
}

static void redirects_only_when_asked(void **state)
{
    struct net_response r;
    char *lh = url("localhost", "/ok");
    char *ip = url("127.0.0.1", "/ok");
    char *path = gw_xasprintf("/to?u=%s", lh);
    char *to_lh = url("localhost", path);
    free(path);
    path = gw_xasprintf("/to?u=%s", ip);
    char *to_ip = url("localhost", path);
    free(path);
    const char *trusted[] = {lh, NULL};
    policy(false, trusted, NULL, NULL, NULL);

    struct net_request rq = {.url = to_lh};
    assert_int_equal(net_fetch(L, &rq, &r), GW_OK); /* not followed */
    assert_int_equal(r.status, 302);
    net_response_release(&r);
    rq.max_redirects = 2;
    assert_int_equal(net_fetch(L, &rq, &r), GW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    net_response_release(&r);
    /* a hop to a host the configuration does not name is judged: loopback refused */
    rq.url = to_ip;
    assert_int_equal(net_fetch(L, &rq, &r), GW_EFORBIDDEN);
    net_response_release(&r);
    /* a redirect to another scheme is refused */
    path = gw_xasprintf("/to?u=%s", "file:///etc/passwd");
    char *to_file = url("localhost", path);
    free(path);
    rq.url = to_file;
    assert_int_equal(net_fetch(L, &rq, &r), GW_EFORBIDDEN);
    net_response_release(&r);
    /* 303 turns a POST into a GET */
    path = gw_xasprintf("/see-other?u=%s", lh);
    char *see = url("localhost", path);
    free(path);
    rq = (struct net_request){.url = see, .body = "{}", .body_len = 2, .max_redirects = 1};
    assert_int_equal(net_fetch(L, &rq, &r), GW_OK);
    assert_int_equal(r.status, 200);
    net_response_release(&r);
    pthread_mutex_lock(&S.mu);
    assert_true(strncmp(S.last, "GET /ok ", 8) == 0);
    pthread_mutex_unlock(&S.mu);
    free(see);
    free(to_file);
    free(to_ip);
    free(to_lh);
    free(ip);
    free(lh);
}

static void proxies(void **state)
{
    struct net_response r;
    char *proxy = gw_xasprintf("http://127.0.0.1:%d", S.port);
    /* the policy's proxy carries a request for a name the loop never resolves itself */
    policy(false, NULL, NULL, proxy, NULL);
    assert_int_equal(get("http://gateway-test.invalid/ok", &r), GW_OK);
    assert_int_equal(r.status, 200);
    net_response_release(&r);
    pthread_mutex_lock(&S.mu);
    assert_true(strncmp(S.last, "GET http://gateway-test.invalid/ok HTTP/1.1", 42) == 0);
    pthread_mutex_unlock(&S.mu);
    /* literal private addresses are judged even behind a proxy */
    assert_int_equal(get("http://10.1.2.3/ok", &r), GW_EFORBIDDEN);
    net_response_release(&r);

    struct net_egress_rules rr = {.proxy = proxy,
                                  .no_proxy = (const char *const[]){".invalid", NULL}};
    struct net_egress *e = NULL;
    char msg[64];
    assert_int_equal(net_egress_new(&rr, &e, msg, sizeof msg), GW_OK);
    assert_string_equal(net_egress_proxy_for(e, "http://a.b.invalid/x"), "");
    assert_string_equal(net_egress_proxy_for(e, "https://api.example.com/v1"), proxy);
    net_egress_unref(e);
    /* from the environment when the rules name none */
    setenv("https_proxy", "http://envproxy.example:3128", 1);
    setenv("no_proxy", "localhost,.corp.example", 1);
    struct net_egress_rules env = {0};
    assert_int_equal(net_egress_new(&env, &e, msg, sizeof msg), GW_OK);
    assert_string_equal(net_egress_proxy_for(e, "https://api.example.com/v1"),
                        "http://envproxy.example:3128");
    assert_string_equal(net_egress_proxy_for(e, "https://idp.corp.example/x"), "");
    assert_string_equal(net_egress_proxy_for(e, "http://api.example.com/v1"), "");
    net_egress_unref(e);
    unsetenv("https_proxy");
    unsetenv("no_proxy");
    free(proxy);
}

/* --- the async API ------------------------------------------------------------------------- */

struct streamed {
    struct net_call call;
    struct net_request rq;
    char *url;
    struct gw_buf got;
    int chunks;
    gw_err err;
    atomic_bool done;
};

static bool on_data(void *arg, long status, const char *data, size_t len)
{
    struct streamed *s = arg;
    assert_int_equal(status, 200);
    s->chunks++;
    gw_buf_append(&s->got, data, len);
    return true;
}

static void on_done(void *arg, const struct net_result *res)
{
    struct streamed *s = arg;
    s->err = res->err;
    atomic_store(&s->done, true);
}

static void task_fn(struct net_task *t)
{
    GW_UNUSED(t);
    assert_true(net_loop_on_thread(L));
}

static void async_calls(void **state)
{
    policy(true, NULL, NULL, NULL, NULL);
    struct streamed s[3];
    for (int i = 0; i < 3; i++) {
        memset(&s[i], 0, sizeof s[i]);
        gw_buf_init(&s[i].got, 1024);
        s[i].url = url("127.0.0.1", "/stream");
        s[i].rq = (struct net_request){.url = s[i].url,
                                       .on_data = on_data,
                                       .on_done = on_done,
                                       .arg = &s[i]};
        net_call_submit(L, &s[i].call, &s[i].rq);
    }
    struct net_task t = {.fn = task_fn};
    net_loop_post(L, &t);
    for (int i = 0; i < 3; i++) {
        while (!atomic_load(&s[i].done))
            usleep(1000);
        assert_int_equal(s[i].err, GW_OK);
        assert_string_equal(s[i].got.data, "abcabcabc");
        assert_true(s[i].chunks >= 1);
        gw_buf_release(&s[i].got);
        free(s[i].url);
    }
    assert_false(net_loop_on_thread(L));
}

static void smtp_follows_the_policy(void **state)
{
    policy(false, NULL, NULL, NULL, NULL);
    char *u = gw_xasprintf("smtp://127.0.0.1:%d", S.port);
    const char *to[] = {"a@example.com", NULL};
    struct net_mail m = {.url = u,
                         .from = "gw@example.com",
                         .to = to,
                         .message = "Subject: x\r\n\r\nhi\r\n",
                         .timeout_ms = 2000};
    char why[200];
    int before = atomic_load(&S.requests);
    assert_int_equal(net_smtp_send(L, &m, why, sizeof why), GW_EFORBIDDEN);
    assert_non_null(strstr(why, "egress policy"));
    assert_int_equal(atomic_load(&S.requests), before);
    m.url = "http://127.0.0.1/";
    assert_int_equal(net_smtp_send(L, &m, why, sizeof why), GW_EFORBIDDEN);
    free(u);
}

static void *set_flag_later(void *flag)
{
    usleep(200 * 1000);
    *(volatile sig_atomic_t *)flag = 1;
    return NULL;
}

static void direct_transfers(void **state)
{
    /* net_perform: on this thread, no loop and no policy (loopback is fine), body in the
     * caller's buffer with its max */
    struct gw_buf body;
    gw_buf_init(&body, 1000);
    struct net_result r;
    char *u = url("127.0.0.1", "/ok");
    struct net_request rq = {.url = u, .timeout_ms = 5000};
    assert_int_equal(net_perform(&rq, &body, &r), GW_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(body.data, "hello");
    free(u);
    gw_buf_reset(&body);
    u = url("127.0.0.1", "/big?n=1001");
    rq.url = u;
    assert_int_equal(net_perform(&rq, &body, &r), GW_ETOOBIG);
    free(u);
    rq.url = "ftp://127.0.0.1/x";
    assert_int_equal(net_perform(&rq, &body, &r), GW_EFORBIDDEN);
    rq.url = "http://127.0.0.1:1/"; /* nothing listens: the detailed reason */
    assert_int_equal(net_perform(&rq, &body, &r), GW_EUPSTREAM);
    assert_non_null(strstr(r.msg, "127.0.0.1"));
    assert_int_equal(r.failure, NET_FAIL_CONNECT);
    assert_false(r.connected);

    /* a timeout after the connection is told from one before it */
    u = url("127.0.0.1", "/slow");
    rq = (struct net_request){.url = u, .timeout_ms = 300};
    assert_int_equal(net_perform(&rq, &body, &r), GW_EUPTIMEOUT);
    assert_int_equal(r.failure, NET_FAIL_TIMEOUT);
    assert_true(r.connected);

    /* a cancel flag set from another thread (as a signal handler would) stops the transfer */
    static volatile sig_atomic_t cancel;
    cancel = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, set_flag_later, (void *)&cancel), 0);
    rq = (struct net_request){.url = u, .timeout_ms = 5000, .cancel = &cancel};
    assert_int_equal(net_perform(&rq, &body, &r), GW_ECANCELED);
    assert_int_equal(r.status, 0); /* /slow answers after 1.5 s: it was not waited for */
    assert_string_equal(r.msg, "cancelled");
    pthread_join(th, NULL);
    free(u);
    gw_buf_release(&body);

    char *e = net_url_escape("a b/c?d=é");
    assert_string_equal(e, "a%20b%2Fc%3Fd%3D%C3%A9");
    size_t n = 0;
    char *d = net_url_unescape(e, strlen(e), &n);
    assert_string_equal(d, "a b/c?d=é");
    assert_int_equal(n, strlen(d));
    assert_null(net_url_unescape("a%00b", 5, NULL)); /* a NUL inside */
    free(d);
    free(e);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the server writes to clients that timed out */
    net_init();
    srv_start();
    assert_int_equal(net_loop_start(&L), GW_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(address_classes),
        cmocka_unit_test(connections_are_checked),
        cmocka_unit_test(limits_of_every_call),
        cmocka_unit_test(redirects_only_when_asked),
        cmocka_unit_test(proxies),
        cmocka_unit_test(async_calls),
        cmocka_unit_test(smtp_follows_the_policy),
        cmocka_unit_test(direct_transfers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    net_loop_stop(L);
    shutdown(S.lfd, SHUT_RDWR);
    close(S.lfd);
    pthread_join(S.th, NULL);
    net_cleanup();
    return rc;
}
