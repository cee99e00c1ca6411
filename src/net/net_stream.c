/* SPDX-License-Identifier: MIT
 * net_stream.c — an outbound byte stream over TCP or TLS (syslog to a SIEM), blocking, on the
 * calling worker thread.
 *
 * libcurl opens it (CURLOPT_CONNECT_ONLY: the TCP connection, and for tls:// the TLS handshake
 * with certificate and host name checks against ca_file or the system's CAs), so the stream
 * gets the same egress policy as every HTTP call (net_open_socket) and no second TLS client
 * lives in the tree. Bytes then go through curl_easy_send / curl_easy_recv. Never proxied:
 * syslog is not HTTP.
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/mem.h"
#include "base/util.h"

#include <poll.h>
#include <strings.h>

struct net_stream {
    CURL *h;
    struct net_call c; /* the egress check's state (net_open_socket) */
    unsigned timeout_ms;
    char err[CURL_ERROR_SIZE];
};

void net_stream_close(struct net_stream *s)
{
    if (!s)
        return;
    if (s->h)
        curl_easy_cleanup(s->h);
    net_egress_unref(s->c.egress);
    free(s);
}

static void reason(const struct net_stream *s, CURLcode e, char *why, size_t cap)
{
    if (s->c.refused)
        snprintf(why, cap, "the egress policy refuses %s", s->c.refused_addr);
    else
        snprintf(why, cap, "%s", s->err[0] ? s->err : curl_easy_strerror(e));
}

gw_err net_stream_open(struct net_loop *l, const char *url, const char *ca_file,
                       unsigned timeout_ms, struct net_stream **out, char *why, size_t cap)
{
    *out = NULL;
    bool tls = !strncasecmp(url, "tls://", 6);
    if (!tls && strncasecmp(url, "tcp://", 6) != 0) {
        snprintf(why, cap, "only tcp:// and tls:// streams are allowed");
        return GW_EFORBIDDEN;
    }
    char host[256];
    if (!net_url_host(url, host, sizeof host)) {
        snprintf(why, cap, "malformed URL");
        return GW_EINVAL;
    }
    struct net_stream *s = gw_xcalloc(1, sizeof *s);
    s->c.loop = l;
    s->c.egress = net_loop_egress(l);
    s->c.allowed = net_egress_host_allowed(s->c.egress, host);
    s->c.trusted = net_egress_host_trusted(s->c.egress, host);
    s->timeout_ms = timeout_ms ? timeout_ms : NET_DEFAULT_TIMEOUT_MS;
    s->h = curl_easy_init();
    if (!s->h) {
        snprintf(why, cap, "cannot create a libcurl handle");
        net_stream_close(s);
        return GW_EINTERNAL;
    }
    /* the scheme libcurl knows for the same connection: http:// is a bare TCP connection
     * with CONNECT_ONLY, https:// adds the TLS handshake */
    char *curl_url = gw_xasprintf("%s://%s", tls ? "https" : "http", url + 6);
    CURL *h = s->h;
    curl_easy_setopt(h, CURLOPT_URL, curl_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_SSL_ENABLE_ALPN, 0L);
    if (ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->err);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, net_open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &s->c);
    CURLcode e = curl_easy_perform(h);
    free(curl_url);
    if (e != CURLE_OK) {
        reason(s, e, why, cap);
        gw_err rc = s->c.refused                    ? GW_EFORBIDDEN
                    : e == CURLE_OPERATION_TIMEDOUT ? GW_EUPTIMEOUT
                                                    : GW_EUPSTREAM;
        net_stream_close(s);
        return rc;
    }
    *out = s;
    return GW_OK;
}

/* Waits until the socket is ready for events, up to the deadline: false on timeout. */
static bool wait_socket(struct net_stream *s, short events, int64_t deadline_ms)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(s->h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
        return false;
    int64_t left = deadline_ms - (gw_mono_ns() / 1000000);
    if (left <= 0)
        return false;
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, (int)left) > 0;
}

gw_err net_stream_write(struct net_stream *s, const void *data, size_t len, char *why, size_t cap)
{
    int64_t deadline = (gw_mono_ns() / 1000000) + s->timeout_ms;
    const char *p = data;
    while (len > 0) {
        size_t sent = 0;
        s->err[0] = '\0';
        CURLcode e = curl_easy_send(s->h, p, len, &sent);
        if (e == CURLE_AGAIN) {
            if (!wait_socket(s, POLLOUT, deadline)) {
                snprintf(why, cap, "the receiver took nothing for %u ms", s->timeout_ms);
                return GW_EUPTIMEOUT;
            }
            continue;
        }
        if (e != CURLE_OK) {
            reason(s, e, why, cap);
            return GW_EUPSTREAM;
        }
        p += sent;
        len -= sent;
    }
    return GW_OK;
}

bool net_stream_alive(struct net_stream *s)
{
    char buf[512];
    for (int i = 0; i < 64; i++) { /* a receiver that talks back: read what it said */
        size_t n = 0;
        CURLcode e = curl_easy_recv(s->h, buf, sizeof buf, &n);
        if (e == CURLE_AGAIN)
            return true;
        if (e != CURLE_OK || n == 0)
            return false; /* closed by the peer, or broken */
    }
    return true;
}
