/* SPDX-License-Identifier: MIT
 * store_grants.c — the public store API of namespace grants: argument checks and dispatch
 * through struct store_grant_ops (store_sqlite_grants.c implements it).
 */
#include "base/prelude.h"
#include "store/store_int.h"

void store_grant_release(struct store_grant *g)
{
    if (!g)
        return;
    free(g->tenant);
    free(g->ns);
    free(g->kind);
    free(g->value);
    free(g->created_by);
    memset(g, 0, sizeof(*g));
}

gw_err store_grant_list(struct store *st, struct store_grant **out, size_t *n)
{
    if (!out || !n)
        return GW_EINVAL;
    *out = NULL;
    *n = 0;
    return st->ops->grants->list(st, out, n);
}

void store_grant_list_free(struct store_grant *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        store_grant_release(&list[i]);
    free(list);
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
