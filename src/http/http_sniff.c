/* SPDX-License-Identifier: MIT
 * http_sniff.c — the TLS port's own listener: plain HTTP gets a 400 that says so.
 *
 * libmicrohttpd hands every byte of a TLS port to GnuTLS, which drops a plain-HTTP request
 * without a word (the client sees an empty reply). So with TLS the gateway accepts connections
 * itself, on one "http-sniff" thread, and waits (epoll, no thread per connection) for the first
 * byte: a request line starts with an upper-case method letter, a TLS record never does (a
 * handshake starts with 0x16). Plain HTTP is answered 400 with the error envelope naming the
 * https URL, then closed; everything else goes to MHD (MHD_add_connection) untouched. A
 * connection that sends nothing within header_timeout_s is closed; beyond max_connections
 * waiting ones, new connections go to MHD unsniffed, so its limits answer them as before.
 */
#include "base/prelude.h"
#include "http/http_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define SNIFF_TICK_MS 250
#define SNIFF_READ_MAX 8192 /* what is read of a plain request (to find Host, and not reset) */

struct pending {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int64_t since_ns;
};

struct http_sniff {
    struct http_server *s;
    int listen_fd, epoll_fd, stop_fd;
    pthread_t thread;
    bool running;
    struct pending *p; /* waiting for their first byte; unordered */
    size_t n, cap;
};

/* The Host header of a request head, when it is made of host-name characters only. */
static bool host_of(const char *head, char *out, size_t cap)
{
    const char *h = head;
    while ((h = strchr(h, '\n')) != NULL) {
        h++;
        if (strncasecmp(h, "host:", 5) != 0)
            continue;
        h += 5;
        h += strspn(h, " \t");
        size_t n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]");
        if (n == 0 || n >= cap || (h[n] != '\r' && h[n] != '\n'))
            return false;
        memcpy(out, h, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* Reads what the client sent (so closing does not reset the connection before it reads the
 * answer), answers 400 naming the https URL, and closes. */
static void refuse_plain(int fd)
{
    char head[SNIFF_READ_MAX + 1], host[256], msg[400];
    ssize_t got = recv(fd, head, SNIFF_READ_MAX, MSG_DONTWAIT);
    head[got > 0 ? got : 0] = '\0';
    bool named = host_of(head, host, sizeof host);
    snprintf(msg, sizeof msg,
             "this port speaks HTTPS: a plain HTTP request was sent to it (use https://%s%s)",
             named ? host : "", named ? "/" : "");
    http_raw_error(fd, GW_EINVAL, msg);
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void drop(struct http_sniff *sn, size_t i)
{
    epoll_ctl(sn->epoll_fd, EPOLL_CTL_DEL, sn->p[i].fd, NULL);
    sn->p[i] = sn->p[--sn->n];
}

static void hand_over(struct http_sniff *sn, const struct pending *p)
{
    if (MHD_add_connection(sn->s->daemon, p->fd, (const struct sockaddr *)&p->addr, p->addr_len) !=
        MHD_YES) /* MHD closed it */
        gw_debug("http: connection not taken by MHD: %s", strerror(errno));
}

/* The first byte decides: a method letter is plain HTTP, anything else goes to MHD. */
static void first_byte(struct http_sniff *sn, size_t i)
{
    struct pending p = sn->p[i];
    unsigned char c;
    ssize_t n = recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    drop(sn, i);
    if (n <= 0)
        close(p.fd);
    else if (c >= 'A' && c <= 'Z')
        refuse_plain(p.fd);
    else
        hand_over(sn, &p);
}

static void accept_all(struct http_sniff *sn)
{
    for (;;) {
        struct pending p = {.addr_len = sizeof(p.addr), .since_ns = gw_mono_ns()};
        p.fd = accept4(sn->listen_fd, (struct sockaddr *)&p.addr, &p.addr_len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (p.fd < 0)
            return; /* EAGAIN, or an error of that one connection */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = p.fd};
        if (sn->n >= sn->s->opt.max_connections ||
            epoll_ctl(sn->epoll_fd, EPOLL_CTL_ADD, p.fd, &ev) != 0) {
            hand_over(sn, &p);
            continue;
        }
        if (sn->n == sn->cap) {
            sn->cap = sn->cap ? sn->cap * 2 : 64;
            sn->p = gw_xrealloc(sn->p, sn->cap * sizeof(*sn->p));
        }
        sn->p[sn->n++] = p;
    }
}

static void *sniff_main(void *arg)
{
    pthread_setname_np(pthread_self(), "http-sniff");
    struct http_sniff *sn = arg;
    int64_t deadline_ns = (int64_t)sn->s->opt.header_timeout_s * 1000000000;
    for (;;) {
        struct epoll_event ev[64];
        int k = epoll_wait(sn->epoll_fd, ev, (int)GW_ARRAY_LEN(ev), SNIFF_TICK_MS);
        for (int e = 0; e < k; e++) {
            int fd = ev[e].data.fd;
            if (fd == sn->stop_fd)
                return NULL;
            if (fd == sn->listen_fd) {
                accept_all(sn);
                continue;
            }
            for (size_t i = 0; i < sn->n; i++)
                if (sn->p[i].fd == fd) {
                    first_byte(sn, i);
                    break;
                }
        }
        int64_t now = gw_mono_ns();
        for (size_t i = 0; i < sn->n;) {
            if (now - sn->p[i].since_ns <= deadline_ns) {
                i++;
                continue;
            }
            int fd = sn->p[i].fd;
            drop(sn, i);
            close(fd);
        }
    }
}

static int watch(int epoll_fd, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

gw_err http_sniff_start(struct http_server *s, const struct sockaddr *sa, socklen_t len)
{
    struct http_sniff *sn = gw_xcalloc(1, sizeof(*sn));
    sn->s = s;
    sn->listen_fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sn->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    sn->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int one = 1;
    if (sn->listen_fd < 0 || sn->epoll_fd < 0 || sn->stop_fd < 0 ||
        setsockopt(sn->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(sn->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(sn->listen_fd, sa, len) != 0 || listen(sn->listen_fd, 1024) != 0 ||
        watch(sn->epoll_fd, sn->listen_fd) != 0 || watch(sn->epoll_fd, sn->stop_fd) != 0 ||
        pthread_create(&sn->thread, NULL, sniff_main, sn) != 0) {
        int err = errno;
        http_sniff_stop(sn);
        errno = err;
        return GW_EIO;
    }
    sn->running = true;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(sn->listen_fd, (struct sockaddr *)&bound, &blen) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    s->sniff = sn;
    return GW_OK;
}

void http_sniff_stop(struct http_sniff *sn)
{
    if (!sn)
        return;
    if (sn->running) {
        uint64_t one = 1;
        ssize_t w = write(sn->stop_fd, &one, sizeof one);
        GW_UNUSED(w);
        pthread_join(sn->thread, NULL);
    }
    for (size_t i = 0; i < sn->n; i++)
        close(sn->p[i].fd);
    free(sn->p);
    if (sn->listen_fd >= 0)
        close(sn->listen_fd);
    if (sn->epoll_fd >= 0)
        close(sn->epoll_fd);
    if (sn->stop_fd >= 0)
        close(sn->stop_fd);
    free(sn);
}
