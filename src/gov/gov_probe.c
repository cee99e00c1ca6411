/* SPDX-License-Identifier: MIT
 * gov_probe.c — a test call to a model (`openclaw models test`): does the provider answer, how
 * fast, and if not, why in words an operator can act on.
 *
 * The call goes the way every call goes (the provider's fair scheduler, its wire format, the
 * egress policy), but with a copy of the provider's settings that has no retries and no
 * fallbacks and waits at most 30 s, so the result is about this one model. It carries a fixed
 * line, never data of the caller's, so there is nothing to classify and no policy to ask; it is
 * metered like any call, so tests are not free spending.
 */
#include "base/prelude.h"
#include "gov/gov_model.h"
#include "gov/gov_int.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "llm/llm_registry.h"
#include "meter/meter.h"
#include "net/net.h"

#include <pthread.h>

#define PROBE_TIMEOUT_MS 30000u
#define PROBE_PROMPT "Reply with the single word OK."

struct probe_run {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    size_t pending;
    struct gov_call *gc;
    const char *workspace;
};

struct probe_slot {
    struct probe_run *run;
    struct gov_probe *pr;
    struct cfg_provider prov; /* a shallow copy with the test's settings */
    struct llm_target target;
    int64_t started_ns;
};

/* What an operator can do about a failure. */
static void hint(struct gov_probe *pr, const struct llm_result *res, const struct llm_target *t)
{
    const struct cfg_provider *p = t->provider;
    const char *up = t->model->upstream ? t->model->upstream : t->model->name;
    size_t cap = sizeof(pr->hint);
    if (strstr(res->msg, "egress policy"))
        snprintf(pr->hint, cap,
                 "the gateway's egress policy does not let it connect there: "
                 "allow the host in gateway.yaml (egress.allow, or egress.allow_private for "
                 "private addresses) and reload");
    else if (res->status == 401 || res->status == 403)
        snprintf(pr->hint, cap,
                 "the provider refused the credentials: check the API key "
                 "(`openclaw providers set %s --api-key-file FILE`)",
                 p->name);
    else if (res->status == 404)
        snprintf(pr->hint, cap,
                 "the server has no such endpoint or model: check base_url "
                 "(OpenAI-compatible servers usually end in /v1) and the upstream name '%s'",
                 up);
    else if (res->status == 429)
        snprintf(pr->hint, cap,
                 "the provider is limiting this key's rate: try again later or "
                 "raise the key's quota");
    else if (res->status >= 500)
        snprintf(pr->hint, cap, "the provider is failing (HTTP %ld): try again later", res->status);
    else if (res->status >= 400)
        snprintf(pr->hint, cap,
                 "the provider refused the request: check the model's upstream "
                 "name '%s' and the api (%s)",
                 up,
                 p->api == CFG_LLM_ANTHROPIC ? "anthropic"
                 : p->api == CFG_LLM_OLLAMA  ? "ollama"
                                             : "openai");
    else if (res->failure == NET_FAIL_RESOLVE)
        snprintf(pr->hint, cap, "the host name of base_url does not resolve: check the address");
    else if (res->failure == NET_FAIL_CONNECT)
        snprintf(pr->hint, cap,
                 "nothing accepts connections at base_url: is the server "
                 "running, and are the host and port right?");
    else if (res->failure == NET_FAIL_TLS_VERIFY)
        snprintf(pr->hint, cap, "the server's TLS certificate is not trusted by this machine");
    else if (res->failure == NET_FAIL_TLS_HANDSHAKE)
        snprintf(pr->hint, cap,
                 "TLS failed: does this port speak https? (http:// for a plain "
                 "server)");
    else if (res->err == GW_EUPTIMEOUT || res->failure == NET_FAIL_TIMEOUT)
        snprintf(pr->hint, cap,
                 "no answer within %u ms: is the server overloaded, or the "
                 "address one that drops connections?",
                 t->provider->timeout_ms);
    else if (res->failure == NET_FAIL_NO_ANSWER || strstr(res->msg, "closed the connection"))
        snprintf(pr->hint, cap,
                 "the server closed the connection without an answer: is it the "
                 "right port and protocol?");
    else if (strstr(res->msg, "invalid answer"))
        snprintf(pr->hint, cap,
                 "the server does not answer in the format of api '%s': check "
                 "the provider's api and base_url",
                 p->api == CFG_LLM_ANTHROPIC ? "anthropic"
                 : p->api == CFG_LLM_OLLAMA  ? "ollama"
                                             : "openai");
    else if (res->err == GW_ETHROTTLED)
        snprintf(pr->hint, cap,
                 "this gateway's limits for the provider are full "
                 "(limits.max_concurrent, rpm, tpm): try again in a moment");
}

static void record(struct probe_slot *s, const struct llm_result *res)
{
    struct gov_probe *pr = s->pr;
    struct gov_call *gc = s->run->gc;
    pr->err = res->err;
    pr->status = res->status;
    pr->usage = res->usage;
    if (res->err != GW_OK) {
        snprintf(pr->error, sizeof(pr->error), "%s", res->msg);
        hint(pr, res, &s->target);
        return;
    }
    const json_t *m = json_object_get(json_array_get(json_object_get(res->response, "choices"), 0),
                                      "message");
    const char *text = json_string_value(json_object_get(m, "content"));
    snprintf(pr->answer, sizeof(pr->answer), "%s", text ? text : "");
    struct meter *costs = gc->gov->d.costs;
    const struct auth_principal *p = gc->p;
    struct meter_usage u = {
        .tenant = p->tenant,
        .user = p->user ? p->user : p->actor,
        .workspace = s->run->workspace,
        .provider = s->target.provider->name,
        .model = s->target.model->name,
        .price = s->target.model,
        .prompt_tokens = res->usage.prompt_tokens,
        .completion_tokens = res->usage.completion_tokens,
        .at_ms = gw_now_ms(),
        .request_id = gc->request_id,
    };
    pr->cost_usd = costs ? meter_record(costs, &u) : 0;
}

/* On the model client's thread. */
static void probe_done(void *arg, const struct llm_result *res)
{
    struct probe_slot *s = arg;
    s->pr->latency_ms = (gw_mono_ns() - s->started_ns) / 1000000;
    record(s, res);
    pthread_mutex_lock(&s->run->lock);
    s->run->pending--;
    pthread_cond_signal(&s->run->cv);
    pthread_mutex_unlock(&s->run->lock);
}

void gov_model_probe(struct gov_call *gc, struct gov_probe *probes, size_t n)
{
    const struct gov_deps *d = &gc->gov->d;
    struct llm_catalog *cat = d->models ? llm_registry_catalog(d->models) : NULL;
    struct probe_slot *slots = gw_xcalloc(n + 1, sizeof(*slots));
    struct probe_run run = {.gc = gc, .workspace = gc->p->team ? gc->p->team : "default"};
    pthread_mutex_init(&run.lock, NULL);
    gw_cond_init_mono(&run.cv);
    for (size_t i = 0; i < n; i++) {
        struct probe_slot *s = &slots[i];
        struct gov_probe *pr = &probes[i];
        *s = (struct probe_slot){.run = &run, .pr = pr};
        pr->err = llm_catalog_find_any(cat, gc->cfg, gc->p->tenant, pr->model, &s->target,
                                       pr->error, sizeof(pr->error));
        if (pr->err != GW_OK)
            continue;
        s->prov = *s->target.provider;
        s->prov.retries = 0;
        s->prov.fallback = NULL;
        s->prov.n_fallback = 0;
        if (s->prov.timeout_ms > PROBE_TIMEOUT_MS)
            s->prov.timeout_ms = PROBE_TIMEOUT_MS;
        s->target.provider = &s->prov;
        pthread_mutex_lock(&run.lock);
        run.pending++;
        pthread_mutex_unlock(&run.lock);
    }
    for (size_t i = 0; i < n; i++) {
        struct probe_slot *s = &slots[i];
        if (!s->target.provider)
            continue;
        json_t *canon = json_pack("{s:s,s:[{s:s,s:s}],s:i}", "model", s->pr->model, "messages",
                                  "role", "user", "content", PROBE_PROMPT, "max_tokens", 16);
        struct llm_request rq = {
            .cfg = gc->cfg,
            .catalog = cat,
            .canon = canon,
            .targets = &s->target,
            .n_targets = 1,
            .tenant = gc->p->tenant,
            .user = gc->p->user ? gc->p->user : gc->p->actor,
            .client_model = s->pr->model,
            .on_done = probe_done,
            .arg = s,
        };
        s->started_ns = gw_mono_ns();
        llm_exchange_unref(llm_submit(d->llm, &rq));
        json_decref(canon);
    }
    pthread_mutex_lock(&run.lock);
    while (run.pending)
        gw_cond_wait_until(&run.cv, &run.lock, gw_mono_ns() + (int64_t)1000000000);
    pthread_mutex_unlock(&run.lock);
    pthread_cond_destroy(&run.cv);
    pthread_mutex_destroy(&run.lock);
    free(slots);
    llm_catalog_unref(cat);
}
