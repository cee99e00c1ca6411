/* SPDX-License-Identifier: MIT
 * auth_oidc.c — the OpenID Connect relying party: discovery, JWKS cache, authorization-code
 * flow with PKCE (S256), state and nonce, the token endpoint, userinfo, and IdP access tokens
 * on the API (bearer JWTs, or token introspection, RFC 7662).
 *
 * Everything the IdP sends is untrusted: each response is bounded (discovery and JWKS 256 KiB,
 * token, userinfo and introspection 64 KiB), parsed strictly, and redirects are never followed.
 * The discovery document must name exactly the configured issuer, and its endpoints must be
 * https (http only on loopback). Discovery and JWKS are cached for sso.oidc.jwks_cache_s; a
 * token whose kid is unknown triggers one JWKS refetch, at most every JWKS_REFETCH_MS (key
 * rotation without letting forged kids hammer the IdP). The algorithm allow-list is the
 * configuration's, never the discovery document's. state, nonce and the verifier live in the
 * store (single use, ten minutes), bound to the browser's pre-login cookie.
 *
 * The RP authenticates to the token and introspection endpoints with sso.oidc.auth_method:
 * client_secret_basic, client_secret_post, or private_key_jwt (a fresh 60-second assertion
 * signed with the client's key for every call, aud = the token endpoint). Introspection results
 * (accepted or not) are cached by a SHA-256 that covers the token, never by the token itself,
 * in a bounded set-associative table, for at most sso.oidc.introspection_cache_s and never past
 * the token's exp; IdP failures are not cached.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "net/net.h"
#include "store/store.h"

#include <ctype.h>
#include <pthread.h>
#include <strings.h>

#define META_MAX ((size_t)256 * 1024)
#define TOKEN_RESP_MAX ((size_t)64 * 1024)
#define JWKS_REFETCH_MS 10000
#define LOGIN_TTL_MS (10 * 60 * 1000)
#define MAX_CODE_LEN 2048
#define MAX_STATE_LEN 128
#define FORM_MAX ((size_t)64 * 1024) /* a bearer token (<= AUTH_JWT_MAX_LEN, escaped) + auth */
#define CACHE_SETS 256               /* introspection cache: CACHE_SETS x CACHE_WAYS entries */
#define CACHE_WAYS 4
#define CACHE_ENTRY_MAX 8192 /* larger introspection results are not cached */

struct oidc_meta {
    char *authorization_endpoint, *token_endpoint, *jwks_uri, *userinfo_endpoint,
        *end_session_endpoint, *introspection_endpoint;
};

/* An introspection result: the IdP's answer (with the userinfo claims merged when configured),
 * rechecked at every use since times move on. */
struct cached_result {
    unsigned char key[GW_SHA256_LEN];
    int64_t until_ms; /* 0 = empty */
    char *json;       /* compact text of the answer */
};

/* What is cached of one IdP (an issuer): tenants may each have their own. */
struct oidc_idp {
    char *issuer;
    struct oidc_meta meta;
    int64_t meta_ms; /* 0 = none */
    struct auth_jwks *jwks;
    int64_t jwks_ms;
    int64_t jwks_refetch_ms; /* last forced refetch */
};

/* as many as tenants; beyond that (issuers changed by reloads) slots are reused */
#define MAX_IDPS 256

struct auth_oidc {
    struct net_loop *net; /* every back-channel call (net/net.h) */
    pthread_mutex_t mu;   /* guards the IdP caches (held during discovery and JWKS calls) */
    struct oidc_idp idps[MAX_IDPS];
    size_t n, next_reuse;
    pthread_mutex_t cache_mu; /* guards results (never held during a call) */
    struct cached_result results[CACHE_SETS][CACHE_WAYS];
};

static void meta_release(struct oidc_meta *m)
{
    free(m->authorization_endpoint);
    free(m->token_endpoint);
    free(m->jwks_uri);
    free(m->userinfo_endpoint);
    free(m->end_session_endpoint);
    free(m->introspection_endpoint);
    memset(m, 0, sizeof(*m));
}

struct auth_oidc *auth_oidc_new(struct net_loop *net)
{
    struct auth_oidc *o = gw_xcalloc(1, sizeof(*o));
    o->net = net;
    pthread_mutex_init(&o->mu, NULL);
    pthread_mutex_init(&o->cache_mu, NULL);
    return o;
}

static void idp_release(struct oidc_idp *k)
{
    meta_release(&k->meta);
    auth_jwks_unref(k->jwks);
    free(k->issuer);
    memset(k, 0, sizeof(*k));
}

void auth_oidc_free(struct auth_oidc *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        idp_release(&o->idps[i]);
    for (size_t i = 0; i < CACHE_SETS; i++)
        for (size_t w = 0; w < CACHE_WAYS; w++)
            free(o->results[i][w].json);
    pthread_mutex_destroy(&o->mu);
    pthread_mutex_destroy(&o->cache_mu);
    free(o);
}

/* --- back-channel HTTP ----------------------------------------------------------------- */

/* GET (form NULL) or POST a form through the outbound loop (net/net.h: bounded body, no
 * redirects, http(s) only, the egress policy: endpoints on another host than the issuer must
 * be public addresses unless allowed). basic_user: HTTP Basic. body is initialized here and
 * released by the caller. msg never contains the URL's query, the form or the credentials. */
static gw_err http_call(struct auth_oidc *o, const struct cfg_sso *s, const char *url,
                        const char *form, const char *basic_user, const char *basic_pw,
                        const char *bearer, size_t max, long *status, struct gw_buf *body,
                        char *msg, size_t msgcap)
{
    gw_buf_init(body, max);
    char *auth = bearer ? gw_xasprintf("Authorization: Bearer %s", bearer) : NULL;
    const char *headers[] = {"Accept: application/json", auth, NULL};
    unsigned timeout = s->timeout_ms ? s->timeout_ms : 5000;
    struct net_request rq = {.url = url,
                             .body = form,
                             .body_len = form ? strlen(form) : 0,
                             .headers = headers,
                             .user = basic_user,
                             .password = basic_pw,
                             .ca_file = s->ca_file,
                             .timeout_ms = timeout,
                             .max_body = max};
    struct net_response r;
    gw_err rc = net_fetch(o->net, &rq, &r);
    *status = r.status;
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "identity provider unreachable (%s)",
                 rc == GW_ETOOBIG ? "response too large" : r.msg);
        rc = GW_EUPSTREAM;
    } else {
        gw_buf_append(body, r.body, r.len);
    }
    net_response_release(&r);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    return rc;
}

static gw_err get_json(struct auth_oidc *o, const struct cfg_sso *s, const char *url, size_t max,
                       const char *bearer, json_t **out, char *msg, size_t msgcap, const char *what)
{
    struct gw_buf body;
    long status = 0;
    gw_err rc = http_call(o, s, url, NULL, NULL, NULL, bearer, max, &status, &body, msg, msgcap);
    *out = NULL;
    if (rc == GW_OK && status != 200) {
        snprintf(msg, msgcap, "identity provider answered HTTP %ld to the %s request", status,
                 what);
        rc = GW_EUPSTREAM;
    }
    if (rc == GW_OK) {
        char jmsg[160];
        *out = gw_json_parse(body.data ? body.data : "", body.len, 16, jmsg, sizeof(jmsg));
        if (!json_is_object(*out)) {
            snprintf(msg, msgcap, "identity provider sent an invalid %s document: %s", what,
                     *out ? "not an object" : jmsg);
            json_decref(*out);
            *out = NULL;
            rc = GW_EUPSTREAM;
        }
    }
    gw_buf_release(&body);
    return rc;
}

/* https, or http on loopback (the configuration's rule for the issuer). */
static bool url_ok(const char *u)
{
    if (!u || strlen(u) > 2048)
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    if (!strncmp(u, "https://", 8))
        return true;
    return !strncmp(u, "http://127.0.0.1", 16) || !strncmp(u, "http://localhost", 16) ||
           !strncmp(u, "http://[::1]", 12);
}

/* --- discovery and JWKS (o->mu held) ----------------------------------------------------- */

/* The cache of the IdP of s (created empty when new). */
static struct oidc_idp *idp_of(struct auth_oidc *o, const struct cfg_sso *s)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->idps[i].issuer, s->issuer))
            return &o->idps[i];
    struct oidc_idp *k;
    if (o->n < MAX_IDPS) {
        k = &o->idps[o->n++];
    } else {
        k = &o->idps[o->next_reuse++ % MAX_IDPS];
        idp_release(k);
    }
    k->issuer = gw_xstrdup(s->issuer);
    return k;
}

static gw_err discover(struct auth_oidc *o, struct oidc_idp *k, const struct cfg_sso *s, char *msg,
                       size_t msgcap)
{
    int64_t now = gw_now_ms();
    if (k->meta_ms && now - k->meta_ms < (int64_t)s->jwks_cache_s * 1000)
        return GW_OK;
    char *url = gw_xasprintf("%s/.well-known/openid-configuration", s->issuer);
    json_t *d = NULL;
    gw_err rc = get_json(o, s, url, META_MAX, NULL, &d, msg, msgcap, "discovery");
    free(url);
    if (rc != GW_OK)
        return rc;
    struct oidc_meta m = {0};
    const char *iss = gw_json_str(d, "issuer");
    const char *az = gw_json_str(d, "authorization_endpoint"),
               *tk = gw_json_str(d, "token_endpoint");
    const char *jw = gw_json_str(d, "jwks_uri"), *ui = gw_json_str(d, "userinfo_endpoint");
    const char *es = gw_json_str(d, "end_session_endpoint");
    const char *ie = gw_json_str(d, "introspection_endpoint");
    if (!iss || strcmp(iss, s->issuer) != 0) {
        snprintf(msg, msgcap,
                 "discovery document names another issuer than the configured one "
                 "(check sso.oidc.issuer)");
        rc = GW_EUPSTREAM;
    } else if (!url_ok(az) || !url_ok(tk) || !url_ok(jw) || (ui && !url_ok(ui)) ||
               (es && !url_ok(es)) || (ie && !url_ok(ie))) {
        snprintf(msg, msgcap,
                 "discovery document lacks authorization_endpoint, token_endpoint "
                 "or jwks_uri, or has an endpoint that is not https");
        rc = GW_EUPSTREAM;
    } else {
        m.authorization_endpoint = gw_xstrdup(az);
        m.token_endpoint = gw_xstrdup(tk);
        m.jwks_uri = gw_xstrdup(jw);
        m.userinfo_endpoint = ui ? gw_xstrdup(ui) : NULL;
        m.end_session_endpoint = es ? gw_xstrdup(es) : NULL;
        m.introspection_endpoint = ie ? gw_xstrdup(ie) : NULL;
        meta_release(&k->meta);
        k->meta = m;
        k->meta_ms = now;
    }
    json_decref(d);
    if (rc != GW_OK)
        gw_warn("sso: %s", msg);
    return rc;
}

static gw_err fetch_jwks(struct auth_oidc *o, struct oidc_idp *k, const struct cfg_sso *s,
                         char *msg, size_t msgcap)
{
    struct gw_buf body;
    long status = 0;
    gw_err rc = http_call(o, s, k->meta.jwks_uri, NULL, NULL, NULL, NULL, META_MAX, &status, &body,
                          msg, msgcap);
    if (rc == GW_OK && status != 200) {
        snprintf(msg, msgcap, "identity provider answered HTTP %ld to the JWKS request", status);
        rc = GW_EUPSTREAM;
    }
    struct auth_jwks *ks = NULL;
    if (rc == GW_OK) {
        char jmsg[160];
        if (auth_jwks_parse(body.data ? body.data : "", body.len, &ks, jmsg, sizeof(jmsg)) !=
            GW_OK) {
            snprintf(msg, msgcap, "identity provider JWKS unusable: %s", jmsg);
            rc = GW_EUPSTREAM;
        }
    }
    gw_buf_release(&body);
    if (rc == GW_OK) {
        auth_jwks_unref(k->jwks);
        k->jwks = ks;
        k->jwks_ms = gw_now_ms();
    } else {
        gw_warn("sso: %s", msg);
    }
    return rc;
}

/* The current key set (a reference), fetched when missing, stale, or (force) once per
 * JWKS_REFETCH_MS for an unknown kid. */
static gw_err get_jwks(struct auth_oidc *o, const struct cfg_sso *s, bool force,
                       struct auth_jwks **out, char *msg, size_t msgcap)
{
    pthread_mutex_lock(&o->mu);
    struct oidc_idp *k = idp_of(o, s);
    int64_t now = gw_now_ms();
    gw_err rc = discover(o, k, s, msg, msgcap);
    if (rc == GW_OK) {
        bool stale = !k->jwks || now - k->jwks_ms >= (int64_t)s->jwks_cache_s * 1000;
        if (force && !stale) {
            if (now - k->jwks_refetch_ms < JWKS_REFETCH_MS) {
                snprintf(msg, msgcap,
                         "unknown signing key (kid not in the IdP's JWKS; "
                         "refetch rate-limited)");
                rc = GW_EUNAUTH;
            } else {
                stale = true;
                k->jwks_refetch_ms = now;
            }
        }
        if (rc == GW_OK && stale)
            rc = fetch_jwks(o, k, s, msg, msgcap);
    }
    *out = rc == GW_OK ? auth_jwks_ref(k->jwks) : NULL;
    pthread_mutex_unlock(&o->mu);
    return rc;
}

static gw_err verify(struct auth_oidc *o, const struct cfg_sso *s, const char *jwt,
                     const struct auth_jwt_check *chk, json_t **claims, char *msg, size_t msgcap)
{
    struct auth_jwks *ks = NULL;
    bool unknown = false;
    gw_err rc = get_jwks(o, s, false, &ks, msg, msgcap);
    if (rc == GW_OK)
        rc = auth_jwt_verify(ks, jwt, chk, claims, &unknown, msg, msgcap);
    auth_jwks_unref(ks);
    if (rc != GW_OK && unknown) { /* key rotation: one refetch, rate-limited */
        ks = NULL;
        if (get_jwks(o, s, true, &ks, msg, msgcap) == GW_OK)
            rc = auth_jwt_verify(ks, jwt, chk, claims, NULL, msg, msgcap);
        auth_jwks_unref(ks);
    }
    return rc == GW_EUPSTREAM ? GW_EUPSTREAM : rc == GW_OK ? GW_OK : GW_EUNAUTH;
}

/* --- encoding helpers ---------------------------------------------------------------------- */

static void url_escape(struct gw_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            gw_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            gw_buf_append(b, e, 3);
        }
    }
}

static void param(struct gw_buf *b, const char *name, const char *value)
{
    if (b->len)
        gw_buf_puts(b, "&");
    gw_buf_puts(b, name);
    gw_buf_puts(b, "=");
    url_escape(b, value);
}

static void random_b64(char *out /* 44 bytes */)
{
    unsigned char raw[32];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), out);
    explicit_bzero(raw, sizeof(raw));
}

static bool visible_bounded(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

bool auth_looks_like_jwt(const char *token)
{
    if (!token || strncmp(token, "eyJ", 3) != 0)
        return false;
    const char *d1 = strchr(token, '.');
    return d1 && strchr(d1 + 1, '.') != NULL;
}

/* --- the flow ---------------------------------------------------------------------------- */

gw_err auth_oidc_begin(struct auth_sso *sso, const struct cfg_tenant *t, const char *binding,
                       const char *return_to, struct gw_pool *pool, const char **url, char *msg,
                       size_t msgcap)
{
    struct auth_oidc *o = sso->oidc;
    struct store *st = sso->store;
    const struct cfg_sso *s = t->sso;
    pthread_mutex_lock(&o->mu);
    struct oidc_idp *k = idp_of(o, s);
    gw_err rc = discover(o, k, s, msg, msgcap);
    char *authz = rc == GW_OK ? gw_xstrdup(k->meta.authorization_endpoint) : NULL;
    pthread_mutex_unlock(&o->mu);
    if (rc != GW_OK)
        return rc;

    char state[48], nonce[48], verifier[48], challenge[48];
    unsigned char h[GW_SHA256_LEN];
    random_b64(state);
    random_b64(nonce);
    random_b64(verifier);
    gw_sha256(verifier, strlen(verifier), h);
    gw_b64url(h, sizeof(h), challenge);
    char state_hash[65], binding_hash[65];
    gw_sha256_hex(state, strlen(state), state_hash);
    gw_sha256_hex(binding, strlen(binding), binding_hash);
    int64_t now = gw_now_ms();
    struct store_login_state ls = {
        .state_hash = state_hash,
        .tenant = t->id,
        .binding_hash = binding_hash,
        .nonce = nonce,
        .verifier = verifier,
        .return_to = (char *)return_to,
        .created_ms = now,
        .expires_ms = now + LOGIN_TTL_MS,
    };
    rc = store_login_state_insert(st, &ls);
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "cannot record the login request");
        free(authz);
        return rc;
    }
    struct gw_buf q, scope;
    gw_buf_init(&q, 16384);
    gw_buf_init(&scope, 4096);
    for (size_t i = 0; i < s->n_scopes; i++) {
        if (i)
            gw_buf_puts(&scope, " ");
        gw_buf_puts(&scope, s->scopes[i]);
    }
    param(&q, "response_type", "code");
    param(&q, "client_id", s->client_id);
    param(&q, "redirect_uri", s->redirect_uri);
    param(&q, "scope", scope.data ? scope.data : "openid");
    param(&q, "state", state);
    param(&q, "nonce", nonce);
    param(&q, "code_challenge", challenge);
    param(&q, "code_challenge_method", "S256");
    *url = gw_pool_printf(pool, "%s%c%s", authz, strchr(authz, '?') ? '&' : '?',
                          q.data ? q.data : "");
    gw_buf_release(&q);
    gw_buf_release(&scope);
    free(authz);
    explicit_bzero(verifier, sizeof(verifier));
    explicit_bzero(nonce, sizeof(nonce));
    return GW_OK;
}

static void chk_init(struct auth_jwt_check *k, const struct cfg_sso *s)
{
    *k = (struct auth_jwt_check){
        .issuer = s->issuer,
        .audience = s->client_id,
        .azp = s->client_id,
        .algs = (const char *const *)s->allowed_algs,
        .n_algs = s->n_allowed_algs,
        .skew_s = s->clock_skew_s,
        .require_iat = true,
    };
}

static void wipe(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Copies of the IdP's token endpoint and (when introspection_ep) its introspection endpoint,
 * or NULL when it has none; discovery first. */
static gw_err endpoints(struct auth_oidc *o, const struct cfg_sso *s, char **token_ep,
                        char **introspection_ep, char *msg, size_t msgcap)
{
    pthread_mutex_lock(&o->mu);
    struct oidc_idp *k = idp_of(o, s);
    gw_err rc = discover(o, k, s, msg, msgcap);
    *token_ep = rc == GW_OK ? gw_xstrdup(k->meta.token_endpoint) : NULL;
    if (introspection_ep)
        *introspection_ep = rc == GW_OK && k->meta.introspection_endpoint
                                ? gw_xstrdup(k->meta.introspection_endpoint)
                                : NULL;
    pthread_mutex_unlock(&o->mu);
    return rc;
}

/* POSTs a form to one of the IdP's endpoints with the client authentication of
 * sso.oidc.auth_method: HTTP Basic, client_id and client_secret in the form, or client_id and
 * a fresh private_key_jwt assertion whose audience is the token endpoint token_ep (OIDC Core
 * 9). The form is wiped and released; body as http_call. */
static gw_err post_authenticated(struct auth_oidc *o, const struct cfg_sso *s, const char *url,
                                 const char *token_ep, struct gw_buf *form, long *status,
                                 struct gw_buf *body, char *msg, size_t msgcap)
{
    const char *user = NULL, *pw = NULL;
    gw_err rc = GW_OK;
    gw_buf_init(body, TOKEN_RESP_MAX);
    if (s->auth_method == CFG_OIDC_SECRET_BASIC) {
        user = s->client_id;
        pw = s->client_secret;
    } else {
        param(form, "client_id", s->client_id);
        if (s->auth_method == CFG_OIDC_SECRET_POST) {
            param(form, "client_secret", s->client_secret);
        } else {
            char *jwt = NULL, why[160];
            rc = auth_jwt_client_assertion(s->client_key_pem, s->client_key_alg, s->client_key_id,
                                           s->client_id, token_ep, gw_now_ms() / 1000, &jwt, why,
                                           sizeof(why));
            if (rc == GW_OK) {
                param(form, "client_assertion_type", AUTH_CLIENT_ASSERTION_TYPE);
                param(form, "client_assertion", jwt);
            } else {
                snprintf(msg, msgcap, "cannot sign the client assertion: %s", why);
            }
            wipe(jwt);
        }
    }
    if (rc == GW_OK)
        rc = http_call(o, s, url, form->data ? form->data : "", user, pw, NULL, TOKEN_RESP_MAX,
                       status, body, msg, msgcap);
    if (form->data)
        explicit_bzero(form->data, form->len);
    gw_buf_release(form);
    return rc;
}

/* The OAuth "error" code of an answer, reduced to [A-Za-z0-9_] for a message ("" if none). */
static void oauth_error(const json_t *doc, char *shown, size_t cap)
{
    const char *err = gw_json_str(doc, "error");
    size_t i = 0;
    for (; err && err[i] && i + 1 < cap; i++)
        shown[i] = isalnum((unsigned char)err[i]) || err[i] == '_' ? err[i] : '?';
    shown[i] = '\0';
}

/* Redeems the code; *id_token and *access_token are malloc'd (wiped by the caller). */
static gw_err redeem(struct auth_oidc *o, const struct cfg_sso *s, const char *code,
                     const char *verifier, char **id_token, char **access_token, char *msg,
                     size_t msgcap)
{
    char *endpoint = NULL;
    gw_err rc = endpoints(o, s, &endpoint, NULL, msg, msgcap);
    if (rc != GW_OK)
        return rc;
    struct gw_buf form, body;
    gw_buf_init(&form, FORM_MAX);
    param(&form, "grant_type", "authorization_code");
    param(&form, "code", code);
    param(&form, "redirect_uri", s->redirect_uri);
    param(&form, "code_verifier", verifier);
    long status = 0;
    rc = post_authenticated(o, s, endpoint, endpoint, &form, &status, &body, msg, msgcap);
    free(endpoint);
    json_t *doc = NULL;
    if (rc == GW_OK) {
        char jmsg[160];
        doc = gw_json_parse(body.data ? body.data : "", body.len, 8, jmsg, sizeof(jmsg));
        if (status != 200) {
            char shown[48];
            oauth_error(doc, shown, sizeof(shown));
            snprintf(msg, msgcap, "token endpoint refused the code (HTTP %ld%s%s)", status,
                     shown[0] ? ", " : "", shown);
            rc = GW_EUNAUTH;
        } else if (!json_is_object(doc) || !gw_json_str(doc, "id_token")) {
            snprintf(msg, msgcap, "token endpoint answer has no id_token");
            rc = GW_EUPSTREAM;
        } else {
            const char *tt = gw_json_str(doc, "token_type");
            if (tt && strcasecmp(tt, "Bearer") != 0) {
                snprintf(msg, msgcap, "token endpoint answered an unexpected token_type");
                rc = GW_EUPSTREAM;
            } else {
                *id_token = gw_xstrdup(gw_json_str(doc, "id_token"));
                const char *at = gw_json_str(doc, "access_token");
                *access_token = at && visible_bounded(at, AUTH_JWT_MAX_LEN) ? gw_xstrdup(at) : NULL;
            }
        }
    }
    json_decref(doc);
    if (body.data)
        explicit_bzero(body.data, body.len);
    gw_buf_release(&body);
    return rc;
}

/* Members of an introspection answer that userinfo may not supply (they decide acceptance). */
static const char *const introspection_members[] = {"active",     "iss", "aud",       "exp",
                                                    "nbf",        "iat", "client_id", "scope",
                                                    "token_type", "jti", NULL};

/* Merges userinfo claims that the claims (of the ID token, or of an introspection answer:
 * what) lack, except those named in reserved (NULL: none); the subjects must agree. */
static gw_err merge_userinfo(struct auth_oidc *o, const struct cfg_sso *s, const char *at,
                             json_t *claims, const char *what, const char *const *reserved,
                             char *msg, size_t msgcap)
{
    pthread_mutex_lock(&o->mu);
    struct oidc_idp *k = idp_of(o, s);
    char *ep = k->meta.userinfo_endpoint ? gw_xstrdup(k->meta.userinfo_endpoint) : NULL;
    pthread_mutex_unlock(&o->mu);
    if (!ep || !at) {
        free(ep);
        snprintf(msg, msgcap,
                 "userinfo is configured but the IdP has no userinfo endpoint or "
                 "sent no access token");
        return GW_EUPSTREAM;
    }
    json_t *ui = NULL;
    gw_err rc = get_json(o, s, ep, TOKEN_RESP_MAX, at, &ui, msg, msgcap, "userinfo");
    free(ep);
    if (rc != GW_OK)
        return rc;
    const char *sub = gw_json_str(ui, "sub"), *want = gw_json_str(claims, "sub");
    if (!sub || !want || strcmp(sub, want) != 0) {
        snprintf(msg, msgcap, "userinfo names another subject than the %s", what);
        rc = GW_EUNAUTH;
    } else {
        const char *name;
        json_t *v;
        json_object_foreach(ui, name, v) {
            bool skip = json_object_get(claims, name) != NULL;
            for (size_t i = 0; reserved && reserved[i] && !skip; i++)
                skip = !strcmp(name, reserved[i]);
            if (!skip)
                json_object_set(claims, name, v);
        }
    }
    json_decref(ui);
    return rc;
}

gw_err auth_oidc_finish(struct auth_sso *sso, const struct cfg_tenant *t, const char *code,
                        const char *state, const char *binding, struct gw_pool *pool,
                        json_t **claims, const char **return_to, char *msg, size_t msgcap)
{
    struct auth_oidc *o = sso->oidc;
    struct store *st = sso->store;
    const struct cfg_sso *s = t->sso;
    *claims = NULL;
    *return_to = NULL;
    if (!visible_bounded(state, MAX_STATE_LEN)) {
        snprintf(msg, msgcap, "callback without a valid state parameter");
        return GW_EUNAUTH;
    }
    if (!visible_bounded(code, MAX_CODE_LEN)) {
        snprintf(msg, msgcap, "callback without a valid code parameter");
        return GW_EUNAUTH;
    }
    char state_hash[65], binding_hash[65];
    gw_sha256_hex(state, strlen(state), state_hash);
    gw_sha256_hex(binding, strlen(binding), binding_hash);
    struct store_login_state ls;
    gw_err rc = store_login_state_consume(st, state_hash, gw_now_ms(), &ls);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap,
                 "unknown, expired or already used login state (replayed "
                 "callback?): start the login again");
        return GW_EUNAUTH;
    }
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "cannot read the login request");
        return rc;
    }
    if (strcmp(ls.tenant, t->id) != 0 || !gw_ct_equal(ls.binding_hash, binding_hash, 64)) {
        snprintf(msg, msgcap,
                 "this login was started in another browser (state not bound to "
                 "this browser)");
        store_login_state_release(&ls);
        return GW_EUNAUTH;
    }
    char *id_token = NULL, *access_token = NULL;
    rc = redeem(o, s, code, ls.verifier ? ls.verifier : "", &id_token, &access_token, msg, msgcap);
    if (rc == GW_OK) {
        struct auth_jwt_check chk;
        chk_init(&chk, s);
        chk.nonce = ls.nonce ? ls.nonce : "";
        rc = verify(o, s, id_token, &chk, claims, msg, msgcap);
        if (rc != GW_OK) {
            char why[200];
            snprintf(why, sizeof(why), "%s", msg);
            snprintf(msg, msgcap, "ID token rejected: %s", why);
        }
    }
    if (rc == GW_OK && s->userinfo) {
        rc = merge_userinfo(o, s, access_token, *claims, "ID token", NULL, msg, msgcap);
        if (rc != GW_OK) {
            json_decref(*claims);
            *claims = NULL;
        }
    }
    if (rc == GW_OK && ls.return_to)
        *return_to = gw_pool_strdup(pool, ls.return_to);
    wipe(id_token);
    wipe(access_token);
    store_login_state_release(&ls);
    return rc;
}

/* --- token introspection (RFC 7662) ------------------------------------------------------ */

/* The cache key of a token: SHA-256 over the issuer, the client (an IdP may answer each client
 * differently), whether userinfo is merged, and the token. */
static void result_key(const struct cfg_sso *s, const char *token, unsigned char key[GW_SHA256_LEN])
{
    char *text = gw_xasprintf("%s\n%s\n%d\n%s", s->issuer, s->client_id, (int)s->userinfo, token);
    gw_sha256(text, strlen(text), key);
    wipe(text);
}

/* The cached answer of a key (owned by the caller), or NULL. */
static json_t *result_get(struct auth_oidc *o, const unsigned char *key)
{
    struct cached_result *set = o->results[key[0] % CACHE_SETS];
    int64_t now = gw_now_ms();
    char *text = NULL;
    pthread_mutex_lock(&o->cache_mu);
    for (size_t w = 0; w < CACHE_WAYS && !text; w++)
        if (set[w].until_ms > now && !memcmp(set[w].key, key, GW_SHA256_LEN))
            text = gw_xstrdup(set[w].json);
    pthread_mutex_unlock(&o->cache_mu);
    json_t *r = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return r;
}

/* Keeps an answer for sso.oidc.introspection_cache_s, and an active one no longer than its exp;
 * the set's entry closest to expiry (an empty or expired one first) makes room. */
static void result_put(struct auth_oidc *o, const struct cfg_sso *s, const unsigned char *key,
                       const json_t *r)
{
    int64_t now = gw_now_ms(), until = now + (int64_t)s->introspection_cache_s * 1000, exp;
    if (json_is_true(json_object_get(r, "active")) &&
        auth_numeric_date(json_object_get(r, "exp"), &exp) && exp * 1000 < until)
        until = exp * 1000;
    if (until <= now)
        return;
    char *text = gw_json_compact(r);
    if (!text || strlen(text) > CACHE_ENTRY_MAX) {
        free(text);
        return;
    }
    struct cached_result *set = o->results[key[0] % CACHE_SETS], *slot = &set[0];
    pthread_mutex_lock(&o->cache_mu);
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        if (!memcmp(set[w].key, key, GW_SHA256_LEN)) {
            slot = &set[w];
            break;
        }
        if (set[w].until_ms < slot->until_ms)
            slot = &set[w];
    }
    free(slot->json);
    memcpy(slot->key, key, GW_SHA256_LEN);
    slot->until_ms = until;
    slot->json = text;
    pthread_mutex_unlock(&o->cache_mu);
}

/* Does an introspection answer describe a token for this gateway? active must be true; iss,
 * when present, the configured issuer; exp and nbf, when present, valid now (with the clock
 * skew); the audience ours: aud, when present, must contain sso.oidc.bearer_audience, else
 * client_id (the client the token was issued to) must be that audience. GW_EUNAUTH with the
 * reason. */
static gw_err introspection_ok(const json_t *r, const struct cfg_sso *s, char *msg, size_t msgcap)
{
    int64_t now = gw_now_ms() / 1000, skew = s->clock_skew_s, t = 0;
    const char *want = s->bearer_audience ? s->bearer_audience : s->client_id;
    const json_t *iss = json_object_get(r, "iss"), *exp = json_object_get(r, "exp"),
                 *nbf = json_object_get(r, "nbf"), *aud = json_object_get(r, "aud");
    const char *client = gw_json_str(r, "client_id");
    size_t n_aud = 0;
    if (!json_is_true(json_object_get(r, "active")))
        snprintf(msg, msgcap,
                 "token is not active (expired, revoked or unknown to the identity "
                 "provider)");
    else if (iss && (!json_is_string(iss) || strcmp(json_string_value(iss), s->issuer) != 0))
        snprintf(msg, msgcap, "wrong issuer (iss is not the configured issuer)");
    else if (exp && (!auth_numeric_date(exp, &t) || now >= t + skew))
        snprintf(msg, msgcap, "token has expired");
    else if (nbf && (!auth_numeric_date(nbf, &t) || t > now + skew))
        snprintf(msg, msgcap, "token is not yet valid (nbf is in the future)");
    else if (aud && !auth_aud_contains(aud, want, &n_aud))
        snprintf(msg, msgcap, "wrong audience (aud does not contain %.100s)", want);
    else if (!aud && !client)
        snprintf(msg, msgcap,
                 "the introspection answer names neither an audience (aud) nor a "
                 "client (client_id)");
    else if (!aud && strcmp(client, want) != 0)
        snprintf(msg, msgcap, "token was issued to another client (client_id is not %.100s)", want);
    else
        return GW_OK;
    return GW_EUNAUTH;
}

/* Asks the IdP's introspection endpoint about a token; *out (the answer, owned by the caller)
 * has a boolean "active". GW_EUPSTREAM when the IdP cannot answer or refuses us. */
static gw_err introspect_call(struct auth_oidc *o, const struct cfg_sso *s, const char *token,
                              json_t **out, char *msg, size_t msgcap)
{
    char *tep = NULL, *iep = NULL;
    struct gw_buf form, body;
    long status = 0;
    *out = NULL;
    gw_buf_init(&body, 0);
    gw_err rc = endpoints(o, s, &tep, &iep, msg, msgcap);
    if (rc == GW_OK && !iep) {
        snprintf(msg, msgcap,
                 "the identity provider's discovery document has no "
                 "introspection_endpoint (sso.oidc.bearer_validation is introspection)");
        rc = GW_EUPSTREAM;
    }
    if (rc == GW_OK) {
        gw_buf_init(&form, FORM_MAX);
        param(&form, "token", token);
        param(&form, "token_type_hint", "access_token");
        rc = post_authenticated(o, s, iep, tep, &form, &status, &body, msg, msgcap);
    }
    if (rc == GW_OK) {
        char jmsg[160], shown[48];
        json_t *doc = gw_json_parse(body.data ? body.data : "", body.len, 16, jmsg, sizeof(jmsg));
        if (status != 200) {
            oauth_error(doc, shown, sizeof(shown));
            snprintf(msg, msgcap, "introspection endpoint answered HTTP %ld%s%s", status,
                     shown[0] ? ", " : "", shown);
            rc = GW_EUPSTREAM;
        } else if (!json_is_object(doc) || !json_is_boolean(json_object_get(doc, "active"))) {
            snprintf(msg, msgcap, "identity provider sent an invalid introspection answer (%s)",
                     doc ? "no boolean active" : jmsg);
            rc = GW_EUPSTREAM;
        } else {
            *out = doc;
            doc = NULL;
        }
        json_decref(doc);
    }
    if (body.data)
        explicit_bzero(body.data, body.len);
    gw_buf_release(&body);
    free(tep);
    free(iep);
    if (rc != GW_OK)
        gw_warn("sso: %s", msg);
    return rc;
}

/* A bearer token by introspection (see the top for the cache); the claims are the answer's,
 * with the userinfo claims it lacks when sso.oidc.userinfo is on. */
static gw_err introspect(struct auth_oidc *o, const struct cfg_sso *s, const char *token,
                         json_t **claims, char *msg, size_t msgcap)
{
    if (!visible_bounded(token, AUTH_JWT_MAX_LEN)) {
        snprintf(msg, msgcap,
                 "malformed bearer token (empty, longer than %d bytes or not "
                 "visible ASCII)",
                 AUTH_JWT_MAX_LEN);
        return GW_EUNAUTH;
    }
    unsigned char key[GW_SHA256_LEN];
    result_key(s, token, key);
    json_t *r = result_get(o, key);
    gw_err rc = GW_OK;
    if (!r) {
        rc = introspect_call(o, s, token, &r, msg, msgcap);
        if (rc == GW_OK && s->userinfo && introspection_ok(r, s, msg, msgcap) == GW_OK)
            rc = merge_userinfo(o, s, token, r, "introspection answer", introspection_members, msg,
                                msgcap);
        if (rc == GW_OK && s->introspection_cache_s)
            result_put(o, s, key, r);
    }
    if (rc == GW_OK)
        rc = introspection_ok(r, s, msg, msgcap);
    if (rc == GW_OK)
        *claims = r;
    else
        json_decref(r);
    return rc;
}

/* --- IdP access tokens on the API ---------------------------------------------------------- */

gw_err auth_oidc_bearer(struct auth_sso *sso, const struct cfg_tenant *t, const char *token,
                        json_t **claims, char *msg, size_t msgcap)
{
    struct auth_oidc *o = sso->oidc;
    const struct cfg_sso *s = t->sso;
    *claims = NULL;
    if (!s->enabled || s->bearer_validation == CFG_BEARER_NONE) {
        snprintf(msg, msgcap,
                 "IdP access tokens are not accepted here (sso.oidc."
                 "bearer_validation is none)");
        return GW_EUNAUTH;
    }
    if (s->bearer_validation == CFG_BEARER_INTROSPECTION)
        return introspect(o, s, token, claims, msg, msgcap);
    struct auth_jwt_check chk;
    chk_init(&chk, s);
    chk.audience = s->bearer_audience ? s->bearer_audience : s->client_id;
    chk.azp = NULL; /* other clients of the IdP (the CLI) may hold tokens for this audience */
    chk.require_iat = false;
    gw_err rc = verify(o, s, token, &chk, claims, msg, msgcap);
    return rc == GW_OK ? GW_OK : GW_EUNAUTH;
}

const char *auth_oidc_logout_url(struct auth_sso *sso, const struct cfg_tenant *t,
                                 struct gw_pool *pool)
{
    struct auth_oidc *o = sso->oidc;
    const struct cfg_sso *s = t->sso;
    char msg[200];
    const char *url = NULL;
    pthread_mutex_lock(&o->mu);
    struct oidc_idp *k = idp_of(o, s);
    if (discover(o, k, s, msg, sizeof(msg)) == GW_OK && k->meta.end_session_endpoint) {
        struct gw_buf q;
        gw_buf_init(&q, 8192);
        param(&q, "client_id", s->client_id);
        if (s->post_logout_redirect_uri)
            param(&q, "post_logout_redirect_uri", s->post_logout_redirect_uri);
        url = gw_pool_printf(pool, "%s%c%s", k->meta.end_session_endpoint,
                             strchr(k->meta.end_session_endpoint, '?') ? '&' : '?',
                             q.data ? q.data : "");
        gw_buf_release(&q);
    }
    pthread_mutex_unlock(&o->mu);
    return url;
}
