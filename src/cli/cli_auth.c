/* SPDX-License-Identifier: MIT
 * cli_auth.c — `openclaw auth login|status|logout`: the CLI signs in through the company's
 * single sign-on in a browser, and keeps the resulting credential.
 *
 * login (RFC 8252 native-app flow against the gateway's /api/v1/auth/cli routes): a PKCE
 * verifier and a state are made here, a one-request listener waits on 127.0.0.1 at a random
 * port, the browser is sent to the gateway's authorize URL ($BROWSER, xdg-open, or
 * --browser-command) and comes back to http://127.0.0.1:<port>/callback with a one-time code,
 * which is redeemed with the verifier. --no-browser is the copy-paste mode for machines
 * without a browser: the URL is printed and the code shown by the gateway is read from
 * standard input. The wait is bounded (--login-timeout, 5 minutes by default).
 *
 * The credential (access and refresh token per gateway URL) lives in credentials.json under
 * $XDG_CONFIG_HOME/openclaw (or ~/.config/openclaw): directory 0700, file created 0600 and
 * replaced atomically. Commands use it when no --token or OPENCLAW_TOKEN is given; cli_http
 * refreshes it when it has expired or a request answers 401. Refreshing takes a lock on the
 * file and re-reads it first, so parallel commands never spend the same refresh token twice
 * (the gateway would see a reuse and end the login). Tokens are never printed.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "auth/auth_cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REQUEST_HEAD 8192  /* what the loopback listener reads of a browser request */
#define CONN_WAIT_MS 10000     /* per browser connection */
#define MAX_PASTED_CODE 512

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
    {"no-browser", 0}, {"browser-command", CLI_OPT_ARG}, {"login-timeout", CLI_OPT_ARG},
    {NULL, 0},
};
static const struct cli_optdef no_opts[] = {{NULL, 0}};

static int64_t now_s(void)
{
    return gw_now_ms() / 1000;
}

static void wipe_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

/* --- the credentials file ------------------------------------------------------------------- */

char *cli_credentials_path(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x && x[0] == '/')
        return gw_xasprintf("%s/openclaw/credentials.json", x);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : ".";
    }
    return gw_xasprintf("%s/.config/openclaw/credentials.json", home);
}

gw_err cli_credentials_load(const char *path, json_t **doc, bool *loose, char *err,
                            size_t errcap)
{
    *doc = NULL;
    if (loose)
        *loose = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            *doc = json_pack("{s:i,s:{}}", "version", 1, "gateways");
            return GW_OK;
        }
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return GW_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && loose)
        *loose = (st.st_mode & 077) != 0;
    char *text = NULL;
    size_t len = 0;
    gw_err rc = gw_fd_read_all(fd, CLI_MAX_CREDENTIALS_FILE, &text, &len);
    if (rc != GW_OK) {
        snprintf(err, errcap, "%s: %s", path,
                 rc == GW_ETOOBIG ? "file too large" : "not a readable regular file");
        return rc;
    }
    char msg[160];
    json_t *v = gw_json_parse(text, len, 8, msg, sizeof(msg));
    explicit_bzero(text, len);
    free(text);
    if (!v || !json_is_object(json_object_get(v, "gateways"))) {
        snprintf(err, errcap, "%s is not an openclaw credentials file%s%s", path, v ? "" : ": ",
                 v ? "" : msg);
        json_decref(v);
        return GW_ECONFIG;
    }
    *doc = v;
    return GW_OK;
}

/* The directory of path (malloc'd). */
static char *dir_of(const char *path)
{
    char *dir = gw_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    else
        strcpy(dir, slash ? "/" : ".");
    return dir;
}

/* Creates the credentials directory (0700) and makes sure it is ours and closed to others. */
static gw_err own_dir(const char *path, char *err, size_t errcap)
{
    char *dir = dir_of(path);
    gw_err rc = GW_OK;
    struct stat st;
    if (gw_mkdirs(dir, 0700) != GW_OK || lstat(dir, &st) != 0) {
        snprintf(err, errcap, "cannot create %s: %s", dir, strerror(errno));
        rc = GW_EIO;
    } else if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        snprintf(err, errcap, "%s is not a directory owned by you", dir);
        rc = GW_EIO;
    } else if ((st.st_mode & 077) && chmod(dir, 0700) != 0) {
        snprintf(err, errcap, "cannot restrict %s to mode 0700: %s", dir, strerror(errno));
        rc = GW_EIO;
    }
    free(dir);
    return rc;
}

gw_err cli_credentials_save(const char *path, const json_t *doc, char *err, size_t errcap)
{
    gw_err rc = own_dir(path, err, errcap);
    if (rc != GW_OK)
        return rc;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) {
        snprintf(err, errcap, "cannot encode the credentials");
        return GW_EINVAL;
    }
    size_t len = strlen(text);
    rc = gw_file_write_atomic(path, text, len, 0600);
    if (rc != GW_OK)
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
    explicit_bzero(text, len);
    free(text);
    return rc;
}

json_t *cli_credentials_entry(const json_t *doc, const char *gateway)
{
    json_t *e = json_object_get(json_object_get(doc, "gateways"), gateway);
    char why[160];
    const char *at = gw_json_str(e, "access_token"), *rt = gw_json_str(e, "refresh_token");
    if (!at || !rt || !cli_valid_token(at, why, sizeof(why)) ||
        !cli_valid_token(rt, why, sizeof(why)))
        return NULL;
    return e;
}

/* An exclusive lock on "<credentials>.lock" (released by closing); -1 when it cannot be had,
 * which only loses the protection against parallel refreshes. */
static int lock_credentials(const char *path)
{
    char err[200];
    if (own_dir(path, err, sizeof(err)) != GW_OK)
        return -1;
    char *lp = gw_xasprintf("%s.lock", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(lp);
    while (fd >= 0 && flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            fd = -1;
        }
    }
    return fd;
}

static void unlock_credentials(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* The credentials file as a command holds it: read (and locked, to change it), with the
 * login of the resolved gateway. */
struct stored {
    char *path;
    int lock;      /* -1: not locked */
    json_t *doc;   /* NULL when the file could not be read (err says why) */
    json_t *entry; /* the gateway's login (borrowed from doc), or NULL */
    bool loose;    /* readable by others */
    char err[320];
};

static gw_err stored_open(const struct cli_ctx *ctx, struct stored *s, bool lock)
{
    memset(s, 0, sizeof(*s));
    s->path = cli_credentials_path();
    s->lock = lock ? lock_credentials(s->path) : -1;
    gw_err rc = cli_credentials_load(s->path, &s->doc, &s->loose, s->err, sizeof(s->err));
    if (rc == GW_OK)
        s->entry = cli_credentials_entry(s->doc, ctx->set.gateway_url);
    return rc;
}

static void stored_close(struct stored *s)
{
    json_decref(s->doc);
    unlock_credentials(s->lock);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

/* Sets (entry) or removes (NULL) the gateway's login and writes the file (a new one when it
 * could not be read); prints errors. */
static bool stored_put(struct stored *s, const char *gateway, json_t *entry)
{
    if (!s->doc)
        s->doc = json_pack("{s:i,s:{}}", "version", 1, "gateways");
    json_t *gws = json_object_get(s->doc, "gateways");
    if (entry)
        json_object_set(gws, gateway, entry);
    else
        json_object_del(gws, gateway);
    s->entry = entry;
    json_object_set_new(s->doc, "version", json_integer(1));
    if (cli_credentials_save(s->path, s->doc, s->err, sizeof(s->err)) != GW_OK) {
        fprintf(stderr, "error: %s\n", s->err);
        return false;
    }
    return true;
}

/* --- the login as the token of every command ----------------------------------------------- */

static void set_token(struct cli_ctx *ctx, const char *token)
{
    wipe_free(ctx->set.token);
    ctx->set.token = gw_xstrdup(token);
}

static void use_entry(struct cli_ctx *ctx, const json_t *e)
{
    set_token(ctx, gw_json_str(e, "access_token"));
    ctx->set.token_source = "openclaw auth login";
    ctx->login = true;
    ctx->login_expires_at = (int64_t)json_integer_value(json_object_get(e, "expires_at"));
}

void cli_login_apply(struct cli_ctx *ctx)
{
    const char *src = ctx->set.token_source;
    if (src && (!strcmp(src, "--token") || !strcmp(src, "OPENCLAW_TOKEN")))
        return;
    struct stored s;
    if (stored_open(ctx, &s, false) != GW_OK) {
        fprintf(stderr, "warning: ignoring the stored login: %s\n", s.err);
    } else if (s.entry) {
        if (s.loose)
            fprintf(stderr, "warning: %s is readable by other users (chmod 600 it)\n", s.path);
        use_entry(ctx, s.entry);
    }
    stored_close(&s);
}

/* POST /api/v1/auth/cli/<what> without the bearer token; *reply on 2xx. */
static int cli_endpoint(struct cli_ctx *ctx, const char *what, const json_t *body,
                        struct cli_response *rs, json_t **reply)
{
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/auth/cli/");
    cli_url_fixed(&url, what);
    char *text = gw_json_compact(body);
    struct cli_request rq = {
        .method = "POST", .url = url.data, .content_type = "application/json", .body = text,
        .body_len = strlen(text), .auth = false, .quiet = true,
    };
    int rc = cli_http(ctx, &rq, rs);
    wipe_free(text);
    gw_buf_release(&url);
    if (rc == CLI_EXIT_OK && reply && !(*reply = cli_response_json(rs)))
        rc = CLI_EXIT_FAIL;
    return rc;
}

/* Prints a failed request (transport failure or error envelope); a 2xx reply that could not
 * be used was reported already. */
static void print_failure(const struct cli_ctx *ctx, const struct cli_response *rs)
{
    if (rs->status >= 200 && rs->status < 300)
        return;
    if (rs->status)
        cli_print_http_error(rs);
    else
        fprintf(stderr, "error: gateway %s unreachable: %s\n", ctx->set.gateway_url, rs->reason);
}

/* The stored form of a token reply (tokens, expiries, identity); NULL when it is unusable. */
static json_t *entry_from_reply(const json_t *r, const char *method, int64_t logged_in_at)
{
    char why[160];
    const char *at = gw_json_str(r, "access_token"), *rt = gw_json_str(r, "refresh_token");
    json_t *ei = json_object_get(r, "expires_in"), *ri = json_object_get(r, "refresh_expires_in");
    if (!at || !rt || !cli_valid_token(at, why, sizeof(why)) ||
        !cli_valid_token(rt, why, sizeof(why)) || !json_is_integer(ei) || !json_is_integer(ri))
        return NULL;
    int64_t now = now_s();
    json_t *e = json_pack("{s:s,s:s,s:I,s:I,s:s,s:I}", "access_token", at, "refresh_token", rt,
                          "expires_at", (json_int_t)(now + json_integer_value(ei)),
                          "refresh_expires_at", (json_int_t)(now + json_integer_value(ri)),
                          "method", method, "logged_in_at", (json_int_t)logged_in_at);
    static const char *const keep[] = {"session_id", "user", "email", "name", "role", "tenant",
                                       "org_unit", "team"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keep); i++)
        if (gw_json_str(r, keep[i]))
            json_object_set_new(e, keep[i], json_string(gw_json_str(r, keep[i])));
    return e;
}

int cli_login_refresh(struct cli_ctx *ctx)
{
    struct stored s;
    json_t *reply = NULL, *body = NULL;
    struct cli_response rs;
    cli_response_init(&rs);
    int rc = CLI_EXIT_AUTH;
    if (stored_open(ctx, &s, true) != GW_OK) {
        fprintf(stderr, "error: %s\n", s.err);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    const json_t *e = s.entry;
    if (!e) {
        fprintf(stderr, "error: the login to %s was removed meanwhile: run openclaw auth login\n",
                ctx->set.gateway_url);
        ctx->login = false;
        goto out;
    }
    int64_t exp = (int64_t)json_integer_value(json_object_get(e, "expires_at"));
    if (strcmp(gw_json_str(e, "access_token"), ctx->set.token) != 0 &&
        exp > now_s() + CLI_LOGIN_REFRESH_MARGIN_S) {
        use_entry(ctx, e); /* another openclaw process refreshed it a moment ago */
        rc = CLI_EXIT_OK;
        goto out;
    }
    body = json_pack("{s:s,s:s}", "grant_type", "refresh_token", "refresh_token",
                     gw_json_str(e, "refresh_token"));
    rc = cli_endpoint(ctx, "token", body, &rs, &reply);
    if (rc == CLI_EXIT_OK) {
        const char *method = gw_json_str(e, "method");
        json_t *fresh = entry_from_reply(reply, method ? method : "loopback",
                                         (int64_t)json_integer_value(
                                             json_object_get(e, "logged_in_at")));
        if (!fresh) {
            fprintf(stderr, "error: the gateway's refresh reply has no usable tokens\n");
            rc = CLI_EXIT_FAIL;
        } else {
            use_entry(ctx, fresh); /* even if saving fails, this command goes on */
            rc = stored_put(&s, ctx->set.gateway_url, fresh) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            json_decref(fresh);
        }
    } else if (rs.status == 401 || rs.status == 400) {
        /* the login ended (expired, revoked, reused): it is of no use any more */
        print_failure(ctx, &rs);
        fprintf(stderr, "error: the login to %s has ended: run openclaw auth login\n",
                ctx->set.gateway_url);
        (void)stored_put(&s, ctx->set.gateway_url, NULL);
        ctx->login = false;
        rc = CLI_EXIT_AUTH;
    } else {
        print_failure(ctx, &rs);
    }
out:
    json_decref(body);
    json_decref(reply);
    cli_response_release(&rs);
    stored_close(&s);
    return rc;
}

/* --- PKCE and the loopback callback ----------------------------------------------------------- */

void cli_pkce_pair(char verifier[44], char challenge[44])
{
    unsigned char raw[32], h[GW_SHA256_LEN];
    char b64[48];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), b64);
    memcpy(verifier, b64, 44);
    gw_sha256(verifier, strlen(verifier), h);
    gw_b64url(h, sizeof(h), b64);
    memcpy(challenge, b64, 44);
    explicit_bzero(raw, sizeof(raw));
}

void cli_callback_release(struct cli_callback *cb)
{
    wipe_free(cb->code);
    free(cb->state);
    free(cb->error);
    memset(cb, 0, sizeof(*cb));
}

/* One decoded form value ('+' is a space); NULL when malformed or holding a NUL. */
static char *form_value(const char *s, size_t len)
{
    char *raw = gw_xstrndup(s, len);
    for (char *p = raw; *p; p++)
        if (*p == '+')
            *p = ' ';
    int n = 0;
    char *d = curl_easy_unescape(NULL, raw, (int)len, &n);
    free(raw);
    char *out = d && (size_t)n == strlen(d) ? gw_xstrdup(d) : NULL;
    if (d) {
        explicit_bzero(d, (size_t)n);
        curl_free(d);
    }
    return out;
}

int cli_callback_parse(const char *target, struct cli_callback *cb)
{
    memset(cb, 0, sizeof(*cb));
    if (strncmp(target, "/callback", 9) != 0 || (target[9] && target[9] != '?'))
        return -1;
    const char *p = target[9] ? target + 10 : "";
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        char **slot = klen == 4 && !memcmp(p, "code", 4)    ? &cb->code
                      : klen == 5 && !memcmp(p, "state", 5) ? &cb->state
                      : klen == 5 && !memcmp(p, "error", 5) ? &cb->error
                                                            : NULL;
        if (slot) {
            char *v = eq ? form_value(eq + 1, len - klen - 1) : gw_xstrdup("");
            if (!v || *slot) { /* malformed, or given twice */
                wipe_free(v);
                cli_callback_release(cb);
                return -2;
            }
            *slot = v;
        }
        p += len + (p[len] == '&');
    }
    return 0;
}

static int listen_loopback(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "error: cannot listen on 127.0.0.1 for the browser: %s\n",
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - gw_now_ms();
    return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* The request target of a GET from a browser connection (malloc'd), or NULL. */
static char *read_target(int fd, int64_t deadline_ms)
{
    char buf[MAX_REQUEST_HEAD + 1];
    size_t n = 0;
    buf[0] = '\0';
    while (n < MAX_REQUEST_HEAD && !strstr(buf, "\r\n\r\n") && !strstr(buf, "\n\n")) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        int ms = remaining_ms(deadline_ms);
        if (ms == 0 || poll(&pf, 1, ms) <= 0)
            return NULL;
        ssize_t r = recv(fd, buf + n, MAX_REQUEST_HEAD - n, 0);
        if (r <= 0)
            return NULL;
        n += (size_t)r;
        buf[n] = '\0';
    }
    if (strncmp(buf, "GET ", 4) != 0)
        return NULL;
    size_t tlen = strcspn(buf + 4, " \r\n");
    return buf[4 + tlen] == ' ' ? gw_xstrndup(buf + 4, tlen) : NULL;
}

/* A small page for the browser tab (fixed texts only), then the connection is closed. */
static void answer_browser(int fd, int status, const char *title, const char *text)
{
    if (fd < 0)
        return;
    char body[1024], head[256];
    int bl = snprintf(body, sizeof(body), "<!doctype html><html><head><meta charset=\"utf-8\">"
                      "<title>%s</title></head><body><h1>%s</h1><p>%s</p></body></html>\n",
                      title, title, text);
    int hl = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
                      "charset=utf-8\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
                      "Connection: close\r\n\r\n", status, status == 200 ? "OK" : "Error", bl);
    (void)!send(fd, head, (size_t)hl, MSG_NOSIGNAL);
    (void)!send(fd, body, (size_t)bl, MSG_NOSIGNAL);
    close(fd);
}

/* Runs the browser command with the URL as $1 (never parsed by the shell). */
static pid_t launch_browser(const char *cmd, const char *url)
{
    struct gw_buf script;
    gw_buf_init(&script, 65536);
    const char *p = cmd;
    const char *pct = strstr(p, "%s");
    if (!pct) {
        gw_buf_printf(&script, "%s \"$1\"", cmd);
    } else {
        for (; pct; p = pct + 2, pct = strstr(p, "%s"))
            gw_buf_printf(&script, "%.*s\"$1\"", (int)(pct - p), p);
        gw_buf_puts(&script, p);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(2, 1); /* its chatter must not mix with our standard output */
        execl("/bin/sh", "sh", "-c", script.data, "openclaw-browser", url, (char *)NULL);
        _exit(127);
    }
    gw_buf_release(&script);
    return pid;
}

/* The browser command: --browser-command, else the first entry of $BROWSER, else xdg-open. */
static char *browser_command(const char *flag)
{
    if (flag && *flag)
        return gw_xstrdup(flag);
    const char *b = getenv("BROWSER");
    if (b && *b)
        return gw_xstrndup(b, strcspn(b, ":"));
    return gw_xstrdup("xdg-open");
}

/* Waits for GET /callback; other requests (a favicon) get 404. *conn is the browser's
 * connection, left open for the answer. 0 ok, -1 timeout, -2 malformed callback. */
static int wait_callback(int lfd, int64_t deadline_ms, pid_t browser, int *conn,
                         struct cli_callback *cb)
{
    bool browser_done = browser <= 0;
    for (;;) {
        int ms = remaining_ms(deadline_ms);
        if (ms == 0)
            return -1;
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        int pr = poll(&pf, 1, ms > 1000 ? 1000 : ms);
        int status = 0;
        if (!browser_done && waitpid(browser, &status, WNOHANG) == browser) {
            browser_done = true;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fprintf(stderr, "The browser command failed (exit status %d): open the URL "
                                "above yourself.\n",
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        if (pr <= 0)
            continue;
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        int64_t conn_deadline = GW_MIN(deadline_ms, gw_now_ms() + CONN_WAIT_MS);
        char *target = read_target(c, conn_deadline);
        int r = target ? cli_callback_parse(target, cb) : -1;
        free(target);
        if (r == -1) {
            answer_browser(c, 404, "Not found", "This is the openclaw CLI's sign-in listener.");
            continue;
        }
        *conn = c;
        return r;
    }
}

/* A line from standard input within the deadline (the pasted code), trimmed; NULL on
 * timeout or end of input. */
static char *read_pasted(int64_t deadline_ms)
{
    char buf[MAX_PASTED_CODE + 1];
    size_t n = 0;
    while (n < MAX_PASTED_CODE) {
        struct pollfd pf = {.fd = 0, .events = POLLIN};
        int ms = remaining_ms(deadline_ms);
        if (ms == 0 || poll(&pf, 1, ms) <= 0)
            return NULL;
        ssize_t r = read(0, buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    char *out = len ? gw_xstrndup(s, len) : NULL;
    explicit_bzero(buf, sizeof(buf));
    return out;
}

/* --- commands ------------------------------------------------------------------------------ */

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
    static const char *const keep[] = {"user", "email", "name", "role", "tenant", "org_unit",
                                       "team", "session_id", "method"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keep); i++)
        json_object_set_new(o, keep[i], gw_json_str(e, keep[i])
                                            ? json_string(gw_json_str(e, keep[i]))
                                            : json_null());
    const char *ea = iso((int64_t)json_integer_value(json_object_get(e, "expires_at")), a);
    const char *ra = iso((int64_t)json_integer_value(json_object_get(e, "refresh_expires_at")),
                         r);
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
    line(b, "Method:", m && !strcmp(m, "copy-paste") ? "single sign-on in a browser (code pasted)"
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
        print_failure(ctx, &rs);
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
        fprintf(stderr, "Open this URL in a browser (on any device), sign in and confirm, then "
                        "paste the code it shows:\n\n  %s\n\n", url.data);
        if (isatty(0))
            fprintf(stderr, "Code: ");
        fflush(stderr);
        L->code = read_pasted(deadline);
        if (L->code)
            rc = CLI_EXIT_OK;
        else
            fprintf(stderr, "error: no code was entered (end of input, or %ld seconds "
                            "passed)\n", wait_s);
        goto out;
    }
    char *command = browser_command(cmd);
    fprintf(stderr, "Opening a browser to sign in to %s.\nIf it does not open, visit:\n\n  %s\n\n"
                    "Waiting for the sign-in (up to %ld seconds)...\n",
            ctx->set.gateway_url, url.data, wait_s);
    L->browser = launch_browser(command, url.data);
    free(command);
    int w = wait_callback(L->lfd, deadline, L->browser, &L->conn, &L->cb);
    if (w == -1) {
        fprintf(stderr, "error: the browser did not come back within %ld seconds; run openclaw "
                        "auth login again (--no-browser on a machine without a browser)\n",
                wait_s);
    } else if (w == -2) {
        answer_browser(L->conn, 400, "Sign-in failed", "The sign-in answer was malformed.");
        L->conn = -1;
        fprintf(stderr, "error: the browser brought back a malformed sign-in answer\n");
    } else if (!L->cb.state || strlen(L->cb.state) != strlen(L->state) ||
               !gw_ct_equal(L->cb.state, L->state, strlen(L->state))) {
        answer_browser(L->conn, 400, "Sign-in refused",
                       "This answer does not belong to the sign-in the CLI started.");
        L->conn = -1;
        fprintf(stderr, "error: the browser brought back a different state: this is not the "
                        "sign-in this command started (nothing was saved)\n");
    } else if (L->cb.error) {
        answer_browser(L->conn, 200, "Sign-in cancelled", "Nothing was signed in.");
        L->conn = -1;
        struct gw_buf e;
        gw_buf_init(&e, 1024);
        cli_sanitize(&e, L->cb.error);
        fprintf(stderr, "error: the sign-in was not completed in the browser (%s)\n",
                e.data ? e.data : "");
        gw_buf_release(&e);
    } else if (!L->cb.code || !*L->cb.code) {
        answer_browser(L->conn, 400, "Sign-in failed", "The answer carried no code.");
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
static int revoke_token(struct cli_ctx *ctx, const char *refresh_token, bool *revoked,
                        bool print)
{
    json_t *body = json_pack("{s:s}", "token", refresh_token), *reply = NULL;
    struct cli_response rs;
    cli_response_init(&rs);
    int rc = cli_endpoint(ctx, "revoke", body, &rs, &reply);
    if (revoked)
        *revoked = rc == CLI_EXIT_OK && json_is_true(json_object_get(reply, "revoked"));
    if (rc != CLI_EXIT_OK && print)
        print_failure(ctx, &rs);
    json_decref(reply);
    json_decref(body);
    cli_response_release(&rs);
    return rc;
}

/* Stores a new login; the one it replaces is revoked on the gateway (best effort). */
static bool save_login(struct cli_ctx *ctx, json_t *entry)
{
    struct stored s;
    if (stored_open(ctx, &s, true) != GW_OK)
        fprintf(stderr, "warning: replacing an unreadable credentials file (%s)\n", s.err);
    char *prev = s.entry ? gw_xstrdup(gw_json_str(s.entry, "refresh_token")) : NULL;
    bool saved = stored_put(&s, ctx->set.gateway_url, entry);
    stored_close(&s);
    if (saved && prev)
        (void)revoke_token(ctx, prev, NULL, false);
    wipe_free(prev);
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
        if ((L.lfd = listen_loopback(&port)) < 0) {
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
        answer_browser(L.conn, 200, "Sign-in failed",
                       "The gateway refused the sign-in: see the terminal.");
        L.conn = -1;
        print_failure(ctx, &rs);
        goto out;
    }
    entry = entry_from_reply(reply, oob ? "copy-paste" : "loopback", now_s());
    if (!entry) {
        fprintf(stderr, "error: the gateway's reply has no usable tokens\n");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (!save_login(ctx, entry)) {
        answer_browser(L.conn, 200, "Sign-in failed", "The CLI could not save the login.");
        L.conn = -1;
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    answer_browser(L.conn, 200, "Signed in",
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
    answer_browser(L.conn, 200, "Sign-in failed", "See the terminal.");
    if (L.lfd >= 0)
        close(L.lfd);
    if (L.browser > 0)
        (void)waitpid(L.browser, NULL, WNOHANG);
    cli_callback_release(&L.cb);
    wipe_free(L.code);
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
    struct stored s;
    json_t *e = NULL;
    if (stored_open(ctx, &s, false) != GW_OK)
        fprintf(stderr, "error: %s\n", s.err);
    else
        e = json_incref(s.entry);
    stored_close(&s);
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
    use_entry(ctx, e);
    gw_buf_release(&url);
    cli_url_begin(&url, ctx, "/api/v1/auth/userinfo");
    struct cli_request rq = {.method = "GET", .url = url.data, .auth = true, .quiet = true};
    rc = cli_http(ctx, &rq, &rs);
    if (rc == CLI_EXIT_AUTH) {
        print_failure(ctx, &rs);
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
        static const char *const fields[] = {"user", "email", "name", "role", "tenant",
                                             "org_unit", "team"};
        for (size_t i = 0; i < GW_ARRAY_LEN(fields); i++)
            json_object_set(e, fields[i], json_object_get(me, fields[i]) ?
                                              json_object_get(me, fields[i]) : json_null());
    } else if (rc == CLI_EXIT_OK) {
        rc = CLI_EXIT_FAIL;
    } else {
        print_failure(ctx, &rs);
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
    struct stored s;
    if (stored_open(ctx, &s, true) != GW_OK) {
        fprintf(stderr, "error: %s\n", s.err);
        stored_close(&s);
        return CLI_EXIT_FAIL;
    }
    if (!s.entry) {
        stored_close(&s);
        return not_logged_in(ctx, CLI_EXIT_OK);
    }
    const char *sid = gw_json_str(s.entry, "session_id");
    char *session = gw_xstrdup(sid ? sid : "?");
    bool revoked = false;
    int revoke = revoke_token(ctx, gw_json_str(s.entry, "refresh_token"), &revoked, true);
    bool removed = stored_put(&s, ctx->set.gateway_url, NULL);
    stored_close(&s);
    if (!removed) {
        free(session);
        return CLI_EXIT_FAIL;
    }
    if (revoke != CLI_EXIT_OK) {
        fprintf(stderr, "warning: the login was removed from this computer, but the gateway did "
                        "not revoke session %s; it stays valid there until it expires or an "
                        "administrator revokes it\n", session);
        rc = revoke;
    }
    if (ctx->json) {
        json_t *o = json_pack("{s:s,s:b,s:s,s:b}", "gateway", ctx->set.gateway_url,
                              "logged_out", 1, "session_id", session, "revoked", revoked);
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
        gw_buf_puts(&b, revoked ? " revoked)\n"
                    : revoke == CLI_EXIT_OK ? "the session had already ended)\n"
                                            : "on this computer only)\n");
        cli_print_buf(&b);
        gw_buf_release(&b);
    }
    free(session);
    return rc;
}

int cli_cmd_auth(struct cli_ctx *ctx, int argc, char **argv)
{
    int si = 0;
    int rc = cli_find_sub(ctx, argc, argv, cli_help_auth, &si);
    if (rc != CLI_EXIT_OK)
        return rc;
    const char *sub = argv[si];
    bool login = !strcmp(sub, "login");
    if (!login && strcmp(sub, "status") != 0 && strcmp(sub, "logout") != 0)
        return cli_usage_error(cli_help_auth, "unknown auth subcommand '%.80s'", sub);
    struct cli_args *a = gw_xcalloc(1, sizeof(*a));
    rc = cli_parse_cmd(ctx, argc - si - 1, argv + si + 1, login ? login_opts : no_opts,
                       cli_help_auth, a);
    if (rc == CLI_EXIT_OK) {
        if (login)
            rc = cmd_login(ctx, a);
        else if (a->npos)
            rc = cli_usage_error(cli_help_auth, "auth %s takes no arguments", sub);
        else
            rc = !strcmp(sub, "status") ? cmd_status(ctx) : cmd_logout(ctx);
    }
    free(a);
    return rc;
}
