/* SPDX-License-Identifier: MIT
 * config_keys.c — the catalog of every section's keys, and what an unknown key is told.
 *
 * Each section file defines its key table (cfg_keys_*); the catalog below names them by path so
 * an unknown key can be answered with the nearest key of its own section ("did you mean
 * 'port'?") or, when it is spelled exactly like a key of another section, with that key's path
 * (retain_days under gateway: "did you mean 'audit.retain_days'?"). Seed 001 and seed 003 keys
 * are answered first, by config_seed.c. Comparisons ignore case, '_' and '-', so clientId and
 * client_id are the same word to the suggester (never to the loader, which stays exact).
 */
#include "base/prelude.h"
#include "config/config_int.h"
#include "base/util.h"

#include <ctype.h>
#include <limits.h>

struct section {
    const char *path; /* "" for the top level; "[]" marks list items, "<name>" mapping keys */
    const char *const *keys;
};

static const struct section catalog[] = {
    {"", cfg_keys_top},
    {"gateway", cfg_keys_gateway},
    {"gateway.limits", cfg_keys_limits},
    {"tenant", cfg_keys_tenant},
    {"identity", cfg_keys_identity},
    {"identity.teams[]", cfg_keys_team},
    {"identity.users[]", cfg_keys_user},
    {"auth", cfg_keys_auth},
    {"auth.tokens[]", cfg_keys_token},
    {"rbac", cfg_keys_rbac},
    {"rbac.roles.<name>", cfg_keys_role},
    {"sso", cfg_keys_sso},
    {"sso.oidc", cfg_keys_oidc},
    {"sso.oidc.claims", cfg_keys_claims},
    {"sso.sessions", cfg_keys_sessions},
    {"sso.saml", cfg_keys_saml},
    {"sso.saml.attributeMapping", cfg_keys_saml_attrs},
    {"tenants[]", cfg_keys_tenants},
    {"tenants[].rbac", cfg_keys_tenant_rbac},
    {"audit", cfg_keys_audit},
    {"audit.witness", cfg_keys_witness},
    {"audit.siem", cfg_keys_siem},
    {"audit.siem.destinations[]", cfg_keys_siem},
    {"policy", cfg_keys_policy},
    {"namespaces.<ns>", cfg_keys_namespace},
    {"namespaces.<ns>.members", cfg_keys_members},
    {"agents[]", cfg_keys_agent},
    {"models", cfg_keys_models},
    {"models.providers[]", cfg_keys_provider},
    {"models.providers[].limits", cfg_keys_provider_limits},
    {"models.providers[].models[]", cfg_keys_model},
    {"costManagement", cfg_keys_costs},
    {"costManagement.smtp", cfg_keys_smtp},
    {"costManagement.budgets.<workspace>", cfg_keys_budget},
    {"egress", cfg_keys_egress},
    {"store", cfg_keys_store},
    {"cluster", cfg_keys_cluster},
    {"cluster.redis", cfg_keys_cluster_redis},
};

#define WORD_MAX 64     /* longer keys get no suggestion (and cost nothing) */
#define MAX_ELSEWHERE 3 /* other sections named in one message */

/* Lower case without '_' and '-'; false when s is too long to compare. */
static bool fold(const char *s, char out[WORD_MAX + 1])
{
    size_t o = 0;
    for (; *s; s++) {
        if (*s == '_' || *s == '-')
            continue;
        if (o == WORD_MAX)
            return false;
        out[o++] = (char)tolower((unsigned char)*s);
    }
    out[o] = '\0';
    return true;
}

/* The key of keys closest to word, when close enough to be a likely typo: at most a third of
 * the longer word (rounded up) and shorter than the word itself; else a key that contains the
 * word or is contained in it (4 characters at least: max_body, regions), the nearest in
 * length. The first of ties wins. */
static const char *nearest(const char *word, const char *const *keys)
{
    char w[WORD_MAX + 1], k[WORD_MAX + 1];
    const char *best = NULL, *part = NULL;
    unsigned best_d = UINT_MAX;
    size_t part_diff = SIZE_MAX;
    if (!fold(word, w) || !*w)
        return NULL;
    size_t lw = strlen(w);
    for (size_t i = 0; keys[i]; i++) {
        if (!fold(keys[i], k))
            continue;
        size_t lk = strlen(k), longer = lw > lk ? lw : lk;
        unsigned d = gw_edit_distance(w, k);
        if (d < best_d && d <= (longer + 2) / 3 && d < lw) {
            best = keys[i];
            best_d = d;
        }
        size_t diff = lw > lk ? lw - lk : lk - lw;
        if (diff < part_diff && lw >= 4 && lk >= 4 && (strstr(k, w) || strstr(w, k))) {
            part = keys[i];
            part_diff = diff;
        }
    }
    return best ? best : part;
}

/* Appends to buf the paths of other sections that have word as a key (folded comparison). */
static size_t elsewhere(const char *word, const char *const *own, char *buf, size_t cap)
{
    char w[WORD_MAX + 1], k[WORD_MAX + 1];
    size_t found = 0, o = strlen(buf);
    if (!fold(word, w) || !*w)
        return 0;
    for (size_t s = 0; s < GW_ARRAY_LEN(catalog) && found < MAX_ELSEWHERE; s++) {
        if (catalog[s].keys == own)
            continue;
        for (size_t i = 0; catalog[s].keys[i]; i++) {
            if (!fold(catalog[s].keys[i], k) || strcmp(w, k) != 0)
                continue;
            const char *path = catalog[s].path;
            int n = snprintf(buf + o, cap - o, "%s'%s%s%s'", found ? " or " : "", path,
                             *path ? "." : "", catalog[s].keys[i]);
            if (n < 0 || (size_t)n >= cap - o)
                return found;
            o += (size_t)n;
            found++;
            break;
        }
    }
    return found;
}

void cfg_unknown_key(struct cfg_errlist *e, const char *section, const char *const *keys,
                     const struct cfg_node *key, const struct cfg_node *val)
{
    char list[512] = "", hint[320] = "", shown[80];
    if (cfg_seed_answer(e, section, key, val))
        return;
    size_t o = 0;
    for (size_t j = 0; keys[j] && o < sizeof(list); j++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", j ? ", " : "", keys[j]);
    const char *near = nearest(key->str, keys);
    if (near) {
        snprintf(hint, sizeof(hint), ": did you mean '%s'?", near);
    } else {
        char paths[256] = "";
        if (elsewhere(key->str, keys, paths, sizeof(paths)))
            snprintf(hint, sizeof(hint), ": did you mean %s?", paths);
    }
    cfg_err(e, key->line, "unknown key '%s' in %s%s (valid keys: %s)",
            cfg_shown(key->str, shown, sizeof(shown)), section, hint, list);
}
