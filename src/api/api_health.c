/* SPDX-License-Identifier: MIT
 * api_health.c — liveness, readiness, status (seed 000 shape) and identity endpoints.
 *
 * The plugin list is truthful: a plugin is "active" only when this build runs it; what later
 * releases will add is "unavailable".
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "llm/llm.h"
#include "audit/audit.h"
#include "audit/fwd/audit_fwd.h"
#include "base/util.h"
#include "http/http.h"

static const struct {
    const char *name;
    const char *state;
    const char *detail;
} plugins[] = {
    {"policy-engine", "active",
     "hierarchical policies, decisions with trace, approvals, optional OPA"},
    {"audit-enterprise", "active",
     "hash-chained audit trail with signed checkpoints, SIEM "
     "forwarding (CEF, LEEF, JSON, HEC, ECS, OCSF)"},
    {"auth-enterprise", "active",
     "scoped tokens, RBAC, OIDC and SAML 2.0 single sign-on, "
     "sessions, CLI sign-in, tenants"},
    {"connector-gmail", "unavailable", "not built yet"},
    {"connector-gcal", "unavailable", "not built yet"},
    {"connector-jira", "unavailable", "not built yet"},
    {"connector-github", "unavailable", "not built yet"},
    {"connector-gdrive", "unavailable", "not built yet"},
    {"task-intelligence", "unavailable", "not built yet"},
    {"auto-response", "unavailable", "not built yet"},
    {"work-tracking", "unavailable", "not built yet"},
    {"ocip-protocol", "unavailable", "not built yet"},
    {"org-intelligence", "unavailable", "not built yet"},
    {"visualization", "unavailable", "not built yet"},
};

void api_health(struct api_call *c)
{
    static const char body[] = "{\"status\":\"ok\"}\n";
    http_respond(c->r, 200, "application/json", body, sizeof(body) - 1, NULL);
}

void api_ready(struct api_call *c)
{
    struct audit_stats st;
    audit_get_stats(c->d->audit, &st);
    struct api_health h;
    c->d->host.health(c->d->host.arg, &h);
    bool store_ok = h.store_ok, draining = h.draining;
    bool ready = store_ok && st.healthy && st.integrity_ok && !draining;
    json_t *body = json_pack("{s:b,s:{s:s,s:s,s:s}}", "ready", ready, "checks", "store",
                             store_ok ? "ok" : "unreachable", "audit",
                             st.healthy ? "ok" : "failing", "audit_integrity",
                             st.integrity_ok ? "ok" : "failing");
    /* Redis down does not take the node out of the balancer: it serves what it can still
     * guarantee (shared/README.md) and says so */
    json_object_set_new(json_object_get(body, "checks"), "shared",
                        json_string(h.shared_ok ? "ok" : "degraded"));
    if (!h.shared_ok)
        json_object_set_new(body, "degraded", json_string(h.shared_detail));
    if (draining)
        json_object_set_new(body, "draining", json_true());
    http_respond_json(c->r, ready ? 200 : 503, body);
}

static json_t *strv_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* Who the caller is and what it may really do: "scopes" are the effective ones (the token's
 * capped by the role), "namespaces" those it reaches (every one in the tenant when
 * all_namespaces). */
static json_t *principal_json(struct api_call *c, const struct auth_principal *p)
{
    size_t ne = 0;
    const char **eff = auth_effective_scopes(p, c->r->pool, &ne);
    json_t *perms = p->perms ? strv_json(p->perms, p->n_perms) : strv_json(eff, ne);
    bool all = (p->perms && !strcmp(p->role, "enterprise_admin")) ||
               (!p->perms && auth_allows(p, "channels:*"));
    json_t *j = json_pack("{s:s,s:s?,s:s?,s:s,s:s,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:b}", "user",
                          p->actor, "email", p->email, "name", p->name, "role", p->role, "tenant",
                          p->tenant, "org_unit", p->org_unit, "team", p->team, "token_id",
                          p->token_id, "scopes", strv_json(eff, ne), "permissions", perms,
                          "namespaces", api_reachable_namespaces(c), "all_namespaces", all);
    if (p->token_id)
        json_object_set_new(j, "token_scopes", strv_json(p->scopes, p->n_scopes));
    return j;
}

void api_status(struct api_call *c)
{
    struct audit_stats st;
    audit_get_stats(c->d->audit, &st);
    struct api_health h;
    c->d->host.health(c->d->host.arg, &h);
    json_t *pl = json_array();
    for (size_t i = 0; i < GW_ARRAY_LEN(plugins); i++)
        json_array_append_new(pl, json_pack("{s:s,s:s,s:s}", "name", plugins[i].name, "state",
                                            plugins[i].state, "detail", plugins[i].detail));
    json_t *body = json_pack(
        "{s:s,s:I,s:s,s:{s:s,s:s,s:s,s:s},s:{s:I,s:I,s:I,s:I},s:o}", "version", GW_VERSION,
        "uptime_seconds", (json_int_t)((gw_now_ms() - h.started_ms) / 1000), "tenant",
        c->tenant->id, "components", "store", h.store_ok ? "healthy" : "unhealthy", "audit",
        st.healthy ? "healthy" : "unhealthy", "audit_integrity",
        st.integrity_ok ? "healthy" : "unhealthy", "http", h.draining ? "draining" : "healthy",
        "audit", "appended", (json_int_t)st.appended, "queue_depth", (json_int_t)st.queue_depth,
        "batches", (json_int_t)st.batches, "failures", (json_int_t)st.failures, "plugins", pl);
    /* which node answered: behind a load balancer the caller cannot tell otherwise */
    json_object_set_new(body, "node_id", json_string(c->gc.cfg->cluster.node_id));
    json_object_set_new(json_object_get(body, "components"), "shared",
                        json_pack("{s:s,s:s,s:s}", "state", h.shared_ok ? "healthy" : "degraded",
                                  "backend", h.shared_backend, "detail", h.shared_detail));
    /* how people sign in here (the web UI's sign-in page): SSO protocols, or tokens only */
    const struct cfg_sso *sso = api_idp_tenant(c)->sso;
    json_t *protocols = json_array();
    if (sso->enabled && sso->oidc_enabled)
        json_array_append_new(protocols, json_string("oidc"));
    if (sso->enabled && sso->saml.enabled)
        json_array_append_new(protocols, json_string("saml"));
    json_object_set_new(json_object_get(body, "components"), "siem",
                        json_string(audit_fwd_state(c->d->siem)));
    json_object_set_new(body, "sso",
                        json_pack("{s:b,s:o,s:s?}", "enabled", sso->enabled, "protocols", protocols,
                                  "default", sso->enabled ? sso->default_protocol : NULL));
    /* identity is optional here: the endpoint is public, a valid credential (checked locally:
     * never an IdP round trip for a public endpoint) adds the principal */
    char msg[200];
    gw_err rc;
    bool who = (http_header(c->r, "Authorization") || api_session_cookie(c)) &&
               api_identify(c, true, &rc, msg, sizeof(msg));
    if (who && (c->tenant->primary || !strcmp(c->gc.p->tenant, c->tenant->id))) {
        json_object_set_new(body, "principal", principal_json(c, c->gc.p));
        /* provider queues (depth, waits) are operational detail: authenticated callers only */
        if (c->d->llm)
            json_object_set_new(body, "model_queues",
                                llm_client_status(c->d->llm, c->gc.p->tenant));
        /* SIEM back-pressure: the caller's own tenant's cursors only */
        json_object_set_new(body, "siem", audit_fwd_status(c->d->siem, c->gc.p->tenant));
    }
    http_respond_json(c->r, 200, body);
}

void api_userinfo(struct api_call *c)
{
    json_t *body = principal_json(c, c->gc.p);
    api_auth_userinfo_extend(c, body);
    http_respond_json(c->r, 200, body);
}
