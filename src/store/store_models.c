/* SPDX-License-Identifier: MIT
 * store_models.c — the public store API of run-time providers, models and agents' models
 * (store_models.h): argument checks and dispatch through struct store_model_ops
 * (sqlite/sqlite_models.c and pg/pg_models.c implement it).
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_model_provider_cols = STORE_COLS_INIT(store_model_provider,
                                                                    STORE_MODEL_PROVIDER_COLUMNS);
const struct store_cols store_model_entry_cols = STORE_COLS_INIT(store_model_entry,
                                                                 STORE_MODEL_ENTRY_COLUMNS);
const struct store_cols store_agent_model_cols = STORE_COLS_INIT(store_agent_model,
                                                                 STORE_AGENT_MODEL_COLUMNS);

void store_model_provider_release(struct store_model_provider *p)
{
    store_row_release(&store_model_provider_cols, p);
}

void store_model_entry_release(struct store_model_entry *m)
{
    store_row_release(&store_model_entry_cols, m);
}

void store_agent_model_release(struct store_agent_model *a)
{
    store_row_release(&store_agent_model_cols, a);
}

void store_model_providers_free(struct store_model_provider *v, size_t n)
{
    store_rows_free(&store_model_provider_cols, v, n);
}

void store_model_entries_free(struct store_model_entry *v, size_t n)
{
    store_rows_free(&store_model_entry_cols, v, n);
}

void store_agent_models_free(struct store_agent_model *v, size_t n)
{
    store_rows_free(&store_agent_model_cols, v, n);
}

gw_err store_model_provider_list(struct store *st, struct store_model_provider **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->models->provider_list(st, out, n) : GW_EINVAL;
}

gw_err store_model_entry_list(struct store *st, struct store_model_entry **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->models->entry_list(st, out, n) : GW_EINVAL;
}

gw_err store_agent_model_list(struct store *st, struct store_agent_model **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->models->agent_list(st, out, n) : GW_EINVAL;
}

static bool provider_ok(const struct store_model_provider *p)
{
    return p && p->tenant && p->name && p->spec;
}

static bool entry_ok(const struct store_model_entry *m)
{
    return m && m->tenant && m->provider && m->name && m->upstream;
}

gw_err store_model_provider_insert(struct store *st, const struct store_model_provider *p,
                                   const struct store_model_entry *models, size_t n)
{
    if (!provider_ok(p) || (n && !models))
        return GW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!entry_ok(&models[i]) || strcmp(models[i].tenant, p->tenant) != 0 ||
            strcmp(models[i].provider, p->name) != 0)
            return GW_EINVAL;
    return st->ops->models->provider_insert(st, p, models, n);
}

gw_err store_model_provider_update(struct store *st, const struct store_model_provider *p)
{
    return provider_ok(p) ? st->ops->models->provider_update(st, p) : GW_EINVAL;
}

gw_err store_model_provider_delete(struct store *st, const char *tenant, const char *name)
{
    return tenant && name ? st->ops->models->provider_delete(st, tenant, name) : GW_EINVAL;
}

gw_err store_model_entry_insert(struct store *st, const struct store_model_entry *m)
{
    return entry_ok(m) ? st->ops->models->entry_insert(st, m) : GW_EINVAL;
}

gw_err store_model_entry_update(struct store *st, const struct store_model_entry *m)
{
    return entry_ok(m) ? st->ops->models->entry_update(st, m) : GW_EINVAL;
}

gw_err store_model_entry_delete(struct store *st, const char *tenant, const char *provider,
                                const char *name)
{
    if (!tenant || !provider || !name)
        return GW_EINVAL;
    return st->ops->models->entry_delete(st, tenant, provider, name);
}

gw_err store_agent_model_put(struct store *st, const struct store_agent_model *a)
{
    if (!a || !a->tenant || !a->agent || !a->model)
        return GW_EINVAL;
    return st->ops->models->agent_put(st, a);
}

gw_err store_agent_model_delete(struct store *st, const char *tenant, const char *agent)
{
    return tenant && agent ? st->ops->models->agent_delete(st, tenant, agent) : GW_EINVAL;
}
