/* SPDX-License-Identifier: MIT
 * config_syntax.c — what names, scopes and org unit paths may look like.
 *
 * These rules are public (config.h) because the API must apply exactly the same ones to tokens
 * and agents created at run time as the loader applies to gateway.yaml: a scope accepted in one
 * place and refused in the other would be a source of confusing 403s.
 */
#include "base/prelude.h"
#include "config/config_int.h"

#define NAME_MAX_LEN 63
#define SCOPE_MAX_LEN 256
#define SEGMENT_MAX_LEN 64

static bool name_first(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* [a-z0-9][a-z0-9_-]{0,62} over s[0..n) */
static bool name_n(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN || !name_first(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!name_first(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

bool cfg_name_valid(const char *s)
{
    return s && name_n(s, strlen(s));
}

bool cfg_agent_name_valid(const char *s)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    return slash && name_n(s, (size_t)(slash - s)) && cfg_name_valid(slash + 1);
}

bool cfg_org_unit_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > SCOPE_MAX_LEN)
        return false;
    for (const char *p = s;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (!name_n(p, n))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static bool perm_char(char ch)
{
    return name_first(ch) || ch == '_' || ch == '*' || ch == '.' || ch == '-';
}

bool cfg_scope_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > SCOPE_MAX_LEN)
        return false;
    if (!strcmp(s, "*"))
        return true;
    if (!strncmp(s, "channels:", 9)) {
        /* channels:<ns>/<glob>, glob = "*", an agent name, or a name prefix followed by "*";
         * "channels:*" alone is every channel (of the namespaces the owner reaches) */
        const char *ns = s + 9, *slash = strchr(ns, '/');
        if (!strcmp(ns, "*"))
            return true;
        if (!slash || !name_n(ns, (size_t)(slash - ns)))
            return false;
        const char *glob = slash + 1;
        size_t glen = strlen(glob);
        if (!strcmp(glob, "*"))
            return true;
        if (glen > 1 && glob[glen - 1] == '*')
            return name_n(glob, glen - 1);
        return name_n(glob, glen);
    }
    if (!strncmp(s, "memory:", 7))
        return !strcmp(s + 7, "read") || !strcmp(s + 7, "write") || !strcmp(s + 7, "*");
    /* any other permission: at least two ':'-separated segments of [a-z0-9_*.-] */
    size_t segments = 0;
    for (const char *p = s;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n == 0 || n > SEGMENT_MAX_LEN)
            return false;
        for (size_t i = 0; i < n; i++)
            if (!perm_char(p[i]))
                return false;
        segments++;
        if (!colon)
            break;
        p = colon + 1;
    }
    return segments >= 2;
}

static const char *const builtin_roles[] = {"enterprise_admin", "org_admin", "team_lead", "user"};

bool cfg_role_is_builtin(const char *name)
{
    for (size_t i = 0; name && i < GW_ARRAY_LEN(builtin_roles); i++)
        if (!strcmp(name, builtin_roles[i]))
            return true;
    return false;
}
