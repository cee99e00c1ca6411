/* SPDX-License-Identifier: MIT
 * cli_audit.c — `openclaw audit query|export|verify`.
 *
 * query pages through GET /api/v1/audit (following next_cursor with --all); export streams
 * GET /api/v1/audit/export straight to a file (written under a temporary name and renamed only
 * when the transfer completed) or to stdout, never holding it in memory; verify either asks the
 * gateway (GET /api/v1/audit/verify) or checks a JSONL file offline with audit_verify_file,
 * using the gateway's public key and signed head when they can be fetched.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "audit/audit.h"
#include "base/json.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

const char cli_help_audit[] =
    "usage: openclaw audit query|export|verify ...\n"
    "\n"
    "  audit query [filters] [--limit N] [--cursor C] [--all]\n"
    "      GET /api/v1/audit, newest first; a table of seq, ts, type, outcome, actor,\n"
    "      resource. --limit is the page size (1-1000, default 100); --all follows\n"
    "      next_cursor to the end.\n"
    "  audit export [--format jsonl|csv] [--output FILE] [filters]\n"
    "      GET /api/v1/audit/export, oldest first, streamed to FILE (created 0600, replaced\n"
    "      only when complete) or to stdout.\n"
    "  audit verify\n"
    "      GET /api/v1/audit/verify: the gateway checks its stored chain.\n"
    "  audit verify --file PATH [--public-key KEY] [--tenant T] [--expected-last-seq N]\n"
    "      Checks a JSONL log or export offline: hashes, links, sequence and checkpoint\n"
    "      signatures. The key defaults to GET /api/v1/audit/public-key; the expected last\n"
    "      seq (truncation of the tail) to GET /api/v1/audit/head when a token is set.\n"
    "\n"
    "Filters: --user U --event E (may end in *) --channel C --outcome O --since T --until T\n"
    "         --request-id R   (times are RFC 3339, e.g. 2025-01-10T09:00:00Z)\n"
    "Verification exit code: 0 intact, 1 not intact.\n";

#define FILTER_OPTS                                                                            \
    {"user", CLI_OPT_ARG}, {"event", CLI_OPT_ARG}, {"channel", CLI_OPT_ARG},                   \
        {"outcome", CLI_OPT_ARG}, {"since", CLI_OPT_ARG}, {"until", CLI_OPT_ARG},              \
        {"request-id", CLI_OPT_ARG}

static const struct cli_optdef query_opts[] = {
    FILTER_OPTS, {"limit", CLI_OPT_ARG}, {"cursor", CLI_OPT_ARG}, {"all", 0}, {NULL, 0},
};
static const struct cli_optdef export_opts[] = {
    FILTER_OPTS, {"format", CLI_OPT_ARG}, {"output", CLI_OPT_ARG | CLI_OPT_FILE}, {NULL, 0},
};
static const struct cli_optdef verify_opts[] = {
    {"file", CLI_OPT_ARG | CLI_OPT_FILE},
    {"public-key", CLI_OPT_ARG},
    {"tenant", CLI_OPT_ARG},
    {"expected-last-seq", CLI_OPT_ARG},
    {NULL, 0},
};

static void add_filters(struct gw_buf *url, const struct cli_args *a)
{
    static const char *const map[][2] = {
        {"user", "user"},       {"event", "event"}, {"channel", "channel"},
        {"outcome", "outcome"}, {"since", "since"}, {"until", "until"},
        {"request-id", "request_id"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(map); i++)
        cli_url_query(url, map[i][1], cli_args_get(a, map[i][0]));
}

/* --- query ------------------------------------------------------------------------------- */

static int audit_query(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit query takes no positional arguments");
    long limit = 0;
    const char *ls = cli_args_get(a, "limit");
    if (ls && !cli_parse_long(ls, 1, 1000, &limit))
        return cli_usage_error(cli_help_audit, "--limit must be 1-1000");
    bool all = cli_args_has(a, "all");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;

    static const char *const headers[] = {"SEQ", "TS", "TYPE", "OUTCOME", "ACTOR", "RESOURCE"};
    static const char *const keys[] = {"seq", "ts", "type", "outcome", "actor", "resource"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    struct cli_response rs;
    cli_response_init(&rs);
    struct gw_buf url, out;
    gw_buf_init(&url, 1);
    gw_buf_init(&out, (size_t)1 << 30);
    char *cursor = cli_args_get(a, "cursor") ? gw_xstrdup(cli_args_get(a, "cursor")) : NULL;
    json_t *page = NULL;
    size_t total = 0;
    bool json_stream = ctx->json && all;
    for (unsigned pages = 0;; pages++) {
        gw_buf_release(&url);
        cli_url_begin(&url, ctx, "/api/v1/audit");
        add_filters(&url, a);
        if (ls)
            cli_url_query(&url, "limit", ls);
        cli_url_query(&url, "cursor", cursor);
        gw_buf_reset(&rs.body);
        json_decref(page);
        page = NULL;
        rc = cli_http_json(ctx, "GET", url.data, NULL, &rs, &page);
        if (rc != CLI_EXIT_OK)
            break;
        json_t *events = json_object_get(page, "events");
        json_t *next = json_object_get(page, "next_cursor");
        if (!json_is_array(events)) {
            fprintf(stderr, "error: the gateway's reply has no \"events\" array\n");
            rc = CLI_EXIT_FAIL;
            break;
        }
        if (ctx->json && !all) {
            cli_print_raw(rs.body.data, rs.body.len);
            break;
        }
        size_t i;
        json_t *ev;
        json_array_foreach(events, i, ev) {
            if (json_stream) {
                char *s = gw_json_compact(ev);
                printf("%s\n  %s", total ? "," : "{\"events\": [", s ? s : "null");
                free(s);
            } else {
                cli_table_add_json(&t, ev, keys);
            }
            total++;
        }
        char *nc = NULL;
        if (json_is_string(next))
            nc = gw_xstrdup(json_string_value(next));
        else if (json_is_integer(next))
            nc = gw_xasprintf("%lld", (long long)json_integer_value(next));
        if (!all || !nc || json_array_size(events) == 0) {
            if (nc && !ctx->json) {
                struct gw_buf h;
                gw_buf_init(&h, 4096);
                cli_sanitize(&h, nc);
                fprintf(stderr, "(more events: --cursor %s, or --all)\n", h.data ? h.data : "");
                gw_buf_release(&h);
            }
            free(nc);
            break;
        }
        if (cursor && !strcmp(cursor, nc)) {
            fprintf(stderr, "error: the gateway returned the same cursor twice\n");
            free(nc);
            rc = CLI_EXIT_FAIL;
            break;
        }
        free(cursor);
        cursor = nc;
    }
    if (json_stream && rc == CLI_EXIT_OK)
        printf("%s\n], \"next_cursor\": null}\n", total ? "" : "{\"events\": [");
    else if (json_stream && total)
        printf("\n]}\n"); /* keep stdout parseable; the error went to stderr */
    else if (!ctx->json && rc == CLI_EXIT_OK) {
        cli_table_render(&t, &out);
        cli_print_buf(&out);
    }
    json_decref(page);
    free(cursor);
    cli_table_release(&t);
    cli_response_release(&rs);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

/* --- export ------------------------------------------------------------------------------ */

static int audit_export(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit export takes no positional arguments");
    const char *format = cli_args_get(a, "format");
    if (format && strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0)
        return cli_usage_error(cli_help_audit, "--format must be jsonl or csv");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/audit/export");
    cli_url_query(&url, "format", format ? format : "jsonl");
    add_filters(&url, a);
    rc = cli_export_get(ctx, url.data, cli_args_get(a, "output"),
                        json_pack("{s:s}", "format", format ? format : "jsonl"));
    gw_buf_release(&url);
    return rc;
}

/* --- verify ------------------------------------------------------------------------------ */

static int verify_remote(struct cli_ctx *ctx)
{
    struct gw_buf url, out;
    cli_url_begin(&url, ctx, "/api/v1/audit/verify");
    gw_buf_init(&out, (size_t)1 << 20);
    struct cli_response rs;
    cli_response_init(&rs);
    json_t *reply = NULL;
    int rc = cli_http_json(ctx, "GET", url.data, NULL, &rs, &reply);
    if (rc == CLI_EXIT_OK) {
        if (ctx->json) {
            cli_print_raw(rs.body.data, rs.body.len);
        } else {
            cli_format_verify(&out, reply);
            cli_print_buf(&out);
        }
        if (!json_is_true(json_object_get(reply, "ok")))
            rc = CLI_EXIT_FAIL;
    }
    json_decref(reply);
    cli_response_release(&rs);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

/* GET a small JSON document quietly; NULL (with *rc set) on failure. */
static json_t *fetch_json(struct cli_ctx *ctx, const char *path, bool quiet, int *rc,
                          char *why, size_t whycap)
{
    struct gw_buf url;
    cli_url_begin(&url, ctx, path);
    struct cli_response rs;
    cli_response_init(&rs);
    struct cli_request rq = {.method = "GET", .url = url.data, .auth = true, .quiet = quiet};
    json_t *v = NULL;
    *rc = cli_http(ctx, &rq, &rs);
    if (*rc == CLI_EXIT_OK) {
        v = cli_response_json(&rs);
        if (!v) {
            *rc = CLI_EXIT_FAIL;
            snprintf(why, whycap, "invalid reply");
        }
    } else if (!rs.reason[0]) {
        char msg[160];
        json_t *e = gw_json_parse(rs.body.data ? rs.body.data : "", rs.body.len,
                                  GW_JSON_MAX_DEPTH, msg, sizeof(msg));
        const char *code = gw_json_str(json_object_get(e, "error"), "code");
        snprintf(why, whycap, "HTTP %ld%s%s", rs.status, code ? " " : "", code ? code : "");
        json_decref(e);
    } else {
        snprintf(why, whycap, "%.300s", rs.reason);
    }
    cli_response_release(&rs);
    gw_buf_release(&url);
    return v;
}

static int verify_file(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *file = cli_args_get(a, "file");
    const char *key = cli_args_get(a, "public-key");
    const char *tenant = cli_args_get(a, "tenant");
    const char *els = cli_args_get(a, "expected-last-seq");
    long expected = 0;
    if (els && !cli_parse_long(els, 0, LONG_MAX, &expected))
        return cli_usage_error(cli_help_audit, "--expected-last-seq must be a number >= 0");
    if (key && !*key)
        return cli_usage_error(cli_help_audit, "--public-key is empty");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    json_t *pk = NULL, *head = NULL;
    char *tenant_owned = NULL;
    char why[400] = "";
    if (!key) {
        pk = fetch_json(ctx, "/api/v1/audit/public-key", false, &rc, why, sizeof(why));
        if (!pk) {
            fprintf(stderr, "error: cannot get the audit public key from the gateway; pass "
                            "--public-key KEY to verify offline\n");
            goto out;
        }
        key = gw_json_str(pk, "public_key");
        if (!key) {
            fprintf(stderr, "error: the gateway's public-key reply has no \"public_key\"\n");
            rc = CLI_EXIT_FAIL;
            goto out;
        }
    }
    if (!els) {
        const char *missing = NULL;
        if (!ctx->set.token) {
            missing = "no token configured";
        } else {
            int hrc;
            head = fetch_json(ctx, "/api/v1/audit/head", true, &hrc, why, sizeof(why));
            if (!head)
                missing = why;
        }
        if (head) {
            json_t *seq = json_object_get(head, "seq");
            const char *ht = gw_json_str(head, "tenant");
            if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
                missing = "the gateway's head has no seq";
            } else if (tenant && ht && strcmp(tenant, ht) != 0) {
                missing = "the gateway's head is for another tenant";
            } else {
                expected = (long)json_integer_value(seq);
                if (!tenant && ht)
                    tenant = tenant_owned = gw_xstrdup(ht);
            }
        }
        if (missing) {
            struct gw_buf m;
            gw_buf_init(&m, 4096);
            cli_sanitize(&m, missing);
            fprintf(stderr, "note: cannot get the gateway's signed head (%s): truncation of the "
                            "tail cannot be checked offline\n", m.data);
            gw_buf_release(&m);
        } else if (expected > 0) {
            fprintf(stderr, "note: expecting the chain to end at seq %ld (the gateway's head "
                            "now); an export older than that will look truncated - use "
                            "--expected-last-seq to override\n", expected);
        }
    }

    struct audit_verify_result r;
    memset(&r, 0, sizeof(r));
    gw_err e = audit_verify_file(file, key, tenant, (int64_t)expected, &r);
    if (e != GW_OK) {
        struct gw_buf m;
        gw_buf_init(&m, 4096);
        cli_sanitize(&m, r.reason[0] ? r.reason : gw_err_message(e));
        fprintf(stderr, "error: cannot verify %s: %s\n", file, m.data);
        gw_buf_release(&m);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (r.ok && r.events_checked == 0) {
        /* nothing verified is not a success (wrong --tenant, empty or foreign file) */
        r.ok = false;
        snprintf(r.reason, sizeof(r.reason), "no events%s%s found in the file",
                 tenant ? " of tenant " : "", tenant ? tenant : "");
    }
    json_t *res = cli_verify_result_json(&r);
    if (tenant)
        json_object_set_new(res, "tenant", json_string(tenant));
    json_object_set_new(res, "expected_last_seq",
                        expected > 0 ? json_integer(expected) : json_null());
    if (ctx->json) {
        cli_print_json(res);
    } else {
        struct gw_buf out;
        gw_buf_init(&out, (size_t)1 << 20);
        cli_format_verify(&out, res);
        if (expected <= 0)
            (void)gw_buf_puts(&out, "Tail:                not checked (no expected last seq)\n");
        cli_print_buf(&out);
        gw_buf_release(&out);
    }
    json_decref(res);
    rc = r.ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    free(tenant_owned);
    json_decref(pk);
    json_decref(head);
    return rc;
}

static int audit_verify(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit verify takes no positional arguments");
    if (cli_args_has(a, "file"))
        return verify_file(ctx, a);
    if (cli_args_has(a, "public-key") || cli_args_has(a, "tenant") ||
        cli_args_has(a, "expected-last-seq"))
        return cli_usage_error(cli_help_audit, "--public-key, --tenant and --expected-last-seq "
                                               "need --file");
    int rc = cli_ctx_resolve(ctx);
    return rc != CLI_EXIT_OK ? rc : verify_remote(ctx);
}

static const struct cli_sub subs[] = {
    {"query", query_opts, NULL}, {"export", export_opts, NULL}, {"verify", verify_opts, NULL}};
const struct cli_command cli_command_audit = {"audit", cli_help_audit, cli_cmd_audit, subs,
                                              GW_ARRAY_LEN(subs), NULL};

int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_audit, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    int (*fn)(struct cli_ctx *, const struct cli_args *) =
        !strcmp(sub->name, "query")    ? audit_query
        : !strcmp(sub->name, "export") ? audit_export
                                       : audit_verify;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_audit, a);
    if (rc == CLI_EXIT_OK)
        rc = fn(ctx, a);
    free(a);
    return rc;
}
