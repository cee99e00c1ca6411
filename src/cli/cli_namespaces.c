/* SPDX-License-Identifier: MIT
 * cli_namespaces.c — `openclaw namespaces list|show|grant|revoke` (/api/v1/namespaces): who
 * may use which namespace. Exactly one member per grant or revoke (--org-unit, --team,
 * --group or --user); the gateway checks the caller's authority and answers 403 with why.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_namespaces[] =
    "usage: openclaw namespaces list | show <ns> | grant <ns> MEMBER | revoke <ns> MEMBER\n"
    "\n"
    "  namespaces list\n"
    "      GET /api/v1/namespaces: the namespaces you reach (and their members, with\n"
    "      namespaces:read)\n"
    "  namespaces show <ns>\n"
    "      one namespace: its agents and members (members from gateway.yaml marked)\n"
    "  namespaces grant <ns> MEMBER\n"
    "      POST /api/v1/namespaces/<ns>/members (namespaces:write, audited)\n"
    "  namespaces revoke <ns> MEMBER\n"
    "      DELETE /api/v1/namespaces/<ns>/members (members of gateway.yaml stay: edit the file)\n"
    "\n"
    "MEMBER is exactly one of --org-unit PATH (and its subtree), --team ID, --group NAME (exact\n"
    "or a glob such as 'eng-*') or --user ID. An org_admin grants namespaces it reaches to org\n"
    "units and teams of its own subtree; an enterprise_admin anything in its tenant.\n";

static const struct cli_optdef no_opts[] = {{NULL, 0}};
static const struct cli_optdef member_opts[] = {{"org-unit", CLI_OPT_ARG},
                                                {"team", CLI_OPT_ARG},
                                                {"group", CLI_OPT_ARG},
                                                {"user", CLI_OPT_ARG},
                                                {NULL, 0}};
/* option name → member kind on the wire */
static const char *const kinds[][2] = {{"org-unit", "org_unit"},
                                       {"team", "team"},
                                       {"group", "group"},
                                       {"user", "user"}};

static void members_line(struct gw_buf *out, const json_t *members, const json_t *config)
{
    static const char *const keys[] = {"org_units", "teams", "groups", "users"};
    bool any = false;
    for (size_t k = 0; k < GW_ARRAY_LEN(keys); k++) {
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(members, keys[k]), i, v) {
            bool from_file = false;
            size_t j;
            json_t *c;
            json_array_foreach(json_object_get(config, keys[k]), j, c)
                from_file |= json_equal(c, v);
            (void)gw_buf_printf(out, "%s%.*s:", any ? ", " : "", (int)strlen(keys[k]) - 1, keys[k]);
            cli_sanitize(out, json_string_value(v));
            if (from_file)
                (void)gw_buf_puts(out, " (gateway.yaml)");
            any = true;
        }
    }
    if (!any)
        (void)gw_buf_puts(out, "-");
}

static void format_namespace(struct gw_buf *out, const json_t *ns, bool detail)
{
    char *agents = cli_json_cell(json_object_get(ns, "agents"));
    if (!detail) {
        struct gw_buf m;
        gw_buf_init(&m, 1 << 16);
        const json_t *members = json_object_get(ns, "members");
        if (members)
            members_line(&m, members, json_object_get(ns, "config_members"));
        (void)gw_buf_printf(out, "%-24s ", json_string_value(json_object_get(ns, "name")));
        cli_sanitize(out, members ? (m.data ? m.data : "-") : "(members need namespaces:read)");
        (void)gw_buf_puts(out, "\n");
        gw_buf_release(&m);
        free(agents);
        return;
    }
    cli_field(out, 10, "Name:", gw_json_str(ns, "name"));
    cli_field(out, 10, "Agents:", agents);
    struct gw_buf m;
    gw_buf_init(&m, 1 << 16);
    if (json_object_get(ns, "members"))
        members_line(&m, json_object_get(ns, "members"), json_object_get(ns, "config_members"));
    cli_field(out, 10, "Members:", m.data ? m.data : "(needs namespaces:read)");
    gw_buf_release(&m);
    free(agents);
}

static int call(struct cli_ctx *ctx, const char *method, const char *ns, const char *tail,
                const char *qkey, const char *qval, const json_t *body, json_t **reply,
                struct cli_response *rs)
{
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/namespaces");
    if (ns)
        cli_url_segment(&url, ns);
    if (tail)
        cli_url_fixed(&url, tail);
    cli_url_query(&url, qkey, qval);
    rc = cli_http_json(ctx, method, url.data, body, rs, reply);
    gw_buf_release(&url);
    return rc;
}

static int ns_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_namespaces, "namespaces list takes no arguments");
    json_t *reply = NULL;
    int rc = call(ctx, "GET", NULL, NULL, NULL, NULL, NULL, &reply, rs);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        struct gw_buf out;
        gw_buf_init(&out, CLI_MAX_RESPONSE);
        (void)gw_buf_printf(&out, "%-24s %s\n", "NAMESPACE", "MEMBERS");
        size_t i;
        json_t *ns;
        json_array_foreach(json_object_get(reply, "namespaces"), i, ns)
            format_namespace(&out, ns, false);
        if (!json_array_size(json_object_get(reply, "namespaces")))
            (void)gw_buf_puts(&out, "(you reach no namespace: ask an administrator for a "
                                    "grant)\n");
        cli_print_buf(&out);
        gw_buf_release(&out);
    }
    json_decref(reply);
    return rc;
}

static int ns_show(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos != 1)
        return cli_usage_error(cli_help_namespaces, "namespaces show needs exactly one <ns>");
    json_t *reply = NULL;
    int rc = call(ctx, "GET", a->pos[0], NULL, NULL, NULL, NULL, &reply, rs);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        struct gw_buf out;
        gw_buf_init(&out, CLI_MAX_RESPONSE);
        format_namespace(&out, reply, true);
        cli_print_buf(&out);
        gw_buf_release(&out);
    }
    json_decref(reply);
    return rc;
}

/* The one member option given: its wire kind and value. */
static int member_arg(const struct cli_args *a, const char *verb, const char **kind,
                      const char **value)
{
    size_t found = 0;
    for (size_t k = 0; k < GW_ARRAY_LEN(kinds); k++)
        if (cli_args_get(a, kinds[k][0])) {
            *kind = kinds[k][1];
            *value = cli_args_get(a, kinds[k][0]);
            found++;
        }
    if (a->npos != 1 || found != 1)
        return cli_usage_error(cli_help_namespaces,
                               "namespaces %s needs <ns> and exactly one "
                               "of --org-unit, --team, --group, --user",
                               verb);
    return CLI_EXIT_OK;
}

static int ns_change(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs,
                     bool grant)
{
    const char *kind = NULL, *value = NULL;
    int rc = member_arg(a, grant ? "grant" : "revoke", &kind, &value);
    if (rc != CLI_EXIT_OK)
        return rc;
    json_t *body = NULL, *reply = NULL;
    if (grant) {
        body = json_object();
        if (!cli_json_put(body, kind, value)) {
            json_decref(body);
            return CLI_EXIT_USAGE;
        }
    }
    rc = call(ctx, grant ? "POST" : "DELETE", a->pos[0], "/members", grant ? NULL : kind,
              grant ? NULL : value, body, &reply, rs);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        struct gw_buf out;
        gw_buf_init(&out, 1 << 16);
        (void)gw_buf_printf(&out, "%s %s ", grant ? "Granted" : "Revoked", a->pos[0]);
        (void)gw_buf_printf(&out, "%s %s %s\n", grant ? "to" : "from", kind, value);
        (void)gw_buf_puts(&out, "Members now: ");
        members_line(&out, json_object_get(reply, "members"), NULL);
        (void)gw_buf_puts(&out, "\n");
        cli_print_buf(&out);
        gw_buf_release(&out);
    }
    json_decref(body);
    json_decref(reply);
    return rc;
}

static int ns_grant(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return ns_change(ctx, a, rs, true);
}

static int ns_revoke(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return ns_change(ctx, a, rs, false);
}

static const struct cli_sub subs[] = {{"list", no_opts, ns_list},
                                      {"show", no_opts, ns_show},
                                      {"grant", member_opts, ns_grant},
                                      {"revoke", member_opts, ns_revoke}};
const struct cli_command cli_command_namespaces = {"namespaces",       cli_help_namespaces,
                                                   cli_cmd_namespaces, subs,
                                                   GW_ARRAY_LEN(subs), NULL};

int cli_cmd_namespaces(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_namespaces);
}
