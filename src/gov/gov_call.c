/* SPDX-License-Identifier: MIT
 * gov_call.c — a governed call's one audit event: written ahead of a mutation, or when the
 * call completes; and the extra events of its steps.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"

const char *gov_outcome_of(int status)
{
    if (status < 400)
        return "ok";
    if (status == 401 || status == 403 || status == 429)
        return "denied";
    return status >= 500 ? "error" : "failed";
}

/* The event of the call as the principal's (or anonymous) act, about data of that level. */
static struct audit_event event_at(const struct gov_call *gc, const char *type,
                                   const char *resource, const char *classification, int status,
                                   const char *outcome, json_t *details)
{
    const struct auth_principal *p = gc->p;
    return (struct audit_event){
        .type = type,
        .outcome = outcome,
        .actor = p ? p->actor : "anonymous",
        .token_id = p ? p->token_id : NULL,
        .org_unit = p ? p->org_unit : NULL,
        .team = p ? p->team : NULL,
        .resource = resource,
        .request_id = gc->request_id,
        .client_ip = gc->client_ip,
        .classification = classification,
        .status = status,
        .details = details,
    };
}

/* The call's own level. */
static struct audit_event event_of(const struct gov_call *gc, const char *type,
                                   const char *resource, int status, const char *outcome,
                                   json_t *details)
{
    return event_at(gc, type, resource, gc->audit.classification, status, outcome, details);
}

gw_err gov_audit_ahead(struct gov_call *gc, const char *type, const char *resource, int status,
                       json_t *details)
{
    gc->audit.type = type;
    /* copied: callers often pass strings of a request body freed before the call ends */
    gc->audit.resource = gw_pool_strdup(gc->pool, resource);
    json_decref(gc->audit.details);
    gc->audit.details = details;
    struct audit_event ev = event_of(gc, type, resource, status, "ok", details);
    if (audit_record_sync(gc->gov->d.audit, gc->tenant, &ev) != GW_OK) {
        gc->audit.type = "audit.unavailable";
        return GW_EAUDIT;
    }
    gc->audit.done = true;
    return GW_OK;
}

void gov_audit_failed(struct gov_call *gc)
{
    gc->audit.type = gw_pool_printf(gc->pool, "%s.failed", gc->audit.type);
    gc->audit.done = false;
}

gw_err gov_audit_step_at(struct gov_call *gc, const char *type, const char *resource, int level,
                         int status, json_t *details)
{
    const char *classification = level >= 0 ? pol_level_name(level) : gc->audit.classification;
    struct audit_event ev = event_at(gc, type, resource, classification, status,
                                     status >= 400 ? "denied" : "ok", details);
    return audit_record_sync(gc->gov->d.audit, gc->tenant, &ev) == GW_OK ? GW_OK : GW_EAUDIT;
}

gw_err gov_audit_step(struct gov_call *gc, const char *type, const char *resource, int status,
                      json_t *details)
{
    return gov_audit_step_at(gc, type, resource, -1, status, details);
}

void gov_audit_finish(struct gov_call *gc, int status, const json_t *fallback_details)
{
    if (!gc->audit.done && gc->audit.type) {
        json_t *details = gc->audit.details ? gc->audit.details : (json_t *)fallback_details;
        struct audit_event ev = event_of(gc, gc->audit.type, gc->audit.resource, status,
                                         gov_outcome_of(status), details);
        if (audit_record(gc->gov->d.audit, gc->tenant, &ev) != GW_OK)
            gw_error("gov: audit event for request %s could not be queued", gc->request_id);
    }
    json_decref(gc->audit.details);
    gc->audit.details = NULL;
    gc->audit.done = true;
}
