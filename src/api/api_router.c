/* SPDX-License-Identifier: MIT
 * api_router.c — the route table, authentication and the audit hook. Paths are split and
 * matched by api_path.c.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "audit/audit.h"
#include "base/log.h"
#include "base/util.h"
#include "ui/ui.h"

#include <strings.h>

enum route_flags {
    ROUTE_PUBLIC = 1, /* no authentication, not audited (probes, public key) */
    ROUTE_OPENAI = 2, /* OpenAI-compatible: errors in OpenAI's envelope */
    ROUTE_INLINE = 4, /* never blocks: runs on the event-loop thread (api_inline) */
    ROUTE_ANON = 8,   /* no authentication, but audited (the SSO and CLI sign-in steps) */
};

struct route {
    enum http_method method;
    const char *pattern; /* literal segments and "{}" for a variable */
    api_handler_fn *handler;
    const char *event; /* audit event type */
    unsigned flags;
};

static const struct route routes[] = {
    {HTTP_GET, "/healthz", api_health, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/readyz", api_ready, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/health", api_health, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/status", api_status, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/openapi.json", api_openapi, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/audit/public-key", api_audit_public_key, NULL, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/auth/userinfo", api_userinfo, "auth.userinfo", 0},
    {HTTP_GET, "/api/v1/auth/login", api_auth_login, "auth.login.started", ROUTE_ANON},
    {HTTP_GET, "/api/v1/auth/callback", api_auth_callback, "auth.login", ROUTE_ANON},
    {HTTP_GET, "/api/v1/auth/saml/metadata", api_saml_metadata, NULL, ROUTE_PUBLIC},
    {HTTP_POST, "/api/v1/auth/saml/acs", api_saml_acs, "auth.login", ROUTE_ANON},
    {HTTP_GET, "/api/v1/auth/saml/slo", api_saml_slo, "auth.logout", ROUTE_ANON},
    {HTTP_POST, "/api/v1/auth/saml/slo", api_saml_slo, "auth.logout", ROUTE_ANON},
    {HTTP_POST, "/api/v1/auth/logout", api_auth_logout, "auth.logout", 0},
    {HTTP_GET, "/api/v1/auth/cli/authorize", api_cli_authorize, "auth.cli.authorize", ROUTE_ANON},
    {HTTP_POST, "/api/v1/auth/cli/authorize", api_cli_authorize_confirm, "auth.cli.authorized",
     ROUTE_ANON},
    {HTTP_POST, "/api/v1/auth/cli/token", api_cli_token, "auth.cli.token", ROUTE_ANON},
    {HTTP_POST, "/api/v1/auth/cli/revoke", api_cli_revoke, "auth.cli.revoked", ROUTE_ANON},
    {HTTP_GET, "/api/v1/auth/sessions", api_auth_sessions_list, "auth.session.listed", 0},
    {HTTP_DELETE, "/api/v1/auth/sessions/{}", api_auth_sessions_revoke, "auth.session.revoked", 0},
    {HTTP_DELETE, "/api/v1/auth/users/{}/sessions", api_auth_user_sessions_revoke,
     "auth.session.revoked", 0},
    {HTTP_POST, "/api/v1/tokens", api_tokens_create, "token.created", 0},
    {HTTP_GET, "/api/v1/tokens", api_tokens_list, "token.listed", 0},
    {HTTP_POST, "/api/v1/tokens/{}/rotate", api_tokens_rotate, "token.rotated", 0},
    {HTTP_DELETE, "/api/v1/tokens/{}", api_tokens_revoke, "token.revoked", 0},
    {HTTP_POST, "/api/v1/agents", api_agents_register, "agent.registered", 0},
    {HTTP_GET, "/api/v1/agents", api_agents_list, "agent.listed", 0},
    {HTTP_DELETE, "/api/v1/agents/{}/{}", api_agents_delete, "agent.deleted", 0},
    {HTTP_GET, "/api/v1/namespaces", api_namespaces_list, "namespace.listed", 0},
    {HTTP_GET, "/api/v1/namespaces/{}", api_namespaces_get, "namespace.read", 0},
    {HTTP_POST, "/api/v1/namespaces/{}/members", api_namespaces_member_add,
     "namespace.member_added", 0},
    {HTTP_DELETE, "/api/v1/namespaces/{}/members", api_namespaces_member_remove,
     "namespace.member_removed", 0},
    {HTTP_GET, "/api/v1/scopes", api_scopes_list, "scope.listed", 0},
    {HTTP_POST, "/api/v1/channels/{}/{}/messages", api_messages_send, "message.sent", 0},
    {HTTP_GET, "/api/v1/channels/{}/{}/messages", api_messages_list, "message.listed", 0},
    {HTTP_GET, "/api/v1/conversations", api_conversations_list, "conversation.listed", 0},
    {HTTP_GET, "/api/v1/conversations/{}", api_conversations_get, "conversation.read", 0},
    {HTTP_DELETE, "/api/v1/conversations/{}", api_conversations_delete, "conversation.deleted", 0},
    {HTTP_GET, "/api/v1/conversations/{}/export", api_conversations_export, "conversation.exported",
     0},
    {HTTP_GET, "/api/v1/memory/{}/{}", api_memory_get, "memory.read", 0},
    {HTTP_PUT, "/api/v1/memory/{}/{}", api_memory_put, "memory.written", 0},
    {HTTP_GET, "/api/v1/audit", api_audit_query, "audit.queried", 0},
    {HTTP_GET, "/api/v1/audit/export", api_audit_export, "audit.exported", 0},
    {HTTP_GET, "/api/v1/audit/verify", api_audit_verify, "audit.verified", 0},
    {HTTP_POST, "/api/v1/audit/verify", api_audit_verify, "audit.verified", 0},
    {HTTP_GET, "/api/v1/audit/head", api_audit_head, "audit.head", 0},
    {HTTP_GET, "/api/v1/audit/proof/inclusion/{}", api_audit_proof_inclusion, "audit.proved", 0},
    {HTTP_GET, "/api/v1/audit/proof/consistency", api_audit_proof_consistency, "audit.proved", 0},
    {HTTP_POST, "/api/v1/audit/keys/rotate", api_audit_rotate_key, "audit.key_rotated", 0},
    {HTTP_POST, "/api/v1/admin/reload", api_admin_reload, "config.reloaded", 0},
    {HTTP_GET, "/api/v1/policies/effective", api_policies_effective, "policy.effective_read", 0},
    {HTTP_POST, "/api/v1/policies/evaluate", api_policies_evaluate, "policy.evaluated", 0},
    {HTTP_POST, "/api/v1/policies", api_policies_create, "policy.created", 0},
    {HTTP_GET, "/api/v1/policies", api_policies_list, "policy.listed", 0},
    {HTTP_GET, "/api/v1/policies/{}", api_policies_get, "policy.read", 0},
    {HTTP_PUT, "/api/v1/policies/{}", api_policies_update, "policy.updated", 0},
    {HTTP_DELETE, "/api/v1/policies/{}", api_policies_deprecate, "policy.deprecated", 0},
    {HTTP_GET, "/api/v1/policies/{}/history", api_policies_history, "policy.history_read", 0},
    {HTTP_GET, "/api/v1/policies/{}/diff", api_policies_diff, "policy.diff_read", 0},
    {HTTP_POST, "/api/v1/policies/{}/rollback", api_policies_rollback, "policy.rolled_back", 0},
    {HTTP_GET, "/v1/models", api_models_list, "model.listed", ROUTE_OPENAI},
    {HTTP_GET, "/v1/models/{*}", api_models_get, "model.read", ROUTE_OPENAI},
    {HTTP_GET, "/api/v1/providers", api_providers_list, "provider.listed", 0},
    {HTTP_POST, "/api/v1/providers", api_providers_add, "provider.created", 0},
    {HTTP_GET, "/api/v1/providers/{}", api_providers_get, "provider.read", 0},
    {HTTP_PATCH, "/api/v1/providers/{}", api_providers_set, "provider.updated", 0},
    {HTTP_DELETE, "/api/v1/providers/{}", api_providers_remove, "provider.removed", 0},
    {HTTP_POST, "/api/v1/providers/{}/test", api_providers_test, "provider.tested", 0},
    {HTTP_GET, "/api/v1/models", api_catalog_list, "model.catalog_listed", 0},
    {HTTP_POST, "/api/v1/models", api_catalog_add, "model.created", 0},
    {HTTP_GET, "/api/v1/models/{}/{}", api_catalog_get, "model.catalog_read", 0},
    {HTTP_PATCH, "/api/v1/models/{}/{}", api_catalog_set, "model.updated", 0},
    {HTTP_DELETE, "/api/v1/models/{}/{}", api_catalog_remove, "model.removed", 0},
    {HTTP_POST, "/api/v1/models/{}/{}/test", api_catalog_test, "model.tested", 0},
    {HTTP_PUT, "/api/v1/agents/{}/{}/model", api_agents_model_set, "agent.model_set", 0},
    {HTTP_POST, "/v1/chat/completions", api_chat_completions, "model.completion",
     ROUTE_OPENAI | ROUTE_INLINE},
    {HTTP_GET, "/api/v1/streams/{}", api_streams_resume, "stream.resumed", 0},
    {HTTP_POST, "/api/v1/tools/invoke", api_tools_invoke, "tool.invoked", 0},
    {HTTP_GET, "/api/v1/classification/{}/{}", api_classification_get, "classification.read", 0},
    {HTTP_PUT, "/api/v1/classification/{}/{}", api_classification_put, "classification.overridden",
     0},
    {HTTP_DELETE, "/api/v1/classification/{}/{}", api_classification_clear,
     "classification.cleared", 0},
    {HTTP_GET, "/api/v1/approvals", api_approvals_list, "approval.listed", 0},
    {HTTP_GET, "/api/v1/approvals/{}", api_approvals_get, "approval.read", 0},
    {HTTP_POST, "/api/v1/approvals/{}/approve", api_approvals_approve, "approval.approved", 0},
    {HTTP_POST, "/api/v1/approvals/{}/reject", api_approvals_reject, "approval.rejected", 0},
    {HTTP_GET, "/api/v1/costs", api_costs_get, "costs.read", 0},
};

static const char *method_names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OTHER"};

void api_routes_print(FILE *f)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++)
        fprintf(f, "%s %s %s\n", method_names[routes[i].method], routes[i].pattern,
                routes[i].flags & ROUTE_PUBLIC ? "public"
                : routes[i].flags & ROUTE_ANON ? "anon"
                                               : "auth");
}

bool api_inline(struct http_req *r, void *ctx)
{
    /* an OPA query is a blocking HTTP call: with OPA configured nothing runs inline */
    struct cfg *c = api_config((struct api_deps *)ctx);
    bool opa = c->opa_url != NULL;
    cfg_unref(c);
    if (opa)
        return false;
    /* only literal routes can be inline: an exact comparison on the raw path is enough */
    for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++)
        if ((routes[i].flags & ROUTE_INLINE) && routes[i].method == r->method &&
            strcmp(routes[i].pattern, r->raw_path) == 0)
            return true;
    return false;
}

/* A route whose pattern ends in "{*}" takes the rest of the path as one variable, '/' included
 * however the client wrote it ("%2F" or not): a model id "<provider>/<model>" is one name. */
static const struct route *match_rest(struct api_call *c, const char *path, const char **why)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(routes); i++) {
        const char *pat = routes[i].pattern;
        size_t n = strlen(pat) - 3;
        if (strcmp(pat + n, "{*}") != 0 || strncmp(path, pat, n) != 0 || !path[n])
            continue;
        if (routes[i].flags & ROUTE_OPENAI) /* its errors, a bad rest of the path too */
            c->r->openai_errors = true;
        char *d = api_path_rest(c->r->pool, path + n, why);
        if (!d)
            return NULL;
        c->var[0] = d;
        c->n_var = 1;
        return &routes[i];
    }
    return NULL;
}

static void release_call(void *arg)
{
    struct api_call *c = arg;
    json_decref(c->gc.audit.details);
    cfg_unref(c->gc.cfg);
}

/* Answers 429 for an address that failed to authenticate too often (wait seconds left). */
static void respond_throttled(struct api_call *c, unsigned wait)
{
    char retry[48];
    snprintf(retry, sizeof(retry), "Retry-After: %u", wait);
    const char *hdrs[] = {retry, NULL};
    c->gc.audit.type = "auth.throttled";
    http_respond_error_h(c->r, GW_ETHROTTLED, hdrs,
                         "too many failed authentications from this address; retry in %u s", wait);
}

bool api_throttled(struct api_call *c)
{
    unsigned wait = auth_throttle_check(c->d->throttle, c->r->client_ip,
                                        c->gc.cfg->failed_auth_limit);
    if (wait)
        respond_throttled(c, wait);
    return wait != 0;
}

/* The tenant this address serves: by Host header, else by path prefix (stripped from *path),
 * else the primary tenant (whose users may belong to any tenant, by their IdP's claim). */
static void route_tenant(struct api_call *c, const char **path)
{
    const struct cfg *cfg = c->gc.cfg;
    const char *rest = NULL;
    c->base = "";
    c->tenant = cfg_tenant_by_host(cfg, http_header(c->r, "Host"));
    if (!c->tenant && (c->tenant = cfg_tenant_by_path(cfg, *path, &rest))) {
        c->base = c->tenant->path_prefix;
        *path = rest;
    }
    if (!c->tenant)
        c->tenant = &cfg->tenants[0];
}

/* A credential is good for its own tenant only: an address routed to another tenant refuses
 * it (the primary's addresses serve every tenant's credentials, each in its own tenant). */
static bool tenant_matches(struct api_call *c)
{
    if (c->tenant->primary || strcmp(c->gc.p->tenant, c->tenant->id) == 0)
        return true;
    c->gc.audit.type = "auth.denied";
    c->gc.audit.details = json_pack("{s:s,s:s}", "reason", "credential of another tenant", "tenant",
                                    c->tenant->id);
    http_respond_error(c->r, GW_EFORBIDDEN,
                       "this credential belongs to tenant '%s'; this "
                       "address serves tenant '%s'",
                       c->gc.p->tenant, c->tenant->id);
    return false;
}

/* A throttled address (too many failures from the real client, see gateway.trusted_proxies)
 * is not locked out wholesale: credentials checked locally (gateway tokens, sessions, CLI
 * tokens) still work, since they are 256-bit random secrets that no rate of guessing finds;
 * what fails is answered 429, and IdP bearer tokens, whose check may cost the IdP a request,
 * are refused unchecked. So one client behind a shared address cannot lock out the others,
 * and a guesser gains nothing. */
bool api_identify(struct api_call *c, bool local_only, gw_err *rc, char *msg, size_t cap)
{
    struct api_deps *d = c->d;
    struct http_req *r = c->r;
    struct auth_credentials cr = {
        .authorization = http_header(r, "Authorization"),
        .session_cookie = api_session_cookie(c),
        .csrf_token = http_header(r, "X-CSRF-Token"),
        .mutation = r->method != HTTP_GET && r->method != HTTP_HEAD,
        .local_only = local_only,
    };
    struct auth_ctx x = {.tokens = d->auth,
                         .grants = d->grants,
                         .sso = d->sso,
                         .cfg = c->gc.cfg,
                         .idp = api_idp_tenant(c)};
    *rc = auth_identify(&x, &cr, r->pool, &c->gc.p, msg, cap);
    if (*rc != GW_OK) {
        c->gc.p = NULL;
        return false;
    }
    c->gc.tenant = c->gc.p->tenant;
    return true;
}

static bool authenticate(struct api_call *c)
{
    struct api_deps *d = c->d;
    char msg[200];
    gw_err rc;
    unsigned wait = auth_throttle_check(d->throttle, c->r->client_ip, c->gc.cfg->failed_auth_limit);
    if (api_identify(c, wait != 0, &rc, msg, sizeof(msg)))
        return true;
    if (wait || rc == GW_ETHROTTLED) {
        respond_throttled(c, wait ? wait : 1);
        return false;
    }
    if (rc == GW_EFORBIDDEN || rc == GW_ESTORE || rc == GW_EUPSTREAM || rc == GW_EUNAVAIL) {
        /* CSRF, role mapping; store or IdP (introspection) down: not the client's fault */
        c->gc.audit.type = rc == GW_EFORBIDDEN ? "auth.denied" : "auth.failed";
        c->gc.audit.details = json_pack("{s:s}", "reason", msg);
        http_respond_error(c->r, rc, "%s", msg);
        return false;
    }
    auth_throttle_fail(d->throttle, c->r->client_ip);
    c->gc.audit.type = "auth.failed";
    c->gc.audit.details = json_pack("{s:s}", "reason", msg);
    const char *hdrs[] = {"WWW-Authenticate: Bearer realm=\"openclaw\"", NULL};
    http_respond_error_h(c->r, GW_EUNAUTH, hdrs, "%s", msg);
    return false;
}

void api_dispatch(struct http_req *r, void *ctx)
{
    struct api_deps *d = ctx;
    struct api_call *c = gw_pool_calloc(r->pool, sizeof(*c));
    c->d = d;
    c->r = r;
    c->gc = (struct gov_call){.gov = d->gov,
                              .pool = r->pool,
                              .cfg = api_config(d),
                              .request_id = r->request_id,
                              .client_ip = r->client_ip};
    r->user = c;
    gw_pool_cleanup_add(r->pool, release_call, c);

    char *seg[API_MAX_SEGMENTS];
    size_t nseg = 0;
    const char *why = NULL, *path = r->raw_path;
    route_tenant(c, &path);
    c->gc.tenant = c->tenant->id;
    const struct route *found = match_rest(c, path, &why);
    bool rest = found != NULL;
    char allow[96] = "";
    if (rest && found->method != r->method &&
        !(r->method == HTTP_HEAD && found->method == HTTP_GET)) {
        snprintf(allow, sizeof(allow), "%s", method_names[found->method]);
        found = NULL;
    }
    if (why || (!rest && !api_path_split(r->pool, path, seg, &nseg, &why))) {
        c->gc.audit.type = "api.rejected";
        http_respond_error(r, GW_EINVAL, "%s", why);
        return;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(routes) && !rest; i++) {
        if (!api_path_match(routes[i].pattern, seg, nseg, c->var, &c->n_var))
            continue;
        if (routes[i].method == r->method ||
            (r->method == HTTP_HEAD && routes[i].method == HTTP_GET)) {
            found = &routes[i];
            break;
        }
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
                 method_names[routes[i].method]);
    }
    if (!found) {
        if (!allow[0] && ui_serve(r, path, c->base)) { /* the web UI's pages (src/ui) */
            c->gc.audit.done = true;
            return;
        }
        c->gc.audit.type = "api.not_found";
        if (allow[0]) {
            char hdr[128];
            snprintf(hdr, sizeof(hdr), "Allow: %s", allow);
            const char *hdrs[] = {hdr, NULL};
            http_respond_error_h(r, GW_EMETHOD, hdrs, "method %s not allowed here", r->method_name);
        } else {
            http_respond_error(r, GW_ENOTFOUND, "no such endpoint");
        }
        return;
    }
    if (found->flags & ROUTE_OPENAI)
        r->openai_errors = true;
    bool anonymous = found->flags & (ROUTE_PUBLIC | ROUTE_ANON);
    if (!anonymous && (!authenticate(c) || !tenant_matches(c)))
        return;
    if (found->flags & ROUTE_PUBLIC)
        c->gc.audit.done = true; /* probes and public keys are not audited */
    c->gc.audit.type = found->event;
    found->handler(c);
}

void api_done(struct http_req *r, void *ctx)
{
    GW_UNUSED(ctx);
    struct api_call *c = r->user;
    if (!c)
        return;
    json_t *fallback = c->gc.audit.done || c->gc.audit.details || !c->gc.audit.type
                           ? NULL
                           : json_pack("{s:s,s:s}", "method", r->method_name, "path", r->raw_path);
    gov_audit_finish(&c->gc, r->status, fallback);
    json_decref(fallback);
}

bool api_audit_sync(struct api_call *c, const char *type, const char *resource, int status,
                    json_t *details)
{
    if (gov_audit_ahead(&c->gc, type, resource, status, details) == GW_OK)
        return true;
    http_respond_error(c->r, GW_EAUDIT, "the audit trail cannot be written; nothing was changed");
    return false;
}

void api_deny_channel(struct api_call *c, const char *ns, const char *agent)
{
    char why[512];
    auth_deny_reason(c->gc.p, ns, agent, why, sizeof(why));
    http_respond_error(c->r, GW_EFORBIDDEN, "%s", why);
}

bool api_require(struct api_call *c, const char *scope)
{
    if (auth_allows(c->gc.p, scope))
        return true;
    http_respond_error(c->r, GW_EFORBIDDEN, "missing scope %s", scope);
    return false;
}

json_t *api_json_body(struct api_call *c)
{
    /* OpenAI-compatible servers read a body sent without a Content-Type as JSON, and clients
     * of /v1 rely on it; a wrong explicit type is refused everywhere */
    const char *ct = http_header(c->r, "Content-Type");
    bool absent_ok = c->r->openai_errors && (!ct || !*ct);
    if (!absent_ok && (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
                       (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' '))) {
        http_respond_error(c->r, GW_EMEDIA, "expected Content-Type: application/json");
        return NULL;
    }
    char msg[200];
    json_t *v = gw_json_parse(c->r->body.data ? c->r->body.data : "", c->r->body.len,
                              GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    if (!v) {
        http_respond_error(c->r, GW_EJSON, "invalid JSON: %s", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        http_respond_error(c->r, GW_EINVAL, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

const char *api_time(struct api_call *c, int64_t ms)
{
    if (!ms)
        return NULL;
    char *s = gw_pool_alloc(c->r->pool, 40);
    gw_time_iso8601(ms, s, 40);
    return s;
}
