/* SPDX-License-Identifier: MIT
 * store_approvals.h — the approval queue: actions parked for a human decision, decided once by
 * compare-and-set. Part of the store interface (store.h).
 */
#ifndef GW_STORE_APPROVALS_H
#define GW_STORE_APPROVALS_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_approval {
    char *id; /* "apr_<hex>" */
    char *tenant;
    char *requester;  /* principal actor that asked */
    char *approvers;  /* JSON {"users":[...],"roles":[...],"team_lead_of":"team"|null} */
    char *action;     /* JSON of the frozen action (kind, tool, args, channel...) */
    char *policy;     /* JSON of the deciding policy (id, version, scope, reason) */
    char *status;     /* pending | executing | executed | failed | rejected | expired */
    char *decided_by; /* NULL until decided */
    char *comment;    /* approver's comment, may be NULL */
    char *result;     /* JSON result of the execution, NULL until executed */
    char *request_id; /* of the request that parked it */
    int64_t created_ms, expires_ms, decided_ms, executed_ms;
};

void store_approval_release(struct store_approval *a);
gw_err store_approval_insert(struct store *st, const struct store_approval *a);
/* GW_ENOTFOUND when absent in the tenant. */
gw_err store_approval_get(struct store *st, const char *tenant, const char *id,
                          struct store_approval *out);
/* Compare-and-set of the status: changes (tenant, id) from `from` to `to` only if its status is
 * `from` right now (one transaction), so two approvers racing cannot both win; GW_ECONFLICT
 * otherwise, GW_ENOTFOUND when absent. Non-NULL fields replace the stored ones: decided_by,
 * comment, action (edit-then-approve), result; *_ms fields > 0 replace theirs. */
struct store_approval_change {
    const char *from, *to;
    const char *decided_by, *comment, *action, *result;
    int64_t decided_ms, executed_ms;
};
gw_err store_approval_transition(struct store *st, const char *tenant, const char *id,
                                 const struct store_approval_change *ch);
/* Approvals of a tenant, newest first, optionally of one status (NULL = all), at most limit. */
gw_err store_approval_list(struct store *st, const char *tenant, const char *status, size_t limit,
                           struct store_approval **out, size_t *n);
void store_approval_list_free(struct store_approval *list, size_t n);
/* Pending approvals (all tenants) whose expires_ms <= now_ms, oldest first, at most limit. */
gw_err store_approval_due(struct store *st, int64_t now_ms, size_t limit,
                          struct store_approval **out, size_t *n);

#endif
