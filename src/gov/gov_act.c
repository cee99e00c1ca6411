/* SPDX-License-Identifier: MIT
 * gov_act.c — the one pipeline every action goes through (the steps are in gov_action.h).
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "ns/ns.h"

const struct gov_action *gov_action_find(const struct gov *g, const char *name)
{
    for (size_t i = 0; name && i < g->d.n_actions; i++)
        if (!strcmp(g->d.actions[i]->name, name))
            return g->d.actions[i];
    return NULL;
}

const char *gov_action_names(const struct gov *g)
{
    return g->action_names;
}

void gov_outcome_release(struct gov_outcome *o)
{
    json_decref(o->result);
    json_decref(o->approvers);
    o->result = o->approvers = NULL;
}

static gw_err finish(struct gov_outcome *out, enum gov_state state, gw_err err)
{
    out->state = state;
    out->err = err;
    return state == GOV_EXECUTED || state == GOV_PENDING ? GW_OK : err;
}

/* The principal reaches the target and holds the action's permission (approval never widens
 * this: an approved action is checked again as its requester, with today's grants). */
static bool allowed(const struct auth_principal *p, const struct gov_action *a,
                    const struct gov_target *t, char *why, size_t cap)
{
    bool shared = strcmp(t->agent, NS_SHARED) == 0;
    if (!(shared ? auth_allows_namespace(p, t->ns) : auth_allows_channel(p, t->ns, t->agent))) {
        auth_deny_reason(p, t->ns, shared ? NULL : t->agent, why, cap);
        return false;
    }
    if (a->scope && !auth_allows(p, a->scope)) {
        snprintf(why, cap, "missing scope %s", a->scope);
        return false;
    }
    return true;
}

static const char *event(struct gov_call *gc, const struct gov_action *a, const char *what)
{
    return gw_pool_printf(gc->pool, "%s.%s", a->audit, what);
}

gw_err gov_act(struct gov_call *gc, const struct gov_action *a, const json_t *args, unsigned flags,
               struct gov_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct gov_target *t = &out->target;
    bool step = flags & GOV_ACT_STEP, approved = flags & GOV_ACT_APPROVED;
    gw_err rc = a->check(gc, args, t, out->msg, sizeof(out->msg));
    if (rc != GW_OK)
        return finish(out, GOV_INVALID, rc);
    if (!step) {
        gc->audit.resource = t->resource;
        gc->audit.classification = pol_level_name(t->level);
    }
    if (!allowed(gc->p, a, t, out->msg, sizeof(out->msg)))
        return finish(out, GOV_DENIED, GW_EFORBIDDEN);
    /* an administrator's override of the document's level replaces the detectors' */
    int overridden = gov_classification_override(gc, t->ns, t->agent);
    if (overridden >= 0) {
        t->level = (enum pol_level)overridden;
        if (!step)
            gc->audit.classification = pol_level_name(t->level);
    }
    if (!approved) {
        enum pol_effect eff = gov_decide_audited(gc, a->pol, a->name, (int)t->level, NULL, 0,
                                                 &out->decision);
        out->decided = true;
        if (eff == POL_REQUIRE_APPROVAL) {
            gov_approval_park(gc, a, args, flags, out);
            return out->err;
        }
        if (eff == POL_DENY) {
            gov_denial(&out->decision, "denied by policy: ", out->msg, sizeof(out->msg));
            if (!step) {
                gc->audit.type = event(gc, a, "denied");
                gc->audit.details = json_pack("{s:s,s:O,s:s,s:s}", "tool", a->name, "args", args,
                                              "decision", "deny", "reason", out->decision.reason);
            }
            return finish(out, GOV_DENIED, GW_EFORBIDDEN);
        }
    }
    /* an approved action was audited ahead by its approval */
    if (!approved) {
        json_t *details = json_pack("{s:s,s:O,s:s,s:s}", "tool", a->name, "args", args, "decision",
                                    pol_effect_name(out->decision.effect), "reason",
                                    out->decision.reason);
        const char *type = event(gc, a, "invoked");
        if (step) {
            rc = gov_audit_step_at(gc, type, t->resource, (int)t->level, 200, details);
            json_decref(details);
        } else if (a->mutation) {
            rc = gov_audit_ahead(gc, type, t->resource, 200, details);
        } else { /* a read: its event is the call's own, written with its outcome */
            gc->audit.type = type;
            json_decref(gc->audit.details);
            gc->audit.details = details;
        }
        if (rc != GW_OK) {
            snprintf(out->msg, sizeof(out->msg),
                     "the audit trail cannot be written; nothing "
                     "was done");
            return finish(out, GOV_FAILED, rc);
        }
    }
    rc = a->run(gc, args, t, &out->result, out->msg, sizeof(out->msg));
    if (rc != GW_OK) {
        if (!step && !approved && a->mutation)
            gov_audit_failed(gc);
        if (!out->msg[0])
            snprintf(out->msg, sizeof(out->msg), "the action failed (%s)", gw_err_message(rc));
        return finish(out, GOV_FAILED, rc);
    }
    return finish(out, GOV_EXECUTED, GW_OK);
}
