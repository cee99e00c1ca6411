/* SPDX-License-Identifier: MIT
 * test_base_worker.c — the background-worker facility (src/base/worker.c).
 *
 * Items are heap ints; process records the batches it sees and can be held at a gate or told
 * to fail given batches. Covers lingering (an item waits for company, and not forever),
 * flush (everything posted before, and the error after a failed batch), post_wait (its
 * result; a failed batch drops the waited-for item and keeps the others for the retry),
 * back-pressure on a full queue (refuse, bounded wait, wait until room), stop (processes what
 * is queued; drops it when the last batch fails), sleep ending at stop, tick and the
 * consistent view. Waits for the worker are polled with a generous limit, never timed.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "base/worker.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

struct tctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct gw_worker *w;
    bool gate_closed; /* process waits while closed */
    bool in_process;
    gw_err results[8]; /* result of batch i (GW_OK when 0 = GW_OK) */
    bool always_fail;
    size_t batches;   /* process calls */
    size_t sizes[64]; /* items per call */
    int order[256];   /* items of successful batches, in order */
    size_t n_order;
    int released;
    int ticks;
    int64_t tick_again_ns; /* what tick returns */
    bool sleep_in_process;
    bool slept_result;
};

static void ctx_init(struct tctx *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
}

static void ctx_release(struct tctx *t)
{
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}

static gw_err t_process(void *arg, void *const *items, size_t n)
{
    struct tctx *t = arg;
    pthread_mutex_lock(&t->mu);
    t->in_process = true;
    pthread_cond_broadcast(&t->cv);
    while (t->gate_closed)
        pthread_cond_wait(&t->cv, &t->mu);
    size_t b = t->batches++;
    if (b < GW_ARRAY_LEN(t->sizes))
        t->sizes[b] = n;
    gw_err rc = t->always_fail ? GW_EIO : b < GW_ARRAY_LEN(t->results) ? t->results[b] : GW_OK;
    if (rc == GW_OK)
        for (size_t i = 0; i < n && t->n_order < GW_ARRAY_LEN(t->order); i++)
            t->order[t->n_order++] = *(int *)items[i];
    bool do_sleep = t->sleep_in_process;
    t->in_process = false;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    if (do_sleep) {
        bool r = gw_worker_sleep(t->w, 60000);
        pthread_mutex_lock(&t->mu);
        t->slept_result = r;
        t->sleep_in_process = false;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

static void t_release(void *arg, void *item)
{
    struct tctx *t = arg;
    t->released++; /* under the worker's queue lock */
    free(item);
}

static int64_t t_tick(void *arg)
{
    struct tctx *t = arg;
    pthread_mutex_lock(&t->mu);
    t->ticks++;
    int64_t again = t->tick_again_ns;
    t->tick_again_ns = 0;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return again;
}

static int *item(int v)
{
    int *p = malloc(sizeof *p);
    *p = v;
    return p;
}

static struct gw_worker_ops ops_with(unsigned linger_ms, size_t linger_items, size_t cap,
                                     int full_wait_ms)
{
    return (struct gw_worker_ops){.name = "test-worker",
                                  .what = "test items",
                                  .queue_cap = cap,
                                  .batch_max = 64,
                                  .linger_ms = linger_ms,
                                  .linger_items = linger_items,
                                  .full_wait_ms = full_wait_ms,
                                  .retry_ms = 10,
                                  .process = t_process,
                                  .release = t_release,
                                  .tick = t_tick};
}

/* Polls the worker's statistics until processed >= n (10 s at most). */
static bool wait_processed(struct gw_worker *w, uint64_t n)
{
    for (int i = 0; i < 10000; i++) {
        struct gw_worker_stats s;
        gw_worker_get_stats(w, &s);
        if (s.processed >= n)
            return true;
        usleep(1000);
    }
    return false;
}

static void wait_flag(struct tctx *t, bool *flag, bool value)
{
    pthread_mutex_lock(&t->mu);
    while (*flag != value)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void open_gate(struct tctx *t)
{
    pthread_mutex_lock(&t->mu);
    t->gate_closed = false;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static size_t queued(struct gw_worker *w)
{
    struct gw_worker_stats s;
    gw_worker_get_stats(w, &s);
    return s.queued;
}

/* --- lingering -------------------------------------------------------------------------------- */

static void linger_waits_for_company(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(60000, 4, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    assert_int_equal(gw_worker_post(t.w, item(1)), GW_OK);
    usleep(100 * 1000);
    struct gw_worker_stats s;
    gw_worker_get_stats(t.w, &s);
    assert_int_equal(s.processed, 0); /* alone: it waits for company */
    for (int i = 2; i <= 4; i++)
        assert_int_equal(gw_worker_post(t.w, item(i)), GW_OK);
    assert_true(wait_processed(t.w, 4)); /* the 4th makes the batch */
    assert_int_equal(t.batches, 1);
    assert_int_equal(t.sizes[0], 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(t.order[i], i + 1);
    gw_worker_stop(t.w);
    assert_int_equal(t.released, 4);
    ctx_release(&t);
}

static void linger_ends_in_time(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(20, 100, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    assert_int_equal(gw_worker_post(t.w, item(7)), GW_OK);
    assert_true(wait_processed(t.w, 1)); /* nobody flushes: the linger ends by itself */
    gw_worker_stop(t.w);
    ctx_release(&t);
}

/* --- flush and post_wait --------------------------------------------------------------------- */

static void flush_waits_for_what_was_posted(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(60000, 100, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(gw_worker_post(t.w, item(i)), GW_OK);
    assert_int_equal(gw_worker_flush(t.w), GW_OK); /* no lingering while someone flushes */
    assert_int_equal(t.n_order, 5);
    assert_int_equal(queued(t.w), 0);
    assert_int_equal(gw_worker_flush(t.w), GW_OK); /* nothing queued */

    t.results[1] = GW_EIO; /* the next batch fails once, then the item is retried */
    assert_int_equal(gw_worker_post(t.w, item(6)), GW_OK);
    assert_int_equal(gw_worker_flush(t.w), GW_EUNAVAIL);
    assert_true(wait_processed(t.w, 6));
    assert_int_equal(t.order[5], 6);
    struct gw_worker_stats s;
    gw_worker_get_stats(t.w, &s);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.dropped, 0);
    gw_worker_stop(t.w);
    ctx_release(&t);
}

struct poster {
    struct gw_worker *w;
    int value;
    bool wait;
    gw_err rc;
    bool returned;
    pthread_t th;
};

static void *poster_main(void *arg)
{
    struct poster *p = arg;
    int *it = item(p->value);
    p->rc = p->wait ? gw_worker_post_wait(p->w, it) : gw_worker_post(p->w, it);
    if (!p->wait && p->rc != GW_OK)
        free(it);
    __atomic_store_n(&p->returned, true, __ATOMIC_SEQ_CST);
    return NULL;
}

static void post_wait_gets_the_result(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(0, 0, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    assert_int_equal(gw_worker_post_wait(t.w, item(1)), GW_OK);
    assert_int_equal(t.n_order, 1);

    /* batch 1 holds X at the gate; A (async) and B (waited for) queue behind it and form
     * batch 2, which fails: B's poster gets the error, A is kept and retried (batch 3) */
    t.results[2] = GW_EIO;
    t.gate_closed = true;
    assert_int_equal(gw_worker_post(t.w, item(10)), GW_OK);
    wait_flag(&t, &t.in_process, true);
    assert_int_equal(gw_worker_post(t.w, item(11)), GW_OK);
    struct poster b = {.w = t.w, .value = 12, .wait = true};
    pthread_create(&b.th, NULL, poster_main, &b);
    while (queued(t.w) < 3)
        usleep(1000);
    open_gate(&t);
    pthread_join(b.th, NULL);
    assert_int_equal(b.rc, GW_EIO);
    assert_true(wait_processed(t.w, 3));
    assert_int_equal(t.n_order, 3);
    assert_int_equal(t.order[1], 10);
    assert_int_equal(t.order[2], 11); /* 12 was dropped with its error */
    struct gw_worker_stats s;
    gw_worker_get_stats(t.w, &s);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.dropped, 1);
    gw_worker_stop(t.w);
    assert_int_equal(t.released, 4);
    ctx_release(&t);
}

/* --- back-pressure --------------------------------------------------------------------------- */

/* The worker holds item 0 at the gate; 1..cap-1 fill the queue. */
static void fill(struct tctx *t, size_t cap)
{
    t->gate_closed = true;
    assert_int_equal(gw_worker_post(t->w, item(0)), GW_OK);
    wait_flag(t, &t->in_process, true);
    for (size_t i = 1; i < cap; i++)
        assert_int_equal(gw_worker_post(t->w, item((int)i)), GW_OK);
}

static void full_queue_refuses_or_waits(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(0, 0, 4, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    fill(&t, 4);
    int *extra = item(99);
    assert_int_equal(gw_worker_post(t.w, extra), GW_EUNAVAIL); /* refused at once */
    free(extra);
    assert_int_equal(gw_worker_post_wait(t.w, item(98)), GW_EUNAVAIL); /* released for us */
    open_gate(&t);
    gw_worker_stop(t.w);
    assert_int_equal(t.n_order, 4);
    ctx_release(&t);

    /* bounded wait: gives up */
    ctx_init(&t);
    ops = ops_with(0, 0, 4, 50);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    fill(&t, 4);
    extra = item(99);
    assert_int_equal(gw_worker_post(t.w, extra), GW_EUNAVAIL);
    free(extra);
    open_gate(&t);
    gw_worker_stop(t.w);
    ctx_release(&t);

    /* wait until room: the poster blocks until the batch is done */
    ctx_init(&t);
    ops = ops_with(0, 0, 4, -1);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    fill(&t, 4);
    struct poster p = {.w = t.w, .value = 5};
    pthread_create(&p.th, NULL, poster_main, &p);
    usleep(100 * 1000);
    assert_false(__atomic_load_n(&p.returned, __ATOMIC_SEQ_CST));
    open_gate(&t);
    pthread_join(p.th, NULL);
    assert_int_equal(p.rc, GW_OK);
    assert_int_equal(gw_worker_flush(t.w), GW_OK);
    assert_int_equal(t.n_order, 5);
    gw_worker_stop(t.w);
    ctx_release(&t);
}

/* --- stop ------------------------------------------------------------------------------------ */

static void stop_processes_what_is_queued(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(60000, 100, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(gw_worker_post(t.w, item(i)), GW_OK);
    gw_worker_stop(t.w); /* no lingering, no flush needed */
    assert_int_equal(t.n_order, 10);
    assert_int_equal(t.released, 10);
    ctx_release(&t);

    ctx_init(&t); /* a sink that keeps failing: dropped at shutdown, nothing leaks */
    t.always_fail = true;
    ops = ops_with(60000, 100, 16, 0);
    ops.retry_ms = 60000;
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(gw_worker_post(t.w, item(i)), GW_OK);
    gw_worker_stop(t.w);
    assert_int_equal(t.n_order, 0);
    assert_int_equal(t.released, 3);
    assert_true(t.batches >= 1);
    ctx_release(&t);
}

static void sleep_ends_at_stop(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(0, 0, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    t.sleep_in_process = true;
    t.slept_result = true;
    assert_int_equal(gw_worker_post(t.w, item(1)), GW_OK);
    usleep(50 * 1000);
    gw_worker_stop(t.w); /* would take a minute if the sleep ignored the stop */
    assert_false(t.slept_result);
    ctx_release(&t);
}

/* --- tick and view ---------------------------------------------------------------------------- */

static void tick_runs_when_kicked_and_when_due(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(0, 0, 16, 0);
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    usleep(20 * 1000);
    assert_int_equal(t.ticks, 0); /* nothing asked for it */
    t.tick_again_ns = gw_mono_ns() + 20 * 1000000;
    gw_worker_kick(t.w);
    pthread_mutex_lock(&t.mu);
    while (t.ticks < 2) /* the kick, then the time it asked for */
        pthread_cond_wait(&t.cv, &t.mu);
    pthread_mutex_unlock(&t.mu);
    assert_int_equal(gw_worker_post_wait(t.w, item(1)), GW_OK);
    pthread_mutex_lock(&t.mu);
    while (t.ticks < 3) /* after a batch */
        pthread_cond_wait(&t.cv, &t.mu);
    pthread_mutex_unlock(&t.mu);
    gw_worker_stop(t.w);
    ctx_release(&t);
}

static void collect(void *arg, const void *it)
{
    int *sum = arg;
    *sum = *sum * 10 + *(const int *)it;
}

static void view_sees_the_queued_items(void **state)
{
    struct tctx t;
    ctx_init(&t);
    struct gw_worker_ops ops = ops_with(60000, 100, 16, 0);
    ops.consistent_view = true;
    assert_int_equal(gw_worker_start(&ops, &t, &t.w), GW_OK);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(gw_worker_post(t.w, item(i)), GW_OK);
    int seen = 0;
    gw_worker_view_begin(t.w);
    gw_worker_foreach(t.w, collect, &seen);
    gw_worker_view_end(t.w);
    assert_int_equal(seen, 123);
    assert_int_equal(gw_worker_flush(t.w), GW_OK);
    seen = 0;
    gw_worker_foreach(t.w, collect, &seen);
    assert_int_equal(seen, 0);
    gw_worker_stop(t.w);
    ctx_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linger_waits_for_company),
        cmocka_unit_test(linger_ends_in_time),
        cmocka_unit_test(flush_waits_for_what_was_posted),
        cmocka_unit_test(post_wait_gets_the_result),
        cmocka_unit_test(full_queue_refuses_or_waits),
        cmocka_unit_test(stop_processes_what_is_queued),
        cmocka_unit_test(sleep_ends_at_stop),
        cmocka_unit_test(tick_runs_when_kicked_and_when_due),
        cmocka_unit_test(view_sees_the_queued_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
