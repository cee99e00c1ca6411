/* SPDX-License-Identifier: MIT
 * cli_auth.c — `openclaw auth login|status|logout`: the CLI signs in through the company's
 * single sign-on in a browser, and keeps the resulting credential.
 *
 * login (RFC 8252 native-app flow against the gateway's /api/v1/auth/cli routes): a PKCE
 * verifier and a state are made here, the browser is sent to the gateway's authorize URL and
 * comes back to the one-request listener on 127.0.0.1 (cli_loopback.c) with a one-time code,
 * which is redeemed with the verifier. --no-browser is the copy-paste mode for machines
 * without a browser: the URL is printed and the code shown by the gateway is read from
 * standard input. The wait is bounded (--login-timeout, 5 minutes by default). The
 * credential is kept in the credentials file (cli_credentials.c). Tokens are never printed.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "auth/auth_cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <sys/wait.h>
#include <unistd.h>

const char cli_help_auth[] =
    "usage: openclaw auth login [--no-browser] [--browser-command CMD] [--login-timeout SECONDS]\n"
    "       openclaw auth status\n"
    "       openclaw auth logout\n"
    "\n"
    "login    signs the CLI in through the company's single sign-on in a browser: opens\n"
    "         $BROWSER (else xdg-open) on the gateway, which sends the sign-in back to a\n"
    "         one-time listener on 127.0.0.1. Confirm the sign-in on the gateway's page.\n"
    "           --no-browser             print the URL instead (any device) and paste the\n"
    "                                    code the gateway then shows\n"
    "           --browser-command CMD    run CMD with the URL as its last argument (%s in CMD\n"
    "                                    is replaced by the URL)\n"
    "           --login-timeout SECONDS  how long to wait for the browser (1-3600, default 300)\n"
    "status   who the stored login is, checked with the gateway (exit 3 when not logged in)\n"
    "logout   revokes the login on the gateway and removes it from this computer\n"
    "\n"
    "The login is kept in $XDG_CONFIG_HOME/openclaw/credentials.json (default\n"
    "~/.config/openclaw/credentials.json, mode 0600), per gateway URL, and used by every\n"
    "command when no --token or OPENCLAW_TOKEN is given; it is refreshed automatically.\n";

static const struct cli_optdef login_opts[] = {
    {"no-browser", 0},
    {"browser-command", CLI_OPT_ARG},
    {"login-timeout", CLI_OPT_ARG},
    {NULL, 0},
};
static const struct cli_optdef no_opts[] = {{NULL, 0}};

static void line(struct gw_buf *b, const char *label, const char *value)
{
    cli_field(b, 15, label, value);
}

static const char *iso(int64_t s, char out[40])
{
    if (s <= 0)
        return NULL;
    gw_time_iso8601(s * 1000, out, 40);
    return out;
}

/* The identity of a login, without its tokens (for --json). */
static json_t *login_json(const char *gateway, const json_t *e, const char *path)
{
    char a[40], r[40];
    json_t *o = json_pack("{s:s,s:b}", "gateway", gateway, "logged_in", 1);
    static const char *const keep[] = {"user",     "email", "name",       "role",  "tenant",
                                       "org_unit", "team",  "session_id", "method"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keep); i++)
        json_object_set_new(o, keep[i],
                            gw_json_str(e, keep[i]) ? json_string(gw_json_str(e, keep[i]))
                                                    : json_null());
    const char *ea = iso((int64_t)json_integer_value(json_object_get(e, "expires_at")), a);
    const char *ra = iso((int64_t)json_integer_value(json_object_get(e, "refresh_expires_at")), r);
    json_object_set_new(o, "access_expires_at", ea ? json_string(ea) : json_null());
    json_object_set_new(o, "login_expires_at", ra ? json_string(ra) : json_null());
    json_object_set_new(o, "credentials_file", json_string(path));
    return o;
}

static void login_text(struct gw_buf *b, const char *gateway, const json_t *e, const char *path)
{
    char a[40], r[40];
    const char *m = gw_json_str(e, "method");
    line(b, "Gateway:", gateway);
    line(b, "User:", gw_json_str(e, "user"));
    line(b, "Email:", gw_json_str(e, "email"));
    line(b, "Role:", gw_json_str(e, "role"));
    line(b, "Tenant:", gw_json_str(e, "tenant"));
    line(b, "Org Unit:", gw_json_str(e, "org_unit"));
    line(b, "Team:", gw_json_str(e, "team"));
    line(b, "Method:",
         m && !strcmp(m, "copy-paste") ? "single sign-on in a browser (code pasted)"
                                       : "single sign-on in a browser (loopback)");
    line(b, "Session:", gw_json_str(e, "session_id"));
    const char *exp = iso((int64_t)json_integer_value(json_object_get(e, "expires_at")), a);
    char *acc = gw_xasprintf("expires %s (refreshed automatically)", exp ? exp : "-");
    line(b, "Access token:", acc);
    free(acc);
    line(b, "Login expires:",
         iso((int64_t)json_integer_value(json_object_get(e, "refresh_expires_at")), r));
    line(b, "Credentials:", path);
}

static void print_login(struct cli_ctx *ctx, const json_t *e, const char *path)
{
    if (ctx->json) {
        json_t *o = login_json(ctx->set.gateway_url, e, path);
        cli_print_json(o);
        json_decref(o);
        return;
    }
    struct gw_buf b;
    gw_buf_init(&b, (size_t)1 << 20);
    login_text(&b, ctx->set.gateway_url, e, path);
    cli_print_buf(&b);
    gw_buf_release(&b);
}

/* Requests the authorize URL once before the browser does: a gateway that can sign the CLI
 * in answers 302 (to its login). Anything else (no single sign-on, an older gateway, no
 * gateway at all) is said at once instead of after a long wait for the browser. */
static int preflight(struct cli_ctx *ctx, const char *url)
{
    struct cli_response rs;
    cli_response_init(&rs);
    struct cli_request rq = {.method = "GET", .url = url, .auth = false, .quiet = true};
    int rc = cli_http(ctx, &rq, &rs);
    if (rs.status == 302) {
        rc = CLI_EXIT_OK;
    } else {
        cli_print_failure(ctx, &rs);
        if (rs.status)
            fprintf(stderr, "error: the gateway %s cannot sign the CLI in (HTTP %ld)\n",
                    ctx->set.gateway_url, rs.status);
        if (rc == CLI_EXIT_OK)
            rc = CLI_EXIT_FAIL;
    }
    cli_response_release(&rs);
    return rc;
}

struct login_run {
    char verifier[44], challenge[44], state[48];
    char *redirect_uri;
    int lfd, conn;
    pid_t browser;
    struct cli_callback cb;
    char *code;
};

/* Gets a code: through the loopback listener, or pasted. CLI_EXIT_OK or an exit code. */
static int obtain_code(struct cli_ctx *ctx, struct login_run *L, bool oob, const char *cmd,
                       long wait_s)
{
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/auth/cli/authorize");
    cli_url_query(&url, "redirect_uri", L->redirect_uri);
    cli_url_query(&url, "code_challenge", L->challenge);
    cli_url_query(&url, "code_challenge_method", "S256");
    cli_url_query(&url, "state", L->state);
    int64_t deadline = gw_now_ms() + wait_s * 1000;
    int rc = preflight(ctx, url.data);
    if (rc != CLI_EXIT_OK)
        goto out;
    rc = CLI_EXIT_FAIL;
    if (oob) {
        fprintf(stderr,
                "Open this URL in a browser (on any device), sign in and confirm, then "
                "paste the code it shows:\n\n  %s\n\n",
                url.data);
        if (isatty(0))
            fprintf(stderr, "Code: ");
        fflush(stderr);
        L->code = cli_read_pasted(deadline);
        if (L->code)
            rc = CLI_EXIT_OK;
        else
            fprintf(stderr,
                    "error: no code was entered (end of input, or %ld seconds "
                    "passed)\n",
                    wait_s);
        goto out;
    }
    char *command = cli_browser_command(cmd);
    fprintf(stderr,
            "Opening a browser to sign in to %s.\nIf it does not open, visit:\n\n  %s\n\n"
            "Waiting for the sign-in (up to %ld seconds)...\n",
            ctx->set.gateway_url, url.data, wait_s);
    L->browser = cli_launch_browser(command, url.data);
    free(command);
    int w = cli_wait_callback(L->lfd, deadline, L->browser, &L->conn, &L->cb);
    if (w == -1) {
        fprintf(stderr,
                "error: the browser did not come back within %ld seconds; run openclaw "
                "auth login again (--no-browser on a machine without a browser)\n",
                wait_s);
    } else if (w == -2) {
        cli_answer_browser(L->conn, 400, "Sign-in failed", "The sign-in answer was malformed.");
        L->conn = -1;
        fprintf(stderr, "error: the browser brought back a malformed sign-in answer\n");
    } else if (!L->cb.state || strlen(L->cb.state) != strlen(L->state) ||
               !gw_ct_equal(L->cb.state, L->state, strlen(L->state))) {
        cli_answer_browser(L->conn, 400, "Sign-in refused",
                           "This answer does not belong to the sign-in the CLI started.");
        L->conn = -1;
        fprintf(stderr, "error: the browser brought back a different state: this is not the "
                        "sign-in this command started (nothing was saved)\n");
    } else if (L->cb.error) {
        cli_answer_browser(L->conn, 200, "Sign-in cancelled", "Nothing was signed in.");
        L->conn = -1;
        struct gw_buf e;
        gw_buf_init(&e, 1024);
        cli_sanitize(&e, L->cb.error);
        fprintf(stderr, "error: the sign-in was not completed in the browser (%s)\n",
                e.data ? e.data : "");
        gw_buf_release(&e);
    } else if (!L->cb.code || !*L->cb.code) {
        cli_answer_browser(L->conn, 400, "Sign-in failed", "The answer carried no code.");
        L->conn = -1;
        fprintf(stderr, "error: the browser came back without a code\n");
    } else {
        L->code = gw_xstrdup(L->cb.code);
        rc = CLI_EXIT_OK;
    }
out:
    gw_buf_release(&url);
    return rc;
}

/* POST /api/v1/auth/cli/revoke with a refresh token: CLI_EXIT_OK (*revoked: the gateway
 * ended a session) or the exit code, the failure printed when print. */
static int revoke_token(struct cli_ctx *ctx, const char *refresh_token, bool *revoked, bool print)
{
    json_t *body = json_pack("{s:s}", "token", refresh_token), *reply = NULL;
    struct cli_response rs;
    cli_response_init(&rs);
    int rc = cli_endpoint(ctx, "revoke", body, &rs, &reply);
    if (revoked)
        *revoked = rc == CLI_EXIT_OK && json_is_true(json_object_get(reply, "revoked"));
    if (rc != CLI_EXIT_OK && print)
        cli_print_failure(ctx, &rs);
    json_decref(reply);
    json_decref(body);
    cli_response_release(&rs);
    return rc;
}

/* Stores a new login; the one it replaces is revoked on the gateway (best effort). */
static bool save_login(struct cli_ctx *ctx, json_t *entry)
{
    struct cli_stored s;
    if (cli_stored_open(ctx, &s, true) != GW_OK)
        fprintf(stderr, "warning: replacing an unreadable credentials file (%s)\n", s.err);
    char *prev = s.entry ? gw_xstrdup(gw_json_str(s.entry, "refresh_token")) : NULL;
    bool saved = cli_stored_put(&s, ctx->set.gateway_url, entry);
    cli_stored_close(&s);
    if (saved && prev)
        (void)revoke_token(ctx, prev, NULL, false);
    cli_wipe_free(prev);
    return saved;
}

static int cmd_login(struct cli_ctx *ctx, const struct cli_args *a)
{
    long wait_s = CLI_DEFAULT_LOGIN_WAIT;
    const char *v = cli_args_get(a, "login-timeout");
    if (v && !cli_parse_long(v, 1, 3600, &wait_s))
        return cli_usage_error(cli_help_auth, "--login-timeout must be 1-3600 seconds");
    bool oob = cli_args_has(a, "no-browser");
    const char *cmd = cli_args_get(a, "browser-command");
    if (oob && cmd)
        return cli_usage_error(cli_help_auth, "--no-browser and --browser-command exclude "
                                              "each other");
    if (a->npos)
        return cli_usage_error(cli_help_auth, "auth login takes no arguments");
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;

    struct login_run L = {.lfd = -1, .conn = -1, .browser = -1};
    json_t *body = NULL, *reply = NULL, *entry = NULL;
    char *path = cli_credentials_path();
    struct cli_response rs;
    cli_response_init(&rs);
    unsigned char raw[16];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), L.state);
    cli_pkce_pair(L.verifier, L.challenge);
    if (oob) {
        L.redirect_uri = gw_xstrdup(AUTH_CLI_OOB);
    } else {
        unsigned port = 0;
        if ((L.lfd = cli_listen_loopback(&port)) < 0) {
            rc = CLI_EXIT_FAIL;
            goto out;
        }
        L.redirect_uri = gw_xasprintf("http://127.0.0.1:%u/callback", port);
    }
    if ((rc = obtain_code(ctx, &L, oob, cmd, wait_s)) != CLI_EXIT_OK)
        goto out;

    body = json_pack("{s:s,s:s,s:s,s:s}", "grant_type", "authorization_code", "code", L.code,
                     "code_verifier", L.verifier, "redirect_uri", L.redirect_uri);
    rc = cli_endpoint(ctx, "token", body, &rs, &reply);
    if (rc != CLI_EXIT_OK) {
        cli_answer_browser(L.conn, 200, "Sign-in failed",
                           "The gateway refused the sign-in: see the terminal.");
        L.conn = -1;
        cli_print_failure(ctx, &rs);
        goto out;
    }
    entry = cli_entry_from_reply(reply, oob ? "copy-paste" : "loopback", cli_now_s());
    if (!entry) {
        fprintf(stderr, "error: the gateway's reply has no usable tokens\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (!save_login(ctx, entry)) {
        cli_answer_browser(L.conn, 200, "Sign-in failed", "The CLI could not save the login.");
        L.conn = -1;
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    cli_answer_browser(L.conn, 200, "Signed in",
                       "The openclaw CLI is signed in. You can close this window.");
    L.conn = -1;
    if (!ctx->json) {
        struct gw_buf b;
        gw_buf_init(&b, 4096);
        gw_buf_puts(&b, "Logged in to ");
        cli_sanitize(&b, ctx->set.gateway_url);
        gw_buf_puts(&b, " as ");
        cli_sanitize(&b, gw_json_str(entry, "user") ? gw_json_str(entry, "user") : "?");
        gw_buf_puts(&b, ".\n\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
    print_login(ctx, entry, path);
out:
    cli_answer_browser(L.conn, 200, "Sign-in failed", "See the terminal.");
    if (L.lfd >= 0)
        close(L.lfd);
    if (L.browser > 0)
        (void)waitpid(L.browser, NULL, WNOHANG);
    cli_callback_release(&L.cb);
    cli_wipe_free(L.code);
    explicit_bzero(L.verifier, sizeof(L.verifier));
    free(L.redirect_uri);
    json_decref(body);
    json_decref(reply);
    json_decref(entry);
    cli_response_release(&rs);
    free(path);
    return rc;
}

/* The stored login of the resolved gateway (a new reference), or NULL. */
static json_t *stored_login(struct cli_ctx *ctx)
{
    struct cli_stored s;
    json_t *e = NULL;
    if (cli_stored_open(ctx, &s, false) != GW_OK)
        fprintf(stderr, "error: %s\n", s.err);
    else
        e = json_incref(s.entry);
    cli_stored_close(&s);
    return e;
}

static int not_logged_in(struct cli_ctx *ctx, int rc)
{
    if (ctx->json) {
        json_t *o = json_pack("{s:s,s:b}", "gateway", ctx->set.gateway_url, "logged_in", 0);
        cli_print_json(o);
        json_decref(o);
    } else {
        struct gw_buf b;
        gw_buf_init(&b, 4096);
        gw_buf_puts(&b, "Not logged in to ");
        cli_sanitize(&b, ctx->set.gateway_url);
        gw_buf_puts(&b, rc == CLI_EXIT_OK ? "\n" : " (run openclaw auth login)\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
    return rc;
}

static int cmd_status(struct cli_ctx *ctx)
{
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    char *path = cli_credentials_path();
    json_t *e = stored_login(ctx), *me = NULL;
    struct cli_response rs;
    cli_response_init(&rs);
    struct gw_buf url;
    gw_buf_init(&url, 1);
    if (!e) {
        rc = not_logged_in(ctx, CLI_EXIT_AUTH);
        goto out;
    }
    if (!ctx->login)
        fprintf(stderr, "note: %s is set and is used by other commands instead of this login\n",
                ctx->set.token_source);
    cli_use_entry(ctx, e);
    gw_buf_release(&url);
    cli_url_begin(&url, ctx, "/api/v1/auth/userinfo");
    struct cli_request rq = {.method = "GET", .url = url.data, .auth = true, .quiet = true};
    rc = cli_http(ctx, &rq, &rs);
    if (rc == CLI_EXIT_AUTH) {
        cli_print_failure(ctx, &rs);
        rc = not_logged_in(ctx, CLI_EXIT_AUTH);
        goto out;
    }
    json_decref(e);
    e = stored_login(ctx); /* a refresh may have renewed it */
    if (!e) {
        rc = not_logged_in(ctx, CLI_EXIT_AUTH);
        goto out;
    }
    if (rc == CLI_EXIT_OK && (me = cli_response_json(&rs))) {
        /* the gateway's view is authoritative: the role or org unit may have changed */
        static const char *const fields[] = {"user",   "email",    "name", "role",
                                             "tenant", "org_unit", "team"};
        for (size_t i = 0; i < GW_ARRAY_LEN(fields); i++)
            json_object_set(e, fields[i],
                            json_object_get(me, fields[i]) ? json_object_get(me, fields[i])
                                                           : json_null());
    } else if (rc == CLI_EXIT_OK) {
        rc = CLI_EXIT_FAIL;
    } else {
        cli_print_failure(ctx, &rs);
    }
    if (ctx->json) {
        json_t *o = login_json(ctx->set.gateway_url, e, path);
        json_object_set_new(o, "verified", json_boolean(me != NULL));
        cli_print_json(o);
        json_decref(o);
    } else {
        struct gw_buf b;
        gw_buf_init(&b, (size_t)1 << 20);
        login_text(&b, ctx->set.gateway_url, e, path);
        if (!me)
            gw_buf_puts(&b, "Verified:      no (the gateway could not confirm this login)\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
out:
    json_decref(me);
    json_decref(e);
    gw_buf_release(&url);
    cli_response_release(&rs);
    free(path);
    return rc;
}

static int cmd_logout(struct cli_ctx *ctx)
{
    int rc = cli_ctx_resolve(ctx);
    if (rc != CLI_EXIT_OK)
        return rc;
    struct cli_stored s;
    if (cli_stored_open(ctx, &s, true) != GW_OK) {
        fprintf(stderr, "error: %s\n", s.err);
        cli_stored_close(&s);
        return CLI_EXIT_FAIL;
    }
    if (!s.entry) {
        cli_stored_close(&s);
        return not_logged_in(ctx, CLI_EXIT_OK);
    }
    const char *sid = gw_json_str(s.entry, "session_id");
    char *session = gw_xstrdup(sid ? sid : "?");
    bool revoked = false;
    int revoke = revoke_token(ctx, gw_json_str(s.entry, "refresh_token"), &revoked, true);
    bool removed = cli_stored_put(&s, ctx->set.gateway_url, NULL);
    cli_stored_close(&s);
    if (!removed) {
        free(session);
        return CLI_EXIT_FAIL;
    }
    if (revoke != CLI_EXIT_OK) {
        fprintf(stderr,
                "warning: the login was removed from this computer, but the gateway did "
                "not revoke session %s; it stays valid there until it expires or an "
                "administrator revokes it\n",
                session);
        rc = revoke;
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s,s:b,s:s,s:b}", "gateway", ctx->set.gateway_url, "logged_out", 1,
                              "session_id", session, "revoked", revoked);
        cli_print_json(o);
        json_decref(o);
    } else {
        struct gw_buf b;
        gw_buf_init(&b, 4096);
        gw_buf_puts(&b, "Logged out of ");
        cli_sanitize(&b, ctx->set.gateway_url);
        gw_buf_puts(&b, revoked ? " (session " : " (");
        if (revoked)
            cli_sanitize(&b, session);
        gw_buf_puts(&b, revoked                 ? " revoked)\n"
                        : revoke == CLI_EXIT_OK ? "the session had already ended)\n"
                                                : "on this computer only)\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
    free(session);
    return rc;
}

static const struct cli_sub subs[] = {{"login", login_opts, NULL},
                                      {"status", no_opts, NULL},
                                      {"logout", no_opts, NULL}};
const struct cli_command cli_command_auth = {"auth", cli_help_auth,      cli_cmd_auth,
                                             subs,   GW_ARRAY_LEN(subs), NULL};

int cli_cmd_auth(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    const struct cli_sub *sub = NULL;
    int rc = cli_find_sub(ctx, argc, argv, &cli_command_auth, &si, &sub);
    if (rc != CLI_EXIT_OK)
        return rc;
    bool login = !strcmp(sub->name, "login");
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, sub->opts, cli_help_auth, a);
    if (rc == CLI_EXIT_OK) {
        if (login)
            rc = cmd_login(ctx, a);
        else if (a->npos)
            rc = cli_usage_error(cli_help_auth, "auth %s takes no arguments", sub->name);
        else
            rc = !strcmp(sub->name, "status") ? cmd_status(ctx) : cmd_logout(ctx);
    }
    free(a);
    return rc;
}
