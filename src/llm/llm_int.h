/* SPDX-License-Identifier: MIT
 * llm_int.h — private to src/llm: the run-time catalog's entries (llm_catalog.c), the JSON
 * form of providers and models (llm_spec.c) and what the registry (llm_registry.c) builds
 * them from.
 */
#ifndef GW_LLM_INT_H
#define GW_LLM_INT_H

#include "base/prelude.h"
#include "llm/llm_registry.h"
#include "store/store.h"

#include <stdatomic.h>

/* A run-time provider as calls use it: the same struct cfg_provider the configuration gives
 * (its models list stays empty: run-time models are entries of their own). */
struct llm_rt_provider {
    const struct store_model_provider *row;
    struct cfg_provider p;
    bool valid;    /* the stored spec still passes validation */
    char why[160]; /* otherwise: why not */
};

struct llm_rt_model {
    const struct store_model_entry *row;
    struct cfg_model m;
};

struct llm_catalog {
    atomic_int refs;
    struct store_model_provider *prow; /* as the store has them, sorted by (tenant, name) */
    size_t n_prov;
    struct store_model_entry *mrow; /* sorted by (tenant, provider, name) */
    size_t n_models;
    struct store_agent_model *arow; /* sorted by (tenant, agent) */
    size_t n_agents;
    struct llm_rt_provider *prov; /* parallel to prow */
    struct llm_rt_model *models;  /* parallel to mrow */
};

/* Builds a catalog from rows it takes over (arrays and strings). */
struct llm_catalog *llm_catalog_new(struct store_model_provider *prow, size_t n_prov,
                                    struct store_model_entry *mrow, size_t n_models,
                                    struct store_agent_model *arow, size_t n_agents);
const struct llm_rt_provider *llm_catalog_provider(const struct llm_catalog *cat,
                                                   const char *tenant, const char *name);
const struct llm_rt_model *llm_catalog_model(const struct llm_catalog *cat, const char *tenant,
                                             const char *provider, const char *name);
/* Counts of tenant's run-time providers and models. */
void llm_catalog_counts(const struct llm_catalog *cat, const char *tenant, size_t *providers,
                        size_t *models);

/* --- the JSON form (llm_spec.c) ----------------------------------------------------------- */

/* A provider's settings: base (NULL: the defaults, as the configuration has them) with the
 * members of body applied, checked like models.providers[] of gateway.yaml. Keys other than
 * the settings (name, api_key, enabled, models) are skipped; an unknown one is refused. The
 * result's strings are new (llm_spec_provider_release); its name and key stay NULL. */
gw_err llm_spec_provider(const json_t *body, const struct cfg_provider *base,
                         struct cfg_provider *out, char *msg, size_t cap);
void llm_spec_provider_release(struct cfg_provider *p);
/* The settings as the store keeps them (no name, no key). */
json_t *llm_spec_provider_json(const struct cfg_provider *p);
/* A model: base (NULL: none) with upstream, input_per_mtok, output_per_mtok of body applied;
 * the name is given (checked). Keys id, name, enabled are skipped; others refused. */
gw_err llm_spec_model(const json_t *body, const char *name, const struct cfg_model *base,
                      struct cfg_model *out, char *msg, size_t cap);
void llm_spec_model_release(struct cfg_model *m);
/* An API key from a body member: 1-4096 visible ASCII characters. */
bool llm_spec_key_ok(const char *key);
/* Splits "<provider>/<model>" (both checked) into pool-free buffers; false when malformed. */
bool llm_spec_split_id(const char *id, char *prov, size_t pcap, char *model, size_t mcap);

#endif
