/* SPDX-License-Identifier: MIT
 * meter.c — struct meter: pricing, month totals per (tenant, workspace), budget checks and
 * the usage writer thread (reports: meter_report.c, alerts: meter_alert.c).
 *
 * meter_record prices a call with the current configuration snapshot, adds it to the
 * in-memory month total of its (tenant, workspace) (a small hash map under k->mu; a record of
 * a later UTC month starts the month over, one of an earlier month is stored but not counted),
 * decides whether a budget alert is due and queues an owned copy of the row. The "costs-writer"
 * (a gw_worker, base/worker.h) writes queued rows in batches of up to METER_BATCH_MAX rows,
 * at the latest METER_FLUSH_MS after a row was queued, in one store transaction; a failed
 * batch stays queued and is retried. The queue is bounded and a recorder waits for room: rows
 * are never dropped while the store works. Reports add the rows still queued to what the store
 * holds; the worker's consistent view makes a batch move from the queue to the store atomically
 * for them. k->mu is never held while calling the worker.
 *
 * In a cluster (meter_share) every call's cost is also added, in micro-USD, to the shared
 * counter of its (tenant, workspace, month); checks and alerts take the larger of that
 * cluster-wide total and this node's own, so a budget counts the spend of every node once.
 * With Redis unreachable each node counts alone again (shared/README.md).
 */
#include "base/prelude.h"
#include "meter/meter_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/worker.h"
#include "notify/notify.h"
#include "shared/shared.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NBUCKETS 128
#define NO_WORKSPACE METER_NO_WORKSPACE

struct total {
    char *tenant, *workspace;
    int month; /* meter_month_of index of usd */
    double usd;
    double cluster_usd;  /* the cluster's total for the month, as last seen (meter_share) */
    bool threshold_sent; /* alert queued this month (this process) */
    bool exceeded_sent;
    struct total *next;
};

struct meter {
    struct store *st;

    pthread_mutex_t mu; /* cfg and totals */
    struct cfg *cfg;
    struct total *buckets[NBUCKETS];

    struct gw_worker *writer;      /* "costs-writer": usage rows to the store */
    bool fail_logged;              /* writer thread only */
    struct store_usage_row *batch; /* writer thread only */

    struct notifier *notify;
    struct shared *shared; /* month totals of every node (meter_share); NULL: this one's */
};

#define SPEND_WINDOW_MS (40LL * 24 * 3600 * 1000) /* a month's counter outlives the month */

static double spent_of(const struct total *t)
{
    return t->usd > t->cluster_usd ? t->usd : t->cluster_usd;
}

static void spend_key(char *out, size_t cap, const char *tenant, const char *workspace,
                      const char *month)
{
    snprintf(out, cap, "spend:%.64s:%.64s:%s", tenant, workspace, month);
}

/* --- clock, months, prices -------------------------------------------------------------------- */

static _Atomic int64_t clock_override;

int64_t meter_now_ms(void)
{
    int64_t o = atomic_load(&clock_override);
    return o > 0 ? o : gw_now_ms();
}

void meter_test_set_clock(int64_t ms)
{
    atomic_store(&clock_override, ms);
}

int meter_month_of(int64_t ms, char out[8])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u, m = (unsigned)(tm.tm_mon + 1) % 100u;
    snprintf(out, 8, "%04u-%02u", y, m);
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

int meter_period_parse(const char *s)
{
    if (!s || strlen(s) != 7 || s[4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mon = (s[5] - '0') * 10 + (s[6] - '0');
    if (year < 1970 || mon < 1 || mon > 12)
        return -1;
    return year * 12 + mon - 1;
}

double meter_round(double v, double scale)
{
    double x = v * scale;
    if (!(x > -9e18 && x < 9e18)) /* huge or NaN: as it is */
        return v;
    int64_t i = (int64_t)(x < 0 ? x - 0.5 : x + 0.5);
    return (double)i / scale;
}

double meter_usd(double usd)
{
    return meter_round(usd, 1e10);
}

double meter_price(const struct cfg *c, const char *provider, const char *model,
                   int64_t prompt_tokens, int64_t completion_tokens, bool *known)
{
    char id[512];
    const struct cfg_model *m = NULL;
    if (provider && model) {
        int n = snprintf(id, sizeof id, "%s/%s", provider, model);
        if (n > 0 && (size_t)n < sizeof id)
            m = cfg_find_model(c, id, NULL);
    }
    if (known)
        *known = m != NULL;
    return m ? meter_cost(m, prompt_tokens, completion_tokens) : 0;
}

double meter_cost(const struct cfg_model *m, int64_t prompt_tokens, int64_t completion_tokens)
{
    double pt = prompt_tokens > 0 ? (double)prompt_tokens : 0;
    double ct = completion_tokens > 0 ? (double)completion_tokens : 0;
    return meter_usd(pt * m->input_per_mtok / 1e6 + ct * m->output_per_mtok / 1e6);
}

const char *meter_currency(const struct cfg *c)
{
    return c && c->currency && *c->currency ? c->currency : "USD";
}

/* --- totals (under k->mu) --------------------------------------------------------------------- */

static size_t bucket_of(const char *tenant, const char *workspace)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)tenant; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const unsigned char *p = (const unsigned char *)workspace; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % NBUCKETS;
}

static struct total *total_find(struct meter *k, const char *tenant, const char *workspace)
{
    for (struct total *t = k->buckets[bucket_of(tenant, workspace)]; t; t = t->next)
        if (strcmp(t->tenant, tenant) == 0 && strcmp(t->workspace, workspace) == 0)
            return t;
    return NULL;
}

static struct total *total_get(struct meter *k, const char *tenant, const char *workspace,
                               int month)
{
    struct total *t = total_find(k, tenant, workspace);
    if (t)
        return t;
    t = gw_xcalloc(1, sizeof *t);
    t->tenant = gw_xstrdup(tenant);
    t->workspace = gw_xstrdup(workspace);
    t->month = month;
    size_t b = bucket_of(tenant, workspace);
    t->next = k->buckets[b];
    k->buckets[b] = t;
    return t;
}

/* A record of month `month` for t: starts a new month, or returns false for an earlier one. */
static bool total_roll(struct total *t, int month)
{
    if (month < t->month)
        return false;
    if (month > t->month) {
        t->month = month;
        t->usd = 0;
        t->cluster_usd = 0;
        t->threshold_sent = false;
        t->exceeded_sent = false;
    }
    return true;
}

static struct meter_alert *alert_new(const struct cfg *c, const struct total *t,
                                     const struct cfg_budget *b, const char *month, bool exceeded)
{
    struct meter_alert *a = gw_xcalloc(1, sizeof *a);
    a->tenant = gw_xstrdup(t->tenant);
    a->workspace = gw_xstrdup(t->workspace);
    snprintf(a->month, sizeof a->month, "%s", month);
    a->exceeded = exceeded;
    a->spent_usd = spent_of(t);
    a->limit_usd = b->monthly_usd_limit;
    a->threshold = b->alert_threshold;
    a->on_exceed = b->on_exceed;
    const char *to = b->alert_email ? b->alert_email : c->alert_email;
    a->email = to && *to ? gw_xstrdup(to) : NULL;
    a->currency = gw_xstrdup(meter_currency(c));
    return a;
}

/* After t grew: the alert that is due now, if any. Reaching the limit supersedes the threshold
 * (the notifier then marks the threshold alert as sent too). */
static struct meter_alert *alert_due(struct meter *k, struct total *t, const char *month)
{
    const struct cfg *c = k->cfg;
    if (!c->costs_enabled)
        return NULL;
    const struct cfg_budget *b = cfg_find_budget(c, t->workspace);
    if (!b || b->monthly_usd_limit <= 0)
        return NULL;
    if (spent_of(t) >= b->monthly_usd_limit && !t->exceeded_sent) {
        t->exceeded_sent = true;
        t->threshold_sent = true;
        return alert_new(c, t, b, month, true);
    }
    if (spent_of(t) >= b->alert_threshold * b->monthly_usd_limit && !t->threshold_sent) {
        t->threshold_sent = true;
        return alert_new(c, t, b, month, false);
    }
    return NULL;
}

static gw_err totals_load(struct meter *k)
{
    char month[8];
    int idx = meter_month_of(meter_now_ms(), month);
    struct store_usage_sum *sums = NULL;
    size_t n = 0;
    gw_err rc = store_usage_month(k->st, NULL, month, NULL, &sums, &n);
    if (rc != GW_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!sums[i].tenant || !sums[i].workspace)
            continue;
        struct total *t = total_get(k, sums[i].tenant, sums[i].workspace, idx);
        t->usd += sums[i].cost_usd;
    }
    store_usage_sums_free(sums, n);
    return GW_OK;
}

/* --- the writer ------------------------------------------------------------------------------- */

static size_t text_len(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static const char *text_put(char **cursor, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *out = *cursor;
    memcpy(out, s, n);
    *cursor += n;
    return out;
}

static struct meter_row *row_new(const struct meter_usage *u, const char *workspace, double cost,
                                 const char *month, int64_t at_ms)
{
    const char *provider = u->provider ? u->provider : NO_WORKSPACE;
    const char *model = u->model ? u->model : NO_WORKSPACE;
    size_t len = text_len(u->tenant) + text_len(u->user) + text_len(workspace) +
                 text_len(u->agent) + text_len(provider) + text_len(model) +
                 text_len(u->request_id);
    struct meter_row *w = gw_xcalloc(1, sizeof *w + len);
    char *c = w->text;
    w->r.tenant = text_put(&c, u->tenant);
    w->r.user_id = text_put(&c, u->user);
    w->r.workspace = text_put(&c, workspace);
    w->r.agent = text_put(&c, u->agent);
    w->r.provider = text_put(&c, provider);
    w->r.model = text_put(&c, model);
    w->r.request_id = text_put(&c, u->request_id);
    w->r.prompt_tokens = u->prompt_tokens > 0 ? u->prompt_tokens : 0;
    w->r.completion_tokens = u->completion_tokens > 0 ? u->completion_tokens : 0;
    w->r.cost_usd = cost;
    w->r.at_ms = at_ms;
    snprintf(w->month, sizeof w->month, "%s", month);
    w->r.month = w->month;
    return w;
}

/* Writer thread: one store transaction per batch. */
static gw_err writer_process(void *ctx, void *const *items, size_t n)
{
    struct meter *k = ctx;
    for (size_t i = 0; i < n; i++)
        k->batch[i] = ((const struct meter_row *)items[i])->r;
    gw_err rc = store_usage_append(k->st, k->batch, n);
    if (rc == GW_OK && k->fail_logged)
        gw_info("costs: usage rows are written to the store again");
    else if (rc != GW_OK && !k->fail_logged)
        gw_error("costs: cannot write %zu usage rows to the store (%s); they stay queued and "
                 "are retried",
                 n, gw_err_name(rc));
    k->fail_logged = rc != GW_OK;
    return rc;
}

static void writer_release(void *ctx, void *item)
{
    GW_UNUSED(ctx);
    free(item);
}

static const struct gw_worker_ops writer_ops = {
    .name = "costs-writer",
    .what = "usage rows",
    .queue_cap = METER_QUEUE_CAP,
    .batch_max = METER_BATCH_MAX,
    .linger_ms = METER_FLUSH_MS,
    .linger_items = METER_BATCH_MAX,
    .full_wait_ms = -1, /* rows are never dropped while the store works */
    .retry_ms = METER_RETRY_MS,
    .consistent_view = true,
    .process = writer_process,
    .release = writer_release,
};

static void enqueue(struct meter *k, struct meter_row *w)
{
    if (gw_worker_post(k->writer, w) == GW_OK)
        return;
    /* recorded after close: nothing can write it any more */
    gw_error("costs: a usage row of tenant %s arrived after shutdown and is lost", w->r.tenant);
    free(w);
}

/* --- lifecycle -------------------------------------------------------------------------------- */

static void totals_free(struct meter *k)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        struct total *t = k->buckets[b];
        while (t) {
            struct total *next = t->next;
            free(t->tenant);
            free(t->workspace);
            free(t);
            t = next;
        }
        k->buckets[b] = NULL;
    }
}

static void costs_free(struct meter *k)
{
    totals_free(k);
    cfg_unref(k->cfg);
    free(k->batch);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

gw_err meter_open(struct store *st, const struct cfg *c, struct net_loop *net, struct meter **out)
{
    if (!out)
        return GW_EINVAL;
    *out = NULL;
    if (!st || !c)
        return GW_EINVAL;
    struct meter *k = gw_xcalloc(1, sizeof *k);
    k->st = st;
    k->cfg = cfg_ref((struct cfg *)c); /* only the refcount changes */
    pthread_mutex_init(&k->mu, NULL);
    k->batch = gw_xcalloc(METER_BATCH_MAX, sizeof *k->batch);

    gw_err rc = totals_load(k);
    if (rc != GW_OK) {
        gw_error("costs: cannot load this month's usage from the store (%s)", gw_err_name(rc));
        costs_free(k);
        return rc;
    }
    rc = notify_start(c, net, &k->notify);
    if (rc != GW_OK) {
        costs_free(k);
        return rc;
    }
    rc = gw_worker_start(&writer_ops, k, &k->writer);
    if (rc != GW_OK) {
        notify_stop(k->notify);
        costs_free(k);
        return rc;
    }
    *out = k;
    return GW_OK;
}

void meter_close(struct meter *k)
{
    if (!k)
        return;
    gw_worker_stop(k->writer);
    notify_stop(k->notify);
    costs_free(k);
}

void meter_share(struct meter *k, struct shared *s)
{
    k->shared = s;
}

void meter_reload(struct meter *k, const struct cfg *c)
{
    if (!k || !c)
        return;
    struct cfg *nc = cfg_ref((struct cfg *)c);
    pthread_mutex_lock(&k->mu);
    struct cfg *old = k->cfg;
    k->cfg = nc;
    pthread_mutex_unlock(&k->mu);
    cfg_unref(old);
    notify_reload(k->notify, c);
}

void meter_flush(struct meter *k)
{
    if (!k)
        return;
    gw_worker_flush(k->writer); /* a failed batch ends the wait: its rows stay queued */
    notify_flush(k->notify);
}

/* --- check and record ------------------------------------------------------------------------- */

gw_err meter_check(struct meter *k, const char *tenant, const char *workspace, double *spent_usd,
                   char *msg, size_t cap)
{
    if (spent_usd)
        *spent_usd = 0;
    if (msg && cap)
        msg[0] = '\0';
    if (!k || !tenant)
        return GW_EINVAL;
    if (!workspace)
        workspace = NO_WORKSPACE;
    char month[8], key[160];
    int now = meter_month_of(meter_now_ms(), month);
    gw_err rc = GW_OK;
    int64_t micro = 0, left = 0;
    spend_key(key, sizeof key, tenant, workspace, month);
    if (k->shared && shared_counter_get(k->shared, key, &micro, &left) != GW_OK)
        micro = 0;
    pthread_mutex_lock(&k->mu);
    const struct total *t = total_find(k, tenant, workspace);
    double spent = t && t->month == now ? t->usd : 0;
    if ((double)micro / 1e6 > spent)
        spent = (double)micro / 1e6;
    const struct cfg *c = k->cfg;
    const struct cfg_budget *b = c->costs_enabled ? cfg_find_budget(c, workspace) : NULL;
    if (b && b->on_exceed == CFG_EXCEED_DISABLE && spent >= b->monthly_usd_limit) {
        rc = GW_EPAYMENT;
        char lim[GW_MONEY_MAX], sp[GW_MONEY_MAX];
        gw_money(b->monthly_usd_limit, lim);
        gw_money(spent, sp);
        if (msg && cap)
            snprintf(msg, cap,
                     "workspace '%s' reached its monthly budget of %s %s (spent %s %s in %s; "
                     "onExceed: disable)",
                     workspace, lim, meter_currency(c), sp, meter_currency(c), month);
    }
    pthread_mutex_unlock(&k->mu);
    if (spent_usd)
        *spent_usd = spent;
    return rc;
}

double meter_record(struct meter *k, const struct meter_usage *u)
{
    if (!k || !u || !u->tenant || !*u->tenant) {
        gw_warn("costs: a usage record without a tenant was ignored");
        return 0;
    }
    const char *workspace = u->workspace && *u->workspace ? u->workspace : NO_WORKSPACE;
    int64_t at = u->at_ms > 0 ? u->at_ms : meter_now_ms();
    char month[8];
    int idx = meter_month_of(at, month);

    struct meter_alert *alert = NULL;
    bool known = false;
    pthread_mutex_lock(&k->mu);
    double cost = u->price ? meter_cost(u->price, u->prompt_tokens, u->completion_tokens)
                           : meter_price(k->cfg, u->provider, u->model, u->prompt_tokens,
                                         u->completion_tokens, &known);
    known |= u->price != NULL; /* a model added at run time brings its prices */
    pthread_mutex_unlock(&k->mu);
    char key[160];
    int64_t cluster = -1;
    spend_key(key, sizeof key, u->tenant, workspace, month);
    int64_t micro = (int64_t)(cost * 1e6 + 0.5);
    if (k->shared && shared_counter_incr(k->shared, key, micro, SPEND_WINDOW_MS, &cluster) != GW_OK)
        cluster = -1;
    pthread_mutex_lock(&k->mu);
    struct total *t = total_get(k, u->tenant, workspace, idx);
    if (total_roll(t, idx)) {
        t->usd += cost;
        if ((double)cluster / 1e6 > t->cluster_usd)
            t->cluster_usd = (double)cluster / 1e6;
        alert = alert_due(k, t, month);
    }
    pthread_mutex_unlock(&k->mu);
    if (!known)
        gw_debug("costs: no price for model %s/%s; recorded at 0 USD",
                 u->provider ? u->provider : "?", u->model ? u->model : "?");

    enqueue(k, row_new(u, workspace, cost, month, at));
    if (alert) {
        meter_alert_send(k->notify, k->st, alert);
        meter_alert_free(alert);
    }
    return cost;
}

/* --- for the reports and the tests ------------------------------------------------------------ */

struct store *meter_store(struct meter *k)
{
    return k->st;
}

struct gw_worker *meter_writer(struct meter *k)
{
    return k->writer;
}

struct cfg *meter_config(struct meter *k)
{
    pthread_mutex_lock(&k->mu);
    struct cfg *c = cfg_ref(k->cfg);
    pthread_mutex_unlock(&k->mu);
    return c;
}

void meter_notify_stats(struct meter *k, struct notify_stats *s)
{
    notify_get_stats(k->notify, s);
}
