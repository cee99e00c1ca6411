/* SPDX-License-Identifier: MIT
 * store_lease.c — the public API of leases (store_lease.h): argument checks and dispatch
 * through struct store_lease_ops; a backend without one (SQLite: one process owns the data
 * directory) holds every lease, and its cursors go through the ordinary store call.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "store/store_int.h"

gw_err store_lease_open(struct store *st, const char *name, const char *node_id,
                        struct store_lease **out)
{
    if (!st || !name || !name[0] || !node_id || !node_id[0] || !out)
        return GW_EINVAL;
    const struct store_lease_ops *ops = st->ops->lease;
    struct store_lease *l = NULL;
    if (ops) {
        gw_err rc = ops->open(st, name, node_id, &l);
        if (rc != GW_OK)
            return rc;
    } else {
        l = gw_xcalloc(1, sizeof *l);
    }
    l->st = st;
    l->name = gw_xstrdup(name);
    l->node_id = gw_xstrdup(node_id);
    *out = l;
    return GW_OK;
}

gw_err store_lease_hold(struct store_lease *l, bool *held)
{
    const struct store_lease_ops *ops = l->st->ops->lease;
    if (!ops) {
        *held = true;
        return GW_OK;
    }
    return ops->hold(l, held);
}

gw_err store_lease_cursor_set(struct store_lease *l, const char *tenant, int64_t seq,
                              int64_t now_ms)
{
    const struct store_lease_ops *ops = l->st->ops->lease;
    if (!ops)
        return store_audit_cursor_set(l->st, l->name, tenant, seq, now_ms);
    if (!tenant || seq < 0)
        return GW_EINVAL;
    return ops->cursor_set(l, tenant, seq, now_ms);
}

gw_err store_lease_holder(struct store *st, const char *name, char **node_id)
{
    *node_id = NULL;
    if (!name)
        return GW_EINVAL;
    return st->ops->lease ? st->ops->lease->holder(st, name, node_id) : GW_OK;
}

bool store_lease_shared(const struct store_lease *l)
{
    return l->st->ops->lease != NULL;
}

void store_lease_close(struct store_lease *l)
{
    if (!l)
        return;
    if (l->st->ops->lease)
        l->st->ops->lease->close(l);
    free(l->name);
    free(l->node_id);
    free(l);
}
