/* SPDX-License-Identifier: MIT
 * test_gov_approval.c — approvals re-entering the pipeline: an approved action runs exactly
 * once, as its requester (the frozen principal), with the frozen arguments, past the decision
 * (nothing is decided twice), and checked again with the requester's grants of today: a grant
 * withdrawn while the item waited is not used. Only an approver decides; edited arguments are
 * checked like the original. Real store, audit trail, grants and policies (test_gov.h), a fake
 * action table (test_gov_actions.h); assertions on the stored item and the audit rows.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "gov/gov_approval.h"
#include "store/store.h"

#include "test_gov_actions.h"

/* "labs" has no configured member: bob reaches it through a run-time grant only. */
static const char yaml[] = "tenant: {id: acme}\n"
                           "identity:\n"
                           "  org_units: [engineering]\n"
                           "  teams:\n"
                           "    - {id: platform, org_unit: engineering}\n"
                           "namespaces:\n"
                           "  engineering:\n"
                           "    members: {org_units: [engineering]}\n"
                           "  labs: {}\n";

struct t {
    struct fx *f;
    struct auth_principal *admin, *bob, *lead, *carol;
};

static void grant(struct t *t, bool add)
{
    char msg[256];
    gw_err rc = add ? auth_grant_add(t->f->grants, t->admin, "labs", CFG_MEMBER_USER, "bob", msg,
                                     sizeof(msg))
                    : auth_grant_remove(t->f->grants, t->admin, "labs", CFG_MEMBER_USER, "bob", msg,
                                        sizeof(msg));
    if (rc != GW_OK)
        fail_msg("grant: %s", msg);
}

static int setup(void **state)
{
    struct t *t = gw_xcalloc(1, sizeof(*t));
    struct fx *f = t->f = fake_open(yaml);
    t->admin = fx_person(f, "root", "enterprise_admin", NULL, NULL, NULL, 0);
    grant(t, true);
    t->bob = fx_person(f, "bob", "user", "engineering", "platform", NULL, 0);
    t->lead = fx_person(f, "lena", "team_lead", "engineering", "platform", NULL, 0);
    t->carol = fx_person(f, "carol", "user", "engineering", "platform", NULL, 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    fx_close(t->f);
    free(t);
    fake_reset();
    return 0;
}

/* bob asks for fake_gated on labs/bench: parked; its id (in the pool). */
static const char *park(struct t *t, const char *text)
{
    struct gov_call gc = fx_call(t->f, t->bob);
    struct gov_outcome out;
    json_t *args = fake_args("labs", "bench", text);
    assert_int_equal(gov_act(&gc, &fake_gated, args, 0, &out), GW_OK);
    json_decref(args);
    assert_int_equal(out.state, GOV_PENDING);
    gov_audit_finish(&gc, 202, NULL);
    const char *id = out.approval_id;
    gov_outcome_release(&out);
    assert_int_equal(ran.runs, 0);
    return id;
}

static const char *status_of(struct t *t, const char *id)
{
    struct store_approval a;
    assert_int_equal(store_approval_get(t->f->st, TENANT, id, &a), GW_OK);
    const char *s = gw_pool_strdup(t->f->pool, a.status);
    store_approval_release(&a);
    return s;
}

static void an_approval_runs_it_once_as_its_requester(void **state)
{
    struct t *t = *state;
    struct fx *f = t->f;
    const char *id = park(t, "rotate the keys");
    /* lena approves: the frozen action runs as bob, whose grant lena does not have */
    assert_false(auth_reaches(t->lead, "labs"));
    struct gov_call gc = fx_call(f, t->lead);
    json_t *result = NULL;
    char msg[512] = "";
    assert_int_equal(gov_approval_approve(&gc, id, NULL, "fine", &result, msg, sizeof(msg)), GW_OK);
    gov_audit_finish(&gc, 200, NULL);
    assert_int_equal(ran.runs, 1);
    assert_string_equal(ran.actor, "bob");
    assert_string_equal(gw_json_str(ran.args, "text"), "rotate the keys");
    assert_string_equal(gw_json_str(result, "as"), "bob");
    json_decref(result);
    assert_string_equal(status_of(t, id), "executed");
    /* audited by the approval, as lena, then the execution as bob; nothing decided again */
    assert_string_equal(fx_events(f, gc.request_id), "approval.approved approval.executed");
    struct store_audit_row *r = fx_row(f, gc.request_id, "approval.approved", NULL);
    assert_string_equal(r->actor, "lena");
    store_audit_rows_free(r, 1);
    r = fx_row(f, gc.request_id, "approval.executed", NULL);
    assert_string_equal(r->actor, "bob");
    assert_string_equal(r->resource, id);
    store_audit_rows_free(r, 1);

    /* asking again returns the stored result; it does not run twice */
    gc = fx_call(f, t->lead);
    assert_int_equal(gov_approval_approve(&gc, id, NULL, NULL, &result, msg, sizeof(msg)), GW_OK);
    gov_audit_finish(&gc, 200, NULL);
    assert_string_equal(gw_json_str(result, "as"), "bob");
    json_decref(result);
    assert_int_equal(ran.runs, 1);
    assert_string_equal(fx_events(f, gc.request_id), "approval.repeated");
}

static void a_withdrawn_grant_is_not_used(void **state)
{
    struct t *t = *state;
    struct fx *f = t->f;
    const char *id = park(t, "x");
    grant(t, false); /* bob loses labs while the item waits */
    struct gov_call gc = fx_call(f, t->lead);
    json_t *result = NULL;
    char msg[512] = "";
    assert_int_equal(gov_approval_approve(&gc, id, NULL, NULL, &result, msg, sizeof(msg)),
                     GW_EFORBIDDEN);
    assert_null(result);
    assert_contains(msg, "approved, but the action failed: ");
    assert_contains(msg, "no grant of namespace labs");
    assert_int_equal(ran.runs, 0);
    assert_string_equal(status_of(t, id), "failed");
    gov_audit_finish(&gc, 403, NULL);
    assert_string_equal(fx_events(f, gc.request_id),
                        "approval.approved approval.execution_failed approval.approved.failed");
}

static void only_an_approver_decides(void **state)
{
    struct t *t = *state;
    struct fx *f = t->f;
    const char *id = park(t, "x");
    json_t *result = NULL;
    char msg[512] = "";
    /* neither the requester itself nor a colleague without the role */
    struct auth_principal *who[] = {t->bob, t->carol};
    for (size_t i = 0; i < GW_ARRAY_LEN(who); i++) {
        struct gov_call gc = fx_call(f, who[i]);
        gw_err rc = gov_approval_approve(&gc, id, NULL, NULL, &result, msg, sizeof(msg));
        gov_audit_finish(&gc, 403, NULL);
        if (who[i] == t->carol) {
            assert_int_equal(rc, GW_ENOTFOUND); /* not hers to see */
        } else {
            assert_int_equal(rc, GW_EFORBIDDEN);
            assert_contains(msg, "you are not an approver");
        }
        assert_null(result);
    }
    assert_int_equal(ran.runs, 0);
    assert_string_equal(status_of(t, id), "pending");
    /* edited arguments are checked like the original ones */
    struct gov_call gc = fx_call(f, t->lead);
    json_t *bad = json_pack("{s:s}", "namespace", "labs");
    assert_int_equal(gov_approval_approve(&gc, id, bad, NULL, &result, msg, sizeof(msg)),
                     GW_EINVAL);
    json_decref(bad);
    assert_contains(msg, "edited arguments: fake actions take");
    assert_string_equal(status_of(t, id), "pending");
    assert_int_equal(ran.runs, 0);
    /* edited, valid: those run */
    gc = fx_call(f, t->lead);
    json_t *edited = fake_args("labs", "bench", "edited");
    assert_int_equal(gov_approval_approve(&gc, id, edited, NULL, &result, msg, sizeof(msg)), GW_OK);
    json_decref(edited);
    json_decref(result);
    gov_audit_finish(&gc, 200, NULL);
    assert_string_equal(gw_json_str(ran.args, "text"), "edited");
}

static void an_approved_reentry_is_not_decided_again(void **state)
{
    struct t *t = *state;
    struct fx *f = t->f;
    /* what an approval does: re-enter as a step, past the decision (which would park it) */
    struct gov_call gc = fx_call(f, t->bob);
    struct gov_outcome out;
    json_t *args = fake_args("labs", "bench", "x");
    assert_int_equal(gov_act(&gc, &fake_gated, args, GOV_ACT_STEP | GOV_ACT_APPROVED, &out), GW_OK);
    assert_int_equal(out.state, GOV_EXECUTED);
    assert_false(out.decided);
    assert_int_equal(ran.runs, 1);
    gov_outcome_release(&out);
    assert_string_equal(fx_events(f, gc.request_id), "");
    /* but still as the requester's reach of today */
    grant(t, false);
    gc = fx_call(f, fx_person(f, "bob", "user", "engineering", "platform", NULL, 0));
    assert_int_equal(gov_act(&gc, &fake_gated, args, GOV_ACT_STEP | GOV_ACT_APPROVED, &out),
                     GW_EFORBIDDEN);
    assert_int_equal(out.state, GOV_DENIED);
    assert_int_equal(ran.runs, 1);
    gov_outcome_release(&out);
    json_decref(args);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(an_approval_runs_it_once_as_its_requester, setup, teardown),
        cmocka_unit_test_setup_teardown(a_withdrawn_grant_is_not_used, setup, teardown),
        cmocka_unit_test_setup_teardown(only_an_approver_decides, setup, teardown),
        cmocka_unit_test_setup_teardown(an_approved_reentry_is_not_decided_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
