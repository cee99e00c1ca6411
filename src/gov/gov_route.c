/* SPDX-License-Identifier: MIT
 * gov_route.c — model routing: configuration (and the run-time catalog, llm_registry.h), budget,
 * policy, residency, fallbacks.
 */
#include "base/prelude.h"
#include "gov/gov_route.h"
#include "gov/gov_int.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "llm/llm_registry.h"
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
static enum pol_effect decide(struct gov_call *gc, const struct cfg_provider *prov, const char *id,
                              int level, double spent, struct pol_decision *dec)
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
    return gov_decide(gc, POL_ACT_MODEL_CALL, id, level, ctx, prov->max_classification >= 0 ? 4 : 3,
                      dec);
}

static void catalog_release(void *arg)
{
    llm_catalog_unref(arg);
}

/* Why a configured fallback is not kept, for the audit and a failed call's message. */
static void skip(struct gov_call *gc, struct gov_route *route, const char *id, const char *why)
{
    route->skipped = gw_pool_printf(gc->pool, "%s%s%s (%s)", route->skipped ? route->skipped : "",
                                    route->skipped ? ", " : "", id, why);
}

gw_err gov_model_route(struct gov_call *gc, const char *model_id, int level, const char *workspace,
                       struct gov_route *route, char *msg, size_t cap)
{
    const struct cfg *cfg = gc->cfg;
    struct gw_pool *pool = gc->pool;
    struct meter *costs = gc->gov->d.costs;
    const char *tenant = gc->p->tenant;
    memset(route, 0, sizeof(*route));
    route->requested = gw_pool_strdup(pool, model_id);
    route->routed = route->requested;
    route->classification = level;
    if (gc->gov->d.models) { /* held as long as the call: its targets may point into it */
        route->catalog = llm_registry_catalog(gc->gov->d.models);
        gw_pool_cleanup_add(pool, catalog_release, route->catalog);
    }
    const struct llm_catalog *cat = route->catalog;
    struct llm_target t;
    gw_err rc = llm_catalog_find(cat, cfg, tenant, model_id, &t, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (costs) {
        rc = meter_check(costs, tenant, workspace, &route->spent_usd, msg, cap);
        if (rc != GW_OK)
            return rc;
    }
    struct pol_decision *dec = &route->decision;
    enum pol_effect eff = decide(gc, t.provider, model_id, level, route->spent_usd, dec);
    route->decided = true;
    route->classification = dec->classification; /* data.default_classification if unknown */
    if (eff == POL_ALLOW && dec->ob.reroute_model) {
        const char *to = dec->ob.reroute_model;
        struct llm_target rt;
        char why[200];
        if (llm_catalog_find(cat, cfg, tenant, to, &rt, why, sizeof(why)) != GW_OK) {
            snprintf(msg, cap,
                     "policy reroutes this call to '%s', which cannot be used (%s): "
                     "refused rather than sent to '%s'",
                     to, why, model_id);
            return GW_EFORBIDDEN;
        }
        /* the reroute target must itself be allowed for this data */
        struct pol_decision rdec;
        if (decide(gc, rt.provider, to, level, route->spent_usd, &rdec) != POL_ALLOW ||
            rdec.ob.reroute_model) {
            snprintf(msg, cap,
                     "policy reroutes this call to '%s', which the policy does not "
                     "allow either: %s",
                     to, rdec.reason);
            return GW_EFORBIDDEN;
        }
        route->rerouted = true;
        route->routed = gw_pool_strdup(pool, to);
        t = rt;
    } else if (eff == POL_REQUIRE_APPROVAL) {
        gov_denial(dec,
                   "policy requires approval for this model call, and model calls cannot "
                   "wait for one: ",
                   msg, cap);
        return GW_EFORBIDDEN;
    } else if (eff != POL_ALLOW) {
        gov_denial(dec, "", msg, cap);
        return GW_EFORBIDDEN;
    }
    const struct cfg_provider *prov = t.provider;
    if (!region_allowed(cfg, prov)) {
        snprintf(msg, cap,
                 "provider '%s' processes data in region '%s', which data residency "
                 "(models.allowed_regions) does not allow",
                 prov->name, prov->region ? prov->region : "unspecified");
        return GW_EFORBIDDEN;
    }
    route->targets[0] = t;
    route->n_targets = 1;
    for (size_t i = 0; i < prov->n_fallback; i++) {
        const char *id = prov->fallback[i];
        struct llm_target ft;
        struct pol_decision fdec;
        char why[8];
        if (route->n_targets == GOV_MAX_TARGETS)
            skip(gc, route, id, "more than four fallbacks");
        else if (llm_catalog_find(cat, cfg, tenant, id, &ft, why, sizeof(why)) != GW_OK)
            skip(gc, route, id, "not configured or disabled");
        else if (!region_allowed(cfg, ft.provider))
            skip(gc, route, id, "region not allowed");
        else if (decide(gc, ft.provider, id, level, route->spent_usd, &fdec) != POL_ALLOW ||
                 fdec.ob.reroute_model)
            skip(gc, route, id, "not allowed by the policy for this data");
        else {
            route->targets[route->n_targets++] = ft;
            /* the text sent is one for every target: any target's obligation applies to all */
            dec->ob.redact |= fdec.ob.redact;
        }
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
                         ? json_pack("{s:s,s:s?,s:I,s:s}", "effect", pol_effect_name(d->effect),
                                     "policy_id", d->policy_id, "policy_version",
                                     (json_int_t)d->policy_version, "reason", d->reason)
                         : json_null(); /* refused before the policy was asked (unknown model,
                                           budget) */
    return json_pack("{s:s,s:s,s:b,s:s?,s:o,s:s?,s:I,s:o}", "requested_model", route->requested,
                     "model", route->routed, "rerouted", route->rerouted, "classification",
                     route->classification >= 0 ? pol_level_name(route->classification) : NULL,
                     "fallbacks", fallbacks, "fallbacks_skipped", route->skipped, "redacted",
                     (json_int_t)route->redacted, "policy", policy);
}
