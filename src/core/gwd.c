/* SPDX-License-Identifier: MIT
 * gwd.c — daemon lifecycle: arguments, start-up order, signals, reload and drain.
 *
 * Start-up order follows the data flow backwards: configuration, store (migrations), audit
 * (keys, chain heads, writer), identity registries, then the HTTP listener last, so nothing is
 * served before everything it needs is ready. Signals are handled synchronously by the main
 * thread (sigtimedwait), which also flushes token last-use times once a second.
 */
#include "base/prelude.h"
#include "core/gwd.h"
#include "gov/gov.h"
#include "tools/tools.h"
#include "api/api.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "http/http.h"
#include "llm/llm.h"
#include "meter/meter.h"
#include "net/net.h"
#include "ns/ns.h"
#include "store/store.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#define DRAIN_MS 10000
/* Mutations wait for their durable audit event; this many can wait at once (and share one
 * group commit) without holding up the event-loop threads. */
#define BLOCKING_WORKERS 64
#define EXIT_USAGE 64

struct cfg *gwd_config(struct gwd *g)
{
    pthread_mutex_lock(&g->cfg_lock);
    struct cfg *c = cfg_ref(g->cfg);
    pthread_mutex_unlock(&g->cfg_lock);
    return c;
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

static void audit_options_of(const struct cfg *c, struct audit_options *o)
{
    memset(o, 0, sizeof(*o));
    o->data_dir = c->data_dir;
    o->enabled = c->audit_enabled;
    o->log_path = c->audit_enabled ? c->audit_log_path : NULL;
    o->rotate_daily = c->audit_rotate_daily;
    o->retain_days = c->audit_retain_days;
    /* log_level "metadata" is the seed's other way to say log_content: false */
    o->log_content = c->audit_log_content &&
                     !(c->audit_log_level && strcmp(c->audit_log_level, "metadata") == 0);
    o->pii_fields = (const char *const *)c->pii_fields;
    o->pii_handling = (int)c->pii_handling;
    o->checkpoint_every = c->checkpoint_every;
}

/* The egress policy of a configuration: its egress section, and the outbound URLs it names. */
static gw_err apply_egress(struct gwd *g, const struct cfg *c)
{
    size_t n = cfg_outbound_urls(c, NULL, 0);
    const char **urls = gw_xcalloc(n + 1, sizeof *urls);
    cfg_outbound_urls(c, urls, n);
    struct net_egress_rules r = {
        .allow_private = c->egress.allow_private,
        .allow = (const char *const *)c->egress.allow,
        .trusted_urls = urls,
        .proxy = c->egress.proxy,
        .no_proxy = (const char *const *)c->egress.no_proxy,
    };
    struct net_egress *e = NULL;
    char msg[200];
    gw_err rc = net_egress_new(&r, &e, msg, sizeof msg);
    free(urls);
    if (rc != GW_OK) {
        gw_error("egress: %s", msg);
        return rc;
    }
    net_loop_set_egress(g->net, e);
    net_egress_unref(e);
    return GW_OK;
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
    struct audit_event ev = {.type = type, .outcome = "ok", .actor = "system",
                             .request_id = "-", .details = details};
    audit_record(g->audit, g->cfg->tenant_id, &ev);
    json_decref(details);
}

/* A configuration whose token ids or agent names are taken by run-time ones would give two
 * credentials (or two agents) one audit identity: refused at start and on reload. */
static gw_err identity_conflicts(struct gwd *g, const struct cfg *c, struct cfg_errors *errs)
{
    char msg[400];
    gw_err rc = GW_OK;
    if (auth_registry_conflicts(g->auth, c, msg, sizeof(msg)) != GW_OK ||
        ns_registry_conflicts(g->ns, c, msg, sizeof(msg)) != GW_OK) {
        rc = GW_ECONFIG;
        errs->msgs = gw_xrealloc(errs->msgs, (errs->n + 1) * sizeof(char *));
        errs->msgs[errs->n++] = gw_xasprintf("%s: %s", c->path ? c->path : "configuration", msg);
    }
    return rc;
}

static bool in_list(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

/* Namespaces without a member are reached only by enterprise administrators and by tokens
 * whose scopes name them: say which, since that is rarely what an operator wants. */
static void warn_unreachable(struct gwd *g, const struct cfg *c)
{
    struct gw_pool *pool = gw_pool_new();
    struct auth_grant_set *set = auth_grants_current(g->grants);
    struct ns_agent_info *agents = NULL;
    size_t na = 0, ng, nu = 0;
    ns_agent_list(g->ns, c->tenant_id, NULL, pool, &agents, &na);
    const char **granted = NULL;
    ng = auth_grants_namespaces(set, c->tenant_id, pool, &granted);
    const char **lone = gw_pool_calloc(pool, (c->n_namespaces + na + 1) * sizeof(*lone));
    for (size_t i = 0; i < c->n_namespaces + na; i++) {
        const char *ns = i < c->n_namespaces ? c->namespaces[i].name
                                             : agents[i - c->n_namespaces].ns;
        if (!in_list(granted, ng, ns) && !in_list(lone, nu, ns))
            lone[nu++] = ns;
    }
    struct gw_buf list;
    gw_buf_init(&list, 4096);
    for (size_t i = 0; i < nu; i++)
        gw_buf_printf(&list, "%s%s", i ? ", " : "", lone[i]);
    if (nu)
        gw_warn("namespaces that only enterprise administrators (and tokens whose scopes name "
                "them) can reach, for want of members: %s; add members under "
                "namespaces.<name>.members or with `openclaw namespaces grant`", list.data);
    gw_buf_release(&list);
    auth_grant_set_unref(set);
    gw_pool_free(pool);
}

gw_err gwd_reload(struct gwd *g, struct cfg_errors *errs)
{
    pthread_mutex_lock(&g->reload_lock);
    gw_err rc;
    struct cfg *c = load_config(g->config_path, &g->overrides, errs, &rc);
    if (rc == GW_OK && (rc = identity_conflicts(g, c, errs)) != GW_OK) {
        cfg_unref(c);
        c = NULL;
    }
    if (rc == GW_OK) {
        const struct cfg *old = g->cfg;
        if (old->port != c->port || strcmp(old->host, c->host) != 0 || old->threads != c->threads ||
            old->tls != c->tls || strcmp(old->data_dir, c->data_dir) != 0 ||
            old->n_trusted_proxies != c->n_trusted_proxies ||
            (c->n_trusted_proxies && memcmp(old->trusted_proxies, c->trusted_proxies,
                                            c->n_trusted_proxies * sizeof(struct gw_cidr))))
            gw_warn("reload: listener, trusted proxy and data directory changes take effect "
                    "after a restart");
        auth_saml_prepare(c);
        apply_egress(g, c);
        auth_registry_reload(g->auth, c);
        auth_grants_reload(g->grants, c);
        ns_registry_reload(g->ns, c);
        meter_reload(g->costs, c);
        struct audit_options ao;
        audit_options_of(c, &ao);
        if (audit_reconfigure(g->audit, &ao) != GW_OK)
            gw_warn("reload: the audit log could not be reopened; audited mutations will fail until it can");
        gw_log_set_level(level_of(c->log_level));
        pthread_mutex_lock(&g->cfg_lock);
        struct cfg *prev = g->cfg;
        g->cfg = c;
        pthread_mutex_unlock(&g->cfg_lock);
        cfg_unref(prev);
        gw_info("reload: configuration applied (%zu tokens, %zu agents)",
                auth_registry_count(g->auth), ns_registry_count(g->ns));
        warn_unreachable(g, c);
    } else {
        gw_warn("reload: new configuration rejected; the running one stays");
    }
    pthread_mutex_unlock(&g->reload_lock);
    return rc;
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

static char *read_pem(const char *path)
{
    char *data = NULL;
    if (gw_file_read(path, 1 << 20, &data, NULL) != GW_OK)
        return NULL;
    return data;
}

static int run(struct gwd *g)
{
    const struct cfg *c = g->cfg;
    gw_log_set_level(level_of(c->log_level));
    if (gw_mkdirs(c->data_dir, 0700) != GW_OK) {
        gw_error("cannot create data directory %s: %s", c->data_dir, strerror(errno));
        return 1;
    }
    if (store_open(c->data_dir, &g->store) != GW_OK) {
        gw_error("cannot open the store in %s", c->data_dir);
        return 1;
    }
    struct audit_options ao;
    audit_options_of(c, &ao);
    if (audit_open(g->store, &ao, &g->audit) != GW_OK) {
        gw_error("cannot start the audit trail");
        return 1;
    }
    if (auth_registry_open(g->store, c, &g->auth) != GW_OK ||
        auth_grants_open(g->store, c, &g->grants) != GW_OK ||
        ns_registry_open(g->store, c, &g->ns) != GW_OK) {
        gw_error("cannot load tokens, namespace grants or agents from the store");
        return 1;
    }
    if (net_loop_start(&g->net) != GW_OK || apply_egress(g, c) != GW_OK) {
        gw_error("cannot start the outbound network loop");
        return 1;
    }
    struct cfg_errors conflicts = {0};
    if (identity_conflicts(g, c, &conflicts) != GW_OK) {
        gw_error("%s", conflicts.msgs[0]);
        cfg_errors_release(&conflicts);
        return CFG_EXIT_INVALID;
    }
    warn_unreachable(g, c);
    g->throttle = auth_throttle_new();
    g->oidc = auth_oidc_new(g->net);
    g->saml = auth_saml_new();
    auth_saml_prepare(c);
    if (meter_open(g->store, c, g->net, &g->costs) != GW_OK) {
        gw_error("cannot load this month's model usage from the store");
        return 1;
    }
    if (llm_client_start(g->net, &g->llm) != GW_OK) {
        gw_error("cannot start the model client");
        return 1;
    }
    char pmsg[300] = "";
    struct gov_deps deps = {.store = g->store, .audit = g->audit, .ns = g->ns,
                            .grants = g->grants, .llm = g->llm, .costs = g->costs,
                            .net = g->net};
    deps.actions = tool_all(&deps.n_actions);
    if (gov_open(&deps, c, &g->gov, pmsg, sizeof(pmsg)) != GW_OK) {
        gw_error("cannot load policies: %s", pmsg);
        return CFG_EXIT_INVALID;
    }
    char *bootstrap = NULL;
    if (auth_bootstrap(g->auth, c, &bootstrap) != GW_OK) {
        gw_error("cannot create the bootstrap token");
        return 1;
    }
    char *cert = NULL, *key = NULL;
    if (c->tls) {
        cert = read_pem(c->tls_cert);
        key = read_pem(c->tls_key);
        if (!cert || !key) {
            gw_error("cannot read gateway.tls_cert / gateway.tls_key");
            free(cert);
            free(key);
            free(bootstrap);
            return 1;
        }
    }
    struct http_options ho = {
        .host = c->host, .port = c->port, .threads = c->threads,
        .max_body_bytes = c->limits.max_body_bytes,
        .max_header_bytes = c->limits.max_header_bytes,
        .max_connections = c->limits.max_connections,
        .max_connections_per_ip = c->limits.max_connections_per_ip,
        .idle_timeout_s = c->limits.idle_timeout_s,
        .header_timeout_s = c->limits.header_timeout_s,
        .request_timeout_s = c->limits.request_timeout_s,
        .blocking_workers = BLOCKING_WORKERS, .inline_ok = api_inline,
        .trusted_proxies = c->trusted_proxies, .n_trusted_proxies = c->n_trusted_proxies,
        .tls_cert_pem = cert, .tls_key_pem = key,
    };
    gw_err rc = http_server_start(&ho, api_dispatch, api_done, g, &g->http);
    free(cert);
    free(key);
    if (rc != GW_OK) {
        free(bootstrap);
        return 1;
    }
    const char *scheme = c->tls ? "https" : "http";
    bool v6 = strchr(c->host, ':') != NULL;
    printf("OpenClaw gateway %s (tenant %s, data %s)\n", GW_VERSION, c->tenant_id, c->data_dir);
    printf("Listening on %s://%s%s%s:%u\n", scheme, v6 ? "[" : "", c->host, v6 ? "]" : "",
           http_server_port(g->http));
    if (bootstrap) {
        printf("Bootstrap admin token: %s\n", bootstrap);
        printf("  (shown once; it has scope \"*\": store it safely, create scoped tokens with it,\n"
               "   and revoke it with `openclaw tokens revoke bootstrap-admin` when done)\n");
        free(bootstrap);
    }
    fflush(stdout);
    system_event(g, "gateway.started", json_pack("{s:s,s:I}", "version", GW_VERSION, "port",
                                                 (json_int_t)http_server_port(g->http)));

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        auth_registry_flush_last_use(g->auth);
        gov_tick(g->gov);
        if (sig == SIGHUP) {
            struct cfg_errors errs = {0};
            system_event(g, "config.reloaded", json_pack("{s:s}", "trigger", "SIGHUP"));
            if (gwd_reload(g, &errs) != GW_OK)
                for (size_t i = 0; i < errs.n; i++)
                    gw_error("%s", errs.msgs[i]);
            cfg_errors_release(&errs);
        } else if (sig == SIGTERM || sig == SIGINT) {
            gw_info("shutting down: draining requests (up to %d ms)", DRAIN_MS);
            atomic_store(&g->draining, true);
            break;
        }
    }
    /* requests in flight finish first; model calls still running after the drain are
     * canceled, which ends their streams and resumes their connections, then HTTP stops */
    http_server_drain(g->http, DRAIN_MS);
    llm_client_stop(g->llm);
    g->llm = NULL;
    http_server_stop(g->http, 1000);
    g->http = NULL;
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
    int code = run(&g);

    llm_client_stop(g.llm);
    if (g.http)
        http_server_stop(g.http, 0);
    meter_close(g.costs); /* after the model client: no usage is recorded any more */
    gov_close(g.gov);
    ns_registry_close(g.ns);
    auth_grants_close(g.grants);
    auth_registry_close(g.auth);
    auth_throttle_free(g.throttle);
    auth_oidc_free(g.oidc);
    auth_saml_free(g.saml);
    net_loop_stop(g.net); /* after every user of outbound calls */
    if (g.audit)
        audit_close(g.audit);
    if (g.store)
        store_close(g.store);
    cfg_unref(g.cfg);
    free(g.config_path);
    pthread_mutex_destroy(&g.cfg_lock);
    pthread_mutex_destroy(&g.reload_lock);
    net_cleanup();
    gw_info("stopped");
    return code;
}
