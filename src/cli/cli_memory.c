/* SPDX-License-Identifier: MIT
 * cli_memory.c — `openclaw memory get|put <namespace>/<agent|shared>` (/api/v1/memory/...).
 *
 * Memory documents are Markdown text, not JSON: `get` prints the body as it is (like cat),
 * `put` sends the text given as an argument, a file (--file) or standard input ("-") with
 * Content-Type: text/markdown. Local input is bounded (64 MiB); the gateway enforces its own,
 * smaller limit and answers 413 above it.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

#include <errno.h>
#include <unistd.h>

const char cli_help_memory[] =
    "usage: openclaw memory get <namespace>/<agent|shared> | put <namespace>/<agent|shared> "
    "(<text> | --file PATH | -)\n"
    "\n"
    "  memory get <namespace>/<agent>     prints the agent's memory document\n"
    "  memory get <namespace>/shared      the namespace's shared memory\n"
    "  memory put <namespace>/<agent> TEXT\n"
    "  memory put <namespace>/<agent> --file notes.md\n"
    "  memory put <namespace>/<agent> -   reads standard input\n"
    "\n"
    "With --json, get prints {\"path\", \"bytes\", \"content\"} and put the gateway's reply.\n";

static const struct cli_optdef get_opts[] = {{NULL, 0}};
static const struct cli_optdef put_opts[] = {{"file", CLI_OPT_ARG | CLI_OPT_FILE}, {NULL, 0}};

static void memory_url(struct cli_ctx *ctx, struct gw_buf *url, const char *ns, const char *ag)
{
    cli_url_begin(url, ctx, "/api/v1/memory");
    cli_url_segment(url, ns);
    cli_url_segment(url, ag);
}

static int memory_get(struct cli_ctx *ctx, const char *path, const char *ns, const char *ag,
                      struct cli_response *rs)
{
    struct gw_buf url;
    memory_url(ctx, &url, ns, ag);
    struct cli_request rq = {.method = "GET", .url = url.data, .auth = true};
    int rc = cli_http(ctx, &rq, rs);
    gw_buf_release(&url);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (ctx->json) {
        json_t *c = json_stringn(rs->body.data ? rs->body.data : "", rs->body.len);
        if (!c) {
            fprintf(stderr, "error: the memory document is not valid UTF-8\n");
            return CLI_EXIT_FAIL;
        }
        json_t *o = json_pack("{s:s, s:I, s:o}", "path", path, "bytes", (json_int_t)rs->body.len,
                              "content", c);
        cli_print_json(o);
        json_decref(o);
    } else if (rs->body.len) {
        fwrite(rs->body.data, 1, rs->body.len, stdout);
        /* like cat, but do not leave a terminal prompt glued to the last line */
        if (rs->body.data[rs->body.len - 1] != '\n' && isatty(STDOUT_FILENO))
            fputc('\n', stdout);
    }
    return CLI_EXIT_OK;
}

static int read_input(const struct cli_args *a, struct gw_buf *in)
{
    const char *file = cli_args_get(a, "file");
    if (file) {
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "error: %s: %s\n", file, strerror(errno));
            return CLI_EXIT_FAIL;
        }
        gw_err e = cli_read_stream(f, in);
        fclose(f);
        if (e != GW_OK) {
            fprintf(stderr, "error: %s: %s\n", file,
                    e == GW_ETOOBIG ? "file larger than 64 MiB" : "read error");
            return CLI_EXIT_FAIL;
        }
        return CLI_EXIT_OK;
    }
    const char *text = a->pos[1];
    if (!strcmp(text, "-")) {
        gw_err e = cli_read_stream(stdin, in);
        if (e != GW_OK) {
            fprintf(stderr, "error: %s\n",
                    e == GW_ETOOBIG ? "standard input is larger than 64 MiB"
                                    : "cannot read standard input");
            return CLI_EXIT_FAIL;
        }
        return CLI_EXIT_OK;
    }
    (void)gw_buf_puts(in, text);
    return CLI_EXIT_OK;
}

static int memory_put(struct cli_ctx *ctx, const struct cli_args *a, const char *path,
                      const char *ns, const char *ag, struct cli_response *rs)
{
    struct gw_buf in, url, out;
    gw_buf_init(&in, CLI_MAX_MEMORY_INPUT);
    gw_buf_init(&url, 1);
    gw_buf_init(&out, (size_t)1 << 20);
    json_t *reply = NULL;
    int rc = read_input(a, &in);
    if (rc != CLI_EXIT_OK)
        goto out;
    gw_buf_release(&url);
    memory_url(ctx, &url, ns, ag);
    struct cli_request rq = {
        .method = "PUT",
        .url = url.data,
        .content_type = "text/markdown",
        .body = in.data ? in.data : "",
        .body_len = in.len,
        .auth = true,
    };
    rc = cli_http(ctx, &rq, rs);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        goto out;
    }
    if (!(reply = cli_response_json(rs))) {
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    json_t *bytes = json_object_get(reply, "bytes");
    const char *p = gw_json_str(reply, "path");
    (void)gw_buf_printf(&out, "Wrote %lld bytes to memory ",
                        json_is_integer(bytes) ? (long long)json_integer_value(bytes)
                                               : (long long)in.len);
    cli_sanitize(&out, p ? p : path);
    (void)gw_buf_puts(&out, "\n");
    cli_print_buf(&out);
out:
    json_decref(reply);
    gw_buf_release(&in);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static const struct cli_sub subs[] = {{"get", get_opts, NULL}, {"put", put_opts, NULL}};
const struct cli_command cli_command_memory = {"memory", cli_help_memory,    cli_cmd_memory,
                                               subs,     GW_ARRAY_LEN(subs), NULL};

int cli_cmd_memory(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_memory, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    bool put = !strcmp(sub->name, "put");
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    cli_response_init(&rs);
    char *ns = NULL, *ag = NULL;
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_memory, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    bool has_file = cli_args_has(a, "file");
    size_t want = put && !has_file ? 2 : 1;
    if (a->npos != want) {
        rc = cli_usage_error(cli_help_memory,
                             !put       ? "memory get needs exactly one <namespace>/<agent>"
                             : has_file ? "memory put with --file takes only <namespace>/<agent>"
                                        : "memory put needs <namespace>/<agent> and "
                                          "<text>, --file PATH or -");
        goto out;
    }
    if (!cli_split_channel(a->pos[0], &ns, &ag)) {
        rc = cli_usage_error(cli_help_memory, "path must be <namespace>/<agent> or "
                                              "<namespace>/shared");
        goto out;
    }
    if ((rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        goto out;
    rc = put ? memory_put(ctx, a, a->pos[0], ns, ag, &rs) : memory_get(ctx, a->pos[0], ns, ag, &rs);
out:
    free(ns);
    free(ag);
    cli_response_release(&rs);
    free(a);
    return rc;
}
