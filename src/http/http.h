/* SPDX-License-Identifier: MIT
 * http.h — the HTTP/1.1 front door (libmicrohttpd, epoll + worker thread pool).
 *
 * The server owns connection-level protection so handlers never see abusive input:
 *   - request head larger than max_header_bytes → 431 (MHD's per-connection memory limit),
 *   - body larger than max_body_bytes → 413 (Content-Length checked up front, then counted),
 *   - request head not complete within header_timeout_s, or body within request_timeout_s → 408,
 *   - more than max_connections (or max_connections_per_ip) open → 503,
 *   - idle keep-alive connections closed after idle_timeout_s.
 * Each request gets a pool, a request id (X-Request-Id, client-supplied if well-formed) and the
 * raw, still percent-encoded path (routing splits before decoding, so "%2f" never becomes a
 * separator). The dispatch function runs once the body is complete and must answer exactly once
 * with one of the http_respond_* functions. Requests that may block on the disk (every method
 * but GET and HEAD: they wait for the durable audit) run on a pool of blocking workers while
 * their connection is suspended, so the event-loop threads keep serving everyone else.
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/err.h"

#include <jansson.h>
#include <stdatomic.h>

struct gw_cidr;
struct gw_pool;
struct http_server;
struct http_conn;
struct MHD_Connection;

struct http_req;
typedef void http_job_fn(struct http_req *req, void *arg);

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_PATCH, HTTP_OTHER };

struct http_req {
    struct gw_pool *pool; /* freed when the request completes */
    struct MHD_Connection *conn;
    struct http_conn *hc; /* connection bookkeeping (limits, deadlines) */
    enum http_method method;
    const char *method_name;
    char *raw_path;     /* path as received, percent-encoded, without the query */
    char *raw_query;    /* after '?', or NULL */
    char client_ip[64]; /* the real client: the TCP peer, or what a trusted proxy says */
    bool https;         /* TLS here, or at a trusted proxy (X-Forwarded-Proto) */
    char request_id[65];
    int64_t start_ns;   /* monotonic */
    struct gw_buf body; /* bounded by max_body_bytes */
    gw_err early_error; /* set while reading (413/408/503); answered instead of dispatch */
    size_t discarded;   /* body bytes drained after an early error */
    bool responded;
    int status;                  /* status answered (for the audit) */
    bool deferred;               /* dispatched on a blocking worker (connection suspended) */
    struct MHD_Response *stored; /* response produced by that worker, queued on resume */
    int stored_status;           /* its status (status may be refined for the audit later) */
    void *user;                  /* for the dispatcher */
    http_job_fn *job_fn;         /* set by http_run_blocking: what the worker runs */
    void *job_arg;
    bool on_worker; /* running on a blocking worker */
    struct http_server *server;
    atomic_int refs;    /* MHD's (until completion) + holds; see http_req_hold */
    atomic_bool async;  /* answered later from another thread (http_async_begin) */
    atomic_bool closed; /* MHD completed the request (sent, or the client is gone) */
    bool openai_errors; /* errors in the OpenAI envelope (the /v1/ routes) */
};

typedef void http_dispatch_fn(struct http_req *req, void *ctx);
/* Optional: true when the request (head known, body read) never blocks, so it can be
 * dispatched on the event-loop thread instead of a blocking worker (see http_run_blocking). */
typedef bool http_inline_fn(struct http_req *req, void *ctx);

/* Called after the response of a request has been sent or the request was aborted. */
typedef void http_done_fn(struct http_req *req, void *ctx);

struct http_options {
    const char *host;
    unsigned port;
    unsigned threads;
    size_t max_body_bytes;
    size_t max_header_bytes;
    unsigned max_connections;
    unsigned max_connections_per_ip;
    unsigned idle_timeout_s;
    unsigned header_timeout_s;
    unsigned request_timeout_s;
    unsigned blocking_workers;             /* threads for requests that may block (mutations) */
    http_inline_fn *inline_ok;             /* NULL: every request but GET/HEAD goes to a worker */
    const struct gw_cidr *trusted_proxies; /* peers whose forwarded headers name the client */
    size_t n_trusted_proxies;
    const char *tls_cert_pem; /* PEM text (not a path) or NULL */
    const char *tls_key_pem;
};

gw_err http_server_start(const struct http_options *o, http_dispatch_fn *dispatch,
                         http_done_fn *done, void *ctx, struct http_server **out);
/* The port actually bound (useful with port 0). */
unsigned http_server_port(const struct http_server *s);
/* Stops accepting and waits up to drain_ms for requests in flight (they may go on after). */
void http_server_drain(struct http_server *s, unsigned drain_ms);
/* Drains (as above), then stops. Requests answered from other threads (http_async_begin,
 * streams) must have been finished by their owners before: MHD cannot stop with connections
 * still suspended. */
void http_server_stop(struct http_server *s, unsigned drain_ms);
/* Requests currently being processed. */
unsigned http_server_active(const struct http_server *s);

/* The real client of a request from a trusted proxy: client holds the proxy's address on
 * entry and the client's on return; *https is set when a proto value says http or https.
 * forwarded (RFC 7239) wins over xff (X-Forwarded-For); either may be NULL. */
void http_forwarded_client(const char *forwarded, const char *xff, const char *xfproto,
                           const struct gw_cidr *trusted, size_t n_trusted, char *client,
                           size_t cap, bool *https);

/* Request accessors (values borrowed, valid for the request). */
const char *http_header(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);

/* Responses: exactly one per request. Extra headers are "Name: value" strings, NULL-terminated. */
void http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                  size_t len, const char *const *extra_headers);
/* Same for a body that outlives the response (static data: not copied). A Cache-Control among
 * the extra headers replaces the default "no-store". */
void http_respond_static(struct http_req *r, int status, const char *content_type, const void *body,
                         size_t len, const char *const *extra_headers);
/* Steals the reference to body. */
void http_respond_json(struct http_req *r, int status, json_t *body);
/* {"error":{"code","message","request_id"}} with the status of the code. */
void http_respond_error(struct http_req *r, gw_err code, const char *fmt, ...) GW_PRINTF(3, 4);
/* Same with extra headers (e.g. Retry-After, Allow, WWW-Authenticate). */
void http_respond_error_h(struct http_req *r, gw_err code, const char *const *extra_headers,
                          const char *fmt, ...) GW_PRINTF(4, 5);

/* Streamed (chunked) response: fill() writes up to cap bytes into out and returns the count,
 * 0 at the end, or -1 on error (connection closed). free_ctx runs when the stream ends. */
typedef ssize_t http_stream_fill_fn(void *ctx, char *out, size_t cap);
typedef void http_stream_free_fn(void *ctx);
void http_respond_stream(struct http_req *r, int status, const char *content_type,
                         http_stream_fill_fn *fill, http_stream_free_fn *free_ctx, void *ctx,
                         const char *const *extra_headers);

/* --- answering later, from another thread -----------------------------------------------
 *
 * A request normally lives until MHD completes it. A holder (an upstream call, a stream
 * producer) keeps it and its pool alive past that with http_req_hold; the done callback (the
 * audit) runs at the last release, so it sees what the holder recorded last. */
void http_req_hold(struct http_req *r);
void http_req_release(struct http_req *r);
/* True once MHD completed the request: the response was sent or the client went away. */
bool http_req_closed(struct http_req *r);

/* For a handler that answers from another thread without blocking this one: the connection
 * stays suspended after the handler returns, until http_async_finish. Takes a hold that
 * http_async_finish releases. */
void http_async_begin(struct http_req *r);
/* After the answer was produced (http_respond_* or http_stream_open), from any thread:
 * resumes the connection so MHD sends it. r must not be used by the caller afterwards. */
void http_async_finish(struct http_req *r);

/* From a handler dispatched inline (http_inline_fn) that finds it must wait after all (an
 * agent turn): suspends the connection and runs fn(r, arg) on a blocking worker instead. */
void http_run_blocking(struct http_req *r, http_job_fn *fn, void *arg);
bool http_on_worker(const struct http_req *r);

/* A response streamed by a producer on any thread (SSE). Data is buffered (at most
 * HTTP_STREAM_MAX_BUFFERED bytes waiting for a slow client) and the connection is suspended
 * while there is nothing to send, so a waiting stream costs no thread and no CPU. */
#define HTTP_STREAM_MAX_BUFFERED ((size_t)4 << 20)
struct http_stream;
struct http_stream *http_stream_open(struct http_req *r, int status, const char *content_type,
                                     const char *const *extra_headers);
/* GW_ECANCELED when the client is gone, GW_ETOOBIG when it reads too slowly. A client that
 * disconnects is noticed when MHD next sends to it (a suspended connection is not watched),
 * so the write after that fails: producers cancel their upstream work then. */
gw_err http_stream_write(struct http_stream *s, const void *data, size_t len);
/* Ends the stream (ok: normally; else the connection is cut so the client sees an error) and
 * drops the producer's reference. */
void http_stream_close(struct http_stream *s, bool ok);

/* Percent-decodes one path segment into out (cap bytes). Returns false on a malformed escape,
 * an encoded NUL or an output overflow. */
bool http_pct_decode(const char *in, size_t len, char *out, size_t cap);

#endif
