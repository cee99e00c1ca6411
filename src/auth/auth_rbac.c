/* SPDX-License-Identifier: MIT
 * auth_rbac.c — built-in roles (seed 000) and custom roles (seed 001 rbac.roles).
 *
 * Built-in permissions are patterns in the same language as token scopes. Visibility of the
 * audit trail by role is decided in the API layer from the role name, so reading and exporting
 * are safe to grant to every role: each sees only its own slice (user: own events). Reading
 * other people's conversations (conversations:read_all) is for administrators only: team
 * leads read their own, like everyone else. Channel,
 * memory and agent permissions reach only granted namespaces (auth_grants.c), so "channels:*"
 * here means "every channel of the namespaces this person is given". Providers and models are
 * the tenant's (models:admin): only enterprise administrators manage them.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "config/config.h"

static const char *const perms_enterprise_admin[] = {"*", NULL};
static const char *const perms_org_admin[] = {"channels:*",       "memory:*",        "tokens:*",
                                              "agents:*",         "audit:*",         "policies:*",
                                              "classification:*", "stats:read",      "sessions:*",
                                              "workspace:*",      "models:invoke",   "models:read",
                                              "namespaces:*",     "conversations:*", NULL};
static const char *const perms_team_lead[] = {"channels:*",
                                              "memory:*",
                                              "tokens:*",
                                              "agents:*",
                                              "audit:read",
                                              "audit:export",
                                              "policies:*",
                                              "stats:read",
                                              "sessions:*",
                                              "workspace:*",
                                              "models:invoke",
                                              "models:read",
                                              "namespaces:read",
                                              "conversations:read",
                                              "conversations:write",
                                              NULL};
static const char *const perms_user[] = {"channels:*",          "memory:*",
                                         "agents:read",         "audit:read",
                                         "audit:export",        "policies:read",
                                         "sessions:own",        "workspace:use:*",
                                         "models:invoke",       "conversations:read",
                                         "conversations:write", NULL};

static size_t count(const char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

const char *const *auth_role_permissions(const struct cfg *c, const char *role, size_t *n)
{
    const char *const *p = NULL;
    if (strcmp(role, "enterprise_admin") == 0)
        p = perms_enterprise_admin;
    else if (strcmp(role, "org_admin") == 0)
        p = perms_org_admin;
    else if (strcmp(role, "team_lead") == 0)
        p = perms_team_lead;
    else if (strcmp(role, "user") == 0)
        p = perms_user;
    else if (c) {
        const struct cfg_role *r = cfg_find_role(c, role);
        if (r)
            p = (const char *const *)r->permissions;
    }
    if (p && n)
        *n = count(p);
    return p;
}
