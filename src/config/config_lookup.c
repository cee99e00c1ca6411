/* SPDX-License-Identifier: MIT
 * config_lookup.c — finding users, roles, agents, namespaces, teams, providers, models and
 * budgets by name.
 *
 * Linear scans: a gateway.yaml holds tens to a few thousand entries, and a snapshot is
 * immutable, so there is no index to keep in step. Built-in roles are not in c->roles
 * (cfg_role_is_builtin tells them apart); cfg_find_role returns custom roles only.
 */
#include "base/prelude.h"
#include "config/config_int.h"

#include <strings.h>

const struct cfg_user *cfg_find_user(const struct cfg *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->n_users; i++)
        if (!strcmp(c->users[i].id, id))
            return &c->users[i];
    return NULL;
}

const struct cfg_role *cfg_find_role(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_roles; i++)
        if (!strcmp(c->roles[i].name, name))
            return &c->roles[i];
    return NULL;
}

const struct cfg_agent *cfg_find_agent(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_agents; i++)
        if (!strcmp(c->agents[i].name, name))
            return &c->agents[i];
    return NULL;
}

const struct cfg_namespace *cfg_find_namespace(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_namespaces; i++)
        if (!strcmp(c->namespaces[i].name, name))
            return &c->namespaces[i];
    return NULL;
}

const struct cfg_team *cfg_find_team(const struct cfg *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->n_teams; i++)
        if (!strcmp(c->teams[i].id, id))
            return &c->teams[i];
    return NULL;
}

const struct cfg_provider *cfg_find_provider(const struct cfg *c, const char *name)
{
    for (size_t i = 0; c && name && i < c->n_providers; i++)
        if (!strcmp(c->providers[i].name, name))
            return &c->providers[i];
    return NULL;
}

/* Split at the first '/': provider names never contain one, model names neither. */
const struct cfg_model *cfg_find_model(const struct cfg *c, const char *id,
                                       const struct cfg_provider **provider)
{
    if (provider)
        *provider = NULL;
    const char *slash = id ? strchr(id, '/') : NULL;
    if (!c || !slash)
        return NULL;
    size_t plen = (size_t)(slash - id);
    for (size_t i = 0; i < c->n_providers; i++) {
        const struct cfg_provider *p = &c->providers[i];
        if (strlen(p->name) != plen || memcmp(p->name, id, plen) != 0)
            continue;
        for (size_t j = 0; j < p->n_models; j++)
            if (!strcmp(p->models[j].name, slash + 1)) {
                if (provider)
                    *provider = p;
                return &p->models[j];
            }
        return NULL;
    }
    return NULL;
}

const struct cfg_budget *cfg_find_budget(const struct cfg *c, const char *workspace)
{
    for (size_t i = 0; c && workspace && i < c->n_budgets; i++)
        if (!strcmp(c->budgets[i].workspace, workspace))
            return &c->budgets[i];
    return NULL;
}

const struct cfg_tenant *cfg_find_tenant(const struct cfg *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->n_tenants; i++)
        if (!strcmp(c->tenants[i].id, id))
            return &c->tenants[i];
    return NULL;
}

const struct cfg_tenant *cfg_tenant_by_host(const struct cfg *c, const char *host)
{
    if (!c || !host || c->n_tenants < 2)
        return NULL;
    size_t n = strcspn(host, ":");
    if (host[0] == '[') /* an IPv6 literal is no tenant's host name */
        return NULL;
    for (size_t i = 1; i < c->n_tenants; i++)
        for (size_t h = 0; h < c->tenants[i].n_hosts; h++)
            if (strlen(c->tenants[i].hosts[h]) == n &&
                !strncasecmp(c->tenants[i].hosts[h], host, n))
                return &c->tenants[i];
    return NULL;
}

const struct cfg_tenant *cfg_tenant_by_path(const struct cfg *c, const char *path,
                                            const char **rest)
{
    for (size_t i = 1; c && path && i < c->n_tenants; i++) {
        const char *pre = c->tenants[i].path_prefix;
        size_t n = pre ? strlen(pre) : 0;
        if (n && !strncmp(path, pre, n) && (path[n] == '/' || path[n] == '\0')) {
            *rest = path[n] == '/' ? path + n : "/";
            return &c->tenants[i];
        }
    }
    return NULL;
}

const struct cfg_tenant *cfg_tenant_by_claim(const struct cfg *c, const char *value)
{
    for (size_t i = 1; c && value && i < c->n_tenants; i++)
        if (c->tenants[i].claim_value && !strcmp(c->tenants[i].claim_value, value))
            return &c->tenants[i];
    return NULL;
}

const struct cfg_sso *cfg_tenant_sso(const struct cfg *c, const struct cfg_tenant *t)
{
    return t && t->sso->enabled ? t->sso : c->tenants[0].sso;
}
