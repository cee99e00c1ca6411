/* SPDX-License-Identifier: MIT
 * tool_message.c — send_message: a message to another agent's channel, stored in its mailbox.
 */
#include "base/prelude.h"
#include "tools/tools_int.h"
#include "auth/auth.h"
#include "base/json.h"
#include "config/config.h"
#include "ns/ns.h"

static gw_err check(const struct gov_call *gc, const json_t *args, struct gov_target *t, char *msg,
                    size_t cap)
{
    gw_err rc = tool_target(gc, args, "send_message", true, gc->cfg->limits.max_message_bytes, t,
                            msg, cap);
    if (rc == GW_OK && strcmp(t->agent, NS_SHARED) == 0) {
        snprintf(msg, cap, "messages go to an agent, not to shared memory");
        rc = GW_EINVAL;
    }
    return rc;
}

static gw_err run(struct gov_call *gc, const json_t *args, const struct gov_target *t,
                  json_t **result, char *msg, size_t cap)
{
    struct ns_registry *reg = gov_deps(gc->gov)->ns;
    struct ns_agent_info info;
    const char *path = NULL;
    gw_err rc = tool_document(gc, reg, t, &info, &path, msg, cap);
    char id[40];
    ns_message_id(id, sizeof(id));
    if (rc == GW_OK)
        rc = ns_message_post(reg, gc->p->tenant, id, info.channel, gc->p->actor,
                             gw_json_str(args, "content"));
    if (rc == GW_OK)
        *result = json_pack("{s:s,s:s}", "message_id", id, "channel", info.channel);
    return rc;
}

const struct gov_action tool_send_message = {
    .name = "send_message",
    .pol = POL_ACT_TOOL_CALL,
    .scope = NULL,
    .audit = "tool",
    .mutation = true,
    .check = check,
    .run = run,
};
