/* SPDX-License-Identifier: MIT
 * cli_stats.c — `openclaw stats costs` (GET /api/v1/costs).
 *
 * Prints a month's model spend of the caller's tenant: the total, then tables by workspace
 * (with its budget, the share used and the budget status), by user and by model; with --json
 * the gateway's reply as it came. The period is checked locally (YYYY-MM) so a typo is a usage
 * error (exit 2) rather than a round trip; everything else is the gateway's to judge.
 * Amounts are printed by cli_money: to the micro-dollar, without float noise, and never "0.00"
 * for a spend that is not nothing. cli_format_costs is pure (tests/unit/meter/test_meter.c and
 * test_cli.c check its text).
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_stats[] =
    "usage: openclaw stats costs [--period YYYY-MM] [--workspace W]\n"
    "\n"
    "  stats costs [--period YYYY-MM] [--workspace W]\n"
    "      GET /api/v1/costs: model spend of your tenant in one UTC calendar month (default\n"
    "      the current one): the total, by workspace with its monthly budget and the share\n"
    "      used, by user and by model. --workspace limits the report to one workspace.\n"
    "      Needs the stats:read permission (org_admin, team_lead, enterprise_admin).\n"
    "      --json prints the gateway's reply.\n";

static const struct cli_optdef costs_opts[] = {
    {"period", CLI_OPT_ARG},
    {"workspace", CLI_OPT_ARG},
    {NULL, 0},
};

static bool period_ok(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return false;
    int mon = (s[5] - '0') * 10 + (s[6] - '0');
    return mon >= 1 && mon <= 12;
}

static double num(const json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static char *count(const json_t *o, const char *key)
{
    return gw_xasprintf("%lld", (long long)json_integer_value(json_object_get(o, key)));
}

static void section(struct gw_buf *out, const char *title, const json_t *arr, const char *name_key,
                    const char *name_header)
{
    (void)gw_buf_printf(out, "\n%s\n", title);
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        (void)gw_buf_puts(out, "  (none)\n");
        return;
    }
    const char *headers[] = {name_header, "SPENT", "REQUESTS", "PROMPT TOKENS",
                             "COMPLETION TOKENS"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        char *cells[5];
        cells[0] = cli_json_cell(json_object_get(e, name_key));
        cells[1] = cli_money(num(e, "total_usd"));
        cells[2] = count(e, "requests");
        cells[3] = count(e, "prompt_tokens");
        cells[4] = count(e, "completion_tokens");
        cli_table_add(&t, (const char *const *)cells);
        for (size_t c = 0; c < 5; c++)
            free(cells[c]);
    }
    cli_table_render(&t, out);
    cli_table_release(&t);
}

void cli_format_costs(struct gw_buf *out, const json_t *r)
{
    const char *period = gw_json_str(r, "period"), *cur = gw_json_str(r, "currency");
    const char *ws = gw_json_str(r, "workspace");
    struct gw_buf h;
    gw_buf_init(&h, 4096);
    (void)gw_buf_puts(&h, "Model costs ");
    cli_sanitize(&h, period ? period : "?");
    if (ws) {
        (void)gw_buf_puts(&h, ", workspace ");
        cli_sanitize(&h, ws);
    }
    (void)gw_buf_puts(&h, " (");
    cli_sanitize(&h, cur ? cur : "USD");
    (void)gw_buf_puts(&h, ")\n");
    (void)gw_buf_append(out, h.data, h.len);
    gw_buf_release(&h);
    char *total = cli_money(num(r, "total_usd"));
    (void)gw_buf_printf(out,
                        "  Total:     %s\n  Requests:  %lld\n  Tokens:    %lld prompt, %lld "
                        "completion\n",
                        total, (long long)json_integer_value(json_object_get(r, "requests")),
                        (long long)json_integer_value(json_object_get(r, "prompt_tokens")),
                        (long long)json_integer_value(json_object_get(r, "completion_tokens")));
    free(total);

    (void)gw_buf_puts(out, "\nBy workspace\n");
    const json_t *arr = json_object_get(r, "by_workspace");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        (void)gw_buf_puts(out, "  (none)\n");
    } else {
        static const char *const headers[] = {"WORKSPACE", "SPENT",  "REQUESTS", "BUDGET",
                                              "USED",      "STATUS", "ON EXCEED"};
        struct cli_table t;
        cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) {
            const json_t *b = json_object_get(e, "budget");
            char *cells[7];
            cells[0] = cli_json_cell(json_object_get(e, "workspace"));
            cells[1] = cli_money(num(e, "total_usd"));
            cells[2] = count(e, "requests");
            if (json_is_object(b)) {
                cells[3] = cli_money(num(b, "monthly_usd_limit"));
                cells[4] = gw_xasprintf("%.1f%%", num(b, "used_pct"));
                cells[5] = cli_json_cell(json_object_get(b, "status"));
                cells[6] = cli_json_cell(json_object_get(b, "on_exceed"));
            } else {
                cells[3] = gw_xstrdup("-");
                cells[4] = gw_xstrdup("-");
                cells[5] = gw_xstrdup("-");
                cells[6] = gw_xstrdup("-");
            }
            cli_table_add(&t, (const char *const *)cells);
            for (size_t c = 0; c < 7; c++)
                free(cells[c]);
        }
        cli_table_render(&t, out);
        cli_table_release(&t);
    }
    section(out, "By user", json_object_get(r, "by_user"), "user", "USER");
    section(out, "By model", json_object_get(r, "by_model"), "model", "MODEL");
}

static int stats_costs(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rsp)
{
    (void)rsp;
    if (a->npos)
        return cli_usage_error(cli_help_stats, "stats costs takes no positional arguments");
    const char *period = cli_args_get(a, "period"), *ws = cli_args_get(a, "workspace");
    if (period && !period_ok(period))
        return cli_usage_error(cli_help_stats, "--period must be a month as YYYY-MM, e.g. 2026-11");
    if (ws && !*ws)
        return cli_usage_error(cli_help_stats, "--workspace must not be empty");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    gw_buf_init(&url, 1);
    gw_buf_init(&out, CLI_MAX_RESPONSE);
    struct cli_response rs;
    cli_response_init(&rs);
    json_t *reply = NULL;
    cli_url_begin(&url, ctx, "/api/v1/costs");
    cli_url_query(&url, "period", period);
    cli_url_query(&url, "workspace", ws);
    rc = cli_http_json(ctx, "GET", url.data, NULL, &rs, &reply);
    if (rc == CLI_EXIT_OK) {
        if (ctx->json) {
            cli_print_raw(rs.body.data, rs.body.len);
        } else {
            cli_format_costs(&out, reply);
            cli_print_buf(&out);
        }
    }
    json_decref(reply);
    cli_response_release(&rs);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static const struct cli_sub subs[] = {{"costs", costs_opts, stats_costs}};
const struct cli_command cli_command_stats = {"stats", cli_help_stats,     cli_cmd_stats,
                                              subs,    GW_ARRAY_LEN(subs), NULL};

int cli_cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_stats);
}
