/* SPDX-License-Identifier: MIT
 * test_policy.c — policy engine: documents, merge directions of every field, write-time
 * rejection of loosening, org-path inheritance, deny > approval > allow, default deny, fail
 * closed, explanations, model routing, history and hot reload under concurrent evaluation.
 * (Classification detectors: test_policy_classify.c.)
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy.h"
#include "policy/policy_int.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define T "acme"

/* --- helpers -------------------------------------------------------------------------------- */

static int rec_seq;

static struct pol_record *rec(enum pol_scope scope, const char *scope_id, enum pol_domain d,
                              const char *text)
{
    struct pol_issues errs = {0};
    struct pol_doc *doc = pol_doc_parse(d, text, strlen(text), POL_FMT_AUTO, &errs);
    if (!doc) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "parse error: %s\n", errs.v[i].msg);
        fail_msg("document does not parse: %s", text);
    }
    pol_issues_release(&errs);
    struct pol_record *r = gw_xcalloc(1, sizeof(*r));
    r->id = gw_xasprintf("p%d", ++rec_seq);
    r->tenant = gw_xstrdup(T);
    r->scope = scope;
    r->scope_id = scope_id ? gw_xstrdup(scope_id) : NULL;
    r->domain = d;
    r->version = 1;
    r->content = doc;
    r->author = gw_xstrdup("alice");
    r->created_ms = 1700000000000;
    r->change_reason = gw_xstrdup("test");
    r->status = POL_STATUS_ACTIVE;
    return r;
}

struct world {
    struct pol_record *r[64];
    size_t n;
    struct pol_snapshot *s;
};

static struct pol_record *add(struct world *w, enum pol_scope scope, const char *scope_id,
                              enum pol_domain d, const char *text)
{
    assert_true(w->n < 64);
    return w->r[w->n++] = rec(scope, scope_id, d, text);
}

static struct pol_snapshot *build(struct world *w)
{
    struct pol_issues errs = {0};
    pol_snapshot_unref(w->s);
    assert_int_equal(pol_snapshot_build((const struct pol_record *const *)w->r, w->n, NULL, &w->s,
                                        &errs),
                     GW_OK);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "build: %s\n", errs.v[i].msg);
    assert_int_equal(errs.n, 0);
    pol_issues_release(&errs);
    return w->s;
}

static void world_free(struct world *w)
{
    for (size_t i = 0; i < w->n; i++)
        pol_record_free(w->r[i]);
    pol_snapshot_unref(w->s);
    memset(w, 0, sizeof(*w));
}

struct who {
    const char *org, *team, *user;
};

static enum pol_effect decide_ctx(struct pol_snapshot *s, struct who id, enum pol_action a,
                                  const char *res, int level, struct pol_decision *out,
                                  struct pol_trace *trace, size_t n, const struct pol_kv *ctx)
{
    struct pol_request rq = {.tenant = T,
                             .user = id.user,
                             .role = "user",
                             .org_unit = id.org,
                             .team = id.team,
                             .action = a,
                             .resource = res,
                             .classification = level,
                             .ctx = ctx,
                             .n_ctx = n};
    return pol_decide(s, &rq, NULL, out, trace);
}

static enum pol_effect decide(struct pol_snapshot *s, struct who id, enum pol_action a,
                              const char *res, int level, struct pol_decision *out)
{
    return decide_ctx(s, id, a, res, level, out, NULL, 0, NULL);
}

static const struct who U1 = {"engineering/platform", "core", "u1"};

/* --- documents ------------------------------------------------------------------------------ */

static void doc_parse_errors_name_fields(void **state)
{
    GW_UNUSED(state);
    const char *y = "default_autonomy: sometimes\n"
                    "blocked: [a, a]\n"
                    "autonomous: 5\n"
                    "colour: blue\n"
                    "per_action:\n  deleteEmail: maybe\n";
    struct pol_issues errs = {0};
    assert_null(pol_doc_parse(POL_D_ACTIONS, y, strlen(y), POL_FMT_YAML, &errs));
    assert_int_equal(errs.n, 5); /* every error, not just the first */
    const char *fields[] = {"default_autonomy", "blocked", "autonomous", "colour",
                            "per_action.deleteEmail"};
    for (size_t k = 0; k < 5; k++) {
        bool found = false;
        for (size_t i = 0; i < errs.n; i++)
            found |= strcmp(errs.v[i].field, fields[k]) == 0 &&
                     strstr(errs.v[i].msg, fields[k]) != NULL;
        assert_true(found);
    }
    pol_issues_release(&errs);

    const char *c = "{\"connectors\": {\"github\": {\"enabled\": \"yes\", \"perms\": \"read\"}}}";
    assert_null(pol_doc_parse(POL_D_INTEGRATIONS, c, strlen(c), POL_FMT_AUTO, &errs));
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.v[0].field, "connectors.github.enabled");
    assert_string_equal(errs.v[1].field, "connectors.github.perms");
    pol_issues_release(&errs);

    /* YAML anchors/aliases, duplicate keys, quoted numbers and decimals are refused */
    const char *bad[] = {"allowed_providers: &a [x]\nallowed_models: *a\n",
                         "monthly_max_usd: 5\nmonthly_max_usd: 6\n",
                         "monthly_max_usd: \"5\"\n",
                         "monthly_max_usd: 5.5\n",
                         "monthly_max_usd: -1\n",
                         "[1, 2]\n",
                         "allowed_providers: [\"*\", openai]\n",
                         "a: b\n---\nc: d\n"};
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        assert_null(pol_doc_parse(POL_D_MODELS, bad[i], strlen(bad[i]), POL_FMT_YAML, &errs));
        assert_true(errs.n > 0);
        pol_issues_release(&errs);
    }
}

static void doc_yaml_and_json_agree(void **state)
{
    GW_UNUSED(state);
    const char *y = "# seed defaults\n"
                    "default_permissions: read\n"
                    "connectors:\n"
                    "  gmail: {enabled: true, permissions: write}\n"
                    "  github:\n"
                    "    enabled: true\n"
                    "    max_classification: confidential\n";
    const char *j =
        "{\"default_permissions\":\"read\",\"connectors\":{\"github\":{\"enabled\":true,"
        "\"max_classification\":\"confidential\"},\"gmail\":{\"enabled\":true,"
        "\"permissions\":\"write\"}}}";
    struct pol_issues errs = {0};
    struct pol_doc *a = pol_doc_parse(POL_D_INTEGRATIONS, y, strlen(y), POL_FMT_AUTO, &errs);
    struct pol_doc *b = pol_doc_parse(POL_D_INTEGRATIONS, j, strlen(j), POL_FMT_AUTO, &errs);
    assert_non_null(a);
    assert_non_null(b);
    json_t *ja = pol_doc_to_json(a), *jb = pol_doc_to_json(b);
    assert_true(json_equal(ja, jb));
    json_t *diff = pol_doc_diff(a, b);
    assert_int_equal(json_array_size(diff), 0);
    json_decref(diff);
    /* round trip through JSON text */
    char *txt = json_dumps(ja, JSON_COMPACT);
    struct pol_doc *c = pol_doc_parse(POL_D_INTEGRATIONS, txt, strlen(txt), POL_FMT_JSON, &errs);
    assert_non_null(c);
    json_t *jc = pol_doc_to_json(c);
    assert_true(json_equal(ja, jc));
    free(txt);
    json_decref(ja);
    json_decref(jb);
    json_decref(jc);
    pol_doc_free(a);
    pol_doc_free(b);
    pol_doc_free(c);
    assert_int_equal(errs.n, 0);
    /* empty document: sets nothing */
    struct pol_doc *e = pol_doc_parse(POL_D_AUDIT, "", 0, POL_FMT_YAML, &errs);
    assert_non_null(e);
    pol_doc_free(e);
    json_t *schema = pol_schema_to_json();
    assert_int_equal(json_object_size(schema), POL_D__COUNT);
    json_decref(schema);
}

/* --- merge directions ------------------------------------------------------------------------ */

struct merge_case {
    enum pol_domain d;
    const char *field;
    const char *parent, *child, *expected; /* JSON values */
};

static const struct merge_case merge_cases[] = {
    /* models */
    {POL_D_MODELS, "allowed_providers", "[\"openai\",\"self-hosted\"]", "[\"self-hosted\",\"x\"]",
     "[\"self-hosted\"]"},
    {POL_D_MODELS, "allowed_models", "[\"*\"]", "[\"gpt-4o\"]", "[\"gpt-4o\"]"},
    {POL_D_MODELS, "allowed_models", "[\"a\"]", "[\"*\"]", "[\"a\"]"},
    {POL_D_MODELS, "sensitive_data_model", "\"llama\"", "\"llama\"", "\"llama\""},
    {POL_D_MODELS, "sensitive_data_model", "\"llama\"", "\"other\"", "null"},
    {POL_D_MODELS, "sensitive_data_model", "\"llama\"", "null", "null"},
    {POL_D_MODELS, "sensitive_data_model", "null", "\"llama\"", "null"},
    {POL_D_MODELS, "max_classification_external", "\"confidential\"", "\"public\"", "\"public\""},
    {POL_D_MODELS, "max_classification_external", "\"public\"", "\"restricted\"", "\"public\""},
    {POL_D_MODELS, "monthly_max_usd", "10000", "500", "500"},
    {POL_D_MODELS, "monthly_max_usd", "500", "\"unlimited\"", "500"},
    /* actions */
    {POL_D_ACTIONS, "default_autonomy", "\"notify\"", "\"approve\"", "\"approve\""},
    {POL_D_ACTIONS, "default_autonomy", "\"approve\"", "\"autonomous\"", "\"approve\""},
    {POL_D_ACTIONS, "blocked", "[\"deleteEmail\"]", "[\"closeGitHubPR\"]",
     "[\"closeGitHubPR\",\"deleteEmail\"]"},
    {POL_D_ACTIONS, "blocked", "[\"deleteEmail\"]", "[]", "[\"deleteEmail\"]"},
    {POL_D_ACTIONS, "autonomous", "[\"email_read\",\"jira_read\"]", "[\"jira_read\",\"x\"]",
     "[\"jira_read\"]"},
    {POL_D_ACTIONS, "per_action", "{\"send\":\"notify\"}", "{\"send\":\"block\"}",
     "{\"send\":\"block\"}"},
    {POL_D_ACTIONS, "per_action", "{\"send\":\"approve\"}", "{\"send\":\"notify\"}",
     "{\"send\":\"approve\"}"},
    /* a child entry for a tool the parent does not list: at least the parent's default */
    {POL_D_ACTIONS, "per_action", "{}", "{\"other\":\"autonomous\"}", "{\"other\":\"approve\"}"},
    /* integrations */
    {POL_D_INTEGRATIONS, "default_permissions", "\"write\"", "\"read\"", "\"read\""},
    {POL_D_INTEGRATIONS, "default_permissions", "\"read\"", "\"admin\"", "\"read\""},
    {POL_D_INTEGRATIONS, "connectors",
     "{\"gh\":{\"enabled\":true,\"permissions\":\"admin\",\"max_classification\":\"confidential\"}"
     "}",
     "{\"gh\":{\"enabled\":false,\"permissions\":\"write\",\"max_classification\":\"restricted\"}}",
     "{\"gh\":{\"enabled\":false,\"permissions\":\"write\",\"max_classification\":\"confidential\"}"
     "}"},
    {POL_D_INTEGRATIONS, "connectors", "{\"gh\":{\"enabled\":false}}",
     "{\"gh\":{\"enabled\":true}}", "{\"gh\":{\"enabled\":false}}"},
    /* a connector absent above stays disabled */
    {POL_D_INTEGRATIONS, "connectors", "{\"gh\":{\"enabled\":true}}",
     "{\"slack\":{\"enabled\":true}}", "{\"gh\":{\"enabled\":true},\"slack\":{\"enabled\":false}}"},
    /* agent-to-agent */
    {POL_D_A2A, "enabled", "true", "false", "false"},
    {POL_D_A2A, "enabled", "false", "true", "false"},
    {POL_D_A2A, "allowed_exchange_types", "[\"information_query\",\"commitment_request\"]",
     "[\"information_query\"]", "[\"information_query\"]"},
    {POL_D_A2A, "max_rounds", "5", "3", "3"},
    {POL_D_A2A, "max_rounds", "3", "9", "3"},
    {POL_D_A2A, "max_classification_shared", "\"internal\"", "\"confidential\"", "\"internal\""},
    {POL_D_A2A, "cross_org", "true", "false", "false"},
    {POL_D_A2A, "cross_enterprise", "false", "true", "false"},
    {POL_D_A2A, "require_approval_for_commitments", "false", "true", "true"},
    {POL_D_A2A, "require_approval_for_commitments", "true", "false", "true"},
    /* features */
    {POL_D_FEATURES, "daily_briefing", "true", "false", "false"},
    {POL_D_FEATURES, "auto_response", "false", "true", "false"},
    {POL_D_FEATURES, "work_tracking", "true", "true", "true"},
    {POL_D_FEATURES, "ocip", "true", "false", "false"},
    {POL_D_FEATURES, "org_intelligence", "false", "true", "false"},
    {POL_D_FEATURES, "visualization", "true", "false", "false"},
    /* data */
    {POL_D_DATA, "retention_days", "90", "30", "30"},
    {POL_D_DATA, "retention_days", "30", "365", "30"},
    {POL_D_DATA, "external_sharing_max", "\"internal\"", "\"confidential\"", "\"internal\""},
    {POL_D_DATA, "allow_data_export", "true", "false", "false"},
    {POL_D_DATA, "export_max_classification", "\"confidential\"", "\"internal\"", "\"internal\""},
    {POL_D_DATA, "default_classification", "\"internal\"", "\"confidential\"", "\"confidential\""},
    {POL_D_DATA, "default_classification", "\"confidential\"", "\"public\"", "\"confidential\""},
    {POL_D_DATA, "redact_external", "false", "true", "true"},
    {POL_D_DATA, "redact_external", "true", "false", "true"},
    /* audit: logging more and keeping longer are stricter */
    {POL_D_AUDIT, "log_all_actions", "false", "true", "true"},
    {POL_D_AUDIT, "log_data_access", "true", "false", "true"},
    {POL_D_AUDIT, "log_model_calls", "false", "true", "true"},
    {POL_D_AUDIT, "log_policy_decisions", "true", "false", "true"},
    {POL_D_AUDIT, "log_agent_exchanges", "false", "true", "true"},
    {POL_D_AUDIT, "retention_years", "1", "7", "7"},
    {POL_D_AUDIT, "retention_years", "7", "1", "7"},
    {POL_D_AUDIT, "minimum_retention_days", "365", "30", "365"},
    {POL_D_AUDIT, "alert_on_deny", "false", "true", "true"},
};

static void merge_direction_of_every_field(void **state)
{
    GW_UNUSED(state);
    bool covered[POL_D__COUNT][POL_FIELDS_MAX] = {{false}};
    for (size_t i = 0; i < GW_ARRAY_LEN(merge_cases); i++) {
        const struct merge_case *mc = &merge_cases[i];
        char pt[600], ct[600];
        snprintf(pt, sizeof(pt), "{\"%s\": %s}", mc->field, mc->parent);
        snprintf(ct, sizeof(ct), "{\"%s\": %s}", mc->field, mc->child);
        struct world w = {0};
        add(&w, POL_SCOPE_ENTERPRISE, NULL, mc->d, pt);
        add(&w, POL_SCOPE_TEAM, "core", mc->d, ct);
        build(&w);
        json_t *eff = pol_effective_json(w.s, T, "engineering", "core", "u1", mc->d);
        assert_non_null(eff);
        json_t *got = json_object_get(json_object_get(eff, "policy"), mc->field);
        json_error_t jerr;
        json_t *want = json_loads(mc->expected, JSON_DECODE_ANY, &jerr);
        assert_non_null(want);
        if (!json_equal(got, want)) {
            char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
            fail_msg("%s.%s: %s onto %s gave %s, expected %s", pol_domain_name(mc->d), mc->field,
                     mc->child, mc->parent, g, mc->expected);
        }
        covered[mc->d][pol_field_index(mc->d, mc->field)] = true;
        json_decref(want);
        json_decref(eff);
        world_free(&w);
    }
    for (int d = 0; d < POL_D__COUNT; d++)
        for (size_t f = 0; f < pol_schema[d].n; f++)
            if (!covered[d][f])
                fail_msg("no merge case for %s.%s", pol_schema[d].name,
                         pol_schema[d].fields[f].name);
}

/* The merge never loosens even without write-time validation (e.g. a file bundle). */
static void merge_never_loosens_without_validation(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS,
        "default_autonomy: approve\nblocked: [deleteEmail]\nautonomous: [email_read]\n");
    add(&w, POL_SCOPE_USER, "u1", POL_D_ACTIONS,
        "default_autonomy: autonomous\nblocked: []\nautonomous: [email_read, send_email]\n"
        "per_action: {deleteEmail: autonomous, wire_money: autonomous}\n");
    build(&w);
    struct pol_decision d;
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "deleteEmail", -1, &d), POL_DENY);
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "wire_money", -1, &d),
                     POL_REQUIRE_APPROVAL);
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "send_email", -1, &d),
                     POL_REQUIRE_APPROVAL);
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "email_read", -1, &d), POL_ALLOW);
    world_free(&w);
}

/* --- write-time validation ---------------------------------------------------------------- */

static void validation_lists_every_loosening(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    struct pol_record *ent =
        add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS,
            "default_autonomy: approve\nblocked: [deleteEmail]\nautonomous: [email_read]\n");
    add(&w, POL_SCOPE_ORG, "engineering", POL_D_ACTIONS, "autonomous: []\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_DATA, "retention_days: 90\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_AUDIT, "retention_years: 1\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_INTEGRATIONS,
        "connectors: {gmail: {enabled: true, permissions: read}}\n");
    build(&w);

    /* a team of engineering/platform: four loosenings, all reported */
    const char *y = "default_autonomy: notify\n"
                    "autonomous: [email_read, calendar_read]\n"
                    "per_action: {deleteEmail: autonomous, jira_create: approve}\n"
                    "blocked: []\n";
    struct pol_issues errs = {0};
    struct pol_doc *doc = pol_doc_parse(POL_D_ACTIONS, y, strlen(y), POL_FMT_YAML, &errs);
    assert_non_null(doc);
    struct pol_position pos = {.tenant = T,
                               .scope = POL_SCOPE_TEAM,
                               .scope_id = "core",
                               .org_unit = "engineering/platform"};
    assert_false(pol_validate(w.s, &pos, doc, &errs));
    assert_int_equal(errs.n, 4);
    const char *want[] = {"default_autonomy", "autonomous", "per_action.deleteEmail"};
    for (size_t k = 0; k < 3; k++) {
        bool found = false;
        for (size_t i = 0; i < errs.n; i++)
            found |= strcmp(errs.v[i].field, want[k]) == 0;
        assert_true(found);
    }
    /* messages name the parent value and the policy that set it */
    bool names_parent = false;
    for (size_t i = 0; i < errs.n; i++)
        names_parent |= strstr(errs.v[i].msg, ent->id) && strstr(errs.v[i].msg, "approve");
    assert_true(names_parent);
    /* email_read was dropped by the org: listing it again in the team is a loosening too */
    bool email_read = false;
    for (size_t i = 0; i < errs.n; i++)
        email_read |= strstr(errs.v[i].msg, "'email_read'") != NULL;
    assert_true(email_read);
    pol_issues_release(&errs);
    pol_doc_free(doc);

    /* stricter is accepted */
    const char *ok = "default_autonomy: block\nblocked: [x]\nautonomous: []\n"
                     "per_action: {deleteEmail: block}\n";
    doc = pol_doc_parse(POL_D_ACTIONS, ok, strlen(ok), POL_FMT_YAML, &errs);
    assert_true(pol_validate(w.s, &pos, doc, &errs));
    assert_int_equal(errs.n, 0);
    pol_doc_free(doc);

    /* retention directions: data shorter is stricter, audit longer is stricter (the seed's
     * "org override: retention 7 years" must be accepted) */
    struct pol_position org = {.tenant = T, .scope = POL_SCOPE_ORG, .scope_id = "engineering"};
    doc = pol_doc_parse(POL_D_AUDIT, "retention_years: 7\n", 19, POL_FMT_YAML, &errs);
    assert_true(pol_validate(w.s, &org, doc, &errs));
    pol_doc_free(doc);
    doc = pol_doc_parse(POL_D_AUDIT, "retention_years: 0\nlog_all_actions: false\n", 41,
                        POL_FMT_YAML, &errs);
    assert_false(pol_validate(w.s, &org, doc, &errs));
    assert_int_equal(errs.n, 2); /* log_all_actions defaults to true: false is looser too */
    pol_doc_free(doc);
    pol_issues_release(&errs);
    doc = pol_doc_parse(POL_D_DATA, "retention_days: 365\n", 20, POL_FMT_YAML, &errs);
    assert_false(pol_validate(w.s, &org, doc, &errs));
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.v[0].field, "retention_days");
    pol_doc_free(doc);
    pol_issues_release(&errs);

    /* connectors: enabling one the parent does not list, or widening permissions */
    const char *c = "connectors: {slack: {enabled: true}, gmail: {permissions: write}}\n";
    doc = pol_doc_parse(POL_D_INTEGRATIONS, c, strlen(c), POL_FMT_YAML, &errs);
    assert_false(pol_validate(w.s, &org, doc, &errs));
    assert_int_equal(errs.n, 2);
    pol_doc_free(doc);
    pol_issues_release(&errs);

    /* the enterprise has no parent */
    struct pol_position ent_pos = {.tenant = T, .scope = POL_SCOPE_ENTERPRISE};
    doc = pol_doc_parse(POL_D_ACTIONS, y, strlen(y), POL_FMT_YAML, &errs);
    assert_true(pol_validate(w.s, &ent_pos, doc, &errs));
    pol_doc_free(doc);
    world_free(&w);
}

/* --- hierarchy and decisions ------------------------------------------------------------- */

static void org_path_inheritance(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_FEATURES,
        "daily_briefing: true\nvisualization: true\n");
    struct pol_record *eng = add(&w, POL_SCOPE_ORG, "engineering", POL_D_FEATURES,
                                 "daily_briefing: false\n");
    build(&w);
    struct pol_decision d;
    struct who platform = {"engineering/platform", NULL, "u1"};
    struct who deep = {"engineering/platform/sre", "oncall", "u2"};
    struct who engx = {"engineering-x", NULL, "u3"};
    struct who engineering = {"engineering", NULL, "u4"};
    struct who marketing = {"marketing", NULL, "u5"};
    assert_int_equal(decide(w.s, platform, POL_ACT_FEATURE_USE, "daily_briefing", -1, &d),
                     POL_DENY);
    assert_string_equal(d.policy_id, eng->id);
    assert_int_equal(d.scope, POL_SCOPE_ORG);
    assert_string_equal(d.scope_id, "engineering");
    assert_int_equal(decide(w.s, deep, POL_ACT_FEATURE_USE, "daily_briefing", -1, &d), POL_DENY);
    assert_int_equal(decide(w.s, engineering, POL_ACT_FEATURE_USE, "daily_briefing", -1, &d),
                     POL_DENY);
    assert_int_equal(decide(w.s, engx, POL_ACT_FEATURE_USE, "daily_briefing", -1, &d), POL_ALLOW);
    assert_int_equal(d.scope, POL_SCOPE_ENTERPRISE);
    assert_int_equal(decide(w.s, marketing, POL_ACT_FEATURE_USE, "daily_briefing", -1, &d),
                     POL_ALLOW);
    assert_int_equal(decide(w.s, platform, POL_ACT_FEATURE_USE, "visualization", -1, &d),
                     POL_ALLOW);
    /* feature not enabled anywhere: default false */
    assert_int_equal(decide(w.s, marketing, POL_ACT_FEATURE_USE, "ocip", -1, &d), POL_DENY);
    world_free(&w);
}

static void deny_beats_approval_beats_allow(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS,
        "default_autonomy: notify\nblocked: [deleteEmail]\n"
        "autonomous: [deleteEmail, email_read, jira_create]\n"
        "per_action: {deleteEmail: autonomous}\n");
    add(&w, POL_SCOPE_TEAM, "core", POL_D_ACTIONS, "per_action: {jira_create: approve}\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_A2A,
        "enabled: true\nallowed_exchange_types: [commitment_request, information_query]\n"
        "cross_org: false\nrequire_approval_for_commitments: true\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_INTEGRATIONS,
        "connectors: {jira: {enabled: true, permissions: read, max_classification: internal}}\n");
    build(&w);
    struct pol_decision d;
    /* blocked (deny) wins over an autonomous entry and the autonomous list */
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "deleteEmail", -1, &d), POL_DENY);
    /* team approval wins over the enterprise autonomous list */
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "jira_create", -1, &d),
                     POL_REQUIRE_APPROVAL);
    assert_int_equal(d.scope, POL_SCOPE_TEAM);
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "email_read", -1, &d), POL_ALLOW);
    assert_false(d.ob.disclosure_required);
    /* notify: allow with the disclosure obligation */
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "calendar_write", -1, &d), POL_ALLOW);
    assert_true(d.ob.disclosure_required);
    /* commitment (approval) across orgs (deny): deny */
    struct pol_kv cross[] = {{"exchange_type", "commitment_request"}, {"target_org", "sales"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "sales/bot", 1, &d, NULL, 2, cross),
                     POL_DENY);
    struct pol_kv same[] = {{"exchange_type", "commitment_request"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "eng/bot", 1, &d, NULL, 1, same),
                     POL_REQUIRE_APPROVAL);
    /* write on a read-only connector (approval) with data above its ceiling (deny): deny */
    assert_int_equal(decide(w.s, U1, POL_ACT_CONNECTOR_WRITE, "jira", POL_LEVEL_CONFIDENTIAL, &d),
                     POL_DENY);
    assert_int_equal(decide(w.s, U1, POL_ACT_CONNECTOR_WRITE, "jira", POL_LEVEL_INTERNAL, &d),
                     POL_REQUIRE_APPROVAL);
    assert_int_equal(decide(w.s, U1, POL_ACT_CONNECTOR_READ, "jira", POL_LEVEL_INTERNAL, &d),
                     POL_ALLOW);
    assert_int_equal(d.ob.max_classification, POL_LEVEL_INTERNAL);
    world_free(&w);
}

static void default_deny(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    build(&w);
    struct pol_decision d;
    for (int a = 0; a < POL_ACT__COUNT; a++) {
        assert_int_equal(decide(w.s, U1, (enum pol_action)a, "x", -1, &d), POL_DENY);
        assert_false(d.has_policy);
        assert_non_null(strstr(d.reason, "default deny"));
    }
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS, "default_autonomy: autonomous\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_INTEGRATIONS, "default_permissions: admin\n");
    build(&w);
    assert_int_equal(decide(w.s, U1, POL_ACT_TOOL_CALL, "anything", -1, &d), POL_ALLOW);
    /* no models policy anywhere */
    assert_int_equal(decide(w.s, U1, POL_ACT_MODEL_CALL, "openai/gpt-4o", 0, &d), POL_DENY);
    assert_non_null(strstr(d.reason, "no models policy"));
    /* a connector not listed is disabled */
    assert_int_equal(decide(w.s, U1, POL_ACT_CONNECTOR_READ, "gmail", 0, &d), POL_DENY);
    /* another tenant sees none of these policies */
    struct pol_request rq = {.tenant = "other",
                             .user = "u1",
                             .action = POL_ACT_TOOL_CALL,
                             .resource = "anything",
                             .classification = -1};
    assert_int_equal(pol_decide(w.s, &rq, NULL, &d, NULL), POL_DENY);
    world_free(&w);
}

static void fail_closed(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_FEATURES, "daily_briefing: true\n");
    struct pol_record *bad = add(&w, POL_SCOPE_ORG, "engineering", POL_D_FEATURES,
                                 "visualization: true\n");
    /* corrupt the compiled content: a boolean holding 7 */
    bad->content->v[F_FEAT_VISUALIZATION].i = 7;
    struct pol_issues errs = {0};
    struct pol_snapshot *s;
    assert_int_equal(pol_snapshot_build((const struct pol_record *const *)w.r, w.n, NULL, &s,
                                        &errs),
                     GW_OK);
    assert_int_equal(errs.n, 1);
    assert_non_null(strstr(errs.v[0].msg, bad->id));
    pol_issues_release(&errs);
    struct pol_decision d;
    struct pol_trace tr;
    /* everything below the invalid org policy fails closed, with the policy named */
    struct pol_request rq = {.tenant = T,
                             .user = "u1",
                             .org_unit = "engineering/platform",
                             .action = POL_ACT_FEATURE_USE,
                             .resource = "daily_briefing",
                             .classification = -1};
    assert_int_equal(pol_decide(s, &rq, NULL, &d, &tr), POL_DENY);
    assert_true(d.has_policy);
    assert_string_equal(d.policy_id, bad->id);
    assert_non_null(strstr(d.reason, "failing closed"));
    assert_true(tr.steps[1].deciding);
    /* outside its subtree decisions are unaffected */
    rq.org_unit = "sales";
    assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL), POL_ALLOW);
    /* two active policies for one slot: poisoned */
    struct pol_record *dup = rec(POL_SCOPE_ORG, "sales", POL_D_FEATURES, "daily_briefing: true\n");
    struct pol_record *dup2 = rec(POL_SCOPE_ORG, "sales", POL_D_FEATURES, "daily_briefing: true\n");
    const struct pol_record *two[] = {w.r[0], dup, dup2};
    struct pol_snapshot *s2;
    assert_int_equal(pol_snapshot_build(two, 3, NULL, &s2, &errs), GW_OK);
    assert_int_equal(errs.n, 1);
    pol_issues_release(&errs);
    assert_int_equal(pol_decide(s2, &rq, NULL, &d, NULL), POL_DENY);
    /* malformed requests */
    rq.org_unit = "Engineering//x";
    assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL), POL_DENY);
    assert_non_null(strstr(d.reason, "invalid identity"));
    rq.org_unit = "sales";
    rq.classification = 9;
    assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL), POL_DENY);
    rq.classification = -1;
    rq.resource = NULL;
    assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL), POL_DENY);
    rq.resource = "daily_briefing";
    rq.tenant = NULL;
    assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL), POL_DENY);
    assert_int_equal(pol_decide(NULL, &rq, NULL, &d, NULL), POL_DENY);
    pol_record_free(dup);
    pol_record_free(dup2);
    pol_snapshot_unref(s);
    pol_snapshot_unref(s2);
    world_free(&w);
}

static void explanation_names_deciding_scope(void **state)
{
    GW_UNUSED(state);
    struct pol_set *set = pol_set_new();
    struct pol_issues errs = {0};
    const char *ey = "default_autonomy: notify\nautonomous: [email_read]\nblocked: [deleteEmail]\n";
    struct pol_doc *ed = pol_doc_parse(POL_D_ACTIONS, ey, strlen(ey), POL_FMT_YAML, &errs);
    struct pol_change ch = {.tenant = T,
                            .scope = POL_SCOPE_ENTERPRISE,
                            .domain = POL_D_ACTIONS,
                            .id = "ent-actions",
                            .content = ed,
                            .author = "root",
                            .change_reason = "baseline",
                            .now_ms = 1};
    assert_int_equal(pol_set_create(set, &ch, NULL, &errs), GW_OK);
    const char *ty = "per_action: {send_email: notify}\n";
    struct pol_doc *td = pol_doc_parse(POL_D_ACTIONS, ty, strlen(ty), POL_FMT_YAML, &errs);
    struct pol_change tc = {.tenant = T,
                            .scope = POL_SCOPE_TEAM,
                            .scope_id = "core",
                            .domain = POL_D_ACTIONS,
                            .id = "team-core-actions",
                            .content = td,
                            .author = "lead",
                            .change_reason = "start",
                            .now_ms = 2};
    assert_int_equal(pol_set_create(set, &tc, NULL, &errs), GW_OK);
    pol_doc_free(td);
    ty = "per_action: {send_email: approve}\n";
    td = pol_doc_parse(POL_D_ACTIONS, ty, strlen(ty), POL_FMT_YAML, &errs);
    tc.content = td;
    tc.change_reason = "outbound mail needs a human";
    tc.expected_version = 1;
    const struct pol_record *v2;
    assert_int_equal(pol_set_update(set, "team-core-actions", &tc, &v2, &errs), GW_OK);
    assert_int_equal(v2->version, 2);
    struct pol_snapshot *s;
    assert_int_equal(pol_snapshot_from_set(set, NULL, &s, &errs), GW_OK);
    assert_int_equal(errs.n, 0);

    struct pol_decision d;
    struct pol_trace tr;
    assert_int_equal(decide_ctx(s, U1, POL_ACT_TOOL_CALL, "send_email", -1, &d, &tr, 0, NULL),
                     POL_REQUIRE_APPROVAL);
    assert_string_equal(d.policy_id, "team-core-actions");
    assert_int_equal(d.policy_version, 2);
    assert_int_equal(d.scope, POL_SCOPE_TEAM);
    assert_string_equal(d.scope_id, "core");
    /* enterprise, engineering, engineering/platform, team, user */
    assert_int_equal(tr.n, 5);
    assert_int_equal(tr.steps[0].scope, POL_SCOPE_ENTERPRISE);
    assert_string_equal(tr.steps[0].policy_id, "ent-actions");
    assert_string_equal(tr.steps[1].scope_id, "engineering");
    assert_null(tr.steps[1].policy_id);
    assert_string_equal(tr.steps[2].scope_id, "engineering/platform");
    assert_true(tr.steps[3].deciding);
    assert_false(tr.steps[0].deciding);
    assert_non_null(strstr(tr.steps[3].note, "per_action.send_email=approve"));
    assert_non_null(strstr(tr.steps[0].note, "default_autonomy=notify"));
    json_t *j = pol_decision_to_json(&d, &tr);
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "require_approval");
    json_t *p = json_object_get(j, "policy");
    assert_string_equal(json_string_value(json_object_get(p, "id")), "team-core-actions");
    assert_int_equal(json_integer_value(json_object_get(p, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(p, "scope")), "team");
    assert_int_equal(json_array_size(json_object_get(j, "trace")), 5);
    json_decref(j);
    char text[4096];
    pol_explain_text(&d, &tr, text, sizeof(text));
    assert_non_null(strstr(text, "team-core-actions v2 at team core"));
    /* blocked: the deciding level is the one that lists the tool */
    assert_int_equal(decide(s, U1, POL_ACT_TOOL_CALL, "deleteEmail", -1, &d), POL_DENY);
    assert_string_equal(d.policy_id, "ent-actions");
    assert_int_equal(d.scope, POL_SCOPE_ENTERPRISE);
    /* effective policy with the origin of each field */
    json_t *eff = pol_effective_json(s, T, U1.org, U1.team, U1.user, POL_D_ACTIONS);
    assert_non_null(strstr(json_string_value(
                               json_object_get(json_object_get(eff, "source"), "default_autonomy")),
                           "ent-actions v1"));
    json_decref(eff);
    pol_doc_free(ed);
    pol_doc_free(td);
    pol_snapshot_unref(s);
    pol_set_free(set);
    pol_issues_release(&errs);
}

static void model_reroute_or_deny(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_MODELS,
        "allowed_providers: [openai, self-hosted]\nallowed_models: [\"*\"]\n"
        "sensitive_data_model: llama-3-70b\nmax_classification_external: internal\n"
        "monthly_max_usd: 10000\n");
    add(&w, POL_SCOPE_TEAM, "secret-team", POL_D_MODELS, "sensitive_data_model: null\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_DATA, "redact_external: true\n");
    build(&w);
    struct pol_decision d;
    /* confidential to an external provider: rerouted, never silently */
    assert_int_equal(decide(w.s, U1, POL_ACT_MODEL_CALL, "openai/gpt-4o", POL_LEVEL_CONFIDENTIAL,
                            &d),
                     POL_ALLOW);
    assert_non_null(d.ob.reroute_model);
    assert_string_equal(d.ob.reroute_model, "llama-3-70b");
    assert_non_null(strstr(d.reason, "rerouted"));
    /* internal: the requested model, with the ceiling and the redact obligation */
    assert_int_equal(decide(w.s, U1, POL_ACT_MODEL_CALL, "openai/gpt-4o", POL_LEVEL_INTERNAL, &d),
                     POL_ALLOW);
    assert_null(d.ob.reroute_model);
    assert_int_equal(d.ob.max_classification, POL_LEVEL_INTERNAL);
    assert_true(d.ob.redact);
    /* the team cleared the self-hosted model: deny */
    struct who secret = {"engineering", "secret-team", "u9"};
    assert_int_equal(decide(w.s, secret, POL_ACT_MODEL_CALL, "openai/gpt-4o", POL_LEVEL_RESTRICTED,
                            &d),
                     POL_DENY);
    assert_null(d.ob.reroute_model);
    assert_non_null(strstr(d.reason, "no self-hosted model"));
    /* self-hosted provider: no ceiling, no reroute */
    struct pol_kv sh[] = {{"provider", "self-hosted"}, {"provider_kind", "self_hosted"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_MODEL_CALL, "llama-3-70b", POL_LEVEL_RESTRICTED,
                                &d, NULL, 2, sh),
                     POL_ALLOW);
    assert_null(d.ob.reroute_model);
    /* the provider's own lower ceiling applies */
    struct pol_kv low[] = {{"provider_ceiling", "public"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_MODEL_CALL, "openai/gpt-4o", POL_LEVEL_INTERNAL,
                                &d, NULL, 1, low),
                     POL_ALLOW);
    assert_string_equal(d.ob.reroute_model, "llama-3-70b");
    /* provider not allowed, budget exhausted */
    assert_int_equal(decide(w.s, U1, POL_ACT_MODEL_CALL, "google/gemini", POL_LEVEL_PUBLIC, &d),
                     POL_DENY);
    struct pol_kv spent[] = {{"spent_usd", "10000"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_MODEL_CALL, "openai/gpt-4o", 0, &d, NULL, 1,
                                spent),
                     POL_DENY);
    assert_non_null(strstr(d.reason, "budget"));
    world_free(&w);
}

static void data_export_and_agents(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_DATA,
        "allow_data_export: true\nexport_max_classification: confidential\n"
        "external_sharing_max: internal\ndefault_classification: confidential\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_A2A,
        "enabled: true\nallowed_exchange_types: [information_query]\nmax_rounds: 3\n"
        "max_classification_shared: internal\n");
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_AUDIT, "alert_on_deny: true\n");
    build(&w);
    struct pol_decision d;
    struct pol_kv internal[] = {{"destination", "internal"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_DATA_EXPORT, "report.csv", POL_LEVEL_CONFIDENTIAL,
                                &d, NULL, 1, internal),
                     POL_ALLOW);
    assert_int_equal(decide(w.s, U1, POL_ACT_DATA_EXPORT, "report.csv", POL_LEVEL_CONFIDENTIAL, &d),
                     POL_DENY);
    assert_true(d.alert);
    assert_true(d.audit);
    /* unknown classification: data.default_classification (confidential) */
    assert_int_equal(decide(w.s, U1, POL_ACT_DATA_EXPORT, "report.csv", POL_LEVEL_UNKNOWN, &d),
                     POL_DENY);
    assert_int_equal(d.classification, POL_LEVEL_CONFIDENTIAL);
    assert_int_equal(decide(w.s, U1, POL_ACT_DATA_EXPORT, "report.csv", POL_LEVEL_PUBLIC, &d),
                     POL_ALLOW);
    assert_false(d.alert);
    struct pol_kv q[] = {{"exchange_type", "information_query"}, {"rounds", "2"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "eng/bot", 1, &d, NULL, 2, q),
                     POL_ALLOW);
    struct pol_kv q3[] = {{"exchange_type", "information_query"}, {"rounds", "3"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "eng/bot", 1, &d, NULL, 2, q3),
                     POL_DENY);
    struct pol_kv xt[] = {{"exchange_type", "information_query"}, {"target_tenant", "globex"}};
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "x/bot", 1, &d, NULL, 2, xt),
                     POL_DENY);
    assert_non_null(strstr(d.reason, "cross-enterprise"));
    assert_int_equal(decide_ctx(w.s, U1, POL_ACT_AGENT_MESSAGE, "eng/bot", 2, &d, NULL, 2, q),
                     POL_DENY);
    world_free(&w);
}

/* --- history and records ------------------------------------------------------------------ */

static void history_versions_and_records(void **state)
{
    GW_UNUSED(state);
    struct pol_set *set = pol_set_new();
    struct pol_issues errs = {0};
    struct pol_doc *a = pol_doc_parse(POL_D_FEATURES, "ocip: true\n", 11, POL_FMT_YAML, &errs);
    struct pol_doc *b = pol_doc_parse(POL_D_FEATURES, "ocip: false\n", 12, POL_FMT_YAML, &errs);
    struct pol_change ch = {.tenant = T,
                            .scope = POL_SCOPE_ORG,
                            .scope_id = "engineering",
                            .domain = POL_D_FEATURES,
                            .content = a,
                            .author = "bob",
                            .change_reason = "",
                            .now_ms = 1000};
    const struct pol_record *r;
    /* the change reason is mandatory */
    assert_int_equal(pol_set_create(set, &ch, &r, &errs), GW_EINVAL);
    assert_string_equal(errs.v[0].field, "change_reason");
    pol_issues_release(&errs);
    ch.change_reason = "enable ocip";
    assert_int_equal(pol_set_create(set, &ch, &r, &errs), GW_OK);
    char *id = gw_xstrdup(r->id);
    assert_int_equal(strncmp(id, "pol_", 4), 0);
    /* one policy per slot */
    assert_int_equal(pol_set_create(set, &ch, NULL, &errs), GW_ECONFLICT);
    pol_issues_release(&errs);
    ch.content = b;
    ch.change_reason = "disable";
    ch.expected_version = 5;
    assert_int_equal(pol_set_update(set, id, &ch, &r, &errs), GW_ECONFLICT);
    pol_issues_release(&errs);
    ch.expected_version = 1;
    assert_int_equal(pol_set_update(set, id, &ch, &r, &errs), GW_OK);
    assert_int_equal(r->version, 2);
    ch.expected_version = 0;
    ch.change_reason = "retire";
    assert_int_equal(pol_set_deprecate(set, id, &ch, &r, &errs), GW_OK);
    assert_int_equal(r->version, 3);
    assert_int_equal(r->status, POL_STATUS_DEPRECATED);
    ch.change_reason = "back to the first version";
    assert_int_equal(pol_set_rollback(set, id, 1, &ch, &r, &errs), GW_OK);
    assert_int_equal(r->version, 4);
    assert_int_equal(r->status, POL_STATUS_ACTIVE);
    assert_true(r->content->v[F_FEAT_OCIP].i);
    const struct pol_record *const *hist;
    assert_int_equal(pol_set_history(set, id, &hist), 4);
    assert_string_equal(hist[2]->change_reason, "retire");
    json_t *diff = pol_doc_diff(hist[0]->content, hist[1]->content);
    assert_int_equal(json_array_size(diff), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(diff, 0), "field")),
                        "ocip");
    json_decref(diff);
    assert_ptr_equal(pol_set_find(set, T, POL_SCOPE_ORG, "engineering", POL_D_FEATURES), r);

    /* pure JSON round trip, then reload into another set */
    struct pol_set *copy = pol_set_new();
    for (size_t i = 0; i < 4; i++) {
        json_t *j = pol_record_to_json(hist[i]);
        struct pol_record *back = pol_record_from_json(j, &errs);
        assert_non_null(back);
        json_t *j2 = pol_record_to_json(back);
        assert_true(json_equal(j, j2));
        assert_int_equal(pol_set_load(copy, back, &errs), GW_OK);
        json_decref(j);
        json_decref(j2);
        pol_record_free(back);
    }
    assert_int_equal(pol_set_get(copy, id, 0)->version, 4);
    /* unknown record fields and empty reasons are rejected */
    const char *bad =
        "{\"id\":\"x\",\"tenant\":\"acme\",\"scope\":\"enterprise\",\"domain\":\"audit\","
        "\"version\":1,\"content\":{},\"author\":\"a\",\"created_at\":\"2025-01-01T00:00:00Z\","
        "\"change_reason\":\" \",\"status\":\"active\",\"extra\":1}";
    json_t *bj = json_loads(bad, 0, NULL);
    assert_null(pol_record_from_json(bj, &errs));
    assert_int_equal(errs.n, 2);
    json_decref(bj);
    pol_issues_release(&errs);
    free(id);
    pol_doc_free(a);
    pol_doc_free(b);
    pol_set_free(copy);
    pol_set_free(set);
}

/* --- cache ---------------------------------------------------------------------------------- */

static void cache_full_and_hits_agree(void **state)
{
    GW_UNUSED(state);
    struct world w = {0};
    add(&w, POL_SCOPE_ENTERPRISE, NULL, POL_D_ACTIONS,
        "default_autonomy: approve\nautonomous: [a, b]\n");
    add(&w, POL_SCOPE_ORG, "o1", POL_D_ACTIONS, "autonomous: [a]\n");
    add(&w, POL_SCOPE_USER, "u3", POL_D_ACTIONS, "default_autonomy: block\n");
    struct pol_issues errs = {0};
    struct pol_snapshot_opts opts = {.cache_max = 3};
    struct pol_snapshot *s;
    pol_snapshot_build((const struct pol_record *const *)w.r, w.n, &opts, &s, &errs);
    struct pol_decision d;
    struct gw_pool *scratch = gw_pool_new();
    for (int round = 0; round < 3; round++) {
        for (int u = 0; u < 8; u++) {
            char user[8];
            snprintf(user, sizeof(user), "u%d", u);
            struct pol_request rq = {.tenant = T,
                                     .user = user,
                                     .org_unit = u % 2 ? "o1" : "o2",
                                     .action = POL_ACT_TOOL_CALL,
                                     .resource = "b",
                                     .classification = -1};
            /* o1 dropped b from the autonomous list; u3 blocks everything not autonomous */
            enum pol_effect want = u == 3 ? POL_DENY : u % 2 ? POL_REQUIRE_APPROVAL : POL_ALLOW;
            assert_int_equal(pol_decide(s, &rq, round == 1 ? scratch : NULL, &d, NULL), want);
            rq.resource = "c";
            assert_int_equal(pol_decide(s, &rq, NULL, &d, NULL),
                             u == 3 ? POL_DENY : POL_REQUIRE_APPROVAL);
        }
    }
    assert_true(pol_snapshot_cached_chains(s) <= 6);
    /* warm a new snapshot from the old one */
    struct pol_snapshot *s2;
    pol_snapshot_build((const struct pol_record *const *)w.r, w.n, NULL, &s2, &errs);
    pol_snapshot_warm(s2, s);
    assert_true(pol_snapshot_cached_chains(s2) >= 3);
    assert_true(pol_snapshot_generation(s2) > pol_snapshot_generation(s));
    gw_pool_free(scratch);
    pol_snapshot_unref(s);
    pol_snapshot_unref(s2);
    world_free(&w);
}

/* --- hot reload under concurrent evaluation ---------------------------------------------- */

struct race {
    struct pol_engine *e;
    atomic_bool stop;
    atomic_long decisions, mismatches;
};

static void *evaluator(void *arg)
{
    struct race *r = arg;
    char user[16];
    unsigned n = 0;
    while (!atomic_load(&r->stop)) {
        struct pol_snapshot *s = pol_engine_acquire(r->e);
        snprintf(user, sizeof(user), "u%u", n++ % 50);
        struct pol_request rq = {.tenant = T,
                                 .user = user,
                                 .org_unit = "engineering",
                                 .action = POL_ACT_FEATURE_USE,
                                 .resource = "ocip",
                                 .classification = -1};
        struct pol_decision d;
        enum pol_effect e = pol_decide(s, &rq, NULL, &d, NULL);
        /* odd generations allow, even ones deny: every decision matches its own snapshot */
        enum pol_effect want = pol_snapshot_generation(s) % 2 ? POL_ALLOW : POL_DENY;
        if (e != want || d.snapshot != pol_snapshot_generation(s))
            atomic_fetch_add(&r->mismatches, 1);
        atomic_fetch_add(&r->decisions, 1);
        pol_snapshot_unref(s);
    }
    return NULL;
}

/* Generations are global and increase by one per build: rebuild once when the parity does not
 * match the content (odd generations allow, even ones deny). */
static struct pol_snapshot *gen_snapshot(struct pol_record *r, bool allow)
{
    struct pol_snapshot *s;
    struct pol_issues errs = {0};
    pol_snapshot_build((const struct pol_record *const *)&r, 1, NULL, &s, &errs);
    if ((pol_snapshot_generation(s) % 2 == 1) != allow) {
        pol_snapshot_unref(s);
        pol_snapshot_build((const struct pol_record *const *)&r, 1, NULL, &s, &errs);
    }
    assert_true((pol_snapshot_generation(s) % 2 == 1) == allow);
    return s;
}

static void snapshot_swap_while_evaluating(void **state)
{
    GW_UNUSED(state);
    struct pol_record *allow = rec(POL_SCOPE_ENTERPRISE, NULL, POL_D_FEATURES, "ocip: true\n");
    struct pol_record *deny = rec(POL_SCOPE_ENTERPRISE, NULL, POL_D_FEATURES, "ocip: false\n");
    struct race r = {.e = pol_engine_new(gen_snapshot(allow, true))};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, evaluator, &r);
    for (int k = 0; k < 300; k++) {
        struct pol_snapshot *s = k % 2 ? gen_snapshot(allow, true) : gen_snapshot(deny, false);
        struct pol_snapshot *old = pol_engine_acquire(r.e);
        pol_snapshot_warm(s, old);
        pol_snapshot_unref(old);
        pol_engine_swap(r.e, s);
        /* the next decision uses the new snapshot */
        struct pol_snapshot *cur = pol_engine_acquire(r.e);
        assert_ptr_equal(cur, s);
        pol_snapshot_unref(cur);
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    /* a decision in flight keeps its snapshot across a swap (ASan: no use after free) */
    struct pol_snapshot *held = pol_engine_acquire(r.e);
    bool held_allows = pol_snapshot_generation(held) % 2 == 1;
    pol_engine_swap(r.e, held_allows ? gen_snapshot(deny, false) : gen_snapshot(allow, true));
    pol_engine_swap(r.e, held_allows ? gen_snapshot(deny, false) : gen_snapshot(allow, true));
    struct pol_request rq = {.tenant = T,
                             .user = "u1",
                             .action = POL_ACT_FEATURE_USE,
                             .resource = "ocip",
                             .classification = -1};
    struct pol_decision d;
    assert_int_equal(pol_decide(held, &rq, NULL, &d, NULL), held_allows ? POL_ALLOW : POL_DENY);
    struct pol_snapshot *now = pol_engine_acquire(r.e);
    assert_int_equal(pol_decide(now, &rq, NULL, &d, NULL), held_allows ? POL_DENY : POL_ALLOW);
    pol_snapshot_unref(now);
    pol_snapshot_unref(held);
    assert_true(atomic_load(&r.decisions) > 0);
    assert_int_equal(atomic_load(&r.mismatches), 0);
    pol_engine_free(r.e);
    pol_record_free(allow);
    pol_record_free(deny);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doc_parse_errors_name_fields),
        cmocka_unit_test(doc_yaml_and_json_agree),
        cmocka_unit_test(merge_direction_of_every_field),
        cmocka_unit_test(merge_never_loosens_without_validation),
        cmocka_unit_test(validation_lists_every_loosening),
        cmocka_unit_test(org_path_inheritance),
        cmocka_unit_test(deny_beats_approval_beats_allow),
        cmocka_unit_test(default_deny),
        cmocka_unit_test(fail_closed),
        cmocka_unit_test(explanation_names_deciding_scope),
        cmocka_unit_test(model_reroute_or_deny),
        cmocka_unit_test(data_export_and_agents),
        cmocka_unit_test(history_versions_and_records),
        cmocka_unit_test(cache_full_and_hits_agree),
        cmocka_unit_test(snapshot_swap_while_evaluating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
