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
#include "base/err.h"

#include <stdatomic.h>

#define CFG_EXIT_INVALID 78 /* EX_CONFIG, as stock OpenClaw and systemd units expect */

struct cfg_token {
    char *id;           /* unique token id, e.g. "team-engineering" */
    char *token;        /* the secret as written in the config (after ${ENV} substitution) */
    char **scopes;      /* NULL-terminated */
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

struct cfg_team {
    char *id;
    char *org_unit; /* path, e.g. "engineering/platform" */
};

struct cfg_user {
    char *id;       /* stable user id (e.g. e-mail or IdP subject) */
    char *email;
    char *name;
    char *role;     /* built-in or custom role */
    char *org_unit; /* may be NULL */
    char *team;     /* may be NULL */
    bool disabled;
};

struct cfg_namespace {
    char *name;               /* e.g. "engineering" */
    char *shared_memory_path; /* absolute after load */
};

struct cfg_agent {
    char *name;        /* "<namespace>/<agent>" */
    char *channel;     /* "<namespace>/<agent>", equal to name unless configured */
    char *memory_path; /* absolute after load */
    char *description;
};

enum cfg_pii_handling { CFG_PII_PLAIN, CFG_PII_HASH, CFG_PII_OMIT };

struct cfg_limits {
    size_t max_body_bytes;          /* 413 above */
    size_t max_header_bytes;        /* 431 above */
    unsigned max_connections;       /* 503 above */
    unsigned max_connections_per_ip;/* 503 above */
    unsigned idle_timeout_s;        /* keep-alive / inactivity */
    unsigned header_timeout_s;      /* total time to receive the request head, 408 after */
    unsigned request_timeout_s;     /* total time to receive the body, 408 after */
    size_t max_memory_bytes;        /* size cap of one memory document */
    size_t max_message_bytes;       /* size cap of one channel message */
};

struct cfg {
    atomic_int refcount;
    char *path;      /* the file it came from */
    char *data_dir;  /* absolute */

    /* gateway: */
    char *host;      /* bind address, default 127.0.0.1 */
    unsigned port;   /* default 8080 */
    bool tls;
    char *tls_cert;  /* PEM file, absolute; required when tls */
    char *tls_key;
    unsigned threads;/* HTTP worker threads */
    char *log_level; /* debug|info|warn|error */
    struct cfg_limits limits;

    /* tenant: */
    char *tenant_id;   /* default "default" */
    char *tenant_name;

    /* identity: */
    char **org_units; size_t n_org_units;
    struct cfg_team *teams; size_t n_teams;
    struct cfg_user *users; size_t n_users;

    /* auth: */
    struct cfg_token *tokens; size_t n_tokens;
    bool bootstrap_token;        /* print a one-time admin token on first start (default true) */
    unsigned failed_auth_limit;  /* failed authentications per address per minute before 429 */

    /* rbac: */
    struct cfg_role *roles; size_t n_roles;
    struct cfg_group_mapping *group_mappings; size_t n_group_mappings;

    /* audit: */
    bool audit_enabled;
    char *audit_log_path;        /* absolute or NULL (store only) */
    char *audit_log_level;       /* "audit" (default) */
    bool audit_rotate_daily;
    unsigned audit_retain_days;  /* 0 = keep forever */
    bool audit_log_content;      /* default true, as in seed 003 */
    char *audit_export_format;   /* "json" (jsonl) or "csv" */
    char **pii_fields; size_t n_pii_fields; /* detail fields subject to pii_handling */
    enum cfg_pii_handling pii_handling;
    unsigned checkpoint_every;   /* sign a checkpoint every N events (default 1000) */

    /* policy: */
    char *policy_bundle;          /* YAML/JSON file of policies loaded at start, or NULL */
    char *approver;               /* "team_lead" (default) | "self" | "role" */
    char *approver_role;          /* role that approves when approver is "role" */
    unsigned approval_ttl_s;      /* parked actions expire after this (default 86400) */
    char *opa_url;                /* Open Policy Agent data API URL, or NULL (built-in only) */
    unsigned opa_timeout_ms;      /* default 500; a slower OPA denies (fail closed) */

    /* namespaces and agents: */
    struct cfg_namespace *namespaces; size_t n_namespaces;
    struct cfg_agent *agents; size_t n_agents;
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

#endif
