/* SPDX-License-Identifier: MIT
 * llm_registry.h — providers and models added at run time, merged with the configuration's.
 *
 * gateway.yaml's models.providers are shared by every tenant and change only with the file.
 * An administrator may add, change, disable and remove providers and models of their own
 * tenant through the API (and give an agent registered through the API a model); those
 * entries are persisted in the store (store_models.h) so that every node serves the same, and
 * compiled into an immutable, refcounted catalog that is swapped on every change. A call holds
 * the catalog it was routed with (as it holds its configuration snapshot), so a change applies
 * to the next call and never to one in flight.
 *
 * Merge rules (llm_catalog_find):
 *   - a name is either the configuration's or a run-time one: the API refuses a provider (or a
 *     model of a configured provider) the file defines, and a configuration that defines one
 *     the store holds is refused at start and on reload (llm_registry_conflicts);
 *   - the configuration's provider and model come first; then the tenant's run-time model of
 *     a configured provider; then the tenant's run-time provider and its run-time model;
 *   - a disabled provider serves none of its models, a disabled model is not served, and a
 *     run-time model whose configured provider left the file is not served; each of these is
 *     refused with a message naming why;
 *   - other tenants' run-time entries are invisible.
 * Secrets are write-only: a provider's API key is kept for calls and shown only as "set" and
 * its last four characters.
 */
#ifndef GW_LLM_REGISTRY_H
#define GW_LLM_REGISTRY_H

#include "base/prelude.h"
#include "base/err.h"
#include "config/config.h"
#include "llm/llm.h"

#include <jansson.h>

struct store;
struct llm_registry;
struct llm_catalog;

/* Limits on what one tenant may add (each refused with 409 beyond). */
#define LLM_MAX_PROVIDERS 256
#define LLM_MAX_MODELS 4096
#define LLM_MAX_FALLBACKS 8

/* --- the registry -------------------------------------------------------------------------- */

/* Loads every tenant's run-time entries from the store. */
gw_err llm_registry_open(struct store *st, struct llm_registry **out);
void llm_registry_close(struct llm_registry *r);
/* Reads the store again (entries another node changed); the catalog is swapped (the caller
 * updates what depends on it: no on_change). */
gw_err llm_registry_reload(struct llm_registry *r);
/* GW_ECONFLICT with a message when c defines a provider, or a model of a provider, that the
 * store holds as a run-time one (one name would stand for two). */
gw_err llm_registry_conflicts(struct llm_registry *r, const struct cfg *c, char *msg, size_t cap);
/* fn(arg) runs after every committed change (on the changing thread), e.g. to update the
 * egress policy. */
void llm_registry_on_change(struct llm_registry *r, void (*fn)(void *arg), void *arg);
/* A new reference to the current catalog. */
struct llm_catalog *llm_registry_catalog(struct llm_registry *r);

/* --- the catalog (immutable) ------------------------------------------------------------- */

struct llm_catalog *llm_catalog_ref(struct llm_catalog *cat);
void llm_catalog_unref(struct llm_catalog *cat);

/* "<provider>/<model>" for tenant: the target (pointers into cfg or cat, valid while both are
 * held), or GW_ENOTFOUND with the reason in msg (unknown, disabled, provider gone). cat may be
 * NULL (the configuration alone). */
gw_err llm_catalog_find(const struct llm_catalog *cat, const struct cfg *cfg, const char *tenant,
                        const char *id, struct llm_target *out, char *msg, size_t cap);
/* The same, disabled providers and models included (a test before enabling them). */
gw_err llm_catalog_find_any(const struct llm_catalog *cat, const struct cfg *cfg,
                            const char *tenant, const char *id, struct llm_target *out, char *msg,
                            size_t cap);
/* The model set at run time for an agent ("<ns>/<agent>") of tenant, or NULL. */
const char *llm_catalog_agent_model(const struct llm_catalog *cat, const char *tenant,
                                    const char *agent);
/* Every model of tenant that calls may use (configuration first), in order. */
typedef void llm_model_fn(void *arg, const struct cfg_provider *p, const struct cfg_model *m);
void llm_catalog_each_model(const struct llm_catalog *cat, const struct cfg *cfg,
                            const char *tenant, llm_model_fn *fn, void *arg);
/* The base URLs of tenant's run-time providers (borrowed from cat): at most cap into out;
 * returns how many there are. */
size_t llm_catalog_urls(const struct llm_catalog *cat, const char *tenant, const char **out,
                        size_t cap);

/* Administration views (GET /api/v1/providers, /api/v1/models): every provider (model) the
 * tenant sees, or the one named (NULL when unknown), with its "source" ("config" | "api"),
 * "state" ("active", "disabled", ...) and, for keys, only {"set", "last4"}. agents_of maps a
 * model id to the agents that use it (an object of arrays, may be NULL). */
json_t *llm_catalog_providers_json(const struct llm_catalog *cat, const struct cfg *cfg,
                                   const char *tenant, const char *name);
json_t *llm_catalog_models_json(const struct llm_catalog *cat, const struct cfg *cfg,
                                const char *tenant, const char *id, const json_t *agents_of);

/* --- changes: prepared (validated, with the audit details), then committed ------------------ */

enum llm_change_kind {
    LLM_PROVIDER_ADD,    /* body: the provider, optionally "models": [...] */
    LLM_PROVIDER_SET,    /* name; body: the fields to change ("enabled" included) */
    LLM_PROVIDER_REMOVE, /* name: the provider and its models */
    LLM_MODEL_ADD,       /* body: {"id": "<provider>/<model>", ...} */
    LLM_MODEL_SET,       /* name: "<provider>/<model>"; body: the fields to change */
    LLM_MODEL_REMOVE,    /* name */
    LLM_AGENT_MODEL,     /* name: "<ns>/<agent>" (an agent registered through the API);
                            body: {"model": "<provider>/<model>" | null} */
};

struct llm_change_req {
    enum llm_change_kind kind;
    const char *tenant; /* the caller's, from the principal */
    const char *actor;
    const char *name;
    const json_t *body;
};

struct llm_change;
/* Validates against the configuration and the current entries: GW_EINVAL (a bad field, named
 * in msg), GW_ENOTFOUND, GW_ECONFLICT (the configuration's entry; exists; in use), with nothing
 * changed. */
gw_err llm_registry_prepare(struct llm_registry *r, const struct cfg *cfg,
                            const struct llm_change_req *rq, struct llm_change **out, char *msg,
                            size_t cap);
/* What the change does, for its audit event (no secret: a key is {"set", "last4"}). */
const json_t *llm_change_details(const struct llm_change *ch);
/* The entry's resource name ("<provider>", "<provider>/<model>", "<ns>/<agent>"). */
const char *llm_change_resource(const struct llm_change *ch);
/* Applies it (checked again against the entries of the moment): the store first, then the new
 * catalog. *result (may be NULL) gets the entry as the administration views show it. */
gw_err llm_registry_commit(struct llm_registry *r, const struct cfg *cfg, struct llm_change *ch,
                           json_t **result, char *msg, size_t cap);
void llm_change_free(struct llm_change *ch);

/* An agent was deleted: its run-time model goes too (GW_OK when it had none). */
gw_err llm_registry_forget_agent(struct llm_registry *r, const char *tenant, const char *agent);

/* "set" and the last four characters of a key (only "set" for a short one): what may be shown
 * of a secret (new reference). */
json_t *llm_secret_json(const char *key);

#endif
