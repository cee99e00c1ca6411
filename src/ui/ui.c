/* SPDX-License-Identifier: MIT
 * ui.c — serves the web UI's assets from the table compiled into the binary (ui_int.h).
 *
 * Hashed assets (/ui/<name>-<hash>.js|css) are immutable and cached for a year; the HTML that
 * names them is never cached, so a new build reaches browsers on their next load. Compression
 * happened at build time: a client that accepts gzip gets the stored gzip bytes. Every answer
 * carries a strict Content-Security-Policy (no inline script or style, nothing from another
 * origin, no framing), nosniff and a Referrer-Policy. The HTML's asset paths carry the
 * tenant's path prefix ({{base}} in the template), which the application also reads from the
 * page to address the API.
 */
#include "base/prelude.h"
#include "ui/ui.h"
#include "ui/ui_int.h"
#include "base/buf.h"

#include <strings.h>

#define UI_CSP                                                                                     \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; "                             \
    "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "                \
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define UI_HEADERS                                                                                 \
    UI_CSP, "Referrer-Policy: no-referrer", "X-Frame-Options: DENY",                               \
        "Cross-Origin-Opener-Policy: same-origin", "Cross-Origin-Resource-Policy: same-origin"
#define UI_BASE_MARK "{{base}}"

static const struct ui_asset *find(const char *path)
{
    for (size_t i = 0; i < ui_asset_count; i++)
        if (strcmp(ui_assets[i].path, path) == 0)
            return &ui_assets[i];
    return NULL;
}

/* Does the client take gzip? Each element of Accept-Encoding is "coding[;q=value]"; q=0
 * refuses it. */
static bool accepts_gzip(struct http_req *r)
{
    const char *p = http_header(r, "Accept-Encoding");
    while (p && *p) {
        p += strspn(p, " ,");
        size_t item = strcspn(p, ","), name = strcspn(p, " ;,");
        bool gzip = name == 4 && strncasecmp(p, "gzip", 4) == 0;
        const char *q = memmem(p, item, "q=", 2);
        if (gzip)
            return !q || strtod(q + 2, NULL) > 0.0;
        p += item;
    }
    return false;
}

/* The HTML with every {{base}} replaced by the tenant's path prefix. */
static void serve_index(struct http_req *r, const struct ui_asset *a, const char *base)
{
    struct gw_buf b;
    gw_buf_init(&b, a->len + 64 * strlen(base) + 1);
    const char *s = (const char *)a->data, *end = s + a->len;
    size_t ml = strlen(UI_BASE_MARK);
    while (s < end) {
        const char *m = memmem(s, (size_t)(end - s), UI_BASE_MARK, ml);
        size_t n = m ? (size_t)(m - s) : (size_t)(end - s);
        gw_buf_append(&b, s, n);
        if (!m)
            break;
        gw_buf_puts(&b, base);
        s = m + ml;
    }
    const char *hdrs[] = {UI_HEADERS, "Cache-Control: no-cache", NULL};
    http_respond(r, 200, a->content_type, b.data ? b.data : "", b.len, hdrs);
    gw_buf_release(&b);
}

bool ui_serve(struct http_req *r, const char *path, const char *base)
{
    if ((r->method != HTTP_GET && r->method != HTTP_HEAD) || strncmp(path, "/api/", 5) == 0 ||
        strncmp(path, "/v1/", 4) == 0)
        return false;
    const struct ui_asset *a = find(strcmp(path, "/") == 0 ? "/index.html" : path);
    if (!a)
        return false;
    if (!a->immutable) {
        serve_index(r, a, base);
        return true;
    }
    bool gz = a->gz && accepts_gzip(r);
    const char *hdrs[] = {UI_HEADERS, "Cache-Control: public, max-age=31536000, immutable",
                          "Vary: Accept-Encoding", gz ? "Content-Encoding: gzip" : NULL, NULL};
    http_respond_static(r, 200, a->content_type, gz ? a->gz : a->data, gz ? a->gz_len : a->len,
                        hdrs);
    return true;
}
