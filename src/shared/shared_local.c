/* SPDX-License-Identifier: MIT
 * shared_local.c — the in-process backend: what one node alone needs, as before the seam.
 *
 * Counters live in a fixed hash table (4096 slots, a probe window of 8 whose oldest entry is
 * recycled when full), so keys chosen by clients (addresses) cannot grow memory. Revoked ids
 * live in a growable set with expiry (shared_idset, also the Redis backend's mirror). There is
 * no other node to tell: publishing does nothing.
 */
#include "base/prelude.h"
#include "shared/shared_int.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>

#define SLOTS 4096
#define PROBE 8

struct slot {
    char key[SHARED_KEY_MAX + 1];
    int64_t ends_ms; /* end of the window; 0: free */
    int64_t value;
};

struct local {
    pthread_mutex_t lock;
    struct slot slots[SLOTS];
    struct shared_idset *revoked;
};

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of key, or (create) a free, expired or else the oldest slot of its window. */
static struct slot *find(struct local *l, const char *key, bool create, int64_t now)
{
    uint32_t h = hash(key);
    struct slot *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct slot *s = &l->slots[(h + i) % SLOTS];
        if (s->ends_ms > now && strcmp(s->key, key) == 0)
            return s;
        if (!victim || s->ends_ms < victim->ends_ms)
            victim = s;
    }
    if (!create)
        return NULL;
    snprintf(victim->key, sizeof(victim->key), "%s", key);
    victim->ends_ms = 0;
    victim->value = 0;
    return victim;
}

static gw_err local_incr(void *impl, const char *key, int64_t by, int64_t window_ms, int64_t *value)
{
    struct local *l = impl;
    int64_t now = gw_now_ms();
    pthread_mutex_lock(&l->lock);
    struct slot *s = find(l, key, true, now);
    if (s->ends_ms <= now) {
        s->ends_ms = now + window_ms;
        s->value = 0;
    }
    s->value += by;
    *value = s->value;
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

static gw_err local_get(void *impl, const char *key, int64_t *value, int64_t *left_ms)
{
    struct local *l = impl;
    int64_t now = gw_now_ms();
    pthread_mutex_lock(&l->lock);
    struct slot *s = find(l, key, false, now);
    *value = s ? s->value : 0;
    *left_ms = s ? s->ends_ms - now : 0;
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

static gw_err local_reset(void *impl, const char *key)
{
    struct local *l = impl;
    pthread_mutex_lock(&l->lock);
    struct slot *s = find(l, key, false, gw_now_ms());
    if (s)
        s->ends_ms = 0;
    pthread_mutex_unlock(&l->lock);
    return GW_OK;
}

static gw_err local_revoke(void *impl, const char *id, int64_t expires_ms)
{
    struct local *l = impl;
    shared_idset_add(l->revoked, id, expires_ms);
    return GW_OK;
}

static gw_err local_revoked(void *impl, const char *id, int64_t *until_ms)
{
    struct local *l = impl;
    *until_ms = shared_idset_until(l->revoked, id, gw_now_ms());
    return GW_OK;
}

static gw_err local_publish(void *impl, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(impl);
    GW_UNUSED(ch);
    GW_UNUSED(payload);
    return GW_OK;
}

static bool local_health(void *impl, char *msg, size_t cap)
{
    GW_UNUSED(impl);
    snprintf(msg, cap, "in-process (one node)");
    return true;
}

static void local_close(void *impl)
{
    struct local *l = impl;
    shared_idset_free(l->revoked);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

void *shared_local_new(void)
{
    struct local *l = gw_xcalloc(1, sizeof(*l));
    pthread_mutex_init(&l->lock, NULL);
    l->revoked = shared_idset_new();
    return l;
}

static gw_err local_incr_batch(void *impl, struct shared_incr *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        local_incr(impl, v[i].key, v[i].by, v[i].window_ms, &v[i].value);
    return GW_OK;
}

const struct shared_ops shared_local_ops = {
    .name = "in-process",
    .incr = local_incr,
    .get = local_get,
    .reset = local_reset,
    .revoke = local_revoke,
    .revoked = local_revoked,
    .publish = local_publish,
    .health = local_health,
    .close = local_close,
    .incr_batch = local_incr_batch,
};

/* --- the id set: open addressing, doubled (without the expired) at half full --------------- */

struct entry {
    char *id; /* NULL: free */
    int64_t expires_ms;
};

struct shared_idset {
    pthread_mutex_t lock;
    struct entry *v;
    size_t cap, n;
};

struct shared_idset *shared_idset_new(void)
{
    struct shared_idset *set = gw_xcalloc(1, sizeof(*set));
    pthread_mutex_init(&set->lock, NULL);
    set->cap = 64;
    set->v = gw_xcalloc(set->cap, sizeof(*set->v));
    return set;
}

static void clear_locked(struct shared_idset *set)
{
    for (size_t i = 0; i < set->cap; i++) {
        free(set->v[i].id);
        set->v[i].id = NULL;
    }
    set->n = 0;
}

void shared_idset_clear(struct shared_idset *set)
{
    pthread_mutex_lock(&set->lock);
    clear_locked(set);
    pthread_mutex_unlock(&set->lock);
}

void shared_idset_free(struct shared_idset *set)
{
    if (!set)
        return;
    clear_locked(set);
    free(set->v);
    pthread_mutex_destroy(&set->lock);
    free(set);
}

static struct entry *slot_of(struct entry *v, size_t cap, const char *id)
{
    size_t i = hash(id) & (cap - 1);
    while (v[i].id && strcmp(v[i].id, id) != 0)
        i = (i + 1) & (cap - 1);
    return &v[i];
}

/* Rehashes into a table twice the live entries' need, dropping the expired. */
static void grow(struct shared_idset *set, int64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < set->cap; i++)
        live += set->v[i].id && set->v[i].expires_ms > now;
    size_t cap = 64;
    while (cap < 4 * (live + 1))
        cap *= 2;
    struct entry *v = gw_xcalloc(cap, sizeof(*v));
    for (size_t i = 0; i < set->cap; i++) {
        if (!set->v[i].id)
            continue;
        if (set->v[i].expires_ms > now)
            *slot_of(v, cap, set->v[i].id) = set->v[i];
        else
            free(set->v[i].id);
    }
    free(set->v);
    set->v = v;
    set->cap = cap;
    set->n = live;
}

void shared_idset_add(struct shared_idset *set, const char *id, int64_t expires_ms)
{
    int64_t now = gw_now_ms();
    pthread_mutex_lock(&set->lock);
    if (2 * (set->n + 1) > set->cap)
        grow(set, now);
    struct entry *e = slot_of(set->v, set->cap, id);
    if (!e->id) {
        e->id = gw_xstrdup(id);
        set->n++;
    }
    if (expires_ms > e->expires_ms)
        e->expires_ms = expires_ms;
    pthread_mutex_unlock(&set->lock);
}

int64_t shared_idset_until(struct shared_idset *set, const char *id, int64_t now_ms)
{
    pthread_mutex_lock(&set->lock);
    struct entry *e = slot_of(set->v, set->cap, id);
    int64_t until = e->id && e->expires_ms > now_ms ? e->expires_ms : 0;
    pthread_mutex_unlock(&set->lock);
    return until;
}

bool shared_idset_contains(struct shared_idset *set, const char *id, int64_t now_ms)
{
    return shared_idset_until(set, id, now_ms) != 0;
}
