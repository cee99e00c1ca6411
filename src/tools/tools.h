/* SPDX-License-Identifier: MIT
 * tools.h — the built-in actions: what a client (/api/v1/tools/invoke) or an agent's model may
 * ask the gateway to do, each a const struct gov_action that runs only through the spine
 * (gov_act). The composition root registers tool_all() with the spine; doors look actions up
 * there, never here. Arguments are {"namespace", "agent"[, "content"]}; agent "shared" is the
 * namespace's shared memory.
 */
#ifndef GW_TOOLS_H
#define GW_TOOLS_H

#include "gov/gov_action.h"

extern const struct gov_action tool_memory_read;  /* memory:read; the memory text */
extern const struct gov_action tool_memory_write; /* memory:write; replaces the memory text */
extern const struct gov_action tool_send_message; /* stores a message on an agent's channel */

/* Every built-in action, NULL-terminated; *n their count. */
const struct gov_action *const *tool_all(size_t *n);

#endif
