/* SPDX-License-Identifier: MIT
 * test_llm_sched.c — the provider admission scheduler: concurrency, requests and tokens per
 * minute, fairness across users and tenants, bounded queue and wait, wake-ups and statistics.
 * Time is simulated: every call gets an explicit "now" in milliseconds.
 */
#include "base/prelude.h"
#include "llm/llm_sched.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static struct cfg_provider_limits limits(unsigned conc, unsigned rpm, unsigned tpm,
                                         unsigned max_queue, unsigned max_wait_ms)
{
    struct cfg_provider_limits l = {.max_concurrent = conc,
                                    .rpm = rpm,
                                    .tpm = tpm,
                                    .max_queue = max_queue,
                                    .max_wait_ms = max_wait_ms};
    return l;
}

static struct llm_ticket ticket(const char *tenant, const char *user, int64_t est)
{
    struct llm_ticket t = {.tenant = tenant, .user = user, .est_tokens = est};
    return t;
}

static void concurrency_cap(void **state)
{
    struct cfg_provider_limits l = limits(2, 0, 0, 10, 10000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket a = ticket("t", "u", 10), b = ticket("t", "u", 10), c = ticket("t", "v", 10);
    assert_int_equal(llm_sched_submit(s, &a, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &b, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &c, 0), LLM_QUEUED);
    assert_null(llm_sched_next(s, 5));
    /* releasing something not running changes nothing */
    llm_sched_release(s, &c, -1, 5);
    assert_null(llm_sched_next(s, 5));
    llm_sched_release(s, &a, -1, 10);
    /* a slot is free, but c waits for it: a newcomer does not jump the queue */
    struct llm_ticket e = ticket("t", "w", 10);
    assert_int_equal(llm_sched_submit(s, &e, 10), LLM_QUEUED);
    assert_ptr_equal(llm_sched_next(s, 10), &c);
    assert_true(c.running);
    assert_false(c.queued);
    assert_null(llm_sched_next(s, 10));
    /* a second release of the same ticket does not free a second slot */
    llm_sched_release(s, &a, -1, 11);
    struct llm_ticket d = ticket("t", "u", 1);
    assert_int_equal(llm_sched_submit(s, &d, 11), LLM_QUEUED);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.running, 2);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.max_concurrent, 2);
    assert_int_equal(st.admitted, 3);
    llm_sched_free(s);

    /* max_concurrent 0 means 1 */
    l = limits(0, 0, 0, 10, 10000);
    s = llm_sched_new(&l);
    assert_int_equal(llm_sched_submit(s, &a, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &b, 0), LLM_QUEUED);
    llm_sched_stats(s, &st);
    assert_int_equal(st.max_concurrent, 1);
    llm_sched_free(s); /* b still queued: forgotten, nothing leaks */
}

static void rpm_cap(void **state)
{
    struct cfg_provider_limits l = limits(1000, 60, 0, 100, 100000); /* one per second */
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[63];
    for (int i = 0; i < 60; i++) {
        t[i] = ticket("t", "u", 1);
        assert_int_equal(llm_sched_submit(s, &t[i], 0), LLM_ADMITTED);
    }
    t[60] = ticket("t", "u", 1);
    t[61] = ticket("t", "u", 1);
    t[62] = ticket("t", "u", 1);
    assert_int_equal(llm_sched_submit(s, &t[60], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &t[61], 0), LLM_QUEUED);
    assert_null(llm_sched_next(s, 0));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), 1000);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 400), 600);
    assert_null(llm_sched_next(s, 999));
    assert_ptr_equal(llm_sched_next(s, 1000), &t[60]);
    assert_null(llm_sched_next(s, 1000));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1000), 1000);
    assert_ptr_equal(llm_sched_next(s, 2000), &t[61]);
    /* releases do not give requests back */
    for (int i = 0; i < 62; i++)
        llm_sched_release(s, &t[i], 5, 2000);
    assert_int_equal(llm_sched_submit(s, &t[62], 2000), LLM_QUEUED);
    assert_ptr_equal(llm_sched_next(s, 3000), &t[62]);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_true(st.rpm_available > -0.01 && st.rpm_available < 0.01);
    assert_true(st.tpm_available == -1);
    /* a long idle period refills only up to one minute's worth */
    struct llm_ticket more[61];
    for (int i = 0; i < 60; i++) {
        more[i] = ticket("t", "u", 1);
        assert_int_equal(llm_sched_submit(s, &more[i], 1000000), LLM_ADMITTED);
    }
    more[60] = ticket("t", "u", 1);
    assert_int_equal(llm_sched_submit(s, &more[60], 1000000), LLM_QUEUED);
    llm_sched_free(s);
}

static void tpm_cap_and_correction(void **state)
{
    struct cfg_provider_limits l = limits(100, 0, 6000, 100, 1000000); /* 100 tokens/s */
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket a = ticket("t", "u", 5000), b = ticket("t", "u", 2000);
    assert_int_equal(llm_sched_submit(s, &a, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &b, 0), LLM_QUEUED);
    assert_null(llm_sched_next(s, 0));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), 10000); /* 1000 missing at 0.1/ms */
    /* a used 1000 tokens, not 5000: 4000 come back at once */
    llm_sched_release(s, &a, 1000, 0);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), 0);
    assert_ptr_equal(llm_sched_next(s, 0), &b);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_true(st.tpm_available > 2999.9 && st.tpm_available < 3000.1);
    assert_true(st.rpm_available == -1);
    /* b used far more than estimated: the bucket goes into debt */
    llm_sched_release(s, &b, 8000, 0);
    llm_sched_stats(s, &st);
    assert_true(st.tpm_available > -3000.1 && st.tpm_available < -2999.9);
    struct llm_ticket c = ticket("t", "u", 0);
    assert_int_equal(llm_sched_submit(s, &c, 0), LLM_QUEUED); /* even a free call waits */
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), 30000);
    assert_ptr_equal(llm_sched_next(s, 30000), &c);
    /* actual < 0 keeps the estimate */
    llm_sched_release(s, &c, -1, 30000);
    llm_sched_stats(s, &st);
    assert_true(st.tpm_available > -0.1 && st.tpm_available < 0.1);
    llm_sched_free(s);

    /* a call estimated above one minute's worth still runs once the bucket is full */
    s = llm_sched_new(&l);
    struct llm_ticket big = ticket("t", "u", 100000), small = ticket("t", "u", 10),
                      big2 = ticket("t", "u", 100000);
    assert_int_equal(llm_sched_submit(s, &big, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &small, 0), LLM_QUEUED);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), 100);
    assert_ptr_equal(llm_sched_next(s, 100), &small);
    assert_int_equal(llm_sched_submit(s, &big2, 100), LLM_QUEUED);
    int64_t w = llm_sched_next_wakeup_ms(s, 100);
    assert_int_equal(w, 60000); /* the bucket is empty: one minute's worth (capped cost) */
    assert_null(llm_sched_next(s, 100 + w - 1));
    assert_ptr_equal(llm_sched_next(s, 100 + w), &big2);
    llm_sched_free(s);
}

static void fifo_per_user(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 100, 100000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[8];
    for (int i = 0; i < 8; i++) {
        t[i] = ticket("t", "alice", i);
        assert_int_equal(llm_sched_submit(s, &t[i], i), i == 0 ? LLM_ADMITTED : LLM_QUEUED);
        assert_int_equal(t[i].enqueued_ms, i);
    }
    struct llm_ticket *run = &t[0];
    for (int i = 1; i < 8; i++) {
        llm_sched_release(s, run, -1, 100 + i);
        run = llm_sched_next(s, 100 + i);
        assert_ptr_equal(run, &t[i]);
    }
    llm_sched_release(s, run, -1, 200);
    assert_null(llm_sched_next(s, 200));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 200), -1);
    llm_sched_free(s);
}

/* Admits one queued ticket at a time (max_concurrent 1): releases the running one, then asks
 * for the next. Returns the order in out. */
static size_t drain(struct llm_sched *s, struct llm_ticket *running, struct llm_ticket **out,
                    size_t max, int64_t now)
{
    size_t n = 0;
    while (n < max) {
        llm_sched_release(s, running, -1, now);
        running = llm_sched_next(s, now);
        if (!running)
            break;
        out[n++] = running;
    }
    return n;
}

static void user_fairness(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 1000, 100000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket a[100], b[5];
    for (int i = 0; i < 100; i++) {
        a[i] = ticket("t", "a", 1);
        llm_sched_submit(s, &a[i], 0);
    }
    for (int i = 0; i < 5; i++) {
        b[i] = ticket("t", "b", 1);
        assert_int_equal(llm_sched_submit(s, &b[i], 1), LLM_QUEUED);
    }
    assert_true(a[0].running);
    struct llm_ticket *order[104];
    size_t n = drain(s, &a[0], order, 104, 10);
    assert_int_equal(n, 104);
    /* the first ten admissions from the queue alternate a, b: all of b's five are in */
    int seen_b = 0, next_b = 0, next_a = 1;
    for (size_t i = 0; i < 10; i++) {
        if (order[i] >= b && order[i] < b + 5) {
            assert_ptr_equal(order[i], &b[next_b++]); /* b's own calls stay in order */
            seen_b++;
        } else {
            assert_ptr_equal(order[i], &a[next_a++]);
        }
    }
    assert_int_equal(seen_b, 5);
    for (size_t i = 10; i < 104; i++)
        assert_ptr_equal(order[i], &a[next_a++]);
    llm_sched_free(s);
}

static void tenant_fairness(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 10000, 100000);
    struct llm_sched *s = llm_sched_new(&l);
    static struct llm_ticket x[50][10], y[30];
    char names[50][16];
    struct llm_ticket first = ticket("x", "starter", 1);
    assert_int_equal(llm_sched_submit(s, &first, 0), LLM_ADMITTED);
    for (int u = 0; u < 50; u++) {
        snprintf(names[u], sizeof(names[u]), "user%d", u);
        for (int i = 0; i < 10; i++) {
            x[u][i] = ticket("x", names[u], 1);
            assert_int_equal(llm_sched_submit(s, &x[u][i], 1), LLM_QUEUED);
        }
    }
    for (int i = 0; i < 30; i++) {
        y[i] = ticket("y", "solo", 1);
        assert_int_equal(llm_sched_submit(s, &y[i], 2), LLM_QUEUED);
    }
    struct llm_ticket *order[530];
    size_t n = drain(s, &first, order, 530, 10);
    assert_int_equal(n, 530);
    /* x and y alternate while both wait: x first (it was waiting first), then y every other */
    for (size_t i = 0; i < 60; i++) {
        if (i % 2 == 0) {
            /* tenant x: its users in round-robin order, each user's first call */
            assert_ptr_equal(order[i], &x[i / 2][0]);
        } else {
            assert_ptr_equal(order[i], &y[i / 2]);
        }
    }
    /* then x alone: second round of its users continues where it left off */
    assert_ptr_equal(order[60], &x[30][0]);
    assert_ptr_equal(order[79], &x[49][0]);
    assert_ptr_equal(order[80], &x[0][1]);
    assert_ptr_equal(order[529], &x[49][9]);
    llm_sched_free(s);
}

static void queue_full(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 3, 10000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[6];
    for (int i = 0; i < 6; i++)
        t[i] = ticket("t", i % 2 ? "u" : "v", 1);
    assert_int_equal(llm_sched_submit(s, &t[0], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &t[1], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &t[2], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &t[3], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &t[4], 0), LLM_REJECTED);
    assert_false(t[4].queued);
    assert_false(t[4].running);
    assert_true(llm_sched_retry_after_s(s, 0) >= 1);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.admitted, 1);
    /* room again after one leaves */
    llm_sched_cancel(s, &t[2]);
    assert_int_equal(llm_sched_submit(s, &t[5], 0), LLM_QUEUED);
    llm_sched_free(s);

    /* max_queue 0: no waiting at all */
    l = limits(1, 0, 0, 0, 10000);
    s = llm_sched_new(&l);
    assert_int_equal(llm_sched_submit(s, &t[0], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &t[1], 0), LLM_REJECTED);
    llm_sched_free(s);
}

static void retry_after(void **state)
{
    /* 60 rpm, nothing left, 9 waiting: the 10th would wait about 10 s */
    struct cfg_provider_limits l = limits(100, 60, 0, 9, 100000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[70];
    for (int i = 0; i < 70; i++)
        t[i] = ticket("t", "u", 1);
    for (int i = 0; i < 60; i++)
        assert_int_equal(llm_sched_submit(s, &t[i], 0), LLM_ADMITTED);
    for (int i = 60; i < 69; i++)
        assert_int_equal(llm_sched_submit(s, &t[i], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &t[69], 0), LLM_REJECTED);
    assert_int_equal(llm_sched_retry_after_s(s, 0), 10);
    llm_sched_free(s);

    /* nothing limits: still at least one second */
    l = limits(10, 0, 0, 10, 1000);
    s = llm_sched_new(&l);
    assert_int_equal(llm_sched_retry_after_s(s, 0), 1);
    llm_sched_free(s);

    /* 6000 tpm, calls of 1000 tokens, bucket empty, 5 waiting: the 6th at about 60 s */
    l = limits(100, 0, 6000, 5, 100000);
    s = llm_sched_new(&l);
    for (int i = 0; i < 6; i++) {
        t[i] = ticket("t", "u", 1000);
        assert_int_equal(llm_sched_submit(s, &t[i], 0), LLM_ADMITTED);
    }
    for (int i = 6; i < 11; i++) {
        t[i] = ticket("t", "u", 1000);
        assert_int_equal(llm_sched_submit(s, &t[i], 0), LLM_QUEUED);
    }
    assert_int_equal(llm_sched_retry_after_s(s, 0), 60);
    llm_sched_free(s);
}

static void expiry(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 10, 500);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket run = ticket("t", "r", 1), a = ticket("t", "a", 1), b = ticket("u", "b", 1),
                      c = ticket("t", "a", 1);
    assert_int_equal(llm_sched_submit(s, &run, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), -1);
    assert_int_equal(llm_sched_submit(s, &a, 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &b, 100), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &c, 200), LLM_QUEUED);
    /* concurrency is full: only the expiry of the oldest matters */
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0 + 200), 300);
    assert_null(llm_sched_expired(s, 499));
    assert_ptr_equal(llm_sched_expired(s, 500), &a);
    assert_false(a.queued);
    assert_null(llm_sched_expired(s, 500));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 500), 100);
    /* several at once, oldest first, across users and tenants */
    assert_ptr_equal(llm_sched_expired(s, 5000), &b);
    assert_ptr_equal(llm_sched_expired(s, 5000), &c);
    assert_null(llm_sched_expired(s, 5000));
    assert_int_equal(llm_sched_next_wakeup_ms(s, 5000), -1);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.expired, 3);
    assert_int_equal(st.queued, 0);
    /* the scheduler still works after its queues emptied */
    llm_sched_release(s, &run, -1, 5000);
    assert_int_equal(llm_sched_submit(s, &a, 5000), LLM_ADMITTED);
    llm_sched_free(s);
}

static void cancel(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 10, 1000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket run = ticket("t", "r", 1), t[4], o = ticket("t", "other", 1);
    for (int i = 0; i < 4; i++)
        t[i] = ticket("t", "u", 1);
    assert_int_equal(llm_sched_submit(s, &run, 0), LLM_ADMITTED);
    for (int i = 0; i < 4; i++)
        assert_int_equal(llm_sched_submit(s, &t[i], i), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(s, &o, 10), LLM_QUEUED);
    llm_sched_cancel(s, &t[2]); /* middle */
    llm_sched_cancel(s, &t[0]); /* head: the expiry now follows t[1] */
    llm_sched_cancel(s, &t[0]); /* twice: no effect */
    llm_sched_cancel(s, &run);  /* running: no effect */
    assert_true(run.running);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.queued, 3);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 10), 1000 + 1 - 10);
    llm_sched_cancel(s, &t[3]); /* tail */
    llm_sched_release(s, &run, -1, 20);
    struct llm_ticket *got = llm_sched_next(s, 20);
    assert_ptr_equal(got, &t[1]);
    llm_sched_release(s, got, -1, 20);
    got = llm_sched_next(s, 20);
    assert_ptr_equal(got, &o);
    llm_sched_release(s, got, -1, 20);
    assert_null(llm_sched_next(s, 20));
    /* cancel every waiting call of a user and tenant, then come back */
    assert_int_equal(llm_sched_submit(s, &run, 30), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &t[0], 30), LLM_QUEUED);
    llm_sched_cancel(s, &t[0]);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 30), -1);
    assert_int_equal(llm_sched_submit(s, &t[0], 31), LLM_QUEUED);
    llm_sched_release(s, &run, -1, 32);
    assert_ptr_equal(llm_sched_next(s, 32), &t[0]);
    llm_sched_stats(s, &st);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.running, 1);
    llm_sched_free(s);
}

static void next_wakeup(void **state)
{
    struct cfg_provider_limits l = limits(2, 60, 0, 10, 5000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[64];
    for (int i = 0; i < 64; i++)
        t[i] = ticket("t", "u", 1);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 0), -1);
    assert_int_equal(llm_sched_submit(s, &t[0], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &t[1], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(s, &t[2], 0), LLM_QUEUED);
    /* full concurrency: expiry only */
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1000), 4000);
    /* a slot frees: the ticket may go now */
    llm_sched_release(s, &t[0], -1, 1000);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1000), 0);
    assert_ptr_equal(llm_sched_next(s, 1000), &t[2]);
    llm_sched_release(s, &t[1], -1, 1000);
    llm_sched_release(s, &t[2], -1, 1000);
    /* requests run out (3 used, one refilled by now: 58 left) */
    for (int i = 3; i < 61; i++) {
        assert_int_equal(llm_sched_submit(s, &t[i], 1000), LLM_ADMITTED);
        llm_sched_release(s, &t[i], -1, 1000);
    }
    assert_int_equal(llm_sched_submit(s, &t[61], 1000), LLM_QUEUED);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1000), 1000); /* the bucket, before expiry */
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1250), 750);
    /* slower refill (10 s per request): now the expiry comes first */
    l = limits(2, 6, 0, 10, 5000);
    llm_sched_set_limits(s, &l);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1250), 4750);
    assert_null(llm_sched_next(s, 5999));
    assert_null(llm_sched_expired(s, 5999));
    assert_ptr_equal(llm_sched_expired(s, 6000), &t[61]);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 6000), -1);
    llm_sched_free(s);
}

static void stats_and_percentiles(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 2000, 1000000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.admitted, 0);
    assert_int_equal(st.wait_p50_ms, 0);
    assert_int_equal(st.wait_max_ms, 0);
    assert_true(st.rpm_available == -1 && st.tpm_available == -1);

    static struct llm_ticket t[1200];
    for (int i = 0; i < 100; i++) {
        t[i] = ticket("t", i % 3 ? "a" : "b", 1);
        llm_sched_submit(s, &t[i], 0);
    }
    /* 99 queued, admitted at 10, 20, ..., 990 ms */
    struct llm_ticket *run = &t[0];
    for (int i = 1; i < 100; i++) {
        llm_sched_release(s, run, -1, 10 * i);
        run = llm_sched_next(s, 10 * i);
        assert_non_null(run);
    }
    llm_sched_stats(s, &st);
    assert_int_equal(st.admitted, 100);
    assert_int_equal(st.running, 1);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.expired, 0);
    assert_int_equal(st.wait_p50_ms, 500);
    assert_int_equal(st.wait_p99_ms, 990);
    assert_int_equal(st.wait_max_ms, 990);
    /* immediate admissions add no samples */
    llm_sched_release(s, run, -1, 2000);
    assert_int_equal(llm_sched_submit(s, &t[0], 2000), LLM_ADMITTED);
    llm_sched_stats(s, &st);
    assert_int_equal(st.admitted, 101);
    assert_int_equal(st.wait_p50_ms, 500);

    /* only the last 1024 samples count: 1100 more waits of 1..1100 ms */
    for (int i = 1; i <= 1100; i++) {
        t[i] = ticket("t", i % 2 ? "a" : "b", 1);
        assert_int_equal(llm_sched_submit(s, &t[i], 3000), LLM_QUEUED);
    }
    run = &t[0];
    for (int i = 1; i <= 1100; i++) {
        llm_sched_release(s, run, -1, 3000 + i);
        run = llm_sched_next(s, 3000 + i);
        assert_ptr_equal(run, &t[i]);
    }
    llm_sched_stats(s, &st);
    assert_int_equal(st.admitted, 1201);
    assert_int_equal(st.wait_max_ms, 1100); /* samples 77..1100 */
    assert_int_equal(st.wait_p50_ms, 76 + 512);
    assert_int_equal(st.wait_p99_ms, 76 + 1014); /* rank ceil(0.99 * 1024) = 1014 */
    llm_sched_free(s);
}

static void set_limits_raises_concurrency(void **state)
{
    struct cfg_provider_limits l = limits(1, 0, 0, 10, 10000);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_ticket t[5];
    for (int i = 0; i < 5; i++) {
        t[i] = ticket("t", i % 2 ? "a" : "b", 1);
        assert_int_equal(llm_sched_submit(s, &t[i], 0), i == 0 ? LLM_ADMITTED : LLM_QUEUED);
    }
    assert_null(llm_sched_next(s, 1));
    l = limits(3, 0, 0, 10, 10000);
    llm_sched_set_limits(s, &l);
    assert_int_equal(llm_sched_next_wakeup_ms(s, 1), 0);
    assert_non_null(llm_sched_next(s, 1));
    assert_non_null(llm_sched_next(s, 1));
    assert_null(llm_sched_next(s, 1));
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(st.running, 3);
    assert_int_equal(st.queued, 2);
    assert_int_equal(st.max_concurrent, 3);
    /* lowering it admits nothing until enough have finished */
    l = limits(1, 0, 0, 10, 10000);
    llm_sched_set_limits(s, &l);
    llm_sched_release(s, &t[0], -1, 2);
    assert_null(llm_sched_next(s, 2));
    /* limiting requests per minute afresh starts with a full bucket */
    l = limits(10, 30, 0, 10, 10000);
    llm_sched_set_limits(s, &l);
    llm_sched_stats(s, &st);
    assert_true(st.rpm_available > 29.9 && st.rpm_available < 30.1);
    assert_non_null(llm_sched_next(s, 3));
    assert_non_null(llm_sched_next(s, 3));
    assert_null(llm_sched_next(s, 3));
    llm_sched_free(s);
}

/* Many users and tenants with random submits, cancels, expiries and admissions: every ticket
 * ends exactly once, each user's calls run in their order, the counts agree. */
#define STRESS_N 20000
static void stress_many_users(void **state)
{
    struct cfg_provider_limits l = limits(8, 0, 0, STRESS_N, 3000);
    struct llm_sched *s = llm_sched_new(&l);
    static struct llm_ticket t[STRESS_N];
    static int owner[STRESS_N], seq[STRESS_N], last_seq[5000];
    static char users[5000][12], tenants[40][12];
    static bool done[STRESS_N];
    for (int i = 0; i < 5000; i++) {
        snprintf(users[i], sizeof(users[i]), "u%d", i);
        last_seq[i] = -1;
    }
    for (int i = 0; i < 40; i++)
        snprintf(tenants[i], sizeof(tenants[i]), "t%d", i);
    unsigned rnd = 12345;
    int running[8], n_running = 0, n_sub = 0, admitted = 0, expired = 0, canceled = 0;
    int per_user_count[5000] = {0};
    int64_t now = 0;
    while (n_sub < STRESS_N || n_running > 0) {
        rnd = rnd * 1103515245u + 12345u;
        unsigned r = (rnd >> 8) % 100;
        now += (rnd >> 20) % 3;
        if (r < 60 && n_sub < STRESS_N) {
            int u = (int)((rnd >> 4) % 5000);
            int i = n_sub++;
            t[i] = ticket(tenants[u % 40], users[u], 1);
            owner[i] = u;
            seq[i] = per_user_count[u]++;
            enum llm_admit a = llm_sched_submit(s, &t[i], now);
            if (a == LLM_ADMITTED) {
                assert_true(n_running < 8);
                running[n_running++] = i;
                assert_true(seq[i] > last_seq[u]);
                last_seq[u] = seq[i];
                admitted++;
                done[i] = true;
            }
            assert_int_not_equal(a, LLM_REJECTED);
        } else if (r < 70 && n_sub > 0) {
            int i = (int)((rnd >> 3) % (unsigned)n_sub);
            if (t[i].queued) {
                llm_sched_cancel(s, &t[i]);
                assert_false(done[i]);
                done[i] = true;
                canceled++;
            }
        } else if (n_running > 0) {
            int k = (int)((rnd >> 5) % (unsigned)n_running);
            llm_sched_release(s, &t[running[k]], -1, now);
            running[k] = running[--n_running];
        }
        struct llm_ticket *x;
        while ((x = llm_sched_expired(s, now))) {
            int i = (int)(x - t);
            assert_false(done[i]);
            done[i] = true;
            expired++;
        }
        while ((x = llm_sched_next(s, now))) {
            int i = (int)(x - t);
            assert_false(done[i]);
            assert_true(n_running < 8);
            assert_true(seq[i] > last_seq[owner[i]]);
            last_seq[owner[i]] = seq[i];
            done[i] = true;
            running[n_running++] = i;
            admitted++;
        }
    }
    struct llm_sched_stats st;
    llm_sched_stats(s, &st);
    assert_int_equal(admitted + expired + canceled, STRESS_N);
    assert_int_equal(st.admitted, (uint64_t)admitted);
    assert_int_equal(st.expired, (uint64_t)expired);
    assert_int_equal(st.queued, 0);
    assert_true(expired > 0 && canceled > 0);
    for (int i = 0; i < STRESS_N; i++)
        assert_true(done[i]);
    llm_sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrency_cap),
        cmocka_unit_test(rpm_cap),
        cmocka_unit_test(tpm_cap_and_correction),
        cmocka_unit_test(fifo_per_user),
        cmocka_unit_test(user_fairness),
        cmocka_unit_test(tenant_fairness),
        cmocka_unit_test(queue_full),
        cmocka_unit_test(retry_after),
        cmocka_unit_test(expiry),
        cmocka_unit_test(cancel),
        cmocka_unit_test(next_wakeup),
        cmocka_unit_test(stats_and_percentiles),
        cmocka_unit_test(set_limits_raises_concurrency),
        cmocka_unit_test(stress_many_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
