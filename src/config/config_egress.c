/* SPDX-License-Identifier: MIT
 * config_egress.c — the egress section: where the gateway's outbound connections may go
 * (net/net.h applies it), and the list of outbound URLs the configuration names.
 *
 * egress.allow entries are host names (".example.com" for a whole domain), addresses or CIDRs;
 * egress.proxy is a proxy URL ("" for none; absent: the standard proxy environment variables),
 * egress.no_proxy hosts never proxied (absent: no_proxy from the environment). The proxy URL
 * may carry credentials (take them from ${ENV}): it is never quoted in messages.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <arpa/inet.h>

enum { EG_ALLOW_PRIVATE, EG_ALLOW, EG_PROXY, EG_NO_PROXY, EG__N };
const char *const cfg_keys_egress[] = {
    [EG_ALLOW_PRIVATE] = "allow_private", [EG_ALLOW] = "allow", [EG_PROXY] = "proxy",
    [EG_NO_PROXY] = "no_proxy",           [EG__N] = NULL,
};

/* A host name (optionally ".domain"), an IPv4/IPv6 address, or one with a /prefix. */
static bool allow_entry_ok(const char *s)
{
    char buf[64];
    unsigned char addr[16];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n > 0 && n < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        int family = inet_pton(AF_INET, buf, addr) == 1    ? 32
                     : inet_pton(AF_INET6, buf, addr) == 1 ? 128
                                                           : 0;
        if (family) {
            char *end = NULL;
            unsigned long bits = slash ? strtoul(slash + 1, &end, 10) : 0;
            return !slash || (slash[1] && !*end && bits <= (unsigned long)family);
        }
    }
    if (slash || n == 0 || n > 253)
        return false;
    for (const char *p = *s == '.' ? s + 1 : s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return false;
    return s[*s == '.'] != '\0';
}

static bool proxy_ok(const char *s)
{
    static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
    bool scheme = false;
    for (size_t i = 0; i < GW_ARRAY_LEN(schemes); i++)
        scheme = scheme || strncmp(s, schemes[i], strlen(schemes[i])) == 0;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return scheme && strlen(s) <= 2048;
}

void cfg_load_egress(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_egress *g = &L->c->egress;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[EG__N];
    char shown[80];
    if (!cfg_map_slots(e, n, "egress", cfg_keys_egress, v, NULL))
        return;
    cfg_get_bool(e, v[EG_ALLOW_PRIVATE], "egress.allow_private", &g->allow_private);
    if (cfg_get_strlist(e, v[EG_ALLOW], "egress.allow", &g->allow, &g->n_allow))
        for (size_t i = 0; i < g->n_allow; i++)
            if (!allow_entry_ok(g->allow[i]))
                cfg_err(e, v[EG_ALLOW]->vals[i]->line,
                        "egress.allow[%zu] '%s' is neither a host name nor an address or CIDR", i,
                        cfg_shown(g->allow[i], shown, sizeof shown));
    if (cfg_get_str(e, v[EG_PROXY], "egress.proxy", &g->proxy) && g->proxy && *g->proxy &&
        !proxy_ok(g->proxy))
        cfg_err(e, v[EG_PROXY]->line,
                "egress.proxy must be \"\" or an http://, https://, socks5:// or socks5h:// URL");
    cfg_get_strlist(e, v[EG_NO_PROXY], "egress.no_proxy", &g->no_proxy, &g->n_no_proxy);
}

void cfg_egress_free(struct cfg_egress *g)
{
    cfg_free_strv(g->allow);
    free(g->proxy);
    cfg_free_strv(g->no_proxy);
}

size_t cfg_outbound_urls(const struct cfg *c, const char **out, size_t cap)
{
    size_t n = 0;
#define ADD(u)                                                                                     \
    do {                                                                                           \
        if ((u) && n++ < cap)                                                                      \
            out[n - 1] = (u);                                                                      \
    } while (0)
    for (size_t i = 0; i < c->n_providers; i++)
        ADD(c->providers[i].base_url);
    for (size_t i = 0; i < c->n_tenants; i++)
        if (c->tenants[i].sso && c->tenants[i].sso->oidc_enabled)
            ADD(c->tenants[i].sso->issuer);
    if (c->sso.oidc_enabled)
        ADD(c->sso.issuer);
    ADD(c->opa_url);
    ADD(c->alert_webhook);
    ADD(c->smtp_url);
    ADD(c->audit_witness_url);
    for (size_t i = 0; i < c->siem.n_dests; i++)
        ADD(c->siem.dests[i].endpoint);
#undef ADD
    return n;
}
