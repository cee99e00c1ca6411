/* SPDX-License-Identifier: MIT
 * llm_quota.c — a provider's limits across the cluster (algorithm and reasons in llm_quota.h).
 *
 * Counting goes through shared_counter_incr_batch: every counter of a step in one round trip
 * (an admission, a release, a new epoch), and a failure rather than a count on this node
 * alone, so that the quota switches to its per-node share at once. An admission over a limit
 * takes back all it took in a second round trip (best effort: the keys expire anyway).
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
#define RUN_WINDOW_MS (3 * LLM_QUOTA_EPOCH_MS) /* outlives the epoch after the one it counts */
#define RETRY_MS 1000                          /* degraded: how often Redis is tried again */

enum { MODE_CLUSTER = 1, MODE_LOCAL = 2 }; /* llm_ticket.gate_mode */

struct llm_quota {
    struct shared *sh;
    char name[160];
    struct cfg_provider_limits lim;
    unsigned running;     /* calls admitted in the cluster's count, not yet released */
    unsigned running_own; /* calls admitted on this node's share (not in the count) */
    int64_t reg_through;  /* running is counted in the epochs up to this one (-1: none) */
    unsigned owed_run;    /* calls released, still counted in the epochs up to reg_through */
    int64_t owed_tok;     /* their tokens' corrections */
    atomic_uint nodes;    /* nodes last seen (>= 1); atomics: read by llm_quota_mode */
    atomic_bool degraded; /* the last attempt to count in Redis failed */
    int64_t retry_at;     /* degraded: Redis is not asked again before this (wall ms) */
    int64_t local_start;  /* this node's own minute (node-share mode) */
    int64_t local_req, local_tok;
};

/* A batch of counter updates under construction. */
struct batch {
    struct shared_incr v[SHARED_BATCH_MAX];
    char keys[SHARED_BATCH_MAX][KEY_MAX];
    size_t n;
};

static int64_t epoch_of(int64_t now)
{
    return now / LLM_QUOTA_EPOCH_MS;
}

/* Adds "llm:<name>:<what>[:<epoch>]" += by; returns its index. */
static size_t batch_add(struct batch *b, const struct llm_quota *q, const char *what, int64_t epoch,
                        int64_t by)
{
    size_t i = b->n++;
    if (epoch >= 0)
        snprintf(b->keys[i], KEY_MAX, "llm:%s:%s:%" PRId64, q->name, what, epoch);
    else
        snprintf(b->keys[i], KEY_MAX, "llm:%s:%s", q->name, what);
    b->v[i] = (struct shared_incr){.key = b->keys[i],
                                   .by = by,
                                   .window_ms = epoch >= 0 ? RUN_WINDOW_MS : MINUTE_MS};
    return i;
}

/* Switches between the cluster's count and this node's share, saying so once. */
static void set_degraded(struct llm_quota *q, bool degraded, const char *why)
{
    if (degraded)
        q->retry_at = gw_now_ms() + RETRY_MS;
    if (degraded == q->degraded)
        return;
    q->degraded = degraded;
    if (degraded)
        gw_warn("llm: provider %s: limits counted on this node alone (a share of 1/%u): %s",
                q->name, q->nodes, why);
    else
        gw_info("llm: provider %s: limits counted across the cluster again", q->name);
}

/* Sends the batch; a failure makes the quota degraded (the caller's next step sees it). */
static bool batch_send(struct llm_quota *q, struct batch *b)
{
    if (b->n == 0)
        return true;
    bool ok = shared_counter_incr_batch(q->sh, b->v, b->n) == GW_OK;
    set_degraded(q, !ok, "the shared counters cannot be reached");
    return ok;
}

/* Takes back what the entries of b from the index from on counted. */
static void batch_undo(struct llm_quota *q, const struct batch *b, size_t from)
{
    struct batch u = {.n = 0};
    for (size_t i = from; i < b->n; i++) {
        u.v[u.n] = b->v[i];
        u.v[u.n].key = memcpy(u.keys[u.n], b->keys[i], KEY_MAX);
        u.v[u.n++].by = -b->v[i].by;
    }
    batch_send(q, &u);
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
    char cur[KEY_MAX], prev[KEY_MAX];
    int64_t e = epoch_of(now_ms);
    snprintf(cur, sizeof(cur), "llm:nodes:%" PRId64, e);
    snprintf(prev, sizeof(prev), "llm:nodes:%" PRId64, e - 1);
    struct shared_incr v[2] = {{.key = cur, .by = 1, .window_ms = RUN_WINDOW_MS},
                               {.key = prev, .by = 0, .window_ms = RUN_WINDOW_MS}};
    if (shared_counter_incr_batch(sh, v, 2) != GW_OK)
        return 0;
    return (unsigned)GW_MAX(1, GW_MAX(v[0].value, v[1].value));
}

void llm_quota_set_nodes(struct llm_quota *q, unsigned nodes)
{
    q->nodes = nodes ? nodes : 1;
}

/* Whether Redis may be asked now: not while degraded before retry_at, nor while not synced
 * (what is counted then may be lost). */
static bool reachable(struct llm_quota *q, int64_t now)
{
    char msg[256];
    if (q->degraded && now < q->retry_at)
        return false;
    if (shared_health(q->sh, msg, sizeof(msg)))
        return true;
    set_degraded(q, true, msg);
    return false;
}

/* Adds to b what this node owes the counts in epoch e: the calls released since the last
 * batch out of the epochs that count them, their tokens corrected, and the running calls in
 * the epochs up to e + 1 not counted yet; owed_sent once the batch is counted. */
static void owed_add(struct llm_quota *q, struct batch *b, int64_t e)
{
    for (int64_t k = e; k <= q->reg_through && q->owed_run && k <= e + 1; k++)
        batch_add(b, q, "run", k, -(int64_t)q->owed_run);
    if (q->owed_tok)
        batch_add(b, q, "tpm", -1, q->owed_tok);
    for (int64_t k = GW_MAX(q->reg_through + 1, e); k <= e + 1 && q->running; k++)
        batch_add(b, q, "run", k, q->running);
}

static void owed_sent(struct llm_quota *q, int64_t e)
{
    q->owed_run = 0;
    q->owed_tok = 0;
    q->reg_through = GW_MAX(q->reg_through, e + 1);
}

int64_t llm_quota_tick(struct llm_quota *q, int64_t now_ms)
{
    int64_t e = epoch_of(now_ms), next = (e + 1) * LLM_QUOTA_EPOCH_MS - now_ms;
    if (reachable(q, now_ms)) {
        struct batch b = {.n = 0};
        owed_add(q, &b, e);
        if (b.n == 0)
            set_degraded(q, false, NULL); /* Redis is synced: the next call counts there */
        if (batch_send(q, &b))
            owed_sent(q, e);
    }
    return q->degraded ? GW_MAX(1, GW_MIN(next, q->retry_at - now_ms)) : next;
}

/* Counts the call in the cluster: GW_OK admitted, GW_ETHROTTLED over a limit (*wait_ms set),
 * GW_EUNAVAIL Redis did not answer. */
static gw_err take_cluster(struct llm_quota *q, struct llm_ticket *t, int64_t *wait_ms)
{
    int64_t now = gw_now_ms(), e = epoch_of(now);
    if (!reachable(q, now))
        return GW_EUNAVAIL;
    int64_t conc = q->lim.max_concurrent ? q->lim.max_concurrent : 1;
    int64_t tokens = q->lim.tpm ? GW_MIN(GW_MAX(t->est_tokens, 0), (int64_t)q->lim.tpm) : 0;
    struct batch b = {.n = 0};
    owed_add(q, &b, e); /* what was released meanwhile goes in the same round trip */
    if (b.n > SHARED_BATCH_MAX - 4) {
        if (!batch_send(q, &b))
            return GW_EUNAVAIL;
        owed_sent(q, e);
        b.n = 0;
    }
    size_t first = b.n;
    size_t run = batch_add(&b, q, "run", e, 1), rpm = SIZE_MAX, tpm = SIZE_MAX;
    batch_add(&b, q, "run", e + 1, 1);
    if (q->lim.rpm)
        rpm = batch_add(&b, q, "rpm", -1, 1);
    if (q->lim.tpm)
        tpm = batch_add(&b, q, "tpm", -1, tokens);
    if (!batch_send(q, &b))
        return GW_EUNAVAIL; /* what was counted expires with its window */
    owed_sent(q, e);
    const char *over = NULL;
    if (rpm != SIZE_MAX && b.v[rpm].value > (int64_t)q->lim.rpm)
        over = "rpm";
    else if (tpm != SIZE_MAX && b.v[tpm].value > (int64_t)q->lim.tpm && b.v[tpm].value > tokens)
        over = "tpm"; /* (a call alone in its window runs, however large) */
    if (!over && b.v[run].value <= conc) {
        t->gate_mode = MODE_CLUSTER;
        t->gate_tokens = tokens;
        q->running++;
        return GW_OK;
    }
    batch_undo(q, &b, first);
    *wait_ms = LLM_QUOTA_POLL_MS;
    if (over) { /* the minute is spent: wait for its end */
        char key[KEY_MAX];
        int64_t v = 0, left = 0;
        snprintf(key, sizeof(key), "llm:%s:%s", q->name, over);
        if (shared_counter_get(q->sh, key, &v, &left) == GW_OK && left > 0)
            *wait_ms = left;
    }
    return GW_ETHROTTLED;
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
        /* owed: sent with the next admission or the loop's next tick, whichever comes first */
        q->running -= q->running > 0;
        q->owed_run++;
        q->owed_tok += delta;
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
