/* SPDX-License-Identifier: MIT
 * api_tools.c — POST /api/v1/tools/invoke: the HTTP door to the spine's actions.
 *
 * Parses {"tool", "args"}, runs the named action through gov_act (scope, classification,
 * override, policy, approval, audit, run) and renders the outcome: 200 executed, 202 parked
 * for approval, 403 denied (by scope or by policy), 4xx for bad arguments.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "gov/gov_action.h"

void api_tools_invoke(struct api_call *c)
{
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *tool = gw_json_str(body, "tool");
    const struct gov_action *a = gov_action_find(c->gc.gov, tool);
    if (!a) {
        http_respond_error(c->r, GW_EINVAL, "unknown tool '%.64s' (known: %s)", tool ? tool : "",
                           gov_action_names(c->gc.gov));
        json_decref(body);
        return;
    }
    struct gov_outcome out;
    gov_act(&c->gc, a, json_object_get(body, "args"), 0, &out);
    json_t *decision = out.decided ? pol_decision_to_json(&out.decision, NULL) : NULL;
    switch (out.state) {
    case GOV_EXECUTED:
        http_respond_json(c->r, 200,
                          json_pack("{s:s,s:O,s:o}", "status", "executed", "result", out.result,
                                    "decision", decision));
        break;
    case GOV_PENDING:
        http_respond_json(c->r, 202,
                          json_pack("{s:s,s:s,s:s,s:O,s:o}", "status", "pending_approval",
                                    "approval_id", out.approval_id, "expires_at",
                                    api_time(c, out.expires_ms), "approvers", out.approvers,
                                    "decision", decision));
        break;
    default:
        json_decref(decision);
        http_respond_error(c->r, out.err, "%s", out.msg);
    }
    gov_outcome_release(&out);
    json_decref(body);
}
