/* SPDX-License-Identifier: MIT
 * store_approvals.c — the public API of the approval queue (store_approvals.h): argument checks
 * and dispatch through struct store_approval_ops.
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_approval_cols = STORE_COLS_INIT(store_approval,
                                                              STORE_APPROVAL_COLUMNS);

void store_approval_release(struct store_approval *a)
{
    store_row_release(&store_approval_cols, a);
}

gw_err store_approval_insert(struct store *st, const struct store_approval *a)
{
    if (!a || !a->id || !a->tenant || !a->requester || !a->action || !a->status)
        return GW_EINVAL;
    return st->ops->approvals->insert(st, a);
}

gw_err store_approval_get(struct store *st, const char *tenant, const char *id,
                          struct store_approval *out)
{
    if (!tenant || !id || !STORE_OUT_ROW(out))
        return GW_EINVAL;
    return st->ops->approvals->get(st, tenant, id, out);
}

gw_err store_approval_transition(struct store *st, const char *tenant, const char *id,
                                 const struct store_approval_change *ch)
{
    if (!tenant || !id || !ch || !ch->from || !ch->to)
        return GW_EINVAL;
    return st->ops->approvals->transition(st, tenant, id, ch);
}

gw_err store_approval_list(struct store *st, const char *tenant, const char *status, size_t limit,
                           struct store_approval **out, size_t *n)
{
    if (!tenant || !STORE_OUT_LIST(out, n))
        return GW_EINVAL;
    if (limit == 0)
        return GW_OK;
    return st->ops->approvals->list(st, tenant, status, limit, out, n);
}

void store_approval_list_free(struct store_approval *list, size_t n)
{
    store_rows_free(&store_approval_cols, list, n);
}

gw_err store_approval_due(struct store *st, int64_t now_ms, size_t limit,
                          struct store_approval **out, size_t *n)
{
    if (!STORE_OUT_LIST(out, n))
        return GW_EINVAL;
    if (limit == 0)
        return GW_OK;
    return st->ops->approvals->due(st, now_ms, limit, out, n);
}
