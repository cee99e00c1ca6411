/* SPDX-License-Identifier: MIT
 * gov_opa.c — the optional Open Policy Agent query (OPA's data API, one POST per decision).
 *
 * Everything OPA sends back is untrusted: the body is bounded, parsed strictly, and anything
 * but a well-formed {"result": {"allow": bool, ...}} is a failure, which the caller turns into a
 * deny. Redirects are not followed; only http and https are allowed.
 */
#include "base/prelude.h"
#include "gov/gov.h"
#include "base/json.h"
#include "net/net.h"

#define OPA_MAX_RESPONSE (256 * 1024)

gw_err gov_opa_decide(struct net_loop *net, const char *url, unsigned timeout_ms,
                      const json_t *input, enum pol_effect *effect, char *reason, size_t cap)
{
    gw_err rc = GW_EUPSTREAM;
    json_t *req = json_pack("{s:O}", "input", input);
    char *text = gw_json_compact(req);
    json_decref(req);
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    struct net_request rq = {.url = url,
                             .body = text,
                             .body_len = strlen(text),
                             .headers = headers,
                             .timeout_ms = timeout_ms,
                             .max_body = OPA_MAX_RESPONSE};
    struct net_response r;
    json_t *doc = NULL;
    if (net_fetch(net, &rq, &r) != GW_OK) {
        snprintf(reason, cap, "OPA unreachable (%s)", r.msg);
        goto out;
    }
    if (r.status < 200 || r.status > 299) {
        snprintf(reason, cap, "OPA answered HTTP %ld", r.status);
        goto out;
    }
    char msg[160];
    doc = gw_json_parse(r.body, r.len, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    json_t *result = json_object_get(doc, "result");
    json_t *allow = json_object_get(result, "allow");
    json_t *approval = json_object_get(result, "require_approval");
    if (!json_is_boolean(allow) || (approval && !json_is_boolean(approval))) {
        snprintf(reason, cap, "OPA answer has no boolean result.allow%s%s", doc ? "" : ": ",
                 doc ? "" : msg);
        goto out;
    }
    const char *why = gw_json_str(result, "reason");
    *effect = !json_is_true(allow)     ? POL_DENY
              : json_is_true(approval) ? POL_REQUIRE_APPROVAL
                                       : POL_ALLOW;
    snprintf(reason, cap, "OPA: %.200s", why ? why : pol_effect_name(*effect));
    rc = GW_OK;
out:
    json_decref(doc);
    net_response_release(&r);
    free(text);
    return rc;
}
