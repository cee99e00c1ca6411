/* SPDX-License-Identifier: MIT
 * policy_bench.c — in-process decision latency of the policy engine for a realistic tenant.
 *
 * Builds a tenant (default: 50 org units on two levels, 200 teams, 5,000 users) with a policy at
 * every level (enterprise: all 7 domains; each org unit: actions, models, integrations, data;
 * each team: actions, integrations, features; each user: actions, models), then runs random
 * decisions over random users and action kinds (tool calls, connector reads/writes, model calls
 * with reroutes, agent messages, features, exports). A second run uses 10x more org units, teams,
 * users and policies to show the time per decision does not grow with the policy count.
 * Timing: clock_gettime around batches of 16 decisions (per-decision mean within a batch) and,
 * separately, around single decisions (includes ~20-30 ns of timer overhead). Prints results;
 * asserts nothing about time.
 *
 *   policy_bench [-n decisions] [-s scale ...] [-t threads]
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

struct tenant {
    size_t n_org, n_team, n_user;
    char **org;       /* org unit paths (tops first) */
    char **team;      /* team ids */
    size_t *team_org; /* leaf org index of each team */
    char **user;
    size_t *user_team;
    struct pol_record **recs;
    size_t n_recs, cap_recs;
};

static void push(struct tenant *t, enum pol_scope scope, const char *scope_id, enum pol_domain d,
                 const char *text)
{
    struct pol_issues errs = {0};
    struct pol_doc *doc = pol_doc_parse(d, text, strlen(text), POL_FMT_YAML, &errs);
    if (!doc) {
        fprintf(stderr, "bench policy does not parse: %s\n%s\n", errs.n ? errs.v[0].msg : "?",
                text);
        exit(1);
    }
    if (t->n_recs == t->cap_recs) {
        t->cap_recs = t->cap_recs ? t->cap_recs * 2 : 1024;
        t->recs = gw_xrealloc(t->recs, t->cap_recs * sizeof(*t->recs));
    }
    struct pol_record *r = gw_xcalloc(1, sizeof(*r));
    r->id = gw_xasprintf("pol_%zu", t->n_recs);
    r->tenant = gw_xstrdup("acme");
    r->scope = scope;
    r->scope_id = scope_id ? gw_xstrdup(scope_id) : NULL;
    r->domain = d;
    r->version = 1;
    r->content = doc;
    r->author = gw_xstrdup("bench");
    r->created_ms = 1700000000000;
    r->change_reason = gw_xstrdup("benchmark tenant");
    r->status = POL_STATUS_ACTIVE;
    t->recs[t->n_recs++] = r;
}

static const char *const tools[] = {"email_read",     "calendar_read", "jira_read",
                                    "github_pr_read", "gdrive_read",   "send_email",
                                    "jira_create",    "deleteEmail",   "closeGitHubPR",
                                    "calendar_write", "slack_post",    "wire_money"};
static const char *const connectors[] = {"gmail", "gcal", "jira", "github", "gdrive", "slack"};
static const char *const models[] = {"openai/gpt-4o", "anthropic/claude-3-5",
                                     "self-hosted/llama-3-70b", "google/gemini-pro"};
static const char *const features[] = {"daily_briefing", "auto_response",    "work_tracking",
                                       "ocip",           "org_intelligence", "visualization"};

static void build_tenant(struct tenant *t, size_t scale)
{
    size_t tops = 10, per_top = 5 * scale - 1; /* scale 1: 10 + 40 = 50 org units */
    t->n_org = tops + tops * per_top;
    t->n_team = 200 * scale;
    t->n_user = 5000 * scale;
    t->org = gw_xcalloc(t->n_org, sizeof(char *));
    t->team = gw_xcalloc(t->n_team, sizeof(char *));
    t->team_org = gw_xcalloc(t->n_team, sizeof(size_t));
    t->user = gw_xcalloc(t->n_user, sizeof(char *));
    t->user_team = gw_xcalloc(t->n_user, sizeof(size_t));
    for (size_t i = 0; i < tops; i++)
        t->org[i] = gw_xasprintf("div%zu", i);
    for (size_t i = 0; i < tops * per_top; i++)
        t->org[tops + i] = gw_xasprintf("div%zu/unit%zu", i % tops, i / tops);
    for (size_t i = 0; i < t->n_team; i++) {
        t->team[i] = gw_xasprintf("team%zu", i);
        t->team_org[i] = tops + i % (tops * per_top);
    }
    for (size_t i = 0; i < t->n_user; i++) {
        t->user[i] = gw_xasprintf("user%zu", i);
        t->user_team[i] = i % t->n_team;
    }

    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_MODELS,
         "allowed_providers: [openai, anthropic, self-hosted]\nallowed_models: [\"*\"]\n"
         "sensitive_data_model: llama-3-70b\nmax_classification_external: internal\n"
         "monthly_max_usd: 10000\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS,
         "default_autonomy: approve\nblocked: [deleteEmail, closeGitHubPR, deleteJiraTicket]\n"
         "autonomous: [email_read, calendar_read, jira_read, github_pr_read, gdrive_read]\n"
         "per_action: {send_email: notify, calendar_write: notify}\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_INTEGRATIONS,
         "default_permissions: read\nconnectors:\n"
         "  gmail: {enabled: true, permissions: write}\n"
         "  gcal: {enabled: true, permissions: write}\n"
         "  jira: {enabled: true, permissions: write, max_classification: confidential}\n"
         "  github: {enabled: true, permissions: read}\n"
         "  gdrive: {enabled: true, permissions: read, max_classification: confidential}\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_A2A,
         "enabled: true\nallowed_exchange_types: [information_query, commitment_request]\n"
         "max_rounds: 3\nmax_classification_shared: internal\ncross_org: true\n"
         "cross_enterprise: false\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_FEATURES,
         "daily_briefing: true\nauto_response: true\nwork_tracking: true\nocip: false\n"
         "org_intelligence: false\nvisualization: true\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_DATA,
         "retention_days: 90\nexternal_sharing_max: internal\nallow_data_export: true\n"
         "export_max_classification: confidential\ndefault_classification: internal\n");
    push(t, POL_SCOPE_ENTERPRISE, NULL, POL_D_AUDIT,
         "log_all_actions: true\nretention_years: 1\nalert_on_deny: true\n");
    char buf[512];
    for (size_t i = 0; i < t->n_org; i++) {
        push(t, POL_SCOPE_ORG, t->org[i], POL_D_ACTIONS,
             i % 3 ? "per_action: {jira_create: notify}\n" : "blocked: [wire_money]\n");
        push(t, POL_SCOPE_ORG, t->org[i], POL_D_MODELS,
             i % 4 ? "allowed_providers: [openai, self-hosted]\n" : "monthly_max_usd: 5000\n");
        push(t, POL_SCOPE_ORG, t->org[i], POL_D_INTEGRATIONS,
             i % 2 ? "connectors: {github: {max_classification: internal}}\n"
                   : "connectors: {gdrive: {permissions: read}}\n");
        push(t, POL_SCOPE_ORG, t->org[i], POL_D_DATA,
             i % 5 ? "retention_days: 60\n" : "export_max_classification: internal\n");
    }
    for (size_t i = 0; i < t->n_team; i++) {
        snprintf(buf, sizeof(buf), "per_action: {send_email: %s, slack_post: approve}\n",
                 i % 2 ? "approve" : "notify");
        push(t, POL_SCOPE_TEAM, t->team[i], POL_D_ACTIONS, buf);
        push(t, POL_SCOPE_TEAM, t->team[i], POL_D_INTEGRATIONS,
             i % 3 ? "default_permissions: read\n" : "connectors: {gcal: {permissions: read}}\n");
        push(t, POL_SCOPE_TEAM, t->team[i], POL_D_FEATURES,
             i % 4 ? "auto_response: false\n" : "work_tracking: false\n");
    }
    for (size_t i = 0; i < t->n_user; i++) {
        snprintf(buf, sizeof(buf), "blocked: [tool_of_%s]\n%s", t->user[i],
                 i % 7 ? "" : "default_autonomy: block\n");
        push(t, POL_SCOPE_USER, t->user[i], POL_D_ACTIONS, buf);
        push(t, POL_SCOPE_USER, t->user[i], POL_D_MODELS,
             i % 10 ? "max_classification_external: internal\n" : "sensitive_data_model: null\n");
    }
}

static void free_tenant(struct tenant *t)
{
    for (size_t i = 0; i < t->n_recs; i++)
        pol_record_free(t->recs[i]);
    for (size_t i = 0; i < t->n_org; i++)
        free(t->org[i]);
    for (size_t i = 0; i < t->n_team; i++)
        free(t->team[i]);
    for (size_t i = 0; i < t->n_user; i++)
        free(t->user[i]);
    free(t->org);
    free(t->team);
    free(t->team_org);
    free(t->user);
    free(t->user_team);
    free(t->recs);
}

static struct pol_kv ctx_model_ext[] = {{"provider_kind", "external"}};
static struct pol_kv ctx_model_sh[] = {{"provider_kind", "self_hosted"},
                                       {"provider", "self-hosted"}};
static struct pol_kv ctx_agent[] = {{"exchange_type", "information_query"},
                                    {"rounds", "1"},
                                    {"target_org", "div3"}};
static struct pol_kv ctx_export[] = {{"destination", "external"}};

static void make_request(const struct tenant *t, uint64_t *s, struct pol_request *rq)
{
    uint64_t r = rnd(s);
    size_t u = (size_t)(r % t->n_user);
    size_t team = t->user_team[u];
    memset(rq, 0, sizeof(*rq));
    rq->tenant = "acme";
    rq->user = t->user[u];
    rq->role = "user";
    rq->team = t->team[team];
    rq->org_unit = t->org[t->team_org[team]];
    unsigned kind = (unsigned)((r >> 32) % 100);
    unsigned pick = (unsigned)(r >> 48);
    rq->classification = (int)((r >> 40) % 4);
    if (kind < 40) {
        rq->action = POL_ACT_TOOL_CALL;
        rq->resource = tools[pick % GW_ARRAY_LEN(tools)];
    } else if (kind < 60) {
        rq->action = kind % 2 ? POL_ACT_CONNECTOR_READ : POL_ACT_CONNECTOR_WRITE;
        rq->resource = connectors[pick % GW_ARRAY_LEN(connectors)];
        rq->classification = (int)((r >> 40) % 3) - 1; /* unknown, public, internal */
    } else if (kind < 80) {
        rq->action = POL_ACT_MODEL_CALL;
        rq->resource = models[pick % GW_ARRAY_LEN(models)];
        bool sh = strncmp(rq->resource, "self-hosted/", 12) == 0;
        rq->ctx = sh ? ctx_model_sh : ctx_model_ext;
        rq->n_ctx = sh ? 2 : 1;
    } else if (kind < 85) {
        rq->action = POL_ACT_AGENT_MESSAGE;
        rq->resource = "div3/assistant";
        rq->ctx = ctx_agent;
        rq->n_ctx = 3;
    } else if (kind < 95) {
        rq->action = POL_ACT_FEATURE_USE;
        rq->resource = features[pick % GW_ARRAY_LEN(features)];
    } else {
        rq->action = POL_ACT_DATA_EXPORT;
        rq->resource = "quarterly.csv";
        rq->ctx = ctx_export;
        rq->n_ctx = 1;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const int64_t *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)(n - 1));
    return (double)v[k];
}

static long rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

struct mt {
    struct pol_snapshot *s;
    const struct tenant *t;
    size_t n;
    uint64_t seed;
    int64_t ns;
};

static void *mt_run(void *arg)
{
    struct mt *m = arg;
    struct pol_request rq;
    struct pol_decision d;
    uint64_t s = m->seed;
    int64_t t0 = now_ns();
    for (size_t i = 0; i < m->n; i++) {
        make_request(m->t, &s, &rq);
        pol_decide(m->s, &rq, NULL, &d, NULL);
    }
    m->ns = now_ns() - t0;
    return NULL;
}

static void run(size_t scale, size_t n, int threads)
{
    struct tenant t = {0};
    int64_t t0 = now_ns();
    build_tenant(&t, scale);
    int64_t t_parse = now_ns() - t0;
    struct pol_issues errs = {0};
    struct pol_snapshot *s;
    t0 = now_ns();
    pol_snapshot_build((const struct pol_record *const *)t.recs, t.n_recs, NULL, &s, &errs);
    int64_t t_build = now_ns() - t0;
    if (errs.n) {
        fprintf(stderr, "snapshot: %s\n", errs.v[0].msg);
        exit(1);
    }
    printf("\n== tenant x%zu: %zu org units, %zu teams, %zu users, %zu policies ==\n", scale,
           t.n_org, t.n_team, t.n_user, t.n_recs);
    printf("parse %zu documents: %.1f ms; compile snapshot: %.1f ms\n", t.n_recs,
           (double)t_parse / 1e6, (double)t_build / 1e6);

    /* cold: every user's chain computed once (cache fill) */
    struct pol_request rq;
    struct pol_decision d;
    uint64_t counts[3] = {0};
    t0 = now_ns();
    for (size_t u = 0; u < t.n_user; u++) {
        size_t team = t.user_team[u];
        struct pol_request c = {.tenant = "acme",
                                .user = t.user[u],
                                .team = t.team[team],
                                .org_unit = t.org[t.team_org[team]],
                                .action = POL_ACT_TOOL_CALL,
                                .resource = "email_read",
                                .classification = -1};
        pol_decide(s, &c, NULL, &d, NULL);
    }
    int64_t t_cold = now_ns() - t0;
    printf("cold (cache fill, one decision per user): %.2f us per user, %zu chains cached, "
           "RSS %ld MB\n",
           (double)t_cold / 1e3 / (double)t.n_user, pol_snapshot_cached_chains(s), rss_mb());

    /* batches of 16 */
    size_t nb = n / BATCH;
    int64_t *lat = gw_xmalloc(nb * sizeof(*lat));
    uint64_t seed = rng_state ^ scale;
    struct pol_request reqs[BATCH];
    int64_t total0 = now_ns();
    for (size_t b = 0; b < nb; b++) {
        for (int k = 0; k < BATCH; k++)
            make_request(&t, &seed, &reqs[k]);
        int64_t a = now_ns();
        for (int k = 0; k < BATCH; k++)
            counts[pol_decide(s, &reqs[k], NULL, &d, NULL)]++;
        lat[b] = now_ns() - a;
    }
    int64_t total = now_ns() - total0;
    qsort(lat, nb, sizeof(*lat), cmp_i64);
    int64_t sum = 0;
    for (size_t b = 0; b < nb; b++)
        sum += lat[b];
    printf("%zu decisions (allow %llu, approval %llu, deny %llu)\n", nb * BATCH,
           (unsigned long long)counts[POL_ALLOW], (unsigned long long)counts[POL_REQUIRE_APPROVAL],
           (unsigned long long)counts[POL_DENY]);
    printf("batch-of-16 timing: %.0f decisions/s (decide only), per decision: median %.0f ns, "
           "p99 %.0f ns, p99.9 %.0f ns, max %.0f ns\n",
           (double)(nb * BATCH) / ((double)sum / 1e9), pct(lat, nb, 0.5) / BATCH,
           pct(lat, nb, 0.99) / BATCH, pct(lat, nb, 0.999) / BATCH, (double)lat[nb - 1] / BATCH);
    printf("  (loop incl. request generation: %.0f decisions/s)\n",
           (double)(nb * BATCH) / ((double)total / 1e9));
    free(lat);

    /* single decisions */
    size_t n1 = n / 4;
    lat = gw_xmalloc(n1 * sizeof(*lat));
    for (size_t i = 0; i < n1; i++) {
        make_request(&t, &seed, &rq);
        int64_t a = now_ns();
        pol_decide(s, &rq, NULL, &d, NULL);
        lat[i] = now_ns() - a;
    }
    qsort(lat, n1, sizeof(*lat), cmp_i64);
    printf("single-decision timing (%zu, incl. clock overhead): median %.0f ns, p99 %.0f ns, "
           "p99.9 %.0f ns\n",
           n1, pct(lat, n1, 0.5), pct(lat, n1, 0.99), pct(lat, n1, 0.999));
    free(lat);

    /* with a trace (explain) */
    struct pol_trace tr;
    size_t ne = n / 20;
    t0 = now_ns();
    for (size_t i = 0; i < ne; i++) {
        make_request(&t, &seed, &rq);
        pol_decide(s, &rq, NULL, &d, &tr);
    }
    printf("with trace (explain): %.0f ns per decision\n", (double)(now_ns() - t0) / (double)ne);

    if (threads > 1) {
        struct mt m[16];
        pthread_t th[16];
        int nt = threads > 16 ? 16 : threads;
        for (int i = 0; i < nt; i++) {
            m[i] = (struct mt){.s = s,
                               .t = &t,
                               .n = n / (size_t)nt,
                               .seed = seed + (uint64_t)i * 7919};
            pthread_create(&th[i], NULL, mt_run, &m[i]);
        }
        double rate = 0;
        for (int i = 0; i < nt; i++) {
            pthread_join(th[i], NULL);
            rate += (double)m[i].n / ((double)m[i].ns / 1e9);
        }
        printf("%d threads on one snapshot: %.0f decisions/s in total (incl. request generation)\n",
               nt, rate);
    }

    /* hot reload: new snapshot + warm-up from the old one */
    struct pol_snapshot *s2;
    t0 = now_ns();
    pol_snapshot_build((const struct pol_record *const *)t.recs, t.n_recs, NULL, &s2, &errs);
    pol_snapshot_warm(s2, s);
    printf("reload: compile + warm %zu chains: %.1f ms\n", pol_snapshot_cached_chains(s2),
           (double)(now_ns() - t0) / 1e6);
    pol_snapshot_unref(s2);
    pol_snapshot_unref(s);
    pol_issues_release(&errs);
    free_tenant(&t);
}

int main(int argc, char **argv)
{
    size_t n = 2000000;
    size_t scales[8] = {1, 10};
    size_t n_scales = 2, given = 0;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc && given < 8)
            scales[given++] = strtoul(argv[++i], NULL, 10), n_scales = given;
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [-n decisions] [-s scale ...] [-t threads]\n", argv[0]);
            return 2;
        }
    }
    if (n < BATCH * 100)
        n = BATCH * 100;
    printf("policy_bench: %zu decisions per run, random users and action kinds\n", n);
    for (size_t i = 0; i < n_scales; i++)
        run(scales[i] ? scales[i] : 1, n, threads);
    return 0;
}
