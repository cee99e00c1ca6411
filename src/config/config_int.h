/* SPDX-License-Identifier: MIT
 * config_int.h — private to src/config: the YAML node tree, the error collector, the typed
 * scalar readers and the per-section loaders that cfg_load chains together.
 *
 * The loader works in two steps: config_yaml.c turns the file into a small tree of cfg_node
 * (every node keeps its line, ${ENV} is already substituted in values), then one file per
 * section walks that tree into struct cfg, reporting every problem with its line.
 */
#ifndef GW_CONFIG_INT_H
#define GW_CONFIG_INT_H

#include "base/prelude.h"
#include "config/config.h"

#define CFG_MAX_FILE_BYTES ((size_t)1024 * 1024)
#define CFG_MAX_ERRORS 200                       /* then "too many errors" */
#define CFG_MAX_DEPTH 64                         /* YAML nesting */
#define CFG_MAX_SCALAR_BYTES ((size_t)64 * 1024) /* one value after substitution */
#define CFG_MAX_EXPANDED_BYTES ((size_t)8 << 20) /* all values together */

/* ---- errors (config_errors.c) ---- */

struct cfg_errent {
    int line; /* 0 = about the whole file */
    size_t seq;
    char *msg;
};

struct cfg_errlist {
    const char *file;
    struct cfg_errent *v;
    size_t n, cap;
    bool truncated;
};

void cfg_errlist_init(struct cfg_errlist *e, const char *file);
void cfg_err(struct cfg_errlist *e, int line, const char *fmt, ...) GW_PRINTF(3, 4);
/* Sorts by line, formats "file:line: msg" into out (NULL: discarded) and empties e. */
void cfg_errlist_finish(struct cfg_errlist *e, struct cfg_errors *out);
/* s made safe to quote in a message (control characters replaced, long text cut). */
const char *cfg_shown(const char *s, char *buf, size_t cap);

/* ---- YAML tree (config_yaml.c) ---- */

enum cfg_node_kind { CFG_NODE_SCALAR, CFG_NODE_SEQ, CFG_NODE_MAP };

struct cfg_node {
    enum cfg_node_kind kind;
    int line;
    bool plain; /* unquoted scalar: may be read as a number, a boolean or null */
    bool null;  /* unquoted "", "~" or "null" */
    bool bad;   /* already reported (failed substitution, alias, NUL): readers stay silent */
    bool env;   /* the text came (partly) from ${ENV}: may be a secret, never quote it */
    char *str;  /* scalar text; ${ENV} substituted in values, verbatim in keys */
    size_t n;
    struct cfg_node **keys; /* CFG_NODE_MAP */
    struct cfg_node **vals; /* CFG_NODE_MAP values, CFG_NODE_SEQ items */
};

/* Parses one YAML document into *root (NULL when the document is empty). Returns false when the
 * text is not YAML at all (the error is in errs); other problems are reported and parsing goes
 * on. */
bool cfg_yaml_parse(const char *data, size_t len, struct cfg_errlist *errs, struct cfg_node **root);
void cfg_node_free(struct cfg_node *n);

/* ---- ${ENV} substitution (config_env.c) ---- */

/* Returns the expanded copy of s[0..len), or NULL after reporting the problems at line.
 * *budget is the number of bytes all expansions of the file may still produce. */
char *cfg_env_expand(const char *s, size_t len, struct cfg_errlist *errs, int line, size_t *budget);

/* ---- typed readers (config_scalar.c) ---- */

/* All readers accept n == NULL or a null scalar as "not set" (out unchanged, true) and report
 * a type or range problem as "<what> must ..." at the node's line (false). */
bool cfg_is_null(const struct cfg_node *n);
bool cfg_get_str(struct cfg_errlist *e, const struct cfg_node *n, const char *what, char **out);
bool cfg_get_int(struct cfg_errlist *e, const struct cfg_node *n, const char *what, long long lo,
                 long long hi, long long *out);
bool cfg_get_uint(struct cfg_errlist *e, const struct cfg_node *n, const char *what, unsigned lo,
                  unsigned hi, unsigned *out);
bool cfg_get_size(struct cfg_errlist *e, const struct cfg_node *n, const char *what, size_t lo,
                  size_t hi, size_t *out);
bool cfg_get_bool(struct cfg_errlist *e, const struct cfg_node *n, const char *what, bool *out);
/* A finite decimal number (2, 2.5, 1e-3; unquoted) in [lo, hi], or (lo, hi] when lo_open. */
bool cfg_get_double(struct cfg_errlist *e, const struct cfg_node *n, const char *what, double lo,
                    bool lo_open, double hi, double *out);
/* An absolute URL "<scheme>://host[:port][/path]" with one of schemes (NULL-terminated, without
 * "://"), no spaces, no user:password@, and no query or fragment unless CFG_URL_QUERY.
 * CFG_URL_NO_SLASH drops trailing slashes of the path. The value is never quoted in messages. */
#define CFG_URL_QUERY 1u
#define CFG_URL_NO_SLASH 2u
bool cfg_get_url(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                 const char *const *schemes, unsigned flags, char **out);
/* allowed is NULL-terminated. */
bool cfg_get_enum(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                  const char *const *allowed, char **out);
/* A list of strings into a NULL-terminated array (replaces *out). */
bool cfg_get_strlist(struct cfg_errlist *e, const struct cfg_node *n, const char *what, char ***out,
                     size_t *count);
/* Checks that n is a mapping (false without a message when n is null) and files each value
 * under its key's index in keys (NULL-terminated), the value of a seed alias (cfg_seed_alias)
 * under its house key's; unknown keys are answered by cfg_unknown_key. keyline (optional)
 * receives the line of each key found. */
bool cfg_map_slots(struct cfg_errlist *e, const struct cfg_node *n, const char *section,
                   const char *const *keys, const struct cfg_node **vals, int *keyline);
/* n is a list (false without a message when n is null). */
bool cfg_want_seq(struct cfg_errlist *e, const struct cfg_node *n, const char *what);
void cfg_free_strv(char **v);

/* ---- keys (config_keys.c, config_seed.c) ---- */

/* The key table of each section, defined next to its loader; config_keys.c catalogs them. */
extern const char *const cfg_keys_top[];
extern const char *const cfg_keys_gateway[];
extern const char *const cfg_keys_limits[];
extern const char *const cfg_keys_tenant[];
extern const char *const cfg_keys_identity[];
extern const char *const cfg_keys_team[];
extern const char *const cfg_keys_user[];
extern const char *const cfg_keys_auth[];
extern const char *const cfg_keys_token[];
extern const char *const cfg_keys_rbac[];
extern const char *const cfg_keys_role[];
extern const char *const cfg_keys_sso[];
extern const char *const cfg_keys_oidc[];
extern const char *const cfg_keys_claims[];
extern const char *const cfg_keys_sessions[];
extern const char *const cfg_keys_saml[];
extern const char *const cfg_keys_saml_attrs[];
extern const char *const cfg_keys_tenants[];
extern const char *const cfg_keys_tenant_rbac[];
extern const char *const cfg_keys_audit[];
extern const char *const cfg_keys_witness[];
extern const char *const cfg_keys_policy[];
extern const char *const cfg_keys_namespace[];
extern const char *const cfg_keys_members[];
extern const char *const cfg_keys_agent[];
extern const char *const cfg_keys_models[];
extern const char *const cfg_keys_provider[];
extern const char *const cfg_keys_provider_limits[];
extern const char *const cfg_keys_model[];
extern const char *const cfg_keys_costs[];
extern const char *const cfg_keys_smtp[];
extern const char *const cfg_keys_budget[];
extern const char *const cfg_keys_egress[];
extern const char *const cfg_keys_store[];
extern const char *const cfg_keys_siem[];
extern const char *const cfg_keys_cluster[];
extern const char *const cfg_keys_cluster_redis[];

/* Reports key, which section (keys) does not have: the seeds' answer when it is a seed key
 * (cfg_seed_answer), else "unknown key" with the nearest key of the section or the other
 * sections that have it ("did you mean ...?") and the list of valid keys. */
void cfg_unknown_key(struct cfg_errlist *e, const char *section, const char *const *keys,
                     const struct cfg_node *key, const struct cfg_node *val);
/* Seed 001's auth.oidc, auth.saml and auth.provider moved to their house places under sso
 * (and every other row that moves a key), before the sections are loaded. */
void cfg_seed_reshape(struct cfg_errlist *e, struct cfg_node *root);
/* The house key of section that key is another name for (clientId in sso.oidc: "client_id"),
 * or NULL. */
const char *cfg_seed_alias(const char *section, const char *key);
/* When key is a seed key section does not take, reports what to write instead or that the
 * feature is not in this build (and which issue brings it) and returns true. */
bool cfg_seed_answer(struct cfg_errlist *e, const char *section, const struct cfg_node *key,
                     const struct cfg_node *val);

/* ---- paths (config_paths.c) ---- */

/* Absolute, normalized form of a directory that may not exist yet (relative to the cwd). */
char *cfg_path_abs_dir(const char *p);
bool cfg_path_has_dotdot(const char *p);
/* p itself when absolute, else base/p; "." and empty components removed. */
char *cfg_path_resolve(const char *base, const char *p);
/* Reads a path value: non-empty, no "..", resolved against the data directory. */
bool cfg_get_path(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                  const char *data_dir, char **out);

/* Reads the file named by a path value (see cfg_get_path), at most max bytes, into a malloc'd
 * NUL-terminated *data. False (reported at the node's line, never quoting the content) when it
 * is missing, too large or unreadable; false without a message when the value is not set. */
struct cfg_loader;
bool cfg_read_file(struct cfg_loader *L, const struct cfg_node *n, const char *what, size_t max,
                   char **data, size_t *len);

/* ---- syntax (config_syntax.c) ---- */

bool cfg_org_unit_valid(const char *s);
/* Reports what[j] when it is not a known scope (cfg_scope_known), listing the valid ones;
 * noun is "scope" or "permission". */
void cfg_scope_check(struct cfg_errlist *e, int line, const char *what, size_t j, const char *scope,
                     const char *noun);

/* ---- snapshot lifecycle (config_default.c, config_free.c) ---- */

/* A snapshot with every built-in default except path and data_dir, refcount 1. */
struct cfg *cfg_new_defaults(void);
void cfg_free(struct cfg *c);

/* ---- sections, in the order cfg_load runs them (each file config_<section>.c) ---- */

struct cfg_loader {
    struct cfg_errlist *errs;
    struct cfg *c;
    const struct cfg_overrides *ov;
    struct cfg_sso *sso; /* what cfg_load_sso fills: &c->sso, or a tenant's */
    const char *tenant;  /* NULL for the top level, else the tenant whose sso is loaded */
};

void cfg_load_gateway(struct cfg_loader *L, const struct cfg_node *n);
void cfg_load_tenant(struct cfg_loader *L, const struct cfg_node *n);
void cfg_load_rbac(struct cfg_loader *L, const struct cfg_node *n);
void cfg_load_identity(struct cfg_loader *L, const struct cfg_node *n);
void cfg_load_auth(struct cfg_loader *L, const struct cfg_node *n);
void cfg_load_audit(struct cfg_loader *L, const struct cfg_node *n);
/* audit.siem (config_siem.c), called by cfg_load_audit. */
void cfg_load_siem(struct cfg_loader *L, const struct cfg_node *n);
void cfg_siem_free(struct cfg_siem *s);
void cfg_load_policy(struct cfg_loader *L, const struct cfg_node *n);
/* Providers and their models, before agents (agents name a model). */
void cfg_load_models(struct cfg_loader *L, const struct cfg_node *n);
/* Namespaces and agents go together: agents add implicit namespaces, and memory paths must
 * be distinct across both. */
void cfg_load_agents(struct cfg_loader *L, const struct cfg_node *namespaces,
                     const struct cfg_node *agents);
void cfg_load_costs(struct cfg_loader *L, const struct cfg_node *n);
/* namespaces.<ns>.members (config_members.c); section names it in messages. */
void cfg_load_members(struct cfg_loader *L, const struct cfg_node *n, const char *section,
                      struct cfg_member **out, size_t *count);
void cfg_members_free(struct cfg_member *m, size_t n);
/* After rbac and identity (default_role names a role). */
void cfg_load_sso(struct cfg_loader *L, const struct cfg_node *n);
void cfg_sso_free(struct cfg_sso *s);
/* egress (config_egress.c). */
void cfg_load_egress(struct cfg_loader *L, const struct cfg_node *n);
void cfg_egress_free(struct cfg_egress *g);
/* store (config_store.c). */
void cfg_load_store(struct cfg_loader *L, const struct cfg_node *n);
void cfg_store_free(struct cfg_store *s);
void cfg_load_cluster(struct cfg_loader *L, const struct cfg_node *n);
/* The node id when the file names none: the host name when it is a valid id, else "node". */
char *cfg_node_id_default(void);
void cfg_cluster_free(struct cfg_cluster *cl);
/* After sso: the tenants list, and tenants[0] for the primary tenant (config_tenants.c). */
void cfg_load_tenants(struct cfg_loader *L, const struct cfg_node *n);
void cfg_tenants_free(struct cfg *c);
/* tenants[0] from the top level, with room for extra more (also for cfg_default). */
void cfg_tenant_primary_init(struct cfg *c, size_t extra);
/* rbac.groupMappings into *out (config_rbac.c); what names the section in messages. */
void cfg_load_group_mappings(struct cfg_loader *L, const struct cfg_node *n, const char *what,
                             struct cfg_group_mapping **out, size_t *count);
void cfg_group_mappings_free(struct cfg_group_mapping *g, size_t n);
/* sso.saml (config_saml.c), called by cfg_load_sso. */
void cfg_load_saml(struct cfg_loader *L, const struct cfg_node *n);
void cfg_saml_free(struct cfg_saml *s);
/* Shared by the sso sections: an https URL (http only on a loopback host), and a string of
 * 1..max visible ASCII characters. */
void cfg_get_https_url(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                       unsigned flags, char **out);
bool cfg_loopback_url(const char *url);

#endif
