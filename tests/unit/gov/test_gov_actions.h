/* SPDX-License-Identifier: MIT
 * test_gov_actions.h — a fake action table for the pipeline's tests (test_gov_act.c,
 * test_gov_approval.c): actions that take {"namespace", "agent", "text"}, classify the text like
 * the built-in tools, and record how they were run (how often, as whom, with which arguments,
 * and whether their write-ahead event was already durable).
 *
 * The policy bundle FAKE_POLICIES lets fake_read and fake_write run on their own, blocks
 * fake_blocked and leaves fake_gated to the default autonomy (approve).
 */
#ifndef GW_TEST_GOV_ACTIONS_H
#define GW_TEST_GOV_ACTIONS_H

#include "test_gov.h"
#include "base/json.h"

static const char FAKE_POLICIES[] = "- scope: enterprise\n"
                                    "  domain: actions\n"
                                    "  content:\n"
                                    "    default_autonomy: approve\n"
                                    "    autonomous: [fake_read, fake_write]\n"
                                    "    blocked: [fake_blocked]\n";

/* How the fakes ran since fake_reset. */
static struct {
    int runs;
    gw_err fail;       /* what run returns (GW_OK: succeeds) */
    const char *actor; /* whom the last run acted as (in the call's pool) */
    json_t *args;      /* the arguments the last run got */
    int level;         /* the target's level the last run got */
    bool ahead;        /* its "<audit>.invoked" event was durable when it ran */
} ran;

static inline void fake_reset(void)
{
    json_decref(ran.args);
    memset(&ran, 0, sizeof(ran));
    ran.level = -1;
}

static inline gw_err fake_check(const struct gov_call *gc, const json_t *args, struct gov_target *t,
                                char *msg, size_t cap)
{
    const char *ns = gw_json_str(args, "namespace"), *agent = gw_json_str(args, "agent");
    const char *text = gw_json_str(args, "text");
    if (!ns || !agent || !text) {
        snprintf(msg, cap, "fake actions take {\"namespace\", \"agent\", \"text\"}");
        return GW_EINVAL;
    }
    t->ns = gw_pool_strdup(gc->pool, ns);
    t->agent = gw_pool_strdup(gc->pool, agent);
    t->resource = gw_pool_printf(gc->pool, "%s/%s", ns, agent);
    t->level = pol_classify_raise(POL_LEVEL_INTERNAL, text, strlen(text));
    return GW_OK;
}

/* Is the event durable in the store now (no flush: what is written already)? */
static inline bool fake_durable(struct gov_call *gc, const char *type)
{
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    struct store_audit_filter flt = {.tenant = gc->tenant,
                                     .vis = STORE_AUDIT_VIS_ALL,
                                     .request_id = gc->request_id,
                                     .type = type};
    assert_int_equal(store_audit_query(gov_deps(gc->gov)->store, &flt, 10, &rows, &n), GW_OK);
    store_audit_rows_free(rows, n);
    return n > 0;
}

static inline gw_err fake_run(struct gov_call *gc, const json_t *args, const struct gov_target *t,
                              json_t **result, char *msg, size_t cap)
{
    ran.runs++;
    ran.actor = gw_pool_strdup(gc->pool, gc->p->actor);
    json_decref(ran.args);
    ran.args = json_deep_copy(args);
    ran.level = (int)t->level;
    ran.ahead = fake_durable(gc, "tool.invoked");
    if (ran.fail != GW_OK) {
        snprintf(msg, cap, "the fake failed");
        return ran.fail;
    }
    *result = json_pack("{s:s,s:s}", "ran", t->resource, "as", gc->p->actor);
    return GW_OK;
}

#define FAKE(id, mut, perm)                                                                        \
    static const struct gov_action id = {.name = #id,                                              \
                                         .pol = POL_ACT_TOOL_CALL,                                 \
                                         .scope = perm,                                            \
                                         .audit = "tool",                                          \
                                         .mutation = mut,                                          \
                                         .check = fake_check,                                      \
                                         .run = fake_run}
FAKE(fake_read, false, "memory:read");
FAKE(fake_write, true, "memory:write");
FAKE(fake_blocked, true, NULL);
FAKE(fake_gated, true, NULL);
#undef FAKE

static const struct gov_action *const fake_actions[] = {&fake_read, &fake_write, &fake_blocked,
                                                        &fake_gated};

static inline struct fx *fake_open(const char *yaml)
{
    struct gov_deps deps = {.actions = fake_actions, .n_actions = GW_ARRAY_LEN(fake_actions)};
    fake_reset();
    struct fx *f = fx_services(yaml, FAKE_POLICIES);
    fx_spine(f, &deps);
    return f;
}

/* {"namespace": ns, "agent": agent, "text": text} */
static inline json_t *fake_args(const char *ns, const char *agent, const char *text)
{
    return json_pack("{s:s,s:s,s:s}", "namespace", ns, "agent", agent, "text", text);
}

#endif
