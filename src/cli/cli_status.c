/* SPDX-License-Identifier: MIT
 * cli_status.c — `openclaw status`: is the gateway reachable, who am I, which plugins run.
 *
 * GET /api/v1/status (no authentication needed) and, when a token is configured,
 * GET /api/v1/auth/userinfo. The text report has exactly the shape of the enterprise
 * documentation (seed 000). An unreachable gateway is a report too (Status: Unreachable
 * (reason)) with exit code 7; a rejected token still prints the report and exits 3/4; a URL
 * that answers but is not a gateway (an HTML page, JSON of another service) is said so.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_status[] =
    "usage: openclaw status\n"
    "\n"
    "Checks the gateway (GET /api/v1/status) and, when a token is configured, who it\n"
    "belongs to (GET /api/v1/auth/userinfo). Exit code 7 when the gateway cannot be reached,\n"
    "3 when the token is rejected. With --json prints\n"
    "{\"gateway\", \"connected\", \"status\": <status reply>, \"userinfo\": <reply>|null}.\n";

static const struct cli_optdef status_opts[] = {{NULL, 0}};
const struct cli_command cli_command_status = {"status", cli_help_status, cli_cmd_status, NULL,
                                               0,        status_opts};

static char *error_summary(const struct cli_response *rs)
{
    char msg[160];
    json_t *v = gw_json_parse(rs->body.data ? rs->body.data : "", rs->body.len, GW_JSON_MAX_DEPTH,
                              msg, sizeof(msg));
    json_t *e = json_object_get(v, "error");
    const char *code = gw_json_str(e, "code");
    const char *m = gw_json_str(e, "message");
    char *s = code ? gw_xasprintf("token rejected: %s: %s", code, m ? m : "")
                   : gw_xasprintf("userinfo failed: HTTP %ld", rs->status);
    json_decref(v);
    return s;
}

/* A JSON object on /api/v1/status is not enough: another service may answer JSON there too. */
static bool is_gateway_status(const json_t *st)
{
    return gw_json_str(st, "version") && gw_json_str(st, "tenant") &&
           json_is_array(json_object_get(st, "plugins"));
}

int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response st, ui;
    cli_response_init(&st);
    cli_response_init(&ui);
    json_t *status = NULL, *userinfo = NULL;
    char *ui_err = NULL;
    struct gw_buf url, out;
    gw_buf_init(&url, 1);
    gw_buf_init(&out, (size_t)4 << 20);
    int rc = cli_parse_cmd(ctx, argc - 1, argv + 1, status_opts, cli_help_status, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (a->npos) {
        rc = cli_usage_error(cli_help_status, "status takes no arguments");
        goto out;
    }
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;

    gw_buf_release(&url);
    cli_url_begin(&url, ctx, "/api/v1/status");
    struct cli_request rq = {.method = "GET", .url = url.data, .auth = true, .quiet = true};
    rc = cli_http(ctx, &rq, &st);
    if (rc == CLI_EXIT_UNREACHABLE) {
        if (ctx->json) {
            json_t *o = json_pack("{s:s, s:b, s:s}", "gateway", ctx->set.gateway_url, "connected",
                                  false, "reason", st.reason);
            cli_print_json(o);
            json_decref(o);
        } else {
            cli_format_unreachable(&out, ctx->set.gateway_url, st.reason);
            cli_print_buf(&out);
        }
        goto out;
    }
    if (rc != CLI_EXIT_OK) {
        cli_print_failure(ctx, &st);
        goto out;
    }
    if (!(status = cli_response_json(&st))) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (!is_gateway_status(status)) {
        fprintf(stderr,
                "error: %s/api/v1/status answered, but not as an OpenClaw gateway does "
                "(no version, tenant or plugins): check the gateway URL (openclaw config "
                "show)\n",
                ctx->set.gateway_url);
        rc = CLI_EXIT_FAIL;
        goto out;
    }

    if (ctx->set.token) {
        gw_buf_release(&url);
        cli_url_begin(&url, ctx, "/api/v1/auth/userinfo");
        struct cli_request rq2 = {.method = "GET", .url = url.data, .auth = true, .quiet = true};
        rc = cli_http(ctx, &rq2, &ui);
        if (rc == CLI_EXIT_OK) {
            if (!(userinfo = cli_response_json(&ui))) {
                rc = CLI_EXIT_FAIL;
                goto out;
            }
        } else {
            ui_err = ui.reason[0] ? gw_xasprintf("userinfo failed: %s", ui.reason)
                                  : error_summary(&ui);
            cli_print_failure(ctx, &ui);
        }
    }

    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:b, s:O, s:O}", "gateway", ctx->set.gateway_url, "connected",
                              true, "status", status, "userinfo",
                              userinfo ? userinfo : json_null());
        if (ui_err)
            json_object_set_new(o, "userinfo_error", json_string(ui_err));
        cli_print_json(o);
        json_decref(o);
    } else {
        cli_format_status(&out, ctx->set.gateway_url, status, userinfo, ui_err);
        cli_print_buf(&out);
    }
out:
    json_decref(status);
    json_decref(userinfo);
    free(ui_err);
    gw_buf_release(&url);
    gw_buf_release(&out);
    cli_response_release(&st);
    cli_response_release(&ui);
    free(a);
    return rc;
}
