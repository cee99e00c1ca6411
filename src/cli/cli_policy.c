/* SPDX-License-Identifier: MIT
 * cli_policy.c — `openclaw policy list|get|create|update|deprecate|history|diff|rollback|
 * effective|explain` (/api/v1/policies).
 *
 * A policy document is given with --file (YAML or JSON; "-" is standard input) or --content:
 * text whose first non-blank character is '{' is parsed locally (strictly) and sent as the
 * "content" object, anything else travels as "content_yaml" text for the gateway to parse.
 * Every write needs --reason (the gateway's "change_reason", recorded in the audit trail).
 * Policy writes that the gateway refuses carry a "violations" list in the error envelope;
 * cli_call prints each one on its own line below the usual error line. The request-body
 * builders and formatters are pure so tests/unit/cli/test_cli.c can check them without a gateway.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

#include <errno.h>

const char cli_help_policy[] =
    "usage: openclaw policy list|get|create|update|deprecate|history|diff|rollback|effective|"
    "explain ...\n"
    "\n"
    "  policy list [--scope S] [--domain D]\n"
    "      GET /api/v1/policies (latest version of each policy the token may read)\n"
    "  policy get <id> [--version N]\n"
    "  policy create --scope S [--scope-id ID] --domain D (--file PATH | --content TEXT)\n"
    "                --reason TEXT\n"
    "  policy update <id> (--file PATH | --content TEXT) --reason TEXT [--expected-version N]\n"
    "  policy deprecate <id> --reason TEXT\n"
    "  policy history <id>\n"
    "  policy diff <id> --from N --to M\n"
    "  policy rollback <id> --version N --reason TEXT\n"
    "  policy effective --domain D\n"
    "      the caller's effective policy of a domain and the chain it was merged from\n"
    "  policy explain --action A --resource R [--classification L] [--namespace NS]\n"
    "                 [--context KEY=VALUE ...] [--user USER]\n"
    "      POST /api/v1/policies/evaluate (dry run): decision, reason, deciding policy, trace;\n"
    "      with --namespace also whether the namespace is reachable, or the missing grant.\n"
    "      Exits 0 whenever the gateway answered, whatever the decision.\n"
    "\n"
    "Scopes: enterprise, org (--scope-id org-unit path), team (team id), user (user id).\n"
    "Domains: models, actions, integrations, agent-to-agent, features, data, audit.\n"
    "Actions: tool_call, connector_read, connector_write, model_call, agent_message,\n"
    "feature_use, data_export.\n"
    "The document (--file, \"-\" for standard input, or --content) is YAML or JSON; text that\n"
    "starts with '{' must be a JSON object. Refused writes list each violation as\n"
    "\"  - field: message\" on stderr (exit code 5).\n";

static const struct cli_optdef list_opts[] = {{"scope", CLI_OPT_ARG},
                                              {"domain", CLI_OPT_ARG},
                                              {NULL, 0}};
static const struct cli_optdef get_opts[] = {{"version", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef create_opts[] = {{"scope", CLI_OPT_ARG},
                                                {"scope-id", CLI_OPT_ARG},
                                                {"domain", CLI_OPT_ARG},
                                                {"file", CLI_OPT_ARG | CLI_OPT_FILE},
                                                {"content", CLI_OPT_ARG},
                                                {"reason", CLI_OPT_ARG},
                                                {NULL, 0}};
static const struct cli_optdef update_opts[] = {{"file", CLI_OPT_ARG | CLI_OPT_FILE},
                                                {"content", CLI_OPT_ARG},
                                                {"reason", CLI_OPT_ARG},
                                                {"expected-version", CLI_OPT_ARG},
                                                {NULL, 0}};
static const struct cli_optdef reason_opts[] = {{"reason", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef no_opts[] = {{NULL, 0}};
static const struct cli_optdef diff_opts[] = {{"from", CLI_OPT_ARG},
                                              {"to", CLI_OPT_ARG},
                                              {NULL, 0}};
static const struct cli_optdef rollback_opts[] = {{"version", CLI_OPT_ARG},
                                                  {"reason", CLI_OPT_ARG},
                                                  {NULL, 0}};
static const struct cli_optdef effective_opts[] = {{"domain", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef explain_opts[] = {{"action", CLI_OPT_ARG},
                                                 {"resource", CLI_OPT_ARG},
                                                 {"classification", CLI_OPT_ARG},
                                                 {"context", CLI_OPT_ARG | CLI_OPT_MULTI},
                                                 {"user", CLI_OPT_ARG},
                                                 {"namespace", CLI_OPT_ARG},
                                                 {NULL, 0}};

static const struct cli_sub subs[] = {
    {"list", list_opts, NULL},           {"get", get_opts, NULL},
    {"create", create_opts, NULL},       {"update", update_opts, NULL},
    {"deprecate", reason_opts, NULL},    {"history", no_opts, NULL},
    {"diff", diff_opts, NULL},           {"rollback", rollback_opts, NULL},
    {"effective", effective_opts, NULL}, {"explain", explain_opts, NULL},
};
const struct cli_command cli_command_policy = {"policy", cli_help_policy,    cli_cmd_policy,
                                               subs,     GW_ARRAY_LEN(subs), NULL};

#define MAX_VERSION 2147483647L

/* --- shared helpers (also used by cli_approvals.c) ---------------------------------------- */

size_t cli_format_violations(struct gw_buf *out, const json_t *reply)
{
    json_t *list = json_object_get(json_object_get(reply, "error"), "violations");
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *field = gw_json_str(v, "field");
        const char *msg = gw_json_str(v, "message");
        if (!field && !msg)
            continue;
        (void)gw_buf_puts(out, "  - ");
        if (field && *field) {
            cli_sanitize(out, field);
            (void)gw_buf_puts(out, ": ");
            /* the gateway's message may already start with "<field>: " */
            size_t fl = strlen(field);
            if (msg && !strncmp(msg, field, fl) && !strncmp(msg + fl, ": ", 2))
                msg += fl + 2;
        }
        cli_sanitize(out, msg ? msg : "(no message)");
        (void)gw_buf_puts(out, "\n");
        n++;
    }
    return n;
}

int cli_call(struct cli_ctx *ctx, const char *method, const char *url, const json_t *body,
             struct cli_response *rs, json_t **out)
{
    int rc = cli_http_json(ctx, method, url, body, rs, out);
    if (rc != CLI_EXIT_OK && rs->status >= 400 && rs->body.len) {
        char msg[160];
        json_t *v = gw_json_parse(rs->body.data, rs->body.len, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
        struct gw_buf b;
        gw_buf_init(&b, CLI_MAX_RESPONSE * 2);
        if (v && cli_format_violations(&b, v))
            fputs(b.data, stderr);
        gw_buf_release(&b);
        json_decref(v);
    }
    return rc;
}

int cli_parse_object(const char *text, size_t len, const char *what, json_t **out, char *err,
                     size_t errcap)
{
    char msg[160];
    json_t *v = gw_json_parse(text, len, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    if (!v) {
        snprintf(err, errcap, "%s is not valid JSON: %s", what, msg);
        return CLI_EXIT_USAGE;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(err, errcap, "%s must be a JSON object", what);
        return CLI_EXIT_USAGE;
    }
    *out = v;
    return CLI_EXIT_OK;
}

int cli_kv_put(json_t *obj, const char *kv, const char *opt, char *err, size_t errcap)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, errcap, "--%s needs KEY=VALUE, got '%.80s'", opt, kv);
        return CLI_EXIT_USAGE;
    }
    char *key = gw_xstrndup(kv, (size_t)(eq - kv));
    json_t *val = json_string(eq + 1);
    json_t *kcheck = json_string(key); /* keys must be UTF-8 too */
    int rc = CLI_EXIT_OK;
    if (!val || !kcheck) {
        snprintf(err, errcap, "--%s %.80s is not valid UTF-8", opt, key);
        rc = CLI_EXIT_USAGE;
    } else if (json_object_get(obj, key)) {
        snprintf(err, errcap, "--%s: key '%.80s' given more than once", opt, key);
        rc = CLI_EXIT_USAGE;
    } else {
        json_object_set(obj, key, val);
    }
    json_decref(val);
    json_decref(kcheck);
    free(key);
    return rc;
}

/* Sets body["content"] (text starting with '{') or body["content_yaml"]. */
int cli_policy_content(const char *text, size_t len, json_t *body, char *err, size_t errcap)
{
    if (memchr(text, '\0', len)) {
        snprintf(err, errcap, "the policy document contains a NUL byte");
        return CLI_EXIT_USAGE;
    }
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i == len) {
        snprintf(err, errcap, "the policy document is empty");
        return CLI_EXIT_USAGE;
    }
    if (text[i] == '{') {
        json_t *doc = NULL;
        int rc = cli_parse_object(text, len, "the policy document", &doc, err, errcap);
        if (rc != CLI_EXIT_OK)
            return rc;
        json_object_set_new(body, "content", doc);
        return CLI_EXIT_OK;
    }
    json_t *s = json_stringn(text, len);
    if (!s) {
        snprintf(err, errcap, "the policy document is not valid UTF-8");
        return CLI_EXIT_USAGE;
    }
    json_object_set_new(body, "content_yaml", s);
    return CLI_EXIT_OK;
}

static int put_str(json_t *o, const char *key, const char *s, const char *opt, char *err,
                   size_t errcap)
{
    json_t *v = json_string(s);
    if (!v) {
        snprintf(err, errcap, "--%s is not valid UTF-8", opt);
        return CLI_EXIT_USAGE;
    }
    json_object_set_new(o, key, v);
    return CLI_EXIT_OK;
}

static int read_doc(const struct cli_args *a, json_t *body, char *err, size_t errcap)
{
    const char *file = cli_args_get(a, "file");
    const char *content = cli_args_get(a, "content");
    if (!!file == !!content) {
        snprintf(err, errcap, "give the policy with exactly one of --file or --content");
        return CLI_EXIT_USAGE;
    }
    if (content)
        return cli_policy_content(content, strlen(content), body, err, errcap);
    struct gw_buf in;
    gw_buf_init(&in, CLI_MAX_POLICY_INPUT);
    FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
    int rc = CLI_EXIT_OK;
    if (!f) {
        snprintf(err, errcap, "%.200s: %s", file, strerror(errno));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    gw_err e = cli_read_stream(f, &in);
    if (f != stdin)
        fclose(f);
    if (e != GW_OK) {
        snprintf(err, errcap, "%.200s: %s", file,
                 e == GW_ETOOBIG ? "larger than 4 MiB" : "read error");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    rc = cli_policy_content(in.data ? in.data : "", in.len, body, err, errcap);
out:
    gw_buf_release(&in);
    return rc;
}

static int need_reason(const struct cli_args *a, json_t *body, char *err, size_t errcap)
{
    const char *r = cli_args_get(a, "reason");
    if (!r || !*r) {
        snprintf(err, errcap, "--reason TEXT is required (recorded in the audit trail)");
        return CLI_EXIT_USAGE;
    }
    return put_str(body, "change_reason", r, "reason", err, errcap);
}

static int version_opt(const struct cli_args *a, const char *opt, long *v, char *err, size_t errcap)
{
    const char *s = cli_args_get(a, opt);
    if (s && !cli_parse_long(s, 1, MAX_VERSION, v)) {
        snprintf(err, errcap, "--%s must be a version number (1-%ld)", opt, MAX_VERSION);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cli_policy_write_body(const struct cli_args *a, bool create, json_t **out, char *err,
                          size_t errcap)
{
    json_t *body = json_object();
    int rc = CLI_EXIT_OK;
    *out = NULL;
    if (create) {
        const char *scope = cli_args_get(a, "scope"), *domain = cli_args_get(a, "domain");
        const char *sid = cli_args_get(a, "scope-id");
        if (a->npos) {
            snprintf(err, errcap, "policy create takes no positional arguments");
            rc = CLI_EXIT_USAGE;
        } else if (!scope || !*scope || !domain || !*domain) {
            snprintf(err, errcap, "policy create needs --scope and --domain");
            rc = CLI_EXIT_USAGE;
        } else if ((rc = put_str(body, "scope", scope, "scope", err, errcap)) == CLI_EXIT_OK &&
                   (!sid || (rc = put_str(body, "scope_id", sid, "scope-id", err, errcap)) ==
                                CLI_EXIT_OK)) {
            rc = put_str(body, "domain", domain, "domain", err, errcap);
        }
    } else {
        long ev = 0;
        if (a->npos != 1) {
            snprintf(err, errcap, "policy update needs exactly one <id>");
            rc = CLI_EXIT_USAGE;
        } else if ((rc = version_opt(a, "expected-version", &ev, err, errcap)) == CLI_EXIT_OK &&
                   ev) {
            json_object_set_new(body, "expected_version", json_integer(ev));
        }
    }
    if (rc == CLI_EXIT_OK)
        rc = need_reason(a, body, err, errcap);
    if (rc == CLI_EXIT_OK)
        rc = read_doc(a, body, err, errcap);
    if (rc != CLI_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    *out = body;
    return CLI_EXIT_OK;
}

int cli_explain_body(const struct cli_args *a, json_t **out, char *err, size_t errcap)
{
    *out = NULL;
    const char *action = cli_args_get(a, "action"), *res = cli_args_get(a, "resource");
    const char *cls = cli_args_get(a, "classification"), *user = cli_args_get(a, "user");
    const char *ns = cli_args_get(a, "namespace");
    if (a->npos) {
        snprintf(err, errcap, "policy explain takes no positional arguments");
        return CLI_EXIT_USAGE;
    }
    if (!action || !*action || !res || !*res) {
        snprintf(err, errcap, "policy explain needs --action and --resource");
        return CLI_EXIT_USAGE;
    }
    json_t *body = json_object();
    int rc = put_str(body, "action", action, "action", err, errcap);
    if (rc == CLI_EXIT_OK)
        rc = put_str(body, "resource", res, "resource", err, errcap);
    if (rc == CLI_EXIT_OK && cls)
        rc = put_str(body, "classification", cls, "classification", err, errcap);
    if (rc == CLI_EXIT_OK && ns)
        rc = put_str(body, "namespace", ns, "namespace", err, errcap);
    size_t n = cli_args_count(a, "context");
    if (rc == CLI_EXIT_OK && n) {
        json_t *c = json_object();
        json_object_set_new(body, "context", c);
        for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i++)
            rc = cli_kv_put(c, cli_args_nth(a, "context", i), "context", err, errcap);
    }
    if (rc == CLI_EXIT_OK && user) {
        json_t *p = json_object();
        json_object_set_new(body, "principal", p);
        rc = put_str(p, "user", user, "user", err, errcap);
    }
    if (rc != CLI_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    *out = body;
    return CLI_EXIT_OK;
}

/* --- formatting -------------------------------------------------------------------------- */

static void field(struct gw_buf *out, const char *label, const char *value)
{
    (void)gw_buf_printf(out, "%-13s", label);
    cli_sanitize(out, value && *value ? value : "-");
    (void)gw_buf_puts(out, "\n");
}

static void field_json(struct gw_buf *out, const char *label, const json_t *v)
{
    char *c = cli_json_cell(v);
    field(out, label, c);
    free(c);
}

void cli_format_pretty(struct gw_buf *out, const json_t *v, const char *indent)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    const char *p = s ? s : "null";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *ln = gw_xstrndup(p, n);
        (void)gw_buf_puts(out, indent);
        cli_sanitize(out, ln);
        (void)gw_buf_puts(out, "\n");
        free(ln);
        p += n + (nl ? 1 : 0);
    }
    free(s);
}

static char *scope_text(const json_t *o)
{
    const char *scope = gw_json_str(o, "scope"), *sid = gw_json_str(o, "scope_id");
    if (!scope)
        return gw_xstrdup("-");
    return sid && *sid ? gw_xasprintf("%s %s", scope, sid) : gw_xstrdup(scope);
}

void cli_format_policy(struct gw_buf *out, const json_t *rec)
{
    field(out, "Policy:", gw_json_str(rec, "id"));
    char *sc = scope_text(rec);
    field(out, "Scope:", sc);
    free(sc);
    field(out, "Domain:", gw_json_str(rec, "domain"));
    char *ver = cli_json_cell(json_object_get(rec, "version"));
    const char *st = gw_json_str(rec, "status");
    char *vs = st ? gw_xasprintf("%s (%s)", ver, st) : gw_xstrdup(ver);
    field(out, "Version:", vs);
    free(vs);
    free(ver);
    field(out, "Tenant:", gw_json_str(rec, "tenant"));
    field(out, "Author:", gw_json_str(rec, "author"));
    field(out, "Created:", gw_json_str(rec, "created_at"));
    field(out, "Reason:", gw_json_str(rec, "change_reason"));
    (void)gw_buf_puts(out, "Content:\n");
    cli_format_pretty(out, json_object_get(rec, "content"), "  ");
}

void cli_format_explain(struct gw_buf *out, const json_t *r)
{
    const json_t *access = json_object_get(r, "access");
    if (json_is_object(access)) { /* the namespace check comes first */
        bool ok = json_is_true(json_object_get(access, "allowed"));
        char *s = gw_xasprintf("%s: %s", gw_json_str(access, "namespace"),
                               ok ? "reachable" : gw_json_str(access, "reason"));
        field(out, "Access:", s);
        free(s);
    }
    field(out, "Decision:", gw_json_str(r, "decision"));
    field(out, "Reason:", gw_json_str(r, "reason"));
    const json_t *p = json_object_get(r, "policy");
    if (json_is_object(p)) {
        char *sc = scope_text(p);
        char *ver = cli_json_cell(json_object_get(p, "version"));
        const char *id = gw_json_str(p, "id");
        char *s = gw_xasprintf("%s v%s (%s)", id ? id : "?", ver, sc);
        field(out, "Policy:", s);
        free(s);
        free(ver);
        free(sc);
    } else {
        field(out, "Policy:", "-  (no policy decided; default)");
    }
    /* only the obligations that are set (not null or false) */
    const json_t *ob = json_object_get(r, "obligations");
    if (json_is_object(ob)) {
        json_t *set = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ob, k, v)
            if (!json_is_null(v) && !json_is_false(v))
                json_object_set(set, k, v);
        if (json_object_size(set))
            field_json(out, "Obligations:", set);
        json_decref(set);
    }
    const json_t *trace = json_object_get(r, "trace");
    if (!json_is_array(trace) || !json_array_size(trace))
        return;
    (void)gw_buf_puts(out, "\nTrace:\n");
    static const char *const headers[] = {"SCOPE",   "SCOPE ID", "POLICY",
                                          "VERSION", "DECIDING", "NOTE"};
    static const char *const keys[] = {"scope", "scope_id", "policy_id", "version"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(trace, i, e) {
        char *cells[6];
        for (size_t c = 0; c < 4; c++)
            cells[c] = cli_json_cell(json_object_get(e, keys[c]));
        cells[4] = gw_xstrdup(json_is_true(json_object_get(e, "deciding")) ? "yes" : "-");
        const json_t *note = json_object_get(e, "note");
        cells[5] = cli_json_cell(note ? note : json_object_get(e, "contributes"));
        cli_table_add(&t, (const char *const *)cells);
        for (size_t c = 0; c < 6; c++)
            free(cells[c]);
    }
    cli_table_render(&t, out);
    cli_table_release(&t);
}

/* {"domain","effective","chain":[...]} (API.md); a reply with {"policy","source":{field:
 * where it came from}} instead is shown as well, with a FIELD SOURCE table. */
void cli_format_effective(struct gw_buf *out, const json_t *r)
{
    field(out, "Domain:", gw_json_str(r, "domain"));
    const json_t *chain = json_object_get(r, "chain"), *source = json_object_get(r, "source");
    const json_t *eff = json_object_get(r, "effective");
    if (!eff)
        eff = json_object_get(r, "policy");
    struct cli_table t;
    if (!chain && json_is_object(source)) {
        static const char *const sh[] = {"FIELD", "SOURCE"};
        (void)gw_buf_puts(out, "Sources:\n");
        cli_table_init(&t, sh, GW_ARRAY_LEN(sh));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)source, k, v) {
            char *c = cli_json_cell(v);
            const char *cells[2] = {k, c};
            cli_table_add(&t, cells);
            free(c);
        }
    } else {
        static const char *const headers[] = {"SCOPE", "SCOPE ID", "POLICY", "VERSION"};
        static const char *const keys[] = {"scope", "scope_id", "policy_id", "version"};
        (void)gw_buf_puts(out, "Chain:\n");
        cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
        size_t i;
        json_t *e;
        json_array_foreach(chain, i, e)
            cli_table_add_json(&t, e, keys);
    }
    struct gw_buf tb;
    gw_buf_init(&tb, CLI_MAX_RESPONSE * 2);
    cli_table_render(&t, &tb);
    cli_table_release(&t);
    /* indent the table under "Chain:" */
    for (const char *p = tb.data ? tb.data : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        (void)gw_buf_puts(out, "  ");
        (void)gw_buf_append(out, p, n);
        p += n;
    }
    gw_buf_release(&tb);
    (void)gw_buf_puts(out, "Effective:\n");
    cli_format_pretty(out, eff, "  ");
}

/* --- commands ---------------------------------------------------------------------------- */

struct pcall {
    struct cli_ctx *ctx;
    const struct cli_args *a;
    struct cli_response *rs;
    struct gw_buf url, out;
    json_t *reply;
    json_t *body;
    char err[300];
};

static int usage(struct pcall *pc)
{
    return cli_usage_error(cli_help_policy, "%s", pc->err);
}

/* Builds base URL /api/v1/policies[/<id>][suffix]. */
static int begin(struct pcall *pc, const char *id, const char *suffix)
{
    int rc = cli_ctx_resolve(pc->ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_url_begin(&pc->url, pc->ctx, "/api/v1/policies");
    if (id)
        cli_url_segment(&pc->url, id);
    if (suffix)
        cli_url_fixed(&pc->url, suffix);
    return CLI_EXIT_OK;
}

static int one_id(struct pcall *pc, const char *sub)
{
    if (pc->a->npos != 1)
        return cli_usage_error(cli_help_policy, "policy %s needs exactly one <id>", sub);
    return CLI_EXIT_OK;
}

static int send_call(struct pcall *pc, const char *method)
{
    int rc = cli_call(pc->ctx, method, pc->url.data, pc->body, pc->rs, &pc->reply);
    if (rc == CLI_EXIT_OK && pc->ctx->json)
        cli_print_raw(pc->rs->body.data, pc->rs->body.len);
    return rc;
}

static void headline(struct pcall *pc, const char *verb)
{
    const char *id = gw_json_str(pc->reply, "id");
    char *ver = cli_json_cell(json_object_get(pc->reply, "version"));
    (void)gw_buf_puts(&pc->out, "Policy ");
    cli_sanitize(&pc->out, id ? id : (pc->a->npos ? pc->a->pos[0] : "?"));
    (void)gw_buf_printf(&pc->out, " %s (version ", verb);
    cli_sanitize(&pc->out, ver);
    (void)gw_buf_puts(&pc->out, ")\n");
    free(ver);
}

static int p_list(struct pcall *pc)
{
    if (pc->a->npos)
        return cli_usage_error(cli_help_policy, "policy list takes no positional arguments");
    int rc = begin(pc, NULL, NULL);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_url_query(&pc->url, "scope", cli_args_get(pc->a, "scope"));
    cli_url_query(&pc->url, "domain", cli_args_get(pc->a, "domain"));
    if ((rc = send_call(pc, "GET")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    static const char *const headers[] = {"ID",      "SCOPE",  "SCOPE ID", "DOMAIN",
                                          "VERSION", "STATUS", "AUTHOR",   "CREATED"};
    static const char *const keys[] = {"id",      "scope",  "scope_id", "domain",
                                       "version", "status", "author",   "created_at"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(pc->reply, "policies"), i, e)
        cli_table_add_json(&t, e, keys);
    cli_table_render(&t, &pc->out);
    cli_table_release(&t);
    return CLI_EXIT_OK;
}

static int p_get(struct pcall *pc)
{
    long v = 0;
    int rc = one_id(pc, "get");
    if (rc != CLI_EXIT_OK)
        return rc;
    if (version_opt(pc->a, "version", &v, pc->err, sizeof(pc->err)) != CLI_EXIT_OK)
        return usage(pc);
    if ((rc = begin(pc, pc->a->pos[0], NULL)) != CLI_EXIT_OK)
        return rc;
    cli_url_query(&pc->url, "version", cli_args_get(pc->a, "version"));
    if ((rc = send_call(pc, "GET")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    cli_format_policy(&pc->out, pc->reply);
    return CLI_EXIT_OK;
}

static int p_write(struct pcall *pc, bool create)
{
    int rc = cli_policy_write_body(pc->a, create, &pc->body, pc->err, sizeof(pc->err));
    if (rc == CLI_EXIT_USAGE)
        return usage(pc);
    if (rc != CLI_EXIT_OK) {
        fprintf(stderr, "error: %s\n", pc->err);
        return rc;
    }
    if ((rc = begin(pc, create ? NULL : pc->a->pos[0], NULL)) != CLI_EXIT_OK)
        return rc;
    if ((rc = send_call(pc, create ? "POST" : "PUT")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    headline(pc, create ? "created" : "updated");
    return CLI_EXIT_OK;
}

static int p_deprecate(struct pcall *pc)
{
    int rc = one_id(pc, "deprecate");
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *r = cli_args_get(pc->a, "reason");
    if (!r || !*r)
        return cli_usage_error(cli_help_policy, "--reason TEXT is required");
    if ((rc = begin(pc, pc->a->pos[0], NULL)) != CLI_EXIT_OK)
        return rc;
    cli_url_query(&pc->url, "change_reason", r);
    if ((rc = send_call(pc, "DELETE")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    headline(pc, "deprecated");
    return CLI_EXIT_OK;
}

static int p_history(struct pcall *pc)
{
    int rc = one_id(pc, "history");
    if (rc != CLI_EXIT_OK || (rc = begin(pc, pc->a->pos[0], "/history")) != CLI_EXIT_OK)
        return rc;
    if ((rc = send_call(pc, "GET")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    static const char *const headers[] = {"VERSION", "STATUS", "AUTHOR", "CREATED", "REASON"};
    static const char *const keys[] = {"version", "status", "author", "created_at",
                                       "change_reason"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(pc->reply, "versions"), i, e)
        cli_table_add_json(&t, e, keys);
    cli_table_render(&t, &pc->out);
    cli_table_release(&t);
    return CLI_EXIT_OK;
}

static int p_diff(struct pcall *pc)
{
    long from = 0, to = 0;
    int rc = one_id(pc, "diff");
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!cli_args_has(pc->a, "from") || !cli_args_has(pc->a, "to"))
        return cli_usage_error(cli_help_policy, "policy diff needs --from N and --to M");
    if (version_opt(pc->a, "from", &from, pc->err, sizeof(pc->err)) != CLI_EXIT_OK ||
        version_opt(pc->a, "to", &to, pc->err, sizeof(pc->err)) != CLI_EXIT_OK)
        return usage(pc);
    if ((rc = begin(pc, pc->a->pos[0], "/diff")) != CLI_EXIT_OK)
        return rc;
    cli_url_query(&pc->url, "from", cli_args_get(pc->a, "from"));
    cli_url_query(&pc->url, "to", cli_args_get(pc->a, "to"));
    if ((rc = send_call(pc, "GET")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    json_t *changes = json_object_get(pc->reply, "changes");
    if (!json_array_size(changes)) {
        (void)gw_buf_printf(&pc->out, "No changes between version %ld and version %ld\n", from, to);
        return CLI_EXIT_OK;
    }
    static const char *const headers[] = {"FIELD", "FROM", "TO"};
    static const char *const keys[] = {"field", "from", "to"};
    struct cli_table t;
    cli_table_init(&t, headers, GW_ARRAY_LEN(headers));
    size_t i;
    json_t *e;
    json_array_foreach(changes, i, e)
        cli_table_add_json(&t, e, keys);
    cli_table_render(&t, &pc->out);
    cli_table_release(&t);
    return CLI_EXIT_OK;
}

static int p_rollback(struct pcall *pc)
{
    long v = 0;
    int rc = one_id(pc, "rollback");
    if (rc != CLI_EXIT_OK)
        return rc;
    if (!cli_args_has(pc->a, "version"))
        return cli_usage_error(cli_help_policy, "policy rollback needs --version N");
    pc->body = json_object();
    if (version_opt(pc->a, "version", &v, pc->err, sizeof(pc->err)) != CLI_EXIT_OK ||
        need_reason(pc->a, pc->body, pc->err, sizeof(pc->err)) != CLI_EXIT_OK)
        return usage(pc);
    json_object_set_new(pc->body, "version", json_integer(v));
    if ((rc = begin(pc, pc->a->pos[0], "/rollback")) != CLI_EXIT_OK)
        return rc;
    if ((rc = send_call(pc, "POST")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    char *hl = gw_xasprintf("rolled back to the content of version %ld", v);
    headline(pc, hl);
    free(hl);
    return CLI_EXIT_OK;
}

static int p_effective(struct pcall *pc)
{
    const char *d = cli_args_get(pc->a, "domain");
    if (pc->a->npos || !d || !*d)
        return cli_usage_error(cli_help_policy, "policy effective needs --domain D (and no "
                                                "positional arguments)");
    int rc = begin(pc, NULL, "/effective");
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_url_query(&pc->url, "domain", d);
    if ((rc = send_call(pc, "GET")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    cli_format_effective(&pc->out, pc->reply);
    return CLI_EXIT_OK;
}

static int p_explain(struct pcall *pc)
{
    if (cli_explain_body(pc->a, &pc->body, pc->err, sizeof(pc->err)) != CLI_EXIT_OK)
        return usage(pc);
    int rc = begin(pc, NULL, "/evaluate");
    if (rc != CLI_EXIT_OK)
        return rc;
    if ((rc = send_call(pc, "POST")) != CLI_EXIT_OK || pc->ctx->json)
        return rc;
    cli_format_explain(&pc->out, pc->reply);
    return CLI_EXIT_OK;
}

int cli_cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *s = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_policy, &si, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *sub = s->name;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    cli_response_init(&rs);
    struct pcall pc = {.ctx = ctx, .a = a, .rs = &rs};
    gw_buf_init(&pc.url, 1);
    gw_buf_init(&pc.out, CLI_MAX_RESPONSE * 4);
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, s->opts, cli_help_policy, a);
    if (rc == CLI_EXIT_OK) {
        if (!strcmp(sub, "list"))
            rc = p_list(&pc);
        else if (!strcmp(sub, "get"))
            rc = p_get(&pc);
        else if (!strcmp(sub, "create") || !strcmp(sub, "update"))
            rc = p_write(&pc, !strcmp(sub, "create"));
        else if (!strcmp(sub, "deprecate"))
            rc = p_deprecate(&pc);
        else if (!strcmp(sub, "history"))
            rc = p_history(&pc);
        else if (!strcmp(sub, "diff"))
            rc = p_diff(&pc);
        else if (!strcmp(sub, "rollback"))
            rc = p_rollback(&pc);
        else if (!strcmp(sub, "effective"))
            rc = p_effective(&pc);
        else
            rc = p_explain(&pc);
    }
    if (rc == CLI_EXIT_OK)
        cli_print_buf(&pc.out);
    json_decref(pc.reply);
    json_decref(pc.body);
    gw_buf_release(&pc.url);
    gw_buf_release(&pc.out);
    cli_response_release(&rs);
    free(a);
    return rc;
}
