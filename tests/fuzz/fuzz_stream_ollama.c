/* SPDX-License-Identifier: MIT
 * fuzz_stream_ollama.c — the Ollama /api/chat stream (NDJSON, "done": true last)
 * through the gateway's stream decoder; see fuzz_stream.h for what is checked.
 */
#include "base/prelude.h"
#include "fuzz_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return stream_fuzz(LLM_API_OLLAMA, data, size);
}
