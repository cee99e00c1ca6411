/* SPDX-License-Identifier: MIT
 * gov_enforce.c — where each action the policy engine declares is enforced, or why it is not
 * yet, and the enforcement point of data exports.
 *
 * The table is the inventory a reviewer checks: tests/unit/gov/test_gov_enforce.c fails when an
 * action the engine declares has neither an enforcement point nor a documented reason, and the
 * integration tests drive every enforcement point named here with a denying policy.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "gov/gov_enforce.h"
#include "auth/auth.h"

static const struct gov_enforcement table[POL_ACT__COUNT] = {
    [POL_ACT_TOOL_CALL] = {"gov_act (gov_act.c): every built-in tool, from POST "
                           "/api/v1/tools/invoke, agent turns and approvals",
                           NULL},
    [POL_ACT_MODEL_CALL] = {"gov_model_prepare (gov_model.c): POST /v1/chat/completions and "
                            "every model call of an agent turn, for the primary target, a "
                            "reroute and each fallback",
                            NULL},
    [POL_ACT_DATA_EXPORT] = {"gov_export_check (gov_enforce.c): GET /api/v1/audit/export, "
                             "GET /api/v1/conversations/{id}/export",
                             NULL},
    [POL_ACT_CONNECTOR_READ] = {NULL, "no connector exists in this build; connector operations "
                                      "become gov_action entries decided as connector_read"},
    [POL_ACT_CONNECTOR_WRITE] = {NULL, "no connector exists in this build; connector "
                                       "operations become gov_action entries decided as "
                                       "connector_write"},
    [POL_ACT_AGENT_MESSAGE] = {NULL, "agent-to-agent exchanges (OCIP) are not in this build; "
                                     "send_message between agents of one namespace is a "
                                     "tool_call"},
    [POL_ACT_FEATURE_USE] = {NULL, "none of the features this action governs (daily briefing, "
                                   "auto-response, work tracking, OCIP, org intelligence, "
                                   "visualization) runs in the gateway yet: the web UI renders "
                                   "visualization documents it is given"},
};

const struct gov_enforcement *gov_enforcement_of(enum pol_action a)
{
    return a < POL_ACT__COUNT ? &table[a] : NULL;
}

gw_err gov_export_check(struct gov_call *gc, const char *what, int level, bool external, char *msg,
                        size_t cap)
{
    struct pol_kv ctx[] = {{"destination", external ? "external" : "internal"}};
    struct pol_decision dec;
    enum pol_effect eff = gov_decide_audited(gc, POL_ACT_DATA_EXPORT, what, level, ctx, 1, &dec);
    if (eff == POL_ALLOW)
        return GW_OK;
    gov_denial(&dec,
               eff == POL_DENY ? "denied by policy: "
                               : "an approval is required, and exports cannot wait for "
                                 "one: ",
               msg, cap);
    return GW_EFORBIDDEN;
}
