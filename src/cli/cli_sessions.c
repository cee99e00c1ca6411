/* SPDX-License-Identifier: MIT
 * cli_sessions.c — `openclaw sessions list|revoke`: the sign-in sessions of the gateway
 * (browser sessions and `openclaw auth login` sign-ins).
 *
 * GET /api/v1/auth/sessions[?user=], DELETE /api/v1/auth/sessions/<id> and
 * DELETE /api/v1/auth/users/<user>/sessions. Who may see or end which session is the gateway's
 * to decide (own sessions; administrators any): the CLI passes the names as path segments and
 * prints what it answered.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_sessions[] =
    "usage: openclaw sessions list [--user USER] | revoke <id> | revoke --user USER\n"
    "\n"
    "  sessions list [--user USER]\n"
    "      GET /api/v1/auth/sessions: your sign-in sessions (browser and CLI) with their\n"
    "      client address, creation, last use and expiry; administrators see every session of\n"
    "      the tenant, or those of USER\n"
    "  sessions revoke <id>\n"
    "      DELETE /api/v1/auth/sessions/<id>: ends one session (yours, or any for\n"
    "      administrators)\n"
    "  sessions revoke --user USER\n"
    "      DELETE /api/v1/auth/users/<USER>/sessions: ends every session of USER (yourself,\n"
    "      or anyone for administrators)\n";

static const struct cli_optdef user_opts[] = {{"user", CLI_OPT_ARG}, {NULL, 0}};

void cli_format_sessions(struct gw_buf *out, const json_t *reply)
{
    static const char *const headers[] = {"ID",      "KIND",      "USER",    "ROLE",   "CLIENT",
                                          "CREATED", "LAST SEEN", "EXPIRES", "CURRENT"};
    static const char *const keys[] = {"id",        "kind",       "user",         "role",
                                       "client_ip", "created_at", "last_seen_at", "expires_at"};
    const json_t *list = json_object_get(reply, "sessions");
    if (!json_array_size(list)) {
        (void)gw_buf_puts(out, "No sessions.\n");
        return;
    }
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char *cells[GW_ARRAY_LEN(headers)];
        for (size_t k = 0; k < GW_ARRAY_LEN(keys); k++)
            cells[k] = cli_json_cell(json_object_get(e, keys[k]));
        cells[GW_ARRAY_LEN(keys)] = gw_xstrdup(json_is_true(json_object_get(e, "current")) ? "yes"
                                                                                           : "-");
        cli_table_add(&t, (const char *const *)cells);
        for (size_t k = 0; k < GW_ARRAY_LEN(cells); k++)
            free(cells[k]);
    }
    cli_table_render(&t, out);
    cli_table_release(&t);
}

static int sessions_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_sessions, "sessions list takes no positional arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/auth/sessions");
    cli_url_query(&url, "user", cli_args_get(a, "user"));
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    json_t *reply = NULL;
    rc = cli_http_json(ctx, "GET", url.data, NULL, rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        cli_format_sessions(&out, reply);
        cli_print_buf(&out);
    }
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static int sessions_revoke(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    const char *user = cli_args_get(a, "user");
    if (user ? a->npos != 0 || !*user : a->npos != 1)
        return cli_usage_error(cli_help_sessions, "sessions revoke needs exactly one <id>, or "
                                                  "--user USER alone");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    gw_buf_init(&out, (size_t)1 << 20);
    if (user) {
        cli_url_begin(&url, ctx, "/api/v1/auth/users");
        cli_url_segment(&url, user);
        cli_url_fixed(&url, "/sessions");
    } else {
        cli_url_begin(&url, ctx, "/api/v1/auth/sessions");
        cli_url_segment(&url, a->pos[0]);
    }
    json_t *reply = NULL;
    rc = cli_http_json(ctx, "DELETE", url.data, NULL, rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        if (user) {
            json_int_t n = json_integer_value(json_object_get(reply, "revoked"));
            (void)gw_buf_printf(&out, "Revoked %lld session%s of ", (long long)n,
                                n == 1 ? "" : "s");
            cli_sanitize(&out, user);
        } else {
            (void)gw_buf_puts(&out, "Session ");
            cli_sanitize(&out, a->pos[0]);
            (void)gw_buf_puts(&out, " revoked");
        }
        (void)gw_buf_puts(&out, "\n");
        cli_print_buf(&out);
    }
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static const struct cli_sub subs[] = {{"list", user_opts, sessions_list},
                                      {"revoke", user_opts, sessions_revoke}};
const struct cli_command cli_command_sessions = {"sessions", cli_help_sessions,  cli_cmd_sessions,
                                                 subs,       GW_ARRAY_LEN(subs), NULL};

int cli_cmd_sessions(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_sessions);
}
