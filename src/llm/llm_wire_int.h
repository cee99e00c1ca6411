/* SPDX-License-Identifier: MIT
 * llm_wire_int.h — private to the wire translation files (llm_wire*.c, llm_accum.c).
 *
 * llm_wire.c holds the shared helpers and the dispatch by API; llm_wire_openai.c,
 * llm_wire_anthropic.c and llm_wire_ollama.c each own one provider's request building,
 * response parsing and stream-event translation; llm_wire_stream.c owns the decoder (SSE and
 * NDJSON framing, bounds, end marker, final usage chunk); llm_accum.c rebuilds a completion.
 */
#ifndef GW_LLM_WIRE_INT_H
#define GW_LLM_WIRE_INT_H

#include "base/prelude.h"
#include "base/buf.h"
#include "base/err.h"
#include "llm/llm_wire.h"

#include <jansson.h>

#define LLM_JSON_DEPTH 64                    /* nesting accepted in upstream JSON / arguments */
#define LLM_MAX_BLOCKS 1024                  /* anthropic content blocks in one answer */
#define LLM_MAX_TOOL_CALLS 256               /* tool calls in one answer (stream index bound) */
#define LLM_ACCUM_MAX ((size_t)8 << 20)      /* text accumulated by llm_accum */
#define LLM_TEXT_MAX ((size_t)64 << 20)      /* flattened text of one request message */
#define LLM_TOKENS_MAX ((int64_t)1 << 40)    /* token counts above are clamped */
#define LLM_ERRMSG_TEXT 200                  /* plain-text error bodies are cut to this */

/* --- shared helpers (llm_wire.c) --------------------------------------------------------- */

/* snprintf into msg; msg may be NULL (cap 0). Always returns code. */
gw_err llm_fail(gw_err code, char *msg, size_t cap, const char *fmt, ...) GW_PRINTF(4, 5);
/* Strict parse of upstream JSON; on error msg = "<what> is not valid JSON: <detail>". */
json_t *llm_parse_upstream(const char *data, size_t len, const char *what, char *msg,
                           size_t cap);
/* "<prefix><24 hex digits>" into out (cap >= strlen(prefix) + 25). */
void llm_new_id(const char *prefix, char *out, size_t cap);
int64_t llm_now_s(void);
/* The message of an error object in an upstream JSON value: error.message, error (string),
 * message; NULL when there is none. */
const char *llm_error_in(const json_t *v);
/* Text of a canonical content (string, null, or array of {type:"text",text} parts joined
 * with "\n") appended to out. Other part types are refused with GW_EINVAL. */
gw_err llm_content_text(const json_t *content, const char *role, struct gw_buf *out,
                        char *msg, size_t cap);
/* Tool call arguments (JSON text; "" means {}) → object (new reference) or NULL + msg. */
json_t *llm_args_object(const json_t *arguments, const char *name, char *msg, size_t cap);
/* {"prompt_tokens","completion_tokens","total_tokens"} */
json_t *llm_usage_json(const struct llm_usage *u);
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

/* --- per provider ------------------------------------------------------------------------ */

gw_err llm_openai_build(const json_t *canon, const char *model, bool stream, json_t **body,
                        char *msg, size_t cap);
gw_err llm_anthropic_build(const json_t *canon, const char *model, bool stream, json_t **body,
                           char *msg, size_t cap);
gw_err llm_ollama_build(const json_t *canon, const char *model, bool stream, json_t **body,
                        char *msg, size_t cap);

/* v: the parsed upstream body (borrowed). */
gw_err llm_openai_parse(json_t *v, const char *client_model, const char *id, json_t **out,
                        struct llm_usage *usage, char *msg, size_t cap);
gw_err llm_anthropic_parse(json_t *v, const char *client_model, const char *id, json_t **out,
                           struct llm_usage *usage, char *msg, size_t cap);
gw_err llm_ollama_parse(json_t *v, const char *client_model, const char *id, json_t **out,
                        struct llm_usage *usage, char *msg, size_t cap);

/* --- the stream decoder (llm_wire_stream.c) ---------------------------------------------- */

enum llm_block_kind { LLM_BLOCK_NONE, LLM_BLOCK_TEXT, LLM_BLOCK_TOOL, LLM_BLOCK_OTHER };

struct llm_block {
    enum llm_block_kind kind;
    int tool_index;   /* LLM_BLOCK_TOOL: index in the canonical tool_calls */
    bool has_args;    /* some arguments text was emitted */
};

struct llm_decoder {
    enum llm_api api;
    char *client_model;
    char *id;
    int64_t created;
    llm_chunk_fn *fn;
    void *arg;

    /* framing */
    struct gw_buf line;  /* the current incomplete line */
    bool after_cr;       /* the last byte was CR: a following LF belongs to it */
    struct gw_buf data;  /* SSE: data lines of the current event */
    bool has_data;
    char event[64];      /* SSE: "event:" field of the current event */

    /* outcome */
    bool done;           /* the end marker was seen */
    bool finished;       /* llm_decoder_finish ran */
    bool started;        /* a choice chunk reached fn */
    gw_err err;          /* sticky failure */
    char errmsg[256];

    struct llm_usage usage;
    json_t *usage_obj;   /* openai: the upstream usage object, forwarded as is */

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

/* One SSE event's data (openai); data is NUL-terminated at len. */
gw_err llm_openai_event(struct llm_decoder *d, const char *data, size_t len, char *msg,
                        size_t cap);
/* One SSE event (anthropic); event may be "" (then the data's "type" is used). */
gw_err llm_anthropic_event(struct llm_decoder *d, const char *event, const char *data,
                           size_t len, char *msg, size_t cap);
/* One NDJSON line (ollama), whitespace trimmed, not empty. */
gw_err llm_ollama_line(struct llm_decoder *d, const char *line, size_t len, char *msg,
                       size_t cap);

#endif
