/* SPDX-License-Identifier: MIT
 * auth_saml.c — the SAML 2.0 service provider, on lasso: SP metadata, AuthnRequests
 * (HTTP-Redirect), Responses (HTTP-POST to the ACS) and single logout in both directions.
 *
 * Lasso parses messages (no DTD, no network), checks their signatures against the IdP
 * metadata's keys and builds and signs our requests. Everything else is checked here, on the
 * assertion node whose signature was verified, because lasso accepts what an SP must refuse:
 *   - exactly one assertion per Response (no second, unsigned one: signature wrapping), no
 *     comments or processing instructions anywhere (comment injection), no duplicate IDs, no
 *     encrypted assertions;
 *   - the assertion itself must be signed by the IdP ("signed assertions required": a signed
 *     Response around an unsigned assertion is refused); a Response signature, when present,
 *     must verify too;
 *   - issuer, audience (sp_entity_id), bearer SubjectConfirmation (Recipient = acs_url,
 *     NotOnOrAfter, InResponseTo), Conditions NotBefore/NotOnOrAfter, each with clock_skew_s;
 *   - InResponseTo names an AuthnRequest we sent, from this browser, not used before; a
 *     Response without it (IdP-initiated) only when sso.saml.allow_unsolicited;
 *   - the assertion ID is recorded in the store until it expires: a replay is refused.
 * Lasso is not documented as thread-safe: one server object per configuration snapshot and a
 * profile object per request, and every lasso call under one mutex (logins are rare).
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
#include "http/http.h"
#include "store/store.h"

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>

#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define LOGIN_TTL_MS (10 * 60 * 1000)
#define MAX_NODES 20000          /* elements, text and the rest in one Response */
#define MAX_ID_LEN 256
#define MAX_NAME_ID_LEN 256
#define MAX_ATTRIBUTES 128
#define MAX_VALUES 256           /* per attribute */
#define MAX_VALUE_LEN 1024
#define MAX_RELAY_STATE 80       /* saml-bindings 3.4.3 */

struct auth_saml {
    pthread_mutex_t mu;   /* every lasso call */
    struct cfg *cfg;      /* the snapshot the server was built for (ref held) */
    LassoServer *server;
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
    g_log_set_handler("Lasso", (GLogLevelFlags)(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                                                G_LOG_FLAG_RECURSION), lasso_log, NULL);
}

struct auth_saml *auth_saml_new(void)
{
    pthread_once(&init_once, lasso_setup);
    if (init_rc != 0)
        gw_error("saml: lasso_init failed (%d): SAML logins will fail", init_rc);
    struct auth_saml *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void auth_saml_free(struct auth_saml *s)
{
    if (!s)
        return;
    if (s->server)
        g_object_unref(s->server);
    cfg_unref(s->cfg);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* --- SP metadata --------------------------------------------------------------------------- */

static void xml_escape(struct gw_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': gw_buf_puts(b, "&lt;"); break;
        case '>': gw_buf_puts(b, "&gt;"); break;
        case '&': gw_buf_puts(b, "&amp;"); break;
        case '"': gw_buf_puts(b, "&quot;"); break;
        default: gw_buf_append(b, s, 1);
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

char *auth_saml_sp_metadata(const struct cfg *c)
{
    static const char redirect[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    static const char post[] = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    const struct cfg_saml *s = &c->sso.saml;
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

static LassoServer *server_for(struct auth_saml *s, const struct cfg *c, char *msg,
                               size_t msgcap)
{
    if (s->server && s->cfg == c)
        return s->server;
    const struct cfg_saml *sc = &c->sso.saml;
    char *md = auth_saml_sp_metadata(c);
    /* No certificate for lasso: it would attach it to each signature by trying it as a file
     * name first, which leaks in xmlsec 1.2.37 when it is PEM text; our messages are all
     * redirect-binding (detached signatures without KeyInfo) and the IdP verifies them with
     * the certificate of our metadata anyway. */
    LassoServer *srv = lasso_server_new_from_buffers(md, sc->sp_key_pem, NULL, NULL);
    free(md);
    if (!srv) {
        snprintf(msg, msgcap, "the SAML service provider cannot be set up (SP key, certificate "
                 "or metadata refused by lasso)");
        return NULL;
    }
    srv->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    int rc = lasso_server_add_provider_from_buffer(srv, LASSO_PROVIDER_ROLE_IDP,
                                                   sc->idp_metadata, NULL, NULL);
    if (rc != 0 || !lasso_server_get_provider(srv, sc->idp_entity_id)) {
        snprintf(msg, msgcap, "the IdP metadata (sso.saml.idp_metadata) is refused by lasso: %s",
                 rc ? lasso_strerror(rc) : "entity not found");
        g_object_unref(srv);
        return NULL;
    }
    if (s->server)
        g_object_unref(s->server);
    cfg_unref(s->cfg);
    s->server = srv;
    /* a reference keeps the snapshot (and so this pointer) from being reused; its refcount is
     * the only part of a snapshot that ever changes */
    s->cfg = cfg_ref((struct cfg *)c);
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

/* Times are xs:dateTime in UTC; a missing or malformed one fails. */
static bool saml_time(const xmlNode *n, const char *attr, int64_t *ms)
{
    const char *v = gw_xml_attr(n, attr);
    return v && gw_time_parse(v, ms);
}

/* --- the login ---------------------------------------------------------------------------- */

gw_err auth_saml_begin(struct auth_saml *s, const struct cfg *c, struct store *st,
                       const char *binding, const char *return_to, struct gw_pool *pool,
                       const char **url, char *msg, size_t msgcap)
{
    const struct cfg_saml *sc = &c->sso.saml;
    char relay[48], request_id[MAX_ID_LEN + 1] = "";
    random_b64(relay);
    gw_err rc = GW_OK;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, msg, msgcap);
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
        .state_hash = sh, .tenant = c->tenant_id, .binding_hash = bh, .nonce = relay,
        .return_to = (char *)return_to, .created_ms = now, .expires_ms = now + LOGIN_TTL_MS,
    };
    rc = store_login_state_insert(st, &ls);
    if (rc != GW_OK)
        snprintf(msg, msgcap, "cannot record the login request");
    return rc;
}

/* --- the Response before lasso: structure -------------------------------------------------- */

struct response_info {
    bool signed_;                   /* a ds:Signature child of the Response */
    const char *destination;        /* borrowed from the document, may be NULL */
    const char *in_response_to;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Walks the whole document: no comment or processing instruction anywhere, at most one
 * Assertion and it a child of the Response, no EncryptedAssertion, no ID twice. */
static bool walk_ok(const xmlNode *root, size_t *assertions, char *msg, size_t msgcap)
{
    const char **ids = gw_xcalloc(MAX_NODES, sizeof(char *));
    size_t n_ids = 0, nodes = 0;
    bool ok = true;
    *assertions = 0;
    const xmlNode *n = root;
    while (n && ok) {
        if (++nodes > MAX_NODES) {
            snprintf(msg, msgcap, "the SAML Response is too complex (more than %d nodes)",
                     MAX_NODES);
            ok = false;
        } else if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE) {
            snprintf(msg, msgcap, "the SAML Response contains XML comments or processing "
                     "instructions (comment injection is refused)");
            ok = false;
        } else if (n->type == XML_ENTITY_REF_NODE || n->type == XML_DTD_NODE) {
            snprintf(msg, msgcap, "the SAML Response contains entity references");
            ok = false;
        } else if (gw_xml_is(n, NS_SAML, "EncryptedAssertion")) {
            snprintf(msg, msgcap, "encrypted assertions are not supported");
            ok = false;
        } else if (gw_xml_is(n, NS_SAML, "Assertion") && n->parent != root) {
            snprintf(msg, msgcap, "an assertion is nested inside another element (signature "
                     "wrapping is refused)");
            ok = false;
        } else if (n->type == XML_ELEMENT_NODE) {
            if (gw_xml_is(n, NS_SAML, "Assertion"))
                (*assertions)++;
            if (gw_xml_attr(n, "ID"))
                ids[n_ids++] = gw_xml_attr(n, "ID");
        }
        /* depth first, without recursion */
        if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            continue;
        }
        while (n && n != root && !n->next)
            n = n->parent;
        n = n && n != root ? n->next : NULL;
    }
    if (ok) {
        qsort(ids, n_ids, sizeof(char *), cmp_str);
        for (size_t i = 1; i < n_ids && ok; i++)
            if (strcmp(ids[i - 1], ids[i]) == 0) {
                snprintf(msg, msgcap, "the SAML Response uses the same ID twice (signature "
                         "wrapping is refused)");
                ok = false;
            }
    }
    free(ids);
    return ok;
}

/* The Response as a whole, from our own parse of the exact bytes lasso gets. */
static bool response_ok(xmlDoc *doc, struct response_info *ri, char *msg, size_t msgcap)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    memset(ri, 0, sizeof(*ri));
    if (!gw_xml_is(root, NS_SAMLP, "Response")) {
        snprintf(msg, msgcap, "the message is not a SAML 2.0 Response");
        return false;
    }
    xmlNode *code = gw_xml_child(gw_xml_child(root, NS_SAMLP, "Status"), NS_SAMLP, "StatusCode");
    const char *status = code ? gw_xml_attr(code, "Value") : NULL;
    if (!status || strcmp(status, STATUS_SUCCESS) != 0) {
        const char *sub = code ? gw_xml_attr(gw_xml_child(code, NS_SAMLP, "StatusCode"), "Value")
                               : NULL;
        const char *shown = sub ? sub : status ? status : "none";
        const char *tail = strrchr(shown, ':');
        snprintf(msg, msgcap, "the identity provider refused the login (status %.60s)",
                 tail ? tail + 1 : shown);
        return false;
    }
    size_t assertions = 0;
    if (!walk_ok(root, &assertions, msg, msgcap))
        return false;
    if (assertions != 1) {
        snprintf(msg, msgcap, assertions ? "the SAML Response carries %zu assertions (signature "
                                           "wrapping is refused: exactly one is accepted)"
                                         : "the SAML Response carries no assertion",
                 assertions);
        return false;
    }
    ri->signed_ = gw_xml_child(root, NS_DS, "Signature") != NULL;
    ri->destination = gw_xml_attr(root, "Destination");
    ri->in_response_to = gw_xml_attr(root, "InResponseTo");
    return true;
}

/* --- the verified assertion ---------------------------------------------------------------- */

struct assertion_info {
    char *id, *in_response_to;  /* malloc'd */
    int64_t expires_ms;         /* until when a replay must be recognized */
    json_t *claims;
};

static void assertion_info_release(struct assertion_info *a)
{
    free(a->id);
    free(a->in_response_to);
    json_decref(a->claims);
    memset(a, 0, sizeof(*a));
}

/* Text of the only child element ns:name; NULL (msg set) when absent, repeated or not text. */
static char *only_text(const xmlNode *parent, const char *name, size_t max, char *msg,
                       size_t msgcap)
{
    xmlNode *n = gw_xml_child(parent, NS_SAML, name);
    char *t = n && !gw_xml_next(n) ? gw_xml_text(n) : NULL;
    if (!t || !auth_text_ok(t, max)) {
        snprintf(msg, msgcap, "the assertion has no single, plain-text %s", name);
        free(t);
        return NULL;
    }
    return t;
}

static bool window_ok(const xmlNode *n, const char *what, int64_t now, int64_t skew,
                      bool need_end, int64_t *end, char *msg, size_t msgcap)
{
    int64_t t = 0;
    if (gw_xml_attr(n, "NotBefore") && (!saml_time(n, "NotBefore", &t) || now + skew < t)) {
        snprintf(msg, msgcap, "the assertion is not yet valid (%s NotBefore is in the future, "
                 "beyond the allowed clock skew)", what);
        return false;
    }
    if (!gw_xml_attr(n, "NotOnOrAfter")) {
        if (!need_end)
            return true;
        snprintf(msg, msgcap, "the assertion's %s has no NotOnOrAfter", what);
        return false;
    }
    if (!saml_time(n, "NotOnOrAfter", &t) || now - skew >= t) {
        snprintf(msg, msgcap, "the assertion has expired (%s NotOnOrAfter is in the past, beyond "
                 "the allowed clock skew)", what);
        return false;
    }
    *end = GW_MAX(*end, t + skew);
    return true;
}

/* The one bearer SubjectConfirmation: Recipient, validity window, InResponseTo. */
static bool subject_confirmation_ok(const xmlNode *subject, const struct auth_saml_expect *e,
                                    struct assertion_info *out, char *msg, size_t msgcap)
{
    const xmlNode *bearer = NULL;
    size_t n = 0;
    for (xmlNode *sc = gw_xml_child(subject, NS_SAML, "SubjectConfirmation"); sc;
         sc = gw_xml_next(sc)) {
        const char *m = gw_xml_attr(sc, "Method");
        if (m && strcmp(m, CM_BEARER) == 0) {
            bearer = sc;
            n++;
        }
    }
    if (n != 1) {
        snprintf(msg, msgcap, "the assertion must have exactly one bearer SubjectConfirmation "
                 "(it has %zu)", n);
        return false;
    }
    xmlNode *d = gw_xml_child(bearer, NS_SAML, "SubjectConfirmationData");
    const char *recipient = d ? gw_xml_attr(d, "Recipient") : NULL;
    if (!recipient || strcmp(recipient, e->recipient) != 0) {
        snprintf(msg, msgcap, "the assertion is for another recipient (SubjectConfirmationData "
                 "Recipient is not sso.saml.acs_url)");
        return false;
    }
    int64_t skew = (int64_t)e->skew_s * 1000;
    if (!window_ok(d, "SubjectConfirmationData", e->now_ms, skew, true, &out->expires_ms, msg,
                   msgcap))
        return false;
    const char *irt = gw_xml_attr(d, "InResponseTo");
    if (irt && !auth_text_ok(irt, MAX_ID_LEN)) {
        snprintf(msg, msgcap, "the assertion's InResponseTo is malformed");
        return false;
    }
    out->in_response_to = irt ? gw_xstrdup(irt) : NULL;
    return true;
}

static bool conditions_ok(const xmlNode *a, const struct auth_saml_expect *e,
                          struct assertion_info *out, char *msg, size_t msgcap)
{
    xmlNode *cond = gw_xml_child(a, NS_SAML, "Conditions");
    if (!cond || gw_xml_next(cond)) {
        snprintf(msg, msgcap, "the assertion must have one Conditions element (audience and "
                 "validity)");
        return false;
    }
    if (!window_ok(cond, "Conditions", e->now_ms, (int64_t)e->skew_s * 1000, true,
                   &out->expires_ms, msg, msgcap))
        return false;
    xmlNode *ar = gw_xml_child(cond, NS_SAML, "AudienceRestriction");
    if (!ar) {
        snprintf(msg, msgcap, "the assertion has no AudienceRestriction (wrong audience)");
        return false;
    }
    for (; ar; ar = gw_xml_next(ar)) { /* each restriction must name us */
        bool us = false;
        for (xmlNode *au = gw_xml_child(ar, NS_SAML, "Audience"); au && !us;
             au = gw_xml_next(au)) {
            char *t = gw_xml_text(au);
            us = t && strcmp(t, e->audience) == 0;
            free(t);
        }
        if (!us) {
            snprintf(msg, msgcap, "the assertion is for another audience (AudienceRestriction "
                     "does not name sso.saml.sp_entity_id): wrong audience");
            return false;
        }
    }
    return true;
}

/* Attributes into claims: one value → a string, several → an array. The subject's own keys
 * ("NameID", AUTH_SAML_SESSION_CLAIM) cannot be shadowed by an attribute. */
static void add_attributes(const xmlNode *a, json_t *claims)
{
    size_t n_attrs = 0;
    for (xmlNode *st = gw_xml_child(a, NS_SAML, "AttributeStatement"); st; st = gw_xml_next(st))
        for (xmlNode *at = gw_xml_child(st, NS_SAML, "Attribute"); at && n_attrs < MAX_ATTRIBUTES;
             at = gw_xml_next(at)) {
            const char *name = gw_xml_attr(at, "Name");
            if (!auth_text_ok(name, 256) || !strcmp(name, "NameID") ||
                !strcmp(name, AUTH_SAML_SESSION_CLAIM) || json_object_get(claims, name))
                continue;
            json_t *vals = json_array();
            for (xmlNode *v = gw_xml_child(at, NS_SAML, "AttributeValue");
                 v && json_array_size(vals) < MAX_VALUES; v = gw_xml_next(v)) {
                char *t = gw_xml_text(v);
                if (t && auth_text_ok(t, MAX_VALUE_LEN))
                    json_array_append_new(vals, json_string(t));
                free(t);
            }
            n_attrs++;
            if (json_array_size(vals) == 1)
                json_object_set(claims, name, json_array_get(vals, 0));
            else if (json_array_size(vals) > 1)
                json_object_set(claims, name, vals);
            json_decref(vals);
        }
}

/* Everything about an assertion but its signature: issuer, subject, confirmation, conditions,
 * attributes. a is the node whose signature was verified. */
static gw_err assertion_ok(const xmlNode *a, const struct auth_saml_expect *e,
                           struct assertion_info *out, char *msg, size_t msgcap)
{
    memset(out, 0, sizeof(*out));
    char *issuer = NULL, *name_id = NULL;
    gw_err rc = GW_EUNAUTH;
    const char *id = gw_xml_attr(a, "ID"), *version = gw_xml_attr(a, "Version");
    int64_t issued = 0;
    if (!gw_xml_is(a, NS_SAML, "Assertion") || !auth_text_ok(id, MAX_ID_LEN) || !version ||
        strcmp(version, "2.0") != 0 || !saml_time(a, "IssueInstant", &issued)) {
        snprintf(msg, msgcap, "the assertion lacks ID, Version 2.0 or IssueInstant");
        goto out;
    }
    if (issued > e->now_ms + (int64_t)e->skew_s * 1000) {
        snprintf(msg, msgcap, "the assertion was issued in the future (IssueInstant beyond the "
                 "allowed clock skew)");
        goto out;
    }
    if (!gw_xml_child(a, NS_DS, "Signature")) {
        snprintf(msg, msgcap, "the assertion is not signed: signed assertions are required");
        goto out;
    }
    if (!(issuer = only_text(a, "Issuer", 1024, msg, msgcap)))
        goto out;
    if (strcmp(issuer, e->idp) != 0) {
        snprintf(msg, msgcap, "the assertion was issued by another entity than the configured "
                 "IdP");
        goto out;
    }
    xmlNode *subject = gw_xml_child(a, NS_SAML, "Subject");
    if (!subject || gw_xml_next(subject) || gw_xml_child(subject, NS_SAML, "EncryptedID") ||
        gw_xml_child(subject, NS_SAML, "BaseID")) {
        snprintf(msg, msgcap, "the assertion must have one Subject with a plain NameID");
        goto out;
    }
    if (!(name_id = only_text(subject, "NameID", MAX_NAME_ID_LEN, msg, msgcap)))
        goto out;
    if (!subject_confirmation_ok(subject, e, out, msg, msgcap) ||
        !conditions_ok(a, e, out, msg, msgcap))
        goto out;
    const char *session_index = NULL;
    for (xmlNode *as = gw_xml_child(a, NS_SAML, "AuthnStatement"); as; as = gw_xml_next(as)) {
        int64_t end = 0;
        if (saml_time(as, "SessionNotOnOrAfter", &end) && end <= e->now_ms) {
            snprintf(msg, msgcap, "the IdP session of the assertion has ended "
                     "(SessionNotOnOrAfter)");
            goto out;
        }
        if (!session_index && auth_text_ok(gw_xml_attr(as, "SessionIndex"), MAX_ID_LEN))
            session_index = gw_xml_attr(as, "SessionIndex");
    }
    xmlNode *nid = gw_xml_child(subject, NS_SAML, "NameID");
    out->id = gw_xstrdup(id);
    out->claims = json_pack("{s:s,s:{s:s,s:s?,s:s?,s:s?,s:s?}}", "NameID", name_id,
                            AUTH_SAML_SESSION_CLAIM, "name_id", name_id, "format",
                            gw_xml_attr(nid, "Format"), "name_qualifier",
                            gw_xml_attr(nid, "NameQualifier"), "sp_name_qualifier",
                            gw_xml_attr(nid, "SPNameQualifier"), "session_index", session_index);
    if (!out->claims) {
        snprintf(msg, msgcap, "the assertion's NameID or SessionIndex is not valid UTF-8");
        goto out;
    }
    add_attributes(a, out->claims);
    rc = GW_OK;
out:
    free(issuer);
    free(name_id);
    if (rc != GW_OK)
        assertion_info_release(out);
    return rc;
}

/* The Response's own (possibly unsigned) Destination and InResponseTo must agree with the
 * signed assertion. */
static bool envelope_agrees(const struct response_info *ri, const struct assertion_info *ai,
                            const struct auth_saml_expect *e, char *msg, size_t msgcap)
{
    if (ri->destination && strcmp(ri->destination, e->recipient) != 0) {
        snprintf(msg, msgcap, "the Response is for another destination (Destination is not "
                 "sso.saml.acs_url)");
        return false;
    }
    if (ri->in_response_to &&
        (!ai->in_response_to || strcmp(ri->in_response_to, ai->in_response_to) != 0)) {
        snprintf(msg, msgcap, "the Response's InResponseTo differs from the assertion's");
        return false;
    }
    return true;
}

gw_err auth_saml_check_response(const char *xml, size_t len, const struct auth_saml_expect *e,
                                json_t **claims, char *msg, size_t msgcap)
{
    *claims = NULL;
    xmlDoc *doc = gw_xml_parse(xml, len, msg, msgcap);
    if (!doc)
        return GW_EUNAUTH;
    struct response_info ri;
    struct assertion_info ai = {0};
    gw_err rc = GW_EUNAUTH;
    if (response_ok(doc, &ri, msg, msgcap) &&
        assertion_ok(gw_xml_child(xmlDocGetRootElement(doc), NS_SAML, "Assertion"), e, &ai, msg,
                     msgcap) == GW_OK &&
        envelope_agrees(&ri, &ai, e, msg, msgcap)) {
        *claims = json_incref(ai.claims);
        rc = GW_OK;
    }
    assertion_info_release(&ai);
    xmlFreeDoc(doc);
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
static gw_err verify_locked(struct auth_saml *s, const struct cfg *c, const char *b64,
                            const struct response_info *ri, const struct auth_saml_expect *e,
                            struct assertion_info *ai, char *msg, size_t msgcap)
{
    LassoServer *srv = server_for(s, c, msg, msgcap);
    if (!srv)
        return GW_EINTERNAL;
    LassoLogin *login = lasso_login_new(srv);
    LassoProfile *prof = LASSO_PROFILE(login);
    /* MAYBE, not FORCE: FORCE also demands a Response signature, which a valid Response with
     * only a signed assertion lacks. Lasso then verifies whatever is signed and stops at a
     * missing signature everywhere; the two checks below make the assertion's signature
     * mandatory and a present Response signature binding. */
    lasso_profile_set_signature_verify_hint(prof, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_MAYBE);
    gw_err rc = GW_EUNAUTH;
    int lrc = lasso_login_process_authn_response_msg(login, (gchar *)b64);
    LassoProvider *idp = lasso_server_get_provider(srv, c->sso.saml.idp_entity_id);
    LassoSamlp2Response *resp = LASSO_IS_SAMLP2_RESPONSE(prof->response)
                                    ? LASSO_SAMLP2_RESPONSE(prof->response) : NULL;
    LassoNode *assertion = resp && resp->Assertion && !resp->Assertion->next
                               ? LASSO_NODE(resp->Assertion->data) : NULL;
    const char *why = signature_reason(lrc);
    if (lrc != 0) {
        snprintf(msg, msgcap, "%s", why ? why : "the SAML Response signature does not verify "
                 "(tampered, or signed by a key the IdP metadata does not list)");
        if (!why)
            gw_debug("saml: response refused by lasso: %s", lasso_strerror(lrc));
    } else if (!assertion || !LASSO_IS_SAML2_ASSERTION(assertion)) {
        snprintf(msg, msgcap, "the SAML Response carries no single assertion");
    } else if (lasso_provider_verify_single_node_signature(idp, assertion, "ID") != 0) {
        snprintf(msg, msgcap, "the assertion is not signed by the IdP: signed assertions are "
                 "required");
    } else if (ri->signed_ && lasso_provider_verify_signature(idp, b64, "ID",
                                                              LASSO_MESSAGE_FORMAT_BASE64) != 0) {
        snprintf(msg, msgcap, "the SAML Response signature does not verify");
    } else {
        xmlNode *node = lasso_node_get_original_xmlnode(assertion);
        rc = node ? assertion_ok(node, e, ai, msg, msgcap) : GW_EUNAUTH;
        if (!node)
            snprintf(msg, msgcap, "the verified assertion is not available");
    }
    g_object_unref(login);
    return rc;
}

/* InResponseTo → our AuthnRequest (single use, same browser, same RelayState). */
static gw_err solicited(const struct cfg *c, struct store *st, const char *irt,
                        const char *relay_state, const char *binding, struct gw_pool *pool,
                        const char **return_to, char *msg, size_t msgcap)
{
    char sh[65], bh[65];
    state_hash(irt, sh);
    struct store_login_state ls;
    gw_err rc = store_login_state_consume(st, sh, gw_now_ms(), &ls);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap, "the SAML Response answers a request this gateway did not send "
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
    if (strcmp(ls.tenant, c->tenant_id) != 0 || !binding || !gw_ct_equal(ls.binding_hash, bh, 64)) {
        snprintf(msg, msgcap, "this login was started in another browser (the SAML request is "
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

gw_err auth_saml_finish(struct auth_saml *s, const struct cfg *c, struct store *st,
                        const char *saml_response, const char *relay_state, const char *binding,
                        struct gw_pool *pool, json_t **claims, const char **return_to, char *msg,
                        size_t msgcap)
{
    const struct cfg_saml *sc = &c->sso.saml;
    *claims = NULL;
    *return_to = NULL;
    size_t b64len = saml_response ? strlen(saml_response) : 0;
    if (b64len == 0 || b64len > AUTH_SAML_MAX_MESSAGE) {
        snprintf(msg, msgcap, b64len ? "SAMLResponse is larger than %zu bytes"
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
    struct response_info ri;
    struct assertion_info ai = {0};
    struct auth_saml_expect e = {
        .idp = sc->idp_entity_id, .audience = sc->sp_entity_id, .recipient = sc->acs_url,
        .now_ms = gw_now_ms(), .skew_s = sc->clock_skew_s,
    };
    gw_err rc = GW_EUNAUTH;
    if (!gw_b64_decode(saml_response, b64len, raw, cap, &len)) {
        snprintf(msg, msgcap, "SAMLResponse is not base64");
        goto out;
    }
    raw[len] = '\0';
    if (!(doc = gw_xml_parse((const char *)raw, len, msg, msgcap)) ||
        !response_ok(doc, &ri, msg, msgcap))
        goto out;
    pthread_mutex_lock(&s->mu);
    rc = verify_locked(s, c, saml_response, &ri, &e, &ai, msg, msgcap);
    pthread_mutex_unlock(&s->mu);
    if (rc != GW_OK || !envelope_agrees(&ri, &ai, &e, msg, msgcap)) {
        rc = rc == GW_OK ? GW_EUNAUTH : rc;
        goto out;
    }
    if (!ai.in_response_to && !sc->allow_unsolicited) {
        snprintf(msg, msgcap, "unsolicited SAML Response (no InResponseTo) refused: "
                 "sso.saml.allow_unsolicited is off");
        rc = GW_EUNAUTH;
        goto out;
    }
    /* replay before the request check: a replayed assertion is reported as such */
    char *key = gw_xasprintf("%s\n%s", sc->idp_entity_id, ai.id);
    char kh[65];
    gw_sha256_hex(key, strlen(key), kh);
    free(key);
    rc = store_saml_assertion_use(st, c->tenant_id, kh, ai.expires_ms);
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
        rc = solicited(c, st, ai.in_response_to, relay_state, binding, pool, return_to, msg,
                       msgcap);
        if (rc != GW_OK)
            goto out;
    }
    *claims = json_incref(ai.claims);
out:
    assertion_info_release(&ai);
    if (doc)
        xmlFreeDoc(doc);
    free(raw);
    return rc;
}

/* --- HTTP-Redirect binding signatures --------------------------------------------------------- */

struct query_param {
    const char *at;   /* the raw "name=value" bytes in the query */
    size_t len;
    const char *value;
    size_t value_len;
};

static bool take_param(const char *p, size_t len, const char *name, struct query_param *out)
{
    size_t nl = strlen(name);
    if (len <= nl || p[nl] != '=' || memcmp(p, name, nl) != 0)
        return false;
    *out = (struct query_param){p, len, p + nl + 1, len - nl - 1};
    return true;
}

/* A percent-decoded value (malloc'd; '+' stays '+' as in base64), NULL when malformed. */
static char *param_value(const struct query_param *q)
{
    char *out = gw_xmalloc(q->value_len + 1);
    if (!http_pct_decode(q->value, q->value_len, out, q->value_len + 1)) {
        free(out);
        return NULL;
    }
    return out;
}

static const EVP_MD *sig_alg(const char *uri)
{
    static const struct { const char *uri; const EVP_MD *(*md)(void); } algs[] = {
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", EVP_sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", EVP_sha384},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", EVP_sha512},
    };
    for (size_t i = 0; uri && i < GW_ARRAY_LEN(algs); i++)
        if (!strcmp(uri, algs[i].uri))
            return algs[i].md();
    return NULL;
}

/* Does one of the IdP's metadata certificates verify sig over data? */
static bool idp_key_verifies(const struct cfg_saml *sc, const EVP_MD *md, const char *data,
                             size_t len, const unsigned char *sig, size_t siglen)
{
    bool ok = false;
    unsigned char der[16 * 1024];
    for (size_t i = 0; i < sc->n_idp_certs && !ok; i++) {
        size_t dlen = 0;
        if (!gw_b64_decode(sc->idp_certs[i], strlen(sc->idp_certs[i]), der, sizeof(der), &dlen))
            continue;
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)dlen);
        EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = k && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA && ctx &&
             EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) == 1 &&
             EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, len) == 1;
        EVP_MD_CTX_free(ctx);
        X509_free(x);
    }
    return ok;
}

/* The signature of an HTTP-Redirect message (saml-bindings 3.4.4.1): the exact query bytes
 * "<kind>=…[&RelayState=…]&SigAlg=…", RSA with SHA-256/384/512, by one of the IdP's metadata
 * keys. Checked here rather than by lasso, whose query check leaks the decoded signature in
 * 2.8.1. On success *unsigned_query (malloc'd) is the message without SigAlg and Signature, for
 * lasso to parse. */
static bool redirect_signature_ok(const struct cfg_saml *sc, const char *query, const char *kind,
                                  char **unsigned_query, char *msg, size_t msgcap)
{
    struct query_param msgp = {0}, relay = {0}, alg = {0}, sig = {0};
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        struct query_param q;
        struct query_param *slot = take_param(p, len, kind, &q)           ? &msgp
                                   : take_param(p, len, "RelayState", &q) ? &relay
                                   : take_param(p, len, "SigAlg", &q)     ? &alg
                                   : take_param(p, len, "Signature", &q)  ? &sig
                                                                          : NULL;
        if (slot && slot->at) {
            snprintf(msg, msgcap, "the SAML logout message repeats a query parameter");
            return false;
        }
        if (slot)
            *slot = q;
        p += len + (amp ? 1 : 0);
    }
    char *alg_uri = alg.at ? param_value(&alg) : NULL, *sig_b64 = sig.at ? param_value(&sig) : NULL;
    const EVP_MD *md = sig_alg(alg_uri);
    unsigned char raw[1024];
    size_t rawlen = 0;
    bool ok = false;
    if (!msgp.at || !alg.at || !sig.at || !sig_b64) {
        snprintf(msg, msgcap, "it is not signed");
    } else if (!md) {
        snprintf(msg, msgcap, "it is not signed with an accepted algorithm (RSA with SHA-256, "
                 "-384 or -512)");
    } else if (!gw_b64_decode(sig_b64, strlen(sig_b64), raw, sizeof(raw), &rawlen)) {
        snprintf(msg, msgcap, "its signature is malformed");
    } else {
        struct gw_buf b;
        gw_buf_init(&b, AUTH_SAML_MAX_MESSAGE + 4096);
        gw_buf_append(&b, msgp.at, msgp.len);
        if (relay.at) {
            gw_buf_puts(&b, "&");
            gw_buf_append(&b, relay.at, relay.len);
        }
        size_t unsigned_len = b.len;
        gw_buf_puts(&b, "&");
        gw_buf_append(&b, alg.at, alg.len);
        ok = b.data && idp_key_verifies(sc, md, b.data, b.len, raw, rawlen);
        if (ok)
            *unsigned_query = gw_xstrndup(b.data, unsigned_len);
        else
            snprintf(msg, msgcap, "its signature does not verify with the IdP's keys");
        gw_buf_release(&b);
    }
    free(alg_uri);
    free(sig_b64);
    return ok;
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
    LassoSaml2NameID *nid =
        LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new_with_string((char *)name_id));
    nid->Format = format ? g_strdup(format) : NULL;
    nid->NameQualifier = nq ? g_strdup(nq) : NULL;
    nid->SPNameQualifier = spnq ? g_strdup(spnq) : NULL;
    a->Subject->NameID = nid;
    if (session_index) {
        LassoSaml2AuthnStatement *as =
            LASSO_SAML2_AUTHN_STATEMENT(lasso_saml2_authn_statement_new());
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

gw_err auth_saml_logout_request(struct auth_saml *s, const struct cfg *c, const json_t *subject,
                                struct gw_pool *pool, const char **url, char *msg, size_t msgcap)
{
    const char *name_id = gw_json_str(subject, "name_id");
    if (!name_id) {
        snprintf(msg, msgcap, "the session has no SAML subject");
        return GW_ENOTFOUND;
    }
    gw_err rc = GW_OK;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, msg, msgcap);
    LassoLogout *lo = srv ? lasso_logout_new(srv) : NULL;
    LassoProvider *idp = srv ? lasso_server_get_provider(srv, c->sso.saml.idp_entity_id) : NULL;
    gchar *slo = idp ? lasso_provider_get_metadata_one(idp, "SingleLogoutService HTTP-Redirect")
                     : NULL;
    if (!lo || !slo) {
        if (lo)
            snprintf(msg, msgcap, "the IdP has no HTTP-Redirect SingleLogoutService");
        rc = lo ? GW_ENOTFOUND : GW_EINTERNAL;
        goto out;
    }
    LassoProfile *prof = LASSO_PROFILE(lo);
    set_subject_session(prof, c->sso.saml.idp_entity_id, name_id, gw_json_str(subject, "format"),
                        gw_json_str(subject, "name_qualifier"),
                        gw_json_str(subject, "sp_name_qualifier"),
                        gw_json_str(subject, "session_index"));
    lasso_profile_set_signature_hint(prof, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
    int lrc = lasso_logout_init_request(lo, c->sso.saml.idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
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
static gw_err logout_request_locked(LassoLogout *lo, const struct cfg *c, struct store *st,
                                    struct gw_pool *pool, struct auth_saml_slo *out, char *msg,
                                    size_t msgcap)
{
    LassoProfile *prof = LASSO_PROFILE(lo);
    LassoSamlp2LogoutRequest *req = LASSO_IS_SAMLP2_LOGOUT_REQUEST(prof->request)
                                        ? LASSO_SAMLP2_LOGOUT_REQUEST(prof->request) : NULL;
    LassoSaml2NameID *nid = req ? req->NameID : NULL;
    const char *dest = req ? LASSO_SAMLP2_REQUEST_ABSTRACT(req)->Destination : NULL;
    int64_t until = 0;
    if (!nid || !auth_text_ok(nid->content, MAX_NAME_ID_LEN)) {
        snprintf(msg, msgcap, "the LogoutRequest has no usable NameID");
        return GW_EUNAUTH;
    }
    if (dest && (!c->sso.saml.slo_url || strcmp(dest, c->sso.saml.slo_url) != 0)) {
        snprintf(msg, msgcap, "the LogoutRequest is for another destination (not "
                 "sso.saml.slo_url)");
        return GW_EUNAUTH;
    }
    if (req->NotOnOrAfter && (!gw_time_parse(req->NotOnOrAfter, &until) ||
                              until + (int64_t)c->sso.saml.clock_skew_s * 1000 <= gw_now_ms())) {
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
        rc = store_session_delete_saml(st, c->tenant_id, nid->content, i->data, &n,
                                       user ? NULL : &user);
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
    set_subject_session(prof, c->sso.saml.idp_entity_id, nid->content, nid->Format,
                        nid->NameQualifier, nid->SPNameQualifier,
                        indexes ? indexes->data : NULL);
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

gw_err auth_saml_slo(struct auth_saml *s, const struct cfg *c, struct store *st, bool request,
                     bool redirect, const char *message, struct gw_pool *pool,
                     struct auth_saml_slo *out, char *msg, size_t msgcap)
{
    memset(out, 0, sizeof(*out));
    out->is_request = request;
    const char *what = request ? "request" : "response";
    if (!message || !message[0] || strlen(message) > AUTH_SAML_MAX_MESSAGE) {
        snprintf(msg, msgcap, "the SAML logout message is missing or larger than %zu bytes",
                 AUTH_SAML_MAX_MESSAGE);
        return GW_EUNAUTH;
    }
    char why[160], *unsigned_query = NULL;
    if (redirect && !redirect_signature_ok(&c->sso.saml, message,
                                           request ? "SAMLRequest" : "SAMLResponse",
                                           &unsigned_query, why, sizeof(why))) {
        snprintf(msg, msgcap, "the SAML logout %s is refused: %s", what, why);
        return GW_EUNAUTH;
    }
    gw_err rc = GW_EUNAUTH;
    pthread_mutex_lock(&s->mu);
    LassoServer *srv = server_for(s, c, msg, msgcap);
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
                    strcmp(prof->remote_providerID, c->sso.saml.idp_entity_id) == 0;
    if (request && lrc == 0 && from_idp) {
        rc = logout_request_locked(lo, c, st, pool, out, msg, msgcap);
    } else if (!request && from_idp && (lrc == 0 || lrc == LASSO_LOGOUT_ERROR_PARTIAL_LOGOUT ||
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
