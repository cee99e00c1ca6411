/* SPDX-License-Identifier: MIT
 * fuzz_path.c — the request path splitter and the route matcher (src/api/api_path.c) on any
 * path. Checks what the router relies on: an accepted path has at most API_MAX_SEGMENTS
 * decoded segments, each short, printable ASCII without '/' or '\' and never "." or "..";
 * a refused one says why; a match yields one non-empty variable per "{}" of the pattern.
 * The rest of a "{*}" route (api_path_rest) is bounded, printable, and has no empty, "." or
 * ".." part between its slashes.
 */
#include "base/prelude.h"
#include "api/api_path.h"
#include "fuzz.h"

/* Every shape of the route table (src/api/api_router.c). */
static const char *const patterns[] = {
    "/healthz",
    "/api/v1/tokens",
    "/api/v1/tokens/{}",
    "/api/v1/tokens/{}/rotate",
    "/api/v1/channels/{}/{}/messages",
    "/api/v1/memory/{}/{}",
    "/api/v1/auth/users/{}/sessions",
    "/api/v1/policies/{}/history",
    "/v1/chat/completions",
    "/api/v1/classification/{}/{}",
};

static size_t variables(const char *pattern)
{
    size_t n = 0;
    for (const char *p = strstr(pattern, "{}"); p; p = strstr(p + 2, "{}"))
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = fuzz_cstr(data, size);
    struct gw_pool *pool = gw_pool_new();
    const char *rest_why = NULL;
    const char *rest = api_path_rest(pool, path, &rest_why);
    FUZZ_CHECK(rest || rest_why);
    if (rest) {
        FUZZ_CHECK(strlen(rest) <= 2 * API_MAX_SEGMENT);
        for (const char *p = rest; *p; p++)
            FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '\\');
        for (const char *part = rest; part;
             part = strchr(part, '/') ? strchr(part, '/') + 1 : NULL) {
            size_t n = strcspn(part, "/");
            FUZZ_CHECK(n > 0 && !(n == 1 && part[0] == '.') &&
                       !(n == 2 && !strncmp(part, "..", 2)));
        }
    }
    char *seg[API_MAX_SEGMENTS];
    size_t nseg = 0;
    const char *why = NULL;
    if (!api_path_split(pool, path, seg, &nseg, &why)) {
        FUZZ_CHECK(why != NULL);
        goto out;
    }
    FUZZ_CHECK(nseg <= API_MAX_SEGMENTS);
    for (size_t i = 0; i < nseg; i++) {
        size_t len = strlen(seg[i]);
        FUZZ_CHECK(len <= API_MAX_SEGMENT);
        FUZZ_CHECK(strcmp(seg[i], ".") != 0 && strcmp(seg[i], "..") != 0);
        for (size_t k = 0; k < len; k++) {
            unsigned char c = (unsigned char)seg[i][k];
            FUZZ_CHECK(c >= 0x20 && c < 0x7f && c != '/' && c != '\\');
        }
    }
    for (size_t i = 0; i < GW_ARRAY_LEN(patterns); i++) {
        const char *var[API_MAX_SEGMENTS];
        size_t n_var = 0;
        if (!api_path_match(patterns[i], seg, nseg, var, &n_var))
            continue;
        FUZZ_CHECK(n_var == variables(patterns[i]));
        for (size_t k = 0; k < n_var; k++)
            FUZZ_CHECK(var[k][0] != '\0');
    }
out:
    gw_pool_free(pool);
    free(path);
    return 0;
}
