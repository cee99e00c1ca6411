/* SPDX-License-Identifier: MIT
 * http_int.h — private state of the HTTP server: connections and their deadlines.
 *
 * Connection states (driven by MHD callbacks):
 *   IDLE   between keep-alive requests; MHD's inactivity timeout applies, and the
 *          reaper closes a connection that stays here past idle + header timeout (a client that
 *          trickles its request line keeps MHD's inactivity timer alive);
 *   HEAD   just accepted, or request line received (URI log callback), head still arriving:
 *          408 after header_timeout_s;
 *   BODY   handler called, body arriving: 408 after request_timeout_s (checked on each chunk
 *          and by the reaper when no bytes arrive);
 *   BUSY   request complete, being answered: never interrupted.
 */
#ifndef GW_HTTP_INT_H
#define GW_HTTP_INT_H

#include "http/http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

enum http_conn_state { CONN_IDLE, CONN_HEAD, CONN_BODY, CONN_BUSY };

struct http_conn {
    struct http_conn *prev, *next; /* in server->conns, under conns_lock */
    int fd;
    char ip[64];
    enum http_conn_state state; /* under conns_lock */
    int64_t since_ns;           /* entered the current state */
    bool over_limit;            /* accepted above max_connections: answer 503 */
    bool trusted;               /* a trusted proxy: no per-address limit, headers believed */
    bool reaped;                /* the reaper answered 408 / closed it */
};

struct ip_count {
    char ip[64];
    unsigned n;
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_options opt;
    http_dispatch_fn *dispatch;
    http_done_fn *done;
    void *ctx;
    unsigned port;

    pthread_mutex_t conns_lock;
    struct http_conn *conns; /* all open connections */
    unsigned n_conns;
    struct ip_count *ips; /* open connections per client address */
    size_t n_ips, cap_ips;

    atomic_uint active; /* requests between URI callback and completion */

    /* blocking workers: requests that may wait for the disk run here, connection suspended */
    pthread_mutex_t jobs_lock;
    pthread_cond_t jobs_cv;
    struct http_req **jobs; /* ring buffer */
    size_t jobs_cap, jobs_head, jobs_len;
    pthread_t *workers;                    /* n_workers slots, the first n_started running */
    unsigned n_workers, n_started, n_idle; /* n_started, n_idle under jobs_lock */
    bool workers_stop;                     /* under jobs_lock */
    pthread_t reaper;
    atomic_bool stopping;
    MHD_socket quiesced_fd;   /* the listen socket after drain, closed once MHD stopped */
    char *tls_cert, *tls_key; /* copies kept alive for MHD */
    struct gw_cidr *trusted;  /* copy of opt.trusted_proxies */
    struct http_sniff *sniff; /* with TLS: our own listener (http_sniff.c), else NULL */
};

/* With TLS the server listens itself: a thread accepts, answers plain HTTP with a 400 and hands
 * everything else to MHD (which then runs without a listen socket). Start sets s->sniff and
 * s->port; stop (idempotent on NULL) closes the listener and the connections still waiting. */
gw_err http_sniff_start(struct http_server *s, const struct sockaddr *sa, socklen_t len);
void http_sniff_stop(struct http_sniff *sn);

/* Writes an error straight on a socket, where MHD cannot queue one (a connection past its
 * deadline, plain HTTP on the TLS port): the error envelope with a new request id, and
 * Connection: close. The caller shuts the socket down. */
void http_raw_error(int fd, gw_err code, const char *message);

/* Adds the standard headers and queues resp (or stores it for a suspended request). */
void http_response_finish(struct http_req *r, int status, struct MHD_Response *resp,
                          const char *content_type, const char *const *extra_headers);

#endif
