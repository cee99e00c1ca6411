/* SPDX-License-Identifier: MIT
 * worker.h — one background thread with a bounded queue: the gateway's background facility.
 *
 * A subsystem that writes or sends in the background (the audit writer, the usage writer, the
 * alert notifier) describes its items with a const struct gw_worker_ops and posts owned items;
 * the worker thread hands them to ops->process in batches, in posting order:
 *
 * - linger: an item nobody waits for waits up to linger_ms for company (a batch carries several
 *   items per fsync), unless linger_items are queued, someone waits (gw_worker_post_wait,
 *   gw_worker_flush) or the worker is stopping;
 * - back-pressure: at queue_cap items a post waits for room (full_wait_ms: bounded, forever or
 *   not at all) and then fails;
 * - failure: a batch that fails drops the items whose poster waits (it gets the error) and keeps
 *   the others, in order, for a retry after retry_ms;
 * - flush: waits until every item posted before the call has left the queue;
 * - stop: processes what is queued (no lingering, no backoff), then joins the thread; a batch
 *   that still fails then drops the whole queue (logged). Posts are refused once it stopped.
 *
 * Threading: every function may be called from any thread except gw_worker_sleep (worker
 * thread only). Items are released (ops->release) under the queue lock, so release must not
 * call back into the worker.
 */
#ifndef GW_WORKER_H
#define GW_WORKER_H

#include "base/prelude.h"
#include "base/err.h"

#include <pthread.h>

struct gw_worker;

struct gw_worker_ops {
    const char *name;     /* thread name (at most 15 characters) and log prefix */
    const char *what;     /* the items in log lines, plural: "audit events" */
    size_t queue_cap;     /* items queued at most, the batch in progress included */
    size_t batch_max;     /* items per process call */
    unsigned linger_ms;   /* an unwaited item waits this long for company ... */
    size_t linger_items;  /* ... unless this many are queued (0: no lingering) */
    int full_wait_ms;     /* a post on a full queue waits this long; -1: until room */
    unsigned retry_ms;    /* pause after a failed batch */
    bool consistent_view; /* gw_worker_view_begin excludes a batch's process + removal */
    /* Worker thread, no lock held: processes items[0..n). */
    gw_err (*process)(void *ctx, void *const *items, size_t n);
    /* Frees an item that left the queue, processed or dropped (under the queue lock). */
    void (*release)(void *ctx, void *item);
    /* Optional, under the queue lock as an item is accepted: stamps it in queue order. */
    void (*stamp)(void *ctx, void *item);
    /* Optional, worker thread, no lock held: runs after each batch, when kicked and at the
     * time it asked for; returns the monotonic time (gw_mono_ns) of its next run, 0 = none. */
    int64_t (*tick)(void *ctx);
};

struct gw_worker_stats {
    size_t queued;      /* items in the queue, the batch in progress included */
    uint64_t processed; /* items a successful batch removed */
    uint64_t batches;   /* successful batches */
    uint64_t failures;  /* failed batches */
    uint64_t dropped;   /* items removed unprocessed (failed with a waiter, or at stop) */
};

/* Starts the thread; ops must outlive the worker. */
gw_err gw_worker_start(const struct gw_worker_ops *ops, void *ctx, struct gw_worker **out);
/* Drains (see above), joins and frees. */
void gw_worker_stop(struct gw_worker *w);

/* Queues item (ownership passes on GW_OK). GW_EUNAVAIL: the queue stayed full; GW_ECANCELED:
 * the worker stopped. On failure the caller keeps the item. */
gw_err gw_worker_post(struct gw_worker *w, void *item);
/* Queues item and waits until it was processed: process's result, GW_OK or its error.
 * The item is released by the worker whatever the result; GW_EUNAVAIL / GW_ECANCELED as
 * gw_worker_post, and then it is released before the return. */
gw_err gw_worker_post_wait(struct gw_worker *w, void *item);
/* Waits until every item posted before the call left the queue: GW_OK, GW_EUNAVAIL when a
 * batch failed meanwhile, GW_ECANCELED when the worker stopped with items left. */
gw_err gw_worker_flush(struct gw_worker *w);
/* Runs ops->tick soon (work requested by another thread). */
void gw_worker_kick(struct gw_worker *w);
/* Ends the pause after a failed batch: queued items are retried at once. */
void gw_worker_retry_now(struct gw_worker *w);
/* Worker thread: sleeps ms unless the worker is stopping; false when it is. */
bool gw_worker_sleep(struct gw_worker *w, unsigned ms);
void gw_worker_get_stats(struct gw_worker *w, struct gw_worker_stats *s);

/* With ops->consistent_view: between begin and end no batch is processed and removed, so a
 * reader can add the queued items (gw_worker_foreach) to what the sink held already. */
void gw_worker_view_begin(struct gw_worker *w);
void gw_worker_view_end(struct gw_worker *w);
/* Visits the queued items in order, under the queue lock. */
void gw_worker_foreach(struct gw_worker *w, void (*fn)(void *arg, const void *item), void *arg);

/* --- helpers for condition variables on the monotonic clock ----------------------------------- */

void gw_cond_init_mono(pthread_cond_t *cv);
/* pthread_cond_timedwait until the monotonic time deadline_ns (cv made by gw_cond_init_mono);
 * false once the deadline passed. */
bool gw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns);

#endif
