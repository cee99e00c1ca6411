/* SPDX-License-Identifier: MIT
 * gwd.c — daemon lifecycle: arguments, the configuration, opening the modules (gwd_modules.c)
 * in order, signals, reload, drain and close.
 *
 * Signals are handled synchronously by the main thread (sigtimedwait), which also runs the
 * modules' once-a-second ticks.
 */
#include "base/prelude.h"
#include "core/gwd.h"
#include "core/gwd_int.h"
#include "audit/audit.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "http/http.h"
#include "net/net.h"

#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#define EXIT_USAGE 64

struct cfg *gwd_config(struct gwd *g)
{
    pthread_mutex_lock(&g->cfg_lock);
    struct cfg *c = cfg_ref(g->cfg);
    pthread_mutex_unlock(&g->cfg_lock);
    return c;
}

void gwd_error(struct cfg_errors *errs, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    errs->msgs = gw_xrealloc(errs->msgs, (errs->n + 1) * sizeof(char *));
    errs->msgs[errs->n++] = gw_xstrdup(msg);
}

static enum gw_log_level level_of(const char *s)
{
    if (!s)
        return GW_LOG_INFO;
    if (strcmp(s, "debug") == 0)
        return GW_LOG_DEBUG;
    if (strcmp(s, "warn") == 0)
        return GW_LOG_WARN;
    if (strcmp(s, "error") == 0)
        return GW_LOG_ERROR;
    return GW_LOG_INFO;
}

static struct cfg *load_config(const char *path, const struct cfg_overrides *ov,
                               struct cfg_errors *errs, gw_err *rc)
{
    struct cfg *c = NULL;
    *rc = path ? cfg_load(path, ov, &c, errs) : GW_OK;
    if (!path)
        c = cfg_default(ov);
    return *rc == GW_OK ? c : NULL;
}

static void system_event(struct gwd *g, const char *type, json_t *details)
{
    struct audit_event ev = {.type = type,
                             .outcome = "ok",
                             .actor = "system",
                             .request_id = "-",
                             .details = details};
    audit_record(g->audit, g->cfg->tenant_id, &ev);
    json_decref(details);
}

gw_err gwd_reload(struct gwd *g, struct cfg_errors *errs)
{
    size_t n;
    const struct gwd_module *m = gwd_modules(&n);
    pthread_mutex_lock(&g->reload_lock);
    gw_err rc;
    struct cfg *c = load_config(g->config_path, &g->overrides, errs, &rc);
    for (size_t i = 0; rc == GW_OK && i < n; i++)
        if (m[i].check)
            rc = m[i].check(g, c, errs);
    if (rc == GW_OK) {
        for (size_t i = 0; i < n; i++)
            if (m[i].reload)
                m[i].reload(g, c);
        gw_log_set_level(level_of(c->log_level));
        pthread_mutex_lock(&g->cfg_lock);
        struct cfg *prev = g->cfg;
        g->cfg = c;
        pthread_mutex_unlock(&g->cfg_lock);
        cfg_unref(prev);
        gw_info("reload: configuration applied");
    } else {
        cfg_unref(c);
        gw_warn("reload: new configuration rejected; the running one stays");
    }
    pthread_mutex_unlock(&g->reload_lock);
    return rc;
}

void gwd_wake(void)
{
    kill(getpid(), SIGUSR1);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: openclaw-gateway [--config PATH] [--data-dir DIR] [--port N] [--check-config]\n"
            "\n"
            "  --config PATH    gateway.yaml (see docs/CONFIG.md); without it the defaults apply\n"
            "  --data-dir DIR   state directory (store, audit keys, memory); default ./data\n"
            "  --port N         listen port (overrides gateway.port)\n"
            "  --check-config   validate the configuration and exit (0 valid, 78 invalid)\n"
            "  --list-routes    print every HTTP route (method, path, access) and exit\n"
            "  --version        print the version\n"
            "\n"
            "Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads tokens, roles, namespaces\n"
            "and agents and reopens the audit log.\n");
}

/* Opens the modules in order (*opened: how many to close), serves until SIGTERM/SIGINT, then
 * drains them in reverse. 0 or the exit code of the module that could not open. */
/* The grace before the drain: /readyz already answers 503 (draining) while every request is
 * still served, so a load balancer takes the node out before its listener closes. A second
 * SIGTERM or SIGINT ends it at once. */
static void drain_grace(struct gwd *g, const sigset_t *set)
{
    struct cfg *c = gwd_config(g);
    unsigned ms = c ? c->drain_grace_ms : 0;
    cfg_unref(c);
    if (ms == 0)
        return;
    gw_info("shutting down: /readyz answers 503 for %u ms before the listener closes", ms);
    int64_t end = gw_mono_ns() + (int64_t)ms * 1000000;
    for (int64_t left; (left = end - gw_mono_ns()) > 0;) {
        struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
        int sig = sigtimedwait(set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT)
            return;
    }
}

static int run(struct gwd *g, size_t *opened)
{
    size_t n;
    const struct gwd_module *m = gwd_modules(&n);
    gw_log_set_level(level_of(g->cfg->log_level));
    for (*opened = 0; *opened < n; (*opened)++) {
        int code = m[*opened].open ? m[*opened].open(g, g->cfg) : 0;
        if (code) {
            (*opened)++; /* a module that failed half-way closes what it opened */
            return code;
        }
    }
    system_event(g, "gateway.started",
                 json_pack("{s:s,s:I}", "version", GW_VERSION, "port",
                           (json_int_t)http_server_port(g->http)));

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1); /* a module asks for the ticks now (gwd_wake) */
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        for (size_t i = 0; i < n; i++)
            if (m[i].tick)
                m[i].tick(g);
        if (sig == SIGHUP) {
            struct cfg_errors errs = {0};
            system_event(g, "config.reloaded", json_pack("{s:s}", "trigger", "SIGHUP"));
            if (gwd_reload(g, &errs) != GW_OK)
                for (size_t i = 0; i < errs.n; i++)
                    gw_error("%s", errs.msgs[i]);
            cfg_errors_release(&errs);
        } else if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
    }
    atomic_store(&g->draining, true);
    drain_grace(g, &set);
    for (size_t i = n; i-- > 0;)
        if (m[i].drain)
            m[i].drain(g);
    system_event(g, "gateway.stopped", NULL);
    return 0;
}

int gwd_main(int argc, char **argv)
{
    const char *config_path = NULL;
    bool check_only = false;
    struct cfg_overrides ov = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(a, "--data-dir") == 0 && i + 1 < argc) {
            ov.data_dir = argv[++i];
        } else if (strcmp(a, "--port") == 0 && i + 1 < argc) {
            char *end = NULL;
            long p = strtol(argv[++i], &end, 10);
            if (!end || *end || p < 0 || p > 65535) {
                fprintf(stderr, "openclaw-gateway: --port must be 0-65535\n");
                return EXIT_USAGE;
            }
            ov.port = (unsigned)p;
        } else if (strcmp(a, "--list-routes") == 0) {
            api_routes_print(stdout);
            return 0;
        } else if (strcmp(a, "--check-config") == 0) {
            check_only = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("openclaw-gateway %s\n", GW_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "openclaw-gateway: unknown argument '%s'\n", a);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (check_only && !config_path) {
        fprintf(stderr, "openclaw-gateway: --check-config needs --config PATH\n");
        return EXIT_USAGE;
    }
    struct cfg_errors errs = {0};
    gw_err rc;
    struct cfg *c = load_config(config_path, &ov, &errs, &rc);
    if (!c) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        fprintf(stderr, "openclaw-gateway: invalid configuration (%zu error%s)\n", errs.n,
                errs.n == 1 ? "" : "s");
        cfg_errors_release(&errs);
        return CFG_EXIT_INVALID;
    }
    if (check_only) {
        printf("%s: configuration is valid\n", config_path);
        cfg_unref(c);
        return 0;
    }

    /* Signals are received synchronously by the main thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    net_init(); /* before any thread */
    struct gwd g = {0};
    pthread_mutex_init(&g.cfg_lock, NULL);
    pthread_mutex_init(&g.reload_lock, NULL);
    g.cfg = c;
    g.config_path = config_path ? gw_xstrdup(config_path) : NULL;
    g.overrides = ov;
    g.started_ms = gw_now_ms();
    size_t opened = 0, n;
    int code = run(&g, &opened);
    const struct gwd_module *m = gwd_modules(&n);
    while (opened-- > 0)
        if (m[opened].close)
            m[opened].close(&g);
    free(g.bootstrap);
    cfg_unref(g.cfg);
    free(g.config_path);
    pthread_mutex_destroy(&g.cfg_lock);
    pthread_mutex_destroy(&g.reload_lock);
    net_cleanup();
    gw_info("stopped");
    return code;
}
