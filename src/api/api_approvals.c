/* SPDX-License-Identifier: MIT
 * api_approvals.c — the approval queue: park, list, approve (execute exactly once), reject,
 * expire.
 *
 * A parked item freezes what would run: the tool, its arguments, and the requester's identity
 * and grants at the time of the request, so approval can neither widen nor change who acts.
 * Approval is a compare-and-set in the store (pending → executing → executed): two approvers
 * racing cannot both run it, and repeating an approval returns the stored result. Nothing
 * waits: the request that parks an action answers 202 at once.
 */
#include "base/prelude.h"
#include "api/api_tools.h"
#include "audit/audit.h"
#include "base/log.h"
#include "base/util.h"
#include "store/store.h"

static json_t *strv_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
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

gw_err api_approval_create(struct api_call *c, const char *tool, const json_t *args,
                           const struct pol_decision *dec, bool answer, char *id_out,
                           size_t id_cap, json_t *decision_json)
{
    const struct auth_principal *p = c->p;
    char hex[25], id[32];
    gw_random_hex(hex, 12);
    snprintf(id, sizeof(id), "apr_%s", hex);
    /* token_id is NULL for a browser session (SSO): the principal is still recorded */
    json_t *who = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:o,s:o*}", "tenant", p->tenant,
                            "actor", p->actor, "user", p->user, "token_id", p->token_id,
                            "org_unit", p->org_unit, "team", p->team, "scopes",
                            strv_json(p->scopes, p->n_scopes), "perms",
                            p->perms ? strv_json(p->perms, p->n_perms) : NULL);
    json_object_set_new(who, "role", json_string(p->role));
    json_object_set_new(who, "email", p->email ? json_string(p->email) : json_null());
    if (p->groups)
        json_object_set_new(who, "groups", strv_json(p->groups, p->n_groups));
    json_t *action = json_pack("{s:s,s:s,s:O,s:o}", "kind", "tool_call", "tool", tool, "args",
                               args, "principal", who);
    json_t *approvers = approvers_for(c->cfg, p);
    json_t *policy = json_pack("{s:s?,s:I,s:s,s:s?,s:s}", "id", dec->has_policy ? dec->policy_id : NULL,
                               "version", (json_int_t)dec->policy_version, "scope",
                               pol_scope_name(dec->scope), "scope_id", dec->scope_id, "reason",
                               dec->reason);
    int64_t now = gw_now_ms();
    char *a_s = gw_json_canonical(action), *ap_s = gw_json_canonical(approvers),
         *po_s = gw_json_canonical(policy);
    struct store_approval row = {
        .id = id, .tenant = (char *)p->tenant, .requester = (char *)p->actor, .approvers = ap_s,
        .action = a_s, .policy = po_s, .status = "pending", .request_id = c->r->request_id,
        .created_ms = now, .expires_ms = now + (int64_t)c->cfg->approval_ttl_s * 1000,
    };
    json_t *details = json_pack("{s:s,s:s,s:O,s:O,s:O}", "approval_id", id, "tool", tool, "args",
                                args, "approvers", approvers, "policy", policy);
    gw_err rc;
    if (answer) {
        rc = api_audit_sync(c, "approval.requested", id, 202, details) ? GW_OK : GW_EAUDIT;
    } else {
        rc = api_audit_event_sync(c, "approval.requested", id, 202, details);
        json_decref(details);
    }
    if (rc == GW_OK && store_approval_insert(c->g->store, &row) != GW_OK) {
        rc = GW_ESTORE;
        if (answer) {
            api_audit_failed(c);
            http_respond_error(c->r, GW_ESTORE, "the approval request could not be stored");
        }
    } else if (rc == GW_OK && answer) {
        http_respond_json(c->r, 202, json_pack("{s:s,s:s,s:s,s:O,s:O}", "status",
                                               "pending_approval", "approval_id", id,
                                               "expires_at", api_time(c, row.expires_ms),
                                               "approvers", approvers, "decision",
                                               decision_json));
    }
    if (id_out)
        snprintf(id_out, id_cap, "%s", id);
    free(a_s);
    free(ap_s);
    free(po_s);
    json_decref(action);
    json_decref(approvers);
    json_decref(policy);
    return rc;
}

void api_approval_park(struct api_call *c, const char *tool, const json_t *args,
                       const struct pol_decision *dec, json_t *decision_json)
{
    api_approval_create(c, tool, args, dec, true, NULL, 0, decision_json);
}

static json_t *parse(const char *s)
{
    json_error_t e;
    return s ? json_loads(s, 0, &e) : NULL;
}

/* The item as the API shows it (never the frozen grants). */
static json_t *item_json(struct api_call *c, const struct store_approval *a)
{
    json_t *action = parse(a->action);
    json_t *shown = json_pack("{s:O*,s:O*}", "tool", json_object_get(action, "tool"), "args",
                              json_object_get(action, "args"));
    json_t *res = parse(a->result);
    json_t *j = json_pack("{s:s,s:s,s:s,s:o,s:o*,s:o*,s:s,s:s,s:s?,s:s?,s:s?,s:o}", "id", a->id,
                          "status", a->status, "requester", a->requester, "action", shown,
                          "policy", parse(a->policy), "approvers", parse(a->approvers),
                          "created_at", api_time(c, a->created_ms), "expires_at",
                          api_time(c, a->expires_ms), "decided_by", a->decided_by,
                          "decided_at", api_time(c, a->decided_ms), "comment", a->comment,
                          "result", res ? res : json_null());
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

void api_approvals_list(struct api_call *c)
{
    const char *status = http_query(c->r, "status");
    struct store_approval *list = NULL;
    size_t n = 0;
    if (store_approval_list(c->g->store, c->p->tenant, status, 1000, &list, &n) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "approvals could not be read");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (visible(c->p, &list[i]))
            json_array_append_new(arr, item_json(c, &list[i]));
    store_approval_list_free(list, n);
    http_respond_json(c->r, 200, json_pack("{s:o}", "approvals", arr));
}

/* Loads {id} for the caller; answers 404 when absent or not theirs to see. */
static bool load(struct api_call *c, struct store_approval *a)
{
    memset(a, 0, sizeof(*a));
    c->audit_resource = gw_pool_strdup(c->r->pool, c->var[0]);
    if (store_approval_get(c->g->store, c->p->tenant, c->var[0], a) != GW_OK || !visible(c->p, a)) {
        store_approval_release(a);
        http_respond_error(c->r, GW_ENOTFOUND, "no approval '%.64s'", c->var[0]);
        return false;
    }
    return true;
}

void api_approvals_get(struct api_call *c)
{
    struct store_approval a;
    if (!load(c, &a))
        return;
    http_respond_json(c->r, 200, item_json(c, &a));
    store_approval_release(&a);
}

/* Rebuilds the requester's frozen principal (its scopes at request time); its namespace
 * grants are today's, so a grant withdrawn meanwhile is not used by the approval. */
static struct auth_principal *frozen_principal(struct api_call *c, const json_t *who)
{
    struct gw_pool *pool = c->r->pool;
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
    auth_principal_attach_grants(p, c->g->grants, pool);
    return p;
}

/* An item that is no longer pending: the approver who executed it gets the same answer again
 * (idempotent retries); anyone else learns it was already decided. */
static void respond_state(struct api_call *c, const struct store_approval *a)
{
    c->audit_type = "approval.repeated";
    c->audit_details = json_pack("{s:s,s:s}", "approval_id", a->id, "status", a->status);
    if (strcmp(a->status, "executed") == 0 && a->decided_by &&
        strcmp(a->decided_by, c->p->actor) == 0)
        http_respond_json(c->r, 200, json_pack("{s:s,s:s,s:o*}", "id", a->id, "status",
                                               "executed", "result", parse(a->result)));
    else
        http_respond_error(c->r, GW_ECONFLICT, "approval %s is already %s%s%s", a->id,
                           a->status, a->decided_by ? " by " : "",
                           a->decided_by ? a->decided_by : "");
}

static void expire_one(struct gwd *g, const struct store_approval *a, const char *request_id)
{
    struct store_approval_change ch = {.from = "pending", .to = "expired",
                                       .decided_by = "system", .decided_ms = gw_now_ms()};
    if (store_approval_transition(g->store, a->tenant, a->id, &ch) != GW_OK)
        return;
    json_t *d = json_pack("{s:s}", "approval_id", a->id);
    struct audit_event ev = {.type = "approval.expired", .outcome = "ok", .actor = "system",
                             .resource = a->id, .request_id = request_id, .details = d};
    audit_record(g->audit, a->tenant, &ev);
    json_decref(d);
}

void api_approvals_approve(struct api_call *c)
{
    struct store_approval a;
    if (!load(c, &a))
        return;
    json_t *body = c->r->body.len ? api_json_body(c) : json_object();
    json_t *action = parse(a.action), *approvers = parse(a.approvers);
    if (!body)
        goto out;
    if (strcmp(a.status, "pending") != 0) {
        respond_state(c, &a);
        goto out;
    }
    if (!may_approve(c->p, approvers, a.requester)) {
        http_respond_error(c->r, GW_EFORBIDDEN, "you are not the approver of %s", a.id);
        goto out;
    }
    if (a.expires_ms <= gw_now_ms()) {
        expire_one(c->g, &a, c->r->request_id);
        http_respond_error(c->r, GW_ECONFLICT, "approval %s has expired", a.id);
        goto out;
    }
    const char *tool = gw_json_str(action, "tool");
    json_t *args = json_object_get(body, "args");
    const char *comment = gw_json_str(body, "comment");
    char msg[256] = "";
    enum pol_level level;
    if (args) { /* edit-then-approve: same tool, new arguments, same checks */
        if (api_tool_check(c->cfg, tool, args, &level, msg, sizeof(msg)) != GW_OK) {
            http_respond_error(c->r, GW_EINVAL, "edited arguments: %s", msg);
            goto out;
        }
        json_object_set(action, "args", args);
    }
    char *edited = args ? gw_json_canonical(action) : NULL;
    /* The compare-and-set decides who approves: only the winner is audited and executes. */
    struct store_approval_change ch = {.from = "pending", .to = "executing",
                                       .decided_by = c->p->actor, .comment = comment,
                                       .action = edited, .decided_ms = gw_now_ms()};
    gw_err rc = store_approval_transition(c->g->store, c->p->tenant, a.id, &ch);
    free(edited);
    if (rc != GW_OK) { /* someone else won the race: report what happened */
        struct store_approval now = {0};
        if (store_approval_get(c->g->store, c->p->tenant, a.id, &now) == GW_OK)
            respond_state(c, &now);
        else
            http_respond_error(c->r, GW_ESTORE, "the approval could not be updated");
        store_approval_release(&now);
        goto out;
    }
    json_t *details = json_pack("{s:s,s:s,s:O,s:b,s:s?}", "approval_id", a.id, "tool", tool,
                                "args", json_object_get(action, "args"), "edited", args != NULL,
                                "comment", comment);
    if (!api_audit_sync(c, "approval.approved", a.id, 200, details)) {
        /* not audited, so not approved: put it back for a later attempt */
        struct store_approval_change back = {.from = "executing", .to = "pending"};
        store_approval_transition(c->g->store, c->p->tenant, a.id, &back);
        goto out;
    }
    /* exactly once: only the winner of pending → executing gets here */
    struct auth_principal *who = frozen_principal(c, json_object_get(action, "principal"));
    json_t *result = NULL;
    rc = api_tool_run(c->g, who, tool, json_object_get(action, "args"), c->r->pool, &result, msg,
                      sizeof(msg));
    if (rc != GW_OK)
        result = json_pack("{s:s,s:s}", "error", gw_err_name(rc), "message", msg);
    char *res = gw_json_canonical(result);
    struct store_approval_change done = {.from = "executing",
                                         .to = rc == GW_OK ? "executed" : "failed",
                                         .result = res, .executed_ms = gw_now_ms()};
    if (store_approval_transition(c->g->store, c->p->tenant, a.id, &done) != GW_OK)
        gw_error("approvals: %s ran but its result could not be stored", a.id);
    /* the execution itself, with its result, as the requester (whose grants it used) */
    json_t *ed = json_pack("{s:s,s:s,s:s,s:O}", "approval_id", a.id, "tool", tool, "approved_by",
                           c->p->actor, "result", result);
    struct audit_event ev = {.type = rc == GW_OK ? "approval.executed" : "approval.execution_failed",
                             .outcome = rc == GW_OK ? "ok" : "error", .actor = who->actor,
                             .token_id = who->token_id, .org_unit = who->org_unit,
                             .team = who->team, .resource = a.id,
                             .request_id = c->r->request_id, .client_ip = c->r->client_ip,
                             .status = rc == GW_OK ? 200 : gw_err_http_status(rc), .details = ed};
    if (audit_record(c->g->audit, c->p->tenant, &ev) != GW_OK)
        gw_error("approvals: the execution of %s could not be queued for the audit", a.id);
    json_decref(ed);
    free(res);
    if (rc == GW_OK)
        http_respond_json(c->r, 200, json_pack("{s:s,s:s,s:o}", "id", a.id, "status", "executed",
                                               "result", result));
    else {
        json_decref(result);
        api_audit_failed(c);
        http_respond_error(c->r, rc, "approved, but the action failed: %s", msg);
    }
out:
    json_decref(body);
    json_decref(action);
    json_decref(approvers);
    store_approval_release(&a);
}

void api_approvals_reject(struct api_call *c)
{
    struct store_approval a;
    if (!load(c, &a))
        return;
    json_t *body = c->r->body.len ? api_json_body(c) : json_object();
    json_t *approvers = parse(a.approvers);
    if (!body)
        goto out;
    if (strcmp(a.status, "pending") != 0) {
        respond_state(c, &a);
        goto out;
    }
    if (!may_approve(c->p, approvers, a.requester) && strcmp(c->p->actor, a.requester) != 0) {
        http_respond_error(c->r, GW_EFORBIDDEN, "you are not the approver of %s", a.id);
        goto out;
    }
    const char *comment = gw_json_str(body, "comment");
    struct store_approval_change ch = {.from = "pending", .to = "rejected",
                                       .decided_by = c->p->actor, .comment = comment,
                                       .decided_ms = gw_now_ms()};
    if (!api_audit_sync(c, "approval.rejected", a.id, 200,
                        json_pack("{s:s,s:s?}", "approval_id", a.id, "comment", comment)))
        goto out;
    if (store_approval_transition(c->g->store, c->p->tenant, a.id, &ch) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ECONFLICT, "approval %s was decided meanwhile", a.id);
        goto out;
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:s}", "id", a.id, "status", "rejected"));
out:
    json_decref(body);
    json_decref(approvers);
    store_approval_release(&a);
}

void api_approvals_expire(struct gwd *g)
{
    struct store_approval *due = NULL;
    size_t n = 0;
    if (store_approval_due(g->store, gw_now_ms(), 256, &due, &n) != GW_OK)
        return;
    for (size_t i = 0; i < n; i++)
        expire_one(g, &due[i], "system");
    store_approval_list_free(due, n);
}
