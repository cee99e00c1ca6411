/* SPDX-License-Identifier: MIT
 * config_sso.c — the sso section: the OpenID Connect relying party, the policy for users no
 * group mapping covers, browser sessions and just-in-time provisioning (issue 5); sso.saml has
 * its own file (config_saml.c).
 *
 * Security-relevant choices are made here, once, so the runtime never has to guess: the
 * signature algorithms come from this list and never from the IdP's discovery document (some
 * IdPs advertise "none" and HS256); "none" and the HMAC algorithms are refused outright, since
 * an HMAC key shared with the IdP is not what an ID token is verified with here. The issuer and
 * the redirect URI must be https except on a loopback host. The client secret comes from
 * ${ENV} or a file and never appears in a message. With private_key_jwt the client's private key
 * is read and checked here (RSA of 2048 bits or more → RS256, EC P-256 → ES256; anything else
 * is refused), so the algorithm follows from the key and a wrong key is a start-up error, never
 * a failed login; its content never appears in a message either. Group → role mappings are
 * rbac.groupMappings.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config_int.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <strings.h>

#define SECRET_MAX 4096
#define KEY_PEM_MAX ((size_t)64 * 1024)

enum {
    SS_OIDC,
    SS_SAML,
    SS_DEFAULT_PROTOCOL,
    SS_DEFAULT_ROLE,
    SS_UNMAPPED,
    SS_SESSIONS,
    SS_JIT,
    SS_TENANT_CLAIM,
    SS__N
};
const char *const cfg_keys_sso[] = {[SS_OIDC] = "oidc",
                                    [SS_SAML] = "saml",
                                    [SS_DEFAULT_PROTOCOL] = "default_protocol",
                                    [SS_DEFAULT_ROLE] = "default_role",
                                    [SS_UNMAPPED] = "unmapped",
                                    [SS_SESSIONS] = "sessions",
                                    [SS_JIT] = "jit_provisioning",
                                    [SS_TENANT_CLAIM] = "tenant_claim",
                                    [SS__N] = NULL};

enum {
    OI_ISSUER,
    OI_CLIENT_ID,
    OI_SECRET,
    OI_SECRET_FILE,
    OI_AUTH,
    OI_REDIRECT,
    OI_SCOPES,
    OI_CLAIMS,
    OI_ALGS,
    OI_SKEW,
    OI_JWKS_CACHE,
    OI_USERINFO,
    OI_BEARER,
    OI_BEARER_AUD,
    OI_POST_LOGOUT,
    OI_CA,
    OI_TIMEOUT,
    OI_KEY_FILE,
    OI_KEY_ID,
    OI_BEARER_VALIDATION,
    OI_INTROSPECTION_CACHE,
    OI__N
};
const char *const cfg_keys_oidc[] = {
    [OI_ISSUER] = "issuer",
    [OI_CLIENT_ID] = "client_id",
    [OI_SECRET] = "client_secret",
    [OI_SECRET_FILE] = "client_secret_file",
    [OI_AUTH] = "auth_method",
    [OI_REDIRECT] = "redirect_uri",
    [OI_SCOPES] = "scopes",
    [OI_CLAIMS] = "claims",
    [OI_ALGS] = "allowed_algs",
    [OI_SKEW] = "clock_skew_s",
    [OI_JWKS_CACHE] = "jwks_cache_s",
    [OI_USERINFO] = "userinfo",
    [OI_BEARER] = "accept_bearer_jwt",
    [OI_BEARER_AUD] = "bearer_audience",
    [OI_POST_LOGOUT] = "post_logout_redirect_uri",
    [OI_CA] = "ca_file",
    [OI_TIMEOUT] = "timeout_ms",
    [OI_KEY_FILE] = "client_key_file",
    [OI_KEY_ID] = "client_key_id",
    [OI_BEARER_VALIDATION] = "bearer_validation",
    [OI_INTROSPECTION_CACHE] = "introspection_cache_s",
    [OI__N] = NULL,
};

enum { CL_USER, CL_EMAIL, CL_NAME, CL_GROUPS, CL_ORG, CL_TEAM, CL__N };
const char *const cfg_keys_claims[] = {
    [CL_USER] = "user",    [CL_EMAIL] = "email", [CL_NAME] = "name", [CL_GROUPS] = "groups",
    [CL_ORG] = "org_unit", [CL_TEAM] = "team",   [CL__N] = NULL};

enum { SE_IDLE, SE_ABS, SE_COOKIE, SE_CLI_ACCESS, SE_CLI_IDLE, SE_CLI_ABS, SE__N };
const char *const cfg_keys_sessions[] = {[SE_IDLE] = "idle_timeout_s",
                                         [SE_ABS] = "absolute_timeout_s",
                                         [SE_COOKIE] = "cookie_name",
                                         [SE_CLI_ACCESS] = "cli_access_token_ttl_s",
                                         [SE_CLI_IDLE] = "cli_idle_timeout_s",
                                         [SE_CLI_ABS] = "cli_absolute_timeout_s",
                                         [SE__N] = NULL};

/* In the order of enum cfg_oidc_auth and enum cfg_bearer. */
static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post",
                                           "private_key_jwt", NULL};
static const char *const bearer_modes[] = {"none", "jwt", "introspection", NULL};
static const char *const unmapped_values[] = {"refuse", "default", NULL};
static const char *const protocols[] = {"oidc", "saml", NULL};
static const char *const http_schemes[] = {"https", "http", NULL};
/* Asymmetric JWS algorithms only: "none" and HS* can never be configured. */
static const char *const known_algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                         "PS512", "ES256", "ES384", "ES512", NULL};

void cfg_sso_free(struct cfg_sso *s)
{
    free(s->issuer);
    free(s->client_id);
    if (s->client_secret)
        explicit_bzero(s->client_secret, strlen(s->client_secret));
    free(s->client_secret);
    if (s->client_key_pem)
        explicit_bzero(s->client_key_pem, strlen(s->client_key_pem));
    free(s->client_key_pem);
    free(s->client_key_id);
    free(s->redirect_uri);
    cfg_free_strv(s->scopes);
    free(s->claim_user);
    free(s->claim_email);
    free(s->claim_name);
    free(s->claim_groups);
    free(s->claim_org_unit);
    free(s->claim_team);
    cfg_free_strv(s->allowed_algs);
    free(s->bearer_audience);
    free(s->post_logout_redirect_uri);
    free(s->ca_file);
    free(s->default_role);
    free(s->tenant_claim);
    free(s->cookie_name);
    free(s->default_protocol);
    cfg_saml_free(&s->saml);
    memset(s, 0, sizeof(*s));
}

/* Is the URL's host a loopback address (where plain http is tolerated)? */
bool cfg_loopback_url(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return false;
    h += 3;
    static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]", NULL};
    for (size_t i = 0; hosts[i]; i++) {
        size_t n = strlen(hosts[i]);
        if (!strncasecmp(h, hosts[i], n) && (h[n] == '\0' || h[n] == ':' || h[n] == '/'))
            return true;
    }
    return false;
}

void cfg_get_https_url(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                       unsigned flags, char **out)
{
    if (!cfg_get_url(e, n, what, http_schemes, flags, out) || !*out)
        return;
    if (!strncmp(*out, "http://", 7) && !cfg_loopback_url(*out)) {
        cfg_err(e, n->line, "%s must be an https:// URL (http:// is only allowed on loopback)",
                what);
        free(*out);
        *out = NULL;
    }
}

bool cfg_visible(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

/* The secret from a file: the content never appears in a message. */
static void read_secret_file(struct cfg_loader *L, const struct cfg_node *n, char **out)
{
    const char *what = "sso.oidc.client_secret_file";
    char *data = NULL;
    size_t len = 0;
    if (!cfg_read_file(L, n, what, SECRET_MAX, &data, &len))
        return;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    if (len != strlen(data) || !cfg_visible(data, SECRET_MAX))
        cfg_err(L->errs, n->line,
                "%s must hold the secret alone (visible ASCII, a final "
                "newline at most)",
                what);
    else
        *out = gw_xstrdup(data);
    explicit_bzero(data, len);
    free(data);
}

/* A claim name: 1-64 characters of [A-Za-z0-9_:.-] (no spaces, no control characters). */
static bool claim_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("_:.-", *s)))
            return false;
    return true;
}

static void get_claim(struct cfg_errlist *e, const struct cfg_node *n, const char *key, char **out)
{
    char what[64];
    snprintf(what, sizeof(what), "sso.oidc.claims.%s", key);
    char *s = NULL;
    if (!cfg_get_str(e, n, what, &s) || !s)
        return;
    if (!claim_name_ok(s)) {
        cfg_err(e, n->line, "%s must be a claim name of 1-64 characters of [A-Za-z0-9_:.-]", what);
        free(s);
        return;
    }
    free(*out);
    *out = s;
}

/* Position of a value cfg_get_enum accepted in its list. */
static int index_of(const char *const *list, const char *value)
{
    int i = 0;
    while (list[i] && strcmp(list[i], value) != 0)
        i++;
    return i;
}

/* The secret of client_secret_basic and client_secret_post. */
static void load_client_secret(struct cfg_loader *L, const struct cfg_node *n,
                               const struct cfg_node *const *v)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    if (!cfg_is_null(v[OI_KEY_FILE]) || !cfg_is_null(v[OI_KEY_ID]))
        cfg_err(e, (cfg_is_null(v[OI_KEY_FILE]) ? v[OI_KEY_ID] : v[OI_KEY_FILE])->line,
                "sso.oidc.client_key_file and client_key_id are only used with auth_method "
                "private_key_jwt");
    if (!cfg_is_null(v[OI_SECRET]) && !cfg_is_null(v[OI_SECRET_FILE])) {
        cfg_err(e, v[OI_SECRET]->line,
                "sso.oidc.client_secret and sso.oidc.client_secret_file "
                "are both set (use one of them)");
    } else if (!cfg_is_null(v[OI_SECRET])) {
        if (cfg_get_str(e, v[OI_SECRET], "sso.oidc.client_secret", &s->client_secret) &&
            !cfg_visible(s->client_secret, SECRET_MAX))
            cfg_err(e, v[OI_SECRET]->line,
                    "sso.oidc.client_secret must be 1-4096 visible ASCII characters");
    } else if (!cfg_is_null(v[OI_SECRET_FILE])) {
        read_secret_file(L, v[OI_SECRET_FILE], &s->client_secret);
    } else {
        cfg_err(e, n->line,
                "sso.oidc.client_secret (e.g. \"${OIDC_CLIENT_SECRET}\") or "
                "sso.oidc.client_secret_file is required");
    }
}

/* private_key_jwt: the key file (required; its content never appears in a message) and the
 * optional kid; a client secret would go unused, so one is refused. */
static void load_client_key(struct cfg_loader *L, const struct cfg_node *n,
                            const struct cfg_node *const *v)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    const char *what = "sso.oidc.client_key_file";
    if (!cfg_is_null(v[OI_SECRET]) || !cfg_is_null(v[OI_SECRET_FILE]))
        cfg_err(e, (cfg_is_null(v[OI_SECRET]) ? v[OI_SECRET_FILE] : v[OI_SECRET])->line,
                "sso.oidc.client_secret and client_secret_file are not used with auth_method "
                "private_key_jwt (remove them)");
    if (cfg_get_str(e, v[OI_KEY_ID], "sso.oidc.client_key_id", &s->client_key_id) &&
        s->client_key_id && !cfg_visible(s->client_key_id, 255))
        cfg_err(e, v[OI_KEY_ID]->line,
                "sso.oidc.client_key_id must be 1-255 visible ASCII characters");
    if (cfg_is_null(v[OI_KEY_FILE])) {
        cfg_err(e, n->line,
                "sso.oidc.client_key_file is required with auth_method "
                "private_key_jwt (the PEM private key whose public key the IdP has registered)");
        return;
    }
    char *pem = NULL;
    size_t len = 0;
    if (!cfg_read_file(L, v[OI_KEY_FILE], what, KEY_PEM_MAX, &pem, &len))
        return;
    EVP_PKEY *key = strlen(pem) == len ? gw_pem_private_key(pem) : NULL;
    const char *alg = key ? gw_key_jws_alg(key) : NULL;
    if (!key) {
        cfg_err(e, v[OI_KEY_FILE]->line, "%s holds no unencrypted PEM private key", what);
    } else if (!alg) {
        cfg_err(e, v[OI_KEY_FILE]->line,
                "%s must be an RSA key of at least 2048 bits (RS256) "
                "or an EC key on P-256 (ES256)",
                what);
    } else {
        s->client_key_pem = pem;
        s->client_key_alg = alg;
        pem = NULL;
    }
    EVP_PKEY_free(key);
    if (pem) {
        explicit_bzero(pem, len);
        free(pem);
    }
}

/* IdP access tokens on the API: bearer_validation, or its older spelling accept_bearer_jwt. */
static void load_bearer(struct cfg_loader *L, const struct cfg_node *const *v)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    bool legacy = false;
    char *mode = NULL;
    cfg_get_bool(e, v[OI_BEARER], "sso.oidc.accept_bearer_jwt", &legacy);
    if (cfg_get_enum(e, v[OI_BEARER_VALIDATION], "sso.oidc.bearer_validation", bearer_modes,
                     &mode) &&
        mode) {
        s->bearer_validation = (enum cfg_bearer)index_of(bearer_modes, mode);
        if (!cfg_is_null(v[OI_BEARER]))
            cfg_err(e, v[OI_BEARER]->line,
                    "sso.oidc.accept_bearer_jwt and bearer_validation "
                    "are both set (accept_bearer_jwt: true is the older spelling of "
                    "bearer_validation: jwt; keep bearer_validation)");
    } else if (legacy) {
        s->bearer_validation = CFG_BEARER_JWT;
    }
    free(mode);
    if (cfg_get_str(e, v[OI_BEARER_AUD], "sso.oidc.bearer_audience", &s->bearer_audience) &&
        s->bearer_audience && !cfg_visible(s->bearer_audience, 255))
        cfg_err(e, v[OI_BEARER_AUD]->line,
                "sso.oidc.bearer_audience must be 1-255 visible ASCII characters");
    cfg_get_uint(e, v[OI_INTROSPECTION_CACHE], "sso.oidc.introspection_cache_s", 0, 300,
                 &s->introspection_cache_s);
}

static void load_oidc(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    const struct cfg_node *v[OI__N];
    char shown[80];
    if (!cfg_map_slots(e, n, "sso.oidc", cfg_keys_oidc, v, NULL))
        return;
    s->oidc_enabled = true;

    cfg_get_https_url(e, v[OI_ISSUER], "sso.oidc.issuer", CFG_URL_NO_SLASH, &s->issuer);
    if (!s->issuer && cfg_is_null(v[OI_ISSUER]))
        cfg_err(e, n->line, "sso.oidc.issuer is required");

    if (cfg_get_str(e, v[OI_CLIENT_ID], "sso.oidc.client_id", &s->client_id) && !s->client_id)
        cfg_err(e, n->line, "sso.oidc.client_id is required");
    else if (s->client_id && !cfg_visible(s->client_id, 255))
        cfg_err(e, v[OI_CLIENT_ID]->line,
                "sso.oidc.client_id must be 1-255 visible ASCII characters");

    char *method = NULL;
    if (cfg_get_enum(e, v[OI_AUTH], "sso.oidc.auth_method", auth_methods, &method) && method)
        s->auth_method = (enum cfg_oidc_auth)index_of(auth_methods, method);
    free(method);
    if (s->auth_method == CFG_OIDC_PRIVATE_KEY_JWT)
        load_client_key(L, n, v);
    else
        load_client_secret(L, n, v);

    cfg_get_https_url(e, v[OI_REDIRECT], "sso.oidc.redirect_uri", 0, &s->redirect_uri);
    if (!s->redirect_uri && cfg_is_null(v[OI_REDIRECT]))
        cfg_err(e, n->line,
                "sso.oidc.redirect_uri is required (the URL of "
                "/api/v1/auth/callback as the browser reaches it)");

    if (!cfg_is_null(v[OI_SCOPES])) {
        cfg_free_strv(s->scopes);
        s->scopes = NULL;
        s->n_scopes = 0;
        if (cfg_get_strlist(e, v[OI_SCOPES], "sso.oidc.scopes", &s->scopes, &s->n_scopes)) {
            bool openid = false;
            for (size_t i = 0; i < s->n_scopes; i++) {
                const char *x = s->scopes[i];
                openid |= !strcmp(x, "openid");
                if (!cfg_visible(x, 128) || strchr(x, '"') || strchr(x, '\\'))
                    cfg_err(e, v[OI_SCOPES]->line,
                            "sso.oidc.scopes[%zu] must be 1-128 visible "
                            "ASCII characters without quotes or backslashes",
                            i);
            }
            if (!openid)
                cfg_err(e, v[OI_SCOPES]->line, "sso.oidc.scopes must include \"openid\"");
        }
    }

    const struct cfg_node *cv[CL__N];
    if (cfg_map_slots(e, v[OI_CLAIMS], "sso.oidc.claims", cfg_keys_claims, cv, NULL)) {
        get_claim(e, cv[CL_USER], "user", &s->claim_user);
        get_claim(e, cv[CL_EMAIL], "email", &s->claim_email);
        get_claim(e, cv[CL_NAME], "name", &s->claim_name);
        get_claim(e, cv[CL_GROUPS], "groups", &s->claim_groups);
        get_claim(e, cv[CL_ORG], "org_unit", &s->claim_org_unit);
        get_claim(e, cv[CL_TEAM], "team", &s->claim_team);
    }

    if (!cfg_is_null(v[OI_ALGS])) {
        char **algs = NULL;
        size_t n_algs = 0;
        if (cfg_get_strlist(e, v[OI_ALGS], "sso.oidc.allowed_algs", &algs, &n_algs)) {
            bool ok = n_algs > 0;
            if (!ok)
                cfg_err(e, v[OI_ALGS]->line, "sso.oidc.allowed_algs must not be empty");
            for (size_t i = 0; i < n_algs; i++) {
                bool known = false;
                for (size_t k = 0; known_algs[k]; k++)
                    known |= !strcmp(algs[i], known_algs[k]);
                if (!known) {
                    ok = false;
                    cfg_err(e, v[OI_ALGS]->vals[i]->line,
                            "sso.oidc.allowed_algs[%zu] '%s' is not allowed: use asymmetric "
                            "algorithms only (RS256, RS384, RS512, PS256, PS384, PS512, ES256, "
                            "ES384, ES512); \"none\" and HS* are never accepted",
                            i, cfg_shown(algs[i], shown, sizeof(shown)));
                }
            }
            if (ok) {
                cfg_free_strv(s->allowed_algs);
                s->allowed_algs = algs;
                s->n_allowed_algs = n_algs;
                algs = NULL;
            }
        }
        cfg_free_strv(algs);
    }

    cfg_get_uint(e, v[OI_SKEW], "sso.oidc.clock_skew_s", 0, 300, &s->clock_skew_s);
    cfg_get_uint(e, v[OI_JWKS_CACHE], "sso.oidc.jwks_cache_s", 10, 86400, &s->jwks_cache_s);
    cfg_get_bool(e, v[OI_USERINFO], "sso.oidc.userinfo", &s->userinfo);
    load_bearer(L, v);
    cfg_get_https_url(e, v[OI_POST_LOGOUT], "sso.oidc.post_logout_redirect_uri", 0,
                      &s->post_logout_redirect_uri);
    cfg_get_path(e, v[OI_CA], "sso.oidc.ca_file", L->c->data_dir, &s->ca_file);
    cfg_get_uint(e, v[OI_TIMEOUT], "sso.oidc.timeout_ms", 100, 60000, &s->timeout_ms);
}

static void load_sessions(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    const struct cfg_node *v[SE__N];
    if (!cfg_map_slots(e, n, "sso.sessions", cfg_keys_sessions, v, NULL))
        return;
    cfg_get_uint(e, v[SE_IDLE], "sso.sessions.idle_timeout_s", 60, 30 * 86400, &s->idle_timeout_s);
    cfg_get_uint(e, v[SE_ABS], "sso.sessions.absolute_timeout_s", 60, 90 * 86400,
                 &s->absolute_timeout_s);
    if (s->idle_timeout_s > s->absolute_timeout_s)
        cfg_err(e, n->line,
                "sso.sessions.idle_timeout_s (%u) must not exceed "
                "absolute_timeout_s (%u)",
                s->idle_timeout_s, s->absolute_timeout_s);
    char *name = NULL;
    if (cfg_get_str(e, v[SE_COOKIE], "sso.sessions.cookie_name", &name) && name) {
        /* RFC 6265 token characters, short enough for the derived names */
        bool ok = strlen(name) > 0 && strlen(name) <= 48;
        for (const char *p = name; ok && *p; p++)
            ok = isalnum((unsigned char)*p) || strchr("-_.", *p);
        if (!ok) {
            cfg_err(e, v[SE_COOKIE]->line,
                    "sso.sessions.cookie_name must be 1-48 characters of [A-Za-z0-9._-]");
            free(name);
        } else {
            free(s->cookie_name);
            s->cookie_name = name;
        }
    }
    cfg_get_uint(e, v[SE_CLI_ACCESS], "sso.sessions.cli_access_token_ttl_s", 60, 86400,
                 &s->cli_access_ttl_s);
    cfg_get_uint(e, v[SE_CLI_IDLE], "sso.sessions.cli_idle_timeout_s", 3600, 90 * 86400,
                 &s->cli_idle_timeout_s);
    cfg_get_uint(e, v[SE_CLI_ABS], "sso.sessions.cli_absolute_timeout_s", 3600, 365 * 86400,
                 &s->cli_absolute_timeout_s);
    if (s->cli_idle_timeout_s > s->cli_absolute_timeout_s) {
        if (cfg_is_null(v[SE_CLI_IDLE])) /* a short absolute lifetime shortens the default */
            s->cli_idle_timeout_s = s->cli_absolute_timeout_s;
        else
            cfg_err(e, n->line,
                    "sso.sessions.cli_idle_timeout_s (%u) must not exceed "
                    "cli_absolute_timeout_s (%u)",
                    s->cli_idle_timeout_s, s->cli_absolute_timeout_s);
    }
}

void cfg_load_sso(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_sso *s = L->sso;
    char shown[80];
    /* defaults (also when the section is absent: SSO stays disabled) */
    s->auth_method = CFG_OIDC_SECRET_BASIC;
    s->bearer_validation = CFG_BEARER_NONE;
    s->introspection_cache_s = 60;
    s->scopes = gw_xcalloc(4, sizeof(char *));
    s->scopes[0] = gw_xstrdup("openid");
    s->scopes[1] = gw_xstrdup("profile");
    s->scopes[2] = gw_xstrdup("email");
    s->n_scopes = 3;
    s->claim_user = gw_xstrdup("sub");
    s->claim_email = gw_xstrdup("email");
    s->claim_name = gw_xstrdup("name");
    s->claim_groups = gw_xstrdup("groups");
    s->claim_org_unit = gw_xstrdup("org_unit");
    s->claim_team = gw_xstrdup("team");
    s->allowed_algs = gw_xcalloc(2, sizeof(char *));
    s->allowed_algs[0] = gw_xstrdup("RS256");
    s->n_allowed_algs = 1;
    s->clock_skew_s = 60;
    s->jwks_cache_s = 3600;
    s->timeout_ms = 5000;
    s->idle_timeout_s = 3600;
    s->absolute_timeout_s = 43200;
    s->cookie_name = gw_xstrdup("__Host-openclaw_session");
    s->cli_access_ttl_s = 3600;
    s->cli_idle_timeout_s = 14 * 86400;
    s->cli_absolute_timeout_s = 30 * 86400;
    s->jit_provisioning = true;

    const struct cfg_node *v[SS__N];
    if (!cfg_map_slots(e, n, "sso", cfg_keys_sso, v, NULL))
        return;
    if (cfg_is_null(v[SS_OIDC]) && cfg_is_null(v[SS_SAML]))
        cfg_err(e, n->line, "sso needs an oidc or a saml section");
    if (!cfg_is_null(v[SS_OIDC]))
        load_oidc(L, v[SS_OIDC]);
    cfg_load_saml(L, v[SS_SAML]);
    s->enabled = s->oidc_enabled || s->saml.enabled;
    if (cfg_get_enum(e, v[SS_DEFAULT_PROTOCOL], "sso.default_protocol", protocols,
                     &s->default_protocol) &&
        s->default_protocol) {
        if (strcmp(s->default_protocol, "saml") ? !s->oidc_enabled : !s->saml.enabled)
            cfg_err(e, v[SS_DEFAULT_PROTOCOL]->line,
                    "sso.default_protocol is \"%s\" but "
                    "sso.%s is not configured",
                    s->default_protocol, s->default_protocol);
    } else if (s->oidc_enabled && s->saml.enabled) {
        cfg_err(e, n->line,
                "sso.default_protocol (oidc or saml) is required when both sso.oidc "
                "and sso.saml are configured");
    } else if (s->enabled) {
        s->default_protocol = gw_xstrdup(s->oidc_enabled ? "oidc" : "saml");
    }
    if (cfg_get_str(e, v[SS_DEFAULT_ROLE], "sso.default_role", &s->default_role) &&
        s->default_role && !cfg_role_is_builtin(s->default_role) &&
        !cfg_find_role(L->c, s->default_role)) {
        cfg_err(e, v[SS_DEFAULT_ROLE]->line, "sso.default_role: unknown role '%s'",
                cfg_shown(s->default_role, shown, sizeof(shown)));
    }
    char *unmapped = NULL;
    if (cfg_get_enum(e, v[SS_UNMAPPED], "sso.unmapped", unmapped_values, &unmapped) && unmapped) {
        if (!strcmp(unmapped, "refuse")) {
            if (s->default_role)
                cfg_err(e, v[SS_UNMAPPED]->line,
                        "sso.unmapped is \"refuse\" but sso.default_role is set (use one)");
            free(s->default_role);
            s->default_role = NULL;
        } else if (!s->default_role) {
            cfg_err(e, v[SS_UNMAPPED]->line,
                    "sso.unmapped is \"default\": sso.default_role must name the role");
        }
    }
    free(unmapped);
    load_sessions(L, v[SS_SESSIONS]);
    cfg_get_bool(e, v[SS_JIT], "sso.jit_provisioning", &s->jit_provisioning);
    if (cfg_get_str(e, v[SS_TENANT_CLAIM], "sso.tenant_claim", &s->tenant_claim) &&
        s->tenant_claim) {
        if (L->tenant)
            cfg_err(e, v[SS_TENANT_CLAIM]->line,
                    "sso.tenant_claim belongs to the top-level sso "
                    "section (the primary IdP routes users to tenants)");
        else if (!cfg_visible(s->tenant_claim, 256) || strpbrk(s->tenant_claim, "\"'\\"))
            cfg_err(e, v[SS_TENANT_CLAIM]->line,
                    "sso.tenant_claim must be a claim or SAML "
                    "attribute name (1-256 visible ASCII characters, no quotes or backslashes)");
    }
    if (s->oidc_enabled && !s->bearer_audience && s->client_id)
        s->bearer_audience = gw_xstrdup(s->client_id);
}
