/* SPDX-License-Identifier: MIT
 * fuzz_stream_anthropic.c — the Anthropic Messages stream (SSE events message_start …
 * message_stop) through the gateway's stream decoder; see fuzz_stream.h for what is checked.
 */
#include "base/prelude.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return stream_fuzz(LLM_API_ANTHROPIC, data, size);
}
