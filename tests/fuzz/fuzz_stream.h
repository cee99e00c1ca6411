/* SPDX-License-Identifier: MIT
 * fuzz_stream.h — the body of the three stream decoder targets (fuzz_stream_<provider>.c):
 * an upstream stream body (SSE for openai and anthropic, NDJSON for ollama) through
 * llm_decoder (src/llm/wire/stream.c and the provider's translator), every chunk into
 * llm_accum as an agent turn does.
 *
 * The body is decoded twice: in one piece, and cut into pieces of 1..16 bytes (the sizes
 * follow from the input), as the network delivers it. Bytes may arrive split anywhere, so both
 * runs must emit the same chunks (compared as canonical JSON without "created") and end the
 * same way (tool call ids the gateway generates aside); every chunk must be a
 * "chat.completion.chunk" of the stream's id and model.
 */
#ifndef GW_FUZZ_STREAM_H
#define GW_FUZZ_STREAM_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "llm/llm_wire.h"
#include "fuzz.h"

struct stream_run {
    struct gw_buf chunks; /* canonical chunks, one per line */
    struct llm_accum *acc;
    gw_err rc; /* first failure of feed, else of finish */
    struct llm_usage usage;
};

static int stream_on_chunk(void *arg, json_t *chunk)
{
    struct stream_run *run = arg;
    FUZZ_CHECK(strcmp(gw_json_str(chunk, "object"), "chat.completion.chunk") == 0);
    FUZZ_CHECK(strcmp(gw_json_str(chunk, "id"), "chatcmpl-fuzz") == 0);
    FUZZ_CHECK(strcmp(gw_json_str(chunk, "model"), "client-model") == 0);
    json_t *copy = json_deep_copy(chunk);
    json_object_del(copy, "created");
    /* tool call ids the gateway makes up (ollama sends none) are random */
    json_t *calls = json_object_get(
        json_object_get(json_array_get(json_object_get(copy, "choices"), 0), "delta"),
        "tool_calls");
    size_t i;
    json_t *call;
    json_array_foreach(calls, i, call) {
        const char *id = gw_json_str(call, "id");
        if (id && strncmp(id, "call_", 5) == 0 && strlen(id) == 29)
            json_object_set_new(call, "id", json_string("call_generated"));
    }
    char *text = gw_json_canonical(copy);
    FUZZ_CHECK(text);
    gw_buf_puts(&run->chunks, text);
    gw_buf_puts(&run->chunks, "\n");
    free(text);
    json_decref(copy);
    llm_accum_add(run->acc, chunk);
    return 0;
}

static void stream_decode(enum llm_api api, const uint8_t *data, size_t size, bool pieces,
                          struct stream_run *run)
{
    gw_buf_init(&run->chunks, SIZE_MAX);
    run->acc = llm_accum_new();
    run->rc = GW_OK;
    struct llm_decoder *d = llm_decoder_new(api, "client-model", "chatcmpl-fuzz", stream_on_chunk,
                                            run);
    char msg[256];
    size_t step = 1 + (size ? data[size / 2] % 16 : 0);
    for (size_t i = 0; i < size && run->rc == GW_OK;) {
        size_t n = pieces ? GW_MIN(step, size - i) : size - i;
        run->rc = llm_decoder_feed(d, (const char *)data + i, n, msg, sizeof(msg));
        i += n;
        step = 1 + (step * 7 + 3) % 16;
    }
    if (run->rc == GW_OK)
        run->rc = llm_decoder_finish(d, msg, sizeof(msg));
    llm_decoder_usage(d, &run->usage);
    llm_decoder_free(d);
    json_t *result = llm_accum_result(run->acc);
    FUZZ_CHECK(result);
    json_decref(result);
    llm_accum_free(run->acc);
}

static int stream_fuzz(enum llm_api api, const uint8_t *data, size_t size)
{
    struct stream_run whole, cut;
    stream_decode(api, data, size, false, &whole);
    stream_decode(api, data, size, true, &cut);
    FUZZ_CHECK(whole.rc == cut.rc);
    FUZZ_CHECK(whole.chunks.len == cut.chunks.len);
    FUZZ_CHECK(whole.chunks.len == 0 ||
               memcmp(whole.chunks.data, cut.chunks.data, whole.chunks.len) == 0);
    FUZZ_CHECK(memcmp(&whole.usage, &cut.usage, sizeof(whole.usage)) == 0);
    gw_buf_release(&whole.chunks);
    gw_buf_release(&cut.chunks);
    return 0;
}

#endif
