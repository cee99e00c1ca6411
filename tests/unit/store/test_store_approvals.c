/* SPDX-License-Identifier: MIT
 * test_store_approvals.c — unit tests of the store's approval queue (SQLite backend).
 *
 * Covers: list order and filters, compare-and-set transitions raced by two threads, due scans
 * and tenancy.
 */
#include "base/prelude.h"
#include "test_store.h"

#include <pthread.h>

/* --- approval queue ---------------------------------------------------------------------- */

static struct store_approval apr(const char *tenant, const char *id, const char *status,
                                 int64_t created_ms, int64_t expires_ms)
{
    struct store_approval a = {
        .id = (char *)id,
        .tenant = (char *)tenant,
        .requester = (char *)"alice",
        .approvers = (char *)"{\"roles\":[\"admin\"],\"team_lead_of\":null,\"users\":[]}",
        .action = (char *)"{\"kind\":\"tool_call\",\"tool\":\"deploy\"}",
        .policy = (char *)"{\"id\":\"pol1\",\"version\":3}",
        .status = (char *)status,
        .request_id = (char *)"req-1",
        .created_ms = created_ms,
        .expires_ms = expires_ms,
    };
    return a;
}

static void test_approvals_insert_get_list(void **state)
{
    struct fx *f = *state;
    struct store_approval a = apr("acme", "apr_1", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &a), GW_ECONFLICT);
    struct store_approval bad = a;
    bad.id = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad = a;
    bad.id = (char *)"apr_bad";
    bad.tenant = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.tenant = (char *)"acme";
    bad.requester = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.requester = (char *)"alice";
    bad.action = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    bad.action = (char *)"{}";
    bad.status = NULL;
    assert_int_equal(store_approval_insert(f->st, &bad), GW_EINVAL);
    assert_int_equal(store_approval_insert(f->st, NULL), GW_EINVAL);

    struct store_approval g;
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.id, "apr_1");
    assert_string_equal(g.tenant, "acme");
    assert_string_equal(g.requester, "alice");
    assert_string_equal(g.approvers, a.approvers);
    assert_string_equal(g.action, a.action);
    assert_string_equal(g.policy, a.policy);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    assert_null(g.comment);
    assert_null(g.result);
    assert_string_equal(g.request_id, "req-1");
    assert_int_equal(g.created_ms, 100);
    assert_int_equal(g.expires_ms, 1000);
    assert_int_equal(g.decided_ms, 0);
    assert_int_equal(g.executed_ms, 0);
    store_approval_release(&g);
    assert_null(g.id);

    assert_int_equal(store_approval_get(f->st, "acme", "apr_nope", &g), GW_ENOTFOUND);
    assert_null(g.id);
    assert_int_equal(store_approval_get(f->st, "globex", "apr_1", &g), GW_ENOTFOUND);
    assert_int_equal(store_approval_get(f->st, NULL, "apr_1", &g), GW_EINVAL);

    /* more rows: created 300, 200, 200 (tie: the later insert is newer), other tenant */
    struct store_approval b = apr("acme", "apr_2", "rejected", 300, 3000);
    struct store_approval c = apr("acme", "apr_3", "pending", 200, 2000);
    struct store_approval d = apr("acme", "apr_4", "pending", 200, 2000);
    struct store_approval e = apr("globex", "apr_5", "pending", 999, 9999);
    assert_int_equal(store_approval_insert(f->st, &b), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &c), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &d), GW_OK);
    assert_int_equal(store_approval_insert(f->st, &e), GW_OK);
    /* ids are global: the same id in another tenant conflicts */
    struct store_approval dup = apr("globex", "apr_1", "pending", 1, 2);
    assert_int_equal(store_approval_insert(f->st, &dup), GW_ECONFLICT);

    struct store_approval *l = NULL;
    size_t n = 0;
    assert_int_equal(store_approval_list(f->st, "acme", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_2");
    assert_string_equal(l[1].id, "apr_4");
    assert_string_equal(l[2].id, "apr_3");
    assert_string_equal(l[3].id, "apr_1");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l[i].tenant, "acme");
    assert_string_equal(l[0].status, "rejected");
    assert_string_equal(l[0].action, b.action);
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", "pending", 100, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].id, "apr_4");
    assert_string_equal(l[1].id, "apr_3");
    assert_string_equal(l[2].id, "apr_1");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", "pending", 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "apr_4");
    assert_string_equal(l[1].id, "apr_3");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", NULL, 1, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "apr_2");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "acme", NULL, 0, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_null(l);
    assert_int_equal(store_approval_list(f->st, "acme", "executed", 10, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_list(f->st, "globex", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "apr_5");
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_list(f->st, "initech", NULL, 100, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_list(f->st, NULL, NULL, 100, &l, &n), GW_EINVAL);

    /* durable across a reopen */
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_2", &g), GW_OK);
    assert_string_equal(g.status, "rejected");
    store_approval_release(&g);
}

static void test_approval_transition(void **state)
{
    struct fx *f = *state;
    struct store_approval a = apr("acme", "apr_1", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    struct store_approval other = apr("globex", "apr_g", "pending", 100, 1000);
    assert_int_equal(store_approval_insert(f->st, &other), GW_OK);

    struct store_approval_change inval = {.from = "pending"};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &inval), GW_EINVAL);
    inval = (struct store_approval_change){.to = "executing"};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &inval), GW_EINVAL);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", NULL), GW_EINVAL);
    assert_int_equal(store_approval_transition(f->st, NULL, "apr_1", &inval), GW_EINVAL);

    /* absent, and present in another tenant only: not found, nothing changes */
    struct store_approval_change ch = {.from = "pending",
                                       .to = "executing",
                                       .decided_by = "bob",
                                       .decided_ms = 500};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_nope", &ch), GW_ENOTFOUND);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_g", &ch), GW_ENOTFOUND);
    assert_int_equal(store_approval_transition(f->st, "globex", "apr_1", &ch), GW_ENOTFOUND);
    struct store_approval g;
    assert_int_equal(store_approval_get(f->st, "globex", "apr_g", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    store_approval_release(&g);

    /* wrong `from`: conflict, nothing changes */
    struct store_approval_change wrong = {.from = "executing",
                                          .to = "executed",
                                          .result = "{\"x\":1}",
                                          .executed_ms = 9};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &wrong), GW_ECONFLICT);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.result);
    assert_int_equal(g.executed_ms, 0);
    store_approval_release(&g);

    /* pending -> executing with an edited action, a comment and the decider */
    ch.comment = "ok, with a smaller batch";
    ch.action = "{\"kind\":\"tool_call\",\"tool\":\"deploy\",\"args\":{\"batch\":1}}";
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &ch), GW_OK);
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &ch), GW_ECONFLICT);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "executing");
    assert_string_equal(g.decided_by, "bob");
    assert_string_equal(g.comment, "ok, with a smaller batch");
    assert_string_equal(g.action, ch.action);
    assert_null(g.result);
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 0);
    /* untouched fields */
    assert_string_equal(g.requester, "alice");
    assert_string_equal(g.approvers, a.approvers);
    assert_string_equal(g.policy, a.policy);
    assert_string_equal(g.request_id, "req-1");
    assert_int_equal(g.created_ms, 100);
    assert_int_equal(g.expires_ms, 1000);
    store_approval_release(&g);

    /* executing -> executed: NULL strings and zero times keep the stored values */
    struct store_approval_change done = {.from = "executing",
                                         .to = "executed",
                                         .result = "{\"ok\":true}",
                                         .executed_ms = 700};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &done), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.status, "executed");
    assert_string_equal(g.decided_by, "bob");
    assert_string_equal(g.comment, "ok, with a smaller batch");
    assert_string_equal(g.action, ch.action);
    assert_string_equal(g.result, "{\"ok\":true}");
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 700);
    store_approval_release(&g);

    /* negative times are "not given" too; a self-transition with replacements is allowed */
    struct store_approval_change fix = {.from = "executed",
                                        .to = "executed",
                                        .comment = "note",
                                        .decided_ms = -1,
                                        .executed_ms = 0};
    assert_int_equal(store_approval_transition(f->st, "acme", "apr_1", &fix), GW_OK);
    assert_int_equal(store_approval_get(f->st, "acme", "apr_1", &g), GW_OK);
    assert_string_equal(g.comment, "note");
    assert_int_equal(g.decided_ms, 500);
    assert_int_equal(g.executed_ms, 700);
    store_approval_release(&g);

    /* the other tenant's row was never touched */
    assert_int_equal(store_approval_get(f->st, "globex", "apr_g", &g), GW_OK);
    assert_string_equal(g.status, "pending");
    assert_null(g.decided_by);
    assert_null(g.comment);
    assert_string_equal(g.action, other.action);
    assert_int_equal(g.decided_ms, 0);
    store_approval_release(&g);
}

struct racer {
    struct store *st;
    pthread_barrier_t *go;
    const char *id;
    const char *name;
    gw_err rc;
};

static void *racer_main(void *p)
{
    struct racer *r = p;
    struct store_approval_change ch = {.from = "pending",
                                       .to = "executing",
                                       .decided_by = r->name,
                                       .decided_ms = 1};
    pthread_barrier_wait(r->go);
    r->rc = store_approval_transition(r->st, "acme", r->id, &ch);
    return NULL;
}

static void test_approval_transition_race(void **state)
{
    struct fx *f = *state;
    pthread_barrier_t go;
    assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
    /* Odd rounds race through a second handle (its own connection): the CAS must hold in SQL,
     * not only under one handle's mutex. */
    struct store *st2 = NULL;
    assert_int_equal(test_open(f, &st2), GW_OK);
    int wins[2] = {0, 0};
    for (int i = 0; i < 100; i++) {
        char id[32];
        snprintf(id, sizeof(id), "apr_race_%d", i);
        struct store_approval a = apr("acme", id, "pending", i + 1, 1000);
        assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
        struct racer r[2] = {
            {.st = f->st, .go = &go, .id = id, .name = "approver-a", .rc = GW_EINTERNAL},
            {.st = i % 2 ? st2 : f->st,
             .go = &go,
             .id = id,
             .name = "approver-b",
             .rc = GW_EINTERNAL},
        };
        pthread_t th[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_create(&th[k], NULL, racer_main, &r[k]), 0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_join(th[k], NULL), 0);
        int winner = -1;
        for (int k = 0; k < 2; k++) {
            if (r[k].rc == GW_OK) {
                assert_int_equal(winner, -1); /* never two winners */
                winner = k;
            } else {
                assert_int_equal(r[k].rc, GW_ECONFLICT);
            }
        }
        assert_true(winner >= 0); /* and always one */
        wins[winner]++;
        struct store_approval g;
        assert_int_equal(store_approval_get(f->st, "acme", id, &g), GW_OK);
        assert_string_equal(g.status, "executing");
        assert_string_equal(g.decided_by, r[winner].name);
        store_approval_release(&g);
    }
    assert_int_equal(wins[0] + wins[1], 100);
    store_close(st2);
    pthread_barrier_destroy(&go);
}

static void test_approval_due(void **state)
{
    struct fx *f = *state;
    struct {
        const char *tenant, *id, *status;
        int64_t expires_ms;
    } rows[] = {
        {"acme", "apr_a", "pending", 300},  {"globex", "apr_b", "pending", 100},
        {"acme", "apr_c", "pending", 500},  {"acme", "apr_d", "rejected", 50},
        {"acme", "apr_e", "executing", 60}, {"globex", "apr_f", "pending", 200},
        {"acme", "apr_g", "pending", 501},  {"globex", "apr_h", "expired", 10},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        struct store_approval a = apr(rows[i].tenant, rows[i].id, rows[i].status, (int64_t)i + 1,
                                      rows[i].expires_ms);
        assert_int_equal(store_approval_insert(f->st, &a), GW_OK);
    }
    struct store_approval *l = NULL;
    size_t n = 0;
    assert_int_equal(store_approval_due(f->st, 500, 100, &l, &n), GW_OK); /* inclusive */
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_b");
    assert_string_equal(l[0].tenant, "globex");
    assert_string_equal(l[1].id, "apr_f");
    assert_string_equal(l[2].id, "apr_a");
    assert_string_equal(l[2].tenant, "acme");
    assert_string_equal(l[3].id, "apr_c");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l[i].status, "pending");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_due(f->st, 500, 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "apr_b");
    assert_string_equal(l[1].id, "apr_f");
    store_approval_list_free(l, n);

    assert_int_equal(store_approval_due(f->st, 500, 0, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_approval_due(f->st, 99, 100, &l, &n), GW_OK);
    assert_int_equal(n, 0);
    store_approval_list_free(l, n);
    assert_int_equal(store_approval_due(f->st, 500, 10, NULL, &n), GW_EINVAL);

    /* once expired (CAS), no longer due */
    struct store_approval_change ch = {.from = "pending", .to = "expired"};
    assert_int_equal(store_approval_transition(f->st, "globex", "apr_b", &ch), GW_OK);
    assert_int_equal(store_approval_due(f->st, 1000, 100, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, "apr_f");
    assert_string_equal(l[3].id, "apr_g");
    store_approval_list_free(l, n);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_approvals_insert_get_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_transition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_transition_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_due, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
