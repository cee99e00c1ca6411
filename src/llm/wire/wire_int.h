/* SPDX-License-Identifier: MIT
 * wire_int.h — private to src/llm/wire: the model providers' wire formats.
 *
 * The folder owns the translation between the canonical chat shape (OpenAI chat-completions)
 * and each provider's format, as pure functions; it includes base/ and its public header
 * llm/llm_wire.h only. wire.c holds the provider table and the entry points; openai.c,
 * anthropic.c and ollama.c each define one const struct llm_provider (request building,
 * answer parsing, stream-event translation, headers); canon.c the shapes they share; stream.c
 * the decoder (SSE and NDJSON framing, bounds, end marker, final usage chunk); accum.c
 * rebuilds a completion from chunks.
 */
#ifndef GW_LLM_WIRE_INT_H
#define GW_LLM_WIRE_INT_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/err.h"
#include "llm/llm_wire.h"

#include <jansson.h>

#define LLM_JSON_DEPTH 64                 /* nesting accepted in upstream JSON / arguments */
#define LLM_MAX_BLOCKS 1024               /* anthropic content blocks in one answer */
#define LLM_MAX_TOOL_CALLS 256            /* tool calls in one answer (stream index bound) */
#define LLM_ACCUM_MAX ((size_t)8 << 20)   /* text accumulated by llm_accum */
#define LLM_TEXT_MAX ((size_t)64 << 20)   /* flattened text of one request message */
#define LLM_TOKENS_MAX ((int64_t)1 << 40) /* token counts above are clamped */
#define LLM_ERRMSG_TEXT 200               /* plain-text error bodies are cut to this */

/* --- shared helpers (canon.c) ----------------------------------------------------------------- */

/* snprintf into msg; msg may be NULL (cap 0). Always returns code. */
gw_err llm_fail(gw_err code, char *msg, size_t cap, const char *fmt, ...) GW_PRINTF(4, 5);
/* Strict parse of upstream JSON; on error msg = "<what> is not valid JSON: <detail>". */
json_t *llm_parse_upstream(const char *data, size_t len, const char *what, char *msg, size_t cap);
/* The same, and the value must be an object ("<what> is not a JSON object"). */
json_t *llm_parse_object(const char *data, size_t len, const char *what, char *msg, size_t cap);
/* "<prefix><24 hex digits>" into out (cap >= strlen(prefix) + 25). */
void llm_new_id(const char *prefix, char *out, size_t cap);
/* The id of a canonical answer: the caller's id, else the upstream's, else a new
 * "chatcmpl-<hex>" written into gen. */
const char *llm_answer_id(const char *id, const char *upstream, char *gen, size_t cap);
int64_t llm_now_s(void);
/* The message of an error object in an upstream JSON value: error.message, error (string),
 * message; NULL when there is none. */
const char *llm_error_in(const json_t *v);
/* Calls fn for each part of a canonical message content: a string is one "text" part (part
 * NULL, text set); null or absent: none; an array: each element, with its "type" and, when it
 * is a string, its "text". Anything else: GW_EINVAL "<role> message content must be a string
 * or an array". */
typedef gw_err llm_part_fn(void *arg, size_t i, const json_t *part, const char *type,
                           const json_t *text, char *msg, size_t cap);
gw_err llm_content_each(const json_t *content, const char *role, llm_part_fn *fn, void *arg,
                        char *msg, size_t cap);
/* Text of a canonical content (string, null, or array of {type:"text",text} parts joined
 * with "\n") appended to out. Other part types are refused with GW_EINVAL. */
gw_err llm_content_text(const json_t *content, const char *role, struct gw_buf *out, char *msg,
                        size_t cap);
/* Tool call arguments (JSON text; "" means {}) → object (new reference) or NULL + msg. */
json_t *llm_args_object(const json_t *arguments, const char *name, char *msg, size_t cap);
/* Calls fn for each tool call of a canonical assistant message (null or absent: none; not an
 * array: GW_EINVAL "tool_calls must be an array") with its id and function name (either may be
 * NULL: fn decides) and its arguments as an object (new reference, stolen by fn; only when the
 * name is set, else NULL). */
typedef gw_err llm_tool_call_fn(void *arg, size_t i, const char *id, const char *name, json_t *args,
                                char *msg, size_t cap);
gw_err llm_tool_calls_each(const json_t *tool_calls, llm_tool_call_fn *fn, void *arg, char *msg,
                           size_t cap);
/* {"prompt_tokens","completion_tokens","total_tokens"} */
json_t *llm_usage_json(const struct llm_usage *u);
/* Token counts from obj's members prompt_key and completion_key: known when either is a
 * non-negative integer (the other counts 0); u unchanged when neither is. */
void llm_usage_read(const json_t *obj, const char *prompt_key, const char *completion_key,
                    struct llm_usage *u);
/* "data:<media type>;base64,<data>" → true with the parts (not copied). */
bool llm_data_url(const char *url, const char **media, size_t *media_len, const char **data);
/* Integer member (a token count): -1 when absent, negative or not an integer; clamped to
 * LLM_TOKENS_MAX so that sums never overflow. */
int64_t llm_int_member(const json_t *obj, const char *key);
/* {"id","type":"function","function":{"name","arguments"}} */
json_t *llm_tool_call(const char *id, const char *name, const char *arguments);
/* A "chat.completion" with one choice. message is stolen; usage is stolen (may be NULL). */
json_t *llm_completion(const char *id, int64_t created, const char *model, json_t *message,
                       const char *finish_reason, json_t *usage);
/* Assistant message {"role","content","tool_calls"?}; tool_calls stolen (NULL or empty:
 * left out); content NULL or "" with tool calls → null. */
json_t *llm_assistant_message(const char *content, json_t *tool_calls);
/* Copies an optional number member; GW_EINVAL when present and not a number. */
gw_err llm_copy_number(json_t *dst, const char *dkey, const json_t *src, const char *skey,
                       char *msg, size_t cap);
/* "stop" (string or array of strings) → new array, or NULL when absent/null. */
gw_err llm_stop_array(const json_t *canon, json_t **out, char *msg, size_t cap);
/* max_completion_tokens, else max_tokens; 0 when absent. GW_EINVAL when not a positive int. */
gw_err llm_max_tokens(const json_t *canon, int64_t *out, char *msg, size_t cap);

/* --- the providers (one file each), in the table of wire.c ------------------------------------ */

extern const struct llm_provider llm_openai, llm_anthropic, llm_ollama;

/* --- the stream decoder (stream.c) ------------------------------------------------------------ */

enum llm_block_kind { LLM_BLOCK_NONE, LLM_BLOCK_TEXT, LLM_BLOCK_TOOL, LLM_BLOCK_OTHER };

struct llm_block {
    enum llm_block_kind kind;
    int tool_index; /* LLM_BLOCK_TOOL: index in the canonical tool_calls */
    bool has_args;  /* some arguments text was emitted */
};

struct llm_decoder {
    const struct llm_provider *p;
    char *client_model;
    char *id;
    int64_t created;
    llm_chunk_fn *fn;
    void *arg;

    /* framing */
    struct gw_buf line; /* the current incomplete line */
    bool after_cr;      /* the last byte was CR: a following LF belongs to it */
    struct gw_buf data; /* SSE: data lines of the current event */
    bool has_data;
    char event[64]; /* SSE: "event:" field of the current event */

    /* outcome */
    bool done;     /* the end marker was seen */
    bool finished; /* llm_decoder_finish ran */
    bool started;  /* a choice chunk reached fn */
    gw_err err;    /* sticky failure */
    char errmsg[256];

    struct llm_usage usage;
    json_t *usage_obj; /* openai: the upstream usage object, forwarded as is */

    /* translation state (anthropic, ollama) */
    bool role_sent;
    bool finish_sent;
    int n_tools;
    struct llm_block *blocks;
    size_t n_blocks;
};

/* New chunk for this stream; delta is stolen; finish_reason NULL → null. */
json_t *llm_dec_chunk(struct llm_decoder *d, json_t *delta, const char *finish_reason);
/* Passes chunk (stolen) to the callback; GW_ECANCELED when it asks to stop. */
gw_err llm_dec_emit(struct llm_decoder *d, json_t *chunk, char *msg, size_t cap);

#endif
