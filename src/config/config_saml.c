/* SPDX-License-Identifier: MIT
 * config_saml.c — sso.saml: the SAML 2.0 service provider (issue 5).
 *
 * Everything the SP trusts is checked here, at load, so a mistake is a "file:line" error at
 * start or reload instead of a failed login: the IdP metadata must describe exactly one IdP
 * (md:EntityDescriptor with an IDPSSODescriptor for SAML 2.0) with at least one signing
 * certificate that parses and an HTTP-Redirect SingleSignOnService on https (http only on
 * loopback); the SP key must be an unencrypted RSA key of at least 2048 bits and the SP
 * certificate must belong to it. The key's content never appears in a message. Attribute names
 * of attributeMapping (seed 001) are free-form SAML names (URNs, URLs), bounded and visible.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "base/xml.h"
#include "config/config_int.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define METADATA_MAX ((size_t)1024 * 1024)
#define PEM_MAX ((size_t)64 * 1024)
#define CERT_DER_MAX ((size_t)16 * 1024)
#define MAX_IDP_CERTS 8
#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define PROTOCOL_SAML2 "urn:oasis:names:tc:SAML:2.0:protocol"
#define BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

enum {
    SA_IDP_METADATA,
    SA_SP_ENTITY,
    SA_ACS,
    SA_SLO,
    SA_KEY,
    SA_CERT,
    SA_ATTRS,
    SA_NAME_ID,
    SA_SKEW,
    SA_UNSOLICITED,
    SA_SIGN,
    SA__N
};
const char *const cfg_keys_saml[] = {
    [SA_IDP_METADATA] = "idp_metadata",
    [SA_SP_ENTITY] = "sp_entity_id",
    [SA_ACS] = "acs_url",
    [SA_SLO] = "slo_url",
    [SA_KEY] = "sp_key_file",
    [SA_CERT] = "sp_cert_file",
    [SA_ATTRS] = "attributeMapping",
    [SA_NAME_ID] = "name_id_format",
    [SA_SKEW] = "clock_skew_s",
    [SA_UNSOLICITED] = "allow_unsolicited",
    [SA_SIGN] = "sign_authn_requests",
    [SA__N] = NULL,
};

enum { AM_USER, AM_EMAIL, AM_NAME, AM_GROUPS, AM_ORG, AM_TEAM, AM__N };
const char *const cfg_keys_saml_attrs[] = {
    [AM_USER] = "userId",  [AM_EMAIL] = "email", [AM_NAME] = "name", [AM_GROUPS] = "groups",
    [AM_ORG] = "org_unit", [AM_TEAM] = "team",   [AM__N] = NULL};

static const char *const name_id_formats[] = {"unspecified", "emailAddress", "persistent",
                                              "transient", NULL};
static const char *const name_id_urns[] = {
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
};

void cfg_saml_free(struct cfg_saml *s)
{
    free(s->idp_metadata);
    free(s->idp_entity_id);
    cfg_free_strv(s->idp_certs);
    free(s->sp_entity_id);
    free(s->acs_url);
    free(s->slo_url);
    if (s->sp_key_pem)
        explicit_bzero(s->sp_key_pem, strlen(s->sp_key_pem));
    free(s->sp_key_pem);
    free(s->sp_cert_pem);
    free(s->attr_user);
    free(s->attr_email);
    free(s->attr_name);
    free(s->attr_groups);
    free(s->attr_org_unit);
    free(s->attr_team);
    free(s->name_id_format);
    memset(s, 0, sizeof(*s));
}

/* --- the IdP metadata ----------------------------------------------------------------------- */

static bool cert_der_ok(const char *b64)
{
    unsigned char *der = gw_xmalloc(CERT_DER_MAX);
    size_t len = 0;
    bool ok = false;
    if (gw_b64_decode(b64, strlen(b64), der, CERT_DER_MAX, &len)) {
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long)len);
        ok = x && p == der + len;
        X509_free(x);
    }
    free(der);
    return ok;
}

/* The signing certificates of an IDPSSODescriptor that parse (KeyDescriptor use="signing" or
 * no use), as base64 DER, into s (at most MAX_IDP_CERTS); returns their number. */
static size_t signing_certs(const xmlNode *idp, struct cfg_saml *s)
{
    s->idp_certs = gw_xcalloc(MAX_IDP_CERTS + 1, sizeof(char *));
    for (xmlNode *kd = gw_xml_child(idp, NS_MD, "KeyDescriptor");
         kd && s->n_idp_certs < MAX_IDP_CERTS; kd = gw_xml_next(kd)) {
        const char *use = gw_xml_attr(kd, "use");
        if (use && strcmp(use, "signing") != 0)
            continue;
        xmlNode *x509 = gw_xml_child(gw_xml_child(gw_xml_child(kd, NS_DS, "KeyInfo"), NS_DS,
                                                  "X509Data"),
                                     NS_DS, "X509Certificate");
        char *text = x509 ? gw_xml_text(x509) : NULL;
        if (text && cert_der_ok(text))
            s->idp_certs[s->n_idp_certs++] = text;
        else
            free(text);
    }
    return s->n_idp_certs;
}

/* The Location of the first endpoint `element` with the HTTP-Redirect binding, or NULL. */
static const char *redirect_endpoint(const xmlNode *idp, const char *element)
{
    for (xmlNode *e = gw_xml_child(idp, NS_MD, element); e; e = gw_xml_next(e)) {
        const char *b = gw_xml_attr(e, "Binding");
        if (b && strcmp(b, BINDING_REDIRECT) == 0)
            return gw_xml_attr(e, "Location");
    }
    return NULL;
}

static bool endpoint_ok(const char *url)
{
    return url && cfg_visible(url, 2048) &&
           (!strncmp(url, "https://", 8) || (!strncmp(url, "http://", 7) && cfg_loopback_url(url)));
}

/* Checks the metadata document; on success the IdP's entityID and signing certificates are in
 * s. */
static bool idp_metadata_ok(const char *xml, size_t len, struct cfg_saml *s, char *msg,
                            size_t msgcap)
{
    char why[200];
    xmlDoc *doc = gw_xml_parse(xml, len, why, sizeof(why));
    if (!doc) {
        snprintf(msg, msgcap, "%s", why);
        return false;
    }
    bool ok = false;
    xmlNode *root = xmlDocGetRootElement(doc), *idp = gw_xml_child(root, NS_MD, "IDPSSODescriptor");
    const char *id = gw_xml_attr(root, "entityID");
    const char *proto = idp ? gw_xml_attr(idp, "protocolSupportEnumeration") : NULL;
    const char *slo = idp ? redirect_endpoint(idp, "SingleLogoutService") : NULL;
    if (!gw_xml_is(root, NS_MD, "EntityDescriptor"))
        snprintf(msg, msgcap, "is not SAML metadata of one entity (md:EntityDescriptor)");
    else if (!id || !cfg_visible(id, 1024))
        snprintf(msg, msgcap, "has no usable entityID");
    else if (!idp || gw_xml_next(idp))
        snprintf(msg, msgcap, "must have exactly one IDPSSODescriptor");
    else if (!proto || !strstr(proto, PROTOCOL_SAML2))
        snprintf(msg, msgcap, "IDPSSODescriptor does not support SAML 2.0");
    else if (signing_certs(idp, s) == 0)
        snprintf(msg, msgcap,
                 "has no signing certificate (KeyDescriptor with an "
                 "X509Certificate that parses)");
    else if (!endpoint_ok(redirect_endpoint(idp, "SingleSignOnService")))
        snprintf(msg, msgcap,
                 "has no HTTP-Redirect SingleSignOnService on an https URL "
                 "(http only on loopback)");
    else if (slo && !endpoint_ok(slo))
        snprintf(msg, msgcap,
                 "has an HTTP-Redirect SingleLogoutService that is not an https "
                 "URL (http only on loopback)");
    else
        ok = true;
    if (ok)
        s->idp_entity_id = gw_xstrdup(id);
    xmlFreeDoc(doc);
    return ok;
}

/* --- the SP key and certificate ---------------------------------------------------------- */

/* The key and certificate must parse, the key be RSA >= 2048 bits (what the SAML signature
 * methods lasso offers use) and the certificate be the key's. */
static bool sp_keypair_ok(const char *key_pem, const char *cert_pem, char *msg, size_t msgcap)
{
    BIO *cb = BIO_new_mem_buf(cert_pem, -1);
    EVP_PKEY *key = gw_pem_private_key(key_pem);
    /* an empty passphrase instead of a prompt (gw_pem_private_key refuses encrypted keys) */
    X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, (void *)"") : NULL;
    bool ok = false;
    if (!key)
        snprintf(msg, msgcap, "sso.saml.sp_key_file holds no unencrypted PEM private key");
    else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048)
        snprintf(msg, msgcap, "sso.saml.sp_key_file must be an RSA key of at least 2048 bits");
    else if (!cert)
        snprintf(msg, msgcap, "sso.saml.sp_cert_file holds no PEM certificate");
    else if (X509_check_private_key(cert, key) != 1)
        snprintf(msg, msgcap,
                 "sso.saml.sp_cert_file is not the certificate of sso.saml."
                 "sp_key_file");
    else
        ok = true;
    EVP_PKEY_free(key);
    X509_free(cert);
    BIO_free(cb);
    return ok;
}

/* --- attributeMapping ------------------------------------------------------------------- */

/* A SAML attribute name: 1-256 visible ASCII characters without quotes or backslashes (names
 * are often URNs or URLs), or "NameID" for the subject. */
static void get_attr(struct cfg_errlist *e, const struct cfg_node *n, const char *key, char **out)
{
    char what[64];
    snprintf(what, sizeof(what), "sso.saml.attributeMapping.%s", key);
    char *s = NULL;
    if (!cfg_get_str(e, n, what, &s) || !s)
        return;
    if (!cfg_visible(s, 256) || strpbrk(s, "\"'\\")) {
        cfg_err(e, n->line,
                "%s must be an attribute name of 1-256 visible ASCII characters "
                "without quotes or backslashes",
                what);
        free(s);
        return;
    }
    free(*out);
    *out = s;
}

static void load_attributes(struct cfg_errlist *e, const struct cfg_node *n, struct cfg_saml *s)
{
    const struct cfg_node *v[AM__N];
    if (!cfg_map_slots(e, n, "sso.saml.attributeMapping", cfg_keys_saml_attrs, v, NULL))
        return;
    get_attr(e, v[AM_USER], "userId", &s->attr_user);
    get_attr(e, v[AM_EMAIL], "email", &s->attr_email);
    get_attr(e, v[AM_NAME], "name", &s->attr_name);
    get_attr(e, v[AM_GROUPS], "groups", &s->attr_groups);
    get_attr(e, v[AM_ORG], "org_unit", &s->attr_org_unit);
    get_attr(e, v[AM_TEAM], "team", &s->attr_team);
}

/* --- the section ------------------------------------------------------------------------ */

static void defaults(struct cfg_saml *s)
{
    s->attr_user = gw_xstrdup("NameID");
    s->attr_email = gw_xstrdup("email");
    s->attr_name = gw_xstrdup("displayName");
    s->attr_groups = gw_xstrdup("groups");
    s->attr_org_unit = gw_xstrdup("org_unit");
    s->attr_team = gw_xstrdup("team");
    s->name_id_format = gw_xstrdup(name_id_urns[0]);
    s->clock_skew_s = 60;
    s->sign_authn_requests = true;
}

static void load_idp_metadata(struct cfg_loader *L, const struct cfg_node *n, int line,
                              struct cfg_saml *s)
{
    char *xml = NULL, msg[240];
    size_t len = 0;
    if (cfg_is_null(n)) {
        cfg_err(L->errs, line, "sso.saml.idp_metadata is required (the IdP's SAML metadata file)");
        return;
    }
    if (!cfg_read_file(L, n, "sso.saml.idp_metadata", METADATA_MAX, &xml, &len))
        return;
    if (idp_metadata_ok(xml, len, s, msg, sizeof(msg))) {
        s->idp_metadata = xml;
        return;
    }
    cfg_err(L->errs, n->line, "sso.saml.idp_metadata %s", msg);
    free(xml);
}

static void load_keypair(struct cfg_loader *L, const struct cfg_node *key,
                         const struct cfg_node *cert, int line, struct cfg_saml *s)
{
    char *k = NULL, *c = NULL, msg[160];
    size_t klen = 0, clen = 0;
    if (cfg_is_null(key) || cfg_is_null(cert)) {
        cfg_err(L->errs, line,
                "sso.saml.sp_key_file and sso.saml.sp_cert_file are required "
                "(the SP signs its requests and publishes the certificate in its metadata)");
        return;
    }
    bool read = cfg_read_file(L, key, "sso.saml.sp_key_file", PEM_MAX, &k, &klen);
    read &= cfg_read_file(L, cert, "sso.saml.sp_cert_file", PEM_MAX, &c, &clen);
    if (read && sp_keypair_ok(k, c, msg, sizeof(msg))) {
        s->sp_key_pem = k;
        s->sp_cert_pem = c;
        return;
    }
    if (read)
        cfg_err(L->errs, key->line, "%s", msg);
    if (k)
        explicit_bzero(k, klen);
    free(k);
    free(c);
}

void cfg_load_saml(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_errlist *e = L->errs;
    struct cfg_saml *s = &L->sso->saml;
    const struct cfg_node *v[SA__N];
    defaults(s);
    if (!cfg_map_slots(e, n, "sso.saml", cfg_keys_saml, v, NULL))
        return;
    s->enabled = true;
    load_idp_metadata(L, v[SA_IDP_METADATA], n->line, s);
    if (cfg_get_str(e, v[SA_SP_ENTITY], "sso.saml.sp_entity_id", &s->sp_entity_id) &&
        !s->sp_entity_id)
        cfg_err(e, n->line,
                "sso.saml.sp_entity_id is required (e.g. the URL of "
                "/api/v1/auth/saml/metadata)");
    else if (s->sp_entity_id &&
             (!cfg_visible(s->sp_entity_id, 1024) || strpbrk(s->sp_entity_id, "\"<>&'")))
        cfg_err(e, v[SA_SP_ENTITY]->line,
                "sso.saml.sp_entity_id must be 1-1024 visible ASCII "
                "characters without quotes, '<', '>' or '&'");
    cfg_get_https_url(e, v[SA_ACS], "sso.saml.acs_url", 0, &s->acs_url);
    if (!s->acs_url && cfg_is_null(v[SA_ACS]))
        cfg_err(e, n->line,
                "sso.saml.acs_url is required (the URL of POST "
                "/api/v1/auth/saml/acs as the browser reaches it)");
    cfg_get_https_url(e, v[SA_SLO], "sso.saml.slo_url", 0, &s->slo_url);
    load_keypair(L, v[SA_KEY], v[SA_CERT], n->line, s);
    load_attributes(e, v[SA_ATTRS], s);
    char *fmt = NULL;
    if (cfg_get_enum(e, v[SA_NAME_ID], "sso.saml.name_id_format", name_id_formats, &fmt) && fmt) {
        for (size_t i = 0; name_id_formats[i]; i++)
            if (!strcmp(fmt, name_id_formats[i])) {
                free(s->name_id_format);
                s->name_id_format = gw_xstrdup(name_id_urns[i]);
            }
    }
    free(fmt);
    cfg_get_uint(e, v[SA_SKEW], "sso.saml.clock_skew_s", 0, 300, &s->clock_skew_s);
    cfg_get_bool(e, v[SA_UNSOLICITED], "sso.saml.allow_unsolicited", &s->allow_unsolicited);
    cfg_get_bool(e, v[SA_SIGN], "sso.saml.sign_authn_requests", &s->sign_authn_requests);
}
