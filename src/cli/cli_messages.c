/* SPDX-License-Identifier: MIT
 * cli_messages.c — `openclaw messages list <namespace/agent>`: the mailbox of an agent without
 * a model, i.e. the messages `openclaw send` stored there (GET
 * /api/v1/channels/<ns>/<agent>/messages), newest first, one page at a time.
 *
 * Reading a mailbox needs the same access as sending to it (the channel); the gateway decides.
 * Message texts come from people: control characters are stripped before they are printed.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_messages[] =
    "usage: openclaw messages list <namespace/agent> [--limit N] [--cursor C]\n"
    "\n"
    "  messages list <namespace/agent> [--limit N] [--cursor C]\n"
    "      GET /api/v1/channels/<ns>/<agent>/messages: the messages stored in the mailbox of\n"
    "      an agent without a model (what `openclaw send` left there), newest first, with\n"
    "      sender and time (--limit 1-200, default 50; --cursor continues a listing).\n";

static const struct cli_optdef list_opts[] = {{"limit", CLI_OPT_ARG},
                                              {"cursor", CLI_OPT_ARG},
                                              {NULL, 0}};

void cli_format_messages(struct gw_buf *out, const json_t *reply)
{
    const json_t *list = json_object_get(reply, "messages");
    if (!json_array_size(list)) {
        (void)gw_buf_puts(out, "No messages.\n");
        return;
    }
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        const char *text = gw_json_str(m, "content");
        cli_sanitize(out, gw_json_str(m, "id") ? gw_json_str(m, "id") : "?");
        (void)gw_buf_puts(out, " from ");
        cli_sanitize(out, gw_json_str(m, "sender") ? gw_json_str(m, "sender") : "-");
        (void)gw_buf_puts(out, ", ");
        cli_sanitize(out, gw_json_str(m, "created_at") ? gw_json_str(m, "created_at") : "-");
        (void)gw_buf_puts(out, "\n");
        if (text)
            cli_sanitize_text(out, text, strlen(text));
        (void)gw_buf_puts(out, "\n\n");
    }
}

static int messages_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    char *ns = NULL, *agent = NULL;
    long limit = 0;
    const char *ls = cli_args_get(a, "limit");
    if (a->npos != 1 || !cli_split_channel(a->pos[0], &ns, &agent))
        return cli_usage_error(cli_help_messages, "messages list needs one <namespace/agent>");
    int rc = ls && !cli_parse_long(ls, 1, 200, &limit)
                 ? cli_usage_error(cli_help_messages, "--limit must be 1-200")
                 : cli_ctx_resolve(ctx);
    if (rc == CLI_EXIT_OK) {
        struct gw_buf url;
        cli_url_messages(&url, ctx, ns, agent);
        cli_url_query(&url, "limit", ls);
        cli_url_query(&url, "cursor", cli_args_get(a, "cursor"));
        char *again = gw_xasprintf("openclaw messages list %s", a->pos[0]);
        rc = cli_get_page(ctx, url.data, rs, cli_format_messages, "messages", again);
        free(again);
        gw_buf_release(&url);
    }
    free(ns);
    free(agent);
    return rc;
}

static const struct cli_sub subs[] = {{"list", list_opts, messages_list}};
const struct cli_command cli_command_messages = {"messages", cli_help_messages,  cli_cmd_messages,
                                                 subs,       GW_ARRAY_LEN(subs), NULL};

int cli_cmd_messages(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_messages);
}
