/* SPDX-License-Identifier: MIT
 * llm_registry.c — the run-time providers, models and agents' models: changes checked against
 * the configuration and the entries of the moment, persisted, then compiled into a new catalog.
 *
 * A change is prepared (validated, with what its audit event says) without the lock, then
 * committed under it: the store is written first, and the catalog is rebuilt from what the
 * store then holds, so what calls see is what every node would read. The store itself refuses
 * a duplicate or a missing row; what the store cannot know (a model still used by an agent) is
 * checked again under the lock.
 */
#include "base/prelude.h"
#include "llm/llm_int.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>

#define MAX_NEW_MODELS 64 /* models given with a new provider */

struct llm_registry {
    pthread_mutex_t lock; /* serializes changes; guards cur */
    struct store *st;
    struct llm_catalog *cur;
    void (*on_change)(void *arg);
    void *on_change_arg;
};

struct llm_change {
    enum llm_change_kind kind;
    char *tenant, *resource;
    json_t *details;
    struct store_model_provider prov;
    struct store_model_entry *models; /* a new provider's, or the one model changed */
    size_t n_models;
    struct store_agent_model agent; /* model NULL: none */
};

/* --- loading --------------------------------------------------------------------------------- */

static gw_err load(struct store *st, struct llm_catalog **out)
{
    struct store_model_provider *p = NULL;
    struct store_model_entry *m = NULL;
    struct store_agent_model *a = NULL;
    size_t np = 0, nm = 0, na = 0;
    gw_err rc = store_model_provider_list(st, &p, &np);
    if (rc == GW_OK)
        rc = store_model_entry_list(st, &m, &nm);
    if (rc == GW_OK)
        rc = store_agent_model_list(st, &a, &na);
    if (rc != GW_OK) {
        store_model_providers_free(p, np);
        store_model_entries_free(m, nm);
        return rc;
    }
    *out = llm_catalog_new(p, np, m, nm, a, na);
    return GW_OK;
}

gw_err llm_registry_open(struct store *st, struct llm_registry **out)
{
    struct llm_catalog *cat = NULL;
    gw_err rc = load(st, &cat);
    if (rc != GW_OK)
        return rc;
    struct llm_registry *r = gw_xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->st = st;
    r->cur = cat;
    *out = r;
    return GW_OK;
}

void llm_registry_close(struct llm_registry *r)
{
    if (!r)
        return;
    llm_catalog_unref(r->cur);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void llm_registry_on_change(struct llm_registry *r, void (*fn)(void *arg), void *arg)
{
    r->on_change = fn;
    r->on_change_arg = arg;
}

/* With the lock held: the store's entries become the catalog. */
static gw_err refresh(struct llm_registry *r)
{
    struct llm_catalog *cat = NULL;
    gw_err rc = load(r->st, &cat);
    if (rc != GW_OK)
        return rc;
    llm_catalog_unref(r->cur);
    r->cur = cat;
    return GW_OK;
}

gw_err llm_registry_reload(struct llm_registry *r)
{
    pthread_mutex_lock(&r->lock);
    gw_err rc = refresh(r);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

struct llm_catalog *llm_registry_catalog(struct llm_registry *r)
{
    pthread_mutex_lock(&r->lock);
    struct llm_catalog *cat = llm_catalog_ref(r->cur);
    pthread_mutex_unlock(&r->lock);
    return cat;
}

gw_err llm_registry_conflicts(struct llm_registry *r, const struct cfg *c, char *msg, size_t cap)
{
    struct llm_catalog *cat = llm_registry_catalog(r);
    gw_err rc = GW_OK;
    for (size_t i = 0; i < cat->n_prov && rc == GW_OK; i++)
        if (cfg_find_provider(c, cat->prow[i].name)) {
            snprintf(msg, cap,
                     "models.providers '%s' is also a provider added at run time "
                     "(tenant %s): remove it with `openclaw providers remove %s`, or give the "
                     "file's another name",
                     cat->prow[i].name, cat->prow[i].tenant, cat->prow[i].name);
            rc = GW_ECONFLICT;
        }
    for (size_t i = 0; i < cat->n_models && rc == GW_OK; i++) {
        char id[200];
        snprintf(id, sizeof(id), "%s/%s", cat->mrow[i].provider, cat->mrow[i].name);
        if (cfg_find_model(c, id, NULL)) {
            snprintf(msg, cap,
                     "models.providers model '%s' is also a model added at run time "
                     "(tenant %s): remove it with `openclaw models remove %s`, or give the "
                     "file's another name",
                     id, cat->mrow[i].tenant, id);
            rc = GW_ECONFLICT;
        }
    }
    llm_catalog_unref(cat);
    return rc;
}

/* --- preparing ------------------------------------------------------------------------------- */

void llm_change_free(struct llm_change *ch)
{
    if (!ch)
        return;
    free(ch->tenant);
    free(ch->resource);
    json_decref(ch->details);
    store_model_provider_release(&ch->prov);
    store_model_entries_free(ch->models, ch->n_models);
    store_agent_model_release(&ch->agent);
    free(ch);
}

const json_t *llm_change_details(const struct llm_change *ch)
{
    return ch->details;
}

const char *llm_change_resource(const struct llm_change *ch)
{
    return ch->resource;
}

static char *dup_or_null(const char *s)
{
    return s ? gw_xstrdup(s) : NULL;
}

/* An optional boolean member ("enabled"); false with msg when it is something else. */
static bool get_bool(const json_t *body, const char *key, bool def, bool *out, char *msg,
                     size_t cap)
{
    const json_t *v = json_object_get(body, key);
    *out = v ? json_is_true(v) : def;
    if (v && !json_is_boolean(v)) {
        snprintf(msg, cap, "%s must be true or false", key);
        return false;
    }
    return true;
}

/* "<provider>/<model>" exists for tenant, enabled or not. */
static bool model_exists(const struct llm_catalog *cat, const struct cfg *cfg, const char *tenant,
                         const char *id)
{
    char pn[64], mn[129];
    return llm_spec_split_id(id, pn, sizeof(pn), mn, sizeof(mn)) &&
           (cfg_find_model(cfg, id, NULL) || llm_catalog_model(cat, tenant, pn, mn));
}

/* The checks of a provider that need the configuration and the other entries: residency, and
 * fallbacks that exist and are another provider's. */
static gw_err check_provider(const struct llm_catalog *cat, const struct cfg *cfg,
                             const char *tenant, const struct cfg_provider *p, const char *name,
                             char *msg, size_t cap)
{
    if (cfg->n_allowed_regions) {
        bool ok = false;
        for (size_t i = 0; p->region && i < cfg->n_allowed_regions && !ok; i++)
            ok = !strcmp(cfg->allowed_regions[i], p->region);
        if (!ok) {
            snprintf(msg, cap, "region must be one of models.allowed_regions (data residency)");
            return GW_EINVAL;
        }
    }
    for (size_t i = 0; i < p->n_fallback; i++) {
        size_t n = strlen(name);
        if (!strncmp(p->fallback[i], name, n) && p->fallback[i][n] == '/') {
            snprintf(msg, cap,
                     "fallback[%zu] names the provider itself (a fallback must be "
                     "another provider)",
                     i);
            return GW_EINVAL;
        }
        if (!model_exists(cat, cfg, tenant, p->fallback[i])) {
            snprintf(msg, cap, "fallback[%zu] '%s' is not a model of this gateway", i,
                     p->fallback[i]);
            return GW_EINVAL;
        }
    }
    return GW_OK;
}

/* The agents of tenant whose model is id, or any model of provider prov (id NULL), joined
 * with ", " into out; how many. */
static size_t users_of(const struct llm_catalog *cat, const char *tenant, const char *id,
                       const char *prov, char *out, size_t cap)
{
    size_t n = 0, len = 0, pl = prov ? strlen(prov) : 0;
    out[0] = '\0';
    for (size_t i = 0; i < cat->n_agents; i++) {
        const struct store_agent_model *a = &cat->arow[i];
        bool uses = id ? !strcmp(a->model, id)
                       : !strncmp(a->model, prov, pl) && a->model[pl] == '/';
        if (strcmp(a->tenant, tenant) != 0 || !uses)
            continue;
        if (len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", n ? ", " : "", a->agent);
        n++;
    }
    return n;
}

/* An entry to add must be absent, with room for it; one to change or remove, present. */
static gw_err presence(bool add, bool exists, size_t count, size_t max, const char *what,
                       const char *name, char *msg, size_t cap)
{
    if (add && exists)
        snprintf(msg, cap, "%s '%s' exists", what, name);
    else if (add && count >= max)
        snprintf(msg, cap, "this tenant has %zu %ss already", max, what);
    else if (!add && !exists)
        snprintf(msg, cap, "no %s '%s'", what, name);
    else
        return GW_OK;
    return add ? GW_ECONFLICT : GW_ENOTFOUND;
}

/* True (with msg) while agents of tenant use the model id, or any model of provider prov. */
static bool in_use(const struct llm_catalog *cat, const char *tenant, const char *id,
                   const char *prov, char *msg, size_t cap)
{
    char users[300];
    if (!users_of(cat, tenant, id, prov, users, sizeof(users)))
        return false;
    snprintf(msg, cap,
             "%s '%s' serves agents %s: give them another model first (`openclaw "
             "models assign <agent> <provider/model>`)",
             id ? "model" : "provider", id ? id : prov, users);
    return true;
}

static void fill_provider_row(struct llm_change *ch, const struct llm_change_req *rq,
                              const struct cfg_provider *p, const char *key, bool enabled,
                              const struct store_model_provider *old)
{
    json_t *spec = llm_spec_provider_json(p);
    int64_t now = gw_now_ms();
    ch->prov = (struct store_model_provider){
        .tenant = gw_xstrdup(rq->tenant),
        .name = gw_xstrdup(ch->resource),
        .spec = gw_json_compact(spec),
        .api_key = dup_or_null(key),
        .enabled = enabled,
        .created_by = gw_xstrdup(old ? (old->created_by ? old->created_by : "") : rq->actor),
        .created_ms = old ? old->created_ms : now,
        .updated_by = gw_xstrdup(rq->actor),
        .updated_ms = now};
    ch->details = json_pack("{s:s,s:o,s:o,s:b}", "provider", ch->resource, "settings", spec,
                            "api_key", llm_secret_json(key), "enabled", enabled);
}

static void fill_model_row(struct store_model_entry *row, const struct llm_change_req *rq,
                           const char *prov, const struct cfg_model *m, bool enabled,
                           const struct store_model_entry *old)
{
    int64_t now = gw_now_ms();
    *row = (struct store_model_entry){
        .tenant = gw_xstrdup(rq->tenant),
        .provider = gw_xstrdup(prov),
        .name = gw_xstrdup(m->name),
        .upstream = gw_xstrdup(m->upstream),
        .input_per_mtok = m->input_per_mtok,
        .output_per_mtok = m->output_per_mtok,
        .enabled = enabled,
        .created_by = gw_xstrdup(old ? (old->created_by ? old->created_by : "") : rq->actor),
        .created_ms = old ? old->created_ms : now,
        .updated_by = gw_xstrdup(rq->actor),
        .updated_ms = now};
}

static json_t *model_details(const char *id, const struct store_model_entry *row)
{
    return json_pack("{s:s,s:s,s:f,s:f,s:b}", "model", id, "upstream", row->upstream,
                     "input_per_mtok", row->input_per_mtok, "output_per_mtok", row->output_per_mtok,
                     "enabled", row->enabled);
}

/* The models given with a new provider: [{"name", "upstream"?, prices?, "enabled"?}]. */
static gw_err new_models(struct llm_change *ch, const struct llm_change_req *rq, const json_t *list,
                         char *msg, size_t cap)
{
    if (!list || json_is_null(list))
        return GW_OK;
    if (!json_is_array(list) || json_array_size(list) > MAX_NEW_MODELS) {
        snprintf(msg, cap, "models must be a list of at most %d models", MAX_NEW_MODELS);
        return GW_EINVAL;
    }
    ch->models = gw_xcalloc(json_array_size(list) + 1, sizeof(*ch->models));
    json_t *names = json_array();
    size_t i;
    json_t *e;
    gw_err rc = GW_OK;
    json_array_foreach(list, i, e) {
        struct cfg_model m;
        bool enabled;
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!name || !get_bool(e, "enabled", true, &enabled, msg, cap) ||
            (rc = llm_spec_model(e, name, NULL, &m, msg, cap)) != GW_OK) {
            if (!name)
                snprintf(msg, cap, "models[%zu] needs a name", i);
            rc = GW_EINVAL;
            break;
        }
        for (size_t j = 0; j < ch->n_models && rc == GW_OK; j++)
            if (!strcmp(ch->models[j].name, name)) {
                snprintf(msg, cap, "models[%zu] '%s' is listed twice", i, name);
                rc = GW_EINVAL;
            }
        if (rc == GW_OK) {
            fill_model_row(&ch->models[ch->n_models++], rq, ch->resource, &m, enabled, NULL);
            json_array_append_new(names, json_string(name));
        }
        llm_spec_model_release(&m);
        if (rc != GW_OK)
            break;
    }
    json_object_set_new(ch->details, "models", names);
    return rc;
}

static gw_err prepare_provider(const struct llm_catalog *cat, const struct cfg *cfg,
                               const struct llm_change_req *rq, struct llm_change *ch, char *msg,
                               size_t cap)
{
    bool add = rq->kind == LLM_PROVIDER_ADD;
    const char *name = add ? json_string_value(json_object_get(rq->body, "name")) : rq->name;
    if (!name || !cfg_name_valid(name) || !strcmp(name, "openclaw")) {
        snprintf(msg, cap,
                 "name must be 1-63 characters of [a-z0-9_-], starting with a letter "
                 "or digit, and not openclaw (openclaw/<ns>/<agent> names an agent)");
        return GW_EINVAL;
    }
    ch->resource = gw_xstrdup(name);
    if (cfg_find_provider(cfg, name)) {
        snprintf(msg, cap, "provider '%s' is defined in gateway.yaml: change it there and reload",
                 name);
        return GW_ECONFLICT;
    }
    const struct llm_rt_provider *rp = llm_catalog_provider(cat, rq->tenant, name);
    size_t np, nm;
    llm_catalog_counts(cat, rq->tenant, &np, &nm);
    gw_err rc = presence(add, rp != NULL, np, LLM_MAX_PROVIDERS, "provider", name, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (rq->kind == LLM_PROVIDER_REMOVE) {
        if (in_use(cat, rq->tenant, NULL, name, msg, cap))
            return GW_ECONFLICT;
        json_t *models = json_array();
        for (size_t i = 0; i < cat->n_models; i++)
            if (!strcmp(cat->mrow[i].tenant, rq->tenant) && !strcmp(cat->mrow[i].provider, name))
                json_array_append_new(models, json_string(cat->mrow[i].name));
        ch->details = json_pack("{s:s,s:o}", "provider", name, "models", models);
        return GW_OK;
    }
    const json_t *body = rq->body;
    const char *body_name = json_string_value(json_object_get(body, "name"));
    if (!add && (json_object_get(body, "models") || (body_name && strcmp(body_name, name)))) {
        snprintf(msg, cap,
                 "a provider's name and models are not changed here: add models with "
                 "POST /api/v1/models, rename by adding a new provider");
        return GW_EINVAL;
    }
    const json_t *key = json_object_get(body, "api_key");
    if (key && !json_is_null(key) && !llm_spec_key_ok(json_string_value(key))) {
        snprintf(msg, cap, "api_key must be 1-4096 visible ASCII characters");
        return GW_EINVAL;
    }
    bool enabled;
    if (!get_bool(body, "enabled", add || rp->row->enabled, &enabled, msg, cap))
        return GW_EINVAL;
    struct cfg_provider p;
    rc = llm_spec_provider(body, rp && rp->valid ? &rp->p : NULL, &p, msg, cap);
    if (rc != GW_OK)
        return rc;
    rc = check_provider(cat, cfg, rq->tenant, &p, name, msg, cap);
    const char *k = !key ? (rp ? rp->row->api_key : NULL) : json_string_value(key);
    if (rc == GW_OK) {
        fill_provider_row(ch, rq, &p, k, enabled, rp ? rp->row : NULL);
        if (add)
            rc = new_models(ch, rq, json_object_get(body, "models"), msg, cap);
        if (!add) {
            json_t *changed = json_array();
            const char *f;
            json_t *v;
            json_object_foreach((json_t *)body, f, v)
                json_array_append_new(changed, json_string(f));
            json_object_set_new(ch->details, "changed", changed);
        }
    }
    if (rc == GW_OK && add && nm + ch->n_models > LLM_MAX_MODELS) {
        snprintf(msg, cap, "this tenant would have more than %d models", LLM_MAX_MODELS);
        rc = GW_ECONFLICT;
    }
    llm_spec_provider_release(&p);
    return rc;
}

static gw_err prepare_model(const struct llm_catalog *cat, const struct cfg *cfg,
                            const struct llm_change_req *rq, struct llm_change *ch, char *msg,
                            size_t cap)
{
    bool add = rq->kind == LLM_MODEL_ADD;
    const char *id = add ? json_string_value(json_object_get(rq->body, "id")) : rq->name;
    char pn[64], mn[129];
    if (!llm_spec_split_id(id, pn, sizeof(pn), mn, sizeof(mn))) {
        snprintf(msg, cap,
                 "id must be \"<provider>/<model>\" (model: 1-128 characters of "
                 "[A-Za-z0-9._:-])");
        return GW_EINVAL;
    }
    ch->resource = gw_xstrdup(id);
    const struct cfg_provider *cp = cfg_find_provider(cfg, pn);
    if (cfg_find_model(cfg, id, NULL)) {
        snprintf(msg, cap, "model '%s' is defined in gateway.yaml: change it there and reload", id);
        return GW_ECONFLICT;
    }
    const struct llm_rt_model *rm = llm_catalog_model(cat, rq->tenant, pn, mn);
    size_t np, nm;
    llm_catalog_counts(cat, rq->tenant, &np, &nm);
    if (add && !cp && !llm_catalog_provider(cat, rq->tenant, pn)) {
        snprintf(msg, cap, "no provider '%s': add it first (`openclaw providers add`)", pn);
        return GW_ENOTFOUND;
    }
    gw_err rc = presence(add, rm != NULL, nm, LLM_MAX_MODELS, "model", id, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (rq->kind == LLM_MODEL_REMOVE) {
        if (in_use(cat, rq->tenant, id, NULL, msg, cap))
            return GW_ECONFLICT;
        ch->details = json_pack("{s:s}", "model", id);
        return GW_OK;
    }
    const char *body_id = json_string_value(json_object_get(rq->body, "id"));
    if (!add && body_id && strcmp(body_id, id) != 0) {
        snprintf(msg, cap, "a model's id is not changed here: add a new one");
        return GW_EINVAL;
    }
    bool enabled;
    struct cfg_model m;
    if (!get_bool(rq->body, "enabled", add || rm->row->enabled, &enabled, msg, cap))
        return GW_EINVAL;
    rc = llm_spec_model(rq->body, mn, rm ? &rm->m : NULL, &m, msg, cap);
    if (rc != GW_OK)
        return rc;
    ch->models = gw_xcalloc(1, sizeof(*ch->models));
    ch->n_models = 1;
    fill_model_row(ch->models, rq, pn, &m, enabled, rm ? rm->row : NULL);
    llm_spec_model_release(&m);
    ch->details = model_details(id, ch->models);
    return GW_OK;
}

static gw_err prepare_agent(const struct llm_catalog *cat, const struct cfg *cfg,
                            const struct llm_change_req *rq, struct llm_change *ch, char *msg,
                            size_t cap)
{
    const json_t *model = json_object_get(rq->body, "model");
    if (!rq->name || !cfg_agent_name_valid(rq->name) || !model || json_object_size(rq->body) != 1 ||
        (!json_is_string(model) && !json_is_null(model))) {
        snprintf(msg, cap, "expected {\"model\": \"<provider>/<model>\" | null}");
        return GW_EINVAL;
    }
    ch->resource = gw_xstrdup(rq->name);
    const char *id = json_string_value(model);
    struct llm_target t;
    gw_err rc = id ? llm_catalog_find(cat, cfg, rq->tenant, id, &t, msg, cap) : GW_OK;
    if (rc != GW_OK)
        return GW_EINVAL; /* the agent exists: the model named is what is wrong */
    const char *before = llm_catalog_agent_model(cat, rq->tenant, rq->name);
    ch->agent = (struct store_agent_model){.tenant = gw_xstrdup(rq->tenant),
                                           .agent = gw_xstrdup(rq->name),
                                           .model = dup_or_null(id),
                                           .set_by = gw_xstrdup(rq->actor),
                                           .set_ms = gw_now_ms()};
    ch->details = json_pack("{s:s,s:s?,s:s?}", "agent", rq->name, "model", id, "previous", before);
    return GW_OK;
}

gw_err llm_registry_prepare(struct llm_registry *r, const struct cfg *cfg,
                            const struct llm_change_req *rq, struct llm_change **out, char *msg,
                            size_t cap)
{
    *out = NULL;
    if (!rq->tenant || !rq->actor || (rq->body && !json_is_object(rq->body))) {
        snprintf(msg, cap, "the body must be a JSON object");
        return GW_EINVAL;
    }
    struct llm_change *ch = gw_xcalloc(1, sizeof(*ch));
    ch->kind = rq->kind;
    ch->tenant = gw_xstrdup(rq->tenant);
    struct llm_catalog *cat = llm_registry_catalog(r);
    gw_err rc;
    switch (rq->kind) {
    case LLM_PROVIDER_ADD:
    case LLM_PROVIDER_SET:
    case LLM_PROVIDER_REMOVE:
        rc = prepare_provider(cat, cfg, rq, ch, msg, cap);
        break;
    case LLM_MODEL_ADD:
    case LLM_MODEL_SET:
    case LLM_MODEL_REMOVE:
        rc = prepare_model(cat, cfg, rq, ch, msg, cap);
        break;
    default:
        rc = prepare_agent(cat, cfg, rq, ch, msg, cap);
        break;
    }
    llm_catalog_unref(cat);
    if (rc != GW_OK)
        llm_change_free(ch);
    else
        *out = ch;
    return rc;
}

/* --- committing ------------------------------------------------------------------------------ */

/* The store's part of a change; what it cannot know is checked against cur first. */
static gw_err apply(struct llm_registry *r, const struct llm_change *ch, char *msg, size_t cap)
{
    struct store *st = r->st;
    const char *what = ch->resource;
    switch (ch->kind) {
    case LLM_PROVIDER_ADD:
        return store_model_provider_insert(st, &ch->prov, ch->models, ch->n_models);
    case LLM_PROVIDER_SET:
        return store_model_provider_update(st, &ch->prov);
    case LLM_PROVIDER_REMOVE:
        if (in_use(r->cur, ch->tenant, NULL, what, msg, cap))
            return GW_ECONFLICT;
        return store_model_provider_delete(st, ch->tenant, what);
    case LLM_MODEL_ADD:
        return store_model_entry_insert(st, ch->models);
    case LLM_MODEL_SET:
        return store_model_entry_update(st, ch->models);
    case LLM_MODEL_REMOVE: {
        char pn[64], mn[129];
        if (in_use(r->cur, ch->tenant, what, NULL, msg, cap))
            return GW_ECONFLICT;
        llm_spec_split_id(what, pn, sizeof(pn), mn, sizeof(mn)); /* checked when prepared */
        return store_model_entry_delete(st, ch->tenant, pn, mn);
    }
    default: {
        gw_err rc = ch->agent.model ? store_agent_model_put(st, &ch->agent)
                                    : store_agent_model_delete(st, ch->tenant, what);
        return rc == GW_ENOTFOUND ? GW_OK : rc; /* no model before, none after */
    }
    }
}

static json_t *result_of(const struct llm_change *ch, const struct llm_catalog *cat,
                         const struct cfg *cfg)
{
    switch (ch->kind) {
    case LLM_PROVIDER_ADD:
    case LLM_PROVIDER_SET:
        return llm_catalog_providers_json(cat, cfg, ch->tenant, ch->resource);
    case LLM_MODEL_ADD:
    case LLM_MODEL_SET:
        return llm_catalog_models_json(cat, cfg, ch->tenant, ch->resource, NULL);
    case LLM_PROVIDER_REMOVE:
        return json_pack("{s:s,s:b}", "provider", ch->resource, "removed", true);
    case LLM_MODEL_REMOVE:
        return json_pack("{s:s,s:b}", "model", ch->resource, "removed", true);
    default:
        return json_pack("{s:s,s:s?}", "agent", ch->resource, "model", ch->agent.model);
    }
}

gw_err llm_registry_commit(struct llm_registry *r, const struct cfg *cfg, struct llm_change *ch,
                           json_t **result, char *msg, size_t cap)
{
    if (result)
        *result = NULL;
    msg[0] = '\0';
    pthread_mutex_lock(&r->lock);
    gw_err rc = apply(r, ch, msg, cap);
    if (rc == GW_OK)
        rc = refresh(r);
    struct llm_catalog *cat = rc == GW_OK ? llm_catalog_ref(r->cur) : NULL;
    pthread_mutex_unlock(&r->lock);
    if (rc == GW_OK) {
        gw_info("models: %s changed by a run-time change (tenant %s)", ch->resource, ch->tenant);
        if (r->on_change)
            r->on_change(r->on_change_arg);
        if (result)
            *result = result_of(ch, cat, cfg);
    } else if (!msg[0]) {
        snprintf(msg, cap, "%s",
                 rc == GW_ECONFLICT   ? "it exists already"
                 : rc == GW_ENOTFOUND ? "it no longer exists"
                                      : "the store refused the change");
    }
    llm_catalog_unref(cat);
    return rc;
}

gw_err llm_registry_forget_agent(struct llm_registry *r, const char *tenant, const char *agent)
{
    pthread_mutex_lock(&r->lock);
    gw_err rc = store_agent_model_delete(r->st, tenant, agent);
    if (rc == GW_OK)
        rc = refresh(r);
    pthread_mutex_unlock(&r->lock);
    return rc == GW_ENOTFOUND ? GW_OK : rc;
}
