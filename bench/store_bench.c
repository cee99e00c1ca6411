/* SPDX-License-Identifier: MIT
 * store_bench.c — the store's hot operations on either backend, measured through store.h:
 *   - durable audit appends: one transaction per batch (1 row: a lone mutation's event; 64
 *     rows: a busy group commit), rows/s and batch latency;
 *   - session lookups by token hash (what every cookie or CLI-token request asks), from T
 *     threads, lookups/s and latency;
 *   - usage rows in batches of 256 (the costs writer), rows/s;
 *   - PostgreSQL only: 64 inserts sent one round trip at a time inside BEGIN/COMMIT against
 *     the same 64 in one pipeline with one Sync (what pg_audit.c and pg_usage.c do), straight
 *     on libpq, to show what pipelining buys.
 * Usage: store_bench sqlite <data_dir> [seconds] [threads]
 *        store_bench postgresql <libpq url> [seconds] [threads]
 * Each phase runs for the given seconds (default 3). Results on stdout, one line per phase.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_SAMPLES 1000000
#define SESSIONS 1000

static struct store *g_st;
static atomic_bool g_stop;
static int64_t *g_lat;
static atomic_size_t g_nlat;
static double g_seconds = 3;

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, size_t ops, size_t units, double secs)
{
    size_t n = GW_MIN(atomic_load(&g_nlat), (size_t)MAX_SAMPLES);
    qsort(g_lat, n, sizeof *g_lat, cmp64);
    printf("%-34s %10.0f/s  (%zu in %.1f s)  p50 %.3f ms  p99 %.3f ms\n", what,
           (double)units / secs, units, secs, n ? (double)g_lat[n / 2] / 1e6 : 0,
           n ? (double)g_lat[n * 99 / 100] / 1e6 : 0);
    (void)ops;
    atomic_store(&g_nlat, 0);
}

static void sample(int64_t t0)
{
    size_t k = atomic_fetch_add(&g_nlat, 1);
    if (k < MAX_SAMPLES)
        g_lat[k] = gw_mono_ns() - t0;
}

/* --- audit -------------------------------------------------------------------------------- */

static void audit_phase(size_t batch)
{
    struct store_audit_row *rows = gw_xcalloc(batch, sizeof *rows);
    char tenant[32], hash[80], prev[80];
    snprintf(tenant, sizeof tenant, "bench-%zu", batch);
    int64_t seq = 0;
    char *h = NULL;
    store_audit_head(g_st, tenant, &seq, &h);
    snprintf(prev, sizeof prev, "%s", h ? h : "0");
    free(h);
    size_t total = 0;
    int64_t start = gw_mono_ns(), end = start + (int64_t)(g_seconds * 1e9);
    while (gw_mono_ns() < end) {
        for (size_t i = 0; i < batch; i++) {
            struct store_audit_row *r = &rows[i];
            r->tenant = tenant;
            r->seq = ++seq;
            r->ts_ms = gw_now_ms();
            r->type = "memory.written";
            r->outcome = "ok";
            r->actor = "user-1@company.com";
            r->token_id = "bench";
            r->org_unit = "engineering/platform";
            r->resource = "engineering/code-reviewer";
            r->request_id = "0123456789abcdef0123456789abcdef";
            r->client_ip = "127.0.0.1";
            r->classification = "internal";
            r->status = 200;
            r->details = "{\"path\":\"engineering/code-reviewer\",\"bytes\":512}";
            r->prev_hash = gw_xstrdup(prev);
            snprintf(hash, sizeof hash, "%064" PRId64, seq);
            r->hash = gw_xstrdup(hash);
            snprintf(prev, sizeof prev, "%s", hash);
        }
        int64_t t0 = gw_mono_ns();
        gw_err rc = store_audit_append(g_st, rows, batch);
        sample(t0);
        for (size_t i = 0; i < batch; i++) {
            free(rows[i].prev_hash);
            free(rows[i].hash);
        }
        if (rc != GW_OK) {
            fprintf(stderr, "audit append failed: %s\n", gw_err_name(rc));
            exit(1);
        }
        total += batch;
    }
    char what[64];
    snprintf(what, sizeof what, "audit append, %zu-row batches", batch);
    report(what, total / batch, total, (double)(gw_mono_ns() - start) / 1e9);
    free(rows);
}

/* --- session lookups ---------------------------------------------------------------------- */

static void *lookup_worker(void *arg)
{
    size_t id = (size_t)arg, *count = gw_xcalloc(1, sizeof *count);
    char hash[80];
    for (size_t i = id; !atomic_load(&g_stop); i += 7) {
        snprintf(hash, sizeof hash, "session-hash-%zu", i % SESSIONS);
        struct store_session s;
        int64_t t0 = gw_mono_ns();
        if (store_session_get(g_st, hash, &s) != GW_OK) {
            fprintf(stderr, "session lookup failed\n");
            exit(1);
        }
        sample(t0);
        store_session_release(&s);
        (*count)++;
    }
    return count;
}

static void lookup_phase(int threads)
{
    char id[32], hash[80];
    for (int i = 0; i < SESSIONS; i++) {
        snprintf(id, sizeof id, "s%d", i);
        snprintf(hash, sizeof hash, "session-hash-%d", i);
        struct store_session s = {.id = id,
                                  .hash = hash,
                                  .tenant = "acme-corp",
                                  .user_id = "alice",
                                  .identity = "{\"role\":\"user\"}",
                                  .created_ms = 1,
                                  .last_seen_ms = 1,
                                  .expires_ms = INT64_MAX};
        gw_err rc = store_session_insert(g_st, &s);
        if (rc != GW_OK && rc != GW_ECONFLICT) {
            fprintf(stderr, "session insert failed\n");
            exit(1);
        }
    }
    pthread_t th[64];
    threads = GW_MIN(threads, 64);
    atomic_store(&g_stop, false);
    int64_t start = gw_mono_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, lookup_worker, (void *)(size_t)i);
    usleep((useconds_t)(g_seconds * 1e6));
    atomic_store(&g_stop, true);
    size_t total = 0;
    for (int i = 0; i < threads; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        total += *(size_t *)r;
        free(r);
    }
    char what[64];
    snprintf(what, sizeof what, "session lookup, %d threads", threads);
    report(what, total, total, (double)(gw_mono_ns() - start) / 1e9);
}

/* --- usage rows --------------------------------------------------------------------------- */

static void usage_phase(void)
{
    struct store_usage_row rows[256];
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++)
        rows[i] = (struct store_usage_row){.tenant = "acme-corp",
                                           .user_id = "alice",
                                           .workspace = "engineering",
                                           .agent = "code-reviewer",
                                           .provider = "openai",
                                           .model = "gpt-4o",
                                           .prompt_tokens = 1200,
                                           .completion_tokens = 300,
                                           .cost_usd = 0.0105,
                                           .month = "2026-12",
                                           .at_ms = gw_now_ms(),
                                           .request_id = "req"};
    size_t total = 0;
    int64_t start = gw_mono_ns(), end = start + (int64_t)(g_seconds * 1e9);
    while (gw_mono_ns() < end) {
        int64_t t0 = gw_mono_ns();
        if (store_usage_append(g_st, rows, GW_ARRAY_LEN(rows)) != GW_OK) {
            fprintf(stderr, "usage append failed\n");
            exit(1);
        }
        sample(t0);
        total += GW_ARRAY_LEN(rows);
    }
    report("usage rows, 256-row batches", total / 256, total, (double)(gw_mono_ns() - start) / 1e9);
}

/* --- pipelining, PostgreSQL only ---------------------------------------------------------- */

static void exec_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(pg));
        exit(1);
    }
    PQclear(r);
}

static void batch_round_trips(PGconn *pg, const char *const *v)
{
    exec_ok(pg, "BEGIN");
    for (int i = 0; i < 64; i++)
        PQclear(PQexecPrepared(pg, "ins", 2, v, NULL, NULL, 0));
    exec_ok(pg, "COMMIT");
}

static void batch_pipelined(PGconn *pg, const char *const *v)
{
    PQenterPipelineMode(pg);
    for (int i = 0; i < 64; i++)
        PQsendQueryPrepared(pg, "ins", 2, v, NULL, NULL, 0);
    PQpipelineSync(pg);
    for (int i = 0; i < 64; i++) {
        PQclear(PQgetResult(pg));
        PQclear(PQgetResult(pg));
    }
    PQclear(PQgetResult(pg)); /* the sync */
    PQexitPipelineMode(pg);
}

static void pipeline_phase(const char *url)
{
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(pg));
        exit(1);
    }
    exec_ok(pg, "CREATE TEMP TABLE bench_pipe (seq BIGINT, details TEXT)");
    PQclear(PQprepare(pg, "ins", "INSERT INTO bench_pipe VALUES ($1, $2)", 2, NULL));
    const char *const v[] = {"1", "{\"path\":\"engineering/code-reviewer\",\"bytes\":512}"};
    for (int mode = 0; mode < 2; mode++) {
        size_t total = 0;
        int64_t start = gw_mono_ns(), end = start + (int64_t)(g_seconds * 1e9);
        while (gw_mono_ns() < end) {
            int64_t t0 = gw_mono_ns();
            (mode ? batch_pipelined : batch_round_trips)(pg, v);
            sample(t0);
            total += 64;
        }
        report(mode ? "64 inserts, one pipeline" : "64 inserts, 66 round trips", total / 64, total,
               (double)(gw_mono_ns() - start) / 1e9);
    }
    PQfinish(pg);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: store_bench sqlite|postgresql <data_dir|url> [seconds] "
                        "[threads]\n");
        return 2;
    }
    g_seconds = argc > 3 ? strtod(argv[3], NULL) : 3;
    int threads = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 4;
    struct store_options o = {.backend = argv[1], .url = argv[2], .pool_size = threads + 1};
    bool pg = strcmp(argv[1], "postgresql") == 0;
    if (store_open_with(pg ? NULL : argv[2], pg ? &o : NULL, &g_st) != GW_OK) {
        fprintf(stderr, "cannot open the store\n");
        return 1;
    }
    g_lat = gw_xcalloc(MAX_SAMPLES, sizeof *g_lat);
    printf("backend %s\n", store_backend(g_st));
    audit_phase(1);
    audit_phase(64);
    lookup_phase(1);
    lookup_phase(threads);
    usage_phase();
    if (pg)
        pipeline_phase(argv[2]);
    store_close(g_st);
    free(g_lat);
    return 0;
}
