/* SPDX-License-Identifier: MIT
 * cli_audit.c — `openclaw audit query|export|verify|head|prove|rotate-key`.
 *
 * query pages through GET /api/v1/audit (following next_cursor with --all); export streams
 * GET /api/v1/audit/export straight to a file (written under a temporary name and renamed only
 * when the transfer completed) or to stdout, never holding it in memory; verify either asks the
 * gateway (GET /api/v1/audit/verify), checks a JSONL file offline with audit_verify_file, or
 * checks a saved proof; with a head the auditor kept (--since/--head) it also proves, locally,
 * that the log only grew from it. head saves the latest signed head; prove fetches an
 * inclusion or consistency proof and checks it before printing or saving it. Offline checks
 * use the keys given with --public-key, else the ones the gateway publishes.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "audit/audit.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

const char cli_help_audit[] =
    "usage: openclaw audit query|export|verify|head|prove|rotate-key ...\n"
    "\n"
    "  audit query [filters] [--limit N] [--cursor C] [--all]\n"
    "      GET /api/v1/audit, newest first; a table of seq, ts, type, outcome, actor,\n"
    "      resource. --limit is the page size (1-1000, default 100); --all follows\n"
    "      next_cursor to the end.\n"
    "  audit export [--format jsonl|csv] [--output FILE] [filters]\n"
    "      GET /api/v1/audit/export, oldest first, streamed to FILE (created 0600, replaced\n"
    "      only when complete) or to stdout.\n"
    "  audit verify [--since HEAD]\n"
    "      The gateway checks its stored trail against its signed heads. With --since (or\n"
    "      --head), a head you saved with `audit head`: the gateway's log must extend it\n"
    "      (a consistency proof, checked here) and match it.\n"
    "  audit verify --file PATH [--public-key KEY] [--tenant T] [--since HEAD]\n"
    "               [--expected-last-seq N]\n"
    "      Checks a JSONL log or export offline against its signed heads. The keys default\n"
    "      to GET /api/v1/audit/public-key; the expected end (truncation of the tail) to\n"
    "      GET /api/v1/audit/head when a token is set.\n"
    "  audit verify --proof FILE [--head HEAD] [--public-key KEY]\n"
    "      Checks a saved proof offline (against HEAD when given).\n"
    "  audit head [--output FILE]\n"
    "      The latest signed head (with the tree's frontier): keep it to check later that\n"
    "      the log only grew.\n"
    "  audit prove SEQ [--head HEAD] [--output FILE]\n"
    "      An inclusion proof of event SEQ in the latest tree (or HEAD's), checked here.\n"
    "  audit prove --head HEAD [--output FILE]\n"
    "      A consistency proof from HEAD to the latest head, checked here.\n"
    "  audit rotate-key\n"
    "      New heads are signed by a new key; the old public key stays published.\n"
    "\n"
    "Filters: --user U --event E (may end in *) --channel C --outcome O --since T --until T\n"
    "         --request-id R   (times are RFC 3339, e.g. 2025-01-10T09:00:00Z)\n"
    "Verification exit code: 0 intact, 1 not intact.\n";

#define FILTER_OPTS                                                                                \
    {"user", CLI_OPT_ARG}, {"event", CLI_OPT_ARG}, {"channel", CLI_OPT_ARG},                       \
        {"outcome", CLI_OPT_ARG}, {"since", CLI_OPT_ARG}, {"until", CLI_OPT_ARG},                  \
    {                                                                                              \
        "request-id", CLI_OPT_ARG                                                                  \
    }

static const struct cli_optdef query_opts[] = {
    FILTER_OPTS, {"limit", CLI_OPT_ARG}, {"cursor", CLI_OPT_ARG}, {"all", 0}, {NULL, 0},
};
static const struct cli_optdef export_opts[] = {
    FILTER_OPTS,
    {"format", CLI_OPT_ARG},
    {"output", CLI_OPT_ARG | CLI_OPT_FILE},
    {NULL, 0},
};
static const struct cli_optdef verify_opts[] = {
    {"file", CLI_OPT_ARG | CLI_OPT_FILE},
    {"public-key", CLI_OPT_ARG | CLI_OPT_MULTI},
    {"tenant", CLI_OPT_ARG},
    {"expected-last-seq", CLI_OPT_ARG},
    {"since", CLI_OPT_ARG | CLI_OPT_FILE},
    {"head", CLI_OPT_ARG | CLI_OPT_FILE},
    {"proof", CLI_OPT_ARG | CLI_OPT_FILE},
    {NULL, 0},
};
static const struct cli_optdef head_opts[] = {
    {"output", CLI_OPT_ARG | CLI_OPT_FILE},
    {NULL, 0},
};
static const struct cli_optdef prove_opts[] = {
    {"head", CLI_OPT_ARG | CLI_OPT_FILE},
    {"output", CLI_OPT_ARG | CLI_OPT_FILE},
    {"public-key", CLI_OPT_ARG | CLI_OPT_MULTI},
    {NULL, 0},
};
static const struct cli_optdef rotate_opts[] = {
    {NULL, 0},
};

static void add_filters(struct gw_buf *url, const struct cli_args *a)
{
    static const char *const map[][2] = {
        {"user", "user"},
        {"event", "event"},
        {"channel", "channel"},
        {"outcome", "outcome"},
        {"since", "since"},
        {"until", "until"},
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

/* --- shared by verify and prove ---------------------------------------------------------- */

/* GET a small JSON document; NULL (with *rc set and why filled) on failure. */
static json_t *fetch_json(struct cli_ctx *ctx, const char *path, bool quiet, int *rc, char *why,
                          size_t whycap)
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
        json_t *e = gw_json_parse(rs.body.data ? rs.body.data : "", rs.body.len, GW_JSON_MAX_DEPTH,
                                  msg, sizeof(msg));
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

/* prefix, detail (from the gateway or a file: sanitized), suffix on stderr. */
static void error_line(const char *prefix, const char *detail, const char *suffix)
{
    struct gw_buf m;
    gw_buf_init(&m, 4096);
    cli_sanitize(&m, detail);
    fprintf(stderr, "%s%s%s", prefix, m.data ? m.data : "", suffix);
    gw_buf_release(&m);
}

/* A JSON object from a file (a saved head or proof); NULL after printing why. */
static json_t *read_json(const char *path, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    if (gw_file_read(path, (size_t)4 << 20, &text, &len) != GW_OK) {
        fprintf(stderr, "error: cannot read %s %s: %s\n", what, path, strerror(errno));
        return NULL;
    }
    char msg[160];
    json_t *v = gw_json_parse(text, len, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    free(text);
    if (!json_is_object(v)) {
        fprintf(stderr, "error: %s is not %s (JSON object): %s\n", path, what, v ? "" : msg);
        json_decref(v);
        return NULL;
    }
    return v;
}

/* The keys offline checks trust: --public-key values, else every key the gateway publishes
 * (its current key and the ones it rotated from). keys[] borrow from *owner. */
struct keyset {
    const char *k[64];
    size_t n;
    json_t *owner;
};

static int keys_of(struct cli_ctx *ctx, const struct cli_args *a, struct keyset *ks)
{
    memset(ks, 0, sizeof *ks);
    for (size_t i = 0; i < cli_args_count(a, "public-key") && ks->n < GW_ARRAY_LEN(ks->k); i++)
        ks->k[ks->n++] = cli_args_nth(a, "public-key", i);
    if (ks->n)
        return CLI_EXIT_OK;
    int rc;
    char why[400] = "";
    ks->owner = fetch_json(ctx, "/api/v1/audit/public-key", false, &rc, why, sizeof(why));
    if (!ks->owner) {
        fprintf(stderr, "error: cannot get the audit public keys from the gateway; pass "
                        "--public-key KEY to check offline\n");
        return rc;
    }
    const char *cur = gw_json_str(ks->owner, "public_key");
    if (cur)
        ks->k[ks->n++] = cur;
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(ks->owner, "keys"), i, k) {
        const char *pk = gw_json_str(k, "public_key");
        if (pk && ks->n < GW_ARRAY_LEN(ks->k))
            ks->k[ks->n++] = pk;
    }
    if (ks->n == 0) {
        fprintf(stderr, "error: the gateway's public-key reply has no \"public_key\"\n");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Writes v to path (0600, replaced atomically) or prints it. */
static int output_json(struct cli_ctx *ctx, const char *path, const json_t *v, const char *what)
{
    if (!path) {
        cli_print_json(v);
        return CLI_EXIT_OK;
    }
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
    gw_err e = s ? gw_file_write_atomic(path, s, strlen(s), 0600) : GW_ENOMEM;
    free(s);
    if (e != GW_OK) {
        fprintf(stderr, "error: cannot write %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    if (!ctx->json)
        fprintf(stderr, "Saved %s to %s\n", what, path);
    return CLI_EXIT_OK;
}

/* --- verify ------------------------------------------------------------------------------ */

static void print_result(struct cli_ctx *ctx, json_t *res)
{
    if (ctx->json) {
        cli_print_json(res);
        return;
    }
    struct gw_buf out;
    gw_buf_init(&out, (size_t)1 << 20);
    cli_format_verify(&out, res);
    cli_print_buf(&out);
    gw_buf_release(&out);
}

/* The gateway checks its store (against the kept head too); with a kept head, a consistency
 * proof from it to the latest head is checked here. */
static int verify_remote(struct cli_ctx *ctx, const struct cli_args *a, const json_t *since)
{
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/audit/verify");
    struct cli_response rs;
    cli_response_init(&rs);
    json_t *reply = NULL, *body = since ? json_pack("{s:O}", "head", since) : NULL;
    int rc = cli_http_json(ctx, since ? "POST" : "GET", url.data, body, &rs, &reply);
    json_decref(body);
    gw_buf_release(&url);
    cli_response_release(&rs);
    if (rc != CLI_EXIT_OK)
        return rc;
    bool ok = json_is_true(json_object_get(reply, "ok"));
    if (since) {
        struct keyset ks;
        json_int_t from = json_integer_value(json_object_get(since, "seq"));
        char path[96], msg[300] = "", why[400] = "";
        snprintf(path, sizeof(path), "/api/v1/audit/proof/consistency?from=%lld", (long long)from);
        rc = keys_of(ctx, a, &ks);
        json_t *proof = rc == CLI_EXIT_OK ? fetch_json(ctx, path, true, &rc, why, sizeof(why))
                                          : NULL;
        if (rc != CLI_EXIT_OK && !why[0])
            snprintf(why, sizeof(why), "no public key");
        bool consistent = proof &&
                          audit_check_proof(proof, since, ks.k, ks.n, msg, sizeof(msg)) == GW_OK;
        json_object_set_new(reply, "consistent_with_your_head", json_boolean(consistent));
        if (!consistent) {
            ok = false;
            json_object_set_new(reply, "ok", json_false());
            json_object_set_new(reply, "consistency_reason", json_string(proof ? msg : why));
        }
        json_decref(proof);
        json_decref(ks.owner);
        rc = CLI_EXIT_OK;
    }
    print_result(ctx, reply);
    json_decref(reply);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* The gateway's head as the expected end of the file, when it can be had. */
static long expected_end(struct cli_ctx *ctx, const char **tenant, char **tenant_owned)
{
    const char *missing = NULL;
    char why[400] = "";
    json_t *head = NULL;
    long expected = 0;
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
        } else if (*tenant && ht && strcmp(*tenant, ht) != 0) {
            missing = "the gateway's head is for another tenant";
        } else {
            expected = (long)json_integer_value(seq);
            if (!*tenant && ht)
                *tenant = *tenant_owned = gw_xstrdup(ht);
        }
    }
    if (missing)
        error_line("note: cannot get the gateway's signed head (", missing,
                   "): truncation of the tail cannot be checked offline\n");
    else if (expected > 0)
        fprintf(stderr,
                "note: expecting the log to reach seq %ld (the gateway's head now); an "
                "export older than that will look truncated - use "
                "--expected-last-seq to override\n",
                expected);
    json_decref(head);
    return expected;
}

static int verify_file(struct cli_ctx *ctx, const struct cli_args *a, const json_t *since)
{
    const char *file = cli_args_get(a, "file");
    const char *tenant = cli_args_get(a, "tenant");
    const char *els = cli_args_get(a, "expected-last-seq");
    long expected = 0;
    if (els && !cli_parse_long(els, 0, LONG_MAX, &expected))
        return cli_usage_error(cli_help_audit, "--expected-last-seq must be a number >= 0");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct keyset ks;
    rc = keys_of(ctx, a, &ks);
    if (rc != CLI_EXIT_OK)
        return rc;
    char *tenant_owned = NULL;
    if (!tenant && since)
        tenant = gw_json_str(since, "tenant");
    if (!els)
        expected = expected_end(ctx, &tenant, &tenant_owned);
    struct audit_verify_opts o = {ks.k, ks.n, tenant, (int64_t)expected, since};
    struct audit_verify_result r;
    gw_err e = audit_verify_file(file, &o, &r);
    if (e != GW_OK) {
        error_line("error: cannot verify the file: ",
                   e == GW_EINVAL ? "a public key or the head is malformed" : gw_err_message(e),
                   "\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (r.ok && r.events_checked == 0) {
        /* nothing verified is not a success (wrong --tenant, empty or foreign file) */
        r.ok = false;
        snprintf(r.reason, sizeof(r.reason), "no events%s%s found in the file",
                 tenant ? " of tenant " : "", tenant ? tenant : "");
    }
    json_t *res = audit_verify_result_json(&r);
    if (tenant)
        json_object_set_new(res, "tenant", json_string(tenant));
    print_result(ctx, res);
    if (!ctx->json && expected <= 0)
        printf("Tail:                not checked (no expected last seq)\n");
    json_decref(res);
    rc = r.ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
    free(tenant_owned);
    json_decref(ks.owner);
    return rc;
}

static int verify_proof(struct cli_ctx *ctx, const struct cli_args *a, const json_t *head)
{
    json_t *proof = read_json(cli_args_get(a, "proof"), "a proof");
    if (!proof)
        return CLI_EXIT_FAIL;
    struct keyset ks;
    int rc = cli_args_has(a, "public-key") ? CLI_EXIT_OK : cli_ctx_resolve(ctx);
    if (rc == CLI_EXIT_OK)
        rc = keys_of(ctx, a, &ks);
    if (rc != CLI_EXIT_OK) {
        json_decref(proof);
        return rc;
    }
    char msg[300] = "";
    bool ok = audit_check_proof(proof, head, ks.k, ks.n, msg, sizeof(msg)) == GW_OK;
    json_t *res = json_pack("{s:b,s:s?,s:s?}", "ok", ok, "proof", gw_json_str(proof, "type"),
                            "reason", ok ? NULL : msg);
    if (ctx->json)
        cli_print_json(res);
    else if (ok)
        printf("Proof:               OK (%s, checked against %s)\n", gw_json_str(proof, "type"),
               head ? "your head" : "the signed head it carries");
    else
        error_line("Proof:               FAILED (", msg, ")\n");
    json_decref(res);
    json_decref(proof);
    json_decref(ks.owner);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int audit_verify(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit verify takes no positional arguments");
    const char *hf = cli_args_get(a, "since") ? cli_args_get(a, "since") : cli_args_get(a, "head");
    bool file = cli_args_has(a, "file"), proof = cli_args_has(a, "proof");
    if (file && proof)
        return cli_usage_error(cli_help_audit, "--file and --proof check different things");
    if (!file && (cli_args_has(a, "tenant") || cli_args_has(a, "expected-last-seq")))
        return cli_usage_error(cli_help_audit, "--tenant and --expected-last-seq need --file");
    json_t *head = hf ? read_json(hf, "a saved head") : NULL;
    if (hf && !head)
        return CLI_EXIT_FAIL;
    int rc;
    if (proof)
        rc = verify_proof(ctx, a, head);
    else if (file)
        rc = verify_file(ctx, a, head);
    else if ((rc = cli_ctx_resolve(ctx)) == CLI_EXIT_OK)
        rc = verify_remote(ctx, a, head);
    json_decref(head);
    return rc;
}

/* --- head, prove, rotate-key -------------------------------------------------------------- */

static int audit_head_cmd(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit head takes no positional arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    char why[400] = "";
    json_t *head = fetch_json(ctx, "/api/v1/audit/head", false, &rc, why, sizeof(why));
    if (!head)
        return rc;
    rc = output_json(ctx, cli_args_get(a, "output"), head, "the signed head");
    json_decref(head);
    return rc;
}

static int audit_prove(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *hf = cli_args_get(a, "head");
    long seq = 0;
    if (a->npos > 1 || (a->npos && !cli_parse_long(a->pos[0], 1, LONG_MAX, &seq)))
        return cli_usage_error(cli_help_audit, "audit prove takes one event seq (>= 1)");
    if (!a->npos && !hf)
        return cli_usage_error(cli_help_audit, "audit prove needs an event seq or --head");
    json_t *head = hf ? read_json(hf, "a saved head") : NULL;
    if (hf && !head)
        return CLI_EXIT_FAIL;
    json_int_t size = json_integer_value(json_object_get(head, "seq"));
    int rc = cli_ctx_resolve(ctx);
    struct keyset ks = {0};
    if (rc == CLI_EXIT_OK)
        rc = keys_of(ctx, a, &ks);
    char path[128], why[400] = "", msg[300] = "";
    if (seq && head)
        snprintf(path, sizeof(path), "/api/v1/audit/proof/inclusion/%ld?size=%lld", seq,
                 (long long)size);
    else if (seq)
        snprintf(path, sizeof(path), "/api/v1/audit/proof/inclusion/%ld", seq);
    else
        snprintf(path, sizeof(path), "/api/v1/audit/proof/consistency?from=%lld", (long long)size);
    json_t *proof = rc == CLI_EXIT_OK ? fetch_json(ctx, path, false, &rc, why, sizeof(why)) : NULL;
    if (proof && audit_check_proof(proof, head, ks.k, ks.n, msg, sizeof(msg)) != GW_OK) {
        error_line("error: the gateway's proof does not hold: ", msg, "\n");
        rc = CLI_EXIT_FAIL;
    } else if (proof) {
        rc = output_json(ctx, cli_args_get(a, "output"), proof, "the proof");
    }
    json_decref(proof);
    json_decref(head);
    json_decref(ks.owner);
    return rc;
}

static int audit_rotate(struct cli_ctx *ctx, const struct cli_args *a)
{
    if (a->npos)
        return cli_usage_error(cli_help_audit, "audit rotate-key takes no arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/audit/keys/rotate");
    struct cli_response rs;
    cli_response_init(&rs);
    json_t *reply = NULL;
    rc = cli_call(ctx, "POST", url.data, NULL, &rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json)
        cli_print_raw(rs.body.data, rs.body.len);
    else if (rc == CLI_EXIT_OK)
        error_line("Signing key now ",
                   gw_json_str(reply, "key_id") ? gw_json_str(reply, "key_id") : "?",
                   " (the previous one stays published)\n");
    json_decref(reply);
    cli_response_release(&rs);
    gw_buf_release(&url);
    return rc;
}

static const struct cli_sub subs[] = {
    {"query", query_opts, NULL}, {"export", export_opts, NULL}, {"verify", verify_opts, NULL},
    {"head", head_opts, NULL},   {"prove", prove_opts, NULL},   {"rotate-key", rotate_opts, NULL},
};
const struct cli_command cli_command_audit = {"audit", cli_help_audit,     cli_cmd_audit,
                                              subs,    GW_ARRAY_LEN(subs), NULL};

int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(struct cli_ctx *, const struct cli_args *);
    } run[] = {{"query", audit_query},   {"export", audit_export}, {"verify", audit_verify},
               {"head", audit_head_cmd}, {"prove", audit_prove},   {"rotate-key", audit_rotate}};
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_audit, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_audit, a);
    for (size_t i = 0; rc == CLI_EXIT_OK && i < GW_ARRAY_LEN(run); i++)
        if (!strcmp(sub->name, run[i].name)) {
            rc = run[i].fn(ctx, a);
            break;
        }
    free(a);
    return rc;
}
