/* SPDX-License-Identifier: MIT
 * canon.c — the helpers every provider shares: the canonical (OpenAI chat-completions) shapes
 * built once here (tool calls, assistant messages, completions, usage) and the canonical
 * request's parts read once here (content parts, tool calls, sampling settings), so a provider
 * file holds only what is particular to its wire format.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "llm/wire/wire_int.h"

#include <stdarg.h>

gw_err llm_fail(gw_err code, char *msg, size_t cap, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

json_t *llm_parse_upstream(const char *data, size_t len, const char *what, char *msg, size_t cap)
{
    char detail[160];
    json_t *v = gw_json_parse(data, len, LLM_JSON_DEPTH, detail, sizeof(detail));
    if (!v)
        llm_fail(GW_EUPSTREAM, msg, cap, "%s is not valid JSON: %s", what, detail);
    return v;
}

void llm_new_id(const char *prefix, char *out, size_t cap)
{
    char hex[25];
    gw_random_hex(hex, 12);
    snprintf(out, cap, "%s%s", prefix, hex);
}

const char *llm_answer_id(const char *id, const char *upstream, char *gen, size_t cap)
{
    if (id)
        return id;
    if (upstream)
        return upstream;
    llm_new_id("chatcmpl-", gen, cap);
    return gen;
}

int64_t llm_now_s(void)
{
    return gw_now_ms() / 1000;
}

const char *llm_error_in(const json_t *v)
{
    if (!json_is_object(v))
        return NULL;
    json_t *e = json_object_get(v, "error");
    if (json_is_string(e))
        return json_string_value(e);
    if (json_is_object(e)) {
        const char *m = gw_json_str(e, "message");
        if (m)
            return m;
        m = gw_json_str(e, "type");
        if (m)
            return m;
    }
    return NULL;
}

json_t *llm_parse_object(const char *data, size_t len, const char *what, char *msg, size_t cap)
{
    json_t *v = llm_parse_upstream(data, len, what, msg, cap);
    if (v && !json_is_object(v)) {
        json_decref(v);
        llm_fail(GW_EUPSTREAM, msg, cap, "%s is not a JSON object", what);
        return NULL;
    }
    return v;
}

gw_err llm_content_each(const json_t *content, const char *role, llm_part_fn *fn, void *arg,
                        char *msg, size_t cap)
{
    if (!content || json_is_null(content))
        return GW_OK;
    if (json_is_string(content))
        return fn(arg, 0, NULL, "text", content, msg, cap);
    if (!json_is_array(content))
        return llm_fail(GW_EINVAL, msg, cap, "%s message content must be a string or an array",
                        role);
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        json_t *text = json_object_get(part, "text");
        gw_err rc = fn(arg, i, part, gw_json_str(part, "type"), json_is_string(text) ? text : NULL,
                       msg, cap);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

struct text_acc {
    struct gw_buf *out;
    const char *role;
    bool first;
};

static gw_err text_part(void *arg, size_t i, const json_t *part, const char *type,
                        const json_t *text, char *msg, size_t cap)
{
    struct text_acc *t = arg;
    if (!type || strcmp(type, "text") != 0 || !text)
        return llm_fail(GW_EINVAL, msg, cap,
                        "%s message content part %zu: only text parts are supported here", t->role,
                        i);
    if ((part && !t->first && gw_buf_append(t->out, "\n", 1) != GW_OK) ||
        gw_buf_append(t->out, json_string_value(text), json_string_length(text)) != GW_OK)
        return llm_fail(GW_ETOOBIG, msg, cap, "%s message too long", t->role);
    t->first = false;
    return GW_OK;
}

gw_err llm_content_text(const json_t *content, const char *role, struct gw_buf *out, char *msg,
                        size_t cap)
{
    struct text_acc t = {out, role, true};
    return llm_content_each(content, role, text_part, &t, msg, cap);
}

json_t *llm_args_object(const json_t *arguments, const char *name, char *msg, size_t cap)
{
    if (!arguments || json_is_null(arguments))
        return json_object();
    if (json_is_object(arguments))
        return json_deep_copy(arguments);
    if (!json_is_string(arguments)) {
        llm_fail(GW_EINVAL, msg, cap, "tool call %s: arguments must be a JSON string", name);
        return NULL;
    }
    const char *s = json_string_value(arguments);
    size_t n = json_string_length(arguments);
    size_t k = 0;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n' || s[k] == '\r'))
        k++;
    if (k == n)
        return json_object();
    char detail[160];
    json_t *v = gw_json_parse(s, n, LLM_JSON_DEPTH, detail, sizeof(detail));
    if (!v) {
        llm_fail(GW_EINVAL, msg, cap, "tool call %s: arguments are not valid JSON: %s", name,
                 detail);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        llm_fail(GW_EINVAL, msg, cap, "tool call %s: arguments must be a JSON object", name);
        return NULL;
    }
    return v;
}

gw_err llm_tool_calls_each(const json_t *tool_calls, llm_tool_call_fn *fn, void *arg, char *msg,
                           size_t cap)
{
    if (!tool_calls || json_is_null(tool_calls))
        return GW_OK;
    if (!json_is_array(tool_calls))
        return llm_fail(GW_EINVAL, msg, cap, "tool_calls must be an array");
    size_t i;
    json_t *tc;
    json_array_foreach(tool_calls, i, tc) {
        json_t *f = json_object_get(tc, "function");
        const char *name = gw_json_str(f, "name");
        json_t *args = NULL;
        if (name && !(args = llm_args_object(json_object_get(f, "arguments"), name, msg, cap)))
            return GW_EINVAL;
        gw_err rc = fn(arg, i, gw_json_str(tc, "id"), name, args, msg, cap);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

void llm_usage_read(const json_t *obj, const char *prompt_key, const char *completion_key,
                    struct llm_usage *u)
{
    int64_t p = llm_int_member(obj, prompt_key);
    int64_t c = llm_int_member(obj, completion_key);
    if (p < 0 && c < 0)
        return;
    u->prompt_tokens = p < 0 ? 0 : p;
    u->completion_tokens = c < 0 ? 0 : c;
    u->known = true;
}

json_t *llm_usage_json(const struct llm_usage *u)
{
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", (json_int_t)u->prompt_tokens,
                     "completion_tokens", (json_int_t)u->completion_tokens, "total_tokens",
                     (json_int_t)(u->prompt_tokens + u->completion_tokens));
}

int64_t llm_int_member(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    if (json_integer_value(v) > LLM_TOKENS_MAX)
        return LLM_TOKENS_MAX;
    return (int64_t)json_integer_value(v);
}

bool llm_data_url(const char *url, const char **media, size_t *media_len, const char **data)
{
    if (strncmp(url, "data:", 5) != 0)
        return false;
    const char *m = url + 5;
    const char *b64 = strstr(m, ";base64,");
    if (!b64 || b64 == m || !b64[8])
        return false;
    *media = m;
    *media_len = (size_t)(b64 - m);
    *data = b64 + 8;
    return true;
}

json_t *llm_tool_call(const char *id, const char *name, const char *arguments)
{
    return json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", id, "type", "function", "function", "name",
                     name, "arguments", arguments);
}

json_t *llm_assistant_message(const char *content, json_t *tool_calls)
{
    bool tools = tool_calls && json_array_size(tool_calls) > 0;
    json_t *m = json_object();
    json_object_set_new(m, "role", json_string("assistant"));
    if (tools && (!content || !*content))
        json_object_set_new(m, "content", json_null());
    else
        json_object_set_new(m, "content", json_string(content ? content : ""));
    if (tools)
        json_object_set(m, "tool_calls", tool_calls);
    json_decref(tool_calls);
    return m;
}

json_t *llm_completion(const char *id, int64_t created, const char *model, json_t *message,
                       const char *finish_reason, json_t *usage)
{
    json_t *c = json_object();
    json_object_set_new(c, "id", json_string(id));
    json_object_set_new(c, "object", json_string("chat.completion"));
    json_object_set_new(c, "created", json_integer((json_int_t)created));
    json_object_set_new(c, "model", json_string(model));
    json_t *choice = json_object();
    json_object_set_new(choice, "index", json_integer(0));
    json_object_set_new(choice, "message", message);
    json_object_set_new(choice, "finish_reason",
                        finish_reason ? json_string(finish_reason) : json_null());
    json_object_set_new(choice, "logprobs", json_null());
    json_object_set_new(c, "choices", json_pack("[o]", choice));
    if (usage)
        json_object_set_new(c, "usage", usage);
    return c;
}

gw_err llm_copy_number(json_t *dst, const char *dkey, const json_t *src, const char *skey,
                       char *msg, size_t cap)
{
    json_t *v = json_object_get(src, skey);
    if (!v || json_is_null(v))
        return GW_OK;
    if (!json_is_number(v))
        return llm_fail(GW_EINVAL, msg, cap, "%s must be a number", skey);
    json_object_set_new(dst, dkey, json_deep_copy(v));
    return GW_OK;
}

gw_err llm_stop_array(const json_t *canon, json_t **out, char *msg, size_t cap)
{
    *out = NULL;
    json_t *stop = json_object_get(canon, "stop");
    if (!stop || json_is_null(stop))
        return GW_OK;
    if (json_is_string(stop)) {
        *out = json_pack("[s]", json_string_value(stop));
        return GW_OK;
    }
    if (!json_is_array(stop))
        return llm_fail(GW_EINVAL, msg, cap, "stop must be a string or an array of strings");
    size_t i;
    json_t *s;
    json_array_foreach(stop, i, s) {
        if (!json_is_string(s))
            return llm_fail(GW_EINVAL, msg, cap, "stop must be a string or an array of strings");
    }
    if (json_array_size(stop) == 0)
        return GW_OK;
    *out = json_deep_copy(stop);
    return GW_OK;
}

gw_err llm_max_tokens(const json_t *canon, int64_t *out, char *msg, size_t cap)
{
    *out = 0;
    static const char *const keys[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keys); i++) {
        json_t *v = json_object_get(canon, keys[i]);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return llm_fail(GW_EINVAL, msg, cap, "%s must be a positive integer", keys[i]);
        *out = (int64_t)json_integer_value(v);
        return GW_OK;
    }
    return GW_OK;
}
