/* SPDX-License-Identifier: MIT
 * tool_memory.c — memory_read and memory_write: an agent's memory document or its namespace's
 * shared one, through the symlink-safe file access of src/ns.
 */
#include "base/prelude.h"
#include "tools/tools_int.h"
#include "auth/auth.h"
#include "config/config.h"
#include "ns/ns.h"

static gw_err check_read(const struct gov_call *gc, const json_t *args, struct gov_target *t,
                         char *msg, size_t cap)
{
    return tool_target(gc, args, "memory_read", false, 0, t, msg, cap);
}

static gw_err check_write(const struct gov_call *gc, const json_t *args, struct gov_target *t,
                          char *msg, size_t cap)
{
    return tool_target(gc, args, "memory_write", true, gc->cfg->limits.max_memory_bytes, t, msg,
                       cap);
}

static gw_err run_read(struct gov_call *gc, const json_t *args, const struct gov_target *t,
                       json_t **result, char *msg, size_t cap)
{
    GW_UNUSED(args);
    struct ns_registry *reg = gov_deps(gc->gov)->ns;
    struct ns_agent_info info;
    const char *path = NULL;
    gw_err rc = tool_document(gc, reg, t, &info, &path, msg, cap);
    if (rc != GW_OK)
        return rc;
    char *data = NULL;
    size_t len = 0;
    rc = ns_memory_read(reg, path, gc->cfg->limits.max_memory_bytes, &data, &len);
    if (rc == GW_OK)
        *result = json_pack("{s:s%}", "content", data, len);
    else if (rc == GW_ENOTFOUND)
        snprintf(msg, cap, "this memory has not been written yet");
    free(data);
    return rc;
}

static gw_err run_write(struct gov_call *gc, const json_t *args, const struct gov_target *t,
                        json_t **result, char *msg, size_t cap)
{
    struct ns_registry *reg = gov_deps(gc->gov)->ns;
    struct ns_agent_info info;
    const char *path = NULL, *content = json_string_value(json_object_get(args, "content"));
    gw_err rc = tool_document(gc, reg, t, &info, &path, msg, cap);
    if (rc == GW_OK)
        rc = ns_memory_write(reg, path, content, strlen(content));
    if (rc == GW_OK)
        *result = json_pack("{s:s,s:I}", "memory", t->resource, "bytes",
                            (json_int_t)strlen(content));
    return rc;
}

const struct gov_action tool_memory_read = {
    .name = "memory_read",
    .pol = POL_ACT_TOOL_CALL,
    .scope = "memory:read",
    .audit = "tool",
    .mutation = false,
    .check = check_read,
    .run = run_read,
};

const struct gov_action tool_memory_write = {
    .name = "memory_write",
    .pol = POL_ACT_TOOL_CALL,
    .scope = "memory:write",
    .audit = "tool",
    .mutation = true,
    .check = check_write,
    .run = run_write,
};
