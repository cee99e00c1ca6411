/* SPDX-License-Identifier: MIT
 * net_url.c — the URL pieces net/ and its users need: the host of a URL (what the egress policy
 * judges and a proxy exemption matches) and percent-encoding (the CLI builds its request paths
 * and reads its sign-in callback with it).
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/mem.h"

bool net_url_host(const char *url, char *out, size_t cap)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p || cap == 0)
        return false;
    p += 3;
    size_t end = strcspn(p, "/?#");
    const char *at = memchr(p, '@', end); /* user:password@ */
    if (at) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t n;
    if (*p == '[') { /* [v6]:port */
        const char *close = memchr(p, ']', end);
        if (!close)
            return false;
        p++;
        n = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', end);
        n = colon ? (size_t)(colon - p) : end;
    }
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    out[n] = '\0';
    return true;
}

char *net_url_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, (int)strlen(s));
    if (!e)
        abort(); /* out of memory, as gw_xmalloc */
    char *out = gw_xstrdup(e);
    curl_free(e);
    return out;
}

char *net_url_unescape(const char *s, size_t len, size_t *out_len)
{
    int n = 0;
    char *d = curl_easy_unescape(NULL, s, (int)len, &n);
    if (!d)
        abort();
    char *out = NULL;
    if (memchr(d, '\0', (size_t)n) == NULL) {
        out = gw_xstrndup(d, (size_t)n);
        if (out_len)
            *out_len = (size_t)n;
    }
    explicit_bzero(d, (size_t)n); /* it may be a secret (an authorization code) */
    curl_free(d);
    return out;
}
