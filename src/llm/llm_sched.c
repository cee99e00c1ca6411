/* SPDX-License-Identifier: MIT
 * llm_sched.c — fair admission to one provider (interface and policy in llm_sched.h).
 *
 * Waiting calls live in per-user FIFOs (doubly linked through the tickets). Users with waiting
 * calls hang in a ring per tenant, tenants with waiting users in one ring; each ring has a
 * cursor, so the next admission is "next tenant, its next user, that user's oldest call", and a
 * newcomer joins at the end of the current round. The head of the line is never overtaken (a
 * big call waiting for tokens holds the others back). Users and tenants are found in chained
 * hash tables and freed as soon as nothing of theirs waits; a min-heap of users keyed by the
 * enqueue time of their head finds the oldest waiting call for expiry (time never goes back
 * inside the scheduler, so each FIFO is in time order). O(1) expected per operation, plus
 * O(log users) for the heap. The figures for llm_sched_stats are copied under a small mutex at
 * the end of each operation; bucket levels there are as of the last operation.
 */
#include "base/prelude.h"
#include "llm/llm_sched.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>

#define WAIT_SAMPLES 1024
#define RETRY_AFTER_MAX_S 3600
#define LEVEL_EPSILON 1e-6

/* ---- chained hash table (intrusive) ----------------------------------------------------- */

struct hent {
    struct hent *next;
    uint64_t hash;
};

struct htab {
    struct hent **b;
    size_t nb, n; /* nb is a power of two */
};

static void htab_init(struct htab *t)
{
    t->nb = 16;
    t->n = 0;
    t->b = gw_xcalloc(t->nb, sizeof(*t->b));
}

static void htab_insert(struct htab *t, struct hent *e)
{
    if (t->n >= t->nb) {
        size_t nb = t->nb * 2;
        struct hent **b = gw_xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < t->nb; i++) {
            struct hent *x = t->b[i], *next;
            for (; x; x = next) {
                next = x->next;
                x->next = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        }
        free(t->b);
        t->b = b;
        t->nb = nb;
    }
    struct hent **head = &t->b[e->hash & (t->nb - 1)];
    e->next = *head;
    *head = e;
    t->n++;
}

static void htab_remove(struct htab *t, struct hent *e)
{
    for (struct hent **p = &t->b[e->hash & (t->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            t->n--;
            return;
        }
    }
}

static uint64_t hash_str(uint64_t seed, const char *s)
{
    uint64_t h = 14695981039346656037ull ^ seed; /* FNV-1a, seeded */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ^ (h >> 29);
}

/* ---- queues ----------------------------------------------------------------------------- */

struct tq {         /* a tenant with waiting calls */
    struct hent he; /* first member: the hash entry is the struct */
    char *name;
    struct tq *rnext, *rprev; /* ring of tenants with waiting calls */
    struct uq *ucur;          /* its next user to serve (ring of its users with waiting calls) */
};

struct uq { /* a user with waiting calls */
    struct hent he;
    struct tq *tq;
    char *name;
    struct llm_ticket *head, *tail;
    struct uq *rnext, *rprev;
    size_t heap_i;
};

struct bucket {
    double level;  /* may go below 0 after a correction (debt), never below -cap */
    double cap;    /* one minute's worth; 0 = unlimited */
    double per_ms; /* refill rate */
};

struct pub { /* what llm_sched_stats reads, under lock */
    unsigned running, queued, max_concurrent;
    uint64_t admitted, rejected, expired;
    double rpm_level, tpm_level;
    int64_t waits[WAIT_SAMPLES];
    unsigned n_waits, wpos;
};

struct llm_sched {
    struct cfg_provider_limits lim;
    unsigned max_conc;
    struct llm_gate gate; /* take == NULL: none */
    int64_t gate_until;   /* the gate refused: not asked again before this time */
    struct bucket rpm, tpm;
    int64_t now; /* latest time seen (time never goes back inside the scheduler) */
    bool have_now;
    unsigned running, queued;
    uint64_t admitted, rejected, expired;

    struct htab tenants, users;
    struct tq *tcur;  /* next tenant to serve */
    struct uq **heap; /* min-heap of users by enqueue time of their head */
    size_t heap_n, heap_cap;
    uint64_t seed;

    /* for Retry-After */
    double avg_est; /* moving average of est_tokens */
    bool have_avg_est;
    double release_gap_ms;    /* moving average of the gap between releases at full concurrency */
    int64_t last_sat_release; /* time of the last release at full concurrency, -1 = none */

    pthread_mutex_t lock;
    struct pub pub;
};

/* Smallest integer >= x, for 0 <= x < 2^62 (no libm). */
static int64_t ceil_pos(double x)
{
    int64_t i = (int64_t)x;
    return (double)i < x ? i + 1 : i;
}

/* ---- token buckets ---------------------------------------------------------------------- */

static void bucket_set(struct bucket *b, unsigned rate)
{
    double cap = rate;
    if (rate == 0)
        b->level = 0;
    else if (b->cap == 0)
        b->level = cap; /* newly limited: start full */
    else if (b->level > cap)
        b->level = cap;
    else if (b->level < -cap)
        b->level = -cap;
    b->cap = cap;
    b->per_ms = cap / 60000.0;
}

static void bucket_refill(struct bucket *b, int64_t dt_ms)
{
    if (b->cap == 0)
        return;
    b->level += (double)dt_ms * b->per_ms;
    if (b->level > b->cap)
        b->level = b->cap;
}

/* What admitting a call of n units costs: capped at the capacity, so that a call larger than
 * one minute's worth still runs once the bucket is full. */
static double bucket_cost(const struct bucket *b, int64_t n)
{
    if (b->cap == 0 || n <= 0)
        return 0;
    return (double)n < b->cap ? (double)n : b->cap;
}

static bool bucket_allows(const struct bucket *b, double cost)
{
    return b->cap == 0 || b->level + LEVEL_EPSILON >= cost;
}

static int64_t bucket_wait_ms(const struct bucket *b, double cost)
{
    if (bucket_allows(b, cost))
        return 0;
    return ceil_pos((cost - b->level) / b->per_ms);
}

static void bucket_take(struct bucket *b, double cost)
{
    if (b->cap == 0)
        return;
    b->level -= cost;
    if (b->level < -b->cap)
        b->level = -b->cap;
}

/* ---- time, stats ------------------------------------------------------------------------ */

static int64_t tick(struct llm_sched *s, int64_t now)
{
    if (!s->have_now) {
        s->have_now = true;
        s->now = now;
    } else if (now > s->now) {
        bucket_refill(&s->rpm, now - s->now);
        bucket_refill(&s->tpm, now - s->now);
        s->now = now;
    }
    return s->now;
}

/* Copies the figures for llm_sched_stats; wait >= 0 adds a wait sample. */
static void publish(struct llm_sched *s, int64_t wait)
{
    pthread_mutex_lock(&s->lock);
    struct pub *p = &s->pub;
    p->running = s->running;
    p->queued = s->queued;
    p->max_concurrent = s->max_conc;
    p->admitted = s->admitted;
    p->rejected = s->rejected;
    p->expired = s->expired;
    p->rpm_level = s->rpm.cap == 0 ? -1 : s->rpm.level;
    p->tpm_level = s->tpm.cap == 0 ? -1 : s->tpm.level;
    if (wait >= 0) {
        p->waits[p->wpos] = wait;
        p->wpos = (p->wpos + 1) % WAIT_SAMPLES;
        if (p->n_waits < WAIT_SAMPLES)
            p->n_waits++;
    }
    pthread_mutex_unlock(&s->lock);
}

/* ---- expiry heap ------------------------------------------------------------------------ */

static int64_t heap_key(const struct uq *u)
{
    return u->head->enqueued_ms;
}

static void heap_set(struct llm_sched *s, size_t i, struct uq *u)
{
    s->heap[i] = u;
    u->heap_i = i;
}

static void heap_up(struct llm_sched *s, size_t i)
{
    struct uq *u = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap_key(s->heap[parent]) <= heap_key(u))
            break;
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, u);
}

static void heap_down(struct llm_sched *s, size_t i)
{
    struct uq *u = s->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->heap_n)
            break;
        if (c + 1 < s->heap_n && heap_key(s->heap[c + 1]) < heap_key(s->heap[c]))
            c++;
        if (heap_key(u) <= heap_key(s->heap[c]))
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, u);
}

static void heap_push(struct llm_sched *s, struct uq *u)
{
    if (s->heap_n == s->heap_cap) {
        s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 16;
        s->heap = gw_xrealloc(s->heap, s->heap_cap * sizeof(*s->heap));
    }
    heap_set(s, s->heap_n++, u);
    heap_up(s, u->heap_i);
}

static void heap_remove(struct llm_sched *s, struct uq *u)
{
    size_t i = u->heap_i;
    struct uq *last = s->heap[--s->heap_n];
    if (last == u)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, last->heap_i);
}

/* ---- tenants and users ------------------------------------------------------------------ */

static struct tq *tenant_get(struct llm_sched *s, const char *name)
{
    uint64_t h = hash_str(s->seed, name);
    for (struct hent *e = s->tenants.b[h & (s->tenants.nb - 1)]; e; e = e->next) {
        struct tq *t = (struct tq *)e;
        if (e->hash == h && strcmp(t->name, name) == 0)
            return t;
    }
    struct tq *t = gw_xcalloc(1, sizeof(*t));
    t->he.hash = h;
    t->name = gw_xstrdup(name);
    htab_insert(&s->tenants, &t->he);
    /* joins the ring at the end of the current round (just before the cursor) */
    if (!s->tcur) {
        t->rnext = t->rprev = t;
        s->tcur = t;
    } else {
        t->rnext = s->tcur;
        t->rprev = s->tcur->rprev;
        t->rprev->rnext = t;
        s->tcur->rprev = t;
    }
    return t;
}

static void tenant_drop(struct llm_sched *s, struct tq *t)
{
    if (s->tcur == t)
        s->tcur = t->rnext == t ? NULL : t->rnext;
    t->rprev->rnext = t->rnext;
    t->rnext->rprev = t->rprev;
    htab_remove(&s->tenants, &t->he);
    free(t->name);
    free(t);
}

static uint64_t user_hash(const struct llm_sched *s, const struct tq *t, const char *name)
{
    return hash_str(s->seed ^ (t->he.hash * 0x9e3779b97f4a7c15ull), name);
}

static struct uq *user_get(struct llm_sched *s, struct tq *t, const char *name)
{
    uint64_t h = user_hash(s, t, name);
    for (struct hent *e = s->users.b[h & (s->users.nb - 1)]; e; e = e->next) {
        struct uq *u = (struct uq *)e;
        if (e->hash == h && u->tq == t && strcmp(u->name, name) == 0)
            return u;
    }
    struct uq *u = gw_xcalloc(1, sizeof(*u));
    u->he.hash = h;
    u->tq = t;
    u->name = gw_xstrdup(name);
    htab_insert(&s->users, &u->he);
    if (!t->ucur) {
        u->rnext = u->rprev = u;
        t->ucur = u;
    } else {
        u->rnext = t->ucur;
        u->rprev = t->ucur->rprev;
        u->rprev->rnext = u;
        t->ucur->rprev = u;
    }
    return u; /* joins the heap with its first ticket */
}

static void user_drop(struct llm_sched *s, struct uq *u)
{
    struct tq *t = u->tq;
    heap_remove(s, u);
    if (t->ucur == u)
        t->ucur = u->rnext == u ? NULL : u->rnext;
    u->rprev->rnext = u->rnext;
    u->rnext->rprev = u->rprev;
    htab_remove(&s->users, &u->he);
    free(u->name);
    free(u);
    if (!t->ucur)
        tenant_drop(s, t);
}

static void enqueue(struct llm_sched *s, struct llm_ticket *tk)
{
    struct tq *t = tenant_get(s, tk->tenant ? tk->tenant : "");
    struct uq *u = user_get(s, t, tk->user ? tk->user : "");
    tk->next = NULL;
    tk->prev = u->tail;
    tk->queue = u;
    tk->queued = true;
    if (u->tail) {
        u->tail->next = tk;
        u->tail = tk;
    } else {
        u->head = u->tail = tk;
        heap_push(s, u);
    }
    s->queued++;
}

/* Takes a queued ticket out of its user's FIFO; frees the user (and tenant) when empty. */
static void unlink_ticket(struct llm_sched *s, struct llm_ticket *tk)
{
    struct uq *u = tk->queue;
    bool was_head = u->head == tk;
    if (tk->prev)
        tk->prev->next = tk->next;
    else
        u->head = tk->next;
    if (tk->next)
        tk->next->prev = tk->prev;
    else
        u->tail = tk->prev;
    tk->next = tk->prev = NULL;
    tk->queue = NULL;
    tk->queued = false;
    s->queued--;
    if (!u->head)
        user_drop(s, u);
    else if (was_head)
        heap_down(s, u->heap_i); /* the new head is not older than the old one */
}

/* ---- admission -------------------------------------------------------------------------- */

static bool limits_allow(const struct llm_sched *s, const struct llm_ticket *tk)
{
    return s->running < s->max_conc && bucket_allows(&s->rpm, bucket_cost(&s->rpm, 1)) &&
           bucket_allows(&s->tpm, bucket_cost(&s->tpm, tk->est_tokens));
}

/* The gate's word, once the local limits allow: false holds the head back until gate_until. */
static bool gate_allows(struct llm_sched *s, struct llm_ticket *tk)
{
    if (!s->gate.take)
        return true;
    if (s->now < s->gate_until)
        return false;
    int64_t wait = 0;
    if (s->gate.take(s->gate.arg, tk, &wait))
        return true;
    s->gate_until = s->now + (wait > 0 ? wait : 1);
    return false;
}

static void admit(struct llm_sched *s, struct llm_ticket *tk)
{
    bucket_take(&s->rpm, bucket_cost(&s->rpm, 1));
    bucket_take(&s->tpm, bucket_cost(&s->tpm, tk->est_tokens));
    tk->running = true;
    s->running++;
    s->admitted++;
}

struct llm_sched *llm_sched_new(const struct cfg_provider_limits *lim)
{
    struct llm_sched *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    htab_init(&s->tenants);
    htab_init(&s->users);
    gw_random(&s->seed, sizeof(s->seed));
    s->last_sat_release = -1;
    llm_sched_set_limits(s, lim);
    return s;
}

void llm_sched_set_limits(struct llm_sched *s, const struct cfg_provider_limits *lim)
{
    s->lim = *lim;
    s->max_conc = lim->max_concurrent ? lim->max_concurrent : 1;
    bucket_set(&s->rpm, s->gate.take ? 0 : lim->rpm);
    bucket_set(&s->tpm, s->gate.take ? 0 : lim->tpm);
    publish(s, -1);
}

void llm_sched_set_gate(struct llm_sched *s, const struct llm_gate *g)
{
    s->gate = g ? *g : (struct llm_gate){0};
    s->gate_until = 0;
    struct cfg_provider_limits lim = s->lim;
    llm_sched_set_limits(s, &lim);
}

void llm_sched_free(struct llm_sched *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->users.nb; i++) {
        struct hent *e = s->users.b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(((struct uq *)e)->name);
            free(e);
        }
    }
    for (size_t i = 0; i < s->tenants.nb; i++) {
        struct hent *e = s->tenants.b[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(((struct tq *)e)->name);
            free(e);
        }
    }
    free(s->users.b);
    free(s->tenants.b);
    free(s->heap);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

enum llm_admit llm_sched_submit(struct llm_sched *s, struct llm_ticket *t, int64_t now_ms)
{
    int64_t now = tick(s, now_ms);
    enum llm_admit res;
    t->next = t->prev = NULL;
    t->queue = NULL;
    t->queued = t->running = false;
    t->gate_mode = 0;
    t->gate_tokens = 0;
    t->enqueued_ms = now;
    double est = t->est_tokens > 0 ? (double)t->est_tokens : 0;
    s->avg_est = s->have_avg_est ? 0.9 * s->avg_est + 0.1 * est : est;
    s->have_avg_est = true;

    if (s->queued == 0 && limits_allow(s, t) && gate_allows(s, t)) {
        admit(s, t);
        res = LLM_ADMITTED;
    } else if (s->queued >= s->lim.max_queue) {
        s->rejected++;
        res = LLM_REJECTED;
    } else {
        enqueue(s, t);
        res = LLM_QUEUED;
    }
    publish(s, -1);
    return res;
}

struct llm_ticket *llm_sched_next(struct llm_sched *s, int64_t now_ms)
{
    int64_t now = tick(s, now_ms);
    struct tq *t = s->tcur;
    if (!t)
        return NULL;
    struct uq *u = t->ucur;
    struct llm_ticket *tk = u->head;
    if (!limits_allow(s, tk) || !gate_allows(s, tk))
        return NULL; /* the head of the line waits; nobody overtakes it */
    /* move both cursors on before the ticket leaves (which may free u and t) */
    t->ucur = u->rnext;
    s->tcur = t->rnext;
    unlink_ticket(s, tk);
    admit(s, tk);
    publish(s, now - tk->enqueued_ms);
    return tk;
}

struct llm_ticket *llm_sched_expired(struct llm_sched *s, int64_t now_ms)
{
    int64_t now = tick(s, now_ms);
    if (s->heap_n == 0)
        return NULL;
    struct llm_ticket *tk = s->heap[0]->head;
    if (now - tk->enqueued_ms < (int64_t)s->lim.max_wait_ms)
        return NULL;
    unlink_ticket(s, tk);
    s->expired++;
    publish(s, -1);
    return tk;
}

void llm_sched_cancel(struct llm_sched *s, struct llm_ticket *t)
{
    if (!t->queued || !t->queue)
        return;
    unlink_ticket(s, t);
    publish(s, -1);
}

void llm_sched_release(struct llm_sched *s, struct llm_ticket *t, int64_t actual_tokens,
                       int64_t now_ms)
{
    if (!t->running)
        return;
    int64_t now = tick(s, now_ms);
    t->running = false;
    if (s->running >= s->max_conc) {
        if (s->last_sat_release >= 0) {
            double gap = (double)(now - s->last_sat_release);
            s->release_gap_ms = s->release_gap_ms > 0 ? 0.8 * s->release_gap_ms + 0.2 * gap : gap;
        }
        s->last_sat_release = now;
    } else {
        s->last_sat_release = -1;
    }
    if (s->running > 0)
        s->running--;
    if (s->gate.give)
        s->gate.give(s->gate.arg, t, actual_tokens);
    if (actual_tokens >= 0 && s->tpm.cap > 0) {
        struct bucket *b = &s->tpm;
        double charged = bucket_cost(b, t->est_tokens);
        b->level -= (double)actual_tokens - charged;
        if (b->level > b->cap)
            b->level = b->cap;
        if (b->level < -b->cap)
            b->level = -b->cap;
    }
    publish(s, -1);
}

int64_t llm_sched_next_wakeup_ms(struct llm_sched *s, int64_t now_ms)
{
    int64_t now = tick(s, now_ms);
    if (s->queued == 0)
        return -1;
    int64_t w = s->heap[0]->head->enqueued_ms + (int64_t)s->lim.max_wait_ms - now;
    if (w < 0)
        w = 0;
    if (s->running < s->max_conc) {
        const struct llm_ticket *tk = s->tcur->ucur->head;
        int64_t b = GW_MAX(bucket_wait_ms(&s->rpm, bucket_cost(&s->rpm, 1)),
                           bucket_wait_ms(&s->tpm, bucket_cost(&s->tpm, tk->est_tokens)));
        if (s->gate.take && s->gate_until > now)
            b = GW_MAX(b, s->gate_until - now);
        w = GW_MIN(w, b);
    }
    /* at full concurrency only a release (which the caller sees) or expiry changes things */
    return w;
}

unsigned llm_sched_retry_after_s(struct llm_sched *s, int64_t now_ms)
{
    tick(s, now_ms);
    double n = (double)s->queued + 1; /* a new call would wait behind everyone queued */
    double ms = 0;
    if (s->rpm.cap > 0) {
        double need = n * bucket_cost(&s->rpm, 1) - s->rpm.level;
        if (need > 0)
            ms = GW_MAX(ms, need / s->rpm.per_ms);
    }
    if (s->tpm.cap > 0) {
        double per = s->avg_est > 1 ? GW_MIN(s->avg_est, s->tpm.cap) : 1;
        double need = n * per - s->tpm.level;
        if (need > 0)
            ms = GW_MAX(ms, need / s->tpm.per_ms);
    }
    if (s->gate.take && s->gate_until > s->now)
        ms = GW_MAX(ms, (double)(s->gate_until - s->now));
    double free_slots = s->running < s->max_conc ? (double)(s->max_conc - s->running) : 0;
    if (n > free_slots) {
        /* one slot frees every release_gap_ms; unknown: assume calls of about a second */
        double gap = s->release_gap_ms > 0 ? s->release_gap_ms : 1000.0 / s->max_conc;
        ms = GW_MAX(ms, (n - free_slots) * gap);
    }
    if (ms >= RETRY_AFTER_MAX_S * 1000.0)
        return RETRY_AFTER_MAX_S;
    int64_t secs = ceil_pos(ms / 1000.0);
    return secs < 1 ? 1 : (unsigned)secs;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted samples. */
static int64_t percentile(const int64_t *v, unsigned n, unsigned pct)
{
    if (n == 0)
        return 0;
    size_t rank = ((size_t)n * pct + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

void llm_sched_stats(struct llm_sched *s, struct llm_sched_stats *out)
{
    int64_t waits[WAIT_SAMPLES];
    pthread_mutex_lock(&s->lock);
    const struct pub *p = &s->pub;
    unsigned n = p->n_waits;
    *out = (struct llm_sched_stats){.running = p->running,
                                    .queued = p->queued,
                                    .max_concurrent = p->max_concurrent,
                                    .admitted = p->admitted,
                                    .rejected = p->rejected,
                                    .expired = p->expired,
                                    .rpm_available = p->rpm_level,
                                    .tpm_available = p->tpm_level};
    memcpy(waits, p->waits, n * sizeof(*waits));
    pthread_mutex_unlock(&s->lock);
    qsort(waits, n, sizeof(*waits), cmp_i64);
    out->wait_p50_ms = percentile(waits, n, 50);
    out->wait_p99_ms = percentile(waits, n, 99);
    out->wait_max_ms = n ? waits[n - 1] : 0;
}
