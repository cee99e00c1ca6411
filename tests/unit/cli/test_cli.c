/* SPDX-License-Identifier: MIT
 * test_cli.c — the pure parts of the `openclaw` client: argument parsing, the config file
 * (read, write, permissions, quoting), settings precedence, exit code mapping, URL building
 * and output formatting (tables, the seed 000 `status` shape, verification results).
 * Policy, tools and approvals: request bodies built from arguments, violation lists, the
 * explain/invoke/effective reports.
 * A few end-to-end calls of cli_main cover usage errors, `config` and an unreachable gateway.
 * `auth`: the credentials file (path, modes whatever the umask, loose files, links, foreign
 * content), the loopback callback parser and the PKCE pair.
 * "Did you mean", money, the CA bundle setting, `sessions` and `admin reload` arguments and
 * reports, and the command table against the bash completion file, the man page and
 * docs/CLI.md (a command missing from any of them fails here).
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "audit/audit.h"
#include "auth/auth_cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>

#include "test_tmp.h"

/* --- arguments ----------------------------------------------------------------------------- */

static const struct cli_optdef g_defs[] = {
    {"gateway", CLI_OPT_ARG}, {"json", 0}, {"timeout", CLI_OPT_ARG}, {"help", 0}, {NULL, 0},
};
static const struct cli_optdef c_defs[] = {
    {"scope", CLI_OPT_ARG | CLI_OPT_MULTI},
    {"id", CLI_OPT_ARG},
    {"all", 0},
    {NULL, 0},
};

static void test_args_global_stop(void **state)
{
    char *argv[] = {"--gateway", "http://x", "--json", "tokens", "list", "--all"};
    struct cli_args a;
    assert_int_equal(cli_args_parse(6, argv, g_defs, NULL, true, &a), CLI_EXIT_OK);
    assert_int_equal(a.stop_index, 3);
    assert_string_equal(cli_args_get(&a, "gateway"), "http://x");
    assert_true(cli_args_has(&a, "json"));
    assert_false(cli_args_has(&a, "timeout"));
}

static void test_args_command(void **state)
{
    char *argv[] = {"--scope", "a",      "--scope=b", "--id=x=y",       "pos1",
                    "-",       "--json", "--",        "--not-an-option"};
    struct cli_args a;
    assert_int_equal(cli_args_parse(9, argv, c_defs, g_defs, false, &a), CLI_EXIT_OK);
    assert_int_equal(cli_args_count(&a, "scope"), 2);
    assert_string_equal(cli_args_nth(&a, "scope", 0), "a");
    assert_string_equal(cli_args_nth(&a, "scope", 1), "b");
    assert_null(cli_args_nth(&a, "scope", 2));
    assert_string_equal(cli_args_get(&a, "id"), "x=y");
    assert_true(cli_args_has(&a, "json"));
    assert_int_equal(a.npos, 3);
    assert_string_equal(a.pos[0], "pos1");
    assert_string_equal(a.pos[1], "-");
    assert_string_equal(a.pos[2], "--not-an-option");
}

static void test_args_errors(void **state)
{
    struct cli_args a;
    char *unknown[] = {"--bogus"};
    assert_int_equal(cli_args_parse(1, unknown, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
    assert_non_null(strstr(a.err, "--bogus"));
    char *missing[] = {"--id"};
    assert_int_equal(cli_args_parse(1, missing, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
    assert_non_null(strstr(a.err, "needs a value"));
    char *twice[] = {"--id", "a", "--id", "b"};
    assert_int_equal(cli_args_parse(4, twice, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
    char *flagval[] = {"--all=yes"};
    assert_int_equal(cli_args_parse(1, flagval, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
    char *shortopt[] = {"-x"};
    assert_int_equal(cli_args_parse(1, shortopt, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
    char *help[] = {"-h"};
    assert_int_equal(cli_args_parse(1, help, c_defs, g_defs, false, &a), CLI_EXIT_OK);
    assert_true(cli_args_has(&a, "help"));
    char *prefix[] = {"--sco", "x"}; /* no abbreviations */
    assert_int_equal(cli_args_parse(2, prefix, c_defs, g_defs, false, &a), CLI_EXIT_USAGE);
}

static void test_parse_long(void **state)
{
    long v = 0;
    assert_true(cli_parse_long("30", 1, 100, &v));
    assert_int_equal(v, 30);
    assert_false(cli_parse_long("0", 1, 100, &v));
    assert_false(cli_parse_long("101", 1, 100, &v));
    assert_false(cli_parse_long("1x", 1, 100, &v));
    assert_false(cli_parse_long(" 1", 1, 100, &v));
    assert_false(cli_parse_long("", 1, 100, &v));
    assert_false(cli_parse_long("99999999999999999999999", 1, 100, &v));
    assert_true(cli_parse_long("-5", -10, 10, &v));
    assert_int_equal(v, -5);
}

/* --- exit codes ---------------------------------------------------------------------------- */

static void test_exit_codes(void **state)
{
    assert_int_equal(cli_exit_for_status(200), CLI_EXIT_OK);
    assert_int_equal(cli_exit_for_status(201), CLI_EXIT_OK);
    assert_int_equal(cli_exit_for_status(202), CLI_EXIT_OK);
    assert_int_equal(cli_exit_for_status(401), CLI_EXIT_AUTH);
    assert_int_equal(cli_exit_for_status(403), CLI_EXIT_FORBIDDEN);
    assert_int_equal(cli_exit_for_status(400), CLI_EXIT_CLIENT);
    assert_int_equal(cli_exit_for_status(404), CLI_EXIT_CLIENT);
    assert_int_equal(cli_exit_for_status(409), CLI_EXIT_CLIENT);
    assert_int_equal(cli_exit_for_status(413), CLI_EXIT_CLIENT);
    assert_int_equal(cli_exit_for_status(429), CLI_EXIT_CLIENT);
    assert_int_equal(cli_exit_for_status(500), CLI_EXIT_SERVER);
    assert_int_equal(cli_exit_for_status(503), CLI_EXIT_SERVER);
    assert_int_equal(cli_exit_for_status(301), CLI_EXIT_FAIL);
    assert_int_equal(cli_exit_for_status(0), CLI_EXIT_FAIL);
    assert_int_equal(CLI_EXIT_USAGE, 2);
    assert_int_equal(CLI_EXIT_UNREACHABLE, 7);
}

/* --- config file --------------------------------------------------------------------------- */

static void test_config_flat(void **state)
{
    const char *y = "gateway_url: \"https://gw.example.com\"\ntoken: 'abc123'\ncolor: auto\n"
                    "retries: 3\nlist: [1, 2]\n";
    struct cli_config c;
    cli_config_init(&c);
    char err[200];
    assert_int_equal(cli_config_parse(y, strlen(y), &c, err, sizeof(err)), GW_OK);
    assert_string_equal(c.gateway_url, "https://gw.example.com");
    assert_string_equal(c.token, "abc123");
    assert_int_equal(c.nextra, 2);
    assert_string_equal(c.extra[0].key, "color");
    assert_true(c.extra[0].plain);
    assert_string_equal(c.dropped.data, "list");
    char *out = cli_config_serialize(&c);
    assert_non_null(strstr(out, "gateway_url: \"https://gw.example.com\"\n"));
    assert_non_null(strstr(out, "token: \"abc123\"\n"));
    assert_non_null(strstr(out, "color: auto\n"));
    assert_non_null(strstr(out, "retries: 3\n"));
    assert_null(strstr(out, "list"));
    free(out);
    cli_config_release(&c);
}

static void test_config_nested_seed(void **state)
{
    /* the form of the enterprise documentation (seed 000) */
    const char *y = "gateway:\n  url: https://openclaw.internal.company.com\n  auth:\n"
                    "    method: oidc\n    # Token is managed automatically after login\n";
    struct cli_config c;
    cli_config_init(&c);
    char err[200];
    assert_int_equal(cli_config_parse(y, strlen(y), &c, err, sizeof(err)), GW_OK);
    assert_null(c.gateway_url);
    assert_string_equal(c.nested_url, "https://openclaw.internal.company.com");
    assert_null(c.nested_token);
    assert_string_equal(c.dropped.data, "gateway.auth");
    struct cli_settings s;
    assert_true(cli_settings_resolve(NULL, NULL, NULL, NULL, &c, &s, err, sizeof(err)));
    assert_string_equal(s.gateway_url, "https://openclaw.internal.company.com");
    assert_string_equal(s.gateway_source, "config gateway.url");
    assert_null(s.token);
    cli_settings_release(&s);
    /* a rewrite migrates the nested url to the flat key */
    char *out = cli_config_serialize(&c);
    assert_non_null(strstr(out, "gateway_url: \"https://openclaw.internal.company.com\"\n"));
    free(out);
    cli_config_release(&c);
}

static void test_config_null_empty_invalid(void **state)
{
    struct cli_config c;
    char err[200];
    cli_config_init(&c);
    assert_int_equal(cli_config_parse("", 0, &c, err, sizeof(err)), GW_OK);
    assert_null(c.gateway_url);
    cli_config_release(&c);

    cli_config_init(&c);
    const char *nul = "gateway_url: ~\ntoken:\n";
    assert_int_equal(cli_config_parse(nul, strlen(nul), &c, err, sizeof(err)), GW_OK);
    assert_null(c.gateway_url);
    assert_null(c.token);
    cli_config_release(&c);

    cli_config_init(&c);
    const char *quoted_null = "token: \"null\"\n";
    assert_int_equal(cli_config_parse(quoted_null, strlen(quoted_null), &c, err, sizeof(err)),
                     GW_OK);
    assert_string_equal(c.token, "null");
    cli_config_release(&c);

    cli_config_init(&c);
    const char *bad = "gateway_url: [unclosed\n";
    assert_int_equal(cli_config_parse(bad, strlen(bad), &c, err, sizeof(err)), GW_ECONFIG);
    cli_config_release(&c);

    cli_config_init(&c);
    const char *list = "- a\n- b\n";
    assert_int_equal(cli_config_parse(list, strlen(list), &c, err, sizeof(err)), GW_ECONFIG);
    assert_non_null(strstr(err, "mapping"));
    cli_config_release(&c);

    cli_config_init(&c);
    const char *map = "token: {a: b}\n";
    assert_int_equal(cli_config_parse(map, strlen(map), &c, err, sizeof(err)), GW_ECONFIG);
    cli_config_release(&c);
}

static void test_yaml_quote_roundtrip(void **state)
{
    const char *values[] = {
        "plain",
        "with \"quotes\" and \\backslash\\",
        "line\nbreak\ttab\x01\x7f",
        "# not a comment: {x} [y] &a *b !c | > % @ `",
        "unicod\xc3\xa9 \xe2\x82\xac and C1 \xc2\x85",
        "'single'",
        " leading and trailing ",
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(values); i++) {
        struct cli_config c;
        char err[200];
        cli_config_init(&c);
        c.token = gw_xstrdup(values[i]);
        c.gateway_url = gw_xstrdup("http://h");
        char *text = cli_config_serialize(&c);
        cli_config_release(&c);
        cli_config_init(&c);
        assert_int_equal(cli_config_parse(text, strlen(text), &c, err, sizeof(err)), GW_OK);
        assert_string_equal(c.token, values[i]);
        assert_string_equal(c.gateway_url, "http://h");
        free(text);
        cli_config_release(&c);
    }
    struct gw_buf b;
    gw_buf_init(&b, 1024);
    cli_yaml_quote(&b, "a\"b\\c\n");
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\"");
    gw_buf_release(&b);
}

static char tmpdir[256];

static void test_config_save_load(void **state)
{
    assert_true(test_tmpdir(tmpdir, sizeof(tmpdir), "test_cli"));
    char *path = gw_xasprintf("%s/home/.openclaw/config.yaml", tmpdir);
    struct cli_config c;
    char err[300];
    cli_config_init(&c);
    assert_int_equal(cli_config_load(path, &c, err, sizeof(err)), GW_OK); /* missing: empty */
    c.gateway_url = gw_xstrdup("https://gw.example.com");
    c.token = gw_xstrdup("secret-token-value-123");
    assert_int_equal(cli_config_save(path, &c, err, sizeof(err)), GW_OK);
    cli_config_release(&c);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *dir = gw_xasprintf("%s/home/.openclaw", tmpdir);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    cli_config_init(&c);
    assert_int_equal(cli_config_load(path, &c, err, sizeof(err)), GW_OK);
    assert_string_equal(c.gateway_url, "https://gw.example.com");
    assert_string_equal(c.token, "secret-token-value-123");
    assert_false(c.loose_mode);
    cli_config_release(&c);

    assert_int_equal(chmod(path, 0644), 0);
    cli_config_init(&c);
    assert_int_equal(cli_config_load(path, &c, err, sizeof(err)), GW_OK);
    assert_true(c.loose_mode);
    cli_config_release(&c);

    assert_int_equal(test_rmtree(tmpdir), 0);
    free(dir);
    free(path);
}

/* --- settings ------------------------------------------------------------------------------ */

static void test_settings_precedence(void **state)
{
    struct cli_config c;
    cli_config_init(&c);
    c.gateway_url = gw_xstrdup("https://config.example.com/");
    c.token = gw_xstrdup("config-token");
    c.nested_url = gw_xstrdup("https://nested.example.com");
    struct cli_settings s;
    char err[200];

    assert_true(cli_settings_resolve("http://flag:1", "flag-token", "http://env:2", "env-token", &c,
                                     &s, err, sizeof(err)));
    assert_string_equal(s.gateway_url, "http://flag:1");
    assert_string_equal(s.token, "flag-token");
    assert_string_equal(s.gateway_source, "--gateway");
    cli_settings_release(&s);

    assert_true(
        cli_settings_resolve(NULL, "", "http://env:2", "env-token", &c, &s, err, sizeof(err)));
    assert_string_equal(s.gateway_url, "http://env:2");
    assert_string_equal(s.token, "env-token");
    assert_string_equal(s.token_source, "OPENCLAW_TOKEN");
    cli_settings_release(&s);

    assert_true(cli_settings_resolve(NULL, NULL, "", NULL, &c, &s, err, sizeof(err)));
    assert_string_equal(s.gateway_url, "https://config.example.com"); /* slash trimmed */
    assert_string_equal(s.token, "config-token");
    cli_settings_release(&s);

    assert_true(cli_settings_resolve(NULL, NULL, NULL, NULL, NULL, &s, err, sizeof(err)));
    assert_string_equal(s.gateway_url, CLI_DEFAULT_GATEWAY);
    assert_string_equal(s.gateway_source, "default");
    assert_null(s.token);
    cli_settings_release(&s);

    assert_false(cli_settings_resolve("ftp://x", NULL, NULL, NULL, NULL, &s, err, sizeof(err)));
    assert_non_null(strstr(err, "--gateway"));
    assert_false(
        cli_settings_resolve(NULL, "bad\r\nX-Injected: 1", NULL, NULL, NULL, &s, err, sizeof(err)));
    assert_null(strstr(err, "Injected")); /* the token is never echoed */
    cli_config_release(&c);
}

static void test_validation_and_mask(void **state)
{
    char err[200];
    assert_true(cli_valid_gateway_url("http://127.0.0.1:8080", err, sizeof(err)));
    assert_true(
        cli_valid_gateway_url("https://openclaw.company.com/engineering/", err, sizeof(err)));
    assert_false(cli_valid_gateway_url("127.0.0.1:8080", err, sizeof(err)));
    assert_false(cli_valid_gateway_url("http://", err, sizeof(err)));
    assert_false(cli_valid_gateway_url("http://user:pw@host", err, sizeof(err)));
    assert_false(cli_valid_gateway_url("http://host/a b", err, sizeof(err)));
    assert_false(cli_valid_gateway_url("http://host/?q=1", err, sizeof(err)));
    assert_true(cli_valid_token("oc_abcdef0123456789", err, sizeof(err)));
    assert_false(cli_valid_token("", err, sizeof(err)));
    assert_false(cli_valid_token("a b", err, sizeof(err)));
    assert_false(cli_valid_token("a\nb", err, sizeof(err)));

    char *m = cli_mask_token("oc_abcdefghijklmnopqrstuvwxyz");
    assert_string_equal(m, "oc_a****************wxyz");
    free(m);
    m = cli_mask_token("short");
    assert_string_equal(m, "********");
    free(m);
}

/* --- URLs ---------------------------------------------------------------------------------- */

static void test_urls(void **state)
{
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.set.gateway_url = "https://gw.example.com/prefix";
    struct gw_buf u;
    cli_url_begin(&u, &ctx, "/api/v1/memory");
    cli_url_segment(&u, "..");
    cli_url_segment(&u, "a/b c%");
    assert_string_equal(u.data, "https://gw.example.com/prefix/api/v1/memory/%2E%2E/a%2Fb%20c%25");
    gw_buf_release(&u);

    cli_url_begin(&u, &ctx, "/api/v1/audit");
    cli_url_query(&u, "user", "alice@company.com");
    cli_url_query(&u, "since", NULL);
    cli_url_query(&u, "event", "message.*&x=1");
    assert_string_equal(u.data, "https://gw.example.com/prefix/api/v1/audit"
                                "?user=alice%40company.com&event=message.%2A%26x%3D1");
    gw_buf_release(&u);
    ctx.set.gateway_url = NULL;
}

static void test_split_channel(void **state)
{
    char *ns = NULL, *ag = NULL;
    assert_true(cli_split_channel("engineering/code-reviewer", &ns, &ag));
    assert_string_equal(ns, "engineering");
    assert_string_equal(ag, "code-reviewer");
    free(ns);
    free(ag);
    assert_false(cli_split_channel("engineering", &ns, &ag));
    assert_false(cli_split_channel("/x", &ns, &ag));
    assert_false(cli_split_channel("x/", &ns, &ag));
    assert_false(cli_split_channel("a/b/c", &ns, &ag));
}

/* --- output -------------------------------------------------------------------------------- */

static void test_sanitize(void **state)
{
    struct gw_buf b;
    gw_buf_init(&b, 1024);
    cli_sanitize(&b, "ok \x1b[31mred\x07 caf\xc3\xa9 \xc2\x9b"
                     "2J\n");
    assert_string_equal(b.data, "ok ?[31mred? caf\xc3\xa9 ?2J?");
    gw_buf_release(&b);
}

static void test_table(void **state)
{
    static const char *const headers[] = {"SEQ", "TYPE", "ACTOR"};
    struct cli_table t;
    cli_table_init(&t, headers, 3);
    const char *r1[] = {"1", "token.created", "token:admin"};
    const char *r2[] = {"12", "caf\xc3\xa9", NULL};
    cli_table_add(&t, r1);
    cli_table_add(&t, r2);
    json_t *row = json_pack("{s:i, s:s, s:[s,s]}", "seq", 3, "type", "x\ty", "actor", "a", "b");
    static const char *const keys[] = {"seq", "type", "actor"};
    cli_table_add_json(&t, row, keys);
    json_decref(row);
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    cli_table_render(&t, &b);
    assert_string_equal(b.data, "SEQ  TYPE           ACTOR\n"
                                "1    token.created  token:admin\n"
                                "12   caf\xc3\xa9           -\n"
                                "3    x?y            a, b\n");
    gw_buf_release(&b);
    cli_table_release(&t);
}

static void test_json_cell(void **state)
{
    json_t *v = json_pack("{s:n, s:b, s:I, s:[], s:{s:i}}", "n", "t", 1, "i", (json_int_t)42, "e",
                          "o", "k", 1);
    const char *keys[] = {"n", "t", "i", "e", "o", "missing"};
    const char *want[] = {"-", "true", "42", "-", "{\"k\":1}", "-"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keys); i++) {
        char *c = cli_json_cell(json_object_get(v, keys[i]));
        assert_string_equal(c, want[i]);
        free(c);
    }
    json_decref(v);
}

static void test_status_seed_shape(void **state)
{
    static const char *const names[] = {
        "policy-engine",     "audit-enterprise", "auth-enterprise",  "connector-gmail",
        "connector-gcal",    "connector-jira",   "connector-github", "connector-gdrive",
        "task-intelligence", "auto-response",    "work-tracking",    "ocip-protocol",
        "org-intelligence",  "visualization",
    };
    json_t *plugins = json_array();
    for (size_t i = 0; i < GW_ARRAY_LEN(names); i++)
        json_array_append_new(plugins,
                              json_pack("{s:s, s:s}", "name", names[i], "state", "active"));
    json_t *status = json_pack("{s:s, s:s, s:o}", "version", "0.1.0", "tenant", "acme-corp",
                               "plugins", plugins);
    json_t *ui = json_pack("{s:s, s:s, s:s, s:s}", "user", "alice@company.com", "role", "org_admin",
                           "tenant", "acme-corp", "org_unit", "engineering");
    struct gw_buf b;
    gw_buf_init(&b, 1 << 16);
    cli_format_status(&b, "https://openclaw.internal.company.com", status, ui, NULL);
    assert_string_equal(b.data, "Gateway:     https://openclaw.internal.company.com\n"
                                "Status:      Connected\n"
                                "User:        alice@company.com\n"
                                "Role:        org_admin\n"
                                "Tenant:      acme-corp\n"
                                "Org Unit:    engineering\n"
                                "\n"
                                "Enterprise Plugins:\n"
                                "  policy-engine       active\n"
                                "  audit-enterprise    active\n"
                                "  auth-enterprise     active\n"
                                "  connector-gmail     active\n"
                                "  connector-gcal      active\n"
                                "  connector-jira      active\n"
                                "  connector-github    active\n"
                                "  connector-gdrive    active\n"
                                "  task-intelligence   active\n"
                                "  auto-response       active\n"
                                "  work-tracking       active\n"
                                "  ocip-protocol       active\n"
                                "  org-intelligence    active\n"
                                "  visualization       active\n");
    gw_buf_reset(&b);

    /* with the effective rights of a userinfo reply: an Access section after the seed shape */
    json_object_set_new(ui, "scopes", json_pack("[s,s]", "channels:*", "memory:read"));
    json_object_set_new(ui, "namespaces", json_pack("[s,s]", "engineering", "infra"));
    json_object_set_new(ui, "team", json_string("platform"));
    cli_format_status(&b, "http://h", status, ui, NULL);
    assert_non_null(strstr(b.data, "  visualization       active\n\nAccess:\n"
                                   "  Team:        platform\n"
                                   "  Scopes:      channels:*, memory:read\n"
                                   "  Namespaces:  engineering, infra\n"));
    gw_buf_reset(&b);
    json_object_set_new(ui, "namespaces", json_array());
    cli_format_status(&b, "http://h", status, ui, NULL);
    assert_non_null(strstr(b.data, "  Namespaces:  (none granted)\n"));
    gw_buf_reset(&b);

    /* null org unit, no token */
    json_object_set_new(ui, "org_unit", json_null());
    cli_format_status(&b, "http://h", status, ui, NULL);
    assert_non_null(strstr(b.data, "Org Unit:    -\n"));
    gw_buf_reset(&b);
    cli_format_status(&b, "http://h", status, NULL, NULL);
    assert_non_null(strstr(b.data, "User:        -  (no token configured)\n"));
    assert_non_null(strstr(b.data, "Tenant:      acme-corp\n"));
    gw_buf_reset(&b);

    cli_format_unreachable(&b, "http://127.0.0.1:1", "Connection refused");
    assert_string_equal(b.data, "Gateway:     http://127.0.0.1:1\n"
                                "Status:      Unreachable (Connection refused)\n");
    gw_buf_release(&b);
    json_decref(status);
    json_decref(ui);
}

static void test_verify_json(void **state)
{
    struct audit_verify_result r;
    memset(&r, 0, sizeof(r));
    r.ok = true;
    r.events_checked = 42;
    r.checkpoints_checked = 2;
    r.last_seq = 42;
    r.signed_events = 42;
    r.signed_through = 42;
    r.roots_checked = true;
    json_t *j = cli_verify_result_json(&r);
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"ok\":true,\"first_bad_seq\":null,\"events_checked\":42,"
                           "\"checkpoints_checked\":2,\"last_seq\":42,\"reason\":\"\","
                           "\"anchor\":{\"kind\":\"genesis\",\"seq\":0},\"signed_events\":42,"
                           "\"unsigned_events\":0,\"signed_through\":42,\"unsigned_ranges\":[],"
                           "\"roots_checked\":true,\"expected_last_seq\":null,\"signers\":[]}");
    free(s);
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    cli_format_verify(&b, j);
    assert_string_equal(b.data, "Audit chain:         OK\n"
                                "Anchor:              event 1 (the whole log)\n"
                                "Events checked:      42\n"
                                "Heads checked:       2\n"
                                "Signed events:       42 (all events through seq 42)\n"
                                "Merkle roots:        recomputed and matched\n"
                                "Last seq:            42\n");
    json_decref(j);

    r.ok = false;
    r.first_bad_seq = 17;
    r.anchor = AUDIT_ANCHOR_FILE_HEAD;
    r.anchor_seq = 8;
    r.unsigned_events = 3;
    r.unsigned_ranges[0] = (struct audit_range){17, 17};
    r.unsigned_ranges[1] = (struct audit_range){30, 31};
    r.n_unsigned_ranges = 2;
    snprintf(r.reason, sizeof(r.reason), "hash mismatch at seq 17");
    j = cli_verify_result_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "first_bad_seq")), 17);
    gw_buf_reset(&b);
    cli_format_verify(&b, j);
    assert_non_null(strstr(b.data, "Audit chain:         FAILED\n"));
    assert_non_null(strstr(b.data, "Anchor:              a signed head in the file at seq 8 "));
    assert_non_null(strstr(b.data, "Not signed:          3 (17, 30..31)\n"));
    assert_non_null(strstr(b.data, "First bad seq:       17\n"));
    assert_non_null(strstr(b.data, "Reason:              hash mismatch at seq 17\n"));
    json_decref(j);
    gw_buf_release(&b);
}

/* --- whole program ------------------------------------------------------------------------- */

static int run(int n, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, n);
    argv[0] = "openclaw";
    for (int i = 0; i < n; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    argv[n + 1] = NULL;
    return cli_main(n + 1, argv);
}

static void test_main_usage(void **state)
{
    setenv("OPENCLAW_CONFIG", "/nonexistent/openclaw-test/config.yaml", 1);
    assert_int_equal(run(0), CLI_EXIT_USAGE);
    assert_int_equal(run(1, "bogus"), CLI_EXIT_USAGE);
    assert_int_equal(run(1, "--version"), CLI_EXIT_OK);
    assert_int_equal(run(1, "--help"), CLI_EXIT_OK);
    assert_int_equal(run(2, "help", "audit"), CLI_EXIT_OK);
    assert_int_equal(run(2, "tokens", "--help"), CLI_EXIT_OK);
    assert_int_equal(run(3, "tokens", "create", "--help"), CLI_EXIT_OK);
    assert_int_equal(run(2, "tokens", "create"), CLI_EXIT_USAGE); /* no --scope */
    assert_int_equal(run(1, "tokens"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "--timeout", "abc", "status"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "send", "nochannel", "hi"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "send", "a/b", "one", "two"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "audit", "export", "--format=xml"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "audit", "query", "--limit", "0"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "audit", "verify", "--tenant", "t"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "--gateway", "ftp://x", "status"), CLI_EXIT_USAGE);
    unsetenv("OPENCLAW_CONFIG");
}

static void test_main_config_and_unreachable(void **state)
{
    char dir[256];
    assert_true(test_tmpdir(dir, sizeof(dir), "test_cli_main"));
    char *cfg = gw_xasprintf("%s/cfg/config.yaml", dir);
    setenv("OPENCLAW_CONFIG", cfg, 1);
    unsetenv("OPENCLAW_GATEWAY_URL");
    unsetenv("OPENCLAW_TOKEN");

    assert_int_equal(run(3, "config", "get", "gateway_url"), CLI_EXIT_FAIL); /* not set */
    assert_int_equal(run(4, "config", "set", "gateway_url", "not-a-url"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "config", "set", "colour", "x"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "config", "set", "gateway_url", "http://127.0.0.1:1"), CLI_EXIT_OK);
    assert_int_equal(run(4, "config", "set", "token", "tok_0123456789abcdef"), CLI_EXIT_OK);
    assert_int_equal(run(3, "config", "get", "token"), CLI_EXIT_OK);
    assert_int_equal(run(4, "--json", "config", "get", "token"), CLI_EXIT_OK);

    struct cli_config c;
    char err[200];
    cli_config_init(&c);
    assert_int_equal(cli_config_load(cfg, &c, err, sizeof(err)), GW_OK);
    assert_string_equal(c.gateway_url, "http://127.0.0.1:1");
    assert_string_equal(c.token, "tok_0123456789abcdef");
    cli_config_release(&c);

    /* port 1 refuses connections: unreachable, from the config file's gateway_url */
    assert_int_equal(run(1, "status"), CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(2, "tokens", "list"), CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(4, "--json", "--timeout", "5", "status"), CLI_EXIT_UNREACHABLE);
    /* the flag wins over the file: an invalid flag value is reported */
    assert_int_equal(run(3, "status", "--gateway", "nope"), CLI_EXIT_USAGE);

    assert_int_equal(run(3, "config", "unset", "token"), CLI_EXIT_OK);
    cli_config_init(&c);
    assert_int_equal(cli_config_load(cfg, &c, err, sizeof(err)), GW_OK);
    assert_null(c.token);
    cli_config_release(&c);

    unsetenv("OPENCLAW_CONFIG");
    assert_int_equal(test_rmtree(dir), 0);
    free(cfg);
}

/* --- policy, tools and approvals ----------------------------------------------------------- */

static const struct cli_optdef *policy_opts(const char *sub)
{
    return cli_sub_opts(&cli_command_policy, sub);
}

static const struct cli_optdef *approvals_opts(const char *sub)
{
    return cli_sub_opts(&cli_command_approvals, sub);
}

static const struct cli_optdef *tools_opts(const char *sub)
{
    return cli_sub_opts(&cli_command_tools, sub);
}

static int parse_sub(const struct cli_optdef *defs, int argc, char **argv, struct cli_args *a)
{
    assert_non_null(defs);
    return cli_args_parse(argc, argv, defs, NULL, false, a);
}

static void test_policy_write_args(void **state)
{
    struct cli_args a;
    char err[300];
    json_t *b = NULL;
    assert_null(policy_opts("bogus"));

    /* JSON content (leading blanks) is parsed and sent as "content" */
    char *c1[] = {"--scope",  "team",    "--scope-id", "platform",
                  "--domain", "actions", "--content",  "  {\"default_autonomy\":\"approve\"}",
                  "--reason", "why"};
    assert_int_equal(parse_sub(policy_opts("create"), 10, c1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_policy_write_body(&a, true, &b, err, sizeof(err)), CLI_EXIT_OK);
    char *txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"change_reason\":\"why\",\"content\":{\"default_autonomy\":"
                             "\"approve\"},\"domain\":\"actions\",\"scope\":\"team\","
                             "\"scope_id\":\"platform\"}");
    free(txt);
    json_decref(b);

    /* anything else is YAML text, sent as "content_yaml"; no scope_id for the enterprise */
    char *c2[] = {"--scope",  "enterprise", "--domain",
                  "actions",  "--content",  "default_autonomy: block\n",
                  "--reason", "r"};
    assert_int_equal(parse_sub(policy_opts("create"), 8, c2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_policy_write_body(&a, true, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_string_equal(json_string_value(json_object_get(b, "content_yaml")),
                        "default_autonomy: block\n");
    assert_null(json_object_get(b, "content"));
    assert_null(json_object_get(b, "scope_id"));
    json_decref(b);

    /* --file: YAML and JSON files; a missing file is exit 1 */
    char pdir[256];
    assert_true(test_tmpdir(pdir, sizeof(pdir), "test_cli_policy"));
    char *path = gw_xasprintf("%s/policy.yaml", pdir);
    FILE *f = fopen(path, "w");
    fputs("# team policy\nautonomous: [memory_read]\n", f);
    fclose(f);
    char *c3[] = {"p1", "--file", path, "--reason", "r", "--expected-version", "3"};
    assert_int_equal(parse_sub(policy_opts("update"), 7, c3, &a), CLI_EXIT_OK);
    assert_int_equal(cli_policy_write_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_string_equal(json_string_value(json_object_get(b, "content_yaml")),
                        "# team policy\nautonomous: [memory_read]\n");
    assert_int_equal(json_integer_value(json_object_get(b, "expected_version")), 3);
    assert_null(json_object_get(b, "scope"));
    json_decref(b);
    f = fopen(path, "w");
    fputs("\n{\"blocked\": [\"send_message\"]}\n", f);
    fclose(f);
    assert_int_equal(cli_policy_write_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_true(json_is_array(json_object_get(json_object_get(b, "content"), "blocked")));
    json_decref(b);
    unlink(path);
    assert_int_equal(cli_policy_write_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_FAIL);
    assert_null(b);
    assert_int_equal(test_rmtree(pdir), 0);

    /* usage errors */
    struct {
        bool create;
        int argc;
        char *argv[10];
        const char *msg;
    } bad[] = {
        {true, 6, {"--scope", "team", "--domain", "actions", "--content", "a: 1"}, "--reason"},
        {true, 6, {"--domain", "actions", "--content", "a: 1", "--reason", "r"}, "--scope"},
        {true, 6, {"--scope", "team", "--domain", "actions", "--reason", "r"}, "exactly one"},
        {true,
         10,
         {"--scope", "team", "--domain", "actions", "--reason", "r", "--content", "a: 1", "--file",
          "x"},
         "exactly one"},
        {true,
         8,
         {"--scope", "team", "--domain", "actions", "--reason", "", "--content", "a: 1"},
         "--reason"},
        {true,
         8,
         {"--scope", "team", "--domain", "actions", "--reason", "r", "--content",
          "{\"a\":1,\"a\":2}"},
         "not valid JSON"},
        {true,
         8,
         {"--scope", "team", "--domain", "actions", "--reason", "r", "--content", "  \n"},
         "empty"},
        {true,
         9,
         {"pos", "--scope", "team", "--domain", "actions", "--reason", "r", "--content", "a: 1"},
         "positional"},
        {false, 4, {"--reason", "r", "--content", "a: 1"}, "<id>"},
        {false,
         7,
         {"p", "--reason", "r", "--content", "a: 1", "--expected-version", "0"},
         "--expected-version"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        const struct cli_optdef *defs = policy_opts(bad[i].create ? "create" : "update");
        assert_int_equal(parse_sub(defs, bad[i].argc, bad[i].argv, &a), CLI_EXIT_OK);
        err[0] = '\0';
        assert_int_equal(cli_policy_write_body(&a, bad[i].create, &b, err, sizeof(err)),
                         CLI_EXIT_USAGE);
        assert_null(b);
        if (!strstr(err, bad[i].msg))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err, bad[i].msg);
    }
    /* options of another subcommand are unknown */
    char *c4[] = {"p", "--scope", "team"};
    assert_int_equal(parse_sub(policy_opts("update"), 3, c4, &a), CLI_EXIT_USAGE);
    free(path);
}

static void test_policy_explain_args(void **state)
{
    struct cli_args a;
    char err[300];
    json_t *b = NULL;
    char *e1[] = {"--action",     "tool_call",        "--resource",
                  "memory_write", "--classification", "internal",
                  "--context",    "spent_usd=12",     "--context=rounds=a=b",
                  "--user",       "alice@company.com"};
    assert_int_equal(parse_sub(policy_opts("explain"), 11, e1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    char *txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"action\":\"tool_call\",\"classification\":\"internal\","
                             "\"context\":{\"rounds\":\"a=b\",\"spent_usd\":\"12\"},"
                             "\"principal\":{\"user\":\"alice@company.com\"},"
                             "\"resource\":\"memory_write\"}");
    free(txt);
    json_decref(b);

    char *e2[] = {"--action", "model_call", "--resource", "gpt"};
    assert_int_equal(parse_sub(policy_opts("explain"), 4, e2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_int_equal(json_object_size(b), 2);
    json_decref(b);

    char *e3[] = {"--action", "tool_call"};
    assert_int_equal(parse_sub(policy_opts("explain"), 2, e3, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    char *e4[] = {"--action", "a", "--resource", "r", "--context", "novalue"};
    assert_int_equal(parse_sub(policy_opts("explain"), 6, e4, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "KEY=VALUE"));
    char *e5[] = {"--action", "a", "--resource", "r", "--context", "k=1", "--context", "k=2"};
    assert_int_equal(parse_sub(policy_opts("explain"), 8, e5, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "more than once"));
    char *e6[] = {"--action", "a", "--resource", "r", "--context", "=v"};
    assert_int_equal(parse_sub(policy_opts("explain"), 6, e6, &a), CLI_EXIT_OK);
    assert_int_equal(cli_explain_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_null(b);
    /* --resource is not repeatable, --context is */
    char *e7[] = {"--resource", "a", "--resource", "b"};
    assert_int_equal(parse_sub(policy_opts("explain"), 4, e7, &a), CLI_EXIT_USAGE);
}

static void test_tools_approvals_args(void **state)
{
    struct cli_args a;
    char err[300];
    json_t *b = NULL;
    assert_null(tools_opts("run"));
    assert_null(approvals_opts("delete"));

    char *t1[] = {"memory_write", "--args", "{\"namespace\":\"eng\",\"agent\":\"bot\"}", "--arg",
                  "content=a=b c"};
    assert_int_equal(parse_sub(tools_opts("invoke"), 5, t1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_invoke_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    char *txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"args\":{\"agent\":\"bot\",\"content\":\"a=b c\","
                             "\"namespace\":\"eng\"},\"tool\":\"memory_write\"}");
    free(txt);
    json_decref(b);

    char *t2[] = {"memory_read"};
    assert_int_equal(parse_sub(tools_opts("invoke"), 1, t2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_invoke_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_int_equal(json_object_size(json_object_get(b, "args")), 0);
    json_decref(b);

    char *t3[] = {"memory_read", "--args", "{\"agent\":\"x\"}", "--arg", "agent=y"};
    assert_int_equal(parse_sub(tools_opts("invoke"), 5, t3, &a), CLI_EXIT_OK);
    assert_int_equal(cli_invoke_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "more than once"));
    char *t4[] = {"memory_read", "--args", "[1]"};
    assert_int_equal(parse_sub(tools_opts("invoke"), 3, t4, &a), CLI_EXIT_OK);
    assert_int_equal(cli_invoke_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "JSON object"));
    char *t5[] = {"--arg", "a=b"};
    assert_int_equal(parse_sub(tools_opts("invoke"), 2, t5, &a), CLI_EXIT_OK);
    assert_int_equal(cli_invoke_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_null(b);

    char *p1[] = {"apr_1", "--args", "{\"content\":\"edited\"}", "--comment", "fine"};
    assert_int_equal(parse_sub(approvals_opts("approve"), 5, p1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_approve_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"args\":{\"content\":\"edited\"},\"comment\":\"fine\"}");
    free(txt);
    json_decref(b);
    char *p2[] = {"apr_1"};
    assert_int_equal(parse_sub(approvals_opts("reject"), 1, p2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_approve_body(&a, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_int_equal(json_object_size(b), 0);
    json_decref(b);
    char *p3[] = {"apr_1", "--args", "{"};
    assert_int_equal(parse_sub(approvals_opts("approve"), 3, p3, &a), CLI_EXIT_OK);
    assert_int_equal(cli_approve_body(&a, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    char *p4[] = {"apr_1", "--args", "{}"}; /* reject takes no --args */
    assert_int_equal(parse_sub(approvals_opts("reject"), 3, p4, &a), CLI_EXIT_USAGE);
}

static void test_violations(void **state)
{
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    json_t *env = json_loads(
        "{\"error\":{\"code\":\"policy_violation\",\"message\":\"m\",\"violations\":["
        "{\"field\":\"default_autonomy\",\"message\":\"default_autonomy: autonomous is looser "
        "than notify\"},"
        "{\"field\":\"per_action.send_email\",\"message\":\"must be at least approve\"},"
        "{\"field\":\"\",\"message\":\"document: not a mapping\"},"
        "{\"field\":\"x\\u001b[31m\",\"message\":\"bad\\nline\"},"
        "{\"nothing\":1}]}}",
        0, NULL);
    assert_non_null(env);
    assert_int_equal(cli_format_violations(&b, env), 4);
    assert_string_equal(b.data, "  - default_autonomy: autonomous is looser than notify\n"
                                "  - per_action.send_email: must be at least approve\n"
                                "  - document: not a mapping\n"
                                "  - x?[31m: bad?line\n");
    json_decref(env);
    gw_buf_reset(&b);
    env = json_loads("{\"error\":{\"code\":\"not_found\",\"message\":\"m\"}}", 0, NULL);
    assert_int_equal(cli_format_violations(&b, env), 0);
    assert_int_equal(b.len, 0);
    json_decref(env);
    assert_int_equal(cli_format_violations(&b, NULL), 0);
    gw_buf_release(&b);
    /* a 422 maps to exit code 5 */
    assert_int_equal(cli_exit_for_status(422), CLI_EXIT_CLIENT);
}

static void test_policy_formats(void **state)
{
    struct gw_buf b;
    gw_buf_init(&b, 1 << 20);
    json_t *r = json_loads(
        "{\"decision\":\"require_approval\",\"reason\":\"tool 'memory_write' requires "
        "approval\",\"policy\":{\"id\":\"pol_t\",\"version\":3,\"scope\":\"team\",\"scope_id\":"
        "\"platform\"},\"obligations\":{\"redact\":true,\"reroute_model\":null,\"disclosure_"
        "required\":false},\"trace\":[{\"scope\":\"enterprise\",\"scope_id\":null,\"policy_id\":"
        "\"pol_e\",\"version\":1,\"deciding\":false,\"note\":\"default_autonomy=notify\"},"
        "{\"scope\":\"team\",\"scope_id\":\"platform\",\"policy_id\":\"pol_t\",\"version\":3,"
        "\"deciding\":true,\"contributes\":\"per_action\"}]}",
        0, NULL);
    assert_non_null(r);
    cli_format_explain(&b, r);
    assert_string_equal(b.data,
                        "Decision:    require_approval\n"
                        "Reason:      tool 'memory_write' requires approval\n"
                        "Policy:      pol_t v3 (team platform)\n"
                        "Obligations: {\"redact\":true}\n"
                        "\n"
                        "Trace:\n"
                        "SCOPE       SCOPE ID  POLICY  VERSION  DECIDING  NOTE\n"
                        "enterprise  -         pol_e   1        -         default_autonomy=notify\n"
                        "team        platform  pol_t   3        yes       per_action\n");
    json_decref(r);

    gw_buf_reset(&b);
    r = json_loads("{\"decision\":\"allow\",\"reason\":\"default\",\"policy\":null}", 0, NULL);
    cli_format_explain(&b, r);
    assert_non_null(strstr(b.data, "Decision:    allow\n"));
    assert_non_null(strstr(b.data, "Policy:      -"));
    assert_null(strstr(b.data, "Trace"));
    json_decref(r);

    gw_buf_reset(&b);
    r = json_loads("{\"status\":\"pending_approval\",\"approval_id\":\"apr_1\",\"expires_at\":"
                   "\"2025-01-11T09:00:00Z\",\"approvers\":{\"mode\":\"team_lead\"}}",
                   0, NULL);
    cli_format_invoke(&b, 202, r);
    assert_string_equal(b.data, "pending approval apr_1 (expires 2025-01-11T09:00:00Z)\n"
                                "Approvers:   {\"mode\":\"team_lead\"}\n");
    json_decref(r);
    gw_buf_reset(&b);
    r = json_loads("{\"status\":\"executed\",\"result\":{\"bytes\":5}}", 0, NULL);
    cli_format_invoke(&b, 200, r);
    assert_string_equal(b.data, "executed\nResult:\n  {\n    \"bytes\": 5\n  }\n");
    json_decref(r);

    gw_buf_reset(&b);
    r = json_loads("{\"domain\":\"actions\",\"effective\":{\"blocked\":[]},\"chain\":[{\"scope\":"
                   "\"enterprise\",\"scope_id\":null,\"policy_id\":\"pol_e\",\"version\":2}]}",
                   0, NULL);
    cli_format_effective(&b, r);
    assert_string_equal(b.data, "Domain:      actions\n"
                                "Chain:\n"
                                "  SCOPE       SCOPE ID  POLICY  VERSION\n"
                                "  enterprise  -         pol_e   2\n"
                                "Effective:\n"
                                "  {\n"
                                "    \"blocked\": []\n"
                                "  }\n");
    json_decref(r);
    gw_buf_release(&b);
}

static void test_main_policy_usage(void **state)
{
    setenv("OPENCLAW_CONFIG", "/nonexistent/openclaw-test/config.yaml", 1);
    setenv("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:1", 1);
    unsetenv("OPENCLAW_TOKEN");
    assert_int_equal(run(2, "help", "policy"), CLI_EXIT_OK);
    assert_int_equal(run(3, "approvals", "approve", "--help"), CLI_EXIT_OK);
    assert_int_equal(run(2, "tools", "--help"), CLI_EXIT_OK);
    assert_int_equal(run(1, "policy"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "policy", "remove"), CLI_EXIT_USAGE);
    assert_int_equal(run(6, "policy", "create", "--scope", "team", "--domain", "actions"),
                     CLI_EXIT_USAGE); /* no document, no reason */
    assert_int_equal(run(4, "policy", "get", "p", "--version"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "policy", "get", "p", "--version", "x"), CLI_EXIT_USAGE);
    assert_int_equal(run(6, "policy", "diff", "p", "--from", "1", "--to"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "policy", "diff", "p", "--from", "1"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "policy", "rollback", "p", "--version", "1"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "policy", "effective"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "policy", "explain", "--action", "tool_call"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "policy", "deprecate"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "policy", "deprecate", "p"), CLI_EXIT_USAGE); /* no --reason */
    assert_int_equal(run(2, "approvals", "show"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "approvals", "approve", "a", "--args", "nope"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "tools", "invoke"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "tools", "invoke", "t", "--arg"), CLI_EXIT_USAGE);
    /* valid invocations get as far as the (unreachable) gateway */
    assert_int_equal(run(5, "policy", "get", "p", "--version", "2"), CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(9, "policy", "rollback", "p", "--version", "1", "--reason", "r",
                         "--timeout", "5"),
                     CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(6, "--json", "policy", "explain", "--action", "a", "--resource=r"),
                     CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(3, "approvals", "list", "--status=pending"), CLI_EXIT_UNREACHABLE);
    assert_int_equal(run(5, "tools", "invoke", "memory_read", "--arg", "agent=x"),
                     CLI_EXIT_UNREACHABLE);
    unsetenv("OPENCLAW_GATEWAY_URL");
    unsetenv("OPENCLAW_CONFIG");
}

/* --- `openclaw auth`: credentials file, callback, PKCE ---------------------------------------- */

static void test_credentials_path(void **state)
{
    char *home = getenv("HOME") ? gw_xstrdup(getenv("HOME")) : NULL;
    char xdg[256], fake_home[256];
    assert_true(test_tmpdir(xdg, sizeof(xdg), "test_cli_xdg"));
    assert_true(test_tmpdir(fake_home, sizeof(fake_home), "test_cli_home"));
    setenv("XDG_CONFIG_HOME", xdg, 1);
    setenv("HOME", fake_home, 1);
    char *want_xdg = gw_xasprintf("%s/openclaw/credentials.json", xdg);
    char *want_home = gw_xasprintf("%s/.config/openclaw/credentials.json", fake_home);
    char *p = cli_credentials_path();
    assert_string_equal(p, want_xdg);
    free(p);
    setenv("XDG_CONFIG_HOME", "relative/ignored", 1); /* the XDG spec: absolute paths only */
    p = cli_credentials_path();
    assert_string_equal(p, want_home);
    free(p);
    unsetenv("XDG_CONFIG_HOME");
    p = cli_credentials_path();
    assert_string_equal(p, want_home);
    free(p);
    free(want_xdg);
    free(want_home);
    assert_int_equal(test_rmtree(xdg), 0);
    assert_int_equal(test_rmtree(fake_home), 0);
    setenv("XDG_CONFIG_HOME", "/nonexistent/openclaw-test-xdg", 1);
    if (home)
        setenv("HOME", home, 1);
    else
        unsetenv("HOME");
    free(home);
}

static int mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return (int)(st.st_mode & 0777);
}

static void test_credentials_file(void **state)
{
    char dir[256];
    assert_true(test_tmpdir(dir, sizeof(dir), "test_cli_cred"));
    char *cdir = gw_xasprintf("%s/cfg/openclaw", dir);
    char *path = gw_xasprintf("%s/credentials.json", cdir);
    char err[300];
    json_t *doc = NULL;
    bool loose = true;
    /* missing: an empty document */
    assert_int_equal(cli_credentials_load(path, &doc, &loose, err, sizeof(err)), GW_OK);
    assert_false(loose);
    assert_null(cli_credentials_entry(doc, "http://gw"));
    json_object_set_new(json_object_get(doc, "gateways"), "http://gw",
                        json_pack("{s:s,s:s,s:I,s:s}", "access_token", "oca_a", "refresh_token",
                                  "ocr_r", "expires_at", (json_int_t)42, "user", "alice"));
    json_object_set_new(json_object_get(doc, "gateways"), "http://bad",
                        json_pack("{s:s,s:s}", "access_token", "has space", "refresh_token", "r"));
    /* even a umask that lets everything through cannot widen the file or the directory */
    mode_t old = umask(0);
    assert_int_equal(cli_credentials_save(path, doc, err, sizeof(err)), GW_OK);
    umask(old);
    json_decref(doc);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(mode_of(cdir), 0700);
    assert_int_equal(cli_credentials_load(path, &doc, &loose, err, sizeof(err)), GW_OK);
    assert_false(loose);
    json_t *e = cli_credentials_entry(doc, "http://gw");
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "user")), "alice");
    assert_null(cli_credentials_entry(doc, "http://bad")); /* unusable tokens */
    assert_null(cli_credentials_entry(doc, "http://other"));
    /* a directory left open to others is closed again on the next write */
    assert_int_equal(chmod(cdir, 0755), 0);
    assert_int_equal(cli_credentials_save(path, doc, err, sizeof(err)), GW_OK);
    assert_int_equal(mode_of(cdir), 0700);
    json_decref(doc);
    /* a loose file is reported */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(cli_credentials_load(path, &doc, &loose, err, sizeof(err)), GW_OK);
    assert_true(loose);
    json_decref(doc);
    /* no leftovers of the temporary file */
    char *cmd = gw_xasprintf("test -z \"$(ls '%s' | grep -v '^credentials.json$')\"", cdir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* something else than a credentials file is an error, not an empty login */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"gateways\": []}", f);
    fclose(f);
    assert_int_equal(cli_credentials_load(path, &doc, NULL, err, sizeof(err)), GW_ECONFIG);
    assert_null(doc);
    assert_non_null(strstr(err, "not an openclaw credentials file"));
    /* a link planted at the file's place is not followed */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_int_equal(cli_credentials_load(path, &doc, NULL, err, sizeof(err)), GW_EIO);
    assert_int_equal(test_rmtree(dir), 0);
    free(path);
    free(cdir);
}

static void test_callback_parse(void **state)
{
    struct cli_callback cb;
    assert_int_equal(cli_callback_parse("/callback?code=abc-_1&state=s.t~", &cb), 0);
    assert_string_equal(cb.code, "abc-_1");
    assert_string_equal(cb.state, "s.t~");
    assert_null(cb.error);
    cli_callback_release(&cb);
    assert_int_equal(cli_callback_parse("/callback?error=access_denied&state=x&extra=1", &cb), 0);
    assert_string_equal(cb.error, "access_denied");
    assert_null(cb.code);
    cli_callback_release(&cb);
    assert_int_equal(cli_callback_parse("/callback?state=a%20b+c", &cb), 0);
    assert_string_equal(cb.state, "a b c");
    cli_callback_release(&cb);
    assert_int_equal(cli_callback_parse("/callback", &cb), 0);
    assert_null(cb.code);
    cli_callback_release(&cb);
    assert_int_equal(cli_callback_parse("/favicon.ico", &cb), -1);
    assert_int_equal(cli_callback_parse("/callbackx?code=1", &cb), -1);
    assert_int_equal(cli_callback_parse("/callback?code=1&code=2", &cb), -2);
    assert_int_equal(cli_callback_parse("/callback?state=%00", &cb), -2);
}

static void test_pkce_pair(void **state)
{
    char v[44], c[44], v2[44], c2[44];
    cli_pkce_pair(v, c);
    cli_pkce_pair(v2, c2);
    assert_int_equal(strlen(v), 43);
    assert_int_equal(strlen(c), 43);
    assert_true(auth_cli_verifier_ok(v));
    assert_true(auth_cli_pkce_matches(v, c));
    assert_string_not_equal(v, v2);
    assert_false(auth_cli_pkce_matches(v2, c));
}

static void test_main_auth_usage(void **state)
{
    setenv("OPENCLAW_CONFIG", "/nonexistent/openclaw-test/config.yaml", 1);
    setenv("OPENCLAW_GATEWAY_URL", "http://127.0.0.1:1", 1);
    assert_int_equal(run(2, "auth", "--help"), CLI_EXIT_OK);
    assert_int_equal(run(1, "auth"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "auth", "whoami"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "auth", "status", "x"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "auth", "login", "--login-timeout", "0"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "auth", "login", "--no-browser", "--browser-command", "x"),
                     CLI_EXIT_USAGE);
    assert_int_equal(run(3, "auth", "logout", "--no-browser"), CLI_EXIT_USAGE);
    /* nothing stored: not logged in (status 3, logout 0) */
    assert_int_equal(run(2, "auth", "status"), CLI_EXIT_AUTH);
    assert_int_equal(run(2, "auth", "logout"), CLI_EXIT_OK);
    unsetenv("OPENCLAW_GATEWAY_URL");
    unsetenv("OPENCLAW_CONFIG");
}

/* --- did you mean, money, CA bundle, timeouts ---------------------------------------------- */

static void test_suggest(void **state)
{
    assert_int_equal(gw_edit_distance("tokens", "tokens"), 0);
    assert_int_equal(gw_edit_distance("tokns", "tokens"), 1);
    assert_int_equal(gw_edit_distance("tokesn", "tokens"), 1); /* a swap of neighbours */
    assert_int_equal(gw_edit_distance("", "abc"), 3);
    assert_int_equal(gw_edit_distance("kitten", "sitting"), 3);
    static const char *const cmds[] = {"status", "auth",     "config", "tokens", "tools",
                                       "policy", "sessions", "send",   "stats",  "admin"};
    size_t n = GW_ARRAY_LEN(cmds);
    assert_string_equal(cli_suggest("tokns", cmds, n), "tokens");
    assert_string_equal(cli_suggest("tokesn", cmds, n), "tokens");
    assert_string_equal(cli_suggest("policies", cmds, n), "policy");
    assert_string_equal(cli_suggest("session", cmds, n), "sessions");
    assert_string_equal(cli_suggest("statu", cmds, n), "status");
    assert_null(cli_suggest("tokens", cmds, n));     /* not a typo: the name itself */
    assert_null(cli_suggest("frobnicate", cmds, n)); /* nothing like any of them */
    assert_null(cli_suggest("x", cmds, n));
    char buf[100];
    assert_string_equal(cli_suggest_hint("--jsn", (const char *const[]){"json", "token"}, 2, "--",
                                         buf, sizeof(buf)),
                        ""); /* the caller strips the dashes */
    assert_string_equal(cli_suggest_hint("jsn", (const char *const[]){"json", "token"}, 2, "--",
                                         buf, sizeof(buf)),
                        " (did you mean --json?)");
    /* options: both tables are searched */
    struct cli_args a;
    char *argv[] = {"--scpoe", "x"};
    static const struct cli_optdef defs[] = {{"scope", CLI_OPT_ARG}, {NULL, 0}};
    assert_int_equal(cli_args_parse(2, argv, defs, cli_global_opts, false, &a), CLI_EXIT_USAGE);
    assert_string_equal(a.err, "unknown option --scpoe (did you mean --scope?)");
    char *argv2[] = {"--cacrt", "f"};
    assert_int_equal(cli_args_parse(2, argv2, NULL, cli_global_opts, false, &a), CLI_EXIT_USAGE);
    assert_string_equal(a.err, "unknown option --cacrt (did you mean --cacert?)");
}

static void test_money(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0.00"},
        {412.5, "412.50"},
        {4.6, "4.60"},
        {10, "10.00"},
        {0.004, "0.004"},
        {0.00043, "0.00043"},
        {0.00043000000000000004, "0.00043"},
        {1.2345678, "1.234568"},
        {0.0000004, "<0.000001"},
        {0.0000005, "<0.000001"},
        {0.0000006, "0.000001"},
        {-0.0000001, "0.00"},
        {-2.5, "-2.50"},
        {1e9 + 0.25, "1000000000.25"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(cases); i++) {
        char *s = cli_money(cases[i].v);
        if (strcmp(s, cases[i].want) != 0)
            fail_msg("cli_money(%.17g) = %s, want %s", cases[i].v, s, cases[i].want);
        free(s);
    }
    /* the costs report: no "0.00" for a spend that is not nothing, no float noise */
    json_t *r = json_pack("{s:s,s:s,s:f,s:i,s:i,s:i,s:[{s:s,s:f,s:i,s:{s:f,s:f,s:s,s:s}}],"
                          "s:[],s:[]}",
                          "period", "2026-11", "currency", "USD", "total_usd",
                          0.00043000000000000004, "requests", 1, "prompt_tokens", 10,
                          "completion_tokens", 5, "by_workspace", "workspace", "dev", "total_usd",
                          0.00043000000000000004, "requests", 1, "budget", "monthly_usd_limit",
                          0.005, "used_pct", 8.6, "status", "ok", "on_exceed", "alert", "by_user",
                          "by_model");
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    cli_format_costs(&out, r);
    assert_non_null(strstr(out.data, "  Total:     0.00043\n"));
    assert_non_null(strstr(out.data, "dev        0.00043  1         0.005   8.6%  ok      alert"));
    assert_null(strstr(out.data, "0.00\n"));
    assert_null(strstr(out.data, "00000000"));
    gw_buf_release(&out);
    json_decref(r);
}

static void test_settings_ca_and_timeouts(void **state)
{
    char dir[256];
    assert_true(test_tmpdir(dir, sizeof(dir), "test_cli_ca"));
    char *pem = gw_xasprintf("%s/ca.pem", dir);
    FILE *f = fopen(pem, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    struct cli_config c;
    cli_config_init(&c);
    c.ca_bundle = gw_xstrdup(pem);
    struct cli_settings s;
    memset(&s, 0, sizeof(s));
    char err[400];
    assert_true(cli_settings_ca(&s, NULL, NULL, NULL, err, sizeof(err)));
    assert_null(s.ca_bundle);
    assert_string_equal(s.ca_source, "none");
    assert_true(cli_settings_ca(&s, NULL, "", &c, err, sizeof(err)));
    assert_string_equal(s.ca_bundle, pem);
    assert_string_equal(s.ca_source, "config ca_bundle");
    assert_true(cli_settings_ca(&s, NULL, pem, &c, err, sizeof(err)));
    assert_string_equal(s.ca_source, "OPENCLAW_CA_BUNDLE");
    assert_false(cli_settings_ca(&s, "/nonexistent/ca.pem", pem, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot read the CA bundle /nonexistent/ca.pem"));
    assert_non_null(strstr(err, "--cacert"));
    assert_false(cli_settings_ca(&s, dir, NULL, NULL, err, sizeof(err))); /* a directory */
    cli_settings_release(&s);

    /* the config file keeps ca_bundle */
    char *text = cli_config_serialize(&c);
    struct cli_config back;
    cli_config_init(&back);
    assert_int_equal(cli_config_parse(text, strlen(text), &back, err, sizeof(err)), GW_OK);
    assert_string_equal(back.ca_bundle, pem);
    cli_config_release(&back);
    free(text);
    cli_config_release(&c);

    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    assert_int_equal(cli_timeout(&ctx, false), CLI_DEFAULT_TIMEOUT);
    assert_int_equal(cli_timeout(&ctx, true), CLI_DEFAULT_TURN_TIMEOUT);
    assert_true(CLI_DEFAULT_TURN_TIMEOUT > CLI_DEFAULT_TIMEOUT);
    ctx.timeout = 7;
    assert_int_equal(cli_timeout(&ctx, false), 7);
    assert_int_equal(cli_timeout(&ctx, true), 7);
    assert_int_equal(test_rmtree(dir), 0);
    free(pem);
}

/* cli_main with one of its output streams (stdout or stderr) captured into out. */
static int run_capture(int fd_out, char *out, size_t cap, int n, char **args)
{
    char *argv[32];
    argv[0] = "openclaw";
    for (int i = 0; i < n; i++)
        argv[i + 1] = args[i];
    argv[n + 1] = NULL;
    FILE *stream = fd_out == STDOUT_FILENO ? stdout : stderr;
    fflush(stream);
    char dir[256];
    assert_true(test_tmpdir(dir, sizeof(dir), "test_cli_output"));
    char *path = gw_xasprintf("%s/out", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    int saved = dup(fd_out);
    dup2(fd, fd_out);
    int rc = cli_main(n + 1, argv);
    fflush(stream);
    dup2(saved, fd_out);
    close(saved);
    ssize_t got = pread(fd, out, cap - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
    rmdir(dir);
    free(path);
    return rc;
}

static int run_err(char *err, size_t cap, int n, char **args)
{
    return run_capture(STDERR_FILENO, err, cap, n, args);
}

static void test_main_did_you_mean_and_new_commands(void **state)
{
    setenv("OPENCLAW_CONFIG", "/nonexistent/openclaw-test/config.yaml", 1);
    char err[4096];
    assert_int_equal(run_err(err, sizeof(err), 1, (char *[]){"tokns"}), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "unknown command 'tokns' (did you mean tokens?)"));
    assert_int_equal(run_err(err, sizeof(err), 2, (char *[]){"help", "sesions"}), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "(did you mean sessions?)"));
    assert_int_equal(run_err(err, sizeof(err), 2, (char *[]){"sessions", "revok"}), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "unknown sessions subcommand 'revok' (did you mean revoke?)"));
    assert_int_equal(run_err(err, sizeof(err), 3, (char *[]){"agents", "list", "--namespce"}),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "(did you mean --namespace?)"));
    assert_int_equal(run_err(err, sizeof(err), 3, (char *[]){"config", "get", "gatway_url"}),
                     CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "(did you mean gateway_url?)"));
    assert_int_equal(run_err(err, sizeof(err), 1, (char *[]){"zzzzzzzz"}), CLI_EXIT_USAGE);
    assert_null(strstr(err, "did you mean"));

    /* sessions and admin: argument checks before any request */
    assert_int_equal(run(2, "sessions", "revoke"), CLI_EXIT_USAGE);
    assert_int_equal(run(5, "sessions", "revoke", "s1", "--user", "bob"), CLI_EXIT_USAGE);
    assert_int_equal(run(4, "sessions", "revoke", "--user", ""), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "sessions", "list", "extra"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "admin", "reload", "now"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "admin", "reload", "--force"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "completion", "bash", "x"), CLI_EXIT_USAGE);
    assert_int_equal(run(2, "completion", "zsh"), CLI_EXIT_USAGE);
    assert_int_equal(run(3, "--cacert", "/nonexistent/ca.pem", "status"), CLI_EXIT_USAGE);
    const struct cli_optdef *d = cli_sub_opts(&cli_command_sessions, "revoke");
    assert_non_null(d);
    struct cli_args a;
    char *argv[] = {"--user", "alice@acme.test"};
    assert_int_equal(cli_args_parse(2, argv, d, NULL, false, &a), CLI_EXIT_OK);
    assert_string_equal(cli_args_get(&a, "user"), "alice@acme.test");
    assert_null(cli_sub_opts(&cli_command_admin, "restart"));
    unsetenv("OPENCLAW_CONFIG");
}

static void test_sessions_and_reload_reports(void **state)
{
    json_t *r = json_pack("{s:[{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:s,s:n,"
                          "s:s,s:s,s:s}]}",
                          "sessions", "id", "s1", "kind", "browser", "user", "alice", "role",
                          "user", "client_ip", "10.0.0.1", "created_at", "2026-12-01T10:00:00Z",
                          "last_seen_at", "2026-12-01T11:00:00Z", "expires_at",
                          "2026-12-02T10:00:00Z", "current", 1, "id", "s2\x1b[31m", "kind", "cli",
                          "user", "alice", "role", "user", "client_ip", "created_at",
                          "2026-12-01T09:00:00Z", "last_seen_at", "2026-12-01T09:30:00Z",
                          "expires_at", "2026-12-15T09:00:00Z");
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    cli_format_sessions(&out, r);
    assert_non_null(strstr(out.data, "ID  "));
    assert_non_null(strstr(out.data, "CURRENT\n"));
    assert_non_null(strstr(out.data, "s1  "));
    assert_non_null(strstr(out.data, "10.0.0.1"));
    assert_non_null(strstr(out.data, "  yes\n"));
    assert_null(strchr(out.data, '\x1b')); /* sanitized */
    json_decref(r);
    gw_buf_reset(&out);
    r = json_pack("{s:[]}", "sessions");
    cli_format_sessions(&out, r);
    assert_string_equal(out.data, "No sessions.\n");
    json_decref(r);

    gw_buf_reset(&out);
    r = json_pack("{s:b,s:i,s:i,s:i}", "reloaded", 1, "tokens", 5, "agents", 3, "roles", 4);
    cli_format_reload(&out, 200, r);
    assert_string_equal(out.data, "Configuration reloaded: 5 tokens, 3 agents, 4 roles\n");
    json_decref(r);
    gw_buf_reset(&out);
    r = json_pack("{s:{s:s,s:s,s:[s,s]}}", "error", "code", "invalid_request", "message",
                  "the new configuration is invalid", "errors", "gateway.yaml:3: unknown key",
                  "gateway.yaml:9: bad\x07 value");
    cli_format_reload(&out, 400, r);
    assert_string_equal(out.data, "  - gateway.yaml:3: unknown key\n"
                                  "  - gateway.yaml:9: bad? value\n");
    json_decref(r);
    gw_buf_release(&out);
}

/* --- providers and models ---------------------------------------------------------------- */

static void test_models_bodies(void **state)
{
    (void)state;
    struct cli_args a;
    char err[240] = "";
    json_t *b = NULL;
    const struct cli_optdef *add = cli_sub_opts(&cli_command_providers, "add");
    const struct cli_optdef *set = cli_sub_opts(&cli_command_providers, "set");
    char kdir[128];
    assert_true(test_tmpdir(kdir, sizeof(kdir), "test_cli_models"));
    char *keyfile = gw_xasprintf("%s/key", kdir);
    FILE *f = fopen(keyfile, "w");
    fputs("sk-from-a-file-1234\r\n", f);
    fclose(f);
    char *a1[] = {"vllm",           "--api",   "openai",    "--base-url", "http://h:8000/v1",
                  "--api-key-file", keyfile,   "--retries", "1",          "--fallback",
                  "openai/gpt-4o",  "--model", "qwen",      "--model",    "coder",
                  "--disabled"};
    assert_int_equal(parse_sub(add, 16, a1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_provider_body(&a, true, &b, err, sizeof(err)), CLI_EXIT_OK);
    char *txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"api\":\"openai\",\"api_key\":\"sk-from-a-file-1234\","
                             "\"base_url\":\"http://h:8000/v1\",\"enabled\":false,"
                             "\"fallback\":[\"openai/gpt-4o\"],\"models\":[{\"name\":\"qwen\"},"
                             "{\"name\":\"coder\"}],\"name\":\"vllm\",\"retries\":1}");
    free(txt);
    json_decref(b);
    /* the key from the environment; a change of nothing, or contradictions, are usage errors */
    setenv("TEST_CLI_MODELS_KEY", "sk-from-env", 1);
    char *a2[] = {"vllm", "--api-key-env", "TEST_CLI_MODELS_KEY", "--no-fallback"};
    assert_int_equal(parse_sub(set, 4, a2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_provider_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_OK);
    assert_string_equal(json_string_value(json_object_get(b, "api_key")), "sk-from-env");
    assert_int_equal(json_array_size(json_object_get(b, "fallback")), 0);
    assert_null(json_object_get(b, "name")); /* the name is in the path of a change */
    json_decref(b);
    struct {
        int argc;
        char *argv[4];
        const char *says;
    } bad[] = {
        {1, {"vllm"}, "nothing to change"},
        {3, {"vllm", "--api-key-env", "TEST_CLI_MODELS_UNSET"}, "not set"},
        {4, {"vllm", "--no-api-key", "--api-key-env", "TEST_CLI_MODELS_KEY"}, "contradict"},
        {3, {"vllm", "--retries", "-1"}, "--retries"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        assert_int_equal(parse_sub(set, bad[i].argc, bad[i].argv, &a), CLI_EXIT_OK);
        assert_int_equal(cli_provider_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_USAGE);
        if (!strstr(err, bad[i].says))
            fail_msg("'%s' does not say '%s'", err, bad[i].says);
    }
    char *a3[] = {"vllm", "--api-key-file", "/nonexistent/key"};
    assert_int_equal(parse_sub(set, 3, a3, &a), CLI_EXIT_OK);
    assert_int_equal(cli_provider_body(&a, false, &b, err, sizeof(err)), CLI_EXIT_FAIL);
    /* --model is for add only */
    char *a4[] = {"vllm", "--model", "x"};
    assert_int_equal(parse_sub(set, 3, a4, &a), CLI_EXIT_USAGE);

    const struct cli_optdef *madd = cli_sub_opts(&cli_command_models, "add");
    char *m1[] = {"vllm/coder",     "--upstream", "qwen2.5-coder", "--input-price", "0.5",
                  "--output-price", "1.5"};
    assert_int_equal(parse_sub(madd, 7, m1, &a), CLI_EXIT_OK);
    assert_int_equal(cli_model_body(&a, true, &b, err, sizeof(err)), CLI_EXIT_OK);
    txt = gw_json_canonical(b);
    assert_string_equal(txt, "{\"id\":\"vllm/coder\",\"input_per_mtok\":0.5,"
                             "\"output_per_mtok\":1.5,\"upstream\":\"qwen2.5-coder\"}");
    free(txt);
    json_decref(b);
    char *m2[] = {"vllm/coder", "--input-price", "cheap"};
    assert_int_equal(parse_sub(madd, 3, m2, &a), CLI_EXIT_OK);
    assert_int_equal(cli_model_body(&a, true, &b, err, sizeof(err)), CLI_EXIT_USAGE);
    assert_non_null(strstr(err, "--input-price"));
    unlink(keyfile);
    free(keyfile);
    test_rmtree(kdir);
}

static void test_models_formats(void **state)
{
    (void)state;
    struct gw_buf out;
    gw_buf_init(&out, 1 << 16);
    json_error_t je;
    json_t *providers = json_loads(
        "{\"providers\":[{\"name\":\"vllm\",\"source\":\"api\",\"state\":\"active\","
        "\"api\":\"openai\",\"base_url\":\"http://h/v1\",\"api_key\":{\"set\":true,"
        "\"last4\":\"c0de\"},\"models\":[\"qwen\"],\"limits\":{\"max_concurrent\":4,\"rpm\":60,"
        "\"tpm\":0,\"max_queue\":10,\"max_wait_ms\":500}},{\"name\":\"x\",\"source\":\"config\","
        "\"state\":\"active\",\"api\":\"ollama\",\"base_url\":\"http://o\",\"api_key\":{\"set\":"
        "false},\"models\":[]}]}",
        0, &je);
    assert_non_null(providers);
    cli_format_providers(&out, providers);
    assert_non_null(strstr(out.data, "NAME  SOURCE  STATE   API     BASE URL     API KEY"));
    assert_non_null(strstr(out.data, "vllm  api     active  openai  http://h/v1  set ...c0de"));
    out.len = 0;
    cli_format_provider(&out, json_array_get(json_object_get(providers, "providers"), 0));
    assert_non_null(strstr(out.data, "  API key:             set ...c0de\n"));
    assert_non_null(strstr(out.data, "4 concurrent, rpm 60, tpm 0, queue 10, wait 500 ms"));
    json_decref(providers);
    out.len = 0;
    json_t *probe = json_loads(
        "{\"ok\":false,\"results\":[{\"model\":\"a/long-name\",\"ok\":true,\"latency_ms\":41,"
        "\"answer\":\"OK\\u001b[2J\"},{\"model\":\"b/m\",\"ok\":false,\"latency_ms\":3,"
        "\"error\":\"provider b answered 401\",\"hint\":\"check the API key\"}]}",
        0, &je);
    cli_format_probe(&out, probe);
    assert_string_equal(out.data, "ok      a/long-name  41 ms  answer: OK?[2J\n"
                                  "FAILED  b/m          3 ms\n"
                                  "        error: provider b answered 401\n"
                                  "        what to do: check the API key\n");
    json_decref(probe);
    out.len = 0;
    json_t *models = json_loads("{\"models\":[],\"agents\":[]}", 0, &je);
    cli_format_models(&out, models, NULL);
    assert_non_null(strstr(out.data, "No models. Add a provider"));
    json_decref(models);
    gw_buf_release(&out);
}

/* `conversations show` prints each message with its number, role and time, the text without
 * terminal escapes, and the tool calls; `messages list` each message with sender and time. */
static void test_conversation_and_mailbox_reports(void **state)
{
    (void)state;
    json_t *r = json_pack("{s:{s:s,s:s,s:s,s:s,s:i},s:[{s:i,s:s,s:s,s:s},{s:i,s:s,s:s,s:n,"
                          "s:[{s:s,s:{s:s,s:s}}]},{s:i,s:s,s:s,s:s,s:s}]}",
                          "conversation", "id", "cnv_1", "agent", "eng/bot", "session", "main",
                          "user", "dave", "messages", 3, "messages", "seq", 1, "role", "user",
                          "created_at", "T1", "content", "hi\x1b[2J there\nsecond line", "seq", 2,
                          "role", "assistant", "created_at", "T2", "content", "tool_calls", "id",
                          "c1", "function", "name", "memory_write", "arguments",
                          "{\"content\":\"x\"}", "seq", 3, "role", "tool", "created_at", "T3",
                          "tool_call_id", "c1", "content", "{\"bytes\":1}");
    struct gw_buf out;
    gw_buf_init(&out, 1 << 20);
    cli_format_conversation(&out, r);
    assert_string_equal(out.data,
                        "Conversation cnv_1 with eng/bot (session main, user dave), "
                        "3 messages\n\n"
                        "[1] user, T1\nhi[2J there\nsecond line\n\n"
                        "[2] assistant, T2\n  -> tool memory_write {\"content\":\"x\"}\n\n"
                        "[3] tool (call c1), T3\n{\"bytes\":1}\n\n");
    json_decref(r);

    gw_buf_reset(&out);
    r = json_pack("{s:[{s:s,s:s,s:i,s:s,s:s}]}", "conversations", "id", "cnv_1", "agent", "eng/bot",
                  "messages", 3, "updated_at", "T3", "title", "hi\x1b[2J");
    cli_format_conversations(&out, r);
    assert_non_null(strstr(out.data, "ID  "));
    assert_non_null(strstr(out.data, "\ncnv_1  eng/bot  "));
    assert_non_null(strstr(out.data, "  T3       hi?[2J\n")); /* UPDATED is padded to its title */
    json_decref(r);
    gw_buf_reset(&out);
    r = json_pack("{s:[]}", "conversations");
    cli_format_conversations(&out, r);
    assert_string_equal(out.data, "No conversations.\n");
    json_decref(r);

    gw_buf_reset(&out);
    r = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "messages", "id", "msg_1", "sender", "dave",
                  "created_at", "T1", "content", "please \x07review");
    cli_format_messages(&out, r);
    assert_string_equal(out.data, "msg_1 from dave, T1\nplease review\n\n");
    json_decref(r);
    gw_buf_reset(&out);
    r = json_pack("{s:[]}", "messages");
    cli_format_messages(&out, r);
    assert_string_equal(out.data, "No messages.\n");
    json_decref(r);
    gw_buf_release(&out);
}

/* --- the command table against the completion file, the man page and docs/CLI.md ---------- */

/* A file of the repository (found from this source file's path), NUL-terminated. */
static char *repo_file(const char *rel)
{
    const char *me = __FILE__;
    const char *tail = strstr(me, "tests/unit/cli/test_cli.c");
    assert_non_null(tail);
    char *path = gw_xasprintf("%.*s%s", (int)(tail - me), me, rel);
    char *text = NULL;
    size_t len = 0;
    if (gw_file_read(path, (size_t)4 << 20, &text, &len) != GW_OK)
        fail_msg("cannot read %s", path);
    free(path);
    return text;
}

/* The man page as plain text: font escapes dropped, "\-" as "-". */
static char *man_text(void)
{
    char *t = repo_file("share/man/man1/openclaw.1");
    char *w = t;
    for (const char *r = t; *r;) {
        if (r[0] == '\\' && r[1] == 'f' && r[2]) {
            r += 3;
        } else if (r[0] == '\\' && r[1] == '-') {
            *w++ = '-';
            r += 2;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return t;
}

static void check_opts(const char *where, const char *text, const struct cli_optdef *t,
                       const char *cmd)
{
    for (size_t i = 0; t && t[i].name; i++) {
        char *opt = gw_xasprintf("--%s", t[i].name);
        if (!strstr(text, opt))
            fail_msg("%s does not mention %s (of openclaw %s)", where, opt, cmd);
        free(opt);
    }
}

/* A "### ..." line of the document that names `name`. */
static bool has_heading(const char *doc, const char *name)
{
    char *want = gw_xasprintf("`%s`", name);
    bool found = false;
    for (const char *p = strstr(doc, "\n### "); p && !found; p = strstr(p + 1, "\n### ")) {
        const char *end = strchr(p + 1, '\n');
        const char *hit = strstr(p, want);
        found = hit && (!end || hit < end);
    }
    free(want);
    return found;
}

static void test_completion_man_page_and_docs_cover_every_command(void **state)
{
    /* the completion file is exactly what `openclaw completion bash` prints */
    char *file = repo_file("share/bash-completion/completions/openclaw");
    struct gw_buf gen;
    gw_buf_init(&gen, 1 << 20);
    cli_completion_bash(&gen);
    if (strcmp(file, gen.data) != 0)
        fail_msg("share/bash-completion/completions/openclaw differs from the command table: "
                 "regenerate it with `build/openclaw completion bash > "
                 "share/bash-completion/completions/openclaw`");
    gw_buf_release(&gen);
    free(file);

    char *man = man_text();
    char *doc = repo_file("docs/CLI.md");
    check_opts("the man page", man, cli_global_opts, "");
    check_opts("docs/CLI.md", doc, cli_global_opts, "");
    for (size_t c = 0; c < cli_ncommands; c++) {
        const struct cli_command *cmd = cli_commands[c];
        char *sec = gw_xasprintf(".SS \"openclaw %s", cmd->name);
        if (!strstr(man, sec))
            fail_msg("the man page has no section for openclaw %s", cmd->name);
        free(sec);
        if (!has_heading(doc, cmd->name))
            fail_msg("docs/CLI.md has no section for openclaw %s", cmd->name);
        check_opts("the man page", man, cmd->opts, cmd->name);
        check_opts("docs/CLI.md", doc, cmd->opts, cmd->name);
        for (size_t s = 0; s < cmd->nsubs; s++) {
            char *use = gw_xasprintf("%s %s", cmd->name, cmd->subs[s].name);
            if (!strstr(man, use))
                fail_msg("the man page does not mention openclaw %s", use);
            char *doc_use = gw_xasprintf("openclaw %s", use);
            if (!strstr(doc, doc_use))
                fail_msg("docs/CLI.md does not mention %s", doc_use);
            free(doc_use);
            check_opts("the man page", man, cmd->subs[s].opts, use);
            check_opts("docs/CLI.md", doc, cmd->subs[s].opts, use);
            free(use);
        }
    }
    free(man);
    free(doc);

    /* `openclaw --help` lists every command too */
    char help[8192];
    assert_int_equal(run_capture(STDOUT_FILENO, help, sizeof(help), 1, (char *[]){"--help"}),
                     CLI_EXIT_OK);
    for (size_t c = 0; c < cli_ncommands; c++) {
        char *line = gw_xasprintf("\n  %s ", cli_commands[c]->name);
        if (!strstr(help, line))
            fail_msg("openclaw --help does not list %s", cli_commands[c]->name);
        free(line);
    }
}

int main(void)
{
    /* never the credentials of whoever runs the tests */
    setenv("XDG_CONFIG_HOME", "/nonexistent/openclaw-test-xdg", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_global_stop),
        cmocka_unit_test(test_args_command),
        cmocka_unit_test(test_args_errors),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_config_flat),
        cmocka_unit_test(test_config_nested_seed),
        cmocka_unit_test(test_config_null_empty_invalid),
        cmocka_unit_test(test_yaml_quote_roundtrip),
        cmocka_unit_test(test_config_save_load),
        cmocka_unit_test(test_settings_precedence),
        cmocka_unit_test(test_validation_and_mask),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_split_channel),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_json_cell),
        cmocka_unit_test(test_status_seed_shape),
        cmocka_unit_test(test_verify_json),
        cmocka_unit_test(test_main_usage),
        cmocka_unit_test(test_main_config_and_unreachable),
        cmocka_unit_test(test_policy_write_args),
        cmocka_unit_test(test_policy_explain_args),
        cmocka_unit_test(test_tools_approvals_args),
        cmocka_unit_test(test_violations),
        cmocka_unit_test(test_policy_formats),
        cmocka_unit_test(test_main_policy_usage),
        cmocka_unit_test(test_credentials_path),
        cmocka_unit_test(test_credentials_file),
        cmocka_unit_test(test_callback_parse),
        cmocka_unit_test(test_pkce_pair),
        cmocka_unit_test(test_main_auth_usage),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_money),
        cmocka_unit_test(test_settings_ca_and_timeouts),
        cmocka_unit_test(test_main_did_you_mean_and_new_commands),
        cmocka_unit_test(test_sessions_and_reload_reports),
        cmocka_unit_test(test_models_bodies),
        cmocka_unit_test(test_models_formats),
        cmocka_unit_test(test_conversation_and_mailbox_reports),
        cmocka_unit_test(test_completion_man_page_and_docs_cover_every_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
