/* SPDX-License-Identifier: MIT
 * gov_approval.h — the approval queue as doors use it (parking happens inside gov_act).
 *
 * Every function acts for gc->p in gc->p's tenant. An item is visible to its requester and to
 * whoever it names as approver (team_lead of the requester's team, the configured role, or the
 * requester itself with approver: self); to anyone else it does not exist (GW_ENOTFOUND).
 */
#ifndef GW_GOV_APPROVAL_H
#define GW_GOV_APPROVAL_H

#include "gov/gov.h"

/* The visible items, newest first, optionally of one status (a new JSON array). */
gw_err gov_approval_list(struct gov_call *gc, const char *status, json_t **out);
gw_err gov_approval_get(struct gov_call *gc, const char *id, json_t **item, char *msg, size_t cap);
/* Approves (edited_args: edit-then-approve, checked like the original) and runs the action
 * exactly once, as its requester; GW_OK with *result the action's result (also for the
 * approver that ran it asking again). Otherwise GW_ENOTFOUND, GW_EFORBIDDEN (not an
 * approver), GW_ECONFLICT (decided, expired), GW_EINVAL (edited arguments), GW_EAUDIT, or the
 * action's own error ("approved, but the action failed: ..."), with msg. */
gw_err gov_approval_approve(struct gov_call *gc, const char *id, const json_t *edited_args,
                            const char *comment, json_t **result, char *msg, size_t cap);
/* Rejects (approvers; the requester withdraws its own). GW_OK with *repeated set when the
 * caller had approved and run it already (its result, as gov_approval_approve answers). */
gw_err gov_approval_reject(struct gov_call *gc, const char *id, const char *comment,
                           json_t **repeated, char *msg, size_t cap);

#endif
