/* SPDX-License-Identifier: MIT
 * auth_throttle.c — failed-authentication throttling per client address.
 *
 * A counter per address in a one-minute window from its first failure, kept in the shared
 * state (shared/shared.h): in-process on one node (a fixed-size table whose oldest entries are
 * recycled, so an attacker spraying addresses cannot grow memory), in Redis in a cluster, so a
 * guesser spreading attempts over the nodes meets one limit; with Redis unreachable each node
 * counts alone.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "shared/shared.h"

#define WINDOW_MS 60000

struct auth_throttle {
    struct shared *shared;
};

struct auth_throttle *auth_throttle_new(struct shared *s)
{
    struct auth_throttle *t = gw_xcalloc(1, sizeof(*t));
    t->shared = s;
    return t;
}

void auth_throttle_free(struct auth_throttle *t)
{
    free(t);
}

static void key_of(const char *ip, char *key, size_t cap)
{
    snprintf(key, cap, "authfail:%.64s", ip && *ip ? ip : "unknown");
}

unsigned auth_throttle_check(struct auth_throttle *t, const char *ip, unsigned limit)
{
    char key[80];
    int64_t failures = 0, left_ms = 0;
    if (limit == 0)
        return 0;
    key_of(ip, key, sizeof(key));
    if (shared_counter_get(t->shared, key, &failures, &left_ms) != GW_OK ||
        failures < (int64_t)limit || left_ms <= 0)
        return 0;
    return (unsigned)(left_ms / 1000) + 1;
}

void auth_throttle_fail(struct auth_throttle *t, const char *ip)
{
    char key[80];
    int64_t failures;
    key_of(ip, key, sizeof(key));
    (void)shared_counter_incr(t->shared, key, 1, WINDOW_MS, &failures);
}
