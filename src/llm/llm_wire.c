/* SPDX-License-Identifier: MIT
 * llm_wire.c — entry points of the wire translation (build a request, parse a complete answer,
 * extract an error message) and the helpers the three provider files share.
 *
 * The provider specifics live in llm_wire_openai.c, llm_wire_anthropic.c and
 * llm_wire_ollama.c; streaming in llm_wire_stream.c. Everything here is pure: no I/O, no
 * global state, and every input from an upstream is treated as hostile (strict JSON, bounded
 * sizes, sanitized text in messages).
 */
#include "base/prelude.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "llm/llm_wire.h"
#include "llm/llm_wire_int.h"

#include <stdarg.h>

/* --- shared helpers ------------------------------------------------------------------------ */

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

json_t *llm_parse_upstream(const char *data, size_t len, const char *what, char *msg,
                           size_t cap)
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

gw_err llm_content_text(const json_t *content, const char *role, struct gw_buf *out, char *msg,
                        size_t cap)
{
    if (!content || json_is_null(content))
        return GW_OK;
    if (json_is_string(content)) {
        if (gw_buf_append(out, json_string_value(content), json_string_length(content)) != GW_OK)
            return llm_fail(GW_ETOOBIG, msg, cap, "%s message too long", role);
        return GW_OK;
    }
    if (!json_is_array(content))
        return llm_fail(GW_EINVAL, msg, cap, "%s message content must be a string or an array",
                        role);
    size_t i;
    json_t *part;
    bool first = true;
    json_array_foreach(content, i, part) {
        const char *type = gw_json_str(part, "type");
        json_t *text = json_object_get(part, "text");
        if (!type || strcmp(type, "text") != 0 || !json_is_string(text))
            return llm_fail(GW_EINVAL, msg, cap,
                            "%s message content part %zu: only text parts are supported here",
                            role, i);
        if ((!first && gw_buf_append(out, "\n", 1) != GW_OK) ||
            gw_buf_append(out, json_string_value(text), json_string_length(text)) != GW_OK)
            return llm_fail(GW_ETOOBIG, msg, cap, "%s message too long", role);
        first = false;
    }
    return GW_OK;
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

/* --- entry points --------------------------------------------------------------------------- */

void llm_wire_req_release(struct llm_wire_req *w)
{
    if (!w)
        return;
    free(w->path);
    free(w->body);
    w->path = NULL;
    w->body = NULL;
}

gw_err llm_wire_build(enum llm_api api, const json_t *canon, const char *upstream_model,
                      bool stream, struct llm_wire_req *out, char *msg, size_t cap)
{
    out->path = NULL;
    out->body = NULL;
    if (!json_is_object(canon))
        return llm_fail(GW_EINVAL, msg, cap, "request must be a JSON object");
    if (!upstream_model || !*upstream_model)
        return llm_fail(GW_EINVAL, msg, cap, "no upstream model");
    if (!json_is_array(json_object_get(canon, "messages")))
        return llm_fail(GW_EINVAL, msg, cap, "messages must be an array");
    json_t *body = NULL;
    const char *path;
    gw_err rc;
    switch (api) {
    case LLM_API_OPENAI:
        path = "/chat/completions";
        rc = llm_openai_build(canon, upstream_model, stream, &body, msg, cap);
        break;
    case LLM_API_ANTHROPIC:
        path = "/v1/messages";
        rc = llm_anthropic_build(canon, upstream_model, stream, &body, msg, cap);
        break;
    case LLM_API_OLLAMA:
        path = "/api/chat";
        rc = llm_ollama_build(canon, upstream_model, stream, &body, msg, cap);
        break;
    default:
        return llm_fail(GW_EINTERNAL, msg, cap, "unknown provider API %d", (int)api);
    }
    if (rc != GW_OK) {
        json_decref(body);
        return rc;
    }
    char *text = gw_json_compact(body);
    json_decref(body);
    if (!text)
        return llm_fail(GW_EINTERNAL, msg, cap, "request cannot be serialized");
    out->path = gw_xstrdup(path);
    out->body = text;
    return GW_OK;
}

gw_err llm_wire_parse_response(enum llm_api api, const char *body, size_t len,
                               const char *client_model, const char *id, json_t **out,
                               struct llm_usage *usage, char *msg, size_t cap)
{
    *out = NULL;
    if (usage)
        *usage = (struct llm_usage){0};
    struct llm_usage u = {0};
    json_t *v = llm_parse_upstream(body ? body : "", body ? len : 0, "upstream answer", msg, cap);
    if (!v)
        return GW_EUPSTREAM;
    gw_err rc;
    if (!json_is_object(v)) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer is not a JSON object");
        goto out;
    }
    const char *emsg = llm_error_in(v);
    if (emsg) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream error: %.200s", emsg);
        goto out;
    }
    const char *model = client_model ? client_model : "";
    switch (api) {
    case LLM_API_OPENAI:
        rc = llm_openai_parse(v, model, id, out, &u, msg, cap);
        break;
    case LLM_API_ANTHROPIC:
        rc = llm_anthropic_parse(v, model, id, out, &u, msg, cap);
        break;
    case LLM_API_OLLAMA:
        rc = llm_ollama_parse(v, model, id, out, &u, msg, cap);
        break;
    default:
        rc = llm_fail(GW_EINTERNAL, msg, cap, "unknown provider API %d", (int)api);
        break;
    }
    if (rc == GW_OK && usage)
        *usage = u;
out:
    json_decref(v);
    return rc;
}

/* --- error messages ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Copies at most limit bytes of s into out: control characters and whitespace runs become one
 * space, invalid UTF-8 is dropped, HTML tags are skipped when strip_tags. */
static void sanitize(const char *s, size_t n, size_t limit, bool strip_tags, char *out,
                     size_t cap)
{
    if (!cap)
        return;
    size_t max = GW_MIN(limit, cap - 1);
    size_t o = 0;
    bool space = true; /* suppresses leading spaces */
    bool in_tag = false;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n && o < max;) {
        unsigned char c = u[i];
        if (strip_tags && in_tag) {
            if (c == '>') {
                in_tag = false;
                if (!space && o < max) {
                    out[o++] = ' ';
                    space = true;
                }
            }
            i++;
            continue;
        }
        if (strip_tags && c == '<') {
            in_tag = true;
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space) {
                out[o++] = ' ';
                space = true;
            }
            i++;
            continue;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
            space = false;
            i++;
            continue;
        }
        size_t l = utf8_len(u + i, n - i);
        if (!l) {
            i++;
            continue;
        }
        if (o + l > max)
            break;
        memcpy(out + o, u + i, l);
        o += l;
        i += l;
        space = false;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

void llm_wire_error_message(const char *body, size_t len, char *msg, size_t cap)
{
    if (!msg || !cap)
        return;
    msg[0] = '\0';
    if (!body)
        len = 0;
    size_t k = 0;
    while (k < len && (body[k] == ' ' || body[k] == '\t' || body[k] == '\r' || body[k] == '\n'))
        k++;
    if (k < len && (body[k] == '{' || body[k] == '[')) {
        char detail[8];
        json_t *v = gw_json_parse(body, len, LLM_JSON_DEPTH, detail, sizeof(detail));
        const char *m = NULL;
        if (json_is_object(v)) {
            m = llm_error_in(v);
            if (!m)
                m = gw_json_str(v, "message");
            if (!m)
                m = gw_json_str(v, "detail");
        }
        if (m)
            sanitize(m, strlen(m), cap - 1, false, msg, cap);
        json_decref(v);
        if (msg[0])
            return;
    }
    bool html = k < len && body[k] == '<';
    sanitize(body + k, len - k, LLM_ERRMSG_TEXT, html, msg, cap);
    if (!msg[0])
        snprintf(msg, cap, "%s", len ? "unreadable response body" : "empty response body");
}
