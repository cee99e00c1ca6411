/* SPDX-License-Identifier: MIT
 * audit_sink_store.c — the store as an audit sink (audit_sink.h): each batch is one fsynced
 * transaction of the store (store_audit_commit: rows, signed heads and tree nodes together), all
 * or nothing. The store is the source of truth, so it is the first sink: a batch is committed
 * when this transaction is.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/mem.h"

struct sink {
    struct audit_sink base;
    struct store *st;
};

static gw_err sink_append(struct audit_sink *s, const struct audit_batch *b)
{
    struct store_audit_commit c = {.rows = b->rows,
                                   .n_rows = b->n,
                                   .past_end = b->past_end,
                                   .n_past_end = b->n_past_end,
                                   .heads = b->heads,
                                   .n_heads = b->n_heads,
                                   .nodes = b->nodes,
                                   .n_nodes = b->n_nodes};
    return store_audit_commit(((struct sink *)s)->st, &c);
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
