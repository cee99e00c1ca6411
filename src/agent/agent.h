/* SPDX-License-Identifier: MIT
 * agent.h — one turn of an agent: the model, its tools, until a final answer.
 *
 * A turn starts from the conversation so far (the caller loads it and appends the new user
 * message) and the agent's configuration: the system prompt is the agent's system_prompt
 * followed by its memory document. Then, up to models.max_tool_rounds times: route the call
 * (gov_route.h: budget, policy, reroute — the data sent is classified each round, so a
 * confidential tool result cannot leave for an external model), call the model (streaming text
 * to the sink as it arrives), and when it asks for tools, run each through the caller's tool
 * runner, which enforces scopes, namespace rules, policy and approvals, and feed the results
 * back. A tool that needs approval does not block the turn: its result tells the model (and
 * the user) that it is waiting for approval, with the approval id.
 *
 * Identity and tenant are the caller's principal; nothing the model writes can change them,
 * and the model only sees tools that act on its own agent's memory and namespace.
 */
#ifndef GW_AGENT_H
#define GW_AGENT_H

#include "base/prelude.h"
#include "base/err.h"
#include "llm/llm_wire.h"

#include <jansson.h>
#include <stdatomic.h>

struct cfg_agent;
struct gov_call;

/* "openclaw/<ns>/<agent>", "openclaw:<ns>/<agent>" or "agent:<ns>/<agent>" → the
 * "<ns>/<agent>" part (a pointer into model), else NULL. */
const char *agent_model_name(const char *model);

/* Runs one tool call chosen by the model. name is one of the agent's tools; args come from the
 * model (untrusted). Returns the result to feed back (new reference) and sets *status to
 * "executed", "denied", "pending_approval" or "error". */
typedef json_t *agent_tool_fn(void *arg, const char *name, const json_t *args, const char **status);

/* Streaming observers (may be NULL); they run on the model client's I/O thread for text and on
 * the turn's thread for tools. Return non-zero from text to cancel (client gone). */
struct agent_sink {
    int (*text)(void *arg, const char *delta, size_t len);
    void (*tool)(void *arg, const char *name, const json_t *args, const char *status,
                 const json_t *result);
    void *arg;
};

struct agent_turn {
    /* in */
    struct gov_call *gc; /* the governed call the turn belongs to (principal, pool,
                            configuration, request id, audit) */
    const struct cfg_agent *agent;
    json_t *history; /* canonical messages: the conversation + the new user message */
    bool stream;
    agent_tool_fn *run_tool;
    void *tool_arg;
    struct agent_sink sink;
    const atomic_bool *cancel; /* set when the client went away */
    /* out */
    json_t *produced;   /* assistant and tool messages of this turn (owned) */
    const char *answer; /* final assistant text (in pool) */
    const char *model;  /* model that answered last ("<provider>/<model>") */
    bool rerouted;
    unsigned model_calls;
    struct llm_usage usage; /* summed over the turn's model calls */
    double cost_usd;
    json_t *calls; /* per model call: route, usage, cost (owned, for the audit) */
    char msg[400]; /* error message */
};

/* GW_OK with answer set; GW_ENOTFOUND/GW_EPAYMENT/GW_EFORBIDDEN/GW_ETHROTTLED/GW_EUPSTREAM...
 * with msg when a model call could not be made or failed. Release with agent_turn_release. */
gw_err agent_turn_run(struct agent_turn *t);
void agent_turn_release(struct agent_turn *t);

/* --- conversations (agent_history.c) ------------------------------------------------------- */

/* The stored conversations of (tenant, owner, agent, session): what a turn starts from and what
 * it adds, and what people read back (below). One per daemon, over the store. */
struct agent_history;
struct auth_principal;
struct store;
#define AGENT_CONVERSATION_ID_LEN 40
#define AGENT_HISTORY_MAX_MESSAGES 64 /* of a stored conversation, fed back to the model */

struct agent_history *agent_history_new(struct store *st);
void agent_history_free(struct agent_history *h);
/* Who owns the conversations of p: its user, or "token:<id>" for a token without owner. */
const char *agent_history_owner(const struct auth_principal *p);
/* Opens (or creates, with p's org unit and team) p's conversation with agent in session and
 * appends its last messages to history, never starting with the results of a tool call that
 * was cut away; its id goes to id. */
gw_err agent_history_load(struct agent_history *h, const struct auth_principal *p,
                          const char *agent, const char *session, json_t *history,
                          char id[AGENT_CONVERSATION_ID_LEN]);
/* Stores the user's message and what the turn produced. */
gw_err agent_history_save(struct agent_history *h, const char *id, const json_t *user_msg,
                          const json_t *produced);

/* --- reading conversations back (agent_conversations.c) ------------------------------------- */

/* Access: a principal reads its own conversations (the door checks conversations:read, and
 * conversations:write to delete); someone else's only with conversations:read_all and within
 * its reach: the whole tenant for an enterprise administrator, else the subtree of its org
 * unit, judged by the org unit the owner had when the conversation began. A conversation out
 * of reach is GW_ENOTFOUND, so its existence is not disclosed; deleting is for the owner only.
 * Every answer that carries someone else's conversations, every export and every deletion is
 * audited durably first (GW_EAUDIT: nothing is returned or changed). Each function returns
 * GW_OK with its result, or GW_EINVAL / GW_EFORBIDDEN / GW_ENOTFOUND / GW_ETOOBIG / GW_EAUDIT /
 * GW_ESTORE with msg. */

#define AGENT_CONV_PAGE_MAX 200                  /* conversations per list page */
#define AGENT_CONV_MESSAGES_MAX 500              /* messages per page of one conversation */
#define AGENT_CONV_EXPORT_MAX ((size_t)16 << 20) /* bytes of one export */
#define AGENT_MAILBOX_PAGE_MAX 200               /* mailbox messages per page */
#define AGENT_CURSOR_MAX 64                      /* bytes of a list cursor */

struct agent_conv_filter {
    const char *user;   /* NULL: the caller's own; "*": everyone in reach; else that owner */
    const char *agent;  /* "<namespace>/<agent>", or NULL for every agent */
    const char *cursor; /* next_cursor of the page before, or NULL for the first page */
    size_t limit;       /* 1 … AGENT_CONV_PAGE_MAX */
};

/* {"conversations": [summary...], "next_cursor": string|null}, most recent activity first. A
 * summary: {"id","agent","session","user","org_unit","team","created_at","updated_at",
 * "messages","title"}. */
gw_err agent_conv_list(struct agent_history *h, struct gov_call *gc,
                       const struct agent_conv_filter *f, json_t **page, char *msg, size_t cap);
/* {"conversation": summary, "messages": [...], "next_cursor": seq|null}: at most limit
 * messages after seq `after`, oldest first, each {"seq","created_at","role","content",
 * "tool_calls"?,"tool_call_id"?}. */
gw_err agent_conv_read(struct agent_history *h, struct gov_call *gc, const char *id, int64_t after,
                       size_t limit, json_t **page, char *msg, size_t cap);

enum agent_export_format { AGENT_EXPORT_JSON, AGENT_EXPORT_MARKDOWN };
/* The whole conversation as one document (*text malloc'd, *len bytes): a data export,
 * decided by the data policy (gov_export_check) at the classification the detectors find in
 * it (at least internal) for a destination inside (external false) or outside the tenant. */
gw_err agent_conv_export(struct agent_history *h, struct gov_call *gc, const char *id,
                         enum agent_export_format fmt, bool external, char **text, size_t *len,
                         char *msg, size_t cap);
/* The owner deletes a conversation and its messages: *result {"id","deleted":true,
 * "messages"}. */
gw_err agent_conv_delete(struct agent_history *h, struct gov_call *gc, const char *id,
                         json_t **result, char *msg, size_t cap);

/* The mailbox of a channel (messages sent to an agent without a model), newest first:
 * {"messages": [{"id","channel","sender","content","created_at"}], "next_cursor"}. The door
 * checks the caller's access to the channel. */
gw_err agent_mailbox_page(struct agent_history *h, const char *tenant, const char *channel,
                          const char *cursor, size_t limit, json_t **page, char *msg, size_t cap);

#endif
