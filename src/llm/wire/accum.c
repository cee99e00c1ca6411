/* SPDX-License-Identifier: MIT
 * accum.c — rebuilds a "chat.completion" from canonical stream chunks.
 *
 * Used when the gateway itself needs the whole answer of a streamed call (the agent loop):
 * content deltas are concatenated, tool calls are merged by their index (id, type and name are
 * taken from the first delta that carries them, argument fragments are concatenated), the last
 * finish_reason and the usage chunk are kept. Only choice 0 is rebuilt. The text kept is
 * bounded (LLM_ACCUM_MAX): an answer above it is GW_ETOOBIG rather than unbounded memory.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "llm/llm_wire.h"
#include "llm/wire/wire_int.h"

struct acc_tool {
    bool seen;
    char *id;
    char *name;
    struct gw_buf args;
};

struct llm_accum {
    char *id;
    char *model;
    int64_t created;
    struct gw_buf content;
    struct acc_tool *tools;
    size_t n_tools;
    char *finish;
    json_t *usage;
    size_t total; /* bytes kept, across content, arguments, ids and names */
};

struct llm_accum *llm_accum_new(void)
{
    struct llm_accum *a = gw_xcalloc(1, sizeof(*a));
    gw_buf_init(&a->content, LLM_ACCUM_MAX);
    a->created = -1;
    return a;
}

void llm_accum_free(struct llm_accum *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_tools; i++) {
        free(a->tools[i].id);
        free(a->tools[i].name);
        gw_buf_release(&a->tools[i].args);
    }
    free(a->tools);
    gw_buf_release(&a->content);
    free(a->id);
    free(a->model);
    free(a->finish);
    json_decref(a->usage);
    free(a);
}

static gw_err count(struct llm_accum *a, size_t n)
{
    if (n > LLM_ACCUM_MAX - a->total)
        return GW_ETOOBIG;
    a->total += n;
    return GW_OK;
}

/* Sets *dst to a copy of s once (first non-empty value wins). */
static gw_err set_once(struct llm_accum *a, char **dst, const char *s)
{
    if (*dst || !s || !*s)
        return GW_OK;
    size_t n = strlen(s);
    if (count(a, n) != GW_OK)
        return GW_ETOOBIG;
    *dst = gw_xstrndup(s, n);
    return GW_OK;
}

static gw_err add_tool_call(struct llm_accum *a, const json_t *tc)
{
    json_t *jidx = json_object_get(tc, "index");
    if (!json_is_integer(jidx) || json_integer_value(jidx) < 0 ||
        json_integer_value(jidx) >= LLM_MAX_TOOL_CALLS)
        return GW_EINVAL;
    size_t idx = (size_t)json_integer_value(jidx);
    if (idx >= a->n_tools) {
        a->tools = gw_xrealloc(a->tools, (idx + 1) * sizeof(*a->tools));
        for (size_t i = a->n_tools; i <= idx; i++) {
            memset(&a->tools[i], 0, sizeof(a->tools[i]));
            gw_buf_init(&a->tools[i].args, LLM_ACCUM_MAX);
        }
        a->n_tools = idx + 1;
    }
    struct acc_tool *t = &a->tools[idx];
    t->seen = true;
    json_t *fn = json_object_get(tc, "function");
    if (set_once(a, &t->id, gw_json_str(tc, "id")) != GW_OK ||
        set_once(a, &t->name, gw_json_str(fn, "name")) != GW_OK)
        return GW_ETOOBIG;
    json_t *args = json_object_get(fn, "arguments");
    if (json_is_string(args)) {
        size_t n = json_string_length(args);
        if (count(a, n) != GW_OK || gw_buf_append(&t->args, json_string_value(args), n) != GW_OK)
            return GW_ETOOBIG;
    }
    return GW_OK;
}

gw_err llm_accum_add(struct llm_accum *a, const json_t *chunk)
{
    if (!json_is_object(chunk))
        return GW_EINVAL;
    if (set_once(a, &a->id, gw_json_str(chunk, "id")) != GW_OK ||
        set_once(a, &a->model, gw_json_str(chunk, "model")) != GW_OK)
        return GW_ETOOBIG;
    json_t *created = json_object_get(chunk, "created");
    if (a->created < 0 && json_is_integer(created))
        a->created = (int64_t)json_integer_value(created);
    json_t *usage = json_object_get(chunk, "usage");
    if (json_is_object(usage)) {
        json_decref(a->usage);
        a->usage = json_deep_copy(usage);
    }
    json_t *choices = json_object_get(chunk, "choices");
    if (choices && !json_is_array(choices))
        return GW_EINVAL;
    size_t i;
    json_t *choice;
    json_array_foreach(choices, i, choice) {
        json_t *jidx = json_object_get(choice, "index");
        if (jidx && (!json_is_integer(jidx) || json_integer_value(jidx) != 0))
            continue; /* only the first choice is rebuilt */
        json_t *delta = json_object_get(choice, "delta");
        if (delta && !json_is_object(delta))
            return GW_EINVAL;
        json_t *content = json_object_get(delta, "content");
        if (json_is_string(content)) {
            size_t n = json_string_length(content);
            if (count(a, n) != GW_OK ||
                gw_buf_append(&a->content, json_string_value(content), n) != GW_OK)
                return GW_ETOOBIG;
        }
        json_t *calls = json_object_get(delta, "tool_calls");
        if (calls && !json_is_null(calls) && !json_is_array(calls))
            return GW_EINVAL;
        size_t k;
        json_t *tc;
        json_array_foreach(calls, k, tc) {
            gw_err rc = add_tool_call(a, tc);
            if (rc != GW_OK)
                return rc;
        }
        const char *finish = gw_json_str(choice, "finish_reason");
        if (finish) {
            free(a->finish);
            a->finish = gw_xstrdup(finish);
        }
    }
    return GW_OK;
}

json_t *llm_accum_result(struct llm_accum *a)
{
    json_t *tools = json_array();
    for (size_t i = 0; i < a->n_tools; i++) {
        struct acc_tool *t = &a->tools[i];
        if (!t->seen)
            continue;
        char gen[48];
        const char *id = t->id;
        if (!id) {
            llm_new_id("call_", gen, sizeof(gen));
            id = gen;
        }
        json_t *tc = json_pack("{s:s,s:s,s:{s:s,s:s%}}", "id", id, "type", "function", "function",
                               "name", t->name ? t->name : "", "arguments",
                               t->args.data ? t->args.data : "", t->args.len);
        if (tc)
            json_array_append_new(tools, tc);
    }
    bool has_tools = json_array_size(tools) > 0;
    const char *finish = a->finish ? a->finish : has_tools ? "tool_calls" : "stop";
    char gen[48];
    const char *id = a->id;
    if (!id) {
        llm_new_id("chatcmpl-", gen, sizeof(gen));
        id = gen;
    }
    json_t *message = llm_assistant_message(a->content.data ? a->content.data : "", tools);
    return llm_completion(id, a->created >= 0 ? a->created : llm_now_s(), a->model ? a->model : "",
                          message, finish, a->usage ? json_deep_copy(a->usage) : NULL);
}
