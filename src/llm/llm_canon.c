/* SPDX-License-Identifier: MIT
 * llm_canon.c — shape and bounds of a client's chat request.
 */
#include "base/prelude.h"
#include "llm/llm_canon.h"
#include "base/mem.h"
#include "policy/policy.h"

#include <stdlib.h>

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool", NULL};

static bool role_known(const char *r)
{
    for (size_t i = 0; roles[i]; i++)
        if (strcmp(r, roles[i]) == 0)
            return true;
    return false;
}

static bool content_ok(const json_t *content)
{
    if (!content || json_is_null(content) || json_is_string(content))
        return true;
    if (!json_is_array(content))
        return false;
    size_t i;
    json_t *part;
    json_array_foreach(content, i, part) {
        if (!json_is_object(part) || !json_is_string(json_object_get(part, "type")))
            return false;
    }
    return true;
}

gw_err llm_canon_check(const json_t *req, char *msg, size_t cap)
{
    const json_t *model = json_object_get(req, "model");
    if (!json_is_string(model) || json_string_length(model) == 0 ||
        json_string_length(model) > LLM_MAX_MODEL_ID) {
        snprintf(msg, cap, "'model' must be a string of 1 to %d characters", LLM_MAX_MODEL_ID);
        return GW_EINVAL;
    }
    const json_t *msgs = json_object_get(req, "messages");
    if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
        json_array_size(msgs) > LLM_MAX_MESSAGES) {
        snprintf(msg, cap, "'messages' must be an array of 1 to %d messages", LLM_MAX_MESSAGES);
        return GW_EINVAL;
    }
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *role = json_is_object(m) ? json_string_value(json_object_get(m, "role")) : NULL;
        if (!role || !role_known(role)) {
            snprintf(msg, cap,
                     "messages[%zu].role must be one of system, developer, user, "
                     "assistant, tool",
                     i);
            return GW_EINVAL;
        }
        if (!content_ok(json_object_get(m, "content"))) {
            snprintf(msg, cap, "messages[%zu].content must be a string or an array of parts", i);
            return GW_EINVAL;
        }
        if (strcmp(role, "tool") == 0 && !json_is_string(json_object_get(m, "tool_call_id"))) {
            snprintf(msg, cap, "messages[%zu] (role tool) needs a 'tool_call_id'", i);
            return GW_EINVAL;
        }
        const json_t *calls = json_object_get(m, "tool_calls");
        if (calls && !json_is_array(calls)) {
            snprintf(msg, cap, "messages[%zu].tool_calls must be an array", i);
            return GW_EINVAL;
        }
    }
    const json_t *stream = json_object_get(req, "stream");
    if (stream && !json_is_boolean(stream) && !json_is_null(stream)) {
        snprintf(msg, cap, "'stream' must be a boolean");
        return GW_EINVAL;
    }
    const json_t *n = json_object_get(req, "n");
    if (n && !json_is_null(n) && !(json_is_integer(n) && json_integer_value(n) == 1)) {
        snprintf(msg, cap, "only 'n': 1 is supported");
        return GW_EINVAL;
    }
    const json_t *tools = json_object_get(req, "tools");
    if (tools && (!json_is_array(tools) || json_array_size(tools) > LLM_MAX_TOOLS)) {
        snprintf(msg, cap, "'tools' must be an array of at most %d tools", LLM_MAX_TOOLS);
        return GW_EINVAL;
    }
    for (const char *const *k = (const char *const[]){"max_tokens", "max_completion_tokens", NULL};
         *k; k++) {
        const json_t *v = json_object_get(req, *k);
        if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 1)) {
            snprintf(msg, cap, "'%s' must be a positive integer", *k);
            return GW_EINVAL;
        }
    }
    return GW_OK;
}

static void add_text(struct gw_buf *out, const char *s)
{
    if (s && gw_buf_append(out, s, strlen(s)) == GW_OK)
        gw_buf_append(out, "\n", 1);
}

void llm_canon_text(const json_t *req, struct gw_buf *out)
{
    size_t i, j;
    json_t *m, *part;
    json_array_foreach(json_object_get(req, "messages"), i, m) {
        const json_t *content = json_object_get(m, "content");
        if (json_is_string(content))
            add_text(out, json_string_value(content));
        json_array_foreach(content, j, part)
            add_text(out, json_string_value(json_object_get(part, "text")));
        json_array_foreach(json_object_get(m, "tool_calls"), j, part)
            add_text(out, json_string_value(
                              json_object_get(json_object_get(part, "function"), "arguments")));
    }
}

/* --- redaction ---------------------------------------------------------------------------- */

#define REDACT_MAX_SPANS 4096 /* per text; more findings than this mask the whole text */

struct span {
    size_t off, len;
    enum pol_detector d;
};

struct spans {
    struct span v[REDACT_MAX_SPANS];
    size_t n;
    bool overflow;
};

static void collect(void *arg, enum pol_detector d, size_t off, size_t len)
{
    struct spans *sp = arg;
    if (sp->n == REDACT_MAX_SPANS) {
        sp->overflow = true;
        return;
    }
    sp->v[sp->n++] = (struct span){off, len, d};
}

static int by_offset(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The masked copy of one string value, or NULL when nothing was found. */
static json_t *redact_string(const json_t *v, struct spans *sp, size_t *count)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    sp->n = 0;
    sp->overflow = false;
    pol_classify_scan(s, len, collect, sp);
    if (sp->overflow) {
        *count += sp->n;
        return json_string("[REDACTED]");
    }
    if (!sp->n)
        return NULL;
    qsort(sp->v, sp->n, sizeof(sp->v[0]), by_offset);
    struct gw_buf out;
    gw_buf_init(&out, len + sp->n * 32 + 1);
    size_t at = 0;
    for (size_t i = 0; i < sp->n; i++) {
        size_t end = sp->v[i].off + sp->v[i].len;
        if (end <= at)
            continue; /* inside a span already masked */
        if (sp->v[i].off > at)
            gw_buf_append(&out, s + at, sp->v[i].off - at);
        gw_buf_printf(&out, "[REDACTED:%s]", pol_detector_name(sp->v[i].d));
        at = end;
        (*count)++;
    }
    gw_buf_append(&out, s + at, len - at);
    json_t *r = json_stringn(out.data ? out.data : "", out.len);
    gw_buf_release(&out);
    return r;
}

static void redact_member(json_t *obj, const char *key, struct spans *sp, size_t *count)
{
    json_t *v = json_object_get(obj, key);
    json_t *r = json_is_string(v) ? redact_string(v, sp, count) : NULL;
    if (r)
        json_object_set_new(obj, key, r);
}

size_t llm_canon_redact(json_t *req)
{
    struct spans *sp = gw_xmalloc(sizeof(*sp));
    size_t count = 0, i, j;
    json_t *m, *part;
    json_array_foreach(json_object_get(req, "messages"), i, m) {
        redact_member(m, "content", sp, &count);
        json_array_foreach(json_object_get(m, "content"), j, part)
            redact_member(part, "text", sp, &count);
        json_array_foreach(json_object_get(m, "tool_calls"), j, part)
            redact_member(json_object_get(part, "function"), "arguments", sp, &count);
    }
    free(sp);
    return count;
}
