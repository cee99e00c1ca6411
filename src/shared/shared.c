/* SPDX-License-Identifier: MIT
 * shared.c — the seam: one backend (in-process or Redis) behind shared.h, the handlers of
 * notifications, and what degrades when Redis cannot be reached.
 *
 * Counters fall back to this node's own table when Redis fails (each node then enforces its
 * limit alone: the guarantee that remains). Revocation never falls back: shared_revoked says
 * GW_EUNAVAIL and the caller refuses the credential it cannot check.
 */
#include "base/prelude.h"
#include "shared/shared_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>

#define MAX_HANDLERS 16

struct handler {
    enum shared_channel ch;
    shared_notify_fn fn;
    void *arg;
};

struct shared {
    const struct shared_ops *ops;
    void *impl;
    void *local;           /* in-process counters: the backend, or Redis's fallback */
    pthread_rwlock_t lock; /* handlers: read while they run, written to change them */
    struct handler handlers[MAX_HANDLERS];
    size_t n_handlers;
    struct shared_streams *streams;
};

/* clang-format off */
static const char *const channel_names[SHARED__CHANNELS] = {
    [SHARED_REVOKE] = "revoke",
    [SHARED_POLICY] = "policy",
    [SHARED_CONFIG] = "config",
    [SHARED_MODELS] = "models",
    [SHARED_IDENTITY] = "identity",
};
/* clang-format on */

const char *shared_channel_name(enum shared_channel ch)
{
    return ch < SHARED__CHANNELS ? channel_names[ch] : "?";
}

/* Printable ASCII without spaces: keys and ids become Redis keys and message words. */
bool shared_key_ok(const char *key, size_t max)
{
    size_t n = 0;
    for (; key[n]; n++)
        if ((unsigned char)key[n] <= ' ' || (unsigned char)key[n] >= 0x7f || n >= max)
            return false;
    return n > 0;
}

gw_err shared_open(const struct shared_options *o, struct shared **out)
{
    struct shared *s = gw_xcalloc(1, sizeof(*s));
    pthread_rwlock_init(&s->lock, NULL);
    s->local = shared_local_new();
    s->ops = &shared_local_ops;
    s->impl = s->local;
    if (o && o->redis_url) {
        gw_err rc = shared_redis_open(s, o, &s->impl);
        if (rc != GW_OK) {
            s->impl = NULL;
            shared_close(s);
            return rc;
        }
        s->ops = &shared_redis_ops;
    }
    s->streams = shared_streams_new(s->impl == s->local ? NULL : s->impl);
    *out = s;
    return GW_OK;
}

void shared_close(struct shared *s)
{
    if (!s)
        return;
    shared_streams_free(s->streams); /* its worker's last batch still needs Redis */
    if (s->impl && s->impl != s->local)
        s->ops->close(s->impl); /* stops the subscriber: no handler runs after this */
    shared_local_ops.close(s->local);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

struct shared_streams *shared_streams_of(struct shared *s)
{
    return s->streams;
}

const char *shared_backend(const struct shared *s)
{
    return s->ops->name;
}

bool shared_health(struct shared *s, char *msg, size_t cap)
{
    return s->ops->health(s->impl, msg, cap);
}

gw_err shared_counter_incr(struct shared *s, const char *key, int64_t by, int64_t window_ms,
                           int64_t *value)
{
    if (!shared_key_ok(key, SHARED_KEY_MAX) || window_ms <= 0)
        return GW_EINVAL;
    if (s->ops->incr(s->impl, key, by, window_ms, value) == GW_OK)
        return GW_OK;
    return shared_local_ops.incr(s->local, key, by, window_ms, value);
}

gw_err shared_counter_get(struct shared *s, const char *key, int64_t *value, int64_t *left_ms)
{
    if (!shared_key_ok(key, SHARED_KEY_MAX))
        return GW_EINVAL;
    if (s->ops->get(s->impl, key, value, left_ms) == GW_OK)
        return GW_OK;
    return shared_local_ops.get(s->local, key, value, left_ms);
}

gw_err shared_counter_reset(struct shared *s, const char *key)
{
    if (!shared_key_ok(key, SHARED_KEY_MAX))
        return GW_EINVAL;
    shared_local_ops.reset(s->local, key);
    return s->impl == s->local ? GW_OK : s->ops->reset(s->impl, key);
}

gw_err shared_revoke(struct shared *s, const char *id, int64_t ttl_ms)
{
    if (!shared_key_ok(id, SHARED_KEY_MAX) || ttl_ms <= 0)
        return GW_EINVAL;
    return s->ops->revoke(s->impl, id, gw_now_ms() + ttl_ms);
}

gw_err shared_revoked_until(struct shared *s, const char *id, int64_t *until_ms)
{
    *until_ms = 0;
    if (!shared_key_ok(id, SHARED_KEY_MAX))
        return GW_EINVAL;
    return s->ops->revoked(s->impl, id, until_ms);
}

gw_err shared_revoked(struct shared *s, const char *id, bool *revoked)
{
    int64_t until = 0;
    gw_err rc = shared_revoked_until(s, id, &until);
    *revoked = until != 0;
    return rc;
}

gw_err shared_publish(struct shared *s, enum shared_channel ch, const char *payload)
{
    if (ch >= SHARED__CHANNELS || strlen(payload) > SHARED_PAYLOAD_MAX ||
        (*payload && !shared_key_ok(payload, SHARED_PAYLOAD_MAX)))
        return GW_EINVAL;
    return s->ops->publish(s->impl, ch, payload);
}

void shared_subscribe(struct shared *s, enum shared_channel ch, shared_notify_fn fn, void *arg)
{
    pthread_rwlock_wrlock(&s->lock);
    if (s->n_handlers < MAX_HANDLERS)
        s->handlers[s->n_handlers++] = (struct handler){ch, fn, arg};
    else
        gw_error("shared: more than %d notification handlers; one is ignored", MAX_HANDLERS);
    pthread_rwlock_unlock(&s->lock);
}

void shared_unsubscribe(struct shared *s, shared_notify_fn fn, void *arg)
{
    pthread_rwlock_wrlock(&s->lock); /* waits for a delivery in progress */
    size_t k = 0;
    for (size_t i = 0; i < s->n_handlers; i++)
        if (s->handlers[i].fn != fn || s->handlers[i].arg != arg)
            s->handlers[k++] = s->handlers[i];
    s->n_handlers = k;
    pthread_rwlock_unlock(&s->lock);
}

void shared_deliver(struct shared *s, enum shared_channel ch, const char *payload)
{
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n_handlers; i++)
        if (s->handlers[i].ch == ch)
            s->handlers[i].fn(s->handlers[i].arg, ch, payload);
    pthread_rwlock_unlock(&s->lock);
}

gw_err shared_counter_incr_batch(struct shared *s, struct shared_incr *v, size_t n)
{
    if (n == 0 || n > SHARED_BATCH_MAX)
        return GW_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!shared_key_ok(v[i].key, SHARED_KEY_MAX) || v[i].window_ms <= 0)
            return GW_EINVAL;
    return s->ops->incr_batch(s->impl, v, n) == GW_OK ? GW_OK : GW_EUNAVAIL;
}
