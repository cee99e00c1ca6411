/* SPDX-License-Identifier: MIT
 * test_auth_grants.c — namespace grants: who reaches which namespace (user, team, org unit
 * subtree, group glob, e-mail; org_admin subtree; enterprise_admin; ownerless tokens), how reach
 * combines with scopes and role permissions, delegation of channel scopes, effective scopes,
 * the authority rules for changing members, run-time members persisted in the store and the
 * denial messages. Against a real store in a scratch directory.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "config/config.h"
#include "store/store.h"
#include "test_tmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char yaml[] =
    "tenant: {id: acme}\n"
    "identity:\n"
    "  org_units: [engineering, engineering/platform, sales]\n"
    "  teams:\n"
    "    - {id: platform, org_unit: engineering/platform}\n"
    "    - {id: deals, org_unit: sales}\n"
    "namespaces:\n"
    "  engineering:\n"
    "    members: {org_units: [engineering], groups: [\"eng-*\"], users: [alice@company.com]}\n"
    "  infra:\n"
    "    members: {teams: [platform]}\n"
    "  marketing:\n"
    "    members: {groups: [\"CN=Marketing,OU=Groups\"]}\n"
    "  secret: {}\n";

struct fx {
    char dir[256];
    struct store *st;
    struct cfg *cfg;
    struct auth_grants *g;
    struct gw_pool *pool;
};

static int setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->dir, sizeof(f->dir), "test_auth_grants"));
    char *path = gw_xasprintf("%s/gateway.yaml", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(yaml, fp);
    fclose(fp);
    struct cfg_overrides ov = {.data_dir = f->dir};
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(path, &ov, &f->cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_error("%s\n", errs.msgs[i]);
    assert_int_equal(rc, GW_OK);
    free(path);
    assert_int_equal(store_open(f->dir, &f->st), GW_OK);
    assert_int_equal(auth_grants_open(f->st, f->cfg, &f->g), GW_OK);
    f->pool = gw_pool_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    gw_pool_free(f->pool);
    auth_grants_close(f->g);
    store_close(f->st);
    cfg_unref(f->cfg);
    test_rmtree(f->dir);
    free(f);
    return 0;
}

static const char *star[] = {"*"};
static const char *perms_user[] = {"channels:*", "memory:*", "audit:read"};
static const char *perms_org_admin[] = {"channels:*", "memory:*", "namespaces:*"};
static const char *perms_admin[] = {"*"};

/* An SSO-like principal (scopes "*", capped by role permissions), with the current grants. */
static struct auth_principal *person(struct fx *f, const char *user, const char *role,
                                     const char *org_unit, const char *team, const char **groups,
                                     size_t n_groups)
{
    struct auth_principal *p = gw_pool_calloc(f->pool, sizeof(*p));
    bool admin = !strcmp(role, "enterprise_admin"), org = !strcmp(role, "org_admin");
    *p = (struct auth_principal){.tenant = "acme",
                                 .actor = user,
                                 .user = user,
                                 .role = role,
                                 .org_unit = org_unit,
                                 .team = team,
                                 .scopes = star,
                                 .n_scopes = 1,
                                 .perms = admin ? perms_admin
                                          : org ? perms_org_admin
                                                : perms_user,
                                 .n_perms = admin ? 1 : 3,
                                 .groups = groups,
                                 .n_groups = n_groups};
    auth_principal_attach_grants(p, f->g, f->pool);
    return p;
}

static void reach_by_member_kind(void **state)
{
    struct fx *f = *state;
    /* org unit subtree: engineering covers engineering/platform, not "engineering-x" */
    struct auth_principal *bob = person(f, "bob", "user", "engineering/platform", NULL, NULL, 0);
    assert_true(auth_allows_channel(bob, "engineering", "reviewer"));
    assert_true(auth_allows_namespace(bob, "engineering"));
    assert_false(auth_allows_namespace(bob, "infra"));
    struct auth_principal *eve = person(f, "eve", "user", "engineering-x", NULL, NULL, 0);
    assert_false(auth_allows_namespace(eve, "engineering"));
    /* team */
    struct auth_principal *tom = person(f, "tom", "team_lead", "sales", "platform", NULL, 0);
    assert_true(auth_allows_channel(tom, "infra", "x"));
    assert_false(auth_allows_channel(tom, "engineering", "x"));
    /* group glob and exact group */
    const char *eng_groups[] = {"eng-backend"};
    assert_true(auth_reaches(person(f, "gus", "user", NULL, NULL, eng_groups, 1), "engineering"));
    const char *mkt[] = {"CN=Marketing,OU=Groups"}, *mkt2[] = {"CN=Marketing,OU=Groups2"};
    assert_true(auth_reaches(person(f, "mia", "user", NULL, NULL, mkt, 1), "marketing"));
    assert_false(auth_reaches(person(f, "max", "user", NULL, NULL, mkt2, 1), "marketing"));
    /* user id or e-mail */
    struct auth_principal *alice = person(f, "a1", "user", NULL, NULL, NULL, 0);
    assert_false(auth_reaches(alice, "engineering"));
    alice->email = "alice@company.com";
    assert_true(auth_reaches(alice, "engineering"));
    /* nobody but the enterprise admin reaches a namespace without members */
    assert_false(auth_reaches(tom, "secret"));
    struct auth_principal *root = person(f, "root", "enterprise_admin", NULL, NULL, NULL, 0);
    assert_true(auth_allows_namespace(root, "secret"));
    assert_true(auth_allows_namespace(root, "never-declared"));
    /* another tenant's enterprise admin reaches its own namespaces only: reach is per tenant,
     * and the tenant comes from the principal */
    struct auth_principal *other = person(f, "u", "user", "engineering", NULL, NULL, 0);
    other->tenant = "globex";
    assert_false(auth_reaches(other, "engineering"));
}

static void reach_is_capped_by_scopes_and_role(void **state)
{
    struct fx *f = *state;
    struct auth_principal *bob = person(f, "bob", "user", "engineering", NULL, NULL, 0);
    /* an owned token with a narrow scope reaches less than its owner */
    const char *narrow[] = {"channels:engineering/reviewer", "memory:read"};
    bob->scopes = narrow;
    bob->n_scopes = 2;
    assert_true(auth_allows_channel(bob, "engineering", "reviewer"));
    assert_false(auth_allows_channel(bob, "engineering", "writer"));
    /* a wide token owned by bob reaches only bob's namespaces */
    const char *wide[] = {"channels:*"};
    bob->scopes = wide;
    bob->n_scopes = 1;
    assert_true(auth_allows_channel(bob, "engineering", "writer"));
    assert_false(auth_allows_channel(bob, "marketing", "writer"));
    /* a role without channel permissions reaches no channel even with a grant */
    static const char *perms_support[] = {"stats:read"};
    bob->perms = perms_support;
    bob->n_perms = 1;
    assert_false(auth_allows_channel(bob, "engineering", "writer"));
    /* without grants attached (a principal nobody gave a set): no reach, fail closed */
    struct auth_principal bare = {.tenant = "acme",
                                  .actor = "x",
                                  .user = "x",
                                  .role = "user",
                                  .org_unit = "engineering",
                                  .scopes = star,
                                  .n_scopes = 1,
                                  .perms = perms_user,
                                  .n_perms = 3};
    assert_false(auth_allows_namespace(&bare, "engineering"));
    /* an ownerless token: its scopes decide, grants do not apply */
    const char *tok_scopes[] = {"channels:secret/*"};
    struct auth_principal tok = {.tenant = "acme",
                                 .actor = "token:t",
                                 .token_id = "t",
                                 .role = "token",
                                 .scopes = tok_scopes,
                                 .n_scopes = 1};
    assert_true(auth_allows_channel(&tok, "secret", "a"));
    assert_false(auth_allows_channel(&tok, "engineering", "a"));
}

static void org_admin_reaches_its_subtree(void **state)
{
    struct fx *f = *state;
    struct auth_principal *oa = person(f, "oa", "org_admin", "engineering", NULL, NULL, 0);
    assert_true(auth_reaches(oa, "engineering")); /* member by its own org unit */
    assert_true(auth_reaches(oa, "infra"));       /* team platform is in engineering/platform */
    assert_false(auth_reaches(oa, "marketing"));  /* a group: not its subtree */
    assert_false(auth_reaches(oa, "secret"));
    struct auth_principal *sales = person(f, "sa", "org_admin", "sales", NULL, NULL, 0);
    assert_false(auth_reaches(sales, "infra"));
    assert_false(auth_reaches(sales, "engineering"));
}

static void delegation_needs_reach(void **state)
{
    struct fx *f = *state;
    struct auth_principal *bob = person(f, "bob", "team_lead", "engineering", NULL, NULL, 0);
    static const char *perms_lead[] = {"channels:*", "memory:*", "tokens:*"};
    bob->perms = perms_lead;
    assert_true(auth_can_delegate(bob, "channels:engineering/*"));
    assert_false(auth_can_delegate(bob, "channels:marketing/*")); /* no grant: refused */
    assert_true(auth_can_delegate(bob, "channels:*"));            /* capped at use */
    assert_false(auth_can_delegate(bob, "*"));
    assert_false(auth_can_delegate(bob, "audit:read"));
}

static void effective_scopes_never_star_for_capped(void **state)
{
    struct fx *f = *state;
    struct auth_principal *bob = person(f, "bob", "user", "engineering", NULL, NULL, 0);
    size_t n = 0;
    const char **eff = auth_effective_scopes(bob, f->pool, &n);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(eff[i], "*");
    const char *mixed[] = {"memory:read", "tokens:write", "*:read"};
    bob->scopes = mixed;
    bob->n_scopes = 3;
    eff = auth_effective_scopes(bob, f->pool, &n);
    /* memory:read survives, tokens:write does not, "*:read" narrows to audit:read */
    assert_int_equal(n, 2);
    assert_string_equal(eff[0], "memory:read");
    assert_string_equal(eff[1], "audit:read");
}

static void changing_members(void **state)
{
    struct fx *f = *state;
    char msg[512];
    struct auth_principal *root = person(f, "root", "enterprise_admin", NULL, NULL, NULL, 0);
    struct auth_principal *oa = person(f, "oa", "org_admin", "engineering", NULL, NULL, 0);
    struct auth_principal *bob = person(f, "bob", "user", "engineering", NULL, NULL, 0);
    /* validation */
    assert_int_equal(auth_grant_check(root, "Bad", CFG_MEMBER_TEAM, "x", msg, sizeof msg),
                     GW_EINVAL);
    assert_int_equal(auth_grant_check(root, "ok", CFG_MEMBER_ORG_UNIT, "Eng//x", msg, sizeof msg),
                     GW_EINVAL);
    /* users hold no namespaces:write */
    assert_int_equal(auth_grant_check(bob, "engineering", CFG_MEMBER_USER, "bob", msg, sizeof msg),
                     GW_EFORBIDDEN);
    assert_non_null(strstr(msg, "namespaces:write"));
    /* an org_admin: inside its reach and its subtree only */
    assert_int_equal(auth_grant_check(oa, "infra", CFG_MEMBER_TEAM, "platform", msg, sizeof msg),
                     GW_OK);
    assert_int_equal(auth_grant_check(oa, "infra", CFG_MEMBER_TEAM, "deals", msg, sizeof msg),
                     GW_EFORBIDDEN);
    assert_int_equal(auth_grant_check(oa, "infra", CFG_MEMBER_GROUP, "x*", msg, sizeof msg),
                     GW_EFORBIDDEN);
    /* ... never itself into a namespace it does not reach (self-escalation) */
    assert_int_equal(auth_grant_check(oa, "secret", CFG_MEMBER_ORG_UNIT, "engineering", msg,
                                      sizeof msg),
                     GW_EFORBIDDEN);
    assert_non_null(strstr(msg, "no grant of namespace secret"));
    /* the enterprise admin adds a run-time member; it is persisted and reached at once */
    assert_false(auth_reaches(person(f, "s1", "user", "sales", "deals", NULL, 0), "secret"));
    assert_int_equal(auth_grant_check(root, "secret", CFG_MEMBER_TEAM, "deals", msg, sizeof msg),
                     GW_OK);
    assert_int_equal(auth_grant_add(f->g, root, "secret", CFG_MEMBER_TEAM, "deals", msg,
                                    sizeof msg),
                     GW_OK);
    assert_true(auth_reaches(person(f, "s1", "user", "sales", "deals", NULL, 0), "secret"));
    assert_int_equal(auth_grant_add(f->g, root, "secret", CFG_MEMBER_TEAM, "deals", msg,
                                    sizeof msg),
                     GW_ECONFLICT);
    /* a configuration member cannot be removed through the API */
    assert_int_equal(auth_grant_remove(f->g, root, "infra", CFG_MEMBER_TEAM, "platform", msg,
                                       sizeof msg),
                     GW_ECONFLICT);
    /* a restart (new registry on the same store) keeps the run-time member */
    struct auth_grants *again = NULL;
    assert_int_equal(auth_grants_open(f->st, f->cfg, &again), GW_OK);
    struct auth_grant_set *set = auth_grants_current(again);
    struct auth_member_info *m = NULL;
    size_t n = 0;
    auth_grants_members(set, "acme", "secret", f->pool, &m, &n);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].value, "deals");
    assert_string_equal(m[0].source, "api");
    assert_string_equal(m[0].created_by, "root");
    auth_grant_set_unref(set);
    auth_grants_close(again);
    /* removal */
    assert_int_equal(auth_grant_remove(f->g, root, "secret", CFG_MEMBER_TEAM, "deals", msg,
                                       sizeof msg),
                     GW_OK);
    assert_false(auth_reaches(person(f, "s1", "user", "sales", "deals", NULL, 0), "secret"));
    assert_int_equal(auth_grant_remove(f->g, root, "secret", CFG_MEMBER_TEAM, "deals", msg,
                                       sizeof msg),
                     GW_ENOTFOUND);
}

static void requests_keep_their_set(void **state)
{
    struct fx *f = *state;
    char msg[256];
    struct auth_principal *root = person(f, "root", "enterprise_admin", NULL, NULL, NULL, 0);
    struct auth_principal *before = person(f, "s2", "user", "sales", NULL, NULL, 0);
    assert_int_equal(auth_grant_add(f->g, root, "secret", CFG_MEMBER_ORG_UNIT, "sales", msg,
                                    sizeof msg),
                     GW_OK);
    /* a request in flight keeps the grants it started with; the next one sees the change */
    assert_false(auth_reaches(before, "secret"));
    assert_true(auth_reaches(person(f, "s2", "user", "sales", NULL, NULL, 0), "secret"));
}

static void denial_messages(void **state)
{
    struct fx *f = *state;
    char why[512];
    struct auth_principal *tom = person(f, "tom", "team_lead", "sales", "deals", NULL, 0);
    auth_deny_reason(tom, "engineering", "reviewer", why, sizeof why);
    assert_non_null(strstr(why, "no grant of namespace engineering to tom"));
    assert_non_null(strstr(why, "team deals"));
    assert_non_null(strstr(why, "openclaw namespaces grant engineering --team deals"));
    const char *narrow[] = {"memory:read"};
    tom->scopes = narrow;
    tom->n_scopes = 1;
    auth_deny_reason(tom, "engineering", "reviewer", why, sizeof why);
    assert_string_equal(why, "missing scope channels:engineering/reviewer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reach_by_member_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(reach_is_capped_by_scopes_and_role, setup, teardown),
        cmocka_unit_test_setup_teardown(org_admin_reaches_its_subtree, setup, teardown),
        cmocka_unit_test_setup_teardown(delegation_needs_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(effective_scopes_never_star_for_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(changing_members, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_keep_their_set, setup, teardown),
        cmocka_unit_test_setup_teardown(denial_messages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
