/* SPDX-License-Identifier: MIT
 * gov_int.h — private to src/gov: the runtime and what the pipeline's files share.
 */
#ifndef GW_GOV_INT_H
#define GW_GOV_INT_H

#include "gov/gov.h"
#include "gov/gov_action.h"

struct gov {
    struct gov_deps d;
    struct gov_policy *policy;
    char *action_names; /* "memory_read, memory_write, ..." */
};

/* Parks an action for approval (gov_approval.c): persists the action, its arguments, the
 * frozen principal, who may approve and the deciding policy; audits "approval.requested" (the
 * call's own event, or a step with GOV_ACT_STEP). Fills out (GOV_PENDING, or GOV_FAILED). */
void gov_approval_park(struct gov_call *gc, const struct gov_action *a, const json_t *args,
                       unsigned flags, struct gov_outcome *out);
/* gov_audit_step of a step that carries data of its own level (enum pol_level; -1: the call's),
 * which its event records instead of the call's. */
gw_err gov_audit_step_at(struct gov_call *gc, const char *type, const char *resource, int level,
                         int status, json_t *details);
/* The level an administrator set for a document, or -1 (gov_classify.c). */
int gov_classification_override(struct gov_call *gc, const char *ns, const char *agent);

#endif
