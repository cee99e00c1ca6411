/* SPDX-License-Identifier: MIT
 * cli_credentials.c — the login that `openclaw auth login` stores, and its use as the token
 * of every command.
 *
 * The credential (access and refresh token per gateway URL) lives in credentials.json under
 * $XDG_CONFIG_HOME/openclaw (or ~/.config/openclaw): directory 0700, file created 0600 and
 * replaced atomically. Commands use it when no --token or OPENCLAW_TOKEN is given; cli_http
 * refreshes it when it has expired or a request answers 401. Refreshing takes a lock on the
 * file and re-reads it first, so parallel commands never spend the same refresh token twice
 * (the gateway would see a reuse and end the login). Tokens are never printed. The request to
 * the gateway's /api/v1/auth/cli routes and the stored form of a token reply are here because
 * the refresh needs them; the auth commands (cli_auth.c) use them too.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t cli_now_s(void)
{
    return gw_now_ms() / 1000;
}

void cli_wipe_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

/* --- the credentials file ------------------------------------------------------------------- */

char *cli_xdg_dir(void)
{
    const char *x = getenv("XDG_CONFIG_HOME");
    if (x && x[0] == '/')
        return gw_xasprintf("%s/openclaw", x);
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw && pw->pw_dir ? pw->pw_dir : ".";
    }
    return gw_xasprintf("%s/.config/openclaw", home);
}

char *cli_credentials_path(void)
{
    char *dir = cli_xdg_dir();
    char *p = gw_xasprintf("%s/credentials.json", dir);
    free(dir);
    return p;
}

gw_err cli_credentials_load(const char *path, json_t **doc, bool *loose, char *err, size_t errcap)
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
    const char *slash = strrchr(path, '/');
    if (!slash)
        return gw_xstrdup(".");
    return slash == path ? gw_xstrdup("/") : gw_xstrndup(path, (size_t)(slash - path));
}

gw_err cli_private_dir(const char *path, char *err, size_t errcap)
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
    gw_err rc = cli_private_dir(path, err, errcap);
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
    if (cli_private_dir(path, err, sizeof(err)) != GW_OK)
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

gw_err cli_stored_open(const struct cli_ctx *ctx, struct cli_stored *s, bool lock)
{
    memset(s, 0, sizeof(*s));
    s->path = cli_credentials_path();
    s->lock = lock ? lock_credentials(s->path) : -1;
    gw_err rc = cli_credentials_load(s->path, &s->doc, &s->loose, s->err, sizeof(s->err));
    if (rc == GW_OK)
        s->entry = cli_credentials_entry(s->doc, ctx->set.gateway_url);
    return rc;
}

void cli_stored_close(struct cli_stored *s)
{
    json_decref(s->doc);
    unlock_credentials(s->lock);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

/* Sets (entry) or removes (NULL) the gateway's login and writes the file (a new one when it
 * could not be read); prints errors. */
bool cli_stored_put(struct cli_stored *s, const char *gateway, json_t *entry)
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
    cli_wipe_free(ctx->set.token);
    ctx->set.token = gw_xstrdup(token);
}

void cli_use_entry(struct cli_ctx *ctx, const json_t *e)
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
    struct cli_stored s;
    if (cli_stored_open(ctx, &s, false) != GW_OK) {
        fprintf(stderr, "warning: ignoring the stored login: %s\n", s.err);
    } else if (s.entry) {
        if (s.loose)
            fprintf(stderr, "warning: %s is readable by other users (chmod 600 it)\n", s.path);
        cli_use_entry(ctx, s.entry);
    }
    cli_stored_close(&s);
}

/* POST /api/v1/auth/cli/<what> without the bearer token; *reply on 2xx. */
int cli_endpoint(struct cli_ctx *ctx, const char *what, const json_t *body, struct cli_response *rs,
                 json_t **reply)
{
    struct gw_buf url;
    cli_url_begin(&url, ctx, "/api/v1/auth/cli/");
    cli_url_fixed(&url, what);
    char *text = gw_json_compact(body);
    struct cli_request rq = {
        .method = "POST",
        .url = url.data,
        .content_type = "application/json",
        .body = text,
        .body_len = strlen(text),
        .auth = false,
        .quiet = true,
    };
    int rc = cli_http(ctx, &rq, rs);
    cli_wipe_free(text);
    gw_buf_release(&url);
    if (rc == CLI_EXIT_OK && reply && !(*reply = cli_response_json(rs)))
        rc = CLI_EXIT_FAIL;
    return rc;
}

/* The stored form of a token reply (tokens, expiries, identity); NULL when it is unusable. */
json_t *cli_entry_from_reply(const json_t *r, const char *method, int64_t logged_in_at)
{
    char why[160];
    const char *at = gw_json_str(r, "access_token"), *rt = gw_json_str(r, "refresh_token");
    json_t *ei = json_object_get(r, "expires_in"), *ri = json_object_get(r, "refresh_expires_in");
    if (!at || !rt || !cli_valid_token(at, why, sizeof(why)) ||
        !cli_valid_token(rt, why, sizeof(why)) || !json_is_integer(ei) || !json_is_integer(ri))
        return NULL;
    int64_t now = cli_now_s();
    json_t *e = json_pack("{s:s,s:s,s:I,s:I,s:s,s:I}", "access_token", at, "refresh_token", rt,
                          "expires_at", (json_int_t)(now + json_integer_value(ei)),
                          "refresh_expires_at", (json_int_t)(now + json_integer_value(ri)),
                          "method", method, "logged_in_at", (json_int_t)logged_in_at);
    static const char *const keep[] = {"session_id", "user",   "email",    "name",
                                       "role",       "tenant", "org_unit", "team"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keep); i++)
        if (gw_json_str(r, keep[i]))
            json_object_set_new(e, keep[i], json_string(gw_json_str(r, keep[i])));
    return e;
}

int cli_login_refresh(struct cli_ctx *ctx)
{
    struct cli_stored s;
    json_t *reply = NULL, *body = NULL;
    struct cli_response rs;
    cli_response_init(&rs);
    int rc = CLI_EXIT_AUTH;
    if (cli_stored_open(ctx, &s, true) != GW_OK) {
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
        exp > cli_now_s() + CLI_LOGIN_REFRESH_MARGIN_S) {
        cli_use_entry(ctx, e); /* another openclaw process refreshed it a moment ago */
        rc = CLI_EXIT_OK;
        goto out;
    }
    body = json_pack("{s:s,s:s}", "grant_type", "refresh_token", "refresh_token",
                     gw_json_str(e, "refresh_token"));
    rc = cli_endpoint(ctx, "token", body, &rs, &reply);
    if (rc == CLI_EXIT_OK) {
        const char *method = gw_json_str(e, "method");
        json_t *fresh = cli_entry_from_reply(reply, method ? method : "loopback",
                                             (int64_t)json_integer_value(
                                                 json_object_get(e, "logged_in_at")));
        if (!fresh) {
            fprintf(stderr, "error: the gateway's refresh reply has no usable tokens\n");
            rc = CLI_EXIT_FAIL;
        } else {
            cli_use_entry(ctx, fresh); /* even if saving fails, this command goes on */
            rc = cli_stored_put(&s, ctx->set.gateway_url, fresh) ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            json_decref(fresh);
        }
    } else if (rs.status == 401 || rs.status == 400) {
        /* the login ended (expired, revoked, reused): it is of no use any more */
        cli_print_failure(ctx, &rs);
        fprintf(stderr, "error: the login to %s has ended: run openclaw auth login\n",
                ctx->set.gateway_url);
        (void)cli_stored_put(&s, ctx->set.gateway_url, NULL);
        ctx->login = false;
        rc = CLI_EXIT_AUTH;
    } else {
        cli_print_failure(ctx, &rs);
    }
out:
    json_decref(body);
    json_decref(reply);
    cli_response_release(&rs);
    cli_stored_close(&s);
    return rc;
}
