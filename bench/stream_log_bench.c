/* SPDX-License-Identifier: MIT
 * stream_log_bench.c — what logging a streamed answer for resumes costs its producer
 * (shared/shared.h, stream logs): events/s of one producer thread writing S streams of E
 * events of a typical chat.completion.chunk frame, without a log (the frame built, as the proxy
 * does) and with the in-process log; with Redis, the producer only queues (the worker sends),
 * so what counts is the rate Redis keeps up with: 200 interleaved streams paced to an offered
 * rate, then how many logs hold every event. Last, the reader side: replays of a whole stream
 * per second.
 *
 * Usage: stream_log_bench [streams] [events] [redis://127.0.0.1:PORT]
 */
#include "base/prelude.h"
#include "base/util.h"
#include "shared/shared.h"

#include <stdlib.h>
#include <unistd.h>

#define FRAME                                                                                      \
    "data: {\"id\":\"chatcmpl-0123456789abcdef01234567\",\"object\":\"chat.completion.chunk\","    \
    "\"created\":1795316956,\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":"      \
    "{\"content\":\" word%06d\"},\"finish_reason\":null}]}\n\n"

static volatile size_t sink; /* keeps the baseline's frames alive */

/* Events/s of the producer, without a log or in-process; *drained_s: until shared_close. */
static double run(const char *mode, int streams, int events, double *drained_s)
{
    struct shared *s = NULL;
    bool log = strcmp(mode, "none") != 0;
    if (shared_open(NULL, &s) != GW_OK)
        return 0;
    char frame[512], id[64];
    int64_t t0 = gw_mono_ns();
    for (int k = 0; k < streams; k++) {
        snprintf(id, sizeof(id), "chatcmpl-%s%08d", mode, k);
        char owner[32];
        snprintf(owner, sizeof(owner), "acme\nuser%d", k % 200); /* under the per-owner bound */
        struct shared_stream *st = log ? shared_stream_begin(s, id, owner) : NULL;
        for (int e = 0; e < events; e++) {
            int n = snprintf(frame, sizeof(frame), FRAME, e);
            sink += (size_t)n;
            shared_stream_append(st, frame, (size_t)n, e == events - 1);
        }
        shared_stream_end(st);
    }
    int64_t t1 = gw_mono_ns();
    shared_close(s);
    *drained_s = (double)(gw_mono_ns() - t0) / 1e9;
    return (double)streams * events / ((double)(t1 - t0) / 1e9);
}

/* Redis at an offered rate: S streams interleaved (one event of each in turn), paced to rate
 * events/s; then how many logs hold every event (the worker's queue overflows when Redis
 * cannot keep up: those logs stop and are not complete). */
static int paced(const char *url, int streams, int events, double rate)
{
    struct shared *s = NULL;
    struct shared_options o = {.node_id = "bench", .redis_url = url};
    if (shared_open(&o, &s) != GW_OK)
        return -1;
    char msg[200], frame[512], id[64], owner[32];
    for (int i = 0; i < 200 && !shared_health(s, msg, sizeof(msg)); i++)
        usleep(10000);
    struct shared_stream **st = calloc((size_t)streams, sizeof(*st));
    for (int k = 0; k < streams; k++) {
        snprintf(id, sizeof(id), "chatcmpl-p%.0f-%d", rate, k);
        snprintf(owner, sizeof(owner), "acme\npaced%d", k % 200);
        st[k] = shared_stream_begin(s, id, owner);
    }
    int64_t t0 = gw_mono_ns(), sent = 0;
    for (int e = 0; e < events; e++)
        for (int k = 0; k < streams; k++) {
            int n = snprintf(frame, sizeof(frame), FRAME, e);
            shared_stream_append(st[k], frame, (size_t)n, e == events - 1);
            if (++sent % 100 == 0) { /* ahead of the rate: wait */
                int64_t due = t0 + (int64_t)((double)sent / rate * 1e9), now = gw_mono_ns();
                if (due > now)
                    usleep((useconds_t)((due - now) / 1000));
            }
        }
    for (int k = 0; k < streams; k++)
        shared_stream_end(st[k]);
    free(st);
    usleep(500000);
    int complete = 0;
    struct shared_stream_event ev[256];
    for (int k = 0; k < streams; k++) {
        snprintf(id, sizeof(id), "chatcmpl-p%.0f-%d", rate, k);
        snprintf(owner, sizeof(owner), "acme\npaced%d", k % 200);
        int64_t after = 0;
        size_t n = 0;
        bool last = false;
        while (shared_stream_read(s, id, owner, after, 256, ev, &n) == GW_OK && n) {
            after += (int64_t)n;
            last = ev[n - 1].last && ev[n - 1].frame;
            shared_stream_events_free(ev, n);
        }
        complete += last && after == events;
    }
    shared_close(s);
    return complete;
}

static double replays(const char *url, int events, int rounds)
{
    struct shared *s = NULL;
    struct shared_options o = {.node_id = "bench", .redis_url = url};
    if (shared_open(url ? &o : NULL, &s) != GW_OK)
        return 0;
    char msg[200], frame[512];
    for (int i = 0; url && i < 200 && !shared_health(s, msg, sizeof(msg)); i++)
        usleep(10000);
    struct shared_stream *st = shared_stream_begin(s, "chatcmpl-replay", "acme\nreader");
    for (int e = 0; e < events; e++) {
        int n = snprintf(frame, sizeof(frame), FRAME, e);
        shared_stream_append(st, frame, (size_t)n, e == events - 1);
    }
    shared_stream_end(st);
    usleep(200000); /* the worker wrote them */
    struct shared_stream_event ev[256];
    int64_t t0 = gw_mono_ns();
    for (int r = 0; r < rounds; r++) {
        int64_t after = 0;
        size_t n = 0;
        do {
            if (shared_stream_read(s, "chatcmpl-replay", "acme\nreader", after, 256, ev, &n) !=
                GW_OK)
                break;
            after += (int64_t)n;
            shared_stream_events_free(ev, n);
        } while (n == 256);
    }
    double per_s = rounds / ((double)(gw_mono_ns() - t0) / 1e9);
    shared_close(s);
    return per_s;
}

int main(int argc, char **argv)
{
    int streams = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 2000;
    int events = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100;
    const char *url = argc > 3 ? argv[3] : NULL;
    printf("streams=%d events=%d frame_bytes~%zu\n", streams, events, strlen(FRAME));
    const char *modes[] = {"none", "local"};
    for (int m = 0; m < 2; m++) {
        double drained = 0;
        double eps = run(modes[m], streams, events, &drained);
        printf("log=%s producer_events_per_s=%.0f logged_events_per_s=%.0f\n", modes[m], eps,
               (double)streams * events / drained);
    }
    for (double rate = 50000; url && rate <= 1600000; rate *= 2)
        printf("log=redis offered_events_per_s=%.0f streams=200 events=500 complete_logs=%d\n",
               rate, paced(url, 200, 500, rate));
    printf("replay log=local events=%d replays_per_s=%.0f\n", events, replays(NULL, events, 2000));
    if (url)
        printf("replay log=redis events=%d replays_per_s=%.0f\n", events,
               replays(url, events, 200));
    return 0;
}
