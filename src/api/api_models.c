/* SPDX-License-Identifier: MIT
 * api_models.c — models and providers: what calls may use (GET /v1/models, /v1/models/{id} in
 * OpenAI's shape), and their administration at run time (/api/v1/providers, /api/v1/models,
 * an agent's model).
 *
 * The entries live in the model registry (llm/llm_registry.h), which merges gateway.yaml's with
 * those added through here; this file parses, checks who asks, and renders. Administration
 * needs models:admin (models:read to look), is audited durably before each change, never
 * shows an API key (only "set" and its last four characters), and cannot change what the
 * configuration file defines (409). A test call (POST .../test) runs on this worker thread and
 * reports latency and, on failure, what went wrong and what to do.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/log.h"
#include "gov/gov_model.h"
#include "llm/llm_registry.h"
#include "ns/ns.h"

#define MAX_PROBES 8 /* models tested at once for a provider */

static void catalog_release(void *arg)
{
    llm_catalog_unref(arg);
}

/* The current catalog, held by the request. */
static struct llm_catalog *catalog(struct api_call *c)
{
    struct llm_catalog *cat = llm_registry_catalog(c->d->models);
    gw_pool_cleanup_add(c->r->pool, catalog_release, cat);
    return cat;
}

static char *const default_tools[] = {(char *)"memory_read", (char *)"memory_write", NULL};

const struct cfg_agent *api_agent_runner(struct api_call *c, const char *name)
{
    const struct cfg_agent *a = cfg_find_agent(c->gc.cfg, name);
    if (a)
        return a;
    struct llm_catalog *cat = llm_registry_catalog(c->d->models);
    const char *slash = strchr(name, '/');
    const char *model = llm_catalog_agent_model(cat, c->gc.p->tenant, name);
    model = model ? gw_pool_strdup(c->r->pool, model) : NULL;
    llm_catalog_unref(cat);
    struct ns_agent_info info;
    if (!slash || !model)
        return NULL;
    char *ns = gw_pool_strndup(c->r->pool, name, (size_t)(slash - name));
    if (ns_agent_find(c->d->ns, c->gc.p->tenant, ns, slash + 1, c->r->pool, &info) != GW_OK)
        return NULL;
    /* an agent registered through the API: its model, the default prompt and memory tools */
    struct cfg_agent *r = gw_pool_calloc(c->r->pool, sizeof(*r));
    *r = (struct cfg_agent){.name = (char *)info.name,
                            .channel = (char *)info.channel,
                            .memory_path = (char *)info.memory_path,
                            .description = (char *)info.description,
                            .model = (char *)model,
                            .tools = (char **)default_tools,
                            .n_tools = 2};
    return r;
}

/* --- OpenAI's view: what the caller may call ----------------------------------------------- */

static json_t *openai_model(const char *id, const char *owner, const char *kind)
{
    return json_pack("{s:s,s:s,s:i,s:s,s:s}", "id", id, "object", "model", "created", 0, "owned_by",
                     owner, "kind", kind);
}

static void list_one(void *arg, const struct cfg_provider *p, const struct cfg_model *m)
{
    char id[200];
    snprintf(id, sizeof(id), "%s/%s", p->name, m->name);
    json_array_append_new(arg,
                          openai_model(id, p->name, p->self_hosted ? "self_hosted" : "external"));
}

/* The agents of the caller's tenant whose channel the caller may use. */
static size_t reachable_agents(struct api_call *c, struct ns_agent_info **out)
{
    struct ns_agent_info *list = NULL;
    size_t n = 0, k = 0;
    ns_agent_list(c->d->ns, c->gc.p->tenant, NULL, c->r->pool, &list, &n);
    for (size_t i = 0; i < n; i++)
        if (auth_allows_channel(c->gc.p, list[i].ns, list[i].agent))
            list[k++] = list[i];
    *out = list;
    return k;
}

void api_models_list(struct api_call *c)
{
    if (!api_require(c, "models:invoke"))
        return;
    json_t *data = json_array();
    llm_catalog_each_model(catalog(c), c->gc.cfg, c->gc.p->tenant, list_one, data);
    struct ns_agent_info *agents = NULL;
    size_t n = reachable_agents(c, &agents);
    for (size_t i = 0; i < n; i++) {
        const struct cfg_agent *a = api_agent_runner(c, agents[i].name);
        if (a && a->model)
            json_array_append_new(data,
                                  openai_model(gw_pool_printf(c->r->pool, "openclaw/%s", a->name),
                                               "openclaw", "agent"));
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:o}", "object", "list", "data", data));
}

void api_models_get(struct api_call *c)
{
    if (!api_require(c, "models:invoke"))
        return;
    const char *id = c->var[0];
    c->gc.audit.resource = id;
    char msg[400];
    if (!strncmp(id, "openclaw/", 9)) {
        const char *name = id + 9, *slash = strchr(name, '/');
        const struct cfg_agent *a = slash ? api_agent_runner(c, name) : NULL;
        char *ns = slash ? gw_pool_strndup(c->r->pool, name, (size_t)(slash - name)) : NULL;
        if (a && a->model && auth_allows_channel(c->gc.p, ns, slash + 1)) {
            http_respond_json(c->r, 200, openai_model(id, "openclaw", "agent"));
            return;
        }
        http_respond_error(c->r, GW_ENOTFOUND,
                           "The model '%s' does not exist or you do not "
                           "have access to it",
                           id);
        return;
    }
    struct llm_target t;
    if (llm_catalog_find(catalog(c), c->gc.cfg, c->gc.p->tenant, id, &t, msg, sizeof(msg)) !=
        GW_OK) {
        http_respond_error(c->r, GW_ENOTFOUND, "%s", msg);
        return;
    }
    http_respond_json(c->r, 200,
                      openai_model(id, t.provider->name,
                                   t.provider->self_hosted ? "self_hosted" : "external"));
}

/* --- administration views ------------------------------------------------------------------ */

/* What each reachable agent answers with, and from which source; agents_of: model → agents. */
static json_t *agents_json(struct api_call *c, struct llm_catalog *cat, json_t *agents_of)
{
    struct ns_agent_info *agents = NULL;
    size_t n = reachable_agents(c, &agents);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct cfg_agent *a = api_agent_runner(c, agents[i].name);
        const char *model = a ? a->model : NULL;
        char msg[300] = "active";
        struct llm_target t;
        if (!model)
            snprintf(msg, sizeof(msg), "no model: messages are kept in its mailbox");
        else if (llm_catalog_find(cat, c->gc.cfg, c->gc.p->tenant, model, &t, msg, sizeof(msg)) ==
                 GW_OK)
            snprintf(msg, sizeof(msg), "active");
        if (model) {
            json_t *users = json_object_get(agents_of, model);
            if (!users)
                json_object_set_new(agents_of, model, users = json_array());
            json_array_append_new(users, json_string(agents[i].name));
        }
        json_array_append_new(list,
                              json_pack("{s:s,s:s?,s:s,s:s}", "agent", agents[i].name, "model",
                                        model, "source", agents[i].source, "state", msg));
    }
    return list;
}

void api_providers_list(struct api_call *c)
{
    if (!api_require(c, "models:read"))
        return;
    json_t *list = llm_catalog_providers_json(catalog(c), c->gc.cfg, c->gc.p->tenant, NULL);
    http_respond_json(c->r, 200, json_pack("{s:o}", "providers", list));
}

void api_providers_get(struct api_call *c)
{
    if (!api_require(c, "models:read"))
        return;
    c->gc.audit.resource = c->var[0];
    json_t *p = llm_catalog_providers_json(catalog(c), c->gc.cfg, c->gc.p->tenant, c->var[0]);
    if (!p)
        http_respond_error(c->r, GW_ENOTFOUND, "no provider '%s'", c->var[0]);
    else
        http_respond_json(c->r, 200, p);
}

static const char *model_id(struct api_call *c)
{
    return c->gc.audit.resource = gw_pool_printf(c->r->pool, "%s/%s", c->var[0], c->var[1]);
}

void api_catalog_list(struct api_call *c)
{
    if (!api_require(c, "models:read"))
        return;
    struct llm_catalog *cat = catalog(c);
    json_t *agents_of = json_object();
    json_t *agents = agents_json(c, cat, agents_of);
    json_t *models = llm_catalog_models_json(cat, c->gc.cfg, c->gc.p->tenant, NULL, agents_of);
    json_decref(agents_of);
    http_respond_json(c->r, 200, json_pack("{s:o,s:o}", "models", models, "agents", agents));
}

void api_catalog_get(struct api_call *c)
{
    if (!api_require(c, "models:read"))
        return;
    const char *id = model_id(c);
    struct llm_catalog *cat = catalog(c);
    json_t *agents_of = json_object();
    json_decref(agents_json(c, cat, agents_of));
    json_t *m = llm_catalog_models_json(cat, c->gc.cfg, c->gc.p->tenant, id, agents_of);
    json_decref(agents_of);
    if (!m)
        http_respond_error(c->r, GW_ENOTFOUND, "no model '%s'", id);
    else
        http_respond_json(c->r, 200, m);
}

/* --- changes ------------------------------------------------------------------------------- */

/* Checked, audited durably, then applied; answered with the entry as the views show it. */
static void change(struct api_call *c, enum llm_change_kind kind, const char *name, bool with_body)
{
    json_t *body = with_body ? api_json_body(c) : NULL;
    if (with_body && !body)
        return;
    struct llm_change_req rq = {.kind = kind,
                                .tenant = c->gc.p->tenant,
                                .actor = c->gc.p->actor,
                                .name = name,
                                .body = body};
    struct llm_change *ch = NULL;
    json_t *result = NULL;
    char msg[400];
    int status = kind == LLM_PROVIDER_ADD || kind == LLM_MODEL_ADD ? 201 : 200;
    gw_err rc = llm_registry_prepare(c->d->models, c->gc.cfg, &rq, &ch, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    if (!api_audit_sync(c, c->gc.audit.type, llm_change_resource(ch), status,
                        json_deep_copy(llm_change_details(ch))))
        goto out;
    rc = llm_registry_commit(c->d->models, c->gc.cfg, ch, &result, msg, sizeof(msg));
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    http_respond_json(c->r, status, result);
out:
    llm_change_free(ch);
    json_decref(body);
}

void api_providers_add(struct api_call *c)
{
    if (api_require(c, "models:admin"))
        change(c, LLM_PROVIDER_ADD, NULL, true);
}

void api_providers_set(struct api_call *c)
{
    c->gc.audit.resource = c->var[0];
    if (api_require(c, "models:admin"))
        change(c, LLM_PROVIDER_SET, c->var[0], true);
}

void api_providers_remove(struct api_call *c)
{
    c->gc.audit.resource = c->var[0];
    if (api_require(c, "models:admin"))
        change(c, LLM_PROVIDER_REMOVE, c->var[0], false);
}

void api_catalog_add(struct api_call *c)
{
    if (api_require(c, "models:admin"))
        change(c, LLM_MODEL_ADD, NULL, true);
}

void api_catalog_set(struct api_call *c)
{
    const char *id = model_id(c);
    if (api_require(c, "models:admin"))
        change(c, LLM_MODEL_SET, id, true);
}

void api_catalog_remove(struct api_call *c)
{
    const char *id = model_id(c);
    if (api_require(c, "models:admin"))
        change(c, LLM_MODEL_REMOVE, id, false);
}

/* PUT /api/v1/agents/{ns}/{agent}/model: whoever may register the agent may choose its model;
 * the models policy still decides every call it makes. */
void api_agents_model_set(struct api_call *c)
{
    struct ns_agent_info info;
    if (api_runtime_agent(c, "set agents[].model", &info))
        change(c, LLM_AGENT_MODEL, info.name, true);
}

/* --- test calls ---------------------------------------------------------------------------- */

static json_t *probe_json(const struct gov_probe *pr, bool with_answer)
{
    json_t *o = json_pack("{s:s,s:b,s:I}", "model", pr->model, "ok", pr->err == GW_OK, "latency_ms",
                          (json_int_t)pr->latency_ms);
    if (pr->status)
        json_object_set_new(o, "status", json_integer(pr->status));
    if (pr->err != GW_OK) {
        json_object_set_new(o, "error", json_string(pr->error));
        json_object_set_new(o, "code", json_string(gw_err_name(pr->err)));
        if (pr->hint[0])
            json_object_set_new(o, "hint", json_string(pr->hint));
        return o;
    }
    if (with_answer) /* answers are not audited */
        json_object_set_new(o, "answer", json_string(pr->answer));
    json_object_set_new(o, "usage",
                        json_pack("{s:I,s:I,s:b}", "prompt_tokens",
                                  (json_int_t)pr->usage.prompt_tokens, "completion_tokens",
                                  (json_int_t)pr->usage.completion_tokens, "reported",
                                  pr->usage.known));
    json_object_set_new(o, "cost_usd", json_real(pr->cost_usd));
    return o;
}

static void probe(struct api_call *c, const char **ids, size_t n, const char *note)
{
    struct gov_probe *pr = gw_pool_calloc(c->r->pool, (n + 1) * sizeof(*pr));
    for (size_t i = 0; i < n; i++)
        pr[i].model = ids[i];
    gov_model_probe(&c->gc, pr, n);
    json_t *results = json_array(), *audited = json_array();
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        ok &= pr[i].err == GW_OK;
        json_array_append_new(results, probe_json(&pr[i], true));
        json_array_append_new(audited, probe_json(&pr[i], false));
    }
    c->gc.audit.details = json_pack("{s:b,s:o}", "ok", ok, "results", audited);
    http_respond_json(c->r, 200,
                      json_pack("{s:b,s:o,s:s?}", "ok", ok, "results", results, "note", note));
}

void api_providers_test(struct api_call *c)
{
    const char *name = c->gc.audit.resource = c->var[0];
    if (!api_require(c, "models:admin"))
        return;
    json_t *p = llm_catalog_providers_json(catalog(c), c->gc.cfg, c->gc.p->tenant, name);
    const json_t *models = json_object_get(p, "models");
    size_t n = json_array_size(models);
    if (!p || !n) {
        http_respond_error(c->r, p ? GW_ECONFLICT : GW_ENOTFOUND,
                           p ? "provider '%s' has no model to test: add one (`openclaw models "
                               "add %s/<model>`)"
                             : "no provider '%s'",
                           name, name);
        json_decref(p);
        return;
    }
    const char *ids[MAX_PROBES];
    size_t k = n < MAX_PROBES ? n : MAX_PROBES;
    for (size_t i = 0; i < k; i++)
        ids[i] = gw_pool_printf(c->r->pool, "%s/%s", name,
                                json_string_value(json_array_get(models, i)));
    json_decref(p);
    probe(c, ids, k,
          n > k ? gw_pool_printf(c->r->pool,
                                 "the first %d of %zu models were "
                                 "tested",
                                 MAX_PROBES, n)
                : NULL);
}

void api_catalog_test(struct api_call *c)
{
    const char *id = model_id(c);
    if (!api_require(c, "models:admin"))
        return;
    probe(c, &id, 1, NULL);
}
