/* SPDX-License-Identifier: MIT
 * cli_send.c — `openclaw send <namespace/agent> <text|->`: one message into an agent's channel
 * (POST /api/v1/channels/<ns>/<agent>/messages {"content": text}). An agent with a model
 * answers (its reply is printed); one without stores the message in its mailbox, and the
 * gateway's hint (no model: how to read the mailbox and how to give the agent one) goes to
 * stderr.
 *
 * "-" reads the text from standard input, at most 1 MiB. The two channel parts are
 * percent-encoded path segments and otherwise passed as given (the gateway validates names).
 * A turn waits up to CLI_DEFAULT_TURN_TIMEOUT (a model may be slow), not the API default.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_send[] =
    "usage: openclaw send <namespace/agent> <text|-> [--session NAME]\n"
    "\n"
    "Sends a message to the agent's channel (POST /api/v1/channels/<ns>/<agent>/messages).\n"
    "An agent with a model runs a turn and its reply is printed (--session NAME picks the\n"
    "conversation, default \"main\"); an agent without one keeps the message in its mailbox\n"
    "(`openclaw messages list <namespace/agent>` reads it) and says how to give it a model.\n"
    "\"-\" reads the text from standard input (at most 1 MiB). Use `--` before a text that\n"
    "starts with a dash: openclaw send eng/bot -- \"-v please\"\n";

static const struct cli_optdef send_opts[] = {{"session", CLI_OPT_ARG}, {NULL, 0}};
const struct cli_command cli_command_send = {"send", cli_help_send, cli_cmd_send, NULL,
                                             0,      send_opts};

int cli_cmd_send(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    cli_response_init(&rs);
    struct gw_buf text, url, out;
    gw_buf_init(&text, CLI_MAX_STDIN_MESSAGE);
    gw_buf_init(&url, 1);
    gw_buf_init(&out, (size_t)1 << 20);
    char *ns = NULL, *agent = NULL;
    json_t *body = NULL, *reply = NULL;
    int rc = cli_parse_cmd(ctx, argc - 1, argv + 1, send_opts, cli_help_send, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (a->npos != 2) {
        rc = cli_usage_error(cli_help_send, a->npos < 2 ? "send needs <namespace/agent> <text>"
                                                        : "send takes one text argument "
                                                          "(quote it)");
        goto out;
    }
    if (!cli_split_channel(a->pos[0], &ns, &agent)) {
        rc = cli_usage_error(cli_help_send, "channel must be <namespace>/<agent>");
        goto out;
    }
    const char *content = a->pos[1];
    size_t content_len = strlen(content);
    if (!strcmp(content, "-")) {
        gw_err e = cli_read_stream(stdin, &text);
        if (e != GW_OK) {
            fprintf(stderr, "error: %s\n",
                    e == GW_ETOOBIG ? "standard input is larger than 1 MiB"
                                    : "cannot read standard input");
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        content = text.data ? text.data : "";
        content_len = text.len;
    }
    json_t *cv = json_stringn(content, content_len);
    if (!cv) {
        fprintf(stderr, "error: the message is not valid UTF-8\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    body = json_pack("{s:o}", "content", cv);
    if (cli_args_get(a, "session"))
        json_object_set_new(body, "session", json_string(cli_args_get(a, "session")));
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;
    gw_buf_release(&url);
    cli_url_messages(&url, ctx, ns, agent);
    char *text_body = gw_json_compact(body);
    struct cli_request rq = {.method = "POST",
                             .url = url.data,
                             .content_type = "application/json",
                             .body = text_body,
                             .body_len = text_body ? strlen(text_body) : 0,
                             .auth = true,
                             .turn = true};
    rc = text_body ? cli_http(ctx, &rq, &rs) : CLI_EXIT_FAIL;
    free(text_body);
    if (rc == CLI_EXIT_OK && !(reply = cli_response_json(&rs)))
        rc = CLI_EXIT_FAIL;
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs.body.data, rs.body.len);
        goto out;
    }
    const char *answer = gw_json_str(reply, "reply");
    if (answer) { /* the agent answered */
        cli_sanitize_text(&out, answer, strlen(answer));
        (void)gw_buf_puts(&out, "\n");
        cli_print_buf(&out);
        goto out;
    }
    const char *id = gw_json_str(reply, "id");
    const char *channel = gw_json_str(reply, "channel");
    const char *status = gw_json_str(reply, "status");
    (void)gw_buf_puts(&out, "Message ");
    cli_sanitize(&out, id ? id : "?");
    (void)gw_buf_puts(&out, " sent to ");
    cli_sanitize(&out, channel ? channel : a->pos[0]);
    if (status) {
        (void)gw_buf_puts(&out, " (");
        cli_sanitize(&out, status);
        (void)gw_buf_puts(&out, ")");
    }
    (void)gw_buf_puts(&out, "\n");
    cli_print_buf(&out);
    const char *hint = gw_json_str(reply, "hint"); /* why nothing answered, and what to do */
    if (hint) {
        gw_buf_reset(&out);
        cli_sanitize(&out, hint);
        fprintf(stderr, "%s\n", out.data);
    }
out:
    json_decref(body);
    json_decref(reply);
    free(ns);
    free(agent);
    gw_buf_release(&text);
    gw_buf_release(&url);
    gw_buf_release(&out);
    cli_response_release(&rs);
    free(a);
    return rc;
}
