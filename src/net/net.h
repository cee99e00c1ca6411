/* SPDX-License-Identifier: MIT
 * net.h — outbound network access: the one place the gateway talks to other servers.
 *
 * net/ owns libcurl (nothing else includes <curl/curl.h>) and may include base/ only. One
 * "net-io" thread (struct net_loop) waits in epoll on every outbound transfer (libcurl multi,
 * curl's socket interface) and on an eventfd that other threads use to hand it work. On it:
 *
 * - HTTP calls (struct net_call): started on the loop thread (net_call_start) or from any thread
 *   (net_call_submit), with a blocking wrapper for worker threads (net_fetch). Every call has a
 *   bounded response body, a total and a connect timeout, http and https only, no redirects
 *   unless asked (each hop is then checked like the first), and the egress policy;
 * - sources: a subsystem with its own state machine on the loop (the model client) registers a
 *   function the loop runs on every turn, before it waits;
 * - tasks: closures run on the loop thread (net_loop_post, net_loop_call).
 *
 * Egress policy (struct net_egress): every connection is checked against the address it is
 * about to connect to (after DNS, so a name that resolves to an internal address is caught):
 * public addresses are allowed; private, loopback, CGNAT and other special ranges only for
 * hosts named in the configuration (trusted_urls: provider base URLs, the IdP issuer, OPA, the
 * alert webhook, the SMTP relay) or with allow_private; link-local addresses (169.254.0.0/16,
 * fe80::/10, cloud metadata services) only when an `allow` entry names the host or covers the
 * address. Hosts the gateway learnt from elsewhere (an IdP's discovery document naming another
 * host, a redirect) are therefore checked. Behind a proxy the proxy connects: the policy then
 * judges literal addresses only (the proxy's own rules apply to names).
 *
 * SMTP (net_smtp.c) sends one message with a direct blocking transfer, under the same policy.
 * Programs that are not the gateway (the openclaw CLI) use net_perform: one transfer on the
 * calling thread with the same limits, without loop or policy.
 */
#ifndef GW_NET_H
#define GW_NET_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/err.h"

#include <signal.h>

struct net_loop;
struct net_egress;

/* --- process ---------------------------------------------------------------------------------- */

/* libcurl's global set-up and tear-down: once per process, before and after every other use. */
void net_init(void);
void net_cleanup(void);

/* --- egress policy ---------------------------------------------------------------------------- */

struct net_egress_rules {
    bool allow_private;              /* private and loopback destinations for any host */
    const char *const *allow;        /* host names, addresses or CIDRs allowed whatever their
                                        address (the only way to link-local), NULL-terminated */
    const char *const *trusted_urls; /* URLs from the configuration: their hosts may be private */
    const char *proxy;               /* proxy URL; "": none; NULL: from the environment */
    const char *const *no_proxy;     /* hosts / .domains never proxied; NULL: the environment */
};

/* A compiled policy, refcount 1; entries that are neither a host name nor an address or CIDR
 * are refused with GW_EINVAL and the reason in msg. */
gw_err net_egress_new(const struct net_egress_rules *r, struct net_egress **out, char *msg,
                      size_t cap);
struct net_egress *net_egress_ref(struct net_egress *e);
void net_egress_unref(struct net_egress *e);

/* The verdict on one destination address (sockaddr), for a host named or not in the rules. */
enum net_verdict { NET_ALLOW, NET_REFUSE_PRIVATE, NET_REFUSE_LINK_LOCAL };
enum net_verdict net_egress_check(const struct net_egress *e, const char *host,
                                  const void *sockaddr);
/* The proxy URL for a request to url ("" when none). */
const char *net_egress_proxy_for(const struct net_egress *e, const char *url);

/* --- the loop --------------------------------------------------------------------------------- */

/* Starts the "net-io" thread with a policy that refuses every non-public address. */
gw_err net_loop_start(struct net_loop **out);
/* Ends every call still running (on_done: GW_ECANCELED), runs the tasks posted so far, then
 * stops the thread. Sources must have been removed. */
void net_loop_stop(struct net_loop *l);
/* Replaces the policy (any thread); calls already started keep theirs. Takes a reference. */
void net_loop_set_egress(struct net_loop *l, struct net_egress *e);
/* The current policy, a new reference. */
struct net_egress *net_loop_egress(struct net_loop *l);
/* true on the loop's own thread. */
bool net_loop_on_thread(const struct net_loop *l);

/* A closure for the loop thread; the struct must stay valid until fn ran. */
struct net_task {
    void (*fn)(struct net_task *t);
    struct net_task *next; /* the loop's */
};
/* Runs t->fn on the loop thread soon (any thread; one wake-up for a burst of posts). */
void net_loop_post(struct net_loop *l, struct net_task *t);
/* Runs fn(arg) on the loop thread and waits for it (not from the loop thread). */
void net_loop_call(struct net_loop *l, void (*fn)(void *arg), void *arg);
/* Wakes the loop: its sources run again soon (any thread). */
void net_loop_wake(struct net_loop *l);

/* Runs on the loop thread on every turn, before the loop waits; lowers *timeout_ms to be run
 * again in time. */
struct net_source {
    void (*run)(void *arg, int64_t now_ms, int64_t *timeout_ms);
    void *arg;
    struct net_source *next; /* the loop's */
};
/* Loop thread only (use net_loop_call). */
void net_loop_add_source(struct net_loop *l, struct net_source *s);
void net_loop_remove_source(struct net_loop *l, struct net_source *s);

/* --- HTTP calls ------------------------------------------------------------------------------- */

/* Transport failures told apart the way a user acts on them. */
enum net_failure {
    NET_FAIL_NONE,
    NET_FAIL_RESOLVE,       /* the host (or proxy) name does not resolve */
    NET_FAIL_CONNECT,       /* connection refused or unreachable */
    NET_FAIL_TIMEOUT,       /* see connected: before or after the connection */
    NET_FAIL_TLS_VERIFY,    /* the server's certificate was refused (tls_verify, msg) */
    NET_FAIL_TLS_CA_FILE,   /* the CA bundle cannot be read */
    NET_FAIL_TLS_HANDSHAKE, /* e.g. the port does not speak TLS */
    NET_FAIL_NO_ANSWER,     /* the server closed the connection without a reply */
    NET_FAIL_OTHER,
};

struct net_result {
    gw_err err; /* GW_OK (whatever the HTTP status); GW_EUPTIMEOUT; GW_EUPSTREAM (no
                   connection, transfer error); GW_ETOOBIG (a 2xx body above max_body);
                   GW_EFORBIDDEN (egress policy, scheme, redirect refused); GW_EINVAL
                   (malformed URL); GW_ECANCELED (on_data stopped it, the loop stops) */
    long status;
    const char *body; /* the kept body, NUL-terminated (empty with on_data) */
    size_t len;
    bool cut_short;           /* the connection ended before the body was complete */
    enum net_failure failure; /* how a transfer failed, for a message that says what to do */
    bool connected;           /* a connection was made (a timeout came after it) */
    long tls_verify;          /* NET_FAIL_TLS_VERIFY: OpenSSL's verify result (X509_V_ERR_*) */
    char msg[200];            /* why it failed: never the URL's query, a header or a credential */
};

/* Loop thread. Bodies of 2xx answers go to on_data when set (return false to stop the
 * transfer); other bodies are kept, the first max_body bytes. */
typedef bool net_data_fn(void *arg, long status, const char *data, size_t len);
typedef void net_header_fn(void *arg, const char *line, size_t len);
typedef void net_done_fn(void *arg, const struct net_result *res);

/* A request; it and everything it points to stay valid until on_done (or net_call_abort). */
struct net_request {
    const char *url;
    const char *method; /* NULL: GET, or POST with a body */
    const char *body;   /* NULL: none */
    size_t body_len;
    const char *const *headers;          /* "Name: value", NULL-terminated */
    const char *user, *password;         /* HTTP Basic when user is set */
    const char *ca_file;                 /* CA bundle, NULL: the system's */
    unsigned timeout_ms;                 /* whole call; 0: 30 s */
    unsigned connect_timeout_ms;         /* 0: timeout_ms */
    size_t max_body;                     /* kept body; 0: 1 MiB */
    unsigned max_redirects;              /* followed (each hop checked); 0: none */
    bool stall_timeout;                  /* timeout_ms bounds a stall, not the whole call */
    bool path_as_is;                     /* no dot-segment squashing of the path */
    const volatile sig_atomic_t *cancel; /* net_perform: a non-zero value (set from a signal
                                            handler) stops the transfer within a second */
    net_data_fn *on_data;
    net_header_fn *on_header;
    net_done_fn *on_done; /* exactly once per started call */
    void *arg;
};

/* One call in flight. Embed it (no allocation per call); its members are private to net/. */
struct net_call {
    struct net_loop *loop;
    const struct net_request *req;
    void *easy;    /* CURL * */
    void *headers; /* struct curl_slist * */
    struct net_egress *egress;
    const char *url; /* the current hop (req->url or a redirect's, below) */
    char *redirect_url;
    unsigned hops;
    long status;
    bool via_proxy, trusted, allowed, too_big, stopped, refused, as_get;
    char refused_addr[64];
    struct gw_buf body;
    struct net_call *prev, *next; /* the loop's live calls */
};

/* Loop thread: starts the call. GW_EFORBIDDEN / GW_EINVAL (msg) when it cannot start; on_done
 * is then not called. */
gw_err net_call_start(struct net_loop *l, struct net_call *call, const struct net_request *req,
                      char *msg, size_t cap);
/* Any thread: the call starts on the loop thread; a refusal there comes through on_done. */
void net_call_submit(struct net_loop *l, struct net_call *call, const struct net_request *req);
/* Loop thread: stops a started call; on_done is not called. */
void net_call_abort(struct net_call *call);

/* --- blocking form, for worker threads -------------------------------------------------------- */

struct net_response {
    long status;
    char *body; /* malloc'd, NUL-terminated; free with net_response_release */
    size_t len;
    bool cut_short;
    char msg[200];
};

/* Runs req (on_data, on_done and arg are ignored) on the loop and waits for it: GW_OK with
 * the status and body in *out, or the error of struct net_result (msg says why). Never from
 * the loop thread. */
gw_err net_fetch(struct net_loop *l, const struct net_request *req, struct net_response *out);
void net_response_release(struct net_response *r);

/* --- a transfer on the calling thread, without loop or policy --------------------------------- */

/* For a program that is not the gateway (the openclaw CLI talks to the gateway its user names):
 * runs req (on_done ignored) on the calling thread, keeping the body in *body (its max bounds
 * a 2xx body). Nothing is judged by an egress policy and libcurl reads the proxy environment
 * itself; msg carries libcurl's detailed reason. */
gw_err net_perform(const struct net_request *req, struct gw_buf *body, struct net_result *res);
/* Percent-encoding of a URL part and its inverse (malloc'd; NULL when the decoded text would
 * hold a NUL byte; the intermediate copy is wiped). */
char *net_url_escape(const char *s);
char *net_url_unescape(const char *s, size_t len, size_t *out_len);

/* --- streams: TCP or TLS (net_stream.c) ------------------------------------------------------ */

/* A blocking byte stream for a worker thread (syslog to a SIEM), under l's egress policy. */
struct net_stream;
/* url: tcp://host:port or tls://host:port (the TLS certificate is checked against ca_file, NULL:
 * the system's CAs, and the host name). timeout_ms bounds the connection and each write. */
gw_err net_stream_open(struct net_loop *l, const char *url, const char *ca_file,
                       unsigned timeout_ms, struct net_stream **out, char *why, size_t cap);
/* Writes every byte (GW_EUPTIMEOUT when the receiver takes nothing for timeout_ms). */
gw_err net_stream_write(struct net_stream *s, const void *data, size_t len, char *why, size_t cap);
/* false once the receiver closed the stream or it broke (reads and drops what it sent). */
bool net_stream_alive(struct net_stream *s);
void net_stream_close(struct net_stream *s);

/* --- SMTP ------------------------------------------------------------------------------------- */

struct net_mail {
    const char *url;             /* smtp://host:port (STARTTLS when offered) or smtps:// */
    const char *from;            /* envelope sender, a bare address */
    const char *const *to;       /* envelope recipients, bare addresses, NULL-terminated */
    const char *message;         /* the RFC 5322 message, CRLF line ends */
    const char *user, *password; /* AUTH when user is set */
    unsigned timeout_ms;
};

/* Sends one message (blocking, on the calling thread) under l's egress policy. On failure
 * why says so; the password is never part of it. */
gw_err net_smtp_send(struct net_loop *l, const struct net_mail *m, char *why, size_t cap);

#endif
