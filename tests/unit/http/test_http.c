/* SPDX-License-Identifier: MIT
 * test_http.c — path segment decoding rules of the HTTP layer; addresses and CIDR blocks; the
 * real client behind trusted proxies (Forwarded, X-Forwarded-For, X-Forwarded-Proto).
 */
#include "base/prelude.h"
#include "base/cidr.h"
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

static void cidr(void **state)
{
    struct gw_cidr b, a;
    assert_true(gw_cidr_parse("10.0.0.0/8", &b));
    assert_true(gw_ip_parse("10.200.3.4", &a) && gw_cidr_contains(&b, &a));
    assert_true(gw_ip_parse("11.0.0.1", &a) && !gw_cidr_contains(&b, &a));
    assert_true(gw_ip_parse("::ffff:10.1.2.3", &a) && gw_cidr_contains(&b, &a)); /* mapped */
    assert_true(gw_cidr_parse("fd00::/8", &b));
    assert_true(gw_ip_parse("fd12::1", &a) && gw_cidr_contains(&b, &a));
    assert_true(gw_ip_parse("10.1.2.3", &a) && !gw_cidr_contains(&b, &a));
    assert_true(gw_cidr_parse("192.168.1.10", &b) && b.bits == 32);
    assert_true(gw_cidr_parse("0.0.0.0/0", &b));
    assert_true(gw_ip_parse("8.8.8.8", &a) && gw_cidr_contains(&b, &a));
    assert_true(gw_cidr_parse("10.0.0.0/9", &b));
    assert_true(gw_ip_parse("10.128.0.1", &a) && !gw_cidr_contains(&b, &a));
    static const char *const bad[] = {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/",    "10.0.0.0/08",
                                      "10.0.0/8",   "fd00::/129",  "host.example", "",
                                      "1.2.3.4/a",  NULL};
    for (size_t i = 0; bad[i]; i++)
        if (gw_cidr_parse(bad[i], &b))
            fail_msg("'%s' should not parse", bad[i]);
    assert_false(gw_cidr_list_contains(NULL, 0, "10.0.0.1"));
}

static const char *client_of(const char *fwd, const char *xff, const char *proto, bool *https)
{
    static char out[64];
    struct gw_cidr t[2];
    assert_true(gw_cidr_parse("10.0.0.0/8", &t[0]) && gw_cidr_parse("fd00::/8", &t[1]));
    snprintf(out, sizeof(out), "10.0.0.5"); /* the TCP peer, a trusted proxy */
    *https = false;
    http_forwarded_client(fwd, xff, proto, t, 2, out, sizeof(out), https);
    return out;
}

static void forwarded(void **state)
{
    bool https;
    /* the right-most untrusted hop is the client; what the client wrote to its left is not */
    assert_string_equal(client_of(NULL, "1.2.3.4", NULL, &https), "1.2.3.4");
    assert_string_equal(client_of(NULL, "6.6.6.6, 1.2.3.4", NULL, &https), "1.2.3.4");
    assert_string_equal(client_of(NULL, "6.6.6.6, 1.2.3.4, 10.9.9.9", NULL, &https), "1.2.3.4");
    /* only trusted hops: the left-most of them */
    assert_string_equal(client_of(NULL, "10.1.1.1, 10.2.2.2", NULL, &https), "10.1.1.1");
    /* garbage ends the walk at the last trusted hop */
    assert_string_equal(client_of(NULL, "1.2.3.4, junk, 10.2.2.2", NULL, &https), "10.2.2.2");
    assert_string_equal(client_of(NULL, "junk", NULL, &https), "10.0.0.5");
    assert_string_equal(client_of(NULL, NULL, NULL, &https), "10.0.0.5");
    /* more hops than are kept: the client's own 32 on the left cannot hide the proxy's one */
    char xff[1024] = "", fwd[1024] = "";
    for (int i = 0; i < 32; i++) {
        snprintf(xff + strlen(xff), sizeof(xff) - strlen(xff), "6.6.6.%d, ", i);
        snprintf(fwd + strlen(fwd), sizeof(fwd) - strlen(fwd), "for=6.6.6.%d, ", i);
    }
    snprintf(xff + strlen(xff), sizeof(xff) - strlen(xff), "1.2.3.4");
    snprintf(fwd + strlen(fwd), sizeof(fwd) - strlen(fwd), "for=1.2.3.4");
    assert_string_equal(client_of(NULL, xff, NULL, &https), "1.2.3.4");
    assert_string_equal(client_of(fwd, NULL, NULL, &https), "1.2.3.4");
    /* RFC 7239, with ports, quotes, IPv6, and precedence over X-Forwarded-For */
    assert_string_equal(client_of("for=192.0.2.60;proto=https;by=10.0.0.5", "9.9.9.9", NULL,
                                  &https),
                        "192.0.2.60");
    assert_true(https);
    assert_string_equal(client_of("for=\"[2001:db8:cafe::17]:4711\"", NULL, NULL, &https),
                        "2001:db8:cafe::17");
    assert_string_equal(client_of("for=6.6.6.6, for=198.51.100.17:80;proto=http, for=10.3.3.3",
                                  NULL, NULL, &https),
                        "198.51.100.17");
    assert_false(https);
    assert_string_equal(client_of("for=unknown", NULL, NULL, &https), "10.0.0.5");
    /* X-Forwarded-Proto: the right-most value is our proxy's */
    client_of(NULL, "1.2.3.4", "http, https", &https);
    assert_true(https);
    client_of(NULL, "1.2.3.4", "https, http", &https);
    assert_false(https);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(pct_decode), cmocka_unit_test(cidr),
                                       cmocka_unit_test(forwarded)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
