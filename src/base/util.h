/* SPDX-License-Identifier: MIT
 * util.h — time, randomness, encodings and hashing used across subsystems.
 */
#ifndef GW_UTIL_H
#define GW_UTIL_H

#include "base/prelude.h"
#include "base/err.h"

/* Wall clock, milliseconds since the epoch. */
int64_t gw_now_ms(void);
/* Monotonic clock in nanoseconds (for durations and deadlines). */
int64_t gw_mono_ns(void);
/* "2025-01-10T09:23:14.123Z" into out (at least 32 bytes). */
void gw_time_iso8601(int64_t ms, char *out, size_t cap);
/* Parses RFC 3339 / ISO 8601 UTC ("2025-01-10T09:23:14Z", optional .fff, or a date "2025-01-10")
 * into epoch ms. Returns false on any malformed input. */
bool gw_time_parse(const char *s, int64_t *ms);

/* An amount of money for people: two decimals, more when they matter (at most six: 50.00,
 * 50.12, 0.00043), "<0.000001" for a positive amount below that, "-" when not finite. */
#define GW_MONEY_MAX 48
void gw_money(double v, char out[GW_MONEY_MAX]);

/* Cryptographically secure random bytes (getrandom); aborts if the kernel refuses. */
void gw_random(void *out, size_t n);
/* n random bytes as lowercase hex into out (2n+1 bytes). */
void gw_random_hex(char *out, size_t nbytes);

void gw_hex(const unsigned char *in, size_t n, char *out /* 2n+1 */);
/* Returns false on odd length or a non-hex digit. */
bool gw_unhex(const char *in, unsigned char *out, size_t outlen);
/* base64url without padding; out needs 4*ceil(n/3)+1 bytes. */
void gw_b64url(const unsigned char *in, size_t n, char *out);
/* Standard base64 with padding; out needs 4*ceil(n/3)+1 bytes. */
void gw_b64(const unsigned char *in, size_t n, char *out);
/* Decodes standard base64 (padding optional, ASCII whitespace ignored) into out, at most cap
 * bytes. False on any other character, misplaced padding, a truncated quantum or overflow. */
bool gw_b64_decode(const char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen);

#define GW_SHA256_LEN 32
void gw_sha256(const void *data, size_t n, unsigned char out[GW_SHA256_LEN]);
/* Lowercase hex SHA-256 into out (65 bytes). */
void gw_sha256_hex(const void *data, size_t n, char out[65]);
void gw_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                    unsigned char out[GW_SHA256_LEN]);
/* Constant-time equality of two byte strings of the same length. */
bool gw_ct_equal(const void *a, const void *b, size_t n);

/* An unencrypted PEM private key (an OpenSSL EVP_PKEY, freed with EVP_PKEY_free), or NULL: an
 * encrypted key is refused, never prompted for. */
struct evp_pkey_st;
struct evp_pkey_st *gw_pem_private_key(const char *pem);
/* The JWS algorithm a private key signs with here: "RS256" for RSA of 2048 bits or more,
 * "ES256" for EC on P-256, NULL for any other key (smaller RSA, RSA-PSS, other curves, EdDSA). */
const char *gw_key_jws_alg(const struct evp_pkey_st *k);

/* Reads the whole regular file open on fd (at most max bytes) into a malloc'd NUL-terminated
 * string and closes fd in every case. GW_EFORBIDDEN when fd is not a regular file,
 * GW_ETOOBIG above max. */
gw_err gw_fd_read_all(int fd, size_t max, char **out, size_t *len);
/* Reads a whole file (at most max bytes) into a malloc'd NUL-terminated string. */
gw_err gw_file_read(const char *path, size_t max, char **out, size_t *len);
/* Writes a file atomically (temp + fsync + rename) with the given mode; the temporary file is
 * created exclusively (O_EXCL, O_NOFOLLOW) with that mode, so it is never wider. */
gw_err gw_file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* mkdir -p with the given mode. */
gw_err gw_mkdirs(const char *path, int mode);

/* Optimal string alignment distance ("did you mean"): insertions, deletions, substitutions and
 * swaps of neighbours ("tokesn") cost 1 each; 255 when a word is longer than 64 bytes (never a
 * typo of one of our names). */
#define GW_EDIT_DISTANCE_MAX_LEN 64
unsigned gw_edit_distance(const char *a, const char *b);

#endif
