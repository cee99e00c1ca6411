/* SPDX-License-Identifier: MIT
 * net_int.h — private to src/net: what the loop, the HTTP calls, the policy and SMTP share.
 *
 * net_loop.c    the "net-io" thread: epoll, eventfd, libcurl multi, tasks, sources
 * net_http.c    HTTP calls on the loop: options, callbacks, limits, redirects; net_fetch
 * net_egress.c  the egress policy: address classes, allowed and trusted hosts, proxies
 * net_url.c     the host of a URL, percent-encoding
 * net_smtp.c    one e-mail over SMTP
 * net_stream.c  a TCP or TLS byte stream (syslog)
 */
#ifndef GW_NET_INT_H
#define GW_NET_INT_H

#include "base/prelude.h"
#include "net/net.h"

#include <curl/curl.h>

#define NET_DEFAULT_TIMEOUT_MS 30000u
#define NET_DEFAULT_MAX_BODY ((size_t)1 << 20)

/* The lowercase host of "scheme://[user@]host[:port]/..." (IPv6 without brackets; net_url.c). */
bool net_url_host(const char *url, char *out, size_t cap);

/* --- net_egress.c ----------------------------------------------------------------------------- */

bool net_egress_host_allowed(const struct net_egress *e, const char *host);
bool net_egress_host_trusted(const struct net_egress *e, const char *host);
/* The verdict on sockaddr for a host whose allowed / trusted status is already known. */
enum net_verdict net_egress_judge(const struct net_egress *e, bool host_allowed, bool host_trusted,
                                  const void *sockaddr);

/* --- net_loop.c ------------------------------------------------------------------------------- */

CURLM *net_loop_multi(struct net_loop *l);
/* A reset easy handle from the loop's spares, or a new one (loop thread). */
CURL *net_loop_easy(struct net_loop *l);
/* Gives an easy handle back (removed from the multi, reset, kept for reuse). */
void net_loop_easy_release(struct net_loop *l, CURL *e);
/* The thread left its loop: calls are refused (loop thread, or after the join). */
bool net_loop_stopped(const struct net_loop *l);
void net_loop_link(struct net_loop *l, struct net_call *c);
void net_loop_unlink(struct net_loop *l, struct net_call *c);

/* --- net_http.c ------------------------------------------------------------------------------- */

/* A transfer of the multi handle ended (loop thread). */
void net_call_finished(struct net_call *c, CURLcode rc);
/* The loop stops: the call ends with GW_ECANCELED. */
void net_call_cancel(struct net_call *c, const char *why);
/* Starts a call handed over by net_call_submit (loop thread); refusals go to on_done. */
void net_call_start_submitted(struct net_loop *l, struct net_call *c);
/* The egress check of a connection about to be opened (CURLOPT_OPENSOCKETFUNCTION). */
curl_socket_t net_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a);

#endif
