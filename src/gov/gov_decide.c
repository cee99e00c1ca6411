/* SPDX-License-Identifier: MIT
 * gov_decide.c — the one enforcement hook: built-in decision, optional OPA, audit.
 *
 * The built-in engine always decides first (microseconds, in-process). When OPA is configured
 * it sees the same request plus the principal's scope chain, the effective policy and the
 * built-in decision; the stricter of the two answers wins, so OPA can restrict but never widen
 * what the built-in policies allow, and a failing OPA denies.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "gov/gov_policy.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"

static json_t *scope_chain(const struct auth_principal *p)
{
    json_t *chain = json_array();
    json_array_append_new(chain, json_string("enterprise"));
    /* every org unit path prefix, from the top */
    for (const char *s = p->org_unit; s && *s;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - p->org_unit) : strlen(p->org_unit);
        json_array_append_new(chain, json_sprintf("org:%.*s", (int)n, p->org_unit));
        s = slash ? slash + 1 : NULL;
    }
    if (p->team)
        json_array_append_new(chain, json_sprintf("team:%s", p->team));
    if (p->user)
        json_array_append_new(chain, json_sprintf("user:%s", p->user));
    return chain;
}

static void ask_opa(struct net_loop *net, const struct cfg *c, struct pol_snapshot *snap,
                    const struct auth_principal *p, const struct pol_request *rq,
                    struct pol_decision *dec)
{
    json_t *ctx = json_object();
    for (size_t i = 0; i < rq->n_ctx; i++)
        json_object_set_new(ctx, rq->ctx[i].key, json_string(rq->ctx[i].value));
    json_t *eff = pol_effective_json(snap, rq->tenant, rq->org_unit, rq->team, rq->user,
                                     pol_action_domain(rq->action));
    json_t *input = json_pack("{s:{s:s,s:s?,s:s,s:s?,s:s?,s:o},s:s,s:s,s:s,s:o,s:o,s:o}",
                              "principal", "tenant", rq->tenant, "user", rq->user, "role", rq->role,
                              "org_unit", rq->org_unit, "team", rq->team, "scope_chain",
                              scope_chain(p), "action", pol_action_name(rq->action), "resource",
                              rq->resource, "classification", pol_level_name(dec->classification),
                              "context", ctx, "effective_policy", eff ? eff : json_null(),
                              "builtin_decision", pol_decision_to_json(dec, NULL));
    enum pol_effect opa = POL_DENY;
    char reason[POL_REASON_MAX];
    if (gov_opa_decide(net, c->opa_url, c->opa_timeout_ms, input, &opa, reason, sizeof(reason)) !=
        GW_OK) {
        opa = POL_DENY;
        snprintf(dec->reason, sizeof(dec->reason), "%.250s: denied (fail closed)", reason);
        dec->effect = POL_DENY;
    } else if (opa > dec->effect) {
        dec->effect = opa;
        snprintf(dec->reason, sizeof(dec->reason), "%s", reason);
    }
    json_decref(input);
}

enum pol_effect gov_decide(struct gov_call *gc, enum pol_action action, const char *resource,
                           int level, const struct pol_kv *ctx, size_t n_ctx,
                           struct pol_decision *out)
{
    const struct auth_principal *p = gc->p;
    struct pol_request rq = {
        .tenant = p->tenant,
        .user = p->user ? p->user : p->actor,
        .role = p->role,
        .org_unit = p->org_unit,
        .team = p->team,
        .action = action,
        .resource = resource,
        .classification = level,
        .ctx = ctx,
        .n_ctx = n_ctx,
    };
    struct pol_snapshot *snap = gov_policy_acquire(gc->gov->policy);
    pol_decide(snap, &rq, gc->pool, out, NULL);
    /* the decision's strings point into the snapshot, released below: keep copies */
    out->policy_id = gw_pool_strdup(gc->pool, out->policy_id);
    out->scope_id = gw_pool_strdup(gc->pool, out->scope_id);
    out->ob.reroute_model = gw_pool_strdup(gc->pool, out->ob.reroute_model);
    if (gc->cfg->opa_url && out->effect != POL_DENY)
        ask_opa(gc->gov->d.net, gc->cfg, snap, p, &rq, out);
    pol_snapshot_unref(snap);
    return out->effect;
}

enum pol_effect gov_decide_audited(struct gov_call *gc, enum pol_action action,
                                   const char *resource, int level, const struct pol_kv *ctx,
                                   size_t n_ctx, struct pol_decision *out)
{
    gov_decide(gc, action, resource, level, ctx, n_ctx, out);
    json_t *details = pol_decision_to_json(out, NULL);
    json_object_set_new(details, "action", json_string(pol_action_name(action)));
    json_object_set_new(details, "resource", json_string(resource));
    const struct auth_principal *p = gc->p;
    struct audit_event ev = {
        .type = "policy.decision",
        .outcome = out->effect == POL_DENY ? "denied" : "ok",
        .actor = p->actor,
        .token_id = p->token_id,
        .org_unit = p->org_unit,
        .team = p->team,
        .resource = resource,
        .request_id = gc->request_id,
        .client_ip = gc->client_ip,
        .classification = pol_level_name(out->classification),
        .details = details,
    };
    if (audit_record(gc->gov->d.audit, p->tenant, &ev) != GW_OK)
        gw_error("policy: decision for %s could not be queued for the audit", gc->request_id);
    json_decref(details);
    return out->effect;
}

void gov_denial(const struct pol_decision *d, const char *prefix, char *out, size_t cap)
{
    const char *domain = pol_domain_name(d->domain);
    if (d->has_policy && d->policy_id)
        snprintf(out, cap,
                 "%s%s (policy %s v%lld, %s%s%s; change it with `openclaw policy "
                 "update %s`)",
                 prefix, d->reason, d->policy_id, (long long)d->policy_version,
                 pol_scope_name(d->scope), d->scope_id ? " " : "", d->scope_id ? d->scope_id : "",
                 d->policy_id);
    else
        snprintf(out, cap,
                 "%s%s (no %s policy decided; an administrator can write one: "
                 "`openclaw policy create --scope enterprise --domain %s ...`)",
                 prefix, d->reason, domain, domain);
}
