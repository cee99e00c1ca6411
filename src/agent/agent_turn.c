/* SPDX-License-Identifier: MIT
 * agent_turn.c — the agent loop (see agent.h).
 */
#include "base/prelude.h"
#include "agent/agent.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "gov/gov_model.h"
#include "ns/ns.h"
#include "policy/policy.h"

#define MEMORY_IN_PROMPT_MAX ((size_t)16 * 1024)
#define TOOL_ARGS_MAX_DEPTH 8

const char *agent_model_name(const char *model)
{
    static const char *const prefixes[] = {"openclaw/", "openclaw:", "agent:"};
    for (size_t i = 0; model && i < GW_ARRAY_LEN(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(model, prefixes[i], n) == 0)
            return model + n;
    }
    return NULL;
}

/* --- what the model sees ------------------------------------------------------------------ */

static json_t *scope_param(void)
{
    return json_pack("{s:s,s:[ss],s:s}", "type", "string", "enum", "agent", "namespace",
                     "description",
                     "'agent': this agent's own memory (default); 'namespace': "
                     "the memory shared by every agent of this namespace");
}

static json_t *tool_def(const char *name)
{
    json_t *params = NULL;
    const char *desc = NULL;
    if (strcmp(name, "memory_read") == 0) {
        desc = "Read a memory document.";
        params = json_pack("{s:s,s:{s:o}}", "type", "object", "properties", "scope", scope_param());
    } else if (strcmp(name, "memory_write") == 0) {
        desc = "Replace a memory document with new content.";
        params = json_pack("{s:s,s:{s:o,s:{s:s}},s:[s]}", "type", "object", "properties", "scope",
                           scope_param(), "content", "type", "string", "required", "content");
    } else if (strcmp(name, "send_message") == 0) {
        desc = "Send a message to another agent of this namespace.";
        params = json_pack("{s:s,s:{s:{s:s,s:s},s:{s:s}},s:[ss]}", "type", "object", "properties",
                           "to", "type", "string", "description",
                           "the agent's name within this namespace", "content", "type", "string",
                           "required", "to", "content");
    } else {
        return NULL;
    }
    return json_pack("{s:s,s:{s:s,s:s,s:o}}", "type", "function", "function", "name", name,
                     "description", desc, "parameters", params);
}

static json_t *tool_defs(const struct cfg_agent *a)
{
    json_t *defs = json_array();
    for (size_t i = 0; i < a->n_tools; i++) {
        json_t *d = tool_def(a->tools[i]);
        if (d)
            json_array_append_new(defs, d);
    }
    return defs;
}

static bool agent_has_tool(const struct cfg_agent *a, const char *name)
{
    for (size_t i = 0; name && i < a->n_tools; i++)
        if (strcmp(a->tools[i], name) == 0)
            return true;
    return false;
}

static json_t *system_message(struct agent_turn *t)
{
    struct gw_buf b;
    gw_buf_init(&b, MEMORY_IN_PROMPT_MAX * 2 + 65536);
    gw_buf_puts(&b,
                t->agent->system_prompt ? t->agent->system_prompt : "You are a helpful assistant.");
    char *mem = NULL;
    size_t len = 0;
    if (t->agent->memory_path &&
        ns_memory_read(gov_deps(t->gc->gov)->ns, t->agent->memory_path, MEMORY_IN_PROMPT_MAX, &mem,
                       &len) == GW_OK &&
        len) {
        gw_buf_printf(&b, "\n\n# Your memory (%s)\n", t->agent->name);
        gw_buf_append(&b, mem, len);
    }
    free(mem);
    json_t *m = json_pack("{s:s,s:s%}", "role", "system", "content", b.data ? b.data : "", b.len);
    gw_buf_release(&b);
    return m;
}

/* --- one model call -------------------------------------------------------------------------- */

static int text_chunk(void *arg, json_t *chunk)
{
    struct agent_turn *t = arg;
    json_t *delta = json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "delta");
    const json_t *content = json_object_get(delta, "content");
    if (t->sink.text && json_is_string(content) && json_string_length(content))
        return t->sink.text(t->sink.arg, json_string_value(content), json_string_length(content));
    return 0;
}

static gw_err call_model(struct agent_turn *t, json_t *messages, json_t *tools, json_t **message)
{
    struct gov_call *gc = t->gc;
    char ns[128];
    const char *slash = strchr(t->agent->name, '/');
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash ? slash - t->agent->name : 0), t->agent->name);
    json_t *canon = json_pack("{s:s,s:O}", "model", t->agent->model, "messages", messages);
    if (json_array_size(tools))
        json_object_set(canon, "tools", tools);
    /* conversations with an agent are company data: internal at least; every round is
     * classified again, so a confidential tool result cannot leave for an external model */
    struct gov_model_req rq = {
        .model = t->agent->model,
        .canon = canon,
        .floor = POL_LEVEL_INTERNAL,
        .workspace = ns,
        .agent = t->agent->name,
        .client_model = gw_pool_printf(gc->pool, "openclaw/%s", t->agent->name),
        .stream = t->stream,
        .on_chunk = text_chunk,
        .arg = t,
    };
    struct gov_model *m = NULL;
    json_t *resp = NULL;
    gw_err rc = gov_model_prepare(gc, &rq, &m, t->msg, sizeof(t->msg));
    json_decref(canon);
    if (rc == GW_OK) {
        t->model = m->route.routed;
        t->rerouted |= m->route.rerouted;
        rc = gov_model_wait(m, t->cancel, &resp, t->msg, sizeof(t->msg));
        t->model_calls++;
        t->cost_usd += m->cost_usd;
        t->usage.prompt_tokens += m->usage.prompt_tokens;
        t->usage.completion_tokens += m->usage.completion_tokens;
    }
    json_array_append(t->calls, m->details);
    if (rc != GW_OK) {
        json_decref(resp);
        return rc;
    }
    json_t *msg = json_object_get(json_array_get(json_object_get(resp, "choices"), 0), "message");
    if (!json_is_object(msg)) {
        snprintf(t->msg, sizeof(t->msg), "the model's answer has no message");
        json_decref(resp);
        return GW_EUPSTREAM;
    }
    *message = json_deep_copy(msg);
    json_decref(resp);
    return GW_OK;
}

/* --- tools ------------------------------------------------------------------------------------ */

static json_t *run_tool_call(struct agent_turn *t, const json_t *call)
{
    const json_t *fn = json_object_get(call, "function");
    const char *name = gw_json_str(fn, "name");
    const char *argtext = gw_json_str(fn, "arguments");
    const char *status = "error";
    json_t *result = NULL, *args = NULL;
    char perr[160];
    if (!agent_has_tool(t->agent, name)) {
        result = json_pack("{s:s}", "error", "this tool is not available to this agent");
    } else if (!(args = gw_json_parse(argtext && *argtext ? argtext : "{}",
                                      argtext && *argtext ? strlen(argtext) : 2,
                                      TOOL_ARGS_MAX_DEPTH, perr, sizeof(perr))) ||
               !json_is_object(args)) {
        result = json_pack("{s:s}", "error", "the arguments are not a JSON object");
    } else {
        result = t->run_tool(t->tool_arg, name, args, &status);
    }
    if (!result)
        result = json_pack("{s:s}", "error", "the tool produced no result");
    if (t->sink.tool)
        t->sink.tool(t->sink.arg, name ? name : "", args, status, result);
    json_object_set_new(result, "status", json_string(status));
    json_decref(args);
    return result;
}

gw_err agent_turn_run(struct agent_turn *t)
{
    t->produced = json_array();
    t->calls = json_array();
    if (!t->agent->model) {
        snprintf(t->msg, sizeof(t->msg), "agent %s has no model configured", t->agent->name);
        return GW_ECONFLICT;
    }
    json_t *messages = json_array();
    json_array_append_new(messages, system_message(t));
    json_array_extend(messages, t->history);
    json_t *tools = tool_defs(t->agent);
    gw_err rc = GW_OK;
    unsigned rounds = t->gc->cfg->max_tool_rounds ? t->gc->cfg->max_tool_rounds : 8;
    for (unsigned round = 0;; round++) {
        if (t->cancel && atomic_load(t->cancel)) {
            snprintf(t->msg, sizeof(t->msg), "the client went away");
            rc = GW_ECANCELED;
            break;
        }
        if (round == rounds) {
            t->answer = gw_pool_printf(t->gc->pool,
                                       "I stopped after %u model calls "
                                       "(models.max_tool_rounds) without a final answer.",
                                       rounds);
            json_array_append_new(t->produced, json_pack("{s:s,s:s}", "role", "assistant",
                                                         "content", t->answer));
            break;
        }
        json_t *msg = NULL;
        rc = call_model(t, messages, tools, &msg);
        if (rc != GW_OK)
            break;
        json_object_set_new(msg, "role", json_string("assistant"));
        json_array_append(messages, msg);
        json_array_append(t->produced, msg);
        const json_t *calls = json_object_get(msg, "tool_calls");
        if (!json_array_size(calls)) {
            const char *content = gw_json_str(msg, "content");
            t->answer = gw_pool_strdup(t->gc->pool, content ? content : "");
            json_decref(msg);
            break;
        }
        size_t i;
        json_t *call;
        json_array_foreach(calls, i, call) {
            json_t *result = run_tool_call(t, call);
            char *text = gw_json_compact(result);
            json_t *tm = json_pack("{s:s,s:s,s:s}", "role", "tool", "tool_call_id",
                                   gw_json_str(call, "id") ? gw_json_str(call, "id") : "",
                                   "content", text);
            free(text);
            json_decref(result);
            json_array_append(messages, tm);
            json_array_append_new(t->produced, tm);
        }
        json_decref(msg);
    }
    json_decref(tools);
    json_decref(messages);
    return rc;
}

void agent_turn_release(struct agent_turn *t)
{
    json_decref(t->produced);
    json_decref(t->calls);
    t->produced = t->calls = NULL;
}
