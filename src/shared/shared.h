/* SPDX-License-Identifier: MIT
 * shared.h — state that every node of a cluster must see alike, behind one seam: counters in
 * fixed windows, a set of revoked ids with expiry, and notifications on named
 * channels. In-process (one node, today's behaviour, the default) or on Redis (cluster.redis).
 *
 * Threading: every function may be called from any thread. Notifications of other nodes are
 * delivered on the subscriber thread ("shared-sub"); a handler must be short (set a flag, mark
 * an id, post work). A node never receives its own notifications: it applied the change itself.
 */
#ifndef GW_SHARED_H
#define GW_SHARED_H

#include "base/prelude.h"
#include "base/err.h"

struct shared;

/* The notification channels (shared_channel_name gives their wire names). */
enum shared_channel {
    SHARED_REVOKE,   /* a credential revoked: payload "token:<id>" or "session:<id>" */
    SHARED_POLICY,   /* policies changed: payload the tenant */
    SHARED_CONFIG,   /* the configuration was reloaded: payload "" */
    SHARED_MODELS,   /* run-time providers or models changed: payload "" */
    SHARED_IDENTITY, /* run-time tokens, grants or agents changed: "tokens", "grants", "agents" */
    SHARED__CHANNELS
};

struct shared_options {
    const char *node_id;   /* this node's name in notifications (cluster.node_id) */
    const char *redis_url; /* redis://[[user]:password@]host[:port][/db]; NULL: in-process */
    bool tls;              /* TLS to Redis (cluster.redis.tls, or a rediss:// URL) */
    const char *ca_file;   /* PEM CA for the Redis server's certificate; NULL: the system's */
};

typedef void (*shared_notify_fn)(void *arg, enum shared_channel ch, const char *payload);

/* In-process when o->redis_url is NULL. With Redis the connections are made in the background:
 * opening never fails for an unreachable server (shared_health says so). GW_ECONFIG: a URL
 * this client cannot use. */
gw_err shared_open(const struct shared_options *o, struct shared **out);
void shared_close(struct shared *s);

const char *shared_backend(const struct shared *s); /* "in-process" or "redis" */
const char *shared_channel_name(enum shared_channel ch);

/* Whether every guarantee holds (always in-process); msg says what degrades when not. */
bool shared_health(struct shared *s, char *msg, size_t cap);

/* --- counters: a value per key in a window of window_ms from its first increment ------------ */

/* Adds by and gives the new value. With Redis unreachable the node counts on its own
 * (GW_OK still: a per-node limit is the guarantee left). Keys: printable, at most 200 bytes. */
gw_err shared_counter_incr(struct shared *s, const char *key, int64_t by, int64_t window_ms,
                           int64_t *value);
/* The value (0 when absent or expired) and the milliseconds left in its window. */
gw_err shared_counter_get(struct shared *s, const char *key, int64_t *value, int64_t *left_ms);
gw_err shared_counter_reset(struct shared *s, const char *key);

/* --- revoked ids: in force on every node until they expire ----------------------------------- */

/* Records id ("token:<id>", "session:<id>", "throttle:<address>") as revoked for ttl_ms and
 * tells the other nodes. GW_EUNAVAIL when the cluster could not be told (the caller's own
 * revocation still holds here). Checks read a local copy: no round trip. */
gw_err shared_revoke(struct shared *s, const char *id, int64_t ttl_ms);
/* *revoked for an id revoked on any node. GW_EUNAVAIL when this node cannot know (Redis
 * unreachable, or not yet resynchronised after a reconnect): the caller must refuse. */
gw_err shared_revoked(struct shared *s, const char *id, bool *revoked);
/* The same with the time the revocation ends (ms since the epoch), 0 when not revoked. */
gw_err shared_revoked_until(struct shared *s, const char *id, int64_t *until_ms);

/* --- notifications ------------------------------------------------------------------------ */

/* Tells the other nodes (payload at most 512 bytes, printable). In-process: nothing to do. */
gw_err shared_publish(struct shared *s, enum shared_channel ch, const char *payload);
/* Calls fn for every notification of another node on ch (at most 16 handlers in all). */
void shared_subscribe(struct shared *s, enum shared_channel ch, shared_notify_fn fn, void *arg);
/* Removes fn with arg; once it returns it does not run any more (not from a handler). */
void shared_unsubscribe(struct shared *s, shared_notify_fn fn, void *arg);

/* --- stream logs: the events of a streamed answer, so that a client resumes it on any node -- */

#define SHARED_STREAM_ID_MAX 64               /* ids: printable ASCII without spaces */
#define SHARED_STREAM_EVENTS_MAX 4096         /* events logged per stream */
#define SHARED_STREAM_EVENT_BYTES 8000        /* one event (its SSE frame) */
#define SHARED_STREAM_BYTES_MAX (1024 * 1024) /* all the events of one stream */
#define SHARED_STREAM_PER_OWNER 256           /* logs begun per owner in one TTL window */
#define SHARED_STREAM_TTL_MS (10 * 60 * 1000) /* a log expires this long after its last event */

struct shared_stream;

/* Begins the log of stream id for owner (any string: only its SHA-256 is kept). NULL when it
 * is not logged: a bad id, or too many logs of this owner (in-process; on Redis that is found
 * out by the worker, which then drops the log). */
struct shared_stream *shared_stream_begin(struct shared *s, const char *id, const char *owner);
/* Logs the next event (numbered from 1 by the order of the calls); last: the answer ends with
 * it. Never waits for Redis (queued to the "shared-streams" worker). An event over a limit
 * ends the log with a cut mark. */
void shared_stream_append(struct shared_stream *st, const char *frame, size_t len, bool last);
/* The producer is done with its handle (NULL: nothing). */
void shared_stream_end(struct shared_stream *st);

struct shared_stream_event {
    char *frame; /* NULL: the log was cut here (a limit): nothing follows */
    bool last;   /* the answer ended with this event */
};

/* Up to max events of stream id after event number after, when owner began it: *n of them
 * (0: none yet). GW_ENOTFOUND when no such log (never begun, expired or another owner's);
 * GW_EUNAVAIL when Redis cannot be reached. Free with shared_stream_events_free. */
gw_err shared_stream_read(struct shared *s, const char *id, const char *owner, int64_t after,
                          size_t max, struct shared_stream_event *out, size_t *n);
void shared_stream_events_free(struct shared_stream_event *ev, size_t n);

/* One increment of a batch; value: the counter's new value. */
struct shared_incr {
    const char *key;
    int64_t by, window_ms;
    int64_t value;
};
#define SHARED_BATCH_MAX 8
/* shared_counter_incr for n (<= SHARED_BATCH_MAX) counters in one round trip, without the
 * fallback: GW_EUNAVAIL when Redis did not answer (some may have been counted), so that a
 * caller can switch to a limit of its own. In-process: always counted. */
gw_err shared_counter_incr_batch(struct shared *s, struct shared_incr *v, size_t n);

#endif
