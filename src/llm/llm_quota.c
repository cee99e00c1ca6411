/* SPDX-License-Identifier: MIT
 * llm_quota.c — a provider's limits across the cluster (algorithm and reasons in llm_quota.h).
 *
 * Counting goes through shared_counter_incr_cluster, which fails rather than count on this
 * node alone, so that a failure switches this quota to its per-node share at once. An
 * admission that fails half-way takes back what it took (best effort: the keys expire anyway).
 */
#include "base/prelude.h"
#include "llm/llm_quota.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "shared/shared.h"

#include <inttypes.h>
#include <stdatomic.h>

#define MINUTE_MS 60000
#define KEY_MAX 200
#define RETRY_MS 1000 /* degraded: how often Redis is tried again */

enum { MODE_CLUSTER = 1, MODE_LOCAL = 2 }; /* llm_ticket.gate_mode */

struct llm_quota {
    struct shared *sh;
    char name[160];
    struct cfg_provider_limits lim;
    unsigned running;     /* calls admitted in the cluster's count, not yet released */
    unsigned running_own; /* calls admitted on this node's share (not in the count) */
    int64_t reg_through;  /* running is counted in the epochs up to this one (-1: none) */
    atomic_uint nodes;    /* nodes last seen (>= 1); atomics: read by llm_quota_mode */
    atomic_bool degraded; /* the last attempt to count in Redis failed */
    int64_t retry_at;     /* degraded: Redis is not asked again before this (wall ms) */
    int64_t local_start;  /* this node's own minute (node-share mode) */
    int64_t local_req, local_tok;
    bool failed; /* a counter call of the current attempt failed */
};

static void key_of(const struct llm_quota *q, char *out, const char *what, int64_t epoch)
{
    if (epoch >= 0)
        snprintf(out, KEY_MAX, "llm:%s:%s:%" PRId64, q->name, what, epoch);
    else
        snprintf(out, KEY_MAX, "llm:%s:%s", q->name, what);
}

static gw_err add(struct llm_quota *q, const char *what, int64_t epoch, int64_t by,
                  int64_t window_ms, int64_t *value)
{
    char key[KEY_MAX];
    int64_t v = 0;
    key_of(q, key, what, epoch);
    gw_err rc = shared_counter_incr_cluster(q->sh, key, by, window_ms, value ? value : &v);
    if (rc != GW_OK)
        q->failed = true;
    return rc;
}

/* After an attempt to count: switches between the cluster's count and the node's share. */
static void settle(struct llm_quota *q, const char *why)
{
    bool failed = q->failed;
    q->failed = false;
    if (failed)
        q->retry_at = gw_now_ms() + RETRY_MS;
    if (failed == q->degraded)
        return;
    q->degraded = failed;
    if (failed)
        gw_warn("llm: provider %s: limits counted on this node alone (a share of 1/%u): %s",
                q->name, q->nodes, why);
    else
        gw_info("llm: provider %s: limits counted across the cluster again", q->name);
}

static int64_t epoch_of(int64_t now)
{
    return now / LLM_QUOTA_EPOCH_MS;
}

/* A limit split between the nodes: limit / nodes, at least 1; 0 stays unlimited. */
static int64_t share(const struct llm_quota *q, unsigned limit)
{
    if (!limit)
        return 0;
    int64_t s = (int64_t)limit / (q->nodes ? q->nodes : 1);
    return s > 0 ? s : 1;
}

struct llm_quota *llm_quota_new(struct shared *sh, const char *name,
                                const struct cfg_provider_limits *lim)
{
    struct llm_quota *q = gw_xcalloc(1, sizeof(*q));
    q->sh = sh;
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->lim = *lim;
    q->reg_through = -1;
    q->nodes = 1;
    llm_quota_tick(q, gw_now_ms());
    return q;
}

void llm_quota_set_limits(struct llm_quota *q, const struct cfg_provider_limits *lim)
{
    q->lim = *lim;
}

void llm_quota_free(struct llm_quota *q)
{
    free(q);
}

unsigned llm_quota_beat(struct shared *sh, int64_t now_ms)
{
    char key[KEY_MAX];
    int64_t e = epoch_of(now_ms), seen = 0, prev = 0;
    snprintf(key, sizeof(key), "llm:nodes:%" PRId64, e);
    if (shared_counter_incr_cluster(sh, key, 1, 3 * LLM_QUOTA_EPOCH_MS, &seen) != GW_OK)
        return 0;
    snprintf(key, sizeof(key), "llm:nodes:%" PRId64, e - 1);
    if (shared_counter_incr_cluster(sh, key, 0, 3 * LLM_QUOTA_EPOCH_MS, &prev) != GW_OK)
        return 0;
    return (unsigned)GW_MAX(1, GW_MAX(seen, prev));
}

void llm_quota_set_nodes(struct llm_quota *q, unsigned nodes)
{
    q->nodes = nodes ? nodes : 1;
}

/* Counts the running calls in every epoch up to e + 1 not counted yet. */
static void register_running(struct llm_quota *q, int64_t e)
{
    for (int64_t k = GW_MAX(q->reg_through + 1, e); k <= e + 1; k++) {
        if (q->running && add(q, "run", k, q->running, 3 * LLM_QUOTA_EPOCH_MS, NULL) != GW_OK)
            return;
        q->reg_through = k;
    }
}

int64_t llm_quota_tick(struct llm_quota *q, int64_t now_ms)
{
    int64_t e = epoch_of(now_ms), next = (e + 1) * LLM_QUOTA_EPOCH_MS - now_ms;
    char msg[256] = "the shared counters cannot be reached";
    if (q->degraded && now_ms < q->retry_at)
        return GW_MIN(next, q->retry_at - now_ms);
    if (!shared_health(q->sh, msg, sizeof(msg)))
        q->failed = true; /* not synced: what it counts now may be lost */
    else
        register_running(q, e);
    settle(q, msg);
    return q->degraded ? GW_MIN(next, RETRY_MS) : next;
}

/* Takes back one running call from the epochs that count it. */
static void unregister_one(struct llm_quota *q, int64_t e)
{
    for (int64_t k = e; k <= q->reg_through; k++)
        add(q, "run", k, -1, 3 * LLM_QUOTA_EPOCH_MS, NULL);
}

/* Counts the call in epoch e's count and the minute's: GW_OK admitted, GW_ETHROTTLED over a limit
 * (*wait_ms set); q->failed when Redis did not answer (what was taken is given back). */
static gw_err take_counted(struct llm_quota *q, struct llm_ticket *t, int64_t e, int64_t *wait_ms)
{
    int64_t v = 0;
    unsigned conc = q->lim.max_concurrent ? q->lim.max_concurrent : 1;
    if (add(q, "run", e, 1, 3 * LLM_QUOTA_EPOCH_MS, &v) != GW_OK)
        return GW_EUNAVAIL;
    if (v > (int64_t)conc) {
        add(q, "run", e, -1, 3 * LLM_QUOTA_EPOCH_MS, NULL);
        *wait_ms = LLM_QUOTA_POLL_MS;
        return GW_ETHROTTLED;
    }
    gw_err rc = add(q, "run", e + 1, 1, 3 * LLM_QUOTA_EPOCH_MS, NULL);
    int64_t tokens = 0;
    const char *over = NULL;
    if (rc == GW_OK && q->lim.rpm) {
        rc = add(q, "rpm", -1, 1, MINUTE_MS, &v);
        if (rc == GW_OK && v > (int64_t)q->lim.rpm)
            over = "rpm"; /* the window is spent: no need to take the request back */
    }
    if (rc == GW_OK && !over && q->lim.tpm) {
        tokens = GW_MIN(GW_MAX(t->est_tokens, 0), (int64_t)q->lim.tpm);
        rc = add(q, "tpm", -1, tokens, MINUTE_MS, &v);
        if (rc == GW_OK && v > (int64_t)q->lim.tpm && v > tokens) { /* alone: it runs */
            add(q, "tpm", -1, -tokens, MINUTE_MS, NULL);
            if (q->lim.rpm)
                add(q, "rpm", -1, -1, MINUTE_MS, NULL);
            over = "tpm";
        }
    }
    if (rc == GW_OK && over) {
        char key[KEY_MAX];
        int64_t left = 0;
        key_of(q, key, over, -1);
        if (shared_counter_get(q->sh, key, &v, &left) != GW_OK || left <= 0)
            left = LLM_QUOTA_POLL_MS;
        *wait_ms = left;
        rc = GW_ETHROTTLED;
    }
    if (rc != GW_OK) {
        for (int64_t k = e; k <= e + 1; k++)
            add(q, "run", k, -1, 3 * LLM_QUOTA_EPOCH_MS, NULL);
        return rc;
    }
    t->gate_mode = MODE_CLUSTER;
    t->gate_tokens = tokens;
    q->running++;
    return GW_OK;
}

/* Counts the call in the cluster: GW_OK admitted, GW_ETHROTTLED over a limit (*wait_ms set),
 * GW_EUNAVAIL Redis did not answer (nothing left taken). */
static gw_err take_cluster(struct llm_quota *q, struct llm_ticket *t, int64_t *wait_ms)
{
    int64_t now = gw_now_ms();
    llm_quota_tick(q, now);
    if (q->degraded)
        return GW_EUNAVAIL;
    gw_err rc = take_counted(q, t, epoch_of(now), wait_ms);
    settle(q, "the shared counters cannot be reached");
    return q->degraded ? GW_EUNAVAIL : rc;
}

/* This node's share of the limits, counted here alone (Redis unreachable). */
static bool take_local(struct llm_quota *q, struct llm_ticket *t, int64_t *wait_ms)
{
    int64_t now = gw_now_ms();
    if (now - q->local_start >= MINUTE_MS || now < q->local_start) {
        q->local_start = now;
        q->local_req = q->local_tok = 0;
    }
    int64_t conc = share(q, q->lim.max_concurrent ? q->lim.max_concurrent : 1);
    int64_t rpm = share(q, q->lim.rpm), tpm = share(q, q->lim.tpm);
    int64_t tokens = tpm ? GW_MIN(GW_MAX(t->est_tokens, 0), tpm) : 0;
    if ((int64_t)(q->running + q->running_own) >= conc) {
        *wait_ms = LLM_QUOTA_POLL_MS;
        return false;
    }
    if ((rpm && q->local_req >= rpm) || (tpm && q->local_tok && q->local_tok + tokens > tpm)) {
        *wait_ms = GW_MIN(q->local_start + MINUTE_MS - now, (int64_t)LLM_QUOTA_EPOCH_MS);
        return false; /* asks again within an epoch: Redis may be back */
    }
    q->local_req++;
    q->local_tok += tokens;
    t->gate_mode = MODE_LOCAL;
    t->gate_tokens = tokens;
    q->running_own++;
    return true;
}

static bool gate_take(void *arg, struct llm_ticket *t, int64_t *wait_ms)
{
    struct llm_quota *q = arg;
    gw_err rc = take_cluster(q, t, wait_ms);
    return rc == GW_EUNAVAIL ? take_local(q, t, wait_ms) : rc == GW_OK;
}

static void gate_give(void *arg, struct llm_ticket *t, int64_t actual_tokens)
{
    struct llm_quota *q = arg;
    int64_t delta = actual_tokens >= 0 && q->lim.tpm ? actual_tokens - t->gate_tokens : 0;
    if (t->gate_mode == MODE_LOCAL) {
        q->running_own -= q->running_own > 0;
        q->local_tok += delta;
    } else if (t->gate_mode == MODE_CLUSTER) {
        q->running -= q->running > 0;
        if (!q->degraded) {
            unregister_one(q, epoch_of(gw_now_ms()));
            if (delta)
                add(q, "tpm", -1, delta, MINUTE_MS, NULL);
            settle(q, "the shared counters cannot be reached");
        }
    }
    t->gate_mode = 0;
}

struct llm_gate llm_quota_gate(struct llm_quota *q)
{
    return (struct llm_gate){.take = gate_take, .give = gate_give, .arg = q};
}

const char *llm_quota_mode(struct llm_quota *q, unsigned *nodes)
{
    *nodes = q->nodes;
    return q->degraded ? "node-share" : "cluster";
}
