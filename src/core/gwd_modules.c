/* SPDX-License-Identifier: MIT
 * gwd_modules.c — the daemon's modules: each subsystem's open, check, reload, tick, drain and
 * close, in start order. The order follows the data flow backwards (the store, the audit trail,
 * outbound connections, identities, sign-in, metering, the model client, conversations, the
 * spine, and the HTTP listener last), so nothing is served before everything it needs is
 * ready, and everything closes in reverse once nothing can use it any more.
 */
#include "base/prelude.h"
#include "core/gwd_int.h"
#include "agent/agent.h"
#include "audit/audit.h"
#include "audit/fwd/audit_fwd.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/dirlock.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "gov/gov.h"
#include "http/http.h"
#include "llm/llm.h"
#include "llm/llm_registry.h"
#include "meter/meter.h"
#include "net/net.h"
#include "ns/ns.h"
#include "shared/shared.h"
#include "store/store.h"
#include "tools/tools.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRAIN_MS 10000
/* Mutations wait for their durable audit event; this many can wait at once (and share one
 * group commit) without holding up the event-loop threads. */
#define BLOCKING_WORKERS 64

/* --- store ------------------------------------------------------------------------------- */

static int store_mod_open(struct gwd *g, const struct cfg *c)
{
    if (gw_mkdirs(c->data_dir, 0700) != GW_OK) {
        gw_error("cannot create data directory %s: %s", c->data_dir, strerror(errno));
        return 1;
    }
    pid_t holder = 0;
    gw_err rc = gw_dirlock_acquire(c->data_dir, &g->lock, &holder);
    if (rc == GW_ECONFLICT) {
        gw_error("another gateway (PID %ld) is running on the data directory %s; stop it first",
                 (long)holder, c->data_dir);
        return 1;
    }
    if (rc != GW_OK) {
        gw_error("cannot lock the data directory %s: %s", c->data_dir, strerror(errno));
        return 1;
    }
    struct store_options o = {.backend = c->store.backend,
                              .url = c->store.url,
                              .pool_size = (int)c->store.pool_size,
                              .connect_timeout_s = (int)c->store.connect_timeout_s,
                              .statement_timeout_ms = (int)c->store.statement_timeout_ms};
    if (store_open_with(c->data_dir, &o, &g->store) != GW_OK) {
        gw_error("cannot open the store (%s)", c->store.url ? "store.url" : c->data_dir);
        return 1;
    }
    return 0;
}

static void store_mod_close(struct gwd *g)
{
    if (g->store)
        store_close(g->store);
    g->store = NULL;
    gw_dirlock_release(g->lock);
    g->lock = NULL;
}

/* --- state shared with the other nodes of a cluster ------------------------------------- */

/* Another node reloaded its configuration: this one re-reads its own on the main thread (like
 * SIGHUP, woken at once), and does not tell the others again. */
static void on_config(void *arg, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(ch);
    GW_UNUSED(payload);
    struct gwd *g = arg;
    atomic_store(&g->shared_reload, true);
    gwd_wake();
}

static int shared_mod_open(struct gwd *g, const struct cfg *c)
{
    const struct cfg_cluster *cl = &c->cluster;
    struct shared_options o = {.node_id = cl->node_id,
                               .redis_url = cl->enabled ? cl->redis_url : NULL,
                               .tls = cl->redis_tls,
                               .ca_file = cl->redis_ca_file};
    if (shared_open(&o, &g->shared) != GW_OK)
        return CFG_EXIT_INVALID;
    shared_subscribe(g->shared, SHARED_CONFIG, on_config, g);
    if (cl->enabled)
        gw_info("cluster: node %s, shared state in Redis%s", cl->node_id,
                cl->redis_tls ? " over TLS" : "");
    return 0;
}

static gw_err shared_mod_check(struct gwd *g, const struct cfg *c, struct cfg_errors *errs)
{
    GW_UNUSED(errs);
    const struct cfg_cluster *a = &g->cfg->cluster, *b = &c->cluster;
    if (a->enabled != b->enabled || a->redis_tls != b->redis_tls ||
        strcmp(a->node_id, b->node_id) != 0 ||
        (a->redis_url && b->redis_url ? strcmp(a->redis_url, b->redis_url) != 0
                                      : a->redis_url != b->redis_url))
        gw_warn("reload: cluster changes take effect after a restart");
    return GW_OK;
}

static void shared_mod_tick(struct gwd *g)
{
    if (!atomic_exchange(&g->shared_reload, false))
        return;
    struct cfg_errors errs = {0};
    if (gwd_reload(g, &errs) != GW_OK)
        for (size_t i = 0; i < errs.n; i++)
            gw_error("reload (another node reloaded): %s", errs.msgs[i]);
    cfg_errors_release(&errs);
}

static void shared_mod_close(struct gwd *g)
{
    shared_close(g->shared);
    g->shared = NULL;
}

/* --- audit ------------------------------------------------------------------------------- */

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
    o->cluster = c->cluster.enabled;
    o->node_id = c->cluster.node_id;
}

static int audit_mod_open(struct gwd *g, const struct cfg *c)
{
    struct audit_options ao;
    audit_options_of(c, &ao);
    if (audit_open(g->store, &ao, &g->audit) != GW_OK) {
        gw_error("cannot start the audit trail");
        return 1;
    }
    return 0;
}

static void audit_mod_reload(struct gwd *g, const struct cfg *c)
{
    struct audit_options ao;
    audit_options_of(c, &ao);
    if (audit_reconfigure(g->audit, &ao) != GW_OK)
        gw_warn("reload: the audit log could not be reopened; audited mutations will fail "
                "until it can");
}

static void audit_mod_close(struct gwd *g)
{
    if (g->audit)
        audit_close(g->audit);
    g->audit = NULL;
}

/* --- outbound connections ---------------------------------------------------------------- */

/* The egress policy of a configuration: its egress section, and the outbound URLs it names
 * and those of the primary tenant's run-time providers (its administrators run the gateway;
 * other tenants' providers get no private address that the file does not allow). */
static gw_err apply_egress(struct gwd *g, const struct cfg *c)
{
    struct llm_catalog *cat = g->models ? llm_registry_catalog(g->models) : NULL;
    size_t n = cfg_outbound_urls(c, NULL, 0), m = llm_catalog_urls(cat, c->tenant_id, NULL, 0);
    const char **urls = gw_xcalloc(n + m + 1, sizeof *urls);
    cfg_outbound_urls(c, urls, n);
    llm_catalog_urls(cat, c->tenant_id, urls + n, m);
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
    llm_catalog_unref(cat);
    if (rc != GW_OK) {
        gw_error("egress: %s", msg);
        return rc;
    }
    net_loop_set_egress(g->net, e);
    net_egress_unref(e);
    return GW_OK;
}

static int net_mod_open(struct gwd *g, const struct cfg *c)
{
    if (net_loop_start(&g->net) != GW_OK || apply_egress(g, c) != GW_OK) {
        gw_error("cannot start the outbound network loop");
        return 1;
    }
    return 0;
}

static void net_mod_reload(struct gwd *g, const struct cfg *c)
{
    (void)apply_egress(g, c); /* the section was validated: only memory can fail here */
}

static void net_mod_close(struct gwd *g)
{
    if (g->net)
        net_loop_stop(g->net); /* after every user of outbound calls */
    g->net = NULL;
}

/* --- the audit trail's witness and integrity alerts (needs net) ---------------------------- */

static int audit_watch_mod_open(struct gwd *g, const struct cfg *c)
{
    if (audit_watch_start(g->audit, c, g->net, &g->audit_watch) != GW_OK) {
        gw_error("cannot start the audit witness");
        return 1;
    }
    return 0;
}

static void audit_watch_mod_reload(struct gwd *g, const struct cfg *c)
{
    audit_watch_reload(g->audit_watch, c);
}

static void audit_watch_mod_close(struct gwd *g)
{
    audit_watch_stop(g->audit_watch);
    g->audit_watch = NULL;
}

/* --- run-time providers and models ------------------------------------------------------- */

/* A name of the file's that the store holds as a run-time provider or model is refused, as
 * for tokens and agents (one name, two meanings). */
static gw_err models_check(struct gwd *g, const struct cfg *c, struct cfg_errors *errs)
{
    char msg[400];
    if (llm_registry_conflicts(g->models, c, msg, sizeof(msg)) == GW_OK)
        return GW_OK;
    gwd_error(errs, "%s: %s", c->path ? c->path : "configuration", msg);
    return GW_ECONFIG;
}

static void models_changed(void *arg)
{
    struct gwd *g = arg;
    struct cfg *c = gwd_config(g);
    (void)apply_egress(g, c);
    cfg_unref(c);
    if (shared_publish(g->shared, SHARED_MODELS, "") != GW_OK)
        gw_warn("models: changed here; the other nodes could not be told (Redis unreachable)");
}

/* Another node changed the run-time providers or models (in the store the nodes share): read
 * them again, and the egress policy that follows their hosts. */
static void models_elsewhere(void *arg, enum shared_channel ch, const char *payload)
{
    GW_UNUSED(ch);
    GW_UNUSED(payload);
    struct gwd *g = arg;
    if (llm_registry_reload(g->models) != GW_OK) {
        gw_warn("models: changed on another node, but the store cannot be read");
        return;
    }
    struct cfg *c = gwd_config(g);
    (void)apply_egress(g, c);
    cfg_unref(c);
}

static int models_mod_open(struct gwd *g, const struct cfg *c)
{
    if (llm_registry_open(g->store, &g->models) != GW_OK) {
        gw_error("cannot load the run-time providers and models from the store");
        return 1;
    }
    struct cfg_errors conflicts = {0};
    if (models_check(g, c, &conflicts) != GW_OK) {
        gw_error("%s", conflicts.msgs[0]);
        cfg_errors_release(&conflicts);
        return CFG_EXIT_INVALID;
    }
    llm_registry_on_change(g->models, models_changed, g);
    shared_subscribe(g->shared, SHARED_MODELS, models_elsewhere, g);
    return apply_egress(g, c) == GW_OK ? 0 : 1;
}

/* The store may hold what another node changed; the egress policy follows both. */
static void models_mod_reload(struct gwd *g, const struct cfg *c)
{
    if (llm_registry_reload(g->models) != GW_OK)
        gw_warn("reload: the run-time providers and models could not be read again");
    (void)apply_egress(g, c);
}

static void models_mod_close(struct gwd *g)
{
    shared_unsubscribe(g->shared, models_elsewhere, g);
    llm_registry_close(g->models);
    g->models = NULL;
}

/* --- SIEM forwarding (after the audit trail and the outbound loop it reads and sends with) -- */

static int siem_mod_open(struct gwd *g, const struct cfg *c)
{
    if (audit_fwd_open(g->audit, g->store, g->net, &c->siem, c->cluster.node_id, &g->siem) !=
        GW_OK) {
        gw_error("cannot start SIEM forwarding");
        return 1;
    }
    return 0;
}

static void siem_mod_reload(struct gwd *g, const struct cfg *c)
{
    audit_fwd_reload(g->siem, &c->siem);
}

static void siem_mod_close(struct gwd *g)
{
    audit_fwd_close(g->siem);
    g->siem = NULL;
}

/* --- identities: tokens, namespace members, agents --------------------------------------- */

/* A configuration whose token ids or agent names are taken by run-time ones would give two
 * credentials (or two agents) one audit identity: refused at start and on reload. */
static gw_err identity_check(struct gwd *g, const struct cfg *c, struct cfg_errors *errs)
{
    char msg[400];
    if (auth_registry_conflicts(g->auth, c, msg, sizeof(msg)) == GW_OK &&
        ns_registry_conflicts(g->ns, c, msg, sizeof(msg)) == GW_OK)
        return GW_OK;
    gwd_error(errs, "%s: %s", c->path ? c->path : "configuration", msg);
    return GW_ECONFIG;
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
                "namespaces.<name>.members or with `openclaw namespaces grant`",
                list.data);
    gw_buf_release(&list);
    auth_grant_set_unref(set);
    gw_pool_free(pool);
}

static int identity_mod_open(struct gwd *g, const struct cfg *c)
{
    if (auth_registry_open(g->store, c, &g->auth) != GW_OK ||
        auth_grants_open(g->store, c, &g->grants) != GW_OK ||
        ns_registry_open(g->store, c, &g->ns) != GW_OK) {
        gw_error("cannot load tokens, namespace grants or agents from the store");
        return 1;
    }
    auth_registry_share(g->auth, g->shared);
    auth_grants_share(g->grants, g->shared);
    ns_registry_share(g->ns, g->shared);
    struct cfg_errors conflicts = {0};
    if (identity_check(g, c, &conflicts) != GW_OK) {
        gw_error("%s", conflicts.msgs[0]);
        cfg_errors_release(&conflicts);
        return CFG_EXIT_INVALID;
    }
    warn_unreachable(g, c);
    if (auth_bootstrap(g->auth, c, &g->bootstrap) != GW_OK) {
        gw_error("cannot create the bootstrap token");
        return 1;
    }
    return 0;
}

static void identity_mod_reload(struct gwd *g, const struct cfg *c)
{
    auth_registry_reload(g->auth, c);
    auth_grants_reload(g->grants, c);
    ns_registry_reload(g->ns, c);
    warn_unreachable(g, c);
}

static void identity_mod_tick(struct gwd *g)
{
    auth_registry_flush_last_use(g->auth);
    /* another node's change whose notification came while the store could not be read */
    auth_registry_retry_stale(g->auth);
    auth_grants_retry_stale(g->grants);
    ns_registry_retry_stale(g->ns);
}

static void identity_mod_close(struct gwd *g)
{
    ns_registry_close(g->ns);
    auth_grants_close(g->grants);
    auth_registry_close(g->auth);
    g->ns = NULL;
    g->grants = NULL;
    g->auth = NULL;
}

/* --- sign-in ----------------------------------------------------------------------------- */

static int sso_mod_open(struct gwd *g, const struct cfg *c)
{
    g->throttle = auth_throttle_new(g->shared);
    g->sso = auth_sso_new(g->store, g->net);
    auth_sso_share(g->sso, g->shared);
    auth_saml_prepare(c);
    return 0;
}

static void sso_mod_reload(struct gwd *g, const struct cfg *c)
{
    GW_UNUSED(g);
    auth_saml_prepare(c);
}

static void sso_mod_close(struct gwd *g)
{
    auth_sso_free(g->sso);
    auth_throttle_free(g->throttle);
    g->sso = NULL;
    g->throttle = NULL;
}

/* --- metering and budgets ---------------------------------------------------------------- */

static int meter_mod_open(struct gwd *g, const struct cfg *c)
{
    if (meter_open(g->store, c, g->net, &g->costs) != GW_OK) {
        gw_error("cannot load this month's model usage from the store");
        return 1;
    }
    meter_share(g->costs, g->shared);
    return 0;
}

static void meter_mod_reload(struct gwd *g, const struct cfg *c)
{
    meter_reload(g->costs, c);
}

static void meter_mod_close(struct gwd *g)
{
    meter_close(g->costs); /* after the model client: no usage is recorded any more */
    g->costs = NULL;
}

/* --- the model client -------------------------------------------------------------------- */

static int llm_mod_open(struct gwd *g, const struct cfg *c)
{
    GW_UNUSED(c);
    if (llm_client_start(g->net, &g->llm) != GW_OK) {
        gw_error("cannot start the model client");
        return 1;
    }
    llm_client_share(g->llm, g->shared);
    return 0;
}

/* Model calls still running after the HTTP drain are canceled: that ends their streams and
 * resumes their connections, so HTTP can stop. */
static void llm_mod_stop(struct gwd *g)
{
    llm_client_stop(g->llm);
    g->llm = NULL;
}

/* --- conversations ----------------------------------------------------------------------- */

static int history_mod_open(struct gwd *g, const struct cfg *c)
{
    GW_UNUSED(c);
    g->history = agent_history_new(g->store);
    return 0;
}

static void history_mod_close(struct gwd *g)
{
    agent_history_free(g->history);
    g->history = NULL;
}

/* --- the governance spine ---------------------------------------------------------------- */

static int gov_mod_open(struct gwd *g, const struct cfg *c)
{
    char msg[300] = "";
    struct gov_deps deps = {.store = g->store,
                            .audit = g->audit,
                            .ns = g->ns,
                            .grants = g->grants,
                            .llm = g->llm,
                            .models = g->models,
                            .costs = g->costs,
                            .net = g->net,
                            .shared = g->shared};
    deps.actions = tool_all(&deps.n_actions);
    if (gov_open(&deps, c, &g->gov, msg, sizeof(msg)) != GW_OK) {
        gw_error("cannot load policies: %s", msg);
        return CFG_EXIT_INVALID;
    }
    return 0;
}

static void gov_mod_tick(struct gwd *g)
{
    gov_tick(g->gov);
}

static void gov_mod_close(struct gwd *g)
{
    gov_close(g->gov);
    g->gov = NULL;
}

/* --- the HTTP listener ------------------------------------------------------------------- */

static struct cfg *host_config(void *arg)
{
    return gwd_config(arg);
}

/* A reload asked through the API is the cluster's: the other nodes reload too. */
static gw_err host_reload(void *arg, struct cfg_errors *errs)
{
    struct gwd *g = arg;
    gw_err rc = gwd_reload(g, errs);
    if (rc == GW_OK && shared_publish(g->shared, SHARED_CONFIG, "") != GW_OK)
        gw_warn("reload: the other nodes could not be told (Redis unreachable)");
    return rc;
}

static void host_health(void *arg, struct api_health *out)
{
    struct gwd *g = arg;
    out->store_ok = store_ping(g->store) == GW_OK;
    out->draining = atomic_load(&g->draining);
    out->started_ms = g->started_ms;
    out->shared_backend = shared_backend(g->shared);
    out->shared_ok = shared_health(g->shared, out->shared_detail, sizeof(out->shared_detail));
}

static char *read_pem(const char *path)
{
    char *data = NULL;
    if (gw_file_read(path, 1 << 20, &data, NULL) != GW_OK)
        return NULL;
    return data;
}

/* systemd sets JOURNAL_STREAM to the device and inode of the journal stream it connects
 * (systemd.exec(5)): when that is stdout, whatever the banner prints is kept in the journal. */
static bool stdout_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    char own[64];
    if (!js || fstat(STDOUT_FILENO, &st) != 0)
        return false;
    snprintf(own, sizeof(own), "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    return strcmp(js, own) == 0;
}

/* The one-time bootstrap token: on the terminal (or the pipe of whoever started the daemon),
 * but never into the journal: there it goes to <data_dir>/bootstrap-token (0600) instead. */
/* How many providers the primary tenant added at run time (openclaw providers add). */
static size_t run_time_providers(struct gwd *g, const struct cfg *c)
{
    struct llm_catalog *cat = g->models ? llm_registry_catalog(g->models) : NULL;
    size_t n = llm_catalog_urls(cat, c->tenant_id, NULL, 0);
    llm_catalog_unref(cat);
    return n;
}

static void show_bootstrap(struct gwd *g, const struct cfg *c)
{
    if (!stdout_is_journal()) {
        printf("Bootstrap admin token: %s\n", g->bootstrap);
        printf("  (shown once; scope \"*\": keep it safe, give it to the CLI as OPENCLAW_TOKEN,\n"
               "   create scoped tokens with it and revoke it with `openclaw tokens revoke "
               "bootstrap-admin`)\n");
        return;
    }
    char *path = gw_xasprintf("%s/bootstrap-token", c->data_dir);
    char *line = gw_xasprintf("%s\n", g->bootstrap);
    if (gw_file_write_atomic(path, line, strlen(line), 0600) == GW_OK)
        printf("Bootstrap admin token written to %s (read it once, store it safely, then "
               "delete the file)\n",
               path);
    else
        gw_error("cannot write the bootstrap token to %s: configure an admin token under "
                 "auth.tokens instead (docs/CONFIG.md)",
                 path);
    explicit_bzero(line, strlen(line));
    free(line);
    free(path);
}

/* What a new operator needs first: where it listens, where its state is, the credential, and
 * the next step (sign in through the IdP, or connect a model provider). */
static void print_banner(struct gwd *g, const struct cfg *c)
{
    bool v6 = strchr(c->host, ':') != NULL;
    const char *scheme = c->tls ? "https" : "http";
    unsigned port = http_server_port(g->http);
    /* a wildcard address is not one to browse to: the URLs below name this machine */
    bool any = !strcmp(c->host, "0.0.0.0") || !strcmp(c->host, "::");
    const char *host = any ? (v6 ? "[::1]" : "127.0.0.1") : c->host;
    printf("OpenClaw gateway %s (tenant %s)\n", GW_VERSION, c->tenant_id);
    printf("Listening on %s://%s%s%s:%u\n", scheme, v6 ? "[" : "", c->host, v6 ? "]" : "", port);
    printf("State:       %s (store, audit trail and keys, memory)\n", c->data_dir);
    if (g->bootstrap) {
        show_bootstrap(g, c);
        explicit_bzero(g->bootstrap, strlen(g->bootstrap));
        free(g->bootstrap);
        g->bootstrap = NULL;
    }
    if (c->sso.enabled)
        printf("Sign in:     %s://%s%s%s:%u/api/v1/auth/login in a browser, or `openclaw auth "
               "login`\n",
               scheme, v6 && !any ? "[" : "", host, v6 && !any ? "]" : "", port);
    if (c->n_providers == 0 && run_time_providers(g, c) == 0)
        printf("Next step:   connect a model provider: `openclaw providers add` (README.md, Quick\n"
               "             start), or under `models` in gateway.yaml (docs/MODELS.md)\n");
    fflush(stdout);
}

static int http_mod_open(struct gwd *g, const struct cfg *c)
{
    g->api = (struct api_deps){
        .host = {.arg = g,
                 .config = host_config,
                 .reload = host_reload,
                 .health = host_health,
                 .config_path = g->config_path},
        .audit = g->audit,
        .auth = g->auth,
        .grants = g->grants,
        .throttle = g->throttle,
        .sso = g->sso,
        .ns = g->ns,
        .history = g->history,
        .gov = g->gov,
        .llm = g->llm,
        .models = g->models,
        .costs = g->costs,
        .siem = g->siem,
        .shared = g->shared,
    };
    char *cert = NULL, *key = NULL;
    if (c->tls) {
        cert = read_pem(c->tls_cert);
        key = read_pem(c->tls_key);
        if (!cert || !key) {
            gw_error("cannot read gateway.tls_cert / gateway.tls_key");
            free(cert);
            free(key);
            return 1;
        }
    }
    struct http_options ho = {
        .host = c->host,
        .port = c->port,
        .threads = c->threads,
        .max_body_bytes = c->limits.max_body_bytes,
        .max_header_bytes = c->limits.max_header_bytes,
        .max_connections = c->limits.max_connections,
        .max_connections_per_ip = c->limits.max_connections_per_ip,
        .idle_timeout_s = c->limits.idle_timeout_s,
        .header_timeout_s = c->limits.header_timeout_s,
        .request_timeout_s = c->limits.request_timeout_s,
        .blocking_workers = BLOCKING_WORKERS,
        .inline_ok = api_inline,
        .trusted_proxies = c->trusted_proxies,
        .n_trusted_proxies = c->n_trusted_proxies,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
    };
    gw_err rc = http_server_start(&ho, api_dispatch, api_done, &g->api, &g->http);
    free(cert);
    free(key);
    if (rc != GW_OK)
        return 1;
    print_banner(g, c);
    return 0;
}

/* What a reload cannot change (the listener, proxies, the data directory): say so. */
static gw_err http_mod_check(struct gwd *g, const struct cfg *c, struct cfg_errors *errs)
{
    GW_UNUSED(errs);
    const struct cfg *old = g->cfg;
    if (old->port != c->port || strcmp(old->host, c->host) != 0 || old->threads != c->threads ||
        old->tls != c->tls || strcmp(old->data_dir, c->data_dir) != 0 ||
        old->n_trusted_proxies != c->n_trusted_proxies ||
        (c->n_trusted_proxies && memcmp(old->trusted_proxies, c->trusted_proxies,
                                        c->n_trusted_proxies * sizeof(struct gw_cidr))))
        gw_warn("reload: listener, trusted proxy and data directory changes take effect "
                "after a restart");
    return GW_OK;
}

static void http_mod_drain(struct gwd *g)
{
    gw_info("shutting down: draining requests (up to %d ms)", DRAIN_MS);
    http_server_drain(g->http, DRAIN_MS);
}

static void http_mod_close(struct gwd *g)
{
    if (g->http)
        http_server_stop(g->http, 1000);
    g->http = NULL;
}

/* --- the table --------------------------------------------------------------------------- */

static const struct gwd_module modules[] = {
    {.name = "store", .open = store_mod_open, .close = store_mod_close},
    {.name = "shared",
     .open = shared_mod_open,
     .check = shared_mod_check,
     .tick = shared_mod_tick,
     .close = shared_mod_close},
    {.name = "audit", .open = audit_mod_open, .reload = audit_mod_reload, .close = audit_mod_close},
    {.name = "net", .open = net_mod_open, .reload = net_mod_reload, .close = net_mod_close},
    {.name = "audit-watch",
     .open = audit_watch_mod_open,
     .reload = audit_watch_mod_reload,
     .close = audit_watch_mod_close},
    {.name = "models",
     .open = models_mod_open,
     .check = models_check,
     .reload = models_mod_reload,
     .close = models_mod_close},
    {.name = "siem", .open = siem_mod_open, .reload = siem_mod_reload, .close = siem_mod_close},
    {.name = "identity",
     .open = identity_mod_open,
     .check = identity_check,
     .reload = identity_mod_reload,
     .tick = identity_mod_tick,
     .close = identity_mod_close},
    {.name = "sso", .open = sso_mod_open, .reload = sso_mod_reload, .close = sso_mod_close},
    {.name = "meter", .open = meter_mod_open, .reload = meter_mod_reload, .close = meter_mod_close},
    {.name = "llm", .open = llm_mod_open, .drain = llm_mod_stop, .close = llm_mod_stop},
    {.name = "history", .open = history_mod_open, .close = history_mod_close},
    {.name = "gov", .open = gov_mod_open, .tick = gov_mod_tick, .close = gov_mod_close},
    {.name = "http",
     .open = http_mod_open,
     .check = http_mod_check,
     .drain = http_mod_drain,
     .close = http_mod_close},
};

const struct gwd_module *gwd_modules(size_t *n)
{
    *n = GW_ARRAY_LEN(modules);
    return modules;
}
