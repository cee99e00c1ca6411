/* SPDX-License-Identifier: MIT
 * auth_saml.c — the SAML 2.0 service provider, on lasso: SP metadata, AuthnRequests
 * (HTTP-Redirect), Responses (HTTP-POST to the ACS) and single logout in both directions.
 *
 * Lasso parses messages (no DTD, no network), checks XML signatures against the IdP
 * metadata's keys and builds and signs our messages. What lasso accepts but an SP must refuse
 * is checked in auth_saml_check.c, on our own parse of the same bytes (structure) and on the
 * assertion node whose signature was verified (everything else):
 *   - exactly one assertion per Response (no second, unsigned one: signature wrapping), no
 *     comments or processing instructions anywhere (comment injection), no duplicate IDs, no
 *     encrypted assertions;
 *   - the assertion itself must be signed by the IdP ("signed assertions required": a signed
 *     Response around an unsigned assertion is refused); a Response signature, when present,
 *     must verify too;
 *   - issuer, audience (sp_entity_id), bearer SubjectConfirmation (Recipient = acs_url,
 *     NotOnOrAfter, InResponseTo), Conditions NotBefore/NotOnOrAfter, each with clock_skew_s.
 * Here: InResponseTo must name an AuthnRequest we sent, from this browser, not used before (a
 * Response without it, IdP-initiated, only when sso.saml.allow_unsolicited), and the assertion
 * ID is recorded in the store until it expires, so a replay is refused.
 * Lasso is not documented as thread-safe: one server object per configuration snapshot and a
 * profile object per request, and every lasso call under one mutex (logins are rare). Lasso
 * gets no SP certificate (xmlsec leaks when lasso tries PEM text as a file name) and no signed
 * HTTP-Redirect message (auth_saml_check.c verifies those).
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/xml.h"
#include "config/config.h"
#include "store/store.h"

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <pthread.h>

#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define LOGIN_TTL_MS (10 * 60 * 1000)
#define MAX_RELAY_STATE 80 /* saml-bindings 3.4.3 */

struct auth_saml {
    pthread_mutex_t mu;    /* every lasso call */
    struct cfg *cfg;       /* the snapshot the servers were built for (ref held) */
    LassoServer **servers; /* one per tenant of that snapshot (by index), built on demand */
    size_t n_servers;
};

/* --- lasso, once per process ---------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

/* Lasso's messages may quote message content: debug level only. */
static void lasso_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
                      gpointer data)
{
    GW_UNUSED(domain);
    GW_UNUSED(level);
    GW_UNUSED(data);
    gw_debug("saml: lasso: %.300s", message);
}

static void lasso_setup(void)
{
    init_rc = lasso_init();
    g_log_set_handler("Lasso",
                      (GLogLevelFlags)(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                      lasso_log, NULL);
}

void auth_saml_prepare(const struct cfg *c)
{
    bool saml = false;
    for (size_t i = 0; i < c->n_tenants && !saml; i++)
        saml = c->tenants[i].sso->saml.enabled;
    if (!saml)
        return;
    pthread_once(&init_once, lasso_setup);
    if (init_rc != 0)
        gw_error("saml: lasso_init failed (%d): SAML logins will fail", init_rc);
}

struct auth_saml *auth_saml_new(void)
{
    struct auth_saml *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void drop_servers(struct auth_saml *s)
{
    for (size_t i = 0; i < s->n_servers; i++)
        if (s->servers[i])
            g_object_unref(s->servers[i]);
    free(s->servers);
    s->servers = NULL;
    s->n_servers = 0;
    cfg_unref(s->cfg);
    s->cfg = NULL;
}

void auth_saml_free(struct auth_saml *s)
{
    if (!s)
        return;
    drop_servers(s);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* --- SP metadata --------------------------------------------------------------------------- */

static void xml_escape(struct gw_buf *b, const char *s)
{
    for (; *s; s++) {
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
        default:
            gw_buf_append(b, s, 1);
        }
    }
}

static void xml_attr(struct gw_buf *b, const char *name, const char *value)
{
    gw_buf_puts(b, " ");
    gw_buf_puts(b, name);
    gw_buf_puts(b, "=\"");
    xml_escape(b, value);
    gw_buf_puts(b, "\"");
}

/* The base64 body of the first PEM certificate (no header, no whitespace). */
static void cert_body(struct gw_buf *b, const char *pem)
{
    const char *p = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *end = p ? strstr(p, "-----END CERTIFICATE-----") : NULL;
    if (!end)
        return;
    for (p += 27; p < end; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
            gw_buf_append(b, p, 1);
}

char *auth_saml_sp_metadata(const struct cfg_tenant *t)
{
    static const char redirect[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    static const char post[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    const struct cfg_saml *s = &t->sso->saml;
    struct gw_buf b;
    gw_buf_init(&b, 256 * 1024);
    gw_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor"
                    " xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\""
                    " xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"");
    xml_attr(&b, "entityID", s->sp_entity_id);
    gw_buf_puts(&b, ">\n <md:SPSSODescriptor");
    xml_attr(&b, "AuthnRequestsSigned", s->sign_authn_requests ? "true" : "false");
    xml_attr(&b, "WantAssertionsSigned", "true");
    xml_attr(&b, "protocolSupportEnumeration", NS_SAMLP);
    gw_buf_puts(&b, ">\n  <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>"
                    "<ds:X509Certificate>");
    cert_body(&b, s->sp_cert_pem);
    gw_buf_puts(&b, "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n");
    for (size_t i = 0; s->slo_url && i < 2; i++) {
        gw_buf_puts(&b, "  <md:SingleLogoutService");
        xml_attr(&b, "Binding", i == 0 ? redirect : post);
        xml_attr(&b, "Location", s->slo_url);
        gw_buf_puts(&b, "/>\n");
    }
    gw_buf_puts(&b, "  <md:NameIDFormat>");
    xml_escape(&b, s->name_id_format);
    gw_buf_puts(&b, "</md:NameIDFormat>\n  <md:AssertionConsumerService index=\"0\" "
                    "isDefault=\"true\"");
    xml_attr(&b, "Binding", post);
    xml_attr(&b, "Location", s->acs_url);
    gw_buf_puts(&b, "/>\n </md:SPSSODescriptor>\n</md:EntityDescriptor>\n");
    char *out = gw_xstrndup(b.data ? b.data : "", b.len);
    gw_buf_release(&b);
    return out;
}

/* --- the lasso server of a configuration (s->mu held) ------------------------------------ */

static LassoServer *server_for(struct auth_saml *s, const struct cfg *c, const struct cfg_tenant *t,
                               char *msg, size_t msgcap)
{
    if (s->cfg != c) {
        drop_servers(s);
        /* a reference keeps the snapshot (and so this pointer) from being reused; its
         * refcount is the only part of a snapshot that ever changes */
        s->cfg = cfg_ref((struct cfg *)c);
        s->n_servers = c->n_tenants;
        s->servers = gw_xcalloc(c->n_tenants, sizeof(*s->servers));
    }
    size_t ti = (size_t)(t - c->tenants);
    if (s->servers[ti])
        return s->servers[ti];
    const struct cfg_saml *sc = &t->sso->saml;
    char *md = auth_saml_sp_metadata(t);
    /* No certificate for lasso: it would attach it to each signature by trying it as a file
     * name first, which leaks in xmlsec 1.2.37 when it is PEM text; our messages are all
     * redirect-binding (detached signatures without KeyInfo) and the IdP verifies them with
     * the certificate of our metadata anyway. */
    LassoServer *srv = lasso_server_new_from_buffers(md, sc->sp_key_pem, NULL, NULL);
    free(md);
    if (!srv) {
        snprintf(msg, msgcap,
                 "the SAML service provider cannot be set up (SP key or metadata "
                 "refused by lasso)");
        return NULL;
    }
    srv->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    int rc = lasso_server_add_provider_from_buffer(srv, LASSO_PROVIDER_ROLE_IDP, sc->idp_metadata,
                                                   NULL, NULL);
    if (rc != 0 || !lasso_server_get_provider(srv, sc->idp_entity_id)) {
        snprintf(msg, msgcap, "the IdP metadata (sso.saml.idp_metadata) is refused by lasso: %s",
                 rc ? lasso_strerror(rc) : "entity not found");
        g_object_unref(srv);
        return NULL;
    }
    s->servers[ti] = srv;
    return srv;
}

/* --- helpers ---------------------------------------------------------------------------- */

static void random_b64(char out[48])
{
    unsigned char raw[32];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), out);
}

/* The key of a login state: a SAML request id never collides with an OIDC state. */
static void state_hash(const char *request_id, char out[65])
{
    char *k = gw_xasprintf("saml:%s", request_id);
    gw_sha256_hex(k, strlen(k), out);
    free(k);
}

/* --- the login ---------------------------------------------------------------------------- */

gw_err auth_saml_begin(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                       const char *binding, const char *return_to, struct gw_pool *pool,
                       const char **url, char *msg, size_t msgcap)
{
    struct auth_saml *s = sso->saml;
    struct store *st = sso->store;
    const struct cfg_saml *sc = &t->sso->saml;
    char relay[48], request_id[AUTH_SAML_MAX_ID + 1] = "";
    random_b64(relay);
    gw_err rc = GW_OK;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, t, msg, msgcap);
    LassoLogin *login = srv ? lasso_login_new(srv) : NULL;
    if (!login) {
        rc = GW_EINTERNAL;
        goto out;
    }
    LassoProfile *prof = LASSO_PROFILE(login);
    int lrc = lasso_login_init_authn_request(login, sc->idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
    if (lrc == 0) {
        LassoSamlp2AuthnRequest *req = LASSO_SAMLP2_AUTHN_REQUEST(prof->request);
        g_free(req->NameIDPolicy->Format);
        req->NameIDPolicy->Format = g_strdup(sc->name_id_format);
        g_free(req->NameIDPolicy->SPNameQualifier);
        req->NameIDPolicy->SPNameQualifier = NULL;
        req->NameIDPolicy->AllowCreate = TRUE;
        g_free(req->ProtocolBinding);
        req->ProtocolBinding = g_strdup(LASSO_SAML2_METADATA_BINDING_POST);
        lasso_profile_set_signature_hint(prof, sc->sign_authn_requests
                                                   ? LASSO_PROFILE_SIGNATURE_HINT_FORCE
                                                   : LASSO_PROFILE_SIGNATURE_HINT_FORBID);
        g_free(prof->msg_relayState);
        prof->msg_relayState = g_strdup(relay);
        lrc = lasso_login_build_authn_request_msg(login);
        snprintf(request_id, sizeof(request_id), "%s",
                 LASSO_SAMLP2_REQUEST_ABSTRACT(req)->ID ? LASSO_SAMLP2_REQUEST_ABSTRACT(req)->ID
                                                        : "");
    }
    if (lrc != 0 || !prof->msg_url || !request_id[0]) {
        snprintf(msg, msgcap, "cannot build the SAML AuthnRequest: %s",
                 lrc ? lasso_strerror(lrc) : "no SingleSignOnService URL");
        rc = GW_EINTERNAL;
        goto out;
    }
    *url = gw_pool_strdup(pool, prof->msg_url);
out:
    if (login)
        g_object_unref(login);
    pthread_mutex_unlock(&s->mu);
    if (rc != GW_OK)
        return rc;
    char sh[65], bh[65];
    state_hash(request_id, sh);
    gw_sha256_hex(binding, strlen(binding), bh);
    int64_t now = gw_now_ms();
    struct store_login_state ls = {
        .state_hash = sh,
        .tenant = t->id,
        .binding_hash = bh,
        .nonce = relay,
        .return_to = (char *)return_to,
        .created_ms = now,
        .expires_ms = now + LOGIN_TTL_MS,
    };
    rc = store_login_state_insert(st, &ls);
    if (rc != GW_OK)
        snprintf(msg, msgcap, "cannot record the login request");
    return rc;
}

/* --- the ACS --------------------------------------------------------------------------------- */

static const char *signature_reason(int lrc)
{
    switch (lrc) {
    case LASSO_DS_ERROR_SIGNATURE_NOT_FOUND:
        return "the SAML Response is not signed: signed assertions are required";
    case LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND:
        return "the SAML Response was issued by an unknown identity provider (issuer is not "
               "the configured IdP)";
    case LASSO_LOGIN_ERROR_STATUS_NOT_SUCCESS:
    case LASSO_LOGIN_ERROR_REQUEST_DENIED:
        return "the identity provider refused the login";
    default:
        return NULL;
    }
}

/* Lasso's processing and both signature checks, then our checks on the verified assertion
 * node; *ai is filled on success. s->mu held. */
static gw_err verify_locked(struct auth_saml *s, const struct cfg *c, const struct cfg_tenant *t,
                            const char *b64, const struct auth_saml_response *ri,
                            const struct auth_saml_expect *e, struct auth_saml_assertion *ai,
                            char *msg, size_t msgcap)
{
    LassoServer *srv = server_for(s, c, t, msg, msgcap);
    if (!srv)
        return GW_EINTERNAL;
    LassoLogin *login = lasso_login_new(srv);
    LassoProfile *prof = LASSO_PROFILE(login);
    /* MAYBE, not FORCE: FORCE also demands a Response signature, which a valid Response with
     * only a signed assertion lacks. Lasso then verifies what is signed and fails when nothing
     * is; the two checks below make the assertion's signature mandatory and a Response
     * signature, when there is one, binding. */
    lasso_profile_set_signature_verify_hint(prof, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
    gw_err rc = GW_EUNAUTH;
    int lrc = lasso_login_process_authn_response_msg(login, (gchar *)b64);
    LassoProvider *idp = lasso_server_get_provider(srv, t->sso->saml.idp_entity_id);
    LassoSamlp2Response *resp = LASSO_IS_SAMLP2_RESPONSE(prof->response)
                                    ? LASSO_SAMLP2_RESPONSE(prof->response)
                                    : NULL;
    LassoNode *assertion = resp && resp->Assertion && !resp->Assertion->next
                               ? LASSO_NODE(resp->Assertion->data)
                               : NULL;
    const char *why = signature_reason(lrc);
    if (lrc != 0) {
        snprintf(msg, msgcap, "%s",
                 why ? why
                     : "the SAML Response signature does not verify "
                       "(tampered, or signed by a key the IdP metadata does not list)");
        if (!why)
            gw_debug("saml: response refused by lasso: %s", lasso_strerror(lrc));
    } else if (!assertion || !LASSO_IS_SAML2_ASSERTION(assertion)) {
        snprintf(msg, msgcap, "the SAML Response carries no single assertion");
    } else if (lasso_provider_verify_single_node_signature(idp, assertion, "ID") != 0) {
        snprintf(msg, msgcap,
                 "the assertion is not signed by the IdP: signed assertions are "
                 "required");
    } else if (ri->signed_ &&
               lasso_provider_verify_signature(idp, b64, "ID", LASSO_MESSAGE_FORMAT_BASE64) != 0) {
        snprintf(msg, msgcap, "the SAML Response signature does not verify");
    } else {
        xmlNode *node = lasso_node_get_original_xmlnode(assertion);
        rc = node ? auth_saml_assertion_ok(node, e, ai, msg, msgcap) : GW_EUNAUTH;
        if (!node)
            snprintf(msg, msgcap, "the verified assertion is not available");
    }
    g_object_unref(login);
    return rc;
}

/* InResponseTo → our AuthnRequest (single use, same browser, same RelayState). */
static gw_err solicited(const struct cfg_tenant *t, struct store *st, const char *irt,
                        const char *relay_state, const char *binding, struct gw_pool *pool,
                        const char **return_to, char *msg, size_t msgcap)
{
    char sh[65], bh[65];
    state_hash(irt, sh);
    struct store_login_state ls;
    gw_err rc = store_login_state_consume(st, sh, gw_now_ms(), &ls);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap,
                 "the SAML Response answers a request this gateway did not send "
                 "(InResponseTo unknown, expired or already used): start the login again");
        return GW_EUNAUTH;
    }
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "cannot read the login request");
        return rc;
    }
    if (binding)
        gw_sha256_hex(binding, strlen(binding), bh);
    size_t rl = relay_state ? strlen(relay_state) : 0;
    if (strcmp(ls.tenant, t->id) != 0 || !binding || !gw_ct_equal(ls.binding_hash, bh, 64)) {
        snprintf(msg, msgcap,
                 "this login was started in another browser (the SAML request is "
                 "not bound to this browser's pre-login cookie)");
        rc = GW_EUNAUTH;
    } else if (!ls.nonce || rl != strlen(ls.nonce) || !gw_ct_equal(ls.nonce, relay_state, rl)) {
        snprintf(msg, msgcap, "the RelayState does not match the login request");
        rc = GW_EUNAUTH;
    } else if (ls.return_to) {
        *return_to = gw_pool_strdup(pool, ls.return_to);
    }
    store_login_state_release(&ls);
    return rc;
}

gw_err auth_saml_finish(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                        const char *saml_response, const char *relay_state, const char *binding,
                        struct gw_pool *pool, json_t **claims, const char **return_to, char *msg,
                        size_t msgcap)
{
    struct auth_saml *s = sso->saml;
    struct store *st = sso->store;
    const struct cfg_saml *sc = &t->sso->saml;
    *claims = NULL;
    *return_to = NULL;
    size_t b64len = saml_response ? strlen(saml_response) : 0;
    if (b64len == 0 || b64len > AUTH_SAML_MAX_MESSAGE) {
        snprintf(msg, msgcap,
                 b64len ? "SAMLResponse is larger than %zu bytes"
                        : "the request carries no SAMLResponse",
                 AUTH_SAML_MAX_MESSAGE);
        return GW_EUNAUTH;
    }
    if (relay_state && strlen(relay_state) > MAX_RELAY_STATE) {
        snprintf(msg, msgcap, "RelayState is longer than %d bytes", MAX_RELAY_STATE);
        return GW_EUNAUTH;
    }
    size_t cap = b64len / 4 * 3 + 3, len = 0;
    unsigned char *raw = gw_xmalloc(cap + 1);
    xmlDoc *doc = NULL;
    struct auth_saml_response ri;
    struct auth_saml_assertion ai = {0};
    struct auth_saml_expect e = {
        .idp = sc->idp_entity_id,
        .audience = sc->sp_entity_id,
        .recipient = sc->acs_url,
        .now_ms = gw_now_ms(),
        .skew_s = sc->clock_skew_s,
    };
    gw_err rc = GW_EUNAUTH;
    if (!gw_b64_decode(saml_response, b64len, raw, cap, &len)) {
        snprintf(msg, msgcap, "SAMLResponse is not base64");
        goto out;
    }
    raw[len] = '\0';
    if (!(doc = gw_xml_parse((const char *)raw, len, msg, msgcap)) ||
        !auth_saml_response_ok(doc, &ri, msg, msgcap))
        goto out;
    pthread_mutex_lock(&s->mu);
    rc = verify_locked(s, c, t, saml_response, &ri, &e, &ai, msg, msgcap);
    pthread_mutex_unlock(&s->mu);
    if (rc != GW_OK || !auth_saml_envelope_agrees(&ri, &ai, &e, msg, msgcap)) {
        rc = rc == GW_OK ? GW_EUNAUTH : rc;
        goto out;
    }
    if (!ai.in_response_to && !sc->allow_unsolicited) {
        snprintf(msg, msgcap,
                 "unsolicited SAML Response (no InResponseTo) refused: "
                 "sso.saml.allow_unsolicited is off");
        rc = GW_EUNAUTH;
        goto out;
    }
    /* replay before the request check: a replayed assertion is reported as such */
    char *key = gw_xasprintf("%s\n%s", sc->idp_entity_id, ai.id);
    char kh[65];
    gw_sha256_hex(key, strlen(key), kh);
    free(key);
    rc = store_saml_assertion_use(st, t->id, kh, ai.expires_ms);
    if (rc == GW_ECONFLICT) {
        snprintf(msg, msgcap, "this SAML assertion was already used (replay refused)");
        rc = GW_EUNAUTH;
        goto out;
    }
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "cannot record the assertion id");
        goto out;
    }
    if (ai.in_response_to) {
        rc = solicited(t, st, ai.in_response_to, relay_state, binding, pool, return_to, msg,
                       msgcap);
        if (rc != GW_OK)
            goto out;
    }
    *claims = json_incref(ai.claims);
out:
    auth_saml_assertion_release(&ai);
    if (doc)
        xmlFreeDoc(doc);
    free(raw);
    return rc;
}

/* --- single logout --------------------------------------------------------------------------- */

/* A lasso session holding one assertion about the subject with this SessionIndex: what lasso
 * needs to build a LogoutRequest, or to accept one, for a subject we keep in our own store. */
static void set_subject_session(LassoProfile *prof, const char *idp, const char *name_id,
                                const char *format, const char *nq, const char *spnq,
                                const char *session_index)
{
    LassoSaml2Assertion *a = LASSO_SAML2_ASSERTION(lasso_saml2_assertion_new());
    char id[48];
    random_b64(id);
    a->ID = g_strdup_printf("_%s", id);
    a->Subject = LASSO_SAML2_SUBJECT(lasso_saml2_subject_new());
    LassoSaml2NameID *nid = LASSO_SAML2_NAME_ID(
        lasso_saml2_name_id_new_with_string((char *)name_id));
    nid->Format = format ? g_strdup(format) : NULL;
    nid->NameQualifier = nq ? g_strdup(nq) : NULL;
    nid->SPNameQualifier = spnq ? g_strdup(spnq) : NULL;
    a->Subject->NameID = nid;
    if (session_index) {
        LassoSaml2AuthnStatement *as = LASSO_SAML2_AUTHN_STATEMENT(
            lasso_saml2_authn_statement_new());
        as->SessionIndex = g_strdup(session_index);
        a->AuthnStatement = g_list_append(NULL, as);
    }
    LassoSession *sess = lasso_session_new();
    lasso_session_add_assertion(sess, idp, LASSO_NODE(a));
    gchar *dump = lasso_session_dump(sess);
    lasso_profile_set_session_from_dump(prof, dump);
    g_free(dump);
    g_object_unref(sess);
    g_object_unref(a);
}

gw_err auth_saml_logout_request(struct auth_sso *sso, const struct cfg *c,
                                const struct cfg_tenant *t, const json_t *subject,
                                struct gw_pool *pool, const char **url, char *msg, size_t msgcap)
{
    struct auth_saml *s = sso->saml;
    const char *name_id = gw_json_str(subject, "name_id");
    if (!name_id) {
        snprintf(msg, msgcap, "the session has no SAML subject");
        return GW_ENOTFOUND;
    }
    gw_err rc = GW_OK;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, t, msg, msgcap);
    LassoLogout *lo = srv ? lasso_logout_new(srv) : NULL;
    LassoProvider *idp = srv ? lasso_server_get_provider(srv, t->sso->saml.idp_entity_id) : NULL;
    gchar *slo = idp ? lasso_provider_get_metadata_one(idp, "SingleLogoutService HTTP-Redirect")
                     : NULL;
    if (!lo || !slo) {
        if (lo)
            snprintf(msg, msgcap, "the IdP has no HTTP-Redirect SingleLogoutService");
        rc = lo ? GW_ENOTFOUND : GW_EINTERNAL;
        goto out;
    }
    LassoProfile *prof = LASSO_PROFILE(lo);
    set_subject_session(prof, t->sso->saml.idp_entity_id, name_id, gw_json_str(subject, "format"),
                        gw_json_str(subject, "name_qualifier"),
                        gw_json_str(subject, "sp_name_qualifier"),
                        gw_json_str(subject, "session_index"));
    lasso_profile_set_signature_hint(prof, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
    int lrc = lasso_logout_init_request(lo, t->sso->saml.idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
    if (lrc == 0)
        lrc = lasso_logout_build_request_msg(lo);
    if (lrc != 0 || !prof->msg_url) {
        snprintf(msg, msgcap, "cannot build the SAML LogoutRequest: %s",
                 lrc ? lasso_strerror(lrc) : "no URL");
        rc = GW_EINTERNAL;
        goto out;
    }
    *url = gw_pool_strdup(pool, prof->msg_url);
out:
    g_free(slo);
    if (lo)
        g_object_unref(lo);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* An IdP-initiated LogoutRequest (signed, from the IdP): ends the sessions of its NameID
 * (and SessionIndex), then answers with a signed LogoutResponse. s->mu held. */
static gw_err logout_request_locked(LassoLogout *lo, const struct cfg_tenant *t, struct store *st,
                                    struct gw_pool *pool, struct auth_saml_slo *out, char *msg,
                                    size_t msgcap)
{
    LassoProfile *prof = LASSO_PROFILE(lo);
    LassoSamlp2LogoutRequest *req = LASSO_IS_SAMLP2_LOGOUT_REQUEST(prof->request)
                                        ? LASSO_SAMLP2_LOGOUT_REQUEST(prof->request)
                                        : NULL;
    LassoSaml2NameID *nid = req ? req->NameID : NULL;
    const char *dest = req ? LASSO_SAMLP2_REQUEST_ABSTRACT(req)->Destination : NULL;
    int64_t until = 0;
    if (!nid || !auth_text_ok(nid->content, AUTH_SAML_MAX_NAME_ID)) {
        snprintf(msg, msgcap, "the LogoutRequest has no usable NameID");
        return GW_EUNAUTH;
    }
    if (dest && (!t->sso->saml.slo_url || strcmp(dest, t->sso->saml.slo_url) != 0)) {
        snprintf(msg, msgcap,
                 "the LogoutRequest is for another destination (not "
                 "sso.saml.slo_url)");
        return GW_EUNAUTH;
    }
    if (req->NotOnOrAfter && (!gw_time_parse(req->NotOnOrAfter, &until) ||
                              until + (int64_t)t->sso->saml.clock_skew_s * 1000 <= gw_now_ms())) {
        snprintf(msg, msgcap, "the LogoutRequest has expired");
        return GW_EUNAUTH;
    }
    out->name_id = gw_pool_strdup(pool, nid->content);
    /* without SessionIndex: every session of the subject; else those of the indexes named */
    GList *indexes = lasso_samlp2_logout_request_get_session_indexes(req);
    GList none = {.data = NULL};
    gw_err rc = GW_OK;
    char *user = NULL;
    for (GList *i = indexes ? indexes : &none; i && rc == GW_OK; i = i->next) {
        size_t n = 0;
        rc = store_session_delete_saml(st, t->id, nid->content, i->data, &n, user ? NULL : &user);
        out->sessions_ended += n;
    }
    if (user)
        out->user = gw_pool_strdup(pool, user);
    free(user);
    if (rc != GW_OK) {
        g_list_free_full(indexes, g_free);
        snprintf(msg, msgcap, "the sessions could not be ended (store unavailable)");
        return rc;
    }
    /* the subject as asked: whether it had sessions here or not, it has none now */
    set_subject_session(prof, t->sso->saml.idp_entity_id, nid->content, nid->Format,
                        nid->NameQualifier, nid->SPNameQualifier, indexes ? indexes->data : NULL);
    g_list_free_full(indexes, g_free);
    lasso_profile_set_signature_hint(prof, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
    int lrc = lasso_logout_validate_request(lo);
    if (lrc != 0)
        gw_debug("saml: LogoutRequest validation: %s", lasso_strerror(lrc));
    /* the answer always goes back with the HTTP-Redirect binding (a POST one would need an
     * auto-submitting page, which our Content-Security-Policy forbids) */
    lo->initial_http_request_method = LASSO_HTTP_METHOD_REDIRECT;
    lrc = lasso_logout_build_response_msg(lo);
    if (lrc != 0 || !prof->msg_url) {
        snprintf(msg, msgcap, "cannot build the SAML LogoutResponse: %s",
                 lrc ? lasso_strerror(lrc) : "no URL");
        return GW_EINTERNAL;
    }
    out->redirect = gw_pool_strdup(pool, prof->msg_url);
    return GW_OK;
}

gw_err auth_saml_slo(struct auth_sso *sso, const struct cfg *c, const struct cfg_tenant *t,
                     bool request, bool redirect, const char *message, struct gw_pool *pool,
                     struct auth_saml_slo *out, char *msg, size_t msgcap)
{
    struct auth_saml *s = sso->saml;
    struct store *st = sso->store;
    memset(out, 0, sizeof(*out));
    out->is_request = request;
    const char *what = request ? "request" : "response";
    if (!message || !message[0] || strlen(message) > AUTH_SAML_MAX_MESSAGE) {
        snprintf(msg, msgcap, "the SAML logout message is missing or larger than %zu bytes",
                 AUTH_SAML_MAX_MESSAGE);
        return GW_EUNAUTH;
    }
    char why[160], *unsigned_query = NULL;
    if (redirect && !auth_saml_redirect_signature_ok(&t->sso->saml, message,
                                                     request ? "SAMLRequest" : "SAMLResponse",
                                                     &unsigned_query, why, sizeof(why))) {
        snprintf(msg, msgcap, "the SAML logout %s is refused: %s", what, why);
        return GW_EUNAUTH;
    }
    gw_err rc = GW_EUNAUTH;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, t, msg, msgcap);
    LassoLogout *lo = srv ? lasso_logout_new(srv) : NULL;
    if (!lo) {
        rc = GW_EINTERNAL;
        goto out;
    }
    LassoProfile *prof = LASSO_PROFILE(lo);
    /* a redirect message arrives here verified and without its signature */
    lasso_profile_set_signature_verify_hint(prof, redirect
                                                      ? LASSO_PROFILE_SIGNATURE_VERIFY_HINT_IGNORE
                                                      : LASSO_PROFILE_SIGNATURE_VERIFY_HINT_FORCE);
    gchar *m = redirect ? unsigned_query : (gchar *)message;
    int lrc = request ? lasso_logout_process_request_msg(lo, m)
                      : lasso_logout_process_response_msg(lo, m);
    bool from_idp = prof->remote_providerID &&
                    strcmp(prof->remote_providerID, t->sso->saml.idp_entity_id) == 0;
    if (request && lrc == 0 && from_idp) {
        rc = logout_request_locked(lo, t, st, pool, out, msg, msgcap);
    } else if (!request && from_idp &&
               (lrc == 0 || lrc == LASSO_LOGOUT_ERROR_PARTIAL_LOGOUT ||
                lrc == LASSO_LOGOUT_ERROR_REQUEST_DENIED ||
                lrc == LASSO_LOGOUT_ERROR_UNKNOWN_PRINCIPAL)) {
        out->success = lrc == 0;
        rc = GW_OK;
    } else {
        snprintf(msg, msgcap, "the SAML logout %s is refused: %s", what,
                 lrc == LASSO_DS_ERROR_SIGNATURE_NOT_FOUND ? "it is not signed"
                 : lrc == 0 || lrc == LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND
                     ? "it does not come from the configured IdP"
                     : "its signature does not verify or it is malformed");
        gw_debug("saml: logout message refused: %s", lasso_strerror(lrc));
    }
out:
    if (lo)
        g_object_unref(lo);
    pthread_mutex_unlock(&s->mu);
    free(unsigned_query);
    return rc;
}
