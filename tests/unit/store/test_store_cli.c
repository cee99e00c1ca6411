/* SPDX-License-Identifier: MIT
 * test_store_cli.c — unit tests of the store's CLI sign-in (SQLite backend).
 *
 * Covers: codes consumed once with replay information, refresh rotation by compare-and-set,
 * reuse detection, and the idle purge of browser sessions only.
 */
#include "base/prelude.h"
#include "test_store.h"

/* --- CLI sign-in: codes, CLI sessions, refresh rotation (schema 8) ---------------------- */

static void test_cli_codes_single_use(void **state)
{
    struct fx *f = *state;
    struct store_cli_code c = {
        .code_hash = "c1",
        .tenant = "acme",
        .user_id = "alice",
        .identity = "{\"role\":\"user\"}",
        .browser_session = "b1",
        .challenge = "ch",
        .redirect_uri = "http://127.0.0.1:9/callback",
        .created_ms = 100,
        .expires_ms = 60100,
    };
    assert_int_equal(store_cli_code_insert(f->st, &c), GW_OK);
    struct store_cli_code got;
    assert_int_equal(store_cli_code_consume(f->st, "nope", 200, &got), GW_ENOTFOUND);
    assert_int_equal(store_cli_code_consume(f->st, "c1", 200, &got), GW_OK);
    assert_int_equal(got.consumed_ms, 0); /* first use */
    assert_string_equal(got.user_id, "alice");
    assert_string_equal(got.challenge, "ch");
    assert_string_equal(got.browser_session, "b1");
    assert_null(got.cli_session);
    store_cli_code_release(&got);
    assert_int_equal(store_cli_code_link(f->st, "c1", "s1"), GW_OK);
    /* a replay sees the first use and the session it produced */
    assert_int_equal(store_cli_code_consume(f->st, "c1", 300, &got), GW_OK);
    assert_int_equal(got.consumed_ms, 200);
    assert_string_equal(got.cli_session, "s1");
    store_cli_code_release(&got);
    /* purge keeps codes ten minutes past their expiry */
    assert_int_equal(store_cli_purge(f->st, 60100 + 599000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_auth_codes"), 1);
    assert_int_equal(store_cli_purge(f->st, 60100 + 600000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_auth_codes"), 0);
}

static void test_cli_sessions_rotate_and_detect_reuse(void **state)
{
    struct fx *f = *state;
    int64_t now = gw_now_ms();
    struct store_session s = {
        .id = "s1",
        .hash = "a1",
        .tenant = "acme",
        .user_id = "alice",
        .identity = "{}",
        .created_ms = now,
        .last_seen_ms = now - 86400000,
        .expires_ms = now + 3600000,
        .kind = "cli",
        .refresh_hash = "r1",
        .access_expires_ms = now + 60000,
    };
    assert_int_equal(store_session_insert(f->st, &s), GW_OK);
    struct store_session b = {
        .id = "b1",
        .hash = "bh",
        .tenant = "acme",
        .user_id = "alice",
        .created_ms = now,
        .last_seen_ms = now - 86400000,
        .expires_ms = now + 3600000,
    };
    assert_int_equal(store_session_insert(f->st, &b), GW_OK);
    struct store_session got;
    assert_int_equal(store_session_get(f->st, "bh", &got), GW_OK);
    assert_string_equal(got.kind, "browser"); /* the default kind */
    store_session_release(&got);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_OK);
    assert_string_equal(got.id, "s1");
    assert_string_equal(got.kind, "cli");
    assert_int_equal(got.access_expires_ms, now + 60000);
    store_session_release(&got);
    assert_int_equal(store_cli_refresh_find(f->st, "zz", &got), GW_ENOTFOUND);
    store_session_release(&got);

    struct store_cli_rotation r = {
        .id = "s1",
        .old_refresh_hash = "r1",
        .access_hash = "a2",
        .refresh_hash = "r2",
        .access_expires_ms = now + 120000,
        .expires_ms = now + 7200000,
        .now_ms = now,
    };
    assert_int_equal(store_cli_rotate(f->st, &r), GW_OK);
    /* the same refresh token a second time: compare-and-set fails, nothing changes */
    r.access_hash = "a3";
    r.refresh_hash = "r3";
    assert_int_equal(store_cli_rotate(f->st, &r), GW_ECONFLICT);
    assert_int_equal(store_session_get(f->st, "a2", &got), GW_OK);
    assert_string_equal(got.refresh_hash, "r2");
    assert_int_equal(got.expires_ms, now + 7200000);
    store_session_release(&got);
    assert_int_equal(store_session_get(f->st, "a1", &got), GW_ENOTFOUND);
    store_session_release(&got);
    /* the rotated token is recognized as used, naming its session */
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ECONFLICT);
    assert_string_equal(got.id, "s1");
    assert_string_equal(got.tenant, "acme");
    assert_string_equal(got.user_id, "alice");
    store_session_release(&got);

    /* idle limits apply to browser sessions only */
    assert_int_equal(store_sso_purge(f->st, now, now - 3600000), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE id = 's1'"), 1);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM sessions WHERE id = 'b1'"), 0);
    /* a revoked session still reveals a reused token until the purge */
    assert_int_equal(store_session_delete(f->st, "acme", "s1", NULL), GW_OK);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ECONFLICT);
    assert_null(got.user_id);
    store_session_release(&got);
    assert_int_equal(store_cli_purge(f->st, now), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM cli_refresh_used"), 0);
    assert_int_equal(store_cli_refresh_find(f->st, "r1", &got), GW_ENOTFOUND);
    store_session_release(&got);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cli_codes_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_sessions_rotate_and_detect_reuse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
