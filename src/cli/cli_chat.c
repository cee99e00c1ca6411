/* SPDX-License-Identifier: MIT
 * cli_chat.c — `openclaw chat <namespace/agent>`: an interactive conversation with an agent.
 *
 * Each line read (cli_editline.c: libedit on a terminal) is one message (POST .../messages
 * with "stream": true); the agent's answer is printed as its text streams in (SSE "delta"
 * events), tool calls as one bracketed line each, then a newline. On a terminal Ctrl-C cancels
 * the answer being streamed (the transfer is abandoned and the connection closed, so the
 * gateway stops the model call) and the session goes on; Ctrl-D, "/exit" or "/quit" ends it.
 * Everything printed from the model is stripped of control characters, so an answer cannot
 * drive the terminal. The conversation is kept by the gateway (--session names it). An agent
 * without a model cannot chat: the first line goes to its mailbox, the gateway's hint says how
 * to give the agent a model, and the chat ends.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

#include <time.h>

#define SSE_EVENT_MAX ((size_t)1 << 20)

const char cli_help_chat[] =
    "usage: openclaw chat <namespace/agent> [--session NAME] [--no-history]\n"
    "\n"
    "Talks with an agent: each line you type is a message, the answer streams back as it is\n"
    "written. Tool calls the agent makes are shown in brackets, including those waiting for\n"
    "an approval. The gateway keeps the conversation per user, agent and session (default\n"
    "\"main\"), so a later `openclaw chat` continues it.\n"
    "\n"
    "On a terminal the line can be edited (arrows, Ctrl-A/E, Ctrl-R searches the history) and\n"
    "earlier lines come back with the up arrow; they are kept in\n"
    "~/.config/openclaw/chat_history (0600; --no-history neither reads nor writes it).\n"
    "Ctrl-C cancels the answer being written (or the line being typed) and keeps the chat;\n"
    "Ctrl-D, /exit or /quit ends it. Lines can also be piped in, one message per line.\n";

static const struct cli_optdef chat_opts[] = {{"session", CLI_OPT_ARG},
                                              {"no-history", 0},
                                              {NULL, 0}};
const struct cli_command cli_command_chat = {"chat", cli_help_chat, cli_cmd_chat, NULL,
                                             0,      chat_opts};

struct sse {
    struct gw_buf pending; /* bytes of an incomplete event */
    bool failed;           /* an error event arrived */
    bool printed;          /* text was printed on the current line */
};

static void print_clean(const char *s, size_t n)
{
    struct gw_buf b;
    gw_buf_init(&b, n + 1);
    cli_sanitize_text(&b, s, n);
    if (b.len)
        fwrite(b.data, 1, b.len, stdout);
    gw_buf_release(&b);
}

static void on_event(struct sse *st, const char *event, json_t *data)
{
    if (!strcmp(event, "delta")) {
        const char *t = gw_json_str(data, "text");
        if (t) {
            print_clean(t, strlen(t));
            st->printed = true;
        }
    } else if (!strcmp(event, "tool")) {
        const char *name = gw_json_str(data, "tool"), *status = gw_json_str(data, "status");
        const char *approval = gw_json_str(json_object_get(data, "result"), "approval_id");
        struct gw_buf b;
        gw_buf_init(&b, 4096);
        (void)gw_buf_puts(&b, st->printed ? "\n[tool " : "[tool ");
        cli_sanitize(&b, name ? name : "?");
        (void)gw_buf_puts(&b, ": ");
        cli_sanitize(&b, status ? status : "?");
        if (approval) {
            (void)gw_buf_puts(&b, ", approval ");
            cli_sanitize(&b, approval);
        }
        (void)gw_buf_puts(&b, "]\n");
        fputs(b.data, stdout);
        gw_buf_release(&b);
        st->printed = false;
    } else if (!strcmp(event, "error")) {
        const char *msg = gw_json_str(json_object_get(data, "error"), "message");
        struct gw_buf b;
        gw_buf_init(&b, 4096);
        cli_sanitize(&b, msg ? msg : "the turn failed");
        fprintf(stderr, "%serror: %s\n", st->printed ? "\n" : "", b.data);
        gw_buf_release(&b);
        st->failed = true;
        st->printed = false;
    }
    fflush(stdout);
}

/* One complete SSE event: "event: NAME" and "data: JSON" lines. */
static void parse_event(struct sse *st, char *ev)
{
    const char *event = "message";
    char *data = NULL, *save = NULL;
    for (char *line = strtok_r(ev, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "event: ", 7))
            event = line + 7;
        else if (!strncmp(line, "data: ", 6))
            data = line + 6;
    }
    if (!data)
        return;
    char msg[160];
    json_t *v = gw_json_parse(data, strlen(data), GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    if (v)
        on_event(st, event, v);
    json_decref(v);
}

static bool on_data(void *arg, const char *data, size_t len)
{
    struct sse *st = arg;
    if (gw_buf_append(&st->pending, data, len) != GW_OK)
        return false; /* one event larger than 1 MiB: not ours */
    char *start = st->pending.data, *end;
    while ((end = strstr(start, "\n\n"))) {
        *end = '\0';
        parse_event(st, start);
        start = end + 2;
    }
    size_t rest = st->pending.len - (size_t)(start - st->pending.data);
    memmove(st->pending.data, start, rest);
    st->pending.len = rest;
    st->pending.data[rest] = '\0';
    return true;
}

/* A 202 instead of a stream: the agent has no model and the line went to its mailbox. Prints
 * the gateway's hint (how to give it one) and returns true: nothing will ever answer here. */
static bool no_model(const struct cli_response *rs, const struct sse *st)
{
    if (rs->status != 202)
        return false;
    char msg[160];
    json_t *v = gw_json_parse(st->pending.data ? st->pending.data : "", st->pending.len,
                              GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    const char *hint = gw_json_str(v, "hint");
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    cli_sanitize(&b, hint ? hint : "this agent has no model: nothing answers");
    fprintf(stderr, "%s\nThe message was stored; the chat ends.\n", b.data);
    gw_buf_release(&b);
    json_decref(v);
    return true;
}

/* One message and its streamed answer; *cancelled when Ctrl-C cut it short, *ended when the
 * agent cannot answer at all. */
static int turn(struct cli_ctx *ctx, const char *url, const char *text, const char *session,
                bool interactive, bool *cancelled, bool *ended)
{
    json_t *body = json_pack("{s:s,s:b}", "content", text, "stream", 1);
    if (session)
        json_object_set_new(body, "session", json_string(session));
    char *b = gw_json_compact(body);
    json_decref(body);
    struct sse st = {0};
    gw_buf_init(&st.pending, SSE_EVENT_MAX);
    struct cli_response rs;
    cli_response_init(&rs);
    struct cli_request rq = {.method = "POST",
                             .url = url,
                             .content_type = "application/json",
                             .body = b,
                             .body_len = strlen(b),
                             .auth = true,
                             .turn = true,
                             .on_data = on_data,
                             .on_data_arg = &st,
                             .cancel = interactive ? &cli_interrupted : NULL};
    cli_interrupted = 0;
    int rc = cli_http(ctx, &rq, &rs);
    *cancelled = rs.cancelled;
    if (rs.cancelled) {
        /* the terminal discards pending output when it sends SIGINT; let it finish first */
        nanosleep(&(struct timespec){.tv_nsec = 30 * 1000 * 1000}, NULL);
        fputs("\n[answer cancelled]\n", stdout);
    } else if (st.printed) {
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (rc == CLI_EXIT_OK && st.failed)
        rc = CLI_EXIT_SERVER;
    *ended = rc == CLI_EXIT_OK && no_model(&rs, &st);
    cli_response_release(&rs);
    gw_buf_release(&st.pending);
    free(b);
    return rc;
}

static void banner(const char *channel, const char *session)
{
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    (void)gw_buf_puts(&b, "Chat with ");
    cli_sanitize(&b, channel);
    (void)gw_buf_puts(&b, " (session ");
    cli_sanitize(&b, session ? session : "main");
    (void)gw_buf_puts(&b, "). Ctrl-C cancels an answer; Ctrl-D or /exit ends the chat.\n");
    fputs(b.data, stdout);
    gw_buf_release(&b);
}

int cli_cmd_chat(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct gw_buf url;
    gw_buf_init(&url, 1);
    struct cli_lines *in = NULL;
    char *ns = NULL, *agent = NULL;
    int rc = cli_parse_cmd(ctx, argc - 1, argv + 1, chat_opts, cli_help_chat, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (a->npos != 1 || !cli_split_channel(a->pos[0], &ns, &agent)) {
        rc = cli_usage_error(cli_help_chat, "chat needs one <namespace>/<agent>");
        goto out;
    }
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;
    gw_buf_release(&url);
    cli_url_messages(&url, ctx, ns, agent);
    const char *session = cli_args_get(a, "session");
    in = cli_lines_open("you> ", !cli_args_has(a, "no-history"));
    bool interactive = cli_lines_interactive(in);
    if (interactive) {
        banner(a->pos[0], session);
        cli_sigint_catch(true);
    }
    for (;;) {
        const char *line = NULL;
        int got = cli_lines_read(in, CLI_MAX_STDIN_MESSAGE, &line);
        if (got == 0) {
            if (interactive)
                fputc('\n', stdout);
            break;
        }
        if (got == -1)
            continue; /* Ctrl-C at the prompt */
        if (got == -2) {
            fprintf(stderr, "error: a message is limited to 1 MiB\n");
            rc = CLI_EXIT_FAIL;
            continue;
        }
        if (!*line)
            continue;
        if (!strcmp(line, "/exit") || !strcmp(line, "/quit"))
            break;
        cli_lines_remember(in, line);
        bool cancelled = false, ended = false;
        int trc = turn(ctx, url.data, line, session, interactive, &cancelled, &ended);
        if (cancelled)
            continue; /* the session goes on; the exit code stays that of the last turn */
        rc = trc;
        if (ended || rc == CLI_EXIT_UNREACHABLE || rc == CLI_EXIT_AUTH)
            break; /* nothing later can work either */
    }
out:
    if (in && cli_lines_interactive(in))
        cli_sigint_catch(false);
    cli_lines_close(in);
    free(ns);
    free(agent);
    gw_buf_release(&url);
    free(a);
    return rc;
}
