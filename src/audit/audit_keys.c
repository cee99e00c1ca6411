/* SPDX-License-Identifier: MIT
 * audit_keys.c — the gateway's audit keys: Ed25519 checkpoint signing key and the PII HMAC key.
 *
 * Both are created at first start in the data directory with mode 0600 and never overwritten:
 * a new file is written under a temporary name (O_EXCL|O_NOFOLLOW), fsynced and linked into
 * place, so a crash never leaves a half-written key and two starting processes cannot both
 * create one. The signing key is PKCS#8 PEM; the public key is published as base64url of the
 * raw 32 bytes, its id is the first 16 hex chars of SHA-256(raw public key).
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#define KEY_FILE "audit_ed25519.pem"
#define PII_FILE "audit_pii.key"
#define KEY_FILE_MAX 65536

/* Reads a small private file without following a symlink. */
static gw_err read_private(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        gw_warn("audit key file %s is readable by others (mode %o); expected 0600", path,
                (unsigned)(st.st_mode & 0777));
    return gw_fd_read_all(fd, KEY_FILE_MAX, out, len) == GW_OK ? GW_OK : GW_EIO;
}

/* Creates path with exactly data, mode 0600; GW_ECONFLICT if it already exists. */
static gw_err create_private(const char *path, const void *data, size_t len)
{
    char rnd[17];
    gw_random_hex(rnd, 8);
    char *tmp = gw_xasprintf("%s.tmp-%s", path, rnd);
    gw_err rc = GW_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(tmp);
        return GW_EIO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off == len && fsync(fd) == 0 && close(fd) == 0) {
        fd = -1;
        if (link(tmp, path) == 0)
            rc = GW_OK;
        else if (errno == EEXIST)
            rc = GW_ECONFLICT;
    }
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    if (rc == GW_OK) { /* make the new directory entry durable */
        char *dir = gw_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
        }
        free(dir);
    }
    return rc;
}

static gw_err load_signing_key(struct audit_keys *k, const char *path)
{
    char *pem = NULL;
    size_t len = 0;
    gw_err rc = read_private(path, &pem, &len);
    if (rc != GW_OK)
        return rc;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    free(pem);
    if (!pk || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pk);
        gw_error("audit signing key %s is not an Ed25519 private key", path);
        return GW_ECONFIG;
    }
    k->pkey = pk;
    return GW_OK;
}

static gw_err create_signing_key(const char *path)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pk)
        return GW_EINTERNAL;
    BIO *bio = BIO_new(BIO_s_mem());
    gw_err rc = GW_EINTERNAL;
    if (bio && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        rc = n > 0 ? create_private(path, data, (size_t)n) : GW_EINTERNAL;
    }
    BIO_free(bio); /* BIO_free of a mem BIO clears nothing; the bytes are freed with it */
    EVP_PKEY_free(pk);
    return rc;
}

static gw_err load_pii_key(struct audit_keys *k, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    gw_err rc = read_private(path, &data, &len);
    if (rc != GW_OK)
        return rc;
    /* 32 raw bytes as written at creation; 64 hex chars (optionally + newline) accepted too. */
    if (len == sizeof k->pii_key) {
        memcpy(k->pii_key, data, len);
    } else if ((len == 64 || (len == 65 && data[64] == '\n'))) {
        data[64] = '\0';
        if (!gw_unhex(data, k->pii_key, sizeof k->pii_key))
            rc = GW_ECONFIG;
    } else {
        rc = GW_ECONFIG;
    }
    OPENSSL_cleanse(data, len);
    free(data);
    if (rc != GW_OK)
        gw_error("audit PII key %s must hold 32 bytes", path);
    return rc;
}

gw_err audit_keys_load(struct audit_keys *k, const char *data_dir)
{
    memset(k, 0, sizeof *k);
    char *kpath = gw_xasprintf("%s/%s", data_dir, KEY_FILE);
    char *ppath = gw_xasprintf("%s/%s", data_dir, PII_FILE);
    gw_err rc = load_signing_key(k, kpath);
    if (rc == GW_ENOTFOUND) {
        rc = create_signing_key(kpath);
        if (rc == GW_OK)
            gw_info("audit: created signing key %s", kpath);
        if (rc == GW_OK || rc == GW_ECONFLICT) /* created here or by a concurrent start */
            rc = load_signing_key(k, kpath);
    }
    if (rc != GW_OK) {
        gw_error("audit: cannot load or create %s (%s)", kpath, gw_err_name(rc));
        goto out;
    }
    size_t publen = sizeof k->pub;
    if (EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &publen) != 1 || publen != sizeof k->pub) {
        rc = GW_EINTERNAL;
        goto out;
    }
    gw_b64url(k->pub, sizeof k->pub, k->public_key);
    audit_pubkey_id(k->pub, k->key_id);

    rc = load_pii_key(k, ppath);
    if (rc == GW_ENOTFOUND) {
        unsigned char fresh[32];
        gw_random(fresh, sizeof fresh);
        rc = create_private(ppath, fresh, sizeof fresh);
        OPENSSL_cleanse(fresh, sizeof fresh);
        if (rc == GW_OK || rc == GW_ECONFLICT)
            rc = load_pii_key(k, ppath);
    }
    if (rc != GW_OK)
        gw_error("audit: cannot load or create %s (%s)", ppath, gw_err_name(rc));
out:
    if (rc != GW_OK)
        audit_keys_release(k);
    free(kpath);
    free(ppath);
    return rc;
}

void audit_keys_release(struct audit_keys *k)
{
    EVP_PKEY_free(k->pkey);
    OPENSSL_cleanse(k, sizeof *k);
    k->pkey = NULL;
}

void audit_pubkey_id(const unsigned char pub[AUDIT_PUBKEY_LEN], char out[17])
{
    char hex[65];
    gw_sha256_hex(pub, AUDIT_PUBKEY_LEN, hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

long audit_b64url_decode(const char *in, unsigned char *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        int v;
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-')
            v = 62;
        else if (c == '_')
            v = 63;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (bits >= 6 || acc != 0) /* a dangling character or non-zero padding bits */
        return -1;
    return (long)n;
}

bool audit_pubkey_decode(const char *b64, unsigned char out[AUDIT_PUBKEY_LEN])
{
    unsigned char tmp[AUDIT_PUBKEY_LEN + 4];
    if (!b64 || strlen(b64) != AUDIT_PUBKEY_B64_LEN)
        return false;
    if (audit_b64url_decode(b64, tmp, sizeof tmp) != AUDIT_PUBKEY_LEN)
        return false;
    memcpy(out, tmp, AUDIT_PUBKEY_LEN);
    return true;
}

gw_err audit_checkpoint_sign(const struct audit_keys *k, const char *tenant, int64_t seq,
                             const char *hash, int64_t ts_ms, struct store_audit_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    out->tenant = gw_xstrdup(tenant);
    out->seq = seq;
    out->hash = gw_xstrdup(hash);
    out->ts_ms = ts_ms;
    out->key_id = gw_xstrdup(k->key_id);
    char *msg = audit_checkpoint_message(out);
    unsigned char sig[AUDIT_SIG_LEN];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
              EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, strlen(msg)) == 1 &&
              siglen == sizeof sig;
    EVP_MD_CTX_free(ctx);
    free(msg);
    if (!ok) {
        store_audit_checkpoint_release(out);
        memset(out, 0, sizeof *out);
        return GW_EINTERNAL;
    }
    out->signature = gw_xmalloc(AUDIT_SIG_B64_LEN + 3);
    gw_b64url(sig, sizeof sig, out->signature);
    return GW_OK;
}

bool audit_checkpoint_check(const unsigned char pub[AUDIT_PUBKEY_LEN],
                            const struct store_audit_checkpoint *c)
{
    unsigned char sig[AUDIT_SIG_LEN + 4];
    if (!c->signature || !c->tenant || !c->hash || strlen(c->signature) != AUDIT_SIG_B64_LEN ||
        audit_b64url_decode(c->signature, sig, sizeof sig) != AUDIT_SIG_LEN)
        return false;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AUDIT_PUBKEY_LEN);
    if (!pk)
        return false;
    char *msg = audit_checkpoint_message(c);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(ctx, sig, AUDIT_SIG_LEN, (const unsigned char *)msg,
                               strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    free(msg);
    return ok;
}
