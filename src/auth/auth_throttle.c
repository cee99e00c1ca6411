/* SPDX-License-Identifier: MIT
 * auth_throttle.c — failed-authentication throttling per client address.
 *
 * A fixed-size hash table of addresses with a one-minute window each; when a probe window is
 * full its oldest entry is recycled, so an attacker spraying addresses cannot grow memory.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>

#define THROTTLE_SLOTS 4096
#define WINDOW_MS 60000
#define PROBE 8

struct slot {
    char ip[64];
    int64_t window_start_ms;
    unsigned failures;
};

struct auth_throttle {
    pthread_mutex_t lock;
    struct slot slots[THROTTLE_SLOTS];
};

struct auth_throttle *auth_throttle_new(void)
{
    struct auth_throttle *t = gw_xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static uint32_t ip_hash(const char *ip)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h;
}

/* Open addressing over a short probe window; a full window recycles its oldest slot. */
static struct slot *find(struct auth_throttle *t, const char *ip, bool create, int64_t now)
{
    uint32_t h = ip_hash(ip);
    struct slot *victim = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        struct slot *s = &t->slots[(h + i) % THROTTLE_SLOTS];
        if (s->ip[0] && strcmp(s->ip, ip) == 0)
            return s;
        if (!victim || !s->ip[0] || (victim->ip[0] && s->window_start_ms < victim->window_start_ms))
            victim = s;
    }
    if (!create)
        return NULL;
    snprintf(victim->ip, sizeof(victim->ip), "%s", ip);
    victim->window_start_ms = now;
    victim->failures = 0;
    return victim;
}

unsigned auth_throttle_check(struct auth_throttle *t, const char *ip, unsigned limit)
{
    if (limit == 0)
        return 0;
    int64_t now = gw_now_ms();
    unsigned wait = 0;
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, ip, false, now);
    if (s && now - s->window_start_ms < WINDOW_MS && s->failures >= limit)
        wait = (unsigned)((WINDOW_MS - (now - s->window_start_ms)) / 1000) + 1;
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void auth_throttle_fail(struct auth_throttle *t, const char *ip)
{
    int64_t now = gw_now_ms();
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, ip, true, now);
    if (now - s->window_start_ms >= WINDOW_MS) {
        s->window_start_ms = now;
        s->failures = 0;
    }
    s->failures++;
    pthread_mutex_unlock(&t->lock);
}
