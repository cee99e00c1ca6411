/* SPDX-License-Identifier: MIT
 * http_forwarded.c — the real client behind trusted reverse proxies (gateway.trusted_proxies).
 *
 * Only a connection from a trusted proxy may speak for someone else. Its Forwarded (RFC 7239)
 * or, failing that, X-Forwarded-For list is walked from the right, the end the proxies append
 * to: every hop that is itself a trusted proxy is skipped, and the first one that is not is the
 * client. Anything to its left was written by the client and is ignored, so a client cannot
 * choose its own address by sending the header. A hop that does not parse ends the walk at the
 * last trusted one, which is then taken as the client. The scheme comes from the right-most
 * proto (Forwarded) or X-Forwarded-Proto value, the one our own proxy set.
 */
#include "base/prelude.h"
#include "http/http.h"
#include "base/cidr.h"

#include <ctype.h>
#include <strings.h>

#define MAX_HOPS 32

/* Trims spaces and one pair of quotes in place; returns the start. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* An address as a hop may carry it: "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711",
 * "2001:db8::1". Writes the bare address; false when it is none ("unknown", "_hidden"). */
static bool hop_address(char *hop, char *out, size_t cap)
{
    char *h = hop;
    if (*h == '[') {
        char *close = strchr(h, ']');
        if (!close)
            return false;
        *close = '\0';
        h++;
    } else if (strchr(h, '.') && strchr(h, ':')) {
        *strchr(h, ':') = '\0'; /* IPv4 with a port */
    }
    struct gw_cidr a;
    if (!gw_ip_parse(h, &a) || strlen(h) >= cap)
        return false;
    snprintf(out, cap, "%s", h);
    return true;
}

/* Appends v to out[0..*n), keeping the right-most max values: the proxies append on the right,
 * so a long list must lose what the client wrote on the left, never our proxy's own hop
 * (keeping the left-most let a client that sent MAX_HOPS addresses choose its own; found by
 * fuzz_forwarded). */
static void keep_right(char **out, size_t *n, size_t max, char *v)
{
    if (*n == max) {
        memmove(out, out + 1, (max - 1) * sizeof(*out));
        (*n)--;
    }
    out[(*n)++] = v;
}

/* The "for" (or, with key "proto", the proto) value of each element of a Forwarded value, in
 * order: the right-most max of them. Returns the count. */
static size_t forwarded_values(char *value, const char *key, char **out, size_t max)
{
    size_t n = 0;
    size_t klen = strlen(key);
    for (char *elem = value; elem;) {
        char *next = strchr(elem, ',');
        if (next)
            *next++ = '\0';
        char *found = NULL;
        for (char *pair = elem; pair;) {
            char *semi = strchr(pair, ';');
            if (semi)
                *semi++ = '\0';
            char *p = trim(pair);
            if (strncasecmp(p, key, klen) == 0 && p[klen] == '=')
                found = trim(p + klen + 1);
            pair = semi;
        }
        keep_right(out, &n, max, found ? found : (char *)"");
        elem = next;
    }
    return n;
}

static size_t list_values(char *value, char **out, size_t max)
{
    size_t n = 0;
    for (char *item = value; item;) {
        char *next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        keep_right(out, &n, max, trim(item));
        item = next;
    }
    return n;
}

void http_forwarded_client(const char *forwarded, const char *xff, const char *xfproto,
                           const struct gw_cidr *trusted, size_t n_trusted, char *client,
                           size_t cap, bool *https)
{
    char buf[2048], addr[64];
    char *hops[MAX_HOPS];
    size_t n = 0;
    const char *src = forwarded ? forwarded : xff;
    if (src && strlen(src) < sizeof(buf)) {
        snprintf(buf, sizeof(buf), "%s", src);
        n = forwarded ? forwarded_values(buf, "for", hops, MAX_HOPS)
                      : list_values(buf, hops, MAX_HOPS);
    }
    /* client holds the TCP peer (a trusted proxy) on entry */
    for (size_t i = n; i-- > 0;) {
        if (!hop_address(hops[i], addr, sizeof(addr)))
            break;
        snprintf(client, cap, "%s", addr);
        if (!gw_cidr_list_contains(trusted, n_trusted, addr))
            break;
    }
    char pbuf[256];
    const char *proto = NULL;
    if (forwarded && strlen(forwarded) < sizeof(buf)) {
        char *protos[MAX_HOPS];
        snprintf(buf, sizeof(buf), "%s", forwarded);
        size_t np = forwarded_values(buf, "proto", protos, MAX_HOPS);
        for (size_t i = np; i-- > 0 && !proto;)
            if (*protos[i])
                proto = protos[i];
    } else if (xfproto && strlen(xfproto) < sizeof(pbuf)) {
        char *vals[MAX_HOPS];
        snprintf(pbuf, sizeof(pbuf), "%s", xfproto);
        size_t nv = list_values(pbuf, vals, MAX_HOPS);
        proto = nv ? vals[nv - 1] : NULL;
    }
    if (proto)
        *https = strcasecmp(proto, "https") == 0;
}
