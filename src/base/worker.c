/* SPDX-License-Identifier: MIT
 * worker.c — struct gw_worker: the queue, the thread's loop and the waiters (see worker.h).
 *
 * The queue is a ring of slots (item, ticket, arrival time, waiter) under one mutex. The batch
 * being processed stays at the head of the ring until it is settled, so flush (tickets) and
 * the queue bound see it. Three condition variables: work (the thread waits for items, its
 * timers or stop), space (posters wait for room) and idle (flush waits for progress). A poster
 * that waits for its item sleeps on its own condition variable, signalled once when the item
 * is settled, so one settled batch wakes exactly its waiters.
 */
#include "base/prelude.h"
#include "base/worker.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <time.h>

struct waiter {
    pthread_cond_t cv;
    bool done;
    gw_err rc;
};

struct slot {
    void *item;
    uint64_t ticket;       /* posting order, for flush */
    int64_t queued_ns;     /* arrival (monotonic), for lingering */
    struct waiter *waiter; /* NULL: nobody waits */
};

struct gw_worker {
    const struct gw_worker_ops *ops;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, space_cv, idle_cv;
    pthread_rwlock_t view; /* ops->consistent_view: held for writing by a batch */
    struct slot *q;        /* ring of ops->queue_cap */
    size_t head, len;
    uint64_t tickets;    /* last ticket handed out */
    unsigned urgent;     /* waiting posters and flush callers: no lingering */
    int64_t retry_at_ns; /* end of the pause after a failed batch */
    int64_t tick_at_ns;  /* next timed ops->tick, 0 = none */
    bool kicked, stopping, stopped;
    struct gw_worker_stats st;
    void **batch; /* worker thread only */
};

void gw_cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t at;
    pthread_condattr_init(&at);
    pthread_condattr_setclock(&at, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &at);
    pthread_condattr_destroy(&at);
}

bool gw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000),
                          .tv_nsec = (long)(deadline_ns % 1000000000)};
    return pthread_cond_timedwait(cv, mu, &ts) != ETIMEDOUT;
}

static struct slot *slot_at(struct gw_worker *w, size_t i)
{
    return &w->q[(w->head + i) % w->ops->queue_cap];
}

/* Under w->mu: removes the head slot, completing its waiter with rc. */
static void pop_head(struct gw_worker *w, gw_err rc)
{
    struct slot *s = slot_at(w, 0);
    if (s->waiter) {
        s->waiter->rc = rc;
        s->waiter->done = true;
        pthread_cond_signal(&s->waiter->cv);
    }
    w->ops->release(w->ctx, s->item);
    w->head = (w->head + 1) % w->ops->queue_cap;
    w->len--;
}

/* Under w->mu, after processing the first n slots with result rc. */
static void settle(struct gw_worker *w, size_t n, gw_err rc)
{
    if (rc == GW_OK) {
        for (size_t i = 0; i < n; i++)
            pop_head(w, GW_OK);
        w->st.processed += n;
        w->st.batches++;
        w->retry_at_ns = 0;
    } else {
        /* Drop the waited-for items (their posters get rc); keep the others in order, packed
         * at the end of the batch's slots. */
        size_t keep = n;
        for (size_t i = n; i-- > 0;) {
            struct slot s = *slot_at(w, i);
            if (s.waiter) {
                s.waiter->rc = rc;
                s.waiter->done = true;
                pthread_cond_signal(&s.waiter->cv);
                w->ops->release(w->ctx, s.item);
                w->st.dropped++;
            } else {
                *slot_at(w, --keep) = s;
            }
        }
        w->head = (w->head + keep) % w->ops->queue_cap;
        w->len -= keep;
        w->st.failures++;
        w->retry_at_ns = gw_mono_ns() + (int64_t)w->ops->retry_ms * 1000000;
        if (w->stopping && w->len) {
            gw_error("%s: %zu queued %s could not be written at shutdown", w->ops->name, w->len,
                     w->ops->what);
            w->st.dropped += w->len;
            while (w->len)
                pop_head(w, rc);
        }
    }
    pthread_cond_broadcast(&w->space_cv);
    pthread_cond_broadcast(&w->idle_cv);
}

/* Under w->mu: processes the first n queued items (the lock is dropped meanwhile). */
static void run_batch(struct gw_worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        w->batch[i] = slot_at(w, i)->item;
    pthread_mutex_unlock(&w->mu);
    if (w->ops->consistent_view)
        pthread_rwlock_wrlock(&w->view);
    gw_err rc = w->ops->process(w->ctx, w->batch, n);
    pthread_mutex_lock(&w->mu);
    settle(w, n, rc);
    if (w->ops->consistent_view) {
        pthread_mutex_unlock(&w->mu);
        pthread_rwlock_unlock(&w->view);
        pthread_mutex_lock(&w->mu);
    }
}

static void *worker_main(void *arg)
{
    struct gw_worker *w = arg;
    const struct gw_worker_ops *ops = w->ops;
    pthread_setname_np(pthread_self(), ops->name); /* visible in top, perf, gdb */
    bool tick_now = false;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        int64_t now = gw_mono_ns();
        if (ops->tick && (tick_now || w->kicked || (w->tick_at_ns && now >= w->tick_at_ns))) {
            tick_now = w->kicked = false;
            pthread_mutex_unlock(&w->mu);
            int64_t next = ops->tick(w->ctx);
            pthread_mutex_lock(&w->mu);
            w->tick_at_ns = next;
            continue;
        }
        int64_t linger_until = w->len ? slot_at(w, 0)->queued_ns + (int64_t)ops->linger_ms * 1000000
                                      : 0;
        /* after a failed batch the backoff applies, not the linger */
        if (w->len > 0 && w->len < ops->linger_items && w->urgent == 0 && !w->stopping &&
            w->retry_at_ns == 0 && now < linger_until) {
            gw_cond_wait_until(&w->work_cv, &w->mu, linger_until);
            continue;
        }
        if (w->len > 0 && (w->stopping || now >= w->retry_at_ns)) {
            run_batch(w, GW_MIN(w->len, ops->batch_max));
            tick_now = true;
            continue;
        }
        if (w->stopping && w->len == 0)
            break;
        int64_t wake = w->tick_at_ns;
        if (w->len > 0 && (wake == 0 || w->retry_at_ns < wake))
            wake = w->retry_at_ns;
        if (wake)
            gw_cond_wait_until(&w->work_cv, &w->mu, wake);
        else
            pthread_cond_wait(&w->work_cv, &w->mu);
    }
    w->stopped = true;
    pthread_cond_broadcast(&w->idle_cv);
    pthread_cond_broadcast(&w->space_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

gw_err gw_worker_start(const struct gw_worker_ops *ops, void *ctx, struct gw_worker **out)
{
    *out = NULL;
    if (!ops || !ops->process || !ops->release || !ops->queue_cap || !ops->batch_max)
        return GW_EINVAL;
    struct gw_worker *w = gw_xcalloc(1, sizeof *w);
    w->ops = ops;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    gw_cond_init_mono(&w->work_cv);
    gw_cond_init_mono(&w->space_cv);
    gw_cond_init_mono(&w->idle_cv);
    pthread_rwlock_init(&w->view, NULL);
    w->q = gw_xcalloc(ops->queue_cap, sizeof *w->q);
    w->batch = gw_xcalloc(ops->batch_max, sizeof *w->batch);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        w->stopped = true; /* nothing to join */
        gw_worker_stop(w);
        return GW_EINTERNAL;
    }
    *out = w;
    return GW_OK;
}

void gw_worker_stop(struct gw_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    bool running = !w->stopped;
    w->stopping = true;
    pthread_cond_broadcast(&w->work_cv);
    pthread_cond_broadcast(&w->space_cv);
    pthread_mutex_unlock(&w->mu);
    if (running)
        pthread_join(w->thread, NULL);
    while (w->len) /* none unless the thread never ran */
        pop_head(w, GW_ECANCELED);
    free(w->q);
    free(w->batch);
    pthread_rwlock_destroy(&w->view);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work_cv);
    pthread_cond_destroy(&w->space_cv);
    pthread_cond_destroy(&w->idle_cv);
    free(w);
}

/* Under w->mu: waits for room as ops->full_wait_ms says; the error when there is none. */
static gw_err wait_room(struct gw_worker *w)
{
    const struct gw_worker_ops *ops = w->ops;
    if (w->len == ops->queue_cap && !w->stopped && ops->full_wait_ms != 0) {
        if (ops->full_wait_ms < 0)
            gw_warn("%s: the queue is full (%zu %s); waiting for room", ops->name, ops->queue_cap,
                    ops->what);
        int64_t until = gw_mono_ns() + (int64_t)ops->full_wait_ms * 1000000;
        while (w->len == ops->queue_cap && !w->stopped) {
            if (ops->full_wait_ms < 0)
                pthread_cond_wait(&w->space_cv, &w->mu);
            else if (!gw_cond_wait_until(&w->space_cv, &w->mu, until))
                break;
        }
    }
    if (w->stopped)
        return GW_ECANCELED;
    return w->len == ops->queue_cap ? GW_EUNAVAIL : GW_OK;
}

static gw_err enqueue(struct gw_worker *w, void *item, struct waiter *wt)
{
    gw_err rc = wait_room(w);
    if (rc != GW_OK)
        return rc;
    if (w->ops->stamp)
        w->ops->stamp(w->ctx, item);
    *slot_at(w, w->len) = (struct slot){item, ++w->tickets, gw_mono_ns(), wt};
    w->len++;
    if (wt)
        w->urgent++;
    /* An unwaited item need not wake the thread: it lingers for company, and the thread is
     * woken by the first item (to time the linger) and when enough are queued. */
    if (wt || w->len == 1 || w->len >= w->ops->linger_items)
        pthread_cond_signal(&w->work_cv);
    return GW_OK;
}

gw_err gw_worker_post(struct gw_worker *w, void *item)
{
    pthread_mutex_lock(&w->mu);
    gw_err rc = enqueue(w, item, NULL);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

gw_err gw_worker_post_wait(struct gw_worker *w, void *item)
{
    struct waiter wt = {.done = false, .rc = GW_EINTERNAL};
    pthread_cond_init(&wt.cv, NULL);
    pthread_mutex_lock(&w->mu);
    gw_err rc = enqueue(w, item, &wt);
    if (rc == GW_OK) {
        while (!wt.done)
            pthread_cond_wait(&wt.cv, &w->mu);
        w->urgent--;
        rc = wt.rc;
    } else {
        w->ops->release(w->ctx, item);
    }
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&wt.cv);
    return rc;
}

gw_err gw_worker_flush(struct gw_worker *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->tickets, failures = w->st.failures;
    gw_err rc = GW_OK;
    w->urgent++;
    pthread_cond_signal(&w->work_cv);
    while (w->len > 0 && slot_at(w, 0)->ticket <= target) {
        /* The oldest queued item is ours, so a batch that failed since we started held it. */
        if (w->st.failures != failures || w->stopped) {
            rc = w->stopped ? GW_ECANCELED : GW_EUNAVAIL;
            break;
        }
        pthread_cond_wait(&w->idle_cv, &w->mu);
    }
    w->urgent--;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

void gw_worker_kick(struct gw_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->kicked = true;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
}

void gw_worker_retry_now(struct gw_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->retry_at_ns = 0;
    pthread_cond_signal(&w->work_cv);
    pthread_mutex_unlock(&w->mu);
}

bool gw_worker_sleep(struct gw_worker *w, unsigned ms)
{
    int64_t until = gw_mono_ns() + (int64_t)ms * 1000000;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && gw_cond_wait_until(&w->work_cv, &w->mu, until))
        continue;
    bool go_on = !w->stopping;
    pthread_mutex_unlock(&w->mu);
    return go_on;
}

void gw_worker_get_stats(struct gw_worker *w, struct gw_worker_stats *s)
{
    pthread_mutex_lock(&w->mu);
    *s = w->st;
    s->queued = w->len;
    pthread_mutex_unlock(&w->mu);
}

void gw_worker_view_begin(struct gw_worker *w)
{
    pthread_rwlock_rdlock(&w->view);
}

void gw_worker_view_end(struct gw_worker *w)
{
    pthread_rwlock_unlock(&w->view);
}

void gw_worker_foreach(struct gw_worker *w, void (*fn)(void *arg, const void *item), void *arg)
{
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->len; i++)
        fn(arg, slot_at(w, i)->item);
    pthread_mutex_unlock(&w->mu);
}
