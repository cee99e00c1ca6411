/* SPDX-License-Identifier: MIT
 * auth_authn.c — who is calling: the login methods as one table, tried in order.
 *
 * A door (HTTP today; WebSocket and Slack later) hands over what the request carried, in
 * HTTP-free terms; the first method that recognises it decides, and nothing falls through to
 * another method after a method recognised the credential (a bad CLI token is not retried as a
 * gateway token). Gateway tokens come last and take whatever no other method claimed, so
 * their errors ("unknown token", "missing Authorization header") are the default answer.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/mem.h"
#include "config/config.h"
#include "shared/shared.h"

#include <strings.h>

/* The token of "Bearer <token>", or NULL. */
static const char *bearer(const struct auth_credentials *cr)
{
    const char *a = cr->authorization;
    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    a += 7;
    while (*a == ' ')
        a++;
    return a;
}

static const struct cfg_sso *sso(const struct auth_ctx *x)
{
    return x->idp->sso;
}

/* --- CLI sign-in access tokens (oca_...) --------------------------------------------------- */

static bool cli_detect(const struct auth_ctx *x, const struct auth_credentials *cr)
{
    const char *tok = bearer(cr);
    return sso(x)->enabled && tok && auth_cli_is_access_token(tok);
}

static gw_err cli_auth(const struct auth_ctx *x, const struct auth_credentials *cr,
                       struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap)
{
    return auth_cli_authenticate(x->sso, x->cfg, bearer(cr), pool, out, msg, cap);
}

/* --- IdP access tokens: JWT validation or introspection ------------------------------------ */

static bool introspected(const struct auth_ctx *x)
{
    return sso(x)->bearer_validation == CFG_BEARER_INTROSPECTION;
}

static bool idp_detect(const struct auth_ctx *x, const struct auth_credentials *cr)
{
    const char *tok = bearer(cr);
    if (!sso(x)->enabled || !tok || auth_cli_is_access_token(tok))
        return false;
    /* introspection: anything that is not one of our own credentials (those never reach the
     * IdP); otherwise only what looks like a JWT */
    return introspected(x) ? !auth_token_is_local(x->tokens, tok) : auth_looks_like_jwt(tok);
}

static gw_err idp_auth(const struct auth_ctx *x, const struct auth_credentials *cr,
                       struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap)
{
    if (cr->local_only) {
        snprintf(msg, cap, "this address is throttled: IdP access tokens are not checked");
        return GW_ETHROTTLED;
    }
    json_t *claims = NULL;
    gw_err rc = auth_oidc_bearer(x->sso, x->idp, bearer(cr), &claims, msg, cap);
    if (rc != GW_OK)
        return rc == GW_EUPSTREAM ? GW_EUPSTREAM : GW_EUNAUTH;
    struct auth_sso_identity id;
    rc = auth_sso_map(x->sso, x->cfg, x->idp, "oidc", claims, pool, &id, msg, cap);
    json_decref(claims);
    if (rc == GW_OK)
        *out = auth_sso_principal(x->cfg, &id,
                                  introspected(x) ? "bearer_introspection" : "bearer_jwt", pool);
    return rc;
}

/* --- browser sessions (cookie) ------------------------------------------------------------- */

static bool session_detect(const struct auth_ctx *x, const struct auth_credentials *cr)
{
    return sso(x)->enabled && !cr->authorization && cr->session_cookie;
}

static gw_err session_auth(const struct auth_ctx *x, const struct auth_credentials *cr,
                           struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap)
{
    gw_err rc = auth_session_authenticate(x->sso, x->cfg, cr->session_cookie, pool, out, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (cr->mutation && !auth_session_csrf_ok(cr->session_cookie, cr->csrf_token)) {
        snprintf(msg, cap,
                 "missing or wrong X-CSRF-Token header (cookie-authenticated "
                 "requests that change something must send the csrf_token from "
                 "/api/v1/auth/userinfo)");
        *out = NULL;
        return GW_EFORBIDDEN;
    }
    return GW_OK;
}

/* --- gateway tokens: whatever no other method claimed -------------------------------------- */

static bool token_detect(const struct auth_ctx *x, const struct auth_credentials *cr)
{
    GW_UNUSED(x);
    GW_UNUSED(cr);
    return true;
}

static gw_err token_auth(const struct auth_ctx *x, const struct auth_credentials *cr,
                         struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap)
{
    return auth_authenticate(x->tokens, cr->authorization, pool, out, msg, cap);
}

static const struct auth_method methods[] = {
    {"cli", cli_detect, cli_auth},
    {"idp_token", idp_detect, idp_auth},
    {"session", session_detect, session_auth},
    {"token", token_detect, token_auth},
};

const struct auth_method *auth_methods(size_t *n)
{
    *n = GW_ARRAY_LEN(methods);
    return methods;
}

/* A session (browser or CLI) ended on another node, or a node that cannot know: refused. */
static gw_err session_revoked_elsewhere(const struct auth_ctx *x, const struct auth_principal *p,
                                        char *msg, size_t cap)
{
    bool revoked = false;
    char key[128];
    if (!p->session_id || !x->sso || !x->sso->shared)
        return GW_OK;
    snprintf(key, sizeof(key), "session:%.100s", p->session_id);
    gw_err rc = shared_revoked(x->sso->shared, key, &revoked);
    if (rc == GW_EUNAVAIL) {
        snprintf(msg, cap,
                 "session revocations cannot be checked (the cluster's Redis is "
                 "unreachable)");
        return GW_EUNAVAIL;
    }
    if (rc == GW_OK && revoked) {
        snprintf(msg, cap, "session has ended");
        return GW_EUNAUTH;
    }
    return GW_OK;
}

gw_err auth_identify(const struct auth_ctx *x, const struct auth_credentials *cr,
                     struct gw_pool *pool, struct auth_principal **out, char *msg, size_t cap)
{
    for (size_t i = 0; i < GW_ARRAY_LEN(methods); i++) {
        if (!methods[i].detect(x, cr))
            continue;
        gw_err rc = methods[i].authenticate(x, cr, pool, out, msg, cap);
        if (rc == GW_OK)
            rc = session_revoked_elsewhere(x, *out, msg, cap);
        if (rc == GW_OK)
            auth_principal_attach_grants(*out, x->grants, pool);
        return rc;
    }
    snprintf(msg, cap, "no credential");
    return GW_EUNAUTH;
}
