/* SPDX-License-Identifier: MIT
 * anthropic.c — the Anthropic Messages API (POST /v1/messages).
 *
 * Requests: system/developer messages become the top-level "system" string; the rest become
 * strictly alternating user/assistant messages made of content blocks (assistant tool_calls →
 * tool_use blocks, tool messages → tool_result blocks in a user message, consecutive messages
 * of one role merged). Answers and the SSE event stream (message_start, content_block_*,
 * message_delta, message_stop, ping, error) are translated back into the canonical
 * chat.completion / chat.completion.chunk shapes. Content block indexes count text and tool
 * blocks together; canonical tool_calls indexes count tool calls only, hence d->blocks.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "llm/wire/wire_int.h"

#define DEFAULT_MAX_TOKENS 4096

/* --- request ---------------------------------------------------------------------------------- */

static gw_err image_block(const json_t *part, json_t **out, char *msg, size_t cap)
{
    json_t *iu = json_object_get(part, "image_url");
    const char *url = json_is_string(iu) ? json_string_value(iu) : gw_json_str(iu, "url");
    if (!url)
        return llm_fail(GW_EINVAL, msg, cap, "image_url content part without a url");
    const char *media, *data;
    size_t media_len;
    if (llm_data_url(url, &media, &media_len, &data)) {
        *out = json_pack("{s:s,s:{s:s,s:s%,s:s}}", "type", "image", "source", "type", "base64",
                         "media_type", media, media_len, "data", data);
        return GW_OK;
    }
    if (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0) {
        *out = json_pack("{s:s,s:{s:s,s:s}}", "type", "image", "source", "type", "url", "url", url);
        return GW_OK;
    }
    return llm_fail(GW_EINVAL, msg, cap, "image url must be a data: URL (base64) or http(s)");
}

struct blocks_of {
    json_t *blocks;
    const char *role;
};

static gw_err content_part(void *arg, size_t i, const json_t *part, const char *type,
                           const json_t *text, char *msg, size_t cap)
{
    struct blocks_of *bo = arg;
    if (type && strcmp(type, "text") == 0 && text) {
        if (json_string_length(text) > 0)
            json_array_append_new(bo->blocks, json_pack("{s:s,s:O}", "type", "text", "text", text));
        return GW_OK;
    }
    if (type && strcmp(type, "image_url") == 0 && strcmp(bo->role, "user") == 0) {
        json_t *b = NULL;
        gw_err rc = image_block(part, &b, msg, cap);
        if (rc == GW_OK)
            json_array_append_new(bo->blocks, b);
        return rc;
    }
    return llm_fail(GW_EINVAL, msg, cap, "%s message content part %zu: unsupported type", bo->role,
                    i);
}

/* Appends the blocks of a canonical content (string or parts) to blocks. */
static gw_err content_blocks(const json_t *content, const char *role, json_t *blocks, char *msg,
                             size_t cap)
{
    struct blocks_of bo = {blocks, role};
    return llm_content_each(content, role, content_part, &bo, msg, cap);
}

static gw_err tool_use_block(void *arg, size_t i, const char *id, const char *name, json_t *input,
                             char *msg, size_t cap)
{
    if (!id || !name) {
        json_decref(input);
        return llm_fail(GW_EINVAL, msg, cap, "tool_calls[%zu] needs an id and a function name", i);
    }
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:o}", "type", "tool_use", "id", id, "name",
                                         name, "input", input));
    return GW_OK;
}

static gw_err tool_use_blocks(const json_t *tool_calls, json_t *blocks, char *msg, size_t cap)
{
    return llm_tool_calls_each(tool_calls, tool_use_block, blocks, msg, cap);
}

static gw_err build_messages(const json_t *messages, json_t *out, struct gw_buf *system, char *msg,
                             size_t cap)
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
            goto out;
        }
        json_t *content = json_object_get(m, "content");
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            gw_buf_reset(&text);
            rc = llm_content_text(content, role, &text, msg, cap);
            if (rc != GW_OK)
                goto out;
            if (text.len && system->len && gw_buf_append(system, "\n\n", 2) != GW_OK)
                rc = GW_ETOOBIG;
            if (rc == GW_OK && text.len && gw_buf_append(system, text.data, text.len) != GW_OK)
                rc = GW_ETOOBIG;
            if (rc != GW_OK) {
                llm_fail(rc, msg, cap, "system prompt too long");
                goto out;
            }
            continue;
        }
        const char *arole = "user";
        json_t *blocks = json_array();
        if (strcmp(role, "user") == 0) {
            arole = "user";
            rc = content_blocks(content, role, blocks, msg, cap);
        } else if (strcmp(role, "assistant") == 0) {
            arole = "assistant";
            rc = content_blocks(content, role, blocks, msg, cap);
            if (rc == GW_OK)
                rc = tool_use_blocks(json_object_get(m, "tool_calls"), blocks, msg, cap);
        } else if (strcmp(role, "tool") == 0) {
            arole = "user";
            const char *tcid = gw_json_str(m, "tool_call_id");
            gw_buf_reset(&text);
            if (!tcid)
                rc = llm_fail(GW_EINVAL, msg, cap,
                              "messages[%zu]: tool message without "
                              "tool_call_id",
                              i);
            else
                rc = llm_content_text(content, role, &text, msg, cap);
            if (rc == GW_OK) {
                json_t *b = json_pack("{s:s,s:s}", "type", "tool_result", "tool_use_id", tcid);
                if (text.len)
                    json_object_set_new(b, "content", json_stringn(text.data, text.len));
                json_array_append_new(blocks, b);
            }
        } else {
            rc = llm_fail(GW_EINVAL, msg, cap, "messages[%zu]: unsupported role \"%.32s\"", i,
                          role);
        }
        if (rc != GW_OK) {
            json_decref(blocks);
            goto out;
        }
        if (json_array_size(blocks) == 0) { /* nothing to say: Anthropic refuses empty content */
            json_decref(blocks);
            continue;
        }
        json_t *last = json_array_get(out, json_array_size(out) - 1);
        if (last && strcmp(gw_json_str(last, "role"), arole) == 0) {
            json_array_extend(json_object_get(last, "content"), blocks);
            json_decref(blocks);
        } else {
            json_array_append_new(out, json_pack("{s:s,s:o}", "role", arole, "content", blocks));
        }
    }
    if (json_array_size(out) == 0)
        rc = llm_fail(GW_EINVAL, msg, cap, "no user or assistant message to send");
out:
    gw_buf_release(&text);
    return rc;
}

static gw_err build_tools(const json_t *canon, json_t *body, char *msg, size_t cap)
{
    json_t *tools = json_object_get(canon, "tools");
    if (!tools || json_is_null(tools))
        return GW_OK;
    if (!json_is_array(tools))
        return llm_fail(GW_EINVAL, msg, cap, "tools must be an array");
    if (json_array_size(tools) == 0)
        return GW_OK;
    json_t *out = json_array();
    json_object_set_new(body, "tools", out);
    size_t i;
    json_t *t;
    json_array_foreach(tools, i, t) {
        const char *type = gw_json_str(t, "type");
        json_t *fn = json_object_get(t, "function");
        const char *name = gw_json_str(fn, "name");
        if ((type && strcmp(type, "function") != 0) || !name)
            return llm_fail(GW_EINVAL, msg, cap,
                            "tools[%zu]: only function tools with a name are "
                            "supported",
                            i);
        json_t *a = json_pack("{s:s}", "name", name);
        const char *desc = gw_json_str(fn, "description");
        if (desc)
            json_object_set_new(a, "description", json_string(desc));
        json_t *params = json_object_get(fn, "parameters");
        json_object_set_new(a, "input_schema",
                            json_is_object(params)
                                ? json_deep_copy(params)
                                : json_pack("{s:s,s:{}}", "type", "object", "properties"));
        json_array_append_new(out, a);
    }

    json_t *tc = json_object_get(canon, "tool_choice");
    json_t *choice = NULL;
    if (json_is_string(tc)) {
        const char *s = json_string_value(tc);
        if (strcmp(s, "auto") == 0)
            choice = json_pack("{s:s}", "type", "auto");
        else if (strcmp(s, "none") == 0)
            choice = json_pack("{s:s}", "type", "none");
        else if (strcmp(s, "required") == 0)
            choice = json_pack("{s:s}", "type", "any");
    } else if (json_is_object(tc)) {
        const char *name = gw_json_str(json_object_get(tc, "function"), "name");
        if (name)
            choice = json_pack("{s:s,s:s}", "type", "tool", "name", name);
    } else if (!tc || json_is_null(tc)) {
        choice = NULL;
    }
    if (tc && !json_is_null(tc) && !choice)
        return llm_fail(GW_EINVAL, msg, cap, "unsupported tool_choice");
    if (json_is_false(json_object_get(canon, "parallel_tool_calls"))) {
        if (!choice)
            choice = json_pack("{s:s}", "type", "auto");
        if (strcmp(gw_json_str(choice, "type"), "none") != 0)
            json_object_set_new(choice, "disable_parallel_tool_use", json_true());
    }
    if (choice)
        json_object_set_new(body, "tool_choice", choice);
    return GW_OK;
}

static gw_err build(const json_t *canon, const char *model, bool stream, json_t **body, char *msg,
                    size_t cap)
{
    gw_err rc;
    int64_t max_tokens;
    struct gw_buf system;
    gw_buf_init(&system, LLM_TEXT_MAX);
    json_t *b = json_object();
    *body = b;
    json_t *messages = json_array();
    rc = llm_max_tokens(canon, &max_tokens, msg, cap);
    if (rc != GW_OK)
        goto out;
    rc = build_messages(json_object_get(canon, "messages"), messages, &system, msg, cap);
    if (rc != GW_OK)
        goto out;
    json_object_set_new(b, "model", json_string(model));
    json_object_set_new(b, "max_tokens",
                        json_integer(max_tokens ? max_tokens : DEFAULT_MAX_TOKENS));
    if (system.len)
        json_object_set_new(b, "system", json_stringn(system.data, system.len));
    json_object_set(b, "messages", messages);
    if (stream)
        json_object_set_new(b, "stream", json_true());
    rc = llm_copy_number(b, "temperature", canon, "temperature", msg, cap);
    if (rc != GW_OK)
        goto out;
    json_t *temp = json_object_get(b, "temperature");
    if (temp && json_number_value(temp) > 1.0) /* OpenAI's range is 0..2, Anthropic's 0..1 */
        json_object_set_new(b, "temperature", json_real(1.0));
    rc = llm_copy_number(b, "top_p", canon, "top_p", msg, cap);
    if (rc != GW_OK)
        goto out;
    json_t *stop = NULL;
    rc = llm_stop_array(canon, &stop, msg, cap);
    if (rc != GW_OK)
        goto out;
    if (stop)
        json_object_set_new(b, "stop_sequences", stop);
    rc = build_tools(canon, b, msg, cap);
    if (rc != GW_OK)
        goto out;
    const char *user = gw_json_str(canon, "user");
    if (user && *user)
        json_object_set_new(b, "metadata", json_pack("{s:s}", "user_id", user));
out:
    json_decref(messages);
    gw_buf_release(&system);
    return rc;
}

/* --- answers ---------------------------------------------------------------------------------- */

static const char *finish_of(const char *stop_reason, bool tools)
{
    if (!stop_reason)
        return tools ? "tool_calls" : "stop";
    if (strcmp(stop_reason, "max_tokens") == 0 ||
        strcmp(stop_reason, "model_context_window_exceeded") == 0)
        return "length";
    if (strcmp(stop_reason, "tool_use") == 0)
        return "tool_calls";
    if (strcmp(stop_reason, "refusal") == 0)
        return "content_filter";
    return "stop"; /* end_turn, stop_sequence, pause_turn, ... */
}

/* Prompt tokens as OpenAI counts them: cache reads and writes are part of the prompt. */
static int64_t prompt_tokens(const json_t *usage)
{
    int64_t in = llm_int_member(usage, "input_tokens");
    if (in < 0)
        return -1;
    int64_t w = llm_int_member(usage, "cache_creation_input_tokens");
    int64_t r = llm_int_member(usage, "cache_read_input_tokens");
    return in + (w > 0 ? w : 0) + (r > 0 ? r : 0);
}

static gw_err parse(json_t *v, const char *client_model, const char *id, json_t **out,
                    struct llm_usage *usage, char *msg, size_t cap)
{
    json_t *content = json_object_get(v, "content");
    if (!json_is_array(content))
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer has no content array");
    gw_err rc = GW_OK;
    struct gw_buf text;
    gw_buf_init(&text, LLM_TEXT_MAX);
    json_t *tools = json_array();
    size_t i;
    json_t *blk;
    json_array_foreach(content, i, blk) {
        const char *type = gw_json_str(blk, "type");
        if (!type) {
            rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer: content[%zu] has no type", i);
            goto out;
        }
        if (strcmp(type, "text") == 0) {
            json_t *t = json_object_get(blk, "text");
            if (!json_is_string(t)) {
                rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer: content[%zu] has no text",
                              i);
                goto out;
            }
            if (gw_buf_append(&text, json_string_value(t), json_string_length(t)) != GW_OK) {
                rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer text too long");
                goto out;
            }
        } else if (strcmp(type, "tool_use") == 0) {
            const char *tid = gw_json_str(blk, "id");
            const char *name = gw_json_str(blk, "name");
            json_t *input = json_object_get(blk, "input");
            if (!tid || !name || (input && !json_is_object(input))) {
                rc = llm_fail(GW_EUPSTREAM, msg, cap,
                              "upstream answer: tool_use content[%zu] is malformed", i);
                goto out;
            }
            char *args = input ? gw_json_compact(input) : NULL;
            json_array_append_new(tools, llm_tool_call(tid, name, args ? args : "{}"));
            free(args);
        } /* thinking and server-side blocks are not part of the canonical answer */
    }
    const char *stop_reason = gw_json_str(v, "stop_reason");
    json_t *u = json_object_get(v, "usage");
    json_t *ujson = NULL;
    int64_t p = prompt_tokens(u), c = llm_int_member(u, "output_tokens");
    if (p >= 0 || c >= 0) {
        usage->prompt_tokens = p < 0 ? 0 : p;
        usage->completion_tokens = c < 0 ? 0 : c;
        usage->known = true;
        ujson = llm_usage_json(usage);
    }
    char gen[48];
    id = llm_answer_id(id, gw_json_str(v, "id"), gen, sizeof(gen));
    const char *finish = finish_of(stop_reason, json_array_size(tools) > 0);
    json_t *message = llm_assistant_message(text.data ? text.data : "", json_incref(tools));
    *out = llm_completion(id, llm_now_s(), client_model, message, finish, ujson);
out:
    json_decref(tools);
    gw_buf_release(&text);
    return rc;
}

/* --- stream events ---------------------------------------------------------------------------- */

static gw_err emit_delta(struct llm_decoder *d, json_t *delta, const char *finish, char *msg,
                         size_t cap)
{
    if (!d->role_sent) {
        d->role_sent = true;
        gw_err rc = llm_dec_emit(
            d, llm_dec_chunk(d, json_pack("{s:s,s:s}", "role", "assistant", "content", ""), NULL),
            msg, cap);
        if (rc != GW_OK) {
            json_decref(delta);
            return rc;
        }
    }
    return llm_dec_emit(d, llm_dec_chunk(d, delta, finish), msg, cap);
}

static gw_err emit_finish(struct llm_decoder *d, const char *finish, char *msg, size_t cap)
{
    if (d->finish_sent)
        return GW_OK;
    d->finish_sent = true;
    return emit_delta(d, json_object(), finish, msg, cap);
}

static gw_err emit_args(struct llm_decoder *d, struct llm_block *b, const char *args, size_t len,
                        char *msg, size_t cap)
{
    b->has_args = true;
    json_t *tc = json_pack("{s:i,s:{s:s%}}", "index", b->tool_index, "function", "arguments", args,
                           len);
    return emit_delta(d, json_pack("{s:[o]}", "tool_calls", tc), NULL, msg, cap);
}

/* The block named by the event's "index"; create: a content_block_start. */
static gw_err block_at(struct llm_decoder *d, const json_t *ev, bool create, struct llm_block **out,
                       char *msg, size_t cap)
{
    json_t *jindex = json_object_get(ev, "index");
    if (!json_is_integer(jindex) || json_integer_value(jindex) < 0 ||
        json_integer_value(jindex) >= LLM_MAX_BLOCKS)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream event has an invalid index");
    size_t idx = (size_t)json_integer_value(jindex);
    if (idx >= d->n_blocks) {
        if (!create)
            return llm_fail(GW_EUPSTREAM, msg, cap,
                            "upstream stream event for content block %zu, which never started",
                            idx);
        d->blocks = gw_xrealloc(d->blocks, (idx + 1) * sizeof(*d->blocks));
        memset(d->blocks + d->n_blocks, 0, (idx + 1 - d->n_blocks) * sizeof(*d->blocks));
        d->n_blocks = idx + 1;
    }
    struct llm_block *b = &d->blocks[idx];
    if (create && b->kind != LLM_BLOCK_NONE)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream started content block %zu twice",
                        idx);
    if (!create && b->kind == LLM_BLOCK_NONE)
        return llm_fail(GW_EUPSTREAM, msg, cap,
                        "upstream stream event for content block %zu, which never started", idx);
    *out = b;
    return GW_OK;
}

static gw_err block_start(struct llm_decoder *d, const json_t *ev, char *msg, size_t cap)
{
    struct llm_block *b;
    gw_err rc = block_at(d, ev, true, &b, msg, cap);
    if (rc != GW_OK)
        return rc;
    json_t *cb = json_object_get(ev, "content_block");
    const char *type = gw_json_str(cb, "type");
    if (!type)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream content_block_start without a type");
    if (strcmp(type, "text") == 0) {
        b->kind = LLM_BLOCK_TEXT;
        const char *t = gw_json_str(cb, "text");
        if (t && *t)
            return emit_delta(d, json_pack("{s:s}", "content", t), NULL, msg, cap);
        return GW_OK;
    }
    if (strcmp(type, "tool_use") != 0) {
        b->kind = LLM_BLOCK_OTHER; /* thinking, server tools, ...: not canonical */
        return GW_OK;
    }
    const char *tid = gw_json_str(cb, "id");
    const char *name = gw_json_str(cb, "name");
    if (!tid || !name)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream tool_use block without id or name");
    if (d->n_tools >= LLM_MAX_TOOL_CALLS)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer has more than %d tool calls",
                        LLM_MAX_TOOL_CALLS);
    b->kind = LLM_BLOCK_TOOL;
    b->tool_index = d->n_tools++;
    json_t *tc = json_pack("{s:i,s:s,s:s,s:{s:s,s:s}}", "index", b->tool_index, "id", tid, "type",
                           "function", "function", "name", name, "arguments", "");
    rc = emit_delta(d, json_pack("{s:[o]}", "tool_calls", tc), NULL, msg, cap);
    json_t *input = json_object_get(cb, "input");
    if (rc == GW_OK && json_is_object(input) && json_object_size(input) > 0) {
        char *args = gw_json_compact(input);
        rc = emit_args(d, b, args, strlen(args), msg, cap);
        free(args);
    }
    return rc;
}

static gw_err block_delta(struct llm_decoder *d, const json_t *ev, char *msg, size_t cap)
{
    struct llm_block *b;
    gw_err rc = block_at(d, ev, false, &b, msg, cap);
    if (rc != GW_OK)
        return rc;
    json_t *delta = json_object_get(ev, "delta");
    const char *type = gw_json_str(delta, "type");
    if (!type)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream content_block_delta without a type");
    if (strcmp(type, "text_delta") == 0) {
        json_t *t = json_object_get(delta, "text");
        if (!json_is_string(t))
            return llm_fail(GW_EUPSTREAM, msg, cap, "upstream text_delta without text");
        if (b->kind != LLM_BLOCK_TEXT || json_string_length(t) == 0)
            return GW_OK;
        return emit_delta(d, json_pack("{s:O}", "content", t), NULL, msg, cap);
    }
    if (strcmp(type, "input_json_delta") == 0) {
        json_t *p = json_object_get(delta, "partial_json");
        if (!json_is_string(p))
            return llm_fail(GW_EUPSTREAM, msg, cap,
                            "upstream input_json_delta without "
                            "partial_json");
        if (b->kind != LLM_BLOCK_TOOL || json_string_length(p) == 0)
            return GW_OK;
        return emit_args(d, b, json_string_value(p), json_string_length(p), msg, cap);
    }
    return GW_OK; /* thinking_delta, signature_delta, citations_delta, ... */
}

static gw_err on_error_event(const json_t *ev, char *msg, size_t cap)
{
    json_t *e = json_object_get(ev, "error");
    const char *m = gw_json_str(e, "message");
    const char *type = gw_json_str(e, "type");
    if (m && type)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream error (%.64s): %.200s", type, m);
    return llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream error: %.200s",
                    m      ? m
                    : type ? type
                           : "unknown error");
}

static gw_err event(struct llm_decoder *d, const char *event, const char *data, size_t len,
                    char *msg, size_t cap)
{
    json_t *ev = llm_parse_object(data, len, "upstream stream event", msg, cap);
    if (!ev)
        return GW_EUPSTREAM;
    gw_err rc = GW_OK;
    const char *type = *event ? event : gw_json_str(ev, "type");
    if (!type) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream event without a type");
        goto out;
    }
    if (strcmp(type, "message_start") == 0) {
        json_t *u = json_object_get(json_object_get(ev, "message"), "usage");
        int64_t p = prompt_tokens(u), c = llm_int_member(u, "output_tokens");
        if (p >= 0) {
            d->usage.prompt_tokens = p;
            d->usage.known = true;
        }
        if (c >= 0)
            d->usage.completion_tokens = c;
    } else if (strcmp(type, "content_block_start") == 0) {
        rc = block_start(d, ev, msg, cap);
    } else if (strcmp(type, "content_block_delta") == 0) {
        rc = block_delta(d, ev, msg, cap);
    } else if (strcmp(type, "content_block_stop") == 0) {
        struct llm_block *b;
        rc = block_at(d, ev, false, &b, msg, cap);
        if (rc == GW_OK && b->kind == LLM_BLOCK_TOOL && !b->has_args)
            rc = emit_args(d, b, "{}", 2, msg, cap); /* a tool without parameters */
    } else if (strcmp(type, "message_delta") == 0) {
        json_t *u = json_object_get(ev, "usage");
        int64_t p = prompt_tokens(u), c = llm_int_member(u, "output_tokens");
        if (p >= 0)
            d->usage.prompt_tokens = p;
        if (c >= 0) {
            d->usage.completion_tokens = c;
            d->usage.known = true;
        }
        const char *stop_reason = gw_json_str(json_object_get(ev, "delta"), "stop_reason");
        if (stop_reason)
            rc = emit_finish(d, finish_of(stop_reason, d->n_tools > 0), msg, cap);
    } else if (strcmp(type, "message_stop") == 0) {
        rc = emit_finish(d, d->n_tools > 0 ? "tool_calls" : "stop", msg, cap);
        d->done = true;
    } else if (strcmp(type, "error") == 0) {
        rc = on_error_event(ev, msg, cap);
    } /* ping and event types added later are ignored */
out:
    json_decref(ev);
    return rc;
}

static const char *const headers[] = {"anthropic-version: 2023-06-01", NULL};

const struct llm_provider llm_anthropic = {
    .name = "anthropic",
    .path = "/v1/messages",
    .framing = LLM_FRAMING_SSE,
    .headers = headers,
    .auth_prefix = "x-api-key: ",
    .build = build,
    .parse = parse,
    .event = event,
};
