/* SPDX-License-Identifier: MIT
 * cli_approvals.c — `openclaw approvals list|show|approve|reject` (/api/v1/approvals) and
 * `openclaw tools invoke` (/api/v1/tools/invoke).
 *
 * A tool call the `actions` policy parks for approval answers 202 with the approval id: that is
 * a success (exit 0) and is printed as "pending approval <id> (expires ...)"; a denial is the
 * gateway's 403 (exit 4). Tool arguments come from --args (a JSON object) and/or repeated
 * --arg KEY=VALUE (string values); a key given twice is a usage error. Approve may replace the
 * frozen arguments with --args. Bodies are built by pure functions for tests/unit/cli/test_cli.c.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_approvals[] =
    "usage: openclaw approvals list [--status S] | show <id> | approve <id> [--args JSON]\n"
    "       [--comment TEXT] | reject <id> [--comment TEXT]\n"
    "\n"
    "  approvals list [--status pending|executed|rejected|expired]\n"
    "      GET /api/v1/approvals: the items the token's user requested or may decide\n"
    "  approvals show <id>\n"
    "  approvals approve <id> [--args JSON] [--comment TEXT]\n"
    "      runs the parked action once (with the edited arguments when --args is given)\n"
    "  approvals reject <id> [--comment TEXT]\n"
    "      rejects an item (a requester may withdraw its own)\n";

const char cli_help_tools[] =
    "usage: openclaw tools invoke <tool> [--arg KEY=VALUE ...] [--args JSON]\n"
    "\n"
    "  tools invoke <tool> [--arg KEY=VALUE ...] [--args JSON]\n"
    "      POST /api/v1/tools/invoke. Prints \"executed\" and the result, or\n"
    "      \"pending approval <id> (expires ...)\" when the policy requires an approval\n"
    "      (exit 0; see `openclaw approvals`). Denied by policy: exit 4.\n"
    "\n"
    "Tools: memory_read {namespace, agent}, memory_write {namespace, agent, content},\n"
    "send_message {namespace, agent, content}. --arg values are strings; --args is a JSON\n"
    "object; both may be combined (a key given twice is an error).\n"
    "Example: openclaw tools invoke memory_write --arg namespace=eng --arg agent=bot \\\n"
    "           --arg content='hello'\n";

static const struct cli_optdef list_opts[] = {{"status", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef no_opts[] = {{NULL, 0}};
static const struct cli_optdef approve_opts[] = {{"args", CLI_OPT_ARG},
                                                 {"comment", CLI_OPT_ARG},
                                                 {NULL, 0}};
static const struct cli_optdef reject_opts[] = {{"comment", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef invoke_opts[] = {{"arg", CLI_OPT_ARG | CLI_OPT_MULTI},
                                                {"args", CLI_OPT_ARG},
                                                {NULL, 0}};

static const struct cli_sub approvals_subs[] = {
    {"list", list_opts, NULL},
    {"show", no_opts, NULL},
    {"approve", approve_opts, NULL},
    {"reject", reject_opts, NULL},
};
const struct cli_command cli_command_approvals = {
    "approvals",    cli_help_approvals,           cli_cmd_approvals,
    approvals_subs, GW_ARRAY_LEN(approvals_subs), NULL};
static const struct cli_sub tools_subs[] = {{"invoke", invoke_opts, NULL}};
const struct cli_command cli_command_tools = {"tools",    cli_help_tools,           cli_cmd_tools,
                                              tools_subs, GW_ARRAY_LEN(tools_subs), NULL};

/* --- request bodies ---------------------------------------------------------------------- */

int cli_invoke_body(const struct cli_args *a, json_t **out, char *err, size_t errcap)
{
    *out = NULL;
    if (a->npos != 1) {
        snprintf(err, errcap, "tools invoke needs exactly one <tool>");
        return CLI_EXIT_USAGE;
    }
    json_t *tool = json_string(a->pos[0]);
    if (!tool || !*a->pos[0]) {
        json_decref(tool);
        snprintf(err, errcap, "invalid tool name");
        return CLI_EXIT_USAGE;
    }
    json_t *args = NULL;
    const char *aj = cli_args_get(a, "args");
    int rc = aj ? cli_parse_object(aj, strlen(aj), "--args", &args, err, errcap) : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK && !args)
        args = json_object();
    for (size_t i = 0; rc == CLI_EXIT_OK && i < cli_args_count(a, "arg"); i++)
        rc = cli_kv_put(args, cli_args_nth(a, "arg", i), "arg", err, errcap);
    if (rc != CLI_EXIT_OK) {
        json_decref(tool);
        json_decref(args);
        return rc;
    }
    *out = json_pack("{s:o, s:o}", "tool", tool, "args", args);
    return CLI_EXIT_OK;
}

int cli_approve_body(const struct cli_args *a, json_t **out, char *err, size_t errcap)
{
    *out = NULL;
    if (a->npos != 1) {
        snprintf(err, errcap, "needs exactly one <id>");
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_object();
    const char *aj = cli_args_get(a, "args");
    const char *comment = cli_args_get(a, "comment");
    int rc = CLI_EXIT_OK;
    if (aj) {
        json_t *args = NULL;
        rc = cli_parse_object(aj, strlen(aj), "--args", &args, err, errcap);
        if (rc == CLI_EXIT_OK)
            json_object_set_new(body, "args", args);
    }
    if (rc == CLI_EXIT_OK && comment) {
        json_t *c = json_string(comment);
        if (!c) {
            snprintf(err, errcap, "--comment is not valid UTF-8");
            rc = CLI_EXIT_USAGE;
        } else {
            json_object_set_new(body, "comment", c);
        }
    }
    if (rc != CLI_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    *out = body;
    return CLI_EXIT_OK;
}

/* --- formatting -------------------------------------------------------------------------- */

static void field(struct gw_buf *out, const char *label, const char *value)
{
    (void)gw_buf_printf(out, "%-13s", label);
    cli_sanitize(out, value && *value ? value : "-");
    (void)gw_buf_puts(out, "\n");
}

static void field_json(struct gw_buf *out, const char *label, const json_t *v)
{
    char *c = cli_json_cell(v);
    field(out, label, c);
    free(c);
}

static char *policy_text(const json_t *p)
{
    if (!json_is_object(p))
        return gw_xstrdup("-");
    const char *id = gw_json_str(p, "id");
    char *ver = cli_json_cell(json_object_get(p, "version"));
    char *s = id ? gw_xasprintf("%s v%s", id, ver) : cli_json_cell(p);
    free(ver);
    return s;
}

void cli_format_invoke(struct gw_buf *out, long status, const json_t *r)
{
    const char *st = gw_json_str(r, "status");
    if (status == 202 || (st && !strcmp(st, "pending_approval"))) {
        const char *id = gw_json_str(r, "approval_id");
        const char *exp = gw_json_str(r, "expires_at");
        (void)gw_buf_puts(out, "pending approval ");
        cli_sanitize(out, id ? id : "?");
        (void)gw_buf_puts(out, " (expires ");
        cli_sanitize(out, exp ? exp : "-");
        (void)gw_buf_puts(out, ")\n");
        const json_t *ap = json_object_get(r, "approvers");
        if (ap && !json_is_null(ap))
            field_json(out, "Approvers:", ap);
        const char *why = gw_json_str(json_object_get(r, "decision"), "reason");
        if (why)
            field(out, "Reason:", why);
        return;
    }
    (void)gw_buf_puts(out, "executed\n");
    const json_t *res = json_object_get(r, "result");
    if (res && !json_is_null(res)) {
        (void)gw_buf_puts(out, "Result:\n");
        cli_format_pretty(out, res, "  ");
    }
}

void cli_format_approval(struct gw_buf *out, const json_t *r)
{
    field(out, "Approval:", gw_json_str(r, "id"));
    field(out, "Status:", gw_json_str(r, "status"));
    field(out, "Requester:", gw_json_str(r, "requester"));
    const json_t *act = json_object_get(r, "action");
    field(out, "Tool:", gw_json_str(act, "tool"));
    field_json(out, "Args:", json_object_get(act, "args"));
    char *p = policy_text(json_object_get(r, "policy"));
    field(out, "Policy:", p);
    free(p);
    field(out, "Created:", gw_json_str(r, "created_at"));
    field(out, "Expires:", gw_json_str(r, "expires_at"));
    field_json(out, "Decided by:", json_object_get(r, "decided_by"));
    field_json(out, "Comment:", json_object_get(r, "comment"));
    const json_t *res = json_object_get(r, "result");
    if (res && !json_is_null(res)) {
        (void)gw_buf_puts(out, "Result:\n");
        cli_format_pretty(out, res, "  ");
    }
}

static void format_approvals_table(struct gw_buf *out, const json_t *reply)
{
    static const char *const headers[] = {"ID",      "STATUS",  "REQUESTER", "TOOL",
                                          "CREATED", "EXPIRES", "DECIDED BY"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(reply, "approvals"), i, e) {
        const json_t *vals[7] = {
            json_object_get(e, "id"),         json_object_get(e, "status"),
            json_object_get(e, "requester"),  json_object_get(json_object_get(e, "action"), "tool"),
            json_object_get(e, "created_at"), json_object_get(e, "expires_at"),
            json_object_get(e, "decided_by"),
        };
        char *cells[7];
        for (size_t c = 0; c < 7; c++)
            cells[c] = cli_json_cell(vals[c]);
        cli_table_add(&t, (const char *const *)cells);
        for (size_t c = 0; c < 7; c++)
            free(cells[c]);
    }
    cli_table_render(&t, out);
    cli_table_release(&t);
}

/* --- commands ---------------------------------------------------------------------------- */

static int run_call(struct cli_ctx *ctx, const char *method, struct gw_buf *url, const json_t *body,
                    struct cli_response *rs, json_t **reply)
{
    int rc = cli_call(ctx, method, url->data, body, rs, reply);
    if (rc == CLI_EXIT_OK && ctx->json)
        cli_print_raw(rs->body.data, rs->body.len);
    return rc;
}

static int approvals_run(struct cli_ctx *ctx, const char *sub, const struct cli_args *a,
                         struct cli_response *rs, struct gw_buf *out)
{
    json_t *body = NULL, *reply = NULL;
    char err[300];
    struct gw_buf url;
    gw_buf_init(&url, 1);
    bool list = !strcmp(sub, "list");
    int rc = CLI_EXIT_OK;
    if (list && a->npos) {
        rc = cli_usage_error(cli_help_approvals, "approvals list takes no positional arguments");
        goto out;
    }
    if (!list && a->npos != 1) {
        rc = cli_usage_error(cli_help_approvals, "approvals %s needs exactly one <id>", sub);
        goto out;
    }
    bool approve = !strcmp(sub, "approve"), reject = !strcmp(sub, "reject");
    if (approve || reject) {
        if (cli_approve_body(a, &body, err, sizeof(err)) != CLI_EXIT_OK) {
            rc = cli_usage_error(cli_help_approvals, "%s", err);
            goto out;
        }
    }
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;
    cli_url_begin(&url, ctx, "/api/v1/approvals");
    if (list) {
        cli_url_query(&url, "status", cli_args_get(a, "status"));
    } else {
        cli_url_segment(&url, a->pos[0]);
        if (approve || reject)
            cli_url_fixed(&url, approve ? "/approve" : "/reject");
    }
    rc = run_call(ctx, body ? "POST" : "GET", &url, body, rs, &reply);
    if (rc != CLI_EXIT_OK || ctx->json)
        goto out;
    if (list) {
        format_approvals_table(out, reply);
    } else if (approve || reject) {
        const char *id = gw_json_str(reply, "id");
        const char *st = gw_json_str(reply, "status");
        (void)gw_buf_puts(out, "Approval ");
        cli_sanitize(out, id ? id : a->pos[0]);
        (void)gw_buf_puts(out, " ");
        cli_sanitize(out, st ? st : (approve ? "approved" : "rejected"));
        (void)gw_buf_puts(out, "\n");
        const json_t *res = json_object_get(reply, "result");
        if (res && !json_is_null(res)) {
            (void)gw_buf_puts(out, "Result:\n");
            cli_format_pretty(out, res, "  ");
        }
    } else {
        cli_format_approval(out, reply);
    }
out:
    json_decref(body);
    json_decref(reply);
    gw_buf_release(&url);
    return rc;
}

int cli_cmd_approvals(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_approvals, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    struct gw_buf out;
    cli_response_init(&rs);
    gw_buf_init(&out, CLI_MAX_RESPONSE * 4);
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_approvals, a);
    if (rc == CLI_EXIT_OK)
        rc = approvals_run(ctx, sub->name, a, &rs, &out);
    if (rc == CLI_EXIT_OK)
        cli_print_buf(&out);
    gw_buf_release(&out);
    cli_response_release(&rs);
    free(a);
    return rc;
}

int cli_cmd_tools(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_tools, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    struct gw_buf out, url;
    cli_response_init(&rs);
    gw_buf_init(&out, CLI_MAX_RESPONSE * 4);
    gw_buf_init(&url, 1);
    json_t *body = NULL, *reply = NULL;
    char err[300];
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_tools, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (cli_invoke_body(a, &body, err, sizeof(err)) != CLI_EXIT_OK) {
        rc = cli_usage_error(cli_help_tools, "%s", err);
        goto out;
    }
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;
    cli_url_begin(&url, ctx, "/api/v1/tools/invoke");
    rc = run_call(ctx, "POST", &url, body, &rs, &reply);
    if (rc != CLI_EXIT_OK || ctx->json)
        goto out;
    cli_format_invoke(&out, rs.status, reply);
    cli_print_buf(&out);
out:
    json_decref(body);
    json_decref(reply);
    gw_buf_release(&out);
    gw_buf_release(&url);
    cli_response_release(&rs);
    free(a);
    return rc;
}
