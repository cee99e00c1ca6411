/* SPDX-License-Identifier: MIT
 * api_auth.c — single sign-on routes and the SSO side of authentication.
 *
 *   GET    /api/v1/auth/login             302 to the IdP (OIDC: state, nonce, PKCE; SAML: an
 *                                         AuthnRequest, see api_saml.c), pre-login cookie
 *   GET    /api/v1/auth/callback          code → tokens → identity → session cookie, 302 back
 *   POST   /api/v1/auth/logout            ends the session (+ the IdP's end_session URL, or
 *                                         the SAML LogoutRequest URL)
 *   GET    /api/v1/auth/sessions          own sessions (administrators: all, or ?user=)
 *   DELETE /api/v1/auth/sessions/{id}     revocation (own, or any for administrators)
 *   DELETE /api/v1/auth/users/{u}/sessions  every session of a user
 *
 * The browser-facing answers of login and callback are small HTML pages with a clear reason,
 * never a redirect back to the IdP: a callback that arrives without the pre-login cookie, or a
 * browser that starts logins again and again within seconds, is the "SSO redirect loop" of the
 * seed's troubleshooting table, and gets a page saying what to check. Cookies are HttpOnly,
 * Secure, SameSite=Lax, Path=/. Cookie-authenticated requests other than GET/HEAD must carry
 * X-CSRF-Token (an HMAC of the session secret, returned by userinfo and in a readable cookie).
 * Every login, logout and failure is audited with its reason; codes, tokens and cookie values
 * never are.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"

#include <ctype.h>
#include <strings.h>

#define LOOP_WINDOW_MS 20000
#define LOOP_MAX_LOGINS 4
#define BINDING_LEN 43
#define MAX_RETURN_TO 512
#define SESSIONS_LIST_MAX 200

/* --- cookies ---------------------------------------------------------------------------- */

/* Value of cookie `name` from the Cookie header (pool), or NULL. */
static const char *cookie(struct api_call *c, const char *name)
{
    const char *h = http_header(c->r, "Cookie");
    size_t nl = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';')
            h++;
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > nl && h[nl] == '=' && strncmp(h, name, nl) == 0) {
            const char *v = h + nl + 1;
            size_t vl = len - nl - 1;
            while (vl && v[vl - 1] == ' ')
                vl--;
            return vl ? gw_pool_strndup(c->r->pool, v, vl) : NULL;
        }
        h = end;
    }
    return NULL;
}

static const char *cookie_name(struct api_call *c, const char *suffix)
{
    return gw_pool_printf(c->r->pool, "%s%s", api_idp_tenant(c)->sso->cookie_name, suffix);
}

/* "Set-Cookie: ..." with the attributes every cookie of ours carries; SameSite=None only for
 * the pre-login cookie of a SAML login (the IdP POSTs the Response cross-site to the ACS). */
static const char *cookie_header(struct api_call *c, const char *suffix, const char *value,
                                 long max_age, bool http_only, const char *same_site)
{
    return gw_pool_printf(c->r->pool,
                          "Set-Cookie: %s=%s; Max-Age=%ld; Path=/; Secure; "
                          "SameSite=%s%s",
                          cookie_name(c, suffix), value ? value : "", max_age, same_site,
                          http_only ? "; HttpOnly" : "");
}

static const char *set_cookie(struct api_call *c, const char *suffix, const char *value,
                              long max_age, bool http_only)
{
    return cookie_header(c, suffix, value, max_age, http_only, "Lax");
}

static bool b64url_token(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_'))
            return false;
    return true;
}

/* --- pages ------------------------------------------------------------------------------ */

static void html_escape(struct gw_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            gw_buf_puts(b, "&lt;");
            break;
        case '>':
            gw_buf_puts(b, "&gt;");
            break;
        case '&':
            gw_buf_puts(b, "&amp;");
            break;
        case '"':
            gw_buf_puts(b, "&quot;");
            break;
        case '\'':
            gw_buf_puts(b, "&#39;");
            break;
        default:
            gw_buf_append(b, s, 1);
        }
    }
}

/* An error page for the browser; headers may clear cookies. */
static void page(struct api_call *c, int status, const char *title, const char *reason,
                 const char *hint, const char *const *headers)
{
    struct gw_buf b;
    gw_buf_init(&b, 16384);
    gw_buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>");
    html_escape(&b, title);
    gw_buf_puts(&b, "</title></head><body><h1>");
    html_escape(&b, title);
    gw_buf_puts(&b, "</h1><p id=\"reason\">");
    html_escape(&b, reason);
    gw_buf_puts(&b, "</p>");
    if (hint) {
        gw_buf_puts(&b, "<p id=\"hint\">");
        html_escape(&b, hint);
        gw_buf_puts(&b, "</p>");
    }
    gw_buf_puts(&b, "<p>Request id: ");
    html_escape(&b, c->r->request_id);
    gw_buf_puts(&b, "</p></body></html>\n");
    const char *hdrs[6] = {"Content-Security-Policy: default-src 'none'", NULL};
    size_t n = 1;
    for (size_t i = 0; headers && headers[i] && n + 1 < GW_ARRAY_LEN(hdrs); i++)
        hdrs[n++] = headers[i];
    http_respond(c->r, status, "text/html; charset=utf-8", b.data ? b.data : "", b.len, hdrs);
    gw_buf_release(&b);
}

static void audit_fail(struct api_call *c, const char *type, const char *reason)
{
    c->gc.audit.type = type;
    json_decref(c->gc.audit.details);
    c->gc.audit.details = json_pack("{s:s}", "reason", reason);
}

static bool sso_ready(struct api_call *c)
{
    if (api_idp_tenant(c)->sso->enabled)
        return true;
    audit_fail(c, "auth.login.failed", "single sign-on is not configured");
    http_respond_error(c->r, GW_ENOTFOUND, "single sign-on is not configured (no sso section)");
    return false;
}

/* A local path to return to after login: "/..." but not "//" or "/\" (no open redirect). */
static const char *safe_return_to(const char *s)
{
    if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > MAX_RETURN_TO)
        return NULL;
    for (const char *p = s; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '\\')
            return NULL;
    return s;
}

/* --- shared with api_saml.c (api_int.h) ---------------------------------------------------- */

const struct cfg_tenant *api_idp_tenant(const struct api_call *c)
{
    return c->tenant->sso->enabled ? c->tenant : &c->gc.cfg->tenants[0];
}

const char *api_sso_binding(struct api_call *c)
{
    const char *b = cookie(c, cookie_name(c, "_login"));
    return b64url_token(b, BINDING_LEN) ? b : NULL;
}

const char *api_sso_clear_cookie(struct api_call *c, const char *suffix)
{
    return set_cookie(c, suffix, "", 0, true);
}

void api_sso_page(struct api_call *c, int status, const char *title, const char *reason,
                  const char *hint, const char *const *headers)
{
    page(c, status, title, reason, hint, headers);
}

void api_sso_fail(struct api_call *c, const char *type, const char *reason)
{
    audit_fail(c, type, reason);
}

/* The protocol of a login: ?protocol= or sso.default_protocol; NULL once answered. */
static const char *login_protocol(struct api_call *c)
{
    const struct cfg_sso *s = api_idp_tenant(c)->sso;
    const char *p = http_query(c->r, "protocol");
    if (!p)
        return s->default_protocol;
    bool oidc = !strcmp(p, "oidc"), saml = !strcmp(p, "saml");
    if ((oidc && s->oidc_enabled) || (saml && s->saml.enabled))
        return oidc ? "oidc" : "saml";
    const char *why = oidc || saml ? "the requested sign-in protocol is not configured"
                                   : "unknown sign-in protocol (use protocol=oidc or saml)";
    audit_fail(c, "auth.login.failed", why);
    page(c, oidc || saml ? 404 : 400, "Sign-in is unavailable", why, NULL, NULL);
    return NULL;
}

/* --- login ------------------------------------------------------------------------------- */

static void login_job(struct http_req *r, void *arg)
{
    GW_UNUSED(r);
    api_auth_login(arg);
}

/* A browser treats these as secure origins even over http (Secure cookies work there). */
static bool loopback_host(const char *host)
{
    return !host || !strncmp(host, "127.", 4) || !strncasecmp(host, "localhost", 9) ||
           !strncmp(host, "[::1]", 5);
}

void api_auth_login(struct api_call *c)
{
    if (!http_on_worker(c->r)) { /* discovery may go to the network */
        http_run_blocking(c->r, login_job, c);
        return;
    }
    if (!sso_ready(c))
        return;
    const char *protocol = login_protocol(c);
    if (!protocol)
        return;
    if (!c->r->https && !loopback_host(http_header(c->r, "Host"))) {
        /* the session cookie is Secure: over plain http the browser would drop it and loop */
        audit_fail(c, "auth.login.failed", "sign-in over plain http");
        page(c, 400, "Sign-in needs https", "this request reached the gateway over plain http",
             "Open the gateway with https://. Behind a reverse proxy that terminates TLS, list "
             "the proxy's address in gateway.trusted_proxies so that its X-Forwarded-Proto "
             "(or Forwarded proto=) header is believed.",
             NULL);
        return;
    }
    bool saml = strcmp(protocol, "saml") == 0;
    char msg[256];
    const char *binding = cookie(c, cookie_name(c, "_login"));
    char fresh[48];
    if (!b64url_token(binding, BINDING_LEN)) {
        unsigned char raw[32];
        gw_random(raw, sizeof(raw));
        gw_b64url(raw, sizeof(raw), fresh);
        binding = fresh;
    } else {
        char bh[65];
        size_t n = 0;
        gw_sha256_hex(binding, strlen(binding), bh);
        if (auth_login_count(c->d->sso, bh, gw_now_ms() - LOOP_WINDOW_MS, &n) == GW_OK &&
            n >= LOOP_MAX_LOGINS) {
            snprintf(msg, sizeof(msg), "this browser started %zu logins in %d seconds", n,
                     LOOP_WINDOW_MS / 1000);
            audit_fail(c, "auth.login.loop", msg);
            page(c, 409, "Sign-in redirect loop detected", msg,
                 "The gateway stopped redirecting to the identity provider. Usually the session "
                 "cookie does not come back: open the gateway over https (its cookies are "
                 "Secure) on the host name of sso.oidc.redirect_uri, allow cookies, and check "
                 "sso.oidc.issuer and client_id. Wait a few seconds before trying again.",
                 NULL);
            return;
        }
    }
    auth_session_purge(c->d->sso, c->gc.cfg);
    const char *return_to = safe_return_to(http_query(c->r, "return_to"));
    const char *url = NULL;
    const struct cfg_tenant *idp = api_idp_tenant(c);
    gw_err rc = saml ? auth_saml_begin(c->d->sso, c->gc.cfg, idp, binding, return_to, c->r->pool,
                                       &url, msg, sizeof(msg))
                     : auth_oidc_begin(c->d->sso, idp, binding, return_to, c->r->pool, &url, msg,
                                       sizeof(msg));
    if (rc != GW_OK) {
        audit_fail(c, "auth.login.failed", msg);
        page(c, rc == GW_EUPSTREAM ? 502 : 503, "Sign-in is unavailable", msg,
             "The identity provider could not be reached or answered unexpectedly.", NULL);
        return;
    }
    c->gc.audit.type = "auth.login.started";
    json_decref(c->gc.audit.details);
    c->gc.audit.details = json_pack("{s:s?,s:s}", "return_to", return_to, "protocol", protocol);
    const char *loc = gw_pool_printf(c->r->pool, "Location: %s", url);
    const char *hdrs[] = {loc,
                          cookie_header(c, "_login", binding, 600, true, saml ? "None" : "Lax"),
                          NULL};
    static const char body[] = "redirecting to the identity provider\n";
    http_respond(c->r, 302, "text/plain", body, sizeof(body) - 1, hdrs);
}

/* --- callback ---------------------------------------------------------------------------- */

static void callback_job(struct http_req *r, void *arg)
{
    GW_UNUSED(r);
    api_auth_callback(arg);
}

/* Keeps [A-Za-z0-9_.-] of an IdP error code (it is shown and audited). */
static const char *clean_code(struct api_call *c, const char *s)
{
    char out[65];
    size_t n = 0;
    for (; s && *s && n + 1 < sizeof(out); s++)
        out[n++] = isalnum((unsigned char)*s) || strchr("_.-", *s) ? *s : '?';
    out[n] = '\0';
    return gw_pool_strdup(c->r->pool, out);
}

void api_auth_callback(struct api_call *c)
{
    if (!http_on_worker(c->r)) { /* the token endpoint is a network call */
        http_run_blocking(c->r, callback_job, c);
        return;
    }
    if (!sso_ready(c))
        return;
    if (!api_idp_tenant(c)->sso->oidc_enabled) {
        audit_fail(c, "auth.login.failed", "OpenID Connect is not configured");
        http_respond_error(c->r, GW_ENOTFOUND, "OpenID Connect is not configured (no sso.oidc)");
        return;
    }
    char msg[512];
    const char *err = http_query(c->r, "error");
    if (err) {
        snprintf(msg, sizeof(msg), "the identity provider refused the login: %s",
                 clean_code(c, err));
        audit_fail(c, "auth.login.failed", msg);
        page(c, 401, "Sign-in failed", msg, NULL, NULL);
        return;
    }
    const char *binding = cookie(c, cookie_name(c, "_login"));
    if (!b64url_token(binding, BINDING_LEN)) {
        snprintf(msg, sizeof(msg), "the sign-in callback arrived without the pre-login cookie");
        audit_fail(c, "auth.login.failed", msg);
        page(c, 400, "Sign-in cannot complete (redirect loop prevented)", msg,
             "The browser did not send back the cookie set when the login started. Open the "
             "gateway over https (its cookies are Secure), on the same host name as "
             "sso.oidc.redirect_uri, with cookies allowed, then start again at "
             "/api/v1/auth/login.",
             NULL);
        return;
    }
    json_t *claims = NULL;
    const char *return_to = NULL;
    gw_err rc = auth_oidc_finish(c->d->sso, api_idp_tenant(c), http_query(c->r, "code"),
                                 http_query(c->r, "state"), binding, c->r->pool, &claims,
                                 &return_to, msg, sizeof(msg));
    if (rc != GW_OK) {
        audit_fail(c, "auth.login.failed", msg);
        page(c,
             rc == GW_EUNAUTH     ? 401
             : rc == GW_EUPSTREAM ? 502
                                  : 503,
             "Sign-in failed", msg, NULL, NULL);
        return;
    }
    api_sso_complete(c, claims, "oidc", return_to);
    json_decref(claims);
}

void api_sso_complete(struct api_call *c, const json_t *claims, const char *protocol,
                      const char *return_to)
{
    char msg[512];
    struct auth_sso_identity id;
    gw_err rc = auth_sso_map(c->d->sso, c->gc.cfg, api_idp_tenant(c), protocol, claims, c->r->pool,
                             &id, msg, sizeof(msg));
    if (rc != GW_OK) {
        audit_fail(c, "auth.login.denied", msg);
        if (id.user) {
            json_object_set_new(c->gc.audit.details, "user", json_string(id.user));
            json_object_set_new(c->gc.audit.details, "groups",
                                json_integer((json_int_t)id.n_groups));
        }
        page(c, rc == GW_EFORBIDDEN ? 403 : 401,
             rc == GW_EFORBIDDEN ? "403 Forbidden: missing role mapping" : "Sign-in failed", msg,
             rc == GW_EFORBIDDEN ? "Check the identity provider's claims or attributes and "
                                   "rbac.groupMappings (or sso.default_role) in the gateway "
                                   "configuration."
                                 : NULL,
             NULL);
        return;
    }
    if (auth_sso_provision(c->d->sso, c->gc.cfg, &id) != GW_OK) {
        audit_fail(c, "auth.login.failed", "the user could not be provisioned in the store");
        page(c, 503, "Sign-in failed", "the gateway's store is unavailable", NULL, NULL);
        return;
    }
    /* rotation: a session this browser already had ends here */
    const char *old = cookie(c, api_idp_tenant(c)->sso->cookie_name);
    const char *old_id = NULL;
    if (old)
        auth_session_end(c->d->sso, old, &old_id, c->r->pool);
    const char *secret = NULL, *sid = NULL;
    rc = auth_session_create(c->d->sso, c->gc.cfg, &id, c->r->client_ip, c->r->pool, &secret, &sid);
    if (rc != GW_OK) {
        audit_fail(c, "auth.login.failed", "the session could not be stored");
        page(c, 503, "Sign-in failed", "the gateway's store is unavailable", NULL, NULL);
        return;
    }
    c->gc.p = auth_sso_principal(c->gc.cfg, &id, "session", c->r->pool);
    c->gc.p->session_id = sid;
    json_t *details = json_pack("{s:s,s:s,s:s,s:s?,s:I,s:s?,s:s?}", "method", protocol,
                                "session_id", sid, "role", id.role, "mapped_by", id.mapped_by,
                                "groups", (json_int_t)id.n_groups, "replaced_session", old_id,
                                "email", id.email);
    if (!api_audit_sync(c, "auth.login", sid, 302, details)) {
        auth_session_revoke(c->d->sso, id.tenant, sid, NULL, NULL);
        return; /* answered 503 */
    }
    long max_age = (long)api_idp_tenant(c)->sso->absolute_timeout_s;
    const char *loc = gw_pool_printf(c->r->pool, "Location: %s%s", c->base,
                                     return_to ? return_to : "/");
    const char *hdrs[] = {
        loc,
        set_cookie(c, "", secret, max_age, true),
        set_cookie(c, "_csrf", auth_session_csrf(secret, c->r->pool), max_age, false),
        NULL,
    };
    static const char body[] = "signed in\n";
    http_respond(c->r, 302, "text/plain", body, sizeof(body) - 1, hdrs);
}

/* --- logout -------------------------------------------------------------------------------- */

void api_auth_logout(struct api_call *c)
{
    if (c->gc.p->method && strcmp(c->gc.p->method, "cli") == 0) {
        api_cli_logout(c); /* a CLI session presented as its bearer token */
        return;
    }
    if (!c->gc.p->method || strcmp(c->gc.p->method, "session") != 0) {
        http_respond_error(
            c->r, GW_EINVAL,
            "logout ends a browser session; this request is "
            "authenticated with a %s (revoke tokens with DELETE /api/v1/tokens/{id})",
            c->gc.p->method && !strcmp(c->gc.p->method, "bearer_jwt")
                ? "bearer token of the identity provider"
                : "gateway token");
        return;
    }
    const char *secret = cookie(c, api_idp_tenant(c)->sso->cookie_name);
    const char *slo = NULL; /* built while the session still names its SAML subject */
    bool saml = api_saml_logout(c, secret, &slo);
    if (!api_audit_sync(c, "auth.logout", c->gc.p->session_id, 200,
                        json_pack("{s:s,s:s}", "session_id", c->gc.p->session_id, "method",
                                  "local")))
        return;
    if (auth_session_end(c->d->sso, secret, NULL, c->r->pool) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the session could not be ended");
        return;
    }
    const struct cfg_tenant *idp = api_idp_tenant(c);
    const char *end = saml                     ? slo
                      : idp->sso->oidc_enabled ? auth_oidc_logout_url(c->d->sso, idp, c->r->pool)
                                               : NULL;
    const char *hdrs[] = {set_cookie(c, "", "", 0, true), set_cookie(c, "_csrf", "", 0, false),
                          NULL};
    json_t *body = json_pack("{s:b,s:s,s:s?}", "logged_out", 1, "session_id", c->gc.p->session_id,
                             "end_session_url", end);
    char *text = gw_json_compact(body);
    json_decref(body);
    http_respond(c->r, 200, "application/json", text, strlen(text), hdrs);
    free(text);
}

/* --- sessions: list and revocation --------------------------------------------------------- */

static bool is_admin(const struct auth_principal *p)
{
    return auth_allows(p, "*");
}

static json_t *session_json(struct api_call *c, const struct auth_session_info *s)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "id", s->id, "user", s->user,
                          "kind", s->kind, "role", s->role, "client_ip", s->client_ip, "created_at",
                          api_time(c, s->created_ms), "last_seen_at", api_time(c, s->last_seen_ms),
                          "expires_at", api_time(c, s->expires_ms));
    if (c->gc.p->session_id && !strcmp(c->gc.p->session_id, s->id))
        json_object_set_new(o, "current", json_true());
    return o;
}

/* The caller's tenant's live sessions (of user only when set). */
static gw_err sessions_of(struct api_call *c, const char *user, struct auth_session_info **list,
                          size_t *n)
{
    int64_t idle = (int64_t)api_idp_tenant(c)->sso->idle_timeout_s * 1000;
    return auth_session_list(c->d->sso, c->gc.p->tenant, user, SESSIONS_LIST_MAX, idle, c->r->pool,
                             list, n);
}

void api_auth_sessions_list(struct api_call *c)
{
    const char *user = http_query(c->r, "user");
    if (!is_admin(c->gc.p)) {
        if (user && (!c->gc.p->user || strcmp(user, c->gc.p->user) != 0)) {
            http_respond_error(c->r, GW_EFORBIDDEN,
                               "only an administrator can list the "
                               "sessions of another user");
            return;
        }
        if (!c->gc.p->user) {
            http_respond_json(c->r, 200, json_pack("{s:[]}", "sessions"));
            return;
        }
        user = c->gc.p->user;
    }
    struct auth_session_info *list = NULL;
    size_t n = 0;
    if (sessions_of(c, user, &list, &n) != GW_OK) {
        http_respond_error(c->r, GW_ESTORE, "sessions cannot be read right now");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, session_json(c, &list[i]));
    http_respond_json(c->r, 200, json_pack("{s:o}", "sessions", arr));
}

/* Does the session belong to the caller? */
static bool own_session(struct api_call *c, const char *id)
{
    if (!c->gc.p->user)
        return false;
    struct auth_session_info *list = NULL;
    size_t n = 0;
    bool own = false;
    if (sessions_of(c, c->gc.p->user, &list, &n) == GW_OK)
        for (size_t i = 0; i < n && !own; i++)
            own = strcmp(list[i].id, id) == 0;
    return own;
}

void api_auth_sessions_revoke(struct api_call *c)
{
    const char *id = c->var[0];
    if (!b64url_token(id, 32) || (!is_admin(c->gc.p) && !own_session(c, id))) {
        http_respond_error(c->r, GW_ENOTFOUND, "no session '%.40s'", id);
        return;
    }
    if (!api_audit_sync(c, "auth.session.revoked", id, 200,
                        json_pack("{s:s,s:s}", "session_id", id, "by", c->gc.p->actor)))
        return;
    const char *owner = NULL;
    gw_err rc = auth_session_revoke(c->d->sso, c->gc.p->tenant, id, c->r->pool, &owner);
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, rc,
                           rc == GW_ENOTFOUND ? "no session '%.40s'"
                                              : "session '%.40s' could not be revoked",
                           id);
        return;
    }
    http_respond_json(c->r, 200,
                      json_pack("{s:s,s:s?,s:b}", "id", id, "user", owner, "revoked", 1));
}

void api_auth_user_sessions_revoke(struct api_call *c)
{
    const char *user = c->var[0];
    if (!is_admin(c->gc.p) && !(c->gc.p->user && strcmp(c->gc.p->user, user) == 0)) {
        http_respond_error(c->r, GW_EFORBIDDEN,
                           "only an administrator can revoke the sessions "
                           "of another user");
        return;
    }
    if (!api_audit_sync(c, "auth.session.revoked", user, 200,
                        json_pack("{s:s,s:s}", "user", user, "by", c->gc.p->actor)))
        return;
    size_t n = 0;
    if (auth_session_revoke_user(c->d->sso, c->gc.p->tenant, user, &n) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the sessions could not be revoked");
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:I}", "user", user, "revoked", (json_int_t)n));
}

/* --- authentication and userinfo -------------------------------------------------------- */

void api_auth_userinfo_extend(struct api_call *c, json_t *body)
{
    const struct auth_principal *p = c->gc.p;
    json_object_set_new(body, "auth_method", json_string(p->method ? p->method : "token"));
    if (p->groups) {
        json_t *g = json_array();
        for (size_t i = 0; i < p->n_groups; i++)
            json_array_append_new(g, json_string(p->groups[i]));
        json_object_set_new(body, "groups", g);
    }
    if (p->session_id) {
        const char *secret = cookie(c, api_idp_tenant(c)->sso->cookie_name);
        json_object_set_new(body, "session_id", json_string(p->session_id));
        if (secret)
            json_object_set_new(body, "csrf_token",
                                json_string(auth_session_csrf(secret, c->r->pool)));
    }
}

/* --- shared with the CLI sign-in routes (api_auth_cli.c) ---------------------------------- */

const char *api_session_cookie(struct api_call *c)
{
    const struct cfg_sso *s = api_idp_tenant(c)->sso;
    return s->enabled && s->cookie_name ? cookie(c, s->cookie_name) : NULL;
}

void api_html_escape(struct gw_buf *b, const char *s)
{
    html_escape(b, s);
}
