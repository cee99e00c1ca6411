/* SPDX-License-Identifier: MIT
 * auth_throttle.c — failed-authentication throttling per client address.
 *
 * Failures are counted per address in a one-minute window from the first one, in the shared
 * state (shared/shared.h): in-process on one node (a fixed-size table whose oldest entries are
 * recycled, so an attacker spraying addresses cannot grow memory), in Redis in a cluster, so a
 * guesser spreading attempts over the nodes meets one limit. The failure that reaches the
 * limit marks the address ("throttle:<address>") until its window ends; every node reads the
 * marks locally, so a request costs no round trip. A node that cannot see the marks (Redis
 * unreachable) reads the counter instead, which then counts on this node alone.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "base/util.h"
#include "shared/shared.h"

#include <stdatomic.h>

#define WINDOW_MS 60000

struct auth_throttle {
    struct shared *shared;
    atomic_uint limit; /* the limit of the last check (the configuration's) */
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

static void key_of(const char *prefix, const char *ip, char *key, size_t cap)
{
    snprintf(key, cap, "%s:%.64s", prefix, ip && *ip ? ip : "unknown");
}

static unsigned seconds_left(int64_t ms)
{
    return ms > 0 ? (unsigned)(ms / 1000) + 1 : 0;
}

unsigned auth_throttle_check(struct auth_throttle *t, const char *ip, unsigned limit)
{
    char key[80];
    int64_t until = 0, failures = 0, left = 0;
    atomic_store(&t->limit, limit);
    if (limit == 0)
        return 0;
    key_of("throttle", ip, key, sizeof(key));
    if (shared_revoked_until(t->shared, key, &until) == GW_OK)
        return seconds_left(until - gw_now_ms());
    key_of("authfail", ip, key, sizeof(key));
    if (shared_counter_get(t->shared, key, &failures, &left) != GW_OK || failures < (int64_t)limit)
        return 0;
    return seconds_left(left);
}

void auth_throttle_fail(struct auth_throttle *t, const char *ip)
{
    char key[80], mark[80];
    int64_t failures = 0, left = 0;
    unsigned limit = atomic_load(&t->limit);
    key_of("authfail", ip, key, sizeof(key));
    if (shared_counter_incr(t->shared, key, 1, WINDOW_MS, &failures) != GW_OK || !limit ||
        failures < (int64_t)limit)
        return;
    if (shared_counter_get(t->shared, key, &failures, &left) != GW_OK || left <= 0)
        left = WINDOW_MS;
    key_of("throttle", ip, mark, sizeof(mark));
    (void)shared_revoke(t->shared, mark, left);
}
