/* SPDX-License-Identifier: MIT
 * audit_keys.c — the gateway's audit keys: the Ed25519 key that signs heads, the keys it
 * replaced, and the PII HMAC key.
 *
 * Both files are created at first start in the data directory with mode 0600: a new file is
 * written under a temporary name (O_EXCL|O_NOFOLLOW), fsynced and linked into place, so a crash
 * never leaves a half-written key and two starting processes cannot both create one. The
 * signing key is PKCS#8 PEM; the public key is published as base64url of the raw 32 bytes, its
 * id is the first 16 hex chars of SHA-256(raw public key).
 *
 * Rotation: a fresh key is written to <pem>.next, a statement naming the old and the new public
 * key is signed by both and stored, and only then is <pem>.next renamed over the pem. A verifier
 * that trusts either key can follow the statement to the other, so old heads keep verifying and
 * new ones are trusted by whoever held the old key. A crash before the rename leaves the old key
 * in use; the next start finishes a rotation the store knows of and removes one it does not.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
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
#define NEXT_FILE "audit_ed25519.pem.next"
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

static void sync_dir_of(const char *path)
{
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
    if (rc == GW_OK) /* make the new directory entry durable */
        sync_dir_of(path);
    return rc;
}

static EVP_PKEY *read_key(const char *path, gw_err *rc)
{
    char *pem = NULL;
    size_t len = 0;
    *rc = read_private(path, &pem, &len);
    if (*rc != GW_OK)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    OPENSSL_cleanse(pem, len);
    free(pem);
    if (!pk || EVP_PKEY_get_id(pk) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pk);
        gw_error("audit signing key %s is not an Ed25519 private key", path);
        *rc = GW_ECONFIG;
        return NULL;
    }
    return pk;
}

/* k's public fields from its private key. */
static gw_err take_key(struct audit_keys *k, EVP_PKEY *pk)
{
    size_t publen = sizeof k->pub;
    if (EVP_PKEY_get_raw_public_key(pk, k->pub, &publen) != 1 || publen != sizeof k->pub) {
        EVP_PKEY_free(pk);
        return GW_EINTERNAL;
    }
    EVP_PKEY_free(k->pkey);
    k->pkey = pk;
    gw_b64url(k->pub, sizeof k->pub, k->public_key);
    audit_pubkey_id(k->pub, k->key_id);
    return GW_OK;
}

static gw_err load_signing_key(struct audit_keys *k, const char *path)
{
    gw_err rc;
    EVP_PKEY *pk = read_key(path, &rc);
    return pk ? take_key(k, pk) : rc;
}

/* Writes a fresh key to path (create_private); *out (optional) keeps it. */
static gw_err create_signing_key(const char *path, EVP_PKEY **out)
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
    if (rc == GW_OK && out)
        *out = pk;
    else
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

/* A <pem>.next left by a rotation that stopped before its rename: the rotation happened when
 * the store holds its statement (finish it), else it did not (forget the key). */
static void finish_rotation(const char *kpath, const char *npath, struct store *st)
{
    gw_err rc;
    EVP_PKEY *pk = read_key(npath, &rc);
    if (!pk)
        return;
    struct audit_keys probe = {0};
    bool known = false;
    if (take_key(&probe, pk) == GW_OK && st) {
        struct store_audit_key *keys = NULL;
        size_t n = 0;
        if (store_audit_key_list(st, &keys, &n) == GW_OK)
            for (size_t i = 0; i < n && !known; i++)
                known = strcmp(keys[i].key_id, probe.key_id) == 0;
        store_audit_key_list_free(keys, n);
    }
    if (known && rename(npath, kpath) == 0) {
        sync_dir_of(kpath);
        gw_warn("audit: finished the rotation to signing key %s interrupted by the last stop",
                probe.key_id);
    } else if (!known && unlink(npath) == 0) {
        gw_warn("audit: removed %s: a rotation that did not happen", npath);
    }
    audit_keys_release(&probe);
}

gw_err audit_keys_load(struct audit_keys *k, const char *data_dir, struct store *st)
{
    memset(k, 0, sizeof *k);
    k->dir = gw_xstrdup(data_dir);
    char *kpath = gw_xasprintf("%s/%s", data_dir, KEY_FILE);
    char *npath = gw_xasprintf("%s/%s", data_dir, NEXT_FILE);
    char *ppath = gw_xasprintf("%s/%s", data_dir, PII_FILE);
    if (access(npath, F_OK) == 0)
        finish_rotation(kpath, npath, st);
    gw_err rc = load_signing_key(k, kpath);
    if (rc == GW_ENOTFOUND) {
        rc = create_signing_key(kpath, NULL);
        if (rc == GW_OK)
            gw_info("audit: created signing key %s", kpath);
        if (rc == GW_OK || rc == GW_ECONFLICT) /* created here or by a concurrent start */
            rc = load_signing_key(k, kpath);
    }
    if (rc != GW_OK) {
        gw_error("audit: cannot load or create %s (%s)", kpath, gw_err_name(rc));
        goto out;
    }

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
    free(npath);
    free(ppath);
    return rc;
}

void audit_keys_release(struct audit_keys *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->dir);
    free(k->node_id);
    OPENSSL_cleanse(k, sizeof *k);
    k->pkey = NULL;
    k->dir = NULL;
    k->node_id = NULL;
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

/* base64url Ed25519 signature of msg by pk (malloc'd), NULL on failure. */
static char *sign(EVP_PKEY *pk, const char *msg)
{
    unsigned char sig[AUDIT_SIG_LEN];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, strlen(msg)) == 1 &&
              siglen == sizeof sig;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return NULL;
    char *out = gw_xmalloc(AUDIT_SIG_B64_LEN + 3);
    gw_b64url(sig, sizeof sig, out);
    return out;
}

static bool sig_ok(const unsigned char pub[AUDIT_PUBKEY_LEN], const char *signature,
                   const char *msg)
{
    unsigned char sig[AUDIT_SIG_LEN + 4];
    if (!signature || strlen(signature) != AUDIT_SIG_B64_LEN ||
        audit_b64url_decode(signature, sig, sizeof sig) != AUDIT_SIG_LEN)
        return false;
    EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AUDIT_PUBKEY_LEN);
    if (!pk)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
              EVP_DigestVerify(ctx, sig, AUDIT_SIG_LEN, (const unsigned char *)msg, strlen(msg)) ==
                  1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pk);
    return ok;
}

gw_err audit_checkpoint_sign(const struct audit_keys *k, const char *tenant, int64_t seq,
                             const char *hash, const char *root, int64_t ts_ms,
                             struct store_audit_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    out->tenant = gw_xstrdup(tenant);
    out->seq = seq;
    out->hash = gw_xstrdup(hash);
    out->root = root ? gw_xstrdup(root) : NULL;
    out->ts_ms = ts_ms;
    out->key_id = gw_xstrdup(k->key_id);
    char *msg = audit_checkpoint_message(out);
    out->signature = sign(k->pkey, msg);
    free(msg);
    if (!out->signature) {
        store_audit_checkpoint_release(out);
        return GW_EINTERNAL;
    }
    return GW_OK;
}

bool audit_checkpoint_check(const unsigned char pub[AUDIT_PUBKEY_LEN],
                            const struct store_audit_checkpoint *c)
{
    if (!c->tenant || !c->hash)
        return false;
    char *msg = audit_checkpoint_message(c);
    bool ok = sig_ok(pub, c->signature, msg);
    free(msg);
    return ok;
}

/* --- the keyring and rotation ----------------------------------------------------------------- */

bool audit_keyring_add(struct audit_keyring *r, const char *public_key)
{
    unsigned char pub[AUDIT_PUBKEY_LEN];
    if (!audit_pubkey_decode(public_key, pub))
        return false;
    char id[17];
    audit_pubkey_id(pub, id);
    if (audit_keyring_find(r, id))
        return true;
    r->k = gw_xrealloc(r->k, (r->n + 1) * sizeof *r->k);
    struct audit_keyring_key *e = &r->k[r->n++];
    memcpy(e->key_id, id, sizeof id);
    memcpy(e->pub, pub, sizeof pub);
    snprintf(e->public_key, sizeof e->public_key, "%s", public_key);
    return true;
}

const struct audit_keyring_key *audit_keyring_find(const struct audit_keyring *r,
                                                   const char *key_id)
{
    for (size_t i = 0; key_id && i < r->n; i++)
        if (strcmp(r->k[i].key_id, key_id) == 0)
            return &r->k[i];
    return NULL;
}

void audit_keyring_release(struct audit_keyring *r)
{
    free(r->k);
    r->k = NULL;
    r->n = 0;
}

char *audit_key_message(const char *prev_public_key, const char *public_key, int64_t ts_ms)
{
    return gw_xasprintf(AUDIT_KEY_DOMAIN "%s\n%s\n%lld\n", prev_public_key ? prev_public_key : "",
                        public_key ? public_key : "", (long long)ts_ms);
}

static const struct store_audit_key *key_by_id(const struct store_audit_key *keys, size_t n,
                                               const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (strcmp(keys[i].key_id, id) == 0)
            return &keys[i];
    return NULL;
}

/* Whether the statement of k (whose predecessor's public key is prev_pub) is signed by both. */
static bool statement_ok(const struct store_audit_key *k, const char *prev_pub)
{
    unsigned char pub[AUDIT_PUBKEY_LEN], ppub[AUDIT_PUBKEY_LEN];
    char id[17];
    if (!audit_pubkey_decode(k->public_key, pub))
        return false;
    audit_pubkey_id(pub, id);
    if (strcmp(id, k->key_id) != 0 || (prev_pub && !audit_pubkey_decode(prev_pub, ppub)))
        return false;
    char *msg = audit_key_message(prev_pub, k->public_key, k->ts_ms);
    bool ok = sig_ok(pub, k->sig_new, msg) && (!prev_pub || sig_ok(ppub, k->sig_prev, msg));
    free(msg);
    return ok;
}

bool audit_keyring_follow(struct audit_keyring *r, const struct store_audit_key *k,
                          const char *prev_public_key)
{
    unsigned char ppub[AUDIT_PUBKEY_LEN];
    char prev_id[17];
    if (!prev_public_key || !audit_pubkey_decode(prev_public_key, ppub))
        return false;
    audit_pubkey_id(ppub, prev_id);
    if (!k->prev_key_id || strcmp(prev_id, k->prev_key_id) != 0)
        return false;
    bool has_new = audit_keyring_find(r, k->key_id) != NULL;
    bool has_old = audit_keyring_find(r, prev_id) != NULL;
    if (has_new == has_old || !statement_ok(k, prev_public_key))
        return false;
    return audit_keyring_add(r, has_new ? prev_public_key : k->public_key);
}

void audit_keyring_extend(struct audit_keyring *r, const struct store_audit_key *keys, size_t n)
{
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            const struct store_audit_key *prev = key_by_id(keys, n, keys[i].prev_key_id);
            if (prev && audit_keyring_follow(r, &keys[i], prev->public_key))
                grew = true;
        }
    }
}

gw_err audit_keys_sync(struct audit_keys *k, struct store *st, struct audit_keyring *r)
{
    struct store_audit_key *keys = NULL;
    size_t n = 0;
    gw_err rc = store_audit_key_list(st, &keys, &n);
    if (rc != GW_OK)
        return rc;
    if (!key_by_id(keys, n, k->key_id)) {
        /* first start, or a key put in place by hand: it succeeds nothing */
        struct store_audit_key rec = {.key_id = k->key_id,
                                      .public_key = k->public_key,
                                      .ts_ms = gw_now_ms(),
                                      .node_id = k->node_id};
        char *msg = audit_key_message(NULL, k->public_key, rec.ts_ms);
        rec.sig_new = sign(k->pkey, msg);
        free(msg);
        rc = rec.sig_new ? store_audit_key_insert(st, &rec) : GW_EINTERNAL;
        free(rec.sig_new);
        if (rc != GW_OK && rc != GW_ECONFLICT)
            goto out;
        if (n > 0)
            gw_warn("audit: signing key %s succeeds no earlier key (it was not rotated in): "
                    "heads signed by earlier keys verify only with their public keys",
                    k->key_id);
        rc = GW_OK;
    }
    audit_keyring_add(r, k->public_key);
    audit_keyring_extend(r, keys, n);
out:
    store_audit_key_list_free(keys, n);
    return rc;
}

gw_err audit_keyring_published(struct audit_keyring *r, struct store *st)
{
    struct store_audit_key *keys = NULL;
    size_t n = 0;
    gw_err rc = store_audit_key_list(st, &keys, &n);
    for (size_t i = 0; rc == GW_OK && i < n; i++) {
        const struct store_audit_key *prev = key_by_id(keys, n, keys[i].prev_key_id);
        if (statement_ok(&keys[i], prev ? prev->public_key : NULL))
            audit_keyring_add(r, keys[i].public_key);
    }
    store_audit_key_list_free(keys, n);
    return rc;
}

gw_err audit_keys_prepare(const struct audit_keys *k, struct store_audit_key *rec, EVP_PKEY **next)
{
    memset(rec, 0, sizeof *rec);
    *next = NULL;
    char *npath = gw_xasprintf("%s/%s", k->dir, NEXT_FILE);
    unlink(npath); /* a rotation that never finished: the store does not name that key */
    struct audit_keys nk = {0};
    EVP_PKEY *pk = NULL;
    gw_err rc = create_signing_key(npath, &pk);
    free(npath);
    if (rc != GW_OK)
        return rc;
    EVP_PKEY_up_ref(pk);
    if (take_key(&nk, pk) != GW_OK) {
        EVP_PKEY_free(pk);
        return GW_EINTERNAL;
    }
    rec->key_id = gw_xstrdup(nk.key_id);
    rec->public_key = gw_xstrdup(nk.public_key);
    rec->prev_key_id = gw_xstrdup(k->key_id);
    rec->node_id = k->node_id ? gw_xstrdup(k->node_id) : NULL;
    rec->ts_ms = gw_now_ms();
    char *msg = audit_key_message(k->public_key, nk.public_key, rec->ts_ms);
    rec->sig_prev = sign(k->pkey, msg);
    rec->sig_new = sign(nk.pkey, msg);
    free(msg);
    audit_keys_release(&nk);
    if (!rec->sig_prev || !rec->sig_new) {
        store_audit_key_release(rec);
        EVP_PKEY_free(pk);
        return GW_EINTERNAL;
    }
    *next = pk;
    return GW_OK;
}

gw_err audit_keys_switch(struct audit_keys *k, EVP_PKEY *next)
{
    char *kpath = gw_xasprintf("%s/%s", k->dir, KEY_FILE);
    char *npath = gw_xasprintf("%s/%s", k->dir, NEXT_FILE);
    gw_err rc = rename(npath, kpath) == 0 ? GW_OK : GW_EIO;
    if (rc == GW_OK) {
        sync_dir_of(kpath);
        rc = take_key(k, next);
    } else {
        EVP_PKEY_free(next);
    }
    free(kpath);
    free(npath);
    return rc;
}

json_t *audit_key_to_json(const struct store_audit_key *k, const char *prev_public_key)
{
    char ts[40];
    gw_time_iso8601(k->ts_ms, ts, sizeof ts);
    json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s,s:I,s:s?,s:s}", "type", "key", "key_id",
                          k->key_id, "public_key", k->public_key, "prev_key_id", k->prev_key_id,
                          "prev_public_key", prev_public_key, "ts", ts, "ts_ms",
                          (json_int_t)k->ts_ms, "sig_prev", k->sig_prev, "sig_new", k->sig_new);
    if (o && k->node_id) /* not signed: says which node published it (cluster mode) */
        json_object_set_new(o, "node_id", json_string(k->node_id));
    return o;
}

gw_err audit_key_from_json(const json_t *o, struct store_audit_key *out, char **prev_public)
{
    memset(out, 0, sizeof *out);
    *prev_public = NULL;
    const char *id = gw_json_str(o, "key_id"), *pub = gw_json_str(o, "public_key");
    const char *sig_new = gw_json_str(o, "sig_new");
    json_t *ts = json_object_get(o, "ts_ms");
    if (!id || !pub || !sig_new || !json_is_integer(ts))
        return GW_EINVAL;
    const char *prev_id = gw_json_str(o, "prev_key_id");
    const char *prev_pub = gw_json_str(o, "prev_public_key");
    const char *sig_prev = gw_json_str(o, "sig_prev");
    if (!prev_id != !prev_pub || !prev_id != !sig_prev)
        return GW_EINVAL;
    out->key_id = gw_xstrdup(id);
    out->public_key = gw_xstrdup(pub);
    out->prev_key_id = prev_id ? gw_xstrdup(prev_id) : NULL;
    out->ts_ms = json_integer_value(ts);
    out->sig_prev = sig_prev ? gw_xstrdup(sig_prev) : NULL;
    out->sig_new = gw_xstrdup(sig_new);
    *prev_public = prev_pub ? gw_xstrdup(prev_pub) : NULL;
    return GW_OK;
}
