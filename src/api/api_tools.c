/* SPDX-License-Identifier: MIT
 * api_tools.c — built-in tools, run only through the policy hook.
 *
 * POST /api/v1/tools/invoke checks the caller's scopes, classifies the data the tool carries,
 * asks the policy engine (actions domain) and then runs the tool, parks it in the approval
 * queue (frozen: tool, arguments and the requester's grants), or refuses it. The same
 * api_tool_run executes an approved action later, with the grants frozen at request time.
 */
#include "base/prelude.h"
#include "api/api_tools.h"
#include "base/util.h"
#include "core/gwd_policy.h"
#include "ns/ns.h"
#include "policy/policy.h"
#include "store/store.h"

enum tool_kind { TOOL_MEMORY_READ, TOOL_MEMORY_WRITE, TOOL_SEND_MESSAGE };

static const struct {
    const char *name;
    enum tool_kind kind;
    bool has_content;
} tools[] = {
    {"memory_read", TOOL_MEMORY_READ, false},
    {"memory_write", TOOL_MEMORY_WRITE, true},
    {"send_message", TOOL_SEND_MESSAGE, true},
};

static int tool_index(const char *name)
{
    for (size_t i = 0; name && i < GW_ARRAY_LEN(tools); i++)
        if (strcmp(tools[i].name, name) == 0)
            return (int)i;
    return -1;
}

gw_err api_tool_check(const struct cfg *cfg, const char *tool, const json_t *args,
                      enum pol_level *level, char *msg, size_t cap)
{
    int t = tool_index(tool);
    if (t < 0) {
        snprintf(msg, cap, "unknown tool '%.64s' (known: memory_read, memory_write, send_message)",
                 tool ? tool : "");
        return GW_EINVAL;
    }
    const char *ns = gw_json_str(args, "namespace"), *agent = gw_json_str(args, "agent");
    const char *content = gw_json_str(args, "content");
    size_t expect = tools[t].has_content ? 3 : 2;
    if (!json_is_object(args) || !ns || !agent || json_object_size(args) != expect ||
        (tools[t].has_content && !content)) {
        snprintf(msg, cap, "%s takes {\"namespace\", \"agent\"%s}", tool,
                 tools[t].has_content ? ", \"content\"" : "");
        return GW_EINVAL;
    }
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        snprintf(msg, cap, "namespace and agent must be 1-63 characters of [a-z0-9_-]");
        return GW_EINVAL;
    }
    size_t max = tools[t].kind == TOOL_SEND_MESSAGE ? cfg->limits.max_message_bytes
                                                    : cfg->limits.max_memory_bytes;
    if (content && strlen(content) > max) {
        snprintf(msg, cap, "content larger than %zu bytes", max);
        return GW_ETOOBIG;
    }
    if (tools[t].kind == TOOL_SEND_MESSAGE && strcmp(agent, NS_SHARED) == 0) {
        snprintf(msg, cap, "messages go to an agent, not to shared memory");
        return GW_EINVAL;
    }
    /* data carried by the tool: internal by default, detectors can only raise it */
    *level = content ? pol_classify_raise(POL_LEVEL_INTERNAL, content, strlen(content))
                     : POL_LEVEL_INTERNAL;
    return GW_OK;
}

/* Scope and grant check for the tool on behalf of p; false with the reason in why. */
static bool tool_allowed(const struct auth_principal *p, enum tool_kind k, const char *ns,
                         const char *agent, char *why, size_t cap)
{
    bool shared = strcmp(agent, NS_SHARED) == 0;
    if (!(shared ? auth_allows_namespace(p, ns) : auth_allows_channel(p, ns, agent))) {
        auth_deny_reason(p, ns, shared ? NULL : agent, why, cap);
        return false;
    }
    const char *need = k == TOOL_MEMORY_READ ? "memory:read" : k == TOOL_MEMORY_WRITE ? "memory:write" : NULL;
    if (need && !auth_allows(p, need)) {
        snprintf(why, cap, "missing scope %s", need);
        return false;
    }
    return true;
}

gw_err api_tool_run(struct gwd *g, const struct auth_principal *p, const char *tool,
                    const json_t *args, struct gw_pool *pool, json_t **result, char *msg,
                    size_t cap)
{
    enum tool_kind k = tools[tool_index(tool)].kind;
    const char *ns = gw_json_str(args, "namespace"), *agent = gw_json_str(args, "agent");
    const char *content = gw_json_str(args, "content");
    if (!tool_allowed(p, k, ns, agent, msg, cap))
        return GW_EFORBIDDEN;
    const char *path = NULL;
    struct ns_agent_info info = {0};
    if (strcmp(agent, NS_SHARED) == 0) {
        if (ns_shared_memory_path(g->ns, p->tenant, ns, pool, &path) != GW_OK) {
            snprintf(msg, cap, "no namespace %s", ns);
            return GW_ENOTFOUND;
        }
    } else {
        if (ns_agent_find(g->ns, p->tenant, ns, agent, pool, &info) != GW_OK) {
            snprintf(msg, cap, "no agent %s/%s", ns, agent);
            return GW_ENOTFOUND;
        }
        path = info.memory_path;
    }
    struct cfg *cfg = gwd_config(g);
    gw_err rc = GW_OK;
    if (k == TOOL_MEMORY_READ) {
        char *data = NULL;
        size_t len = 0;
        rc = ns_memory_read(g->ns, path, cfg->limits.max_memory_bytes, &data, &len);
        if (rc == GW_OK)
            *result = json_pack("{s:s%}", "content", data, len);
        else if (rc == GW_ENOTFOUND)
            snprintf(msg, cap, "this memory has not been written yet");
        free(data);
    } else if (k == TOOL_MEMORY_WRITE) {
        rc = ns_memory_write(g->ns, path, content, strlen(content));
        if (rc == GW_OK)
            *result = json_pack("{s:s,s:I}", "memory", gw_pool_printf(pool, "%s/%s", ns, agent),
                                "bytes", (json_int_t)strlen(content));
    } else {
        char id[40], hex[25];
        gw_random_hex(hex, 12);
        snprintf(id, sizeof(id), "msg_%s", hex);
        struct store_message m = {.id = id, .tenant = (char *)p->tenant,
                                  .channel = (char *)info.channel, .sender = (char *)p->actor,
                                  .content = (char *)content, .created_ms = gw_now_ms()};
        rc = store_message_insert(g->store, &m);
        if (rc == GW_OK)
            *result = json_pack("{s:s,s:s}", "message_id", id, "channel", info.channel);
    }
    if (rc != GW_OK && !msg[0])
        snprintf(msg, cap, "the tool failed (%s)", gw_err_message(rc));
    cfg_unref(cfg);
    return rc;
}

json_t *api_tool_execute(struct api_call *c, const char *tool, json_t *args,
                         const char **status)
{
    char msg[256] = "";
    enum pol_level level = POL_LEVEL_INTERNAL;
    *status = "error";
    gw_err rc = api_tool_check(c->cfg, tool, args, &level, msg, sizeof(msg));
    if (rc != GW_OK)
        return json_pack("{s:s}", "error", msg);
    const char *ns = gw_json_str(args, "namespace"), *agent = gw_json_str(args, "agent");
    const char *resource = gw_pool_printf(c->r->pool, "%s/%s", ns, agent);
    /* as on /tools/invoke: scopes and grants first, approval never widens */
    if (!tool_allowed(c->p, tools[tool_index(tool)].kind, ns, agent, msg, sizeof(msg))) {
        *status = "denied";
        return json_pack("{s:s}", "error", msg);
    }
    int overridden = api_classification_override(c->g, c->p->tenant, ns, agent);
    if (overridden >= 0)
        level = (enum pol_level)overridden;
    struct pol_decision dec;
    gwd_policy_enforce(c->g, c->p, POL_ACT_TOOL_CALL, tool, (int)level, NULL, 0,
                       c->r->request_id, c->r->pool, &dec);
    if (dec.effect == POL_DENY) {
        *status = "denied";
        return json_pack("{s:s+}", "error", "denied by policy: ", dec.reason);
    }
    if (dec.effect == POL_REQUIRE_APPROVAL) {
        char id[40];
        json_t *djson = pol_decision_to_json(&dec, NULL);
        rc = api_approval_create(c, tool, args, &dec, false, id, sizeof(id), djson);
        json_decref(djson);
        if (rc != GW_OK)
            return json_pack("{s:s}", "error", "the approval request could not be recorded");
        *status = "pending_approval";
        return json_pack("{s:s,s:s+}", "approval_id", id, "message",
                         "this action needs a human approval and will run once approved: ",
                         dec.reason);
    }
    json_t *details = json_pack("{s:s,s:O,s:s,s:s}", "tool", tool, "args", args, "decision",
                                pol_effect_name(dec.effect), "reason", dec.reason);
    rc = api_audit_event_sync(c, "tool.invoked", resource, 200, details);
    json_decref(details);
    if (rc != GW_OK)
        return json_pack("{s:s}", "error", "the audit trail cannot be written; nothing was done");
    json_t *result = NULL;
    msg[0] = '\0';
    rc = api_tool_run(c->g, c->p, tool, args, c->r->pool, &result, msg, sizeof(msg));
    if (rc != GW_OK) {
        *status = rc == GW_EFORBIDDEN ? "denied" : "error";
        return json_pack("{s:s}", "error", msg);
    }
    *status = "executed";
    return result;
}

void api_tools_invoke(struct api_call *c)
{
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *tool = gw_json_str(body, "tool");
    json_t *args = json_object_get(body, "args");
    char msg[256] = "";
    enum pol_level level = POL_LEVEL_INTERNAL;
    gw_err rc = api_tool_check(c->cfg, tool, args, &level, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    c->audit_resource = gw_pool_printf(c->r->pool, "%s/%s", gw_json_str(args, "namespace"),
                                       gw_json_str(args, "agent"));
    c->audit_classification = pol_level_name(level);
    /* the caller must hold the scopes now; approval does not widen them */
    if (!tool_allowed(c->p, tools[tool_index(tool)].kind, gw_json_str(args, "namespace"),
                      gw_json_str(args, "agent"), msg, sizeof(msg))) {
        http_respond_error(c->r, GW_EFORBIDDEN, "%s", msg);
        goto out;
    }
    /* an administrator's override of the document's level replaces the detectors' */
    int overridden = api_classification_override(c->g, c->p->tenant, gw_json_str(args, "namespace"),
                                                 gw_json_str(args, "agent"));
    if (overridden >= 0) {
        level = (enum pol_level)overridden;
        c->audit_classification = pol_level_name(level);
    }
    struct pol_decision dec;
    gwd_policy_enforce(c->g, c->p, POL_ACT_TOOL_CALL, tool, (int)level, NULL, 0,
                       c->r->request_id, c->r->pool, &dec);
    json_t *djson = pol_decision_to_json(&dec, NULL);
    json_t *details = json_pack("{s:s,s:O,s:s,s:s}", "tool", tool, "args", args, "decision",
                                pol_effect_name(dec.effect), "reason", dec.reason);
    if (dec.effect == POL_DENY) {
        c->audit_type = "tool.denied";
        c->audit_details = details;
        http_respond_error(c->r, GW_EFORBIDDEN, "denied by policy: %s", dec.reason);
    } else if (dec.effect == POL_REQUIRE_APPROVAL) {
        json_decref(details);
        api_approval_park(c, tool, args, &dec, djson);
    } else {
        json_t *result = NULL;
        if (api_audit_sync(c, "tool.invoked", c->audit_resource, 200, details)) {
            rc = api_tool_run(c->g, c->p, tool, args, c->r->pool, &result, msg, sizeof(msg));
            if (rc != GW_OK) {
                api_audit_failed(c);
                http_respond_error(c->r, rc, "%s", msg);
            } else {
                http_respond_json(c->r, 200, json_pack("{s:s,s:o,s:O}", "status", "executed",
                                                       "result", result, "decision", djson));
            }
        }
    }
    json_decref(djson);
out:
    json_decref(body);
}
