/* SPDX-License-Identifier: MIT
 * agent_int.h — private to src/agent: the conversation service's state and the rendering of
 * exported conversations (agent_transcript.c), shared by its files and the unit tests.
 */
#ifndef GW_AGENT_INT_H
#define GW_AGENT_INT_H

#include "agent/agent.h"
#include "base/buf.h"

struct agent_history {
    struct store *st;
};

/* The Markdown form of an export document {"conversation": summary, "messages": [...],
 * "exported_at", "exported_by"} (the JSON export is that document itself), appended to out:
 * a heading and the conversation's facts, then one section per message. Texts from people
 * and models go into fenced blocks longer than any run of backticks they contain, so nothing
 * they wrote can end a block, become a heading or reach a renderer as HTML; the short fields
 * shown inline are escaped. GW_ETOOBIG when out's maximum is reached. */
gw_err agent_transcript_markdown(const json_t *doc, struct gw_buf *out);

#endif
