/* SPDX-License-Identifier: MIT
 * test_auth_saml.c — the SAML 2.0 service provider without an IdP: sso.saml validation at load
 * (metadata, key and certificate, attributeMapping, default_protocol), the mapping of SAML
 * attributes to a gateway identity, the checks on a Response document (everything but the
 * signatures, which the integration test covers with a real IdP) and the SP metadata.
 *
 * Keys and certificates are generated with OpenSSL in a temporary directory; Responses are
 * small templates filled with times relative to now.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_tmp.h"

#define IDP "https://idp.company.com/saml"
#define SP "https://gw.company.com/api/v1/auth/saml/metadata"
#define ACS "https://gw.company.com/api/v1/auth/saml/acs"
#define SKEW 60

static char tmpdir[256];
static char cert_b64[4096]; /* the IdP certificate's DER in base64 (metadata) */

/* --- fixtures ------------------------------------------------------------------------------ */

static void write_file(const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* A self-signed certificate for a fresh key of the given type; PEM files <name>.key/.crt. */
static void make_keypair(const char *name, bool rsa)
{
    EVP_PKEY *k = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s.key", tmpdir, name);
    FILE *f = fopen(path, "w");
    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.crt", tmpdir, name);
    f = fopen(path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    if (!strcmp(name, "idp")) {
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        gw_b64(der, (size_t)len, cert_b64);
        OPENSSL_free(der);
    }
    X509_free(x);
    EVP_PKEY_free(k);
}

static const char *metadata(const char *extra_head, const char *sso_location)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf),
             "%s<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
             "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"" IDP "\">"
             "<md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:"
             "protocol\"><md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>"
             "<ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
             "</md:KeyDescriptor><md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:"
             "bindings:HTTP-Redirect\" Location=\"%s\"/></md:IDPSSODescriptor>"
             "</md:EntityDescriptor>\n",
             extra_head, cert_b64, sso_location);
    return buf;
}

static int group_setup(void **state)
{
    (void)state;
    if (!test_tmpdir(tmpdir, sizeof(tmpdir), "test_auth_saml"))
        return -1;
    make_keypair("idp", true);
    make_keypair("sp", true);
    make_keypair("other", true);
    make_keypair("ec", false);
    write_file("idp.xml", metadata("", "https://idp.company.com/sso"));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return test_rmtree(tmpdir);
}

/* gateway.yaml with an sso section (saml block lines start at line 6) */
static gw_err load(const char *saml, const char *sso_extra, struct cfg **out,
                   struct cfg_errors *errs)
{
    char yaml[8192], path[PATH_MAX + 64], data[PATH_MAX + 64];
    snprintf(yaml, sizeof(yaml),
             "rbac:\n"
             "  groupMappings: {eng-leads: team_lead, \"mark*\": user}\n"
             "sso:\n"
             "  unmapped: refuse\n"
             "  saml:\n"
             "%s%s",
             saml, sso_extra ? sso_extra : "");
    write_file("cfg.yaml", yaml);
    snprintf(path, sizeof(path), "%s/cfg.yaml", tmpdir);
    snprintf(data, sizeof(data), "%s/data", tmpdir);
    struct cfg_overrides ov = {.data_dir = data};
    return cfg_load(path, &ov, out, errs);
}

static char good_saml[4096];

/* The sso.saml block (lines 6-11) with this attributeMapping. */
static const char *with_mapping(const char *mapping)
{
    snprintf(good_saml, sizeof(good_saml),
             "    idp_metadata: %s/idp.xml\n"
             "    sp_entity_id: " SP "\n"
             "    acs_url: " ACS "\n"
             "    sp_key_file: %s/sp.key\n"
             "    sp_cert_file: %s/sp.crt\n"
             "    attributeMapping: %s\n",
             tmpdir, tmpdir, tmpdir, mapping);
    return good_saml;
}

static const char *good(void)
{
    return with_mapping("{userId: NameID, groups: memberOf, org_unit: department}");
}

static void assert_err(const struct cfg_errors *errs, const char *a, const char *b)
{
    for (size_t i = 0; i < errs->n; i++)
        if (strstr(errs->msgs[i], a) && strstr(errs->msgs[i], b))
            return;
    for (size_t i = 0; i < errs->n; i++)
        print_message("  error: %s\n", errs->msgs[i]);
    fail_msg("no error with '%s' and '%s'", a, b);
}

/* A configuration that must be refused with an error containing a and b. */
static void refused(const char *saml, const char *extra, const char *a, const char *b)
{
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    assert_int_equal(load(saml, extra, &c, &errs), GW_ECONFIG);
    assert_err(&errs, a, b);
    cfg_errors_release(&errs);
}

/* --- configuration ------------------------------------------------------------------------- */

static void config_valid(void **state)
{
    (void)state;
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = load(good(), NULL, &c, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_message("  error: %s\n", errs.msgs[i]);
    assert_int_equal(rc, GW_OK);
    const struct cfg_saml *s = &c->sso.saml;
    assert_true(c->sso.enabled && s->enabled && !c->sso.oidc_enabled);
    assert_string_equal(c->sso.default_protocol, "saml");
    assert_string_equal(s->idp_entity_id, IDP);
    assert_string_equal(s->attr_user, "NameID");
    assert_string_equal(s->attr_groups, "memberOf");
    assert_string_equal(s->attr_org_unit, "department");
    assert_string_equal(s->attr_email, "email"); /* defaults for the others */
    assert_string_equal(s->name_id_format, "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");
    assert_int_equal(s->clock_skew_s, 60);
    assert_true(s->sign_authn_requests && !s->allow_unsolicited && !s->slo_url);
    assert_non_null(strstr(s->sp_key_pem, "PRIVATE KEY"));

    char *md = auth_saml_sp_metadata(&c->tenants[0]);
    assert_non_null(strstr(md, "entityID=\"" SP "\""));
    assert_non_null(strstr(md, "Location=\"" ACS "\""));
    assert_non_null(strstr(md, "WantAssertionsSigned=\"true\""));
    assert_null(strstr(md, "SingleLogoutService")); /* no slo_url */
    assert_null(strstr(md, "PRIVATE"));
    free(md);
    cfg_unref(c);
}

static void config_errors(void **state)
{
    (void)state;
    char saml[8192], bad[PATH_MAX + 64];
    /* missing keys are reported at the line of the block (its first key) */
    refused("    sp_entity_id: x\n", NULL, "cfg.yaml:6: ", "sso.saml.idp_metadata is required");
    refused("    idp_metadata: /nonexistent/idp.xml\n", NULL, "cfg.yaml:6: ", "does not exist");
    refused("    idp_metadata: x\n", NULL, "cfg.yaml:6: ", "sso.saml.sp_entity_id is required");
    refused("    idp_metadata: x\n", NULL, "cfg.yaml:6: ", "sso.saml.acs_url is required");
    refused("    idp_metadata: x\n", NULL, "cfg.yaml:6: ", "sp_key_file and sso.saml.sp_cert_file");

    /* metadata problems, each with the line of idp_metadata */
    static const struct {
        const char *xml, *words;
    } mds[] = {
        {"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", "DOCTYPE"},
        {"<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>",
         "md:EntityDescriptor"},
        {"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>",
         "exactly one IDPSSODescriptor"},
        {"not xml", "not well-formed"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(mds); i++) {
        write_file("bad.xml", mds[i].xml);
        snprintf(bad, sizeof(bad), "%s/bad.xml", tmpdir);
        snprintf(saml, sizeof(saml), "%s", good());
        char *p = strstr(saml, "idp.xml");
        memcpy(p, "bad.xml", 7);
        refused(saml, NULL, "cfg.yaml:6: sso.saml.idp_metadata", mds[i].words);
    }
    write_file("idp.xml", metadata("", "http://idp.company.com/sso"));
    refused(good(), NULL, "cfg.yaml:6: ", "HTTP-Redirect SingleSignOnService on an https URL");
    char nocert[8192];
    snprintf(nocert, sizeof(nocert), "%s", metadata("", "https://idp.company.com/sso"));
    char *x = strstr(nocert, cert_b64);
    memset(x, 'A', 40); /* no longer a certificate */
    write_file("idp.xml", nocert);
    refused(good(), NULL, "cfg.yaml:6: ", "no signing certificate");
    write_file("idp.xml", metadata("", "http://127.0.0.1:9000/sso")); /* loopback: allowed */

    /* the SP key pair */
    {
        char fixed[8192];
        snprintf(saml, sizeof(saml), "%s", good());
        char *c = strstr(saml, "sp.crt");
        size_t head = (size_t)(c - saml);
        snprintf(fixed, sizeof(fixed), "%.*sother.crt%s", (int)head, saml, c + 6);
        refused(fixed, NULL, "cfg.yaml:9: ", "is not the certificate of");
        snprintf(saml, sizeof(saml), "%s", good());
        c = strstr(saml, "sp.key");
        head = (size_t)(c - saml);
        snprintf(fixed, sizeof(fixed), "%.*sec.key%s", (int)head, saml, c + 6);
        refused(fixed, NULL, "cfg.yaml:9: ", "RSA key of at least 2048 bits");
    }

    /* attributeMapping, URLs, protocols */
    refused(with_mapping("{user: uid}"), NULL,
            "cfg.yaml:11: ", "unknown key 'user' in sso.saml.attributeMapping");
    refused(with_mapping("{email: \"a b\"}"), NULL,
            "cfg.yaml:11: ", "sso.saml.attributeMapping.email must be an attribute name");
    snprintf(saml, sizeof(saml), "%s    slo_url: http://gw.company.com/slo\n", good());
    refused(saml, NULL, "cfg.yaml:12: ", "must be an https:// URL");
    refused(good(), "  default_protocol: oidc\n", "cfg.yaml:", "sso.oidc is not configured");
    refused(good(),
            "  oidc: {issuer: https://idp.company.com, client_id: gw, client_secret: s, "
            "redirect_uri: https://gw.company.com/api/v1/auth/callback}\n",
            "cfg.yaml:4: ", "sso.default_protocol (oidc or saml) is required");
}

/* --- attributes → identity ------------------------------------------------------------------ */

static void mapping(void **state)
{
    (void)state;
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    assert_int_equal(load(good(), NULL, &c, &errs), GW_OK);
    struct gw_pool *pool = gw_pool_new();
    char msg[300];
    struct auth_sso_identity id;
    json_t *claims = json_pack("{s:s,s:s,s:[s,s],s:s,s:{s:s,s:s}}", "NameID", "alice", "email",
                               "alice@company.com", "memberOf", "CN=Dev", "eng-leads", "department",
                               "Engineering", AUTH_SAML_SESSION_CLAIM, "name_id", "alice",
                               "session_index", "_s1");
    assert_int_equal(auth_sso_map(NULL, c, &c->tenants[0], "saml", claims, pool, &id, msg,
                                  sizeof(msg)),
                     GW_OK);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.role, "team_lead");
    assert_string_equal(id.mapped_by, "eng-leads");
    assert_string_equal(id.org_unit, "Engineering");
    assert_string_equal(id.email, "alice@company.com");
    assert_string_equal(id.protocol, "saml");
    assert_string_equal(json_string_value(json_object_get(id.saml, "session_index")), "_s1");
    /* the same claims read as OIDC use the OIDC claim names: no "sub" */
    assert_int_equal(auth_sso_map(NULL, c, &c->tenants[0], "oidc", claims, pool, &id, msg,
                                  sizeof(msg)),
                     GW_EUNAUTH);
    json_decref(claims);

    claims = json_pack("{s:s,s:s}", "NameID", "bob", "memberOf", "nobody");
    assert_int_equal(auth_sso_map(NULL, c, &c->tenants[0], "saml", claims, pool, &id, msg,
                                  sizeof(msg)),
                     GW_EFORBIDDEN);
    assert_non_null(strstr(msg, "no role mapping for your groups: nobody"));
    json_decref(claims);

    claims = json_pack("{s:s}", "email", "x@company.com");
    assert_int_equal(auth_sso_map(NULL, c, &c->tenants[0], "saml", claims, pool, &id, msg,
                                  sizeof(msg)),
                     GW_EUNAUTH);
    assert_non_null(strstr(msg, "attributeMapping.userId"));
    json_decref(claims);
    gw_pool_free(pool);
    cfg_unref(c);
}

/* --- the Response checks ------------------------------------------------------------------- */

struct resp {
    const char *root_attrs; /* extra attributes of samlp:Response */
    const char *before;     /* elements before the assertion (inside the Response) */
    const char *issuer;
    const char *name_id; /* raw XML content of NameID */
    const char *recipient;
    const char *audience;
    int nb_s, noa_s, scd_noa_s; /* relative to now */
    const char *scd_irt;
    const char *extra_subject; /* appended inside Subject */
    const char *attributes;    /* AttributeStatement content */
    const char *status;
};

static char *render(const struct resp *r)
{
    int64_t now = gw_now_ms();
    char nb[40], noa[40], scd[40], inst[40];
    gw_time_iso8601(now + (int64_t)r->nb_s * 1000, nb, sizeof(nb));
    gw_time_iso8601(now + (int64_t)r->noa_s * 1000, noa, sizeof(noa));
    gw_time_iso8601(now + (int64_t)r->scd_noa_s * 1000, scd, sizeof(scd));
    gw_time_iso8601(now, inst, sizeof(inst));
    char *out = NULL;
    int n = asprintf(
        &out,
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
        "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_r1\" Version=\"2.0\" "
        "IssueInstant=\"%s\" %s><saml:Issuer>" IDP "</saml:Issuer><samlp:Status>"
        "<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:%s\"/></samlp:Status>%s"
        "<saml:Assertion ID=\"_a1\" Version=\"2.0\" IssueInstant=\"%s\"><saml:Issuer>%s"
        "</saml:Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>"
        "<saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:"
        "unspecified\">%s</saml:NameID><saml:SubjectConfirmation Method=\"urn:oasis:names:tc:"
        "SAML:2.0:cm:bearer\"><saml:SubjectConfirmationData Recipient=\"%s\" "
        "NotOnOrAfter=\"%s\" %s%s%s/></saml:SubjectConfirmation>%s</saml:Subject>"
        "<saml:Conditions NotBefore=\"%s\" NotOnOrAfter=\"%s\"><saml:AudienceRestriction>"
        "<saml:Audience>%s</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        "<saml:AuthnStatement AuthnInstant=\"%s\" SessionIndex=\"_idx1\"/>"
        "<saml:AttributeStatement>%s</saml:AttributeStatement></saml:Assertion>"
        "</samlp:Response>",
        inst, r->root_attrs ? r->root_attrs : "", r->status ? r->status : "Success",
        r->before ? r->before : "", inst, r->issuer ? r->issuer : IDP,
        r->name_id ? r->name_id : "alice", r->recipient ? r->recipient : ACS, scd,
        r->scd_irt ? "InResponseTo=\"" : "", r->scd_irt ? r->scd_irt : "", r->scd_irt ? "\"" : "",
        r->extra_subject ? r->extra_subject : "", nb, noa, r->audience ? r->audience : SP, inst,
        r->attributes ? r->attributes
                      : "<saml:Attribute Name=\"email\"><saml:AttributeValue>alice@company.com"
                        "</saml:AttributeValue></saml:Attribute><saml:Attribute Name=\"memberOf\">"
                        "<saml:AttributeValue>CN=Dev</saml:AttributeValue><saml:AttributeValue>"
                        "eng-leads</saml:AttributeValue></saml:Attribute>");
    assert_true(n > 0);
    return out;
}

static gw_err check(const struct resp *r, json_t **claims, char *msg, size_t cap)
{
    struct auth_saml_expect e = {.idp = IDP,
                                 .audience = SP,
                                 .recipient = ACS,
                                 .now_ms = gw_now_ms(),
                                 .skew_s = SKEW};
    char *xml = render(r);
    gw_err rc = auth_saml_check_response(xml, strlen(xml), &e, claims, msg, cap);
    free(xml);
    return rc;
}

/* A Response (built from the good one by r) refused with msg containing words. */
static void refuses(struct resp r, const char *words)
{
    json_t *claims = NULL;
    char msg[400] = "";
    if (!r.noa_s)
        r.noa_s = 300;
    if (!r.scd_noa_s)
        r.scd_noa_s = 300;
    if (!r.nb_s)
        r.nb_s = -30;
    gw_err rc = check(&r, &claims, msg, sizeof(msg));
    if (rc != GW_EUNAUTH || !strstr(msg, words))
        fail_msg("expected a refusal with '%s', got %d '%s'", words, rc, msg);
    assert_null(claims);
}

static void response_good(void **state)
{
    (void)state;
    json_t *claims = NULL;
    char msg[400] = "";
    struct resp r = {.nb_s = -30,
                     .noa_s = 300,
                     .scd_noa_s = 300,
                     .scd_irt = "_req1",
                     .root_attrs = "InResponseTo=\"_req1\" Destination=\"" ACS "\""};
    assert_int_equal(check(&r, &claims, msg, sizeof(msg)), GW_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "NameID")), "alice");
    assert_string_equal(json_string_value(json_object_get(claims, "email")), "alice@company.com");
    assert_int_equal(json_array_size(json_object_get(claims, "memberOf")), 2);
    json_t *sub = json_object_get(claims, AUTH_SAML_SESSION_CLAIM);
    assert_string_equal(json_string_value(json_object_get(sub, "session_index")), "_idx1");
    assert_string_equal(json_string_value(json_object_get(sub, "name_id")), "alice");
    json_decref(claims);
    /* within the skew on both sides */
    r.nb_s = SKEW - 5;
    r.scd_noa_s = r.noa_s = -(SKEW - 5);
    assert_int_equal(check(&r, &claims, msg, sizeof(msg)), GW_OK);
    json_decref(claims);
    /* an attribute cannot shadow the subject */
    r = (struct resp){.nb_s = -30,
                      .noa_s = 300,
                      .scd_noa_s = 300,
                      .attributes = "<saml:Attribute Name=\"NameID\"><saml:AttributeValue>admin"
                                    "</saml:AttributeValue></saml:Attribute>"};
    assert_int_equal(check(&r, &claims, msg, sizeof(msg)), GW_OK);
    assert_string_equal(json_string_value(json_object_get(claims, "NameID")), "alice");
    json_decref(claims);
}

static void response_refused(void **state)
{
    (void)state;
    refuses((struct resp){.audience = "urn:other-sp"}, "wrong audience");
    refuses((struct resp){.recipient = "https://evil/acs"}, "another recipient");
    refuses((struct resp){.root_attrs = "Destination=\"https://evil/acs\""}, "another destination");
    refuses((struct resp){.issuer = "https://evil"}, "another entity than the configured IdP");
    refuses((struct resp){.noa_s = -(SKEW + 5)}, "expired (Conditions");
    refuses((struct resp){.scd_noa_s = -(SKEW + 5)}, "expired (SubjectConfirmationData");
    refuses((struct resp){.nb_s = SKEW + 5}, "not yet valid");
    refuses((struct resp){.root_attrs = "InResponseTo=\"_x\"", .scd_irt = "_y"},
            "InResponseTo differs");
    refuses((struct resp){.status = "Responder"}, "refused the login (status Responder)");
    refuses((struct resp){.name_id = "alice<!---->.evil"}, "comment injection");
    refuses((struct resp){.before = "<saml:Assertion ID=\"_evil\" Version=\"2.0\"/>"},
            "2 assertions");
    refuses((struct resp){.before = "<samlp:Extensions><saml:Assertion ID=\"_e\"/>"
                                    "</samlp:Extensions>"},
            "nested inside another element");
    refuses((struct resp){.before = "<samlp:Extensions ID=\"_a1\"/>"}, "same ID twice");
    refuses((struct resp){.extra_subject = "<saml:SubjectConfirmation Method=\"urn:oasis:names:"
                                           "tc:SAML:2.0:cm:bearer\"/>"},
            "exactly one bearer SubjectConfirmation");
    refuses((struct resp){.name_id = ""}, "single, plain-text NameID");
    refuses((struct resp){.before = "<saml:EncryptedAssertion/>"}, "encrypted assertions");

    /* DOCTYPE and signature element */
    const char *dtd = "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    struct auth_saml_expect e = {.idp = IDP,
                                 .audience = SP,
                                 .recipient = ACS,
                                 .now_ms = gw_now_ms(),
                                 .skew_s = SKEW};
    json_t *claims = NULL;
    char msg[300];
    assert_int_equal(auth_saml_check_response(dtd, strlen(dtd), &e, &claims, msg, sizeof(msg)),
                     GW_EUNAUTH);
    assert_non_null(strstr(msg, "DOCTYPE"));
    struct resp r = {.nb_s = -30, .noa_s = 300, .scd_noa_s = 300};
    char *xml = render(&r), *sig = strstr(xml, "<ds:Signature");
    char *end = strstr(sig, "/>") + 2;
    memmove(sig, end, strlen(end) + 1);
    assert_int_equal(auth_saml_check_response(xml, strlen(xml), &e, &claims, msg, sizeof(msg)),
                     GW_EUNAUTH);
    assert_non_null(strstr(msg, "signed assertions are required"));
    free(xml);
}

/* --- base64 ------------------------------------------------------------------------------- */

static void base64_decoding(void **state)
{
    (void)state;
    unsigned char out[16];
    size_t n = 0;
    assert_true(gw_b64_decode("aGVs\nbG8=", 9, out, sizeof(out), &n));
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    assert_true(gw_b64_decode("aGk", 3, out, sizeof(out), &n) && n == 2);
    assert_false(gw_b64_decode("aGk=x", 5, out, sizeof(out), &n)); /* data after padding */
    assert_false(gw_b64_decode("a", 1, out, sizeof(out), &n));
    assert_false(gw_b64_decode("a-b_", 4, out, sizeof(out), &n));        /* base64url alphabet */
    assert_false(gw_b64_decode("aGVsbG8gd29ybGQhIQ==", 20, out, 4, &n)); /* overflow */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_valid),     cmocka_unit_test(config_errors),
        cmocka_unit_test(mapping),          cmocka_unit_test(response_good),
        cmocka_unit_test(response_refused), cmocka_unit_test(base64_decoding),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
