/* SPDX-License-Identifier: MIT
 * wire.c — the provider table and the entry points of the wire translation: build a request,
 * parse a complete answer, extract an error message.
 *
 * Each provider is one file (openai.c, anthropic.c, ollama.c) exporting a const struct
 * llm_provider; adding one is a file and a row in the table below. Streaming is in stream.c,
 * the shared canonical shapes in canon.c. Everything here is pure: no I/O, no global state,
 * and every input from an upstream is treated as hostile (strict JSON, bounded sizes,
 * sanitized text in messages).
 */
#include "base/prelude.h"
#include "base/json.h"
#include "base/mem.h"
#include "llm/wire/wire_int.h"

static const struct llm_provider *const providers[] = {
    [LLM_API_OPENAI] = &llm_openai,
    [LLM_API_ANTHROPIC] = &llm_anthropic,
    [LLM_API_OLLAMA] = &llm_ollama,
};

const struct llm_provider *llm_provider_get(enum llm_api api)
{
    return (size_t)api < GW_ARRAY_LEN(providers) ? providers[api] : NULL;
}

/* --- entry points ----------------------------------------------------------------------------- */

void llm_wire_req_release(struct llm_wire_req *w)
{
    if (!w)
        return;
    free(w->body);
    w->path = NULL;
    w->body = NULL;
}

gw_err llm_wire_build(enum llm_api api, const json_t *canon, const char *upstream_model,
                      bool stream, struct llm_wire_req *out, char *msg, size_t cap)
{
    out->path = NULL;
    out->body = NULL;
    const struct llm_provider *p = llm_provider_get(api);
    if (!p)
        return llm_fail(GW_EINTERNAL, msg, cap, "unknown provider API %d", (int)api);
    if (!json_is_object(canon))
        return llm_fail(GW_EINVAL, msg, cap, "request must be a JSON object");
    if (!upstream_model || !*upstream_model)
        return llm_fail(GW_EINVAL, msg, cap, "no upstream model");
    if (!json_is_array(json_object_get(canon, "messages")))
        return llm_fail(GW_EINVAL, msg, cap, "messages must be an array");
    json_t *body = NULL;
    gw_err rc = p->build(canon, upstream_model, stream, &body, msg, cap);
    if (rc != GW_OK) {
        json_decref(body);
        return rc;
    }
    char *text = gw_json_compact(body);
    json_decref(body);
    if (!text)
        return llm_fail(GW_EINTERNAL, msg, cap, "request cannot be serialized");
    out->path = p->path;
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
    const struct llm_provider *p = llm_provider_get(api);
    if (!p)
        return llm_fail(GW_EINTERNAL, msg, cap, "unknown provider API %d", (int)api);
    struct llm_usage u = {0};
    json_t *v = llm_parse_object(body ? body : "", body ? len : 0, "upstream answer", msg, cap);
    if (!v)
        return GW_EUPSTREAM;
    gw_err rc;
    const char *emsg = llm_error_in(v);
    if (emsg)
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream error: %.200s", emsg);
    else
        rc = p->parse(v, client_model ? client_model : "", id, out, &u, msg, cap);
    if (rc == GW_OK && usage)
        *usage = u;
    json_decref(v);
    return rc;
}

/* --- error messages --------------------------------------------------------------------------- */

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
static void sanitize(const char *s, size_t n, size_t limit, bool strip_tags, char *out, size_t cap)
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
