/* SPDX-License-Identifier: MIT
 * audit_sink.h — where committed audit events go: sinks on the commit path, and the slot for
 * forwarders off it.
 *
 * Sinks. The writer (audit_writer.c) chains a batch, signs the head of every tenant it extends
 * and appends it to each sink in order: the store first (audit_sink_store.c), the single source
 * of truth: the batch is committed when the store's transaction is; then the derived sinks (the
 * JSON Lines file, audit_file.c), which only ever receive committed events. A derived sink that
 * fails does not undo the commit: the writer brings it back in step with the store (reconcile)
 * before the next batch, and refuses batches while it cannot. Sinks are used by the writer
 * thread only.
 *
 * Forwarders (SIEM export over HEC, syslog, ...; a later issue) are not sinks: a slow or
 * unreachable SIEM must neither hold up nor fail a commit. A forwarder keeps a cursor
 * (tenant, seq) per tenant, reads the committed chain after it from the store
 * (store_audit_query) on its own gw_worker and delivers at least once. The writer only tells it,
 * after each committed batch, where each tenant's chain ends now, so it need not poll.
 */
#ifndef GW_AUDIT_SINK_H
#define GW_AUDIT_SINK_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store.h"

struct audit;

/* A chained batch: rows[i] has seq, prev_hash and hash; heads are the signed heads of the
 * tenants it extends, nodes the tree nodes it completes; lines is the JSONL text of the rows
 * (one line each, "hash" last) followed by the heads' lines, when some sink wants_lines. */
struct audit_batch {
    const struct store_audit_row *rows;
    size_t n;
    const char *const *past_end; /* tenants continued past the store's end (store_audit.h) */
    size_t n_past_end;
    const struct store_audit_checkpoint *heads;
    size_t n_heads;
    const struct store_audit_node *nodes;
    size_t n_nodes;
    const char *lines;
    size_t len;
};

struct audit_sink;

struct audit_sink_ops {
    const char *name; /* "file", "store": log lines */
    bool wants_lines; /* appends need the JSONL text */
    /* Optional, before each batch: make the sink usable (reopen a broken file, rotate);
     * *fresh when it starts a new file, which the writer then anchors with checkpoints. */
    gw_err (*ready)(struct audit_sink *s, int64_t now_ms, bool *fresh);
    /* Appends the batch, all or nothing (the store: durably). */
    gw_err (*append)(struct audit_sink *s, const struct audit_batch *b);
    /* The reason of the last failure, for the log. */
    const char *(*error)(const struct audit_sink *s);
    void (*close)(struct audit_sink *s);
};

struct audit_sink {
    const struct audit_sink_ops *ops; /* first member of every implementation */
};

/* --- the JSON Lines file (audit_file.c) ---------------------------------------------------- */

/* A file sink with no file yet. */
struct audit_sink *audit_file_sink_new(void);
/* Opens path (NULL or "": no file) with these options, closing the current file. GW_EAUDIT
 * when it cannot be opened: the sink then stays configured but broken (ready retries). */
gw_err audit_file_sink_configure(struct audit_sink *s, const char *path, bool rotate_daily,
                                 unsigned retain_days, int64_t now_ms);
bool audit_file_sink_enabled(const struct audit_sink *s);

/* --- the store (audit_sink_store.c) ---------------------------------------------------------- */

struct audit_sink *audit_store_sink_new(struct store *st);

/* --- forwarders ---------------------------------------------------------------------------- */

struct audit_forwarder_ops {
    const char *name;
    /* Writer thread, after a batch committed: tenant's chain ends at seq now. Must not block
     * (post to or kick the forwarder's own worker). */
    void (*committed)(void *fwd, const char *tenant, int64_t seq);
};

#define AUDIT_MAX_FORWARDERS 8

/* Registers a forwarder before the first event is recorded; ops and fwd stay valid until
 * audit_forwarder_remove or audit_close. */
gw_err audit_forwarder_add(struct audit *a, const struct audit_forwarder_ops *ops, void *fwd);
/* Unregisters it: once this returns, committed is not called for fwd any more. */
void audit_forwarder_remove(struct audit *a, void *fwd);

#endif
