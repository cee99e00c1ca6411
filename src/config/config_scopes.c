/* SPDX-License-Identifier: MIT
 * config_scopes.c — the catalog of scopes and permissions the gateway checks.
 *
 * Token scopes and role permissions are patterns over this catalog. A pattern that matches no
 * entry can only be a typo ("models:invok", "audit:reed") that would silently grant nothing, so
 * the loader and the API refuse it and list the valid names. The catalog is also what
 * GET /api/v1/scopes shows (the web UI's scope picker).
 */
#include "base/prelude.h"
#include "config/config_int.h"

static const struct cfg_scope_info catalog[] = {
    {"*", "everything in the tenant (enterprise administrators)"},
    {"channels:<namespace>/<agent>",
     "talk to an agent and use its memory (agent may be '*' or end in '*'); capped by the "
     "namespace grants of the token's owner"},
    {"memory:read", "read memory documents of the channels one may use"},
    {"memory:write", "write memory documents of the channels one may use"},
    {"agents:read", "list agents"},
    {"agents:write", "register and delete agents in reachable namespaces"},
    {"namespaces:read", "see namespaces and their members"},
    {"namespaces:write", "grant and withdraw namespace access (within one's own authority)"},
    {"tokens:read", "list one's tokens"},
    {"tokens:write", "create, rotate and revoke tokens (never beyond one's own rights)"},
    {"audit:read", "query and verify the audit trail (each role sees its own slice)"},
    {"audit:export", "export the audit trail"},
    {"audit:admin", "rotate the audit trail's signing key"},
    {"policies:read", "read policies, explain and evaluate decisions"},
    {"policies:write", "create, change and roll back policies at one's own level"},
    {"classification:read", "read data classification overrides"},
    {"classification:write", "set and clear data classification overrides"},
    {"conversations:read", "list, read and export one's own conversations with agents"},
    {"conversations:write", "delete one's own conversations"},
    {"conversations:read_all",
     "read and export other people's conversations within one's reach (the tenant for "
     "enterprise administrators, else one's org unit subtree); every such read is audited"},
    {"models:invoke", "call models through the OpenAI-compatible API"},
    {"models:read", "see the tenant's providers and models and which agent uses which"},
    {"models:admin",
     "add, change, test, disable and remove the tenant's providers and models (API keys are "
     "write-only)"},
    {"stats:read", "read usage and cost reports of reachable workspaces"},
    {"sessions:own", "list and end one's own sessions"},
    {"sessions:read", "list sessions"},
    {"sessions:write", "end sessions"},
    {"workspace:use:<workspace>", "spend model budget in a workspace (a namespace name or glob)"},
    {"admin:reload", "reload the configuration"},
};

const struct cfg_scope_info *cfg_scope_catalog(size_t *n)
{
    *n = GW_ARRAY_LEN(catalog);
    return catalog;
}

/* '*' matches any run of characters; the subject's own '*' is literal. */
static bool glob(const char *p, const char *s)
{
    for (; *p; p++, s++) {
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return true;
            for (; *s; s++)
                if (glob(p, s))
                    return true;
            return false;
        }
        if (*p != *s)
            return false;
    }
    return !*s;
}

bool cfg_scope_known(const char *s)
{
    if (!cfg_scope_valid(s))
        return false;
    if (!strcmp(s, "*") || !strncmp(s, "channels:", 9) || !strncmp(s, "workspace:use:", 14))
        return true; /* families with a parameter, whose syntax cfg_scope_valid checked */
    for (size_t i = 0; i < GW_ARRAY_LEN(catalog); i++)
        if (glob(s, catalog[i].name))
            return true;
    return false;
}

void cfg_scope_names(char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 1; i < GW_ARRAY_LEN(catalog) && len < cap; i++) /* [0] is "*" */
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i > 1 ? ", " : "", catalog[i].name);
}

void cfg_scope_check(struct cfg_errlist *e, int line, const char *what, size_t j, const char *scope,
                     const char *noun)
{
    char shown[80], names[1024];
    if (cfg_scope_known(scope))
        return;
    cfg_shown(scope, shown, sizeof(shown));
    if (!cfg_scope_valid(scope)) {
        cfg_err(e, line,
                "%s[%zu] '%s' is not a valid %s (expected \"*\", "
                "\"channels:<ns>/<glob>\", \"memory:read\", \"memory:write\" or "
                "\"word:word[:...]\" of [a-z0-9_*.-])",
                what, j, shown, noun);
        return;
    }
    cfg_scope_names(names, sizeof(names));
    cfg_err(e, line,
            "%s[%zu] '%s' is not a known %s; valid: %s (with '*' globs, e.g. "
            "memory:*, channels:engineering/*)",
            what, j, shown, noun, names);
}
