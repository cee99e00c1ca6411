/* SPDX-License-Identifier: MIT
 * cli_config.c — ~/.openclaw/config.yaml and the precedence of settings, plus `openclaw config`.
 *
 * The file is read with libyaml (flat keys gateway_url/token/ca_bundle, or the nested
 * gateway.url / gateway.token form of the enterprise documentation) and written back in a flat
 * `key: "value"` form by hand: directory 0700, file 0600, atomic replace. Other top-level
 * scalar entries survive a rewrite; anything we cannot represent is named in a warning.
 * Values are validated on the way in and on the way out (a token is sent in an HTTP header,
 * so control characters and spaces are refused).
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* --- values ------------------------------------------------------------------------------ */

bool cli_valid_gateway_url(const char *url, char *err, size_t errcap)
{
    size_t n = strlen(url);
    const char *rest;
    if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else {
        snprintf(err, errcap, "gateway URL must start with http:// or https://");
        return false;
    }
    if (n > CLI_MAX_URL) {
        snprintf(err, errcap, "gateway URL is longer than %d characters", CLI_MAX_URL);
        return false;
    }
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errcap, "gateway URL contains a space, control or non-ASCII character");
            return false;
        }
    }
    if (*rest == '\0' || *rest == '/') {
        snprintf(err, errcap, "gateway URL has no host");
        return false;
    }
    size_t authority = strcspn(rest, "/?#");
    if (memchr(rest, '@', authority)) {
        snprintf(err, errcap, "credentials in the gateway URL are not supported (use a token)");
        return false;
    }
    if (strpbrk(rest, "?#")) {
        snprintf(err, errcap, "gateway URL must not contain a query or fragment");
        return false;
    }
    return true;
}

bool cli_valid_token(const char *token, char *err, size_t errcap)
{
    size_t n = strlen(token);
    if (n == 0 || n > CLI_MAX_TOKEN) {
        snprintf(err, errcap, "token must be 1-%d characters", CLI_MAX_TOKEN);
        return false;
    }
    for (const char *p = token; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errcap, "token contains a space, control or non-ASCII character");
            return false;
        }
    }
    return true;
}

char *cli_mask_token(const char *token)
{
    size_t n = strlen(token);
    if (n < 16)
        return gw_xstrdup("********");
    return gw_xasprintf("%.4s****************%s", token, token + n - 4);
}

/* --- reading ----------------------------------------------------------------------------- */

void cli_config_init(struct cli_config *c)
{
    memset(c, 0, sizeof(*c));
    gw_buf_init(&c->dropped, 4096);
}

void cli_config_release(struct cli_config *c)
{
    free(c->gateway_url);
    free(c->token);
    free(c->nested_url);
    free(c->nested_token);
    free(c->ca_bundle);
    for (size_t i = 0; i < c->nextra; i++) {
        free(c->extra[i].key);
        free(c->extra[i].value);
    }
    gw_buf_release(&c->dropped);
    memset(c, 0, sizeof(*c));
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null_scalar(yaml_node_t *n)
{
    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* Plain scalars that can be written back unquoted without changing their meaning. */
static bool plain_safe(const char *v)
{
    if (!*v)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-' || *p == '+'))
            return false;
    return true;
}

static void note_dropped(struct cli_config *c, const char *key)
{
    if (c->dropped.len)
        (void)gw_buf_puts(&c->dropped, ", ");
    (void)gw_buf_puts(&c->dropped, key);
}

/* Sets *slot from a scalar node (NULL for a YAML null); false when not a scalar. */
static bool take_scalar(yaml_node_t *v, char **slot)
{
    if (v && v->type != YAML_SCALAR_NODE)
        return false;
    free(*slot);
    *slot = is_null_scalar(v) ? NULL : gw_xstrdup(scalar(v));
    return true;
}

static void read_gateway_map(yaml_document_t *doc, yaml_node_t *map, struct cli_config *c)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(yaml_document_get_node(doc, p->key));
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k && !strcmp(k, "url") && take_scalar(v, &c->nested_url))
            continue;
        if (k && !strcmp(k, "token") && take_scalar(v, &c->nested_token))
            continue;
        char *name = gw_xasprintf("gateway.%s", k ? k : "?");
        note_dropped(c, name);
        free(name);
    }
}

gw_err cli_config_parse(const char *text, size_t len, struct cli_config *c, char *err,
                        size_t errcap)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    gw_err rc = GW_OK;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errcap, "cannot initialize the YAML parser");
        return GW_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errcap, "line %lu: %s", (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        return GW_ECONFIG;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null_scalar(root))
        goto out; /* empty file */
    if (root->type != YAML_MAPPING_NODE) {
        snprintf(err, errcap, "the top level is not a mapping");
        rc = GW_ECONFIG;
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(yaml_document_get_node(&doc, p->key));
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (!k) {
            note_dropped(c, "(complex key)");
            continue;
        }
        if (!strcmp(k, "gateway_url") || !strcmp(k, "token") || !strcmp(k, "ca_bundle")) {
            char **slot = !strcmp(k, "token")       ? &c->token
                          : !strcmp(k, "ca_bundle") ? &c->ca_bundle
                                                    : &c->gateway_url;
            if (!take_scalar(v, slot)) {
                snprintf(err, errcap, "%s must be a string", k);
                rc = GW_ECONFIG;
                goto out;
            }
        } else if (!strcmp(k, "gateway") && v && v->type == YAML_MAPPING_NODE) {
            read_gateway_map(&doc, v, c);
        } else if (v && v->type == YAML_SCALAR_NODE && c->nextra < CLI_CONFIG_MAX_EXTRA) {
            size_t i;
            for (i = 0; i < c->nextra; i++)
                if (!strcmp(c->extra[i].key, k))
                    break;
            if (i == c->nextra) {
                c->extra[i].key = gw_xstrdup(k);
                c->nextra++;
            } else {
                free(c->extra[i].value);
            }
            c->extra[i].value = gw_xstrdup(scalar(v));
            c->extra[i].plain = v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                                (is_null_scalar(v) || plain_safe(scalar(v)));
        } else {
            note_dropped(c, k);
        }
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

gw_err cli_config_load(const char *path, struct cli_config *c, char *err, size_t errcap)
{
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return GW_OK;
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return GW_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s is not a regular file", path);
        return GW_EIO;
    }
    gw_err rc = gw_file_read(path, CLI_MAX_CONFIG_FILE, &text, &len);
    if (rc != GW_OK) {
        snprintf(err, errcap, "%s: %s", path,
                 rc == GW_ETOOBIG ? "file too large" : "cannot be read");
        return rc;
    }
    char perr[200] = "";
    rc = cli_config_parse(text, len, c, perr, sizeof(perr));
    if (rc != GW_OK)
        snprintf(err, errcap, "%s: %s", path, perr);
    c->loose_mode = (st.st_mode & 077) != 0;
    free(text);
    return rc;
}

/* --- writing ----------------------------------------------------------------------------- */

void cli_yaml_quote(struct gw_buf *b, const char *s)
{
    (void)gw_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char esc[3] = {'\\', (char)c, 0};
            (void)gw_buf_puts(b, esc);
        } else if (c == '\n') {
            (void)gw_buf_puts(b, "\\n");
        } else if (c == '\t') {
            (void)gw_buf_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            (void)gw_buf_printf(b, "\\x%02x", c);
        } else if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { /* C1 controls */
            (void)gw_buf_printf(b, "\\u%04x", p[1]);
            p++;
        } else {
            (void)gw_buf_append(b, &c, 1);
        }
    }
    (void)gw_buf_puts(b, "\"");
}

static bool key_plain(const char *k)
{
    if (!*k)
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

char *cli_config_serialize(const struct cli_config *c)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 30);
    (void)gw_buf_puts(&b, "# openclaw client configuration (written by `openclaw config set`)\n");
    const char *url = c->gateway_url ? c->gateway_url : c->nested_url;
    const char *token = c->token ? c->token : c->nested_token;
    if (url) {
        (void)gw_buf_puts(&b, "gateway_url: ");
        cli_yaml_quote(&b, url);
        (void)gw_buf_puts(&b, "\n");
    }
    if (token) {
        (void)gw_buf_puts(&b, "token: ");
        cli_yaml_quote(&b, token);
        (void)gw_buf_puts(&b, "\n");
    }
    if (c->ca_bundle) {
        (void)gw_buf_puts(&b, "ca_bundle: ");
        cli_yaml_quote(&b, c->ca_bundle);
        (void)gw_buf_puts(&b, "\n");
    }
    for (size_t i = 0; i < c->nextra; i++) {
        if (key_plain(c->extra[i].key))
            (void)gw_buf_puts(&b, c->extra[i].key);
        else
            cli_yaml_quote(&b, c->extra[i].key);
        (void)gw_buf_puts(&b, ": ");
        if (c->extra[i].plain)
            (void)gw_buf_puts(&b, c->extra[i].value);
        else
            cli_yaml_quote(&b, c->extra[i].value);
        (void)gw_buf_puts(&b, "\n");
    }
    return gw_buf_detach(&b, NULL);
}

gw_err cli_config_save(const char *path, const struct cli_config *c, char *err, size_t errcap)
{
    char *dir = gw_xstrdup(path);
    char *slash = strrchr(dir, '/');
    gw_err rc = GW_OK;
    char *text = NULL;
    if (slash && slash != dir) {
        *slash = '\0';
        struct stat st;
        bool existed = stat(dir, &st) == 0;
        if (!existed && gw_mkdirs(dir, 0700) != GW_OK) {
            snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
            rc = GW_EIO;
            goto out;
        }
        /* our own directory: tighten it if it was created loosely (not a symlink target) */
        if (existed && S_ISDIR(st.st_mode) && (st.st_mode & 077) && st.st_uid == getuid() &&
            !strcmp(slash + 1, "config.yaml") && lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            (void)chmod(dir, 0700);
    }
    text = cli_config_serialize(c);
    rc = gw_file_write_atomic(path, text, strlen(text), 0600);
    if (rc != GW_OK) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    (void)chmod(path, 0600); /* the umask could only have removed bits; be explicit */
out:
    free(text);
    free(dir);
    return rc;
}

char *cli_config_path(void)
{
    const char *p = getenv("OPENCLAW_CONFIG");
    if (p && *p)
        return gw_xstrdup(p);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : ".";
    }
    size_t n = strlen(home);
    while (n > 1 && home[n - 1] == '/')
        n--;
    return gw_xasprintf("%.*s/.openclaw/config.yaml", (int)n, home);
}

/* --- settings ---------------------------------------------------------------------------- */

/* A CA bundle must be a readable regular file; libcurl would only say "problem with the SSL
 * CA cert" at the first request. */
static bool ca_readable(const char *path, char *err, size_t errcap)
{
    struct stat st;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
        snprintf(err, errcap, "cannot read the CA bundle %.200s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "the CA bundle %.200s is not a file", path);
        return false;
    }
    return true;
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

bool cli_settings_resolve(const char *flag_url, const char *flag_token, const char *env_url,
                          const char *env_token, const struct cli_config *cfg,
                          struct cli_settings *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    const char *url = NULL, *token = NULL;
    if ((url = nonempty(flag_url)))
        out->gateway_source = "--gateway";
    else if ((url = nonempty(env_url)))
        out->gateway_source = "OPENCLAW_GATEWAY_URL";
    else if (cfg && (url = nonempty(cfg->gateway_url)))
        out->gateway_source = "config gateway_url";
    else if (cfg && (url = nonempty(cfg->nested_url)))
        out->gateway_source = "config gateway.url";
    else {
        url = CLI_DEFAULT_GATEWAY;
        out->gateway_source = "default";
    }
    if ((token = nonempty(flag_token)))
        out->token_source = "--token";
    else if ((token = nonempty(env_token)))
        out->token_source = "OPENCLAW_TOKEN";
    else if (cfg && (token = nonempty(cfg->token)))
        out->token_source = "config token";
    else if (cfg && (token = nonempty(cfg->nested_token)))
        out->token_source = "config gateway.token";
    else
        out->token_source = "none";

    char why[160];
    if (!cli_valid_gateway_url(url, why, sizeof(why))) {
        snprintf(err, errcap, "%s (from %s)", why, out->gateway_source);
        return false;
    }
    if (token && !cli_valid_token(token, why, sizeof(why))) {
        snprintf(err, errcap, "%s (from %s)", why, out->token_source);
        return false;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    out->gateway_url = gw_xstrndup(url, n);
    out->token = token ? gw_xstrdup(token) : NULL;
    return true;
}

bool cli_settings_ca(struct cli_settings *s, const char *flag, const char *env,
                     const struct cli_config *cfg, char *err, size_t errcap)
{
    const char *path;
    if ((path = nonempty(flag)))
        s->ca_source = "--cacert";
    else if ((path = nonempty(env)))
        s->ca_source = "OPENCLAW_CA_BUNDLE";
    else if (cfg && (path = nonempty(cfg->ca_bundle)))
        s->ca_source = "config ca_bundle";
    else {
        s->ca_source = "none";
        return true;
    }
    if (!ca_readable(path, err, errcap)) {
        size_t n = strlen(err);
        snprintf(err + n, errcap - n, " (from %s)", s->ca_source);
        return false;
    }
    free(s->ca_bundle);
    s->ca_bundle = gw_xstrdup(path);
    return true;
}

void cli_settings_release(struct cli_settings *s)
{
    free(s->gateway_url);
    free(s->ca_bundle);
    if (s->token) {
        volatile char *p = s->token;
        while (*p)
            *p++ = 0;
        free(s->token);
    }
    memset(s, 0, sizeof(*s));
}

/* --- openclaw config --------------------------------------------------------------------- */

const char cli_help_config[] =
    "usage: openclaw config set <key> <value|-> | get <key> [--reveal] | unset <key> | show\n"
    "\n"
    "Keys: gateway_url, token, ca_bundle. The file is $OPENCLAW_CONFIG or\n"
    "~/.openclaw/config.yaml (directory 0700, file 0600, replaced atomically).\n"
    "\n"
    "  config set gateway_url https://openclaw.internal.company.com\n"
    "  config set token -          read the token from standard input (keeps it out of\n"
    "                              the shell history)\n"
    "  config set ca_bundle FILE   trust the CA certificates in FILE (PEM) for https\n"
    "                              (stored as an absolute path)\n"
    "  config get token            prints the token masked; --reveal prints it in full\n"
    "  config unset token          removes the key\n"
    "  config show                 effective settings and where each one comes from\n";

static const struct cli_optdef get_opts[] = {{"reveal", 0}, {NULL, 0}};
static const struct cli_optdef no_opts[] = {{NULL, 0}};

static const char *const config_keys[] = {"gateway_url", "token", "ca_bundle"};

static bool known_key(const char *k)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(config_keys); i++)
        if (!strcmp(k, config_keys[i]))
            return true;
    return false;
}

static char *read_value_stdin(void)
{
    struct gw_buf b;
    gw_buf_init(&b, CLI_MAX_TOKEN + 2);
    if (cli_read_stream(stdin, &b) != GW_OK) {
        gw_buf_release(&b);
        return NULL;
    }
    char *v = gw_buf_detach(&b, NULL);
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
        v[--n] = '\0';
    return v;
}

static int config_print(struct cli_ctx *ctx, const char *key, const char *value, bool masked)
{
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:o, s:b}", "key", key, "value",
                              value ? json_string(value) : json_null(), "masked", masked);
        cli_print_json(o);
        json_decref(o);
    } else if (value) {
        struct gw_buf b;
        gw_buf_init(&b, CLI_MAX_URL * 8 + CLI_MAX_TOKEN * 8);
        cli_sanitize(&b, value);
        printf("%s\n", b.data ? b.data : "");
        gw_buf_release(&b);
    }
    return CLI_EXIT_OK;
}

static int config_show(struct cli_ctx *ctx)
{
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    char *path = cli_config_path();
    char *masked = ctx->set.token ? cli_mask_token(ctx->set.token) : NULL;
    long api = cli_timeout(ctx, false), turn = cli_timeout(ctx, true);
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:I, s:I}", "config_file", path,
                              "gateway_url", ctx->set.gateway_url, "gateway_source",
                              ctx->set.gateway_source, "token",
                              masked ? json_string(masked) : json_null(), "token_source",
                              ctx->set.token_source, "ca_bundle",
                              ctx->set.ca_bundle ? json_string(ctx->set.ca_bundle) : json_null(),
                              "ca_source", ctx->set.ca_source, "timeout", (json_int_t)api,
                              "turn_timeout", (json_int_t)turn);
        cli_print_json(o);
        json_decref(o);
    } else {
        struct gw_buf b;
        gw_buf_init(&b, (size_t)1 << 20);
        (void)gw_buf_puts(&b, "Config file: ");
        cli_sanitize(&b, path);
        (void)gw_buf_puts(&b, "\nGateway:     ");
        cli_sanitize(&b, ctx->set.gateway_url);
        (void)gw_buf_printf(&b,
                            "  (%s)\nToken:       %s  (%s)\nCA bundle:   ", ctx->set.gateway_source,
                            masked ? masked : "-", ctx->set.token_source);
        cli_sanitize(&b, ctx->set.ca_bundle ? ctx->set.ca_bundle : "- (the system's CAs)");
        (void)gw_buf_printf(&b, "  (%s)\nTimeout:     %lds, agent turns %lds%s\n",
                            ctx->set.ca_source, api, turn, ctx->timeout ? "  (--timeout)" : "");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
    free(masked);
    free(path);
    return CLI_EXIT_OK;
}

static const struct cli_sub subs[] = {{"set", no_opts, NULL},
                                      {"get", get_opts, NULL},
                                      {"unset", no_opts, NULL},
                                      {"show", no_opts, NULL}};
const struct cli_command cli_command_config = {"config", cli_help_config,    cli_cmd_config,
                                               subs,     GW_ARRAY_LEN(subs), NULL};

int cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *help = cli_help_config;
    int si = 0;
    const struct cli_sub *s = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_config, &si, &s);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *sub = s->name;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_config cfg;
    cli_config_init(&cfg);
    char *path = NULL, *value_owned = NULL;
    char err[320] = "";
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, s->opts, help, a);
    if (rc != CLI_EXIT_OK)
        goto out;
    if (!strcmp(sub, "show")) {
        rc = a->npos == 0 ? config_show(ctx) : cli_usage_error(help, "show takes no arguments");
        goto out;
    }
    bool is_set = !strcmp(sub, "set"), is_get = !strcmp(sub, "get");
    if (a->npos != (is_set ? 2u : 1u)) {
        rc = cli_usage_error(help,
                             is_set ? "config set needs <key> <value>"
                                    : "config %s needs exactly one <key>",
                             sub);
        goto out;
    }
    const char *key = a->pos[0];
    if (!known_key(key)) {
        char hint[120];
        rc = cli_usage_error(help,
                             "unknown key '%.80s'%s (known: gateway_url, token, "
                             "ca_bundle)",
                             key,
                             cli_suggest_hint(key, config_keys, GW_ARRAY_LEN(config_keys), "", hint,
                                              sizeof(hint)));
        goto out;
    }
    bool is_token = !strcmp(key, "token"), is_ca = !strcmp(key, "ca_bundle");
    char *none = NULL;
    char **slot = is_token ? &cfg.token : is_ca ? &cfg.ca_bundle : &cfg.gateway_url;
    char **nested = is_token ? &cfg.nested_token : is_ca ? &none : &cfg.nested_url;
    path = cli_config_path();
    if (cli_config_load(path, &cfg, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "error: %s\n", err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (is_get) {
        const char *v = *slot ? *slot : *nested;
        if (!v) {
            fprintf(stderr, "%s is not set in %s\n", key, path);
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        bool mask = is_token && !cli_args_has(a, "reveal");
        char *shown = mask ? cli_mask_token(v) : gw_xstrdup(v);
        rc = config_print(ctx, key, shown, mask);
        free(shown);
        goto out;
    }
    const char *value = NULL;
    if (is_set) {
        value = a->pos[1];
        if (!strcmp(value, "-")) {
            value = value_owned = read_value_stdin();
            if (!value) {
                fprintf(stderr, "error: cannot read the value from standard input\n");
                rc = CLI_EXIT_FAIL;
                goto out;
            }
        }
        char why[300];
        bool ok = is_token ? cli_valid_token(value, why, sizeof(why))
                  : is_ca  ? ca_readable(value, why, sizeof(why))
                           : cli_valid_gateway_url(value, why, sizeof(why));
        if (!ok) {
            rc = cli_usage_error(help, "%s", why);
            goto out;
        }
        if (is_ca) { /* the file is read from any working directory later */
            char *abs = realpath(value, NULL);
            if (value_owned)
                free(value_owned);
            value = value_owned = abs ? abs : gw_xstrdup(value);
        }
    }
    free(*slot);
    *slot = value ? gw_xstrdup(value) : NULL;
    free(*nested); /* the flat key now decides; never leave a stale nested value behind */
    *nested = NULL;
    if (cfg.dropped.len)
        fprintf(stderr, "warning: rewriting %s in flat form drops: %s\n", path, cfg.dropped.data);
    if (cli_config_save(path, &cfg, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "error: %s\n", err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (ctx->json) {
        char *shown = value && is_token ? cli_mask_token(value) : NULL;
        json_t *o = json_pack("{s:s, s:o, s:s, s:b}", "key", key, "value",
                              value ? json_string(shown ? shown : value) : json_null(), "file",
                              path, "masked", shown != NULL);
        cli_print_json(o);
        json_decref(o);
        free(shown);
    } else if (is_set) {
        fprintf(stderr, "%s saved in %s\n", key, path);
    } else {
        fprintf(stderr, "%s removed from %s\n", key, path);
    }
    rc = CLI_EXIT_OK;
out:
    if (value_owned) {
        memset(value_owned, 0, strlen(value_owned));
        free(value_owned);
    }
    free(path);
    cli_config_release(&cfg);
    free(a);
    return rc;
}
