/* SPDX-License-Identifier: MIT
 * audit_sink_store.c — the store as an audit sink (audit_sink.h): each batch is one fsynced
 * transaction of the store (store_audit_append), all or nothing, which cannot be taken back
 * once committed, so the store is the last sink. Checkpoints that cover events no stored
 * checkpoint covers yet are inserted; one the store has already (a race with another writer of
 * the same chain) counts as kept.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"

struct sink {
    struct audit_sink base;
    struct store *st;
};

static gw_err sink_append(struct audit_sink *s, const struct audit_batch *b)
{
    return store_audit_append(((struct sink *)s)->st, b->rows, b->n);
}

static gw_err sink_checkpoints(struct audit_sink *s, struct audit_checkpoint_set *set)
{
    struct store *st = ((struct sink *)s)->st;
    for (size_t i = 0; i < set->n; i++) {
        if (!set->new_coverage[i])
            continue;
        gw_err rc = store_checkpoint_insert(st, &set->cps[i]);
        if (rc == GW_OK || rc == GW_ECONFLICT)
            set->kept[i] = true;
        else
            gw_warn("audit: cannot store the checkpoint of %s at seq %lld (%s)",
                    set->cps[i].tenant, (long long)set->cps[i].seq, gw_err_name(rc));
    }
    return GW_OK;
}

static const char *sink_error(const struct audit_sink *s)
{
    GW_UNUSED(s);
    return "append failed";
}

static void sink_close(struct audit_sink *s)
{
    free(s);
}

static const struct audit_sink_ops store_ops = {
    .name = "store",
    .append = sink_append,
    .checkpoints = sink_checkpoints,
    .error = sink_error,
    .close = sink_close,
};

struct audit_sink *audit_store_sink_new(struct store *st)
{
    struct sink *s = gw_xcalloc(1, sizeof *s);
    s->base.ops = &store_ops;
    s->st = st;
    return &s->base;
}
