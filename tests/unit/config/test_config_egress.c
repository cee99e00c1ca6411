/* SPDX-License-Identifier: MIT
 * test_config_egress.c — the egress section of gateway.yaml (src/config/config_egress.c) and
 * the list of outbound URLs a configuration names (what the egress policy trusts).
 */
#include "base/prelude.h"
#include "config/config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_cfg_load.h"
#include "test_tmp.h"

static char dir[PATH_MAX];

static gw_err load(const char *yaml, struct cfg **out, struct cfg_errors *errs)
{
    return test_cfg_load(dir, yaml, out, errs);
}

static void egress_keys(void **state)
{
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    assert_int_equal(load("egress:\n"
                          "  allow_private: true\n"
                          "  allow: [metadata.internal, .corp.example, 10.0.0.0/8, 'fe80::1']\n"
                          "  proxy: http://proxy.example:3128\n"
                          "  no_proxy: [localhost]\n",
                          &c, &errs),
                     GW_OK);
    assert_true(c->egress.allow_private);
    assert_int_equal(c->egress.n_allow, 4);
    assert_string_equal(c->egress.allow[1], ".corp.example");
    assert_null(c->egress.allow[4]);
    assert_string_equal(c->egress.proxy, "http://proxy.example:3128");
    assert_int_equal(c->egress.n_no_proxy, 1);
    cfg_unref(c);

    /* absent: the environment decides the proxy (NULL), nothing allowed */
    assert_int_equal(load("tenant: {id: acme}\n", &c, &errs), GW_OK);
    assert_false(c->egress.allow_private);
    assert_null(c->egress.allow);
    assert_null(c->egress.proxy);
    assert_null(c->egress.no_proxy);
    cfg_unref(c);

    assert_int_equal(load("egress: {proxy: \"\"}\n", &c, &errs), GW_OK);
    assert_string_equal(c->egress.proxy, ""); /* explicitly none */
    cfg_unref(c);

    assert_int_equal(load("egress:\n"
                          "  allow: ['not a host', 10.0.0.0/99]\n"
                          "  proxy: ftp://proxy\n"
                          "  allow_private: maybe\n"
                          "  alow: []\n",
                          &c, &errs),
                     GW_ECONFIG);
    assert_true(test_cfg_has_error(&errs, "cfg.yaml:2: egress.allow[0] 'not a host' is neither"));
    assert_true(test_cfg_has_error(&errs, "egress.allow[1] '10.0.0.0/99'"));
    assert_true(test_cfg_has_error(&errs, "cfg.yaml:3: egress.proxy must be"));
    assert_true(test_cfg_has_error(&errs, "cfg.yaml:4: egress.allow_private"));
    assert_true(test_cfg_has_error(&errs, "unknown key 'alow' in egress"));
    cfg_errors_release(&errs);
}

static void outbound_urls(void **state)
{
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = load("models:\n"
                     "  providers:\n"
                     "    - {name: local, api: ollama, base_url: 'http://10.0.0.5:11434',\n"
                     "       models: [{name: llama3}]}\n"
                     "policy: {opa_url: 'http://127.0.0.1:8181/v1/data/x'}\n"
                     "costManagement:\n"
                     "  alertWebhook: https://hooks.example.com/b\n"
                     "  smtp: {url: 'smtp://10.0.0.9:25', from: gw@example.com}\n",
                     &c, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_message("%s\n", errs.msgs[i]);
    assert_int_equal(rc, GW_OK);
    const char *urls[8];
    size_t n = cfg_outbound_urls(c, urls, GW_ARRAY_LEN(urls));
    assert_int_equal(n, 4);
    assert_string_equal(urls[0], "http://10.0.0.5:11434");
    assert_string_equal(urls[1], "http://127.0.0.1:8181/v1/data/x");
    assert_string_equal(urls[2], "https://hooks.example.com/b");
    assert_string_equal(urls[3], "smtp://10.0.0.9:25");
    assert_int_equal(cfg_outbound_urls(c, NULL, 0), 4); /* sizing call */
    assert_int_equal(cfg_outbound_urls(c, urls, 2), 4);
    cfg_unref(c);
}

int main(void)
{
    if (!test_tmpdir(dir, sizeof dir, "test_config_egress"))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(egress_keys),
        cmocka_unit_test(outbound_urls),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    test_rmtree(dir);
    return rc;
}
