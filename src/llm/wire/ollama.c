/* SPDX-License-Identifier: MIT
 * ollama.c — Ollama's native chat API (POST /api/chat).
 *
 * Requests: messages keep their roles (developer → system) with string content, inline images
 * go to "images", tool call arguments are objects (not JSON text), tool results name their
 * tool ("tool_name", looked up from the assistant message that called it); sampling settings
 * go under "options". Answers and the NDJSON stream (one object per line, "done": true last,
 * tool calls complete in one line, usage as prompt_eval_count / eval_count) are translated back
 * to the canonical shapes. Ollama gives tool calls no ids: "call_<hex>" ones are generated.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "llm/wire/wire_int.h"

/* --- request ---------------------------------------------------------------------------------- */

/* Text of a user message plus its inline images. */
static gw_err user_content(const json_t *content, json_t *m, struct gw_buf *text, char *msg,
                           size_t cap)
{
    if (!json_is_array(content))
        return llm_content_text(content, "user", text, msg, cap);
    json_t *texts = json_array();
    json_t *images = json_array();
    gw_err rc = GW_OK;
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        const char *type = gw_json_str(part, "type");
        if (type && strcmp(type, "image_url") == 0) {
            json_t *iu = json_object_get(part, "image_url");
            const char *url = json_is_string(iu) ? json_string_value(iu) : gw_json_str(iu, "url");
            const char *media, *data;
            size_t media_len;
            if (!url || !llm_data_url(url, &media, &media_len, &data)) {
                rc = llm_fail(GW_EINVAL, msg, cap,
                              "ollama accepts only inline images (data: URLs, base64)");
                goto out;
            }
            json_array_append_new(images, json_string(data));
        } else {
            json_array_append(texts, part);
        }
    }
    rc = llm_content_text(texts, "user", text, msg, cap);
    if (rc == GW_OK && json_array_size(images))
        json_object_set(m, "images", images);
out:
    json_decref(texts);
    json_decref(images);
    return rc;
}

static gw_err tool_call_out(void *arg, size_t i, const char *id, const char *name, json_t *args,
                            char *msg, size_t cap)
{
    GW_UNUSED(id); /* Ollama's tool calls have no ids */
    json_t *m = arg;
    if (!name)
        return llm_fail(GW_EINVAL, msg, cap, "tool_calls[%zu] has no function name", i);
    json_t *out = json_object_get(m, "tool_calls");
    if (!out) {
        out = json_array();
        json_object_set_new(m, "tool_calls", out);
    }
    json_array_append_new(out,
                          json_pack("{s:{s:s,s:o}}", "function", "name", name, "arguments", args));
    return GW_OK;
}

/* The function name of the earlier tool call with this id (NULL when unknown). */
static const char *tool_name_of(const json_t *messages, size_t before, const char *id)
{
    for (size_t i = before; i-- > 0;) {
        json_t *calls = json_object_get(json_array_get(messages, i), "tool_calls");
        size_t k;
        json_t *tc;
        json_array_foreach(calls, k, tc) {
            const char *tid = gw_json_str(tc, "id");
            if (tid && strcmp(tid, id) == 0)
                return gw_json_str(json_object_get(tc, "function"), "name");
        }
    }
    return NULL;
}

static gw_err build_messages(const json_t *messages, json_t *out, char *msg, size_t cap)
{
    size_t i;
    json_t *m;
    gw_err rc = GW_OK;
    struct gw_buf text;
    gw_buf_init(&text, LLM_TEXT_MAX);
    json_array_foreach(messages, i, m) {
        const char *role = gw_json_str(m, "role");
        if (!role) {
            rc = llm_fail(GW_EINVAL, msg, cap, "messages[%zu] has no role", i);
            break;
        }
        json_t *content = json_object_get(m, "content");
        json_t *extra = json_object(); /* images, tool_calls, tool_name */
        const char *orole = role;
        gw_buf_reset(&text);
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            orole = "system";
            rc = llm_content_text(content, role, &text, msg, cap);
        } else if (strcmp(role, "user") == 0) {
            rc = user_content(content, extra, &text, msg, cap);
        } else if (strcmp(role, "assistant") == 0) {
            rc = llm_content_text(content, role, &text, msg, cap);
            if (rc == GW_OK)
                rc = llm_tool_calls_each(json_object_get(m, "tool_calls"), tool_call_out, extra,
                                         msg, cap);
        } else if (strcmp(role, "tool") == 0) {
            rc = llm_content_text(content, role, &text, msg, cap);
            const char *tcid = gw_json_str(m, "tool_call_id");
            const char *name = tcid ? tool_name_of(messages, i, tcid) : NULL;
            if (name)
                json_object_set_new(extra, "tool_name", json_string(name));
        } else {
            rc = llm_fail(GW_EINVAL, msg, cap, "messages[%zu]: unsupported role \"%.32s\"", i,
                          role);
        }
        if (rc != GW_OK) {
            json_decref(extra);
            break;
        }
        json_t *o = json_pack("{s:s,s:s%}", "role", orole, "content", text.data ? text.data : "",
                              text.len);
        json_object_update(o, extra);
        json_decref(extra);
        json_array_append_new(out, o);
    }
    gw_buf_release(&text);
    return rc;
}

static gw_err build(const json_t *canon, const char *model, bool stream, json_t **body, char *msg,
                    size_t cap)
{
    json_t *b = json_object();
    *body = b;
    json_t *messages = json_array();
    json_object_set_new(b, "model", json_string(model));
    json_object_set_new(b, "messages", messages);
    json_object_set_new(b, "stream", json_boolean(stream));
    gw_err rc = build_messages(json_object_get(canon, "messages"), messages, msg, cap);
    if (rc != GW_OK)
        return rc;

    json_t *tools = json_object_get(canon, "tools");
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return llm_fail(GW_EINVAL, msg, cap, "tools must be an array");
    const char *tc = gw_json_str(canon, "tool_choice");
    bool none = tc && strcmp(tc, "none") == 0; /* Ollama has no tool_choice: leave tools out */
    if (json_array_size(tools) > 0 && !none)
        json_object_set_new(b, "tools", json_deep_copy(tools));

    json_t *rf = json_object_get(canon, "response_format");
    const char *rft = gw_json_str(rf, "type");
    if (rft && strcmp(rft, "json_object") == 0) {
        json_object_set_new(b, "format", json_string("json"));
    } else if (rft && strcmp(rft, "json_schema") == 0) {
        json_t *schema = json_object_get(json_object_get(rf, "json_schema"), "schema");
        if (json_is_object(schema))
            json_object_set_new(b, "format", json_deep_copy(schema));
    }

    json_t *opts = json_object();
    int64_t max_tokens;
    rc = llm_max_tokens(canon, &max_tokens, msg, cap);
    if (rc == GW_OK && max_tokens)
        json_object_set_new(opts, "num_predict", json_integer(max_tokens));
    if (rc == GW_OK)
        rc = llm_copy_number(opts, "temperature", canon, "temperature", msg, cap);
    if (rc == GW_OK)
        rc = llm_copy_number(opts, "top_p", canon, "top_p", msg, cap);
    if (rc == GW_OK)
        rc = llm_copy_number(opts, "seed", canon, "seed", msg, cap);
    json_t *stop = NULL;
    if (rc == GW_OK)
        rc = llm_stop_array(canon, &stop, msg, cap);
    if (stop)
        json_object_set_new(opts, "stop", stop);
    if (rc == GW_OK && json_object_size(opts))
        json_object_set(b, "options", opts);
    json_decref(opts);
    return rc;
}

/* --- answers ---------------------------------------------------------------------------------- */

/* Canonical tool calls (new array) from an Ollama message's tool_calls; first_index is the
 * "index" member of the first one (stream form) or -1 (no index: complete answer). */
static gw_err tool_calls_in(const json_t *calls, int first_index, json_t **out, char *msg,
                            size_t cap)
{
    *out = NULL;
    if (!calls || json_is_null(calls))
        return GW_OK;
    if (!json_is_array(calls))
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream tool_calls is not an array");
    if (first_index >= 0 && json_array_size(calls) > (size_t)(LLM_MAX_TOOL_CALLS - first_index))
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer has more than %d tool calls",
                        LLM_MAX_TOOL_CALLS);
    json_t *arr = json_array();
    size_t i;
    json_t *tc;
    json_array_foreach(calls, i, tc) {
        json_t *fn = json_object_get(tc, "function");
        const char *name = gw_json_str(fn, "name");
        json_t *args = json_object_get(fn, "arguments");
        if (!name || (args && !json_is_object(args) && !json_is_string(args))) {
            json_decref(arr);
            return llm_fail(GW_EUPSTREAM, msg, cap, "upstream tool call %zu is malformed", i);
        }
        char *text = json_is_object(args) ? gw_json_compact(args) : NULL;
        const char *atext = text ? text : json_is_string(args) ? json_string_value(args) : "{}";
        char gen[48];
        const char *id = gw_json_str(tc, "id");
        if (!id || !*id) {
            llm_new_id("call_", gen, sizeof(gen));
            id = gen;
        }
        json_t *c = llm_tool_call(id, name, atext);
        free(text);
        if (first_index >= 0) {
            json_t *ordered = json_pack("{s:i}", "index", first_index + (int)i);
            json_object_update(ordered, c);
            json_decref(c);
            c = ordered;
        }
        json_array_append_new(arr, c);
    }
    *out = arr;
    return GW_OK;
}

static const char *finish_of(const char *done_reason, bool tools)
{
    if (tools)
        return "tool_calls";
    if (done_reason && strcmp(done_reason, "length") == 0)
        return "length";
    return "stop";
}

static void read_usage(const json_t *v, struct llm_usage *u)
{
    llm_usage_read(v, "prompt_eval_count", "eval_count", u);
}

static gw_err parse(json_t *v, const char *client_model, const char *id, json_t **out,
                    struct llm_usage *usage, char *msg, size_t cap)
{
    json_t *m = json_object_get(v, "message");
    if (!json_is_object(m))
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer has no message");
    json_t *content = json_object_get(m, "content");
    if (content && !json_is_string(content) && !json_is_null(content))
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream message content is not a string");
    json_t *tools;
    gw_err rc = tool_calls_in(json_object_get(m, "tool_calls"), -1, &tools, msg, cap);
    if (rc != GW_OK)
        return rc;
    read_usage(v, usage);
    char gen[48];
    id = llm_answer_id(id, NULL, gen, sizeof(gen)); /* Ollama's answers have no id */
    const char *finish = finish_of(gw_json_str(v, "done_reason"), json_array_size(tools) > 0);
    json_t *message = llm_assistant_message(json_string_value(content), tools);
    *out = llm_completion(id, llm_now_s(), client_model, message, finish,
                          usage->known ? llm_usage_json(usage) : NULL);
    return GW_OK;
}

/* --- stream lines ----------------------------------------------------------------------------- */

static gw_err emit_delta(struct llm_decoder *d, json_t *delta, const char *finish, char *msg,
                         size_t cap)
{
    if (!d->role_sent) {
        d->role_sent = true;
        json_t *with_role = json_pack("{s:s}", "role", "assistant");
        json_object_update(with_role, delta);
        json_decref(delta);
        delta = with_role;
        if (!json_object_get(delta, "content"))
            json_object_set_new(delta, "content", json_string(""));
    }
    return llm_dec_emit(d, llm_dec_chunk(d, delta, finish), msg, cap);
}

static gw_err event(struct llm_decoder *d, const char *name, const char *line, size_t len,
                    char *msg, size_t cap)
{
    GW_UNUSED(name);
    json_t *v = llm_parse_object(line, len, "upstream stream line", msg, cap);
    if (!v)
        return GW_EUPSTREAM;
    gw_err rc = GW_OK;
    const char *emsg = llm_error_in(v);
    if (emsg) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream error: %.200s", emsg);
        goto out;
    }
    json_t *m = json_object_get(v, "message");
    if (m && !json_is_object(m)) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream line: message is not an object");
        goto out;
    }
    json_t *content = json_object_get(m, "content");
    if (content && !json_is_string(content) && !json_is_null(content)) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream message content is not a string");
        goto out;
    }
    if (json_string_length(content) > 0) {
        rc = emit_delta(d, json_pack("{s:O}", "content", content), NULL, msg, cap);
        if (rc != GW_OK)
            goto out;
    }
    json_t *tools;
    rc = tool_calls_in(json_object_get(m, "tool_calls"), d->n_tools, &tools, msg, cap);
    if (rc != GW_OK)
        goto out;
    if (json_array_size(tools) > 0) {
        d->n_tools += (int)json_array_size(tools);
        rc = emit_delta(d, json_pack("{s:o}", "tool_calls", tools), NULL, msg, cap);
        if (rc != GW_OK)
            goto out;
    } else {
        json_decref(tools);
    }
    json_t *done = json_object_get(v, "done");
    if (done && !json_is_boolean(done)) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream line: done is not a boolean");
        goto out;
    }
    if (json_is_true(done)) {
        read_usage(v, &d->usage);
        d->finish_sent = true;
        rc = emit_delta(d, json_object(), finish_of(gw_json_str(v, "done_reason"), d->n_tools > 0),
                        msg, cap);
        d->done = true;
    }
out:
    json_decref(v);
    return rc;
}

const struct llm_provider llm_ollama = {
    .name = "ollama",
    .path = "/api/chat",
    .framing = LLM_FRAMING_NDJSON,
    .auth_prefix = "Authorization: Bearer ",
    .build = build,
    .parse = parse,
    .event = event,
};
