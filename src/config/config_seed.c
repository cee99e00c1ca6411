/* SPDX-License-Identifier: MIT
 * config_seed.c — the seeds' key names: accepted as aliases of the house keys, or answered.
 *
 * Operators arrive with seed 001's configuration blocks (JSON, converted to YAML) and seed 003's
 * gateway.yaml. Every seed key that is not already a house key has one row below: an alias in
 * its section (sso.oidc.clientId is client_id), a move to its house place before the sections
 * are read (auth.oidc is sso.oidc), the exact replacement ("use sso.saml.idp_metadata"), or
 * "not available in this build" with the issue area that brings it. When an area lands, its
 * rows flip from LATER to MOVE or ALIAS (the house key is already named) and nothing else
 * changes. docs/CONFIG.md ("Aliases and seed keys") lists the same rows.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum seed_kind {
    ALIAS,   /* another name for `to`, a key of the same section */
    MOVE,    /* read at the house path `to` (moved there before the sections are loaded) */
    USE,     /* refused: write `to` instead */
    LATER,   /* refused: not in this build; `area` brings it (as `to`, when named) */
    SECTION, /* a seed-only section: each of its keys is answered by its own row */
};

struct seed_rule {
    const char *section; /* as cfg_map_slots names it; "*" as key matches any key */
    const char *key;
    enum seed_kind kind;
    const char *to;
    const char *area; /* LATER only */
    const char *note; /* why, or what to do meanwhile; may be NULL */
};

#define TOP "the top level"
#define CLUSTER "cluster mode (issue 15)"
#define SINGLE_NODE                                                                                \
    "this build shares only the store between nodes (store.backend: postgresql); each node "       \
    "keeps its own caches, throttling and counters"

static const struct seed_rule rules[] = {
    /* seed 001 "Single Sign-On": auth.provider + auth.oidc / auth.saml is the house sso */
    {"auth", "provider", MOVE, "sso.default_protocol", NULL, NULL},
    {"auth", "oidc", MOVE, "sso.oidc", NULL, NULL},
    {"auth", "saml", MOVE, "sso.saml", NULL, NULL},
    {"sso.oidc", "clientId", ALIAS, "client_id", NULL, NULL},
    {"sso.oidc", "clientSecret", ALIAS, "client_secret", NULL, NULL},
    {"sso.oidc", "redirectUri", ALIAS, "redirect_uri", NULL, NULL},
    {"sso.saml", "issuer", ALIAS, "sp_entity_id", NULL, NULL},
    {"sso.saml", "callbackUrl", ALIAS, "acs_url", NULL, NULL},
    {"sso.saml", "entryPoint", USE, "sso.saml.idp_metadata", NULL,
     "the IdP's metadata file names its sign-in URL"},
    {"sso.saml", "cert", USE, "sso.saml.idp_metadata", NULL,
     "the IdP's signing certificates are read from its metadata file"},
    /* seed 001 "Compliance and Audit Logging" */
    {"audit", "retentionDays", ALIAS, "retain_days", NULL, NULL},
    {"audit", "logLevel", ALIAS, "log_level", NULL, NULL},
    {"audit", "backend", MOVE, "store.backend", NULL, NULL},
    {"audit", "connectionString", MOVE, "store.url", NULL, NULL},
    /* seed 001 "High Availability"; cluster is issue 15's own key */
    {TOP, "cluster", LATER, "cluster", CLUSTER, SINGLE_NODE},
    {TOP, "sessionStore", LATER, "cluster.redis", CLUSTER,
     "sessions are kept in the gateway's store"},
    {TOP, "workspaceStore", LATER, "cluster.redis", CLUSTER,
     "namespaces and memory documents are kept in the data directory"},
    {"cluster", "nodeId", ALIAS, "node_id", NULL, NULL},
    /* seed 001 "Data Residency": the house enforces it on the model providers */
    {TOP, "dataResidency", SECTION, "models.allowed_regions and models.providers[].region", NULL,
     NULL},
    {"dataResidency", "region", USE, "models.allowed_regions", NULL,
     "every provider must then declare a region from that list"},
    {"dataResidency", "providers", SECTION, "models.providers[]", NULL, NULL},
    {"dataResidency.providers", "*", SECTION, "the models.providers[] entry of that name", NULL,
     NULL},
    {"dataResidency.providers.<name>", "apiEndpoint", USE, "models.providers[].base_url", NULL,
     "of the provider with that name"},
    {"dataResidency.providers.<name>", "dataProcessingRegion", USE, "models.providers[].region",
     NULL, "of the provider with that name"},
    {"dataResidency", "storageRegion", USE, "gateway.data_dir", NULL,
     "the store and the memory documents live there: keep it on storage in that region"},
    {"dataResidency", "logStorageRegion", USE, "audit.log_path", NULL,
     "the audit trail lives in the store and in that file: keep both in that region"},
    /* seed 003: one "agent:" block per agent */
    {TOP, "agent", USE, "agents", NULL, "a list: each agent: block of seed 003 is one item"},
};

static const struct seed_rule *find(const char *section, const char *key)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(rules); i++)
        if (!strcmp(rules[i].section, section) &&
            (!strcmp(rules[i].key, key) || !strcmp(rules[i].key, "*")))
            return &rules[i];
    return NULL;
}

const char *cfg_seed_alias(const char *section, const char *key)
{
    const struct seed_rule *r = find(section, key);
    return r && r->kind == ALIAS ? r->to : NULL;
}

/* "section.key", or "key" at the top level. */
static void join(char *buf, size_t cap, const char *section, const char *key)
{
    char shown[80];
    cfg_shown(key, shown, sizeof(shown));
    if (!strcmp(section, TOP))
        snprintf(buf, cap, "%s", shown);
    else
        snprintf(buf, cap, "%s.%s", section, shown);
}

static void answer(struct cfg_errlist *e, const struct seed_rule *r, const char *path,
                   const struct cfg_node *key, const struct cfg_node *val);

/* A seed-only section: every key is answered by the rows of its template. */
static void answer_section(struct cfg_errlist *e, const struct seed_rule *r, const char *path,
                           const struct cfg_node *key, const struct cfg_node *val)
{
    char tmpl[96], child[256], list[256] = "";
    if (!val || val->bad || val->kind != CFG_NODE_MAP || val->n == 0) {
        cfg_err(e, key->line, "%s: use %s instead", path, r->to);
        return;
    }
    /* rows for the keys of this section sit under its template path */
    if (!strcmp(r->key, "*"))
        snprintf(tmpl, sizeof(tmpl), "%s.<name>", r->section);
    else if (!strcmp(r->section, TOP))
        snprintf(tmpl, sizeof(tmpl), "%s", r->key);
    else
        snprintf(tmpl, sizeof(tmpl), "%s.%s", r->section, r->key);
    for (size_t i = 0; i < val->n; i++) {
        const struct cfg_node *k = val->keys[i];
        if (k->bad)
            continue;
        const struct seed_rule *c = find(tmpl, k->str);
        join(child, sizeof(child), path, k->str);
        if (c) {
            answer(e, c, child, k, val->vals[i]);
            continue;
        }
        size_t o = 0;
        for (size_t j = 0; j < GW_ARRAY_LEN(rules) && o < sizeof(list); j++)
            if (!strcmp(rules[j].section, tmpl))
                o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "",
                                      rules[j].key);
        char shown[80];
        cfg_err(e, k->line, "unknown key '%s' in %s (seed 001's keys there: %s)",
                cfg_shown(k->str, shown, sizeof(shown)), path, list);
    }
}

static void answer(struct cfg_errlist *e, const struct seed_rule *r, const char *path,
                   const struct cfg_node *key, const struct cfg_node *val)
{
    const char *sep = r->note ? " (" : "", *note = r->note ? r->note : "";
    const char *end = r->note ? ")" : "";
    switch (r->kind) {
    case USE:
        cfg_err(e, key->line, "%s: use %s instead%s%s%s", path, r->to, sep, note, end);
        break;
    case LATER: {
        bool named = r->to && strcmp(r->to, path) != 0;
        cfg_err(e, key->line, "%s is not available in this build: %s brings it%s%s%s%s", path,
                r->area, named ? " as " : "", named ? r->to : "", r->note ? "; " : "", note);
        break;
    }
    case SECTION:
        answer_section(e, r, path, key, val);
        break;
    case ALIAS: /* taken by cfg_map_slots */
    case MOVE:  /* moved by cfg_seed_reshape */
        break;
    }
}

bool cfg_seed_answer(struct cfg_errlist *e, const char *section, const struct cfg_node *key,
                     const struct cfg_node *val)
{
    const struct seed_rule *r = find(section, key->str);
    if (!r || r->kind == ALIAS || r->kind == MOVE)
        return false;
    char path[256];
    join(path, sizeof(path), section, key->str);
    answer(e, r, path, key, val);
    return true;
}

/* ---- moves ---------------------------------------------------------------------------- */

/* Index of key in mapping m, or m->n. */
static size_t key_index(const struct cfg_node *m, const char *key, size_t len)
{
    size_t i = 0;
    while (i < m->n && !(m->keys[i] && !m->keys[i]->bad && strlen(m->keys[i]->str) == len &&
                         !memcmp(m->keys[i]->str, key, len)))
        i++;
    return i;
}

static struct cfg_node *scalar(const char *s, size_t len, int line)
{
    struct cfg_node *n = gw_xcalloc(1, sizeof(*n));
    n->kind = CFG_NODE_SCALAR;
    n->plain = true;
    n->line = line;
    n->str = gw_xstrndup(s, len);
    return n;
}

static void append(struct cfg_node *m, struct cfg_node *key, struct cfg_node *val)
{
    m->keys = gw_xrealloc(m->keys, (m->n + 1) * sizeof(*m->keys));
    m->vals = gw_xrealloc(m->vals, (m->n + 1) * sizeof(*m->vals));
    m->keys[m->n] = key;
    m->vals[m->n++] = val;
}

/* The mapping that holds the last component of path ("sso" for "sso.oidc"), created under
 * root as needed; NULL when something on the way is not a mapping. */
static struct cfg_node *parent_of(struct cfg_node *root, const char *path, int line)
{
    struct cfg_node *m = root;
    for (const char *p = path, *dot; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
        size_t len = (size_t)(dot - p), i = key_index(m, p, len);
        if (i == m->n) {
            struct cfg_node *child = gw_xcalloc(1, sizeof(*child));
            child->kind = CFG_NODE_MAP;
            child->line = line;
            append(m, scalar(p, len, line), child);
        }
        m = m->vals[i];
        if (m->kind != CFG_NODE_MAP || m->bad)
            return NULL;
    }
    return m;
}

void cfg_seed_reshape(struct cfg_errlist *e, struct cfg_node *root)
{
    if (!root || root->kind != CFG_NODE_MAP)
        return;
    for (size_t r = 0; r < GW_ARRAY_LEN(rules); r++) {
        if (rules[r].kind != MOVE)
            continue;
        size_t s = key_index(root, rules[r].section, strlen(rules[r].section));
        struct cfg_node *from = s < root->n ? root->vals[s] : NULL;
        if (!from || from->kind != CFG_NODE_MAP)
            continue;
        size_t i = key_index(from, rules[r].key, strlen(rules[r].key));
        if (i == from->n)
            continue;
        struct cfg_node *key = from->keys[i], *val = from->vals[i];
        memmove(from->keys + i, from->keys + i + 1, (from->n - i - 1) * sizeof(*from->keys));
        memmove(from->vals + i, from->vals + i + 1, (from->n - i - 1) * sizeof(*from->vals));
        from->n--;
        const char *leaf = strrchr(rules[r].to, '.');
        leaf = leaf ? leaf + 1 : rules[r].to;
        struct cfg_node *to = parent_of(root, rules[r].to, key->line);
        if (to && key_index(to, leaf, strlen(leaf)) == to->n) {
            free(key->str);
            key->str = gw_xstrdup(leaf);
            append(to, key, val);
            continue;
        }
        if (to)
            cfg_err(e, key->line, "%s.%s and %s are both set (%s.%s is read as %s): keep one",
                    rules[r].section, rules[r].key, rules[r].to, rules[r].section, rules[r].key,
                    rules[r].to);
        else
            cfg_err(e, key->line, "%s.%s is read as %s, but %.*s is not a mapping",
                    rules[r].section, rules[r].key, rules[r].to, (int)(leaf - 1 - rules[r].to),
                    rules[r].to);
        cfg_node_free(key);
        cfg_node_free(val);
    }
}
