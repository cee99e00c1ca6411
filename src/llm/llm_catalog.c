/* SPDX-License-Identifier: MIT
 * llm_catalog.c — the immutable view of the run-time providers, models and agents' models, and
 * the one lookup that merges it with the configuration (the rules are in llm_registry.h).
 *
 * A catalog owns the store's rows it was built from (sorted, searched by bisection) and the
 * struct cfg_provider / cfg_model parsed from them, so a call's targets may point into it for
 * as long as the call holds a reference. A stored provider that no longer passes validation
 * (written by a newer binary, edited by hand) stays visible with the reason, and serves
 * nothing.
 */
#include "base/prelude.h"
#include "llm/llm_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "policy/policy.h"

#include <stdlib.h>

/* --- building ------------------------------------------------------------------------------ */

static int prov_cmp(const void *a, const void *b)
{
    const struct store_model_provider *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    return c ? c : strcmp(x->name, y->name);
}

static int model_cmp(const void *a, const void *b)
{
    const struct store_model_entry *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    c = c ? c : strcmp(x->provider, y->provider);
    return c ? c : strcmp(x->name, y->name);
}

static int agent_cmp(const void *a, const void *b)
{
    const struct store_agent_model *x = a, *y = b;
    int c = strcmp(x->tenant, y->tenant);
    return c ? c : strcmp(x->agent, y->agent);
}

static void parse_provider(const struct store_model_provider *row, struct llm_rt_provider *rp)
{
    char msg[160] = "";
    rp->row = row;
    json_t *spec = gw_json_parse(row->spec, strlen(row->spec), 8, msg, sizeof(msg));
    rp->valid = spec && llm_spec_provider(spec, NULL, &rp->p, msg, sizeof(msg)) == GW_OK;
    json_decref(spec);
    if (!rp->valid) {
        snprintf(rp->why, sizeof(rp->why), "%s", msg);
        gw_warn("models: stored provider %s of tenant %s cannot be used: %s", row->name,
                row->tenant, msg);
    }
    rp->p.name = gw_xstrdup(row->name);
    rp->p.api_key = row->api_key ? gw_xstrdup(row->api_key) : NULL;
}

struct llm_catalog *llm_catalog_new(struct store_model_provider *prow, size_t n_prov,
                                    struct store_model_entry *mrow, size_t n_models,
                                    struct store_agent_model *arow, size_t n_agents)
{
    struct llm_catalog *cat = gw_xcalloc(1, sizeof(*cat));
    if (n_prov)
        qsort(prow, n_prov, sizeof(*prow), prov_cmp);
    if (n_models)
        qsort(mrow, n_models, sizeof(*mrow), model_cmp);
    if (n_agents)
        qsort(arow, n_agents, sizeof(*arow), agent_cmp);
    *cat = (struct llm_catalog){.prow = prow,
                                .n_prov = n_prov,
                                .mrow = mrow,
                                .n_models = n_models,
                                .arow = arow,
                                .n_agents = n_agents};
    atomic_init(&cat->refs, 1);
    cat->prov = gw_xcalloc(n_prov + 1, sizeof(*cat->prov));
    for (size_t i = 0; i < n_prov; i++)
        parse_provider(&prow[i], &cat->prov[i]);
    cat->models = gw_xcalloc(n_models + 1, sizeof(*cat->models));
    for (size_t i = 0; i < n_models; i++)
        cat->models[i] = (struct llm_rt_model){.row = &mrow[i],
                                               .m = {.name = gw_xstrdup(mrow[i].name),
                                                     .upstream = gw_xstrdup(mrow[i].upstream),
                                                     .input_per_mtok = mrow[i].input_per_mtok,
                                                     .output_per_mtok = mrow[i].output_per_mtok}};
    return cat;
}

struct llm_catalog *llm_catalog_ref(struct llm_catalog *cat)
{
    if (cat)
        atomic_fetch_add_explicit(&cat->refs, 1, memory_order_relaxed);
    return cat;
}

void llm_catalog_unref(struct llm_catalog *cat)
{
    if (!cat || atomic_fetch_sub_explicit(&cat->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < cat->n_prov; i++)
        llm_spec_provider_release(&cat->prov[i].p);
    for (size_t i = 0; i < cat->n_models; i++)
        llm_spec_model_release(&cat->models[i].m);
    free(cat->prov);
    free(cat->models);
    store_model_providers_free(cat->prow, cat->n_prov);
    store_model_entries_free(cat->mrow, cat->n_models);
    store_agent_models_free(cat->arow, cat->n_agents);
    free(cat);
}

/* --- lookups ------------------------------------------------------------------------------- */

const struct llm_rt_provider *llm_catalog_provider(const struct llm_catalog *cat,
                                                   const char *tenant, const char *name)
{
    if (!cat || !cat->n_prov)
        return NULL;
    struct store_model_provider key = {.tenant = (char *)tenant, .name = (char *)name};
    const struct store_model_provider *r = bsearch(&key, cat->prow, cat->n_prov, sizeof(*cat->prow),
                                                   prov_cmp);
    return r ? &cat->prov[r - cat->prow] : NULL;
}

const struct llm_rt_model *llm_catalog_model(const struct llm_catalog *cat, const char *tenant,
                                             const char *provider, const char *name)
{
    if (!cat || !cat->n_models)
        return NULL;
    struct store_model_entry key = {.tenant = (char *)tenant,
                                    .provider = (char *)provider,
                                    .name = (char *)name};
    const struct store_model_entry *r = bsearch(&key, cat->mrow, cat->n_models, sizeof(*cat->mrow),
                                                model_cmp);
    return r ? &cat->models[r - cat->mrow] : NULL;
}

const char *llm_catalog_agent_model(const struct llm_catalog *cat, const char *tenant,
                                    const char *agent)
{
    if (!cat || !cat->n_agents || !tenant || !agent)
        return NULL;
    struct store_agent_model key = {.tenant = (char *)tenant, .agent = (char *)agent};
    const struct store_agent_model *r = bsearch(&key, cat->arow, cat->n_agents, sizeof(*cat->arow),
                                                agent_cmp);
    return r ? r->model : NULL;
}

void llm_catalog_counts(const struct llm_catalog *cat, const char *tenant, size_t *providers,
                        size_t *models)
{
    *providers = *models = 0;
    for (size_t i = 0; cat && i < cat->n_prov; i++)
        *providers += !strcmp(cat->prow[i].tenant, tenant);
    for (size_t i = 0; cat && i < cat->n_models; i++)
        *models += !strcmp(cat->mrow[i].tenant, tenant);
}

static const struct cfg_model *config_model(const struct cfg_provider *p, const char *name)
{
    for (size_t i = 0; i < p->n_models; i++)
        if (!strcmp(p->models[i].name, name))
            return &p->models[i];
    return NULL;
}

/* disabled: a disabled provider or model is found too (a test before enabling it). */
static gw_err lookup(const struct llm_catalog *cat, const struct cfg *cfg, const char *tenant,
                     const char *id, bool disabled, struct llm_target *out, char *msg, size_t cap)
{
    char pn[64], mn[129];
    *out = (struct llm_target){0};
    if (!llm_spec_split_id(id, pn, sizeof(pn), mn, sizeof(mn))) {
        snprintf(msg, cap, "model '%.256s' is not configured (GET /v1/models lists the models)",
                 id ? id : "");
        return GW_ENOTFOUND;
    }
    const struct cfg_provider *cp = cfg_find_provider(cfg, pn);
    const struct llm_rt_provider *rp = cp ? NULL : llm_catalog_provider(cat, tenant, pn);
    const struct cfg_model *cm = cp ? config_model(cp, mn) : NULL;
    const struct llm_rt_model *rm = cm ? NULL : llm_catalog_model(cat, tenant, pn, mn);
    if (cm) {
        *out = (struct llm_target){.provider = cp, .model = cm};
        return GW_OK;
    }
    if (!rm) {
        snprintf(msg, cap, "model '%s' is not configured (GET /v1/models lists the models)", id);
        return GW_ENOTFOUND;
    }
    if (!cp && !rp)
        snprintf(msg, cap,
                 "model '%s' is not served: its provider '%s' is no longer "
                 "configured",
                 id, pn);
    else if (rp && !rp->row->enabled && !disabled)
        snprintf(msg, cap,
                 "model '%s' is not served: provider '%s' is disabled (`openclaw "
                 "providers enable %s`)",
                 id, pn, pn);
    else if (rp && !rp->valid)
        snprintf(msg, cap, "model '%s' is not served: provider '%s' is invalid (%s)", id, pn,
                 rp->why);
    else if (!rm->row->enabled && !disabled)
        snprintf(msg, cap, "model '%s' is disabled (`openclaw models enable %s`)", id, id);
    else {
        *out = (struct llm_target){.provider = cp ? cp : &rp->p,
                                   .model = &rm->m,
                                   .tenant = rp ? rp->row->tenant : NULL};
        return GW_OK;
    }
    return GW_ENOTFOUND;
}

gw_err llm_catalog_find(const struct llm_catalog *cat, const struct cfg *cfg, const char *tenant,
                        const char *id, struct llm_target *out, char *msg, size_t cap)
{
    return lookup(cat, cfg, tenant, id, false, out, msg, cap);
}

gw_err llm_catalog_find_any(const struct llm_catalog *cat, const struct cfg *cfg,
                            const char *tenant, const char *id, struct llm_target *out, char *msg,
                            size_t cap)
{
    return lookup(cat, cfg, tenant, id, true, out, msg, cap);
}

void llm_catalog_each_model(const struct llm_catalog *cat, const struct cfg *cfg,
                            const char *tenant, llm_model_fn *fn, void *arg)
{
    for (size_t i = 0; i < cfg->n_providers; i++)
        for (size_t j = 0; j < cfg->providers[i].n_models; j++)
            fn(arg, &cfg->providers[i], &cfg->providers[i].models[j]);
    for (size_t i = 0; cat && i < cat->n_models; i++) {
        const struct store_model_entry *row = &cat->mrow[i];
        char id[200];
        struct llm_target t;
        char msg[8];
        snprintf(id, sizeof(id), "%s/%s", row->provider, row->name);
        if (!strcmp(row->tenant, tenant) &&
            llm_catalog_find(cat, cfg, tenant, id, &t, msg, sizeof(msg)) == GW_OK)
            fn(arg, t.provider, t.model);
    }
}

size_t llm_catalog_urls(const struct llm_catalog *cat, const char *tenant, const char **out,
                        size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; cat && i < cat->n_prov; i++) {
        const struct llm_rt_provider *rp = &cat->prov[i];
        if (strcmp(rp->row->tenant, tenant) != 0 || !rp->valid || !rp->row->enabled)
            continue;
        if (n < cap)
            out[n] = rp->p.base_url;
        n++;
    }
    return n;
}

/* --- administration views ------------------------------------------------------------------ */

json_t *llm_secret_json(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (!n)
        return json_pack("{s:b}", "set", false);
    /* the tail of a short key would be much of it */
    return n >= 12 ? json_pack("{s:b,s:s}", "set", true, "last4", key + n - 4)
                   : json_pack("{s:b}", "set", true);
}

/* Who added or last changed a run-time entry, and when. */
static void add_meta(json_t *o, const char *created_by, int64_t created_ms, const char *updated_by,
                     int64_t updated_ms)
{
    json_object_set_new(o, "created_by", created_by ? json_string(created_by) : json_null());
    json_object_set_new(o, "created_at", gw_json_time(created_ms));
    json_object_set_new(o, "updated_by", updated_by ? json_string(updated_by) : json_null());
    json_object_set_new(o, "updated_at", gw_json_time(updated_ms));
}

static json_t *provider_json(const struct llm_catalog *cat, const struct cfg_provider *p,
                             const struct llm_rt_provider *rp, const char *tenant)
{
    json_t *o = llm_spec_provider_json(p);
    json_t *models = json_array();
    for (size_t j = 0; j < p->n_models; j++)
        json_array_append_new(models, json_string(p->models[j].name));
    for (size_t i = 0; cat && i < cat->n_models; i++)
        if (!strcmp(cat->mrow[i].tenant, tenant) && !strcmp(cat->mrow[i].provider, p->name))
            json_array_append_new(models, json_string(cat->mrow[i].name));
    const char *state = !rp                ? "active"
                        : !rp->valid       ? "invalid"
                        : rp->row->enabled ? "active"
                                           : "disabled";
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "source", json_string(rp ? "api" : "config"));
    json_object_set_new(o, "api_key", llm_secret_json(p->api_key));
    json_object_set_new(o, "enabled", json_boolean(!rp || rp->row->enabled));
    json_object_set_new(o, "state", json_string(state));
    if (rp && !rp->valid)
        json_object_set_new(o, "problem", json_string(rp->why));
    json_object_set_new(o, "models", models);
    if (rp)
        add_meta(o, rp->row->created_by, rp->row->created_ms, rp->row->updated_by,
                 rp->row->updated_ms);
    return o;
}

json_t *llm_catalog_providers_json(const struct llm_catalog *cat, const struct cfg *cfg,
                                   const char *tenant, const char *name)
{
    json_t *list = json_array();
    for (size_t i = 0; i < cfg->n_providers; i++)
        if (!name || !strcmp(cfg->providers[i].name, name))
            json_array_append_new(list, provider_json(cat, &cfg->providers[i], NULL, tenant));
    for (size_t i = 0; cat && i < cat->n_prov; i++) {
        const struct llm_rt_provider *rp = &cat->prov[i];
        if (!strcmp(rp->row->tenant, tenant) && (!name || !strcmp(rp->row->name, name)))
            json_array_append_new(list, provider_json(cat, &rp->p, rp, tenant));
    }
    if (!name)
        return list;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    return one;
}

static json_t *model_json(const struct cfg_provider *p, const struct cfg_model *m, const char *id,
                          const char *source, const char *provider_source, bool enabled,
                          const char *state, const json_t *agents_of)
{
    json_t *agents = json_object_get(agents_of, id);
    return json_pack("{s:s,s:s,s:s,s:s,s:f,s:f,s:s,s:s,s:s?,s:b,s:s,s:o}", "id", id, "provider",
                     p ? p->name : "", "name", m->name, "upstream",
                     m->upstream ? m->upstream : m->name, "input_per_mtok", m->input_per_mtok,
                     "output_per_mtok", m->output_per_mtok, "source", source, "provider_source",
                     provider_source, "kind",
                     p ? (p->self_hosted ? "self_hosted" : "external") : NULL, "enabled", enabled,
                     "state", state, "agents", agents ? json_incref(agents) : json_array());
}

json_t *llm_catalog_models_json(const struct llm_catalog *cat, const struct cfg *cfg,
                                const char *tenant, const char *id, const json_t *agents_of)
{
    json_t *list = json_array();
    char mid[200];
    for (size_t i = 0; i < cfg->n_providers; i++) {
        const struct cfg_provider *p = &cfg->providers[i];
        for (size_t j = 0; j < p->n_models; j++) {
            snprintf(mid, sizeof(mid), "%s/%s", p->name, p->models[j].name);
            if (!id || !strcmp(id, mid))
                json_array_append_new(list, model_json(p, &p->models[j], mid, "config", "config",
                                                       true, "active", agents_of));
        }
    }
    for (size_t i = 0; cat && i < cat->n_models; i++) {
        const struct store_model_entry *row = &cat->mrow[i];
        snprintf(mid, sizeof(mid), "%s/%s", row->provider, row->name);
        if (strcmp(row->tenant, tenant) != 0 || (id && strcmp(id, mid) != 0))
            continue;
        const struct cfg_provider *cp = cfg_find_provider(cfg, row->provider);
        const struct llm_rt_provider *rp = llm_catalog_provider(cat, tenant, row->provider);
        const char *state = !cp && !rp                ? "provider not configured"
                            : rp && !rp->valid        ? "provider invalid"
                            : rp && !rp->row->enabled ? "provider disabled"
                            : !row->enabled           ? "disabled"
                                                      : "active";
        json_t *o = model_json(cp   ? cp
                               : rp ? &rp->p
                                    : NULL,
                               &cat->models[i].m, mid, "api",
                               cp   ? "config"
                               : rp ? "api"
                                    : "missing",
                               row->enabled, state, agents_of);
        add_meta(o, row->created_by, row->created_ms, row->updated_by, row->updated_ms);
        json_array_append_new(list, o);
    }
    if (!id)
        return list;
    json_t *one = json_incref(json_array_get(list, 0));
    json_decref(list);
    return one;
}
