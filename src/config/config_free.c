/* SPDX-License-Identifier: MIT
 * config_free.c — snapshot lifetime.
 *
 * A snapshot is shared by every request that started under it; a reload swaps in a new one and
 * the old one goes away when its last user drops it. The count is atomic because requests run
 * on several threads; nothing else in a snapshot changes after cfg_load, so no lock is needed.
 */
#include "base/prelude.h"
#include "config/config_int.h"

struct cfg *cfg_ref(struct cfg *c)
{
    if (c)
        atomic_fetch_add_explicit(&c->refcount, 1, memory_order_relaxed);
    return c;
}

void cfg_unref(struct cfg *c)
{
    /* acq_rel: the last owner must see every other owner's reads finished before freeing */
    if (c && atomic_fetch_sub_explicit(&c->refcount, 1, memory_order_acq_rel) == 1)
        cfg_free(c);
}

void cfg_free(struct cfg *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->data_dir);
    free(c->host);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->log_level);
    free(c->trusted_proxies);
    free(c->tenant_id);
    free(c->tenant_name);
    free(c->policy_bundle);
    free(c->approver);
    free(c->approver_role);
    free(c->opa_url);

    cfg_free_strv(c->org_units);
    for (size_t i = 0; i < c->n_teams; i++) {
        free(c->teams[i].id);
        free(c->teams[i].org_unit);
    }
    free(c->teams);
    for (size_t i = 0; i < c->n_users; i++) {
        struct cfg_user *u = &c->users[i];
        free(u->id);
        free(u->email);
        free(u->name);
        free(u->role);
        free(u->org_unit);
        free(u->team);
    }
    free(c->users);

    for (size_t i = 0; i < c->n_tokens; i++) {
        struct cfg_token *t = &c->tokens[i];
        free(t->id);
        if (t->token) /* a secret: do not leave it in freed memory */
            explicit_bzero(t->token, strlen(t->token));
        free(t->token);
        cfg_free_strv(t->scopes);
        free(t->owner);
    }
    free(c->tokens);

    for (size_t i = 0; i < c->n_roles; i++) {
        free(c->roles[i].name);
        free(c->roles[i].description);
        cfg_free_strv(c->roles[i].permissions);
    }
    free(c->roles);
    cfg_group_mappings_free(c->group_mappings, c->n_group_mappings);
    cfg_tenants_free(c);
    cfg_sso_free(&c->sso);

    free(c->audit_log_path);
    free(c->audit_log_level);
    free(c->audit_export_format);
    free(c->audit_witness_url);
    if (c->audit_witness_token)
        explicit_bzero(c->audit_witness_token, strlen(c->audit_witness_token));
    free(c->audit_witness_token);
    cfg_free_strv(c->pii_fields);
    cfg_siem_free(&c->siem);

    for (size_t i = 0; i < c->n_namespaces; i++) {
        free(c->namespaces[i].name);
        free(c->namespaces[i].shared_memory_path);
        cfg_members_free(c->namespaces[i].members, c->namespaces[i].n_members);
    }
    free(c->namespaces);
    for (size_t i = 0; i < c->n_agents; i++) {
        free(c->agents[i].name);
        free(c->agents[i].channel);
        free(c->agents[i].memory_path);
        free(c->agents[i].description);
        free(c->agents[i].model);
        free(c->agents[i].system_prompt);
        cfg_free_strv(c->agents[i].tools);
    }
    free(c->agents);

    for (size_t i = 0; i < c->n_providers; i++) {
        struct cfg_provider *p = &c->providers[i];
        free(p->name);
        free(p->base_url);
        if (p->api_key) /* a secret */
            explicit_bzero(p->api_key, strlen(p->api_key));
        free(p->api_key);
        free(p->region);
        cfg_free_strv(p->fallback);
        for (size_t j = 0; j < p->n_models; j++) {
            free(p->models[j].name);
            free(p->models[j].upstream);
        }
        free(p->models);
    }
    free(c->providers);
    cfg_free_strv(c->allowed_regions);

    free(c->currency);
    for (size_t i = 0; i < c->n_budgets; i++) {
        free(c->budgets[i].workspace);
        free(c->budgets[i].alert_email);
    }
    free(c->budgets);
    free(c->alert_email);
    free(c->alert_webhook);
    free(c->smtp_url);
    free(c->smtp_from);
    free(c->smtp_username);
    if (c->smtp_password)
        explicit_bzero(c->smtp_password, strlen(c->smtp_password));
    free(c->smtp_password);
    cfg_egress_free(&c->egress);
    cfg_store_free(&c->store);
    cfg_cluster_free(&c->cluster);
    free(c);
}
