/* SPDX-License-Identifier: MIT
 * test_auth_authn.c — the login methods table: which method claims which credential, in which
 * order (the methods themselves are exercised end to end by the integration tests).
 */
#include "base/prelude.h"
#include "auth/auth.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* The name of the first method that claims cr. */
static const char *claimed_by(const struct auth_ctx *x, const struct auth_credentials *cr)
{
    size_t n = 0;
    const struct auth_method *m = auth_methods(&n);
    for (size_t i = 0; i < n; i++)
        if (m[i].detect(x, cr))
            return m[i].name;
    return NULL;
}

static void order_and_detection(void **state)
{
    struct cfg_sso sso = {.enabled = true, .bearer_validation = CFG_BEARER_JWT};
    struct cfg_tenant tenant = {.id = "t", .sso = &sso, .primary = true};
    struct auth_ctx x = {.idp = &tenant};
    const char *jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl";
    struct auth_credentials cli = {.authorization = "Bearer " AUTH_CLI_ACCESS_PREFIX "abc"};
    struct auth_credentials idp = {.authorization = jwt};
    struct auth_credentials cookie = {.session_cookie = "ocs_secret"};
    struct auth_credentials both = {.authorization = "Bearer ocw_x", .session_cookie = "ocs_s"};
    struct auth_credentials token = {.authorization = "Bearer ocw_x"};
    struct auth_credentials none = {0};
    assert_string_equal(claimed_by(&x, &cli), "cli");
    assert_string_equal(claimed_by(&x, &idp), "idp_token");
    assert_string_equal(claimed_by(&x, &cookie), "session");
    /* an Authorization header wins over a cookie: the cookie is ignored */
    assert_string_equal(claimed_by(&x, &both), "token");
    assert_string_equal(claimed_by(&x, &token), "token");
    assert_string_equal(claimed_by(&x, &none), "token"); /* its error: missing header */
    /* without SSO only gateway tokens exist: nothing goes to an IdP or the session store */
    sso.enabled = false;
    assert_string_equal(claimed_by(&x, &cli), "token");
    assert_string_equal(claimed_by(&x, &idp), "token");
    assert_string_equal(claimed_by(&x, &cookie), "token");
    /* with bearer validation off a JWT is still the IdP's: refused with that reason, never
     * mistaken for an unknown gateway token */
    sso = (struct cfg_sso){.enabled = true, .bearer_validation = CFG_BEARER_NONE};
    assert_string_equal(claimed_by(&x, &idp), "idp_token");
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(order_and_detection)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
