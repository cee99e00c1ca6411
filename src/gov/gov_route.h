/* SPDX-License-Identifier: MIT
 * gov_route.h — choosing where a model call may go: the one path the OpenAI-compatible proxy
 * and the agent loop share.
 *
 * For a requested "<provider>/<model>" and the classification of the data it carries:
 * the model must be configured (in gateway.yaml or at run time, llm_registry.h); the workspace's
 * budget must not be exhausted (onExceed: disable); the policy's models domain decides (allow,
 * deny, or reroute to the self-hosted sensitive_data_model — a reroute is reported, never silent);
 * the provider must process data in an allowed region (models.allowed_regions); and each configured
 * fallback is kept only if the same checks allow it, so a fallback can never send data where the
 * primary could not.
 */
#ifndef GW_GOV_ROUTE_H
#define GW_GOV_ROUTE_H

#include "base/prelude.h"
#include "base/err.h"
#include "llm/llm.h"
#include "policy/policy.h"

struct gov_call;
struct llm_catalog;

#define GOV_MAX_TARGETS 5 /* the primary and up to four fallbacks */

struct gov_route {
    struct llm_target targets[GOV_MAX_TARGETS];
    size_t n_targets;
    const char *requested; /* "<provider>/<model>" asked for */
    const char *routed;    /* where it goes ("<provider>/<model>"), == requested unless rerouted */
    bool rerouted;
    int classification;           /* enum pol_level of the data (the level the policy used) */
    double spent_usd;             /* the workspace's spend this month before the call */
    struct pol_decision decision; /* the deciding policy decision for the primary target */
    bool decided;                 /* the policy was asked (not refused before: model, budget) */
    size_t redacted;              /* findings masked by the caller (decision.ob.redact) */
    const char *skipped;          /* configured fallbacks not kept, each with why, or NULL */
    struct llm_catalog *catalog;  /* the run-time entries the targets may point into (held by
                                     the call's pool), or NULL */
};

/* Fills route or returns: GW_ENOTFOUND (unknown or disabled model), GW_EPAYMENT (budget),
 * GW_EFORBIDDEN (policy or residency), with the reason in msg. Strings are in the call's
 * pool. */
gw_err gov_model_route(struct gov_call *gc, const char *model_id, int level, const char *workspace,
                       struct gov_route *route, char *msg, size_t cap);

/* The decision of a route as audit details (new reference). */
json_t *gov_route_details(const struct gov_route *route);

#endif
