/* SPDX-License-Identifier: MIT
 * test_gov_act.c — the action pipeline (gov_act), step by step, each with a case that passes
 * and one that stops it: the action's check, reach and scope, classification and an
 * administrator's override, the decision (allow, deny naming the policy, park for approval),
 * the write-ahead audit (durable before run; no run when it cannot be written; marked failed
 * when run fails) and steps of a longer call with their own events. Runs on the real store,
 * audit trail, grants and policies (test_gov.h) with a fake action table (test_gov_actions.h),
 * and asserts on the audit rows the store holds.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "gov/gov_classify.h"
#include "store/store.h"

#include "test_gov_actions.h"

static const char yaml[] = "tenant: {id: acme}\n"
                           "identity:\n"
                           "  org_units: [engineering, sales]\n"
                           "  teams:\n"
                           "    - {id: platform, org_unit: engineering}\n"
                           "namespaces:\n"
                           "  engineering:\n"
                           "    members: {org_units: [engineering]}\n"
                           "  sales:\n"
                           "    members: {org_units: [sales]}\n"
                           "agents:\n"
                           "  - {name: engineering/reviewer, channel: engineering/reviewer}\n"
                           "  - {name: engineering/writer, channel: engineering/writer}\n";

static int setup(void **state)
{
    *state = fake_open(yaml);
    return 0;
}

static int teardown(void **state)
{
    fx_close(*state);
    fake_reset();
    return 0;
}

static struct auth_principal *bob(struct fx *f)
{
    return fx_person(f, "bob", "user", "engineering", "platform", NULL, 0);
}

/* gov_act of a on args (stolen) for gc; the outcome's state. */
static enum gov_state act(struct gov_call *gc, const struct gov_action *a, json_t *args,
                          unsigned flags, struct gov_outcome *out)
{
    gw_err rc = gov_act(gc, a, args, flags, out);
    json_decref(args);
    assert_int_equal(rc,
                     out->state == GOV_EXECUTED || out->state == GOV_PENDING ? GW_OK : out->err);
    return out->state;
}

/* --- check ---------------------------------------------------------------------------------- */

static void check_refuses_invalid_arguments(void **state)
{
    struct fx *f = *state;
    struct gov_call gc = fx_call(f, bob(f));
    struct gov_outcome out;
    json_t *bad = json_pack("{s:s,s:s}", "namespace", "engineering", "agent", "reviewer");
    assert_int_equal(act(&gc, &fake_write, bad, 0, &out), GOV_INVALID);
    assert_int_equal(out.err, GW_EINVAL);
    assert_contains(out.msg, "fake actions take");
    assert_int_equal(ran.runs, 0);
    assert_false(out.decided); /* nothing was decided, nothing recorded for the action */
    gov_audit_finish(&gc, 400, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "");
    gov_outcome_release(&out);

    struct gov_call ok = fx_call(f, bob(f));
    assert_int_equal(act(&ok, &fake_write, fake_args("engineering", "reviewer", "hi"), 0, &out),
                     GOV_EXECUTED);
    assert_int_equal(ran.runs, 1);
    assert_string_equal(gw_json_str(out.result, "ran"), "engineering/reviewer");
    gov_audit_finish(&ok, 200, NULL);
    gov_outcome_release(&out);
}

/* --- reach and scope ------------------------------------------------------------------------ */

static void reach_and_scope_come_before_the_decision(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    /* no grant of the namespace */
    struct gov_call gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_write, fake_args("sales", "desk", "hi"), 0, &out), GOV_DENIED);
    assert_int_equal(out.err, GW_EFORBIDDEN);
    assert_contains(out.msg, "no grant of namespace sales");
    assert_false(out.decided);
    assert_int_equal(ran.runs, 0);
    gov_audit_finish(&gc, 403, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "");

    /* the namespace is reached, the action's permission is not held */
    static const char *narrow[] = {"channels:engineering/*", "memory:read"};
    struct auth_principal *tok = fx_person(f, "bob", "user", "engineering", "platform", narrow, 2);
    gc = fx_call(f, tok);
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "reviewer", "hi"), 0, &out),
                     GOV_DENIED);
    assert_string_equal(out.msg, "missing scope memory:write");
    assert_false(out.decided);
    assert_int_equal(ran.runs, 0);

    /* the channel scope covers one agent only */
    static const char *one[] = {"channels:engineering/writer", "memory:*"};
    gc = fx_call(f, fx_person(f, "bob", "user", "engineering", "platform", one, 2));
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "reviewer", "hi"), 0, &out),
                     GOV_DENIED);
    assert_int_equal(ran.runs, 0);
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "writer", "hi"), 0, &out),
                     GOV_EXECUTED);
    assert_int_equal(ran.runs, 1);
    assert_string_equal(ran.actor, "bob");
    gov_outcome_release(&out);
    gov_audit_finish(&gc, 200, NULL);
}

/* --- classification and override ------------------------------------------------------------ */

#define CARD "card 4111 1111 1111 1111"
#define PRIVATE_KEY "-----BEGIN EC PRIVATE KEY-----"

/* The level the decision saw: the outcome's decision, the stored policy.decision event and the
 * call's own event. */
static void decided_at(struct fx *f, struct gov_call *gc, const struct gov_outcome *out,
                       enum pol_level level)
{
    assert_true(out->decided);
    assert_int_equal(out->decision.classification, level);
    assert_int_equal(ran.level, level);
    gov_audit_finish(gc, 200, NULL);
    struct store_audit_row *r = fx_row(f, gc->request_id, "policy.decision", NULL);
    assert_string_equal(r->classification, pol_level_name(level));
    store_audit_rows_free(r, 1);
    r = fx_row(f, gc->request_id, "tool.invoked", NULL);
    assert_string_equal(r->classification, pol_level_name(level));
    store_audit_rows_free(r, 1);
}

static void detectors_classify_what_the_action_carries(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", "hello"), 0, &out),
                     GOV_EXECUTED);
    decided_at(f, &gc, &out, POL_LEVEL_INTERNAL);
    gov_outcome_release(&out);
    gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", CARD), 0, &out),
                     GOV_EXECUTED);
    decided_at(f, &gc, &out, POL_LEVEL_CONFIDENTIAL);
    gov_outcome_release(&out);
}

static void an_override_replaces_the_detectors_level(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct auth_principal *admin = fx_person(f, "root", "enterprise_admin", NULL, NULL, NULL, 0);
    struct gov_call set = fx_call(f, admin);
    json_t *item = NULL;
    char msg[512];
    assert_int_equal(gov_classification_set(&set, "engineering", "reviewer", "public",
                                            "published handbook", &item, msg, sizeof(msg)),
                     GW_OK);
    json_decref(item);
    gov_audit_finish(&set, 200, NULL);
    assert_string_equal(fx_events(f, set.request_id), "classification.overridden");

    /* lowered: a private key in the text, the administrator's level decides */
    struct gov_call gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", PRIVATE_KEY), 0,
                         &out),
                     GOV_EXECUTED);
    assert_int_equal(out.target.level, POL_LEVEL_PUBLIC);
    decided_at(f, &gc, &out, POL_LEVEL_PUBLIC);
    gov_outcome_release(&out);
    /* the override is the document's: another agent's keeps the detectors' level */
    gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "writer", PRIVATE_KEY), 0, &out),
                     GOV_EXECUTED);
    decided_at(f, &gc, &out, POL_LEVEL_RESTRICTED);
    gov_outcome_release(&out);

    /* raised */
    set = fx_call(f, admin);
    assert_int_equal(gov_classification_set(&set, "engineering", "writer", "restricted",
                                            "incident notes", &item, msg, sizeof(msg)),
                     GW_OK);
    json_decref(item);
    gov_audit_finish(&set, 200, NULL);
    gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "writer", "hello"), 0, &out),
                     GOV_EXECUTED);
    decided_at(f, &gc, &out, POL_LEVEL_RESTRICTED);
    gov_outcome_release(&out);

    /* cleared: the detectors decide again */
    set = fx_call(f, admin);
    assert_int_equal(gov_classification_clear(&set, "engineering", "reviewer", "reviewed", &item,
                                              msg, sizeof(msg)),
                     GW_OK);
    json_decref(item);
    gov_audit_finish(&set, 200, NULL);
    gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", PRIVATE_KEY), 0,
                         &out),
                     GOV_EXECUTED);
    decided_at(f, &gc, &out, POL_LEVEL_RESTRICTED);
    gov_outcome_release(&out);
}

/* --- the decision --------------------------------------------------------------------------- */

static void a_deny_names_the_deciding_policy(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_blocked, fake_args("engineering", "reviewer", "x"), 0, &out),
                     GOV_DENIED);
    assert_int_equal(out.err, GW_EFORBIDDEN);
    assert_int_equal(ran.runs, 0);
    assert_true(out.decided);
    assert_int_equal(out.decision.effect, POL_DENY);
    assert_non_null(out.decision.policy_id);
    char change[128];
    snprintf(change, sizeof(change), "`openclaw policy update %s`", out.decision.policy_id);
    assert_contains(out.msg, "denied by policy: ");
    assert_contains(out.msg, change);
    assert_contains(out.msg, "fake_blocked");
    /* the call's own event says so */
    assert_string_equal(gc.audit.type, "tool.denied");
    gov_audit_finish(&gc, 403, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision tool.denied");
    json_t *d = NULL;
    struct store_audit_row *r = fx_row(f, gc.request_id, "tool.denied", &d);
    assert_string_equal(r->outcome, "denied");
    assert_string_equal(r->resource, "engineering/reviewer");
    assert_string_equal(gw_json_str(d, "decision"), "deny");
    assert_string_equal(gw_json_str(d, "reason"), out.decision.reason);
    store_audit_rows_free(r, 1);
    json_decref(d);
    r = fx_row(f, gc.request_id, "policy.decision", &d);
    assert_string_equal(r->outcome, "denied");
    assert_string_equal(gw_json_str(json_object_get(d, "policy"), "id"), out.decision.policy_id);
    store_audit_rows_free(r, 1);
    json_decref(d);
    gov_outcome_release(&out);
}

static void an_allowed_action_runs_once(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    json_t *args = fake_args("engineering", "reviewer", "notes");
    assert_int_equal(act(&gc, &fake_write, json_incref(args), 0, &out), GOV_EXECUTED);
    assert_int_equal(out.decision.effect, POL_ALLOW);
    assert_int_equal(ran.runs, 1);
    assert_true(json_equal(ran.args, args));
    json_decref(args);
    gov_audit_finish(&gc, 200, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision tool.invoked");
    gov_outcome_release(&out);
}

static void approval_parks_the_frozen_action(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    json_t *args = fake_args("engineering", "reviewer", "deploy");
    assert_int_equal(act(&gc, &fake_gated, json_incref(args), 0, &out), GOV_PENDING);
    assert_int_equal(out.err, GW_OK);
    assert_int_equal(ran.runs, 0);
    assert_int_equal(out.decision.effect, POL_REQUIRE_APPROVAL);
    assert_non_null(out.approval_id);
    assert_contains(out.msg, "needs a human approval");
    /* the requester's team lead approves */
    assert_string_equal(gw_json_str(out.approvers, "mode"), "team_lead");
    assert_string_equal(gw_json_str(out.approvers, "team"), "platform");
    /* what is stored: the action, its arguments, the requester and the deciding policy */
    struct store_approval a;
    assert_int_equal(store_approval_get(f->st, TENANT, out.approval_id, &a), GW_OK);
    assert_string_equal(a.status, "pending");
    assert_string_equal(a.requester, "bob");
    assert_string_equal(a.request_id, gc.request_id);
    assert_true(a.expires_ms > a.created_ms);
    json_t *action = json_loads(a.action, 0, NULL), *policy = json_loads(a.policy, 0, NULL);
    assert_string_equal(gw_json_str(action, "tool"), "fake_gated");
    assert_string_equal(gw_json_str(action, "kind"), "tool_call");
    assert_true(json_equal(json_object_get(action, "args"), args));
    json_t *who = json_object_get(action, "principal");
    assert_string_equal(gw_json_str(who, "actor"), "bob");
    assert_string_equal(gw_json_str(who, "team"), "platform");
    assert_string_equal(gw_json_str(who, "role"), "user");
    assert_string_equal(json_string_value(json_array_get(json_object_get(who, "scopes"), 0)), "*");
    assert_string_equal(gw_json_str(policy, "id"), out.decision.policy_id);
    json_decref(action);
    json_decref(policy);
    store_approval_release(&a);
    /* the request's own event, durable before the call ends */
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision approval.requested");
    gov_audit_finish(&gc, 202, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision approval.requested");
    json_decref(args);
    gov_outcome_release(&out);
}

/* --- the write-ahead audit ------------------------------------------------------------------ */

static void a_mutation_is_audited_before_it_runs(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "reviewer", "x"), 0, &out),
                     GOV_EXECUTED);
    assert_true(ran.ahead);
    assert_true(gc.audit.done);
    gov_audit_finish(&gc, 200, NULL); /* written once, ahead */
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision tool.invoked");
    gov_outcome_release(&out);

    /* a read is recorded with its outcome, when the call ends */
    gc = fx_call(f, bob(f));
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", "x"), 0, &out),
                     GOV_EXECUTED);
    assert_false(ran.ahead);
    assert_false(gc.audit.done);
    gov_audit_finish(&gc, 200, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision tool.invoked");
    gov_outcome_release(&out);
}

static void no_run_without_the_audit(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    fx_audit_broken(f, true);
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "reviewer", "x"), 0, &out),
                     GOV_FAILED);
    assert_int_equal(out.err, GW_EAUDIT);
    assert_contains(out.msg, "the audit trail cannot be written");
    assert_int_equal(ran.runs, 0);
    assert_string_equal(gc.audit.type, "audit.unavailable");
    fx_audit_broken(f, false);
    gov_audit_finish(&gc, 503, NULL);
    assert_string_equal(fx_events(f, gc.request_id), "policy.decision audit.unavailable");
    gov_outcome_release(&out);
}

static void a_failed_run_marks_its_event(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    ran.fail = GW_ESTORE;
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "reviewer", "x"), 0, &out),
                     GOV_FAILED);
    assert_int_equal(out.err, GW_ESTORE);
    assert_string_equal(out.msg, "the fake failed");
    assert_int_equal(ran.runs, 1);
    assert_true(ran.ahead);
    gov_audit_finish(&gc, 500, NULL);
    assert_string_equal(fx_events(f, gc.request_id),
                        "policy.decision tool.invoked tool.invoked.failed");
    struct store_audit_row *r = fx_row(f, gc.request_id, "tool.invoked.failed", NULL);
    assert_string_equal(r->outcome, "error");
    assert_int_equal(r->status, 500);
    store_audit_rows_free(r, 1);
    gov_outcome_release(&out);
}

/* --- steps of a longer call ------------------------------------------------------------------ */

static void steps_add_their_own_events(void **state)
{
    struct fx *f = *state;
    struct gov_outcome out;
    struct gov_call gc = fx_call(f, bob(f));
    gc.audit.type = "agent.turn"; /* the door's own event */
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", "a"), GOV_ACT_STEP,
                         &out),
                     GOV_EXECUTED);
    assert_true(ran.ahead); /* a step's event is durable before it runs, even a read's */
    gov_outcome_release(&out);
    assert_int_equal(act(&gc, &fake_write, fake_args("engineering", "writer", CARD), GOV_ACT_STEP,
                         &out),
                     GOV_EXECUTED);
    gov_outcome_release(&out);
    /* a denied step leaves the call's event alone */
    assert_int_equal(act(&gc, &fake_blocked, fake_args("engineering", "writer", "b"), GOV_ACT_STEP,
                         &out),
                     GOV_DENIED);
    gov_outcome_release(&out);
    /* a parked step is an extra event too */
    assert_int_equal(act(&gc, &fake_gated, fake_args("engineering", "writer", CARD), GOV_ACT_STEP,
                         &out),
                     GOV_PENDING);
    gov_outcome_release(&out);
    assert_string_equal(gc.audit.type, "agent.turn");
    assert_null(gc.audit.resource);
    assert_null(gc.audit.classification);
    assert_false(gc.audit.done);
    gov_audit_finish(&gc, 200, NULL);
    assert_string_equal(fx_events(f, gc.request_id),
                        "policy.decision tool.invoked policy.decision tool.invoked "
                        "policy.decision policy.decision approval.requested agent.turn");
    size_t n = 0;
    struct store_audit_row *rows = fx_rows(f, gc.request_id, &n);
    assert_int_equal(n, 8);
    assert_string_equal(rows[1].resource, "engineering/reviewer");
    assert_string_equal(rows[3].resource, "engineering/writer");
    /* each step's event carries the level of its own data, not the call's */
    assert_string_equal(rows[1].classification, "internal");
    assert_string_equal(rows[3].classification, "confidential");
    assert_string_equal(rows[6].classification, "confidential");
    assert_string_equal(rows[7].classification, "internal");
    store_audit_rows_free(rows, n);
    assert_int_equal(ran.runs, 2);

    /* a step whose event cannot be written does not run */
    gc = fx_call(f, bob(f));
    fx_audit_broken(f, true);
    assert_int_equal(act(&gc, &fake_read, fake_args("engineering", "reviewer", "a"), GOV_ACT_STEP,
                         &out),
                     GOV_FAILED);
    fx_audit_broken(f, false);
    assert_int_equal(out.err, GW_EAUDIT);
    assert_int_equal(ran.runs, 2);
    gov_outcome_release(&out);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(check_refuses_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(reach_and_scope_come_before_the_decision, setup, teardown),
        cmocka_unit_test_setup_teardown(detectors_classify_what_the_action_carries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_override_replaces_the_detectors_level, setup, teardown),
        cmocka_unit_test_setup_teardown(a_deny_names_the_deciding_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(an_allowed_action_runs_once, setup, teardown),
        cmocka_unit_test_setup_teardown(approval_parks_the_frozen_action, setup, teardown),
        cmocka_unit_test_setup_teardown(a_mutation_is_audited_before_it_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(no_run_without_the_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_run_marks_its_event, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_add_their_own_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
