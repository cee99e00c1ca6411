/* SPDX-License-Identifier: MIT
 * test_shared.c — the shared-state seam: the in-process backend (counters in windows, a fixed
 * table that keys cannot grow, the revoked set), the RESP2 reader's bounds, Redis URLs, and the
 * Redis backend against a real redis-server on loopback (two handles as two nodes: counters
 * seen by both, a revocation and a notification crossing, our own notifications not echoed,
 * GW_EUNAVAIL while Redis is down and the revoked set back after it returns), and the stream
 * logs of resumable answers, in-process and across two nodes on Redis.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/util.h"
#include "shared/shared.h"
#include "shared/shared_int.h"
#include "../test_tmp.h"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

extern char **environ;

static void local_counters(void **state)
{
    (void)state;
    struct shared *s = NULL;
    int64_t v = 0, left = 0;
    assert_int_equal(shared_open(NULL, &s), GW_OK);
    assert_string_equal(shared_backend(s), "in-process");
    assert_int_equal(shared_counter_get(s, "k", &v, &left), GW_OK);
    assert_int_equal(v, 0);
    assert_int_equal(shared_counter_incr(s, "k", 2, 60000, &v), GW_OK);
    assert_int_equal(shared_counter_incr(s, "k", 3, 60000, &v), GW_OK);
    assert_int_equal(v, 5);
    assert_int_equal(shared_counter_get(s, "k", &v, &left), GW_OK);
    assert_int_equal(v, 5);
    assert_true(left > 59000 && left <= 60000);
    assert_int_equal(shared_counter_reset(s, "k"), GW_OK);
    assert_int_equal(shared_counter_get(s, "k", &v, &left), GW_OK);
    assert_int_equal(v, 0);
    /* a window ends: the next increment starts a new one */
    assert_int_equal(shared_counter_incr(s, "w", 7, 1, &v), GW_OK);
    usleep(5000);
    assert_int_equal(shared_counter_incr(s, "w", 1, 60000, &v), GW_OK);
    assert_int_equal(v, 1);
    /* keys are bounded and printable */
    assert_int_equal(shared_counter_incr(s, "with space", 1, 1000, &v), GW_EINVAL);
    assert_int_equal(shared_counter_incr(s, "", 1, 1000, &v), GW_EINVAL);
    char big[SHARED_KEY_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(shared_counter_incr(s, big, 1, 1000, &v), GW_EINVAL);
    struct shared_incr batch[SHARED_BATCH_MAX + 1] = {{.key = "w", .by = 2, .window_ms = 1000},
                                                      {.key = big, .by = 1, .window_ms = 1000}};
    assert_int_equal(shared_counter_incr_batch(s, batch, 2), GW_EINVAL); /* none counted */
    assert_int_equal(shared_counter_incr_batch(s, batch, SHARED_BATCH_MAX + 1), GW_EINVAL);
    assert_int_equal(shared_counter_incr_batch(s, batch, 1), GW_OK);
    assert_int_equal(batch[0].value, 3);
    /* many keys recycle slots: a busy key among them keeps counting correctly or restarts,
     * never reads another key's value */
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "spray:%d", i);
        assert_int_equal(shared_counter_incr(s, key, 1, 60000, &v), GW_OK);
        assert_int_equal(v, 1);
    }
    shared_close(s);
}

static void local_revocations(void **state)
{
    (void)state;
    struct shared *s = NULL;
    bool r = true;
    char msg[200];
    assert_int_equal(shared_open(NULL, &s), GW_OK);
    assert_true(shared_health(s, msg, sizeof(msg)));
    assert_int_equal(shared_revoked(s, "token:a", &r), GW_OK);
    assert_false(r);
    assert_int_equal(shared_revoke(s, "token:a", 60000), GW_OK);
    assert_int_equal(shared_revoked(s, "token:a", &r), GW_OK);
    assert_true(r);
    assert_int_equal(shared_revoke(s, "token:short", 1), GW_OK);
    usleep(5000);
    assert_int_equal(shared_revoked(s, "token:short", &r), GW_OK);
    assert_false(r);
    assert_int_equal(shared_revoke(s, "token:a", 0), GW_EINVAL);
    /* nobody else to tell */
    assert_int_equal(shared_publish(s, SHARED_POLICY, "acme"), GW_OK);
    assert_int_equal(shared_publish(s, SHARED_POLICY, "two words"), GW_EINVAL);
    shared_close(s);
}

static void idset_grows(void **state)
{
    (void)state;
    struct shared_idset *set = shared_idset_new();
    char id[32];
    int64_t now = gw_now_ms();
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof(id), "id-%d", i);
        shared_idset_add(set, id, i % 2 ? now + 60000 : now + 30000);
    }
    assert_true(shared_idset_contains(set, "id-4999", now));
    assert_true(shared_idset_contains(set, "id-0", now));
    assert_int_equal(shared_idset_until(set, "id-0", now), now + 30000);
    assert_false(shared_idset_contains(set, "id-0", now + 40000));
    assert_true(shared_idset_contains(set, "id-1", now + 40000));
    assert_false(shared_idset_contains(set, "id-5000", now));
    /* expired entries leave as the table grows */
    shared_idset_add(set, "short", now - 1);
    assert_false(shared_idset_contains(set, "short", now));
    shared_idset_clear(set);
    assert_false(shared_idset_contains(set, "id-1", now));
    shared_idset_free(set);
}

static gw_err parse(const char *text, struct shared_reply *r)
{
    size_t used = 0;
    return shared_resp_parse(text, strlen(text), r, &used);
}

static void resp_replies(void **state)
{
    (void)state;
    struct shared_reply r;
    assert_int_equal(parse("+OK\r\n", &r), GW_OK);
    assert_int_equal(r.type, RESP_STATUS);
    assert_string_equal(r.s, "OK");
    shared_reply_release(&r);
    assert_int_equal(parse("-ERR wrong\r\n", &r), GW_OK);
    assert_int_equal(r.type, RESP_ERROR);
    shared_reply_release(&r);
    assert_int_equal(parse(":-42\r\n", &r), GW_OK);
    assert_int_equal(r.i, -42);
    assert_int_equal(parse("$-1\r\n", &r), GW_OK);
    assert_int_equal(r.type, RESP_NIL);
    assert_int_equal(parse("*-1\r\n", &r), GW_OK);
    assert_int_equal(r.type, RESP_NIL);
    assert_int_equal(parse("$5\r\na\r\nbc\r\n", &r), GW_OK); /* binary-safe */
    assert_int_equal(r.len, 5);
    shared_reply_release(&r);
    assert_int_equal(parse("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n*1\r\n:1\r\n", &r), GW_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.v[2].v[0].i, 1);
    shared_reply_release(&r);
    /* incomplete: more bytes needed */
    assert_int_equal(parse("$5\r\nab", &r), GW_EINVAL);
    assert_int_equal(parse("*2\r\n:1\r\n", &r), GW_EINVAL);
    /* outside the grammar or the bounds */
    assert_int_equal(parse("?x\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse(":12x\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse("$3\r\nabcd\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse("$-2\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse("$9000\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse("*2000000\r\n", &r), GW_EUPSTREAM);
    assert_int_equal(parse("*1\r\n*1\r\n*1\r\n:1\r\n", &r), GW_EUPSTREAM); /* too deep */
    char line[200];
    memset(line, '1', sizeof(line));
    line[0] = ':';
    memcpy(line + sizeof(line) - 3, "\r\n", 3);
    assert_int_equal(parse(line, &r), GW_EUPSTREAM);
    /* commands are arrays of bulk strings */
    struct gw_buf b;
    gw_buf_init(&b, 1024);
    const char *argv[] = {"SET", "k", "a b"};
    shared_resp_command(&b, 3, argv);
    assert_int_equal(b.len, strlen("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n"));
    assert_memory_equal(b.data, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na b\r\n", b.len);
    gw_buf_release(&b);
}

static void urls(void **state)
{
    (void)state;
    struct shared_url u;
    assert_int_equal(shared_url_parse("redis://127.0.0.1:6380/2", &u), GW_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_false(u.tls);
    assert_int_equal(shared_url_parse("rediss://:pw@cache.internal", &u), GW_OK);
    assert_true(u.tls);
    assert_int_equal(u.port, 6379);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "pw");
    assert_int_equal(shared_url_parse("redis://app:p@ss@[::1]:7000", &u), GW_OK);
    assert_string_equal(u.user, "app");
    assert_string_equal(u.password, "p@ss");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(shared_url_parse("http://x", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://h:0", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://h:99999", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://h/16", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://h x", &u), GW_EINVAL);
    assert_int_equal(shared_url_parse("redis://user@h", &u), GW_EINVAL);
}

/* --- against a real redis-server -------------------------------------------------------------- */

struct server {
    char dir[256];
    unsigned port;
    pid_t pid;
};

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void server_start(struct server *sv)
{
    char port[8], log[300];
    snprintf(port, sizeof(port), "%u", sv->port);
    snprintf(log, sizeof(log), "%s/redis.log", sv->dir);
    char *argv[] = {"redis-server", "--bind",    "127.0.0.1", "--port", port,
                    "--dir",        sv->dir,     "--save",    "",       "--appendonly",
                    "no",           "--logfile", log,         NULL};
    assert_int_equal(posix_spawnp(&sv->pid, "redis-server", NULL, NULL, argv, environ), 0);
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)sv->port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        if (ok)
            return;
        usleep(25000);
    }
    fail_msg("redis-server did not start (is it installed? scripts/deps.sh test)");
}

static void server_stop(struct server *sv)
{
    if (sv->pid > 0) {
        kill(sv->pid, SIGTERM);
        waitpid(sv->pid, NULL, 0);
    }
    sv->pid = 0;
}

struct heard {
    atomic_int n;
    char payload[64];
};

static void on_policy(void *arg, enum shared_channel ch, const char *payload)
{
    struct heard *h = arg;
    assert_int_equal(ch, SHARED_POLICY);
    if (*payload)
        snprintf(h->payload, sizeof(h->payload), "%s", payload);
    atomic_fetch_add(&h->n, 1);
}

/* Waits up to 5 s for cond. */
#define EVENTUALLY(cond)                                                                           \
    do {                                                                                           \
        for (int i_ = 0; i_ < 500 && !(cond); i_++)                                                \
            usleep(10000);                                                                         \
        assert_true(cond);                                                                         \
    } while (0)

static bool synced(struct shared *s)
{
    char msg[256];
    return shared_health(s, msg, sizeof(msg));
}

static bool revoked(struct shared *s, const char *id, gw_err want_rc)
{
    bool r = false;
    return shared_revoked(s, id, &r) == want_rc && r;
}

/* --- stream logs ---------------------------------------------------------------------------- */

/* Reads every event of id after `after` into frames (joined by '|'), or "cut" for a cut mark;
 * the read's result. */
static gw_err read_all(struct shared *s, const char *id, const char *owner, int64_t after,
                       char *out, size_t cap, bool *last)
{
    struct shared_stream_event ev[8];
    size_t n = 0;
    gw_err rc = shared_stream_read(s, id, owner, after, 8, ev, &n);
    out[0] = '\0';
    *last = false;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(out);
        snprintf(out + k, cap - k, "%s%s", k ? "|" : "", ev[i].frame ? ev[i].frame : "cut");
        *last = ev[i].last;
    }
    shared_stream_events_free(ev, n);
    return rc;
}

/* One log written through w and read through r (the same handle in-process, two nodes on
 * Redis): events in order after any n, only for the owner, the end, the limits. */
static void streams_on(struct shared *w, struct shared *r, bool redis)
{
    char got[512];
    bool last = false;
    struct shared_stream *st = shared_stream_begin(w, "chatcmpl-s1", "acme\ncarol");
    assert_non_null(st);
    shared_stream_append(st, "data: 1\n\n", 9, false);
    shared_stream_append(st, "data: 2\n\n", 9, false);
    EVENTUALLY(read_all(r, "chatcmpl-s1", "acme\ncarol", 0, got, sizeof(got), &last) == GW_OK &&
               strcmp(got, "data: 1\n\n|data: 2\n\n") == 0);
    assert_false(last);
    shared_stream_append(st, "data: [DONE]\n\n", 14, true);
    shared_stream_append(st, "data: late\n\n", 12, false); /* after the last: ignored */
    shared_stream_end(st);
    EVENTUALLY(read_all(r, "chatcmpl-s1", "acme\ncarol", 1, got, sizeof(got), &last) == GW_OK &&
               last);
    assert_string_equal(got, "data: 2\n\n|data: [DONE]\n\n");
    assert_int_equal(read_all(r, "chatcmpl-s1", "acme\ncarol", 3, got, sizeof(got), &last), GW_OK);
    assert_string_equal(got, "");
    /* another owner, another tenant, an unknown or malformed id: not found */
    assert_int_equal(read_all(r, "chatcmpl-s1", "acme\ndave", 0, got, sizeof(got), &last),
                     GW_ENOTFOUND);
    assert_int_equal(read_all(r, "chatcmpl-s1", "other\ncarol", 0, got, sizeof(got), &last),
                     GW_ENOTFOUND);
    assert_int_equal(read_all(r, "chatcmpl-s2", "acme\ncarol", 0, got, sizeof(got), &last),
                     GW_ENOTFOUND);
    assert_int_equal(read_all(r, "bad id", "acme\ncarol", 0, got, sizeof(got), &last),
                     GW_ENOTFOUND);
    assert_null(shared_stream_begin(w, "with space", "acme\ncarol"));

    /* an event over the limit cuts the log; so does a producer that ends without its last */
    st = shared_stream_begin(w, "chatcmpl-s3", "acme\ncarol");
    shared_stream_append(st, "data: a\n\n", 9, false);
    char *big = calloc(1, SHARED_STREAM_EVENT_BYTES + 2);
    memset(big, 'x', SHARED_STREAM_EVENT_BYTES + 1);
    shared_stream_append(st, big, strlen(big), false);
    shared_stream_append(st, "data: b\n\n", 9, false);
    shared_stream_end(st);
    free(big);
    EVENTUALLY(read_all(r, "chatcmpl-s3", "acme\ncarol", 0, got, sizeof(got), &last) == GW_OK &&
               last);
    assert_string_equal(got, "data: a\n\n|cut");
    st = shared_stream_begin(w, "chatcmpl-s4", "acme\ncarol");
    shared_stream_append(st, "data: a\n\n", 9, false);
    shared_stream_end(st);
    EVENTUALLY(read_all(r, "chatcmpl-s4", "acme\ncarol", 0, got, sizeof(got), &last) == GW_OK &&
               last);
    assert_string_equal(got, "data: a\n\n|cut");

    /* logs per owner are bounded (the first four above count): the next ones are not logged */
    char id[32];
    for (int i = 0; i < SHARED_STREAM_PER_OWNER; i++) {
        snprintf(id, sizeof(id), "chatcmpl-m%d", i);
        st = shared_stream_begin(w, id, "acme\nmallory");
        if (i == SHARED_STREAM_PER_OWNER - 1 && !redis)
            assert_non_null(st);
        shared_stream_append(st, "data: m\n\n", 9, true);
        shared_stream_end(st);
    }
    st = shared_stream_begin(w, "chatcmpl-over", "acme\nmallory");
    shared_stream_append(st, "data: m\n\n", 9, true);
    shared_stream_end(st);
    if (!redis)
        assert_null(st);
    snprintf(id, sizeof(id), "chatcmpl-m%d", SHARED_STREAM_PER_OWNER - 1);
    EVENTUALLY(read_all(r, id, "acme\nmallory", 0, got, sizeof(got), &last) == GW_OK && last);
    usleep(100000); /* the worker dropped the one over the limit by now */
    assert_int_equal(read_all(r, "chatcmpl-over", "acme\nmallory", 0, got, sizeof(got), &last),
                     GW_ENOTFOUND);
}

static void local_streams(void **state)
{
    (void)state;
    struct shared *s = NULL;
    assert_int_equal(shared_open(NULL, &s), GW_OK);
    streams_on(s, s, false);
    shared_close(s);
}

/* In-process logs are bounded in bytes in all (64 MiB), whatever their owners: an event past
 * the bound ends its log with a cut mark. 70 owners x 128 events of 8000 bytes is 71.7 MB. */
static void local_streams_bytes_in_all(void **state)
{
    (void)state;
    struct shared *s = NULL;
    assert_int_equal(shared_open(NULL, &s), GW_OK);
    char *frame = malloc(SHARED_STREAM_EVENT_BYTES + 1), id[32], owner[32];
    memset(frame, 'x', SHARED_STREAM_EVENT_BYTES);
    frame[SHARED_STREAM_EVENT_BYTES] = '\0';
    int cut_at = -1;
    for (int i = 0; i < 70; i++) {
        snprintf(id, sizeof(id), "chatcmpl-b%d", i);
        snprintf(owner, sizeof(owner), "acme\nu%d", i);
        struct shared_stream *st = shared_stream_begin(s, id, owner);
        assert_non_null(st);
        for (int k = 0; k < 128; k++)
            shared_stream_append(st, frame, SHARED_STREAM_EVENT_BYTES, k == 127);
        shared_stream_end(st);
        /* the log's last element: its last event, or the cut mark that ended it */
        struct shared_stream_event ev[64];
        size_t n = 0;
        bool cut = false, end = false;
        for (int64_t after = 0; !end; after += (int64_t)n) {
            n = 0;
            assert_int_equal(shared_stream_read(s, id, owner, after, 64, ev, &n), GW_OK);
            assert_true(n > 0);
            end = ev[n - 1].last;
            cut = end && !ev[n - 1].frame;
            shared_stream_events_free(ev, n);
        }
        if (cut && cut_at < 0)
            cut_at = i; /* the first log the bound cut */
        assert_true(!cut || cut_at >= 0);
    }
    assert_int_equal(cut_at, 65); /* 65 x 1,024,000 bytes fit in 64 MiB, the 66th does not */
    free(frame);
    shared_close(s);
}

static void redis_two_nodes(void **state)
{
    (void)state;
    struct server sv = {.port = free_port()};
    assert_true(test_tmpdir(sv.dir, sizeof(sv.dir), "gw-redis"));
    server_start(&sv);
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%u", sv.port);
    struct shared_options oa = {.node_id = "a", .redis_url = url};
    struct shared_options ob = {.node_id = "b", .redis_url = url};
    struct shared *a = NULL, *b = NULL;
    struct heard ha = {0}, hb = {0};
    assert_int_equal(shared_open(&oa, &a), GW_OK);
    assert_int_equal(shared_open(&ob, &b), GW_OK);
    assert_string_equal(shared_backend(a), "redis");
    shared_subscribe(a, SHARED_POLICY, on_policy, &ha);
    shared_subscribe(b, SHARED_POLICY, on_policy, &hb);
    EVENTUALLY(synced(a) && synced(b));
    streams_on(a, b, true); /* a stream logged by a, read by b */

    int64_t v = 0, left = 0;
    assert_int_equal(shared_counter_incr(a, "spend:acme", 5, 60000, &v), GW_OK);
    assert_int_equal(shared_counter_incr(b, "spend:acme", 7, 60000, &v), GW_OK);
    assert_int_equal(v, 12);
    assert_int_equal(shared_counter_get(a, "spend:acme", &v, &left), GW_OK);
    assert_int_equal(v, 12);
    assert_true(left > 0 && left <= 60000);
    /* a batch: every counter in one round trip, with its own window */
    struct shared_incr batch[2] = {{.key = "spend:acme", .by = -2, .window_ms = 60000},
                                   {.key = "run:1", .by = 3, .window_ms = 9000}};
    assert_int_equal(shared_counter_incr_batch(b, batch, 2), GW_OK);
    assert_int_equal(batch[0].value, 10);
    assert_int_equal(batch[1].value, 3);
    assert_int_equal(shared_counter_get(a, "run:1", &v, &left), GW_OK);
    assert_true(v == 3 && left > 0 && left <= 9000);

    assert_int_equal(shared_revoke(a, "token:t1", 60000), GW_OK);
    assert_true(revoked(a, "token:t1", GW_OK));
    EVENTUALLY(revoked(b, "token:t1", GW_OK));

    assert_int_equal(shared_publish(a, SHARED_POLICY, "acme"), GW_OK);
    EVENTUALLY(atomic_load(&hb.n) == 1);
    assert_string_equal(hb.payload, "acme");
    usleep(100000);
    assert_int_equal(atomic_load(&ha.n), 0); /* not our own */

    /* Redis down: revocations cannot be checked, counters fall back to this node */
    server_stop(&sv);
    EVENTUALLY(!synced(b));
    bool r = false;
    assert_int_equal(shared_revoked(b, "token:t1", &r), GW_EUNAVAIL);
    assert_int_equal(shared_revoked(b, "token:other", &r), GW_EUNAVAIL);
    assert_int_equal(shared_counter_incr(b, "local", 1, 60000, &v), GW_OK);
    assert_int_equal(v, 1);
    /* ... but a batch says it was not counted in the cluster */
    assert_int_equal(shared_counter_incr_batch(b, batch, 1), GW_EUNAVAIL);
    char msg[256];
    assert_false(shared_health(b, msg, sizeof(msg)));
    assert_non_null(strstr(msg, "unreachable"));

    /* back (empty: a restarted Redis without persistence): b resyncs and hears a again; the
     * handlers are told that notifications may have been missed */
    server_start(&sv);
    EVENTUALLY(synced(a) && synced(b));
    EVENTUALLY(atomic_load(&hb.n) >= 2);
    assert_int_equal(shared_revoke(a, "token:t2", 60000), GW_OK);
    EVENTUALLY(revoked(b, "token:t2", GW_OK));

    shared_close(a);
    shared_close(b);
    server_stop(&sv);
    test_rmtree(sv.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(local_counters), cmocka_unit_test(local_revocations),
        cmocka_unit_test(idset_grows),    cmocka_unit_test(resp_replies),
        cmocka_unit_test(urls),           cmocka_unit_test(redis_two_nodes),
        cmocka_unit_test(local_streams),  cmocka_unit_test(local_streams_bytes_in_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
