/* SPDX-License-Identifier: MIT
 * shared_int.h — private to shared/: the backend vtable, the in-process tables (also the
 * Redis backend's mirror of revoked ids and its fallback counters), the RESP2 client.
 */
#ifndef GW_SHARED_INT_H
#define GW_SHARED_INT_H

#include "shared/shared.h"
#include "base/buf.h"

#include <openssl/ssl.h>

#define SHARED_KEY_MAX 200     /* counter keys and revoked ids */
#define SHARED_PAYLOAD_MAX 512 /* a notification's payload */

/* One backend: in-process (shared_local.c) or Redis (shared_redis.c). Absolute times in ms. */
struct shared_ops {
    const char *name;
    gw_err (*incr)(void *impl, const char *key, int64_t by, int64_t window_ms, int64_t *value);
    gw_err (*get)(void *impl, const char *key, int64_t *value, int64_t *left_ms);
    gw_err (*reset)(void *impl, const char *key);
    gw_err (*revoke)(void *impl, const char *id, int64_t expires_ms);
    gw_err (*revoked)(void *impl, const char *id, int64_t *until_ms); /* 0: not revoked */
    gw_err (*publish)(void *impl, enum shared_channel ch, const char *payload);
    bool (*health)(void *impl, char *msg, size_t cap);
    void (*close)(void *impl);
    gw_err (*incr_batch)(void *impl, struct shared_incr *v, size_t n); /* n checked */
};

extern const struct shared_ops shared_local_ops;
extern const struct shared_ops shared_redis_ops;

/* --- in-process tables (shared_local.c) ----------------------------------------------------- */

void *shared_local_new(void);

/* A set of ids with expiry: growable, expired entries dropped as it grows. */
struct shared_idset;
struct shared_idset *shared_idset_new(void);
void shared_idset_free(struct shared_idset *set);
void shared_idset_add(struct shared_idset *set, const char *id, int64_t expires_ms);
bool shared_idset_contains(struct shared_idset *set, const char *id, int64_t now_ms);
/* When id expires, or 0 when it is absent or expired. */
int64_t shared_idset_until(struct shared_idset *set, const char *id, int64_t now_ms);
void shared_idset_clear(struct shared_idset *set);

/* --- the facade (shared.c) ------------------------------------------------------------------ */

/* A notification from another node: the handlers of ch run (subscriber thread). */
void shared_deliver(struct shared *s, enum shared_channel ch, const char *payload);
bool shared_key_ok(const char *key, size_t max);

/* --- stream logs (shared_stream.c) ---------------------------------------------------------- */

struct shared_streams;
/* redis: the Redis backend (shared_redis_exchange), or NULL for in-process logs. */
struct shared_streams *shared_streams_new(void *redis);
void shared_streams_free(struct shared_streams *ss); /* drains the worker first */
struct shared_streams *shared_streams_of(struct shared *s);

/* --- Redis (shared_redis.c, shared_resp.c) ---------------------------------------------------- */

struct shared_reply;
gw_err shared_redis_open(struct shared *s, const struct shared_options *o, void **impl);
/* One pipelined exchange on the command connection: n commands, n replies (release each);
 * GW_EUPSTREAM when Redis answered one with an error, GW_EUNAVAIL when unreachable. */
gw_err shared_redis_exchange(void *impl, size_t n, const size_t *argc, const char *const *argv[],
                             struct shared_reply *out);

/* A parsed URL: redis://[[user]:password@]host[:port][/db], rediss:// for TLS. */
struct shared_url {
    char host[256];
    unsigned port;
    char user[128];
    char password[256];
    unsigned db;
    bool tls;
};
gw_err shared_url_parse(const char *url, struct shared_url *u);

/* One connection to Redis, plain or TLS, non-blocking with deadlines. */
struct shared_conn {
    int fd;
    SSL *ssl;
    char rbuf[16384];
    size_t rpos, rlen;
};

enum shared_reply_type { RESP_STATUS, RESP_ERROR, RESP_INT, RESP_BULK, RESP_NIL, RESP_ARRAY };

struct shared_reply {
    enum shared_reply_type type;
    int64_t i; /* RESP_INT */
    char *s;   /* RESP_STATUS, RESP_ERROR, RESP_BULK: NUL-terminated */
    size_t len;
    struct shared_reply *v; /* RESP_ARRAY */
    size_t n;
};

#define SHARED_BULK_MAX 8192           /* one string of a reply (fits struct shared_conn) */
#define SHARED_ARRAY_MAX 1000000       /* elements of one array */
#define SHARED_REPLY_BYTES (64u << 20) /* everything one reply may allocate */

void shared_conn_init(struct shared_conn *c);
gw_err shared_conn_open(struct shared_conn *c, const char *host, unsigned port, SSL_CTX *tls,
                        int64_t deadline_ns, char *msg, size_t cap);
void shared_conn_close(struct shared_conn *c);
gw_err shared_conn_write(struct shared_conn *c, const void *p, size_t n, int64_t deadline_ns);
/* GW_OK when a reply can be read, GW_ETIMEOUT when nothing came before deadline_ns. */
gw_err shared_conn_readable(struct shared_conn *c, int64_t deadline_ns);
/* One reply; GW_EUPSTREAM for a reply outside the bounds or the grammar, GW_EIO, GW_ETIMEOUT. */
gw_err shared_conn_reply(struct shared_conn *c, int64_t deadline_ns, struct shared_reply *out);
void shared_reply_release(struct shared_reply *r);
/* Appends one command (RESP array of bulk strings) to b. */
void shared_resp_command(struct gw_buf *b, size_t argc, const char *const *argv);
/* Parses a reply from bytes (tests, fuzzing): GW_OK and *used, GW_EINVAL when incomplete. */
gw_err shared_resp_parse(const char *p, size_t n, struct shared_reply *out, size_t *used);

#endif
