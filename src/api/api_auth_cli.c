/* SPDX-License-Identifier: MIT
 * api_auth_cli.c — the routes that sign the `openclaw` CLI in through the browser (the model
 * is in auth/auth_cli.h):
 *
 *   GET  /api/v1/auth/cli/authorize  checks the request; without a browser session: 302 to
 *                                    /api/v1/auth/login and back here afterwards; with one: a
 *                                    confirmation page. A GET never issues a code.
 *   POST /api/v1/auth/cli/authorize  the confirmation (a form carrying the session's CSRF
 *                                    token): a one-time code, then 302 to the loopback
 *                                    redirect_uri, or a page that shows it (copy-paste mode)
 *   POST /api/v1/auth/cli/token      code + code_verifier, or a refresh token → CLI session
 *   POST /api/v1/auth/cli/revoke     ends the CLI session of an access or refresh token
 *
 * A malformed authorization request is answered with a page, never with a redirect (the
 * redirect_uri is not trusted until it has been checked). Browser pages cannot be framed, so
 * a hostile page cannot trick a click on the confirmation. The token and revoke endpoints
 * need no authentication: they are throttled per address like failed authentications, and
 * refusals are audited with their reason. A replayed code or a reused refresh token revokes
 * the CLI session concerned even when the audit trail is down: that only removes access.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/buf.h"
#include "base/util.h"

#include <ctype.h>
#include <strings.h>

#define MAX_PARAMS 16
#define MAX_FORM 8192

static const char form_type[] = "application/x-www-form-urlencoded";
/* every page here: never framed, never leaked through a Referer */
#define NO_FRAME "X-Frame-Options: DENY", "Referrer-Policy: no-referrer"
static const char *const page_headers[] = {
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'", NO_FRAME, NULL};
static const char *const no_frame[] = {NO_FRAME, NULL}; /* api_sso_page sets its own CSP */

/* --- parameters ---------------------------------------------------------------------------- */

struct params {
    size_t n;
    const char *key[MAX_PARAMS], *val[MAX_PARAMS];
};

static const char *param(const struct params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->key[i], key) == 0)
            return p->val[i];
    return NULL;
}

static bool param_add(struct gw_pool *pool, struct params *p, const char *k, const char *v,
                      const char **why)
{
    if (param(p, k)) { /* RFC 6749 §3.1: parameters must not be repeated */
        *why = "a parameter is given more than once";
        return false;
    }
    if (p->n == MAX_PARAMS) {
        *why = "too many parameters";
        return false;
    }
    p->key[p->n] = gw_pool_strdup(pool, k);
    p->val[p->n++] = gw_pool_strdup(pool, v);
    return true;
}

/* One form component ('+' is a space, %XX escapes) into the pool; NULL when malformed. */
static char *form_decode(struct gw_pool *pool, const char *s, size_t len)
{
    char *raw = gw_pool_strndup(pool, s, len);
    for (char *q = raw; *q; q++)
        if (*q == '+')
            *q = ' ';
    char *out = gw_pool_alloc(pool, len + 1);
    return http_pct_decode(raw, len, out, len + 1) ? out : NULL;
}

/* application/x-www-form-urlencoded: a query string or a form body. */
static bool parse_form(struct gw_pool *pool, const char *text, size_t len, struct params *out,
                       const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len > MAX_FORM) {
        *why = "the parameters are too long";
        return false;
    }
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *k = form_decode(pool, p, (size_t)((eq ? eq : stop) - p));
            const char *v = eq ? form_decode(pool, eq + 1, (size_t)(stop - eq - 1)) : "";
            if (!k || !v) {
                *why = "malformed percent-encoding";
                return false;
            }
            if (!param_add(pool, out, k, v, why))
                return false;
        }
        p = stop + (amp != NULL);
    }
    return true;
}

static bool is_form(struct api_call *c)
{
    const char *ct = http_header(c->r, "Content-Type");
    size_t n = sizeof(form_type) - 1;
    return ct && strncasecmp(ct, form_type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The parameters of a token or revoke request: a form or a JSON object of strings. */
static bool body_params(struct api_call *c, struct params *out)
{
    const char *why = NULL;
    memset(out, 0, sizeof(*out));
    if (c->r->body.len > MAX_FORM) {
        http_respond_error(c->r, GW_ETOOBIG, "the body is larger than %d bytes", MAX_FORM);
        return false;
    }
    if (is_form(c)) {
        if (parse_form(c->r->pool, c->r->body.data ? c->r->body.data : "", c->r->body.len, out,
                       &why))
            return true;
        http_respond_error(c->r, GW_EINVAL, "invalid form body: %s", why);
        return false;
    }
    json_t *body = api_json_body(c);
    if (!body)
        return false;
    const char *k;
    json_t *v;
    bool ok = true;
    json_object_foreach(body, k, v) {
        if (!json_is_string(v)) {
            why = "every member must be a string";
            ok = false;
        } else {
            ok = param_add(c->r->pool, out, k, json_string_value(v), &why);
        }
        if (!ok)
            break;
    }
    json_decref(body);
    if (!ok)
        http_respond_error(c->r, GW_EINVAL, "invalid body: %s", why);
    return ok;
}

/* --- the authorization request --------------------------------------------------------------- */

struct authz {
    const char *redirect_uri, *challenge, *state;
    enum auth_cli_redirect kind;
};

static bool authz_parse(const struct params *p, struct authz *a, const char **why)
{
    a->redirect_uri = param(p, "redirect_uri");
    a->challenge = param(p, "code_challenge");
    a->state = param(p, "state");
    a->kind = auth_cli_redirect_kind(a->redirect_uri);
    const char *method = param(p, "code_challenge_method");
    const char *type = param(p, "response_type");
    if (!a->redirect_uri)
        *why = "redirect_uri is missing";
    else if (a->kind == AUTH_CLI_REDIRECT_INVALID)
        *why = "redirect_uri must be http://127.0.0.1:<port>/callback (or [::1] or localhost "
               "with a port), or " AUTH_CLI_OOB " to copy the code by hand";
    else if (!auth_cli_challenge_ok(a->challenge))
        *why = "code_challenge must be the 43-character base64url SHA-256 of the "
               "code_verifier (PKCE)";
    else if (!method || strcmp(method, "S256") != 0)
        *why = "code_challenge_method must be S256";
    else if (!auth_cli_state_ok(a->state))
        *why = "state must be 1-128 characters of [A-Za-z0-9._~-]";
    else if (type && strcmp(type, "code") != 0)
        *why = "response_type must be code";
    else
        return true;
    return false;
}

static void pct_encode(struct gw_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || strchr("-._~", ch))
            gw_buf_append(b, s, 1);
        else
            gw_buf_printf(b, "%%%02X", ch);
    }
}

/* The authorize URL of a checked request, as a local path: at most ~310 characters, within
 * the 512 that /api/v1/auth/login accepts as return_to. */
static void authorize_path(struct gw_buf *b, const struct authz *a)
{
    gw_buf_puts(b, "/api/v1/auth/cli/authorize?redirect_uri=");
    pct_encode(b, a->redirect_uri);
    gw_buf_printf(b, "&code_challenge=%s&code_challenge_method=S256&state=%s", a->challenge,
                  a->state);
}

/* --- answers ---------------------------------------------------------------------------------- */

static void set_audit(struct api_call *c, const char *type, json_t *details)
{
    c->gc.audit.type = type;
    json_decref(c->gc.audit.details);
    c->gc.audit.details = details;
}

static void refuse_page(struct api_call *c, int status, const char *type, const char *title,
                        const char *reason, const char *hint)
{
    api_sso_fail(c, type, reason);
    api_sso_page(c, status, title, reason, hint, no_frame);
}

static const char *redirect_name(enum auth_cli_redirect k)
{
    return k == AUTH_CLI_REDIRECT_OOB ? "copy-paste" : "loopback";
}

static void hidden(struct gw_buf *b, const char *name, const char *value)
{
    gw_buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    api_html_escape(b, value);
    gw_buf_puts(b, "\">");
}

static void page_start(struct gw_buf *b, const char *title)
{
    gw_buf_init(b, 65536);
    gw_buf_puts(b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    api_html_escape(b, title);
    gw_buf_puts(b, "</title></head><body><h1>");
    api_html_escape(b, title);
    gw_buf_puts(b, "</h1>");
}

static void page_end(struct api_call *c, struct gw_buf *b)
{
    gw_buf_puts(b, "<p>Request id: ");
    api_html_escape(b, c->r->request_id);
    gw_buf_puts(b, "</p></body></html>\n");
    http_respond(c->r, 200, "text/html; charset=utf-8", b->data, b->len, page_headers);
    gw_buf_release(b);
}

static void confirm_page(struct api_call *c, const struct authz *a, const char *secret)
{
    const struct auth_principal *p = c->gc.p;
    struct gw_buf b;
    page_start(&b, "Sign in the openclaw CLI?");
    gw_buf_puts(&b,
                "<p id=\"question\">Sign in the openclaw CLI on this computer as <b id=\"user\">");
    api_html_escape(&b, p->user);
    gw_buf_puts(&b, "</b> (role <span id=\"role\">");
    api_html_escape(&b, p->role);
    gw_buf_puts(&b, "</span>, tenant ");
    api_html_escape(&b, p->tenant);
    if (p->org_unit) {
        gw_buf_puts(&b, ", org unit ");
        api_html_escape(&b, p->org_unit);
    }
    gw_buf_puts(&b, ")?</p><p id=\"target\">");
    if (a->kind == AUTH_CLI_REDIRECT_LOOPBACK) {
        gw_buf_puts(&b, "The sign-in is handed to the program waiting at <code>");
        api_html_escape(&b, a->redirect_uri);
        gw_buf_puts(&b, "</code> on this computer.");
    } else {
        gw_buf_puts(&b, "The next page shows a one-time code to paste into the terminal.");
    }
    gw_buf_puts(&b, "</p><p id=\"warning\">Continue only if you have just run "
                    "<code>openclaw auth login</code> yourself. The CLI then acts as you, with "
                    "your role, until <code>openclaw auth logout</code>.</p>"
                    "<form method=\"post\" action=\"authorize\">");
    hidden(&b, "redirect_uri", a->redirect_uri);
    hidden(&b, "code_challenge", a->challenge);
    hidden(&b, "code_challenge_method", "S256");
    hidden(&b, "state", a->state);
    hidden(&b, "csrf_token", auth_session_csrf(secret, c->r->pool));
    gw_buf_puts(&b, "<button type=\"submit\" name=\"action\" value=\"confirm\">Sign in the CLI"
                    "</button> <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel"
                    "</button></form>");
    page_end(c, &b);
}

static void code_page(struct api_call *c, const char *code)
{
    struct gw_buf b;
    page_start(&b, "Your openclaw CLI sign-in code");
    gw_buf_printf(&b,
                  "<p>Copy this code into the terminal where <code>openclaw auth login</code> "
                  "is waiting. It works once, within %d minutes.</p><p><code id=\"code\">",
                  AUTH_CLI_OOB_CODE_TTL_S / 60);
    api_html_escape(&b, code);
    gw_buf_puts(&b, "</code></p><p>Do not give it to anyone else.</p>");
    page_end(c, &b);
}

static void redirect(struct api_call *c, const char *location)
{
    const char *hdrs[] = {gw_pool_printf(c->r->pool, "Location: %s", location),
                          "Referrer-Policy: no-referrer", NULL};
    static const char body[] = "returning to the openclaw CLI\n";
    http_respond(c->r, 302, "text/plain", body, sizeof(body) - 1, hdrs);
}

static bool sso_on(struct api_call *c)
{
    if (api_idp_tenant(c)->sso->enabled)
        return true;
    set_audit(c, c->gc.audit.type,
              json_pack("{s:s}", "reason", "single sign-on is not configured"));
    http_respond_error(c->r, GW_ENOTFOUND, "single sign-on is not configured (no sso section)");
    return false;
}

/* A principal that only names who acts (events about a session whose owner is known, but
 * whose roles are not needed or may be gone). */
static struct auth_principal *actor(struct api_call *c, const char *tenant, const char *user)
{
    struct auth_principal *p = gw_pool_calloc(c->r->pool, sizeof(*p));
    p->tenant = tenant ? tenant : c->tenant->id;
    p->actor = user ? user : "anonymous";
    p->user = user;
    p->method = "cli";
    return p;
}

/* --- GET and POST /api/v1/auth/cli/authorize ---------------------------------------------------
 */

/* The browser session of the request (its cookie value in *secret): GW_OK with *bp, GW_EUNAUTH
 * when there is none or it ended (msg says why), or a store error. */
static gw_err browser_session(struct api_call *c, const char **secret, struct auth_principal **bp,
                              char *msg, size_t msgcap)
{
    *secret = api_session_cookie(c);
    *bp = NULL;
    if (!*secret) {
        snprintf(msg, msgcap, "this browser is not signed in");
        return GW_EUNAUTH;
    }
    return auth_session_authenticate(c->d->sso, c->gc.cfg, *secret, c->r->pool, bp, msg, msgcap);
}

void api_cli_authorize(struct api_call *c)
{
    if (!sso_on(c))
        return;
    struct params p;
    struct authz a;
    const char *why = NULL;
    const char *q = c->r->raw_query ? c->r->raw_query : "";
    if (!parse_form(c->r->pool, q, strlen(q), &p, &why) || !authz_parse(&p, &a, &why)) {
        refuse_page(c, 400, "auth.cli.authorize.failed", "Invalid CLI sign-in request", why,
                    "Start again with openclaw auth login.");
        return;
    }
    char msg[256];
    const char *secret = NULL;
    struct auth_principal *bp = NULL;
    gw_err rc = browser_session(c, &secret, &bp, msg, sizeof(msg));
    if (rc != GW_OK && rc != GW_EUNAUTH) {
        refuse_page(c, 503, "auth.cli.authorize.failed", "Sign-in is unavailable",
                    "the gateway's store is unavailable", NULL);
        return;
    }
    if (rc != GW_OK) { /* sign in first; the login comes back here */
        struct gw_buf path, loc;
        gw_buf_init(&path, 4096);
        gw_buf_init(&loc, 8192);
        authorize_path(&path, &a);
        gw_buf_puts(&loc, c->base); /* the return path is relative to the tenant's base */
        gw_buf_puts(&loc, "/api/v1/auth/login?return_to=");
        pct_encode(&loc, path.data);
        set_audit(c, "auth.cli.authorize",
                  json_pack("{s:s,s:s}", "step", "login", "redirect", redirect_name(a.kind)));
        redirect(c, gw_pool_strdup(c->r->pool, loc.data));
        gw_buf_release(&path);
        gw_buf_release(&loc);
        return;
    }
    c->gc.p = bp;
    set_audit(c, "auth.cli.authorize",
              json_pack("{s:s,s:s,s:s}", "step", "confirm", "redirect", redirect_name(a.kind),
                        "browser_session", bp->session_id));
    confirm_page(c, &a, secret);
}

void api_cli_authorize_confirm(struct api_call *c)
{
    if (!sso_on(c))
        return;
    static const char bad[] = "Invalid CLI sign-in request";
    static const char again[] = "Start again with openclaw auth login.";
    struct params p;
    struct authz a;
    const char *why = NULL;
    if (!is_form(c)) {
        refuse_page(c, 415, "auth.cli.authorize.failed", bad,
                    "the confirmation must be a form (application/x-www-form-urlencoded)", again);
        return;
    }
    if (!parse_form(c->r->pool, c->r->body.data ? c->r->body.data : "", c->r->body.len, &p, &why) ||
        !authz_parse(&p, &a, &why)) {
        refuse_page(c, 400, "auth.cli.authorize.failed", bad, why, again);
        return;
    }
    const char *action = param(&p, "action");
    bool confirm = action && strcmp(action, "confirm") == 0;
    if (!confirm && !(action && strcmp(action, "cancel") == 0)) {
        refuse_page(c, 400, "auth.cli.authorize.failed", bad, "action must be confirm or cancel",
                    again);
        return;
    }
    char msg[256];
    const char *secret = NULL;
    struct auth_principal *bp = NULL;
    gw_err rc = browser_session(c, &secret, &bp, msg, sizeof(msg));
    if (rc != GW_OK) {
        refuse_page(c, rc == GW_EUNAUTH ? 401 : 503, "auth.cli.authorize.failed",
                    "Sign-in session ended",
                    rc == GW_EUNAUTH ? msg : "the gateway's store is unavailable", again);
        return;
    }
    c->gc.p = bp;
    if (!auth_session_csrf_ok(secret, param(&p, "csrf_token"))) {
        refuse_page(c, 403, "auth.cli.authorize.denied", "CLI sign-in refused",
                    "missing or wrong CSRF token: the confirmation did not come from the page "
                    "the gateway showed",
                    again);
        return;
    }
    if (!confirm) {
        set_audit(c, "auth.cli.authorize.cancelled",
                  json_pack("{s:s,s:s}", "redirect", redirect_name(a.kind), "browser_session",
                            bp->session_id));
        if (a.kind == AUTH_CLI_REDIRECT_LOOPBACK)
            redirect(c, gw_pool_printf(c->r->pool, "%s?error=access_denied&state=%s",
                                       a.redirect_uri, a.state));
        else
            api_sso_page(c, 200, "CLI sign-in cancelled", "Nothing was signed in.", NULL, no_frame);
        return;
    }
    json_t *details = json_pack("{s:s,s:s,s:s}", "browser_session", bp->session_id, "redirect",
                                redirect_name(a.kind), "redirect_uri", a.redirect_uri);
    if (!api_audit_sync(c, "auth.cli.authorized", bp->session_id,
                        a.kind == AUTH_CLI_REDIRECT_LOOPBACK ? 302 : 200, details))
        return; /* answered 503 */
    const char *code = NULL, *browser_session = NULL;
    rc = auth_cli_code_issue(c->d->sso, c->gc.cfg, secret, a.challenge, a.redirect_uri, c->r->pool,
                             &code, &browser_session);
    if (rc != GW_OK) {
        api_audit_failed(c);
        api_sso_page(c, 503, "Sign-in failed", "the gateway's store is unavailable", again,
                     no_frame);
        return;
    }
    if (a.kind == AUTH_CLI_REDIRECT_LOOPBACK)
        redirect(c,
                 gw_pool_printf(c->r->pool, "%s?code=%s&state=%s", a.redirect_uri, code, a.state));
    else
        code_page(c, code);
}

/* --- POST /api/v1/auth/cli/token ----------------------------------------------------------------
 */

/* A refused grant: counted as a failed authentication, audited with the reason. */
static void grant_refused(struct api_call *c, const char *type, gw_err rc, const char *user,
                          const char *msg)
{
    if (rc == GW_EUNAUTH)
        auth_throttle_fail(c->d->throttle, c->r->client_ip);
    set_audit(c, type, json_pack("{s:s,s:s?}", "reason", msg, "user", user));
    http_respond_error(c->r, rc, "%s", msg);
}

/* A replayed code or a reused refresh token: the session concerned ends (durable event first,
 * but revoked even without it), and the request is refused. */
static void revoke_family(struct api_call *c, const char *type, const struct auth_cli_grant *g,
                          const char *msg)
{
    auth_throttle_fail(c->d->throttle, c->r->client_ip);
    c->gc.p = actor(c, g->tenant, NULL);
    json_t *details = json_pack("{s:s,s:s?,s:s?}", "reason", msg, "user", g->user,
                                "revoked_session", g->session_id);
    bool audited = api_audit_sync(c, type, g->session_id, 401, details);
    if (g->session_id)
        (void)auth_session_revoke(c->d->sso, c->gc.p->tenant, g->session_id, NULL, NULL);
    if (audited)
        http_respond_error(c->r, GW_EUNAUTH, "%s", msg);
}

static void respond_tokens(struct api_call *c, const struct auth_cli_tokens *t)
{
    const struct auth_principal *p = c->gc.p;
    int64_t now = gw_now_ms();
    json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:s?,s:s?,s:s,s:s,s:s?,s:s?}",
                          "access_token", t->access_token, "refresh_token", t->refresh_token,
                          "token_type", "Bearer", "expires_in",
                          (json_int_t)((t->access_expires_ms - now) / 1000), "refresh_expires_in",
                          (json_int_t)((t->expires_ms - now) / 1000), "session_id", t->session_id,
                          "user", p->user, "email", p->email, "name", p->name, "role", p->role,
                          "tenant", p->tenant, "org_unit", p->org_unit, "team", p->team);
    http_respond_json(c->r, 200, o);
}

/* Where both grants meet: a replay or reuse revokes, a refusal is answered, a valid grant
 * becomes the caller and its event is made durable. False when the request was answered. */
static bool grant_accepted(struct api_call *c, gw_err rc, struct auth_cli_grant *g, const char *msg,
                           const char *ok_type, const char *failed_type, const char *revoked_type)
{
    if (rc == GW_ECONFLICT) {
        revoke_family(c, revoked_type, g, msg);
        return false;
    }
    if (rc != GW_OK) {
        grant_refused(c, failed_type, rc, g->user, msg);
        return false;
    }
    c->gc.p = g->p;
    c->gc.p->session_id = g->session_id;
    json_t *details = json_pack("{s:s,s:s,s:s?}", "session_id", g->session_id, "role", g->p->role,
                                "browser_session", g->browser_session);
    return api_audit_sync(c, ok_type, g->session_id, 200, details);
}

static void token_from_code(struct api_call *c, const struct params *p)
{
    char msg[256];
    struct auth_cli_grant g;
    gw_err rc = auth_cli_redeem_check(c->d->sso, c->gc.cfg, param(p, "code"),
                                      param(p, "code_verifier"), param(p, "redirect_uri"),
                                      c->r->pool, &g, msg, sizeof(msg));
    if (!grant_accepted(c, rc, &g, msg, "auth.cli.token", "auth.cli.token.failed",
                        "auth.cli.code.replayed"))
        return;
    struct auth_cli_tokens t;
    if (auth_cli_session_create(c->d->sso, c->gc.cfg, &g, c->r->client_ip, c->r->pool, &t) !=
        GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the CLI session could not be stored");
        return;
    }
    respond_tokens(c, &t);
}

static void token_from_refresh(struct api_call *c, const struct params *p)
{
    char msg[256];
    struct auth_cli_grant g;
    gw_err rc = auth_cli_refresh_check(c->d->sso, c->gc.cfg, param(p, "refresh_token"), c->r->pool,
                                       &g, msg, sizeof(msg));
    if (!grant_accepted(c, rc, &g, msg, "auth.cli.refresh", "auth.cli.refresh.failed",
                        "auth.cli.refresh.reused"))
        return;
    struct auth_cli_tokens t;
    rc = auth_cli_rotate(c->d->sso, c->gc.cfg, &g, c->r->pool, &t);
    if (rc == GW_ECONFLICT) { /* the same refresh token won elsewhere a moment ago */
        api_audit_failed(c);
        snprintf(msg, sizeof(msg), "refresh token already used: the CLI session is revoked");
        json_t *d = json_pack("{s:s,s:s}", "reason", msg, "revoked_session", g.session_id);
        (void)gov_audit_step(&c->gc, "auth.cli.refresh.reused", g.session_id, 401, d);
        json_decref(d);
        (void)auth_session_revoke(c->d->sso, g.tenant, g.session_id, NULL, NULL);
        auth_throttle_fail(c->d->throttle, c->r->client_ip);
        http_respond_error(c->r, GW_EUNAUTH, "%s", msg);
        return;
    }
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the CLI session could not be refreshed");
        return;
    }
    respond_tokens(c, &t);
}

void api_cli_token(struct api_call *c)
{
    if (!sso_on(c) || api_throttled(c))
        return;
    struct params p;
    if (!body_params(c, &p))
        return;
    const char *grant = param(&p, "grant_type");
    if (grant && strcmp(grant, "authorization_code") == 0)
        token_from_code(c, &p);
    else if (grant && strcmp(grant, "refresh_token") == 0)
        token_from_refresh(c, &p);
    else
        grant_refused(c, "auth.cli.token.failed", GW_EINVAL, NULL,
                      "grant_type must be authorization_code or refresh_token");
}

/* --- revocation and logout
 * ------------------------------------------------------------------------ */

void api_cli_revoke(struct api_call *c)
{
    if (!sso_on(c) || api_throttled(c))
        return;
    struct params p;
    if (!body_params(c, &p))
        return;
    const char *token = param(&p, "token");
    if (!token) {
        http_respond_error(c->r, GW_EINVAL, "token is required (the access or refresh token)");
        return;
    }
    const char *sid = NULL, *user = NULL;
    const char *tenant = NULL;
    gw_err rc = auth_cli_find(c->d->sso, c->gc.cfg, token, c->r->pool, &sid, &user, &tenant);
    if (rc == GW_ENOTFOUND) { /* RFC 7009 §2.2: not an error for the client */
        auth_throttle_fail(c->d->throttle, c->r->client_ip);
        set_audit(c, "auth.cli.revoked",
                  json_pack("{s:s}", "reason", "unknown token or ended session"));
        http_respond_json(c->r, 200, json_pack("{s:b}", "revoked", 0));
        return;
    }
    if (rc != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "sessions cannot be read right now");
        return;
    }
    c->gc.p = actor(c, tenant, user);
    c->gc.p->session_id = sid;
    if (!api_audit_sync(c, "auth.cli.revoked", sid, 200,
                        json_pack("{s:s,s:s}", "session_id", sid, "by", "token")))
        return;
    if (auth_session_revoke(c->d->sso, tenant, sid, NULL, NULL) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the CLI session could not be revoked");
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:b,s:s}", "revoked", 1, "session_id", sid));
}

void api_cli_logout(struct api_call *c)
{
    const char *sid = c->gc.p->session_id;
    if (!api_audit_sync(c, "auth.logout", sid, 200,
                        json_pack("{s:s,s:s}", "session_id", sid, "method", "cli")))
        return;
    if (auth_session_revoke(c->d->sso, c->gc.p->tenant, sid, NULL, NULL) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the CLI session could not be ended");
        return;
    }
    http_respond_json(c->r, 200,
                      json_pack("{s:b,s:s,s:n}", "logged_out", 1, "session_id", sid,
                                "end_session_url"));
}
