/* SPDX-License-Identifier: MIT
 * api_chat.c — agent turns over HTTP: the OpenAI-compatible form and the channel form.
 *
 * Both run agent_turn_run on this (blocking worker) thread. The model's text streams to the
 * client as it arrives: OpenAI chunks on /v1/chat/completions, named SSE events (delta, tool,
 * done, error) on the channel endpoint; every event has an id and is logged, so the client can
 * resume the stream on any node (api_streams.c). Tools the model asks for run here through the
 * spine (gov_act: scopes, namespace rules, policy, approvals, audit) as steps of the turn; the
 * model can only name its own agent's memory, its namespace's shared memory and agents of its own
 * namespace.
 */
#include "base/prelude.h"
#include "agent/agent.h"
#include "api/api_int.h"
#include "gov/gov_action.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "meter/meter.h"

struct chat {
    struct api_call *c;
    const struct cfg_agent *agent;
    char ns[64], name[64];  /* the agent's namespace and short name */
    struct http_stream *hs; /* streaming only */
    struct api_sse sse;     /* its ids and its log (api_streams.c) */
    bool openai;            /* chunk format */
    bool include_usage;
    bool role_sent;
    char id[API_STREAM_ID_LEN];
    int64_t created;
    atomic_bool gone;   /* the client went away: the turn is canceled */
    json_t *tools_seen; /* tool calls of the turn (for the answer and the audit) */
    char conversation[AGENT_CONVERSATION_ID_LEN];
};

/* --- conversations ----------------------------------------------------------------------- */

static gw_err load_conversation(struct chat *ch, const char *session, json_t *history)
{
    return agent_history_load(ch->c->d->history, ch->c->gc.p, ch->agent->name, session, history,
                              ch->conversation);
}

static void save_conversation(struct chat *ch, const json_t *user_msg, const json_t *produced)
{
    if (agent_history_save(ch->c->d->history, ch->conversation, user_msg, produced) != GW_OK)
        gw_error("chat: conversation %s could not be stored", ch->conversation);
}

static bool split_agent(struct chat *ch, const char *name)
{
    const char *slash = strchr(name, '/');
    if (!slash || (size_t)(slash - name) >= sizeof(ch->ns) || strlen(slash + 1) >= sizeof(ch->name))
        return false;
    snprintf(ch->ns, sizeof(ch->ns), "%.*s", (int)(slash - name), name);
    snprintf(ch->name, sizeof(ch->name), "%s", slash + 1);
    return true;
}

/* --- tools: the model's arguments mapped onto the agent's own namespace ------------------- */

/* One tool call of the turn through the spine, as a step of this request; the result the
 * model sees and its status ("executed", "pending_approval", "denied", "error"). */
static json_t *act(struct api_call *c, const char *name, const json_t *args, const char **status)
{
    const struct gov_action *a = gov_action_find(c->gc.gov, name);
    if (!a) {
        *status = "error";
        return json_pack("{s:s}", "error", "unknown tool");
    }
    struct gov_outcome out;
    gov_act(&c->gc, a, args, GOV_ACT_STEP, &out);
    json_t *result;
    switch (out.state) {
    case GOV_EXECUTED:
        *status = "executed";
        result = json_incref(out.result);
        break;
    case GOV_PENDING:
        *status = "pending_approval";
        result = json_pack("{s:s,s:s}", "approval_id", out.approval_id, "message", out.msg);
        break;
    default:
        *status = out.err == GW_EFORBIDDEN ? "denied" : "error";
        result = json_pack("{s:s}", "error", out.msg);
    }
    gov_outcome_release(&out);
    return result;
}

static json_t *run_tool(void *arg, const char *name, const json_t *margs, const char **status)
{
    struct chat *ch = arg;
    const char *scope = gw_json_str(margs, "scope");
    const char *target = ch->name;
    if (strcmp(name, "send_message") == 0) {
        target = gw_json_str(margs, "to");
        if (!target || !cfg_name_valid(target) || strcmp(target, "shared") == 0) {
            *status = "error";
            return json_pack("{s:s}", "error", "'to' must name an agent of this namespace");
        }
    } else if (scope && strcmp(scope, "namespace") == 0) {
        target = "shared";
    } else if (scope && strcmp(scope, "agent") != 0) {
        *status = "error";
        return json_pack("{s:s}", "error", "'scope' must be 'agent' or 'namespace'");
    }
    json_t *args = json_pack("{s:s,s:s}", "namespace", ch->ns, "agent", target);
    const json_t *content = json_object_get(margs, "content");
    if (strcmp(name, "memory_read") != 0) {
        if (!json_is_string(content)) {
            json_decref(args);
            *status = "error";
            return json_pack("{s:s}", "error", "'content' must be a string");
        }
        json_object_set(args, "content", (json_t *)content);
    }
    json_t *result = act(ch->c, name, args, status);
    json_array_append_new(ch->tools_seen, json_pack("{s:s,s:O,s:s}", "tool", name, "args", args,
                                                    "status", *status));
    json_decref(args);
    return result;
}

/* --- streaming -------------------------------------------------------------------------- */

static void send_event(struct chat *ch, const char *event, json_t *data, bool last)
{
    char *text = gw_json_compact(data);
    json_decref(data);
    char *frame = event ? gw_xasprintf("event: %s\ndata: %s\n\n", event, text)
                        : gw_xasprintf("data: %s\n\n", text);
    free(text);
    if (api_sse_send(&ch->sse, ch->hs, frame, last) != GW_OK && !ch->sse.keep)
        atomic_store(&ch->gone, true);
    free(frame);
}

static json_t *openai_chunk(struct chat *ch, json_t *delta, const char *finish)
{
    return json_pack("{s:s,s:s,s:I,s:s+,s:[{s:i,s:o,s:s?}]}", "id", ch->id, "object",
                     "chat.completion.chunk", "created", (json_int_t)ch->created, "model",
                     "openclaw/", ch->agent->name, "choices", "index", 0, "delta", delta,
                     "finish_reason", finish);
}

static int on_text(void *arg, const char *delta, size_t len)
{
    struct chat *ch = arg;
    if (ch->openai) {
        json_t *d = json_pack("{s:s%}", "content", delta, len);
        if (!ch->role_sent) {
            json_object_set_new(d, "role", json_string("assistant"));
            ch->role_sent = true;
        }
        send_event(ch, NULL, openai_chunk(ch, d, NULL), false);
    } else {
        send_event(ch, "delta", json_pack("{s:s%}", "text", delta, len), false);
    }
    return atomic_load(&ch->gone) ? 1 : 0;
}

static void on_tool(void *arg, const char *name, const json_t *args, const char *status,
                    const json_t *result)
{
    struct chat *ch = arg;
    if (!ch->openai)
        send_event(ch, "tool",
                   json_pack("{s:s,s:O?,s:s,s:O}", "tool", name, "args", args, "status", status,
                             "result", result),
                   false);
}

/* --- the turn ------------------------------------------------------------------------------ */

static json_t *usage_json(const struct agent_turn *t)
{
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)t->usage.prompt_tokens,
                     "completion_tokens", (json_int_t)t->usage.completion_tokens, "total_tokens",
                     (json_int_t)(t->usage.prompt_tokens + t->usage.completion_tokens));
}

static void audit_turn(struct chat *ch, const struct agent_turn *t, gw_err rc)
{
    struct api_call *c = ch->c;
    c->gc.audit.resource = gw_pool_strdup(c->r->pool, ch->agent->name);
    json_decref(c->gc.audit.details);
    c->gc.audit.details = json_pack("{s:s,s:s?,s:b,s:I,s:o,s:O,s:f,s:O}", "agent", ch->agent->name,
                                    "model", t->model, "rerouted", t->rerouted, "model_calls",
                                    (json_int_t)t->model_calls, "usage", usage_json(t), "calls",
                                    t->calls, "cost_usd", meter_usd(t->cost_usd), "tools",
                                    ch->tools_seen);
    if (rc != GW_OK)
        json_object_set_new(c->gc.audit.details, "error", json_string(t->msg));
}

/* Runs the turn and answers (JSON or stream). history is the conversation including the new
 * user message (borrowed). */
static void run_turn(struct chat *ch, json_t *history, bool stream, struct agent_turn *t)
{
    struct api_call *c = ch->c;
    ch->tools_seen = json_array();
    ch->created = gw_now_ms() / 1000;
    api_stream_new_id(ch->id);
    *t = (struct agent_turn){
        .gc = &c->gc,
        .agent = ch->agent,
        .history = history,
        .stream = stream,
        .run_tool = run_tool,
        .tool_arg = ch,
        .cancel = &ch->gone,
        .sink = {.text = stream ? on_text : NULL, .tool = stream ? on_tool : NULL, .arg = ch},
    };
    if (stream) {
        http_async_begin(c->r);
        ch->hs = http_stream_open(c->r, 200, "text/event-stream", NULL);
        http_async_finish(c->r); /* this worker's own hold keeps the request until we return */
        api_sse_begin(&ch->sse, c, ch->id);
    }
    gw_err rc = agent_turn_run(t);
    audit_turn(ch, t, rc);
    if (!stream) {
        if (rc != GW_OK) {
            http_respond_error(c->r, rc, "%s", t->msg);
        } else if (ch->openai) {
            json_t *resp = json_pack("{s:s,s:s,s:I,s:s+,s:[{s:i,s:{s:s,s:s},s:s}],s:o}", "id",
                                     ch->id, "object", "chat.completion", "created",
                                     (json_int_t)ch->created, "model", "openclaw/", ch->agent->name,
                                     "choices", "index", 0, "message", "role", "assistant",
                                     "content", t->answer, "finish_reason", "stop", "usage",
                                     usage_json(t));
            http_respond_json(c->r, 200, resp);
        }
        return; /* the channel form answers in its caller (it adds the conversation) */
    }
    if (rc != GW_OK) {
        c->r->status = gw_err_http_status(rc);
        json_t *e = json_pack("{s:{s:s,s:s,s:s}}", "error", "message", t->msg, "type", "api_error",
                              "code", gw_err_name(rc));
        send_event(ch, ch->openai ? NULL : "error", e, true);
        return; /* as on the proxy: an error event ends the stream, without [DONE] */
    } else if (ch->openai) {
        send_event(ch, NULL, openai_chunk(ch, json_object(), "stop"), false);
        if (ch->include_usage) {
            json_t *u = json_pack("{s:s,s:s,s:I,s:s+,s:[],s:o}", "id", ch->id, "object",
                                  "chat.completion.chunk", "created", (json_int_t)ch->created,
                                  "model", "openclaw/", ch->agent->name, "choices", "usage",
                                  usage_json(t));
            send_event(ch, NULL, u, false);
        }
        api_sse_send(&ch->sse, ch->hs, "data: [DONE]\n\n", true);
    }
}

void api_agent_chat_openai(struct api_call *c, json_t *body, const char *agent_name)
{
    const struct cfg_agent *agent = api_agent_runner(c, agent_name);
    struct chat ch = {.c = c, .agent = agent, .openai = true};
    if (!agent || !agent->model || !split_agent(&ch, agent_name)) {
        http_respond_error(c->r, GW_ENOTFOUND, "no agent '%s' with a model", agent_name);
        return;
    }
    if (!auth_allows_channel(c->gc.p, ch.ns, ch.name)) {
        api_deny_channel(c, ch.ns, ch.name);
        return;
    }
    /* the client's own system messages are dropped: the agent's configuration is the system
     * prompt, and a client cannot replace it */
    json_t *history = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(body, "messages"), i, m) {
        const char *role = gw_json_str(m, "role");
        if (strcmp(role, "system") != 0 && strcmp(role, "developer") != 0)
            json_array_append(history, m);
    }
    bool stream = json_is_true(json_object_get(body, "stream"));
    ch.include_usage = json_is_true(
        json_object_get(json_object_get(body, "stream_options"), "include_usage"));
    struct agent_turn t;
    run_turn(&ch, history, stream, &t);
    if (stream) {
        http_stream_close(ch.hs, true);
        api_sse_end(&ch.sse);
    }
    agent_turn_release(&t);
    json_decref(ch.tools_seen);
    json_decref(history);
}

void api_agent_channel_turn(struct api_call *c, const struct cfg_agent *agent, const char *text,
                            const char *session, bool stream)
{
    struct chat ch = {.c = c, .agent = agent};
    if (!split_agent(&ch, agent->name)) {
        http_respond_error(c->r, GW_EINTERNAL, "bad agent name");
        return;
    }
    json_t *history = json_array();
    if (load_conversation(&ch, session, history) != GW_OK) {
        json_decref(history);
        http_respond_error(c->r, GW_ESTORE, "the conversation could not be loaded");
        return;
    }
    json_t *user_msg = json_pack("{s:s,s:s}", "role", "user", "content", text);
    json_array_append(history, user_msg);
    struct agent_turn t;
    run_turn(&ch, history, stream, &t);
    if (t.answer)
        save_conversation(&ch, user_msg, t.produced);
    if (stream) {
        if (t.answer)
            send_event(&ch, "done",
                       json_pack("{s:s,s:s,s:s?,s:b,s:o,s:f,s:O}", "reply", t.answer,
                                 "conversation_id", ch.conversation, "model", t.model, "rerouted",
                                 t.rerouted, "usage", usage_json(&t), "cost_usd",
                                 meter_usd(t.cost_usd), "tools", ch.tools_seen),
                       true);
        http_stream_close(ch.hs, true);
        api_sse_end(&ch.sse);
    } else if (t.answer && !c->r->responded) {
        http_respond_json(c->r, 200,
                          json_pack("{s:s,s:s,s:s,s:s?,s:b,s:o,s:f,s:O}", "reply", t.answer,
                                    "agent", agent->name, "conversation_id", ch.conversation,
                                    "model", t.model, "rerouted", t.rerouted, "usage",
                                    usage_json(&t), "cost_usd", meter_usd(t.cost_usd), "tools",
                                    ch.tools_seen));
    }
    agent_turn_release(&t);
    json_decref(ch.tools_seen);
    json_decref(user_msg);
    json_decref(history);
}
