/* SPDX-License-Identifier: MIT
 * api_openapi.c — GET /api/v1/openapi.json: the API's OpenAPI 3.1 document (docs/openapi.json).
 *
 * The document is compiled in at build time (docs/openapi.cmake), so what a gateway serves is
 * the contract of the build that serves it. It is public like the health endpoints, and
 * cacheable: an ETag from its SHA-256, "no-cache" so a cache revalidates it (an upgrade changes
 * it), and 304 when If-None-Match names the current ETag.
 */
#include "base/prelude.h"
#include "api/api_int.h"

#include <strings.h>

extern const unsigned char api_openapi_doc[];
extern const size_t api_openapi_len;
extern const char api_openapi_etag[];

/* If-None-Match: "*" or a comma-separated list of entity tags, weak ones (W/"...") matching
 * too (RFC 9110 13.1.2). */
static bool etag_matches(const char *header, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p = strchr(p, ',');
    }
    return false;
}

void api_openapi(struct api_call *c)
{
    char etag[80];
    snprintf(etag, sizeof etag, "ETag: %s", api_openapi_etag);
    const char *hdrs[] = {etag, "Cache-Control: public, no-cache", NULL};
    if (etag_matches(http_header(c->r, "If-None-Match"), api_openapi_etag)) {
        http_respond_static(c->r, 304, NULL, "", 0, hdrs);
        return;
    }
    http_respond_static(c->r, 200, "application/json", api_openapi_doc, api_openapi_len, hdrs);
}
