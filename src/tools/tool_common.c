/* SPDX-License-Identifier: MIT
 * tool_common.c — what the built-in tools share: the argument shape and the table.
 */
#include "base/prelude.h"
#include "tools/tools_int.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/mem.h"
#include "config/config.h"
#include "ns/ns.h"

gw_err tool_target(const struct gov_call *gc, const json_t *args, const char *tool,
                   bool has_content, size_t max, struct gov_target *t, char *msg, size_t cap)
{
    const char *ns = gw_json_str(args, "namespace"), *agent = gw_json_str(args, "agent");
    const char *content = gw_json_str(args, "content");
    size_t expect = has_content ? 3 : 2;
    if (!json_is_object(args) || !ns || !agent || json_object_size(args) != expect ||
        (has_content && !content)) {
        snprintf(msg, cap, "%s takes {\"namespace\", \"agent\"%s}", tool,
                 has_content ? ", \"content\"" : "");
        return GW_EINVAL;
    }
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        snprintf(msg, cap, "namespace and agent must be 1-63 characters of [a-z0-9_-]");
        return GW_EINVAL;
    }
    if (content && strlen(content) > max) {
        snprintf(msg, cap, "content larger than %zu bytes", max);
        return GW_ETOOBIG;
    }
    t->ns = gw_pool_strdup(gc->pool, ns);
    t->agent = gw_pool_strdup(gc->pool, agent);
    t->resource = gw_pool_printf(gc->pool, "%s/%s", ns, agent);
    /* data carried by the tool: internal by default, detectors can only raise it */
    t->level = content ? pol_classify_raise(POL_LEVEL_INTERNAL, content, strlen(content))
                       : POL_LEVEL_INTERNAL;
    return GW_OK;
}

gw_err tool_document(const struct gov_call *gc, struct ns_registry *reg, const struct gov_target *t,
                     struct ns_agent_info *info, const char **path, char *msg, size_t cap)
{
    if (strcmp(t->agent, NS_SHARED) == 0) {
        if (ns_shared_memory_path(reg, gc->p->tenant, t->ns, gc->pool, path) != GW_OK) {
            snprintf(msg, cap, "no namespace %s", t->ns);
            return GW_ENOTFOUND;
        }
        return GW_OK;
    }
    if (ns_agent_find(reg, gc->p->tenant, t->ns, t->agent, gc->pool, info) != GW_OK) {
        snprintf(msg, cap, "no agent %s/%s", t->ns, t->agent);
        return GW_ENOTFOUND;
    }
    *path = info->memory_path;
    return GW_OK;
}

const struct gov_action *const *tool_all(size_t *n)
{
    static const struct gov_action *const all[] = {&tool_memory_read, &tool_memory_write,
                                                   &tool_send_message, NULL};
    *n = GW_ARRAY_LEN(all) - 1;
    return all;
}
