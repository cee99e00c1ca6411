/* SPDX-License-Identifier: MIT
 * fuzz_saml.c — the checks the SAML service provider makes itself on a Response document
 * (auth_saml_check_response, src/auth/auth_saml_check.c), through the strict XML reader
 * (gw_xml_parse, src/base/xml.c): structure (one assertion, no comments, PIs, DOCTYPE,
 * duplicate IDs), issuer, subject, bearer confirmation, conditions, audience, times, attributes.
 * The input is the decoded XML, as the ACS hands it over after base64. The clock is fixed at
 * 2024-01-01T00:00:00Z.
 * Checks: an accepted Response yields claims with a NameID; a refused one says why.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "base/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_saml_expect e = {.idp = "https://idp.example.com/saml",
                                 .audience = "https://gw.example.com/saml/metadata",
                                 .recipient = "https://gw.example.com/api/v1/auth/saml/acs",
                                 .now_ms = INT64_C(1704067200000),
                                 .skew_s = 60};
    json_t *claims = NULL;
    char msg[400] = "";
    if (auth_saml_check_response((const char *)data, size, &e, &claims, msg, sizeof(msg)) ==
        GW_OK) {
        const char *name_id = gw_json_str(claims, "NameID");
        FUZZ_CHECK(name_id && *name_id);
    } else {
        FUZZ_CHECK(!claims && msg[0]);
    }
    json_decref(claims);
    return 0;
}
