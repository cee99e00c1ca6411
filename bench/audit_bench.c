/* SPDX-License-Identifier: MIT
 * audit_bench.c — durable audit appends per second through the real audit writer.
 *
 * N threads each call audit_record_sync in a loop (the path every mutating API call takes:
 * the call returns only after the event is fsynced in the JSONL file and the SQLite store).
 * Group commit is what makes this scale; the output reports events/s, events per commit and
 * the latency of one durable append. With "async" as the fourth argument the threads use
 * audit_record instead (the path of every read): that measures the writer's own capacity.
 * Usage: audit_bench [threads] [seconds] [dir|-] [async]
 */
#include "base/prelude.h"
#include "audit/audit.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"

#include <limits.h>
#include "../tests/unit/test_tmp.h" /* scratch directories under $TMPDIR */

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_SAMPLES 2000000

static struct audit *g_audit;
static atomic_bool g_stop;
static int64_t *g_lat;
static atomic_size_t g_nlat;
static bool g_async;

static void *worker(void *arg)
{
    size_t id = (size_t)arg;
    char actor[32], rid[40];
    snprintf(actor, sizeof(actor), "user-%zu@company.com", id);
    json_t *details = json_pack("{s:s,s:i}", "path", "engineering/code-reviewer", "bytes", 512);
    while (!atomic_load(&g_stop)) {
        gw_random_hex(rid, 16);
        struct audit_event ev = {
            .type = "memory.written",
            .outcome = "ok",
            .actor = actor,
            .token_id = "bench",
            .org_unit = "engineering/platform",
            .team = "platform",
            .resource = "engineering/code-reviewer",
            .request_id = rid,
            .client_ip = "127.0.0.1",
            .status = 200,
            .details = details,
        };
        int64_t t0 = gw_mono_ns();
        if ((g_async ? audit_record : audit_record_sync)(g_audit, "acme-corp", &ev) != GW_OK) {
            fprintf(stderr, "append failed\n");
            break;
        }
        size_t k = atomic_fetch_add(&g_nlat, 1);
        if (k < MAX_SAMPLES)
            g_lat[k] = gw_mono_ns() - t0;
    }
    json_decref(details);
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 64;
    int seconds = argc > 2 ? atoi(argv[2]) : 5;
    char tmpl[PATH_MAX];
    const char *dir = argc > 3 && strcmp(argv[3], "-") != 0
                          ? argv[3]
                          : (test_tmpdir(tmpl, sizeof tmpl, "audit-bench") ? tmpl : NULL);
    g_async = argc > 4 && strcmp(argv[4], "async") == 0;
    if (threads < 1 || threads > 1024 || seconds < 1 || !dir) {
        fprintf(stderr, "usage: audit_bench [threads 1-1024] [seconds] [dir]\n");
        return 2;
    }
    struct store *st = NULL;
    if (store_open(dir, &st) != GW_OK)
        return 1;
    char *log = gw_xasprintf("%s/audit.jsonl", dir);
    struct audit_options o = {.data_dir = dir,
                              .enabled = true,
                              .log_path = log,
                              .log_content = true,
                              .checkpoint_every = 1000};
    if (audit_open(st, &o, &g_audit) != GW_OK)
        return 1;
    g_lat = gw_xmalloc(MAX_SAMPLES * sizeof(int64_t));
    pthread_t *tid = gw_xcalloc((size_t)threads, sizeof(pthread_t));
    struct audit_stats before, after;
    audit_get_stats(g_audit, &before);
    int64_t t0 = gw_mono_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&tid[i], NULL, worker, (void *)(size_t)i);
    sleep((unsigned)seconds);
    /* events durably written during the window (queued ones are not counted) */
    audit_get_stats(g_audit, &after);
    double secs = (double)(gw_mono_ns() - t0) / 1e9;
    atomic_store(&g_stop, true);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    size_t n = GW_MIN(atomic_load(&g_nlat), (size_t)MAX_SAMPLES);
    qsort(g_lat, n, sizeof(int64_t), cmp64);
    uint64_t events = after.appended - before.appended, batches = after.batches - before.batches;
    printf("mode=%s threads=%d seconds=%.1f durable_events=%llu events_per_s=%.0f "
           "events_per_commit=%.1f "
           "p50_us=%.0f p99_us=%.0f\n",
           g_async ? "async" : "sync", threads, secs, (unsigned long long)events,
           (double)events / secs, batches ? (double)events / (double)batches : 0.0,
           n ? (double)g_lat[n / 2] / 1e3 : 0.0, n ? (double)g_lat[n * 99 / 100] / 1e3 : 0.0);
    struct audit_verify_result vr;
    audit_verify_store(g_audit, "acme-corp", NULL, &vr);
    printf("verify ok=%d events_checked=%lld\n", vr.ok, (long long)vr.events_checked);
    audit_close(g_audit);
    store_close(st);
    free(tid);
    free(g_lat);
    free(log);
    return vr.ok ? 0 : 1;
}
