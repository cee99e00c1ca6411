/* SPDX-License-Identifier: MIT
 * test_meter.c — usage metering and budgets (src/meter/), with their alerts through the
 * notifier (src/notify/), against a temporary store and configuration file.
 *
 * Covers: pricing math and months, month totals per (tenant, workspace) with UTC rollover and
 * late records, totals reloaded from the store, the threshold alert exactly once (also after
 * reopening the store), exceeded + onExceed disable → GW_EPAYMENT (and costManagement disabled
 * → never blocks), alert-only budgets never block, reports (grouping, sorting, budgets, the
 * workspace filter, rows still queued counted once), flush durability, the alert e-mail and
 * webhook texts, delivery to an in-test SMTP server and HTTP webhook, a failing webhook, and
 * the CLI's text of a report. The clock is pinned with meter_test_set_clock.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "cli/cli.h"
#include "config/config.h"
#include "meter/meter.h"
#include "meter/meter_int.h"
#include "net/net.h"
#include "notify/notify.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

/* --- fixture ------------------------------------------------------------------------------- */

struct fx {
    char root[64];
    char data[128];
    char cfgpath[128];
    char db[192];
    struct store *st;
    struct cfg *cfg;
    struct meter *k;
};

static const char base_yaml[] =
    "models:\n"
    "  providers:\n"
    "    - name: openai\n"
    "      api: openai\n"
    "      base_url: http://127.0.0.1:9/v1\n"
    "      models:\n"
    "        - {name: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}\n"
    "        - {name: gpt-4o-mini, input_per_mtok: 0.15, output_per_mtok: 0.6}\n"
    "costManagement:\n"
    "  alertThreshold: 0.8\n"
    "  budgets:\n"
    "    dev-team: {monthlyUsdLimit: 10, onExceed: alert}\n"
    "    public: {monthlyUsdLimit: 1, onExceed: disable}\n";

static struct net_loop *net; /* alerts go out through it; loopback servers are allowed */
static int64_t t_nov;        /* 2026-11-15T12:00:00Z */
static int64_t t_dec;        /* 2026-12-01T00:00:00Z */

static struct cfg *load_cfg(struct fx *f, const char *yaml)
{
    FILE *fp = fopen(f->cfgpath, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(yaml, 1, strlen(yaml), fp), strlen(yaml));
    assert_int_equal(fclose(fp), 0);
    struct cfg_overrides ov = {.data_dir = f->data};
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(f->cfgpath, &ov, &c, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_message("config error: %s\n", errs.msgs[i]);
    cfg_errors_release(&errs);
    assert_int_equal(rc, GW_OK);
    return c;
}

static void open_costs(struct fx *f)
{
    assert_int_equal(meter_open(f->st, f->cfg, net, &f->k), GW_OK);
}

/* Closes costs and store, reopens both (a restart). */
static void restart(struct fx *f)
{
    meter_close(f->k);
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    open_costs(f);
}

static int setup_yaml(void **state, const char *yaml)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_costs"));
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    snprintf(f->cfgpath, sizeof(f->cfgpath), "%s/gateway.yaml", f->root);
    snprintf(f->db, sizeof(f->db), "%s/gateway.db", f->data);
    meter_test_set_clock(t_nov);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    f->cfg = load_cfg(f, yaml);
    open_costs(f);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_yaml(state, base_yaml);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    meter_close(f->k);
    store_close(f->st);
    cfg_unref(f->cfg);
    test_rmtree(f->root);
    free(f);
    meter_test_set_clock(0);
    return 0;
}

static int64_t raw_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static bool near(double a, double b)
{
    double d = a - b;
    return d < 1e-9 && d > -1e-9;
}
#define assert_near(a, b)                                                                          \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!near(a_, b_))                                                                         \
            print_message("%s = %.9f, expected %.9f\n", #a, a_, b_);                               \
        assert_true(near(a_, b_));                                                                 \
    } while (0)

/* A call of the tenant "acme" costing prompt tokens of gpt-4o: 1e6 prompt tokens = 2.50 USD. */
static double rec(struct fx *f, const char *tenant, const char *user, const char *ws,
                  const char *model, int64_t pt, int64_t ct, int64_t at)
{
    struct meter_usage u = {.tenant = tenant,
                            .user = user,
                            .workspace = ws,
                            .agent = NULL,
                            .provider = "openai",
                            .model = model,
                            .prompt_tokens = pt,
                            .completion_tokens = ct,
                            .at_ms = at,
                            .request_id = "req"};
    return meter_record(f->k, &u);
}

/* A call costing exactly usd (gpt-4o-mini completion tokens are 0.6 USD per million: use
 * gpt-4o prompt tokens, 0.0000025 USD each). */
static double spend(struct fx *f, const char *ws, double usd)
{
    return rec(f, "acme", "alice", ws, "gpt-4o", (int64_t)(usd / 2.5e-6 + 0.5), 0, t_nov);
}

static double spent(struct fx *f, const char *tenant, const char *ws, gw_err *rc)
{
    double s = -1;
    char msg[256];
    *rc = meter_check(f->k, tenant, ws, &s, msg, sizeof msg);
    return s;
}

/* --- pricing and months ------------------------------------------------------------------- */

static void test_pricing(void **state)
{
    struct fx *f = *state;
    bool known = false;
    assert_near(meter_price(f->cfg, "openai", "gpt-4o", 1000000, 0, &known), 2.5);
    assert_true(known);
    assert_near(meter_price(f->cfg, "openai", "gpt-4o", 0, 1000000, NULL), 10);
    assert_near(meter_price(f->cfg, "openai", "gpt-4o", 1000, 500, NULL), 0.0025 + 0.005);
    assert_near(meter_price(f->cfg, "openai", "gpt-4o-mini", 2000000, 1000000, NULL), 0.3 + 0.6);
    assert_near(meter_price(f->cfg, "openai", "gpt-4o", -5, -5, NULL), 0);
    assert_near(meter_price(f->cfg, "openai", "nope", 1000000, 1000000, &known), 0);
    assert_false(known);
    assert_near(meter_price(f->cfg, "other", "gpt-4o", 1000000, 0, &known), 0);
    assert_false(known);
    assert_near(meter_price(f->cfg, NULL, "gpt-4o", 1000000, 0, &known), 0);

    /* the recorded cost is the price; an unknown model is recorded at 0 */
    assert_near(rec(f, "acme", "alice", "dev-team", "gpt-4o", 1000, 500, t_nov), 0.0075);
    assert_near(rec(f, "acme", "alice", "dev-team", "mystery", 1000, 500, t_nov), 0);
    meter_flush(f->k);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 2);
    assert_int_equal(raw_int(f->db, "SELECT prompt_tokens FROM usage_records "
                                    "WHERE model = 'mystery'"),
                     1000);
}

static void test_months(void **state)
{
    (void)state;
    char m[8];
    int nov = meter_month_of(t_nov, m);
    assert_string_equal(m, "2026-11");
    assert_int_equal(nov, 2026 * 12 + 10);
    assert_int_equal(meter_month_of(t_dec, m), nov + 1);
    assert_string_equal(m, "2026-12");
    assert_int_equal(meter_month_of(t_dec - 1, m), nov); /* 23:59:59.999 on Nov 30 */
    assert_string_equal(m, "2026-11");
    assert_int_equal(meter_period_parse("2026-11"), nov);
    assert_int_equal(meter_period_parse("2026-01"), 2026 * 12);
    assert_int_equal(meter_period_parse("2026-12"), 2026 * 12 + 11);
    const char *bad[] = {"2026-13",    "2026-00", "2026-1",  "26-11",       "2026/11", "2026-1x",
                         "2026-11-01", "",        "1969-12", "２０２６-11", " 2026-11"};
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++)
        assert_int_equal(meter_period_parse(bad[i]), -1);
    assert_int_equal(meter_period_parse(NULL), -1);
}

/* --- totals --------------------------------------------------------------------------------- */

static void test_totals_and_rollover(void **state)
{
    struct fx *f = *state;
    gw_err rc;
    assert_near(spent(f, "acme", "dev-team", &rc), 0);
    assert_int_equal(rc, GW_OK);
    assert_near(spend(f, "dev-team", 2.5), 2.5);
    assert_near(spend(f, "dev-team", 1.25), 1.25);
    assert_near(spent(f, "acme", "dev-team", &rc), 3.75);
    assert_near(spent(f, "acme", "other", &rc), 0);
    assert_near(spent(f, "globex", "dev-team", &rc), 0); /* per tenant */
    rec(f, "globex", "x", "dev-team", "gpt-4o", 400000, 0, t_nov);
    assert_near(spent(f, "globex", "dev-team", &rc), 1);
    assert_near(spent(f, "acme", "dev-team", &rc), 3.75);

    /* a record of December starts a new month */
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 200000, 0, t_dec + 1000);
    assert_near(spent(f, "acme", "dev-team", &rc), 0); /* it is still November */
    meter_test_set_clock(t_dec + 5000);
    assert_near(spent(f, "acme", "dev-team", &rc), 0.5);
    /* a late November record is stored but not counted in December */
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 400000, 0, t_nov);
    assert_near(spent(f, "acme", "dev-team", &rc), 0.5);
    /* globex has no December record: the clock decides */
    assert_near(spent(f, "globex", "dev-team", &rc), 0);

    json_t *r = meter_report(f->k, "acme", "2026-11", NULL);
    assert_non_null(r);
    assert_near(json_real_value(json_object_get(r, "total_usd")), 4.75);
    json_decref(r);

    /* totals come back from the store at open (current month only) */
    restart(f);
    assert_near(spent(f, "acme", "dev-team", &rc), 0.5);
    meter_test_set_clock(t_nov);
    assert_near(spent(f, "acme", "dev-team", &rc), 0); /* loaded December; now says November */
    restart(f);
    assert_near(spent(f, "acme", "dev-team", &rc), 4.75);
    assert_near(spent(f, "globex", "dev-team", &rc), 1);
}

/* --- alerts and budgets ----------------------------------------------------------------------- */

static void test_threshold_once(void **state)
{
    struct fx *f = *state;
    struct notify_stats s;
    spend(f, "dev-team", 3); /* limit 10, threshold 0.8 */
    spend(f, "dev-team", 3);
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 0);
    spend(f, "dev-team", 2.5); /* 8.5 */
    spend(f, "dev-team", 0.5); /* 9.0: no second threshold alert */
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 1);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts WHERE kind = "
                                    "'threshold' AND workspace = 'dev-team' AND month = "
                                    "'2026-11' AND tenant = 'acme'"),
                     1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts"), 1);

    /* a restart does not send it again */
    restart(f);
    gw_err rc;
    assert_near(spent(f, "acme", "dev-team", &rc), 9);
    spend(f, "dev-team", 0.25);
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 1);
    assert_int_equal(s.duplicates, 1);
    assert_int_equal(s.delivered, 0);
    spend(f, "dev-team", 0.25); /* nothing new is even queued */
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 1);

    /* reaching the limit: one exceeded alert; alert-only never blocks */
    spend(f, "dev-team", 0.5); /* 10.0 */
    spend(f, "dev-team", 5);
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 2);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts WHERE kind = "
                                    "'exceeded'"),
                     1);
    char msg[256] = "x";
    double sp = 0;
    assert_int_equal(meter_check(f->k, "acme", "dev-team", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 15);
    assert_string_equal(msg, "");
    restart(f);
    spend(f, "dev-team", 1);
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 1);
    assert_int_equal(s.duplicates, 1);

    /* a new month alerts again */
    meter_test_set_clock(t_dec + 1);
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 4000000, 0, t_dec + 1); /* 10 USD at once */
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 2);
    assert_int_equal(s.delivered, 1);
    /* the limit was reached at once: one exceeded alert, the threshold one is claimed too */
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts WHERE month = "
                                    "'2026-12'"),
                     2);
    restart(f);
    spend(f, "dev-team", 1); /* at_ms November: late, no alert */
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 1000, 0, t_dec + 2);
    meter_flush(f->k);
    meter_notify_stats(f->k, &s);
    assert_int_equal(s.handled, 1); /* exceeded again in memory, a duplicate in the store */
    assert_int_equal(s.duplicates, 1);
}

static void test_exceeded_disable(void **state)
{
    struct fx *f = *state;
    char msg[256];
    double sp = -1;
    spend(f, "public", 0.6);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 0.6);
    spend(f, "public", 0.4); /* exactly the limit */
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_EPAYMENT);
    assert_string_equal(msg, "workspace 'public' reached its monthly budget of 1.00 USD (spent "
                             "1.00 USD in 2026-11; onExceed: disable)");
    spend(f, "public", 0.12);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_EPAYMENT);
    assert_near(sp, 1.12);
    assert_string_equal(msg, "workspace 'public' reached its monthly budget of 1.00 USD (spent "
                             "1.12 USD in 2026-11; onExceed: disable)");
    /* other tenants and workspaces are not affected; a NULL message buffer is fine */
    assert_int_equal(meter_check(f->k, "globex", "public", &sp, NULL, 0), GW_OK);
    assert_int_equal(meter_check(f->k, "acme", "dev-team", NULL, NULL, 0), GW_OK);
    assert_int_equal(meter_check(f->k, NULL, "public", &sp, msg, sizeof msg), GW_EINVAL);
    /* still refused after a restart */
    restart(f);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_EPAYMENT);
    /* the next month starts from zero */
    meter_test_set_clock(t_dec);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 0);
    meter_test_set_clock(t_nov);

    /* costManagement disabled: never blocks, still meters */
    struct cfg *off = load_cfg(f, "models:\n"
                                  "  providers:\n"
                                  "    - name: openai\n"
                                  "      api: openai\n"
                                  "      base_url: http://127.0.0.1:9/v1\n"
                                  "      models:\n"
                                  "        - {name: gpt-4o, input_per_mtok: 2.5, "
                                  "output_per_mtok: 10}\n"
                                  "costManagement:\n"
                                  "  enabled: false\n"
                                  "  budgets:\n"
                                  "    public: {monthlyUsdLimit: 1, onExceed: disable}\n");
    meter_reload(f->k, off);
    cfg_unref(off);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 1.12);
    spend(f, "public", 1);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 2.12);
    /* and back on: refused again */
    meter_reload(f->k, f->cfg);
    assert_int_equal(meter_check(f->k, "acme", "public", &sp, msg, sizeof msg), GW_EPAYMENT);
    meter_flush(f->k);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records WHERE workspace = "
                                    "'public'"),
                     4);
}

static void test_alert_only_never_blocks(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 10; i++)
        spend(f, "dev-team", 2.5);
    double sp = 0;
    char msg[128];
    assert_int_equal(meter_check(f->k, "acme", "dev-team", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 25);
    /* without a budget: never blocks either */
    spend(f, "nobudget", 1000);
    assert_int_equal(meter_check(f->k, "acme", "nobudget", &sp, msg, sizeof msg), GW_OK);
    assert_near(sp, 1000);
}

/* --- reports ---------------------------------------------------------------------------------- */

static json_t *find(const json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const json_t *v = json_object_get(e, key);
        if ((!value && json_is_null(v)) ||
            (value && json_is_string(v) && !strcmp(json_string_value(v), value)))
            return e;
    }
    return NULL;
}

static void record_mix(struct fx *f)
{
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 1000000, 0, t_nov);      /* 2.50 */
    rec(f, "acme", "alice", "dev-team", "gpt-4o-mini", 0, 1000000, t_nov); /* 0.60 */
    rec(f, "acme", "bob", "dev-team", "gpt-4o", 0, 100000, t_nov);         /* 1.00 */
    rec(f, "acme", "bob", "marketing", "gpt-4o", 200000, 0, t_nov);        /* 0.50 */
    rec(f, "acme", NULL, "marketing", "mystery", 10, 20, t_nov);           /* 0 */
    rec(f, "acme", "alice", "dev-team", "gpt-4o", 1000000, 0, t_dec);      /* other month */
    rec(f, "globex", "carol", "dev-team", "gpt-4o", 1000000, 0, t_nov);    /* other tenant */
}

static void check_full_report(const json_t *r)
{
    assert_string_equal(gw_json_str(r, "period"), "2026-11");
    assert_string_equal(gw_json_str(r, "currency"), "USD");
    assert_true(json_is_null(json_object_get(r, "workspace")));
    assert_near(json_real_value(json_object_get(r, "total_usd")), 4.6);
    assert_int_equal(json_integer_value(json_object_get(r, "requests")), 5);
    assert_int_equal(json_integer_value(json_object_get(r, "prompt_tokens")), 1200010);
    assert_int_equal(json_integer_value(json_object_get(r, "completion_tokens")), 1100020);

    const json_t *ws = json_object_get(r, "by_workspace");
    assert_int_equal(json_array_size(ws), 3); /* dev-team, marketing, public (budget only) */
    const json_t *dev = json_array_get(ws, 0);
    assert_string_equal(gw_json_str(dev, "workspace"), "dev-team");
    assert_near(json_real_value(json_object_get(dev, "total_usd")), 4.1);
    assert_int_equal(json_integer_value(json_object_get(dev, "requests")), 3);
    const json_t *b = json_object_get(dev, "budget");
    assert_true(json_is_object(b));
    assert_near(json_real_value(json_object_get(b, "monthly_usd_limit")), 10);
    assert_near(json_real_value(json_object_get(b, "used_pct")), 41);
    assert_string_equal(gw_json_str(b, "status"), "ok");
    assert_string_equal(gw_json_str(b, "on_exceed"), "alert");
    assert_near(json_real_value(json_object_get(b, "alert_threshold")), 0.8);
    const json_t *mk = json_array_get(ws, 1);
    assert_string_equal(gw_json_str(mk, "workspace"), "marketing");
    assert_true(json_is_null(json_object_get(mk, "budget")));
    assert_int_equal(json_integer_value(json_object_get(mk, "requests")), 2);
    const json_t *pub = json_array_get(ws, 2);
    assert_string_equal(gw_json_str(pub, "workspace"), "public");
    assert_int_equal(json_integer_value(json_object_get(pub, "requests")), 0);
    assert_string_equal(gw_json_str(json_object_get(pub, "budget"), "on_exceed"), "disable");

    const json_t *users = json_object_get(r, "by_user");
    assert_int_equal(json_array_size(users), 3);
    assert_string_equal(gw_json_str(json_array_get(users, 0), "user"), "alice");
    assert_near(json_real_value(json_object_get(json_array_get(users, 0), "total_usd")), 3.1);
    assert_string_equal(gw_json_str(json_array_get(users, 1), "user"), "bob");
    const json_t *anon = find(users, "user", NULL);
    assert_non_null(anon);
    assert_int_equal(json_integer_value(json_object_get(anon, "requests")), 1);

    const json_t *models = json_object_get(r, "by_model");
    assert_int_equal(json_array_size(models), 3);
    const json_t *m = json_array_get(models, 0);
    assert_string_equal(gw_json_str(m, "model"), "openai/gpt-4o");
    assert_string_equal(gw_json_str(m, "provider"), "openai");
    assert_near(json_real_value(json_object_get(m, "total_usd")), 4.0);
    assert_int_equal(json_integer_value(json_object_get(m, "requests")), 3);
    assert_non_null(find(models, "model", "openai/mystery"));
    assert_non_null(find(models, "model", "openai/gpt-4o-mini"));
}

static void test_report(void **state)
{
    struct fx *f = *state;
    record_mix(f);
    /* before the writer ran: queued rows are counted */
    json_t *r = meter_report(f->k, "acme", "2026-11", NULL);
    assert_non_null(r);
    check_full_report(r);
    json_decref(r);
    /* after: the same, not twice */
    meter_flush(f->k);
    r = meter_report(f->k, "acme", "2026-11", NULL);
    check_full_report(r);
    char *text = gw_json_compact(r);
    json_decref(r);

    /* workspace filter */
    r = meter_report(f->k, "acme", "2026-11", "marketing");
    assert_string_equal(gw_json_str(r, "workspace"), "marketing");
    assert_near(json_real_value(json_object_get(r, "total_usd")), 0.5);
    assert_int_equal(json_array_size(json_object_get(r, "by_workspace")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "by_user")), 2);
    assert_null(find(json_object_get(r, "by_user"), "user", "alice"));
    json_decref(r);
    r = meter_report(f->k, "acme", "2026-11", "public"); /* budget, no usage */
    assert_int_equal(json_array_size(json_object_get(r, "by_workspace")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "by_user")), 0);
    json_decref(r);
    r = meter_report(f->k, "acme", "2026-11", "unknown");
    assert_int_equal(json_array_size(json_object_get(r, "by_workspace")), 0);
    assert_near(json_real_value(json_object_get(r, "total_usd")), 0);
    json_decref(r);

    /* other month and tenant */
    r = meter_report(f->k, "acme", "2026-12", NULL);
    assert_near(json_real_value(json_object_get(r, "total_usd")), 2.5);
    json_decref(r);
    r = meter_report(f->k, "globex", "2026-11", NULL);
    assert_near(json_real_value(json_object_get(r, "total_usd")), 2.5);
    assert_int_equal(json_integer_value(json_object_get(r, "requests")), 1);
    json_decref(r);

    assert_null(meter_report(f->k, "acme", "2026-13", NULL));
    assert_null(meter_report(f->k, "acme", "november", NULL));
    assert_null(meter_report(f->k, "acme", NULL, NULL));

    /* the same after a restart */
    restart(f);
    r = meter_report(f->k, "acme", "2026-11", NULL);
    char *again = gw_json_compact(r);
    assert_string_equal(again, text);
    free(again);

    /* the CLI's text */
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    cli_format_costs(&out, r);
    assert_non_null(out.data);
    assert_non_null(strstr(out.data, "Model costs 2026-11 (USD)\n"));
    assert_non_null(strstr(out.data, "  Total:     4.60\n"));
    assert_non_null(
        strstr(out.data, "WORKSPACE  SPENT  REQUESTS  BUDGET  USED   STATUS  ON EXCEED\n"));
    assert_non_null(strstr(out.data, "dev-team   4.10   3         10.00   41.0%  ok      alert\n"));
    assert_non_null(strstr(out.data, "marketing  0.50   2         -       -      -       -\n"));
    assert_non_null(strstr(out.data, "By user\n"));
    assert_non_null(strstr(out.data, "By model\n"));
    assert_non_null(strstr(out.data, "openai/gpt-4o "));
    gw_buf_release(&out);
    json_decref(r);
    free(text);
}

static void test_flush_durable(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 600; i++) /* more than two batches */
        rec(f, "acme", i % 2 ? "alice" : "bob", "dev-team", "gpt-4o", 1000, 100, t_nov + i);
    meter_flush(f->k);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 600);
    meter_flush(f->k); /* nothing queued: returns at once */

    /* close flushes too */
    for (int i = 0; i < 10; i++)
        rec(f, "acme", "alice", "marketing", "gpt-4o", 1000, 100, t_nov);
    meter_close(f->k);
    f->k = NULL;
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    struct store_usage_sum *l = NULL;
    size_t n = 0;
    assert_int_equal(store_usage_month(f->st, "acme", "2026-11", NULL, &l, &n), GW_OK);
    int64_t requests = 0;
    for (size_t i = 0; i < n; i++)
        requests += l[i].requests;
    assert_int_equal(requests, 610);
    store_usage_sums_free(l, n);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records WHERE request_id = "
                                    "'req' AND at_ms >= 0 AND month = '2026-11'"),
                     610);
    open_costs(f);
}

/* Recorders on several threads while the writer batches. */
struct rec_arg {
    struct fx *f;
    int id;
};

static void *recorder(void *p)
{
    struct rec_arg *a = p;
    char user[16];
    snprintf(user, sizeof user, "u%d", a->id);
    for (int i = 0; i < 500; i++)
        rec(a->f, "acme", user, "dev-team", "gpt-4o", 1000, 0, t_nov);
    return NULL;
}

static void test_concurrent_record(void **state)
{
    struct fx *f = *state;
    pthread_t th[4];
    struct rec_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct rec_arg){f, i};
        assert_int_equal(pthread_create(&th[i], NULL, recorder, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    gw_err rc;
    assert_near(spent(f, "acme", "dev-team", &rc), 2000 * 0.0025);
    json_t *r = meter_report(f->k, "acme", "2026-11", NULL);
    assert_int_equal(json_integer_value(json_object_get(r, "requests")), 2000);
    json_decref(r);
    meter_flush(f->k);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 2000);
}

/* --- alert messages --------------------------------------------------------------------------- */

static struct meter_alert *sample_alert(bool exceeded)
{
    struct meter_alert *a = gw_xcalloc(1, sizeof *a);
    a->tenant = gw_xstrdup("acme");
    a->workspace = gw_xstrdup("dev-team");
    snprintf(a->month, sizeof a->month, "2026-11");
    a->exceeded = exceeded;
    a->spent_usd = exceeded ? 512.3 : 410.23;
    a->limit_usd = 500;
    a->threshold = 0.8;
    a->on_exceed = exceeded ? CFG_EXCEED_DISABLE : CFG_EXCEED_ALERT;
    a->email = gw_xstrdup("leads@company.com");
    a->currency = gw_xstrdup("USD");
    return a;
}

static void test_alert_texts(void **state)
{
    (void)state;
    struct meter_alert *a = sample_alert(false);
    char *subj = meter_alert_subject(a);
    assert_string_equal(subj, "[OpenClaw] Budget alert: workspace dev-team at 82% of 500.00 USD "
                              "(2026-11)");
    free(subj);
    int64_t at = 0;
    assert_true(gw_time_parse("2026-11-03T10:04:05Z", &at));
    char *m = meter_alert_email(a, "gw@company.com", "leads@company.com", at);
    assert_non_null(strstr(m, "Date: Tue, 03 Nov 2026 10:04:05 +0000\r\n"));
    assert_non_null(strstr(m, "From: gw@company.com\r\n"));
    assert_non_null(strstr(m, "To: leads@company.com\r\n"));
    assert_non_null(strstr(m, "Subject: [OpenClaw] Budget alert: workspace dev-team at 82% of "
                              "500.00 USD (2026-11)\r\n"));
    assert_non_null(strstr(m, "Message-ID: <"));
    assert_non_null(strstr(m, "@company.com>\r\n"));
    assert_non_null(strstr(m, "\r\n\r\n")); /* header / body separator */
    assert_non_null(strstr(m, "Spent: 410.23 USD\r\n"));
    assert_non_null(strstr(m, "Limit: 500.00 USD\r\n"));
    assert_non_null(strstr(m, "Alert threshold: 80%\r\n"));
    /* every line ends in CRLF, none is longer than 998 characters */
    size_t col = 0;
    for (const char *p = m; *p; p++) {
        if (*p == '\n') {
            assert_true(p > m && p[-1] == '\r');
            col = 0;
        } else {
            assert_true(++col <= 998);
        }
    }
    assert_true(strlen(m) >= 2 && !strcmp(m + strlen(m) - 2, "\r\n"));
    free(m);

    json_t *j = meter_alert_webhook_json(a);
    assert_string_equal(gw_json_str(j, "type"), "budget.threshold");
    assert_string_equal(gw_json_str(j, "tenant"), "acme");
    assert_string_equal(gw_json_str(j, "workspace"), "dev-team");
    assert_string_equal(gw_json_str(j, "period"), "2026-11");
    assert_string_equal(gw_json_str(j, "on_exceed"), "alert");
    assert_near(json_real_value(json_object_get(j, "spent_usd")), 410.23);
    assert_near(json_real_value(json_object_get(j, "limit_usd")), 500);
    assert_near(json_real_value(json_object_get(j, "threshold")), 0.8);
    json_decref(j);
    meter_alert_free(a);

    a = sample_alert(true);
    subj = meter_alert_subject(a);
    assert_string_equal(subj, "[OpenClaw] Budget exceeded: workspace dev-team at 102% of "
                              "500.00 USD (2026-11)");
    free(subj);
    j = meter_alert_webhook_json(a);
    assert_string_equal(gw_json_str(j, "type"), "budget.exceeded");
    assert_string_equal(gw_json_str(j, "on_exceed"), "disable");
    json_decref(j);
    m = meter_alert_email(a, "gw@company.com", "leads@company.com", at);
    assert_non_null(strstr(m, "refuses further model calls"));
    free(m);
    meter_alert_free(a);
}

/* --- delivery: a tiny SMTP server and an HTTP webhook receiver -------------------------------- */

struct srv {
    int lfd;
    int port;
    bool http;
    int http_status;
    atomic_bool stop;
    pthread_t th;
    pthread_mutex_t mu;
    struct gw_buf log; /* SMTP: every line received; HTTP: every request */
    int sessions;
};

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* One CRLF line (without it) into line; false at EOF. */
static bool read_line(int fd, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0)
            return false;
        if (c == '\n') {
            if (n && line[n - 1] == '\r')
                n--;
            line[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            line[n++] = c;
    }
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);
    assert_true(write(fd, s, n) == (ssize_t)n);
}

static void srv_log(struct srv *s, const char *line)
{
    pthread_mutex_lock(&s->mu);
    gw_buf_puts(&s->log, line);
    gw_buf_puts(&s->log, "\n");
    pthread_mutex_unlock(&s->mu);
}

static void smtp_session(struct srv *s, int fd)
{
    char line[4096];
    say(fd, "220 test.local ESMTP ready\r\n");
    while (read_line(fd, line, sizeof line)) {
        srv_log(s, line);
        if (!strncasecmp(line, "EHLO", 4)) {
            say(fd, "250-test.local\r\n250-AUTH PLAIN\r\n250 SIZE 1000000\r\n");
        } else if (!strncasecmp(line, "HELO", 4)) {
            say(fd, "250 test.local\r\n");
        } else if (!strcasecmp(line, "AUTH PLAIN")) {
            say(fd, "334 \r\n");
            if (!read_line(fd, line, sizeof line))
                break;
            srv_log(s, line);
            say(fd, "235 2.7.0 Authentication successful\r\n");
        } else if (!strncasecmp(line, "AUTH PLAIN ", 11)) {
            say(fd, "235 2.7.0 Authentication successful\r\n");
        } else if (!strcasecmp(line, "DATA")) {
            say(fd, "354 go ahead\r\n");
            while (read_line(fd, line, sizeof line) && strcmp(line, ".") != 0)
                srv_log(s, line);
            srv_log(s, "<END OF DATA>");
            say(fd, "250 2.0.0 queued\r\n");
        } else if (!strcasecmp(line, "QUIT")) {
            say(fd, "221 bye\r\n");
            break;
        } else {
            say(fd, "250 ok\r\n");
        }
    }
}

static void http_session(struct srv *s, int fd)
{
    char line[4096];
    long clen = 0;
    while (read_line(fd, line, sizeof line) && line[0]) {
        srv_log(s, line);
        if (!strncasecmp(line, "Content-Length:", 15))
            clen = strtol(line + 15, NULL, 10);
    }
    char *body = gw_xcalloc(1, (size_t)clen + 1);
    size_t got = 0;
    while (got < (size_t)clen) {
        ssize_t r = read(fd, body + got, (size_t)clen - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    srv_log(s, body);
    free(body);
    char resp[128];
    snprintf(resp, sizeof resp, "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
             s->http_status);
    say(fd, resp);
}

static void *srv_main(void *p)
{
    struct srv *s = p;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->sessions++;
        pthread_mutex_unlock(&s->mu);
        if (s->http)
            http_session(s, fd);
        else
            smtp_session(s, fd);
        close(fd);
    }
    return NULL;
}

static void srv_start(struct srv *s, bool http, int status)
{
    memset(s, 0, sizeof *s);
    s->http = http;
    s->http_status = status;
    pthread_mutex_init(&s->mu, NULL);
    gw_buf_init(&s->log, 1 << 24);
    s->lfd = listen_any(&s->port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
    gw_buf_release(&s->log);
    pthread_mutex_destroy(&s->mu);
}

static char *delivery_yaml(int smtp_port, int http_port)
{
    return gw_xasprintf("models:\n"
                        "  providers:\n"
                        "    - name: openai\n"
                        "      api: openai\n"
                        "      base_url: http://127.0.0.1:9/v1\n"
                        "      models:\n"
                        "        - {name: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}\n"
                        "costManagement:\n"
                        "  alertThreshold: 0.5\n"
                        "  alertEmail: finance@company.com\n"
                        "  alertWebhook: http://127.0.0.1:%d/hooks/budget?src=gw\n"
                        "  smtp:\n"
                        "    url: smtp://127.0.0.1:%d\n"
                        "    from: gateway@company.com\n"
                        "    username: gw\n"
                        "    password: s3cret-pw\n"
                        "  budgets:\n"
                        "    dev-team: {monthlyUsdLimit: 10, alertEmail: leads@company.com}\n"
                        "    public: {monthlyUsdLimit: 1, onExceed: disable}\n",
                        http_port, smtp_port);
}

static void test_delivery(void **state)
{
    struct fx *f = *state;
    struct srv smtp, hook;
    srv_start(&smtp, false, 0);
    srv_start(&hook, true, 204);
    char *yaml = delivery_yaml(smtp.port, hook.port);
    struct cfg *c = load_cfg(f, yaml);
    free(yaml);
    meter_reload(f->k, c);
    cfg_unref(c);

    spend(f, "dev-team", 6); /* 60% of 10, threshold 50% */
    meter_flush(f->k);
    struct notify_stats st;
    meter_notify_stats(f->k, &st);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.delivered, 1);

    pthread_mutex_lock(&smtp.mu);
    const char *log = smtp.log.data;
    assert_non_null(log);
    assert_non_null(strstr(log, "MAIL FROM:<gateway@company.com>"));
    assert_non_null(strstr(log, "RCPT TO:<leads@company.com>"));
    assert_non_null(strstr(log, "Subject: [OpenClaw] Budget alert: workspace dev-team at 60% of "
                                "10.00 USD (2026-11)\n"));
    assert_non_null(strstr(log, "From: gateway@company.com\n"));
    assert_non_null(strstr(log, "To: leads@company.com\n"));
    assert_non_null(strstr(log, "Message-ID: <"));
    assert_non_null(strstr(log, "Date: Sun, 15 Nov 2026 12:00:00 +0000\n"));
    assert_non_null(strstr(log, "Spent: 6.00 USD\n"));
    assert_non_null(strstr(log, "<END OF DATA>"));
    assert_non_null(strstr(log, "AUTH PLAIN")); /* username and password configured */
    assert_null(strstr(log, "s3cret-pw"));      /* AUTH PLAIN sends them base64-encoded */
    pthread_mutex_unlock(&smtp.mu);

    pthread_mutex_lock(&hook.mu);
    log = hook.log.data;
    assert_non_null(log);
    assert_non_null(strstr(log, "POST /hooks/budget?src=gw HTTP/1.1"));
    assert_non_null(strstr(log, "Content-Type: application/json"));
    const char *body = strstr(log, "{\"");
    assert_non_null(body);
    json_t *j = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
    assert_non_null(j);
    assert_string_equal(gw_json_str(j, "type"), "budget.threshold");
    assert_string_equal(gw_json_str(j, "tenant"), "acme");
    assert_string_equal(gw_json_str(j, "workspace"), "dev-team");
    assert_string_equal(gw_json_str(j, "period"), "2026-11");
    assert_near(json_real_value(json_object_get(j, "spent_usd")), 6);
    assert_near(json_real_value(json_object_get(j, "limit_usd")), 10);
    assert_near(json_real_value(json_object_get(j, "threshold")), 0.5);
    assert_string_equal(gw_json_str(j, "on_exceed"), "alert");
    json_decref(j);
    pthread_mutex_unlock(&hook.mu);

    /* exceeded on public goes to the section's address */
    spend(f, "public", 1.5);
    meter_flush(f->k);
    meter_notify_stats(f->k, &st);
    assert_int_equal(st.handled, 2);
    assert_int_equal(st.delivered, 2);
    pthread_mutex_lock(&smtp.mu);
    assert_non_null(strstr(smtp.log.data, "RCPT TO:<finance@company.com>"));
    assert_non_null(strstr(smtp.log.data, "Subject: [OpenClaw] Budget exceeded: workspace public "
                                          "at 150% of 1.00 USD (2026-11)"));
    assert_int_equal(smtp.sessions, 2);
    pthread_mutex_unlock(&smtp.mu);
    pthread_mutex_lock(&hook.mu);
    assert_non_null(strstr(hook.log.data, "\"type\":\"budget.exceeded\""));
    assert_int_equal(hook.sessions, 2);
    pthread_mutex_unlock(&hook.mu);

    srv_stop(&smtp);
    srv_stop(&hook);
}

static void test_delivery_failure(void **state)
{
    struct fx *f = *state;
    struct srv hook;
    srv_start(&hook, true, 500);
    int closed_port;
    int fd = listen_any(&closed_port);
    close(fd); /* nothing listens there: SMTP connections are refused */
    char *yaml = delivery_yaml(closed_port, hook.port);
    struct cfg *c = load_cfg(f, yaml);
    free(yaml);
    meter_reload(f->k, c);
    cfg_unref(c);

    int64_t t0 = gw_mono_ns();
    spend(f, "dev-team", 6);
    meter_flush(f->k);
    int64_t ms = (gw_mono_ns() - t0) / 1000000;
    struct notify_stats st;
    meter_notify_stats(f->k, &st);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.failures, 1);
    assert_int_equal(st.delivered, 0);
    pthread_mutex_lock(&hook.mu);
    assert_int_equal(hook.sessions, NOTIFY_ATTEMPTS);
    pthread_mutex_unlock(&hook.mu);
    /* two channels, each with backoffs of 1 s and 2 s */
    assert_true(ms >= 2 * 3 * NOTIFY_BACKOFF_MS - 100);
    /* the claim stays: a failed alert is not repeated */
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts"), 1);
    srv_stop(&hook);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    net_init();
    assert_int_equal(net_loop_start(&net), GW_OK);
    struct net_egress *eg = NULL;
    struct net_egress_rules rules = {.allow_private = true, .proxy = ""};
    char msg[100];
    assert_int_equal(net_egress_new(&rules, &eg, msg, sizeof msg), GW_OK);
    net_loop_set_egress(net, eg);
    net_egress_unref(eg);
    assert_true(gw_time_parse("2026-11-15T12:00:00Z", &t_nov));
    assert_true(gw_time_parse("2026-12-01T00:00:00Z", &t_dec));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pricing, setup, teardown),
        cmocka_unit_test(test_months),
        cmocka_unit_test_setup_teardown(test_totals_and_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exceeded_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_only_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_durable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_record, setup, teardown),
        cmocka_unit_test(test_alert_texts),
        cmocka_unit_test_setup_teardown(test_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivery_failure, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    net_loop_stop(net);
    net_cleanup();
    return rc;
}
