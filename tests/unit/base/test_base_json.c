/* SPDX-License-Identifier: MIT
 * test_base_json.c — the JSON writer must produce exactly jansson's bytes (the audit chain
 * hashes the canonical text, and chains written before the writer existed must still verify),
 * and strict parsing must keep rejecting what it rejects.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/json.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Valid UTF-8 with every control character (NUL too), quotes, backslashes, slashes, DEL and
 * multi-byte sequences (2, 3 and 4 bytes). */
static json_t *random_string(void)
{
    static const char *const pieces[] = {
        "\"", "\\", "/", "\x7f",  "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "a",  "Z",  " ", "{}[],:"};
    char s[64];
    size_t n = 0, len = next() % 24;
    for (size_t i = 0; i < len; i++) {
        const char *p;
        size_t pl;
        char ctl;
        if (next() % 3 == 0) { /* any control character, NUL included */
            ctl = (char)(next() % 32);
            p = &ctl;
            pl = 1;
        } else {
            p = pieces[next() % GW_ARRAY_LEN(pieces)];
            pl = strlen(p);
        }
        if (n + pl >= sizeof s)
            break;
        memcpy(s + n, p, pl);
        n += pl;
    }
    return json_stringn(s, n);
}

static json_t *random_value(int depth)
{
    switch (next() % (depth > 4 ? 6 : 8)) {
    case 0:
        return json_true();
    case 1:
        return json_false();
    case 2:
        return json_null();
    case 3: {
        static const json_int_t edge[] = {0, -1, 1, INT64_MAX, INT64_MIN, 1000000007};
        return json_integer(next() % 2 ? edge[next() % GW_ARRAY_LEN(edge)] : (json_int_t)next());
    }
    case 4: {
        static const double edge[] = {0.0, -0.0, 2.3e-5, 1e300, -1.5, 0.1, 123456.789};
        return json_real(next() % 2 ? edge[next() % GW_ARRAY_LEN(edge)]
                                    : (double)(int64_t)next() / 1e6);
    }
    case 5:
        return random_string();
    case 6: {
        json_t *a = json_array();
        for (size_t i = next() % 5; i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (size_t i = next() % 20; i > 0; i--) { /* beyond 16 members: the heap path */
            json_t *k = random_string();
            json_object_set_new(o, json_string_value(k), random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void writer_matches_jansson(void **state)
{
    for (int i = 0; i < 3000; i++) {
        json_t *v = random_value(0);
        /* compact: jansson's bytes but for reals, so equal once read back */
        char *ours = gw_json_compact(v);
        assert_non_null(ours);
        json_t *back = json_loads(ours, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        assert_true(json_equal(back, v));
        json_decref(back);
        free(ours);
        ours = gw_json_canonical(v);
        char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
        json_decref(v);
    }
}

/* Answers show reals as written by people; the canonical (hashed) form keeps jansson's. */
static void writer_shortest_reals(void **state)
{
    static const struct {
        double d;
        const char *compact, *canonical;
    } cases[] = {
        {0.00043, "0.00043", "0.00042999999999999999"},
        {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
        {412.5, "412.5", "412.5"},
        {3.0, "3.0", "3.0"},
        {-0.0, "-0.0", "-0.0"},
        {1e-7, "1e-7", "9.9999999999999995e-8"},
        {2.5e300, "2.5e300", "2.5000000000000001e300"},
        {123456.789, "123456.789", "123456.789"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        json_t *v = json_real(cases[i].d);
        char *o = gw_json_compact(v), *c = gw_json_canonical(v),
             *j = json_dumps(v, JSON_ENCODE_ANY);
        assert_string_equal(o, cases[i].compact);
        assert_string_equal(c, cases[i].canonical);
        assert_string_equal(c, j);
        free(o);
        free(c);
        free(j);
        json_decref(v);
    }
}

static void writer_sorts_and_escapes(void **state)
{
    json_t *v = json_pack("{s:i,s:[s,b,n],s:s}", "b", 1, "a", "x\n\"\x01", 1, "c", "\xc3\xa9/");
    char *c = gw_json_canonical(v), *o = gw_json_compact(v);
    assert_string_equal(c, "{\"a\":[\"x\\n\\\"\\u0001\",true,null],\"b\":1,\"c\":\"\xc3\xa9/\"}");
    assert_string_equal(o, "{\"b\":1,\"a\":[\"x\\n\\\"\\u0001\",true,null],\"c\":\"\xc3\xa9/\"}");
    free(c);
    free(o);
    json_decref(v);
}

static void writer_respects_the_buffer_max(void **state)
{
    json_t *v = json_pack("{s:s}", "key", "a value longer than the limit");
    struct gw_buf b;
    gw_buf_init(&b, 16);
    gw_buf_puts(&b, "x=");
    assert_false(gw_json_write(&b, v, true));
    assert_int_equal(b.len, 2); /* unchanged */
    assert_string_equal(b.data, "x=");
    gw_buf_release(&b);
    gw_buf_init(&b, 64);
    assert_true(gw_json_write(&b, v, true));
    assert_string_equal(b.data, "{\"key\":\"a value longer than the limit\"}");
    gw_buf_release(&b);
    assert_false(gw_json_write(&b, NULL, false));
    /* exactly the room the escaped text needs (\u0000 is six bytes for one) */
    json_t *nul = json_stringn("a\0\n", 3);
    gw_buf_init(&b, 11);
    assert_true(gw_json_write(&b, nul, false));
    assert_int_equal(b.len, 11);
    assert_memory_equal(b.data, "\"a\\u0000\\n\"", 11);
    gw_buf_release(&b);
    gw_buf_init(&b, 10);
    assert_false(gw_json_write(&b, nul, false));
    gw_buf_release(&b);
    json_decref(nul);
    json_decref(v);
}

static void parse_stays_strict(void **state)
{
    char msg[128];
    static const char *const bad[] = {"{\"a\":1,\"a\":2}", "{\"a\":1} x", "\"\\u0000\"", "\"\xff\"",
                                      "[[[[[1]]]]]"};
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        json_t *v = gw_json_parse(bad[i], strlen(bad[i]), 4, msg, sizeof msg);
        assert_null(v);
        assert_true(msg[0] != '\0');
    }
    json_t *v = gw_json_parse("[[[1]]]", 7, 4, msg, sizeof msg);
    assert_non_null(v);
    json_decref(v);
}

/* 0 means "never" (null); a real time is ISO 8601 UTC with milliseconds. */
static void time_is_iso8601_or_null(void **state)
{
    (void)state;
    json_t *never = gw_json_time(0);
    assert_true(json_is_null(never));
    json_t *t = gw_json_time(1000LL * 86400 + 5);
    assert_string_equal(json_string_value(t), "1970-01-02T00:00:00.005Z");
    json_decref(t);
    json_decref(never);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_matches_jansson),
        cmocka_unit_test(writer_shortest_reals),
        cmocka_unit_test(writer_sorts_and_escapes),
        cmocka_unit_test(writer_respects_the_buffer_max),
        cmocka_unit_test(parse_stays_strict),
        cmocka_unit_test(time_is_iso8601_or_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
