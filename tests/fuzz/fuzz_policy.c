/* SPDX-License-Identifier: MIT
 * fuzz_policy.c — policy documents (src/policy): parse (pol_doc_parse, YAML or JSON, every
 * domain), write-time validation against a parent chain (pol_validate), and the hierarchy
 * rule the engine promises: a lower scope can only restrict.
 *
 * The first input byte chooses the domain (mod 7), the format (auto, JSON, YAML) and where the
 * document sits (org "engineering", team "core" in engineering/platform, or user "bob" of that
 * team); the rest is the document. Under it sit enterprise policies of every domain and an org
 * policy for actions, made at start.
 * Checks, for a document that parses: its JSON form parses back to the same JSON and a clone
 * differs from it in nothing; then, with the document added, no decision over a set of
 * requests of its domain is more permissive than without it (allow < require_approval < deny).
 */
#include "base/prelude.h"
#include "base/json.h"
#include "policy/policy.h"
#include "fuzz.h"

#define T "acme"

static const char *const parents[POL_D__COUNT] = {
    [POL_D_MODELS] = "allowed_providers: ['*']\nallowed_models: ['*']\n"
                     "sensitive_data_model: ollama/llama3\n"
                     "max_classification_external: confidential\nmonthly_max_usd: 1000\n",
    [POL_D_ACTIONS] = "default_autonomy: notify\nblocked: [rm]\nautonomous: [search, memory_read]\n"
                      "per_action: {send_email: approve, search: notify}\n",
    [POL_D_INTEGRATIONS] = "default_permissions: write\nconnectors:\n"
                           "  github: {enabled: true, permissions: admin, "
                           "max_classification: confidential}\n  jira: {enabled: true}\n",
    [POL_D_A2A] = "enabled: true\nallowed_exchange_types: [information_query, commitment_request]\n"
                  "max_rounds: 5\ncross_org: true\nmax_classification_shared: confidential\n",
    [POL_D_FEATURES] = "daily_briefing: true\nauto_response: true\nwork_tracking: true\n"
                       "ocip: true\norg_intelligence: true\nvisualization: true\n",
    [POL_D_DATA] = "retention_days: 365\nallow_data_export: true\n"
                   "export_max_classification: confidential\nredact_external: false\n",
    [POL_D_AUDIT] = "retention_years: 1\nalert_on_deny: false\n",
};

/* The requests compared for each domain: action, resources and context. */
static const enum pol_action action_of[POL_D__COUNT] = {
    [POL_D_MODELS] = POL_ACT_MODEL_CALL,
    [POL_D_ACTIONS] = POL_ACT_TOOL_CALL,
    [POL_D_INTEGRATIONS] = POL_ACT_CONNECTOR_WRITE,
    [POL_D_A2A] = POL_ACT_AGENT_MESSAGE,
    [POL_D_FEATURES] = POL_ACT_FEATURE_USE,
    [POL_D_DATA] = POL_ACT_DATA_EXPORT,
    [POL_D_AUDIT] = POL_ACT_TOOL_CALL,
};
static const char *const resources[POL_D__COUNT][3] = {
    [POL_D_MODELS] = {"openai/gpt-4o", "ollama/llama3", "anthropic/claude"},
    [POL_D_ACTIONS] = {"search", "rm", "send_email"},
    [POL_D_INTEGRATIONS] = {"github", "jira", "gmail"},
    [POL_D_A2A] = {"engineering/reviewer", "marketing/writer", "x"},
    [POL_D_FEATURES] = {"daily_briefing", "ocip", "visualization"},
    [POL_D_DATA] = {"siem", "s3://bucket", ""},
    [POL_D_AUDIT] = {"search", "memory_read", "send_email"},
};
static const struct pol_kv contexts[2][8] = {
    {{"provider", "openai"},
     {"provider_kind", "external"},
     {"provider_ceiling", "internal"},
     {"spent_usd", "10"},
     {"exchange_type", "information_query"},
     {"rounds", "1"},
     {"destination", "internal"},
     {"visibility", "private"}},
    {{"provider", "ollama"},
     {"provider_kind", "self_hosted"},
     {"provider_ceiling", "restricted"},
     {"spent_usd", "5000"},
     {"exchange_type", "commitment_request"},
     {"rounds", "4"},
     {"destination", "external"},
     {"target_org", "marketing"}},
};

static struct pol_record *recs[POL_D__COUNT + 2];
static size_t n_recs;
static struct pol_snapshot *base;

static struct pol_record *record(const char *id, enum pol_scope scope, const char *scope_id,
                                 enum pol_domain d, const struct pol_doc *doc)
{
    struct pol_record *r = gw_xcalloc(1, sizeof(*r));
    r->id = gw_xstrdup(id);
    r->tenant = gw_xstrdup(T);
    r->scope = scope;
    r->scope_id = scope_id ? gw_xstrdup(scope_id) : NULL;
    r->domain = d;
    r->version = 1;
    r->content = pol_doc_clone(doc);
    r->author = gw_xstrdup("fuzz");
    r->created_ms = INT64_C(1700000000000);
    r->change_reason = gw_xstrdup("fuzz");
    return r;
}

static struct pol_snapshot *build(void)
{
    struct pol_snapshot *s = NULL;
    struct pol_issues errs = {0};
    FUZZ_CHECK(pol_snapshot_build((const struct pol_record *const *)recs, n_recs, NULL, &s,
                                  &errs) == GW_OK);
    pol_issues_release(&errs);
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (int d = 0; d < POL_D__COUNT; d++) {
        struct pol_issues errs = {0};
        struct pol_doc *doc = pol_doc_parse(d, parents[d], strlen(parents[d]), POL_FMT_YAML, &errs);
        FUZZ_CHECK(doc);
        char id[16];
        snprintf(id, sizeof(id), "ent-%d", d);
        recs[n_recs++] = record(id, POL_SCOPE_ENTERPRISE, NULL, d, doc);
        pol_doc_free(doc);
    }
    const char *org = "default_autonomy: approve\nblocked: [drop_table]\n";
    struct pol_issues errs = {0};
    struct pol_doc *doc = pol_doc_parse(POL_D_ACTIONS, org, strlen(org), POL_FMT_YAML, &errs);
    FUZZ_CHECK(doc);
    recs[n_recs++] = record("org-actions", POL_SCOPE_ORG, "engineering", POL_D_ACTIONS, doc);
    pol_doc_free(doc);
    base = build();
    return 0;
}

static void round_trips(const struct pol_doc *doc, enum pol_domain d)
{
    json_t *j = pol_doc_to_json(doc);
    struct pol_issues errs = {0};
    struct pol_doc *back = pol_doc_from_json(d, j, &errs);
    FUZZ_CHECK(back);
    json_t *j2 = pol_doc_to_json(back);
    FUZZ_CHECK(json_equal(j, j2));
    struct pol_doc *clone = pol_doc_clone(doc);
    json_t *diff = pol_doc_diff(doc, clone);
    FUZZ_CHECK(json_array_size(diff) == 0);
    json_decref(diff);
    pol_doc_free(clone);
    json_decref(j2);
    pol_doc_free(back);
    json_decref(j);
}

/* No request of the domain gets a more permissive effect with the document than without. */
static void only_restricts(const struct pol_doc *doc, enum pol_domain d,
                           const struct pol_position *pos)
{
    recs[n_recs] = record("fz", pos->scope, pos->scope_id, d, doc);
    n_recs++;
    struct pol_snapshot *with = build();
    n_recs--;
    pol_record_free(recs[n_recs]);
    for (size_t r = 0; r < 3; r++)
        for (int level = POL_LEVEL_UNKNOWN; level < POL_LEVEL__COUNT; level++)
            for (size_t c = 0; c < 2; c++) {
                struct pol_request rq = {.tenant = T,
                                         .user = "bob",
                                         .role = "user",
                                         .org_unit = "engineering/platform",
                                         .team = "core",
                                         .action = action_of[d],
                                         .resource = resources[d][r],
                                         .classification = level,
                                         .ctx = contexts[c],
                                         .n_ctx = 8};
                struct pol_decision a, b;
                struct pol_trace trace;
                pol_decide(base, &rq, NULL, &a, NULL);
                pol_decide(with, &rq, NULL, &b, &trace);
                if (b.effect < a.effect)
                    fprintf(stderr, "%s %s level %d ctx %zu: %s without, %s with (%s)\n",
                            pol_action_name(rq.action), rq.resource, level, c,
                            pol_effect_name(a.effect), pol_effect_name(b.effect), b.reason);
                FUZZ_CHECK(b.effect >= a.effect);
            }
    pol_snapshot_unref(with);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum pol_domain d = data[0] % POL_D__COUNT;
    static const enum pol_format fmts[] = {POL_FMT_AUTO, POL_FMT_JSON, POL_FMT_YAML};
    enum pol_format fmt = fmts[(data[0] / POL_D__COUNT) % 3];
    static const struct pol_position positions[] = {
        {.tenant = T, .scope = POL_SCOPE_ORG, .scope_id = "engineering"},
        {.tenant = T,
         .scope = POL_SCOPE_TEAM,
         .scope_id = "core",
         .org_unit = "engineering/platform"},
        {.tenant = T,
         .scope = POL_SCOPE_USER,
         .scope_id = "bob",
         .org_unit = "engineering/platform",
         .team = "core"},
    };
    const struct pol_position *pos = &positions[(data[0] / (POL_D__COUNT * 3)) % 3];
    struct pol_issues errs = {0};
    struct pol_doc *doc = pol_doc_parse(d, (const char *)data + 1, size - 1, fmt, &errs);
    if (!doc) {
        FUZZ_CHECK(errs.n > 0);
        pol_issues_release(&errs);
        return 0;
    }
    FUZZ_CHECK(errs.n == 0);
    round_trips(doc, d);
    pol_validate(base, pos, doc, &errs);
    pol_issues_release(&errs);
    only_restricts(doc, d, pos);
    pol_doc_free(doc);
    return 0;
}
