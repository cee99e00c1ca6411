/* SPDX-License-Identifier: MIT
 * test_policy_classify.c — classification: connector defaults, content detectors (e-mail,
 * phone, payment card with Luhn, national ids, API keys, private keys), false-positive
 * resistance, raise-only semantics and linear time on hostile input.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "policy/policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

struct hits {
    unsigned n[POL_DET__COUNT];
};

static void on_finding(void *arg, enum pol_detector d, size_t off, size_t len)
{
    GW_UNUSED(off);
    GW_UNUSED(len);
    ((struct hits *)arg)->n[d]++;
}

static struct hits scan(const char *s)
{
    struct hits h = {{0}};
    pol_classify_scan(s, strlen(s), on_finding, &h);
    return h;
}

static void expect(const char *text, int det, enum pol_level level)
{
    struct hits h = scan(text);
    for (int d = 0; d < POL_DET__COUNT; d++)
        if ((d == det) != (h.n[d] > 0))
            fail_msg("'%s': detector %s %s", text, pol_detector_name((enum pol_detector)d),
                     h.n[d] ? "fired" : "did not fire");
    assert_int_equal(pol_classify_text(text, strlen(text)), level);
}

static void emails_and_phones_are_internal(void **state)
{
    GW_UNUSED(state);
    expect("write to jane.doe+ops@example.co.uk today", POL_DET_EMAIL, POL_LEVEL_INTERNAL);
    expect("<a.b@sub.example.com>", POL_DET_EMAIL, POL_LEVEL_INTERNAL);
    expect("call (415) 555-0132 now", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("call 415-555-0132", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("call 415.555.0132", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("call +1 415 555 0132", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("call 1-800-555-0199", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("London +44 20 7946 0958", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    expect("Paris +33 1 23 45 67 89.", POL_DET_PHONE, POL_LEVEL_INTERNAL);
    /* not e-mail / not phones */
    expect("user@localhost and @mention and a@b", -1, POL_LEVEL_PUBLIC);
    expect("area code 055-555-0132 is invalid", -1, POL_LEVEL_PUBLIC);
}

static void cards_need_luhn_and_issuer(void **state)
{
    GW_UNUSED(state);
    expect("card 4111 1111 1111 1111 exp 12/29", POL_DET_CARD, POL_LEVEL_CONFIDENTIAL);
    expect("card 4111-1111-1111-1111", POL_DET_CARD, POL_LEVEL_CONFIDENTIAL);
    expect("4111111111111111", POL_DET_CARD, POL_LEVEL_CONFIDENTIAL);
    expect("amex 378282246310005", POL_DET_CARD, POL_LEVEL_CONFIDENTIAL);
    expect("mc 5555555555554444", POL_DET_CARD, POL_LEVEL_CONFIDENTIAL);
    /* Luhn fails */
    expect("card 4111 1111 1111 1112", -1, POL_LEVEL_PUBLIC);
    expect("order 4111111111111112 shipped", -1, POL_LEVEL_PUBLIC);
    /* Luhn passes but no card issuer starts with 1 */
    expect("tracking 1000000000000008", -1, POL_LEVEL_PUBLIC);
    /* mixed separators and overlong runs are not cards */
    expect("4111 1111-1111 1111", -1, POL_LEVEL_PUBLIC);
    expect("41111111111111111111111", -1, POL_LEVEL_PUBLIC);
}

static void national_ids(void **state)
{
    GW_UNUSED(state);
    expect("SSN 123-45-6789.", POL_DET_NATIONAL_ID, POL_LEVEL_CONFIDENTIAL);
    /* never-issued SSN ranges */
    expect("000-12-3456", -1, POL_LEVEL_PUBLIC);
    expect("666-12-3456", -1, POL_LEVEL_PUBLIC);
    expect("912-34-5678", -1, POL_LEVEL_PUBLIC);
    expect("123-00-4567", -1, POL_LEVEL_PUBLIC);
    expect("123-45-0000", -1, POL_LEVEL_PUBLIC);
    /* a bare 9-digit number is not an SSN */
    expect("ref 123456789", -1, POL_LEVEL_PUBLIC);
    /* UK National Insurance number */
    expect("NI: AB123456C", POL_DET_NATIONAL_ID, POL_LEVEL_CONFIDENTIAL);
    expect("NI: AB 12 34 56 C", POL_DET_NATIONAL_ID, POL_LEVEL_CONFIDENTIAL);
    expect("NI: GB123456A", -1, POL_LEVEL_PUBLIC); /* invalid prefix */
    expect("NI: AB123456E", -1, POL_LEVEL_PUBLIC); /* suffix A-D only */
    /* Canadian SIN (Luhn) */
    expect("SIN 130 692 544", POL_DET_NATIONAL_ID, POL_LEVEL_CONFIDENTIAL);
    expect("SIN 130 692 545", -1, POL_LEVEL_PUBLIC);
    expect("SIN 046 454 286", -1, POL_LEVEL_PUBLIC); /* 0: not assigned */
}

static void api_and_private_keys(void **state)
{
    GW_UNUSED(state);
    expect("OPENAI_API_KEY is sk-proj-abcDEF1234567890abcdefXYZ", POL_DET_API_KEY,
           POL_LEVEL_CONFIDENTIAL);
    expect("aws AKIAIOSFODNN7EXAMPLE", POL_DET_API_KEY, POL_LEVEL_CONFIDENTIAL);
    expect("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", POL_DET_API_KEY,
           POL_LEVEL_CONFIDENTIAL);
    expect("slack xoxb-123456789012-abcdefABCDEF", POL_DET_API_KEY, POL_LEVEL_CONFIDENTIAL);
    expect("config: api_key=\"f3Kd92LmQx7Zt0Wp4Rb8\"", POL_DET_API_KEY, POL_LEVEL_CONFIDENTIAL);
    expect("{\"client_secret\": \"9aF3kL0pQ2zX7mN4vB6c\"}", POL_DET_API_KEY,
           POL_LEVEL_CONFIDENTIAL);
    /* low-diversity or short values are not keys */
    expect("api_key=aaaaaaaaaaaaaaaaaaaaaaaa1", -1, POL_LEVEL_PUBLIC);
    expect("password: hunter2", -1, POL_LEVEL_PUBLIC);
    expect("the task-runner and sk-short", -1, POL_LEVEL_PUBLIC);
    expect("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----",
           POL_DET_PRIVATE_KEY, POL_LEVEL_RESTRICTED);
    expect("-----BEGIN OPENSSH PRIVATE KEY-----", POL_DET_PRIVATE_KEY, POL_LEVEL_RESTRICTED);
    expect("-----BEGIN PRIVATE KEY-----", POL_DET_PRIVATE_KEY, POL_LEVEL_RESTRICTED);
    expect("-----BEGIN PUBLIC KEY-----", -1, POL_LEVEL_PUBLIC);
    expect("-----BEGIN CERTIFICATE-----", -1, POL_LEVEL_PUBLIC);
}

static void false_positive_resistance(void **state)
{
    GW_UNUSED(state);
    const char *benign[] = {
        "Meeting on 2024-01-15 at 10:30:00, then 2024/02/01.",
        "Order #123456789012 and ORD-2024-000123 shipped; invoice INV-4411-2290.",
        "Version 1.2.3.4 on 10.0.0.12:8080, build 20240115123000.",
        "Totals: 1,234,567.89 USD; ratio 3/4; 1999-2024 history.",
        "ISBN 978-3-16-148410-0 and zip 94105-1234.",
        "See https://example.com/path?id=42 and the README.md.",
        "Call extension 5501 or room 123-4.",
        "",
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(benign); i++)
        expect(benign[i], -1, POL_LEVEL_PUBLIC);
}

static void highest_level_and_raise_only(void **state)
{
    GW_UNUSED(state);
    const char *mix =
        "mail bob@example.com, card 4111111111111111, key -----BEGIN EC PRIVATE KEY-----";
    assert_int_equal(pol_classify_text(mix, strlen(mix)), POL_LEVEL_RESTRICTED);
    assert_int_equal(pol_classify_raise(POL_LEVEL_CONFIDENTIAL, "hello", 5),
                     POL_LEVEL_CONFIDENTIAL);
    assert_int_equal(pol_classify_raise(POL_LEVEL_PUBLIC, "a@example.org", 13), POL_LEVEL_INTERNAL);
    assert_int_equal(pol_level_max(POL_LEVEL_INTERNAL, POL_LEVEL_CONFIDENTIAL),
                     POL_LEVEL_CONFIDENTIAL);
    /* connector defaults: private GitHub repositories are internal, not public */
    assert_int_equal(pol_classify_connector("github", POL_VIS_PUBLIC), POL_LEVEL_PUBLIC);
    assert_int_equal(pol_classify_connector("github", POL_VIS_PRIVATE), POL_LEVEL_INTERNAL);
    assert_int_equal(pol_classify_connector("github", POL_VIS_UNKNOWN), POL_LEVEL_INTERNAL);
    const char *internal[] = {"gmail", "gcal", "jira", "gdrive", "something-new"};
    for (size_t i = 0; i < GW_ARRAY_LEN(internal); i++)
        assert_int_equal(pol_classify_connector(internal[i], POL_VIS_UNKNOWN), POL_LEVEL_INTERNAL);
}

static void spans(void *arg, enum pol_detector d, size_t off, size_t len)
{
    GW_UNUSED(d);
    size_t *o = arg;
    o[0] = off;
    o[1] = len;
}

static void finding_offsets(void **state)
{
    GW_UNUSED(state);
    size_t o[2] = {0, 0};
    const char *t = "x: 123-45-6789 end";
    pol_classify_scan(t, strlen(t), spans, o);
    assert_int_equal(o[0], 3);
    assert_int_equal(o[1], 11);
    t = "to: first.last@example.com;";
    pol_classify_scan(t, strlen(t), spans, o);
    assert_int_equal(o[0], 4);
    assert_int_equal(o[1], strlen("first.last@example.com"));
}

/* Hostile inputs stay linear: 4 MiB of each pattern fragment. A quadratic scan would take
 * hours and trip the test's CTest timeout; no wall-clock assertion here (shared, noisy box). */
static void linear_on_hostile_input(void **state)
{
    GW_UNUSED(state);
    const char *frags[] = {"@",           "a@",       "a.", "1-",  "1 ",   "+1",     "sk-",
                           "-----BEGIN ", "api_key=", "4",  "AB1", "x@y.", "(415) ", "xoxb-"};
    size_t n = 4u << 20;
    char *buf = gw_xmalloc(n);
    for (size_t f = 0; f < GW_ARRAY_LEN(frags); f++) {
        size_t fl = strlen(frags[f]);
        for (size_t i = 0; i < n; i++)
            buf[i] = frags[f][i % fl];
        enum pol_level level = pol_classify_text(buf, n);
        assert_true(level >= POL_LEVEL_PUBLIC && level < POL_LEVEL__COUNT);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(emails_and_phones_are_internal),
        cmocka_unit_test(cards_need_luhn_and_issuer),
        cmocka_unit_test(national_ids),
        cmocka_unit_test(api_and_private_keys),
        cmocka_unit_test(false_positive_resistance),
        cmocka_unit_test(highest_level_and_raise_only),
        cmocka_unit_test(finding_offsets),
        cmocka_unit_test(linear_on_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
