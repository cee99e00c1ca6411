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
    return auth_allows(p, req);
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

bool auth_allows_namespace(const struct auth_principal *p, const char *ns)
{
    bool by_scope = false, by_role = p->perms == NULL;
    for (size_t i = 0; i < p->n_scopes && !by_scope; i++)
        by_scope = scope_covers_namespace(p->scopes[i], ns);
    for (size_t i = 0; p->perms && i < p->n_perms && !by_role; i++)
        by_role = scope_covers_namespace(p->perms[i], ns);
    return by_scope && by_role;
}

bool auth_can_delegate(const struct auth_principal *p, const char *scope)
{
    // The subject's '*' is literal: a caller holding "channels:eng/*" may delegate exactly
    // that pattern or narrower ones, never "channels:*" or "*".
    return auth_allows(p, scope);
}
