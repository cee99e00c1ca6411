/* SPDX-License-Identifier: MIT
 * cli_tokens.c — `openclaw tokens create|list|rotate|revoke` (/api/v1/tokens).
 *
 * A token secret is shown exactly once (on create and rotate), on stdout, with a warning on
 * stderr to store it; the CLI never writes it anywhere else. Token ids are percent-encoded
 * as path segments.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

const char cli_help_tokens[] =
    "usage: openclaw tokens create|list|rotate|revoke ...\n"
    "\n"
    "  tokens create [--id ID] --scope SCOPE [--scope SCOPE ...] [--owner USER]\n"
    "                [--expires-in SECONDS]\n"
    "      POST /api/v1/tokens; prints the new secret once (store it now). ID is 1-63\n"
    "      characters of [a-z0-9_-]; USER one of the gateway's identity.users.\n"
    "  tokens list\n"
    "      GET /api/v1/tokens (never shows secrets)\n"
    "  tokens rotate <id>\n"
    "      POST /api/v1/tokens/<id>/rotate; prints the new secret once, the old one stops\n"
    "      working at once\n"
    "  tokens revoke <id>\n"
    "      DELETE /api/v1/tokens/<id>\n"
    "\n"
    "Scopes: *, channels:<namespace>/<glob>, memory:read, memory:write, tokens:read,\n"
    "tokens:write, agents:read, agents:write, audit:read, audit:export, admin:reload, ...\n";

static const struct cli_optdef create_opts[] = {
    {"id", CLI_OPT_ARG},
    {"scope", CLI_OPT_ARG | CLI_OPT_MULTI},
    {"owner", CLI_OPT_ARG},
    {"expires-in", CLI_OPT_ARG},
    {NULL, 0},
};
static const struct cli_optdef no_opts[] = {{NULL, 0}};

static void print_secret(const json_t *o, const char *verb)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 20);
    const char *id = gw_json_str(o, "id");
    (void)gw_buf_printf(&b, "Token %s: ", verb);
    cli_sanitize(&b, id ? id : "?");
    (void)gw_buf_puts(&b, "\n");
    static const char *const rows[][2] = {
        {"  Tenant:   ", "tenant"},     {"  Owner:    ", "owner"},      {"  Scopes:   ", "scopes"},
        {"  Created:  ", "created_at"}, {"  Expires:  ", "expires_at"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        json_t *v = json_object_get(o, rows[i][1]);
        if (!v)
            continue;
        char *c = cli_json_cell(v);
        (void)gw_buf_puts(&b, rows[i][0]);
        cli_sanitize(&b, json_is_null(v) && !strcmp(rows[i][1], "expires_at") ? "never" : c);
        (void)gw_buf_puts(&b, "\n");
        free(c);
    }
    const char *secret = gw_json_str(o, "token");
    (void)gw_buf_puts(&b, "\n");
    cli_sanitize(&b, secret ? secret : "(the gateway returned no token)");
    (void)gw_buf_puts(&b, "\n");
    cli_print_buf(&b);
    gw_buf_release(&b);
    fflush(stdout);
    fprintf(stderr, "\nwarning: store this token now; it is shown only once and cannot be "
                    "retrieved later.\n");
}

static int tokens_create(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_tokens, "tokens create takes no positional arguments");
    size_t nscopes = cli_args_count(a, "scope");
    if (nscopes == 0)
        return cli_usage_error(cli_help_tokens, "tokens create needs at least one --scope");
    long expires = 0;
    const char *exp = cli_args_get(a, "expires-in");
    if (exp && !cli_parse_long(exp, 1, 31536000L * 5, &expires))
        return cli_usage_error(cli_help_tokens,
                               "--expires-in must be a number of seconds (1-157680000)");
    json_t *body = json_object();
    const char *id = cli_args_get(a, "id");
    const char *owner = cli_args_get(a, "owner");
    bool ok = !id || cli_json_put(body, "id", id);
    json_t *scopes = json_array();
    json_object_set_new(body, "scopes", scopes);
    for (size_t i = 0; ok && i < nscopes; i++) {
        json_t *sv = json_string(cli_args_nth(a, "scope", i));
        if (!sv) {
            fprintf(stderr, "error: a --scope is not valid UTF-8\n");
            ok = false;
        }
        json_array_append_new(scopes, sv);
    }
    ok = ok && (!owner || cli_json_put(body, "owner", owner));
    if (exp)
        json_object_set_new(body, "expires_in", json_integer(expires));
    if (!ok) {
        json_decref(body);
        return CLI_EXIT_USAGE;
    }
    int rc = cli_ctx_resolve(ctx);
    struct gw_buf url;
    gw_buf_init(&url, 1);
    json_t *reply = NULL;
    if (rc != CLI_EXIT_OK)
        goto out;
    cli_url_begin(&url, ctx, "/api/v1/tokens");
    rc = cli_http_json(ctx, "POST", url.data, body, rs, &reply);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        fflush(stdout);
        fprintf(stderr, "warning: store this token now; it is shown only once.\n");
    } else {
        print_secret(reply, "created");
    }
out:
    json_decref(reply);
    json_decref(body);
    gw_buf_release(&url);
    return rc;
}

static int tokens_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_tokens, "tokens list takes no arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/tokens");
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    json_t *reply = NULL;
    rc = cli_http_json(ctx, "GET", url.data, NULL, rs, &reply);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        goto out;
    }
    static const char *const headers[] = {"ID",      "OWNER",   "SCOPES",  "SOURCE",
                                          "CREATED", "EXPIRES", "REVOKED", "LAST USED"};
    static const char *const keys[] = {"id",         "owner",      "scopes",     "source",
                                       "created_at", "expires_at", "revoked_at", "last_used_at"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *tok;
    json_array_foreach(json_object_get(reply, "tokens"), i, tok)
        cli_table_add_json(&t, tok, keys);
    cli_table_render(&t, &out);
    cli_table_release(&t);
    cli_print_buf(&out);
out:
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static int tokens_by_id(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs,
                        bool rotate)
{
    if (a->npos != 1)
        return cli_usage_error(cli_help_tokens, "tokens %s needs exactly one <id>",
                               rotate ? "rotate" : "revoke");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/tokens");
    cli_url_segment(&url, a->pos[0]);
    if (rotate)
        cli_url_fixed(&url, "/rotate");
    json_t *reply = NULL;
    rc = cli_http_json(ctx, rotate ? "POST" : "DELETE", url.data, NULL, rs, &reply);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
        if (rotate) {
            fflush(stdout);
            fprintf(stderr, "warning: store this token now; it is shown only once.\n");
        }
    } else if (rotate) {
        print_secret(reply, "rotated");
    } else {
        struct gw_buf b;
        gw_buf_init(&b, (size_t)1 << 20);
        const char *id = gw_json_str(reply, "id");
        const char *at = gw_json_str(reply, "revoked_at");
        (void)gw_buf_puts(&b, "Token ");
        cli_sanitize(&b, id ? id : a->pos[0]);
        (void)gw_buf_puts(&b, " revoked");
        if (at) {
            (void)gw_buf_puts(&b, " at ");
            cli_sanitize(&b, at);
        }
        (void)gw_buf_puts(&b, "\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
out:
    json_decref(reply);
    gw_buf_release(&url);
    return rc;
}

static const struct cli_sub subs[] = {{"create", create_opts, NULL},
                                      {"list", no_opts, NULL},
                                      {"rotate", no_opts, NULL},
                                      {"revoke", no_opts, NULL}};
const struct cli_command cli_command_tokens = {"tokens", cli_help_tokens,    cli_cmd_tokens,
                                               subs,     GW_ARRAY_LEN(subs), NULL};

int cli_cmd_tokens(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *s = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_tokens, &si, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *sub = s->name;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    cli_response_init(&rs);
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, s->opts, cli_help_tokens, a);
    if (rc == CLI_EXIT_OK) {
        if (!strcmp(sub, "create"))
            rc = tokens_create(ctx, a, &rs);
        else if (!strcmp(sub, "list"))
            rc = tokens_list(ctx, a, &rs);
        else
            rc = tokens_by_id(ctx, a, &rs, !strcmp(sub, "rotate"));
    }
    /* the reply may hold a secret */
    if (rs.body.data)
        memset(rs.body.data, 0, rs.body.len);
    cli_response_release(&rs);
    free(a);
    return rc;
}
