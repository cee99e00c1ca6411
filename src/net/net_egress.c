/* SPDX-License-Identifier: MIT
 * net_egress.c — the egress policy: which destinations outbound connections may reach, and
 * through which proxy.
 *
 * An address falls in one of three classes: public; private (RFC 1918, loopback, CGNAT,
 * unspecified, multicast, reserved, unique local and site-local IPv6); link-local (169.254/16,
 * fe80::/10: the cloud metadata services live there). IPv4-mapped and NAT64 IPv6 addresses
 * are judged by the IPv4 address inside. Host names compare case-insensitively; an entry
 * ".example.com" covers every name below example.com. The proxy comes from the rules or, as
 * libcurl would take it, from the environment (https_proxy / HTTPS_PROXY, http_proxy,
 * all_proxy / ALL_PROXY, no_proxy / NO_PROXY), read once when the policy is built.
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>

struct cidr {
    int family;
    unsigned char addr[16];
    unsigned bits;
};

struct net_egress {
    atomic_int refs;
    bool allow_private;
    char **allow_hosts; /* lowercase names and ".domain" suffixes */
    size_t n_allow_hosts;
    struct cidr *allow_nets;
    size_t n_allow_nets;
    char **trusted; /* lowercase hosts of the configured URLs */
    size_t n_trusted;
    char *https_proxy, *http_proxy;
    char **no_proxy;
    size_t n_no_proxy;
    bool no_proxy_all;
};

/* --- hosts ------------------------------------------------------------------------------------ */

/* host equals an entry, or lies below a ".domain" entry (or below "domain" when suffix_any). */
static bool host_listed(char *const *list, size_t n, const char *host, bool suffix_any)
{
    size_t hl = strlen(host);
    for (size_t i = 0; i < n; i++) {
        const char *e = list[i];
        size_t el = strlen(e);
        if (strcasecmp(e, host) == 0)
            return true;
        if (*e == '.' && hl > el && strcasecmp(host + hl - el, e) == 0)
            return true;
        if (suffix_any && *e != '.' && hl > el && host[hl - el - 1] == '.' &&
            strcasecmp(host + hl - el, e) == 0)
            return true;
    }
    return false;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (const char *p = *s == '.' ? s + 1 : s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return false;
    return s[*s == '.'] != '\0';
}

static char *lower_dup(const char *s)
{
    char *d = gw_xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return d;
}

/* --- addresses -------------------------------------------------------------------------------- */

static bool cidr_parse(const char *s, struct cidr *out)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end = NULL;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || b > max)
            return false;
        out->bits = (unsigned)b;
    }
    return true;
}

static bool prefix_match(const unsigned char *a, const unsigned char *net, unsigned bits)
{
    unsigned full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ net[full]) & (unsigned char)(0xff << (8 - rest))) == 0;
}

/* The address of sa as (family, bytes), IPv4-mapped and NAT64 addresses as IPv4. */
static int addr_of(const void *sa, unsigned char out[16])
{
    const struct sockaddr *s = sa;
    if (s->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (s->sa_family != AF_INET6)
        return 0;
    const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0) {
        memcpy(out, a + 12, 4);
        return AF_INET;
    }
    memcpy(out, a, 16);
    return AF_INET6;
}

enum addr_class { ADDR_PUBLIC, ADDR_PRIVATE, ADDR_LINK_LOCAL };

static enum addr_class classify(int family, const unsigned char *a)
{
    if (family == AF_INET) {
        uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
        static const struct {
            uint32_t net, mask;
        } priv[] = {
            {0x00000000, 0xff000000}, /* 0/8 */ {0x0a000000, 0xff000000},        /* 10/8 */
            {0x64400000, 0xffc00000}, /* 100.64/10 */ {0x7f000000, 0xff000000},  /* 127/8 */
            {0xac100000, 0xfff00000}, /* 172.16/12 */ {0xc0000000, 0xffffff00},  /* 192.0.0/24 */
            {0xc0a80000, 0xffff0000}, /* 192.168/16 */ {0xc6120000, 0xfffe0000}, /* 198.18/15 */
            {0xe0000000, 0xe0000000}, /* 224/3: multicast, reserved, broadcast */
        };
        if ((v & 0xffff0000) == 0xa9fe0000) /* 169.254/16 */
            return ADDR_LINK_LOCAL;
        for (size_t i = 0; i < GW_ARRAY_LEN(priv); i++)
            if ((v & priv[i].mask) == priv[i].net)
                return ADDR_PRIVATE;
        return ADDR_PUBLIC;
    }
    if (family != AF_INET6)
        return ADDR_PRIVATE;                   /* not an Internet address at all */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 */
        return ADDR_LINK_LOCAL;
    static const unsigned char zero[15] = {0};
    if (memcmp(a, zero, 15) == 0 && a[15] <= 1) /* ::, ::1 */
        return ADDR_PRIVATE;
    if ((a[0] & 0xfe) == 0xfc || a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
        return ADDR_PRIVATE; /* fc00::/7, ff00::/8, fec0::/10 */
    return ADDR_PUBLIC;
}

enum net_verdict net_egress_judge(const struct net_egress *e, bool host_allowed, bool host_trusted,
                                  const void *sockaddr)
{
    if (host_allowed)
        return NET_ALLOW;
    unsigned char a[16];
    int family = addr_of(sockaddr, a);
    for (size_t i = 0; i < e->n_allow_nets; i++)
        if (e->allow_nets[i].family == family &&
            prefix_match(a, e->allow_nets[i].addr, e->allow_nets[i].bits))
            return NET_ALLOW;
    switch (classify(family, a)) {
    case ADDR_LINK_LOCAL:
        return NET_REFUSE_LINK_LOCAL;
    case ADDR_PRIVATE:
        return e->allow_private || host_trusted ? NET_ALLOW : NET_REFUSE_PRIVATE;
    default:
        return NET_ALLOW;
    }
}

bool net_egress_host_allowed(const struct net_egress *e, const char *host)
{
    return host_listed(e->allow_hosts, e->n_allow_hosts, host, false);
}

bool net_egress_host_trusted(const struct net_egress *e, const char *host)
{
    return host_listed(e->trusted, e->n_trusted, host, false);
}

enum net_verdict net_egress_check(const struct net_egress *e, const char *host,
                                  const void *sockaddr)
{
    return net_egress_judge(e, host && net_egress_host_allowed(e, host),
                            host && net_egress_host_trusted(e, host), sockaddr);
}

/* --- proxy ------------------------------------------------------------------------------------ */

static const char *env_first(const char *a, const char *b)
{
    const char *v = getenv(a);
    if ((!v || !*v) && b)
        v = getenv(b);
    return v && *v ? v : NULL;
}

static void no_proxy_add(struct net_egress *e, const char *list)
{
    char *copy = gw_xstrdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(t, "*") == 0) {
            e->no_proxy_all = true;
            continue;
        }
        e->no_proxy = gw_xrealloc(e->no_proxy, (e->n_no_proxy + 1) * sizeof *e->no_proxy);
        e->no_proxy[e->n_no_proxy++] = lower_dup(t);
    }
    free(copy);
}

const char *net_egress_proxy_for(const struct net_egress *e, const char *url)
{
    const char *proxy = strncasecmp(url, "https:", 6) == 0 ? e->https_proxy : e->http_proxy;
    char host[256];
    if (!proxy || e->no_proxy_all)
        return "";
    if (net_url_host(url, host, sizeof host) && host_listed(e->no_proxy, e->n_no_proxy, host, true))
        return "";
    return proxy;
}

/* --- lifecycle -------------------------------------------------------------------------------- */

static gw_err add_allow(struct net_egress *e, const char *entry, char *msg, size_t cap)
{
    struct cidr c;
    if (cidr_parse(entry, &c)) {
        e->allow_nets = gw_xrealloc(e->allow_nets, (e->n_allow_nets + 1) * sizeof c);
        e->allow_nets[e->n_allow_nets++] = c;
        return GW_OK;
    }
    if (!name_ok(entry)) {
        snprintf(msg, cap, "'%.80s' is neither a host name nor an address or CIDR", entry);
        return GW_EINVAL;
    }
    e->allow_hosts = gw_xrealloc(e->allow_hosts, (e->n_allow_hosts + 1) * sizeof(char *));
    e->allow_hosts[e->n_allow_hosts++] = lower_dup(entry);
    return GW_OK;
}

gw_err net_egress_new(const struct net_egress_rules *r, struct net_egress **out, char *msg,
                      size_t cap)
{
    *out = NULL;
    struct net_egress *e = gw_xcalloc(1, sizeof *e);
    atomic_init(&e->refs, 1);
    e->allow_private = r && r->allow_private;
    for (size_t i = 0; r && r->allow && r->allow[i]; i++) {
        if (add_allow(e, r->allow[i], msg, cap) != GW_OK) {
            net_egress_unref(e);
            return GW_EINVAL;
        }
    }
    char host[256];
    for (size_t i = 0; r && r->trusted_urls && r->trusted_urls[i]; i++) {
        if (!net_url_host(r->trusted_urls[i], host, sizeof host))
            continue;
        e->trusted = gw_xrealloc(e->trusted, (e->n_trusted + 1) * sizeof *e->trusted);
        e->trusted[e->n_trusted++] = gw_xstrdup(host);
    }
    if (r && r->proxy && *r->proxy) {
        e->https_proxy = gw_xstrdup(r->proxy);
        e->http_proxy = gw_xstrdup(r->proxy);
    } else if (!r || !r->proxy) {
        const char *all = env_first("all_proxy", "ALL_PROXY");
        const char *hs = env_first("https_proxy", "HTTPS_PROXY");
        const char *h = env_first("http_proxy", NULL); /* not HTTP_PROXY: CGI sets it */
        e->https_proxy = hs ? gw_xstrdup(hs) : all ? gw_xstrdup(all) : NULL;
        e->http_proxy = h ? gw_xstrdup(h) : all ? gw_xstrdup(all) : NULL;
    }
    if (r && r->no_proxy) {
        for (size_t i = 0; r->no_proxy[i]; i++)
            no_proxy_add(e, r->no_proxy[i]);
    } else {
        const char *np = env_first("no_proxy", "NO_PROXY");
        if (np)
            no_proxy_add(e, np);
    }
    *out = e;
    return GW_OK;
}

struct net_egress *net_egress_ref(struct net_egress *e)
{
    if (e)
        atomic_fetch_add(&e->refs, 1);
    return e;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void net_egress_unref(struct net_egress *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    strv_free(e->allow_hosts, e->n_allow_hosts);
    strv_free(e->trusted, e->n_trusted);
    strv_free(e->no_proxy, e->n_no_proxy);
    free(e->allow_nets);
    free(e->https_proxy);
    free(e->http_proxy);
    free(e);
}
