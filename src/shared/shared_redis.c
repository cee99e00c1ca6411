/* SPDX-License-Identifier: MIT
 * shared_redis.c — the Redis backend: counters, the revoked set and notifications shared by
 * every node that names the same Redis server.
 *
 * Two connections. Commands go over one connection under a mutex (one pipelined exchange at a
 * time, 1 s deadline); after a failure no command is tried for a backoff (0.1 s doubling to
 * 5 s, ended early when the subscriber reaches Redis again) and the callers get GW_EUNAVAIL at
 * once. The "shared-sub" thread owns the other: it
 * subscribes to the channels, then loads the revoked ids into a local mirror, and only then
 * says "synced"; revocation checks read the mirror (no round trip per request) and answer
 * GW_EUNAVAIL while not synced. A lost connection unsyncs, reconnects with backoff, resyncs,
 * and tells the handlers of every channel that notifications may have been missed.
 *
 * Keys: openclaw:c:<key> (counters, PEXPIRE NX: Redis 7), openclaw:revoked (a sorted set
 * scored by expiry), channels openclaw:<name> carrying "<node id>/<process id> <payload>". The
 * password is only sent in AUTH, never logged.
 */
#include "base/prelude.h"
#include "shared/shared_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <openssl/err.h>

#define CMD_TIMEOUT_MS 1000
#define BACKOFF_MIN_MS 100
/* A caller that tries a command against a Redis that hangs waits CMD_TIMEOUT_MS (the net-io
 * thread among them): at most once per BACKOFF_MAX_MS. The subscriber, on its own thread,
 * tries every SUB_BACKOFF_MAX_MS at most, and a connection it makes ends the commands' backoff:
 * run-time credentials wait for its resync, so Redis back means in force again within ~1 s. */
#define BACKOFF_MAX_MS 5000
#define SUB_BACKOFF_MAX_MS 1000
#define PING_EVERY_MS 2000
#define REVOKED_KEY "openclaw:revoked"

struct redis {
    struct shared *s;
    struct shared_url url;
    char *node_id;
    SSL_CTX *tls;
    pthread_mutex_t lock; /* the command connection and the fields below */
    struct shared_conn cmd;
    int64_t retry_at_ns;
    unsigned backoff_ms;
    char last_error[200];
    struct shared_idset *mirror;
    atomic_bool synced, stop;
    pthread_t sub;
};

static int64_t deadline(unsigned ms)
{
    return gw_mono_ns() + (int64_t)ms * 1000000;
}

static void set_error(struct redis *r, const char *msg)
{
    snprintf(r->last_error, sizeof(r->last_error), "%s", msg);
}

/* Connects c: TCP/TLS, AUTH (user and password), SELECT. */
static gw_err dial(struct redis *r, struct shared_conn *c, bool select, char *msg, size_t cap)
{
    int64_t dl = deadline(CMD_TIMEOUT_MS);
    gw_err rc = shared_conn_open(c, r->url.host, r->url.port, r->tls, dl, msg, cap);
    if (rc != GW_OK)
        return rc;
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    size_t expect = 0;
    char db[8];
    snprintf(db, sizeof(db), "%u", r->url.db);
    if (r->url.password[0]) {
        const char *auth_user[] = {"AUTH", r->url.user, r->url.password};
        const char *auth[] = {"AUTH", r->url.password};
        if (r->url.user[0])
            shared_resp_command(&b, 3, auth_user);
        else
            shared_resp_command(&b, 2, auth);
        expect++;
    }
    if (select && r->url.db) {
        const char *sel[] = {"SELECT", db};
        shared_resp_command(&b, 2, sel);
        expect++;
    }
    if (expect)
        rc = shared_conn_write(c, b.data, b.len, dl);
    if (b.data)
        explicit_bzero(b.data, b.len);
    gw_buf_release(&b);
    for (size_t i = 0; rc == GW_OK && i < expect; i++) {
        struct shared_reply rep;
        rc = shared_conn_reply(c, dl, &rep);
        if (rc == GW_OK && rep.type == RESP_ERROR) {
            snprintf(msg, cap, "Redis refused %s: %.80s",
                     i == 0 && r->url.password[0] ? "the credentials" : "SELECT", rep.s);
            rc = GW_EUNAUTH;
        } else if (rc != GW_OK)
            snprintf(msg, cap, "no answer from Redis at %.100s:%u", r->url.host, r->url.port);
        shared_reply_release(&rep);
    }
    if (rc != GW_OK)
        shared_conn_close(c);
    return rc;
}

/* Sends the commands in b and reads n replies into out (lock held). */
static gw_err exchange_locked(struct redis *r, const struct gw_buf *b, size_t n,
                              struct shared_reply *out)
{
    char msg[200];
    gw_err rc = GW_OK;
    if (r->cmd.fd < 0) {
        if (gw_mono_ns() < r->retry_at_ns)
            return GW_EUNAVAIL;
        if ((rc = dial(r, &r->cmd, true, msg, sizeof(msg))) != GW_OK)
            set_error(r, msg);
    }
    int64_t dl = deadline(CMD_TIMEOUT_MS);
    if (rc == GW_OK)
        rc = shared_conn_write(&r->cmd, b->data, b->len, dl);
    size_t got = 0;
    for (; rc == GW_OK && got < n; got++)
        rc = shared_conn_reply(&r->cmd, dl, &out[got]);
    if (rc == GW_OK) {
        r->backoff_ms = 0;
        return GW_OK;
    }
    for (size_t i = 0; i < got; i++)
        shared_reply_release(&out[i]);
    if (r->cmd.fd >= 0 && rc != GW_EUNAUTH)
        set_error(r, "the connection to Redis failed");
    shared_conn_close(&r->cmd);
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (r->backoff_ms > BACKOFF_MAX_MS)
        r->backoff_ms = BACKOFF_MAX_MS;
    r->retry_at_ns = deadline(r->backoff_ms);
    return GW_EUNAVAIL;
}

/* One pipelined exchange: n commands of argc[i] arguments, n replies; an error reply of any
 * command fails the exchange (GW_EUPSTREAM). */
static gw_err exchange(struct redis *r, size_t n, const size_t *argc, const char *const *argv[],
                       struct shared_reply *out)
{
    struct gw_buf b;
    gw_buf_init(&b, 1024 * 1024); /* a batch of stream events (shared_stream.c) */
    for (size_t i = 0; i < n; i++)
        shared_resp_command(&b, argc[i], argv[i]);
    pthread_mutex_lock(&r->lock);
    gw_err rc = exchange_locked(r, &b, n, out);
    pthread_mutex_unlock(&r->lock);
    gw_buf_release(&b);
    for (size_t i = 0; rc == GW_OK && i < n; i++)
        if (out[i].type == RESP_ERROR) {
            gw_warn("shared: Redis answered %s with an error: %.100s", argv[i][0], out[i].s);
            rc = GW_EUPSTREAM;
        }
    if (rc == GW_EUPSTREAM)
        for (size_t i = 0; i < n; i++)
            shared_reply_release(&out[i]);
    return rc;
}

gw_err shared_redis_exchange(void *impl, size_t n, const size_t *argc, const char *const *argv[],
                             struct shared_reply *out)
{
    return exchange(impl, n, argc, argv, out);
}

static void counter_key(char *out, size_t cap, const char *key)
{
    snprintf(out, cap, "openclaw:c:%s", key);
}

static gw_err redis_incr(void *impl, const char *key, int64_t by, int64_t window_ms, int64_t *value)
{
    char k[SHARED_KEY_MAX + 16], n[24], w[24];
    counter_key(k, sizeof(k), key);
    snprintf(n, sizeof(n), "%" PRId64, by);
    snprintf(w, sizeof(w), "%" PRId64, window_ms);
    const char *incr[] = {"INCRBY", k, n}, *exp[] = {"PEXPIRE", k, w, "NX"};
    const char *const *argv[] = {incr, exp};
    size_t argc[] = {3, 4};
    struct shared_reply rep[2];
    gw_err rc = exchange(impl, 2, argc, argv, rep);
    if (rc != GW_OK)
        return rc;
    rc = rep[0].type == RESP_INT ? GW_OK : GW_EUPSTREAM;
    *value = rep[0].i;
    shared_reply_release(&rep[0]);
    shared_reply_release(&rep[1]);
    return rc;
}

static gw_err redis_get(void *impl, const char *key, int64_t *value, int64_t *left_ms)
{
    char k[SHARED_KEY_MAX + 16];
    counter_key(k, sizeof(k), key);
    const char *get[] = {"GET", k}, *ttl[] = {"PTTL", k};
    const char *const *argv[] = {get, ttl};
    size_t argc[] = {2, 2};
    struct shared_reply rep[2];
    gw_err rc = exchange(impl, 2, argc, argv, rep);
    if (rc != GW_OK)
        return rc;
    *value = 0;
    *left_ms = rep[1].type == RESP_INT && rep[1].i > 0 ? rep[1].i : 0;
    if (rep[0].type == RESP_BULK) {
        char *e = NULL;
        long long v = strtoll(rep[0].s, &e, 10);
        if (e == rep[0].s || *e)
            rc = GW_EUPSTREAM;
        *value = v;
    } else if (rep[0].type != RESP_NIL)
        rc = GW_EUPSTREAM;
    shared_reply_release(&rep[0]);
    shared_reply_release(&rep[1]);
    return rc;
}

static gw_err redis_reset(void *impl, const char *key)
{
    char k[SHARED_KEY_MAX + 16];
    counter_key(k, sizeof(k), key);
    const char *del[] = {"DEL", k};
    const char *const *argv[] = {del};
    size_t argc[] = {2};
    struct shared_reply rep;
    gw_err rc = exchange(impl, 1, argc, argv, &rep);
    if (rc == GW_OK)
        shared_reply_release(&rep);
    return rc;
}

static void channel_key(char *out, size_t cap, enum shared_channel ch)
{
    snprintf(out, cap, "openclaw:%s", shared_channel_name(ch));
}

/* ZADD, prune what expired, and PUBLISH, in one exchange. */
static gw_err redis_revoke(void *impl, const char *id, int64_t expires_ms)
{
    struct redis *r = impl;
    shared_idset_add(r->mirror, id, expires_ms); /* in force here whatever Redis says */
    char score[24], now[24], ch[32];
    char *msg = gw_xasprintf("%s %s %" PRId64, r->node_id, id, expires_ms);
    snprintf(score, sizeof(score), "%" PRId64, expires_ms);
    snprintf(now, sizeof(now), "%" PRId64, gw_now_ms());
    channel_key(ch, sizeof(ch), SHARED_REVOKE);
    const char *add[] = {"ZADD", REVOKED_KEY, score, id};
    const char *prune[] = {"ZREMRANGEBYSCORE", REVOKED_KEY, "-inf", now};
    const char *pub[] = {"PUBLISH", ch, msg};
    const char *const *argv[] = {add, prune, pub};
    size_t argc[] = {4, 4, 3};
    struct shared_reply rep[3];
    gw_err rc = exchange(r, 3, argc, argv, rep);
    for (size_t i = 0; rc == GW_OK && i < 3; i++)
        shared_reply_release(&rep[i]);
    free(msg);
    return rc == GW_OK ? GW_OK : GW_EUNAVAIL;
}

static gw_err redis_revoked(void *impl, const char *id, int64_t *until_ms)
{
    struct redis *r = impl;
    if (!atomic_load(&r->synced))
        return GW_EUNAVAIL;
    *until_ms = shared_idset_until(r->mirror, id, gw_now_ms());
    return GW_OK;
}

static gw_err redis_publish(void *impl, enum shared_channel ch, const char *payload)
{
    struct redis *r = impl;
    char key[32], *msg = gw_xasprintf("%s %s", r->node_id, payload);
    channel_key(key, sizeof(key), ch);
    const char *pub[] = {"PUBLISH", key, msg};
    const char *const *argv[] = {pub};
    size_t argc[] = {3};
    struct shared_reply rep;
    gw_err rc = exchange(r, 1, argc, argv, &rep);
    if (rc == GW_OK)
        shared_reply_release(&rep);
    free(msg);
    return rc == GW_OK ? GW_OK : GW_EUNAVAIL;
}

static bool redis_health(void *impl, char *msg, size_t cap)
{
    struct redis *r = impl;
    bool ok = atomic_load(&r->synced);
    pthread_mutex_lock(&r->lock);
    if (ok)
        snprintf(msg, cap, "redis %s:%u%s", r->url.host, r->url.port, r->tls ? " (TLS)" : "");
    else
        snprintf(msg, cap,
                 "redis %s:%u unreachable (%s): counters per node, run-time tokens and "
                 "sessions refused until it is back",
                 r->url.host, r->url.port, r->last_error[0] ? r->last_error : "connecting");
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* --- the subscriber thread ------------------------------------------------------------------- */

/* Sleeps ms unless stopping. */
static void nap(struct redis *r, unsigned ms)
{
    for (unsigned t = 0; t < ms && !atomic_load(&r->stop); t += 50)
        usleep(50 * 1000);
}

/* The revoked ids still in force, into the mirror. */
static gw_err resync(struct redis *r)
{
    char now[24];
    snprintf(now, sizeof(now), "%" PRId64, gw_now_ms());
    const char *range[] = {"ZRANGEBYSCORE", REVOKED_KEY, now, "+inf", "WITHSCORES"};
    const char *const *argv[] = {range};
    size_t argc[] = {5};
    struct shared_reply rep;
    gw_err rc = exchange(r, 1, argc, argv, &rep);
    if (rc != GW_OK)
        return rc;
    if (rep.type != RESP_ARRAY || rep.n % 2)
        rc = GW_EUPSTREAM;
    shared_idset_clear(r->mirror);
    for (size_t i = 0; rc == GW_OK && i + 1 < rep.n; i += 2) {
        char *e = NULL;
        const struct shared_reply *id = &rep.v[i], *sc = &rep.v[i + 1];
        long long exp = sc->type == RESP_BULK ? strtoll(sc->s, &e, 10) : 0;
        if (id->type != RESP_BULK || !shared_key_ok(id->s, SHARED_KEY_MAX) || !e || *e)
            rc = GW_EUPSTREAM;
        else
            shared_idset_add(r->mirror, id->s, exp);
    }
    shared_reply_release(&rep);
    return rc;
}

/* A revocation "<id> <expires_ms>": into the mirror, the payload cut to the id. */
static gw_err on_revoke(struct redis *r, char *payload)
{
    char *sp = strchr(payload, ' '), *e = NULL;
    if (!sp)
        return GW_EUPSTREAM;
    *sp = '\0';
    long long exp = strtoll(sp + 1, &e, 10);
    if (!shared_key_ok(payload, SHARED_KEY_MAX) || e == sp + 1 || *e || exp <= 0)
        return GW_EUPSTREAM;
    shared_idset_add(r->mirror, payload, exp);
    return GW_OK;
}

/* A pub/sub message ["message", channel, "<node> <payload>"]: handled unless our own. The
 * payload of a revocation is "<id> <expires_ms>" (handlers get the id). */
static gw_err on_message(struct redis *r, struct shared_reply *m)
{
    if (m->type != RESP_ARRAY || m->n < 1 || m->v[0].type != RESP_BULK)
        return GW_EUPSTREAM;
    if (strcmp(m->v[0].s, "pong") == 0 || strcmp(m->v[0].s, "subscribe") == 0)
        return GW_OK;
    if (strcmp(m->v[0].s, "message") != 0 || m->n != 3 || m->v[1].type != RESP_BULK ||
        m->v[2].type != RESP_BULK || m->v[2].len > SHARED_PAYLOAD_MAX + 256 ||
        strlen(m->v[2].s) != m->v[2].len)
        return GW_EUPSTREAM;
    char *text = m->v[2].s, *sp = strchr(text, ' ');
    if (!sp)
        return GW_EUPSTREAM;
    if ((size_t)(sp - text) == strlen(r->node_id) &&
        strncmp(text, r->node_id, (size_t)(sp - text)) == 0)
        return GW_OK; /* our own */
    char *payload = sp + 1;
    for (int ch = 0; ch < SHARED__CHANNELS; ch++) {
        char key[32];
        channel_key(key, sizeof(key), (enum shared_channel)ch);
        if (strcmp(key, m->v[1].s) != 0)
            continue;
        if (ch == SHARED_REVOKE && on_revoke(r, payload) != GW_OK)
            return GW_EUPSTREAM;
        if (*payload && !shared_key_ok(payload, SHARED_PAYLOAD_MAX))
            return GW_EUPSTREAM;
        shared_deliver(r->s, (enum shared_channel)ch, payload);
        return GW_OK;
    }
    return GW_EUPSTREAM;
}

/* Subscribes, resyncs, then handles messages until the connection fails or we stop. */
static void session(struct redis *r, struct shared_conn *c, bool *was_synced)
{
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    const char *sub[SHARED__CHANNELS + 1] = {"SUBSCRIBE"};
    char keys[SHARED__CHANNELS][32];
    for (int ch = 0; ch < SHARED__CHANNELS; ch++) {
        channel_key(keys[ch], sizeof(keys[ch]), (enum shared_channel)ch);
        sub[ch + 1] = keys[ch];
    }
    shared_resp_command(&b, SHARED__CHANNELS + 1, sub);
    gw_err rc = shared_conn_write(c, b.data, b.len, deadline(CMD_TIMEOUT_MS));
    gw_buf_release(&b);
    for (int i = 0; rc == GW_OK && i < SHARED__CHANNELS; i++) {
        struct shared_reply rep;
        rc = shared_conn_reply(c, deadline(CMD_TIMEOUT_MS), &rep);
        if (rc == GW_OK && (rep.type != RESP_ARRAY || rep.n != 3))
            rc = GW_EUPSTREAM;
        shared_reply_release(&rep);
    }
    if (rc == GW_OK) { /* Redis answers: the commands' backoff ends, the resync goes at once */
        pthread_mutex_lock(&r->lock);
        r->retry_at_ns = 0;
        r->backoff_ms = 0;
        pthread_mutex_unlock(&r->lock);
        rc = resync(r);
    }
    if (rc != GW_OK)
        return;
    atomic_store(&r->synced, true);
    gw_info("shared: Redis at %s:%u%s reachable; revocations and notifications shared", r->url.host,
            r->url.port, r->tls ? " (TLS)" : "");
    if (*was_synced) /* messages of the outage are lost: everyone re-reads what they cache */
        for (int ch = SHARED_POLICY; ch < SHARED__CHANNELS; ch++)
            shared_deliver(r->s, (enum shared_channel)ch, "");
    *was_synced = true;
    int64_t last_ping = gw_mono_ns(), last_seen = last_ping;
    while (!atomic_load(&r->stop)) {
        rc = shared_conn_readable(c, deadline(200));
        int64_t now = gw_mono_ns();
        if (rc == GW_ETIMEOUT) {
            if (now - last_seen > 3 * (int64_t)PING_EVERY_MS * 1000000)
                break; /* no answer to our pings */
            if (now - last_ping > (int64_t)PING_EVERY_MS * 1000000) {
                static const char ping[] = "*1\r\n$4\r\nPING\r\n";
                if (shared_conn_write(c, ping, sizeof(ping) - 1, deadline(CMD_TIMEOUT_MS)))
                    break;
                last_ping = now;
            }
            continue;
        }
        struct shared_reply m;
        if (rc != GW_OK || shared_conn_reply(c, deadline(CMD_TIMEOUT_MS), &m) != GW_OK)
            break;
        last_seen = now;
        rc = on_message(r, &m);
        shared_reply_release(&m);
        if (rc != GW_OK) {
            gw_warn("shared: unexpected message from Redis; reconnecting");
            break;
        }
    }
}

static void *sub_main(void *arg)
{
    struct redis *r = arg;
    unsigned backoff = BACKOFF_MIN_MS;
    bool was_synced = false, warned = false;
    while (!atomic_load(&r->stop)) {
        struct shared_conn c;
        char msg[200] = "";
        if (dial(r, &c, false, msg, sizeof(msg)) == GW_OK) {
            session(r, &c, &was_synced);
            shared_conn_close(&c);
            if (atomic_exchange(&r->synced, false) && !atomic_load(&r->stop)) {
                backoff = BACKOFF_MIN_MS;
                warned = false;
                gw_warn("shared: lost Redis at %s:%u; run-time tokens and sessions are refused "
                        "until it is back",
                        r->url.host, r->url.port);
            }
        } else {
            pthread_mutex_lock(&r->lock);
            set_error(r, msg);
            pthread_mutex_unlock(&r->lock);
            if (!warned)
                gw_warn("shared: %s; retrying", msg);
            warned = true;
        }
        nap(r, backoff);
        backoff = backoff * 2 > SUB_BACKOFF_MAX_MS ? SUB_BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

/* --- open and close -------------------------------------------------------------------------- */

static void redis_close(void *impl)
{
    struct redis *r = impl;
    atomic_store(&r->stop, true);
    pthread_join(r->sub, NULL);
    shared_conn_close(&r->cmd);
    shared_idset_free(r->mirror);
    if (r->tls)
        SSL_CTX_free(r->tls);
    explicit_bzero(&r->url, sizeof(r->url));
    pthread_mutex_destroy(&r->lock);
    free(r->node_id);
    free(r);
}

static SSL_CTX *tls_context(const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if ((ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                 : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return NULL;
    }
    return ctx;
}

gw_err shared_redis_open(struct shared *s, const struct shared_options *o, void **impl)
{
    struct redis *r = gw_xcalloc(1, sizeof(*r));
    if (shared_url_parse(o->redis_url, &r->url) != GW_OK) {
        gw_error("cluster.redis.url is not a redis:// or rediss:// URL this client can use");
        free(r);
        return GW_ECONFIG;
    }
    r->url.tls = r->url.tls || o->tls;
    if (r->url.tls && !(r->tls = tls_context(o->ca_file))) {
        gw_error("cluster.redis: cannot load the CA certificates%s%s", o->ca_file ? " of " : "",
                 o->ca_file ? o->ca_file : "");
        explicit_bzero(&r->url, sizeof(r->url));
        free(r);
        return GW_ECONFIG;
    }
    r->s = s;
    /* the origin of our messages: the node's name and this process's own random id, so two
     * processes that share a name (one configuration file) still hear each other */
    char inst[9];
    gw_random_hex(inst, 4);
    r->node_id = gw_xasprintf("%s/%s", o->node_id ? o->node_id : "node", inst);
    pthread_mutex_init(&r->lock, NULL);
    shared_conn_init(&r->cmd);
    r->mirror = shared_idset_new();
    if (pthread_create(&r->sub, NULL, sub_main, r) != 0) {
        gw_error("shared: cannot start the subscriber thread");
        r->sub = pthread_self();
        shared_idset_free(r->mirror);
        SSL_CTX_free(r->tls);
        pthread_mutex_destroy(&r->lock);
        free(r->node_id);
        free(r);
        return GW_EINTERNAL;
    }
    pthread_setname_np(r->sub, "shared-sub");
    *impl = r;
    return GW_OK;
}

/* INCRBY and PEXPIRE NX per counter, all pipelined in one exchange. */
static gw_err redis_incr_batch(void *impl, struct shared_incr *v, size_t n)
{
    char k[SHARED_BATCH_MAX][SHARED_KEY_MAX + 16], by[SHARED_BATCH_MAX][24];
    char w[SHARED_BATCH_MAX][24];
    const char *cmd[2 * SHARED_BATCH_MAX][4];
    const char *const *argv[2 * SHARED_BATCH_MAX];
    size_t argc[2 * SHARED_BATCH_MAX] = {0};
    struct shared_reply rep[2 * SHARED_BATCH_MAX];
    for (size_t i = 0; i < n; i++) {
        counter_key(k[i], sizeof(k[i]), v[i].key);
        snprintf(by[i], sizeof(by[i]), "%" PRId64, v[i].by);
        snprintf(w[i], sizeof(w[i]), "%" PRId64, v[i].window_ms);
        const char **incr = cmd[2 * i], **exp = cmd[2 * i + 1];
        incr[0] = "INCRBY", incr[1] = k[i], incr[2] = by[i];
        exp[0] = "PEXPIRE", exp[1] = k[i], exp[2] = w[i], exp[3] = "NX";
        argv[2 * i] = incr, argv[2 * i + 1] = exp;
        argc[2 * i] = 3, argc[2 * i + 1] = 4;
    }
    gw_err rc = exchange(impl, 2 * n, argc, argv, rep);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (rep[2 * i].type != RESP_INT)
            rc = GW_EUPSTREAM;
        v[i].value = rep[2 * i].i;
    }
    for (size_t i = 0; i < 2 * n; i++)
        shared_reply_release(&rep[i]);
    return rc;
}

const struct shared_ops shared_redis_ops = {
    .name = "redis",
    .incr = redis_incr,
    .get = redis_get,
    .reset = redis_reset,
    .revoke = redis_revoke,
    .revoked = redis_revoked,
    .publish = redis_publish,
    .health = redis_health,
    .close = redis_close,
    .incr_batch = redis_incr_batch,
};
