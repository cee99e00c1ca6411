/* SPDX-License-Identifier: MIT
 * cli_admin.c — `openclaw admin reload`: POST /api/v1/admin/reload, the same as SIGHUP on the
 * gateway's machine, for an operator who only has the API.
 *
 * A refused reload (400: the new file is invalid, the running configuration stays) prints the
 * gateway's error and then each of its `file:line: message` errors, so the file can be fixed
 * from that output alone.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_admin[] =
    "usage: openclaw admin reload\n"
    "\n"
    "  admin reload\n"
    "      POST /api/v1/admin/reload (permission admin:reload): the gateway reads its\n"
    "      configuration file again and applies it (tokens, roles, namespaces, agents, models,\n"
    "      budgets; listener settings need a restart). When the new file is invalid nothing\n"
    "      changes and each of its errors is printed (exit code 5).\n";

static const struct cli_optdef no_opts[] = {{NULL, 0}};

void cli_format_reload(struct gw_buf *out, long status, const json_t *reply)
{
    if (status >= 200 && status < 300) {
        (void)gw_buf_printf(out, "Configuration reloaded: %lld tokens, %lld agents, %lld roles\n",
                            (long long)json_integer_value(json_object_get(reply, "tokens")),
                            (long long)json_integer_value(json_object_get(reply, "agents")),
                            (long long)json_integer_value(json_object_get(reply, "roles")));
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(reply, "error"), "errors"), i, e) {
        if (!json_is_string(e))
            continue;
        (void)gw_buf_puts(out, "  - ");
        cli_sanitize(out, json_string_value(e));
        (void)gw_buf_puts(out, "\n");
    }
}

static int admin_reload(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_admin, "admin reload takes no arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/admin/reload");
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    struct cli_request rq = {.method = "POST",
                             .url = url.data,
                             .auth = true,
                             .quiet = true,
                             .content_type = "application/json",
                             .body = "{}",
                             .body_len = 2};
    rc = cli_http(ctx, &rq, rs);
    char msg[160];
    json_t *reply = rs->status ? gw_json_parse(rs->body.data ? rs->body.data : "", rs->body.len,
                                               GW_JSON_MAX_DEPTH, msg, sizeof(msg))
                               : NULL;
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        cli_format_reload(&out, rs->status, reply);
        cli_print_buf(&out);
    } else {
        cli_print_failure(ctx, rs);
        cli_format_reload(&out, rs->status, reply);
        if (out.len)
            fputs(out.data, stderr);
    }
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static const struct cli_sub subs[] = {{"reload", no_opts, admin_reload}};
const struct cli_command cli_command_admin = {"admin", cli_help_admin,     cli_cmd_admin,
                                              subs,    GW_ARRAY_LEN(subs), NULL};

int cli_cmd_admin(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_admin);
}
