/* SPDX-License-Identifier: MIT
 * util.c — time, randomness, encodings, hashing and small file helpers.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

int64_t gw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gw_time_iso8601(int64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void gw_money(double v, char out[GW_MONEY_MAX])
{
    if (!(v == v) || v > 1e30 || v < -1e30) { /* NaN, infinite, or too long to print */
        snprintf(out, GW_MONEY_MAX, "-");
        return;
    }
    int n = snprintf(out, GW_MONEY_MAX, "%.6f", v);
    if (v > 0 && strtod(out, NULL) == 0) { /* not nothing, but below what six decimals show */
        snprintf(out, GW_MONEY_MAX, "<0.000001");
        return;
    }
    while (n > 0 && out[n - 1] == '0' && out[n - 3] != '.')
        out[--n] = '\0';
    if (strcmp(out, "-0.00") == 0)
        memmove(out, out + 1, (size_t)n);
}

static bool parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

bool gw_time_parse(const char *s, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
    const char *p = s;
    if (!parse_digits(&p, 4, &y) || *p++ != '-' || !parse_digits(&p, 2, &mo) || *p++ != '-' ||
        !parse_digits(&p, 2, &d))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!parse_digits(&p, 2, &h) || *p++ != ':' || !parse_digits(&p, 2, &mi) || *p++ != ':' ||
            !parse_digits(&p, 2, &sec))
            return false;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (*p >= '0' && *p <= '9') {
                if (digits < 3)
                    frac = frac * 10 + (*p - '0');
                digits++;
                p++;
            }
            if (digits == 0)
                return false;
            for (; digits < 3; digits++)
                frac *= 10;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
        else
            return false;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = (int64_t)t * 1000 + frac;
    return true;
}

static void random_fill(unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "openclaw: getrandom failed\n");
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

/* Request ids, completion ids and session secrets took two getrandom calls per proxied
 * request; each thread now draws small amounts from its own block of kernel randomness
 * (bytes are handed out once, then wiped). The daemon never forks, so no two processes can
 * share a block. Large requests (keys) go to the kernel directly. */
#define RANDOM_BLOCK 512

void gw_random(void *out, size_t n)
{
    static _Thread_local unsigned char block[RANDOM_BLOCK];
    static _Thread_local size_t used = RANDOM_BLOCK;
    if (n > RANDOM_BLOCK / 8) {
        random_fill(out, n);
        return;
    }
    if (RANDOM_BLOCK - used < n) {
        random_fill(block, sizeof block);
        used = 0;
    }
    memcpy(out, block + used, n);
    memset(block + used, 0, n);
    used += n;
}

void gw_random_hex(char *out, size_t nbytes)
{
    unsigned char tmp[64];
    while (nbytes > 0) {
        size_t k = GW_MIN(nbytes, sizeof(tmp));
        gw_random(tmp, k);
        gw_hex(tmp, k, out);
        out += 2 * k;
        nbytes -= k;
    }
}

void gw_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool gw_unhex(const char *in, unsigned char *out, size_t outlen)
{
    if (strlen(in) != 2 * outlen)
        return false;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static void b64_generic(const unsigned char *in, size_t n, char *out, const char *alpha, bool pad)
{
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        out[o++] = alpha[v >> 6 & 63];
        out[o++] = alpha[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18 & 63];
        out[o++] = alpha[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = alpha[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
}

void gw_b64url(const unsigned char *in, size_t n, char *out)
{
    b64_generic(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                false);
}

void gw_b64(const unsigned char *in, size_t n, char *out)
{
    b64_generic(in, n, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                true);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

bool gw_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen)
{
    uint32_t acc = 0;
    size_t have = 0, o = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad)
            return false; /* a character after padding */
        acc = acc << 6 | (uint32_t)v;
        if (++have == 4) {
            if (o + 3 > cap)
                return false;
            out[o++] = (unsigned char)(acc >> 16);
            out[o++] = (unsigned char)(acc >> 8);
            out[o++] = (unsigned char)acc;
            acc = 0;
            have = 0;
        }
    }
    if (have == 1 || pad > 2 || (pad && pad != 4 - have))
        return false;
    if (have) {
        size_t extra = have - 1;
        if (o + extra > cap)
            return false;
        acc <<= 6 * (4 - have);
        out[o++] = (unsigned char)(acc >> 16);
        if (extra == 2)
            out[o++] = (unsigned char)(acc >> 8);
    }
    *outlen = o;
    return true;
}

void gw_sha256(const void *data, size_t n, unsigned char out[GW_SHA256_LEN])
{
    SHA256(data, n, out);
}

void gw_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char d[GW_SHA256_LEN];
    SHA256(data, n, d);
    gw_hex(d, sizeof(d), out);
}

void gw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[GW_SHA256_LEN])
{
    unsigned int len = GW_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len);
}

bool gw_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    GW_UNUSED(buf);
    GW_UNUSED(size);
    GW_UNUSED(rwflag);
    GW_UNUSED(u);
    return 0;
}

EVP_PKEY *gw_pem_private_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    return key;
}

const char *gw_key_jws_alg(const EVP_PKEY *k)
{
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
        return EVP_PKEY_get_bits(k) >= 2048 ? "RS256" : NULL;
    char group[64];
    size_t len = 0;
    if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(k, group, sizeof(group), &len) == 1 && !strcmp(group, "prime256v1"))
        return "ES256";
    return NULL;
}

gw_err gw_fd_read_all(int fd, size_t max, char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return GW_EFORBIDDEN;
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return GW_ETOOBIG;
    }
    char *data = gw_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    data[got] = '\0';
    *out = data;
    if (len)
        *len = got;
    return GW_OK;
}

gw_err gw_file_read(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
    gw_err rc = gw_fd_read_all(fd, max, out, len);
    return rc == GW_EFORBIDDEN ? GW_EIO : rc;
}

gw_err gw_file_write_atomic(const char *path, const void *data, size_t len, int mode)
{
    char *tmp = gw_xasprintf("%s.tmp.%d", path, (int)getpid());
    /* a fresh file of ours: never through a leftover file or a link planted at that name */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    gw_err rc = GW_OK;
    if (fd < 0) {
        free(tmp);
        return GW_EIO;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = GW_EIO;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == GW_OK && fsync(fd) != 0)
        rc = GW_EIO;
    close(fd);
    if (rc == GW_OK && rename(tmp, path) != 0)
        rc = GW_EIO;
    if (rc != GW_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

gw_err gw_mkdirs(const char *path, int mode)
{
    char *p = gw_xstrdup(path);
    gw_err rc = GW_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char saved = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                rc = GW_EIO;
                break;
            }
            *s = saved;
            if (saved == '\0')
                break;
        }
    }
    free(p);
    return rc;
}

unsigned gw_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > GW_EDIT_DISTANCE_MAX_LEN || m > GW_EDIT_DISTANCE_MAX_LEN)
        return 255;
    /* three rows of the dynamic programme: i-2, i-1, i */
    unsigned rows[3][GW_EDIT_DISTANCE_MAX_LEN + 1];
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = rows[1][j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        unsigned *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned d = GW_MIN(prev[j] + 1, cur[j - 1] + 1);
            d = GW_MIN(d, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d = GW_MIN(d, prev2[j - 2] + 1);
            cur[j] = d;
        }
    }
    return GW_MIN(rows[n % 3][m], 255u);
}
