/* SPDX-License-Identifier: MIT
 * tools_int.h — private to src/tools: helpers the built-in tools share.
 */
#ifndef GW_TOOLS_INT_H
#define GW_TOOLS_INT_H

#include "tools/tools.h"

struct ns_registry;
struct ns_agent_info;

/* Checks {"namespace", "agent"[, "content"]} (exactly those members, names by the name rule,
 * content at most max bytes) and fills t, classifying the content. */
gw_err tool_target(const struct gov_call *gc, const json_t *args, const char *tool,
                   bool has_content, size_t max, struct gov_target *t, char *msg, size_t cap);
/* The memory document of a target: the agent's, or the namespace's shared one. */
gw_err tool_document(const struct gov_call *gc, struct ns_registry *reg, const struct gov_target *t,
                     struct ns_agent_info *info, const char **path, char *msg, size_t cap);

#endif
