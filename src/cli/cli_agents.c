/* SPDX-License-Identifier: MIT
 * cli_agents.c — `openclaw agents register|list|delete` (/api/v1/agents).
 *
 * The agent name "<namespace>/<agent>" travels in the JSON body as given; the gateway checks
 * the name rules and answers 400 with the reason, so the CLI does not duplicate them.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_agents[] =
    "usage: openclaw agents register <namespace/agent> [--description TEXT] | list "
    "[--namespace NS] | delete <namespace/agent>\n"
    "\n"
    "  agents register <namespace/agent> [--description TEXT]\n"
    "      POST /api/v1/agents; creates the agent's channel and memory\n"
    "  agents list [--namespace NS]\n"
    "      GET /api/v1/agents (only agents in channels the caller may use)\n"
    "  agents delete <namespace/agent>\n"
    "      DELETE /api/v1/agents/<namespace>/<agent>: removes an agent registered through the\n"
    "      API and its memory document (audited); configured agents are removed in the file\n"
    "\n"
    "Names: namespace and agent are each 1-63 characters of [a-z0-9_-], starting with a\n"
    "letter or digit.\n";

static const struct cli_optdef register_opts[] = {{"description", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef list_opts[] = {{"namespace", CLI_OPT_ARG}, {NULL, 0}};

static int agents_register(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos != 1)
        return cli_usage_error(cli_help_agents, "agents register needs exactly one "
                                                "<namespace/agent>");
    json_t *body = json_object();
    const char *desc = cli_args_get(a, "description");
    if (!cli_json_put(body, "name", a->pos[0]) ||
        (desc && !cli_json_put(body, "description", desc))) {
        json_decref(body);
        return CLI_EXIT_USAGE;
    }
    json_t *reply = NULL;
    struct gw_buf url, out;
    gw_buf_init(&url, 1);
    gw_buf_init(&out, (size_t)1 << 20);
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        goto out;
    cli_url_begin(&url, ctx, "/api/v1/agents");
    rc = cli_http_json(ctx, "POST", url.data, body, rs, &reply);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        goto out;
    }
    const char *name = gw_json_str(reply, "name");
    (void)gw_buf_puts(&out, "Registered agent ");
    cli_sanitize(&out, name ? name : a->pos[0]);
    (void)gw_buf_puts(&out, "\n");
    static const char *const rows[][2] = {
        {"  Namespace: ", "namespace"},
        {"  Agent:     ", "agent"},
        {"  Channel:   ", "channel"},
        {"  Memory:    ", "memory"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        json_t *v = json_object_get(reply, rows[i][1]);
        if (!v)
            continue;
        char *c = cli_json_cell(v);
        (void)gw_buf_puts(&out, rows[i][0]);
        cli_sanitize(&out, c);
        (void)gw_buf_puts(&out, "\n");
        free(c);
    }
    cli_print_buf(&out);
out:
    json_decref(reply);
    json_decref(body);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static int agents_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_agents, "agents list takes no positional arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/agents");
    cli_url_query(&url, "namespace", cli_args_get(a, "namespace"));
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    json_t *reply = NULL;
    rc = cli_http_json(ctx, "GET", url.data, NULL, rs, &reply);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        goto out;
    }
    static const char *const headers[] = {"NAME", "CHANNEL", "SOURCE", "DESCRIPTION"};
    static const char *const keys[] = {"name", "channel", "source", "description"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *ag;
    json_array_foreach(json_object_get(reply, "agents"), i, ag)
        cli_table_add_json(&t, ag, keys);
    cli_table_render(&t, &out);
    cli_table_release(&t);
    cli_print_buf(&out);
out:
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static int agents_delete(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    char *ns = NULL, *agent = NULL;
    if (a->npos != 1 || !cli_split_channel(a->pos[0], &ns, &agent))
        return cli_usage_error(cli_help_agents, "agents delete needs exactly one "
                                                "<namespace/agent>");
    int rc = cli_ctx_resolve(ctx);
    struct gw_buf url;
    gw_buf_init(&url, 1);
    if (rc == CLI_EXIT_OK) {
        cli_url_begin(&url, ctx, "/api/v1/agents");
        cli_url_segment(&url, ns);
        cli_url_segment(&url, agent);
        rc = cli_http_json(ctx, "DELETE", url.data, NULL, rs, NULL);
    }
    if (rc == CLI_EXIT_OK) {
        if (ctx->json)
            cli_print_raw(rs->body.data, rs->body.len);
        else
            printf("Deleted agent %s/%s\n", ns, agent);
    }
    gw_buf_release(&url);
    free(ns);
    free(agent);
    return rc;
}

static const struct cli_optdef no_opts[] = {{NULL, 0}};
static const struct cli_sub subs[] = {{"register", register_opts, agents_register},
                                      {"list", list_opts, agents_list},
                                      {"delete", no_opts, agents_delete}};
const struct cli_command cli_command_agents = {"agents", cli_help_agents,    cli_cmd_agents,
                                               subs,     GW_ARRAY_LEN(subs), NULL};

int cli_cmd_agents(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_agents);
}
