/* SPDX-License-Identifier: MIT
 * test_store_sso.c — unit tests of the store's single sign-on tables (SQLite backend).
 *
 * Covers: sessions (defaults on insert, conflicts, touch keeps the latest, listing order,
 * filters and limit, deletion by id and by user, tenancy), login states (counted per browser
 * binding, consumed once with the secrets erased, expiry), SAML assertion ids (first use wins,
 * per tenant), single logout by NameID and SessionIndex, users provisioned just in time
 * (upsert keeps created_ms and disabled), and the purge of what expired.
 */
#include "base/prelude.h"
#include "test_store.h"

static struct store_session session(const char *id, const char *hash, const char *tenant,
                                    const char *user, const char *identity, int64_t created)
{
    struct store_session s = {
        .id = (char *)id,
        .hash = (char *)hash,
        .tenant = (char *)tenant,
        .user_id = (char *)user,
        .identity = (char *)identity,
        .client_ip = (char *)"192.0.2.1",
        .created_ms = created,
        .last_seen_ms = created,
        .expires_ms = created + 3600000,
    };
    return s;
}

static void test_sessions(void **state)
{
    struct fx *f = *state;
    struct store_session a = session("s1", "h1", "acme", "alice", NULL, 1000);
    struct store_session b = session("s2", "h2", "acme", "bob", "{\"role\":\"user\"}", 2000);
    struct store_session c = session("s3", "h3", "acme", "alice", NULL, 3000);
    struct store_session g = session("s4", "h4", "globex", "alice", NULL, 4000);
    assert_int_equal(store_session_insert(f->st, &a), GW_OK);
    assert_int_equal(store_session_insert(f->st, &b), GW_OK);
    assert_int_equal(store_session_insert(f->st, &c), GW_OK);
    assert_int_equal(store_session_insert(f->st, &g), GW_OK);
    struct store_session dup = session("s1", "h9", "acme", "x", NULL, 1);
    assert_int_equal(store_session_insert(f->st, &dup), GW_ECONFLICT);
    dup = session("s9", "h2", "acme", "x", NULL, 1);
    assert_int_equal(store_session_insert(f->st, &dup), GW_ECONFLICT);

    /* identity and kind take their defaults; touch only moves last_seen_ms forward */
    assert_int_equal(store_session_touch(f->st, "h1", 5000), GW_OK);
    assert_int_equal(store_session_touch(f->st, "h1", 4000), GW_OK);
    struct store_session got;
    assert_int_equal(store_session_get(f->st, "h1", &got), GW_OK);
    assert_string_equal(got.id, "s1");
    assert_string_equal(got.tenant, "acme");
    assert_string_equal(got.user_id, "alice");
    assert_string_equal(got.identity, "{}");
    assert_string_equal(got.kind, "browser");
    assert_string_equal(got.client_ip, "192.0.2.1");
    assert_null(got.refresh_hash);
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(got.last_seen_ms, 5000);
    assert_int_equal(got.expires_ms, 3601000);
    store_session_release(&got);
    assert_int_equal(store_session_get(f->st, "nope", &got), GW_ENOTFOUND);

    /* newest first, per tenant, optionally one user, at most limit */
    struct store_session *l = NULL;
    size_t n = 0;
    assert_int_equal(store_session_list(f->st, "acme", NULL, 10, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].id, "s3");
    assert_string_equal(l[1].id, "s2");
    assert_string_equal(l[1].identity, "{\"role\":\"user\"}");
    assert_string_equal(l[2].id, "s1");
    store_session_list_free(l, n);
    assert_int_equal(store_session_list(f->st, "acme", "alice", 1, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "s3");
    store_session_list_free(l, n);

    /* deletion by public id names the owner; another tenant's id is not found */
    char *user = NULL;
    assert_int_equal(store_session_delete(f->st, "globex", "s2", &user), GW_ENOTFOUND);
    assert_null(user);
    assert_int_equal(store_session_delete(f->st, "acme", "s2", &user), GW_OK);
    assert_string_equal(user, "bob");
    free(user);
    assert_int_equal(store_session_delete(f->st, "acme", "s2", NULL), GW_ENOTFOUND);
    size_t removed = 0;
    assert_int_equal(store_session_delete_user(f->st, "acme", "alice", &removed), GW_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions"), 1); /* globex's */
}

static void test_login_states(void **state)
{
    struct fx *f = *state;
    struct store_login_state s = {
        .state_hash = "st1",
        .tenant = "acme",
        .binding_hash = "b1",
        .nonce = "n1",
        .verifier = "v1",
        .return_to = "/ui",
        .created_ms = 1000,
        .expires_ms = 61000,
    };
    assert_int_equal(store_login_state_insert(f->st, &s), GW_OK);
    s.state_hash = "st2";
    s.created_ms = 2000;
    s.expires_ms = 3000; /* expires before it is used */
    assert_int_equal(store_login_state_insert(f->st, &s), GW_OK);
    size_t n = 0;
    assert_int_equal(store_login_state_count(f->st, "b1", 1000, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_login_state_count(f->st, "b1", 1500, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_login_state_count(f->st, "b2", 0, &n), GW_OK);
    assert_int_equal(n, 0);

    struct store_login_state got;
    assert_int_equal(store_login_state_consume(f->st, "st1", 5000, &got), GW_OK);
    assert_string_equal(got.state_hash, "st1");
    assert_string_equal(got.tenant, "acme");
    assert_string_equal(got.binding_hash, "b1");
    assert_string_equal(got.nonce, "n1");
    assert_string_equal(got.verifier, "v1");
    assert_string_equal(got.return_to, "/ui");
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(got.expires_ms, 61000);
    store_login_state_release(&got);
    assert_null(got.nonce);
    /* single use, and the secrets are gone from the table */
    assert_int_equal(store_login_state_consume(f->st, "st1", 5000, &got), GW_ENOTFOUND);
    assert_null(got.tenant);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sso_login_states WHERE "
                                    "state_hash = 'st1' AND nonce IS NULL AND verifier IS NULL "
                                    "AND consumed_ms = 5000"),
                     1);
    assert_int_equal(store_login_state_consume(f->st, "st2", 5000, &got), GW_ENOTFOUND);
    assert_int_equal(store_login_state_consume(f->st, "nope", 5000, &got), GW_ENOTFOUND);
    /* a used state still counts for redirect-loop detection */
    assert_int_equal(store_login_state_count(f->st, "b1", 0, &n), GW_OK);
    assert_int_equal(n, 2);
}

static void test_saml_assertions_and_logout(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_saml_assertion_use(f->st, "acme", "a1", 9000), GW_OK);
    assert_int_equal(store_saml_assertion_use(f->st, "acme", "a1", 9000), GW_ECONFLICT);
    assert_int_equal(store_saml_assertion_use(f->st, "globex", "a1", 9000), GW_OK);

    const char *idp1 = "{\"saml\":{\"name_id\":\"alice@idp\",\"session_index\":\"i1\"}}";
    const char *idp2 = "{\"saml\":{\"name_id\":\"alice@idp\",\"session_index\":\"i2\"}}";
    struct store_session s1 = session("s1", "h1", "acme", "alice", idp1, 1000);
    struct store_session s2 = session("s2", "h2", "acme", "alice", idp2, 2000);
    struct store_session s3 = session("s3", "h3", "globex", "alice", idp1, 3000);
    assert_int_equal(store_session_insert(f->st, &s1), GW_OK);
    assert_int_equal(store_session_insert(f->st, &s2), GW_OK);
    assert_int_equal(store_session_insert(f->st, &s3), GW_OK);

    size_t n = 0;
    char *user = NULL;
    assert_int_equal(store_session_delete_saml(f->st, "acme", "alice@idp", "i2", &n, &user), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(user, "alice");
    free(user);
    user = NULL;
    assert_int_equal(store_session_get(f->st, "h1", &s1), GW_OK); /* the other index stays */
    store_session_release(&s1);
    assert_int_equal(store_session_delete_saml(f->st, "acme", "bob@idp", NULL, &n, &user), GW_OK);
    assert_int_equal(n, 0);
    assert_null(user);
    assert_int_equal(store_session_delete_saml(f->st, "acme", "alice@idp", NULL, &n, NULL), GW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE tenant = 'globex'"), 1);
}

static void test_sso_users(void **state)
{
    struct fx *f = *state;
    struct store_sso_user u = {
        .tenant = "acme",
        .id = "alice",
        .email = "alice@acme.test",
        .name = "Alice",
        .role = "user",
        .org_unit = "eng",
        .team = "red",
        .last_login_ms = 1000,
    };
    assert_int_equal(store_sso_user_upsert(f->st, &u), GW_OK);
    struct store_sso_user got;
    assert_int_equal(store_sso_user_get(f->st, "acme", "alice", &got), GW_OK);
    assert_string_equal(got.email, "alice@acme.test");
    assert_string_equal(got.groups, "[]");
    assert_false(got.disabled);
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(got.last_login_ms, 1000);
    store_sso_user_release(&got);

    /* a later login updates the profile but keeps created_ms and an operator's disable */
    raw_exec(f->db, "UPDATE sso_users SET disabled = 1 WHERE id = 'alice'");
    u.email = "alice@new.test";
    u.groups = "[\"admins\"]";
    u.last_login_ms = 5000;
    assert_int_equal(store_sso_user_upsert(f->st, &u), GW_OK);
    assert_int_equal(store_sso_user_get(f->st, "acme", "alice", &got), GW_OK);
    assert_string_equal(got.tenant, "acme");
    assert_string_equal(got.id, "alice");
    assert_string_equal(got.email, "alice@new.test");
    assert_string_equal(got.name, "Alice");
    assert_string_equal(got.role, "user");
    assert_string_equal(got.org_unit, "eng");
    assert_string_equal(got.team, "red");
    assert_string_equal(got.groups, "[\"admins\"]");
    assert_true(got.disabled);
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(got.last_login_ms, 5000);
    store_sso_user_release(&got);
    assert_int_equal(store_sso_user_get(f->st, "globex", "alice", &got), GW_ENOTFOUND);
}

static void test_sso_purge(void **state)
{
    struct fx *f = *state;
    struct store_session live = session("s1", "h1", "acme", "alice", NULL, 1000);
    struct store_session ended = session("s2", "h2", "acme", "bob", NULL, 1000);
    ended.expires_ms = 2000;
    assert_int_equal(store_session_insert(f->st, &live), GW_OK);
    assert_int_equal(store_session_insert(f->st, &ended), GW_OK);
    struct store_login_state st = {.state_hash = "st1",
                                   .tenant = "acme",
                                   .binding_hash = "b",
                                   .nonce = "n",
                                   .created_ms = 0,
                                   .expires_ms = 1000};
    assert_int_equal(store_login_state_insert(f->st, &st), GW_OK);
    st.state_hash = "st2";
    st.expires_ms = 50000;
    assert_int_equal(store_login_state_insert(f->st, &st), GW_OK);
    assert_int_equal(store_saml_assertion_use(f->st, "acme", "old", 5000), GW_OK);
    assert_int_equal(store_saml_assertion_use(f->st, "acme", "new", 90000), GW_OK);

    assert_int_equal(store_sso_purge(f->st, 70000, 0), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE id = 's1'"), 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions"), 1);
    /* login states stay a minute past their expiry */
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sso_login_states"), 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM saml_assertions"), 1);
    assert_int_equal(store_saml_assertion_use(f->st, "acme", "old", 5000), GW_OK);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saml_assertions_and_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_users, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sso_purge, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
