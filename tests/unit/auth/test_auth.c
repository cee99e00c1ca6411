/* SPDX-License-Identifier: MIT
 * test_auth.c — scope/permission matching, delegation, roles and throttling (the scope and
 * name grammar itself is tested with the configuration, which owns it); the checks of the
 * CLI sign-in (loopback redirect_uri, PKCE S256 with RFC 7636's example, verifier and state).
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "shared/shared.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static struct auth_principal principal(const char **scopes, size_t n, const char **perms, size_t np)
{
    struct auth_principal p = {.tenant = "t",
                               .actor = "token:x",
                               .token_id = "x",
                               .role = "token",
                               .scopes = scopes,
                               .n_scopes = n,
                               .perms = perms,
                               .n_perms = np};
    return p;
}

static void channel_matching(void **state)
{
    const char *eng[] = {"channels:engineering/*", "memory:read"};
    struct auth_principal p = principal(eng, 2, NULL, 0);
    assert_true(auth_allows_channel(&p, "engineering", "code-reviewer"));
    assert_false(auth_allows_channel(&p, "marketing", "content-writer"));
    assert_false(auth_allows_channel(&p, "engineering-evil", "x"));
    assert_true(auth_allows_namespace(&p, "engineering"));
    assert_false(auth_allows_namespace(&p, "marketing"));
    assert_true(auth_allows(&p, "memory:read"));
    assert_false(auth_allows(&p, "memory:write"));
    assert_false(auth_allows(&p, "*"));

    const char *prefix[] = {"channels:engineering/rev*"};
    p = principal(prefix, 1, NULL, 0);
    assert_true(auth_allows_channel(&p, "engineering", "reviewer"));
    assert_false(auth_allows_channel(&p, "engineering", "writer"));
    /* '*' never crosses '/' in channel scopes */
    assert_false(auth_pattern_grants("channels:eng*/x", "channels:eng/evil/x"));
    assert_false(auth_pattern_grants("channels:engineering/*", "channels:engineering/a/b"));
    assert_false(auth_pattern_grants("channels:e*/x", "channels:eng/y/x"));
}

static void owner_role_limits_token(void **state)
{
    const char *all[] = {"*"};
    const char *perms_user[] = {"channels:*", "memory:*", "audit:read"};
    struct auth_principal p = principal(all, 1, perms_user, 3);
    /* channels also need a namespace grant (test_auth_grants.c): none here */
    assert_false(auth_allows_channel(&p, "marketing", "x"));
    assert_true(auth_allows(&p, "memory:write"));
    assert_false(auth_allows(&p, "tokens:write"));
    assert_false(auth_allows(&p, "admin:reload"));
    assert_false(auth_allows(&p, "*"));
}

static void delegation(void **state)
{
    const char *eng[] = {"channels:engineering/*", "memory:read", "tokens:write"};
    struct auth_principal p = principal(eng, 3, NULL, 0);
    assert_true(auth_can_delegate(&p, "channels:engineering/*"));
    assert_true(auth_can_delegate(&p, "channels:engineering/code-reviewer"));
    assert_true(auth_can_delegate(&p, "memory:read"));
    assert_false(auth_can_delegate(&p, "memory:write"));
    assert_false(auth_can_delegate(&p, "channels:*/*"));
    assert_false(auth_can_delegate(&p, "channels:marketing/*"));
    assert_false(auth_can_delegate(&p, "*"));
}

static void roles(void **state)
{
    size_t n = 0;
    assert_non_null(auth_role_permissions(NULL, "enterprise_admin", &n));
    assert_int_equal(n, 1);
    assert_non_null(auth_role_permissions(NULL, "user", &n));
    assert_null(auth_role_permissions(NULL, "nobody", &n));
}

static void throttling(void **state)
{
    struct shared *ts = NULL;
    assert_int_equal(shared_open(NULL, &ts), GW_OK);
    struct auth_throttle *t = auth_throttle_new(ts);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(auth_throttle_check(t, "10.0.0.1", 5), 0);
        auth_throttle_fail(t, "10.0.0.1");
    }
    assert_int_equal(auth_throttle_check(t, "10.0.0.1", 5), 0);
    auth_throttle_fail(t, "10.0.0.1");
    unsigned wait = auth_throttle_check(t, "10.0.0.1", 5);
    assert_true(wait > 0 && wait <= 61);
    assert_int_equal(auth_throttle_check(t, "10.0.0.2", 5), 0);
    /* many addresses never grow the table or evict a busy one permanently */
    char ip[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(ip, sizeof(ip), "192.168.%d.%d", i / 256, i % 256);
        auth_throttle_fail(t, ip);
    }
    assert_int_equal(auth_throttle_check(t, "10.0.0.3", 5), 0);
    auth_throttle_free(t);
    shared_close(ts);
}

/* --- CLI sign-in: the checks of auth_cli.c ------------------------------------------------ */

static void cli_redirect_uris(void **state)
{
    static const char *const loopback[] = {
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback",
        "http://[::1]:8080/callback",
        "http://localhost:49152/callback",
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(loopback); i++)
        assert_int_equal(auth_cli_redirect_kind(loopback[i]), AUTH_CLI_REDIRECT_LOOPBACK);
    assert_int_equal(auth_cli_redirect_kind("urn:ietf:wg:oauth:2.0:oob"), AUTH_CLI_REDIRECT_OOB);
    static const char *const bad[] = {
        "https://127.0.0.1:8080/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:/callback",
        "http://127.0.0.1:0/callback",
        "http://127.0.0.1:65536/callback",
        "http://127.0.0.1:080/callback",
        "http://127.0.0.1:123456/callback",
        "http://127.0.0.1:8080/callback/",
        "http://127.0.0.1:8080/callback?x=1",
        "http://127.0.0.1:8080/callback#x",
        "http://127.0.0.1:8080/other",
        "http://127.0.0.1:8080",
        "http://127.0.0.2:8080/callback",
        "http://127.0.0.1:8080@evil.example/callback",
        "http://evil.example/callback",
        "http://localhost.evil.example:80/callback",
        "http://LOCALHOST:80/callback",
        "http://[::1]/callback",
        "http://[::2]:80/callback",
        "http://127.0.0.1:8x/callback",
        "urn:ietf:wg:oauth:2.0:oob:auto",
        "",
        "//127.0.0.1:80/callback",
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        if (auth_cli_redirect_kind(bad[i]) != AUTH_CLI_REDIRECT_INVALID)
            fail_msg("accepted redirect_uri %s", bad[i]);
    }
    assert_int_equal(auth_cli_redirect_kind(NULL), AUTH_CLI_REDIRECT_INVALID);
}

static void cli_pkce(void **state)
{
    /* RFC 7636 Appendix B */
    const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const char *ch = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert_true(auth_cli_pkce_matches(v, ch));
    assert_false(auth_cli_pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", ch));
    assert_false(auth_cli_pkce_matches(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
    assert_false(auth_cli_pkce_matches(NULL, ch));
    assert_true(auth_cli_challenge_ok(ch));
    assert_false(auth_cli_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
    assert_false(auth_cli_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="));
    assert_false(auth_cli_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.cM"));
    /* verifiers: 43-128 characters of the unreserved set */
    char buf[130];
    memset(buf, 'a', sizeof(buf));
    buf[42] = '\0';
    assert_false(auth_cli_verifier_ok(buf));
    buf[42] = '~';
    buf[43] = '\0';
    assert_true(auth_cli_verifier_ok(buf));
    buf[43] = 'a';
    buf[128] = '\0';
    assert_true(auth_cli_verifier_ok(buf));
    buf[128] = 'a';
    buf[129] = '\0';
    assert_false(auth_cli_verifier_ok(buf));
    assert_false(auth_cli_verifier_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+"));
    assert_true(auth_cli_state_ok("a"));
    assert_true(auth_cli_state_ok("Az09-._~"));
    assert_false(auth_cli_state_ok(""));
    assert_false(auth_cli_state_ok("a b"));
    assert_false(auth_cli_state_ok("a&b=c"));
    assert_true(auth_cli_is_access_token("oca_x"));
    assert_false(auth_cli_is_access_token("ocs_x"));
    assert_false(auth_cli_is_access_token("ocw_x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(channel_matching), cmocka_unit_test(owner_role_limits_token),
        cmocka_unit_test(delegation),       cmocka_unit_test(roles),
        cmocka_unit_test(throttling),       cmocka_unit_test(cli_redirect_uris),
        cmocka_unit_test(cli_pkce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
