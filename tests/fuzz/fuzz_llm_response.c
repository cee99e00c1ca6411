/* SPDX-License-Identifier: MIT
 * fuzz_llm_response.c — a complete (non-streamed) upstream answer through
 * llm_wire_parse_response (src/llm/wire/), and an upstream error body through
 * llm_wire_error_message. The first input byte chooses the provider (openai, anthropic,
 * ollama); the rest is the body.
 * Checks: an accepted answer carries the gateway's id and the client's model and its first
 * choice holds a message; when the gateway translated it (anthropic, ollama) it is a
 * "chat.completion" from the assistant (an OpenAI answer passes through as the upstream wrote
 * it); a refused one says why; an error message always ends in NUL within its buffer.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "llm/llm_wire.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const enum llm_api apis[] = {LLM_API_OPENAI, LLM_API_ANTHROPIC, LLM_API_OLLAMA};
    enum llm_api api = apis[data[0] % 3];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    json_t *out = NULL;
    struct llm_usage usage = {0};
    char msg[256] = "";
    if (llm_wire_parse_response(api, body, len, "client-model", "chatcmpl-fuzz", &out, &usage, msg,
                                sizeof(msg)) == GW_OK) {
        FUZZ_CHECK(strcmp(gw_json_str(out, "model"), "client-model") == 0);
        FUZZ_CHECK(strcmp(gw_json_str(out, "id"), "chatcmpl-fuzz") == 0);
        json_t *message = json_object_get(json_array_get(json_object_get(out, "choices"), 0),
                                          "message");
        FUZZ_CHECK(json_is_object(message) && gw_json_str(out, "object"));
        if (api != LLM_API_OPENAI) { /* an OpenAI answer passes through as the upstream wrote it */
            FUZZ_CHECK(strcmp(gw_json_str(out, "object"), "chat.completion") == 0);
            FUZZ_CHECK(strcmp(gw_json_str(message, "role"), "assistant") == 0);
        }
        FUZZ_CHECK(usage.prompt_tokens >= 0 && usage.completion_tokens >= 0);
    } else {
        FUZZ_CHECK(!out && msg[0]);
    }
    json_decref(out);
    char err[64];
    memset(err, 'x', sizeof(err));
    llm_wire_error_message(body, len, err, sizeof(err));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    return 0;
}
