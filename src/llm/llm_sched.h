/* SPDX-License-Identifier: MIT
 * llm_sched.h — fair admission to one provider: concurrency, requests and tokens per minute.
 *
 * Provider rate limits are the real bottleneck (seed 003), so a call first asks the provider's
 * scheduler for a slot. Over a limit it waits in a queue that is fair across tenants and, inside
 * a tenant, across users: the next admitted call comes from the next tenant in round-robin
 * order, and within it from the next user in round-robin order, each user's own calls in FIFO
 * order. One heavy user therefore cannot starve a team, nor one tenant another. Waiting is
 * bounded by size (max_queue: then an immediate rejection) and by time (max_wait_ms: then
 * expiry); both turn into 429 with Retry-After for the client.
 *
 * Tokens per minute are admitted on an estimate (prompt + expected completion) and corrected
 * with the real usage when the call ends. Buckets refill continuously (rate/60 per second) with
 * a capacity of one minute's worth.
 *
 * Not thread-safe by design: one scheduler is driven by the one I/O thread that owns it. Only
 * llm_sched_stats may be called from other threads (it takes an internal lock).
 */
#ifndef GW_LLM_SCHED_H
#define GW_LLM_SCHED_H

#include "base/prelude.h"
#include "config/config.h"

/* One waiting or running call. The caller owns the memory (embedded in its own call object);
 * the scheduler links it into its queues. tenant and user must stay valid while linked. */
struct llm_ticket {
    const char *tenant;
    const char *user;
    int64_t est_tokens;  /* admission estimate for the TPM bucket */
    int64_t enqueued_ms; /* set by llm_sched_submit */
    /* private to the scheduler */
    struct llm_ticket *next, *prev; /* the user's FIFO */
    void *queue;                    /* the user queue it waits in */
    bool queued, running;
    /* private to the gate (llm_quota.c) */
    int gate_mode;       /* how the gate admitted it: 0 not at all */
    int64_t gate_tokens; /* tokens it charged */
};

/* A gate the head of the line must also pass: the cluster's share of the limits (llm_quota.h).
 * take admits t (true) or says how long to wait before asking again (*wait_ms > 0); give
 * returns what t took when it ends (actual_tokens < 0: keep the estimate). */
struct llm_gate {
    bool (*take)(void *arg, struct llm_ticket *t, int64_t *wait_ms);
    void (*give)(void *arg, struct llm_ticket *t, int64_t actual_tokens);
    void *arg;
};

enum llm_admit { LLM_ADMITTED, LLM_QUEUED, LLM_REJECTED };

struct llm_sched;

struct llm_sched *llm_sched_new(const struct cfg_provider_limits *lim);
/* New limits (reload); waiting tickets stay queued. */
void llm_sched_set_limits(struct llm_sched *s, const struct cfg_provider_limits *lim);
/* With a gate the requests and tokens per minute are the gate's to count (the local buckets
 * are off); concurrency is still held to max_concurrent here. NULL: no gate. */
void llm_sched_set_gate(struct llm_sched *s, const struct llm_gate *g);
/* Frees the scheduler; tickets still linked are simply forgotten (the caller fails them). */
void llm_sched_free(struct llm_sched *s);

/* Admits at once when every limit allows and nobody is waiting, else queues (or rejects when
 * the queue is full). */
enum llm_admit llm_sched_submit(struct llm_sched *s, struct llm_ticket *t, int64_t now_ms);
/* The next queued ticket that may run now, in fair order, or NULL. It is marked running. */
struct llm_ticket *llm_sched_next(struct llm_sched *s, int64_t now_ms);
/* A queued ticket that waited longer than max_wait_ms (removed from the queue), or NULL. */
struct llm_ticket *llm_sched_expired(struct llm_sched *s, int64_t now_ms);
/* Removes a queued ticket (client gone). No effect when it is not queued. */
void llm_sched_cancel(struct llm_sched *s, struct llm_ticket *t);
/* A running ticket finished: frees its concurrency slot and corrects the token bucket by
 * actual_tokens - est_tokens (actual < 0: keep the estimate). */
void llm_sched_release(struct llm_sched *s, struct llm_ticket *t, int64_t actual_tokens,
                       int64_t now_ms);
/* Milliseconds until something may change without a release (a bucket refills enough for
 * the head of the queue, or the oldest ticket expires); -1 when nothing is waiting. */
int64_t llm_sched_next_wakeup_ms(struct llm_sched *s, int64_t now_ms);
/* Seconds a rejected client should wait before retrying (>= 1). */
unsigned llm_sched_retry_after_s(struct llm_sched *s, int64_t now_ms);

struct llm_sched_stats {
    unsigned running, queued, max_concurrent;
    uint64_t admitted, rejected, expired;
    int64_t wait_p50_ms, wait_p99_ms, wait_max_ms; /* over the last 1024 admissions from the queue
                                                    */
    double rpm_available, tpm_available;           /* current bucket levels (-1 = unlimited) */
};
void llm_sched_stats(struct llm_sched *s, struct llm_sched_stats *out);

#endif
