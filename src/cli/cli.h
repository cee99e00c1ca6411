/* SPDX-License-Identifier: MIT
 * cli.h — the `openclaw` command-line client.
 *
 * cli_main is the whole program (src/main/cli_main.c only calls it). The rest of this header is
 * shared between the command families (one file each: tokens, agents, send, chat, memory,
 * audit, status, config, policy, auth, sessions, admin, completion; approvals and tools share
 * one), each described by a `struct cli_command` in one table (cli_commands) that dispatch,
 * "did you mean", bash completion and the man page check all read. It exposes the pure parts
 * (argument parsing, config file reading/writing, settings precedence, exit code mapping,
 * output formatting) to tests/unit/cli/test_cli.c.
 *
 * Exit codes (also documented in docs/CLI.md):
 *   0 ok, 1 verification failed / generic failure, 2 usage error, 3 authentication error (401),
 *   4 forbidden (403), 5 other client error (4xx), 6 server error (5xx),
 *   7 gateway unreachable (connection failure, timeout, TLS failure).
 */
#ifndef GW_CLI_H
#define GW_CLI_H

#include "base/prelude.h"
#include "base/err.h"
#include "base/buf.h"

#include <jansson.h>
#include <signal.h>
#include <sys/types.h>

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_AUTH = 3,
    CLI_EXIT_FORBIDDEN = 4,
    CLI_EXIT_CLIENT = 5,
    CLI_EXIT_SERVER = 6,
    CLI_EXIT_UNREACHABLE = 7,
};

#define CLI_DEFAULT_GATEWAY "http://127.0.0.1:8080"
#define CLI_DEFAULT_TIMEOUT 30L       /* API calls, and connecting */
#define CLI_DEFAULT_TURN_TIMEOUT 300L /* agent turns (`send`, `chat`): a model may be slow */
#define CLI_MAX_TIMEOUT 86400L
#define CLI_MAX_RESPONSE ((size_t)64 << 20)     /* non-streamed response bodies */
#define CLI_MAX_STDIN_MESSAGE ((size_t)1 << 20) /* `send <channel> -` */
#define CLI_MAX_MEMORY_INPUT                                                                       \
    ((size_t)64 << 20) /* `memory put` input; the gateway has its own cap */
#define CLI_MAX_CONFIG_FILE ((size_t)64 << 10)
#define CLI_MAX_URL 2048
#define CLI_MAX_TOKEN 4096

int cli_main(int argc, char **argv);

/* --- argument parsing (cli_main.c) ----------------------------------------------------- */

enum { CLI_OPT_ARG = 1u, CLI_OPT_MULTI = 2u, CLI_OPT_FILE = 4u };

struct cli_optdef {
    const char *name; /* long name without "--"; NULL terminates a table */
    unsigned flags;   /* CLI_OPT_ARG: takes a value; CLI_OPT_MULTI: may be repeated;
                       * CLI_OPT_FILE: the value is a file name (shell completion) */
};

/* The global options (--gateway, --token, --json, --timeout, --cacert, --help, --version). */
extern const struct cli_optdef cli_global_opts[];

#define CLI_MAX_ARGS 128

struct cli_args {
    const char *pos[CLI_MAX_ARGS]; /* positional arguments, in order */
    size_t npos;
    struct {
        const char *name;  /* borrowed from the optdef table */
        const char *value; /* "" for flags without a value */
    } opt[CLI_MAX_ARGS];
    size_t nopt;
    int stop_index; /* with stop_at_positional: index of the first positional, or argc */
    char err[240];  /* usage error message (with "did you mean" for an unknown option) */
};

/* Parses argv[0..argc) (argv[0] is NOT skipped) against two option tables (either may be NULL).
 * Accepts --name value, --name=value, -h (= --help), "--" ending options and "-" as a
 * positional. With stop_at_positional, stops at the first positional argument (global options
 * before the command). Returns CLI_EXIT_OK or CLI_EXIT_USAGE with a->err set. */
int cli_args_parse(int argc, char **argv, const struct cli_optdef *defs1,
                   const struct cli_optdef *defs2, bool stop_at_positional, struct cli_args *a);
/* Last value given for name, or NULL. */
const char *cli_args_get(const struct cli_args *a, const char *name);
bool cli_args_has(const struct cli_args *a, const char *name);
size_t cli_args_count(const struct cli_args *a, const char *name);
/* i-th value given for name (0-based), or NULL. */
const char *cli_args_nth(const struct cli_args *a, const char *name, size_t i);

/* Strict decimal integer in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out);

/* --- "did you mean" (cli_suggest.c) ----------------------------------------------------- */

/* The candidate closest to word when it is close enough to be a likely typo (distance at most
 * a third of the longer name, rounded up, and less than the word's length), else NULL. The
 * first of equally close candidates wins. */
const char *cli_suggest(const char *word, const char *const *cands, size_t n);
/* " (did you mean <prefix><name>?)" for cli_suggest's answer, or "" (static storage). */
const char *cli_suggest_hint(const char *word, const char *const *cands, size_t n,
                             const char *prefix, char *buf, size_t cap);

/* --- configuration file and settings (cli_config.c) ------------------------------------ */

#define CLI_CONFIG_MAX_EXTRA 64

struct cli_config {
    char *gateway_url;  /* top-level gateway_url */
    char *token;        /* top-level token */
    char *nested_url;   /* gateway.url (seed 000 form) */
    char *nested_token; /* gateway.token */
    char *ca_bundle;    /* top-level ca_bundle: a PEM file of CA certificates to trust */
    /* other top-level scalar entries, preserved when the file is rewritten */
    struct {
        char *key;
        char *value;
        bool plain; /* was an unquoted scalar that can be written back unquoted */
    } extra[CLI_CONFIG_MAX_EXTRA];
    size_t nextra;
    struct gw_buf dropped; /* comma-separated keys that cannot be preserved on rewrite */
    bool loose_mode;       /* file readable by group/others */
};

void cli_config_init(struct cli_config *c);
void cli_config_release(struct cli_config *c);
/* Parses YAML text (libyaml). Unknown keys are kept or noted in c->dropped. */
gw_err cli_config_parse(const char *text, size_t len, struct cli_config *c, char *err,
                        size_t errcap);
/* Loads path; a missing file is an empty configuration. */
gw_err cli_config_load(const char *path, struct cli_config *c, char *err, size_t errcap);
/* The flat `key: "value"` YAML form of c (nested values migrated to flat keys); caller frees. */
char *cli_config_serialize(const struct cli_config *c);
/* Creates the directory (0700) and replaces the file atomically (0600). */
gw_err cli_config_save(const char *path, const struct cli_config *c, char *err, size_t errcap);
/* $OPENCLAW_CONFIG, else $HOME/.openclaw/config.yaml (passwd entry when HOME is unset). */
char *cli_config_path(void);
/* Appends s as a YAML double-quoted scalar. */
void cli_yaml_quote(struct gw_buf *b, const char *s);

/* Value checks shared by `config set` and settings resolution. */
bool cli_valid_gateway_url(const char *url, char *err, size_t errcap);
bool cli_valid_token(const char *token, char *err, size_t errcap);
/* Token masked for display ("abcd****************wxyz", or "********" when short). Caller frees. */
char *cli_mask_token(const char *token);

struct cli_settings {
    char *gateway_url;          /* without trailing slash */
    const char *gateway_source; /* "--gateway", "OPENCLAW_GATEWAY_URL", "config", "default" */
    char *token;                /* NULL when none */
    const char *token_source;
    char *ca_bundle;       /* extra CA certificates (PEM file), NULL: the system's */
    const char *ca_source; /* "--cacert", "OPENCLAW_CA_BUNDLE", "config ca_bundle", "none" */
};

/* Precedence: flags > environment > config (flat keys, then gateway.url/gateway.token) >
 * default. Empty strings count as unset. Returns false (with err) on an invalid value. */
bool cli_settings_resolve(const char *flag_url, const char *flag_token, const char *env_url,
                          const char *env_token, const struct cli_config *cfg,
                          struct cli_settings *out, char *err, size_t errcap);
void cli_settings_release(struct cli_settings *s);
/* The CA bundle: flag > environment > config ca_bundle > none. The file must be readable
 * (false with err otherwise). */
bool cli_settings_ca(struct cli_settings *s, const char *flag, const char *env,
                     const struct cli_config *cfg, char *err, size_t errcap);

/* --- shared state of one invocation ---------------------------------------------------- */

struct cli_ctx {
    bool json;
    long timeout; /* seconds; 0: the default of the request (API call or turn) */
    const char *flag_gateway;
    const char *flag_token;
    const char *flag_cacert;
    bool resolved;
    struct cli_settings set;
    bool warned_plaintext;
    /* the token is the access token of `openclaw auth login` (credentials file): cli_http
     * refreshes it when it expired or a request answers 401 */
    bool login;
    int64_t login_expires_at; /* epoch seconds */
};

/* Applies the global options found in a (--gateway, --token, --json, --timeout, --cacert). */
int cli_ctx_apply_globals(struct cli_ctx *ctx, const struct cli_args *a);
/* Resolves gateway and token (once). Returns CLI_EXIT_OK or CLI_EXIT_USAGE. */
int cli_ctx_resolve(struct cli_ctx *ctx);

/* A subcommand of a family: its options and what runs it (NULL when the family's own
 * function dispatches after cli_find_sub). */
struct cli_response;
struct cli_sub {
    const char *name;
    const struct cli_optdef *opts;
    int (*run)(struct cli_ctx *ctx, const struct cli_args *a, struct cli_response *rs);
};

/* One command (family) of the table: dispatch, "did you mean", completion and the man page
 * check all read it, so a command cannot exist without being in each of them. */
struct cli_command {
    const char *name;
    const char *help;
    int (*fn)(struct cli_ctx *ctx, int argc, char **argv); /* argv[0] is the name */
    const struct cli_sub *subs; /* NULL for a command without subcommands */
    size_t nsubs;
    const struct cli_optdef *opts; /* a command without subcommands: its options */
};

/* Every command, in the order of `openclaw --help`. */
extern const struct cli_command *const cli_commands[];
extern const size_t cli_ncommands;
const struct cli_command *cli_command_find(const char *name);

/* Parses a command's arguments (argv[0] is the first word after the command family, e.g.
 * "create") with its table plus the global options, applies the globals, handles --help by
 * printing help and returning -1. Returns CLI_EXIT_OK, CLI_EXIT_USAGE (message printed) or -1. */
int cli_parse_cmd(struct cli_ctx *ctx, int argc, char **argv, const struct cli_optdef *defs,
                  const char *help, struct cli_args *a);
/* For families with subcommands (argv[0] is the family): skips global options before the
 * subcommand, finds it in cmd->subs ("did you mean" when unknown) and stores its index in *si
 * and its entry in *sub. Returns CLI_EXIT_OK, CLI_EXIT_USAGE or -1 (help printed). */
int cli_find_sub(struct cli_ctx *ctx, int argc, char **argv, const struct cli_command *cmd, int *si,
                 const struct cli_sub **sub);
/* cli_find_sub, then parses the subcommand's arguments and runs it with a fresh response. */
int cli_run_sub(struct cli_ctx *ctx, int argc, char **argv, const struct cli_command *cmd);
/* The option table of a family's subcommand (NULL when unknown), for tests. */
const struct cli_optdef *cli_sub_opts(const struct cli_command *cmd, const char *sub);
/* Prints "error: <msg>" plus a hint to stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *help, const char *fmt, ...) GW_PRINTF(2, 3);

/* --- HTTP (cli_http.c) ------------------------------------------------------------------ */

/* Exit code for an HTTP status (2xx → 0, 401 → 3, 403 → 4, other 4xx → 5, 5xx → 6, else 1). */
int cli_exit_for_status(long status);

/* URL building: base (no trailing slash) + "/api/v1" + path pieces. */
void cli_url_begin(struct gw_buf *u, const struct cli_ctx *ctx, const char *fixed_path);
/* Appends "/" + the percent-encoded segment (net_url_escape; "." and ".." are encoded too). */
void cli_url_segment(struct gw_buf *u, const char *seg);
void cli_url_fixed(struct gw_buf *u, const char *fixed);
/* base + "/api/v1/channels/<ns>/<agent>/messages" (a channel's messages: send, chat, mailbox). */
void cli_url_messages(struct gw_buf *u, const struct cli_ctx *ctx, const char *ns,
                      const char *agent);
/* Appends "?k=v" or "&k=v" (value percent-encoded); no-op when value is NULL. */
void cli_url_query(struct gw_buf *u, const char *key, const char *value);

struct cli_request {
    const char *method; /* GET, POST, PUT, DELETE */
    const char *url;
    const char *content_type; /* NULL: no body */
    const char *body;
    size_t body_len;
    bool auth;  /* send the token when one is configured */
    FILE *sink; /* non-NULL: stream a 2xx body here (no size cap) */
    /* non-NULL: a 2xx body is passed here as it arrives (SSE); return false to abort */
    bool (*on_data)(void *arg, const char *data, size_t len);
    void *on_data_arg;
    bool quiet; /* do not print errors on stderr */
    bool turn;  /* an agent turn: the longer default timeout */
    /* non-NULL: the transfer is abandoned (rs->cancelled) as soon as it becomes non-zero */
    const volatile sig_atomic_t *cancel;
};

struct cli_response {
    long status;        /* 0 when no response */
    struct gw_buf body; /* body (error body only when streaming) */
    uint64_t streamed;  /* bytes written to the sink */
    char request_id[72];
    char content_type[96]; /* of the reply, "" when none */
    char reason[480];      /* transport failure, for messages */
    bool unreachable;      /* exit 7: no connection, TLS refused, timeout, broken reply */
    bool cancelled;        /* rq->cancel became non-zero */
};

void cli_response_init(struct cli_response *rs);
void cli_response_release(struct cli_response *rs);
/* Performs the request. Returns CLI_EXIT_OK for 2xx, otherwise the exit code after printing
 * the error on stderr (unless rq->quiet). */
int cli_http(struct cli_ctx *ctx, const struct cli_request *rq, struct cli_response *rs);
/* Prints the gateway's error envelope (or HTTP status) on stderr. */
void cli_print_http_error(const struct cli_response *rs);
/* Prints a failed request on stderr: "<gateway>: <why>" for a transport failure, else the
 * error envelope with the hints of a reply without a token or not from a gateway; nothing
 * for a 2xx. */
void cli_print_failure(const struct cli_ctx *ctx, const struct cli_response *rs);
/* The timeout in seconds of a request: --timeout, else the default of an API call or of an
 * agent turn. */
long cli_timeout(const struct cli_ctx *ctx, bool turn);
/* Whether a reply came from an OpenClaw gateway: a JSON body (error envelopes included). */
bool cli_reply_is_json(const struct cli_response *rs);
/* Prints on stderr why a reply that is not an OpenClaw gateway's suggests a wrong URL. */
void cli_hint_not_gateway(const struct cli_ctx *ctx, const struct cli_response *rs);
/* Convenience: method + url, optional JSON body; on 2xx parses the body into *out (may be
 * NULL to skip). Prints errors. */
int cli_http_json(struct cli_ctx *ctx, const char *method, const char *url, const json_t *body,
                  struct cli_response *rs, json_t **out);
/* Parses the response body as a JSON object; prints an error and returns NULL otherwise. */
json_t *cli_response_json(const struct cli_response *rs);

/* --- output (cli_output.c) -------------------------------------------------------------- */

/* Appends s with control characters (C0, DEL, C1) replaced by '?'; never emits terminal
 * escape sequences received from the gateway. */
void cli_sanitize(struct gw_buf *b, const char *s);
/* Multi-line text from a model or a user: newlines and tabs kept, other control characters
 * (terminal escape sequences) dropped. */
void cli_sanitize_text(struct gw_buf *b, const char *s, size_t n);
/* Display form of a JSON value for tables: strings sanitized, null → "-", arrays of strings
 * joined with ", ", other values compact JSON. Caller frees. */
char *cli_json_cell(const json_t *v);

struct cli_table {
    size_t ncols;
    const char *const *headers;
    char **cells; /* nrows * ncols, owned */
    size_t nrows, cap;
};

void cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols);
void cli_table_release(struct cli_table *t);
/* Copies (sanitized) the ncols cells; NULL cells print "-". */
void cli_table_add(struct cli_table *t, const char *const *cells);
/* Adds a row of the given keys of a JSON object. */
void cli_table_add_json(struct cli_table *t, const json_t *obj, const char *const *keys);
/* Columns separated by two spaces, widths by UTF-8 code points, last column unpadded. */
void cli_table_render(const struct cli_table *t, struct gw_buf *out);

/* Money: rounded to the micro-unit (6 decimals), trailing zeros dropped but at least two
 * decimals kept ("412.50", "0.00043", "0.000001"); a non-zero amount below half a micro-unit
 * is "<0.000001" so it never reads as nothing. Caller frees. */
char *cli_money(double v);

/* Writes the raw body (adding a final newline if missing) to stdout. */
void cli_print_raw(const char *data, size_t len);
/* Pretty JSON of a local object to stdout. */
void cli_print_json(const json_t *v);
/* Writes a buffer to stdout. */
void cli_print_buf(const struct gw_buf *b);

/* "<label padded to width><value sanitized, "-" when empty>\n" (the report lines of status). */
void cli_field(struct gw_buf *out, int width, const char *label, const char *value);
/* `openclaw status` text for a /status reply and an optional /auth/userinfo reply. userinfo_err
 * is shown as the user line when the userinfo call failed (NULL otherwise). */
void cli_format_status(struct gw_buf *out, const char *gateway, const json_t *status,
                       const json_t *userinfo, const char *userinfo_err);
void cli_format_unreachable(struct gw_buf *out, const char *gateway, const char *reason);

struct audit_verify_result;
/* {"ok", "first_bad_seq", "events_checked", "checkpoints_checked", "last_seq", "reason"}. */
json_t *cli_verify_result_json(const struct audit_verify_result *r);
/* Text report of a verification result (local or from /audit/verify). */
void cli_format_verify(struct gw_buf *out, const json_t *result);

/* Sets o[key] to the string s; false (after printing an error) when s is not valid UTF-8. */
bool cli_json_put(json_t *o, const char *key, const char *s);

/* Splits "namespace/agent" into two non-empty parts (exactly one '/'). Caller frees both. */
bool cli_split_channel(const char *s, char **ns, char **agent);
/* Reads a whole stream into b (bounded by b->max). */
gw_err cli_read_stream(FILE *f, struct gw_buf *b);

/* GET url (an export) streamed to output: a file created 0600 under a temporary name and
 * renamed only when complete, or stdout when output is NULL, "" or "-". For a file, --json
 * prints summary (stolen; "output" and "bytes" added), else "Exported N bytes to FILE" goes
 * to stderr (cli_export.c). Returns the exit code. */
int cli_export_get(struct cli_ctx *ctx, const char *url, const char *output, json_t *summary);

/* --- policies, tools and approvals (cli_policy.c, cli_approvals.c) ----------------------- */

#define CLI_MAX_POLICY_INPUT ((size_t)4 << 20) /* `policy create|update --file` */

/* Request bodies from parsed arguments. Each returns CLI_EXIT_OK (*out set, caller decrefs),
 * CLI_EXIT_USAGE or CLI_EXIT_FAIL (unreadable --file), with a message in err. */
/* create: {"scope","scope_id"?,"domain","content"|"content_yaml","change_reason"};
 * update (a->pos[0] is the id): {"content"|"content_yaml","change_reason","expected_version"?} */
int cli_policy_write_body(const struct cli_args *a, bool create, json_t **out, char *err,
                          size_t errcap);
/* {"action","resource","classification"?,"context"?:{k:v},"principal"?:{"user"}} */
int cli_explain_body(const struct cli_args *a, json_t **out, char *err, size_t errcap);
/* a->pos[0] is the tool: {"tool","args":{--args plus --arg k=v}} */
int cli_invoke_body(const struct cli_args *a, json_t **out, char *err, size_t errcap);
/* approve/reject: {"args"?,"comment"?} */
int cli_approve_body(const struct cli_args *a, json_t **out, char *err, size_t errcap);

/* Sets body["content"] (parsed JSON object, when the text starts with '{' after blanks) or
 * body["content_yaml"] (the text). */
int cli_policy_content(const char *text, size_t len, json_t *body, char *err, size_t errcap);
/* Parses text as a JSON object ("<what> is not valid JSON: ..." otherwise). */
int cli_parse_object(const char *text, size_t len, const char *what, json_t **out, char *err,
                     size_t errcap);
/* Adds "KEY=VALUE" to obj as a string member; a repeated key is an error (--<opt> in err). */
int cli_kv_put(json_t *obj, const char *kv, const char *opt, char *err, size_t errcap);

/* Appends "  - field: message\n" for each entry of reply.error.violations; returns how many. */
size_t cli_format_violations(struct gw_buf *out, const json_t *reply);
/* cli_http_json that also prints an error envelope's violations on stderr. */
int cli_call(struct cli_ctx *ctx, const char *method, const char *url, const json_t *body,
             struct cli_response *rs, json_t **out);
/* Pretty JSON, each line prefixed with indent and sanitized. */
void cli_format_pretty(struct gw_buf *out, const json_t *v, const char *indent);
void cli_format_policy(struct gw_buf *out, const json_t *record);
/* `policy effective`: domain, the chain (or per-field sources) and the effective document. */
void cli_format_effective(struct gw_buf *out, const json_t *reply);
/* Decision, reason, deciding policy, obligations and the trace table of /policies/evaluate. */
void cli_format_explain(struct gw_buf *out, const json_t *reply);
/* "executed" + result, or "pending approval <id> (expires ...)" for a 202. */
void cli_format_invoke(struct gw_buf *out, long status, const json_t *reply);
void cli_format_approval(struct gw_buf *out, const json_t *item);

/* --- `openclaw auth`: the stored login (cli_credentials.c) ------------------------------ */

#define CLI_MAX_CREDENTIALS_FILE ((size_t)1 << 20)
#define CLI_LOGIN_REFRESH_MARGIN_S 30 /* refresh a little before the access token runs out */

/* $XDG_CONFIG_HOME/openclaw (an absolute XDG_CONFIG_HOME only), else $HOME/.config/openclaw
 * (the passwd entry when HOME is unset): stored logins and the chat history. */
char *cli_xdg_dir(void);
/* Creates the directory of file_path (0700) and checks that it is ours and closed to others
 * (tightened to 0700 when it is not). */
gw_err cli_private_dir(const char *file_path, char *err, size_t errcap);
/* cli_xdg_dir() + "/credentials.json". */
char *cli_credentials_path(void);
/* Reads the credentials file: {"version":1,"gateways":{"<gateway url>":{entry}}}. A missing
 * file is an empty document. *loose is set when the file is readable by others. */
gw_err cli_credentials_load(const char *path, json_t **doc, bool *loose, char *err, size_t errcap);
/* Writes it: directory 0700, file created 0600 under a temporary name (O_EXCL), synced and
 * renamed over the old one, so it is never readable by others, not even for a moment. */
gw_err cli_credentials_save(const char *path, const json_t *doc, char *err, size_t errcap);
/* The entry of a gateway (borrowed from doc) when it has usable tokens, else NULL. */
json_t *cli_credentials_entry(const json_t *doc, const char *gateway);
/* Uses the stored login of the resolved gateway as the token (no --token/OPENCLAW_TOKEN). */
void cli_login_apply(struct cli_ctx *ctx);
/* Refreshes the stored login (rotating both tokens) under a lock on the credentials file;
 * another process's fresh refresh is adopted instead. CLI_EXIT_OK with ctx->set.token
 * replaced, else the exit code (CLI_EXIT_AUTH when the login ended: the entry is removed). */
int cli_login_refresh(struct cli_ctx *ctx);

/* --- `openclaw auth login`: PKCE and the loopback callback (cli_loopback.c) -------------- */

#define CLI_DEFAULT_LOGIN_WAIT 300L /* seconds the login waits for the browser */

/* PKCE (RFC 7636): a 43-character verifier and its S256 challenge. */
void cli_pkce_pair(char verifier[44], char challenge[44]);

/* What the browser brought to the loopback listener: GET /callback?code=&state= or
 * ?error=&state=. Strings are malloc'd. */
struct cli_callback {
    char *code, *state, *error;
};
/* Parses the request target. 0: a callback; -1: another path; -2: malformed (a parameter
 * repeated or badly escaped). */
int cli_callback_parse(const char *target, struct cli_callback *cb);
void cli_callback_release(struct cli_callback *cb);

/* --- between the `openclaw auth` files only (auth, credentials, loopback) ----------------- */

/* cli_credentials.c */
/* The current time in epoch seconds. */
int64_t cli_now_s(void);
/* Zeroes a secret string, then frees it (NULL is fine). */
void cli_wipe_free(char *s);
/* The credentials file as a command holds it: read (and locked, to change it), with the
 * login of the resolved gateway. */
struct cli_stored {
    char *path;
    int lock;      /* -1: not locked */
    json_t *doc;   /* NULL when the file could not be read (err says why) */
    json_t *entry; /* the gateway's login (borrowed from doc), or NULL */
    bool loose;    /* readable by others */
    char err[320];
};
/* Reads the credentials file (locked first when lock) and finds the gateway's login. */
gw_err cli_stored_open(const struct cli_ctx *ctx, struct cli_stored *s, bool lock);
/* Frees what cli_stored_open holds and releases the lock. */
void cli_stored_close(struct cli_stored *s);
/* Sets (entry) or removes (NULL) the gateway's login and writes the file; prints errors. */
bool cli_stored_put(struct cli_stored *s, const char *gateway, json_t *entry);
/* Makes a stored login entry the token of this invocation (ctx->login set). */
void cli_use_entry(struct cli_ctx *ctx, const json_t *e);
/* POST /api/v1/auth/cli/<what> without the bearer token; *reply on 2xx. */
int cli_endpoint(struct cli_ctx *ctx, const char *what, const json_t *body, struct cli_response *rs,
                 json_t **reply);
/* The stored form of a token reply (tokens, expiries, identity); NULL when it is unusable. */
json_t *cli_entry_from_reply(const json_t *r, const char *method, int64_t logged_in_at);

/* cli_loopback.c */
/* Listens on 127.0.0.1 at a random port (*port): the socket, or -1 (the error printed). */
int cli_listen_loopback(unsigned *port);
/* A small page (fixed texts only) on the browser connection, then closed; fd < 0: no-op. */
void cli_answer_browser(int fd, int status, const char *title, const char *text);
/* The browser command: --browser-command, else the first entry of $BROWSER, else xdg-open. */
char *cli_browser_command(const char *flag);
/* Runs the browser command with the URL as $1 (never parsed by the shell); its pid. */
pid_t cli_launch_browser(const char *cmd, const char *url);
/* Waits for GET /callback (*conn left open): 0 ok, -1 timeout, -2 malformed callback. */
int cli_wait_callback(int lfd, int64_t deadline_ms, pid_t browser, int *conn,
                      struct cli_callback *cb);
/* A line from standard input within the deadline (the pasted code), trimmed, or NULL. */
char *cli_read_pasted(int64_t deadline_ms);

/* --- command families ------------------------------------------------------------------ */

/* argv[0] is the family name ("tokens", ...). Each returns an exit code. */
int cli_cmd_config(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_tokens(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_agents(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_namespaces(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_send(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_chat(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_memory(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_policy(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_approvals(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_tools(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_auth(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sessions(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_conversations(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_messages(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_admin(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_models(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_providers(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_completion(struct cli_ctx *ctx, int argc, char **argv);

extern const char cli_help_config[];
extern const char cli_help_status[];
extern const char cli_help_tokens[];
extern const char cli_help_agents[];
extern const char cli_help_namespaces[];
extern const char cli_help_send[];
extern const char cli_help_chat[];
extern const char cli_help_memory[];
extern const char cli_help_audit[];
extern const char cli_help_policy[];
extern const char cli_help_approvals[];
extern const char cli_help_tools[];
extern const char cli_help_stats[];
extern const char cli_help_auth[];
extern const char cli_help_sessions[];
extern const char cli_help_conversations[];
extern const char cli_help_messages[];
extern const char cli_help_admin[];
extern const char cli_help_models[];
extern const char cli_help_providers[];
extern const char cli_help_completion[];

/* The entries of cli_commands, one per family file. */
extern const struct cli_command cli_command_status, cli_command_auth, cli_command_config,
    cli_command_tokens, cli_command_agents, cli_command_namespaces, cli_command_sessions,
    cli_command_send, cli_command_chat, cli_command_conversations, cli_command_messages,
    cli_command_memory, cli_command_audit, cli_command_policy, cli_command_tools,
    cli_command_approvals, cli_command_stats, cli_command_admin, cli_command_completion,
    cli_command_models, cli_command_providers;

/* `stats costs` text of a GET /api/v1/costs reply (cli_stats.c). */
void cli_format_costs(struct gw_buf *out, const json_t *report);

/* Models and providers (cli_models.c). Request bodies from parsed arguments: CLI_EXIT_OK
 * (*out set), CLI_EXIT_USAGE or CLI_EXIT_FAIL (an unreadable key file), with err. A provider:
 * a->pos[0] is the name (add); the key comes from --api-key-file (or "-") / --api-key-env. */
int cli_provider_body(const struct cli_args *a, bool add, json_t **out, char *err, size_t cap);
/* A model: a->pos[0] is "<provider>/<model>" (add). */
int cli_model_body(const struct cli_args *a, bool add, json_t **out, char *err, size_t cap);
/* `models list` of a GET /api/v1/models reply (only provider's models when not NULL, then
 * without the agents), `providers list` and `providers show`, and a test's results. */
void cli_format_models(struct gw_buf *out, const json_t *reply, const char *provider);
void cli_format_providers(struct gw_buf *out, const json_t *reply);
void cli_format_provider(struct gw_buf *out, const json_t *p);
void cli_format_probe(struct gw_buf *out, const json_t *reply);

/* `sessions list` table of a GET /api/v1/auth/sessions reply (cli_sessions.c). */
void cli_format_sessions(struct gw_buf *out, const json_t *reply);
/* `conversations list` table and `conversations show` transcript of their replies
 * (cli_conversations.c); `messages list` of a mailbox page (cli_messages.c). */
void cli_format_conversations(struct gw_buf *out, const json_t *reply);
void cli_format_conversation(struct gw_buf *out, const json_t *reply);
void cli_format_messages(struct gw_buf *out, const json_t *reply);
/* One page of a list: GET url, then with --json the reply as it came, else format's text on
 * stdout and, when the reply has a next_cursor, "(more <what>: <again> --cursor C)" on stderr
 * (cli_output.c). Returns the exit code. */
typedef void cli_format_fn(struct gw_buf *out, const json_t *reply);
int cli_get_page(struct cli_ctx *ctx, const char *url, struct cli_response *rs,
                 cli_format_fn *format, const char *what, const char *again);
/* `admin reload` report of a 200 reply, or the errors of a refused (400) one (cli_admin.c). */
void cli_format_reload(struct gw_buf *out, long status, const json_t *reply);

/* `openclaw completion bash`: the bash completion script, generated from cli_commands
 * (cli_complete.c; share/bash-completion/completions/openclaw is its output). */
void cli_completion_bash(struct gw_buf *out);

/* --- `chat` line input (cli_editline.c) -------------------------------------------------- */

#define CLI_HISTORY_ENTRIES 1000
#define CLI_HISTORY_MAX_LINE 4096              /* longer lines are not kept in the history */
#define CLI_HISTORY_MAX_FILE ((size_t)8 << 20) /* a larger history file is not loaded */

/* Set by SIGINT while cli_sigint_catch is in force. */
extern volatile sig_atomic_t cli_interrupted;
/* Catches SIGINT (no SA_RESTART, so a blocking read returns) into cli_interrupted; false
 * restores the previous disposition. */
void cli_sigint_catch(bool on);

struct cli_lines;
/* Line input for `chat`: libedit with history (unless !keep_history) when standard input and
 * output are terminals (history file: cli_history_path(), 0600, CLI_HISTORY_ENTRIES lines),
 * else plain reads (the prompt only when standard input is a terminal). */
struct cli_lines *cli_lines_open(const char *prompt, bool keep_history);
bool cli_lines_interactive(const struct cli_lines *l);
/* The next line without its newline (valid until the next call): 1 a line, 0 end of input
 * (Ctrl-D), -1 Ctrl-C at the prompt (the line is discarded), -2 a line above max bytes
 * (discarded). */
int cli_lines_read(struct cli_lines *l, size_t max, const char **line);
/* Adds a line to the history and saves the file. */
void cli_lines_remember(struct cli_lines *l, const char *line);
void cli_lines_close(struct cli_lines *l);
/* The history file (caller frees). */
char *cli_history_path(void);

#endif
