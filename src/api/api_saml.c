/* SPDX-License-Identifier: MIT
 * api_saml.c — the SAML 2.0 routes of single sign-on (the service provider is auth_saml.c).
 *
 *   GET      /api/v1/auth/saml/metadata   the SP metadata (public, not audited)
 *   POST     /api/v1/auth/saml/acs        the IdP's Response (HTTP-POST binding) → the shared
 *                                         end of every login, api_sso_complete(…, "saml", …)
 *   GET|POST /api/v1/auth/saml/slo        an IdP-initiated LogoutRequest (ends the sessions of
 *                                         its NameID, 302 back with a LogoutResponse), or the
 *                                         IdP's LogoutResponse to our LogoutRequest
 * Logins start at GET /api/v1/auth/login (?protocol=saml when both protocols are configured)
 * and end at /api/v1/auth/logout, in api_auth.c; api_saml_logout is the SAML half of the latter.
 * The ACS and SLO steps are anonymous but audited: failures as auth.login.failed or
 * auth.logout.failed with the reason, never with the message itself.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "base/log.h"

#include <strings.h>

#define FORM_CT "application/x-www-form-urlencoded"

static bool saml_ready(struct api_call *c, const char *event)
{
    if (api_idp_tenant(c)->sso->saml.enabled)
        return true;
    api_sso_fail(c, event, "SAML single sign-on is not configured");
    http_respond_error(c->r, GW_ENOTFOUND, "SAML single sign-on is not configured (no sso.saml)");
    return false;
}

/* A field of the urlencoded body (pool), or NULL when absent or malformed. */
static const char *form_value(struct api_call *c, const char *name)
{
    const char *ct = http_header(c->r, "Content-Type");
    if (!ct || strncasecmp(ct, FORM_CT, strlen(FORM_CT)) != 0 || !c->r->body.data)
        return NULL;
    const char *p = c->r->body.data, *end = p + c->r->body.len;
    size_t nl = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nl && p[nl] == '=' && memcmp(p, name, nl) == 0) {
            size_t len = (size_t)(stop - p) - nl - 1;
            char *plus = gw_pool_strndup(c->r->pool, p + nl + 1, len), *out;
            for (char *q = plus; *q; q++)
                if (*q == '+')
                    *q = ' ';
            out = gw_pool_alloc(c->r->pool, len + 1);
            return http_pct_decode(plus, len, out, len + 1) ? out : NULL;
        }
        p = stop + 1;
    }
    return NULL;
}

void api_saml_metadata(struct api_call *c)
{
    if (!api_idp_tenant(c)->sso->saml.enabled) {
        http_respond_error(c->r, GW_ENOTFOUND, "SAML single sign-on is not configured");
        return;
    }
    char *xml = auth_saml_sp_metadata(api_idp_tenant(c));
    http_respond(c->r, 200, "application/samlmetadata+xml", xml, strlen(xml), NULL);
    free(xml);
}

void api_saml_acs(struct api_call *c)
{
    if (!saml_ready(c, "auth.login.failed"))
        return;
    char msg[512];
    json_t *claims = NULL;
    const char *return_to = NULL;
    gw_err rc = auth_saml_finish(c->d->sso, c->gc.cfg, api_idp_tenant(c),
                                 form_value(c, "SAMLResponse"), form_value(c, "RelayState"),
                                 api_sso_binding(c), c->r->pool, &claims, &return_to, msg,
                                 sizeof(msg));
    if (rc != GW_OK) {
        api_sso_fail(c, "auth.login.failed", msg);
        json_object_set_new(c->gc.audit.details, "method", json_string("saml"));
        api_sso_page(c, rc == GW_EUNAUTH ? 401 : 503, "Sign-in failed", msg, NULL, NULL);
        return;
    }
    api_sso_complete(c, claims, "saml", return_to);
    json_decref(claims);
}

static void slo_job(struct http_req *r, void *arg)
{
    GW_UNUSED(r);
    api_saml_slo(arg);
}

/* The IdP's LogoutRequest ended the local sessions of its subject: audit, clear this browser's
 * cookies and send it back to the IdP with our LogoutResponse. */
static void idp_logout_done(struct api_call *c, const struct auth_saml_slo *out)
{
    c->gc.audit.type = "auth.logout";
    json_decref(c->gc.audit.details);
    c->gc.audit.details = json_pack("{s:s,s:s,s:I,s:s?}", "method", "saml_slo", "initiated_by",
                                    "idp", "sessions_ended", (json_int_t)out->sessions_ended,
                                    "user", out->user);
    const char *hdrs[] = {gw_pool_printf(c->r->pool, "Location: %s", out->redirect),
                          api_sso_clear_cookie(c, ""), api_sso_clear_cookie(c, "_csrf"), NULL};
    static const char body[] = "signed out\n";
    http_respond(c->r, 302, "text/plain", body, sizeof(body) - 1, hdrs);
}

void api_saml_slo(struct api_call *c)
{
    if (!http_on_worker(c->r)) { /* the store and lasso's signature checks */
        http_run_blocking(c->r, slo_job, c);
        return;
    }
    if (!saml_ready(c, "auth.logout.failed"))
        return;
    bool post = c->r->method == HTTP_POST;
    const char *req = post ? form_value(c, "SAMLRequest") : http_query(c->r, "SAMLRequest");
    const char *resp = post ? form_value(c, "SAMLResponse") : http_query(c->r, "SAMLResponse");
    if (!req == !resp) {
        api_sso_fail(c, "auth.logout.failed", "no SAMLRequest or SAMLResponse");
        api_sso_page(c, 400, "Sign-out failed",
                     "the request carries no (or more than one) SAML "
                     "logout message",
                     NULL, NULL);
        return;
    }
    /* HTTP-Redirect: lasso checks the signature over the exact query string */
    const char *message = post ? (req ? req : resp) : c->r->raw_query;
    struct auth_saml_slo out;
    char msg[300];
    gw_err rc = auth_saml_slo(c->d->sso, c->gc.cfg, api_idp_tenant(c), req != NULL, !post, message,
                              c->r->pool, &out, msg, sizeof(msg));
    if (rc != GW_OK) {
        api_sso_fail(c, "auth.logout.failed", msg);
        api_sso_page(c, rc == GW_EUNAUTH ? 400 : 503, "Sign-out failed", msg, NULL, NULL);
        return;
    }
    if (out.is_request) {
        idp_logout_done(c, &out);
        return;
    }
    c->gc.audit.type = "auth.logout.completed";
    json_decref(c->gc.audit.details);
    c->gc.audit.details = json_pack("{s:s,s:s,s:b}", "method", "saml_slo", "initiated_by", "sp",
                                    "complete", out.success);
    api_sso_page(c, 200, "Signed out",
                 out.success ? "You are signed out of the gateway and of the identity provider."
                             : "You are signed out of the gateway; the identity provider reported "
                               "that it could not end every session.",
                 NULL, NULL);
}

bool api_saml_logout(struct api_call *c, const char *secret, const char **url)
{
    *url = NULL;
    json_t *ident = secret ? auth_session_identity(c->d->sso, secret) : NULL;
    const char *idp = gw_json_str(ident, "idp");
    bool saml = idp && strcmp(idp, "saml") == 0;
    if (saml && api_idp_tenant(c)->sso->saml.enabled) {
        char msg[200];
        gw_err rc = auth_saml_logout_request(c->d->sso, c->gc.cfg, api_idp_tenant(c),
                                             json_object_get(ident, "saml"), c->r->pool, url, msg,
                                             sizeof(msg));
        if (rc != GW_OK && rc != GW_ENOTFOUND)
            gw_warn("sso: no SAML single logout for this session: %s", msg);
    }
    json_decref(ident);
    return saml;
}
