/* SPDX-License-Identifier: MIT
 * cli_main.c — entry point of the `openclaw` command: global options, the table of commands
 * and dispatch to them ("did you mean" for unknown names), help texts and the small argument
 * parser they all share.
 *
 * Global options may appear before the command or anywhere after it
 * (`openclaw --json tokens list` and `openclaw tokens list --json` are the same). Settings are
 * resolved lazily (cli_ctx_resolve) so that `config` and `--help` work with a broken
 * environment. Output is flushed and checked at exit so a full disk or closed pipe is an error.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/mem.h"
#include "net/net.h"

#include <errno.h>
#include <stdarg.h>

const struct cli_optdef cli_global_opts[] = {
    {"gateway", CLI_OPT_ARG},
    {"token", CLI_OPT_ARG},
    {"json", 0},
    {"timeout", CLI_OPT_ARG},
    {"cacert", CLI_OPT_ARG | CLI_OPT_FILE},
    {"help", 0},
    {"version", 0},
    {NULL, 0},
};

static const char main_help[] =
    "usage: openclaw [--gateway URL] [--token TOKEN] [--json] [--timeout SECONDS]\n"
    "                [--cacert FILE] <command> ...\n"
    "\n"
    "Commands:\n"
    "  status                          gateway reachability, identity and plugins\n"
    "  auth login|status|logout        sign in through the company SSO in a browser\n"
    "  config set|get|unset|show       ~/.openclaw/config.yaml (gateway_url, token)\n"
    "  tokens create|list|rotate|revoke  gateway tokens\n"
    "  agents register|list|delete     agents and their channels\n"
    "  namespaces list|show|grant|revoke  who may use which namespace\n"
    "  sessions list|revoke            sign-in sessions (browser and CLI); revoke them\n"
    "  providers list|show|add|set|test|disable|enable|remove\n"
    "                                  model providers (gateway.yaml's and run-time ones)\n"
    "  models list|add|set|test|disable|enable|remove|assign\n"
    "                                  models, test calls, the model of each agent\n"
    "  send <namespace/agent> <text>   send a message to an agent; prints its reply\n"
    "  chat <namespace/agent>          talk with an agent, answers streamed as written\n"
    "  conversations list|show|export|delete  your conversations with agents\n"
    "  messages list <namespace/agent> the mailbox of an agent without a model\n"
    "  memory get|put                  agent and namespace memory documents\n"
    "  audit query|export|verify       the tamper-evident audit trail\n"
    "  policy list|get|create|update|deprecate|history|diff|rollback|effective|explain\n"
    "                                  policies per scope and domain, dry-run decisions\n"
    "  tools invoke <tool>             run a built-in tool (may park it for approval)\n"
    "  approvals list|show|approve|reject  actions waiting for an approval\n"
    "  stats costs                     model spend by workspace, user and model; budgets\n"
    "  admin reload                    reload the gateway's configuration file\n"
    "  completion bash                 the bash completion script\n"
    "  help [command]                  this text, or a command's usage\n"
    "\n"
    "Global options (before or after the command):\n"
    "  --gateway URL       gateway base URL (env OPENCLAW_GATEWAY_URL, config gateway_url,\n"
    "                      default " CLI_DEFAULT_GATEWAY ")\n"
    "  --token TOKEN       bearer token (env OPENCLAW_TOKEN, then the `auth login`\n"
    "                      credentials, then config token)\n"
    "  --json              print the gateway's JSON instead of tables\n"
    "  --timeout SECONDS   how long to wait for the gateway (default 30; agent turns of\n"
    "                      send and chat 300)\n"
    "  --cacert FILE       trust the CA certificates in FILE (PEM; env OPENCLAW_CA_BUNDLE,\n"
    "                      config ca_bundle)\n"
    "  --version           print the version\n"
    "  --help              usage (also `openclaw <command> --help`)\n"
    "\n"
    "Exit codes: 0 ok, 1 failure (e.g. verification failed), 2 usage, 3 unauthenticated (401),\n"
    "4 forbidden (403), 5 other client error (4xx), 6 server error (5xx), 7 gateway unreachable.\n";

/* --- argument parsing ------------------------------------------------------------------- */

static const struct cli_optdef *find_def(const struct cli_optdef *defs, const char *name,
                                         size_t namelen)
{
    for (size_t i = 0; defs && defs[i].name; i++)
        if (strlen(defs[i].name) == namelen && memcmp(defs[i].name, name, namelen) == 0)
            return &defs[i];
    return NULL;
}

/* "unknown option --x", with the closest option of either table when there is one. */
static void unknown_option(struct cli_args *a, const char *name, size_t namelen,
                           const struct cli_optdef *defs1, const struct cli_optdef *defs2)
{
    const char *cands[2 * CLI_MAX_ARGS];
    size_t n = 0;
    const struct cli_optdef *tables[2] = {defs1, defs2};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; tables[k] && tables[k][i].name && n < GW_ARRAY_LEN(cands); i++)
            cands[n++] = tables[k][i].name;
    char word[81], hint[120];
    snprintf(word, sizeof(word), "%.*s", (int)GW_MIN(namelen, 80), name);
    snprintf(a->err, sizeof(a->err), "unknown option --%s%s", word,
             cli_suggest_hint(word, cands, n, "--", hint, sizeof(hint)));
}

int cli_args_parse(int argc, char **argv, const struct cli_optdef *defs1,
                   const struct cli_optdef *defs2, bool stop_at_positional, struct cli_args *a)
{
    memset(a, 0, sizeof(*a));
    a->stop_index = argc;
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        bool is_opt = !only_pos && s[0] == '-' && s[1] != '\0';
        if (is_opt && strcmp(s, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (!is_opt) {
            if (stop_at_positional) {
                a->stop_index = i;
                return CLI_EXIT_OK;
            }
            if (a->npos >= CLI_MAX_ARGS) {
                snprintf(a->err, sizeof(a->err), "too many arguments");
                return CLI_EXIT_USAGE;
            }
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name;
        size_t namelen;
        const char *inline_val = NULL;
        if (strcmp(s, "-h") == 0) {
            name = "help";
            namelen = 4;
        } else if (s[1] != '-') {
            snprintf(a->err, sizeof(a->err), "unknown option %.80s", s);
            return CLI_EXIT_USAGE;
        } else {
            name = s + 2;
            const char *eq = strchr(name, '=');
            namelen = eq ? (size_t)(eq - name) : strlen(name);
            if (eq)
                inline_val = eq + 1;
        }
        const struct cli_optdef *d = find_def(defs1, name, namelen);
        if (!d)
            d = find_def(defs2, name, namelen);
        if (!d) {
            unknown_option(a, name, namelen, defs1, defs2);
            return CLI_EXIT_USAGE;
        }
        const char *val = "";
        if (d->flags & CLI_OPT_ARG) {
            if (inline_val) {
                val = inline_val;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                snprintf(a->err, sizeof(a->err), "option --%s needs a value", d->name);
                return CLI_EXIT_USAGE;
            }
        } else if (inline_val) {
            snprintf(a->err, sizeof(a->err), "option --%s takes no value", d->name);
            return CLI_EXIT_USAGE;
        }
        if (!(d->flags & CLI_OPT_MULTI) && (d->flags & CLI_OPT_ARG) && cli_args_has(a, d->name)) {
            snprintf(a->err, sizeof(a->err), "option --%s given more than once", d->name);
            return CLI_EXIT_USAGE;
        }
        if (a->nopt >= CLI_MAX_ARGS) {
            snprintf(a->err, sizeof(a->err), "too many options");
            return CLI_EXIT_USAGE;
        }
        a->opt[a->nopt].name = d->name;
        a->opt[a->nopt].value = val;
        a->nopt++;
    }
    return CLI_EXIT_OK;
}

const char *cli_args_get(const struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; i < a->nopt; i++)
        if (strcmp(a->opt[i].name, name) == 0)
            v = a->opt[i].value;
    return v;
}

bool cli_args_has(const struct cli_args *a, const char *name)
{
    return cli_args_count(a, name) > 0;
}

size_t cli_args_count(const struct cli_args *a, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nopt; i++)
        if (strcmp(a->opt[i].name, name) == 0)
            n++;
    return n;
}

const char *cli_args_nth(const struct cli_args *a, const char *name, size_t idx)
{
    for (size_t i = 0; i < a->nopt; i++)
        if (strcmp(a->opt[i].name, name) == 0 && idx-- == 0)
            return a->opt[i].value;
    return NULL;
}

bool cli_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (p == s && *p == '-')))
            return false;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno != 0 || !end || *end != '\0' || end == s || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* --- context ---------------------------------------------------------------------------- */

int cli_ctx_apply_globals(struct cli_ctx *ctx, const struct cli_args *a)
{
    const char *v;
    if ((v = cli_args_get(a, "gateway")))
        ctx->flag_gateway = v;
    if ((v = cli_args_get(a, "token")))
        ctx->flag_token = v;
    if ((v = cli_args_get(a, "cacert")))
        ctx->flag_cacert = v;
    if (cli_args_has(a, "json"))
        ctx->json = true;
    if ((v = cli_args_get(a, "timeout"))) {
        long t;
        if (!cli_parse_long(v, 1, CLI_MAX_TIMEOUT, &t)) {
            fprintf(stderr, "error: --timeout must be a whole number of seconds (1-%ld)\n",
                    CLI_MAX_TIMEOUT);
            return CLI_EXIT_USAGE;
        }
        ctx->timeout = t;
    }
    return CLI_EXIT_OK;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int cli_ctx_resolve(struct cli_ctx *ctx)
{
    if (ctx->resolved)
        return CLI_EXIT_OK;
    char err[256] = "";
    struct cli_config cfg;
    cli_config_init(&cfg);
    char *path = cli_config_path();
    int rc = CLI_EXIT_OK;
    if (cli_config_load(path, &cfg, err, sizeof(err)) != GW_OK) {
        fprintf(stderr, "error: %s\n", err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (cfg.loose_mode && (cfg.token || cfg.nested_token))
        fprintf(stderr,
                "warning: %s holds a token but is readable by other users "
                "(chmod 600 it)\n",
                path);
    if (!cli_settings_resolve(ctx->flag_gateway, ctx->flag_token,
                              env_nonempty("OPENCLAW_GATEWAY_URL"), env_nonempty("OPENCLAW_TOKEN"),
                              &cfg, &ctx->set, err, sizeof(err)) ||
        !cli_settings_ca(&ctx->set, ctx->flag_cacert, env_nonempty("OPENCLAW_CA_BUNDLE"), &cfg, err,
                         sizeof(err))) {
        fprintf(stderr, "error: %s\n", err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    ctx->resolved = true;
    cli_login_apply(ctx);
out:
    cli_config_release(&cfg);
    free(path);
    return rc;
}

int cli_usage_error(const char *help, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (help) {
        /* the first line of a help text is its usage line */
        const char *nl = strchr(help, '\n');
        fprintf(stderr, "%.*s\n", nl ? (int)(nl - help) : (int)strlen(help), help);
    }
    fputs("(run with --help for details)\n", stderr);
    return CLI_EXIT_USAGE;
}

int cli_parse_cmd(struct cli_ctx *ctx, int argc, char **argv, const struct cli_optdef *defs,
                  const char *help, struct cli_args *a)
{
    if (cli_args_parse(argc, argv, defs, cli_global_opts, false, a) != CLI_EXIT_OK)
        return cli_usage_error(help, "%s", a->err);
    if (cli_args_has(a, "help")) {
        fputs(help, stdout);
        return -1;
    }
    /* a command may define its own --version (policy get/rollback) */
    if (cli_args_has(a, "version") && !find_def(defs, "version", 7))
        return cli_usage_error(help, "--version is a global option: openclaw --version");
    return cli_ctx_apply_globals(ctx, a);
}

/* "unknown <what> 'x'" with the closest of names, as a usage error. */
static int unknown_name(const char *help, const char *what, const char *word,
                        const char *const *names, size_t n)
{
    char hint[120];
    return cli_usage_error(help, "unknown %s '%.80s'%s", what, word,
                           cli_suggest_hint(word, names, n, "", hint, sizeof(hint)));
}

int cli_find_sub(struct cli_ctx *ctx, int argc, char **argv, const struct cli_command *cmd, int *si,
                 const struct cli_sub **sub)
{
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    int rc = cli_args_parse(argc - 1, argv + 1, cli_global_opts, NULL, true, a);
    if (rc != CLI_EXIT_OK) {
        rc = cli_usage_error(cmd->help, "%s", a->err);
    } else if (cli_args_has(a, "help")) {
        fputs(cmd->help, stdout);
        rc = -1;
    } else if (cli_args_has(a, "version")) {
        rc = cli_usage_error(cmd->help, "--version is a global option: openclaw --version");
    } else if (a->stop_index >= argc - 1) {
        rc = cli_usage_error(cmd->help, "missing subcommand");
    } else {
        rc = cli_ctx_apply_globals(ctx, a);
        *si = 1 + a->stop_index;
        const char *name = argv[*si];
        const char *names[32];
        size_t k = 0;
        while (k < cmd->nsubs && strcmp(name, cmd->subs[k].name) != 0)
            k++;
        if (rc == CLI_EXIT_OK && k == cmd->nsubs) {
            for (k = 0; k < cmd->nsubs && k < GW_ARRAY_LEN(names); k++)
                names[k] = cmd->subs[k].name;
            char what[64];
            snprintf(what, sizeof(what), "%s subcommand", cmd->name);
            rc = unknown_name(cmd->help, what, name, names, k);
        } else if (rc == CLI_EXIT_OK) {
            *sub = &cmd->subs[k];
        }
    }
    free(a);
    return rc;
}

const struct cli_optdef *cli_sub_opts(const struct cli_command *cmd, const char *sub)
{
    for (size_t k = 0; k < cmd->nsubs; k++)
        if (!strcmp(cmd->subs[k].name, sub))
            return cmd->subs[k].opts;
    return NULL;
}

int cli_run_sub(struct cli_ctx *ctx, int argc, char **argv, const struct cli_command *cmd)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, cmd, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    struct cli_response rs;
    cli_response_init(&rs);
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cmd->help, a);
    if (rc == CLI_EXIT_OK)
        rc = sub->run(ctx, a, &rs);
    cli_response_release(&rs);
    free(a);
    return rc;
}

/* --- dispatch ---------------------------------------------------------------------------- */

const struct cli_command *const cli_commands[] = {
    &cli_command_status,   &cli_command_auth,      &cli_command_config,
    &cli_command_tokens,   &cli_command_agents,    &cli_command_namespaces,
    &cli_command_sessions, &cli_command_providers, &cli_command_models,
    &cli_command_send,     &cli_command_chat,      &cli_command_conversations,
    &cli_command_messages, &cli_command_memory,    &cli_command_audit,
    &cli_command_policy,   &cli_command_tools,     &cli_command_approvals,
    &cli_command_stats,    &cli_command_admin,     &cli_command_completion,
};
const size_t cli_ncommands = GW_ARRAY_LEN(cli_commands);

const struct cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

/* A usage error for a command that does not exist, with the closest one. */
static int unknown_command(const char *word)
{
    const char *names[GW_ARRAY_LEN(cli_commands) + 1];
    for (size_t i = 0; i < cli_ncommands; i++)
        names[i] = cli_commands[i]->name;
    names[cli_ncommands] = "help";
    return unknown_name(main_help, "command", word, names, cli_ncommands + 1);
}

static int finish_output(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "error: writing to standard output failed\n");
        return rc == CLI_EXIT_OK ? CLI_EXIT_FAIL : rc;
    }
    return rc;
}

int cli_main(int argc, char **argv)
{
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    int rc;
    struct cli_args *ga = gw_xcalloc(1, sizeof(*ga));

    if (argc < 1) {
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (cli_args_parse(argc - 1, argv + 1, cli_global_opts, NULL, true, ga) != CLI_EXIT_OK) {
        rc = cli_usage_error(main_help, "%s", ga->err);
        goto out;
    }
    if (cli_args_has(ga, "version")) {
        printf("openclaw %s\n", GW_VERSION);
        rc = finish_output(CLI_EXIT_OK);
        goto out;
    }
    int cmd = 1 + ga->stop_index;
    if (cmd >= argc) {
        if (cli_args_has(ga, "help")) {
            fputs(main_help, stdout);
            rc = finish_output(CLI_EXIT_OK);
        } else {
            fputs(main_help, stderr);
            rc = CLI_EXIT_USAGE;
        }
        goto out;
    }
    if ((rc = cli_ctx_apply_globals(&ctx, ga)) != CLI_EXIT_OK)
        goto out;
    const char *name = argv[cmd];
    if (strcmp(name, "help") == 0) {
        const struct cli_command *f = cmd + 1 < argc ? cli_command_find(argv[cmd + 1]) : NULL;
        if (cmd + 1 < argc && !f) {
            rc = unknown_command(argv[cmd + 1]);
            goto out;
        }
        fputs(f ? f->help : main_help, stdout);
        rc = finish_output(CLI_EXIT_OK);
        goto out;
    }
    const struct cli_command *f = cli_command_find(name);
    if (!f) {
        rc = unknown_command(name);
        goto out;
    }
    if (cli_args_has(ga, "help")) { /* openclaw --help tokens */
        fputs(f->help, stdout);
        rc = finish_output(CLI_EXIT_OK);
        goto out;
    }
    net_init();
    rc = f->fn(&ctx, argc - cmd, argv + cmd);
    if (rc < 0) /* help printed */
        rc = CLI_EXIT_OK;
    rc = finish_output(rc);
    net_cleanup();
out:
    cli_settings_release(&ctx.set);
    free(ga);
    return rc;
}
