/* SPDX-License-Identifier: MIT
 * pg_pool.c — the PostgreSQL backend's connection pool: a fixed number of libpq connections,
 * opened on first use, each used by one thread at a time.
 *
 * A connection is checked as it is taken: one that failed, or whose socket is readable while
 * it sits idle (the server only speaks unprompted to say it is going away: a restart, an
 * administrator's terminate), is closed and opened anew. So while PostgreSQL is down every
 * operation fails fast with GW_ESTORE (one connection attempt per RETRY_MS, the others do not
 * wait for a connect timeout), and an operation after it is back succeeds, without a restart
 * of the gateway. The log says when the server became unreachable and when it came
 * back, once each, not once per failed operation. The URL is never logged (it may carry a
 * password); libpq's own connection errors name the host and the user, never the password.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

/* While the server is unreachable, how often a connection is attempted. */
#define RETRY_MS 250

/* Notices (e.g. "relation already exists, skipping") are not the gateway's log lines. */
static void no_notices(void *arg, const char *message)
{
    GW_UNUSED(arg);
    GW_UNUSED(message);
}

/* libpq's message without its trailing newline. */
static void conn_error(PGconn *pg, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", pg ? PQerrorMessage(pg) : "out of memory");
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
}

PGconn *store_pg_connect(struct store_pg *s, const char *name, bool quiet)
{
    char timeout[16], stmt[64], err[512];
    snprintf(timeout, sizeof timeout, "%d", s->connect_timeout_s);
    /* the URL first: expanded into its parameters, then ours override the timeout */
    const char *const keys[] = {"dbname", "connect_timeout", "fallback_application_name", NULL};
    const char *const vals[] = {s->url, timeout, "openclaw-gateway", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        conn_error(pg, err, sizeof err);
        if (!quiet)
            gw_error("store: cannot connect to PostgreSQL (%s connection): %s", name, err);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, no_notices, NULL);
    snprintf(stmt, sizeof stmt, "SET statement_timeout = %d", s->statement_timeout_ms);
    PGresult *r = PQexec(pg, stmt);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        conn_error(pg, err, sizeof err);
        gw_error("store: PostgreSQL %s connection: setting statement_timeout: %s", name, err);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

/* Idle, open and silent: nothing to read on the socket of an idle connection. */
static bool healthy(struct store_pg_conn *c)
{
    if (!c->pg || c->broken || PQstatus(c->pg) != CONNECTION_OK ||
        PQtransactionStatus(c->pg) != PQTRANS_IDLE || PQpipelineStatus(c->pg) != PQ_PIPELINE_OFF)
        return false;
    struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
    return p.fd >= 0 && poll(&p, 1, 0) == 0;
}

static void conn_reset(struct store_pg_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    memset(c->cache, 0, sizeof c->cache);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Under s->mu: a free connection, waiting for one until the deadline. */
static struct store_pg_conn *take(struct store_pg *s, const struct timespec *deadline)
{
    for (;;) {
        for (size_t i = 0; i < s->n; i++)
            if (!s->conns[i].in_use) {
                s->conns[i].in_use = true;
                return &s->conns[i];
            }
        int e = pthread_cond_timedwait(&s->freed, &s->mu, deadline);
        if (e == ETIMEDOUT)
            return NULL;
    }
}

struct store_pg_conn *store_pg_acquire(struct store_pg *s, const char *what)
{
    struct timespec deadline;
    deadline_after(&deadline, s->acquire_timeout_ms);
    pthread_mutex_lock(&s->mu);
    struct store_pg_conn *c = take(s, &deadline);
    pthread_mutex_unlock(&s->mu);
    if (!c) {
        gw_error("store: %s: every PostgreSQL connection of the pool stayed busy for %d ms "
                 "(raise store.pool_size)",
                 what, s->acquire_timeout_ms);
        return NULL;
    }
    if (healthy(c))
        return c;
    bool had = c->pg != NULL;
    conn_reset(c);
    /* while the server is down, one attempt per RETRY_MS: the others fail at once */
    int64_t now = gw_mono_ns() / 1000000;
    pthread_mutex_lock(&s->mu);
    bool retry = !s->down || now - s->down_try_ms >= RETRY_MS, quiet = s->down;
    if (retry)
        s->down_try_ms = now;
    pthread_mutex_unlock(&s->mu);
    if (!retry) {
        store_pg_release(s, c);
        return NULL;
    }
    c->pg = store_pg_connect(s, "pool", quiet); /* a server down was said once, when it went */
    pthread_mutex_lock(&s->mu);
    bool was_down = s->down;
    s->down = c->pg == NULL;
    pthread_mutex_unlock(&s->mu);
    if (!c->pg) {
        if (!was_down)
            gw_error("store: PostgreSQL is unreachable: operations fail with 503 until it is "
                     "back");
        store_pg_release(s, c);
        return NULL;
    }
    if (was_down || had)
        gw_info("store: reconnected to PostgreSQL");
    return c;
}

void store_pg_release(struct store_pg *s, struct store_pg_conn *c)
{
    if (!c)
        return;
    if (c->pg && PQstatus(c->pg) != CONNECTION_OK)
        c->broken = true;
    pthread_mutex_lock(&s->mu);
    c->in_use = false;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->mu);
}
