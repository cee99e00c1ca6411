/* SPDX-License-Identifier: MIT
 * gov_model.c — the governed model call (the steps are in gov_model.h).
 */
#include "base/prelude.h"
#include "gov/gov_model.h"
#include "gov/gov_int.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/util.h"
#include "llm/llm_canon.h"
#include "meter/meter.h"

#define CLASSIFY_MAX_BYTES ((size_t)4 << 20)

/* The detectors' level of the whole request, raised to the floor. */
static int classify(const struct gov_model_req *rq)
{
    struct gw_buf text;
    gw_buf_init(&text, CLASSIFY_MAX_BYTES);
    llm_canon_text(rq->canon, &text);
    int level = pol_classify_text(text.data ? text.data : "", text.len);
    gw_buf_release(&text);
    if (rq->floor > level)
        return rq->floor;
    /* nothing found and nothing declared: the policy's data.default_classification applies */
    return level == POL_LEVEL_PUBLIC && rq->floor < 0 ? POL_LEVEL_UNKNOWN : level;
}

static void release(void *arg)
{
    struct gov_model *m = arg;
    json_decref(m->canon);
    json_decref(m->details);
}

gw_err gov_model_prepare(struct gov_call *gc, const struct gov_model_req *rq,
                         struct gov_model **out, char *msg, size_t cap)
{
    struct gov_model *m = gw_pool_calloc(gc->pool, sizeof(*m));
    gw_pool_cleanup_add(gc->pool, release, m);
    *out = m;
    m->gc = gc;
    m->rq = *rq;
    m->rq.workspace = gw_pool_strdup(gc->pool, rq->workspace);
    m->rq.agent = gw_pool_strdup(gc->pool, rq->agent);
    m->rq.client_model = gw_pool_strdup(gc->pool, rq->client_model);
    m->rq.canon = NULL; /* m->canon is what is sent */
    gw_err rc = gov_model_route(gc, rq->model, classify(rq), rq->workspace, &m->route, msg, cap);
    m->details = gov_route_details(&m->route);
    json_object_set_new(m->details, "workspace", json_string(rq->workspace));
    if (rc != GW_OK)
        return rc;
    if (m->route.decision.ob.redact) { /* the policy masks findings before data leaves */
        m->canon = json_deep_copy(rq->canon);
        m->route.redacted = llm_canon_redact(m->canon);
        json_object_set_new(m->details, "redacted", json_integer((json_int_t)m->route.redacted));
    } else {
        m->canon = json_incref(rq->canon);
    }
    return GW_OK;
}

/* The model client has one argument for both callbacks: the call, which forwards chunks to
 * the door. */
static int on_chunk(void *arg, json_t *chunk)
{
    struct gov_model *m = arg;
    return m->rq.on_chunk ? m->rq.on_chunk(m->rq.arg, chunk) : 0;
}

static struct llm_request request_of(struct gov_model *m)
{
    const struct auth_principal *p = m->gc->p;
    return (struct llm_request){
        .cfg = m->gc->cfg,
        .catalog = m->route.catalog,
        .canon = m->canon,
        .stream = m->rq.stream,
        .targets = m->route.targets,
        .n_targets = m->route.n_targets,
        .tenant = p->tenant,
        .user = p->user ? p->user : p->actor,
        .client_model = m->rq.client_model ? m->rq.client_model : m->route.routed,
        .prompt_bytes = m->rq.prompt_bytes,
        .on_chunk = on_chunk,
        .arg = m,
    };
}

/* Usage and cost against the workspace, once, when the call produced something. */
static void meter(struct gov_model *m, const struct llm_result *res)
{
    struct gov_call *gc = m->gc;
    json_object_set_new(m->details, "attempts", json_integer(res->attempts));
    json_object_set_new(m->details, "queued_ms", json_integer(res->queued_ms));
    if (res->err != GW_OK)
        json_object_set_new(m->details, "error", json_string(res->msg));
    if (!res->served || res->attempts == 0)
        return;
    json_object_set_new(m->details, "served_by",
                        json_sprintf("%s/%s", res->served->provider->name,
                                     res->served->model->name));
    if (res->err != GW_OK && !res->streamed)
        return; /* nothing was produced: nothing to pay */
    const struct auth_principal *p = gc->p;
    struct meter_usage u = {
        .tenant = p->tenant,
        .user = p->user ? p->user : p->actor,
        .workspace = m->rq.workspace,
        .agent = m->rq.agent,
        .provider = res->served->provider->name,
        .model = res->served->model->name,
        .price = res->served->model,
        .prompt_tokens = res->usage.prompt_tokens,
        .completion_tokens = res->usage.completion_tokens,
        .at_ms = gw_now_ms(),
        .request_id = gc->request_id,
    };
    struct meter *costs = gc->gov->d.costs;
    m->cost_usd = costs ? meter_record(costs, &u) : 0;
    m->usage = res->usage;
    json_object_set_new(m->details, "usage",
                        json_pack("{s:I,s:I,s:b}", "prompt_tokens", (json_int_t)u.prompt_tokens,
                                  "completion_tokens", (json_int_t)u.completion_tokens, "reported",
                                  res->usage.known));
    json_object_set_new(m->details, "cost_usd", json_real(m->cost_usd));
}

/* A failed call's message also names the configured fallbacks that were not tried. */
static const struct llm_result *explained(const struct gov_model *m, const struct llm_result *res,
                                          struct llm_result *copy)
{
    if (res->err == GW_OK || res->err == GW_ECANCELED || !m->route.skipped)
        return res;
    *copy = *res;
    snprintf(copy->msg, sizeof(copy->msg), "%.300s; fallbacks not tried: %s", res->msg,
             m->route.skipped);
    return copy;
}

static void on_done(void *arg, const struct llm_result *res)
{
    struct gov_model *m = arg;
    struct llm_result copy;
    res = explained(m, res, &copy);
    meter(m, res);
    m->done(m->done_arg, m, res);
}

void gov_model_submit(struct gov_model *m,
                      void (*done)(void *arg, struct gov_model *m, const struct llm_result *res),
                      void *done_arg)
{
    m->done = done;
    m->done_arg = done_arg;
    struct llm_request lr = request_of(m);
    lr.on_done = on_done;
    llm_exchange_unref(llm_submit(m->gc->gov->d.llm, &lr));
}

gw_err gov_model_wait(struct gov_model *m, const atomic_bool *cancel, json_t **response, char *msg,
                      size_t cap)
{
    struct llm_request lr = request_of(m);
    struct llm_result res;
    struct llm_result copy;
    gw_err rc = llm_call(m->gc->gov->d.llm, &lr, cancel, &res, response);
    const struct llm_result *r = explained(m, &res, &copy);
    meter(m, r);
    if (rc != GW_OK)
        snprintf(msg, cap, "%s", r->msg);
    return rc;
}
