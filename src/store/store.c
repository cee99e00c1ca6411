/* SPDX-License-Identifier: MIT
 * store.c — the public store API: argument checks and dispatch through struct store_ops.
 *
 * Callers only ever see store.h. This file checks the arguments whose validity does not depend
 * on the backend (required strings present, output pointers set), then forwards to the backend
 * vtable. Today the only backend is SQLite (store_sqlite.c); a PostgreSQL backend fills another
 * const struct store_ops and store_open picks it. The *_release and *_free functions only free
 * malloc'd strings, so they are backend independent and live here.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "store/store_int.h"

/* --- lifecycle ------------------------------------------------------------------------- */

gw_err store_open(const char *data_dir, struct store **out)
{
    if (!out)
        return GW_EINVAL;
    *out = NULL;
    if (!data_dir || !*data_dir)
        return GW_EINVAL;
    return store_sqlite_open(data_dir, out);
}

void store_close(struct store *st)
{
    if (st)
        st->ops->close(st);
}

gw_err store_ping(struct store *st)
{
    return st->ops->ping(st);
}

int store_schema_version(struct store *st)
{
    return st->ops->schema_version(st);
}

/* --- meta ------------------------------------------------------------------------------ */

gw_err store_meta_get(struct store *st, const char *key, char **value)
{
    if (!key || !value)
        return GW_EINVAL;
    *value = NULL;
    return st->ops->meta_get(st, key, value);
}

gw_err store_meta_put(struct store *st, const char *key, const char *value)
{
    if (!key || !value)
        return GW_EINVAL;
    return st->ops->meta_put(st, key, value);
}

/* --- tokens ---------------------------------------------------------------------------- */

void store_token_release(struct store_token *t)
{
    if (!t)
        return;
    free(t->id);
    free(t->tenant);
    free(t->owner);
    free(t->hash);
    free(t->scopes);
    free(t->created_by);
    memset(t, 0, sizeof(*t));
}

gw_err store_token_insert(struct store *st, const struct store_token *t)
{
    if (!t || !t->tenant || !t->id || !t->hash)
        return GW_EINVAL;
    return st->ops->token_insert(st, t);
}

gw_err store_token_set_hash(struct store *st, const char *tenant, const char *id, const char *hash)
{
    if (!tenant || !id || !hash)
        return GW_EINVAL;
    return st->ops->token_set_hash(st, tenant, id, hash);
}

gw_err store_token_revoke(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    if (!tenant || !id || ms <= 0) /* revoked_ms 0 means active */
        return GW_EINVAL;
    return st->ops->token_revoke(st, tenant, id, ms);
}

gw_err store_token_touch(struct store *st, const char *tenant, const char *id, int64_t ms)
{
    if (!tenant || !id)
        return GW_EINVAL;
    return st->ops->token_touch(st, tenant, id, ms);
}

gw_err store_token_list(struct store *st, struct store_token **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->token_list(st, out, n);
}

void store_token_list_free(struct store_token *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_token_release(&list[i]);
    free(list);
}

/* --- agents ---------------------------------------------------------------------------- */

void store_agent_release(struct store_agent *a)
{
    if (!a)
        return;
    free(a->tenant);
    free(a->name);
    free(a->channel);
    free(a->memory_path);
    free(a->description);
    free(a->created_by);
    memset(a, 0, sizeof(*a));
}

gw_err store_agent_insert(struct store *st, const struct store_agent *a)
{
    if (!a || !a->tenant || !a->name)
        return GW_EINVAL;
    return st->ops->agent_insert(st, a);
}

gw_err store_agent_list(struct store *st, struct store_agent **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->agent_list(st, out, n);
}

gw_err store_agent_delete(struct store *st, const char *tenant, const char *name)
{
    if (!tenant || !name)
        return GW_EINVAL;
    return st->ops->agent_delete(st, tenant, name);
}

void store_agent_list_free(struct store_agent *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_agent_release(&list[i]);
    free(list);
}

/* --- messages -------------------------------------------------------------------------- */

gw_err store_message_insert(struct store *st, const struct store_message *m)
{
    if (!m || !m->id || !m->tenant || !m->channel)
        return GW_EINVAL;
    return st->ops->message_insert(st, m);
}

/* --- conversations ----------------------------------------------------------------------- */

gw_err store_conversation_open(struct store *st, const char *tenant, const char *user,
                               const char *channel, const char *session, int64_t now_ms,
                               char *id)
{
    if (!tenant || !user || !channel || !session || !id)
        return GW_EINVAL;
    return st->ops->conversation_open(st, tenant, user, channel, session, now_ms, id);
}

gw_err store_conversation_append(struct store *st, const char *id, const char *const *messages,
                                 size_t n, int64_t now_ms)
{
    if (!id || (n && !messages))
        return GW_EINVAL;
    return n ? st->ops->conversation_append(st, id, messages, n, now_ms) : GW_OK;
}

gw_err store_conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                               size_t *n)
{
    *messages = NULL;
    *n = 0;
    if (!id)
        return GW_EINVAL;
    return st->ops->conversation_tail(st, id, max, messages, n);
}

void store_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* --- audit ----------------------------------------------------------------------------- */

void audit_row_release(struct audit_row *r)
{
    if (!r)
        return;
    free(r->tenant);
    free(r->type);
    free(r->outcome);
    free(r->actor);
    free(r->token_id);
    free(r->org_unit);
    free(r->team);
    free(r->resource);
    free(r->request_id);
    free(r->client_ip);
    free(r->classification);
    free(r->details);
    free(r->prev_hash);
    free(r->hash);
    memset(r, 0, sizeof(*r));
}

gw_err store_audit_append(struct store *st, const struct audit_row *rows, size_t n)
{
    if (n == 0)
        return GW_OK;
    if (!rows)
        return GW_EINVAL;
    return st->ops->audit_append(st, rows, n);
}

gw_err store_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash)
{
    if (!tenant || !seq || !hash)
        return GW_EINVAL;
    *seq = 0;
    *hash = NULL;
    return st->ops->audit_head(st, tenant, seq, hash);
}

gw_err store_audit_tenants(struct store *st, char ***out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->audit_tenants(st, out, n);
}

static bool filter_valid(const struct audit_filter *f)
{
    if (!f || !f->tenant)
        return false;
    switch (f->vis) {
    case AUDIT_VIS_ALL:
        return true;
    case AUDIT_VIS_ORG:
    case AUDIT_VIS_TEAM:
    case AUDIT_VIS_ACTOR:
        return f->vis_scope != NULL;
    }
    return false;
}

gw_err store_audit_query(struct store *st, const struct audit_filter *f, size_t limit,
                         struct audit_row **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    if (!filter_valid(f))
        return GW_EINVAL;
    if (limit == 0)
        return GW_OK;
    return st->ops->audit_query(st, f, limit, out, n);
}

void store_audit_rows_free(struct audit_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        audit_row_release(&rows[i]);
    free(rows);
}

gw_err store_audit_scan(struct store *st, const struct audit_filter *f, store_audit_row_fn *fn,
                        void *ctx)
{
    if (!fn || !filter_valid(f))
        return GW_EINVAL;
    return st->ops->audit_scan(st, f, fn, ctx);
}

/* --- checkpoints ----------------------------------------------------------------------- */

void audit_checkpoint_release(struct audit_checkpoint *c)
{
    if (!c)
        return;
    free(c->tenant);
    free(c->hash);
    free(c->key_id);
    free(c->signature);
    memset(c, 0, sizeof(*c));
}

gw_err store_checkpoint_insert(struct store *st, const struct audit_checkpoint *c)
{
    if (!c || !c->tenant || !c->hash || !c->key_id || !c->signature)
        return GW_EINVAL;
    return st->ops->checkpoint_insert(st, c);
}

gw_err store_checkpoint_latest(struct store *st, const char *tenant, struct audit_checkpoint *out)
{
    if (!tenant || !out)
        return GW_EINVAL;
    memset(out, 0, sizeof(*out));
    return st->ops->checkpoint_latest(st, tenant, out);
}

gw_err store_checkpoint_list(struct store *st, const char *tenant, struct audit_checkpoint **out,
                             size_t *n)
{
    if (!tenant || !out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->checkpoint_list(st, tenant, out, n);
}

void store_checkpoint_list_free(struct audit_checkpoint *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        audit_checkpoint_release(&list[i]);
    free(list);
}

/* --- policies -------------------------------------------------------------------------- */

gw_err store_policy_insert(struct store *st, const char *tenant, const char *id, int64_t version,
                           const char *record_json)
{
    if (!tenant || !id || !record_json || version < 1) /* versions start at 1 */
        return GW_EINVAL;
    return st->ops->policy_insert(st, tenant, id, version, record_json);
}

gw_err store_policy_list(struct store *st, struct store_policy_version **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->policy_list(st, out, n);
}

void store_policy_list_free(struct store_policy_version *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].tenant);
        free(list[i].id);
        free(list[i].record);
    }
    free(list);
}

/* --- approval queue -------------------------------------------------------------------- */

void store_approval_release(struct store_approval *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->tenant);
    free(a->requester);
    free(a->approvers);
    free(a->action);
    free(a->policy);
    free(a->status);
    free(a->decided_by);
    free(a->comment);
    free(a->result);
    free(a->request_id);
    memset(a, 0, sizeof(*a));
}

gw_err store_approval_insert(struct store *st, const struct store_approval *a)
{
    if (!a || !a->id || !a->tenant || !a->requester || !a->action || !a->status)
        return GW_EINVAL;
    return st->ops->approval_insert(st, a);
}

gw_err store_approval_get(struct store *st, const char *tenant, const char *id,
                          struct store_approval *out)
{
    if (!tenant || !id || !out)
        return GW_EINVAL;
    memset(out, 0, sizeof(*out));
    return st->ops->approval_get(st, tenant, id, out);
}

gw_err store_approval_transition(struct store *st, const char *tenant, const char *id,
                                 const struct store_approval_change *ch)
{
    if (!tenant || !id || !ch || !ch->from || !ch->to)
        return GW_EINVAL;
    return st->ops->approval_transition(st, tenant, id, ch);
}

gw_err store_approval_list(struct store *st, const char *tenant, const char *status,
                           size_t limit, struct store_approval **out, size_t *n)
{
    if (!tenant || !out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    if (limit == 0)
        return GW_OK;
    return st->ops->approval_list(st, tenant, status, limit, out, n);
}

void store_approval_list_free(struct store_approval *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_approval_release(&list[i]);
    free(list);
}

gw_err store_approval_due(struct store *st, int64_t now_ms, size_t limit,
                          struct store_approval **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    if (limit == 0)
        return GW_OK;
    return st->ops->approval_due(st, now_ms, limit, out, n);
}

/* --- usage metering and budget alerts -------------------------------------------------- */

gw_err store_usage_append(struct store *st, const struct store_usage_row *rows, size_t n)
{
    if (n == 0)
        return GW_OK;
    if (!rows)
        return GW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!rows[i].tenant || !rows[i].workspace || !rows[i].provider || !rows[i].model ||
            !rows[i].month)
            return GW_EINVAL;
    return st->ops->usage_append(st, rows, n);
}

gw_err store_usage_month(struct store *st, const char *tenant, const char *month,
                         const char *workspace, struct store_usage_sum **out, size_t *n)
{
    if (!month || !out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->usage_month(st, tenant, month, workspace, out, n);
}

void store_usage_sums_free(struct store_usage_sum *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i].tenant);
        free(list[i].workspace);
        free(list[i].user_id);
        free(list[i].provider);
        free(list[i].model);
    }
    free(list);
}

gw_err store_budget_alert_insert(struct store *st, const char *tenant, const char *workspace,
                                 const char *month, const char *kind, int64_t sent_at_ms,
                                 bool *inserted)
{
    if (!tenant || !workspace || !month || !kind || !inserted ||
        (strcmp(kind, "threshold") != 0 && strcmp(kind, "exceeded") != 0))
        return GW_EINVAL;
    *inserted = false;
    return st->ops->budget_alert_insert(st, tenant, workspace, month, kind, sent_at_ms, inserted);
}
