/* SPDX-License-Identifier: MIT
 * config_tenants.c — the tenants served by one gateway (seed 000 "Multiple Tenants").
 *
 * tenants[0] is the primary tenant: the top level of the file (tenant, rbac.groupMappings, sso)
 * seen as one tenant, so the runtime has a single shape to work with. Further tenants come from
 * the `tenants` list, each routed by host names, a path prefix or a claim value of the primary
 * IdP, with its own IdP settings (the sso schema) and group mappings; custom roles, models and
 * everything else are the gateway's. Routes must be unambiguous: a host, a prefix or a claim
 * value names one tenant only, and a prefix may not shadow the gateway's own paths.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <ctype.h>
#include <strings.h>

#define MAX_TENANTS 256
#define MAX_HOSTS 32
#define DEFAULT_COOKIE "__Host-openclaw_session"

enum { TE_ID, TE_NAME, TE_HOSTS, TE_PREFIX, TE_CLAIM, TE_SSO, TE_RBAC, TE__N };
const char *const cfg_keys_tenants[] = {[TE_ID] = "id",
                                        [TE_NAME] = "name",
                                        [TE_HOSTS] = "hosts",
                                        [TE_PREFIX] = "path_prefix",
                                        [TE_CLAIM] = "claim_value",
                                        [TE_SSO] = "sso",
                                        [TE_RBAC] = "rbac",
                                        [TE__N] = NULL};

enum { TR_GROUPS, TR__N };
const char *const cfg_keys_tenant_rbac[] = {[TR_GROUPS] = "groupMappings", [TR__N] = NULL};

/* First path segments the gateway answers itself. */
static const char *const reserved_prefixes[] = {"api", "v1", "healthz", "readyz", NULL};

static void tenant_free(struct cfg_tenant *t)
{
    free(t->id);
    free(t->name);
    cfg_free_strv(t->hosts);
    free(t->path_prefix);
    free(t->claim_value);
    if (!t->primary) {
        if (t->sso) {
            cfg_sso_free(t->sso);
            free(t->sso);
        }
        cfg_group_mappings_free(t->group_mappings, t->n_group_mappings);
    }
}

void cfg_tenants_free(struct cfg *c)
{
    for (size_t i = 0; i < c->n_tenants; i++)
        tenant_free(&c->tenants[i]);
    free(c->tenants);
    c->tenants = NULL;
    c->n_tenants = 0;
}

/* A DNS host name: labels of [a-z0-9-], dots between, at most 253 characters (lower-cased). */
static bool host_valid(char *h)
{
    size_t n = strlen(h), label = 0;
    if (n == 0 || n > 253 || h[0] == '.' || h[n - 1] == '.')
        return false;
    for (char *p = h; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if ((isalnum((unsigned char)*p) || *p == '-') && ++label <= 63) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

static bool route_taken(const struct cfg *c, size_t upto, const char *host, const char *prefix,
                        const char *claim)
{
    for (size_t i = 0; i < upto; i++) {
        const struct cfg_tenant *t = &c->tenants[i];
        for (size_t h = 0; host && h < t->n_hosts; h++)
            if (!strcmp(t->hosts[h], host))
                return true;
        if (prefix && t->path_prefix && !strcmp(t->path_prefix, prefix))
            return true;
        if (claim && t->claim_value && !strcmp(t->claim_value, claim))
            return true;
    }
    return false;
}

static void load_hosts(struct cfg_loader *L, const struct cfg_node *n, struct cfg_tenant *t,
                       size_t index, const char *what)
{
    char shown[80];
    if (!cfg_get_strlist(L->errs, n, what, &t->hosts, &t->n_hosts) || !t->hosts)
        return;
    if (t->n_hosts > MAX_HOSTS)
        cfg_err(L->errs, n->line, "%s: at most %d host names", what, MAX_HOSTS);
    for (size_t i = 0; i < t->n_hosts; i++) {
        bool valid = host_valid(t->hosts[i]); /* lower-cases it */
        cfg_shown(t->hosts[i], shown, sizeof(shown));
        if (!valid)
            cfg_err(L->errs, n->line, "%s: '%s' is not a host name", what, shown);
        else if (route_taken(L->c, index, t->hosts[i], NULL, NULL))
            cfg_err(L->errs, n->line, "%s: host '%s' already routes to another tenant", what,
                    shown);
    }
}

static void load_prefix(struct cfg_loader *L, const struct cfg_node *n, struct cfg_tenant *t,
                        size_t index, const char *what)
{
    char shown[80];
    if (!cfg_get_str(L->errs, n, what, &t->path_prefix) || !t->path_prefix)
        return;
    const char *seg = t->path_prefix + 1;
    cfg_shown(t->path_prefix, shown, sizeof(shown));
    bool reserved = false;
    for (size_t i = 0; reserved_prefixes[i]; i++)
        reserved = reserved || !strcmp(seg, reserved_prefixes[i]);
    if (t->path_prefix[0] != '/' || !cfg_name_valid(seg))
        cfg_err(L->errs, n->line, "%s '%s' must be '/' and one segment of [a-z0-9_-]", what, shown);
    else if (reserved)
        cfg_err(L->errs, n->line, "%s '%s' would hide the gateway's own /%s paths", what, shown,
                seg);
    else if (route_taken(L->c, index, NULL, t->path_prefix, NULL))
        cfg_err(L->errs, n->line, "%s '%s' already routes to another tenant", what, shown);
}

static void load_sso(struct cfg_loader *L, const struct cfg_node *n, struct cfg_tenant *t)
{
    t->sso = gw_xcalloc(1, sizeof(*t->sso));
    L->sso = t->sso;
    L->tenant = t->id;
    cfg_load_sso(L, n);
    L->sso = &L->c->sso;
    L->tenant = NULL;
    if (!t->sso->enabled)
        return;
    /* on a shared host name (path prefix) the primary's cookie would be overwritten */
    if (t->sso->cookie_name && !strcmp(t->sso->cookie_name, DEFAULT_COOKIE)) {
        free(t->sso->cookie_name);
        t->sso->cookie_name = gw_xasprintf("%s_%s", DEFAULT_COOKIE, t->id);
    }
}

static void load_one(struct cfg_loader *L, const struct cfg_node *n, size_t index)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    struct cfg_tenant *t = &c->tenants[index];
    char what[96], shown[80];
    const struct cfg_node *v[TE__N];
    snprintf(what, sizeof(what), "tenants[%zu]", index - 1);
    if (!cfg_map_slots(e, n, what, cfg_keys_tenants, v, NULL)) {
        if (cfg_is_null(n))
            cfg_err(e, n ? n->line : 0, "%s must be a mapping", what);
        t->id = gw_xasprintf("#%zu", index); /* later entries look ids up (found by fuzz_config) */
        return;
    }
    if (!cfg_get_str(e, v[TE_ID], "tenants[].id", &t->id) || !t->id) {
        if (!v[TE_ID])
            cfg_err(e, n->line, "%s.id is required", what);
        t->id = gw_xasprintf("#%zu", index); /* keeps checking the rest */
    } else if (!cfg_name_valid(t->id)) {
        cfg_err(e, v[TE_ID]->line, "%s.id '%s' is not valid (1-63 characters of [a-z0-9_-])", what,
                cfg_shown(t->id, shown, sizeof(shown)));
    } else if (cfg_find_tenant(c, t->id) != t) {
        cfg_err(e, v[TE_ID]->line, "%s.id '%s' is already a tenant of this gateway", what, t->id);
    }
    snprintf(what, sizeof(what), "tenants['%s']", cfg_shown(t->id, shown, sizeof(shown)));
    cfg_get_str(e, v[TE_NAME], "tenants[].name", &t->name);

    char sub[128];
    snprintf(sub, sizeof(sub), "%s.hosts", what);
    load_hosts(L, v[TE_HOSTS], t, index, sub);
    snprintf(sub, sizeof(sub), "%s.path_prefix", what);
    load_prefix(L, v[TE_PREFIX], t, index, sub);
    snprintf(sub, sizeof(sub), "%s.claim_value", what);
    if (cfg_get_str(e, v[TE_CLAIM], sub, &t->claim_value) && t->claim_value) {
        if (!cfg_visible(t->claim_value, 128))
            cfg_err(e, v[TE_CLAIM]->line, "%s must be 1-128 visible ASCII characters", sub);
        else if (!c->sso.tenant_claim)
            cfg_err(e, v[TE_CLAIM]->line,
                    "%s needs sso.tenant_claim (the primary IdP's claim "
                    "that names the tenant)",
                    sub);
        else if (route_taken(c, index, NULL, NULL, t->claim_value))
            cfg_err(e, v[TE_CLAIM]->line, "%s '%s' already routes to another tenant", sub,
                    cfg_shown(t->claim_value, shown, sizeof(shown)));
    }
    if (!t->n_hosts && !t->path_prefix && !t->claim_value)
        cfg_err(e, n->line, "%s is unreachable: give it hosts, a path_prefix or a claim_value",
                what);

    load_sso(L, v[TE_SSO], t);
    const struct cfg_node *rb[TR__N];
    snprintf(sub, sizeof(sub), "%s.rbac", what);
    if (cfg_map_slots(e, v[TE_RBAC], sub, cfg_keys_tenant_rbac, rb, NULL)) {
        snprintf(sub, sizeof(sub), "%s.rbac.groupMappings", what);
        cfg_load_group_mappings(L, rb[TR_GROUPS], sub, &t->group_mappings, &t->n_group_mappings);
    }
}

void cfg_tenant_primary_init(struct cfg *c, size_t extra)
{
    c->tenants = gw_xcalloc(1 + extra, sizeof(*c->tenants));
    struct cfg_tenant *p = &c->tenants[0];
    p->primary = true;
    p->id = gw_xstrdup(c->tenant_id);
    p->name = c->tenant_name ? gw_xstrdup(c->tenant_name) : NULL;
    p->sso = &c->sso;
    p->group_mappings = c->group_mappings;
    p->n_group_mappings = c->n_group_mappings;
    c->n_tenants = 1;
}

void cfg_load_tenants(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    size_t extra = 0;
    if (cfg_want_seq(L->errs, n, "tenants")) {
        extra = n->n;
        if (extra > MAX_TENANTS - 1) {
            cfg_err(L->errs, n->line, "tenants: at most %d tenants", MAX_TENANTS - 1);
            extra = MAX_TENANTS - 1;
        }
    }
    cfg_tenant_primary_init(c, extra);
    for (size_t i = 0; i < extra; i++) {
        c->n_tenants++;
        load_one(L, n->vals[i], 1 + i);
    }
}
