/* SPDX-License-Identifier: MIT
 * audit_int.h — private interface between the files of src/audit.
 *
 * audit_row.c     serialization (canonical text, JSONL object, CSV) and hashing
 * audit_keys.c    Ed25519 signing key and PII key: load or create, sign, verify
 * audit_filter.c  details filtering (log_content, PII) before chaining
 * audit_sink.h    the sink vtable (file, store) and the forwarder slot
 * audit_file.c    the JSON Lines sink: open, append + fdatasync, truncate back, rotation
 * audit_sink_store.c  the store sink: one transaction per batch, checkpoints
 * audit_writer.c  struct audit: queue, writer thread, group commit, checkpoints, lifecycle
 * audit_verify.c  chain verification of the store and of JSONL files
 */
#ifndef GW_AUDIT_INT_H
#define GW_AUDIT_INT_H

#include "base/prelude.h"
#include "audit/audit.h"
#include "audit/audit_sink.h"
#include "base/buf.h"
#include "base/json.h"

#include <pthread.h>
#include <sys/types.h>

#include <openssl/evp.h>

#define AUDIT_HASH_DOMAIN "openclaw-audit-v1\n"
#define AUDIT_CHECKPOINT_DOMAIN "openclaw-audit-checkpoint-v1\n"
#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_QUEUE_CAP 8192u           /* events waiting for the writer */
#define AUDIT_BATCH_MAX 1024u           /* events per group commit */
#define AUDIT_LINGER_MS 5               /* async events wait at most this for company */
#define AUDIT_LINGER_EVENTS 64u         /* ... unless this many are queued already */
#define AUDIT_FULL_WAIT_MS 5000         /* a submitter waits this long for queue space */
#define AUDIT_RETRY_BACKOFF_MS 200      /* pause after a failed batch */
#define AUDIT_CHECKPOINT_INTERVAL_MS 1000
#define AUDIT_MAX_LINE (1024u * 1024u)  /* longest JSONL line verification accepts */
#define AUDIT_MAX_DETAILS (256u * 1024u)/* larger filtered details are replaced by a marker */
#define AUDIT_DETAILS_MAX_DEPTH (GW_JSON_MAX_DEPTH - 2) /* so a whole row parses strictly */
#define AUDIT_PUBKEY_LEN 32
#define AUDIT_SIG_LEN 64
#define AUDIT_PUBKEY_B64_LEN 43         /* base64url, no padding, of 32 bytes */
#define AUDIT_SIG_B64_LEN 86            /* base64url, no padding, of 64 bytes */

/* --- audit_row.c ------------------------------------------------------------------------- */

/* The row object without "hash" (details parsed back from r->details). */
json_t *audit_row_json_nohash(const struct store_audit_row *r);

/* The canonical text of a row prepared by the submitter, around the three values only the
 * writer knows: text = P0 <prev_hash> P1 <seq> P2 <ts> P3 with cut[] the ends of P0..P2. It is
 * byte for byte gw_json_canonical(audit_row_json_nohash(row)) once they are filled in (keys in
 * sorted order, values serialized by jansson); the unit tests hold the two paths together. */
struct audit_canon {
    char *text;
    size_t len;
    size_t cut[3];
};
/* Ignores r->prev_hash, r->seq, r->ts_ms; details_canonical is the filtered details text. */
void audit_canon_build(const struct store_audit_row *r, const char *details_canonical,
                       struct audit_canon *out);
/* Fills in the values: hash (hex) of the row, and, when line != NULL, appends the JSONL line
 * (the canonical text with "hash" as last member, then '\n'). ctx is a reusable digest ctx. */
void audit_canon_finish(const struct audit_canon *c, const char *prev_hash, int64_t seq,
                        int64_t ts_ms, EVP_MD_CTX *ctx, char hash[65], struct gw_buf *line);
/* hex SHA-256(AUDIT_HASH_DOMAIN || canonical). */
void audit_hash_canonical(const char *canonical, size_t n, char out[65]);
/* hash of an already-built object without "hash" (canonicalized here). */
void audit_hash_object(const json_t *obj_nohash, char out[65]);
/* Parses a checkpoint line object; strings malloc'd (release with
 * store_audit_checkpoint_release). */
gw_err audit_checkpoint_from_json(const json_t *obj, struct store_audit_checkpoint *out);
/* A line object is a checkpoint when it has "signature" and no "prev_hash". */
bool audit_json_is_checkpoint(const json_t *obj);

/* --- audit_keys.c ------------------------------------------------------------------------ */

struct audit_keys {
    EVP_PKEY *pkey;                                  /* Ed25519 private key */
    unsigned char pub[AUDIT_PUBKEY_LEN];             /* raw public key */
    char public_key[AUDIT_PUBKEY_B64_LEN + 1];       /* base64url of pub */
    char key_id[17];                                 /* hex SHA-256(pub), 16 chars */
    unsigned char pii_key[32];                       /* HMAC key for PII fields */
};

/* Loads <data_dir>/audit_ed25519.pem and <data_dir>/audit_pii.key, creating them (0600) at
 * first start. */
gw_err audit_keys_load(struct audit_keys *k, const char *data_dir);
void audit_keys_release(struct audit_keys *k);
/* Fills out (strings malloc'd) with a checkpoint of (tenant, seq, hash, ts_ms) signed by k. */
gw_err audit_checkpoint_sign(const struct audit_keys *k, const char *tenant, int64_t seq,
                             const char *hash, int64_t ts_ms, struct store_audit_checkpoint *out);
/* true when c->signature is a valid signature of audit_checkpoint_message(c) by pub. */
bool audit_checkpoint_check(const unsigned char pub[AUDIT_PUBKEY_LEN],
                            const struct store_audit_checkpoint *c);
/* base64url (raw 32 bytes) → bytes; false when malformed. */
bool audit_pubkey_decode(const char *b64, unsigned char out[AUDIT_PUBKEY_LEN]);
void audit_pubkey_id(const unsigned char pub[AUDIT_PUBKEY_LEN], char out[17]);
/* base64url without padding → bytes; returns the decoded length or -1. */
long audit_b64url_decode(const char *in, unsigned char *out, size_t cap);

/* --- audit_filter.c ---------------------------------------------------------------------- */

struct audit_policy {
    bool log_content;
    char **pii_fields;   /* owned copies */
    size_t n_pii;
    int pii_handling;    /* enum cfg_pii_handling */
    const unsigned char *pii_key; /* 32 bytes, borrowed from struct audit_keys */
};

void audit_policy_init(struct audit_policy *p, const struct audit_options *o,
                       const unsigned char *pii_key);
void audit_policy_release(struct audit_policy *p);
/* The canonical text (malloc'd) of details (borrowed, may be NULL) after the policy's PII
 * and content rules, bounded in size and depth. */
char *audit_details_text(const struct audit_policy *p, const json_t *details);

/* --- audit_file.c ------------------------------------------------------------------------ */

struct audit_file {
    char *path;           /* NULL: no file sink */
    int fd;               /* -1 when not open (open failed: every append fails) */
    bool regular;         /* regular file: fdatasync and truncate-back apply */
    bool rotate_daily;
    unsigned retain_days;
    int64_t day;          /* UTC day number (days since epoch) the file belongs to */
    int err;              /* errno of the last failure, for the writer's log line */
};

void audit_file_init(struct audit_file *f);
/* Opens path (mkdir -p 0700 of its parent, O_APPEND|O_CREAT, 0600); on failure f->fd = -1
 * and f->path is kept, so the sink stays configured but broken. */
gw_err audit_file_open(struct audit_file *f, const char *path, bool rotate_daily,
                       unsigned retain_days, int64_t now_ms);
void audit_file_close(struct audit_file *f);
/* Closes and forgets the path. */
void audit_file_release(struct audit_file *f);
/* true when rotate_daily is set and now_ms falls on another UTC day than the file. */
bool audit_file_rotation_due(const struct audit_file *f, int64_t now_ms);
/* Renames path to path.YYYY-MM-DD (the file's day), opens a fresh file and applies retention. */
gw_err audit_file_rotate(struct audit_file *f, int64_t now_ms);
/* Appends data in full and syncs it; *offset receives the size before the append. On failure
 * the file is truncated back (regular files) and GW_EAUDIT is returned. */
gw_err audit_file_append(struct audit_file *f, const char *data, size_t n, off_t *offset);
/* Cuts the file back to offset (after the store refused a batch already in the file). */
gw_err audit_file_truncate(struct audit_file *f, off_t offset);
/* Deletes path.YYYY-MM-DD[.N] files dated more than retain_days before now_ms. */
void audit_file_apply_retention(const struct audit_file *f, int64_t now_ms);

/* --- audit_writer.c ---------------------------------------------------------------------- */

/* Wall clock used for event timestamps and rotation dates; tests can pin it. */
int64_t audit_now_ms(void);
/* Test hook: ms > 0 pins the audit clock to ms, 0 returns to the real clock. */
void audit_test_set_clock(int64_t ms);

struct store *audit_store(const struct audit *a);
const struct audit_keys *audit_get_keys(const struct audit *a);
/* Last durably committed (seq, hash) of a tenant as the writer knows it (seq 0 when none). */
void audit_committed_head(struct audit *a, const char *tenant, int64_t *seq, char hash[65]);

#endif
