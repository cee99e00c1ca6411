/* SPDX-License-Identifier: MIT
 * shared_resp.c — the RESP2 client the Redis backend needs: Redis URLs, one connection (TCP,
 * or TLS through OpenSSL), commands as arrays of bulk strings, and bounded replies.
 *
 * Our own client rather than hiredis: Debian 12's hiredis (0.14) has no TLS, and the subset
 * used here (a few commands, pipelining, pub/sub messages) is small. Every reply is bounded:
 * header lines 64 bytes, strings SHARED_BULK_MAX, arrays SHARED_ARRAY_MAX elements nested at
 * most twice, SHARED_REPLY_BYTES allocated in all; anything else is a protocol error and the
 * connection is dropped. Sockets are non-blocking and every wait has a deadline.
 */
#include "base/prelude.h"
#include "shared/shared_int.h"
#include "base/mem.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define LINE_MAX_BYTES 64
#define DEPTH_MAX 2

/* --- URLs ------------------------------------------------------------------------------------ */

static bool copy_part(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return true;
}

gw_err shared_url_parse(const char *url, struct shared_url *u)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    if (strncmp(url, "redis://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "rediss://", 9) == 0) {
        p = url + 9;
        u->tls = true;
    } else
        return GW_EINVAL;
    for (const char *q = url; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return GW_EINVAL;
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || !copy_part(u->user, sizeof(u->user), p, (size_t)(colon - p)) ||
            !copy_part(u->password, sizeof(u->password), colon + 1, (size_t)(at - colon - 1)))
            return GW_EINVAL;
        p = at + 1;
    }
    const char *end = p + strcspn(p, "/");
    const char *port = NULL;
    if (*p == '[') { /* [v6]:port */
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || !copy_part(u->host, sizeof(u->host), p + 1, (size_t)(close - p - 1)))
            return GW_EINVAL;
        port = close[1] == ':' ? close + 2 : NULL;
        if (!port && close + 1 != end)
            return GW_EINVAL;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (!copy_part(u->host, sizeof(u->host), p, (size_t)((colon ? colon : end) - p)))
            return GW_EINVAL;
        port = colon ? colon + 1 : NULL;
    }
    if (!u->host[0])
        return GW_EINVAL;
    u->port = 6379;
    if (port) {
        char *e = NULL;
        unsigned long v = strtoul(port, &e, 10);
        if (e == port || e != end || v == 0 || v > 65535)
            return GW_EINVAL;
        u->port = (unsigned)v;
    }
    if (*end == '/' && end[1]) {
        char *e = NULL;
        unsigned long v = strtoul(end + 1, &e, 10);
        if (*e || v > 15)
            return GW_EINVAL;
        u->db = (unsigned)v;
    }
    return GW_OK;
}

/* --- the connection ------------------------------------------------------------------------ */

void shared_conn_init(struct shared_conn *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

void shared_conn_close(struct shared_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    shared_conn_init(c);
}

static int ms_left(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - gw_mono_ns()) / 1000000;
    return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static gw_err wait_fd(int fd, short events, int64_t deadline_ns)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&pfd, 1, ms_left(deadline_ns));
        if (n > 0)
            return GW_OK;
        if (n == 0)
            return GW_ETIMEOUT;
        if (errno != EINTR)
            return GW_EIO;
    }
}

/* After an SSL call returned r <= 0: wait for what it needs, or fail. */
static gw_err ssl_wait(struct shared_conn *c, int r, int64_t deadline_ns)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_fd(c->fd, POLLIN, deadline_ns);
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_fd(c->fd, POLLOUT, deadline_ns);
    return GW_EIO;
}

static gw_err tcp_connect(struct shared_conn *c, const char *host, unsigned port,
                          int64_t deadline_ns, char *msg, size_t cap)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC}, *ai = NULL;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) {
        snprintf(msg, cap, "cannot resolve %s: %s", host, gai_strerror(gai));
        return GW_EIO;
    }
    gw_err rc = GW_EIO;
    for (struct addrinfo *a = ai; a && rc != GW_OK; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int err = 0;
        socklen_t len = sizeof(err);
        if ((connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
             (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline_ns) == GW_OK &&
              getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0))) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            c->fd = fd;
            rc = GW_OK;
        } else {
            snprintf(msg, cap, "cannot connect to %s:%u: %s", host, port,
                     strerror(err     ? err
                              : errno ? errno
                                      : ETIMEDOUT));
            close(fd);
        }
    }
    freeaddrinfo(ai);
    return rc;
}

gw_err shared_conn_open(struct shared_conn *c, const char *host, unsigned port, SSL_CTX *tls,
                        int64_t deadline_ns, char *msg, size_t cap)
{
    shared_conn_init(c);
    gw_err rc = tcp_connect(c, host, port, deadline_ns, msg, cap);
    if (rc != GW_OK || !tls)
        return rc;
    c->ssl = SSL_new(tls);
    SSL_set_fd(c->ssl, c->fd);
    /* the certificate must name what the URL names: an address (IP SAN, no SNI) or a host */
    unsigned char addr[16];
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
    } else {
        SSL_set_tlsext_host_name(c->ssl, host);
        SSL_set1_host(c->ssl, host);
    }
    int r;
    while ((r = SSL_connect(c->ssl)) != 1)
        if ((rc = ssl_wait(c, r, deadline_ns)) != GW_OK)
            break;
    if (r != 1) {
        long v = SSL_get_verify_result(c->ssl);
        snprintf(msg, cap, "TLS handshake with %s:%u failed: %s", host, port,
                 v != X509_V_OK ? X509_verify_cert_error_string(v) : "connection closed");
        ERR_clear_error();
        shared_conn_close(c);
        return GW_EIO;
    }
    return GW_OK;
}

gw_err shared_conn_write(struct shared_conn *c, const void *p, size_t n, int64_t deadline_ns)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w;
        if (c->ssl) {
            int r = SSL_write(c->ssl, b, n > INT_MAX ? INT_MAX : (int)n);
            if (r <= 0) {
                gw_err rc = ssl_wait(c, r, deadline_ns);
                if (rc != GW_OK)
                    return rc;
                continue;
            }
            w = r;
        } else {
            w = send(c->fd, b, n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    return GW_EIO;
                gw_err rc = wait_fd(c->fd, POLLOUT, deadline_ns);
                if (rc != GW_OK)
                    return rc;
                continue;
            }
        }
        b += w;
        n -= (size_t)w;
    }
    return GW_OK;
}

/* Reads what is there into rbuf (which the caller emptied or compacted). */
static gw_err fill(struct shared_conn *c, int64_t deadline_ns)
{
    if (c->rpos > 0) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    for (;;) {
        size_t room = sizeof(c->rbuf) - c->rlen;
        if (c->ssl) {
            int r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)room);
            if (r > 0) {
                c->rlen += (size_t)r;
                return GW_OK;
            }
            gw_err rc = ssl_wait(c, r, deadline_ns);
            if (rc != GW_OK)
                return rc;
        } else {
            ssize_t r = recv(c->fd, c->rbuf + c->rlen, room, 0);
            if (r > 0) {
                c->rlen += (size_t)r;
                return GW_OK;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                return GW_EIO;
            gw_err rc = wait_fd(c->fd, POLLIN, deadline_ns);
            if (rc != GW_OK)
                return rc;
        }
    }
}

gw_err shared_conn_readable(struct shared_conn *c, int64_t deadline_ns)
{
    if (c->rpos < c->rlen || (c->ssl && SSL_pending(c->ssl) > 0))
        return GW_OK;
    return wait_fd(c->fd, POLLIN, deadline_ns);
}

/* --- replies --------------------------------------------------------------------------------- */

/* Bytes come from a connection (refilled until the deadline) or from a buffer (tests). */
struct rd {
    struct shared_conn *c;
    const char *p;
    size_t n, pos;
    int64_t deadline_ns;
    size_t budget; /* bytes the reply may still allocate */
};

static gw_err need(struct rd *r, size_t k)
{
    if (!r->c)
        return r->n - r->pos >= k ? GW_OK : GW_EINVAL;
    while (r->c->rlen - r->c->rpos < k) {
        gw_err rc = fill(r->c, r->deadline_ns);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static const char *at(struct rd *r)
{
    return r->c ? r->c->rbuf + r->c->rpos : r->p + r->pos;
}

static void advance(struct rd *r, size_t k)
{
    if (r->c)
        r->c->rpos += k;
    else
        r->pos += k;
}

/* One header line without its CRLF (at most LINE_MAX_BYTES). */
static gw_err line(struct rd *r, char *out)
{
    for (size_t k = 1;; k++) {
        if (k > LINE_MAX_BYTES + 2)
            return GW_EUPSTREAM;
        gw_err rc = need(r, k);
        if (rc != GW_OK)
            return rc;
        if (k >= 2 && at(r)[k - 2] == '\r' && at(r)[k - 1] == '\n') {
            memcpy(out, at(r), k - 2);
            out[k - 2] = '\0';
            advance(r, k);
            return GW_OK;
        }
    }
}

static bool integer(const char *s, int64_t *v)
{
    char *e = NULL;
    errno = 0;
    long long x = strtoll(s, &e, 10);
    if (e == s || *e || errno)
        return false;
    *v = x;
    return true;
}

static gw_err parse(struct rd *r, struct shared_reply *out, int depth)
{
    char ln[LINE_MAX_BYTES + 1];
    memset(out, 0, sizeof(*out));
    gw_err rc = line(r, ln);
    if (rc != GW_OK)
        return rc;
    int64_t v = 0;
    switch (ln[0]) {
    case '+':
    case '-':
        out->type = ln[0] == '+' ? RESP_STATUS : RESP_ERROR;
        out->len = strlen(ln + 1);
        out->s = gw_xstrdup(ln + 1);
        return GW_OK;
    case ':':
        out->type = RESP_INT;
        return integer(ln + 1, &out->i) ? GW_OK : GW_EUPSTREAM;
    case '$':
        if (!integer(ln + 1, &v) || v < -1 || v > SHARED_BULK_MAX ||
            (v > 0 && (size_t)v > r->budget))
            return GW_EUPSTREAM;
        if (v == -1) {
            out->type = RESP_NIL;
            return GW_OK;
        }
        if ((rc = need(r, (size_t)v + 2)) != GW_OK)
            return rc;
        if (at(r)[v] != '\r' || at(r)[v + 1] != '\n')
            return GW_EUPSTREAM;
        r->budget -= (size_t)v;
        out->type = RESP_BULK;
        out->len = (size_t)v;
        out->s = gw_xstrndup(at(r), (size_t)v);
        advance(r, (size_t)v + 2);
        return GW_OK;
    case '*':
        if (!integer(ln + 1, &v) || v < -1 || v > SHARED_ARRAY_MAX || depth >= DEPTH_MAX ||
            (v > 0 && (size_t)v * sizeof(*out->v) > r->budget))
            return GW_EUPSTREAM;
        if (v == -1) {
            out->type = RESP_NIL;
            return GW_OK;
        }
        r->budget -= (size_t)v * sizeof(*out->v);
        out->type = RESP_ARRAY;
        out->v = gw_xcalloc((size_t)v + 1, sizeof(*out->v));
        for (; out->n < (size_t)v; out->n++)
            if ((rc = parse(r, &out->v[out->n], depth + 1)) != GW_OK) {
                shared_reply_release(&out->v[out->n]);
                return rc;
            }
        return GW_OK;
    default:
        return GW_EUPSTREAM;
    }
}

void shared_reply_release(struct shared_reply *r)
{
    for (size_t i = 0; i < r->n; i++)
        shared_reply_release(&r->v[i]);
    free(r->v);
    free(r->s);
    memset(r, 0, sizeof(*r));
}

gw_err shared_conn_reply(struct shared_conn *c, int64_t deadline_ns, struct shared_reply *out)
{
    struct rd r = {.c = c, .deadline_ns = deadline_ns, .budget = SHARED_REPLY_BYTES};
    gw_err rc = parse(&r, out, 0);
    if (rc != GW_OK)
        shared_reply_release(out);
    return rc;
}

gw_err shared_resp_parse(const char *p, size_t n, struct shared_reply *out, size_t *used)
{
    struct rd r = {.p = p, .n = n, .budget = SHARED_REPLY_BYTES};
    gw_err rc = parse(&r, out, 0);
    if (rc != GW_OK)
        shared_reply_release(out);
    *used = r.pos;
    return rc;
}

void shared_resp_command(struct gw_buf *b, size_t argc, const char *const *argv)
{
    gw_buf_printf(b, "*%zu\r\n", argc);
    for (size_t i = 0; i < argc; i++) {
        gw_buf_printf(b, "$%zu\r\n", strlen(argv[i]));
        gw_buf_puts(b, argv[i]);
        gw_buf_puts(b, "\r\n");
    }
}
