/* SPDX-License-Identifier: MIT
 * api_policies.c — policy authoring (CRUD, history, diff, rollback), effective policy and the
 * dry-run evaluation.
 *
 * Who may write where comes from the caller's role and position in the hierarchy, never from
 * the request: enterprise_admin anywhere, org_admin inside its org subtree, team_lead its team
 * and its members. Every write is validated against the policies above it (a lower scope can
 * only restrict) and audited durably before it is applied.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/util.h"
#include "gov/gov_policy.h"
#include "policy/policy.h"

#include <errno.h>

static bool path_within(const char *path, const char *root)
{
    size_t n = root ? strlen(root) : 0;
    return path && n && strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool is_role(const struct auth_principal *p, const char *role)
{
    return strcmp(p->role, role) == 0;
}

/* Where a (scope, scope_id) sits in the identity hierarchy; false when it names nothing known. */
static bool position_of(const struct cfg *c, const char *tenant, enum pol_scope scope,
                        const char *scope_id, struct pol_position *pos)
{
    memset(pos, 0, sizeof(*pos));
    pos->tenant = tenant;
    pos->scope = scope;
    pos->scope_id = scope_id;
    if (scope == POL_SCOPE_TEAM) {
        const struct cfg_team *t = scope_id ? cfg_find_team(c, scope_id) : NULL;
        if (!t)
            return false;
        pos->org_unit = t->org_unit;
    } else if (scope == POL_SCOPE_USER) {
        const struct cfg_user *u = scope_id ? cfg_find_user(c, scope_id) : NULL;
        if (!u)
            return false;
        pos->org_unit = u->org_unit;
        pos->team = u->team;
    }
    return true;
}

static bool may_write(const struct auth_principal *p, const struct pol_position *pos)
{
    if (!auth_allows(p, "policies:write"))
        return false;
    if (is_role(p, "enterprise_admin"))
        return true;
    if (is_role(p, "org_admin") && p->org_unit) {
        const char *where = pos->scope == POL_SCOPE_ORG ? pos->scope_id : pos->org_unit;
        return pos->scope != POL_SCOPE_ENTERPRISE && path_within(where, p->org_unit);
    }
    if (is_role(p, "team_lead") && p->team)
        return (pos->scope == POL_SCOPE_TEAM && strcmp(pos->scope_id, p->team) == 0) ||
               (pos->scope == POL_SCOPE_USER && pos->team && strcmp(pos->team, p->team) == 0);
    return false;
}

/* Readable: writable, or part of the caller's own chain. */
static bool may_read(const struct auth_principal *p, const struct pol_position *pos)
{
    if (!auth_allows(p, "policies:read"))
        return false;
    if (may_write(p, pos))
        return true;
    switch (pos->scope) {
    case POL_SCOPE_ENTERPRISE:
        return true;
    case POL_SCOPE_ORG:
        return path_within(p->org_unit, pos->scope_id);
    case POL_SCOPE_TEAM:
        return p->team && strcmp(p->team, pos->scope_id) == 0;
    default:
        return p->user && strcmp(p->user, pos->scope_id) == 0;
    }
}

static void respond_issues(struct api_call *c, gw_err code, const char *message,
                           const struct pol_issues *is)
{
    json_t *list = json_array();
    for (size_t i = 0; i < is->n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "field", is->v[i].field, "message",
                                              is->v[i].msg));
    http_respond_json(c->r, gw_err_http_status(code),
                      json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", gw_err_name(code),
                                "message", message, "request_id", c->r->request_id, "violations",
                                list));
}

/* The content of a write: "content" (object) or "content_yaml" (text). */
static struct pol_doc *body_doc(struct api_call *c, json_t *body, enum pol_domain d,
                                struct pol_issues *is)
{
    json_t *content = json_object_get(body, "content");
    const char *yaml = gw_json_str(body, "content_yaml");
    if (json_is_object(content) && !yaml)
        return pol_doc_from_json(d, content, is);
    if (yaml && !content)
        return pol_doc_parse(d, yaml, strlen(yaml), POL_FMT_AUTO, is);
    http_respond_error(c->r, GW_EINVAL,
                       "give the policy as \"content\" (an object) or \"content_yaml\" (text)");
    return NULL;
}

static const char *reason_of(struct api_call *c, json_t *body)
{
    const char *r = body ? gw_json_str(body, "change_reason") : http_query(c->r, "change_reason");
    if (!r || !r[0] || strlen(r) > 1000) {
        http_respond_error(c->r, GW_EINVAL, "change_reason is required (1-1000 characters)");
        return NULL;
    }
    return r;
}

/* Audits durably, applies, answers. */
static void write_policy(struct api_call *c, enum gov_policy_op op, const char *event,
                         const char *id, int64_t to, struct pol_change *ch,
                         const struct pol_position *pos, int status)
{
    json_t *details = json_pack("{s:s,s:s?,s:s,s:s,s:I}", "scope", pol_scope_name(pos->scope),
                                "scope_id", pos->scope_id, "domain", pol_domain_name(ch->domain),
                                "change_reason", ch->change_reason, "rollback_to", (json_int_t)to);
    if (ch->content)
        json_object_set_new(details, "content", pol_doc_to_json(ch->content));
    struct pol_issues is = {0};
    json_t *record = NULL;
    /* validate before auditing so a refused write is not recorded as done */
    struct pol_snapshot *snap = gov_policy_acquire(gov_policies(c->gc.gov));
    bool ok = !ch->content || op == GOV_POLICY_DEPRECATE ||
              pol_validate(snap, pos, ch->content, &is);
    pol_snapshot_unref(snap);
    if (!ok) {
        c->gc.audit.details = details;
        respond_issues(c, GW_EPOLICY, "the policy would loosen a policy above it", &is);
        pol_issues_release(&is);
        return;
    }
    if (!api_audit_sync(c, event, id, status, details))
        return;
    gw_err rc = gov_policy_write(gov_policies(c->gc.gov), op, id, to, ch, pos, &record, &is);
    if (rc == GW_OK) {
        http_respond_json(c->r, status, record);
    } else {
        api_audit_failed(c);
        if (rc == GW_EPOLICY || rc == GW_EINVAL || (rc == GW_ECONFLICT && is.n))
            respond_issues(c, rc,
                           rc == GW_EPOLICY ? "the policy would loosen a policy above it"
                                            : "the policy was refused",
                           &is);
        else if (rc == GW_ENOTFOUND)
            http_respond_error(c->r, rc, "no such policy or version");
        else if (rc == GW_ECONFLICT)
            http_respond_error(
                c->r, rc,
                "the policy changed meanwhile (expected_version is stale) or the slot is taken");
        else
            http_respond_error(c->r, GW_ESTORE, "the policy could not be saved");
    }
    pol_issues_release(&is);
}

void api_policies_create(struct api_call *c)
{
    if (!api_require(c, "policies:write"))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *scope_s = gw_json_str(body, "scope"), *domain_s = gw_json_str(body, "domain");
    const char *scope_id = gw_json_str(body, "scope_id");
    int scope = scope_s ? pol_scope_parse(scope_s) : -1;
    int domain = domain_s ? pol_domain_parse(domain_s) : -1;
    struct pol_issues is = {0};
    struct pol_position pos;
    struct pol_doc *doc = NULL;
    if (scope < 0 || domain < 0) {
        http_respond_error(c->r, GW_EINVAL,
                           "scope must be enterprise|org|team|user and domain one of models, "
                           "actions, integrations, agent-to-agent, features, data, audit");
        goto out;
    }
    if ((scope == POL_SCOPE_ENTERPRISE) != (scope_id == NULL)) {
        http_respond_error(
            c->r, GW_EINVAL,
            "scope_id is required for org, team and user policies and not allowed for enterprise");
        goto out;
    }
    if (!position_of(c->gc.cfg, c->gc.p->tenant, (enum pol_scope)scope, scope_id, &pos)) {
        http_respond_error(c->r, GW_EINVAL, "no %s '%.100s' in the identity configuration", scope_s,
                           scope_id);
        goto out;
    }
    if (!may_write(c->gc.p, &pos)) {
        http_respond_error(c->r, GW_EFORBIDDEN, "role %s may not write %s policies here",
                           c->gc.p->role, scope_s);
        goto out;
    }
    const char *reason = reason_of(c, body);
    if (!reason)
        goto out;
    doc = body_doc(c, body, (enum pol_domain)domain, &is);
    if (!doc) {
        if (!c->r->responded)
            respond_issues(c, GW_EINVAL, "the policy document is invalid", &is);
        goto out;
    }
    /* the id is chosen here, not by the set, so the audit event can name it */
    const char *id = gw_json_str(body, "id");
    if (!id) {
        char hex[25];
        gw_random_hex(hex, 12);
        id = gw_pool_printf(c->r->pool, "pol_%s", hex);
    }
    struct pol_change ch = {
        .tenant = c->gc.p->tenant,
        .scope = (enum pol_scope)scope,
        .scope_id = scope_id,
        .domain = (enum pol_domain)domain,
        .id = id,
        .content = doc,
        .author = c->gc.p->actor,
        .change_reason = reason,
        .now_ms = gw_now_ms(),
    };
    write_policy(c, GOV_POLICY_CREATE, "policy.created", ch.id, 0, &ch, &pos, 201);
out:
    pol_doc_free(doc);
    pol_issues_release(&is);
    json_decref(body);
}

/* Loads the slot of {id} and checks the caller may write it; answers on failure. */
static bool existing(struct api_call *c, bool write, struct pol_position *pos, char *scope_id,
                     size_t cap, enum pol_domain *d)
{
    enum pol_scope scope;
    if (gov_policy_slot(gov_policies(c->gc.gov), c->gc.p->tenant, c->var[0], &scope, scope_id, cap,
                        d) != GW_OK ||
        !position_of(c->gc.cfg, c->gc.p->tenant, scope, scope_id[0] ? scope_id : NULL, pos) ||
        !may_read(c->gc.p, pos)) {
        http_respond_error(c->r, GW_ENOTFOUND, "no policy '%.64s'", c->var[0]);
        return false;
    }
    if (write && !may_write(c->gc.p, pos)) {
        http_respond_error(c->r, GW_EFORBIDDEN, "role %s may not change this policy",
                           c->gc.p->role);
        return false;
    }
    return true;
}

static bool parse_version(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < 1)
        return false;
    *out = v;
    return true;
}

void api_policies_update(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, true, &pos, sid, sizeof(sid), &d))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    struct pol_issues is = {0};
    struct pol_doc *doc = NULL;
    const char *reason = reason_of(c, body);
    if (!reason)
        goto out;
    doc = body_doc(c, body, d, &is);
    if (!doc) {
        if (!c->r->responded)
            respond_issues(c, GW_EINVAL, "the policy document is invalid", &is);
        goto out;
    }
    json_t *ev = json_object_get(body, "expected_version");
    struct pol_change ch = {
        .domain = d,
        .content = doc,
        .author = c->gc.p->actor,
        .change_reason = reason,
        .expected_version = json_is_integer(ev) ? json_integer_value(ev) : 0,
        .now_ms = gw_now_ms(),
    };
    write_policy(c, GOV_POLICY_UPDATE, "policy.updated", c->var[0], 0, &ch, &pos, 200);
out:
    pol_doc_free(doc);
    pol_issues_release(&is);
    json_decref(body);
}

void api_policies_deprecate(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, true, &pos, sid, sizeof(sid), &d))
        return;
    const char *reason = reason_of(c, NULL);
    if (!reason)
        return;
    struct pol_change ch = {.domain = d,
                            .author = c->gc.p->actor,
                            .change_reason = reason,
                            .now_ms = gw_now_ms()};
    write_policy(c, GOV_POLICY_DEPRECATE, "policy.deprecated", c->var[0], 0, &ch, &pos, 200);
}

void api_policies_rollback(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, true, &pos, sid, sizeof(sid), &d))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    json_t *v = json_object_get(body, "version");
    const char *reason = reason_of(c, body);
    if (reason && (!json_is_integer(v) || json_integer_value(v) < 1)) {
        http_respond_error(c->r, GW_EINVAL, "version must be a positive integer");
        reason = NULL;
    }
    if (reason) {
        struct pol_change ch = {.domain = d,
                                .author = c->gc.p->actor,
                                .change_reason = reason,
                                .now_ms = gw_now_ms()};
        write_policy(c, GOV_POLICY_ROLLBACK, "policy.rolled_back", c->var[0], json_integer_value(v),
                     &ch, &pos, 200);
    }
    json_decref(body);
}

void api_policies_get(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, false, &pos, sid, sizeof(sid), &d))
        return;
    int64_t version = 0;
    const char *vs = http_query(c->r, "version");
    if (vs && !parse_version(vs, &version)) {
        http_respond_error(c->r, GW_EINVAL, "version must be a positive integer");
        return;
    }
    json_t *r = gov_policy_get(gov_policies(c->gc.gov), c->gc.p->tenant, c->var[0], version);
    if (!r)
        http_respond_error(c->r, GW_ENOTFOUND, "no such version");
    else
        http_respond_json(c->r, 200, r);
}

void api_policies_history(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, false, &pos, sid, sizeof(sid), &d))
        return;
    json_t *h = gov_policy_history(gov_policies(c->gc.gov), c->gc.p->tenant, c->var[0]);
    http_respond_json(c->r, 200, json_pack("{s:o}", "versions", h ? h : json_array()));
}

void api_policies_diff(struct api_call *c)
{
    char sid[256];
    struct pol_position pos;
    enum pol_domain d;
    if (!existing(c, false, &pos, sid, sizeof(sid), &d))
        return;
    int64_t from = 0, to = 0;
    if (!parse_version(http_query(c->r, "from"), &from) ||
        !parse_version(http_query(c->r, "to"), &to)) {
        http_respond_error(c->r, GW_EINVAL, "from and to must be version numbers");
        return;
    }
    json_t *diff = gov_policy_diff(gov_policies(c->gc.gov), c->gc.p->tenant, c->var[0], from, to);
    if (!diff)
        http_respond_error(c->r, GW_ENOTFOUND, "no such version");
    else
        http_respond_json(c->r, 200, json_pack("{s:o}", "changes", diff));
}

void api_policies_list(struct api_call *c)
{
    if (!api_require(c, "policies:read"))
        return;
    const char *s = http_query(c->r, "scope"), *d = http_query(c->r, "domain");
    int scope = s ? pol_scope_parse(s) : -1, domain = d ? pol_domain_parse(d) : -1;
    if ((s && scope < 0) || (d && domain < 0)) {
        http_respond_error(c->r, GW_EINVAL, "unknown scope or domain");
        return;
    }
    json_t *all = gov_policy_list(gov_policies(c->gc.gov), c->gc.p->tenant, scope, domain),
           *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach(all, i, r) {
        struct pol_position pos;
        int sc = pol_scope_parse(gw_json_str(r, "scope"));
        if (sc >= 0 &&
            position_of(c->gc.cfg, c->gc.p->tenant, (enum pol_scope)sc, gw_json_str(r, "scope_id"),
                        &pos) &&
            may_read(c->gc.p, &pos))
            json_array_append(out, r);
    }
    json_decref(all);
    http_respond_json(c->r, 200, json_pack("{s:o}", "policies", out));
}

void api_policies_effective(struct api_call *c)
{
    if (!api_require(c, "policies:read"))
        return;
    const char *d = http_query(c->r, "domain");
    int domain = d ? pol_domain_parse(d) : -1;
    if (domain < 0) {
        http_respond_error(c->r, GW_EINVAL,
                           "domain is required: models, actions, integrations, agent-to-agent, "
                           "features, data or audit");
        return;
    }
    struct pol_snapshot *snap = gov_policy_acquire(gov_policies(c->gc.gov));
    json_t *eff = pol_effective_json(snap, c->gc.p->tenant, c->gc.p->org_unit, c->gc.p->team,
                                     c->gc.p->user, (enum pol_domain)domain);
    pol_snapshot_unref(snap);
    if (!eff)
        http_respond_error(c->r, GW_ENOTFOUND,
                           "no %s policy applies to you (everything in this domain is denied)", d);
    else
        http_respond_json(c->r, 200, eff);
}

/* A declared user as a principal signed in with every scope its role allows (for explaining
 * an enterprise_admin's question about someone else; its directory groups are unknown here). */
static struct auth_principal *declared_principal(struct api_call *c, const struct cfg_user *u)
{
    static const char *const star[] = {"*"}, *const none[] = {NULL};
    struct auth_principal *p = gw_pool_calloc(c->r->pool, sizeof(*p));
    size_t n = 0;
    const char *const *perms = auth_role_permissions(c->gc.cfg, u->role, &n);
    if (!perms) /* never NULL: that would read as an ownerless token */
        perms = none;
    *p = (struct auth_principal){.tenant = c->gc.p->tenant,
                                 .actor = u->id,
                                 .user = u->id,
                                 .email = u->email,
                                 .role = u->role,
                                 .org_unit = u->org_unit,
                                 .team = u->team,
                                 .scopes = (const char **)star,
                                 .n_scopes = 1,
                                 .perms = (const char **)perms,
                                 .n_perms = n};
    auth_principal_attach_grants(p, c->d->grants, c->r->pool);
    return p;
}

void api_policies_evaluate(struct api_call *c)
{
    if (!api_require(c, "policies:read"))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *action = gw_json_str(body, "action"), *resource = gw_json_str(body, "resource");
    const char *cls = gw_json_str(body, "classification"), *ns = gw_json_str(body, "namespace");
    json_t *ctx = json_object_get(body, "context"), *who = json_object_get(body, "principal");
    struct auth_principal *subject = c->gc.p; /* whose access to the namespace is explained */
    int act = action ? pol_action_parse(action) : -1;
    int level = cls ? pol_level_parse(cls) : POL_LEVEL_UNKNOWN;
    struct pol_request rq = {.tenant = c->gc.p->tenant,
                             .user = c->gc.p->user ? c->gc.p->user : c->gc.p->actor,
                             .role = c->gc.p->role,
                             .org_unit = c->gc.p->org_unit,
                             .team = c->gc.p->team};
    if (act < 0 || !resource || (cls && level < 0) || (ctx && !json_is_object(ctx)) ||
        json_object_size(ctx) > 32 || (json_object_get(body, "namespace") && !cfg_name_valid(ns))) {
        http_respond_error(
            c->r, GW_EINVAL,
            "expected {\"action\": "
            "tool_call|connector_read|connector_write|model_call|agent_message|feature_use|data_"
            "export, \"resource\": string, \"classification\"?: level, \"namespace\"?: name, "
            "\"context\"?: {string: string} (at most 32)}");
        goto out;
    }
    if (who) {
        const char *u = gw_json_str(who, "user");
        const struct cfg_user *cu = u ? cfg_find_user(c->gc.cfg, u) : NULL;
        if (!is_role(c->gc.p, "enterprise_admin")) {
            http_respond_error(c->r, GW_EFORBIDDEN,
                               "only an enterprise_admin may evaluate for another principal");
            goto out;
        }
        if (!cu) {
            http_respond_error(c->r, GW_EINVAL, "principal.user must be a declared user");
            goto out;
        }
        rq.user = cu->id;
        rq.role = cu->role;
        rq.org_unit = cu->org_unit;
        rq.team = cu->team;
        subject = declared_principal(c, cu);
    }
    rq.action = (enum pol_action)act;
    rq.resource = resource;
    rq.classification = level;
    struct pol_kv *kv = gw_pool_calloc(c->r->pool, (json_object_size(ctx) + 1) * sizeof(*kv));
    const char *k;
    json_t *v;
    json_object_foreach(ctx, k, v) {
        if (!json_is_string(v)) {
            http_respond_error(c->r, GW_EINVAL, "context values must be strings");
            goto out;
        }
        kv[rq.n_ctx].key = k;
        kv[rq.n_ctx++].value = json_string_value(v);
    }
    rq.ctx = kv;
    struct pol_snapshot *snap = gov_policy_acquire(gov_policies(c->gc.gov));
    struct pol_decision dec;
    struct pol_trace trace;
    pol_decide(snap, &rq, c->r->pool, &dec, &trace);
    json_t *res = pol_decision_to_json(&dec, &trace);
    pol_snapshot_unref(snap);
    if (ns) { /* the namespace check comes before any policy: explain it too */
        char why[512] = "";
        bool allowed = auth_allows_namespace(subject, ns);
        if (!allowed)
            auth_deny_reason(subject, ns, NULL, why, sizeof(why));
        json_object_set_new(res, "access",
                            json_pack("{s:s,s:b,s:s?}", "namespace", ns, "allowed", allowed,
                                      "reason", allowed ? NULL : why));
    }
    c->gc.audit.details = json_pack("{s:s,s:s,s:s,s:s}", "action", action, "resource", resource,
                                    "decision", pol_effect_name(dec.effect), "reason", dec.reason);
    http_respond_json(c->r, 200, res);
out:
    json_decref(body);
}
