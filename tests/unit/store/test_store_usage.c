/* SPDX-License-Identifier: MIT
 * test_store_usage.c — unit tests of the store's usage metering (SQLite backend).
 *
 * Covers: usage rows (batch atomicity, month sums per tenant / all tenants / one workspace) and
 * budget alert claims (insert-if-absent, kept across a reopen).
 */
#include "base/prelude.h"
#include "test_store.h"

/* --- usage metering and budget alerts ------------------------------------------------------- */

static struct store_usage_row usage(const char *tenant, const char *user, const char *ws,
                                    const char *provider, const char *model, int64_t pt, int64_t ct,
                                    double usd, const char *month, int64_t at)
{
    struct store_usage_row r = {.tenant = tenant,
                                .user_id = user,
                                .workspace = ws,
                                .agent = NULL,
                                .provider = provider,
                                .model = model,
                                .prompt_tokens = pt,
                                .completion_tokens = ct,
                                .cost_usd = usd,
                                .month = month,
                                .at_ms = at,
                                .request_id = "req-1"};
    return r;
}

static void test_usage_append_and_month(void **state)
{
    struct fx *f = *state;
    struct store_usage_row rows[] = {
        usage("acme", "alice", "dev", "openai", "gpt-4o", 100, 10, 0.5, "2026-11", 1),
        usage("acme", "alice", "dev", "openai", "gpt-4o", 200, 20, 0.25, "2026-11", 2),
        usage("acme", "bob", "dev", "openai", "gpt-4o", 1, 2, 1.0, "2026-11", 3),
        usage("acme", NULL, "public", "anthropic", "claude", 5, 6, 2.0, "2026-11", 4),
        usage("acme", "alice", "dev", "openai", "gpt-4o", 7, 7, 9.0, "2026-10", 5),
        usage("globex", "carol", "dev", "openai", "gpt-4o", 3, 4, 4.0, "2026-11", 6),
    };
    rows[1].agent = "dev/helper";
    rows[1].request_id = NULL;
    assert_int_equal(store_usage_append(f->st, rows, GW_ARRAY_LEN(rows)), GW_OK);
    assert_int_equal(store_usage_append(f->st, rows, 0), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 6);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records WHERE agent IS NOT NULL"),
                     1);

    struct store_usage_sum *l = NULL;
    size_t n = 0;
    assert_int_equal(store_usage_month(f->st, "acme", "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 3); /* ordered by workspace, user (NULL first), provider, model */
    assert_string_equal(l[0].workspace, "dev");
    assert_string_equal(l[0].user_id, "alice");
    assert_int_equal(l[0].requests, 2);
    assert_int_equal(l[0].prompt_tokens, 300);
    assert_int_equal(l[0].completion_tokens, 30);
    assert_true(l[0].cost_usd > 0.7499 && l[0].cost_usd < 0.7501);
    assert_string_equal(l[0].tenant, "acme");
    assert_string_equal(l[0].provider, "openai");
    assert_string_equal(l[0].model, "gpt-4o");
    assert_string_equal(l[1].user_id, "bob");
    assert_string_equal(l[2].workspace, "public");
    assert_null(l[2].user_id);
    assert_string_equal(l[2].provider, "anthropic");
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", "2026-11", "public", &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].workspace, "public");
    store_usage_sums_free(l, n);

    /* every tenant */
    assert_int_equal(store_usage_month(f->st, NULL, "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[3].tenant, "globex");
    assert_string_equal(l[3].user_id, "carol");
    store_usage_sums_free(l, n);
    assert_int_equal(store_usage_month(f->st, NULL, "2026-11", "dev", &l, &n), GW_OK);
    assert_int_equal(n, 3);
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", "2026-10", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_true(l[0].cost_usd == 9.0);
    store_usage_sums_free(l, n);
    assert_int_equal(store_usage_month(f->st, "nobody", "2026-11", NULL, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_usage_sums_free(l, n);

    assert_int_equal(store_usage_month(f->st, "acme", NULL, NULL, &l, &n), GW_EINVAL);
    struct store_usage_row bad = rows[0];
    bad.month = NULL;
    assert_int_equal(store_usage_append(f->st, &bad, 1), GW_EINVAL);
    assert_int_equal(store_usage_append(f->st, NULL, 1), GW_EINVAL);
}

static void test_usage_append_atomic(void **state)
{
    struct fx *f = *state;
    struct store_usage_row ok = usage("acme", "alice", "dev", "openai", "m", 1, 1, 0.1, "2026-11",
                                      1);
    assert_int_equal(store_usage_append(f->st, &ok, 1), GW_OK);
    /* a trigger makes the third row of a batch fail: nothing of the batch stays */
    if (test_pg())
        raw_exec(f->db, "CREATE FUNCTION no_bad() RETURNS trigger LANGUAGE plpgsql AS $$ "
                        "BEGIN IF NEW.model = 'bad' THEN RAISE EXCEPTION 'bad'; END IF; "
                        "RETURN NEW; END $$; CREATE TRIGGER no_bad BEFORE INSERT ON "
                        "usage_records FOR EACH ROW EXECUTE FUNCTION no_bad();");
    else
        raw_exec(f->db, "CREATE TRIGGER no_bad BEFORE INSERT ON usage_records "
                        "WHEN NEW.model = 'bad' BEGIN SELECT RAISE(ABORT, 'bad'); END;");
    struct store_usage_row batch[] = {ok, ok, ok};
    batch[2].model = "bad";
    assert_int_equal(store_usage_append(f->st, batch, 3), GW_ESTORE);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 1);
    /* the connection is usable again (audit appends share it) */
    assert_int_equal(store_usage_append(f->st, batch, 2), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM usage_records"), 3);
}

static void test_budget_alerts(void **state)
{
    struct fx *f = *state;
    bool fresh = false;
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "threshold", 10,
                                               &fresh),
                     GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "threshold", 20,
                                               &fresh),
                     GW_OK);
    assert_false(fresh);
    assert_int_equal(raw_int(f->db, "SELECT sent_at_ms FROM budget_alerts"), 10);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "exceeded", 30,
                                               &fresh),
                     GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-12", "threshold", 40,
                                               &fresh),
                     GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "globex", "dev", "2026-11", "threshold", 50,
                                               &fresh),
                     GW_OK);
    assert_true(fresh);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "ops", "2026-11", "threshold", 60,
                                               &fresh),
                     GW_OK);
    assert_true(fresh);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM budget_alerts"), 5);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "other", 1, &fresh),
                     GW_EINVAL);
    assert_int_equal(store_budget_alert_insert(f->st, NULL, "dev", "2026-11", "threshold", 1,
                                               &fresh),
                     GW_EINVAL);
    /* remembered across a reopen */
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(store_budget_alert_insert(f->st, "acme", "dev", "2026-11", "exceeded", 70,
                                               &fresh),
                     GW_OK);
    assert_false(fresh);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage_append_and_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_append_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_alerts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
