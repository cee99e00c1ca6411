/* SPDX-License-Identifier: MIT
 * auth_saml_check.c — what the SAML service provider checks itself rather than trusting lasso
 * with: the structure of a Response (one assertion, a child of the Response; no comments,
 * processing instructions, DOCTYPE, encrypted assertions or duplicate IDs), everything about
 * the verified assertion but its signature (issuer, subject, bearer confirmation, conditions,
 * audience, times with the configured skew, attributes → claims), and the signature of an
 * HTTP-Redirect message (lasso 2.8.1 leaks the decoded signature of each one it verifies).
 * No lasso here: libxml2 trees and OpenSSL, so the unit tests drive all of it.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/xml.h"
#include "config/config.h"
#include "http/http.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#define NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"
#define CM_BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define MAX_NODES 20000 /* elements, text and the rest in one Response */
#define MAX_ATTRIBUTES 128
#define MAX_VALUES 256 /* per attribute */
#define MAX_VALUE_LEN 1024

/* Times are xs:dateTime in UTC; a missing or malformed one fails. */
static bool saml_time(const xmlNode *n, const char *attr, int64_t *ms)
{
    const char *v = gw_xml_attr(n, attr);
    return v && gw_time_parse(v, ms);
}

/* --- the Response: structure ----------------------------------------------------------------- */

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
            snprintf(msg, msgcap,
                     "the SAML Response contains XML comments or processing "
                     "instructions (comment injection is refused)");
            ok = false;
        } else if (n->type == XML_ENTITY_REF_NODE || n->type == XML_DTD_NODE) {
            snprintf(msg, msgcap, "the SAML Response contains entity references");
            ok = false;
        } else if (gw_xml_is(n, NS_SAML, "EncryptedAssertion")) {
            snprintf(msg, msgcap, "encrypted assertions are not supported");
            ok = false;
        } else if (gw_xml_is(n, NS_SAML, "Assertion") && n->parent != root) {
            snprintf(msg, msgcap,
                     "an assertion is nested inside another element (signature "
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
                snprintf(msg, msgcap,
                         "the SAML Response uses the same ID twice (signature "
                         "wrapping is refused)");
                ok = false;
            }
    }
    free(ids);
    return ok;
}

/* From our own parse of the exact bytes lasso gets. */
bool auth_saml_response_ok(xmlDoc *doc, struct auth_saml_response *ri, char *msg, size_t msgcap)
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
        snprintf(msg, msgcap,
                 assertions ? "the SAML Response carries %zu assertions (signature "
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

void auth_saml_assertion_release(struct auth_saml_assertion *a)
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

static bool window_ok(const xmlNode *n, const char *what, int64_t now, int64_t skew, bool need_end,
                      int64_t *end, char *msg, size_t msgcap)
{
    int64_t t = 0;
    if (gw_xml_attr(n, "NotBefore") && (!saml_time(n, "NotBefore", &t) || now + skew < t)) {
        snprintf(msg, msgcap,
                 "the assertion is not yet valid (%s NotBefore is in the future, "
                 "beyond the allowed clock skew)",
                 what);
        return false;
    }
    if (!gw_xml_attr(n, "NotOnOrAfter")) {
        if (!need_end)
            return true;
        snprintf(msg, msgcap, "the assertion's %s has no NotOnOrAfter", what);
        return false;
    }
    if (!saml_time(n, "NotOnOrAfter", &t) || now - skew >= t) {
        snprintf(msg, msgcap,
                 "the assertion has expired (%s NotOnOrAfter is in the past, beyond "
                 "the allowed clock skew)",
                 what);
        return false;
    }
    *end = GW_MAX(*end, t + skew);
    return true;
}

/* The one bearer SubjectConfirmation: Recipient, validity window, InResponseTo. */
static bool subject_confirmation_ok(const xmlNode *subject, const struct auth_saml_expect *e,
                                    struct auth_saml_assertion *out, char *msg, size_t msgcap)
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
        snprintf(msg, msgcap,
                 "the assertion must have exactly one bearer SubjectConfirmation "
                 "(it has %zu)",
                 n);
        return false;
    }
    xmlNode *d = gw_xml_child(bearer, NS_SAML, "SubjectConfirmationData");
    const char *recipient = d ? gw_xml_attr(d, "Recipient") : NULL;
    if (!recipient || strcmp(recipient, e->recipient) != 0) {
        snprintf(msg, msgcap,
                 "the assertion is for another recipient (SubjectConfirmationData "
                 "Recipient is not sso.saml.acs_url)");
        return false;
    }
    int64_t skew = (int64_t)e->skew_s * 1000;
    if (!window_ok(d, "SubjectConfirmationData", e->now_ms, skew, true, &out->expires_ms, msg,
                   msgcap))
        return false;
    const char *irt = gw_xml_attr(d, "InResponseTo");
    if (irt && !auth_text_ok(irt, AUTH_SAML_MAX_ID)) {
        snprintf(msg, msgcap, "the assertion's InResponseTo is malformed");
        return false;
    }
    out->in_response_to = irt ? gw_xstrdup(irt) : NULL;
    return true;
}

static bool conditions_ok(const xmlNode *a, const struct auth_saml_expect *e,
                          struct auth_saml_assertion *out, char *msg, size_t msgcap)
{
    xmlNode *cond = gw_xml_child(a, NS_SAML, "Conditions");
    if (!cond || gw_xml_next(cond)) {
        snprintf(msg, msgcap,
                 "the assertion must have one Conditions element (audience and "
                 "validity)");
        return false;
    }
    if (!window_ok(cond, "Conditions", e->now_ms, (int64_t)e->skew_s * 1000, true, &out->expires_ms,
                   msg, msgcap))
        return false;
    xmlNode *ar = gw_xml_child(cond, NS_SAML, "AudienceRestriction");
    if (!ar) {
        snprintf(msg, msgcap, "the assertion has no AudienceRestriction (wrong audience)");
        return false;
    }
    for (; ar; ar = gw_xml_next(ar)) { /* each restriction must name us */
        bool us = false;
        for (xmlNode *au = gw_xml_child(ar, NS_SAML, "Audience"); au && !us; au = gw_xml_next(au)) {
            char *t = gw_xml_text(au);
            us = t && strcmp(t, e->audience) == 0;
            free(t);
        }
        if (!us) {
            snprintf(msg, msgcap,
                     "the assertion is for another audience (AudienceRestriction "
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

/* Issuer, subject, confirmation, conditions, attributes. */
gw_err auth_saml_assertion_ok(const xmlNode *a, const struct auth_saml_expect *e,
                              struct auth_saml_assertion *out, char *msg, size_t msgcap)
{
    memset(out, 0, sizeof(*out));
    char *issuer = NULL, *name_id = NULL;
    gw_err rc = GW_EUNAUTH;
    const char *id = gw_xml_attr(a, "ID"), *version = gw_xml_attr(a, "Version");
    int64_t issued = 0;
    if (!gw_xml_is(a, NS_SAML, "Assertion") || !auth_text_ok(id, AUTH_SAML_MAX_ID) || !version ||
        strcmp(version, "2.0") != 0 || !saml_time(a, "IssueInstant", &issued)) {
        snprintf(msg, msgcap, "the assertion lacks ID, Version 2.0 or IssueInstant");
        goto out;
    }
    if (issued > e->now_ms + (int64_t)e->skew_s * 1000) {
        snprintf(msg, msgcap,
                 "the assertion was issued in the future (IssueInstant beyond the "
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
        snprintf(msg, msgcap,
                 "the assertion was issued by another entity than the configured "
                 "IdP");
        goto out;
    }
    xmlNode *subject = gw_xml_child(a, NS_SAML, "Subject");
    if (!subject || gw_xml_next(subject) || gw_xml_child(subject, NS_SAML, "EncryptedID") ||
        gw_xml_child(subject, NS_SAML, "BaseID")) {
        snprintf(msg, msgcap, "the assertion must have one Subject with a plain NameID");
        goto out;
    }
    if (!(name_id = only_text(subject, "NameID", AUTH_SAML_MAX_NAME_ID, msg, msgcap)))
        goto out;
    if (!subject_confirmation_ok(subject, e, out, msg, msgcap) ||
        !conditions_ok(a, e, out, msg, msgcap))
        goto out;
    const char *session_index = NULL;
    for (xmlNode *as = gw_xml_child(a, NS_SAML, "AuthnStatement"); as; as = gw_xml_next(as)) {
        int64_t end = 0;
        if (saml_time(as, "SessionNotOnOrAfter", &end) && end <= e->now_ms) {
            snprintf(msg, msgcap,
                     "the IdP session of the assertion has ended "
                     "(SessionNotOnOrAfter)");
            goto out;
        }
        if (!session_index && auth_text_ok(gw_xml_attr(as, "SessionIndex"), AUTH_SAML_MAX_ID))
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
        auth_saml_assertion_release(out);
    return rc;
}

bool auth_saml_envelope_agrees(const struct auth_saml_response *ri,
                               const struct auth_saml_assertion *ai,
                               const struct auth_saml_expect *e, char *msg, size_t msgcap)
{
    if (ri->destination && strcmp(ri->destination, e->recipient) != 0) {
        snprintf(msg, msgcap,
                 "the Response is for another destination (Destination is not "
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
    struct auth_saml_response ri;
    struct auth_saml_assertion ai = {0};
    gw_err rc = GW_EUNAUTH;
    xmlNode *a = gw_xml_child(xmlDocGetRootElement(doc), NS_SAML, "Assertion");
    if (auth_saml_response_ok(doc, &ri, msg, msgcap) &&
        auth_saml_assertion_ok(a, e, &ai, msg, msgcap) == GW_OK &&
        auth_saml_envelope_agrees(&ri, &ai, e, msg, msgcap)) {
        *claims = json_incref(ai.claims);
        rc = GW_OK;
    }
    auth_saml_assertion_release(&ai);
    xmlFreeDoc(doc);
    return rc;
}

/* --- HTTP-Redirect binding signatures --------------------------------------------------------- */

struct query_param {
    const char *at; /* the raw "name=value" bytes in the query */
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
    static const struct {
        const char *uri;
        const EVP_MD *(*md)(void);
    } algs[] = {
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

/* Checked here rather than by lasso, whose query check leaks the decoded signature in 2.8.1. */
bool auth_saml_redirect_signature_ok(const struct cfg_saml *sc, const char *query, const char *kind,
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
        snprintf(msg, msgcap,
                 "it is not signed with an accepted algorithm (RSA with SHA-256, "
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
