/* SPDX-License-Identifier: MIT
 * gov_approval.c — the approval queue: park, list, read, approve (run exactly once), reject,
 * expire.
 *
 * A parked item freezes what would run: the action's name, its arguments and the requester's
 * identity and scopes at the time of the request, so an approval can neither widen nor change
 * who acts; the requester's namespace grants are today's when it runs (a grant withdrawn
 * meanwhile is not used). Approval is a compare-and-set in the store (pending → executing →
 * executed): two approvers racing cannot both run it, and repeating an approval returns the
 * stored result. The approved action re-enters the one pipeline (gov_act) as its requester,
 * past the decision. Nothing waits: parking answers at once.
 */
#include "base/prelude.h"
#include "gov/gov_int.h"
#include "gov/gov_approval.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "store/store.h"

#define LIST_MAX 1000
#define EXPIRE_BATCH 256

static json_t *strv_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *parse(const char *s)
{
    json_error_t e;
    return s ? json_loads(s, 0, &e) : NULL;
}

/* Who may approve, decided when the item is parked (configuration at that time). */
static json_t *approvers_for(const struct cfg *cfg, const struct auth_principal *p)
{
    const char *mode = cfg->approver ? cfg->approver : "team_lead";
    if (strcmp(mode, "self") == 0)
        return json_pack("{s:s,s:s}", "mode", "self", "actor", p->actor);
    if (strcmp(mode, "role") == 0)
        return json_pack("{s:s,s:s}", "mode", "role", "role", cfg->approver_role);
    if (p->team)
        return json_pack("{s:s,s:s}", "mode", "team_lead", "team", p->team);
    return json_pack("{s:s,s:s}", "mode", "role", "role", "enterprise_admin");
}

static bool may_approve(const struct auth_principal *p, const json_t *approvers,
                        const char *requester)
{
    const char *mode = gw_json_str(approvers, "mode");
    if (!mode)
        return false;
    if (strcmp(mode, "self") == 0)
        return strcmp(p->actor, gw_json_str(approvers, "actor")) == 0;
    if (strcmp(p->actor, requester) == 0)
        return false; /* nobody approves their own action unless the policy says self */
    if (strcmp(mode, "team_lead") == 0)
        return strcmp(p->role, "team_lead") == 0 && p->team &&
               strcmp(p->team, gw_json_str(approvers, "team")) == 0;
    const char *role = gw_json_str(approvers, "role");
    return role && strcmp(p->role, role) == 0;
}

/* The requester as the item keeps it: identity and scopes, never a secret. */
static json_t *frozen_json(const struct auth_principal *p)
{
    json_t *who = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:o,s:o*}", "tenant", p->tenant, "actor",
                            p->actor, "user", p->user, "token_id", p->token_id, "org_unit",
                            p->org_unit, "team", p->team, "scopes",
                            strv_json(p->scopes, p->n_scopes), "perms",
                            p->perms ? strv_json(p->perms, p->n_perms) : NULL);
    json_object_set_new(who, "role", json_string(p->role));
    json_object_set_new(who, "email", p->email ? json_string(p->email) : json_null());
    if (p->groups)
        json_object_set_new(who, "groups", strv_json(p->groups, p->n_groups));
    return who;
}

/* The requester again, with today's namespace grants. */
static struct auth_principal *frozen_principal(struct gov_call *gc, const json_t *who)
{
    struct gw_pool *pool = gc->pool;
    struct auth_principal *p = gw_pool_calloc(pool, sizeof(*p));
    p->tenant = gw_pool_strdup(pool, gw_json_str(who, "tenant"));
    p->actor = gw_pool_strdup(pool, gw_json_str(who, "actor"));
    p->user = gw_pool_strdup(pool, gw_json_str(who, "user"));
    p->token_id = gw_pool_strdup(pool, gw_json_str(who, "token_id"));
    p->role = gw_pool_strdup(pool, gw_json_str(who, "role"));
    p->org_unit = gw_pool_strdup(pool, gw_json_str(who, "org_unit"));
    p->team = gw_pool_strdup(pool, gw_json_str(who, "team"));
    p->email = gw_pool_strdup(pool, gw_json_str(who, "email"));
    const json_t *lists[3] = {json_object_get(who, "scopes"), json_object_get(who, "perms"),
                              json_object_get(who, "groups")};
    const char ***dst[3] = {&p->scopes, &p->perms, &p->groups};
    size_t *count[3] = {&p->n_scopes, &p->n_perms, &p->n_groups};
    for (int k = 0; k < 3; k++) {
        if (!json_is_array(lists[k]))
            continue;
        size_t n = json_array_size(lists[k]);
        const char **v = gw_pool_calloc(pool, (n + 1) * sizeof(char *));
        for (size_t i = 0; i < n; i++)
            v[i] = gw_pool_strdup(pool, json_string_value(json_array_get(lists[k], i)));
        *dst[k] = v;
        *count[k] = n;
    }
    auth_principal_attach_grants(p, gc->gov->d.grants, pool);
    return p;
}

void gov_approval_park(struct gov_call *gc, const struct gov_action *a, const json_t *args,
                       unsigned flags, struct gov_outcome *out)
{
    const struct auth_principal *p = gc->p;
    const struct pol_decision *dec = &out->decision;
    char hex[25];
    gw_random_hex(hex, 12);
    const char *id = gw_pool_printf(gc->pool, "apr_%s", hex);
    json_t *action = json_pack("{s:s,s:s,s:O,s:o}", "kind", pol_action_name(a->pol), "tool",
                               a->name, "args", args, "principal", frozen_json(p));
    json_t *approvers = approvers_for(gc->cfg, p);
    json_t *policy = json_pack("{s:s?,s:I,s:s,s:s?,s:s}", "id",
                               dec->has_policy ? dec->policy_id : NULL, "version",
                               (json_int_t)dec->policy_version, "scope", pol_scope_name(dec->scope),
                               "scope_id", dec->scope_id, "reason", dec->reason);
    int64_t now = gw_now_ms();
    char *a_s = gw_json_canonical(action), *ap_s = gw_json_canonical(approvers),
         *po_s = gw_json_canonical(policy);
    struct store_approval row = {
        .id = (char *)id,
        .tenant = (char *)p->tenant,
        .requester = (char *)p->actor,
        .approvers = ap_s,
        .action = a_s,
        .policy = po_s,
        .status = "pending",
        .request_id = (char *)gc->request_id,
        .created_ms = now,
        .expires_ms = now + (int64_t)gc->cfg->approval_ttl_s * 1000,
    };
    json_t *details = json_pack("{s:s,s:s,s:O,s:O,s:O}", "approval_id", id, "tool", a->name, "args",
                                args, "approvers", approvers, "policy", policy);
    gw_err rc;
    if (flags & GOV_ACT_STEP) {
        rc = gov_audit_step_at(gc, "approval.requested", id, (int)out->target.level, 202, details);
        json_decref(details);
    } else {
        rc = gov_audit_ahead(gc, "approval.requested", id, 202, details);
    }
    if (rc == GW_OK && store_approval_insert(gc->gov->d.store, &row) != GW_OK) {
        rc = GW_ESTORE;
        if (!(flags & GOV_ACT_STEP))
            gov_audit_failed(gc);
    }
    if (rc == GW_OK) {
        out->state = GOV_PENDING;
        out->approval_id = id;
        out->expires_ms = row.expires_ms;
        out->approvers = json_incref(approvers);
        snprintf(out->msg, sizeof(out->msg),
                 "this action needs a human approval and will run "
                 "once approved: %s",
                 dec->reason);
    } else {
        out->state = GOV_FAILED;
        snprintf(out->msg, sizeof(out->msg),
                 rc == GW_EAUDIT ? "the audit trail cannot be written; nothing was done"
                                 : "the approval request could not be stored");
    }
    out->err = rc;
    free(a_s);
    free(ap_s);
    free(po_s);
    json_decref(action);
    json_decref(approvers);
    json_decref(policy);
}

/* --- reading ------------------------------------------------------------------------------- */

static const char *iso(struct gov_call *gc, int64_t ms)
{
    if (!ms)
        return NULL;
    char *s = gw_pool_alloc(gc->pool, 40);
    gw_time_iso8601(ms, s, 40);
    return s;
}

/* The item as doors show it (never the frozen grants). */
static json_t *item_json(struct gov_call *gc, const struct store_approval *a)
{
    json_t *action = parse(a->action);
    json_t *shown = json_pack("{s:O*,s:O*}", "tool", json_object_get(action, "tool"), "args",
                              json_object_get(action, "args"));
    json_t *res = parse(a->result);
    json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:o*,s:o*,s:s,s:s,s:s?,s:s?,s:s?,s:o}", "id", a->id,
                          "status", a->status, "requester", a->requester, "action", shown, "policy",
                          parse(a->policy), "approvers", parse(a->approvers), "created_at",
                          iso(gc, a->created_ms), "expires_at", iso(gc, a->expires_ms),
                          "decided_by", a->decided_by, "decided_at", iso(gc, a->decided_ms),
                          "comment", a->comment, "result", res ? res : json_null());
    json_decref(action);
    return j;
}

static bool visible(const struct auth_principal *p, const struct store_approval *a)
{
    json_t *ap = parse(a->approvers);
    bool ok = strcmp(a->requester, p->actor) == 0 || may_approve(p, ap, a->requester);
    json_decref(ap);
    return ok;
}

gw_err gov_approval_list(struct gov_call *gc, const char *status, json_t **out)
{
    struct store_approval *list = NULL;
    size_t n = 0;
    if (store_approval_list(gc->gov->d.store, gc->p->tenant, status, LIST_MAX, &list, &n) != GW_OK)
        return GW_ESTORE;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (visible(gc->p, &list[i]))
            json_array_append_new(arr, item_json(gc, &list[i]));
    store_approval_list_free(list, n);
    *out = arr;
    return GW_OK;
}

/* Loads id for the caller: GW_ENOTFOUND when absent or not theirs to see. */
static gw_err load(struct gov_call *gc, const char *id, struct store_approval *a, char *msg,
                   size_t cap)
{
    memset(a, 0, sizeof(*a));
    gc->audit.resource = gw_pool_strdup(gc->pool, id);
    if (store_approval_get(gc->gov->d.store, gc->p->tenant, id, a) != GW_OK || !visible(gc->p, a)) {
        store_approval_release(a);
        snprintf(msg, cap, "no approval '%.64s'", id);
        return GW_ENOTFOUND;
    }
    return GW_OK;
}

gw_err gov_approval_get(struct gov_call *gc, const char *id, json_t **item, char *msg, size_t cap)
{
    struct store_approval a;
    gw_err rc = load(gc, id, &a, msg, cap);
    if (rc == GW_OK)
        *item = item_json(gc, &a);
    store_approval_release(&a);
    return rc;
}

/* --- deciding ------------------------------------------------------------------------------ */

/* An item that is no longer pending: the approver who executed it gets the same answer again
 * (idempotent retries); anyone else learns it was already decided. */
static gw_err decided_already(struct gov_call *gc, const struct store_approval *a, json_t **result,
                              char *msg, size_t cap)
{
    gc->audit.type = "approval.repeated";
    json_decref(gc->audit.details);
    gc->audit.details = json_pack("{s:s,s:s}", "approval_id", a->id, "status", a->status);
    if (strcmp(a->status, "executed") == 0 && a->decided_by &&
        strcmp(a->decided_by, gc->p->actor) == 0) {
        *result = parse(a->result);
        return GW_OK;
    }
    snprintf(msg, cap, "approval %s is already %s%s%s", a->id, a->status,
             a->decided_by ? " by " : "", a->decided_by ? a->decided_by : "");
    return GW_ECONFLICT;
}

static void expire_one(struct gov *g, const struct store_approval *a, const char *request_id)
{
    struct store_approval_change ch = {.from = "pending",
                                       .to = "expired",
                                       .decided_by = "system",
                                       .decided_ms = gw_now_ms()};
    if (store_approval_transition(g->d.store, a->tenant, a->id, &ch) != GW_OK)
        return;
    json_t *d = json_pack("{s:s}", "approval_id", a->id);
    struct audit_event ev = {.type = "approval.expired",
                             .outcome = "ok",
                             .actor = "system",
                             .resource = a->id,
                             .request_id = request_id,
                             .details = d};
    audit_record(g->d.audit, a->tenant, &ev);
    json_decref(d);
}

/* Who may approve, in words (the requester never approves its own action but with
 * approver: self). */
static void who_approves(const struct store_approval *a, char *text, size_t cap)
{
    json_t *ap = parse(a->approvers);
    const char *mode = gw_json_str(ap, "mode");
    if (mode && !strcmp(mode, "self"))
        snprintf(text, cap, "only its requester (%s) approves it", a->requester);
    else if (mode && !strcmp(mode, "team_lead"))
        snprintf(text, cap,
                 "a team_lead of team %s other than the requester (%s) "
                 "approves it (policy.approver)",
                 gw_json_str(ap, "team"), a->requester);
    else
        snprintf(text, cap,
                 "a holder of the role %s other than the requester (%s) "
                 "approves it (policy.approver)",
                 gw_json_str(ap, "role") ? gw_json_str(ap, "role") : "?", a->requester);
    json_decref(ap);
}

/* Who may decide a pending, unexpired item; the message says why not. */
static gw_err decidable(struct gov_call *gc, const struct store_approval *a, bool reject,
                        json_t **result, char *msg, size_t cap)
{
    if (strcmp(a->status, "pending") != 0)
        return decided_already(gc, a, result, msg, cap);
    json_t *approvers = parse(a->approvers);
    /* the requester may withdraw (reject) its own request */
    bool ok = may_approve(gc->p, approvers, a->requester) ||
              (reject && strcmp(gc->p->actor, a->requester) == 0);
    json_decref(approvers);
    if (!ok) {
        char who[300];
        who_approves(a, who, sizeof(who));
        snprintf(msg, cap, "you are not an approver of %s: %s", a->id, who);
        return GW_EFORBIDDEN;
    }
    if (a->expires_ms <= gw_now_ms()) {
        expire_one(gc->gov, a, gc->request_id);
        snprintf(msg, cap, "approval %s has expired", a->id);
        return GW_ECONFLICT;
    }
    return GW_OK;
}

/* Runs the frozen (or edited) action as its requester; records the result and its event. */
static gw_err execute(struct gov_call *gc, const struct store_approval *a, json_t *action,
                      json_t **result, char *msg, size_t cap)
{
    const char *tool = gw_json_str(action, "tool");
    const json_t *args = json_object_get(action, "args");
    const struct gov_action *act = gov_action_find(gc->gov, tool);
    struct gov_call as = *gc; /* the same request, acting as the requester */
    as.p = frozen_principal(gc, json_object_get(action, "principal"));
    as.audit = (struct gov_audit){0};
    struct gov_outcome out = {0};
    gw_err rc = act ? gov_act(&as, act, args, GOV_ACT_STEP | GOV_ACT_APPROVED, &out) : GW_EINVAL;
    if (!act)
        snprintf(out.msg, sizeof(out.msg), "the action '%.64s' no longer exists", tool ? tool : "");
    *result = rc == GW_OK ? json_incref(out.result)
                          : json_pack("{s:s,s:s}", "error", gw_err_name(rc), "message", out.msg);
    char *res = gw_json_canonical(*result);
    struct store_approval_change done = {.from = "executing",
                                         .to = rc == GW_OK ? "executed" : "failed",
                                         .result = res,
                                         .executed_ms = gw_now_ms()};
    if (store_approval_transition(gc->gov->d.store, gc->p->tenant, a->id, &done) != GW_OK)
        gw_error("approvals: %s ran but its result could not be stored", a->id);
    free(res);
    /* the execution itself, with its result, as the requester (whose rights it used) */
    json_t *ed = json_pack("{s:s,s:s,s:s,s:O}", "approval_id", a->id, "tool", tool ? tool : "",
                           "approved_by", gc->p->actor, "result", *result);
    const struct auth_principal *who = as.p;
    struct audit_event ev = {.type = rc == GW_OK ? "approval.executed"
                                                 : "approval.execution_failed",
                             .outcome = rc == GW_OK ? "ok" : "error",
                             .actor = who->actor,
                             .token_id = who->token_id,
                             .org_unit = who->org_unit,
                             .team = who->team,
                             .resource = a->id,
                             .request_id = gc->request_id,
                             .client_ip = gc->client_ip,
                             .status = rc == GW_OK ? 200 : gw_err_http_status(rc),
                             .details = ed};
    if (audit_record(gc->gov->d.audit, gc->p->tenant, &ev) != GW_OK)
        gw_error("approvals: the execution of %s could not be queued for the audit", a->id);
    json_decref(ed);
    if (rc != GW_OK)
        snprintf(msg, cap, "approved, but the action failed: %s", out.msg);
    gov_outcome_release(&out);
    return rc;
}

gw_err gov_approval_approve(struct gov_call *gc, const char *id, const json_t *edited_args,
                            const char *comment, json_t **result, char *msg, size_t cap)
{
    *result = NULL;
    struct store_approval a;
    gw_err rc = load(gc, id, &a, msg, cap);
    json_t *action = rc == GW_OK ? parse(a.action) : NULL;
    if (rc == GW_OK)
        rc = decidable(gc, &a, false, result, msg, cap);
    if (rc != GW_OK || *result) /* refused, or repeated by the approver that ran it */
        goto out;
    const char *tool = gw_json_str(action, "tool");
    if (edited_args) { /* edit-then-approve: the same action, new arguments, the same checks */
        const struct gov_action *act = gov_action_find(gc->gov, tool);
        struct gov_target t;
        char why[256] = "";
        if (!act || act->check(gc, edited_args, &t, why, sizeof(why)) != GW_OK) {
            snprintf(msg, cap, "edited arguments: %s", why);
            rc = GW_EINVAL;
            goto out;
        }
        json_object_set(action, "args", (json_t *)edited_args);
    }
    char *edited = edited_args ? gw_json_canonical(action) : NULL;
    /* The compare-and-set decides who approves: only the winner is audited and executes. */
    struct store_approval_change ch = {.from = "pending",
                                       .to = "executing",
                                       .decided_by = gc->p->actor,
                                       .comment = comment,
                                       .action = edited,
                                       .decided_ms = gw_now_ms()};
    rc = store_approval_transition(gc->gov->d.store, gc->p->tenant, a.id, &ch);
    free(edited);
    if (rc != GW_OK) { /* someone else won the race: report what happened */
        struct store_approval now = {0};
        rc = store_approval_get(gc->gov->d.store, gc->p->tenant, a.id, &now) == GW_OK
                 ? decided_already(gc, &now, result, msg, cap)
                 : (snprintf(msg, cap, "the approval could not be updated"), GW_ESTORE);
        store_approval_release(&now);
        goto out;
    }
    json_t *details = json_pack("{s:s,s:s,s:O,s:b,s:s?}", "approval_id", a.id, "tool", tool, "args",
                                json_object_get(action, "args"), "edited", edited_args != NULL,
                                "comment", comment);
    if ((rc = gov_audit_ahead(gc, "approval.approved", a.id, 200, details)) != GW_OK) {
        /* not audited, so not approved: put it back for a later attempt */
        struct store_approval_change back = {.from = "executing", .to = "pending"};
        store_approval_transition(gc->gov->d.store, gc->p->tenant, a.id, &back);
        snprintf(msg, cap, "the audit trail cannot be written; nothing was changed");
        goto out;
    }
    /* exactly once: only the winner of pending → executing gets here */
    rc = execute(gc, &a, action, result, msg, cap);
    if (rc != GW_OK) {
        json_decref(*result);
        *result = NULL;
        gov_audit_failed(gc);
    }
out:
    json_decref(action);
    store_approval_release(&a);
    return rc;
}

gw_err gov_approval_reject(struct gov_call *gc, const char *id, const char *comment,
                           json_t **repeated, char *msg, size_t cap)
{
    *repeated = NULL;
    struct store_approval a;
    gw_err rc = load(gc, id, &a, msg, cap);
    if (rc == GW_OK)
        rc = decidable(gc, &a, true, repeated, msg, cap);
    if (rc != GW_OK || *repeated) /* refused, or executed already by this caller */
        goto out;
    rc = gov_audit_ahead(gc, "approval.rejected", a.id, 200,
                         json_pack("{s:s,s:s?}", "approval_id", a.id, "comment", comment));
    if (rc != GW_OK) {
        snprintf(msg, cap, "the audit trail cannot be written; nothing was changed");
        goto out;
    }
    struct store_approval_change ch = {.from = "pending",
                                       .to = "rejected",
                                       .decided_by = gc->p->actor,
                                       .comment = comment,
                                       .decided_ms = gw_now_ms()};
    if (store_approval_transition(gc->gov->d.store, gc->p->tenant, a.id, &ch) != GW_OK) {
        gov_audit_failed(gc);
        snprintf(msg, cap, "approval %s was decided meanwhile", a.id);
        rc = GW_ECONFLICT;
    }
out:
    store_approval_release(&a);
    return rc;
}

void gov_tick(struct gov *g)
{
    struct store_approval *due = NULL;
    size_t n = 0;
    if (store_approval_due(g->d.store, gw_now_ms(), EXPIRE_BATCH, &due, &n) != GW_OK)
        return;
    for (size_t i = 0; i < n; i++)
        expire_one(g, &due[i], "system");
    store_approval_list_free(due, n);
}
