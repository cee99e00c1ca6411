/* SPDX-License-Identifier: MIT
 * test_audit_fwd.c — the SIEM record formats (src/audit/fwd): CEF and LEEF header and value
 * escaping, cutting on a UTF-8 boundary, OCSF classes and activities, ECS fields, the HEC
 * envelope, and the "omitted" marker of an oversized record.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/mem.h"

#include <setjmp.h>
#include <stdarg.h>

#include <cmocka.h>

static const struct audit_fwd_env env = {.host = "gw1", .index = "idx"};

static struct store_audit_row row(const char *type, const char *actor, const char *details)
{
    return (struct store_audit_row){
        .tenant = "acme",
        .seq = 7,
        .ts_ms = 1736501000123,
        .type = (char *)type,
        .outcome = "denied",
        .actor = (char *)actor,
        .client_ip = "10.0.0.1",
        .classification = "internal",
        .details = (char *)details,
        .prev_hash = "00",
        .hash = "ab",
    };
}

static char *render(const struct audit_fwd_format *f, const struct store_audit_row *r)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 24);
    f->event(&env, r, &b);
    gw_buf_append(&b, "", 1);
    return gw_buf_detach(&b, NULL);
}

static void cef_escaping(void **state)
{
    (void)state;
    struct store_audit_row r = row("odd|type\\x", "a=b\\c\nd\re", "{\"k\":\"v=1|\"}");
    char *s = render(&audit_fwd_cef, &r);
    assert_non_null(strstr(s, "CEF:0|OpenClaw|Enterprise Gateway|"));
    assert_non_null(strstr(s, "|odd\\|type\\\\x|odd\\|type\\\\x denied|6|rt=1736501000123 "));
    assert_non_null(strstr(s, " suser=a\\=b\\\\c\\nd\\re "));
    assert_non_null(strstr(s, " msg={\"k\":\"v\\=1|\"}"));
    assert_non_null(strstr(s, " src=10.0.0.1 "));
    assert_non_null(strstr(s, " cs1Label=tenant cs1=acme cn1Label=seq cn1=7 "));
    assert_null(strchr(s, '\n'));
    free(s);
    r.client_ip = "not-an-address";
    s = render(&audit_fwd_cef, &r);
    assert_null(strstr(s, " src="));
    free(s);
}

static void leef_escaping(void **state)
{
    (void)state;
    struct store_audit_row r = row("odd|type", "a\tb\\c\nd", "{}");
    char *s = render(&audit_fwd_leef, &r);
    assert_non_null(strstr(s, "LEEF:2.0|OpenClaw|Enterprise Gateway|"));
    assert_non_null(strstr(s, "|odd\\|type|x09|devTime=2025-01-10T09:23:20.123Z\t"));
    assert_non_null(strstr(s, "\tusrName=a\\tb\\\\c\\nd\t"));
    assert_non_null(strstr(s, "\tsev=6\t"));
    assert_null(strchr(s, '\n'));
    free(s);
}

static void cut_on_character(void **state)
{
    (void)state;
    size_t n = 3000;
    char *long_s = gw_xcalloc(n * 2 + 1, 1);
    for (size_t i = 0; i < n; i++)
        memcpy(long_s + 2 * i, "\xc3\xa9", 2); /* é */
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    audit_fwd_escape(&b, long_s, "");
    assert_true(b.len <= AUDIT_FWD_MAX_FIELD && b.len % 2 == 0 && b.len > 4000);
    gw_buf_release(&b);
    free(long_s);
}

static void ocsf_classes(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *want;
    } cases[] = {
        {"auth.login", "\"class_uid\":3002"},      {"auth.login", "\"type_uid\":300201"},
        {"auth.logout", "\"type_uid\":300202"},    {"token.revoked", "\"type_uid\":600304"},
        {"message.sent", "\"type_uid\":600301"},   {"audit.exported", "\"type_uid\":600302"},
        {"policy.updated", "\"type_uid\":600303"}, {"gateway.started", "\"type_uid\":600399"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        struct store_audit_row r = row(cases[i].type, "u", "{}");
        char *s = render(&audit_fwd_ocsf, &r);
        if (!strstr(s, cases[i].want))
            fail_msg("%s: %s not in %s", cases[i].type, cases[i].want, s);
        assert_non_null(strstr(s, "\"sequence\":7"));
        assert_non_null(strstr(s, "\"status_id\":2"));
        free(s);
    }
}

static void ecs_and_hec(void **state)
{
    (void)state;
    struct store_audit_row r = row("auth.failed", "u", "{\"reason\":\"x\"}");
    char *s = render(&audit_fwd_ecs, &r);
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "@timestamp")),
                        "2025-01-10T09:23:20.123Z");
    json_t *ev = json_object_get(j, "event");
    assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "failure");
    assert_string_equal(json_string_value(json_object_get(ev, "id")), "acme:7");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "category"), 0)),
                        "authentication");
    json_decref(j);
    free(s);

    s = render(&audit_fwd_hec, &r);
    j = json_loads(s, 0, NULL);
    assert_non_null(j);
    assert_true(json_real_value(json_object_get(j, "time")) > 1736501000.0);
    assert_string_equal(json_string_value(json_object_get(j, "index")), "idx");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "fields"), "seq")), 7);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "event"), "hash")),
                        "ab");
    json_decref(j);
    free(s);
}

static void oversized_record(void **state)
{
    (void)state;
    size_t n = AUDIT_FWD_MAX_RECORD + 100;
    char *details = gw_xmalloc(n + 16);
    int off = snprintf(details, n + 16, "{\"big\":\"");
    memset(details + off, 'x', n);
    memcpy(details + off + n, "\"}", 3);
    struct store_audit_row r = row("message.sent", "u", details);
    char *s = render(&audit_fwd_json, &r);
    assert_true(strlen(s) < AUDIT_FWD_MAX_RECORD);
    assert_non_null(strstr(s, "\"details\":{\"omitted\":true"));
    assert_non_null(strstr(s, "\"hash\":\"ab\""));
    free(s);
    free(details);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cef_escaping),     cmocka_unit_test(leef_escaping),
        cmocka_unit_test(cut_on_character), cmocka_unit_test(ocsf_classes),
        cmocka_unit_test(ecs_and_hec),      cmocka_unit_test(oversized_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
