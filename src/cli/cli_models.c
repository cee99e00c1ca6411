/* SPDX-License-Identifier: MIT
 * cli_models.c — `openclaw models ...` and `openclaw providers ...`: the model providers and
 * models of the gateway (gateway.yaml's and those added at run time), which agent uses which,
 * test calls, and their administration (/api/v1/models, /api/v1/providers,
 * /api/v1/agents/<ns>/<agent>/model).
 *
 * An API key is never an argument (it would show in `ps` and the shell history): it is read
 * from a file (or standard input) or from an environment variable, and the gateway only ever
 * shows "set" and its last four characters. The request bodies are built by pure functions
 * (cli_provider_body, cli_model_body) that tests/unit/cli/test_cli.c checks without a gateway.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define KEY_MAX 4096

const char cli_help_models[] =
    "usage: openclaw models list|add|set|test|disable|enable|remove|assign ...\n"
    "\n"
    "  models list [--provider NAME]\n"
    "      GET /api/v1/models: every model (from gateway.yaml or added at run time) with its\n"
    "      state, prices and the agents that use it; then what each agent answers with\n"
    "  models add <provider/model> [--upstream NAME] [--input-price USD] [--output-price USD]\n"
    "             [--disabled]\n"
    "      POST /api/v1/models: a model of a provider (prices in USD per million tokens;\n"
    "      --upstream: the name the provider knows it by)\n"
    "  models set <provider/model> [--upstream NAME] [--input-price USD] [--output-price USD]\n"
    "      PATCH /api/v1/models/<provider>/<model>\n"
    "  models test <provider/model | provider>\n"
    "      POST .../test: a real one-line call to the model (to each model of a provider, at\n"
    "      most 8): the latency, or what went wrong and what to do; exit 1 when one failed\n"
    "  models disable|enable <provider/model>\n"
    "      calls to a disabled model are refused; it stays listed\n"
    "  models remove <provider/model>\n"
    "      DELETE /api/v1/models/<provider>/<model> (not while an agent uses it)\n"
    "  models assign <namespace/agent> <provider/model | none>\n"
    "      PUT /api/v1/agents/<namespace>/<agent>/model: the model an agent registered through\n"
    "      the API answers with (none: its messages are kept in its mailbox)\n"
    "\n"
    "Entries of gateway.yaml are shown with source \"config\" and changed in the file.\n"
    "Changes need the permission models:admin (listing: models:read; assign: agents:write).\n";

const char cli_help_providers[] =
    "usage: openclaw providers list|show|add|set|test|disable|enable|remove ...\n"
    "\n"
    "  providers list\n"
    "      GET /api/v1/providers: every provider, its source, state, API key (set or not) and\n"
    "      models\n"
    "  providers show <name>\n"
    "  providers add <name> --api openai|anthropic|ollama --base-url URL\n"
    "                [--api-key-file FILE | --api-key-env VAR] [--kind external|self_hosted]\n"
    "                [--max-classification LEVEL] [--region REGION] [--timeout-ms N]\n"
    "                [--connect-timeout-ms N] [--retries N] [--fallback PROVIDER/MODEL]...\n"
    "                [--model NAME]... [--disabled]\n"
    "      POST /api/v1/providers (an OpenAI-compatible server such as vLLM or llama.cpp is\n"
    "      --api openai with a base URL ending in /v1)\n"
    "  providers set <name> [the options of add, but --model and --disabled]\n"
    "                [--no-api-key] [--no-fallback]\n"
    "      PATCH /api/v1/providers/<name>: changes what is given, for the next calls\n"
    "  providers test <name>\n"
    "      the same as `openclaw models test <name>`\n"
    "  providers disable|enable <name>\n"
    "  providers remove <name>\n"
    "      DELETE /api/v1/providers/<name>, with its models (not while an agent uses one)\n"
    "\n"
    "--api-key-file - reads the key from standard input. The key is write-only: the gateway\n"
    "shows only whether one is set and its last four characters.\n";

/* --- request bodies (pure) ------------------------------------------------------------------ */

static int number(json_t *body, const char *key, const char *opt, const char *v, long max,
                  char *err, size_t cap)
{
    long n;
    if (!cli_parse_long(v, 0, max, &n)) {
        snprintf(err, cap, "--%s must be a whole number from 0 to %ld", opt, max);
        return CLI_EXIT_USAGE;
    }
    json_object_set_new(body, key, json_integer(n));
    return CLI_EXIT_OK;
}

static int price(json_t *body, const char *key, const char *opt, const char *v, char *err,
                 size_t cap)
{
    char *end = NULL;
    errno = 0;
    double d = v ? strtod(v, &end) : -1;
    if (!v || !*v || *end || errno || !isfinite(d) || d < 0) {
        snprintf(err, cap, "--%s must be a number of USD per million tokens", opt);
        return CLI_EXIT_USAGE;
    }
    json_object_set_new(body, key, json_real(d));
    return CLI_EXIT_OK;
}

/* The key from --api-key-file (a file, or "-": standard input) or --api-key-env. */
static int read_key(const struct cli_args *a, json_t *body, char *err, size_t cap)
{
    const char *file = cli_args_get(a, "api-key-file"), *env = cli_args_get(a, "api-key-env");
    if (file && env) {
        snprintf(err, cap, "give the API key with one of --api-key-file or --api-key-env");
        return CLI_EXIT_USAGE;
    }
    if (!file && !env)
        return CLI_EXIT_OK;
    struct gw_buf in;
    gw_buf_init(&in, KEY_MAX + 2);
    int rc = CLI_EXIT_OK;
    if (env) {
        const char *v = getenv(env);
        if (!v || !*v) {
            snprintf(err, cap, "--api-key-env: the variable %.100s is not set", env);
            rc = CLI_EXIT_USAGE;
        } else if (gw_buf_puts(&in, v) != GW_OK) {
            snprintf(err, cap, "--api-key-env: the key is longer than %d bytes", KEY_MAX);
            rc = CLI_EXIT_USAGE;
        }
    } else {
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        gw_err e = f ? cli_read_stream(f, &in) : GW_EIO;
        if (!f)
            snprintf(err, cap, "%.200s: %s", file, strerror(errno));
        else if (e != GW_OK)
            snprintf(err, cap, "%.200s: %s", file,
                     e == GW_ETOOBIG ? "longer than a key can be" : "read error");
        if (f && f != stdin)
            fclose(f);
        rc = e == GW_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    while (rc == CLI_EXIT_OK && in.len &&
           (in.data[in.len - 1] == '\n' || in.data[in.len - 1] == '\r'))
        in.data[--in.len] = '\0';
    if (rc == CLI_EXIT_OK && (!in.len || strlen(in.data) != in.len)) {
        snprintf(err, cap, "the API key is empty");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK)
        json_object_set_new(body, "api_key", json_string(in.data));
    if (in.data)
        explicit_bzero(in.data, in.len);
    gw_buf_release(&in);
    return rc;
}

int cli_provider_body(const struct cli_args *a, bool add, json_t **out, char *err, size_t cap)
{
    static const char *const strs[][2] = {{"api", "api"},
                                          {"base-url", "base_url"},
                                          {"kind", "kind"},
                                          {"max-classification", "max_classification"},
                                          {"region", "region"}};
    static const char *const nums[][2] = {{"timeout-ms", "timeout_ms"},
                                          {"connect-timeout-ms", "connect_timeout_ms"},
                                          {"retries", "retries"}};
    json_t *body = json_object();
    int rc = CLI_EXIT_OK;
    if (add && !cli_json_put(body, "name", a->pos[0]))
        rc = CLI_EXIT_USAGE;
    for (size_t i = 0; i < GW_ARRAY_LEN(strs) && rc == CLI_EXIT_OK; i++) {
        const char *v = cli_args_get(a, strs[i][0]);
        if (v && !cli_json_put(body, strs[i][1], v))
            rc = CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(nums) && rc == CLI_EXIT_OK; i++) {
        const char *v = cli_args_get(a, nums[i][0]);
        if (v)
            rc = number(body, nums[i][1], nums[i][0], v, 3600000, err, cap);
    }
    size_t nf = cli_args_count(a, "fallback"), nm = cli_args_count(a, "model");
    if (rc == CLI_EXIT_OK && (nf || cli_args_has(a, "no-fallback"))) {
        json_t *fb = json_array();
        for (size_t i = 0; i < nf; i++)
            json_array_append_new(fb, json_string(cli_args_nth(a, "fallback", i)));
        json_object_set_new(body, "fallback", fb);
    }
    if (rc == CLI_EXIT_OK && nm) {
        json_t *models = json_array();
        for (size_t i = 0; i < nm; i++)
            json_array_append_new(models, json_pack("{s:s}", "name", cli_args_nth(a, "model", i)));
        json_object_set_new(body, "models", models);
    }
    if (rc == CLI_EXIT_OK && cli_args_has(a, "disabled"))
        json_object_set_new(body, "enabled", json_false());
    if (rc == CLI_EXIT_OK && cli_args_has(a, "no-api-key")) {
        if (cli_args_get(a, "api-key-file") || cli_args_get(a, "api-key-env")) {
            snprintf(err, cap, "--no-api-key and a new key contradict each other");
            rc = CLI_EXIT_USAGE;
        }
        json_object_set_new(body, "api_key", json_null());
    }
    if (rc == CLI_EXIT_OK)
        rc = read_key(a, body, err, cap);
    if (rc == CLI_EXIT_OK && !add && json_object_size(body) == 0) {
        snprintf(err, cap, "nothing to change: give at least one option");
        rc = CLI_EXIT_USAGE;
    }
    if (rc != CLI_EXIT_OK && !err[0])
        snprintf(err, cap, "invalid value (not UTF-8)");
    if (rc != CLI_EXIT_OK)
        json_decref(body);
    else
        *out = body;
    return rc;
}

int cli_model_body(const struct cli_args *a, bool add, json_t **out, char *err, size_t cap)
{
    json_t *body = json_object();
    int rc = CLI_EXIT_OK;
    const char *up = cli_args_get(a, "upstream");
    if ((add && !cli_json_put(body, "id", a->pos[0])) ||
        (up && !cli_json_put(body, "upstream", up))) {
        snprintf(err, cap, "invalid value (not UTF-8)");
        rc = CLI_EXIT_USAGE;
    }
    if (rc == CLI_EXIT_OK && cli_args_get(a, "input-price"))
        rc = price(body, "input_per_mtok", "input-price", cli_args_get(a, "input-price"), err, cap);
    if (rc == CLI_EXIT_OK && cli_args_get(a, "output-price"))
        rc = price(body, "output_per_mtok", "output-price", cli_args_get(a, "output-price"), err,
                   cap);
    if (rc == CLI_EXIT_OK && cli_args_has(a, "disabled"))
        json_object_set_new(body, "enabled", json_false());
    if (rc == CLI_EXIT_OK && !add && json_object_size(body) == 0) {
        snprintf(err, cap,
                 "nothing to change: give --upstream, --input-price or "
                 "--output-price (or use enable|disable)");
        rc = CLI_EXIT_USAGE;
    }
    if (rc != CLI_EXIT_OK)
        json_decref(body);
    else
        *out = body;
    return rc;
}

/* --- output (pure) -------------------------------------------------------------------------- */

/* "set …1234", "set", or "-". Caller frees. */
static char *key_cell(const json_t *key)
{
    const char *last4 = json_string_value(json_object_get(key, "last4"));
    if (!json_is_true(json_object_get(key, "set")))
        return gw_xstrdup("-");
    return last4 ? gw_xasprintf("set ...%s", last4) : gw_xstrdup("set");
}

static char *price_cell(const json_t *m)
{
    char *in = cli_money(json_number_value(json_object_get(m, "input_per_mtok")));
    char *out = cli_money(json_number_value(json_object_get(m, "output_per_mtok")));
    char *s = gw_xasprintf("%s / %s", in, out);
    free(in);
    free(out);
    return s;
}

void cli_format_models(struct gw_buf *out, const json_t *reply, const char *provider)
{
    static const char *const mh[] = {"MODEL", "SOURCE", "STATE", "KIND", "USD/MTOK IN / OUT",
                                     "AGENTS"};
    static const char *const ah[] = {"AGENT", "MODEL", "SOURCE", "STATE"};
    struct cli_table t;
    cli_table_init(&t, mh, GW_ARRAY_LEN(mh));
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(reply, "models"), i, m) {
        const char *prov = gw_json_str(m, "provider");
        if (provider && (!prov || strcmp(provider, prov) != 0))
            continue;
        char *cells[GW_ARRAY_LEN(mh)] = {cli_json_cell(json_object_get(m, "id")),
                                         cli_json_cell(json_object_get(m, "source")),
                                         cli_json_cell(json_object_get(m, "state")),
                                         cli_json_cell(json_object_get(m, "kind")),
                                         price_cell(m),
                                         cli_json_cell(json_object_get(m, "agents"))};
        cli_table_add(&t, (const char *const *)cells);
        for (size_t k = 0; k < GW_ARRAY_LEN(cells); k++)
            free(cells[k]);
    }
    if (t.nrows)
        cli_table_render(&t, out);
    else
        (void)gw_buf_puts(out, "No models. Add a provider: openclaw providers add NAME --api "
                               "openai --base-url URL --model NAME\n");
    cli_table_release(&t);
    const json_t *agents = json_object_get(reply, "agents");
    if (!json_array_size(agents) || provider)
        return;
    static const char *const keys[] = {"agent", "model", "source", "state"};
    cli_table_init(&t, ah, GW_ARRAY_LEN(ah));
    json_array_foreach(agents, i, m)
        cli_table_add_json(&t, m, keys);
    (void)gw_buf_puts(out, "\n");
    cli_table_render(&t, out);
    cli_table_release(&t);
}

void cli_format_providers(struct gw_buf *out, const json_t *reply)
{
    static const char *const h[] = {"NAME",     "SOURCE",  "STATE", "API",
                                    "BASE URL", "API KEY", "MODELS"};
    static const char *const keys[] = {"name", "source", "state", "api", "base_url"};
    struct cli_table t;
    cli_table_init(&t, h, GW_ARRAY_LEN(h));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(reply, "providers"), i, p) {
        char *cells[GW_ARRAY_LEN(h)];
        for (size_t k = 0; k < GW_ARRAY_LEN(keys); k++)
            cells[k] = cli_json_cell(json_object_get(p, keys[k]));
        cells[5] = key_cell(json_object_get(p, "api_key"));
        cells[6] = cli_json_cell(json_object_get(p, "models"));
        cli_table_add(&t, (const char *const *)cells);
        for (size_t k = 0; k < GW_ARRAY_LEN(cells); k++)
            free(cells[k]);
    }
    if (t.nrows)
        cli_table_render(&t, out);
    else
        (void)gw_buf_puts(out, "No providers. Add one: openclaw providers add NAME --api openai "
                               "--base-url URL --model NAME\n");
    cli_table_release(&t);
}

#define FIELD_WIDTH 23

/* "64 concurrent, rpm 0, tpm 0, queue 1024, wait 10000 ms" (0: unlimited). Caller frees. */
static char *limits_cell(const json_t *l)
{
    if (!json_is_object(l))
        return gw_xstrdup("-");
    return gw_xasprintf("%lld concurrent, rpm %lld, tpm %lld, queue %lld, wait %lld ms",
                        (long long)json_integer_value(json_object_get(l, "max_concurrent")),
                        (long long)json_integer_value(json_object_get(l, "rpm")),
                        (long long)json_integer_value(json_object_get(l, "tpm")),
                        (long long)json_integer_value(json_object_get(l, "max_queue")),
                        (long long)json_integer_value(json_object_get(l, "max_wait_ms")));
}

static void field_json(struct gw_buf *out, const char *label, const json_t *v)
{
    char *c = cli_json_cell(v);
    cli_field(out, FIELD_WIDTH, label, c);
    free(c);
}

void cli_format_provider(struct gw_buf *out, const json_t *p)
{
    (void)gw_buf_puts(out, "Provider ");
    cli_sanitize(out, gw_json_str(p, "name"));
    (void)gw_buf_puts(out, "\n");
    static const char *const rows[][2] = {
        {"  Source:", "source"},
        {"  State:", "state"},
        {"  Problem:", "problem"},
        {"  API:", "api"},
        {"  Base URL:", "base_url"},
        {"  Kind:", "kind"},
        {"  Max classification:", "max_classification"},
        {"  Region:", "region"},
        {"  Timeout (ms):", "timeout_ms"},
        {"  Connect (ms):", "connect_timeout_ms"},
        {"  Retries:", "retries"},
        {"  Fallback:", "fallback"},
        {"  Limits:", "limits"},
        {"  Models:", "models"},
        {"  Updated by:", "updated_by"},
        {"  Updated at:", "updated_at"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(rows); i++) {
        const json_t *v = json_object_get(p, rows[i][1]);
        if (i == 3) {
            char *k = key_cell(json_object_get(p, "api_key"));
            cli_field(out, FIELD_WIDTH, "  API key:", k);
            free(k);
        }
        if (!strcmp(rows[i][1], "limits")) {
            char *l = limits_cell(v);
            cli_field(out, FIELD_WIDTH, rows[i][0], l);
            free(l);
        } else if (v || i > 2) {
            field_json(out, rows[i][0], v);
        }
    }
}

void cli_format_probe(struct gw_buf *out, const json_t *reply)
{
    size_t i, width = 0;
    json_t *r;
    json_array_foreach(json_object_get(reply, "results"), i, r) {
        size_t n = strlen(gw_json_str(r, "model") ? gw_json_str(r, "model") : "");
        width = n > width ? n : width;
    }
    json_array_foreach(json_object_get(reply, "results"), i, r) {
        bool ok = json_is_true(json_object_get(r, "ok"));
        const char *model = gw_json_str(r, "model");
        (void)gw_buf_printf(out, "%-7s ", ok ? "ok" : "FAILED");
        cli_sanitize(out, model);
        (void)gw_buf_printf(out, "%*s  %lld ms", (int)(width - strlen(model ? model : "")), "",
                            (long long)json_integer_value(json_object_get(r, "latency_ms")));
        if (ok) {
            (void)gw_buf_puts(out, "  answer: ");
            const char *a = gw_json_str(r, "answer");
            cli_sanitize(out, a && *a ? a : "(empty)");
        }
        (void)gw_buf_puts(out, "\n");
        if (!ok) {
            (void)gw_buf_puts(out, "        error: ");
            cli_sanitize(out, gw_json_str(r, "error"));
            (void)gw_buf_puts(out, "\n");
        }
        if (!ok && gw_json_str(r, "hint")) {
            (void)gw_buf_puts(out, "        what to do: ");
            cli_sanitize(out, gw_json_str(r, "hint"));
            (void)gw_buf_puts(out, "\n");
        }
    }
    if (gw_json_str(reply, "note")) {
        cli_sanitize(out, gw_json_str(reply, "note"));
        (void)gw_buf_puts(out, "\n");
    }
}

/* --- requests ------------------------------------------------------------------------------- */

/* "/api/v1/<family>" + one or two segments of name (split at its first '/' when two). */
static void entry_url(struct gw_buf *u, const struct cli_ctx *ctx, const char *family,
                      const char *name, bool split)
{
    cli_url_begin(u, ctx, family);
    const char *slash = split ? strchr(name, '/') : NULL;
    if (!slash) {
        cli_url_segment(u, name);
        return;
    }
    char *first = gw_xstrndup(name, (size_t)(slash - name));
    cli_url_segment(u, first);
    cli_url_segment(u, slash + 1);
    free(first);
}

/* One request; prints the JSON (--json), or done's text. */
static int request(struct cli_ctx *ctx, const char *method, struct gw_buf *url, json_t *body,
                   struct cli_response *rs, void (*done)(struct gw_buf *, const json_t *, void *),
                   void *arg)
{
    json_t *reply = NULL;
    struct gw_buf out;
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    int rc = cli_call(ctx, method, url->data, body, rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        done(&out, reply, arg);
        cli_print_buf(&out);
    }
    json_decref(reply);
    json_decref(body);
    gw_buf_release(url);
    gw_buf_release(&out);
    return rc;
}

static void say(struct gw_buf *out, const json_t *reply, void *arg)
{
    GW_UNUSED(reply);
    cli_sanitize(out, arg);
    (void)gw_buf_puts(out, "\n");
}

static void show_provider(struct gw_buf *out, const json_t *reply, void *arg)
{
    GW_UNUSED(arg);
    cli_format_provider(out, reply);
}

static void show_providers(struct gw_buf *out, const json_t *reply, void *arg)
{
    GW_UNUSED(arg);
    cli_format_providers(out, reply);
}

static void show_models(struct gw_buf *out, const json_t *reply, void *arg)
{
    cli_format_models(out, reply, arg);
}

static void show_model(struct gw_buf *out, const json_t *m, void *arg)
{
    GW_UNUSED(arg);
    json_t *wrap = json_pack("{s:[O]}", "models", m);
    cli_format_models(out, wrap, NULL);
    json_decref(wrap);
}

static int one_name(const struct cli_args *a, const char *help, const char *what, bool id)
{
    if (a->npos != 1 || (id && !strchr(a->pos[0], '/')))
        return cli_usage_error(help, "%s", what);
    return CLI_EXIT_OK;
}

/* --- openclaw models ------------------------------------------------------------------------ */

static const struct cli_optdef list_opts[] = {{"provider", CLI_OPT_ARG}, {NULL, 0}};
static const struct cli_optdef model_add_opts[] = {{"upstream", CLI_OPT_ARG},
                                                   {"input-price", CLI_OPT_ARG},
                                                   {"output-price", CLI_OPT_ARG},
                                                   {"disabled", 0},
                                                   {NULL, 0}};
static const struct cli_optdef model_set_opts[] = {{"upstream", CLI_OPT_ARG},
                                                   {"input-price", CLI_OPT_ARG},
                                                   {"output-price", CLI_OPT_ARG},
                                                   {NULL, 0}};

static int models_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_models, "models list takes no positional arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/models");
    return request(ctx, "GET", &url, NULL, rs, show_models, (void *)cli_args_get(a, "provider"));
}

/* add (POST to the family) or set (PATCH the entry) a provider or a model. */
static int write_entry(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs,
                       bool provider, bool add)
{
    const char *help = provider ? cli_help_providers : cli_help_models;
    const char *family = provider ? "/api/v1/providers" : "/api/v1/models";
    int rc = one_name(a, help, provider ? "give one <provider>" : "give one <provider/model>",
                      !provider);
    json_t *body = NULL;
    char err[240] = "";
    if (rc == CLI_EXIT_OK)
        rc = provider ? cli_provider_body(a, add, &body, err, sizeof(err))
                      : cli_model_body(a, add, &body, err, sizeof(err));
    if (rc == CLI_EXIT_USAGE && err[0])
        return cli_usage_error(help, "%s", err);
    if (rc != CLI_EXIT_OK && err[0])
        fprintf(stderr, "error: %s\n", err);
    if (rc != CLI_EXIT_OK || (rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK) {
        json_decref(body);
        return rc;
    }
    struct gw_buf url;
    if (add)
        cli_url_begin(&url, ctx, family);
    else
        entry_url(&url, ctx, family, a->pos[0], !provider);
    return request(ctx, add ? "POST" : "PATCH", &url, body, rs,
                   provider ? show_provider : show_model, NULL);
}

static int models_add(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return write_entry(ctx, a, rs, false, true);
}

static int models_set(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return write_entry(ctx, a, rs, false, false);
}

static int toggle(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs,
                  bool provider, bool enabled)
{
    const char *help = provider ? cli_help_providers : cli_help_models;
    int rc = one_name(a, help, provider ? "give one <provider>" : "give one <provider/model>",
                      !provider);
    if (rc != CLI_EXIT_OK || (rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    entry_url(&url, ctx, provider ? "/api/v1/providers" : "/api/v1/models", a->pos[0], !provider);
    char *msg = gw_xasprintf("%s %s %s", provider ? "Provider" : "Model", a->pos[0],
                             enabled ? "enabled" : "disabled");
    rc = request(ctx, "PATCH", &url, json_pack("{s:b}", "enabled", enabled), rs, say, msg);
    free(msg);
    return rc;
}

static int models_disable(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return toggle(ctx, a, rs, false, false);
}

static int models_enable(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return toggle(ctx, a, rs, false, true);
}

static int remove_entry(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs,
                        bool provider)
{
    const char *help = provider ? cli_help_providers : cli_help_models;
    int rc = one_name(a, help, provider ? "give one <provider>" : "give one <provider/model>",
                      !provider);
    if (rc != CLI_EXIT_OK || (rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    entry_url(&url, ctx, provider ? "/api/v1/providers" : "/api/v1/models", a->pos[0], !provider);
    char *msg = gw_xasprintf("Removed %s %s", provider ? "provider" : "model", a->pos[0]);
    rc = request(ctx, "DELETE", &url, NULL, rs, say, msg);
    free(msg);
    return rc;
}

static int models_remove(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return remove_entry(ctx, a, rs, false);
}

static int models_test(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    int rc = one_name(a, cli_help_models, "give one <provider/model> or <provider>", false);
    if (rc != CLI_EXIT_OK || (rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        return rc;
    bool model = strchr(a->pos[0], '/') != NULL;
    struct gw_buf url, out;
    entry_url(&url, ctx, model ? "/api/v1/models" : "/api/v1/providers", a->pos[0], model);
    cli_url_fixed(&url, "/test");
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    /* up to 30 s per model at the gateway: the longer timeout of agent turns */
    struct cli_request rq = {.method = "POST", .url = url.data, .auth = true, .turn = true};
    json_t *reply = NULL;
    rc = cli_http(ctx, &rq, rs);
    if (rc == CLI_EXIT_OK && !(reply = cli_response_json(rs)))
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK) {
        if (ctx->json)
            cli_print_raw(rs->body.data, rs->body.len);
        else
            cli_format_probe(&out, reply);
        cli_print_buf(&out);
        if (!json_is_true(json_object_get(reply, "ok")))
            rc = CLI_EXIT_FAIL;
    }
    json_decref(reply);
    gw_buf_release(&url);
    gw_buf_release(&out);
    return rc;
}

static int models_assign(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    char *ns = NULL, *agent = NULL;
    if (a->npos != 2 || !cli_split_channel(a->pos[0], &ns, &agent))
        return cli_usage_error(cli_help_models, "models assign needs <namespace/agent> and "
                                                "<provider/model> (or none)");
    json_t *body = json_object();
    bool none = !strcmp(a->pos[1], "none");
    int rc = none ? (json_object_set_new(body, "model", json_null()), CLI_EXIT_OK)
             : cli_json_put(body, "model", a->pos[1]) ? CLI_EXIT_OK
                                                      : CLI_EXIT_USAGE;
    if (rc == CLI_EXIT_OK)
        rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK) {
        json_decref(body);
        free(ns);
        free(agent);
        return rc;
    }
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/agents");
    cli_url_segment(&url, ns);
    cli_url_segment(&url, agent);
    cli_url_fixed(&url, "/model");
    char *msg = none ? gw_xasprintf("Agent %s/%s has no model now (messages go to its mailbox)", ns,
                                    agent)
                     : gw_xasprintf("Agent %s/%s answers with %s", ns, agent, a->pos[1]);
    rc = request(ctx, "PUT", &url, body, rs, say, msg);
    free(msg);
    free(ns);
    free(agent);
    return rc;
}

static const struct cli_sub model_subs[] = {
    {"list", list_opts, models_list},    {"add", model_add_opts, models_add},
    {"set", model_set_opts, models_set}, {"test", NULL, models_test},
    {"disable", NULL, models_disable},   {"enable", NULL, models_enable},
    {"remove", NULL, models_remove},     {"assign", NULL, models_assign},
};
const struct cli_command cli_command_models = {"models",   cli_help_models,          cli_cmd_models,
                                               model_subs, GW_ARRAY_LEN(model_subs), NULL};

int cli_cmd_models(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_models);
}

/* --- openclaw providers --------------------------------------------------------------------- */

#define PROVIDER_OPTS                                                                              \
    {"api", CLI_OPT_ARG}, {"base-url", CLI_OPT_ARG}, {"api-key-file", CLI_OPT_ARG | CLI_OPT_FILE}, \
        {"api-key-env", CLI_OPT_ARG}, {"kind", CLI_OPT_ARG}, {"max-classification", CLI_OPT_ARG},  \
        {"region", CLI_OPT_ARG}, {"timeout-ms", CLI_OPT_ARG}, {"connect-timeout-ms", CLI_OPT_ARG}, \
        {"retries", CLI_OPT_ARG},                                                                  \
    {                                                                                              \
        "fallback", CLI_OPT_ARG | CLI_OPT_MULTI                                                    \
    }

static const struct cli_optdef provider_add_opts[] = {PROVIDER_OPTS,
                                                      {"model", CLI_OPT_ARG | CLI_OPT_MULTI},
                                                      {"disabled", 0},
                                                      {NULL, 0}};
static const struct cli_optdef provider_set_opts[] = {PROVIDER_OPTS,
                                                      {"no-api-key", 0},
                                                      {"no-fallback", 0},
                                                      {NULL, 0}};

static int providers_list(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos)
        return cli_usage_error(cli_help_providers, "providers list takes no positional "
                                                   "arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/providers");
    return request(ctx, "GET", &url, NULL, rs, show_providers, NULL);
}

static int providers_show(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    int rc = one_name(a, cli_help_providers, "give one <provider>", false);
    if (rc != CLI_EXIT_OK || (rc = cli_ctx_resolve(ctx)) != CLI_EXIT_OK)
        return rc;
    struct gw_buf url;
    entry_url(&url, ctx, "/api/v1/providers", a->pos[0], false);
    return request(ctx, "GET", &url, NULL, rs, show_provider, NULL);
}

static int providers_add(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return write_entry(ctx, a, rs, true, true);
}

static int providers_set(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return write_entry(ctx, a, rs, true, false);
}

static int providers_disable(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return toggle(ctx, a, rs, true, false);
}

static int providers_enable(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return toggle(ctx, a, rs, true, true);
}

static int providers_remove(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    return remove_entry(ctx, a, rs, true);
}

static int providers_test(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs)
{
    if (a->npos == 1 && strchr(a->pos[0], '/'))
        return cli_usage_error(cli_help_providers, "providers test takes a provider's name "
                                                   "(openclaw models test <provider/model>)");
    return models_test(ctx, a, rs);
}

static const struct cli_sub provider_subs[] = {
    {"list", NULL, providers_list},
    {"show", NULL, providers_show},
    {"add", provider_add_opts, providers_add},
    {"set", provider_set_opts, providers_set},
    {"test", NULL, providers_test},
    {"disable", NULL, providers_disable},
    {"enable", NULL, providers_enable},
    {"remove", NULL, providers_remove},
};
const struct cli_command cli_command_providers = {
    "providers",   cli_help_providers,          cli_cmd_providers,
    provider_subs, GW_ARRAY_LEN(provider_subs), NULL};

int cli_cmd_providers(struct cli_ctx *ctx, int argc, char **argv)
{
    return cli_run_sub(ctx, argc, argv, &cli_command_providers);
}
