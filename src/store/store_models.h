/* SPDX-License-Identifier: MIT
 * store_models.h — model providers, models and agents' model settings added at run time
 * (issue 13). The configuration file's providers and models never reach the store; these rows
 * are what an administrator added through the API, per tenant, so that every node of a later
 * cluster serves the same ones. Included by store.h; src/llm/llm_registry.c owns the meaning.
 */
#ifndef GW_STORE_MODELS_H
#define GW_STORE_MODELS_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

/* A provider: its settings as a JSON object (api, base_url, kind, limits, ...) that the
 * registry wrote and validates again when it reads it, and its API key apart (never in spec,
 * wiped when the row is released). */
struct store_model_provider {
    char *tenant;
    char *name;
    char *spec;    /* JSON object text, without the key */
    char *api_key; /* NULL: none */
    bool enabled;
    char *created_by;
    int64_t created_ms;
    char *updated_by;
    int64_t updated_ms;
};

/* A model of a provider (a run-time provider, or one of the configuration file's). */
struct store_model_entry {
    char *tenant;
    char *provider;
    char *name;
    char *upstream;
    double input_per_mtok;
    double output_per_mtok;
    bool enabled;
    char *created_by;
    int64_t created_ms;
    char *updated_by;
    int64_t updated_ms;
};

/* The model an agent registered through the API answers with. */
struct store_agent_model {
    char *tenant;
    char *agent; /* "<namespace>/<agent>" */
    char *model; /* "<provider>/<model>" */
    char *set_by;
    int64_t set_ms;
};

void store_model_provider_release(struct store_model_provider *p);
void store_model_entry_release(struct store_model_entry *m);
void store_agent_model_release(struct store_agent_model *a);
void store_model_providers_free(struct store_model_provider *v, size_t n);
void store_model_entries_free(struct store_model_entry *v, size_t n);
void store_agent_models_free(struct store_agent_model *v, size_t n);

/* Every tenant's rows (they are few and held in memory); *out is a malloc'd array. */
gw_err store_model_provider_list(struct store *st, struct store_model_provider **out, size_t *n);
gw_err store_model_entry_list(struct store *st, struct store_model_entry **out, size_t *n);
gw_err store_agent_model_list(struct store *st, struct store_agent_model **out, size_t *n);

/* A provider and its first models in one transaction; GW_ECONFLICT when the provider or one
 * of the models exists. */
gw_err store_model_provider_insert(struct store *st, const struct store_model_provider *p,
                                   const struct store_model_entry *models, size_t n);
/* Replaces spec, api_key, enabled, updated_by and updated_ms; GW_ENOTFOUND when absent. */
gw_err store_model_provider_update(struct store *st, const struct store_model_provider *p);
/* Removes the provider and its models in one transaction; GW_ENOTFOUND when absent. */
gw_err store_model_provider_delete(struct store *st, const char *tenant, const char *name);

/* GW_ECONFLICT when (tenant, provider, name) exists. */
gw_err store_model_entry_insert(struct store *st, const struct store_model_entry *m);
/* Replaces upstream, prices, enabled, updated_by and updated_ms; GW_ENOTFOUND when absent. */
gw_err store_model_entry_update(struct store *st, const struct store_model_entry *m);
gw_err store_model_entry_delete(struct store *st, const char *tenant, const char *provider,
                                const char *name);

/* Sets (or replaces) the agent's model. */
gw_err store_agent_model_put(struct store *st, const struct store_agent_model *a);
/* GW_ENOTFOUND when the agent had none. */
gw_err store_agent_model_delete(struct store *st, const char *tenant, const char *agent);

#endif
