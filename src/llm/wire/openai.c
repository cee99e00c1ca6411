/* SPDX-License-Identifier: MIT
 * openai.c — the OpenAI chat-completions wire format (also spoken by many
 * "OpenAI-compatible" servers).
 *
 * The canonical shape is this format, so translation is mostly identity: the request is passed
 * through (a proxy must not drop fields it does not know) with model/stream/stream_options set
 * by us; answers and chunks get the client's model name and the gateway's id. Usage arrives in
 * a final chunk with empty choices (stream_options.include_usage): it is kept back and
 * re-emitted by the decoder's finish, after the stream proved complete.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "llm/wire/wire_int.h"

static gw_err build(const json_t *canon, const char *model, bool stream, json_t **body, char *msg,
                    size_t cap)
{
    json_t *b = json_deep_copy(canon);
    if (!b)
        return llm_fail(GW_EINTERNAL, msg, cap, "request cannot be copied");
    *body = b;
    json_object_set_new(b, "model", json_string(model));
    json_object_set_new(b, "stream", json_boolean(stream));
    if (stream)
        json_object_set_new(b, "stream_options", json_pack("{s:b}", "include_usage", 1));
    else
        json_object_del(b, "stream_options");
    return GW_OK;
}

static void read_usage(const json_t *usage, struct llm_usage *u)
{
    llm_usage_read(usage, "prompt_tokens", "completion_tokens", u);
}

static gw_err parse(json_t *v, const char *client_model, const char *id, json_t **out,
                    struct llm_usage *usage, char *msg, size_t cap)
{
    json_t *choices = json_object_get(v, "choices");
    if (!json_is_array(choices) || json_array_size(choices) == 0)
        return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer has no choices");
    size_t i;
    json_t *ch;
    json_array_foreach(choices, i, ch) {
        if (!json_is_object(json_object_get(ch, "message")))
            return llm_fail(GW_EUPSTREAM, msg, cap, "upstream answer: choice %zu has no message",
                            i);
    }
    char gen[48];
    id = llm_answer_id(id, gw_json_str(v, "id"), gen, sizeof(gen));
    json_t *r = json_incref(v); /* the answer itself, renamed (a copy costs ~5% of a request) */
    json_object_set_new(r, "id", json_string(id));
    json_object_set_new(r, "model", json_string(client_model));
    if (!json_is_string(json_object_get(r, "object")))
        json_object_set_new(r, "object", json_string("chat.completion"));
    if (!json_is_integer(json_object_get(r, "created")))
        json_object_set_new(r, "created", json_integer((json_int_t)llm_now_s()));
    json_t *u = json_object_get(r, "usage");
    if (json_is_object(u))
        read_usage(u, usage);
    *out = r;
    return GW_OK;
}

static gw_err event(struct llm_decoder *d, const char *name, const char *data, size_t len,
                    char *msg, size_t cap)
{
    GW_UNUSED(name);
    if (len == 0) /* an event without data */
        return GW_OK;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        d->done = true;
        return GW_OK;
    }
    json_t *v = llm_parse_object(data, len, "upstream stream chunk", msg, cap);
    if (!v)
        return GW_EUPSTREAM;
    gw_err rc = GW_OK;
    const char *emsg = llm_error_in(v);
    if (emsg) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream error in stream: %.200s", emsg);
        goto out;
    }
    json_t *usage = json_object_get(v, "usage");
    if (json_is_object(usage)) {
        struct llm_usage u = {0};
        read_usage(usage, &u);
        if (u.known) {
            d->usage = u;
            json_decref(d->usage_obj);
            d->usage_obj = json_deep_copy(usage);
            if (!json_is_integer(json_object_get(d->usage_obj, "total_tokens")))
                json_object_set_new(d->usage_obj, "total_tokens",
                                    json_integer(u.prompt_tokens + u.completion_tokens));
        }
    }
    json_object_del(v, "usage"); /* usage is only in the final usage-only chunk */
    json_t *choices = json_object_get(v, "choices");
    if (!json_is_array(choices)) {
        rc = llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream chunk has no choices");
        goto out;
    }
    if (json_array_size(choices) == 0)
        goto out;
    /* one "created" for the whole stream: the upstream's first, else ours */
    json_t *created = json_object_get(v, "created");
    if (!d->started && json_is_integer(created) && json_integer_value(created) > 0)
        d->created = (int64_t)json_integer_value(created);
    json_object_set_new(v, "id", json_string(d->id));
    json_object_set_new(v, "object", json_string("chat.completion.chunk"));
    json_object_set_new(v, "created", json_integer((json_int_t)d->created));
    json_object_set_new(v, "model", json_string(d->client_model));
    rc = llm_dec_emit(d, v, msg, cap);
    v = NULL;
out:
    json_decref(v);
    return rc;
}

const struct llm_provider llm_openai = {
    .name = "openai",
    .path = "/chat/completions",
    .framing = LLM_FRAMING_SSE,
    .auth_prefix = "Authorization: Bearer ",
    .build = build,
    .parse = parse,
    .event = event,
};
