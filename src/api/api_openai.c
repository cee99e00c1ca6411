/* SPDX-License-Identifier: MIT
 * api_openai.c — the OpenAI-compatible chat: POST /v1/chat/completions (the model list is in
 * api_models.c).
 *
 * A chat request with "model": "<provider>/<model>" is a governed model call (gov_model.h):
 * checked (llm_canon.h), classified (a client may raise the level with
 * X-OpenClaw-Classification, never lower it), routed, redacted, handed to the model client
 * without blocking this thread, and metered. The answer comes back on the I/O thread: complete,
 * or as SSE chunks forwarded as they arrive and closed with "data: [DONE]", each with an id and
 * logged so that the client can resume the stream on any node (api_streams.c). The call's single
 * audit event carries the route, the policy decision, the usage and the cost. "model":
 * "openclaw/<ns>/<agent>" runs a turn of that agent instead (agent/agent.h). Errors use OpenAI's
 * envelope.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "agent/agent.h"
#include "auth/auth.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "gov/gov_model.h"
#include "llm/llm_canon.h"

struct proxy {
    struct api_call *c;
    bool include_usage;     /* the client asked for the usage chunk */
    struct http_stream *hs; /* once the first chunk arrived */
    struct api_sse sse;     /* its ids and its log (api_streams.c) */
    bool stream_failed;     /* the client went away or read too slowly */
    const char *headers[3];
};

/* --- answers, on the I/O thread ------------------------------------------------------------- */

/* One event; once the client is gone it is still logged, for a resume. */
static void stream_write(struct proxy *px, const char *frame, bool last)
{
    if (api_sse_send(&px->sse, px->hs, frame, last) != GW_OK)
        px->stream_failed = true;
}

static void stream_event(struct proxy *px, const json_t *v, bool last)
{
    char *text = gw_json_compact(v);
    char *frame = gw_xasprintf("data: %s\n\n", text);
    stream_write(px, frame, last);
    free(frame);
    free(text);
}

static void stream_open(struct proxy *px, const char *id)
{
    px->hs = http_stream_open(px->c->r, 200, "text/event-stream", px->headers);
    http_async_finish(px->c->r); /* the request stays held by the proxy until done */
    api_sse_begin(&px->sse, px->c, id);
}

static int proxy_chunk(void *arg, json_t *chunk)
{
    struct proxy *px = arg;
    if (!px->hs)
        stream_open(px, json_string_value(json_object_get(chunk, "id")));
    bool usage_only = json_array_size(json_object_get(chunk, "choices")) == 0 &&
                      json_object_get(chunk, "usage");
    if (!usage_only || px->include_usage)
        stream_event(px, chunk, false);
    return px->stream_failed && !px->sse.keep ? 1 : 0;
}

static void proxy_done(void *arg, struct gov_model *m, const struct llm_result *res)
{
    struct proxy *px = arg;
    struct api_call *c = px->c;
    struct http_req *r = c->r;
    json_object_set_new(m->details, "stream", json_boolean(px->hs != NULL));
    json_decref(c->gc.audit.details);
    c->gc.audit.details = m->details;
    m->details = NULL;
    if (px->hs) {
        if (res->err == GW_OK) {
            stream_write(px, "data: [DONE]\n\n", true);
        } else {
            json_t *e = json_pack("{s:{s:s,s:s,s:s}}", "error", "message", res->msg, "type",
                                  "api_error", "code", gw_err_name(res->err));
            stream_event(px, e, true);
            json_decref(e);
        }
        r->status = res->err == GW_OK ? 200 : gw_err_http_status(res->err);
        http_stream_close(px->hs, true); /* an error is told by the event above */
        api_sse_end(&px->sse);
    } else if (res->err != GW_OK) {
        char retry[48];
        snprintf(retry, sizeof(retry), "Retry-After: %u", res->retry_after_s);
        const char *hdrs[] = {res->err == GW_ETHROTTLED ? retry : NULL, NULL};
        http_respond_error_h(r, res->err, hdrs, "%s", res->msg);
        http_async_finish(r);
    } else if (res->response) {
        char *text = gw_json_compact(res->response);
        http_respond(r, 200, "application/json", text, strlen(text), px->headers);
        free(text);
        http_async_finish(r);
    } else { /* a stream that ended without a chunk */
        stream_open(px, NULL);
        stream_write(px, "data: [DONE]\n\n", true);
        http_stream_close(px->hs, true);
        api_sse_end(&px->sse);
    }
    http_req_release(r); /* the proxy's hold */
}

/* --- the request ---------------------------------------------------------------------------- */

static const char *workspace_of(struct api_call *c)
{
    const char *w = http_header(c->r, "X-OpenClaw-Workspace");
    if (w)
        return cfg_name_valid(w) && auth_allows_namespace(c->gc.p, w) ? w : NULL;
    return c->gc.p->team ? c->gc.p->team : "default";
}

static void chat_on_worker(struct http_req *r, void *arg)
{
    GW_UNUSED(r);
    api_chat_completions(arg);
}

void api_chat_completions(struct api_call *c)
{
    if (!api_require(c, "models:invoke"))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    char msg[POL_REASON_MAX + 200];
    if (llm_canon_check(body, msg, sizeof(msg)) != GW_OK) {
        http_respond_error(c->r, GW_EINVAL, "%s", msg);
        goto out;
    }
    const char *model = json_string_value(json_object_get(body, "model"));
    const char *agent = agent_model_name(model);
    if (agent) {
        if (http_on_worker(c->r)) /* a turn waits for the model: not on the event loop */
            api_agent_chat_openai(c, body, agent);
        else
            http_run_blocking(c->r, chat_on_worker, c);
        goto out;
    }
    const char *hdr = http_header(c->r, "X-OpenClaw-Classification");
    if (hdr && pol_level_parse(hdr) < 0) {
        http_respond_error(c->r, GW_EINVAL,
                           "X-OpenClaw-Classification must be public, "
                           "internal, confidential or restricted");
        goto out;
    }
    struct proxy *px = gw_pool_calloc(c->r->pool, sizeof(*px));
    px->c = c;
    const char *workspace = workspace_of(c);
    if (!workspace) {
        http_respond_error(c->r, GW_EFORBIDDEN,
                           "X-OpenClaw-Workspace names a workspace this "
                           "token has no access to");
        goto out;
    }
    c->gc.audit.resource = gw_pool_strdup(c->r->pool, model);
    bool stream = json_is_true(json_object_get(body, "stream"));
    px->include_usage = json_is_true(
        json_object_get(json_object_get(body, "stream_options"), "include_usage"));
    struct gov_model_req rq = {
        .model = model,
        .canon = body,
        .floor = hdr ? pol_level_parse(hdr) : -1,
        .workspace = workspace,
        .stream = stream,
        .prompt_bytes = c->r->body.len,
        .on_chunk = proxy_chunk,
        .arg = px,
    };
    struct gov_model *m = NULL;
    gw_err rc = gov_model_prepare(&c->gc, &rq, &m, msg, sizeof(msg));
    if (m->route.classification >= 0)
        c->gc.audit.classification = pol_level_name(m->route.classification);
    if (rc != GW_OK) {
        c->gc.audit.details = m->details;
        m->details = NULL;
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    size_t h = 0;
    px->headers[h++] = gw_pool_printf(c->r->pool, "X-OpenClaw-Model: %s", m->route.routed);
    if (m->route.rerouted)
        px->headers[h++] = gw_pool_printf(c->r->pool, "X-OpenClaw-Rerouted: %s -> %s",
                                          m->route.requested, m->route.routed);
    /* answered from the I/O thread: the connection waits suspended, the request held */
    http_async_begin(c->r);
    http_req_hold(c->r); /* the proxy's own hold, released in proxy_done */
    gov_model_submit(m, proxy_done, px);
out:
    json_decref(body);
}
