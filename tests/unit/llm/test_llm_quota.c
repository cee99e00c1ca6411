/* SPDX-License-Identifier: MIT
 * test_llm_quota.c — a provider's limits across nodes: two "nodes" (a scheduler and its quota
 * each) on one shared state count requests, tokens and running calls together, and a node
 * that cannot reach Redis holds to its share. The shared state is the in-process one (the
 * same counters as Redis, without the network); the Redis one on a closed port stands for an
 * unreachable server. Scheduler time is simulated; the quota's windows are real time.
 */
#include "base/prelude.h"
#include "llm/llm_quota.h"
#include "llm/llm_sched.h"
#include "base/util.h"
#include "shared/shared.h"

#include <setjmp.h>
#include <unistd.h>
#include <stdarg.h>
#include <cmocka.h>

struct node {
    struct llm_sched *sched;
    struct llm_quota *quota;
};

static void node_open(struct node *n, struct shared *sh, const struct cfg_provider_limits *l)
{
    n->sched = llm_sched_new(l);
    n->quota = llm_quota_new(sh, "p", l);
    struct llm_gate g = llm_quota_gate(n->quota);
    llm_sched_set_gate(n->sched, &g);
}

static void node_close(struct node *n)
{
    llm_sched_free(n->sched);
    llm_quota_free(n->quota);
}

/* Two nodes on one in-process shared state. */
struct pair {
    struct shared *sh;
    struct node a, b;
};

static void pair_open(struct pair *p, const struct cfg_provider_limits *l)
{
    assert_int_equal(shared_open(NULL, &p->sh), GW_OK);
    node_open(&p->a, p->sh, l);
    node_open(&p->b, p->sh, l);
}

static void pair_close(struct pair *p)
{
    node_close(&p->a);
    node_close(&p->b);
    shared_close(p->sh);
}

/* A call ends: released, and what the node owes sent at its loop's next turn (llm_client). */
static void release(struct node *n, struct llm_ticket *t, int64_t actual, int64_t now)
{
    llm_sched_release(n->sched, t, actual, now);
    llm_quota_tick(n->quota, gw_now_ms());
}

static struct llm_ticket ticket(int64_t est)
{
    struct llm_ticket t = {.tenant = "t", .user = "u", .est_tokens = est};
    return t;
}

static void rpm_counts_both_nodes(void **state)
{
    struct cfg_provider_limits l = {.max_concurrent = 10,
                                    .rpm = 3,
                                    .max_queue = 10,
                                    .max_wait_ms = 100000};
    struct pair p;
    pair_open(&p, &l);
    struct node *a = &p.a, *b = &p.b;
    struct llm_ticket t[5] = {ticket(1), ticket(1), ticket(1), ticket(1), ticket(1)};
    assert_int_equal(llm_sched_submit(a->sched, &t[0], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(b->sched, &t[1], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(a->sched, &t[2], 0), LLM_ADMITTED);
    /* the minute's 3 are spent in all, though neither node made 3 */
    assert_int_equal(llm_sched_submit(b->sched, &t[3], 0), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(a->sched, &t[4], 0), LLM_QUEUED);
    /* a release frees no request of the minute; the wait is the window's end, no spinning */
    release(a, &t[0], -1, 10);
    assert_null(llm_sched_next(a->sched, 10));
    assert_true(llm_sched_next_wakeup_ms(b->sched, 10) > 50000);
    assert_true(llm_sched_retry_after_s(b->sched, 10) > 50);
    unsigned nodes = 0;
    assert_string_equal(llm_quota_mode(a->quota, &nodes), "cluster");
    pair_close(&p);
}

static void tokens_corrected_by_usage(void **state)
{
    struct cfg_provider_limits l = {.max_concurrent = 10,
                                    .tpm = 100,
                                    .max_queue = 10,
                                    .max_wait_ms = 1000000};
    struct pair p;
    pair_open(&p, &l);
    struct node *a = &p.a, *b = &p.b;
    struct llm_ticket x = ticket(60), y = ticket(60);
    assert_int_equal(llm_sched_submit(a->sched, &x, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(b->sched, &y, 0), LLM_QUEUED);
    /* x used 10 tokens, not 60: 70 remain in the minute, enough for y */
    release(a, &x, 10, 1);
    assert_null(llm_sched_next(b->sched, 1)); /* held back until the time the gate said */
    assert_ptr_equal(llm_sched_next(b->sched, 70000), &y);
    pair_close(&p);
}

static void one_slot_across_nodes(void **state)
{
    struct cfg_provider_limits l = {.max_concurrent = 1, .max_queue = 10, .max_wait_ms = 100000};
    struct pair p;
    pair_open(&p, &l);
    struct node *a = &p.a, *b = &p.b;
    struct llm_ticket x = ticket(1), y = ticket(1), z = ticket(1);
    assert_int_equal(llm_sched_submit(a->sched, &x, 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(b->sched, &y, 0), LLM_QUEUED);
    /* b asks again after a short interval, not before */
    int64_t w = llm_sched_next_wakeup_ms(b->sched, 0);
    assert_true(w > 0 && w <= LLM_QUOTA_POLL_MS);
    assert_null(llm_sched_next(b->sched, w));
    release(a, &x, -1, w);
    assert_ptr_equal(llm_sched_next(b->sched, 2 * w), &y);
    /* the slot is b's now: a waits */
    assert_int_equal(llm_sched_submit(a->sched, &z, 2 * w), LLM_QUEUED);
    release(b, &y, -1, 3 * w);
    assert_ptr_equal(llm_sched_next(a->sched, 4 * w), &z);
    release(a, &z, -1, 4 * w);
    pair_close(&p);
}

/* A release is owed until the node's next round trip: its next admission carries it. */
static void a_release_rides_with_the_next_admission(void **state)
{
    struct cfg_provider_limits l = {.max_concurrent = 1, .max_queue = 10, .max_wait_ms = 100000};
    struct pair p;
    pair_open(&p, &l);
    struct llm_ticket x = ticket(1), y = ticket(1), z = ticket(1);
    assert_int_equal(llm_sched_submit(p.a.sched, &x, 0), LLM_ADMITTED);
    llm_sched_release(p.a.sched, &x, -1, 1); /* not sent yet: b still sees the slot taken */
    assert_int_equal(llm_sched_submit(p.b.sched, &y, 1), LLM_QUEUED);
    assert_int_equal(llm_sched_submit(p.a.sched, &z, 2), LLM_ADMITTED);
    release(&p.a, &z, -1, 3);
    assert_ptr_equal(llm_sched_next(p.b.sched, 1000), &y);
    llm_sched_release(p.b.sched, &y, -1, 1001);
    pair_close(&p);
}

/* Running calls are counted again in each new epoch: one that spans epochs still holds its
 * slot, and its release frees it. */
static void running_calls_carried_over_epochs(void **state)
{
    struct cfg_provider_limits l = {.max_concurrent = 1, .max_queue = 10, .max_wait_ms = 100000};
    struct pair p;
    pair_open(&p, &l);
    struct node *a = &p.a, *b = &p.b;
    struct llm_ticket x = ticket(1), y = ticket(1);
    assert_int_equal(llm_sched_submit(a->sched, &x, 0), LLM_ADMITTED);
    int64_t start = gw_now_ms();
    for (int64_t e = start / LLM_QUOTA_EPOCH_MS; gw_now_ms() / LLM_QUOTA_EPOCH_MS < e + 2;) {
        llm_quota_tick(a->quota, gw_now_ms());
        usleep(50 * 1000);
    }
    assert_int_equal(llm_sched_submit(b->sched, &y, 0), LLM_QUEUED);
    release(a, &x, -1, 1);
    assert_ptr_equal(llm_sched_next(b->sched, 10000), &y);
    pair_close(&p);
}

static void unreachable_redis_keeps_a_share(void **state)
{
    struct shared *sh;
    struct shared_options o = {.node_id = "n1", .redis_url = "redis://127.0.0.1:1"};
    assert_int_equal(shared_open(&o, &sh), GW_OK);
    struct cfg_provider_limits l = {.max_concurrent = 6,
                                    .rpm = 6,
                                    .max_queue = 10,
                                    .max_wait_ms = 100000};
    struct node a;
    node_open(&a, sh, &l);
    llm_quota_set_nodes(a.quota, 3);
    struct llm_ticket t[4] = {ticket(1), ticket(1), ticket(1), ticket(1)};
    /* 6 per minute over 3 nodes: 2 here, never unlimited */
    assert_int_equal(llm_sched_submit(a.sched, &t[0], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(a.sched, &t[1], 0), LLM_ADMITTED);
    assert_int_equal(llm_sched_submit(a.sched, &t[2], 0), LLM_QUEUED);
    unsigned nodes = 0;
    assert_string_equal(llm_quota_mode(a.quota, &nodes), "node-share");
    assert_int_equal(nodes, 3);
    /* asks again within an epoch (Redis may be back), not in a tight loop */
    int64_t w = llm_sched_next_wakeup_ms(a.sched, 0);
    assert_true(w > 0 && w <= LLM_QUOTA_EPOCH_MS);
    release(&a, &t[0], -1, 1);
    release(&a, &t[1], -1, 1);
    /* more nodes than the limit: still one each */
    llm_quota_set_nodes(a.quota, 100);
    struct llm_quota *q = llm_quota_new(sh, "q", &l);
    struct llm_sched *s = llm_sched_new(&l);
    struct llm_gate g = llm_quota_gate(q);
    llm_sched_set_gate(s, &g);
    llm_quota_set_nodes(q, 100);
    assert_int_equal(llm_sched_submit(s, &t[3], 0), LLM_ADMITTED);
    llm_sched_release(s, &t[3], -1, 1);
    llm_sched_free(s);
    llm_quota_free(q);
    node_close(&a);
    shared_close(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rpm_counts_both_nodes),
        cmocka_unit_test(tokens_corrected_by_usage),
        cmocka_unit_test(one_slot_across_nodes),
        cmocka_unit_test(a_release_rides_with_the_next_admission),
        cmocka_unit_test(running_calls_carried_over_epochs),
        cmocka_unit_test(unreachable_redis_keeps_a_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
