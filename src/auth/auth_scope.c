/* SPDX-License-Identifier: MIT
 * auth_scope.c — scope grammar and matching.
 *
 * Scopes and role permissions are patterns over strings like "channels:engineering/reviewer",
 * "memory:write" or "workspace:use:dev-3". Channel scopes are matched per path segment so that
 * "channels:eng*" never reaches "channels:eng-evil/x" through a '/'. Names are validated before
 * any matching, so traversal tricks never reach this code as valid names.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"

#define CHANNELS "channels:"
#define CHANNELS_LEN (sizeof(CHANNELS) - 1)

/* Glob with '*' = any run of characters; `seg` stops '*' at '/'. The subject's own '*' chars are
 * literal, which makes this usable for "does pattern P cover pattern S" too. */
static bool glob(const char *p, const char *s, bool seg)
{
    while (*p) {
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return !seg || !strchr(s, '/');
            for (; *s; s++) {
                if (glob(p, s, seg))
                    return true;
                if (seg && *s == '/')
                    return false;
            }
            return false;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return *s == '\0';
}

bool auth_pattern_grants(const char *pattern, const char *required)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    bool channel = strncmp(pattern, CHANNELS, CHANNELS_LEN) == 0 &&
                   strchr(pattern + CHANNELS_LEN, '/') != NULL;
    return glob(pattern, required, channel);
}

static bool any_grants(const char *const *patterns, size_t n, const char *required)
{
    for (size_t i = 0; i < n; i++)
        if (auth_pattern_grants(patterns[i], required))
            return true;
    return false;
}

bool auth_allows(const struct auth_principal *p, const char *required)
{
    if (!any_grants(p->scopes, p->n_scopes, required))
        return false;
    return !p->perms || any_grants(p->perms, p->n_perms, required);
}

bool auth_allows_channel(const struct auth_principal *p, const char *ns, const char *agent)
{
    char req[160];
    snprintf(req, sizeof(req), CHANNELS "%s/%s", ns, agent);
    return auth_allows(p, req) && auth_reaches(p, ns);
}

/* A channel scope covers some agent of ns when its namespace part matches ns. */
static bool scope_covers_namespace(const char *scope, const char *ns)
{
    if (strcmp(scope, "*") == 0)
        return true;
    if (strncmp(scope, CHANNELS, CHANNELS_LEN) != 0)
        return false;
    const char *body = scope + CHANNELS_LEN;
    const char *slash = strchr(body, '/');
    if (!slash) /* "channels:*" style role permission: everything */
        return glob(body, ns, false);
    char nspat[80];
    size_t n = (size_t)(slash - body);
    if (n >= sizeof(nspat))
        return false;
    memcpy(nspat, body, n);
    nspat[n] = '\0';
    return glob(nspat, ns, true);
}

/* Scopes and role permissions alone (no grants) cover some channel of ns. */
static bool scopes_cover_namespace(const struct auth_principal *p, const char *ns)
{
    bool by_scope = false, by_role = p->perms == NULL;
    for (size_t i = 0; i < p->n_scopes && !by_scope; i++)
        by_scope = scope_covers_namespace(p->scopes[i], ns);
    for (size_t i = 0; p->perms && i < p->n_perms && !by_role; i++)
        by_role = scope_covers_namespace(p->perms[i], ns);
    return by_scope && by_role;
}

bool auth_allows_namespace(const struct auth_principal *p, const char *ns)
{
    return scopes_cover_namespace(p, ns) && auth_reaches(p, ns);
}

void auth_deny_reason(const struct auth_principal *p, const char *ns, const char *agent, char *out,
                      size_t cap)
{
    char req[160];
    snprintf(req, sizeof(req), CHANNELS "%s/%s", ns, agent ? agent : "*");
    bool scoped = agent ? auth_allows(p, req) : scopes_cover_namespace(p, ns);
    if (!scoped)
        snprintf(out, cap, "missing scope %s%s", req,
                 agent ? "" : " (any channel of the namespace)");
    else
        auth_reach_explain(p, ns, out, cap);
}

/* The namespace part of a channel scope when it names one namespace literally, else NULL. */
static const char *literal_namespace(const char *scope, char *buf, size_t cap)
{
    if (strncmp(scope, CHANNELS, CHANNELS_LEN) != 0)
        return NULL;
    const char *body = scope + CHANNELS_LEN, *slash = strchr(body, '/');
    size_t n = slash ? (size_t)(slash - body) : 0;
    if (!slash || n >= cap || memchr(body, '*', n))
        return NULL;
    memcpy(buf, body, n);
    buf[n] = '\0';
    return buf;
}

bool auth_can_delegate(const struct auth_principal *p, const char *scope)
{
    // The subject's '*' is literal: a caller holding "channels:eng/*" may delegate exactly
    // that pattern or narrower ones, never "channels:*" or "*". A channel scope naming one
    // namespace also needs the caller's reach there; a glob stays capped by the new token's
    // owner's grants whenever it is used.
    char ns[80];
    const char *lit = literal_namespace(scope, ns, sizeof(ns));
    return auth_allows(p, scope) && (!lit || auth_reaches(p, lit));
}

/* A scope s of the principal intersected with its role permissions: s itself when a
 * permission covers it, else each permission that s covers (narrower). */
static size_t push_unique(const char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return n;
    v[n] = s;
    return n + 1;
}

const char **auth_effective_scopes(const struct auth_principal *p, struct gw_pool *pool,
                                   size_t *count)
{
    size_t cap = p->n_scopes + p->n_scopes * p->n_perms + 1, n = 0;
    const char **v = gw_pool_calloc(pool, cap * sizeof(*v));
    for (size_t i = 0; i < p->n_scopes; i++) {
        if (!p->perms || any_grants(p->perms, p->n_perms, p->scopes[i])) {
            n = push_unique(v, n, p->scopes[i]);
            continue;
        }
        for (size_t k = 0; k < p->n_perms; k++)
            if (auth_pattern_grants(p->scopes[i], p->perms[k]))
                n = push_unique(v, n, p->perms[k]);
    }
    *count = n;
    return v;
}
