/* SPDX-License-Identifier: MIT
 * config.h — gateway.yaml as an immutable, refcounted snapshot.
 *
 * cfg_load parses and validates the whole file (strict: unknown keys and bad values are errors
 * reported as "file:line: message"), substitutes ${ENV} / ${ENV:-default} in scalars, resolves
 * relative paths against the data directory and returns a snapshot with refcount 1. A reload
 * builds a new snapshot and swaps it in (core/); requests in flight keep the one they took with
 * cfg_ref until they cfg_unref it. Nothing in a snapshot is modified after cfg_load returns.
 *
 * The shape follows seed 003 (gateway, auth.tokens, audit, namespaces, agents) and uses the
 * seed 001 key names where it defines a section (rbac.roles, rbac.groupMappings,
 * audit.piiFields, audit.piiHandling). docs/CONFIG.md documents every key.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include "base/prelude.h"
#include "base/cidr.h"
#include "base/err.h"

#include <stdatomic.h>

#define CFG_EXIT_INVALID 78 /* EX_CONFIG, as stock OpenClaw and systemd units expect */

struct cfg_token {
    char *id;      /* unique token id, e.g. "team-engineering" */
    char *token;   /* the secret as written in the config (after ${ENV} substitution) */
    char **scopes; /* NULL-terminated */
    size_t n_scopes;
    char *owner;        /* user id or NULL (then the token is its own principal) */
    int64_t expires_ms; /* 0 = never */
};

struct cfg_role {
    char *name;
    char *description;
    char **permissions; /* NULL-terminated patterns, e.g. "workspace:use:dev-*" */
    size_t n_permissions;
};

struct cfg_group_mapping {
    char *group; /* directory group, e.g. "CN=Developers,OU=Groups,DC=company,DC=com" */
    char *role;  /* built-in or custom role name */
};

/* sso.saml (issue 5): the SAML 2.0 service provider. Every file is read and checked at load
 * (metadata structure, key and certificate parse and match), so a reload picks up a rotated key
 * or new IdP metadata and a broken file is a configuration error, not a failed login. */
struct cfg_saml {
    bool enabled;
    char *idp_metadata;  /* the IdP's md:EntityDescriptor (file content) */
    char *idp_entity_id; /* its entityID */
    char **idp_certs;    /* its signing certificates (base64 DER), NULL-terminated */
    size_t n_idp_certs;
    char *sp_entity_id;
    char *acs_url;     /* absolute URL of POST /api/v1/auth/saml/acs */
    char *slo_url;     /* absolute URL of /api/v1/auth/saml/slo, or NULL (no single logout) */
    char *sp_key_pem;  /* the SP's RSA signing key (PEM text; never logged) */
    char *sp_cert_pem; /* its certificate, published in the SP metadata */
    /* attributeMapping: where each identity field comes from ("NameID" = the subject) */
    char *attr_user, *attr_email, *attr_name, *attr_groups, *attr_org_unit, *attr_team;
    char *name_id_format;     /* URN asked for in the AuthnRequest's NameIDPolicy */
    unsigned clock_skew_s;    /* default 60, at most 300 */
    bool allow_unsolicited;   /* accept IdP-initiated Responses (no InResponseTo); default false */
    bool sign_authn_requests; /* default true */
};

/* sso.oidc.auth_method: client authentication at the IdP's token and introspection endpoints. */
enum cfg_oidc_auth { CFG_OIDC_SECRET_BASIC, CFG_OIDC_SECRET_POST, CFG_OIDC_PRIVATE_KEY_JWT };
/* sso.oidc.bearer_validation: how an IdP access token presented as a Bearer token is checked. */
enum cfg_bearer { CFG_BEARER_NONE, CFG_BEARER_JWT, CFG_BEARER_INTROSPECTION };

/* sso (issue 5): OpenID Connect relying party, SAML 2.0 service provider, role mapping policy
 * and browser sessions. Disabled (enabled false) unless sso.oidc or sso.saml is configured. */
struct cfg_sso {
    bool enabled;      /* oidc_enabled || saml.enabled */
    bool oidc_enabled; /* the fields below up to timeout_ms belong to sso.oidc */
    struct cfg_saml saml;
    char *default_protocol; /* "oidc" or "saml": what /api/v1/auth/login starts by default */
    char *tenant_claim;     /* primary IdP only: the claim naming a user's tenant, or NULL */
    char *issuer;           /* exact issuer URL; discovery at <issuer>/.well-known/... */
    char *client_id;
    char *client_secret;            /* from client_secret (${ENV}) or client_secret_file */
    enum cfg_oidc_auth auth_method; /* how the RP authenticates at the token and
                                       introspection endpoints */
    char *client_key_pem;       /* private_key_jwt: the client's PEM private key (never logged) */
    const char *client_key_alg; /* private_key_jwt: "RS256" (RSA >= 2048) or "ES256" (P-256) */
    char *client_key_id;        /* private_key_jwt: the assertions' kid header, or NULL */
    char *redirect_uri;         /* absolute URL of GET /api/v1/auth/callback */
    char **scopes;
    size_t n_scopes; /* always contains "openid" */
    char *claim_user, *claim_email, *claim_name, *claim_groups, *claim_org_unit, *claim_team;
    char **allowed_algs;
    size_t n_allowed_algs;             /* subset of RS/PS/ES 256/384/512 */
    unsigned clock_skew_s;             /* default 60, at most 300 */
    unsigned jwks_cache_s;             /* discovery and JWKS cache lifetime (default 3600) */
    bool userinfo;                     /* also call the userinfo endpoint at login */
    enum cfg_bearer bearer_validation; /* IdP access tokens on the API: none, JWT, introspection */
    char *bearer_audience;          /* audience required of IdP access tokens (default client_id) */
    unsigned introspection_cache_s; /* introspection results kept at most this long (60) */
    char *post_logout_redirect_uri; /* sent to end_session_endpoint, or NULL */
    char *ca_file;                  /* CA bundle for the IdP's TLS certificate, or NULL (system) */
    unsigned timeout_ms;            /* each back-channel request (default 5000) */
    char *default_role;             /* role of users no group mapping matches, NULL = refuse */
    unsigned idle_timeout_s;        /* session idle timeout (default 3600) */
    unsigned absolute_timeout_s;    /* session lifetime (default 43200) */
    char *cookie_name;              /* default "__Host-openclaw_session" */
    unsigned cli_access_ttl_s;      /* `openclaw auth login`: access token lifetime (3600) */
    unsigned cli_idle_timeout_s;    /* a CLI login not refreshed for this long ends (14 d) */
    unsigned cli_absolute_timeout_s; /* a CLI login ends this long after sign-in (30 d) */
    bool jit_provisioning; /* keep users unknown to identity.users in the store (default true) */
};

/* A tenant served by this gateway (issue 5, seed 000 "Multiple Tenants"). The primary tenant
 * (tenants[0]) is the top level of the file: tenant, identity, rbac.groupMappings, sso; the
 * others come from the tenants list, each with its own IdP, group mappings and audit chain,
 * and share the gateway's custom roles, models and providers. A request is routed to a tenant
 * by its Host header, by a path prefix, or (with sso.tenant_claim at the primary IdP) by a claim
 * of the signed-in user; credentials always carry their own tenant. */
struct cfg_tenant {
    char *id;
    char *name; /* may be NULL */
    char **hosts;
    size_t n_hosts;      /* lower-case host names routed to this tenant */
    char *path_prefix;   /* "/<segment>" routed to this tenant (and stripped), or NULL */
    char *claim_value;   /* value of the primary IdP's sso.tenant_claim, or NULL */
    struct cfg_sso *sso; /* this tenant's IdP settings (enabled false: none of its own) */
    struct cfg_group_mapping *group_mappings;
    size_t n_group_mappings;
    bool primary; /* tenants[0]: its sso and mappings are the top-level ones */
};

struct cfg_team {
    char *id;
    char *org_unit; /* path, e.g. "engineering/platform" */
};

struct cfg_user {
    char *id; /* stable user id (e.g. e-mail or IdP subject) */
    char *email;
    char *name;
    char *role;     /* built-in or custom role */
    char *org_unit; /* may be NULL */
    char *team;     /* may be NULL */
    bool disabled;
};

/* Who may use a namespace (namespaces.<ns>.members; also added at run time through the API).
 * A principal reaches a namespace when a member matches it: its org unit or an ancestor of it,
 * its team, one of its directory groups (exact or glob), or its user id. */
enum cfg_member_kind {
    CFG_MEMBER_ORG_UNIT,
    CFG_MEMBER_TEAM,
    CFG_MEMBER_GROUP,
    CFG_MEMBER_USER,
    CFG_MEMBER__N
};

struct cfg_member {
    enum cfg_member_kind kind;
    char *value;
};

struct cfg_namespace {
    char *name;               /* e.g. "engineering" */
    char *shared_memory_path; /* absolute after load */
    struct cfg_member *members;
    size_t n_members; /* declared in the file (may be none) */
};

struct cfg_agent {
    char *name;        /* "<namespace>/<agent>" */
    char *channel;     /* "<namespace>/<agent>", equal to name unless configured */
    char *memory_path; /* absolute after load */
    char *description;
    char *model; /* "<provider>/<model>" that runs its turns, or NULL (mailbox only) */
    char *system_prompt;
    char **tools; /* NULL-terminated tool names it may call (default: the memory tools) */
    size_t n_tools;
};

/* models: one entry per upstream provider (seed 001 dataResidency, seed 003 rate limits). */
enum cfg_llm_api { CFG_LLM_OPENAI, CFG_LLM_ANTHROPIC, CFG_LLM_OLLAMA };

struct cfg_model {
    char *name;             /* as clients name it after "<provider>/", e.g. "gpt-4o" */
    char *upstream;         /* name sent upstream (default: name) */
    double input_per_mtok;  /* USD per million input (prompt) tokens */
    double output_per_mtok; /* USD per million output (completion) tokens */
};

struct cfg_provider_limits {
    unsigned max_concurrent; /* requests in flight (default 64) */
    unsigned rpm;            /* requests per minute, 0 = unlimited */
    unsigned tpm;            /* tokens per minute, 0 = unlimited */
    unsigned max_queue;      /* waiting requests before an immediate 429 (default 1024) */
    unsigned max_wait_ms;    /* longest wait in the queue before 429 (default 10000) */
};

struct cfg_provider {
    char *name;                  /* cfg_name_valid; the "<provider>" of "<provider>/<model>" */
    enum cfg_llm_api api;        /* api: openai | anthropic | ollama */
    char *base_url;              /* e.g. https://api.openai.com/v1, http://127.0.0.1:11434 */
    char *api_key;               /* from api_key (${ENV}) or api_key_file; NULL for none */
    bool self_hosted;            /* kind: external (default) | self_hosted */
    int max_classification;      /* enum pol_level ceiling of data it may receive, -1 = none */
    char *region;                /* data processing region, or NULL */
    unsigned timeout_ms;         /* whole request (default 120000) */
    unsigned connect_timeout_ms; /* default 5000 */
    unsigned retries;            /* extra attempts on 429/5xx/connect errors (default 2) */
    unsigned retry_base_ms;      /* first backoff, doubled per attempt (default 250) */
    char **fallback;             /* NULL-terminated "<provider>/<model>" tried in order */
    size_t n_fallback;
    struct cfg_provider_limits limits;
    struct cfg_model *models;
    size_t n_models;
};

/* costManagement (seed 001): budgets per workspace (= namespace) per calendar month (UTC). */
enum cfg_on_exceed { CFG_EXCEED_ALERT, CFG_EXCEED_DISABLE };

struct cfg_budget {
    char *workspace;
    double monthly_usd_limit;
    enum cfg_on_exceed on_exceed;
    double alert_threshold; /* fraction of the limit, default the section's */
    char *alert_email;      /* default the section's */
};

enum cfg_pii_handling { CFG_PII_PLAIN, CFG_PII_HASH, CFG_PII_OMIT };

struct cfg_limits {
    size_t max_body_bytes;           /* 413 above */
    size_t max_header_bytes;         /* 431 above */
    unsigned max_connections;        /* 503 above */
    unsigned max_connections_per_ip; /* 503 above */
    unsigned idle_timeout_s;         /* keep-alive / inactivity */
    unsigned header_timeout_s;       /* total time to receive the request head, 408 after */
    unsigned request_timeout_s;      /* total time to receive the body, 408 after */
    size_t max_memory_bytes;         /* size cap of one memory document */
    size_t max_message_bytes;        /* size cap of one channel message */
};

/* cluster: state shared with other nodes through Redis (shared/shared.h). */
struct cfg_cluster {
    bool enabled;
    char *node_id;   /* default: the host name */
    char *redis_url; /* may hold a password: never logged */
    bool redis_tls;
    char *redis_ca_file; /* NULL: the system's CA certificates */
};

/* egress: where outbound connections may go (net/net.h, struct net_egress_rules). */
struct cfg_egress {
    bool allow_private; /* private and loopback hosts not named in the file */
    char **allow;
    size_t n_allow; /* hosts, addresses, CIDRs always allowed (NULL-terminated) */
    char *proxy;    /* proxy URL; "": none; NULL: the environment */
    char **no_proxy;
    size_t n_no_proxy; /* NULL: no_proxy from the environment */
};

/* store: the backend of the gateway's state (config_store.c, applied at start by the store). */
struct cfg_store {
    char *backend;                 /* "sqlite" or "postgresql"; NULL: sqlite */
    char *url;                     /* postgresql only; may hold a password: never logged */
    unsigned pool_size;            /* 0: the store's default */
    unsigned connect_timeout_s;    /* 0: the store's default */
    unsigned statement_timeout_ms; /* 0: the store's default */
};

/* audit.siem (config_siem.c): where the audit trail is forwarded (src/audit/fwd). */
struct cfg_siem_dest {
    char *name;             /* cursor key: renaming a destination starts it afresh */
    char *endpoint;         /* tcp:// or tls:// (syslog), https:// (http:// on loopback) */
    char *format;           /* cef | leef | json | hec | ecs | ocsf */
    char *api_key;          /* secret (never logged), or NULL */
    char *ca_file;          /* CA bundle for tls:// and https://, absolute; NULL: the system's */
    char *index;            /* Splunk index / Elasticsearch index, or NULL */
    unsigned batch;         /* events per delivery (default 500) */
    unsigned max_backoff_s; /* retry pause grows to this (default 60) */
    unsigned facility;      /* syslog facility (default 13, log audit) */
    bool from_now;          /* start: now (a new destination starts at the head) */
};

struct cfg_siem {
    bool enabled; /* false: no forwarding (cursors are kept) */
    struct cfg_siem_dest *dests;
    size_t n_dests;
};

struct cfg {
    atomic_int refcount;
    char *path;     /* the file it came from */
    char *data_dir; /* absolute */

    /* gateway: */
    char *host;    /* bind address, default 127.0.0.1 */
    unsigned port; /* default 8080 */
    bool tls;
    char *tls_cert; /* PEM file, absolute; required when tls */
    char *tls_key;
    unsigned threads; /* HTTP worker threads */
    /* after SIGTERM, /readyz answers 503 this long while requests are still served, so a load
     * balancer stops sending before the listener closes (0: close at once) */
    unsigned drain_grace_ms;
    char *log_level; /* debug|info|warn|error */
    struct cfg_limits limits;
    /* reverse proxies whose Forwarded / X-Forwarded-* headers are believed (none by default) */
    struct gw_cidr *trusted_proxies;
    size_t n_trusted_proxies;

    /* tenant: */
    char *tenant_id; /* default "default" */
    char *tenant_name;
    struct cfg_tenant *tenants;
    size_t n_tenants; /* [0] is the primary tenant (tenant_id) */

    /* identity: */
    char **org_units;
    size_t n_org_units;
    struct cfg_team *teams;
    size_t n_teams;
    struct cfg_user *users;
    size_t n_users;

    /* auth: */
    struct cfg_token *tokens;
    size_t n_tokens;
    bool bootstrap_token;       /* print a one-time admin token on first start (default true) */
    unsigned failed_auth_limit; /* failed authentications per address per minute before 429 */

    /* rbac: */
    struct cfg_role *roles;
    size_t n_roles;
    struct cfg_group_mapping *group_mappings;
    size_t n_group_mappings;

    /* sso: */
    struct cfg_sso sso;

    /* audit: */
    bool audit_enabled;
    char *audit_log_path;  /* absolute or NULL (store only) */
    char *audit_log_level; /* "audit" (default) */
    bool audit_rotate_daily;
    unsigned audit_retain_days; /* 0 = keep forever */
    bool audit_log_content;     /* default true, as in seed 003 */
    char *audit_export_format;  /* "json" (jsonl) or "csv" */
    char **pii_fields;
    size_t n_pii_fields; /* detail fields subject to pii_handling */
    enum cfg_pii_handling pii_handling;
    unsigned checkpoint_every; /* unused: every commit is signed */
    char *audit_witness_url;   /* every new signed head is POSTed here, or NULL */
    char *audit_witness_token; /* Bearer token for it, or NULL */
    struct cfg_siem siem;      /* audit.siem: SIEM forwarding */

    /* policy: */
    char *policy_bundle;     /* YAML/JSON file of policies loaded at start, or NULL */
    bool policy_starter;     /* write the starter policy set at the first start without a
                                bundle (default true; gov_policy.c) */
    char *approver;          /* "team_lead" (default) | "self" | "role" */
    char *approver_role;     /* role that approves when approver is "role" */
    unsigned approval_ttl_s; /* parked actions expire after this (default 86400) */
    char *opa_url;           /* Open Policy Agent data API URL, or NULL (built-in only) */
    unsigned opa_timeout_ms; /* default 500; a slower OPA denies (fail closed) */

    /* namespaces and agents: */
    struct cfg_namespace *namespaces;
    size_t n_namespaces;
    struct cfg_agent *agents;
    size_t n_agents;

    /* models: */
    struct cfg_provider *providers;
    size_t n_providers;
    char **allowed_regions;
    size_t n_allowed_regions; /* data residency; NULL = any region */
    unsigned max_tool_rounds; /* agent loop: model calls per turn (default 8) */

    /* costManagement: */
    bool costs_enabled; /* default true when any budget is configured */
    char *currency;     /* "USD" */
    struct cfg_budget *budgets;
    size_t n_budgets;
    double alert_threshold; /* default 0.8 */
    char *alert_email;      /* default recipient, or NULL */
    char *alert_webhook;    /* URL that receives a JSON POST per alert, or NULL */
    char *smtp_url;         /* smtp://host:port or smtps://, or NULL (no e-mail) */
    char *smtp_from;
    char *smtp_username, *smtp_password;

    /* egress (config_egress.c, applied by net/): */
    struct cfg_egress egress;

    /* store (config_store.c): */
    struct cfg_store store;

    /* cluster (config_cluster.c, applied by shared/): */
    struct cfg_cluster cluster;
};

/* Overrides given on the command line; they win over the file. */
struct cfg_overrides {
    const char *data_dir; /* --data-dir */
    unsigned port;        /* --port, 0 = not given */
};

/* Collected validation errors, each "file:line: message". */
struct cfg_errors {
    char **msgs;
    size_t n;
};

/* Loads and validates. On failure returns GW_ECONFIG with errs filled (caller releases). */
gw_err cfg_load(const char *path, const struct cfg_overrides *ov, struct cfg **out,
                struct cfg_errors *errs);
/* The built-in defaults alone (no file), for running without a config. */
struct cfg *cfg_default(const struct cfg_overrides *ov);
struct cfg *cfg_ref(struct cfg *c);
void cfg_unref(struct cfg *c);
void cfg_errors_release(struct cfg_errors *errs);

/* Lookups (NULL when absent). */
const struct cfg_user *cfg_find_user(const struct cfg *c, const char *id);
const struct cfg_role *cfg_find_role(const struct cfg *c, const char *name);
const struct cfg_agent *cfg_find_agent(const struct cfg *c, const char *name);
const struct cfg_namespace *cfg_find_namespace(const struct cfg *c, const char *name);
const struct cfg_team *cfg_find_team(const struct cfg *c, const char *id);
const struct cfg_provider *cfg_find_provider(const struct cfg *c, const char *name);
/* The defaults of a models.providers[] entry (also of providers added at run time). */
extern const struct cfg_provider cfg_provider_defaults;
/* "<provider>/<model>" → the provider and its model entry (both NULL when unknown). */
const struct cfg_model *cfg_find_model(const struct cfg *c, const char *id,
                                       const struct cfg_provider **provider);
const struct cfg_budget *cfg_find_budget(const struct cfg *c, const char *workspace);
/* Tenants: by id (the primary included), by the Host header (port ignored, any case), by the
 * first path segment (*rest: the path after the prefix, "/" at least), by the value of the
 * primary IdP's tenant claim. NULL when none matches. */
const struct cfg_tenant *cfg_find_tenant(const struct cfg *c, const char *id);
const struct cfg_tenant *cfg_tenant_by_host(const struct cfg *c, const char *host);
const struct cfg_tenant *cfg_tenant_by_path(const struct cfg *c, const char *path,
                                            const char **rest);
const struct cfg_tenant *cfg_tenant_by_claim(const struct cfg *c, const char *value);
/* The sso settings that govern a tenant's sign-ins and sessions: its own when it has an IdP,
 * else the primary tenant's (its users sign in there, routed by sso.tenant_claim). */
const struct cfg_sso *cfg_tenant_sso(const struct cfg *c, const struct cfg_tenant *t);
/* The outbound URLs the configuration names (provider base URLs, OIDC issuers, OPA, the alert
 * webhook, the SMTP relay, the SIEM endpoints): at most cap of them into out (borrowed); returns
 * how many there are (call with cap 0 to size out). */
size_t cfg_outbound_urls(const struct cfg *c, const char **out, size_t cap);

/* Syntax rules shared by the loader and the API (tokens and agents created at run time). */
/* A namespace, agent, team, token id or tenant id: [a-z0-9][a-z0-9_-]{0,62}. */
bool cfg_name_valid(const char *s);
/* "<namespace>/<agent>", both parts cfg_name_valid. */
bool cfg_agent_name_valid(const char *s);
/* "*", "channels:<ns>/<glob>" (glob "*", an agent name or a prefix ending in "*"),
 * "memory:read", "memory:write", or "a:b[:c...]" with segments of [a-z0-9_*.-]. */
bool cfg_scope_valid(const char *s);
/* enterprise_admin, org_admin, team_lead, user. */
bool cfg_role_is_builtin(const char *name);
/* A user id: 1-256 printable characters without spaces. */
bool cfg_user_id_valid(const char *s);
/* A model name after "<provider>/": 1-128 characters of [A-Za-z0-9._:-]. */
bool cfg_model_name_valid(const char *s);
/* 1-max visible ASCII characters, no spaces (upstream names, regions, keys, claims). */
bool cfg_visible(const char *s, size_t max);

/* The scopes and permissions the gateway checks (config_scopes.c). cfg_scope_known: the
 * pattern is valid and matches at least one catalog entry (a typo such as "audit:reed" does
 * not); cfg_scope_names writes the catalog's names, comma-separated, for error messages. */
struct cfg_scope_info {
    const char *name; /* "memory:read", "channels:<namespace>/<agent>", ... */
    const char *description;
};
const struct cfg_scope_info *cfg_scope_catalog(size_t *n);
bool cfg_scope_known(const char *s);
void cfg_scope_names(char *buf, size_t cap);

/* Namespace members (config_members.c): kind names ("org_unit", "team", "group", "user"; the
 * plural YAML keys parse too), the value rule of each kind and a description of it. */
const char *cfg_member_kind_name(enum cfg_member_kind k);
bool cfg_member_kind_parse(const char *s, enum cfg_member_kind *out);
bool cfg_member_valid(enum cfg_member_kind k, const char *value);
const char *cfg_member_rule(enum cfg_member_kind k);

#endif
