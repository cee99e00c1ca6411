/* SPDX-License-Identifier: MIT
 * test_http.c — path segment decoding rules of the HTTP layer.
 */
#include "base/prelude.h"
#include "http/http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static void pct_decode(void **state)
{
    char out[32];
    assert_true(http_pct_decode("abc", 3, out, sizeof(out)));
    assert_string_equal(out, "abc");
    assert_true(http_pct_decode("%2e%2E", 6, out, sizeof(out)));
    assert_string_equal(out, "..");
    assert_true(http_pct_decode("a%2fb", 5, out, sizeof(out)));
    assert_string_equal(out, "a/b"); /* stays one segment: the router refuses the '/' */
    assert_true(http_pct_decode("%252e", 5, out, sizeof(out)));
    assert_string_equal(out, "%2e"); /* decoded once only */
    assert_false(http_pct_decode("%00", 3, out, sizeof(out)));
    assert_false(http_pct_decode("%", 1, out, sizeof(out)));
    assert_false(http_pct_decode("%2", 2, out, sizeof(out)));
    assert_false(http_pct_decode("%zz", 3, out, sizeof(out)));
    assert_false(http_pct_decode("abcdefgh", 8, out, 4)); /* overflow */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(pct_decode)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
