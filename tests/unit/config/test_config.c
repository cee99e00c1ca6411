/* SPDX-License-Identifier: MIT
 * test_config.c — gateway.yaml loading and validation (src/config).
 *
 * Every fixture is written to a fresh mkdtemp directory as cfg.yaml, with the data directory
 * given as an override, so the tests do not depend on the working directory. Error tests
 * assert on "cfg.yaml:<line>: <text>" substrings: the line number is part of the contract.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tmp.h"

static char tmpdir[PATH_MAX];
static char datadir[PATH_MAX + 16];
static char cfgpath[PATH_MAX + 16];

static int group_setup(void **state)
{
    (void)state;
    if (!test_tmpdir(tmpdir, sizeof(tmpdir), "test_config"))
        return -1;
    /* realpath: the loader reports canonical paths, /tmp may be a symlink */
    char *real = realpath(tmpdir, NULL);
    if (!real)
        return -1;
    snprintf(tmpdir, sizeof(tmpdir), "%s", real);
    free(real);
    snprintf(datadir, sizeof(datadir), "%s/data", tmpdir);
    snprintf(cfgpath, sizeof(cfgpath), "%s/cfg.yaml", tmpdir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return test_rmtree(tmpdir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static gw_err load(const char *yaml, struct cfg **out, struct cfg_errors *errs)
{
    struct cfg_overrides ov = {.data_dir = datadir};
    write_file(cfgpath, yaml);
    return cfg_load(cfgpath, &ov, out, errs);
}

static void dump(const struct cfg_errors *errs)
{
    for (size_t i = 0; i < errs->n; i++)
        print_message("  error: %s\n", errs->msgs[i]);
}

/* The error list has a message containing every one of the given substrings. */
static void assert_err_(const struct cfg_errors *errs, const char *a, const char *b,
                        const char *file, int line)
{
    for (size_t i = 0; i < errs->n; i++)
        if (strstr(errs->msgs[i], a) && (!b || strstr(errs->msgs[i], b)))
            return;
    print_message("no error contains '%s'%s%s%s\n", a, b ? " and '" : "", b ? b : "", b ? "'" : "");
    dump(errs);
    _fail(file, line);
}
#define assert_err(errs, a) assert_err_((errs), (a), NULL, __FILE__, __LINE__)
#define assert_err2(errs, a, b) assert_err_((errs), (a), (b), __FILE__, __LINE__)

/* Loads a file that must fail; returns the errors (caller releases). */
static struct cfg_errors load_bad(const char *yaml)
{
    struct cfg *c = (struct cfg *)0x1;
    struct cfg_errors errs = {0};
    gw_err rc = load(yaml, &c, &errs);
    if (rc != GW_ECONFIG)
        print_message("expected GW_ECONFIG, got %d\n", (int)rc);
    assert_int_equal(rc, GW_ECONFIG);
    assert_null(c);
    assert_true(errs.n > 0);
    return errs;
}

static struct cfg *load_ok(const char *yaml)
{
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = load(yaml, &c, &errs);
    if (rc != GW_OK)
        dump(&errs);
    assert_int_equal(rc, GW_OK);
    assert_int_equal(errs.n, 0);
    assert_non_null(c);
    return c;
}

static char *in_data(const char *rel)
{
    return gw_xasprintf("%s/%s", datadir, rel);
}

static void assert_path(const char *got, const char *rel)
{
    char *want = in_data(rel);
    assert_string_equal(got, want);
    free(want);
}

/* ---- seed 003 ---- */

static const char seed003[] =
    "# gateway.yaml — enterprise multi-user config\n" /* 1 */
    "gateway:\n"                                      /* 2 */
    "  port: 8080\n"                                  /* 3 */
    "  tls: true\n"                                   /* 4 */
    "  tls_cert: /etc/ssl/certs/openclaw.crt\n"       /* 5 */
    "  tls_key: /etc/ssl/private/openclaw.key\n"      /* 6 */
    "\n"                                              /* 7 */
    "auth:\n"                                         /* 8 */
    "  tokens:\n"                                     /* 9 */
    "    - id: team-engineering\n"                    /* 10 */
    "      token: \"eng-token-xxxxx\"\n"              /* 11 */
    "      scopes: [\"channels:engineering/*\", \"memory:read\", \"memory:write\"]\n"
    "    - id: team-marketing\n"                                  /* 13 */
    "      token: \"mkt-token-xxxxx\"\n"                          /* 14 */
    "      scopes: [\"channels:marketing/*\", \"memory:read\"]\n" /* 15 */
    "    - id: admin\n"                                           /* 16 */
    "      token: \"admin-token-xxxxx\"\n"                        /* 17 */
    "      scopes: [\"*\"]\n"                                     /* 18 */
    "\n"
    "audit:\n"
    "  enabled: true\n"
    "  log_path: /var/log/openclaw/audit.jsonl\n"
    "  log_level: audit\n"
    "  rotate_daily: true\n"
    "  retain_days: 90\n"
    "  export_format: json\n"
    "\n"
    "namespaces:\n"
    "  engineering:\n"
    "    shared_memory_path: ./memory/engineering/shared.md\n"
    "  marketing:\n"
    "    shared_memory_path: ./memory/marketing/shared.md\n"
    "\n"
    "agents:\n"
    "  - name: engineering/code-reviewer\n"
    "    channel: engineering/code-reviewer\n"
    "    memory_path: ./memory/engineering/code-reviewer.md\n"
    "  - name: marketing/content-writer\n"
    "    channel: marketing/content-writer\n"
    "    memory_path: ./memory/marketing/content-writer.md\n";

static void test_seed003_loads(void **state)
{
    (void)state;
    struct cfg *c = load_ok(seed003);

    assert_string_equal(c->path, cfgpath);
    assert_string_equal(c->data_dir, datadir);
    assert_string_equal(c->host, "127.0.0.1");
    assert_int_equal(c->port, 8080);
    assert_true(c->tls);
    assert_string_equal(c->tls_cert, "/etc/ssl/certs/openclaw.crt");
    assert_string_equal(c->tls_key, "/etc/ssl/private/openclaw.key");

    assert_int_equal(c->n_tokens, 3);
    assert_string_equal(c->tokens[0].id, "team-engineering");
    assert_string_equal(c->tokens[0].token, "eng-token-xxxxx");
    assert_int_equal(c->tokens[0].n_scopes, 3);
    assert_string_equal(c->tokens[0].scopes[0], "channels:engineering/*");
    assert_string_equal(c->tokens[0].scopes[2], "memory:write");
    assert_null(c->tokens[0].scopes[3]);
    assert_null(c->tokens[0].owner);
    assert_int_equal(c->tokens[0].expires_ms, 0);
    assert_string_equal(c->tokens[2].scopes[0], "*");
    assert_true(c->bootstrap_token);
    assert_int_equal(c->failed_auth_limit, 10);

    assert_true(c->audit_enabled);
    assert_string_equal(c->audit_log_path, "/var/log/openclaw/audit.jsonl");
    assert_string_equal(c->audit_log_level, "audit");
    assert_true(c->audit_rotate_daily);
    assert_int_equal(c->audit_retain_days, 90);
    assert_string_equal(c->audit_export_format, "json");
    assert_true(c->audit_log_content);
    assert_int_equal(c->pii_handling, CFG_PII_PLAIN);
    assert_int_equal(c->checkpoint_every, 1000);

    assert_int_equal(c->n_namespaces, 2);
    const struct cfg_namespace *ns = cfg_find_namespace(c, "engineering");
    assert_non_null(ns);
    assert_path(ns->shared_memory_path, "memory/engineering/shared.md");

    assert_int_equal(c->n_agents, 2);
    const struct cfg_agent *a = cfg_find_agent(c, "marketing/content-writer");
    assert_non_null(a);
    assert_string_equal(a->channel, "marketing/content-writer");
    assert_path(a->memory_path, "memory/marketing/content-writer.md");
    assert_null(a->description);
    assert_null(cfg_find_agent(c, "marketing/nobody"));

    assert_string_equal(c->tenant_id, "default");
    assert_string_equal(c->tenant_name, "default");
    cfg_unref(c);
}

/* ---- defaults and overrides ---- */

static void test_defaults(void **state)
{
    (void)state;
    struct cfg *c = cfg_default(NULL);
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    char *want = gw_xasprintf("%s/data", cwd);
    char *real = realpath(cwd, NULL);
    char *want_real = gw_xasprintf("%s/data", real);
    assert_true(!strcmp(c->data_dir, want) || !strcmp(c->data_dir, want_real));
    free(want);
    free(want_real);
    free(real);

    assert_null(c->path);
    assert_string_equal(c->host, "127.0.0.1");
    assert_int_equal(c->port, 8080);
    assert_false(c->tls);
    assert_int_equal(c->threads, 4);
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->limits.max_body_bytes, 1048576);
    assert_int_equal(c->limits.max_header_bytes, 16384);
    assert_int_equal(c->limits.max_connections, 1024);
    assert_int_equal(c->limits.max_connections_per_ip, 256);
    assert_int_equal(c->limits.idle_timeout_s, 30);
    assert_int_equal(c->limits.header_timeout_s, 10);
    assert_int_equal(c->limits.request_timeout_s, 30);
    assert_int_equal(c->limits.max_memory_bytes, 1048576);
    assert_int_equal(c->limits.max_message_bytes, 262144);
    assert_string_equal(c->tenant_id, "default");
    assert_true(c->bootstrap_token);
    assert_int_equal(c->failed_auth_limit, 10);
    assert_true(c->audit_enabled);
    assert_null(c->audit_log_path);
    assert_string_equal(c->audit_log_level, "audit");
    assert_true(c->audit_log_content);
    assert_string_equal(c->audit_export_format, "json");
    assert_int_equal(c->pii_handling, CFG_PII_PLAIN);
    assert_int_equal(c->checkpoint_every, 1000);
    assert_int_equal(c->n_tokens + c->n_users + c->n_roles + c->n_agents + c->n_namespaces, 0);
    assert_null(cfg_find_user(c, "x"));
    assert_null(cfg_find_role(c, "x"));
    assert_null(cfg_find_team(c, "x"));
    cfg_unref(c);

    struct cfg_overrides ov = {.data_dir = datadir, .port = 9999};
    c = cfg_default(&ov);
    assert_string_equal(c->data_dir, datadir);
    assert_int_equal(c->port, 9999);
    cfg_unref(c);
}

static void test_empty_file_and_overrides(void **state)
{
    (void)state;
    struct cfg *c = load_ok("");
    assert_int_equal(c->port, 8080);
    assert_string_equal(c->data_dir, datadir);
    cfg_unref(c);

    c = load_ok("# only a comment\n---\n");
    cfg_unref(c);

    /* --data-dir wins over gateway.data_dir, --port over gateway.port */
    struct cfg_overrides ov = {.data_dir = datadir, .port = 7000};
    struct cfg_errors errs = {0};
    write_file(cfgpath, "gateway:\n  port: 8081\n  data_dir: /nonexistent/elsewhere\n");
    assert_int_equal(cfg_load(cfgpath, &ov, &c, &errs), GW_OK);
    assert_string_equal(c->data_dir, datadir);
    assert_int_equal(c->port, 7000);
    cfg_unref(c);

    /* without --data-dir, gateway.data_dir counts */
    ov = (struct cfg_overrides){0};
    char *text = gw_xasprintf("gateway:\n  data_dir: %s/other//./dir/\n", tmpdir);
    write_file(cfgpath, text);
    free(text);
    assert_int_equal(cfg_load(cfgpath, &ov, &c, &errs), GW_OK);
    char *want = gw_xasprintf("%s/other/dir", tmpdir);
    assert_string_equal(c->data_dir, want);
    free(want);
    cfg_unref(c);

    /* a relative data_dir is relative to the working directory */
    write_file(cfgpath, "gateway:\n  data_dir: rel-data\n");
    assert_int_equal(cfg_load(cfgpath, &ov, &c, &errs), GW_OK);
    assert_true(c->data_dir[0] == '/');
    size_t n = strlen(c->data_dir);
    assert_true(n > 9 && !strcmp(c->data_dir + n - 9, "/rel-data"));
    cfg_unref(c);
}

static void test_all_keys(void **state)
{
    (void)state;
    struct cfg *c = load_ok("gateway:\n"
                            "  host: 0.0.0.0\n"
                            "  port: 9443\n"
                            "  tls: false\n"
                            "  threads: 8\n"
                            "  log_level: debug\n"
                            "  limits:\n"
                            "    max_body_bytes: 2048\n"
                            "    max_header_bytes: 4096\n"
                            "    max_connections: 10\n"
                            "    max_connections_per_ip: 2\n"
                            "    idle_timeout_s: 5\n"
                            "    header_timeout_s: 6\n"
                            "    request_timeout_s: 7\n"
                            "    max_memory_bytes: 100\n"
                            "    max_message_bytes: 200\n"
                            "tenant:\n"
                            "  id: acme-corp\n"
                            "  name: ACME Corporation\n"
                            "auth:\n"
                            "  bootstrap_token: false\n"
                            "  failed_auth_limit: 3\n"
                            "audit:\n"
                            "  enabled: false\n"
                            "  log_path: audit/audit.jsonl\n"
                            "  log_level: metadata\n"
                            "  log_content: false\n"
                            "  export_format: csv\n"
                            "  piiFields: [message, response]\n"
                            "  piiHandling: hash\n"
                            "  checkpoint_every: 50\n"
                            "  retain_days: 0\n");
    assert_string_equal(c->host, "0.0.0.0");
    assert_int_equal(c->port, 9443);
    assert_int_equal(c->threads, 8);
    assert_string_equal(c->log_level, "debug");
    assert_int_equal(c->limits.max_body_bytes, 2048);
    assert_int_equal(c->limits.max_header_bytes, 4096);
    assert_int_equal(c->limits.max_connections, 10);
    assert_int_equal(c->limits.max_connections_per_ip, 2);
    assert_int_equal(c->limits.idle_timeout_s, 5);
    assert_int_equal(c->limits.header_timeout_s, 6);
    assert_int_equal(c->limits.request_timeout_s, 7);
    assert_int_equal(c->limits.max_memory_bytes, 100);
    assert_int_equal(c->limits.max_message_bytes, 200);
    assert_string_equal(c->tenant_id, "acme-corp");
    assert_string_equal(c->tenant_name, "ACME Corporation");
    assert_false(c->bootstrap_token);
    assert_int_equal(c->failed_auth_limit, 3);
    assert_false(c->audit_enabled);
    assert_path(c->audit_log_path, "audit/audit.jsonl");
    assert_string_equal(c->audit_log_level, "metadata");
    assert_false(c->audit_log_content);
    assert_string_equal(c->audit_export_format, "csv");
    assert_int_equal(c->n_pii_fields, 2);
    assert_string_equal(c->pii_fields[1], "response");
    assert_null(c->pii_fields[2]);
    assert_int_equal(c->pii_handling, CFG_PII_HASH);
    assert_int_equal(c->checkpoint_every, 50);
    cfg_unref(c);
}

/* ---- identity and rbac ---- */

static const char identity_yaml[] =
    "rbac:\n"                                                           /* 1 */
    "  groupMappings:\n"                                                /* 2 */
    "    \"CN=Developers,OU=Groups,DC=company,DC=com\": developer\n"    /* 3 */
    "    \"CN=Admins,OU=Groups,DC=company,DC=com\": enterprise_admin\n" /* 4 */
    "  roles:\n"                                                        /* 5 */
    "    developer:\n"                                                  /* 6 */
    "      description: Development team access\n"                      /* 7 */
    "      permissions: [\"workspace:use:dev-*\", \"stats:read\", \"sessions:own\"]\n"
    "    viewer:\n"                                      /* 9 */
    "      permissions: [\"stats:read\"]\n"              /* 10 */
    "identity:\n"                                        /* 11 */
    "  users:\n"                                         /* 12 */
    "    - id: alice@company.com\n"                      /* 13 */
    "      email: alice@company.com\n"                   /* 14 */
    "      name: Alice\n"                                /* 15 */
    "      role: team_lead\n"                            /* 16 */
    "      team: platform\n"                             /* 17 */
    "    - id: bob@company.com\n"                        /* 18 */
    "      role: developer\n"                            /* 19 */
    "      org_unit: engineering\n"                      /* 20 */
    "      disabled: true\n"                             /* 21 */
    "    - id: carol\n"                                  /* 22 */
    "  teams:\n"                                         /* 23 */
    "    - id: platform\n"                               /* 24 */
    "      org_unit: engineering/platform\n"             /* 25 */
    "  org_units: [engineering, engineering/platform]\n" /* 26 */
    "auth:\n"
    "  tokens:\n"
    "    - id: alice-laptop\n"
    "      token: ${TEST_CFG_ALICE_TOKEN}\n"
    "      scopes: [\"channels:engineering/*\"]\n"
    "      owner: alice@company.com\n"
    "      expires_at: 2030-01-31T00:00:00Z\n";

static void test_identity_rbac(void **state)
{
    (void)state;
    setenv("TEST_CFG_ALICE_TOKEN", "alice-secret-123", 1);
    struct cfg *c = load_ok(identity_yaml);
    assert_int_equal(c->n_roles, 2);
    const struct cfg_role *r = cfg_find_role(c, "developer");
    assert_non_null(r);
    assert_string_equal(r->description, "Development team access");
    assert_int_equal(r->n_permissions, 3);
    assert_string_equal(r->permissions[0], "workspace:use:dev-*");
    assert_null(r->permissions[3]);
    assert_null(cfg_find_role(c, "user")); /* built-ins are not in c->roles */
    assert_true(cfg_role_is_builtin("user"));

    assert_int_equal(c->n_group_mappings, 2);
    assert_string_equal(c->group_mappings[0].group, "CN=Developers,OU=Groups,DC=company,DC=com");
    assert_string_equal(c->group_mappings[0].role, "developer");

    assert_int_equal(c->n_org_units, 2);
    assert_string_equal(c->org_units[1], "engineering/platform");
    const struct cfg_team *t = cfg_find_team(c, "platform");
    assert_non_null(t);
    assert_string_equal(t->org_unit, "engineering/platform");

    assert_int_equal(c->n_users, 3);
    const struct cfg_user *u = cfg_find_user(c, "alice@company.com");
    assert_non_null(u);
    assert_string_equal(u->role, "team_lead");
    assert_string_equal(u->team, "platform");
    assert_string_equal(u->org_unit, "engineering/platform"); /* from the team */
    assert_false(u->disabled);
    u = cfg_find_user(c, "bob@company.com");
    assert_true(u->disabled);
    assert_null(u->team);
    u = cfg_find_user(c, "carol");
    assert_string_equal(u->role, "user"); /* default */
    assert_null(u->org_unit);

    assert_int_equal(c->n_tokens, 1);
    assert_string_equal(c->tokens[0].token, "alice-secret-123");
    assert_string_equal(c->tokens[0].owner, "alice@company.com");
    assert_int_equal(c->tokens[0].expires_ms, 1896048000000LL);
    cfg_unref(c);
    unsetenv("TEST_CFG_ALICE_TOKEN");
}

static void test_rbac_errors(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad(
        "rbac:\n"                                                     /* 1 */
        "  roles:\n"                                                  /* 2 */
        "    user:\n"                                                 /* 3 */
        "      permissions: [\"*\"]\n"                                /* 4 */
        "    viewer:\n"                                               /* 5 */
        "      permissions: [\"stats:read\", \"Stats\", \"stats\"]\n" /* 6 */
        "      colour: blue\n"                                        /* 7 */
        "    Bad Name:\n"                                             /* 8 */
        "      description: x\n"                                      /* 9 */
        "  groupMappings:\n"                                          /* 10 */
        "    \"CN=Devs\": developer\n"                                /* 11 */
        "    \"CN=Viewers\": viewer\n"                                /* 12 */
        "identity:\n"                                                 /* 13 */
        "  org_units: [engineering, Engineering/x, engineering]\n"    /* 14 */
        "  teams:\n"                                                  /* 15 */
        "    - id: platform\n"                                        /* 16 */
        "      org_unit: sales\n"                                     /* 17 */
        "    - id: platform\n"                                        /* 18 */
        "  users:\n"                                                  /* 19 */
        "    - id: alice\n"                                           /* 20 */
        "      role: superuser\n"                                     /* 21 */
        "      team: nosuchteam\n"                                    /* 22 */
        "    - id: alice\n"                                           /* 23 */
        "      org_unit: marketing\n"                                 /* 24 */
        "    - email: nobody@x\n"                                     /* 25 */
        "auth:\n"                                                     /* 26 */
        "  tokens:\n"                                                 /* 27 */
        "    - id: t1\n"                                              /* 28 */
        "      token: abcdefgh-1\n"                                   /* 29 */
        "      scopes: [\"*\"]\n"                                     /* 30 */
        "      owner: mallory\n");                                    /* 31 */
    assert_err2(&errs, "cfg.yaml:3: ", "shadows the built-in role 'user'");
    assert_err2(&errs, "cfg.yaml:6: ", "'Stats' is not a valid permission");
    assert_err2(&errs, "cfg.yaml:6: ", "permissions[2] 'stats' is not a valid permission");
    assert_err2(&errs, "cfg.yaml:7: ",
                "unknown key 'colour' in rbac.roles.viewer (valid keys: description, permissions)");
    assert_err2(&errs, "cfg.yaml:8: ", "role name 'Bad Name' is not valid");
    assert_err2(&errs, "cfg.yaml:11: ", "unknown role 'developer'");
    assert_err2(&errs, "cfg.yaml:14: ", "'Engineering/x' is not a valid org unit path");
    assert_err2(&errs, "cfg.yaml:14: ", "'engineering' is listed twice");
    assert_err2(&errs, "cfg.yaml:17: ", "unknown org unit 'sales'");
    assert_err2(&errs,
                "cfg.yaml:18: ", "identity.teams[1].id 'platform' is already used (line 16)");
    assert_err2(&errs, "cfg.yaml:21: ", "identity.users[0].role: unknown role 'superuser'");
    assert_err2(&errs, "cfg.yaml:22: ", "unknown team 'nosuchteam'");
    assert_err2(&errs, "cfg.yaml:23: ", "'alice' is already used (line 20)");
    assert_err2(&errs, "cfg.yaml:24: ", "unknown org unit 'marketing'");
    assert_err2(&errs, "cfg.yaml:25: ", "identity.users[2].id is required");
    assert_err2(&errs, "cfg.yaml:31: ", "owner: unknown user 'mallory'");
    /* the messages come sorted by line */
    for (size_t i = 1; i < errs.n; i++) {
        const char *a = strstr(errs.msgs[i - 1], "cfg.yaml:"),
                   *b = strstr(errs.msgs[i], "cfg.yaml:");
        assert_true(atoi(a + 9) <= atoi(b + 9));
    }
    cfg_errors_release(&errs);
}

/* ---- tenants ---- */

static void test_tenants(void **state)
{
    (void)state;
    struct cfg *c = load_ok(
        "tenant: {id: acme, name: ACME}\n"
        "rbac:\n"
        "  roles: {analyst: {permissions: [\"stats:read\"]}}\n"
        "  groupMappings: {admins: enterprise_admin}\n"
        "sso:\n"
        "  oidc: {issuer: \"http://127.0.0.1:9/\", client_id: gw, client_secret: s,\n"
        "         redirect_uri: \"http://127.0.0.1:8/api/v1/auth/callback\"}\n"
        "  tenant_claim: org\n"
        "tenants:\n"
        "  - id: research\n"
        "    name: Research\n"
        "    hosts: [Research.Example.COM, r.example.com]\n"
        "    path_prefix: /research\n"
        "    claim_value: lab\n"
        "    rbac: {groupMappings: {\"lab-*\": analyst}}\n"
        "    sso:\n"
        "      oidc: {issuer: \"http://127.0.0.1:7\", client_id: lab, client_secret: t,\n"
        "             redirect_uri: \"http://127.0.0.1:8/research/api/v1/auth/callback\"}\n"
        "  - id: sales\n"
        "    claim_value: sales\n");
    assert_int_equal(c->n_tenants, 3);
    const struct cfg_tenant *p = cfg_find_tenant(c, "acme"), *r = cfg_find_tenant(c, "research");
    assert_true(p == &c->tenants[0] && p->primary && p->sso == &c->sso);
    assert_int_equal(p->n_group_mappings, 1);
    assert_non_null(r);
    assert_false(r->primary);
    assert_string_equal(r->hosts[0], "research.example.com"); /* lower-cased */
    assert_ptr_equal(cfg_tenant_by_host(c, "RESEARCH.example.com:8443"), r);
    assert_ptr_equal(cfg_tenant_by_host(c, "r.example.com"), r);
    assert_null(cfg_tenant_by_host(c, "example.com"));
    assert_null(cfg_tenant_by_host(c, "research.example.com.evil"));
    const char *rest = NULL;
    assert_ptr_equal(cfg_tenant_by_path(c, "/research/api/v1/status", &rest), r);
    assert_string_equal(rest, "/api/v1/status");
    assert_ptr_equal(cfg_tenant_by_path(c, "/research", &rest), r);
    assert_string_equal(rest, "/");
    assert_null(cfg_tenant_by_path(c, "/researchers/api", &rest));
    assert_ptr_equal(cfg_tenant_by_claim(c, "lab"), r);
    assert_ptr_equal(cfg_tenant_by_claim(c, "sales"), cfg_find_tenant(c, "sales"));
    assert_null(cfg_tenant_by_claim(c, "acme")); /* the primary has no claim value */
    assert_true(r->sso->enabled);
    assert_string_equal(r->sso->client_id, "lab");
    assert_string_equal(r->sso->cookie_name, "__Host-openclaw_session_research");
    assert_string_equal(c->sso.cookie_name, "__Host-openclaw_session");
    assert_int_equal(r->n_group_mappings, 1);
    assert_string_equal(r->group_mappings[0].role, "analyst");
    assert_false(cfg_find_tenant(c, "sales")->sso->enabled); /* signs in at the primary IdP */
    cfg_unref(c);

    struct cfg_errors errs = load_bad(
        "tenant: {id: acme}\n"                                         /* 1 */
        "tenants:\n"                                                   /* 2 */
        "  - id: acme\n"                                               /* 3 */
        "    hosts: [a.example]\n"                                     /* 4 */
        "  - id: b\n"                                                  /* 5 */
        "    hosts: [\"bad host\", A.example]\n"                       /* 6 */
        "    path_prefix: /api\n"                                      /* 7 */
        "  - id: c\n"                                                  /* 8 */
        "    claim_value: c\n"                                         /* 9 */
        "    rbac: {roles: {x: {}}, groupMappings: {g: nosuchrole}}\n" /* 10 */
        "  - id: d\n"                                                  /* 11 */
        "    path_prefix: nope/x\n"                                    /* 12 */
        "    sso: {tenant_claim: t, oidc: {client_id: x}}\n"           /* 13 */
        "  - id: e\n");                                                /* 14 */
    assert_err2(&errs, "cfg.yaml:3: ", "'acme' is already a tenant of this gateway");
    assert_err2(&errs, "cfg.yaml:6: ", "'bad host' is not a host name");
    assert_err2(&errs, "cfg.yaml:6: ", "host 'a.example' already routes to another tenant");
    assert_err2(&errs, "cfg.yaml:7: ", "would hide the gateway's own /api paths");
    assert_err2(&errs, "cfg.yaml:9: ", "needs sso.tenant_claim");
    assert_err2(&errs, "cfg.yaml:10: ", "unknown key 'roles'");
    assert_err2(&errs, "cfg.yaml:10: ", "unknown role 'nosuchrole'");
    assert_err2(&errs, "cfg.yaml:12: ", "must be '/' and one segment");
    assert_err2(&errs, "cfg.yaml:13: ", "sso.tenant_claim belongs to the top-level sso");
    assert_err2(&errs, "cfg.yaml:14: ", "tenants['e'] is unreachable");
    cfg_errors_release(&errs);

    /* an entry that is not a mapping, then one that looks the tenants up (fuzz_config) */
    errs = load_bad("tenants:\n  -\n  - id: research\n    hosts: [r.example]\n");
    assert_err(&errs, "cfg.yaml:2: tenants[0] must be a mapping");
    cfg_errors_release(&errs);
}

/* ---- unknown keys, types, ranges, enums ---- */

static void test_unknown_keys(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("gateway:\n"           /* 1 */
                                      "  port: 8080\n"       /* 2 */
                                      "  prot: 1\n"          /* 3 */
                                      "  limits:\n"          /* 4 */
                                      "    max_body: 10\n"   /* 5 */
                                      "  retain_days: 3\n"   /* 6 */
                                      "  tlsCert: x.pem\n"   /* 7 */
                                      "  colour: blue\n"     /* 8 */
                                      "port: 1\n"            /* 9 */
                                      "audit:\n"             /* 10 */
                                      "  logPath: a.jsonl\n" /* 11 */
                                      "  checkpoint: 5\n");  /* 12 */
    /* the nearest key of the section (a transposition, a prefix, camelCase) */
    assert_err2(&errs,
                "cfg.yaml:3: unknown key 'prot' in gateway: did you mean 'port'? (valid "
                "keys: host, port, tls, tls_cert, tls_key, threads, log_level, data_dir, "
                "limits, trusted_proxies, drain_grace_ms)",
                NULL);
    assert_err(&errs, "cfg.yaml:5: unknown key 'max_body' in gateway.limits: did you mean "
                      "'max_body_bytes'? (valid keys: ");
    assert_err(&errs, "cfg.yaml:7: unknown key 'tlsCert' in gateway: did you mean 'tls_cert'?");
    assert_err(&errs, "cfg.yaml:11: unknown key 'logPath' in audit: did you mean 'log_path'?");
    assert_err(&errs, "cfg.yaml:12: unknown key 'checkpoint' in audit: did you mean "
                      "'checkpoint_every'?");
    /* a key of another section */
    assert_err(&errs, "cfg.yaml:6: unknown key 'retain_days' in gateway: did you mean "
                      "'audit.retain_days'? (valid keys: ");
    assert_err(&errs, "cfg.yaml:9: unknown key 'port' in the top level: did you mean "
                      "'gateway.port'? (valid keys: gateway, ");
    /* nothing close: the valid keys only */
    assert_err(&errs, "cfg.yaml:8: unknown key 'colour' in gateway (valid keys: host, ");
    assert_int_equal(errs.n, 8);
    cfg_errors_release(&errs);

    /* a key that several sections have: each of them (at most 3) */
    errs = load_bad("tenant:\n  org_unit: x\n");
    assert_err(&errs, "cfg.yaml:2: unknown key 'org_unit' in tenant: did you mean "
                      "'identity.teams[].org_unit' or 'identity.users[].org_unit' or "
                      "'sso.oidc.claims.org_unit'? (valid keys: id, name)");
    cfg_errors_release(&errs);
}

/* Seed 001's key names: aliases land on the house keys, the seed's sso shape is moved under
 * sso, refused keys say what to write or which issue brings them. */
static void test_seed_keys(void **state)
{
    (void)state;
    struct cfg *c = load_ok("auth:\n"
                            "  provider: oidc\n"
                            "  oidc:\n"
                            "    issuer: https://accounts.example.com\n"
                            "    clientId: openclaw\n"
                            "    clientSecret: oidc-secret-value\n"
                            "    redirectUri: https://gw.example.com/api/v1/auth/callback\n"
                            "    scopes: [openid, email, profile, groups]\n"
                            "  tokens:\n"
                            "    - {id: ops, token: ops-token-0123456789, scopes: [\"*\"]}\n"
                            "audit:\n"
                            "  retentionDays: 365\n"
                            "  logLevel: full\n");
    assert_true(c->sso.enabled && c->sso.oidc_enabled);
    assert_string_equal(c->sso.default_protocol, "oidc");
    assert_string_equal(c->sso.issuer, "https://accounts.example.com");
    assert_string_equal(c->sso.client_id, "openclaw");
    assert_string_equal(c->sso.client_secret, "oidc-secret-value");
    assert_string_equal(c->sso.redirect_uri, "https://gw.example.com/api/v1/auth/callback");
    assert_int_equal(c->sso.n_scopes, 4);
    assert_int_equal(c->n_tokens, 1); /* the rest of auth is read as before */
    assert_int_equal(c->audit_retain_days, 365);
    assert_string_equal(c->audit_log_level, "full");
    cfg_unref(c);

    /* a tenant's sso takes the aliases too */
    c = load_ok("tenants:\n"
                "  - id: lab\n"
                "    hosts: [lab.example.com]\n"
                "    sso:\n"
                "      oidc: {issuer: \"https://idp.lab.example\", clientId: lab,\n"
                "             clientSecret: lab-secret,\n"
                "             redirectUri: \"https://lab.example.com/cb\"}\n");
    assert_string_equal(cfg_find_tenant(c, "lab")->sso->client_id, "lab");
    cfg_unref(c);

    struct cfg_errors errs = load_bad(
        "auth:\n"                                                 /* 1 */
        "  oidc: {issuer: \"https://a.example\"}\n"               /* 2 */
        "  provider: saml\n"                                      /* 3 */
        "sso:\n"                                                  /* 4 */
        "  oidc:\n"                                               /* 5 */
        "    issuer: https://b.example\n"                         /* 6 */
        "    clientId: a\n"                                       /* 7 */
        "    client_id: b\n"                                      /* 8 */
        "    client_secret: c\n"                                  /* 9 */
        "    redirect_uri: https://b.example/cb\n"                /* 10 */
        "audit:\n"                                                /* 11 */
        "  retain_days: 30\n"                                     /* 12 */
        "  retentionDays: 365\n"                                  /* 13 */
        "  backend: postgresql\n"                                 /* 14 */
        "  siem: {enabled: true}\n"                               /* 15 */
        "cluster: {enabled: true, nodeId: node-1}\n"              /* 16 */
        "store: {backend: postgresql}\n"                          /* 17 */
        "sessionStore: redis\n"                                   /* 18 */
        "dataResidency:\n"                                        /* 19 */
        "  region: eu-west-1\n"                                   /* 20 */
        "  providers: {anthropic: {apiEndpoint: x, weight: 1}}\n" /* 21 */
        "  colour: 1\n"                                           /* 22 */
        "agent: {name: engineering/code-reviewer}\n");            /* 23 */
    assert_err(&errs, "cfg.yaml:2: auth.oidc and sso.oidc are both set (auth.oidc is read as "
                      "sso.oidc): keep one");
    assert_err(&errs, "cfg.yaml:3: sso.default_protocol is \"saml\" but sso.saml is not "
                      "configured");
    assert_err(&errs, "cfg.yaml:8: sso.oidc.clientId and sso.oidc.client_id are both set "
                      "(clientId is another name for client_id): keep one");
    assert_err(&errs, "cfg.yaml:13: audit.retentionDays and audit.retain_days are both set "
                      "(retentionDays is another name for retain_days): keep one");
    assert_err(&errs, "cfg.yaml:14: audit.backend and store.backend are both set (audit.backend "
                      "is read as store.backend): keep one");
    assert_err(&errs, "cfg.yaml:15: audit.siem needs an endpoint");
    /* nodeId is node_id; sessionStore is read as cluster.session_store (redis: accepted) */
    assert_err(&errs, "cfg.yaml:16: cluster.enabled needs cluster.redis.url");
    assert_err(&errs, "cfg.yaml:17: store.url is required with store.backend postgresql");
    assert_err(&errs, "cfg.yaml:20: dataResidency.region: use models.allowed_regions instead");
    assert_err(&errs, "cfg.yaml:21: dataResidency.providers.anthropic.apiEndpoint: use "
                      "models.providers[].base_url instead");
    assert_err(&errs, "cfg.yaml:21: unknown key 'weight' in dataResidency.providers.anthropic "
                      "(seed 001's keys there: apiEndpoint, dataProcessingRegion)");
    assert_err(&errs, "cfg.yaml:22: unknown key 'colour' in dataResidency (seed 001's keys "
                      "there: region, providers, storageRegion, logStorageRegion)");
    assert_err(&errs, "cfg.yaml:23: agent: use agents instead (a list: each agent: block of "
                      "seed 003 is one item)");
    assert_int_equal(errs.n, 13);
    cfg_errors_release(&errs);

    /* the seed's SAML block: aliases taken, entryPoint and cert answered */
    errs = load_bad("auth:\n"                                            /* 1 */
                    "  saml:\n"                                          /* 2 */
                    "    entryPoint: https://idp.example.com/sso/saml\n" /* 3 */
                    "    issuer: [x]\n"                                  /* 4 */
                    "    cert: MIIC\n"                                   /* 5 */
                    "    callbackUrl: ftp://gw.example.com/cb\n");       /* 6 */
    assert_err(&errs, "cfg.yaml:3: sso.saml.entryPoint: use sso.saml.idp_metadata instead");
    assert_err(&errs, "cfg.yaml:4: sso.saml.sp_entity_id must be a string, not a list");
    assert_err(&errs, "cfg.yaml:5: sso.saml.cert: use sso.saml.idp_metadata instead");
    assert_err(&errs, "cfg.yaml:6: sso.saml.acs_url must be a ");
    cfg_errors_release(&errs);

    /* auth.provider moved next to an sso that is not a mapping */
    errs = load_bad("sso: [x]\nauth:\n  provider: oidc\n");
    assert_err(&errs, "cfg.yaml:3: auth.provider is read as sso.default_protocol, but sso is not "
                      "a mapping");
    cfg_errors_release(&errs);
}

static void test_types(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("gateway:\n"                       /* 1 */
                                      "  port: \"8080\"\n"               /* 2 */
                                      "  tls: yes\n"                     /* 3 */
                                      "  threads: 2.5\n"                 /* 4 */
                                      "  host: [a, b]\n"                 /* 5 */
                                      "  limits: 12\n"                   /* 6 */
                                      "tenant: acme\n"                   /* 7 */
                                      "auth:\n"                          /* 8 */
                                      "  tokens:\n"                      /* 9 */
                                      "    - id: x1\n"                   /* 10 */
                                      "      token: abcdefgh12\n"        /* 11 */
                                      "      scopes: \"*\"\n"            /* 12 */
                                      "    - just-a-string\n"            /* 13 */
                                      "audit:\n"                         /* 14 */
                                      "  piiFields: [message, {a: b}]\n" /* 15 */
                                      "  enabled: 1\n");                 /* 16 */
    assert_err(&errs, "cfg.yaml:2: gateway.port must be an integer, not a quoted string");
    assert_err(&errs, "cfg.yaml:3: gateway.tls must be true or false");
    assert_err(&errs, "cfg.yaml:4: gateway.threads must be a decimal integer (got '2.5')");
    assert_err(&errs, "cfg.yaml:5: gateway.host must be a string, not a list");
    assert_err(&errs, "cfg.yaml:6: gateway.limits must be a mapping");
    assert_err(&errs, "cfg.yaml:7: tenant must be a mapping");
    assert_err(&errs, "cfg.yaml:12: auth.tokens[0].scopes must be a list");
    assert_err(&errs, "cfg.yaml:13: auth.tokens[1] must be a mapping");
    assert_err(&errs, "cfg.yaml:15: audit.piiFields[1] must be a string, not a mapping");
    assert_err(&errs, "cfg.yaml:16: audit.enabled must be true or false");
    cfg_errors_release(&errs);

    errs = load_bad("- a\n- b\n");
    assert_err(&errs, "cfg.yaml:1: the top level must be a mapping, not a list");
    cfg_errors_release(&errs);
}

static void test_ranges(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("gateway:\n"                                    /* 1 */
                                      "  port: 0\n"                                   /* 2 */
                                      "  threads: -1\n"                               /* 3 */
                                      "  limits:\n"                                   /* 4 */
                                      "    max_connections: 0\n"                      /* 5 */
                                      "    idle_timeout_s: -30\n"                     /* 6 */
                                      "    max_body_bytes: 99999999999999999999999\n" /* 7 */
                                      "    max_header_bytes: 010\n"                   /* 8 */
                                      "audit:\n"                                      /* 9 */
                                      "  checkpoint_every: 0\n"                       /* 10 */
                                      "  retain_days: -1\n");                         /* 11 */
    assert_err(&errs, "cfg.yaml:2: gateway.port must be between 1 and 65535 (got 0)");
    assert_err(&errs, "cfg.yaml:3: gateway.threads must not be negative (got -1)");
    assert_err(&errs, "cfg.yaml:5: gateway.limits.max_connections must be between 1 and");
    assert_err(&errs, "cfg.yaml:6: gateway.limits.idle_timeout_s must not be negative");
    assert_err(&errs, "cfg.yaml:7: gateway.limits.max_body_bytes must be between 1 and");
    assert_err(&errs, "cfg.yaml:8: gateway.limits.max_header_bytes must be a decimal integer");
    assert_err(&errs, "cfg.yaml:10: audit.checkpoint_every must be between 1 and 1000000");
    assert_err(&errs, "cfg.yaml:11: audit.retain_days must not be negative");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n  port: 65536\n");
    assert_err(&errs, "cfg.yaml:2: gateway.port must be between 1 and 65535 (got 65536)");
    cfg_errors_release(&errs);

    struct cfg *c = load_ok("gateway:\n  port: 65535\n");
    assert_int_equal(c->port, 65535);
    cfg_unref(c);
}

static void test_enums(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("gateway:\n"                /* 1 */
                                      "  log_level: verbose\n"    /* 2 */
                                      "audit:\n"                  /* 3 */
                                      "  log_level: everything\n" /* 4 */
                                      "  export_format: xml\n"    /* 5 */
                                      "  piiHandling: encrypt\n"  /* 6 */
                                      "tenant:\n"                 /* 7 */
                                      "  id: ACME\n");            /* 8 */
    assert_err(
        &errs,
        "cfg.yaml:2: gateway.log_level must be one of debug, info, warn, error (got 'verbose')");
    assert_err(&errs, "cfg.yaml:4: audit.log_level must be one of audit, full, metadata");
    assert_err(&errs,
               "cfg.yaml:5: audit.export_format must be one of json, jsonl, csv (got 'xml')");
    assert_err(&errs, "cfg.yaml:6: audit.piiHandling must be one of plain, hash, omit");
    assert_err(&errs, "cfg.yaml:8: tenant.id 'ACME' is not valid");
    cfg_errors_release(&errs);
}

/* ---- tokens and scopes ---- */

static void test_token_errors(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("auth:\n"                                      /* 1 */
                                      "  tokens:\n"                                  /* 2 */
                                      "    - id: team-engineering\n"                 /* 3 */
                                      "      token: \"eng-token-xxxxx\"\n"           /* 4 */
                                      "      scopes: [\"channels:engineering/*\"]\n" /* 5 */
                                      "    - id: team-engineering\n"                 /* 6 */
                                      "      token: \"other-token-xxxxx\"\n"         /* 7 */
                                      "      scopes: [\"memory:read\"]\n"            /* 8 */
                                      "    - id: copycat\n"                          /* 9 */
                                      "      token: \"eng-token-xxxxx\"\n"           /* 10 */
                                      "      scopes: [\"memory:read\"]\n"            /* 11 */
                                      "    - id: scopes\n"                           /* 12 */
                                      "      token: \"scopes-token-1\"\n"            /* 13 */
                                      "      scopes:\n"                              /* 14 */
                                      "        - \"channels:engineering\"\n"         /* 15 */
                                      "        - \"channels:Eng/*\"\n"               /* 16 */
                                      "        - \"channels:eng/a*b\"\n"             /* 17 */
                                      "        - \"memory:delete\"\n"                /* 18 */
                                      "        - \"admin\"\n"                        /* 19 */
                                      "        - \"stats::read\"\n"                  /* 20 */
                                      "        - \"channels:eng/dev-*\"\n"           /* 21 */
                                      "        - \"workspace:use:dev-*\"\n"          /* 22 */
                                      "    - id: short\n"                            /* 23 */
                                      "      token: abc\n"                           /* 24 */
                                      "      scopes: []\n"                           /* 25 */
                                      "      expires_at: tomorrow\n"                 /* 26 */
                                      "    - token: \"no-id-token-1\"\n"             /* 27 */
                                      "      scopes: [\"*\"]\n"                      /* 28 */
                                      "    - id: Bad.Id\n"                           /* 29 */
                                      "      scopes: [\"*\"]\n");                    /* 30 */
    assert_err(&errs,
               "cfg.yaml:6: duplicate token id 'team-engineering' (first defined at line 3)");
    assert_err(&errs, "cfg.yaml:10: auth.tokens[2].token: the same secret is already used by token "
                      "'team-engineering' (line 3)");
    assert_err(&errs,
               "cfg.yaml:15: auth.tokens[3].scopes[0] 'channels:engineering' is not a valid scope");
    assert_err(&errs,
               "cfg.yaml:16: auth.tokens[3].scopes[1] 'channels:Eng/*' is not a valid scope");
    assert_err(&errs, "cfg.yaml:17: auth.tokens[3].scopes[2]");
    assert_err(&errs, "cfg.yaml:18: auth.tokens[3].scopes[3] 'memory:delete'");
    assert_err(&errs, "cfg.yaml:19: auth.tokens[3].scopes[4] 'admin'");
    assert_err(&errs, "cfg.yaml:20: auth.tokens[3].scopes[5]");
    assert_err(&errs,
               "cfg.yaml:24: auth.tokens[4].token must be 8 to 512 visible ASCII characters");
    assert_err(&errs, "cfg.yaml:25: auth.tokens[4].scopes must not be empty");
    assert_err(&errs, "cfg.yaml:26: auth.tokens[4].expires_at must be an RFC 3339 UTC time");
    assert_err(&errs, "cfg.yaml:27: auth.tokens[5].id is required");
    assert_err(&errs, "cfg.yaml:29: auth.tokens[6].id 'Bad.Id' is not valid");
    assert_err(&errs, "cfg.yaml:29: auth.tokens[6].token (the secret) is required");
    for (size_t i = 0; i < errs.n; i++) { /* secrets never appear in messages */
        assert_null(strstr(errs.msgs[i], "eng-token-xxxxx"));
        assert_null(strstr(errs.msgs[i], "other-token"));
        assert_null(strstr(errs.msgs[i], "cfg.yaml:21:"));
        assert_null(strstr(errs.msgs[i], "cfg.yaml:22:"));
    }
    cfg_errors_release(&errs);
}

static void test_scope_syntax(void **state)
{
    (void)state;
    static const char *const good[] = {"*",
                                       "channels:engineering/*",
                                       "channels:engineering/code-reviewer",
                                       "channels:eng/dev-*",
                                       "channels:a/b",
                                       "memory:read",
                                       "memory:write",
                                       "stats:read",
                                       "workspace:use:dev-*",
                                       "sessions:own",
                                       "tokens:write",
                                       "audit:read",
                                       "a.b:c_d",
                                       "channels:*",
                                       NULL};
    static const char *const bad[] = {"",
                                      "**",
                                      "channels:",
                                      "channels:eng",
                                      "channels:eng/",
                                      "channels:/x",
                                      "channels:Eng/*",
                                      "channels:eng/*x",
                                      "channels:eng/a/b",
                                      "channels:-eng/x",
                                      "channels:eng/**",
                                      "memory:",
                                      "memory:delete",
                                      "memory:read:x",
                                      "admin",
                                      "stats:",
                                      ":read",
                                      "stats::read",
                                      "Stats:read",
                                      "stats:read ",
                                      "a:b c",
                                      "a/b:c",
                                      NULL};
    for (size_t i = 0; good[i]; i++)
        if (!cfg_scope_valid(good[i]))
            fail_msg("'%s' should be a valid scope", good[i]);
    for (size_t i = 0; bad[i]; i++)
        if (cfg_scope_valid(bad[i]))
            fail_msg("'%s' should not be a valid scope", bad[i]);
    /* valid syntax is not enough: a scope must name something the gateway checks */
    static const char *const known[] = {"*",
                                        "memory:*",
                                        "*:read",
                                        "audit:*",
                                        "channels:*",
                                        "channels:eng/x",
                                        "workspace:*",
                                        "workspace:use:dev-*",
                                        "models:invoke",
                                        "namespaces:write",
                                        "admin:reload",
                                        NULL};
    static const char *const unknown[] = {"models:invok", "audit:reed", "a.b:c_d", "stats:write",
                                          "admin:*x",     "Stats:read", NULL};
    for (size_t i = 0; known[i]; i++)
        if (!cfg_scope_known(known[i]))
            fail_msg("'%s' should be a known scope", known[i]);
    for (size_t i = 0; unknown[i]; i++)
        if (cfg_scope_known(unknown[i]))
            fail_msg("'%s' should not be a known scope", unknown[i]);
    size_t n = 0;
    const struct cfg_scope_info *cat = cfg_scope_catalog(&n);
    for (size_t i = 0; i < n; i++) /* every catalog entry is described and known */
        assert_true(cat[i].description[0] &&
                    (strchr(cat[i].name, '<') || cfg_scope_known(cat[i].name)));

    char long_name[80];
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    assert_false(cfg_name_valid(long_name));
    long_name[63] = '\0';
    assert_true(cfg_name_valid(long_name));
    assert_true(cfg_name_valid("0team_a-b"));
    assert_false(cfg_name_valid("_team"));
    assert_false(cfg_name_valid(""));
    assert_false(cfg_name_valid(NULL));
    assert_true(cfg_agent_name_valid("engineering/code-reviewer"));
    assert_false(cfg_agent_name_valid("engineering"));
    assert_false(cfg_agent_name_valid("engineering/"));
    assert_false(cfg_agent_name_valid("/x"));
    assert_false(cfg_agent_name_valid("a/b/c"));
    assert_false(cfg_agent_name_valid("a/.."));
    assert_true(cfg_role_is_builtin("enterprise_admin"));
    assert_true(cfg_role_is_builtin("org_admin"));
    assert_true(cfg_role_is_builtin("team_lead"));
    assert_false(cfg_role_is_builtin("admin"));
}

/* ---- namespaces and agents ---- */

static void test_agents(void **state)
{
    (void)state;
    struct cfg *c = load_ok("namespaces:\n"
                            "  engineering:\n"
                            "  ops:\n"
                            "    shared_memory_path: /srv/ops-shared.md\n"
                            "agents:\n"
                            "  - name: engineering/code-reviewer\n"
                            "    description: Reviews pull requests\n"
                            "  - name: sales/lead-bot\n");
    assert_int_equal(c->n_namespaces, 3);
    assert_path(cfg_find_namespace(c, "engineering")->shared_memory_path,
                "memory/engineering/shared.md");
    assert_string_equal(cfg_find_namespace(c, "ops")->shared_memory_path, "/srv/ops-shared.md");
    /* implicit namespace for sales */
    assert_path(cfg_find_namespace(c, "sales")->shared_memory_path, "memory/sales/shared.md");
    const struct cfg_agent *a = cfg_find_agent(c, "engineering/code-reviewer");
    assert_string_equal(a->channel, "engineering/code-reviewer");
    assert_path(a->memory_path, "memory/engineering/code-reviewer.md");
    assert_string_equal(a->description, "Reviews pull requests");
    cfg_unref(c);

    struct cfg_errors errs = load_bad("namespaces:\n"                             /* 1 */
                                      "  Engineering:\n"                          /* 2 */
                                      "  ops:\n"                                  /* 3 */
                                      "    path: x\n"                             /* 4 */
                                      "agents:\n"                                 /* 5 */
                                      "  - name: code-reviewer\n"                 /* 6 */
                                      "  - name: engineering/Code\n"              /* 7 */
                                      "  - name: engineering/a\n"                 /* 8 */
                                      "    channel: engineering/b\n"              /* 9 */
                                      "  - name: engineering/a\n"                 /* 10 */
                                      "  - name: engineering/shared\n"            /* 11 */
                                      "  - name: ops/one\n"                       /* 12 */
                                      "    memory_path: memory/ops/two.md\n"      /* 13 */
                                      "  - name: ops/two\n"                       /* 14 */
                                      "  - name: ops/three\n"                     /* 15 */
                                      "    memory_path: ../escape.md\n"           /* 16 */
                                      "  - description: nameless\n"               /* 17 */
                                      "  - name: ops/four\n"                      /* 18 */
                                      "    memory_path: memory/ops/shared.md\n"); /* 19 */
    assert_err(&errs, "cfg.yaml:2: namespace name 'Engineering' is not valid");
    assert_err(&errs, "cfg.yaml:4: unknown key 'path' in namespaces.ops: did you mean "
                      "'shared_memory_path'? (valid keys: shared_memory_path, members)");
    assert_err(&errs, "cfg.yaml:6: agents[0].name 'code-reviewer' must be \"<namespace>/<agent>\"");
    assert_err(&errs, "cfg.yaml:7: agents[1].name 'engineering/Code'");
    assert_err(
        &errs,
        "cfg.yaml:9: agents[2].channel 'engineering/b' must be the agent's name 'engineering/a'");
    assert_err(&errs, "cfg.yaml:10: duplicate agent 'engineering/a' (first defined at line 8)");
    assert_err(&errs, "cfg.yaml:11: agents[4].name 'engineering/shared': 'shared' is reserved");
    assert_err2(&errs, "cfg.yaml:14: memory file ",
                "of agent 'ops/two' is also the memory of agent 'ops/one' (line 12)");
    assert_err(&errs, "cfg.yaml:16: agents[7].memory_path must not contain '..' components");
    assert_err(&errs, "cfg.yaml:17: agents[8].name is required");
    assert_err2(&errs, "cfg.yaml:18: memory file ",
                "of agent 'ops/four' is also the memory of namespace 'ops' (line 3)");
    cfg_errors_release(&errs);

    /* a members list with an entry that is not a string is refused, and the list the loader
     * had built is freed (the sanitizer build checks leaks; found by fuzz_config) */
    errs = load_bad("namespaces:\n  eng:\n    members: {teams: [[x]], users: [alice]}\n");
    assert_err(&errs, "cfg.yaml:3: namespaces.eng.members.teams[0] must be a string");
    cfg_errors_release(&errs);
    errs = load_bad("gateway:\n  trusted_proxies: [10.0.0.0/8, [x]]\n");
    assert_err(&errs, "cfg.yaml:2: gateway.trusted_proxies[1] must be a string");
    cfg_errors_release(&errs);
}

/* ---- paths ---- */

static void test_paths(void **state)
{
    (void)state;
    struct cfg *c = load_ok("gateway:\n"
                            "  tls: true\n"
                            "  tls_cert: tls/./cert.pem\n"
                            "  tls_key: tls//key.pem\n"
                            "audit:\n"
                            "  log_path: ./logs/audit.jsonl\n"
                            "namespaces:\n"
                            "  eng:\n"
                            "    shared_memory_path: mem/eng.md\n"
                            "agents:\n"
                            "  - name: eng/bot\n"
                            "    memory_path: /abs/path/bot.md\n");
    assert_path(c->tls_cert, "tls/cert.pem");
    assert_path(c->tls_key, "tls/key.pem");
    assert_path(c->audit_log_path, "logs/audit.jsonl");
    assert_path(cfg_find_namespace(c, "eng")->shared_memory_path, "mem/eng.md");
    assert_string_equal(cfg_find_agent(c, "eng/bot")->memory_path, "/abs/path/bot.md");
    cfg_unref(c);

    struct cfg_errors errs = load_bad("gateway:\n"                          /* 1 */
                                      "  tls: true\n"                       /* 2 */
                                      "  tls_key: /etc/../key.pem\n"        /* 3 */
                                      "audit:\n"                            /* 4 */
                                      "  log_path: \"\"\n"                  /* 5 */
                                      "namespaces:\n"                       /* 6 */
                                      "  eng:\n"                            /* 7 */
                                      "    shared_memory_path: a/../../b\n" /* 8 */
                                      "    \n");
    assert_err(&errs, "cfg.yaml:2: gateway.tls is true but gateway.tls_cert is not set");
    assert_err(&errs, "cfg.yaml:3: gateway.tls_key must not contain '..' components");
    assert_err(&errs, "cfg.yaml:5: audit.log_path must not be empty");
    assert_err(&errs, "cfg.yaml:8: namespaces.eng.shared_memory_path must not contain '..'");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n  tls: true\n");
    assert_err(&errs, "cfg.yaml:2: gateway.tls is true but gateway.tls_cert/tls_key is not set");
    cfg_errors_release(&errs);
}

/* ---- YAML-level errors ---- */

static void test_yaml_errors(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad("gateway:\n"                /* 1 */
                                      "  port: 8080\n"            /* 2 */
                                      "auth:\n"                   /* 3 */
                                      "  tokens: [\"a\", \"b\"\n" /* 4 */
                                      "audit:\n"                  /* 5 */
                                      "  enabled: true\n");       /* 6 */
    assert_err2(&errs, "cfg.yaml:", "YAML syntax error");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n"     /* 1 */
                    "  port: 8080\n" /* 2 */
                    "   host: x\n"); /* 3 */
    assert_err2(&errs, "cfg.yaml:3: ", "YAML syntax error");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n"       /* 1 */
                    "\tport: 8080\n"); /* 2 */
    assert_err2(&errs, "cfg.yaml:2: ", "YAML syntax error");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n"     /* 1 */
                    "  port: 8080\n" /* 2 */
                    "  host: a\n"    /* 3 */
                    "  port: 8081\n" /* 4 */
                    "audit: {}\n"    /* 5 */
                    "audit: {}\n");  /* 6 */
    assert_err(&errs, "cfg.yaml:4: duplicate key 'port' (first defined at line 2)");
    assert_err(&errs, "cfg.yaml:6: duplicate key 'audit' (first defined at line 5)");
    assert_int_equal(errs.n, 2);
    cfg_errors_release(&errs);

    errs = load_bad("defaults: &defaults\n" /* 1 */
                    "  port: 8080\n"        /* 2 */
                    "gateway:\n"            /* 3 */
                    "  <<: *defaults\n"     /* 4 */
                    "  host: &h 0.0.0.0\n"  /* 5 */
                    "tenant:\n"             /* 6 */
                    "  id: *h\n");          /* 7 */
    assert_err(&errs, "cfg.yaml:1: anchor '&defaults' is not allowed: aliases are not allowed");
    assert_err(&errs, "cfg.yaml:4: aliases are not allowed");
    assert_err(&errs, "cfg.yaml:5: anchor '&h' is not allowed");
    assert_err(&errs, "cfg.yaml:7: aliases are not allowed");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n  port: 8080\n---\ngateway:\n  port: 9090\n");
    assert_err(&errs, "cfg.yaml:3: only one YAML document is allowed");
    cfg_errors_release(&errs);

    errs = load_bad("gateway:\n  port: !!str 8080\n  ? [a, b]\n  : c\n  host: \"a\\0b\"\n");
    assert_err(&errs, "cfg.yaml:2: tag '");
    assert_err(&errs, "cfg.yaml:3: mapping keys must be plain strings");
    assert_err(&errs, "cfg.yaml:5: NUL characters are not allowed");
    cfg_errors_release(&errs);

    /* deep nesting stops cleanly */
    char deep[400];
    size_t o = (size_t)snprintf(deep, sizeof(deep), "gateway: ");
    for (int i = 0; i < 150; i++)
        deep[o++] = '[';
    deep[o++] = '\n';
    deep[o] = '\0';
    errs = load_bad(deep);
    cfg_errors_release(&errs);
}

static void test_file_errors(void **state)
{
    (void)state;
    struct cfg *c = (struct cfg *)0x1;
    struct cfg_errors errs = {0};
    char *missing = gw_xasprintf("%s/missing.yaml", tmpdir);
    assert_int_equal(cfg_load(missing, NULL, &c, &errs), GW_ECONFIG);
    assert_null(c);
    assert_int_equal(errs.n, 1);
    assert_err(&errs, "missing.yaml: cannot read: no such file");
    cfg_errors_release(&errs);
    free(missing);

    /* exactly 1 MiB is fine, one byte more is not */
    size_t max = 1024 * 1024;
    char *big = gw_xmalloc(max + 2);
    memset(big, '#', max + 1);
    big[max - 1] = '\n';
    big[max] = '\0';
    c = load_ok(big);
    cfg_unref(c);
    big[max - 1] = '#';
    big[max] = '\n';
    big[max + 1] = '\0';
    errs = load_bad(big);
    assert_err(&errs, "cfg.yaml: file is larger than 1 MiB");
    cfg_errors_release(&errs);
    free(big);

    assert_int_equal(cfg_load(tmpdir, NULL, &c, &errs), GW_ECONFIG); /* a directory */
    assert_err(&errs, "cannot read");
    cfg_errors_release(&errs);
}

static void test_many_errors_capped(void **state)
{
    (void)state;
    char *text = gw_xmalloc(300 * 32);
    size_t n = (size_t)sprintf(text, "gateway:\n");
    for (int i = 0; i < 300; i++)
        n += (size_t)sprintf(text + n, "  bad%d: 1\n", i);
    struct cfg_errors errs = load_bad(text);
    free(text);
    assert_int_equal(errs.n, 201);
    assert_err(&errs, "cfg.yaml:2: unknown key 'bad0'");
    assert_err(&errs, "too many errors");
    cfg_errors_release(&errs);
}

/* ---- ${ENV} substitution ---- */

static void test_env(void **state)
{
    (void)state;
    setenv("TEST_CFG_HOST", "10.0.0.1", 1);
    setenv("TEST_CFG_PORT", "9091", 1);
    setenv("TEST_CFG_EMPTY", "", 1);
    setenv("TEST_CFG_A", "alpha", 1);
    setenv("TEST_CFG_B", "beta", 1);
    unsetenv("TEST_CFG_UNSET");
    struct cfg *c = load_ok(
        "gateway:\n"
        "  host: ${TEST_CFG_HOST}\n"
        "  port: ${TEST_CFG_PORT}\n"
        "  threads: ${TEST_CFG_UNSET:-6}\n"
        "  log_level: ${TEST_CFG_EMPTY:-warn}\n"
        "tenant:\n"
        "  id: ${TEST_CFG_A}-${TEST_CFG_B}\n"
        "  name: \"costs $$5, literal $${TEST_CFG_A} and ${TEST_CFG_EMPTY}end\"\n"
        "auth:\n"
        "  tokens:\n"
        "    - id: admin\n"
        "      token: \"pre-${TEST_CFG_A}-${TEST_CFG_UNSET:-dflt}-post\"\n"
        "      scopes: [\"channels:${TEST_CFG_A}/*\"]\n");
    assert_string_equal(c->host, "10.0.0.1");
    assert_int_equal(c->port, 9091);
    assert_int_equal(c->threads, 6);
    assert_string_equal(c->log_level, "warn");
    assert_string_equal(c->tenant_id, "alpha-beta");
    assert_string_equal(c->tenant_name, "costs $$5, literal ${TEST_CFG_A} and end");
    assert_string_equal(c->tokens[0].token, "pre-alpha-dflt-post");
    assert_string_equal(c->tokens[0].scopes[0], "channels:alpha/*");
    cfg_unref(c);

    setenv("TEST_CFG_SECRET", "s3cr3t-value-xyz", 1);
    struct cfg_errors errs = load_bad(
        "gateway:\n"                                                  /* 1 */
        "  host: ${TEST_CFG_UNSET}\n"                                 /* 2 */
        "  port: ${TEST_CFG_SECRET}\n"                                /* 3 */
        "tenant:\n"                                                   /* 4 */
        "  name: \"${TEST_CFG_UNSET} and ${OIDC_SECRET_FOR_TEST}\"\n" /* 5 */
        "  id: ${TEST_CFG_A\n"                                        /* 6 */
        "auth:\n"                                                     /* 7 */
        "  tokens:\n"                                                 /* 8 */
        "    - id: x\n"                                               /* 9 */
        "      token: ${}\n"                                          /* 10 */
        "      scopes: [\"*\"]\n");                                   /* 11 */
    assert_err(&errs, "cfg.yaml:2: environment variable TEST_CFG_UNSET is not set");
    assert_err(&errs, "cfg.yaml:5: environment variable TEST_CFG_UNSET is not set");
    assert_err(&errs, "cfg.yaml:5: environment variable OIDC_SECRET_FOR_TEST is not set");
    assert_err(&errs, "cfg.yaml:6: invalid variable reference ${TEST_CFG_A...");
    assert_err(&errs, "cfg.yaml:10: invalid variable reference");
    assert_err(&errs,
               "cfg.yaml:3: gateway.port must be a decimal integer (got a value from ${...})");
    for (size_t i = 0; i < errs.n; i++)
        assert_null(strstr(errs.msgs[i], "s3cr3t"));
    /* a missing variable is reported once, not again as a type error */
    size_t at2 = 0;
    for (size_t i = 0; i < errs.n; i++)
        at2 += strstr(errs.msgs[i], "cfg.yaml:2:") != NULL;
    assert_int_equal(at2, 1);
    cfg_errors_release(&errs);

    /* keys are not substituted */
    errs = load_bad("${TEST_CFG_A}: 1\n");
    assert_err(&errs, "cfg.yaml:1: unknown key '${TEST_CFG_A}'");
    cfg_errors_release(&errs);
    unsetenv("TEST_CFG_SECRET");
}

/* ---- lifetime ---- */

static void test_refcount(void **state)
{
    (void)state;
    setenv("TEST_CFG_ALICE_TOKEN", "alice-secret-123", 1);
    struct cfg *c = load_ok(identity_yaml);
    assert_ptr_equal(cfg_ref(c), c);
    assert_ptr_equal(cfg_ref(c), c);
    assert_int_equal(atomic_load(&c->refcount), 3);
    cfg_unref(c);
    cfg_unref(c);
    assert_int_equal(atomic_load(&c->refcount), 1);
    assert_string_equal(c->users[0].id, "alice@company.com"); /* still alive */
    cfg_unref(c); /* freed here; ASan/LSan report any leak or double free */
    cfg_unref(NULL);
    assert_null(cfg_ref(NULL));
    cfg_errors_release(NULL);
    unsetenv("TEST_CFG_ALICE_TOKEN");

    /* failed loads leak nothing either */
    struct cfg_errors errs = load_bad("gateway:\n  port: 0\n");
    cfg_errors_release(&errs);
    assert_null(errs.msgs);
    assert_int_equal(errs.n, 0);
}

static void *ref_unref_worker(void *arg)
{
    struct cfg *c = arg;
    for (int i = 0; i < 20000; i++) {
        struct cfg *mine = cfg_ref(c);
        if (mine->port != 8080) /* cmocka asserts longjmp: not from other threads */
            abort();
        cfg_unref(mine);
    }
    cfg_unref(c); /* each worker owns one reference */
    return NULL;
}

/* Requests on several threads take and drop the snapshot concurrently with a reload dropping
 * the daemon's own reference; the last one out frees it exactly once (ASan checks). */
static void test_refcount_threads(void **state)
{
    (void)state;
    struct cfg *c = cfg_default(NULL);
    pthread_t th[4];
    for (size_t i = 0; i < GW_ARRAY_LEN(th); i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_unref_worker, cfg_ref(c)), 0);
    cfg_unref(c);
    for (size_t i = 0; i < GW_ARRAY_LEN(th); i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
}

/* ---- the shipped example ---- */

static void test_example_file(void **state)
{
    (void)state;
    /* tests/unit/config/test_config.c → repository root */
    char *src = gw_xstrdup(__FILE__);
    char *p = strstr(src, "tests/unit/config/test_config.c");
    if (p)
        strcpy(p, "gateway.example.yaml");
    if (!p || access(src, R_OK) != 0) {
        free(src);
        skip();
    }
    /* valid as written: no variable of the file needs to be set */
    unsetenv("OPENCLAW_HOST");
    unsetenv("OPENCLAW_PORT");
    struct cfg_overrides ov = {.data_dir = datadir};
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(src, &ov, &c, &errs);
    if (rc != GW_OK)
        dump(&errs);
    assert_int_equal(rc, GW_OK);
    assert_string_equal(c->host, "127.0.0.1");
    assert_int_equal(c->port, 8080);
    assert_int_equal(c->n_tokens, 0); /* their secrets come from the environment */
    assert_true(c->n_agents >= 2);
    assert_non_null(cfg_find_agent(c, "engineering/code-reviewer"));
    assert_non_null(cfg_find_model(c, cfg_find_agent(c, "engineering/code-reviewer")->model, NULL));
    assert_non_null(cfg_find_budget(c, "engineering"));
    assert_string_equal(c->approver, "team_lead");
    assert_int_equal(c->approval_ttl_s, 86400);
    assert_null(c->opa_url); /* an OPA that does not run would deny everything */
    cfg_unref(c);

    /* its ${NAME:-default} values follow the environment */
    setenv("OPENCLAW_PORT", "9099", 1);
    rc = cfg_load(src, &ov, &c, &errs);
    assert_int_equal(rc, GW_OK);
    assert_int_equal(c->port, 9099);
    cfg_unref(c);
    unsetenv("OPENCLAW_PORT");
    free(src);
}

/* ---- models, costManagement, agent models ---- */

static const char models_yaml[] =
    "models:\n"                                                       /* 1 */
    "  allowed_regions: [eu-west-1, us-east-1]\n"                     /* 2 */
    "  max_tool_rounds: 12\n"                                         /* 3 */
    "  providers:\n"                                                  /* 4 */
    "    - name: openai\n"                                            /* 5 */
    "      api: openai\n"                                             /* 6 */
    "      base_url: https://api.openai.com/v1/\n"                    /* 7 */
    "      api_key: ${TEST_CFG_OPENAI_KEY}\n"                         /* 8 */
    "      max_classification: internal\n"                            /* 9 */
    "      region: us-east-1\n"                                       /* 10 */
    "      timeout_ms: 60000\n"                                       /* 11 */
    "      connect_timeout_ms: 2000\n"                                /* 12 */
    "      retries: 3\n"                                              /* 13 */
    "      retry_base_ms: 100\n"                                      /* 14 */
    "      fallback: [anthropic/claude-sonnet-4, ollama/llama3:8b]\n" /* 15 */
    "      limits: {max_concurrent: 8, rpm: 600, tpm: 100000, max_queue: 16, max_wait_ms: 500}\n"
    "      models:\n"                             /* 17 */
    "        - name: gpt-4o\n"                    /* 18 */
    "          upstream: gpt-4o-2024-08-06\n"     /* 19 */
    "          input_per_mtok: 2.5\n"             /* 20 */
    "          output_per_mtok: 10\n"             /* 21 */
    "        - name: gpt-4o-mini\n"               /* 22 */
    "          input_per_mtok: 0.15\n"            /* 23 */
    "          output_per_mtok: 6e-1\n"           /* 24 */
    "    - name: anthropic\n"                     /* 25 */
    "      api: anthropic\n"                      /* 26 */
    "      base_url: https://api.anthropic.com\n" /* 27 */
    "      api_key_file: secrets/anthropic.key\n" /* 28 */
    "      region: eu-west-1\n"                   /* 29 */
    "      models:\n"                             /* 30 */
    "        - {name: claude-sonnet-4, input_per_mtok: 3, output_per_mtok: 15}\n"
    "    - name: ollama\n"                                  /* 32 */
    "      api: ollama\n"                                   /* 33 */
    "      kind: self_hosted\n"                             /* 34 */
    "      base_url: http://127.0.0.1:11434\n"              /* 35 */
    "      region: eu-west-1\n"                             /* 36 */
    "      max_classification: restricted\n"                /* 37 */
    "      models:\n"                                       /* 38 */
    "        - name: llama3:8b\n"                           /* 39 */
    "costManagement:\n"                                     /* 40 */
    "  enabled: true\n"                                     /* 41 */
    "  currency: USD\n"                                     /* 42 */
    "  alertThreshold: 0.75\n"                              /* 43 */
    "  alertEmail: ops@company.com\n"                       /* 44 */
    "  alertWebhook: https://hooks.example/budget?src=gw\n" /* 45 */
    "  smtp: {url: smtp://127.0.0.1:25, from: gateway@company.com, username: gw, "
    "password: \"${TEST_CFG_SMTP_PASSWORD}\"}\n" /* 46 */
    "  budgets:\n"                               /* 47 */
    "    dev-team: {monthlyUsdLimit: 500, onExceed: alert, alertThreshold: 0.9, "
    "alertEmail: leads@company.com}\n"                           /* 48 */
    "    public:   {monthlyUsdLimit: 50.5, onExceed: disable}\n" /* 49 */
    "agents:\n"                                                  /* 50 */
    "  - name: engineering/code-reviewer\n"                      /* 51 */
    "    model: openai/gpt-4o\n"                                 /* 52 */
    "    system_prompt: \"You review code.\\nBe brief.\"\n"      /* 53 */
    "    tools: [memory_read, send_message]\n"                   /* 54 */
    "  - name: engineering/local\n"                              /* 55 */
    "    model: ollama/llama3:8b\n"                              /* 56 */
    "  - name: engineering/mailbox\n"                            /* 57 */
    "    tools: []\n";                                           /* 58 */

static void write_secret(const char *rel, const char *text)
{
    char *dir = gw_xasprintf("%s/secrets", datadir);
    char *data_parent = gw_xasprintf("%s", datadir);
    mkdir(data_parent, 0700);
    mkdir(dir, 0700);
    char *path = gw_xasprintf("%s/%s", datadir, rel);
    write_file(path, text);
    free(path);
    free(dir);
    free(data_parent);
}

static void test_models_costs(void **state)
{
    (void)state;
    setenv("TEST_CFG_OPENAI_KEY", "sk-openai-env-123", 1);
    setenv("TEST_CFG_SMTP_PASSWORD", "smtp-pass-456", 1);
    write_secret("secrets/anthropic.key", "sk-ant-file-789\n");
    struct cfg *c = load_ok(models_yaml);

    assert_int_equal(c->n_allowed_regions, 2);
    assert_string_equal(c->allowed_regions[1], "us-east-1");
    assert_null(c->allowed_regions[2]);
    assert_int_equal(c->max_tool_rounds, 12);
    assert_int_equal(c->n_providers, 3);

    const struct cfg_provider *p = cfg_find_provider(c, "openai");
    assert_non_null(p);
    assert_int_equal(p->api, CFG_LLM_OPENAI);
    assert_string_equal(p->base_url, "https://api.openai.com/v1"); /* trailing slash dropped */
    assert_string_equal(p->api_key, "sk-openai-env-123");
    assert_false(p->self_hosted);
    assert_int_equal(p->max_classification, 1); /* POL_LEVEL_INTERNAL */
    assert_string_equal(p->region, "us-east-1");
    assert_int_equal(p->timeout_ms, 60000);
    assert_int_equal(p->connect_timeout_ms, 2000);
    assert_int_equal(p->retries, 3);
    assert_int_equal(p->retry_base_ms, 100);
    assert_int_equal(p->n_fallback, 2);
    assert_string_equal(p->fallback[0], "anthropic/claude-sonnet-4");
    assert_string_equal(p->fallback[1], "ollama/llama3:8b");
    assert_null(p->fallback[2]);
    assert_int_equal(p->limits.max_concurrent, 8);
    assert_int_equal(p->limits.rpm, 600);
    assert_int_equal(p->limits.tpm, 100000);
    assert_int_equal(p->limits.max_queue, 16);
    assert_int_equal(p->limits.max_wait_ms, 500);
    assert_int_equal(p->n_models, 2);
    assert_string_equal(p->models[0].upstream, "gpt-4o-2024-08-06");
    assert_true(p->models[0].input_per_mtok == 2.5);
    assert_true(p->models[0].output_per_mtok == 10.0);
    assert_string_equal(p->models[1].upstream, "gpt-4o-mini"); /* default: the name */
    assert_true(p->models[1].input_per_mtok == 0.15);
    assert_true(p->models[1].output_per_mtok == 0.6);

    p = cfg_find_provider(c, "anthropic");
    assert_int_equal(p->api, CFG_LLM_ANTHROPIC);
    assert_string_equal(p->api_key, "sk-ant-file-789"); /* from the file, newline stripped */
    assert_int_equal(p->max_classification, -1);
    assert_int_equal(p->timeout_ms, 120000); /* defaults */
    assert_int_equal(p->connect_timeout_ms, 5000);
    assert_int_equal(p->retries, 2);
    assert_int_equal(p->retry_base_ms, 250);
    assert_int_equal(p->n_fallback, 0);
    assert_int_equal(p->limits.max_concurrent, 64);
    assert_int_equal(p->limits.rpm, 0);
    assert_int_equal(p->limits.tpm, 0);
    assert_int_equal(p->limits.max_queue, 1024);
    assert_int_equal(p->limits.max_wait_ms, 10000);

    p = cfg_find_provider(c, "ollama");
    assert_int_equal(p->api, CFG_LLM_OLLAMA);
    assert_true(p->self_hosted);
    assert_null(p->api_key);
    assert_int_equal(p->max_classification, 3); /* POL_LEVEL_RESTRICTED */
    assert_true(p->models[0].input_per_mtok == 0.0);

    /* lookups split at the first '/' */
    const struct cfg_provider *owner = NULL;
    const struct cfg_model *m = cfg_find_model(c, "ollama/llama3:8b", &owner);
    assert_non_null(m);
    assert_ptr_equal(owner, cfg_find_provider(c, "ollama"));
    assert_string_equal(m->name, "llama3:8b");
    assert_non_null(cfg_find_model(c, "openai/gpt-4o-mini", NULL));
    owner = (const struct cfg_provider *)0x1;
    assert_null(cfg_find_model(c, "openai/gpt-5", &owner));
    assert_null(owner);
    assert_null(cfg_find_model(c, "openai", NULL));
    assert_null(cfg_find_model(c, "open/ai/gpt-4o", NULL));
    assert_null(cfg_find_model(c, "nope/gpt-4o", NULL));
    assert_null(cfg_find_model(c, NULL, NULL));
    assert_null(cfg_find_provider(c, "nope"));

    /* costManagement */
    assert_true(c->costs_enabled);
    assert_string_equal(c->currency, "USD");
    assert_true(c->alert_threshold == 0.75);
    assert_string_equal(c->alert_email, "ops@company.com");
    assert_string_equal(c->alert_webhook, "https://hooks.example/budget?src=gw");
    assert_string_equal(c->smtp_url, "smtp://127.0.0.1:25");
    assert_string_equal(c->smtp_from, "gateway@company.com");
    assert_string_equal(c->smtp_username, "gw");
    assert_string_equal(c->smtp_password, "smtp-pass-456");
    assert_int_equal(c->n_budgets, 2);
    const struct cfg_budget *b = cfg_find_budget(c, "dev-team");
    assert_non_null(b);
    assert_true(b->monthly_usd_limit == 500.0);
    assert_int_equal(b->on_exceed, CFG_EXCEED_ALERT);
    assert_true(b->alert_threshold == 0.9);
    assert_string_equal(b->alert_email, "leads@company.com");
    b = cfg_find_budget(c, "public");
    assert_true(b->monthly_usd_limit == 50.5);
    assert_int_equal(b->on_exceed, CFG_EXCEED_DISABLE);
    assert_true(b->alert_threshold == 0.75);                /* the section's */
    assert_string_equal(b->alert_email, "ops@company.com"); /* the section's */
    assert_null(cfg_find_budget(c, "other"));

    /* agents */
    const struct cfg_agent *a = cfg_find_agent(c, "engineering/code-reviewer");
    assert_string_equal(a->model, "openai/gpt-4o");
    assert_string_equal(a->system_prompt, "You review code.\nBe brief.");
    assert_int_equal(a->n_tools, 2);
    assert_string_equal(a->tools[0], "memory_read");
    assert_string_equal(a->tools[1], "send_message");
    assert_null(a->tools[2]);
    a = cfg_find_agent(c, "engineering/local");
    assert_string_equal(a->model, "ollama/llama3:8b");
    assert_null(a->system_prompt);
    assert_int_equal(a->n_tools, 2); /* default: the memory tools */
    assert_string_equal(a->tools[0], "memory_read");
    assert_string_equal(a->tools[1], "memory_write");
    a = cfg_find_agent(c, "engineering/mailbox");
    assert_null(a->model);
    assert_int_equal(a->n_tools, 0);
    assert_non_null(a->tools);
    assert_null(a->tools[0]);
    cfg_unref(c);
    unsetenv("TEST_CFG_OPENAI_KEY");
    unsetenv("TEST_CFG_SMTP_PASSWORD");
}

static void test_models_defaults(void **state)
{
    (void)state;
    struct cfg *c = load_ok("agents:\n  - name: eng/bot\n");
    assert_int_equal(c->n_providers, 0);
    assert_null(c->providers);
    assert_null(c->allowed_regions);
    assert_int_equal(c->max_tool_rounds, 8);
    assert_true(c->costs_enabled);
    assert_string_equal(c->currency, "USD");
    assert_true(c->alert_threshold == 0.8);
    assert_int_equal(c->n_budgets, 0);
    assert_null(c->alert_email);
    assert_null(c->smtp_url);
    const struct cfg_agent *a = cfg_find_agent(c, "eng/bot");
    assert_null(a->model);
    assert_int_equal(a->n_tools, 2);
    assert_null(cfg_find_model(c, "a/b", NULL));
    cfg_unref(c);

    c = cfg_default(NULL);
    assert_int_equal(c->max_tool_rounds, 8);
    assert_string_equal(c->currency, "USD");
    assert_true(c->alert_threshold == 0.8);
    assert_true(c->costs_enabled);
    cfg_unref(c);

    /* costManagement.enabled: false, budgets still parsed */
    c = load_ok("costManagement:\n  enabled: false\n  budgets:\n    eng: {monthlyUsdLimit: 1}\n");
    assert_false(c->costs_enabled);
    assert_int_equal(c->n_budgets, 1);
    assert_true(cfg_find_budget(c, "eng")->alert_threshold == 0.8);
    assert_null(cfg_find_budget(c, "eng")->alert_email);
    cfg_unref(c);
}

static void test_models_errors(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad(
        "models:\n"                                   /* 1 */
        "  max_tool_rounds: 65\n"                     /* 2 */
        "  regions: [x]\n"                            /* 3 */
        "  providers:\n"                              /* 4 */
        "    - name: openai\n"                        /* 5 */
        "      api: openia\n"                         /* 6 */
        "      base_url: https://api.openai.com/v1\n" /* 7 */
        "      api_key: sk-abcdef\n"                  /* 8 */
        "      api_key_file: /run/secrets/openai\n"   /* 9 */
        "      fallback: [anthropic/claude, openai/gpt-4o-mini, gpt-4o, ollama/llama3]\n"
        "      timeout_ms: 50\n"                                     /* 11 */
        "      max_classification: secret\n"                         /* 12 */
        "      kind: cloud\n"                                        /* 13 */
        "      model: gpt-4o\n"                                      /* 14 */
        "      models:\n"                                            /* 15 */
        "        - name: gpt-4o\n"                                   /* 16 */
        "          input_per_mtok: -1\n"                             /* 17 */
        "          output_per_mtok: \"10\"\n"                        /* 18 */
        "        - name: gpt-4o-mini\n"                              /* 19 */
        "          input_per_mtok: 1.5.2\n"                          /* 20 */
        "        - name: gpt-4o\n"                                   /* 21 */
        "        - name: gpt/4o\n"                                   /* 22 */
        "    - name: anthropic\n"                                    /* 23 */
        "      api: anthropic\n"                                     /* 24 */
        "      models: [{name: claude-sonnet-4}]\n"                  /* 25 */
        "    - name: ollama\n"                                       /* 26 */
        "      api: ollama\n"                                        /* 27 */
        "      base_url: ftp://127.0.0.1:11434\n"                    /* 28 */
        "      models: []\n"                                         /* 29 */
        "    - name: openai\n"                                       /* 30 */
        "      api: openai\n"                                        /* 31 */
        "      base_url: https://user:pw@example.com/v1\n"           /* 32 */
        "      limits: {max_concurrent: 0, burst: 3}\n"              /* 33 */
        "      models: [{name: x}]\n"                                /* 34 */
        "    - name: Bad\n"                                          /* 35 */
        "      base_url: https://example.com/v1?x=1\n"               /* 36 */
        "      api: openai\n"                                        /* 37 */
        "    - name: local\n"                                        /* 38 */
        "      api: ollama\n"                                        /* 39 */
        "      base_url: http://127.0.0.1:11434\n"                   /* 40 */
        "      api_key_file: secrets/missing.key\n"                  /* 41 */
        "      models: [{name: llama3, output_per_mtok: 1e400}]\n"); /* 42 */
    assert_err(&errs, "cfg.yaml:2: models.max_tool_rounds must be between 1 and 64 (got 65)");
    assert_err2(&errs,
                "cfg.yaml:3: unknown key 'regions' in models: did you mean "
                "'allowed_regions'? (valid keys: allowed_regions, max_tool_rounds, "
                "providers)",
                NULL);
    assert_err(&errs, "cfg.yaml:6: models.providers[0].api must be one of openai, anthropic, "
                      "ollama (got 'openia')");
    assert_err(&errs, "cfg.yaml:9: models.providers[0].api_key_file and "
                      "models.providers[0].api_key are both set");
    assert_err(&errs, "cfg.yaml:10: models.providers[0].fallback[0] 'anthropic/claude' is not "
                      "a configured model");
    assert_err(&errs, "cfg.yaml:10: models.providers[0].fallback[1] 'openai/gpt-4o-mini' names "
                      "the provider itself");
    assert_err(&errs, "cfg.yaml:10: models.providers[0].fallback[2] 'gpt-4o' is not a "
                      "configured model");
    assert_err(&errs, "cfg.yaml:10: models.providers[0].fallback[3] 'ollama/llama3' is not a "
                      "configured model");
    assert_err(&errs, "cfg.yaml:11: models.providers[0].timeout_ms must be between 100 and "
                      "3600000 (got 50)");
    assert_err(&errs, "cfg.yaml:12: models.providers[0].max_classification must be one of "
                      "public, internal, confidential, restricted (got 'secret')");
    assert_err(&errs, "cfg.yaml:13: models.providers[0].kind must be one of external, "
                      "self_hosted (got 'cloud')");
    assert_err2(&errs,
                "cfg.yaml:14: unknown key 'model' in models.providers[0]: did you mean "
                "'models'? (valid keys: ",
                "models)");
    assert_err(&errs, "cfg.yaml:17: models.providers[0].models[0].input_per_mtok must be "
                      "between 0 and 1e+06 (got -1)");
    assert_err(&errs, "cfg.yaml:18: models.providers[0].models[0].output_per_mtok must be a "
                      "number, not a quoted string");
    assert_err(&errs, "cfg.yaml:20: models.providers[0].models[1].input_per_mtok must be a "
                      "decimal number such as 2.5 (got '1.5.2')");
    assert_err(&errs, "cfg.yaml:21: duplicate model 'gpt-4o' in models.providers[0] (first "
                      "defined at line 16)");
    assert_err(&errs, "cfg.yaml:22: models.providers[0].models[3].name 'gpt/4o' is not valid");
    assert_err(&errs, "cfg.yaml:23: models.providers[1].base_url is required");
    assert_err(&errs, "cfg.yaml:28: models.providers[2].base_url must be a http:// or "
                      "https:// URL");
    assert_err(&errs, "cfg.yaml:29: models.providers[2].models must list at least one model");
    assert_err(&errs, "cfg.yaml:30: duplicate provider 'openai' (first defined at line 5)");
    assert_err(&errs, "cfg.yaml:32: models.providers[3].base_url must not contain user "
                      "information");
    assert_err(&errs, "cfg.yaml:33: models.providers[3].limits.max_concurrent must be between "
                      "1 and 100000 (got 0)");
    assert_err2(&errs, "cfg.yaml:33: unknown key 'burst' in models.providers[3].limits", "rpm");
    assert_err(&errs, "cfg.yaml:35: models.providers[4].name 'Bad' is not valid");
    assert_err(&errs, "cfg.yaml:35: models.providers[4].models is required");
    assert_err(&errs, "cfg.yaml:36: models.providers[4].base_url must not contain a query");
    assert_err2(&errs, "cfg.yaml:41: models.providers[5].api_key_file ",
                "missing.key does not "
                "exist");
    assert_err(&errs, "cfg.yaml:42: models.providers[5].models[0].output_per_mtok must be "
                      "between 0 and 1e+06 (got 1e400)");
    for (size_t i = 0; i < errs.n; i++) /* a key written in the file is not echoed either */
        assert_null(strstr(errs.msgs[i], "sk-abcdef"));
    assert_int_equal(errs.n, 29);
    cfg_errors_release(&errs);

    /* data residency */
    errs = load_bad("models:\n"                                   /* 1 */
                    "  allowed_regions: [eu-west-1]\n"            /* 2 */
                    "  providers:\n"                              /* 3 */
                    "    - name: openai\n"                        /* 4 */
                    "      api: openai\n"                         /* 5 */
                    "      base_url: https://api.openai.com/v1\n" /* 6 */
                    "      region: us-east-1\n"                   /* 7 */
                    "      models: [{name: gpt-4o}]\n"            /* 8 */
                    "    - name: local\n"                         /* 9 */
                    "      api: ollama\n"                         /* 10 */
                    "      base_url: http://127.0.0.1:11434\n"    /* 11 */
                    "      models: [{name: llama3}]\n"            /* 12 */
                    "    - name: eu\n"                            /* 13 */
                    "      api: openai\n"                         /* 14 */
                    "      base_url: https://eu.example.com/v1\n" /* 15 */
                    "      region: eu-west-1\n"                   /* 16 */
                    "      models: [{name: m}]\n");               /* 17 */
    assert_err(&errs, "cfg.yaml:7: models.providers[0].region 'us-east-1' of provider 'openai' "
                      "is not in models.allowed_regions");
    assert_err(&errs, "cfg.yaml:9: models.providers[1] ('local') has no region but "
                      "models.allowed_regions is set");
    assert_int_equal(errs.n, 2);
    cfg_errors_release(&errs);

    errs = load_bad("models:\n  allowed_regions: []\n  providers: {}\n");
    assert_err(&errs, "cfg.yaml:2: models.allowed_regions must not be empty");
    assert_err(&errs, "cfg.yaml:3: models.providers must be a list, not a mapping");
    cfg_errors_release(&errs);
}

static void test_models_secrets(void **state)
{
    (void)state;
    /* an api_key from ${ENV} is never quoted, whatever is wrong with it */
    setenv("TEST_CFG_BAD_KEY", "sk-secret value", 1);
    setenv("TEST_CFG_SECRET_URL", "https://sk-url-secret@example.com", 1);
    struct cfg_errors errs = load_bad(
        "models:\n"                                /* 1 */
        "  providers:\n"                           /* 2 */
        "    - name: openai\n"                     /* 3 */
        "      api: openai\n"                      /* 4 */
        "      base_url: ${TEST_CFG_SECRET_URL}\n" /* 5 */
        "      api_key: ${TEST_CFG_BAD_KEY}\n"     /* 6 */
        "      timeout_ms: ${TEST_CFG_BAD_KEY}\n"  /* 7 */
        "      models: [{name: gpt-4o, input_per_mtok: \"${TEST_CFG_BAD_KEY}\"}]\n"
        "costManagement:\n"                      /* 9 */
        "  smtp:\n"                              /* 10 */
        "    url: smtp://mail.example.com:587\n" /* 11 */
        "    password: ${TEST_CFG_BAD_KEY}\n"    /* 12 */
        "    from: ${TEST_CFG_BAD_KEY}\n");      /* 13 */
    assert_err(&errs, "cfg.yaml:5: models.providers[0].base_url must not contain user "
                      "information");
    assert_err(&errs, "cfg.yaml:6: models.providers[0].api_key must be 1-4096 visible ASCII "
                      "characters");
    assert_err(&errs, "cfg.yaml:7: models.providers[0].timeout_ms must be a decimal integer "
                      "(got a value from ${...})");
    assert_err(&errs, "cfg.yaml:8: models.providers[0].models[0].input_per_mtok must be a "
                      "number, not a quoted string");
    assert_err(&errs, "cfg.yaml:10: costManagement.smtp.username and password must be set "
                      "together");
    assert_err(&errs, "cfg.yaml:13: costManagement.smtp.from is not an e-mail address");
    for (size_t i = 0; i < errs.n; i++) {
        assert_null(strstr(errs.msgs[i], "sk-secret"));
        assert_null(strstr(errs.msgs[i], "sk-url-secret"));
    }
    cfg_errors_release(&errs);

    /* the key file: trailing newline stripped (CRLF too), at most 4 KiB, the key alone */
    const char *yaml = "models:\n"                                  /* 1 */
                       "  providers:\n"                             /* 2 */
                       "    - name: p\n"                            /* 3 */
                       "      api: openai\n"                        /* 4 */
                       "      base_url: http://localhost:8000/v1\n" /* 5 */
                       "      api_key_file: secrets/p.key\n"        /* 6 */
                       "      models: [{name: m}]\n";               /* 7 */
    write_secret("secrets/p.key", "sk-file-secret-1\r\n");
    struct cfg *c = load_ok(yaml);
    assert_string_equal(c->providers[0].api_key, "sk-file-secret-1");
    cfg_unref(c);

    write_secret("secrets/p.key", "sk-file-secret-2");
    c = load_ok(yaml);
    assert_string_equal(cfg_find_provider(c, "p")->api_key, "sk-file-secret-2");
    cfg_unref(c);

    write_secret("secrets/p.key", "sk-file secret-3\n");
    errs = load_bad(yaml);
    assert_err2(&errs, "cfg.yaml:6: models.providers[0].api_key_file ",
                "must hold the key "
                "alone");
    for (size_t i = 0; i < errs.n; i++)
        assert_null(strstr(errs.msgs[i], "secret-3"));
    cfg_errors_release(&errs);

    write_secret("secrets/p.key", "\n");
    errs = load_bad(yaml);
    assert_err2(&errs, "cfg.yaml:6: models.providers[0].api_key_file ", "must hold the key");
    cfg_errors_release(&errs);

    char big[4098];
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_secret("secrets/p.key", big);
    errs = load_bad(yaml);
    assert_err2(&errs, "cfg.yaml:6: models.providers[0].api_key_file ",
                "is larger than 4096 "
                "bytes");
    cfg_errors_release(&errs);
    big[4095] = '\n';
    big[4096] = '\0'; /* exactly 4 KiB including the newline */
    write_secret("secrets/p.key", big);
    c = load_ok(yaml);
    assert_int_equal(strlen(c->providers[0].api_key), 4095);
    cfg_unref(c);

    unsetenv("TEST_CFG_BAD_KEY");
    unsetenv("TEST_CFG_SECRET_URL");
}

static void test_costs_errors(void **state)
{
    (void)state;
    struct cfg_errors errs = load_bad(
        "costManagement:\n"                                       /* 1 */
        "  enabled: yes\n"                                        /* 2 */
        "  currency: EUR\n"                                       /* 3 */
        "  alertThreshold: 0\n"                                   /* 4 */
        "  alertEmail: ops\n"                                     /* 5 */
        "  alertWebhook: hooks.example/budget\n"                  /* 6 */
        "  smtp:\n"                                               /* 7 */
        "    url: smtp://127.0.0.1:25\n"                          /* 8 */
        "    host: x\n"                                           /* 9 */
        "  budgets:\n"                                            /* 10 */
        "    dev-team: {monthlyUsdLimit: 500, onExceed: block}\n" /* 11 */
        "    qa: {monthlyUsdLimit: 0, alertThreshold: 1.5}\n"     /* 12 */
        "    Ops: {monthlyUsdLimit: 5}\n"                         /* 13 */
        "    ml: {onExceed: disable}\n"                           /* 14 */
        "    sec: {monthlyUsdLimit: 5, alertThreshold: 1}\n"      /* 15 */
        "    web:\n"                                              /* 16 */
        "    data: {monthlyUsdLimit: 5, limit: 3}\n");            /* 17 */
    assert_err(&errs, "cfg.yaml:2: costManagement.enabled must be true or false");
    assert_err(&errs, "cfg.yaml:3: costManagement.currency 'EUR' is not supported");
    assert_err(&errs, "cfg.yaml:4: costManagement.alertThreshold must be greater than 0 and at "
                      "most 1 (got 0)");
    assert_err(&errs, "cfg.yaml:5: costManagement.alertEmail is not an e-mail address");
    assert_err(&errs, "cfg.yaml:6: costManagement.alertWebhook must be a http:// or https:// "
                      "URL");
    assert_err(&errs, "cfg.yaml:8: costManagement.smtp.from is required when "
                      "costManagement.smtp.url is set");
    assert_err2(&errs,
                "cfg.yaml:9: unknown key 'host' in costManagement.smtp: did you mean "
                "'gateway.host'? (valid keys: url, from, username, password)",
                NULL);
    assert_err(&errs, "cfg.yaml:11: costManagement.budgets.dev-team.onExceed must be one of "
                      "alert, disable (got 'block')");
    assert_err(&errs, "cfg.yaml:12: costManagement.budgets.qa.monthlyUsdLimit must be greater "
                      "than 0");
    assert_err(&errs, "cfg.yaml:12: costManagement.budgets.qa.alertThreshold must be greater "
                      "than 0 and at most 1 (got 1.5)");
    assert_err(&errs, "cfg.yaml:13: costManagement.budgets: workspace name 'Ops' is not valid");
    assert_err(&errs, "cfg.yaml:14: costManagement.budgets.ml.monthlyUsdLimit is required");
    assert_err(&errs, "cfg.yaml:16: costManagement.budgets.web must be a mapping with "
                      "monthlyUsdLimit");
    assert_err2(&errs, "cfg.yaml:17: unknown key 'limit' in costManagement.budgets.data",
                "monthlyUsdLimit, onExceed, alertThreshold, alertEmail");
    assert_int_equal(errs.n, 14);
    cfg_errors_release(&errs);

    errs = load_bad("costManagement:\n"                  /* 1 */
                    "  smtp:\n"                          /* 2 */
                    "    from: gw@company.com\n"         /* 3 */
                    "    url: http://mail.example.com\n" /* 4 */
                    "  budgets: [dev-team]\n");          /* 5 */
    assert_err(&errs, "cfg.yaml:4: costManagement.smtp.url must be a smtp:// or smtps:// URL");
    assert_err(&errs, "cfg.yaml:5: costManagement.budgets must be a mapping of workspace to "
                      "budget");
    cfg_errors_release(&errs);

    errs = load_bad("costManagement:\n"            /* 1 */
                    "  smtp:\n"                    /* 2 */
                    "    from: gw@company.com\n"); /* 3 */
    assert_err(&errs, "cfg.yaml:2: costManagement.smtp.url is required when smtp is configured");
    cfg_errors_release(&errs);

    struct cfg *c = load_ok("costManagement:\n"
                            "  smtp: {url: \"smtps://mail.example.com:465/\", from: a@b.c}\n");
    assert_string_equal(c->smtp_url, "smtps://mail.example.com:465");
    cfg_unref(c);
}

static void test_agent_models(void **state)
{
    (void)state;
    char *prompt = gw_xmalloc(70000);
    size_t o = (size_t)sprintf(prompt, "models:\n"                                      /* 1 */
                                       "  providers:\n"                                 /* 2 */
                                       "    - name: openai\n"                           /* 3 */
                                       "      api: openai\n"                            /* 4 */
                                       "      base_url: https://api.openai.com/v1\n"    /* 5 */
                                       "      models: [{name: gpt-4o}]\n"               /* 6 */
                                       "agents:\n"                                      /* 7 */
                                       "  - name: eng/a\n"                              /* 8 */
                                       "    model: openai/gpt-5\n"                      /* 9 */
                                       "  - name: eng/b\n"                              /* 10 */
                                       "    model: gpt-4o\n"                            /* 11 */
                                       "  - name: eng/c\n"                              /* 12 */
                                       "    model: anthropic/claude\n"                  /* 13 */
                                       "    tools: [memory_read, shell, memory_read]\n" /* 14 */
                                       "  - name: eng/d\n"                              /* 15 */
                                       "    model: openai/gpt-4o\n"                     /* 16 */
                                       "    tools: memory_read\n"                       /* 17 */
                                       "    system_prompt: [a]\n"                       /* 18 */
                                       "  - name: eng/e\n"                              /* 19 */
                                       "    system_prompt: \"");                        /* 20 */
    memset(prompt + o, 'p', 65537);
    o += 65537;
    strcpy(prompt + o, "\"\n");
    struct cfg_errors errs = load_bad(prompt);
    free(prompt);
    assert_err(&errs, "cfg.yaml:9: agents[0].model 'openai/gpt-5' is not a configured model");
    assert_err(&errs, "cfg.yaml:11: agents[1].model 'gpt-4o' is not a configured model");
    assert_err(&errs, "cfg.yaml:13: agents[2].model 'anthropic/claude' is not a configured "
                      "model");
    assert_err(&errs, "cfg.yaml:14: agents[2].tools[1] 'shell' is not a known tool (valid: "
                      "memory_read, memory_write, send_message)");
    assert_err(&errs, "cfg.yaml:14: agents[2].tools[2] 'memory_read' is listed twice");
    assert_err(&errs, "cfg.yaml:17: agents[3].tools must be a list, not a plain value");
    assert_err(&errs, "cfg.yaml:18: agents[3].system_prompt must be a string, not a list");
    assert_err(&errs, "cfg.yaml:20: value is longer than 65536 bytes");
    assert_int_equal(errs.n, 8);
    cfg_errors_release(&errs);

    /* exactly 64 KiB is fine */
    prompt = gw_xmalloc(70000);
    o = (size_t)sprintf(prompt, "agents:\n  - name: eng/a\n    system_prompt: \"");
    memset(prompt + o, 'p', 65536);
    strcpy(prompt + o + 65536, "\"\n");
    struct cfg *c = load_ok(prompt);
    free(prompt);
    assert_int_equal(strlen(c->agents[0].system_prompt), 65536);
    cfg_unref(c);

    /* an agent naming a model without a models section */
    errs = load_bad("agents:\n  - name: eng/a\n    model: openai/gpt-4o\n");
    assert_err(&errs, "cfg.yaml:3: agents[0].model 'openai/gpt-4o' is not a configured model");
    cfg_errors_release(&errs);
}

static void test_sso_cli_sessions(void **state)
{
    static const char base[] = "sso:\n"
                               "  oidc:\n"
                               "    issuer: http://127.0.0.1:9\n"
                               "    client_id: openclaw\n"
                               "    client_secret: s3cret\n"
                               "    redirect_uri: http://127.0.0.1:8080/api/v1/auth/callback\n";
    struct cfg *c = load_ok(base);
    assert_int_equal(c->sso.cli_access_ttl_s, 3600);
    assert_int_equal(c->sso.cli_idle_timeout_s, 14 * 86400);
    assert_int_equal(c->sso.cli_absolute_timeout_s, 30 * 86400);
    cfg_unref(c);
    char *y = gw_xasprintf("%s  sessions:\n    cli_access_token_ttl_s: 60\n"
                           "    cli_absolute_timeout_s: 86400\n",
                           base);
    c = load_ok(y); /* the default idle timeout follows a shorter lifetime */
    assert_int_equal(c->sso.cli_access_ttl_s, 60);
    assert_int_equal(c->sso.cli_idle_timeout_s, 86400);
    assert_int_equal(c->sso.cli_absolute_timeout_s, 86400);
    cfg_unref(c);
    free(y);
    y = gw_xasprintf("%s  sessions:\n    cli_idle_timeout_s: 172800\n"
                     "    cli_absolute_timeout_s: 86400\n    cli_access_token_ttl_s: 59\n",
                     base);
    struct cfg_errors errs = load_bad(y);
    assert_err(&errs, "cli_idle_timeout_s (172800) must not exceed cli_absolute_timeout_s");
    assert_err(&errs, "sso.sessions.cli_access_token_ttl_s");
    cfg_errors_release(&errs);
    free(y);
}

/* ---- sso.oidc: private_key_jwt and bearer validation ---- */

/* Writes key as PEM to <tmpdir>/<name> (encrypted with a passphrase when encrypt); returns the
 * path (malloc'd). The key is freed. */
static char *key_file(const char *name, EVP_PKEY *key, bool encrypt)
{
    assert_non_null(key);
    char *path = gw_xasprintf("%s/%s", tmpdir, name);
    BIO *b = BIO_new_file(path, "w");
    assert_non_null(b);
    assert_int_equal(PEM_write_bio_PrivateKey(b, key, encrypt ? EVP_aes_256_cbc() : NULL,
                                              encrypt ? (unsigned char *)"pass" : NULL,
                                              encrypt ? 4 : 0, NULL, NULL),
                     1);
    BIO_free(b);
    EVP_PKEY_free(key);
    return path;
}

static const char sso_base[] = "sso:\n"
                               "  oidc:\n"
                               "    issuer: http://127.0.0.1:9\n"
                               "    client_id: openclaw\n"
                               "    redirect_uri: http://127.0.0.1:8080/api/v1/auth/callback\n";

/* sso_base plus extra lines (line 6 on), loaded; NULL want: must load. */
static struct cfg *sso_with(const char *extra, const char *want)
{
    char *y = gw_xasprintf("%s%s", sso_base, extra);
    struct cfg *c = NULL;
    if (want) {
        struct cfg_errors errs = load_bad(y);
        assert_err(&errs, want);
        for (size_t i = 0; i < errs.n; i++) /* key material never appears in a message */
            assert_true(!strstr(errs.msgs[i], "BEGIN") && !strstr(errs.msgs[i], "MII"));
        cfg_errors_release(&errs);
    } else {
        c = load_ok(y);
    }
    free(y);
    return c;
}

static void test_sso_client_key(void **state)
{
    (void)state;
    char *rsa = key_file("rsa.pem", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), false);
    char *ec = key_file("ec.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), false);
    char *small = key_file("rsa1024.pem", EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024),
                           false);
    char *p384 = key_file("p384.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), false);
    char *ed = key_file("ed.pem", EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), false);
    char *enc = key_file("enc.pem", EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), true);
    char *junk = gw_xasprintf("%s/junk.pem", tmpdir);
    write_file(junk, "-----BEGIN PRIVATE KEY-----\nMIIBnotakey\n-----END PRIVATE KEY-----\n");

    /* the secret methods stay as they were: basic by default */
    struct cfg *c = sso_with("    client_secret: s3cret\n", NULL);
    assert_int_equal(c->sso.auth_method, CFG_OIDC_SECRET_BASIC);
    assert_null(c->sso.client_key_pem);
    cfg_unref(c);
    c = sso_with("    client_secret: s3cret\n    auth_method: client_secret_post\n", NULL);
    assert_int_equal(c->sso.auth_method, CFG_OIDC_SECRET_POST);
    cfg_unref(c);

    /* RSA 2048 → RS256 with a kid; EC P-256 → ES256; no secret needed */
    char *y = gw_xasprintf("    auth_method: private_key_jwt\n    client_key_file: %s\n"
                           "    client_key_id: gw-2024\n",
                           rsa);
    c = sso_with(y, NULL);
    free(y);
    assert_int_equal(c->sso.auth_method, CFG_OIDC_PRIVATE_KEY_JWT);
    assert_string_equal(c->sso.client_key_alg, "RS256");
    assert_string_equal(c->sso.client_key_id, "gw-2024");
    assert_non_null(strstr(c->sso.client_key_pem, "PRIVATE KEY"));
    assert_null(c->sso.client_secret);
    cfg_unref(c);
    y = gw_xasprintf("    auth_method: private_key_jwt\n    client_key_file: %s\n", ec);
    c = sso_with(y, NULL);
    free(y);
    assert_string_equal(c->sso.client_key_alg, "ES256");
    assert_null(c->sso.client_key_id);
    cfg_unref(c);

    /* keys that fit neither algorithm, or that cannot be read */
    const char *bad_alg = "cfg.yaml:7: sso.oidc.client_key_file must be an RSA key of at least "
                          "2048 bits (RS256) or an EC key on P-256 (ES256)";
    const char *unreadable = "cfg.yaml:7: sso.oidc.client_key_file holds no unencrypted PEM "
                             "private key";
    struct {
        const char *path, *want;
    } bad[] = {
        {small, bad_alg},
        {p384, bad_alg},
        {ed, bad_alg},
        {enc, unreadable},
        {junk, unreadable},
        {"/nonexistent/key.pem", "cfg.yaml:7: sso.oidc.client_key_file /nonexistent/key.pem "
                                 "does not exist"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        y = gw_xasprintf("    auth_method: private_key_jwt\n    client_key_file: %s\n",
                         bad[i].path);
        sso_with(y, bad[i].want);
        free(y);
    }

    /* the key file is required, a secret is refused with it, and the key needs the method */
    sso_with("    auth_method: private_key_jwt\n", "cfg.yaml:3: sso.oidc.client_key_file is "
                                                   "required with auth_method private_key_jwt");
    y = gw_xasprintf("    auth_method: private_key_jwt\n    client_key_file: %s\n"
                     "    client_secret: s3cret\n",
                     rsa);
    sso_with(y, "cfg.yaml:8: sso.oidc.client_secret and client_secret_file are not used with "
                "auth_method private_key_jwt");
    free(y);
    y = gw_xasprintf("    client_secret: s3cret\n    client_key_file: %s\n", rsa);
    sso_with(y, "cfg.yaml:7: sso.oidc.client_key_file and client_key_id are only used with "
                "auth_method private_key_jwt");
    free(y);
    y = gw_xasprintf("    auth_method: private_key_jwt\n    client_key_file: %s\n"
                     "    client_key_id: \"two words\"\n",
                     rsa);
    sso_with(y, "cfg.yaml:8: sso.oidc.client_key_id must be 1-255 visible ASCII characters");
    free(y);
    sso_with("    auth_method: client_secret_jwt\n    client_secret: s\n",
             "sso.oidc.auth_method must be one of client_secret_basic, client_secret_post, "
             "private_key_jwt");

    const char *paths[] = {rsa, ec, small, p384, ed, enc, junk};
    for (size_t i = 0; i < GW_ARRAY_LEN(paths); i++)
        free((char *)paths[i]);
}

static void test_sso_bearer_validation(void **state)
{
    (void)state;
    struct cfg *c = sso_with("    client_secret: s\n", NULL);
    assert_int_equal(c->sso.bearer_validation, CFG_BEARER_NONE);
    assert_int_equal(c->sso.introspection_cache_s, 60);
    assert_string_equal(c->sso.bearer_audience, "openclaw");
    cfg_unref(c);
    c = sso_with("    client_secret: s\n    accept_bearer_jwt: true\n", NULL);
    assert_int_equal(c->sso.bearer_validation, CFG_BEARER_JWT); /* the older spelling */
    cfg_unref(c);
    c = sso_with("    client_secret: s\n    bearer_validation: jwt\n", NULL);
    assert_int_equal(c->sso.bearer_validation, CFG_BEARER_JWT);
    cfg_unref(c);
    c = sso_with("    client_secret: s\n    bearer_validation: introspection\n"
                 "    introspection_cache_s: 0\n    bearer_audience: api://gateway\n",
                 NULL);
    assert_int_equal(c->sso.bearer_validation, CFG_BEARER_INTROSPECTION);
    assert_int_equal(c->sso.introspection_cache_s, 0);
    assert_string_equal(c->sso.bearer_audience, "api://gateway");
    cfg_unref(c);
    c = sso_with("    client_secret: s\n    bearer_validation: none\n", NULL);
    assert_int_equal(c->sso.bearer_validation, CFG_BEARER_NONE);
    cfg_unref(c);
    sso_with("    client_secret: s\n    bearer_validation: introspection\n"
             "    accept_bearer_jwt: true\n",
             "cfg.yaml:8: sso.oidc.accept_bearer_jwt and bearer_validation are both set");
    sso_with("    client_secret: s\n    bearer_validation: opaque\n",
             "cfg.yaml:7: sso.oidc.bearer_validation must be one of none, jwt, introspection");
    sso_with("    client_secret: s\n    introspection_cache_s: 301\n",
             "cfg.yaml:7: sso.oidc.introspection_cache_s");
}

/* store (issue 15): the backend, its URL (never quoted), the pool and the timeouts; seed 001's
 * audit.backend and audit.connectionString read as store.backend and store.url. */
static void test_store_section(void **state)
{
    (void)state;
    struct cfg *c = load_ok("gateway: {port: 8080}\n");
    assert_null(c->store.backend); /* sqlite in the data directory */
    assert_null(c->store.url);
    cfg_unref(c);

    setenv("TEST_CFG_DATABASE_URL", "postgresql://gw:s3cret-pw@db.example.com:5432/gw", 1);
    c = load_ok("store:\n"
                "  backend: postgresql\n"
                "  url: \"${TEST_CFG_DATABASE_URL}\"\n"
                "  pool_size: 12\n"
                "  connect_timeout_s: 3\n"
                "  statement_timeout_ms: 5000\n");
    assert_string_equal(c->store.backend, "postgresql");
    assert_string_equal(c->store.url, "postgresql://gw:s3cret-pw@db.example.com:5432/gw");
    assert_int_equal(c->store.pool_size, 12);
    assert_int_equal(c->store.connect_timeout_s, 3);
    assert_int_equal(c->store.statement_timeout_ms, 5000);
    cfg_unref(c);

    c = load_ok("audit:\n"
                "  backend: postgresql\n"
                "  connectionString: \"host=/run/postgresql dbname=gw\"\n");
    assert_string_equal(c->store.backend, "postgresql");
    assert_string_equal(c->store.url, "host=/run/postgresql dbname=gw");
    cfg_unref(c);

    struct cfg_errors errs = load_bad("store:\n"                     /* 1 */
                                      "  backend: postgres\n"        /* 2 */
                                      "  pool_size: 0\n"             /* 3 */
                                      "  statement_timeout_ms: 10\n" /* 4 */
                                      "  colour: blue\n");           /* 5 */
    assert_err(&errs, "cfg.yaml:2: store.backend must be one of");
    assert_err(&errs, "cfg.yaml:3: store.pool_size must be");
    assert_err(&errs, "cfg.yaml:4: store.statement_timeout_ms must be");
    assert_err(&errs, "cfg.yaml:5: unknown key 'colour' in store");
    cfg_errors_release(&errs);

    errs = load_bad("store: {backend: postgresql}\n");
    assert_err(&errs, "store.url is required with store.backend postgresql");
    cfg_errors_release(&errs);
    errs = load_bad("store: {url: \"postgresql://db/gw\"}\n");
    assert_err(&errs, "store.url is only read with store.backend postgresql");
    cfg_errors_release(&errs);
    /* a bad URL is refused without being quoted (it may hold a password) */
    errs = load_bad("store: {backend: postgresql, url: \"mysql://u:hunter2@db/gw\"}\n");
    assert_err(&errs, "cfg.yaml:1: store.url must be a postgresql://");
    for (size_t i = 0; i < errs.n; i++)
        assert_null(strstr(errs.msgs[i], "hunter2"));
    cfg_errors_release(&errs);
    unsetenv("TEST_CFG_DATABASE_URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed003_loads),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_file_and_overrides),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_identity_rbac),
        cmocka_unit_test(test_rbac_errors),
        cmocka_unit_test(test_tenants),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_seed_keys),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_token_errors),
        cmocka_unit_test(test_scope_syntax),
        cmocka_unit_test(test_agents),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_many_errors_capped),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_refcount_threads),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_models_costs),
        cmocka_unit_test(test_models_defaults),
        cmocka_unit_test(test_models_errors),
        cmocka_unit_test(test_models_secrets),
        cmocka_unit_test(test_costs_errors),
        cmocka_unit_test(test_agent_models),
        cmocka_unit_test(test_sso_cli_sessions),
        cmocka_unit_test(test_sso_client_key),
        cmocka_unit_test(test_sso_bearer_validation),
        cmocka_unit_test(test_store_section),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
