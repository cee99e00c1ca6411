/* SPDX-License-Identifier: MIT
 * gov_opa.c — the optional Open Policy Agent query (OPA's data API, one POST per decision).
 *
 * Everything OPA sends back is untrusted: the body is bounded, parsed strictly, and anything
 * but a well-formed {"result": {"allow": bool, ...}} is a failure, which the caller turns into a
 * deny. Redirects are not followed; only http and https are allowed.
 */
#include "base/prelude.h"
#include "gov/gov.h"
#include "base/buf.h"
#include "base/json.h"

#include <curl/curl.h>

#define OPA_MAX_RESPONSE (256 * 1024)

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct gw_buf *b = arg;
    return gw_buf_append(b, data, size * n) == GW_OK ? size * n : 0;
}

gw_err gov_opa_decide(const char *url, unsigned timeout_ms, const json_t *input,
                      enum pol_effect *effect, char *reason, size_t cap)
{
    gw_err rc = GW_EUPSTREAM;
    struct gw_buf body;
    gw_buf_init(&body, OPA_MAX_RESPONSE);
    json_t *req = json_pack("{s:O}", "input", input);
    char *text = gw_json_compact(req);
    json_decref(req);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    json_t *doc = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        snprintf(reason, cap, "OPA unreachable (%s)", curl_easy_strerror(cc));
        goto out;
    }
    if (status < 200 || status > 299) {
        snprintf(reason, cap, "OPA answered HTTP %ld", status);
        goto out;
    }
    char msg[160];
    doc = gw_json_parse(body.data ? body.data : "", body.len, GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    json_t *result = json_object_get(doc, "result");
    json_t *allow = json_object_get(result, "allow");
    json_t *approval = json_object_get(result, "require_approval");
    if (!json_is_boolean(allow) || (approval && !json_is_boolean(approval))) {
        snprintf(reason, cap, "OPA answer has no boolean result.allow%s%s", doc ? "" : ": ",
                 doc ? "" : msg);
        goto out;
    }
    const char *why = gw_json_str(result, "reason");
    *effect = !json_is_true(allow) ? POL_DENY
              : json_is_true(approval) ? POL_REQUIRE_APPROVAL : POL_ALLOW;
    snprintf(reason, cap, "OPA: %.200s", why ? why : pol_effect_name(*effect));
    rc = GW_OK;
out:
    json_decref(doc);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    free(text);
    gw_buf_release(&body);
    return rc;
}
