/* SPDX-License-Identifier: MIT
 * gov_route.c — model routing: configuration, budget, policy, residency, fallbacks.
 */
#include "base/prelude.h"
#include "gov/gov_route.h"
#include "gov/gov_int.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "meter/meter.h"

static bool region_allowed(const struct cfg *cfg, const struct cfg_provider *p)
{
    if (!cfg->n_allowed_regions)
        return true;
    for (size_t i = 0; i < cfg->n_allowed_regions; i++)
        if (p->region && strcmp(cfg->allowed_regions[i], p->region) == 0)
            return true;
    return false;
}

/* The policy decision for sending data of `level` to `id` at provider p. */
static enum pol_effect decide(struct gov_call *gc, const struct cfg_provider *prov,
                              const char *id, int level, double spent, struct pol_decision *dec)
{
    char spent_s[32], ceiling[24];
    snprintf(spent_s, sizeof(spent_s), "%lld", (long long)spent);
    snprintf(ceiling, sizeof(ceiling), "%s",
             prov->max_classification >= 0 ? pol_level_name(prov->max_classification) : "");
    struct pol_kv ctx[4] = {
        {"provider", prov->name},
        {"provider_kind", prov->self_hosted ? "self_hosted" : "external"},
        {"spent_usd", spent_s},
        {"provider_ceiling", ceiling},
    };
    return gov_decide(gc, POL_ACT_MODEL_CALL, id, level, ctx,
                      prov->max_classification >= 0 ? 4 : 3, dec);
}

gw_err gov_model_route(struct gov_call *gc, const char *model_id, int level,
                       const char *workspace, struct gov_route *route, char *msg, size_t cap)
{
    const struct cfg *cfg = gc->cfg;
    struct gw_pool *pool = gc->pool;
    struct meter *costs = gc->gov->d.costs;
    memset(route, 0, sizeof(*route));
    route->requested = gw_pool_strdup(pool, model_id);
    route->routed = route->requested;
    route->classification = level;
    const struct cfg_provider *prov = NULL;
    const struct cfg_model *model = cfg_find_model(cfg, model_id, &prov);
    if (!model) {
        snprintf(msg, cap, "model '%s' is not configured (GET /v1/models lists the models)",
                 model_id);
        return GW_ENOTFOUND;
    }
    if (costs) {
        gw_err rc = meter_check(costs, gc->p->tenant, workspace, &route->spent_usd, msg, cap);
        if (rc != GW_OK)
            return rc;
    }
    struct pol_decision *dec = &route->decision;
    enum pol_effect eff = decide(gc, prov, model_id, level, route->spent_usd, dec);
    route->decided = true;
    route->classification = dec->classification; /* data.default_classification if unknown */
    if (eff == POL_ALLOW && dec->ob.reroute_model) {
        const char *to = dec->ob.reroute_model;
        const struct cfg_provider *rprov = NULL;
        const struct cfg_model *rmodel = cfg_find_model(cfg, to, &rprov);
        if (!rmodel) {
            snprintf(msg, cap, "policy reroutes this call to '%s', which is not configured: "
                     "refused rather than sent to '%s'", to, model_id);
            return GW_EFORBIDDEN;
        }
        /* the reroute target must itself be allowed for this data */
        struct pol_decision rdec;
        if (decide(gc, rprov, to, level, route->spent_usd, &rdec) != POL_ALLOW ||
            rdec.ob.reroute_model) {
            snprintf(msg, cap, "policy reroutes this call to '%s', which the policy does not "
                     "allow either: %s", to, rdec.reason);
            return GW_EFORBIDDEN;
        }
        route->rerouted = true;
        route->routed = gw_pool_strdup(pool, to);
        prov = rprov;
        model = rmodel;
    } else if (eff == POL_REQUIRE_APPROVAL) {
        gov_denial(dec, "policy requires approval for this model call, and model calls cannot "
                   "wait for one: ", msg, cap);
        return GW_EFORBIDDEN;
    } else if (eff != POL_ALLOW) {
        gov_denial(dec, "", msg, cap);
        return GW_EFORBIDDEN;
    }
    if (!region_allowed(cfg, prov)) {
        snprintf(msg, cap, "provider '%s' processes data in region '%s', which data residency "
                 "(models.allowed_regions) does not allow", prov->name,
                 prov->region ? prov->region : "unspecified");
        return GW_EFORBIDDEN;
    }
    route->targets[0] = (struct llm_target){prov, model};
    route->n_targets = 1;
    for (size_t i = 0; i < prov->n_fallback && route->n_targets < GOV_MAX_TARGETS; i++) {
        const struct cfg_provider *fprov = NULL;
        const struct cfg_model *fmodel = cfg_find_model(cfg, prov->fallback[i], &fprov);
        struct pol_decision fdec;
        if (!fmodel || !region_allowed(cfg, fprov) ||
            decide(gc, fprov, prov->fallback[i], level, route->spent_usd, &fdec) !=
                POL_ALLOW ||
            fdec.ob.reroute_model)
            continue;
        route->targets[route->n_targets++] = (struct llm_target){fprov, fmodel};
        /* the text sent is one for every target: any target's obligation applies to all */
        dec->ob.redact |= fdec.ob.redact;
    }
    return GW_OK;
}

json_t *gov_route_details(const struct gov_route *route)
{
    const struct pol_decision *d = &route->decision;
    json_t *fallbacks = json_array();
    for (size_t i = 1; i < route->n_targets; i++)
        json_array_append_new(fallbacks, json_sprintf("%s/%s", route->targets[i].provider->name,
                                                      route->targets[i].model->name));
    json_t *policy = route->decided
        ? json_pack("{s:s,s:s?,s:I,s:s}", "effect", pol_effect_name(d->effect), "policy_id",
                    d->policy_id, "policy_version", (json_int_t)d->policy_version, "reason",
                    d->reason)
        : json_null(); /* refused before the policy was asked (unknown model, budget) */
    return json_pack("{s:s,s:s,s:b,s:s?,s:o,s:I,s:o}", "requested_model", route->requested,
                     "model", route->routed, "rerouted", route->rerouted, "classification",
                     route->classification >= 0 ? pol_level_name(route->classification) : NULL,
                     "fallbacks", fallbacks, "redacted", (json_int_t)route->redacted, "policy",
                     policy);
}
