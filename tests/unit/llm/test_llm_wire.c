/* SPDX-License-Identifier: MIT
 * test_llm_wire.c — provider wire formats: request building (openai, anthropic, ollama),
 * complete answers, stream decoding (whole and split anywhere), usage, truncation, malformed
 * and oversize input, upstream error events and messages, rebuilding a completion from
 * chunks, and the provider table.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "llm/llm_wire.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* --- helpers --------------------------------------------------------------------------------- */

static json_t *jparse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &e);
    if (!v)
        fail_msg("test JSON invalid: %s (line %d col %d): %s", e.text, e.line, e.column, text);
    return v;
}

static void assert_json_eq(const json_t *actual, const char *expected_text)
{
    json_t *expected = jparse(expected_text);
    if (!json_equal(actual, expected)) {
        char *a = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS);
        char *e = json_dumps(expected, JSON_COMPACT | JSON_SORT_KEYS);
        print_error("actual:   %s\nexpected: %s\n", a, e);
        free(a);
        free(e);
        json_decref(expected);
        fail();
    }
    json_decref(expected);
}

/* Builds the request and returns its parsed body (asserting the path). */
static json_t *build_ok(enum llm_api api, const char *canon_text, bool stream,
                        const char *want_path)
{
    json_t *canon = jparse(canon_text);
    struct llm_wire_req w;
    char msg[256] = "";
    gw_err rc = llm_wire_build(api, canon, "up-model", stream, &w, msg, sizeof(msg));
    if (rc != GW_OK)
        fail_msg("build failed: %s", msg);
    assert_string_equal(w.path, want_path);
    json_t *body = jparse(w.body);
    llm_wire_req_release(&w);
    assert_null(w.body);
    json_decref(canon);
    return body;
}

static gw_err build_err(enum llm_api api, const char *canon_text, char *msg, size_t cap)
{
    json_t *canon = jparse(canon_text);
    struct llm_wire_req w;
    gw_err rc = llm_wire_build(api, canon, "up-model", false, &w, msg, cap);
    assert_null(w.body);
    assert_null(w.path);
    json_decref(canon);
    return rc;
}

struct collect {
    json_t *chunks; /* deep copies */
    int stop_after; /* > 0: return 1 on that chunk */
};

static int collect_fn(void *arg, json_t *chunk)
{
    struct collect *c = arg;
    json_array_append_new(c->chunks, json_deep_copy(chunk));
    return c->stop_after > 0 && (int)json_array_size(c->chunks) >= c->stop_after;
}

struct run {
    gw_err feed_rc, finish_rc;
    char msg[256];
    json_t *chunks;
    struct llm_usage usage;
    bool started;
};

/* Feeds data in pieces of step bytes (0: all at once), then finishes. */
static struct run run_stream(enum llm_api api, const char *data, size_t len, size_t step)
{
    struct run r = {.feed_rc = GW_OK, .finish_rc = GW_OK};
    struct collect c = {.chunks = json_array()};
    struct llm_decoder *d = llm_decoder_new(api, "client-model", "chatcmpl-test", collect_fn, &c);
    assert_false(llm_decoder_started(d));
    if (!step)
        step = len ? len : 1;
    for (size_t i = 0; i < len && r.feed_rc == GW_OK; i += step)
        r.feed_rc = llm_decoder_feed(d, data + i, GW_MIN(step, len - i), r.msg, sizeof(r.msg));
    if (r.feed_rc == GW_OK)
        r.finish_rc = llm_decoder_finish(d, r.msg, sizeof(r.msg));
    llm_decoder_usage(d, &r.usage);
    r.started = llm_decoder_started(d);
    llm_decoder_free(d);
    r.chunks = c.chunks;
    return r;
}

/* Chunks without what legitimately differs between two runs ("created", generated ids). */
static json_t *normalized(const json_t *chunks)
{
    json_t *out = json_deep_copy(chunks);
    size_t i;
    json_t *c;
    json_array_foreach(out, i, c) {
        json_object_del(c, "created");
        json_t *delta = json_object_get(json_array_get(json_object_get(c, "choices"), 0), "delta");
        size_t k;
        json_t *tc;
        json_array_foreach(json_object_get(delta, "tool_calls"), k, tc) {
            const char *id = json_string_value(json_object_get(tc, "id"));
            if (id && strncmp(id, "call_", 5) == 0 && strlen(id) == 29)
                json_object_set_new(tc, "id", json_string("call_GENERATED"));
        }
    }
    return out;
}

/* The stream decoded whole, byte by byte and in 7-byte pieces gives the same chunks. */
static struct run run_all_ways(enum llm_api api, const char *data)
{
    size_t len = strlen(data);
    struct run whole = run_stream(api, data, len, 0);
    json_t *ref = normalized(whole.chunks);
    static const size_t steps[] = {1, 2, 7, 64};
    for (size_t s = 0; s < GW_ARRAY_LEN(steps); s++) {
        struct run r = run_stream(api, data, len, steps[s]);
        assert_int_equal(r.feed_rc, whole.feed_rc);
        assert_int_equal(r.finish_rc, whole.finish_rc);
        assert_string_equal(r.msg, whole.msg);
        json_t *n = normalized(r.chunks);
        if (!json_equal(n, ref)) {
            char *a = json_dumps(n, JSON_COMPACT);
            char *b = json_dumps(ref, JSON_COMPACT);
            print_error("step %zu:\n%s\nwhole:\n%s\n", steps[s], a, b);
            free(a);
            free(b);
            fail();
        }
        assert_int_equal(r.usage.known, whole.usage.known);
        assert_int_equal(r.usage.prompt_tokens, whole.usage.prompt_tokens);
        assert_int_equal(r.usage.completion_tokens, whole.usage.completion_tokens);
        json_decref(n);
        json_decref(r.chunks);
    }
    json_decref(ref);
    return whole;
}

static const json_t *chunk_delta(const json_t *chunks, size_t i)
{
    return json_object_get(json_array_get(json_object_get(json_array_get(chunks, i), "choices"), 0),
                           "delta");
}

static const char *chunk_finish(const json_t *chunks, size_t i)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(json_array_get(chunks, i), "choices"), 0),
                        "finish_reason"));
}

static json_t *accumulate(const json_t *chunks)
{
    struct llm_accum *a = llm_accum_new();
    size_t i;
    json_t *c;
    json_array_foreach(chunks, i, c)
        assert_int_equal(llm_accum_add(a, c), GW_OK);
    json_t *res = llm_accum_result(a);
    llm_accum_free(a);
    return res;
}

static const json_t *result_message(const json_t *completion)
{
    return json_object_get(json_array_get(json_object_get(completion, "choices"), 0), "message");
}

/* --- request building ------------------------------------------------------------------------ */

#define TOOLS_CANON                                                                                \
    "{\"model\":\"client-model\",\"messages\":["                                                   \
    "{\"role\":\"system\",\"content\":\"You are helpful.\"},"                                      \
    "{\"role\":\"developer\",\"content\":[{\"type\":\"text\",\"text\":\"Be brief.\"}]},"           \
    "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"                                       \
    "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["                                    \
    "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","             \
    "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"                                            \
    "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"get_time\","                \
    "\"arguments\":\"\"}}]},"                                                                      \
    "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":\"18C\"},"                         \
    "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":[{\"type\":\"text\","              \
    "\"text\":\"noon\"}]},"                                                                        \
    "{\"role\":\"user\",\"content\":\"Thanks\"}],"                                                 \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","                    \
    "\"description\":\"Weather\",\"parameters\":{\"type\":\"object\",\"properties\":"              \
    "{\"city\":{\"type\":\"string\"}}}}},"                                                         \
    "{\"type\":\"function\",\"function\":{\"name\":\"get_time\"}}],"                               \
    "\"tool_choice\":\"required\",\"max_tokens\":100,\"temperature\":0.5,\"top_p\":0.9,"           \
    "\"stop\":\"END\",\"user\":\"u1\"}"

static void build_openai(void **state)
{
    json_t *b = build_ok(LLM_API_OPENAI,
                         "{\"model\":\"client-model\",\"messages\":[{\"role\":\"user\","
                         "\"content\":\"hi\"}],\"logit_bias\":{\"50256\":-100},\"n\":1,"
                         "\"stream\":false,\"stream_options\":{\"include_usage\":false}}",
                         true, "/chat/completions");
    assert_json_eq(b, "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content\":"
                      "\"hi\"}],\"logit_bias\":{\"50256\":-100},\"n\":1,\"stream\":true,"
                      "\"stream_options\":{\"include_usage\":true}}");
    json_decref(b);

    b = build_ok(
        LLM_API_OPENAI,
        "{\"model\":\"client-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
        false, "/chat/completions");
    assert_json_eq(b, "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content\":"
                      "\"hi\"}],\"stream\":false}");
    json_decref(b);

    /* tool calls pass through unchanged */
    b = build_ok(LLM_API_OPENAI, TOOLS_CANON, false, "/chat/completions");
    json_t *canon = jparse(TOOLS_CANON);
    assert_true(json_equal(json_object_get(b, "messages"), json_object_get(canon, "messages")));
    assert_true(json_equal(json_object_get(b, "tools"), json_object_get(canon, "tools")));
    assert_string_equal(json_string_value(json_object_get(b, "tool_choice")), "required");
    json_decref(canon);
    json_decref(b);
}

static void build_anthropic(void **state)
{
    json_t *b = build_ok(LLM_API_ANTHROPIC, TOOLS_CANON, false, "/v1/messages");
    assert_json_eq(
        b, "{\"model\":\"up-model\",\"max_tokens\":100,"
           "\"system\":\"You are helpful.\\n\\nBe brief.\","
           "\"messages\":["
           "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Weather in Paris?\"}]},"
           "{\"role\":\"assistant\",\"content\":["
           "{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"get_weather\",\"input\":{\"city\":"
           "\"Paris\"}},"
           "{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"get_time\",\"input\":{}}]},"
           "{\"role\":\"user\",\"content\":["
           "{\"type\":\"tool_result\",\"tool_use_id\":\"call_1\",\"content\":\"18C\"},"
           "{\"type\":\"tool_result\",\"tool_use_id\":\"call_2\",\"content\":\"noon\"},"
           "{\"type\":\"text\",\"text\":\"Thanks\"}]}],"
           "\"temperature\":0.5,\"top_p\":0.9,\"stop_sequences\":[\"END\"],"
           "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather\",\"input_schema\":"
           "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}},"
           "{\"name\":\"get_time\",\"input_schema\":{\"type\":\"object\",\"properties\":{}}}],"
           "\"tool_choice\":{\"type\":\"any\"},"
           "\"metadata\":{\"user_id\":\"u1\"}}");
    json_decref(b);

    /* streaming form, default max_tokens, consecutive user messages merged, temperature cut */
    b = build_ok(LLM_API_ANTHROPIC,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
                 "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"b\"}]},"
                 "{\"role\":\"assistant\",\"content\":\"c\"}],\"temperature\":1.7,"
                 "\"stop\":[\"x\",\"y\"]}",
                 true, "/v1/messages");
    assert_json_eq(b, "{\"model\":\"up-model\",\"max_tokens\":4096,\"messages\":["
                      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                      "{\"type\":\"text\",\"text\":\"b\"}]},"
                      "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"c\"}]}],"
                      "\"stream\":true,\"temperature\":1.0,\"stop_sequences\":[\"x\",\"y\"]}");
    json_decref(b);

    /* max_completion_tokens wins */
    b = build_ok(LLM_API_ANTHROPIC,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                 "\"max_tokens\":10,\"max_completion_tokens\":20}",
                 false, "/v1/messages");
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 20);
    json_decref(b);
}

static void anthropic_tool_choice(void **state)
{
    static const struct {
        const char *choice;
        const char *want;
    } cases[] = {
        {"\"auto\"", "{\"type\":\"auto\"}"},
        {"\"none\"", "{\"type\":\"none\"}"},
        {"\"required\"", "{\"type\":\"any\"}"},
        {"{\"type\":\"function\",\"function\":{\"name\":\"f\"}}",
         "{\"type\":\"tool\",\"name\":\"f\"}"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        char canon[512];
        snprintf(canon, sizeof(canon),
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                 "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                 "\"tool_choice\":%s}",
                 cases[i].choice);
        json_t *b = build_ok(LLM_API_ANTHROPIC, canon, false, "/v1/messages");
        assert_json_eq(json_object_get(b, "tool_choice"), cases[i].want);
        json_decref(b);
    }
    json_t *b = build_ok(LLM_API_ANTHROPIC,
                         "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                         "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                         "\"parallel_tool_calls\":false}",
                         false, "/v1/messages");
    assert_json_eq(json_object_get(b, "tool_choice"),
                   "{\"type\":\"auto\",\"disable_parallel_tool_use\":true}");
    json_decref(b);

    char msg[256] = "";
    assert_int_equal(
        build_err(LLM_API_ANTHROPIC,
                  "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                  "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                  "\"tool_choice\":\"sometimes\"}",
                  msg, sizeof(msg)),
        GW_EINVAL);
    assert_non_null(strstr(msg, "tool_choice"));
}

static void build_errors(void **state)
{
    char msg[256] = "";
    /* invalid JSON in assistant tool call arguments */
    const char *bad_args =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
        "{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]}]}";
    assert_int_equal(build_err(LLM_API_ANTHROPIC, bad_args, msg, sizeof(msg)), GW_EINVAL);
    assert_non_null(strstr(msg, "arguments"));
    assert_int_equal(build_err(LLM_API_OLLAMA, bad_args, msg, sizeof(msg)), GW_EINVAL);
    assert_non_null(strstr(msg, "arguments"));
    /* arguments that are JSON but not an object */
    assert_int_equal(build_err(LLM_API_ANTHROPIC,
                               "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
                               "\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":"
                               "{\"name\":\"f\",\"arguments\":\"[1]\"}}]}]}",
                               msg, sizeof(msg)),
                     GW_EINVAL);
    /* only system messages: nothing to send to anthropic */
    assert_int_equal(
        build_err(LLM_API_ANTHROPIC,
                  "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"}]}", msg,
                  sizeof(msg)),
        GW_EINVAL);
    /* unknown role */
    assert_int_equal(
        build_err(LLM_API_OLLAMA,
                  "{\"model\":\"m\",\"messages\":[{\"role\":\"wizard\",\"content\":\"s\"}]}", msg,
                  sizeof(msg)),
        GW_EINVAL);
    assert_non_null(strstr(msg, "wizard"));
    /* messages missing */
    assert_int_equal(build_err(LLM_API_OPENAI, "{\"model\":\"m\"}", msg, sizeof(msg)), GW_EINVAL);
    /* a non-text part where only text is possible */
    assert_int_equal(build_err(LLM_API_ANTHROPIC,
                               "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":"
                               "[{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;"
                               "base64,AAAA\"}}]},{\"role\":\"user\",\"content\":\"a\"}]}",
                               msg, sizeof(msg)),
                     GW_EINVAL);
    /* bad max_tokens */
    assert_int_equal(
        build_err(LLM_API_ANTHROPIC,
                  "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                  "\"max_tokens\":0}",
                  msg, sizeof(msg)),
        GW_EINVAL);
    assert_non_null(strstr(msg, "max_tokens"));
}

static void build_images(void **state)
{
    const char *canon =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
        "{\"type\":\"text\",\"text\":\"what is this\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0K\"}}]}]}";
    json_t *b = build_ok(LLM_API_ANTHROPIC, canon, false, "/v1/messages");
    assert_json_eq(
        json_object_get(b, "messages"),
        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"what is this\"},"
        "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\","
        "\"data\":\"iVBORw0K\"}}]}]");
    json_decref(b);
    b = build_ok(LLM_API_OLLAMA, canon, false, "/api/chat");
    assert_json_eq(json_object_get(b, "messages"),
                   "[{\"role\":\"user\",\"content\":\"what is this\",\"images\":[\"iVBORw0K\"]}]");
    json_decref(b);
}

static void build_ollama(void **state)
{
    json_t *b = build_ok(LLM_API_OLLAMA, TOOLS_CANON, false, "/api/chat");
    json_t *canon = jparse(TOOLS_CANON);
    json_t *want = jparse(
        "{\"model\":\"up-model\",\"messages\":["
        "{\"role\":\"system\",\"content\":\"You are helpful.\"},"
        "{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":\"Weather in Paris?\"},"
        "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
        "{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}},"
        "{\"function\":{\"name\":\"get_time\",\"arguments\":{}}}]},"
        "{\"role\":\"tool\",\"content\":\"18C\",\"tool_name\":\"get_weather\"},"
        "{\"role\":\"tool\",\"content\":\"noon\",\"tool_name\":\"get_time\"},"
        "{\"role\":\"user\",\"content\":\"Thanks\"}],"
        "\"stream\":false,"
        "\"options\":{\"num_predict\":100,\"temperature\":0.5,\"top_p\":0.9,\"stop\":[\"END\"]}}");
    json_object_set(want, "tools", json_object_get(canon, "tools"));
    if (!json_equal(b, want)) {
        char *a = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        char *e = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        print_error("actual:   %s\nexpected: %s\n", a, e);
        free(a);
        free(e);
        fail();
    }
    json_decref(want);
    json_decref(canon);
    json_decref(b);

    /* streaming; tool_choice none leaves the tools out; JSON mode */
    b = build_ok(LLM_API_OLLAMA,
                 "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                 "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],"
                 "\"tool_choice\":\"none\",\"response_format\":{\"type\":\"json_object\"}}",
                 true, "/api/chat");
    assert_json_eq(b,
                   "{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                   "\"stream\":true,\"format\":\"json\"}");
    json_decref(b);
}

/* --- complete answers ------------------------------------------------------------------------ */

static json_t *parse_ok(enum llm_api api, const char *body, const char *id, struct llm_usage *u)
{
    json_t *out = NULL;
    char msg[256] = "";
    gw_err rc = llm_wire_parse_response(api, body, strlen(body), "client-model", id, &out, u, msg,
                                        sizeof(msg));
    if (rc != GW_OK)
        fail_msg("parse failed: %s", msg);
    assert_non_null(out);
    assert_string_equal(json_string_value(json_object_get(out, "model")), "client-model");
    assert_string_equal(json_string_value(json_object_get(out, "object")), "chat.completion");
    assert_true(json_is_integer(json_object_get(out, "created")));
    return out;
}

static void parse_openai(void **state)
{
    const char *body =
        "{\"id\":\"chatcmpl-up\",\"object\":\"chat.completion\",\"created\":1700000000,"
        "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"content\":\"Hello!\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21},"
        "\"system_fingerprint\":\"fp_1\"}";
    struct llm_usage u;
    json_t *out = parse_ok(LLM_API_OPENAI, body, "chatcmpl-gw", &u);
    assert_string_equal(json_string_value(json_object_get(out, "id")), "chatcmpl-gw");
    assert_string_equal(json_string_value(json_object_get(result_message(out), "content")),
                        "Hello!");
    assert_string_equal(json_string_value(json_object_get(out, "system_fingerprint")), "fp_1");
    assert_int_equal(json_integer_value(json_object_get(out, "created")), 1700000000);
    assert_true(u.known);
    assert_int_equal(u.prompt_tokens, 9);
    assert_int_equal(u.completion_tokens, 12);
    json_decref(out);

    out = parse_ok(LLM_API_OPENAI, body, NULL, &u);
    assert_string_equal(json_string_value(json_object_get(out, "id")), "chatcmpl-up");
    json_decref(out);
}

static void parse_anthropic(void **state)
{
    const char *body =
        "{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-x\","
        "\"content\":[{\"type\":\"text\",\"text\":\"Let me \"},{\"type\":\"text\",\"text\":"
        "\"check.\"},{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Paris\",\"days\":3}}],\"stop_reason\":\"tool_use\","
        "\"stop_sequence\":null,\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":5,"
        "\"output_tokens\":20}}";
    struct llm_usage u;
    json_t *out = parse_ok(LLM_API_ANTHROPIC, body, "chatcmpl-gw", &u);
    json_object_del(out, "created");
    assert_json_eq(
        out, "{\"id\":\"chatcmpl-gw\",\"object\":\"chat.completion\","
             "\"model\":\"client-model\",\"choices\":[{\"index\":0,\"message\":{"
             "\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":[{"
             "\"id\":\"toolu_01\",\"type\":\"function\",\"function\":{\"name\":"
             "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":3}\"}}]},"
             "\"finish_reason\":\"tool_calls\",\"logprobs\":null}],"
             "\"usage\":{\"prompt_tokens\":15,\"completion_tokens\":20,"
             "\"total_tokens\":35}}");
    assert_true(u.known);
    assert_int_equal(u.prompt_tokens, 15);
    assert_int_equal(u.completion_tokens, 20);

    /* round trip: the canonical tool call goes back to anthropic as the same tool_use */
    json_t *canon = jparse(
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}");
    json_array_append_new(json_object_get(canon, "messages"), json_deep_copy(result_message(out)));
    json_array_append_new(json_object_get(canon, "messages"),
                          jparse("{\"role\":\"tool\",\"tool_call_id\":\"toolu_01\","
                                 "\"content\":\"sunny\"}"));
    char *text = json_dumps(canon, JSON_COMPACT);
    json_t *b = build_ok(LLM_API_ANTHROPIC, text, false, "/v1/messages");
    assert_json_eq(
        json_object_get(b, "messages"),
        "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"q\"}]},"
        "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},"
        "{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\","
        "\"input\":{\"city\":\"Paris\",\"days\":3}}]},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":"
        "\"toolu_01\",\"content\":\"sunny\"}]}]");
    json_decref(b);
    b = build_ok(LLM_API_OLLAMA, text, false, "/api/chat");
    assert_json_eq(json_object_get(b, "messages"),
                   "[{\"role\":\"user\",\"content\":\"q\"},"
                   "{\"role\":\"assistant\",\"content\":\"Let me check.\",\"tool_calls\":["
                   "{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\","
                   "\"days\":3}}}]},"
                   "{\"role\":\"tool\",\"content\":\"sunny\",\"tool_name\":\"get_weather\"}]");
    json_decref(b);
    free(text);
    json_decref(canon);
    json_decref(out);

    /* max_tokens → length; the upstream id is kept when none is given */
    out = parse_ok(LLM_API_ANTHROPIC,
                   "{\"id\":\"msg_02\",\"type\":\"message\",\"content\":[{\"type\":\"text\","
                   "\"text\":\"cut\"}],\"stop_reason\":\"max_tokens\",\"usage\":{"
                   "\"input_tokens\":3,\"output_tokens\":4}}",
                   NULL, &u);
    assert_string_equal(json_string_value(json_object_get(out, "id")), "msg_02");
    const json_t *ch = json_array_get(json_object_get(out, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(ch, "finish_reason")), "length");
    assert_string_equal(json_string_value(json_object_get(result_message(out), "content")), "cut");
    assert_null(json_object_get(result_message(out), "tool_calls"));
    assert_int_equal(u.prompt_tokens + u.completion_tokens, 7);
    json_decref(out);
}

static void parse_ollama(void **state)
{
    struct llm_usage u;
    json_t *out = parse_ok(LLM_API_OLLAMA,
                           "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\","
                           "\"message\":{\"role\":\"assistant\",\"content\":\"Hi there\"},"
                           "\"done\":true,\"done_reason\":\"stop\",\"total_duration\":5,"
                           "\"prompt_eval_count\":26,\"eval_count\":298}",
                           "chatcmpl-gw", &u);
    json_object_del(out, "created");
    assert_json_eq(out, "{\"id\":\"chatcmpl-gw\",\"object\":\"chat.completion\","
                        "\"model\":\"client-model\",\"choices\":[{\"index\":0,\"message\":{"
                        "\"role\":\"assistant\",\"content\":\"Hi there\"},"
                        "\"finish_reason\":\"stop\",\"logprobs\":null}],"
                        "\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":298,"
                        "\"total_tokens\":324}}");
    assert_true(u.known);
    json_decref(out);

    out = parse_ok(LLM_API_OLLAMA,
                   "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"\","
                   "\"tool_calls\":[{\"function\":{\"name\":\"get_weather\",\"arguments\":"
                   "{\"city\":\"Toronto\"}}}]},\"done\":true,\"done_reason\":\"stop\"}",
                   NULL, &u);
    assert_false(u.known);
    assert_null(json_object_get(out, "usage"));
    const char *id = json_string_value(json_object_get(out, "id"));
    assert_non_null(id);
    assert_int_equal(strncmp(id, "chatcmpl-", 9), 0);
    const json_t *m = result_message(out);
    assert_true(json_is_null(json_object_get(m, "content")));
    const json_t *tc = json_array_get(json_object_get(m, "tool_calls"), 0);
    const char *tid = json_string_value(json_object_get(tc, "id"));
    assert_int_equal(strncmp(tid, "call_", 5), 0);
    assert_int_equal(strlen(tid), 29);
    assert_string_equal(json_string_value(
                            json_object_get(json_object_get(tc, "function"), "arguments")),
                        "{\"city\":\"Toronto\"}");
    const json_t *ch = json_array_get(json_object_get(out, "choices"), 0);
    assert_string_equal(json_string_value(json_object_get(ch, "finish_reason")), "tool_calls");
    json_decref(out);
}

static void parse_errors(void **state)
{
    static const struct {
        enum llm_api api;
        const char *body;
        const char *want;
    } cases[] = {
        {LLM_API_OPENAI, "{\"choices\":[", "not valid JSON"},
        {LLM_API_OPENAI, "{\"a\":1,\"a\":2}", "not valid JSON"},
        {LLM_API_OPENAI, "[1,2]", "not a JSON object"},
        {LLM_API_OPENAI, "{\"id\":\"x\",\"choices\":[]}", "no choices"},
        {LLM_API_OPENAI, "{\"error\":{\"message\":\"quota exceeded\"}}", "quota exceeded"},
        {LLM_API_ANTHROPIC, "{\"type\":\"message\",\"content\":\"text\"}", "no content"},
        {LLM_API_ANTHROPIC, "{\"type\":\"message\",\"content\":[{\"text\":\"x\"}]}", "no type"},
        {LLM_API_ANTHROPIC,
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
         "\"message\":\"Overloaded\"}}",
         "Overloaded"},
        {LLM_API_OLLAMA, "{\"model\":\"x\",\"done\":true}", "no message"},
        {LLM_API_OLLAMA, "{\"error\":\"model not found\"}", "model not found"},
        {LLM_API_OLLAMA, "", "not valid JSON"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        json_t *out = (json_t *)1;
        struct llm_usage u = {.known = true};
        char msg[256] = "";
        gw_err rc = llm_wire_parse_response(cases[i].api, cases[i].body, strlen(cases[i].body),
                                            "client-model", NULL, &out, &u, msg, sizeof(msg));
        assert_int_equal(rc, GW_EUPSTREAM);
        assert_null(out);
        assert_false(u.known);
        if (!strstr(msg, cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, msg, cases[i].want);
    }
}

/* --- error messages -------------------------------------------------------------------------- */

static void error_messages(void **state)
{
    char msg[300];
    static const struct {
        const char *body;
        const char *want;
    } cases[] = {
        {"{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":"
         "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}",
         "Incorrect API key provided"},
        {"{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":"
         "\"Number of requests has exceeded your rate limit\"}}",
         "Number of requests has exceeded your rate limit"},
        {"{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}",
         "model \"llama9\" not found, try pulling it first"},
        {"{\"message\":\"Internal server error\"}", "Internal server error"},
        {"  Bad Gateway\r\n\r\n", "Bad Gateway"},
        {"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
         "</body></html>",
         "502 Bad Gateway 502 Bad Gateway"},
        {"line1\n\tline2\x01\x02 end", "line1 line2 end"},
        {"caf\xc3\xa9 \xff\xfe ok", "caf\xc3\xa9 ok"},
        {"{\"unrelated\":true}", "{\"unrelated\":true}"},
        {"", "empty response body"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        llm_wire_error_message(cases[i].body, strlen(cases[i].body), msg, sizeof(msg));
        assert_string_equal(msg, cases[i].want);
    }
    /* plain text is cut to about 200 characters, messages to the capacity */
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    llm_wire_error_message(big, strlen(big), msg, sizeof(msg));
    assert_int_equal(strlen(msg), 200);
    char small[8];
    const char *e1 = "{\"error\":{\"message\":\"a long message\"}}";
    llm_wire_error_message(e1, strlen(e1), small, sizeof(small));
    assert_string_equal(small, "a long"); /* 7 bytes, then the trailing space trimmed */
    /* multi-byte characters are never cut in half */
    const char *e2 = "{\"error\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}";
    llm_wire_error_message(e2, strlen(e2), small, sizeof(small));
    assert_string_equal(small, "\xc3\xa9\xc3\xa9\xc3\xa9");
    llm_wire_error_message(NULL, 0, msg, sizeof(msg));
    assert_string_equal(msg, "empty response body");
    llm_wire_error_message("x", 1, NULL, 0); /* never fails */
}

/* --- streams --------------------------------------------------------------------------------- */

#define OAI_HEAD                                                                                   \
    "{\"id\":\"chatcmpl-up\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"         \
    "\"model\":\"gpt-4o-2024\",\"choices\":["

static const char openai_stream[] =
    "data: " OAI_HEAD "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    ": keep-alive comment\n\n"
    "data:" OAI_HEAD
    "{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\r\n\r\n"
    "id: 7\n"
    "data: " OAI_HEAD "{\"index\":0,\"delta\":\r\n"
    "data: {\"content\":\"lo\"},\"finish_reason\":null}]}\n\n"
    "data: " OAI_HEAD "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\","
    "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
    "\"finish_reason\":null}]}\r\r"
    "data: " OAI_HEAD "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n"
    "data: " OAI_HEAD "{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
    "{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: " OAI_HEAD "{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: " OAI_HEAD "],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,"
    "\"total_tokens\":18,\"prompt_tokens_details\":{\"cached_tokens\":0}}}\n\n"
    "data: [DONE]\n\n";

static void stream_openai(void **state)
{
    struct run r = run_all_ways(LLM_API_OPENAI, openai_stream);
    if (r.finish_rc != GW_OK)
        fail_msg("%s", r.msg);
    assert_int_equal(r.feed_rc, GW_OK);
    assert_true(r.started);
    assert_int_equal(json_array_size(r.chunks), 8);
    size_t i;
    json_t *c;
    json_array_foreach(r.chunks, i, c) {
        assert_string_equal(json_string_value(json_object_get(c, "id")), "chatcmpl-test");
        assert_string_equal(json_string_value(json_object_get(c, "model")), "client-model");
        assert_string_equal(json_string_value(json_object_get(c, "object")),
                            "chat.completion.chunk");
        assert_int_equal(json_integer_value(json_object_get(c, "created")), 1700000000);
        if (i < 7)
            assert_null(json_object_get(c, "usage")); /* usage only in the final chunk */
    }
    assert_string_equal(json_string_value(json_object_get(chunk_delta(r.chunks, 1), "content")),
                        "Hel");
    assert_string_equal(json_string_value(json_object_get(chunk_delta(r.chunks, 2), "content")),
                        "lo");
    assert_string_equal(chunk_finish(r.chunks, 6), "tool_calls");
    json_t *last = json_array_get(r.chunks, 7);
    assert_int_equal(json_array_size(json_object_get(last, "choices")), 0);
    assert_json_eq(json_object_get(last, "usage"),
                   "{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18,"
                   "\"prompt_tokens_details\":{\"cached_tokens\":0}}");
    assert_true(r.usage.known);
    assert_int_equal(r.usage.prompt_tokens, 11);
    assert_int_equal(r.usage.completion_tokens, 7);

    json_t *res = accumulate(r.chunks);
    json_object_del(res, "created");
    assert_json_eq(res, "{\"id\":\"chatcmpl-test\",\"object\":\"chat.completion\","
                        "\"model\":\"client-model\",\"choices\":[{\"index\":0,\"message\":{"
                        "\"role\":\"assistant\",\"content\":\"Hello\",\"tool_calls\":[{\"id\":"
                        "\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                        "\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\"finish_reason\":"
                        "\"tool_calls\",\"logprobs\":null}],\"usage\":{\"prompt_tokens\":11,"
                        "\"completion_tokens\":7,\"total_tokens\":18,\"prompt_tokens_details\":"
                        "{\"cached_tokens\":0}}}");
    json_decref(res);
    json_decref(r.chunks);
}

static const char anthropic_stream[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
    "\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,"
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\r\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Let me check\"}}\r\n\r\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
    "\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
    "\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
    "\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Par\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
    "\"input_json_delta\",\"partial_json\":\"is\\\"}\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":"
    "\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_time\",\"input\":{}}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";

static void stream_anthropic(void **state)
{
    struct run r = run_all_ways(LLM_API_ANTHROPIC, anthropic_stream);
    if (r.finish_rc != GW_OK)
        fail_msg("%s", r.msg);
    assert_true(r.started);
    json_t *n = normalized(r.chunks);
    size_t i;
    json_t *c;
    json_array_foreach(n, i, c) {
        json_object_del(c, "id");
        json_object_del(c, "model");
        json_object_del(c, "object");
    }
    assert_json_eq(
        n, "["
           "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
           "\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me check\"},"
           "\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"toolu_1\","
           "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
           "\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"{\\\"city\\\": \\\"Par\"}}]},\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"is\\\"}\"}}]},\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"toolu_2\","
           "\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"\"}}]},"
           "\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":"
           "{\"arguments\":\"{}\"}}]},\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]},"
           "{\"choices\":[],\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":42,"
           "\"total_tokens\":67}}"
           "]");
    json_decref(n);
    json_array_foreach(r.chunks, i, c) {
        assert_string_equal(json_string_value(json_object_get(c, "id")), "chatcmpl-test");
        assert_string_equal(json_string_value(json_object_get(c, "model")), "client-model");
        assert_string_equal(json_string_value(json_object_get(c, "object")),
                            "chat.completion.chunk");
        assert_true(json_is_integer(json_object_get(c, "created")));
    }
    assert_true(r.usage.known);
    assert_int_equal(r.usage.prompt_tokens, 25);
    assert_int_equal(r.usage.completion_tokens, 42);

    json_t *res = accumulate(r.chunks);
    const json_t *m = result_message(res);
    assert_string_equal(json_string_value(json_object_get(m, "content")), "Let me check");
    assert_json_eq(json_object_get(m, "tool_calls"),
                   "[{\"id\":\"toolu_1\",\"type\":\"function\",\"function\":{\"name\":"
                   "\"get_weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}},"
                   "{\"id\":\"toolu_2\",\"type\":\"function\",\"function\":{\"name\":"
                   "\"get_time\",\"arguments\":\"{}\"}}]");
    json_decref(res);
    json_decref(r.chunks);
}

static void stream_anthropic_text_only(void **state)
{
    /* no "event:" lines (the data's type is used), max_tokens stop, thinking block ignored */
    const char *s =
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":4,"
        "\"cache_creation_input_tokens\":6,\"output_tokens\":0}}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
        "\"thinking\",\"thinking\":\"\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
        "\"thinking_delta\",\"thinking\":\"hmm\"}}\n\n"
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":"
        "\"text\",\"text\":\"\"}}\n\n"
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
        "\"text\":\"Hi \\u00e9\"}}\n\n"
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},"
        "\"usage\":{\"output_tokens\":2}}\n\n"
        "data: {\"type\":\"message_stop\"}\n\n"
        "data: this is ignored, the stream is over\n\n";
    struct run r = run_all_ways(LLM_API_ANTHROPIC, s);
    if (r.finish_rc != GW_OK)
        fail_msg("%s", r.msg);
    assert_int_equal(json_array_size(r.chunks), 4);
    assert_string_equal(json_string_value(json_object_get(chunk_delta(r.chunks, 1), "content")),
                        "Hi \xc3\xa9");
    assert_string_equal(chunk_finish(r.chunks, 2), "length");
    assert_int_equal(r.usage.prompt_tokens, 10);
    assert_int_equal(r.usage.completion_tokens, 2);
    json_decref(r.chunks);
}

static void stream_anthropic_error(void **state)
{
    const char *s =
        "event: message_start\n"
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,"
        "\"output_tokens\":1}}}\n\n"
        "event: error\n"
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":"
        "\"Overloaded\"}}\n\n";
    struct run r = run_all_ways(LLM_API_ANTHROPIC, s);
    assert_int_equal(r.feed_rc, GW_EUPSTREAM);
    assert_non_null(strstr(r.msg, "Overloaded"));
    assert_non_null(strstr(r.msg, "overloaded_error"));
    assert_int_equal(json_array_size(r.chunks), 0); /* nothing reached the client: retryable */
    assert_false(r.started);
    json_decref(r.chunks);

    /* the error is sticky: later feeds and finish report it again */
    struct collect c = {.chunks = json_array()};
    struct llm_decoder *d = llm_decoder_new(LLM_API_ANTHROPIC, "m", NULL, collect_fn, &c);
    char msg[256];
    assert_int_equal(llm_decoder_feed(d, s, strlen(s), msg, sizeof(msg)), GW_EUPSTREAM);
    msg[0] = '\0';
    assert_int_equal(llm_decoder_feed(d, "\n", 1, msg, sizeof(msg)), GW_EUPSTREAM);
    assert_non_null(strstr(msg, "Overloaded"));
    msg[0] = '\0';
    assert_int_equal(llm_decoder_finish(d, msg, sizeof(msg)), GW_EUPSTREAM);
    assert_non_null(strstr(msg, "Overloaded"));
    llm_decoder_free(d);
    json_decref(c.chunks);
}

static const char ollama_stream[] =
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"lo\"},\"done\":false}\r\n"
    "\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"get_weather\","
    "\"arguments\":{\"city\":\"Paris\"}}},{\"function\":{\"name\":\"get_time\",\"arguments\":"
    "{}}}]},\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\","
    "\"total_duration\":100,\"prompt_eval_count\":26,\"eval_count\":12}\n";

static void stream_ollama(void **state)
{
    struct run r = run_all_ways(LLM_API_OLLAMA, ollama_stream);
    if (r.finish_rc != GW_OK)
        fail_msg("%s", r.msg);
    assert_true(r.started);
    json_t *n = normalized(r.chunks);
    size_t i;
    json_t *c;
    json_array_foreach(n, i, c) {
        assert_string_equal(json_string_value(json_object_get(c, "id")), "chatcmpl-test");
        assert_string_equal(json_string_value(json_object_get(c, "model")), "client-model");
        json_object_del(c, "id");
        json_object_del(c, "model");
        json_object_del(c, "object");
    }
    assert_json_eq(
        n, "["
           "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
           "\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
           "{\"index\":0,\"id\":\"call_GENERATED\",\"type\":\"function\",\"function\":{\"name\":"
           "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
           "{\"index\":1,\"id\":\"call_GENERATED\",\"type\":\"function\",\"function\":{\"name\":"
           "\"get_time\",\"arguments\":\"{}\"}}]},\"finish_reason\":null}]},"
           "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]},"
           "{\"choices\":[],\"usage\":{\"prompt_tokens\":26,\"completion_tokens\":12,"
           "\"total_tokens\":38}}"
           "]");
    json_decref(n);
    assert_true(r.usage.known);
    assert_int_equal(r.usage.prompt_tokens, 26);
    assert_int_equal(r.usage.completion_tokens, 12);
    /* generated tool call ids are distinct */
    const json_t *calls = json_object_get(chunk_delta(r.chunks, 2), "tool_calls");
    assert_string_not_equal(json_string_value(json_object_get(json_array_get(calls, 0), "id")),
                            json_string_value(json_object_get(json_array_get(calls, 1), "id")));

    json_t *res = accumulate(r.chunks);
    const json_t *m = result_message(res);
    assert_string_equal(json_string_value(json_object_get(m, "content")), "Hello");
    assert_int_equal(json_array_size(json_object_get(m, "tool_calls")), 2);
    json_decref(res);
    json_decref(r.chunks);

    /* the last line may lack its newline; a plain answer ends with "stop" */
    const char *s = "{\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},\"done\":false}\n"
                    "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
                    "\"done_reason\":\"length\",\"eval_count\":1}";
    r = run_all_ways(LLM_API_OLLAMA, s);
    if (r.finish_rc != GW_OK)
        fail_msg("%s", r.msg);
    assert_int_equal(json_array_size(r.chunks), 3);
    assert_string_equal(chunk_finish(r.chunks, 1), "length");
    json_decref(r.chunks);

    /* an error line */
    r = run_all_ways(LLM_API_OLLAMA, "{\"error\":\"model crashed\"}\n");
    assert_int_equal(r.feed_rc, GW_EUPSTREAM);
    assert_non_null(strstr(r.msg, "model crashed"));
    json_decref(r.chunks);
}

static void stream_truncated(void **state)
{
    static const struct {
        enum llm_api api;
        const char *data;
        size_t cut; /* bytes cut from the end */
    } cases[] = {
        {LLM_API_OPENAI, openai_stream, 14},  /* no [DONE] at all */
        {LLM_API_OPENAI, openai_stream, 2},   /* "data: [DONE]" without its blank line */
        {LLM_API_OPENAI, openai_stream, 100}, /* in the middle of an event */
        {LLM_API_ANTHROPIC, anthropic_stream, 50},
        {LLM_API_ANTHROPIC, anthropic_stream, 1},
        {LLM_API_OLLAMA, ollama_stream, 20}, /* inside the last line */
        {LLM_API_OLLAMA, ollama_stream, 0},  /* no done line (cut computed below) */
        {LLM_API_OPENAI, "", 0},
        {LLM_API_OLLAMA, "", 0},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        size_t len = strlen(cases[i].data) - cases[i].cut;
        if (cases[i].data == ollama_stream && cases[i].cut == 0) {
            len--; /* up to the end of the line before the done line */
            while (len > 0 && cases[i].data[len - 1] != '\n')
                len--;
            assert_true(len > 0);
        }
        for (size_t step = 0; step <= 1; step++) {
            struct run r = run_stream(cases[i].api, cases[i].data, len, step);
            assert_int_equal(r.feed_rc, GW_OK);
            if (r.finish_rc != GW_EUPSTREAM)
                fail_msg("case %zu: finish %d", i, (int)r.finish_rc);
            assert_string_equal(r.msg, "upstream stream ended before its end marker");
            /* no usage-only chunk for a stream that did not end */
            size_t n = json_array_size(r.chunks);
            if (n)
                assert_int_not_equal(
                    json_array_size(json_object_get(json_array_get(r.chunks, n - 1), "choices")),
                    0);
            json_decref(r.chunks);
        }
    }
}

static void stream_malformed(void **state)
{
    static const struct {
        enum llm_api api;
        const char *data;
        const char *want;
    } cases[] = {
        {LLM_API_OPENAI, "data: {\"id\":\"x\",\"choices\":[}\n\n", "not valid JSON"},
        {LLM_API_OPENAI, "data: {\"a\":1,\"a\":1,\"choices\":[]}\n\n", "not valid JSON"},
        {LLM_API_OPENAI, "data: [1,2]\n\n", "not a JSON object"},
        {LLM_API_OPENAI, "data: \"just a string\"\n\n", "not valid JSON"},
        {LLM_API_OPENAI, "data: {\"id\":\"x\"}\n\n", "no choices"},
        {LLM_API_OPENAI, "data: {\"error\":{\"message\":\"server overloaded\"}}\n\n",
         "server overloaded"},
        {LLM_API_ANTHROPIC, "event: message_start\ndata: {nope}\n\n", "not valid JSON"},
        {LLM_API_ANTHROPIC,
         "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,"
         "\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
         "never started"},
        {LLM_API_ANTHROPIC,
         "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":-1,"
         "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
         "invalid index"},
        {LLM_API_OLLAMA, "garbage\n", "not valid JSON"},
        {LLM_API_OLLAMA, "[1]\n", "not a JSON object"},
        {LLM_API_OLLAMA, "{\"message\":{\"content\":5},\"done\":false}\n", "not a string"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        struct run r = run_all_ways(cases[i].api, cases[i].data);
        assert_int_equal(r.feed_rc, GW_EUPSTREAM);
        if (!strstr(r.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, r.msg, cases[i].want);
        assert_int_equal(json_array_size(r.chunks), 0);
        json_decref(r.chunks);
    }
}

static void stream_oversize(void **state)
{
    size_t n = LLM_MAX_EVENT_BYTES + 16;
    char *big = gw_xmalloc(n + 16);
    /* one huge data line */
    memcpy(big, "data: ", 6);
    memset(big + 6, 'a', n - 6);
    big[n] = '\0';
    static const enum llm_api apis[] = {LLM_API_OPENAI, LLM_API_ANTHROPIC, LLM_API_OLLAMA};
    for (size_t a = 0; a < GW_ARRAY_LEN(apis); a++) {
        for (size_t step = 0; step <= 4096; step += 4096) {
            struct run r = run_stream(apis[a], big, n, step);
            assert_int_equal(r.feed_rc, GW_EUPSTREAM);
            assert_non_null(strstr(r.msg, "larger than"));
            json_decref(r.chunks);
        }
    }
    /* an event made of many data lines, each small */
    size_t line = 1000, lines = LLM_MAX_EVENT_BYTES / line + 2;
    char *multi = gw_xmalloc(lines * (line + 7) + 1);
    size_t o = 0;
    for (size_t i = 0; i < lines; i++) {
        memcpy(multi + o, "data: ", 6);
        memset(multi + o + 6, 'b', line);
        multi[o + 6 + line] = '\n';
        o += line + 7;
    }
    struct run r = run_stream(LLM_API_OPENAI, multi, o, 0);
    assert_int_equal(r.feed_rc, GW_EUPSTREAM);
    assert_non_null(strstr(r.msg, "larger than"));
    json_decref(r.chunks);
    free(multi);

    /* comment lines do not accumulate: many of them add up to more than the bound */
    multi = gw_xmalloc(lines * (line + 7) + 32);
    o = 0;
    for (size_t i = 0; i < lines; i++) {
        memcpy(multi + o, ": ", 2);
        memset(multi + o + 2, 'c', line + 4);
        multi[o + 6 + line] = '\n';
        o += line + 7;
    }
    memcpy(multi + o, "data: [DONE]\n\n", 14);
    o += 14;
    r = run_stream(LLM_API_OPENAI, multi, o, 0);
    assert_int_equal(r.feed_rc, GW_OK);
    assert_int_equal(r.finish_rc, GW_OK);
    json_decref(r.chunks);
    free(multi);
    free(big);
}

static void stream_consumer_stops(void **state)
{
    struct collect c = {.chunks = json_array(), .stop_after = 2};
    struct llm_decoder *d = llm_decoder_new(LLM_API_OPENAI, "m", "id", collect_fn, &c);
    char msg[256];
    assert_int_equal(llm_decoder_feed(d, openai_stream, strlen(openai_stream), msg, sizeof(msg)),
                     GW_ECANCELED);
    assert_int_equal(json_array_size(c.chunks), 2);
    assert_true(llm_decoder_started(d));
    assert_int_equal(llm_decoder_feed(d, "x", 1, msg, sizeof(msg)), GW_ECANCELED);
    llm_decoder_free(d);
    json_decref(c.chunks);

    /* stopping on the final usage chunk makes finish report it */
    c = (struct collect){.chunks = json_array(), .stop_after = 8};
    d = llm_decoder_new(LLM_API_OPENAI, "m", NULL, collect_fn, &c);
    assert_int_equal(llm_decoder_feed(d, openai_stream, strlen(openai_stream), NULL, 0), GW_OK);
    assert_int_equal(llm_decoder_finish(d, msg, sizeof(msg)), GW_ECANCELED);
    /* a generated id when none was given */
    const char *id = json_string_value(json_object_get(json_array_get(c.chunks, 0), "id"));
    assert_int_equal(strncmp(id, "chatcmpl-", 9), 0);
    assert_int_equal(strlen(id), 9 + 24);
    llm_decoder_free(d);
    json_decref(c.chunks);
}

static void stream_without_usage(void **state)
{
    const char *s = "data: " OAI_HEAD "{\"index\":0,\"delta\":{\"content\":\"x\"},"
                    "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    struct run r = run_all_ways(LLM_API_OPENAI, s);
    assert_int_equal(r.finish_rc, GW_OK);
    assert_int_equal(json_array_size(r.chunks), 1);
    assert_false(r.usage.known);
    json_decref(r.chunks);
}

/* --- accumulator ----------------------------------------------------------------------------- */

static void accum_tool_calls(void **state)
{
    static const char *const chunks[] = {
        "{\"id\":\"c1\",\"model\":\"m\",\"created\":5,\"choices\":[{\"index\":0,\"delta\":"
        "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
        "{\"id\":\"c1\",\"model\":\"m\",\"created\":5,\"choices\":[{\"index\":0,\"delta\":"
        "{\"tool_calls\":[{\"index\":0,\"id\":\"call_x\",\"type\":\"function\",\"function\":"
        "{\"name\":\"search\",\"arguments\":\"\"}},{\"index\":1,\"id\":\"call_y\",\"type\":"
        "\"function\",\"function\":{\"name\":\"fetch\",\"arguments\":\"{\\\"u\"}}]}}]}",
        "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"function\":{\"arguments\":\"{\\\"q\\\":\"}}]}}]}",
        "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,"
        "\"id\":\"ignored\",\"function\":{\"name\":\"ignored\",\"arguments\":\"rl\\\":1}\"}}]}}]}",
        "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"function\":{\"arguments\":\"\\\"cats\\\"}\"}}]}}]}",
        "{\"id\":\"c1\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other choice\"}}]}",
        "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
        "{\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,"
        "\"total_tokens\":7}}",
    };
    struct llm_accum *a = llm_accum_new();
    for (size_t i = 0; i < GW_ARRAY_LEN(chunks); i++) {
        json_t *c = jparse(chunks[i]);
        assert_int_equal(llm_accum_add(a, c), GW_OK);
        json_decref(c);
    }
    json_t *res = llm_accum_result(a);
    assert_json_eq(res,
                   "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":5,\"model\":\"m\","
                   "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                   "null,\"tool_calls\":[{\"id\":\"call_x\",\"type\":\"function\",\"function\":"
                   "{\"name\":\"search\",\"arguments\":\"{\\\"q\\\":\\\"cats\\\"}\"}},"
                   "{\"id\":\"call_y\",\"type\":\"function\",\"function\":{\"name\":\"fetch\","
                   "\"arguments\":\"{\\\"url\\\":1}\"}}]},\"finish_reason\":\"tool_calls\","
                   "\"logprobs\":null}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,"
                   "\"total_tokens\":7}}");
    json_decref(res);
    /* the result can be taken again, unchanged */
    res = llm_accum_result(a);
    assert_string_equal(json_string_value(json_object_get(res, "id")), "c1");
    json_decref(res);

    json_t *bad = jparse("{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":100000,"
                         "\"function\":{\"arguments\":\"x\"}}]}}]}");
    assert_int_equal(llm_accum_add(a, bad), GW_EINVAL);
    json_decref(bad);
    bad = jparse("[1]");
    assert_int_equal(llm_accum_add(a, bad), GW_EINVAL);
    json_decref(bad);
    llm_accum_free(a);
}

static void accum_bounded(void **state)
{
    size_t n = (size_t)3 << 20;
    char *text = gw_xmalloc(n + 1);
    memset(text, 'z', n);
    text[n] = '\0';
    json_t *c = json_pack("{s:s,s:[{s:i,s:{s:s}}]}", "id", "c", "choices", "index", 0, "delta",
                          "content", text);
    json_t *t = json_pack("{s:[{s:i,s:{s:[{s:i,s:{s:s}}]}}]}", "choices", "index", 0, "delta",
                          "tool_calls", "index", 0, "function", "arguments", text);
    struct llm_accum *a = llm_accum_new();
    assert_int_equal(llm_accum_add(a, c), GW_OK);
    assert_int_equal(llm_accum_add(a, t), GW_OK);
    assert_int_equal(llm_accum_add(a, c), GW_ETOOBIG); /* 9 MiB > 8 MiB */
    json_t *res = llm_accum_result(a);
    const json_t *m = result_message(res);
    assert_int_equal(json_string_length(json_object_get(m, "content")), n);
    json_decref(res);
    llm_accum_free(a);
    json_decref(c);
    json_decref(t);
    free(text);
}

static void accum_plain(void **state)
{
    struct llm_accum *a = llm_accum_new();
    json_t *res = llm_accum_result(a); /* nothing added: an empty stop answer */
    const json_t *m = result_message(res);
    assert_string_equal(json_string_value(json_object_get(m, "content")), "");
    assert_null(json_object_get(m, "tool_calls"));
    assert_string_equal(json_string_value(
                            json_object_get(json_array_get(json_object_get(res, "choices"), 0),
                                            "finish_reason")),
                        "stop");
    assert_null(json_object_get(res, "usage"));
    json_decref(res);
    llm_accum_free(a);
    llm_accum_free(NULL);
}

/* --- the provider table ------------------------------------------------------------------ */

static int count_chunks(void *arg, json_t *chunk)
{
    GW_UNUSED(chunk);
    ++*(int *)arg;
    return 0;
}

static void provider_table(void **state)
{
    (void)state;
    /* one row per API the configuration accepts, in the order of its enum */
    static const struct {
        enum llm_api api;
        const char *name, *path;
        enum llm_framing f;
    } rows[] = {
        {LLM_API_OPENAI, "openai", "/chat/completions", LLM_FRAMING_SSE},
        {LLM_API_ANTHROPIC, "anthropic", "/v1/messages", LLM_FRAMING_SSE},
        {LLM_API_OLLAMA, "ollama", "/api/chat", LLM_FRAMING_NDJSON},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        const struct llm_provider *p = llm_provider_get(rows[i].api);
        assert_non_null(p);
        assert_string_equal(p->name, rows[i].name);
        assert_string_equal(p->path, rows[i].path);
        assert_int_equal(p->framing, rows[i].f);
        assert_non_null(p->build);
        assert_non_null(p->parse);
        assert_non_null(p->event);
        assert_non_null(p->auth_prefix);
    }
    assert_string_equal(llm_provider_get(LLM_API_ANTHROPIC)->headers[0],
                        "anthropic-version: 2023-06-01");
    assert_null(llm_provider_get((enum llm_api)99));
    char msg[128];
    struct llm_wire_req w;
    json_t *canon = jparse("{\"model\":\"m\",\"messages\":[]}");
    assert_int_equal(llm_wire_build((enum llm_api)99, canon, "m", false, &w, msg, sizeof msg),
                     GW_EINTERNAL);
    json_decref(canon);
    int chunks = 0;
    struct llm_decoder *d = llm_decoder_new((enum llm_api)99, "m", "id", count_chunks, &chunks);
    assert_int_not_equal(llm_decoder_feed(d, "data: {}\n\n", 10, msg, sizeof msg), GW_OK);
    assert_int_equal(chunks, 0);
    llm_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(build_openai),           cmocka_unit_test(build_anthropic),
        cmocka_unit_test(anthropic_tool_choice),  cmocka_unit_test(build_errors),
        cmocka_unit_test(build_images),           cmocka_unit_test(build_ollama),
        cmocka_unit_test(parse_openai),           cmocka_unit_test(parse_anthropic),
        cmocka_unit_test(parse_ollama),           cmocka_unit_test(parse_errors),
        cmocka_unit_test(error_messages),         cmocka_unit_test(stream_openai),
        cmocka_unit_test(stream_anthropic),       cmocka_unit_test(stream_anthropic_text_only),
        cmocka_unit_test(stream_anthropic_error), cmocka_unit_test(stream_ollama),
        cmocka_unit_test(stream_truncated),       cmocka_unit_test(stream_malformed),
        cmocka_unit_test(stream_oversize),        cmocka_unit_test(stream_consumer_stops),
        cmocka_unit_test(stream_without_usage),   cmocka_unit_test(accum_tool_calls),
        cmocka_unit_test(accum_bounded),          cmocka_unit_test(accum_plain),
        cmocka_unit_test(provider_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
