/* SPDX-License-Identifier: MIT
 * test_config_siem.c — audit.siem (src/config/config_siem.c): seed 001's block as one
 * destination named "siem", the destinations list, defaults, refusals, and the endpoints in
 * the egress policy's trusted URLs.
 */
#include "base/prelude.h"
#include "config/config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_cfg_load.h"
#include "test_tmp.h"

static char dir[PATH_MAX];

static gw_err load(const char *yaml, struct cfg **out, struct cfg_errors *errs)
{
    return test_cfg_load(dir, yaml, out, errs);
}

static void seed_block(void **state)
{
    (void)state;
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    setenv("TEST_SIEM_KEY", "k-123", 1);
    assert_int_equal(load("audit:\n"
                          "  siem:\n"
                          "    enabled: true\n"
                          "    endpoint: https://splunk.example.com:8088/services/collector\n"
                          "    format: leef\n"
                          "    apiKey: ${TEST_SIEM_KEY}\n",
                          &c, &errs),
                     GW_OK);
    assert_true(c->siem.enabled);
    assert_int_equal(c->siem.n_dests, 1);
    const struct cfg_siem_dest *d = &c->siem.dests[0];
    assert_string_equal(d->name, "siem");
    assert_string_equal(d->format, "leef");
    assert_string_equal(d->api_key, "k-123");
    assert_int_equal(d->batch, 500);
    assert_int_equal(d->max_backoff_s, 60);
    assert_int_equal(d->facility, 13);
    assert_false(d->from_now);
    const char *urls[16];
    size_t n = cfg_outbound_urls(c, urls, 16);
    bool found = false;
    for (size_t i = 0; i < n && i < 16; i++)
        found = found || !strcmp(urls[i], d->endpoint);
    assert_true(found);
    cfg_unref(c);

    /* absent: nothing forwarded */
    assert_int_equal(load("tenant: {id: acme}\n", &c, &errs), GW_OK);
    assert_int_equal(c->siem.n_dests, 0);
    cfg_unref(c);
}

static void destinations(void **state)
{
    (void)state;
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    assert_int_equal(load("audit:\n"
                          "  siem:\n"
                          "    destinations:\n"
                          "      - {name: qradar, endpoint: 'tls://qradar:6514', format: leef,\n"
                          "         ca_file: ca.pem, facility: 4, start: now}\n"
                          "      - {name: elastic, endpoint: 'https://es:9200/_bulk', "
                          "format: ecs,\n"
                          "         index: audit, batch_size: 50, max_backoff_s: 5}\n"
                          "      - {name: off, enabled: false, endpoint: 'tcp://a:514'}\n",
                          &c, &errs),
                     GW_OK);
    assert_int_equal(c->siem.n_dests, 2);
    assert_string_equal(c->siem.dests[0].name, "qradar");
    assert_true(c->siem.dests[0].from_now);
    assert_int_equal(c->siem.dests[0].facility, 4);
    assert_non_null(strstr(c->siem.dests[0].ca_file, "/data/ca.pem"));
    assert_string_equal(c->siem.dests[1].index, "audit");
    assert_int_equal(c->siem.dests[1].batch, 50);
    assert_string_equal(c->siem.dests[0].format, "leef");
    cfg_unref(c);
}

static void refusals(void **state)
{
    (void)state;
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    assert_int_equal(load("audit:\n"
                          "  siem:\n"
                          "    endpoint: 'tcp://h:514'\n"
                          "    format: hec\n"
                          "    apiKey: \"a b\"\n"
                          "    destinations:\n"
                          "      - {name: siem, endpoint: 'http://siem.example.com/'}\n"
                          "      - {name: Bad!, endpoint: 'tls://h:1'}\n"
                          "      - {name: x, endpoint: 'tls://h:1', format: xml, facility: 24}\n",
                          &c, &errs),
                     GW_ECONFIG);
    assert_true(test_cfg_has_error(&errs, "cfg.yaml:4: audit.siem.format: hec is sent over HTTP"));
    assert_true(test_cfg_has_error(&errs, "cfg.yaml:5: audit.siem.apiKey must be"));
    assert_true(test_cfg_has_error(&errs, "'siem' is used twice"));
    assert_true(test_cfg_has_error(&errs, "http:// is only allowed on loopback"));
    assert_true(test_cfg_has_error(&errs, "destinations[1].name is required"));
    assert_true(test_cfg_has_error(&errs, "destinations[2].format"));
    assert_true(test_cfg_has_error(&errs, "destinations[2].facility"));
    assert_false(test_cfg_has_error(&errs, "a b")); /* the key is never quoted */
    cfg_errors_release(&errs);
}

int main(void)
{
    if (!test_tmpdir(dir, sizeof dir, "test_config_siem"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seed_block),
        cmocka_unit_test(destinations),
        cmocka_unit_test(refusals),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_rmtree(dir);
    return rc;
}
