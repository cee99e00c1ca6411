/* SPDX-License-Identifier: MIT
 * store_audit.c — the public API of the audit trail's rows and checkpoints (store_audit.h):
 * argument checks (a filter must say whose rows it may see) and dispatch through struct
 * store_audit_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_audit_row_cols =
    STORE_COLS_INIT(store_audit_row, STORE_AUDIT_ROW_COLUMNS);
const struct store_cols store_checkpoint_cols =
    STORE_COLS_INIT(store_audit_checkpoint, STORE_CHECKPOINT_COLUMNS);

void store_audit_row_release(struct store_audit_row *r)
{
    store_row_release(&store_audit_row_cols, r);
}

gw_err store_audit_append(struct store *st, const struct store_audit_row *rows, size_t n)
{
    if (n == 0)
        return GW_OK;
    if (!rows)
        return GW_EINVAL;
    return st->ops->audit->append(st, rows, n);
}

gw_err store_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash)
{
    if (!tenant || !seq || !hash)
        return GW_EINVAL;
    *seq = 0;
    *hash = NULL;
    return st->ops->audit->head(st, tenant, seq, hash);
}

gw_err store_audit_tenants(struct store *st, char ***out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->audit->tenants(st, out, n) : GW_EINVAL;
}

static bool filter_valid(const struct store_audit_filter *f)
{
    if (!f || !f->tenant)
        return false;
    switch (f->vis) {
    case STORE_AUDIT_VIS_ALL:
        return true;
    case STORE_AUDIT_VIS_ORG:
    case STORE_AUDIT_VIS_TEAM:
    case STORE_AUDIT_VIS_ACTOR:
        return f->vis_scope != NULL;
    }
    return false;
}

gw_err store_audit_query(struct store *st, const struct store_audit_filter *f, size_t limit,
                         struct store_audit_row **out, size_t *n)
{
    if (!STORE_OUT_LIST(out, n) || !filter_valid(f))
        return GW_EINVAL;
    if (limit == 0)
        return GW_OK;
    return st->ops->audit->query(st, f, limit, out, n);
}

void store_audit_rows_free(struct store_audit_row *rows, size_t n)
{
    store_rows_free(&store_audit_row_cols, rows, n);
}

gw_err store_audit_scan(struct store *st, const struct store_audit_filter *f,
                        store_audit_row_fn *fn, void *ctx)
{
    if (!fn || !filter_valid(f))
        return GW_EINVAL;
    return st->ops->audit->scan(st, f, fn, ctx);
}

void store_audit_checkpoint_release(struct store_audit_checkpoint *c)
{
    store_row_release(&store_checkpoint_cols, c);
}

gw_err store_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c)
{
    if (!c || !c->tenant || !c->hash || !c->key_id || !c->signature)
        return GW_EINVAL;
    return st->ops->audit->checkpoint_insert(st, c);
}

gw_err store_checkpoint_latest(struct store *st, const char *tenant,
                               struct store_audit_checkpoint *out)
{
    if (!tenant || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->audit->checkpoint_latest(st, tenant, out);
}

gw_err store_checkpoint_list(struct store *st, const char *tenant,
                             struct store_audit_checkpoint **out, size_t *n)
{
    if (!tenant || !STORE_OUT_LIST(out, n))
        return GW_EINVAL;
    return st->ops->audit->checkpoint_list(st, tenant, out, n);
}

void store_checkpoint_list_free(struct store_audit_checkpoint *list, size_t n)
{
    store_rows_free(&store_checkpoint_cols, list, n);
}

gw_err store_audit_cursor_get(struct store *st, const char *dest, const char *tenant,
                              int64_t *seq)
{
    if (!dest || !tenant || !seq)
        return GW_EINVAL;
    *seq = 0;
    return st->ops->audit->cursor_get(st, dest, tenant, seq);
}

gw_err store_audit_cursor_set(struct store *st, const char *dest, const char *tenant,
                              int64_t seq, int64_t now_ms)
{
    if (!dest || !tenant || seq < 0)
        return GW_EINVAL;
    return st->ops->audit->cursor_set(st, dest, tenant, seq, now_ms);
}
