/* SPDX-License-Identifier: MIT
 * store_grants.c — the public store API of namespace grants (store_grants.h): argument
 * checks and dispatch through struct store_grant_ops (sqlite/sqlite_grants.c implements it).
 */
#include "base/prelude.h"
#include "store/store_int.h"

const struct store_cols store_grant_cols = STORE_COLS_INIT(store_grant, STORE_GRANT_COLUMNS);

void store_grant_release(struct store_grant *g)
{
    store_row_release(&store_grant_cols, g);
}

gw_err store_grant_list(struct store *st, struct store_grant **out, size_t *n)
{
    return STORE_OUT_LIST(out, n) ? st->ops->grants->list(st, out, n) : GW_EINVAL;
}

void store_grant_list_free(struct store_grant *list, size_t n)
{
    store_rows_free(&store_grant_cols, list, n);
}

gw_err store_grant_insert(struct store *st, const struct store_grant *g)
{
    if (!g || !g->tenant || !g->ns || !g->kind || !g->value || !g->created_by)
        return GW_EINVAL;
    return st->ops->grants->insert(st, g);
}

gw_err store_grant_delete(struct store *st, const char *tenant, const char *ns, const char *kind,
                          const char *value)
{
    if (!tenant || !ns || !kind || !value)
        return GW_EINVAL;
    return st->ops->grants->remove(st, tenant, ns, kind, value);
}
