/* SPDX-License-Identifier: MIT
 * cli_conversations.c — `openclaw conversations list|show|export|delete`: the conversations
 * kept by the gateway (GET /api/v1/conversations, GET|DELETE /api/v1/conversations/<id>,
 * GET /api/v1/conversations/<id>/export).
 *
 * Whose conversations the caller sees is the gateway's to decide (one's own; administrators
 * others' within their reach, each read audited): the CLI passes --user as given and prints
 * what came back. Everything shown from a conversation was written by people and models, so it
 * is stripped of control characters before it reaches the terminal.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_conversations[] =
    "usage: openclaw conversations list|show|export|delete ...\n"
    "\n"
    "  conversations list [--user USER | --everyone] [--agent NS/AGENT] [--limit N]\n"
    "                     [--cursor C]\n"
    "      GET /api/v1/conversations: your conversations with agents, most recent first\n"
    "      (--limit 1-200, default 50). Administrators with conversations:read_all list\n"
    "      USER's, or --everyone's within their reach; such reads are audited.\n"
    "  conversations show <id> [--limit N] [--cursor SEQ]\n"
    "      GET /api/v1/conversations/<id>: the messages, oldest first (--limit 1-500,\n"
    "      default 100; --cursor continues after that message number).\n"
    "  conversations export <id> [--format json|markdown] [--output FILE]\n"
    "                       [--destination internal|external]\n"
    "      GET /api/v1/conversations/<id>/export: the whole conversation as JSON (default) or\n"
    "      Markdown, to FILE (created 0600, replaced only when complete) or stdout. A data\n"
    "      export: the data policy decides, for the classification found in it.\n"
    "  conversations delete <id>\n"
    "      DELETE /api/v1/conversations/<id>: deletes one of your conversations (audited).\n";

static const struct cli_optdef list_opts[] = {{"user", CLI_OPT_ARG},   {"everyone", 0},
                                              {"agent", CLI_OPT_ARG},  {"limit", CLI_OPT_ARG},
                                              {"cursor", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef show_opts[] = {{"limit", CLI_OPT_ARG},
                                              {"cursor", CLI_OPT_ARG},
                                              {NULL, 0}};
static const struct cli_optdef export_opts[] = {{"format", CLI_OPT_ARG},
                                                {"output", CLI_OPT_ARG | CLI_OPT_FILE},
                                                {"destination", CLI_OPT_ARG},
                                                {NULL, 0}};

/* "--limit" within [1, max], or absent. */
static bool limit_ok(const struct cli_args *a, long max)
{
    long v = 0;
    const char *s = cli_args_get(a, "limit");
    return !s || cli_parse_long(s, 1, max, &v);
}

void cli_format_conversations(struct gw_buf *out, const json_t *reply)
{
    static const char *const headers[] = {"ID",       "AGENT",   "SESSION", "USER",
                                          "MESSAGES", "UPDATED", "TITLE"};
    static const char *const keys[] = {"id",       "agent",      "session", "user",
                                       "messages", "updated_at", "title"};
    const json_t *list = json_object_get(reply, "conversations");
    if (!json_array_size(list)) {
        (void)gw_buf_puts(out, "No conversations.\n");
        return;
    }
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
        cli_table_add_json(&t, e, keys);
    cli_table_render(&t, out);
    cli_table_release(&t);
}

/* One message: "[seq] role, time" then its text, and the tool calls it asked for. */
static void format_message(struct gw_buf *out, const json_t *m)
{
    char *seq = cli_json_cell(json_object_get(m, "seq"));
    (void)gw_buf_printf(out, "[%s] ", seq);
    free(seq);
    cli_sanitize(out, gw_json_str(m, "role") ? gw_json_str(m, "role") : "?");
    if (gw_json_str(m, "tool_call_id")) {
        (void)gw_buf_puts(out, " (call ");
        cli_sanitize(out, gw_json_str(m, "tool_call_id"));
        (void)gw_buf_puts(out, ")");
    }
    (void)gw_buf_puts(out, ", ");
    cli_sanitize(out, gw_json_str(m, "created_at") ? gw_json_str(m, "created_at") : "-");
    (void)gw_buf_puts(out, "\n");
    const char *text = gw_json_str(m, "content");
    if (text && *text) {
        cli_sanitize_text(out, text, strlen(text));
        (void)gw_buf_puts(out, "\n");
    }
    size_t i;
    json_t *call;
    json_array_foreach(json_object_get(m, "tool_calls"), i, call) {
        const json_t *fn = json_object_get(call, "function");
        const char *args = gw_json_str(fn, "arguments");
        (void)gw_buf_puts(out, "  -> tool ");
        cli_sanitize(out, gw_json_str(fn, "name") ? gw_json_str(fn, "name") : "?");
        (void)gw_buf_puts(out, " ");
        cli_sanitize(out, args ? args : "{}");
        (void)gw_buf_puts(out, "\n");
    }
    (void)gw_buf_puts(out, "\n");
}

void cli_format_conversation(struct gw_buf *out, const json_t *reply)
{
    const json_t *c = json_object_get(reply, "conversation");
    (void)gw_buf_puts(out, "Conversation ");
    cli_sanitize(out, gw_json_str(c, "id") ? gw_json_str(c, "id") : "?");
    (void)gw_buf_puts(out, " with ");
    cli_sanitize(out, gw_json_str(c, "agent") ? gw_json_str(c, "agent") : "?");
    (void)gw_buf_puts(out, " (session ");
    cli_sanitize(out, gw_json_str(c, "session") ? gw_json_str(c, "session") : "?");
    (void)gw_buf_puts(out, ", user ");
    cli_sanitize(out, gw_json_str(c, "user") ? gw_json_str(c, "user") : "?");
    char *n = cli_json_cell(json_object_get(c, "messages"));
    (void)gw_buf_printf(out, "), %s messages\n\n", n);
    free(n);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(reply, "messages"), i, m)
        format_message(out, m);
}

static int conv_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_conversations,
                               "conversations list takes no positional arguments");
    if (cli_args_has(a, "user") && cli_args_has(a, "everyone"))
        return cli_usage_error(cli_help_conversations, "--user and --everyone exclude each other");
    if (!limit_ok(a, 200))
        return cli_usage_error(cli_help_conversations, "--limit must be 1-200");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/conversations");
    cli_url_query(&url, "user", cli_args_has(a, "everyone") ? "*" : cli_args_get(a, "user"));
    cli_url_query(&url, "agent", cli_args_get(a, "agent"));
    cli_url_query(&url, "limit", cli_args_get(a, "limit"));
    cli_url_query(&url, "cursor", cli_args_get(a, "cursor"));
    rc = cli_get_page(ctx, url.data, rs, cli_format_conversations, "conversations",
                      "openclaw conversations list");
    gw_buf_release(&url);
    return rc;
}

static int conv_show(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos != 1)
        return cli_usage_error(cli_help_conversations, "conversations show needs one <id>");
    if (!limit_ok(a, 500))
        return cli_usage_error(cli_help_conversations, "--limit must be 1-500");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/conversations");
    cli_url_segment(&url, a->pos[0]);
    cli_url_query(&url, "limit", cli_args_get(a, "limit"));
    cli_url_query(&url, "cursor", cli_args_get(a, "cursor"));
    char *again = gw_xasprintf("openclaw conversations show %s", a->pos[0]);
    rc = cli_get_page(ctx, url.data, rs, cli_format_conversation, "messages", again);
    free(again);
    gw_buf_release(&url);
    return rc;
}

static int conv_export(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    GW_UNUSED(rs);
    if (a->npos != 1)
        return cli_usage_error(cli_help_conversations, "conversations export needs one <id>");
    const char *format = cli_args_get(a, "format"), *dest = cli_args_get(a, "destination");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "markdown") != 0)
        return cli_usage_error(cli_help_conversations, "--format must be json or markdown");
    if (dest && strcmp(dest, "internal") != 0 && strcmp(dest, "external") != 0)
        return cli_usage_error(cli_help_conversations,
                               "--destination must be internal or external");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/conversations");
    cli_url_segment(&url, a->pos[0]);
    cli_url_fixed(&url, "/export");
    cli_url_query(&url, "format", format ? format : "json");
    cli_url_query(&url, "destination", dest);
    rc = cli_export_get(ctx, url.data, cli_args_get(a, "output"),
                        json_pack("{s:s,s:s}", "id", a->pos[0], "format",
                                  format ? format : "json"));
    gw_buf_release(&url);
    return rc;
}

static int conv_delete(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos != 1)
        return cli_usage_error(cli_help_conversations, "conversations delete needs one <id>");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/conversations");
    cli_url_segment(&url, a->pos[0]);
    gw_buf_init(&out, (size_t)1 << 20);
    json_t *reply = NULL;
    rc = cli_http_json(ctx, "DELETE", url.data, NULL, rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        json_int_t n = json_integer_value(json_object_get(reply, "messages"));
        (void)gw_buf_puts(&out, "Deleted conversation ");
        cli_sanitize(&out, a->pos[0]);
        (void)gw_buf_printf(&out, " (%lld message%s)\n", (long long)n, n == 1 ? "" : "s");
        cli_print_buf(&out);
    }
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static const struct cli_sub subs[] = {{"list", list_opts, conv_list},
                                      {"show", show_opts, conv_show},
                                      {"export", export_opts, conv_export},
                                      {"delete", NULL, conv_delete}};
const struct cli_command cli_command_conversations = {"conversations",       cli_help_conversations,
                                                      cli_cmd_conversations, subs,
                                                      GW_ARRAY_LEN(subs),    NULL};

int cli_cmd_conversations(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_conversations);
}
