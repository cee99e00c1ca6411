/* SPDX-License-Identifier: MIT
 * auth.h — who is calling and what they may do.
 *
 * Credentials are scoped gateway tokens (seed 003): declared in gateway.yaml or created at run
 * time through the API. Only SHA-256 hashes of secrets are kept (in memory and in the store);
 * a presented token is hashed and looked up by hash, then compared in constant time.
 *
 * Authorization has three layers that must all agree:
 *   1. the token's scopes ("*", "channels:<ns>/<glob>", "memory:read", "tokens:write", ...);
 *   2. when the token has an owner, the owner's role permissions (built-in roles of seed 000,
 *      custom roles of seed 001), so a token never grants more than its owner holds;
 *   3. for channels and namespaces, the owner's namespace grants (auth_grants.c): a principal
 *      with an owner reaches only the namespaces granted to it (enterprise_admin: all of its
 *      tenant; org_admin: also those granted inside its org subtree).
 * Tenant and identity always come from here, never from request parameters. The syntax of
 * names and scopes is config's (cfg_name_valid, cfg_scope_valid): one grammar everywhere.
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"

struct gw_pool;
struct store;

/* The authenticated caller, allocated in a request pool (all strings borrowed from it). */
struct auth_principal {
    const char *tenant;
    const char *actor; /* owner user id, or "token:<id>" for a token without owner */
    const char *token_id;
    const char *user; /* owner user id or NULL */
    const char *email;
    const char *name;
    const char *role; /* owner's role; "enterprise_admin" for an ownerless "*" token,
                         else "token" */
    const char *org_unit;
    const char *team;
    const char **scopes; /* the token's scopes */
    size_t n_scopes;
    const char **perms; /* the owner's role permissions, NULL when the token has no owner */
    size_t n_perms;
    const char *method;     /* "token", "session" (cookie), "bearer_jwt" (IdP access token)
                               or "cli" (access token of `openclaw auth login`) */
    const char *session_id; /* public session id when method is "session" or "cli" */
    const char **groups;    /* directory groups of an SSO principal (or of a token's owner
                               as of the owner's last sign-in), NULL otherwise */
    size_t n_groups;
    const struct auth_grant_set *grants; /* namespace grants in force for this request
                                            (auth_principal_attach_grants); NULL = none */
};

/* --- scopes and permissions (pure functions) ---------------------------------------------- */

/* Does the scope/permission pattern grant `required`? '*' alone grants everything; in channel
 * scopes '*' matches within one path segment; elsewhere '*' matches any run of characters. */
bool auth_pattern_grants(const char *pattern, const char *required);
/* Does the caller hold `required` (token scopes AND, with an owner, role permissions)? */
bool auth_allows(const struct auth_principal *p, const char *required);
/* Channel access: "channels:<ns>/<agent>" and reach of ns. */
bool auth_allows_channel(const struct auth_principal *p, const char *ns, const char *agent);
/* Namespace access (shared memory): any channel scope that covers some agent of ns, and reach
 * of ns. */
bool auth_allows_namespace(const struct auth_principal *p, const char *ns);
/* Why auth_allows_channel (agent given) or auth_allows_namespace (agent NULL) said no: the
 * missing scope, or the missing grant and how an administrator would add it. */
void auth_deny_reason(const struct auth_principal *p, const char *ns, const char *agent, char *out,
                      size_t cap);
/* Can the caller delegate `scope` to a new token (its own grants cover the whole pattern, and
 * it reaches a namespace the scope names)? */
bool auth_can_delegate(const struct auth_principal *p, const char *scope);
/* What the principal may really do: its scopes capped by its role's permissions (never "*"
 * for a capped principal). Pool-allocated. */
const char **auth_effective_scopes(const struct auth_principal *p, struct gw_pool *pool,
                                   size_t *count);

/* --- namespace grants (auth_grants.c) ------------------------------------------------------ */

struct auth_grants;    /* the registry: config members + run-time members */
struct auth_grant_set; /* an immutable, refcounted snapshot of all members */

gw_err auth_grants_open(struct store *st, const struct cfg *c, struct auth_grants **out);
void auth_grants_close(struct auth_grants *g);
/* Takes the configuration file's members of the new snapshot (run-time members are kept). */
void auth_grants_reload(struct auth_grants *g, const struct cfg *c);
struct shared;
/* Members added or removed here are told to the other nodes through s (channel identity),
 * and theirs are read again from the store the nodes share. */
void auth_grants_share(struct auth_grants *g, struct shared *s);
/* Reads the run-time members again if another node's change could not be read when told. */
void auth_grants_retry_stale(struct auth_grants *g);
/* A reference to the current set; auth_grant_set_unref when done. */
struct auth_grant_set *auth_grants_current(struct auth_grants *g);
void auth_grant_set_unref(struct auth_grant_set *s);
/* Gives p the current set for the lifetime of pool (the request's). */
void auth_principal_attach_grants(struct auth_principal *p, struct auth_grants *g,
                                  struct gw_pool *pool);
/* Does the principal reach namespace ns through its grants (or its role)? True for ownerless
 * tokens, whose scopes alone decide. */
bool auth_reaches(const struct auth_principal *p, const char *ns);
/* "no grant of namespace ns to <who> (team, org unit, groups) ..." with the fix. */
void auth_reach_explain(const struct auth_principal *p, const char *ns, char *out, size_t cap);

struct auth_member_info {
    enum cfg_member_kind kind;
    const char *value, *source, *created_by; /* source: "config" | "api" */
    int64_t created_ms;
};
/* Members of one namespace of a tenant (pool-allocated). */
gw_err auth_grants_members(const struct auth_grant_set *s, const char *tenant, const char *ns,
                           struct gw_pool *pool, struct auth_member_info **out, size_t *n);
/* The namespaces of a tenant that have members, sorted (pool-allocated, borrowed names). */
size_t auth_grants_namespaces(const struct auth_grant_set *s, const char *tenant,
                              struct gw_pool *pool, const char ***out);
/* May the caller add or remove this member of ns? (namespaces:write; ns within its reach; below
 * enterprise_admin only org units and teams inside an org_admin's subtree.) Validates ns and
 * value. GW_EINVAL or GW_EFORBIDDEN with msg. */
gw_err auth_grant_check(const struct auth_principal *caller, const char *ns,
                        enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap);
/* Add (GW_ECONFLICT when present) or remove (GW_ENOTFOUND when absent, GW_ECONFLICT when it is
 * a configuration member) a run-time member in the caller's tenant, persisted before the swap. */
gw_err auth_grant_add(struct auth_grants *g, const struct auth_principal *caller, const char *ns,
                      enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap);
gw_err auth_grant_remove(struct auth_grants *g, const struct auth_principal *caller, const char *ns,
                         enum cfg_member_kind kind, const char *value, char *msg, size_t msgcap);

/* --- roles ---------------------------------------------------------------------------------- */

/* Permission patterns of a role (built-in or from cfg->roles); NULL-terminated, borrowed.
 * NULL when the role is unknown. */
const char *const *auth_role_permissions(const struct cfg *c, const char *role, size_t *n);

/* --- tokens --------------------------------------------------------------------------------- */

struct auth_registry;

gw_err auth_registry_open(struct store *st, const struct cfg *c, struct auth_registry **out);
void auth_registry_close(struct auth_registry *reg);
/* Replaces the configuration tokens and the identity data (SIGHUP / admin reload). */
gw_err auth_registry_reload(struct auth_registry *reg, const struct cfg *c);
/* Configuration tokens of c whose id is taken by a run-time token: GW_ECONFLICT naming both. */
gw_err auth_registry_conflicts(struct auth_registry *reg, const struct cfg *c, char *msg,
                               size_t msgcap);
/* Number of active tokens (config + api). */
size_t auth_registry_count(struct auth_registry *reg);
/* Revocations go to the other nodes through s, and theirs are checked (shared/shared.h):
 * a run-time token is refused (GW_EUNAVAIL) while this node cannot know them. Tokens created,
 * rotated or revoked here are told to the others (channel identity), theirs read again. */
void auth_registry_share(struct auth_registry *reg, struct shared *s);
/* Reads the run-time tokens again if another node's change could not be read when told. */
void auth_registry_retry_stale(struct auth_registry *reg);

/* Authenticates an Authorization header value. GW_EUNAUTH with a reason in msg on failure. */
gw_err auth_authenticate(struct auth_registry *reg, const char *authorization, struct gw_pool *pool,
                         struct auth_principal **out, char *msg, size_t msgcap);

/* Is a bearer token one of this gateway's own credentials, which must never be shown to an
 * identity provider (token introspection)? True for the prefixes the gateway issues (ocw_
 * tokens, oca_/ocr_ CLI tokens, ocs_ session secrets) and for any token the registry holds,
 * configured ones included, whether active, expired or revoked. */
bool auth_token_is_local(struct auth_registry *reg, const char *token);

struct auth_token_request {
    const char *id; /* NULL = generated */
    const char **scopes;
    size_t n_scopes;
    const char *owner;    /* NULL = caller's owner */
    int64_t expires_in_s; /* 0 = never */
};

/* Information about one token (no secret). Strings owned by the pool given to the call. */
struct auth_token_info {
    const char *id, *tenant, *owner, *source, *created_by;
    const char **scopes;
    size_t n_scopes;
    int64_t created_ms, expires_ms, revoked_ms, last_used_ms;
};

/* Validates a creation request by `caller` (scope syntax, delegation, owner, id) without
 * changing anything. On error, msg says why. */
gw_err auth_token_check_create(struct auth_registry *reg, const struct auth_principal *caller,
                               const struct auth_token_request *req, char *msg, size_t msgcap);
/* Creates the token (after the audit event is durable). *secret is pool-allocated. */
gw_err auth_token_create(struct auth_registry *reg, const struct auth_principal *caller,
                         const struct auth_token_request *req, struct gw_pool *pool,
                         struct auth_token_info *info, const char **secret);
/* Checks a rotate/revoke target exists in the caller's tenant and is not from the config. */
gw_err auth_token_check_change(struct auth_registry *reg, const struct auth_principal *caller,
                               const char *id, char *msg, size_t msgcap);
gw_err auth_token_rotate(struct auth_registry *reg, const struct auth_principal *caller,
                         const char *id, struct gw_pool *pool, struct auth_token_info *info,
                         const char **secret);
gw_err auth_token_revoke(struct auth_registry *reg, const struct auth_principal *caller,
                         const char *id, int64_t *revoked_ms);
/* Tokens of the caller's tenant. */
gw_err auth_token_list(struct auth_registry *reg, const struct auth_principal *caller,
                       struct gw_pool *pool, struct auth_token_info **out, size_t *n);
/* Writes pending last-use times to the store (called periodically). */
void auth_registry_flush_last_use(struct auth_registry *reg);
/* Creates the one-time bootstrap admin token if this data directory never had one.
 * *secret (malloc'd) is NULL when nothing was created. */
gw_err auth_bootstrap(struct auth_registry *reg, const struct cfg *c, char **secret);

/* --- identifying a caller: the login methods (auth_authn.c) -------------------------------- */

struct auth_oidc;

/* What a request carried, whatever the door (strings borrowed). */
struct auth_credentials {
    const char *authorization;  /* the Authorization header, or NULL */
    const char *session_cookie; /* the value of the tenant's session cookie, or NULL */
    const char *csrf_token;     /* X-CSRF-Token, or NULL */
    bool mutation;              /* the request changes something (cookies need the CSRF token) */
    bool local_only;            /* a throttled address: never ask the IdP (GW_ETHROTTLED) */
};

/* The services and settings the methods check credentials against. */
struct auth_ctx {
    struct auth_registry *tokens;
    struct auth_grants *grants;
    struct auth_sso *sso;
    const struct cfg *cfg;
    const struct cfg_tenant *idp; /* the tenant whose IdP signs users in at this address */
};

struct auth_method {
    const char *name; /* "cli", "idp_token", "session", "token" */
    bool (*detect)(const struct auth_ctx *x, const struct auth_credentials *cr);
    gw_err (*authenticate)(const struct auth_ctx *x, const struct auth_credentials *cr,
                           struct gw_pool *pool, struct auth_principal **out, char *msg,
                           size_t cap);
};

/* The table, in the order it is tried. */
const struct auth_method *auth_methods(size_t *n);
/* The first method that recognises the credentials decides: GW_OK with *out (its namespace
 * grants attached for the pool's lifetime), GW_EUNAUTH (bad credential), GW_EFORBIDDEN (CSRF,
 * role mapping, disabled user), GW_ETHROTTLED (local_only and an IdP token), GW_EUPSTREAM or
 * GW_ESTORE (not the caller's fault); msg says why. */
gw_err auth_identify(const struct auth_ctx *x, const struct auth_credentials *cr,
                     struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap);

/* --- failed-authentication throttling per client address -------------------------------- */

struct auth_throttle;
/* Counts in s (shared/shared.h): every node of a cluster sees the same failures. */
struct auth_throttle *auth_throttle_new(struct shared *s);
void auth_throttle_free(struct auth_throttle *t);
/* Seconds to wait when the address is throttled, 0 otherwise. */
unsigned auth_throttle_check(struct auth_throttle *t, const char *ip, unsigned limit);
void auth_throttle_fail(struct auth_throttle *t, const char *ip);

#include "auth/auth_sso.h" /* single sign-on: JWT, OIDC, sessions */
#include "auth/auth_cli.h" /* signing in the CLI through the browser */

#endif
