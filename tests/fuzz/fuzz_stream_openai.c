/* SPDX-License-Identifier: MIT
 * fuzz_stream_openai.c — the OpenAI chat-completions stream (SSE "data:" lines, "data: [DONE]"
 * last) through the gateway's stream decoder; see fuzz_stream.h for what is checked.
 */
#include "base/prelude.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return stream_fuzz(LLM_API_OPENAI, data, size);
}
