/* SPDX-License-Identifier: MIT
 * siem_bench.c — SIEM forwarding throughput per format: events/s from the committed trail to a
 * receiver on loopback, through the real forwarder (audit/fwd: store reads by cursor, format,
 * transport, cursor writes).
 *
 * It appends N events to a fresh trail, then opens one destination at a time with its cursor at
 * 0 and times the catch-up until the receiver counted N events. cef, leef, json and ocsf go
 * over syslog (tcp://, octet counting) to a reader thread that parses the frames; hec, ecs
 * and json (webhook) over HTTP to a libmicrohttpd receiver that counts records and answers as
 * HEC and Elasticsearch do. Usage: siem_bench [events] [batch_size]
 */
#include "base/prelude.h"
#include "audit/audit.h"
#include "audit/fwd/audit_fwd.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "net/net.h"
#include "store/store.h"

#include <limits.h>
#include "../tests/unit/test_tmp.h" /* scratch directories under $TMPDIR */

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_long g_count; /* event records received (heads left out) */

/* --- syslog receiver: octet-counted frames ---------------------------------------------- */

static void *syslog_reader(void *arg)
{
    int ls = *(int *)arg;
    int fd = accept(ls, NULL, NULL);
    char *buf = gw_xmalloc(1 << 20);
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, (1 << 20) - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        size_t pos = 0;
        for (;;) { /* "<len> <msg>" */
            char *sp = memchr(buf + pos, ' ', have - pos);
            if (!sp)
                break;
            size_t len = strtoul(buf + pos, NULL, 10), start = (size_t)(sp - buf) + 1;
            if (start + len > have)
                break;
            if (!memmem(buf + start, len, "head=\"1\"", 8))
                atomic_fetch_add(&g_count, 1);
            pos = start + len;
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
    }
    close(fd);
    free(buf);
    return NULL;
}

/* --- HTTP receiver ---------------------------------------------------------------------- */

struct upload {
    size_t lines, heads;
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ctx)
{
    (void)cls, (void)method, (void)version;
    struct upload *u = *ctx;
    if (!u) {
        *ctx = gw_xcalloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        for (size_t i = 0; i < *size; i++)
            u->lines += data[i] == '\n';
        for (const char *p = data; (p = memmem(p, *size - (size_t)(p - data), "signature", 9)); p++)
            u->heads++;
        *size = 0;
        return MHD_YES;
    }
    bool bulk = strstr(url, "_bulk") != NULL;
    long events = (long)(bulk ? u->lines / 2 : u->lines) - (long)u->heads;
    atomic_fetch_add(&g_count, events);
    const char *answer = bulk ? "{\"errors\":false,\"items\":[]}"
                              : "{\"text\":\"Success\",\"code\":0}";
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(answer), (void *)answer,
                                                             MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    free(u);
    *ctx = NULL;
    return ok;
}

/* --- the run ------------------------------------------------------------------------------ */

static int listener(unsigned short *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 4) ||
        getsockname(s, (struct sockaddr *)&a, &l))
        return -1;
    *port = ntohs(a.sin_port);
    return s;
}

static double run(struct audit *a, struct store *st, struct net_loop *net, const char *fmt,
                  bool http, long n, unsigned batch, int run_no)
{
    unsigned short port = 0;
    int ls = -1;
    pthread_t reader;
    struct MHD_Daemon *mhd = NULL;
    char endpoint[128], name[32];
    if (http) {
        int probe = listener(&port);
        close(probe);
        mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, port, NULL, NULL, on_request, NULL,
                               MHD_OPTION_END);
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u/%s", port,
                 !strcmp(fmt, "ecs")   ? "_bulk"
                 : !strcmp(fmt, "hec") ? "services/collector"
                                       : "hook");
    } else {
        ls = listener(&port);
        pthread_create(&reader, NULL, syslog_reader, &ls);
        snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%u", port);
    }
    snprintf(name, sizeof name, "bench-%s-%d", fmt, run_no);
    struct cfg_siem_dest d = {.name = name,
                              .endpoint = endpoint,
                              .format = (char *)fmt,
                              .batch = batch,
                              .max_backoff_s = 1,
                              .facility = 13};
    struct cfg_siem c = {.enabled = true, .dests = &d, .n_dests = 1};
    atomic_store(&g_count, 0);
    int64_t t0 = gw_mono_ns();
    struct audit_fwd *f = NULL;
    if (audit_fwd_open(a, st, net, &c, "bench", &f) != GW_OK)
        return -1;
    while (atomic_load(&g_count) < n && gw_mono_ns() - t0 < (int64_t)120 * 1000000000)
        usleep(2000);
    double secs = (double)(gw_mono_ns() - t0) / 1e9;
    audit_fwd_close(f);
    if (http) {
        MHD_stop_daemon(mhd);
    } else {
        pthread_join(reader, NULL);
        close(ls);
    }
    return atomic_load(&g_count) >= n ? (double)n / secs : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    unsigned batch = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 500;
    char tmpl[PATH_MAX];
    const char *dir = (test_tmpdir(tmpl, sizeof tmpl, "siem-bench") ? tmpl : NULL);
    if (n < 1 || batch < 1 || batch > 10000 || !dir)
        return 2;
    net_init();
    struct store *st = NULL;
    struct audit *a = NULL;
    struct audit_options o = {.data_dir = dir, .checkpoint_every = 1000, .log_content = true};
    if (store_open(dir, &st) != GW_OK || audit_open(st, &o, &a) != GW_OK)
        return 1;
    json_t *details = json_pack("{s:s,s:i}", "path", "engineering/code-reviewer", "bytes", 512);
    for (long i = 0; i < n; i++) {
        char rid[40];
        gw_random_hex(rid, 16);
        struct audit_event ev = {.type = "memory.written",
                                 .outcome = "ok",
                                 .actor = "user-1@company.com",
                                 .token_id = "bench",
                                 .resource = "engineering/code-reviewer",
                                 .request_id = rid,
                                 .client_ip = "127.0.0.1",
                                 .status = 200,
                                 .details = details};
        audit_record(a, "acme-corp", &ev);
    }
    audit_flush(a);
    json_decref(details);
    struct net_loop *net = NULL;
    struct net_egress *e = NULL;
    struct net_egress_rules rules = {.allow_private = true, .proxy = ""};
    char msg[200];
    if (net_loop_start(&net) != GW_OK || net_egress_new(&rules, &e, msg, sizeof msg) != GW_OK)
        return 1;
    net_loop_set_egress(net, e);
    net_egress_unref(e);
    static const struct {
        const char *fmt;
        bool http;
    } runs[] = {{"cef", false}, {"leef", false}, {"json", false}, {"ocsf", false},
                {"hec", true},  {"ecs", true},   {"json", true}};
    for (size_t i = 0; i < GW_ARRAY_LEN(runs); i++) {
        double eps = run(a, st, net, runs[i].fmt, runs[i].http, n, batch, (int)i);
        printf("format=%s transport=%s events=%ld batch=%u events_per_s=%.0f\n", runs[i].fmt,
               runs[i].http ? "http" : "syslog-tcp", n, batch, eps);
        fflush(stdout);
    }
    net_loop_stop(net);
    audit_close(a);
    store_close(st);
    net_cleanup();
    return 0;
}
