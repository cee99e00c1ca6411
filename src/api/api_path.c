/* SPDX-License-Identifier: MIT
 * api_path.c — request path segmentation and route pattern matching (see api_router.c).
 *
 * Paths are split on '/' while still percent-encoded and each segment is decoded on its own,
 * so an encoded slash ("%2f") stays inside its segment and is then refused by the name rules.
 * Segments that decode to "." or "..", contain '/', '\', control bytes or non-ASCII bytes are
 * refused with 400 before any route sees them. The rest of a path after a "{*}" route's prefix
 * is decoded whole (api_path_rest), with the same rules for each part between slashes.
 */
#include "base/prelude.h"
#include "api/api_path.h"
#include "base/mem.h"
#include "http/http.h"

bool api_path_split(struct gw_pool *pool, const char *p, char **seg, size_t *nseg, const char **why)
{
    *nseg = 0;
    if (p[0] != '/') {
        *why = "path must start with '/'";
        return false;
    }
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (*nseg == API_MAX_SEGMENTS) {
            *why = "path has too many segments";
            return false;
        }
        char *d = gw_pool_alloc(pool, API_MAX_SEGMENT + 1);
        if (len > API_MAX_SEGMENT * 3 || !http_pct_decode(p, len, d, API_MAX_SEGMENT + 1)) {
            *why = "malformed path segment";
            return false;
        }
        if (strcmp(d, ".") == 0 || strcmp(d, "..") == 0) {
            *why = "'.' and '..' are not allowed in paths";
            return false;
        }
        for (const unsigned char *c = (const unsigned char *)d; *c; c++) {
            if (*c == '/' || *c == '\\' || *c < 0x20 || *c >= 0x7f) {
                *why = "path segment contains a forbidden character";
                return false;
            }
        }
        seg[(*nseg)++] = d;
        p += len;
    }
    return true;
}

bool api_path_match(const char *pattern, char *const *seg, size_t nseg, const char **var,
                    size_t *n_var)
{
    size_t i = 0;
    *n_var = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= nseg)
            return false;
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (!seg[i][0])
                return false;
            var[(*n_var)++] = seg[i];
        } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len;
    }
    return i == nseg;
}

char *api_path_rest(struct gw_pool *pool, const char *rest, const char **why)
{
    size_t len = strlen(rest);
    char *d = gw_pool_alloc(pool, 2 * API_MAX_SEGMENT + 1);
    bool ok = len > 0 && len <= 6 * API_MAX_SEGMENT &&
              http_pct_decode(rest, len, d, 2 * API_MAX_SEGMENT + 1) && d[0];
    for (const char *p = d; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f && *p != '\\' &&
             !((p == d || p[-1] == '/') && (*p == '/' || !strcmp(p, ".") || !strncmp(p, "./", 2) ||
                                            !strcmp(p, "..") || !strncmp(p, "../", 3)));
    if (!ok || d[strlen(d) - 1] == '/') {
        *why = "malformed path segment";
        return NULL;
    }
    return d;
}
