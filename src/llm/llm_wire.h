/* SPDX-License-Identifier: MIT
 * llm_wire.h — the provider wire formats, as pure functions (no I/O).
 *
 * Inside the gateway every chat is in one canonical shape: the OpenAI chat-completions format
 * (request object, "chat.completion" response, "chat.completion.chunk" stream chunks). These
 * functions translate that shape to and from each provider's format:
 *   openai    — POST {base}/chat/completions, SSE "data: {...}" lines ending with "data: [DONE]";
 *   anthropic — POST {base}/v1/messages (Messages API: system apart, content blocks, tool_use /
 *               tool_result, SSE events message_start … message_stop);
 *   ollama    — POST {base}/api/chat (NDJSON stream, one object per line, "done": true last).
 * Everything that comes from an upstream is untrusted: sizes are bounded, JSON is parsed
 * strictly, and a malformed body or event is an error (GW_EUPSTREAM with a message), never a
 * crash or a silently wrong answer.
 */
#ifndef GW_LLM_WIRE_H
#define GW_LLM_WIRE_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

enum llm_api { LLM_API_OPENAI, LLM_API_ANTHROPIC, LLM_API_OLLAMA };

#define LLM_MAX_EVENT_BYTES ((size_t)1 << 20) /* one SSE event / NDJSON line from upstream */

struct llm_decoder;
struct llm_usage;

/* One provider's wire format (src/llm/wire/<name>.c): a const table, one row per provider, so
 * that a fourth provider is a file and a row rather than a case in every switch. */
enum llm_framing { LLM_FRAMING_SSE, LLM_FRAMING_NDJSON };
struct llm_provider {
    const char *name;           /* the configuration's api: "openai", "anthropic", "ollama" */
    const char *path;           /* appended to the provider's base URL */
    enum llm_framing framing;   /* of its streams */
    const char *const *headers; /* fixed request headers ("Name: value"), NULL-terminated */
    const char *auth_prefix;    /* the API key's header, up to the key: "x-api-key: " */
    /* canon (a validated canonical request) → the provider's request body (new object). */
    gw_err (*build)(const json_t *canon, const char *model, bool stream, json_t **body, char *msg,
                    size_t cap);
    /* A complete 2xx answer v (an object without an error member; the provider may change it
     * and return it with a reference of its own) → a canonical "chat.completion" (new
     * reference) with client_model and id (NULL: keep or make one). */
    gw_err (*parse)(json_t *v, const char *client_model, const char *id, json_t **out,
                    struct llm_usage *usage, char *msg, size_t cap);
    /* One stream event: an SSE event (its name, "" when none, and its data) or one NDJSON
     * line (event ""), translated into canonical chunks through the decoder. */
    gw_err (*event)(struct llm_decoder *d, const char *event, const char *data, size_t len,
                    char *msg, size_t cap);
};

/* The provider of an API, NULL when there is none. */
const struct llm_provider *llm_provider_get(enum llm_api api);

struct llm_usage {
    int64_t prompt_tokens;
    int64_t completion_tokens;
    bool known; /* the upstream reported it (otherwise estimated by the caller) */
};

/* The upstream HTTP request for a canonical request. */
struct llm_wire_req {
    const char *path; /* appended to the provider's base URL, e.g. "/chat/completions" */
    char *body;       /* JSON text (malloc'd) */
};
void llm_wire_req_release(struct llm_wire_req *w);

/* canon: a validated OpenAI chat-completions request (model, messages, optional tools,
 * tool_choice, max_tokens / max_completion_tokens, temperature, top_p, stop, stream).
 * upstream_model replaces canon's model. stream selects the streaming form; for openai a
 * streaming request always asks for usage (stream_options.include_usage). */
gw_err llm_wire_build(enum llm_api api, const json_t *canon, const char *upstream_model,
                      bool stream, struct llm_wire_req *out, char *msg, size_t cap);

/* A complete (non-streamed) upstream 2xx body → canonical "chat.completion" object (new
 * reference) whose "model" is client_model and whose "id" is id (NULL: keep/generate one).
 * usage is filled from the body. */
gw_err llm_wire_parse_response(enum llm_api api, const char *body, size_t len,
                               const char *client_model, const char *id, json_t **out,
                               struct llm_usage *usage, char *msg, size_t cap);

/* The human message of an upstream error body (any of the three formats, or plain text),
 * cut to cap. Never fails. */
void llm_wire_error_message(const char *body, size_t len, char *msg, size_t cap);

/* --- streaming -------------------------------------------------------------------------- */

/* Receives each canonical "chat.completion.chunk" (borrowed: valid during the call; model is
 * client_model, id the stream's id, "created" set). A usage-only chunk (choices: [] and
 * "usage") is emitted at the end when the upstream reported usage. Return non-zero to stop:
 * llm_decoder_feed then returns GW_ECANCELED. */
typedef int llm_chunk_fn(void *arg, json_t *chunk);

/* Incremental decoder of an upstream stream body (bytes may be split anywhere). */
struct llm_decoder *llm_decoder_new(enum llm_api api, const char *client_model, const char *id,
                                    llm_chunk_fn *fn, void *arg);
gw_err llm_decoder_feed(struct llm_decoder *d, const char *data, size_t len, char *msg, size_t cap);
/* The upstream body ended: GW_OK when the stream ended properly ("data: [DONE]",
 * message_stop, "done": true), GW_EUPSTREAM when it was cut short (truncated stream). */
gw_err llm_decoder_finish(struct llm_decoder *d, char *msg, size_t cap);
/* True once at least one content/tool chunk has been emitted. */
bool llm_decoder_started(const struct llm_decoder *d);
void llm_decoder_usage(const struct llm_decoder *d, struct llm_usage *u);
void llm_decoder_free(struct llm_decoder *d);

/* --- rebuilding a completion from chunks (agent loop on a stream) ----------------------- */

struct llm_accum;
struct llm_accum *llm_accum_new(void);
/* Adds one canonical chunk (content deltas concatenated, tool_calls merged by index:
 * id/name set once, arguments concatenated, finish_reason and usage kept). */
gw_err llm_accum_add(struct llm_accum *a, const json_t *chunk);
/* The equivalent "chat.completion" object (new reference). */
json_t *llm_accum_result(struct llm_accum *a);
void llm_accum_free(struct llm_accum *a);

#endif
