/* SPDX-License-Identifier: MIT
 * api_tools.h — built-in tools and the approval queue, shared by their two files.
 */
#ifndef GW_API_TOOLS_H
#define GW_API_TOOLS_H

#include "api/api_int.h"
#include "policy/policy.h"

/* Validates a tool call (name, argument shape and sizes) and classifies the data it carries. */
/* A tool call on behalf of p through the policy hook, outside /tools/invoke (agent turns):
 * decided and audited, then run (write-ahead audited), parked for approval, or refused.
 * *status is "executed", "denied", "pending_approval" or "error"; returns the result for the
 * model (new reference). */
json_t *api_tool_execute(struct api_call *c, const char *tool, json_t *args,
                         const char **status);
gw_err api_tool_check(const struct cfg *cfg, const char *tool, const json_t *args,
                      enum pol_level *level, char *msg, size_t cap);
/* Runs a checked tool on behalf of p (scopes re-checked here). *result is a new reference. */
gw_err api_tool_run(struct gwd *g, const struct auth_principal *p, const char *tool,
                    const json_t *args, struct gw_pool *pool, json_t **result, char *msg,
                    size_t cap);
/* The overridden level of a memory document (api_classification.c), or -1 when none. */
int api_classification_override(struct gwd *g, const char *tenant, const char *ns,
                                const char *agent);
/* Parks the action for approval (audited, stored). With answer, this is the request's own
 * outcome: answers 202 (or the error). Without, the request goes on (an agent turn) and the
 * approval is audited as an event of its own; the id is copied to id_out. */
gw_err api_approval_create(struct api_call *c, const char *tool, const json_t *args,
                           const struct pol_decision *dec, bool answer, char *id_out,
                           size_t id_cap, json_t *decision_json);
/* Parks the action for approval and answers 202 (api_approvals.c). */
void api_approval_park(struct api_call *c, const char *tool, const json_t *args,
                       const struct pol_decision *dec, json_t *decision_json);

#endif
