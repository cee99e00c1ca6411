/* SPDX-License-Identifier: MIT
 * stream.c — the incremental decoder of upstream stream bodies.
 *
 * Owns the framing: Server-Sent Events for openai and anthropic (lines ending in LF, CRLF or
 * CR; "data:" lines joined with LF; "event:" kept; comments and other fields ignored; an empty
 * line dispatches) and NDJSON for ollama. Bytes may arrive split anywhere; a line or an event
 * above LLM_MAX_EVENT_BYTES is an error. Each complete event goes to the provider's translator
 * (the event member of its struct llm_provider). Also owns the outcome: a sticky error, the end
 * marker (without it the stream was truncated) and the final usage-only chunk emitted by
 * llm_decoder_finish.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "llm/llm_wire.h"
#include "llm/wire/wire_int.h"

json_t *llm_dec_chunk(struct llm_decoder *d, json_t *delta, const char *finish_reason)
{
    json_t *choice = json_object();
    json_object_set_new(choice, "index", json_integer(0));
    json_object_set_new(choice, "delta", delta ? delta : json_object());
    json_object_set_new(choice, "finish_reason",
                        finish_reason ? json_string(finish_reason) : json_null());
    json_t *c = json_object();
    json_object_set_new(c, "id", json_string(d->id));
    json_object_set_new(c, "object", json_string("chat.completion.chunk"));
    json_object_set_new(c, "created", json_integer((json_int_t)d->created));
    json_object_set_new(c, "model", json_string(d->client_model));
    json_object_set_new(c, "choices", json_pack("[o]", choice));
    return c;
}

gw_err llm_dec_emit(struct llm_decoder *d, json_t *chunk, char *msg, size_t cap)
{
    if (!chunk)
        return llm_fail(GW_EINTERNAL, msg, cap, "stream chunk cannot be built");
    if (json_array_size(json_object_get(chunk, "choices")) > 0)
        d->started = true;
    int stop = d->fn ? d->fn(d->arg, chunk) : 0;
    json_decref(chunk);
    if (stop)
        return llm_fail(GW_ECANCELED, msg, cap, "stream consumer stopped");
    return GW_OK;
}

struct llm_decoder *llm_decoder_new(enum llm_api api, const char *client_model, const char *id,
                                    llm_chunk_fn *fn, void *arg)
{
    struct llm_decoder *d = gw_xcalloc(1, sizeof(*d));
    d->p = llm_provider_get(api);
    if (!d->p) { /* no such API: every feed fails */
        d->err = GW_EINTERNAL;
        snprintf(d->errmsg, sizeof(d->errmsg), "unknown provider API %d", (int)api);
        d->p = &llm_openai;
    }
    d->client_model = gw_xstrdup(client_model ? client_model : "");
    if (id) {
        d->id = gw_xstrdup(id);
    } else {
        char gen[48];
        llm_new_id("chatcmpl-", gen, sizeof(gen));
        d->id = gw_xstrdup(gen);
    }
    d->created = llm_now_s();
    d->fn = fn;
    d->arg = arg;
    gw_buf_init(&d->line, LLM_MAX_EVENT_BYTES);
    gw_buf_init(&d->data, LLM_MAX_EVENT_BYTES);
    return d;
}

void llm_decoder_free(struct llm_decoder *d)
{
    if (!d)
        return;
    gw_buf_release(&d->line);
    gw_buf_release(&d->data);
    json_decref(d->usage_obj);
    free(d->blocks);
    free(d->client_model);
    free(d->id);
    free(d);
}

bool llm_decoder_started(const struct llm_decoder *d)
{
    return d && d->started;
}

void llm_decoder_usage(const struct llm_decoder *d, struct llm_usage *u)
{
    *u = d ? d->usage : (struct llm_usage){0};
}

static gw_err too_big(char *msg, size_t cap)
{
    return llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream event larger than %zu bytes",
                    LLM_MAX_EVENT_BYTES);
}

/* --- SSE -------------------------------------------------------------------------------------- */

static gw_err sse_dispatch(struct llm_decoder *d, char *msg, size_t cap)
{
    gw_err rc = GW_OK;
    if (d->has_data)
        rc = d->p->event(d, d->event, d->data.data ? d->data.data : "", d->data.len, msg, cap);
    gw_buf_reset(&d->data);
    d->has_data = false;
    d->event[0] = '\0';
    return rc;
}

static gw_err sse_line(struct llm_decoder *d, const char *line, size_t len, char *msg, size_t cap)
{
    if (len == 0)
        return sse_dispatch(d, msg, cap);
    if (line[0] == ':')
        return GW_OK; /* comment (keep-alive) */
    const char *colon = memchr(line, ':', len);
    size_t flen = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t vlen = len - (size_t)(value - line);
    if (vlen > 0 && value[0] == ' ') {
        value++;
        vlen--;
    }
    if (flen == 4 && memcmp(line, "data", 4) == 0) {
        if ((d->has_data && gw_buf_append(&d->data, "\n", 1) != GW_OK) ||
            gw_buf_append(&d->data, value, vlen) != GW_OK)
            return too_big(msg, cap);
        d->has_data = true;
    } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
        if (vlen >= sizeof(d->event))
            vlen = sizeof(d->event) - 1; /* no event of ours is that long: stays unknown */
        memcpy(d->event, value, vlen);
        d->event[vlen] = '\0';
    } /* id, retry and unknown fields are ignored */
    return GW_OK;
}

/* --- NDJSON ----------------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static gw_err nd_line(struct llm_decoder *d, const char *line, size_t len, char *msg, size_t cap)
{
    while (len > 0 && is_space(line[0])) {
        line++;
        len--;
    }
    while (len > 0 && is_space(line[len - 1]))
        len--;
    if (len == 0)
        return GW_OK;
    return d->p->event(d, "", line, len, msg, cap);
}

/* --- feeding ---------------------------------------------------------------------------------- */

static gw_err on_line(struct llm_decoder *d, const char *line, size_t len, char *msg, size_t cap)
{
    if (d->p->framing == LLM_FRAMING_NDJSON)
        return nd_line(d, line, len, msg, cap);
    return sse_line(d, line, len, msg, cap);
}

static gw_err fail(struct llm_decoder *d, gw_err rc, char *msg, size_t cap)
{
    d->err = rc;
    snprintf(d->errmsg, sizeof(d->errmsg), "%s", msg && cap ? msg : gw_err_message(rc));
    return rc;
}

gw_err llm_decoder_feed(struct llm_decoder *d, const char *data, size_t len, char *msg, size_t cap)
{
    char local[256];
    if (!msg || !cap) {
        msg = local;
        cap = sizeof(local);
    }
    if (d->err != GW_OK)
        return llm_fail(d->err, msg, cap, "%s", d->errmsg);
    if (d->finished)
        return llm_fail(GW_EINTERNAL, msg, cap, "stream already finished");
    size_t i = 0;
    while (i < len && !d->done) {
        if (d->after_cr) {
            d->after_cr = false;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        const char *p = data + i;
        size_t n = len - i, j = 0;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        if (j == n) { /* no end of line yet: keep the partial line */
            if (gw_buf_append(&d->line, p, n) != GW_OK)
                return fail(d, too_big(msg, cap), msg, cap);
            break;
        }
        d->after_cr = p[j] == '\r';
        gw_err rc;
        if (d->line.len == 0) {
            rc = on_line(d, p, j, msg, cap);
        } else if (gw_buf_append(&d->line, p, j) != GW_OK) {
            rc = too_big(msg, cap);
        } else {
            rc = on_line(d, d->line.data, d->line.len, msg, cap);
            gw_buf_reset(&d->line);
        }
        if (rc != GW_OK)
            return fail(d, rc, msg, cap);
        i += j + 1;
    }
    return GW_OK;
}

gw_err llm_decoder_finish(struct llm_decoder *d, char *msg, size_t cap)
{
    char local[256];
    if (!msg || !cap) {
        msg = local;
        cap = sizeof(local);
    }
    if (d->err != GW_OK)
        return llm_fail(d->err, msg, cap, "%s", d->errmsg);
    if (d->finished)
        return GW_OK;
    d->finished = true;
    /* NDJSON: the last object may lack its newline; it is complete when it parses. */
    if (!d->done && d->p->framing == LLM_FRAMING_NDJSON && d->line.len > 0) {
        char detail[8];
        json_t *v = gw_json_parse(d->line.data, d->line.len, LLM_JSON_DEPTH, detail,
                                  sizeof(detail));
        gw_err rc = GW_OK;
        if (v) /* otherwise a cut line: reported as the truncation it is, below */
            rc = nd_line(d, d->line.data, d->line.len, msg, cap);
        json_decref(v);
        gw_buf_reset(&d->line);
        if (rc != GW_OK)
            return fail(d, rc, msg, cap);
    }
    if (!d->done)
        return fail(d,
                    llm_fail(GW_EUPSTREAM, msg, cap, "upstream stream ended before its end marker"),
                    msg, cap);
    if (d->usage.known) {
        json_t *c = json_object();
        json_object_set_new(c, "id", json_string(d->id));
        json_object_set_new(c, "object", json_string("chat.completion.chunk"));
        json_object_set_new(c, "created", json_integer((json_int_t)d->created));
        json_object_set_new(c, "model", json_string(d->client_model));
        json_object_set_new(c, "choices", json_array());
        json_object_set_new(c, "usage",
                            d->usage_obj ? json_deep_copy(d->usage_obj)
                                         : llm_usage_json(&d->usage));
        gw_err rc = llm_dec_emit(d, c, msg, cap);
        if (rc != GW_OK)
            return fail(d, rc, msg, cap);
    }
    return GW_OK;
}
