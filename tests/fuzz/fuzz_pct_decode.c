/* SPDX-License-Identifier: MIT
 * fuzz_pct_decode.c — http_pct_decode (src/http/http_response.c), used on path segments and
 * query and form values, against a second decoder written here from RFC 3986 section 2.1:
 * both must accept the same inputs and produce the same bytes, the output never exceeds cap
 * (ASan watches the buffer, allocated at its exact size) and never contains a NUL.
 * The first input byte chooses the capacity (1..256), the rest is the encoded text, up to its
 * first NUL (every caller decodes part of a C string).
 */
#include "base/prelude.h"
#include "http/http.h"
#include "fuzz.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The reference: "%" HEXDIG HEXDIG is one byte, "%00" and a short or bad escape are refused,
 * everything else is itself; refused when the result and its NUL do not fit in cap. */
static bool reference(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)in[i];
        if (c == '%') {
            if (len - i < 3 || hexval((unsigned char)in[i + 1]) < 0 ||
                hexval((unsigned char)in[i + 2]) < 0)
                return false;
            c = hexval((unsigned char)in[i + 1]) * 16 + hexval((unsigned char)in[i + 2]);
            if (c == 0)
                return false;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t cap = (size_t)data[0] + 1;
    const char *in = (const char *)data + 1;
    size_t len = strnlen(in, size - 1);
    char *got = gw_xmalloc(cap), *want = gw_xmalloc(cap);
    bool ok = http_pct_decode(in, len, got, cap);
    FUZZ_CHECK(ok == reference(in, len, want, cap));
    if (ok) {
        FUZZ_CHECK(strlen(got) < cap);
        FUZZ_CHECK(strcmp(got, want) == 0);
    }
    free(got);
    free(want);
    return 0;
}
