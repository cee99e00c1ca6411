/* SPDX-License-Identifier: MIT
 * audit_int.h — private interface between the files of src/audit.
 *
 * audit_row.c     serialization (canonical text, JSONL object, CSV, heads) and hashing
 * audit_keys.c    Ed25519 signing keys (current, rotated, trusted) and the PII key
 * audit_filter.c  details filtering (log_content, PII) before chaining
 * audit_merkle.c  the RFC 6962 tree: leaf/node hashes, frontier, proofs and their checks
 * audit_sink.h    the sink vtable (file, store) and the forwarder slot
 * audit_file.c    the JSON Lines file: open, append, cut, rotation, reading the tail back
 * audit_sink_store.c  the store sink: one transaction per batch (rows, heads, nodes)
 * audit_reconcile.c   the file brought in step with the store; the start-up integrity check
 * audit_writer.c  struct audit: queue, writer thread, group commit, signed heads, lifecycle
 * audit_verify.c  verification of the store and of JSONL files against signed heads
 * audit_proof.c   proofs from the store; audit_bundle.c checks them offline
 * audit_watch.c   witnesses (heads posted to a URL) and integrity alerts
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
#define AUDIT_HEAD_DOMAIN "openclaw-audit-head-v2\n"
#define AUDIT_KEY_DOMAIN "openclaw-audit-key-v1\n"
#define AUDIT_TREE_STRIDE 8               /* stored subtrees: heights 8, 16, 24, ... */
#define AUDIT_RECONCILE_SLACK (64u << 20) /* bytes of unmatched tail a reconcile may cut */
#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_QUEUE_CAP 8192u            /* events waiting for the writer */
#define AUDIT_BATCH_MAX 1024u            /* events per group commit */
#define AUDIT_LINGER_MS 5                /* async events wait at most this for company */
#define AUDIT_LINGER_EVENTS 64u          /* ... unless this many are queued already */
#define AUDIT_FULL_WAIT_MS 5000          /* a submitter waits this long for queue space */
#define AUDIT_RETRY_BACKOFF_MS 200       /* pause after a failed batch */
#define AUDIT_STALE_RETRIES 64           /* cluster: a batch chained again after heads went stale */
#define AUDIT_MAX_LINE (1024u * 1024u)   /* longest JSONL line verification accepts */
#define AUDIT_MAX_DETAILS (256u * 1024u) /* larger filtered details are replaced by a marker */
#define AUDIT_DETAILS_MAX_DEPTH (GW_JSON_MAX_DEPTH - 2) /* so a whole row parses strictly */
#define AUDIT_PUBKEY_LEN 32
#define AUDIT_SIG_LEN 64
#define AUDIT_PUBKEY_B64_LEN 43 /* base64url, no padding, of 32 bytes */
#define AUDIT_SIG_B64_LEN 86    /* base64url, no padding, of 64 bytes */

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
/* Parses a head (or checkpoint) line object; strings malloc'd (release with
 * store_audit_checkpoint_release). */
gw_err audit_checkpoint_from_json(const json_t *obj, struct store_audit_checkpoint *out);
/* A line object is a head when it has "signature" and no "prev_hash". */
bool audit_json_is_checkpoint(const json_t *obj);
/* The JSONL line of a head ('\n' ended) appended to b. */
void audit_head_line(struct gw_buf *b, const struct store_audit_checkpoint *c);
/* The JSONL line of a stored row (the canonical text with "hash" last, '\n' ended). */
void audit_row_line(struct gw_buf *b, const struct store_audit_row *r);

/* --- audit_merkle.c ---------------------------------------------------------------------- */

/* The roots of the complete subtrees along the right edge of a tree of `size` leaves: h[l] is
 * set for every bit l of size (RFC 9162's compact range starting at 0). */
struct audit_frontier {
    int64_t size;
    unsigned char h[AUDIT_TREE_LEVELS][AUDIT_HASH_LEN];
};
/* A completed subtree to store (height level, the idx-th of its height). */
typedef void audit_node_fn(void *arg, int level, int64_t idx,
                           const unsigned char hash[AUDIT_HASH_LEN]);
/* The hash of the complete subtree (level, idx) from wherever the caller keeps the tree. */
typedef gw_err audit_subtree_fn(void *arg, int level, int64_t idx,
                                unsigned char out[AUDIT_HASH_LEN]);

void audit_leaf_hash(const unsigned char event[AUDIT_HASH_LEN], unsigned char out[AUDIT_HASH_LEN]);
void audit_node_hash(const unsigned char l[AUDIT_HASH_LEN], const unsigned char r[AUDIT_HASH_LEN],
                     unsigned char out[AUDIT_HASH_LEN]);
/* The leaf of an event from its hex hash; false when it is not 64 hex digits. */
bool audit_leaf_of_hex(const char *event_hash, unsigned char out[AUDIT_HASH_LEN]);
/* Appends a leaf; emit (may be NULL) hears every completed subtree of a stored height. */
void audit_frontier_push(struct audit_frontier *f, const unsigned char leaf[AUDIT_HASH_LEN],
                         audit_node_fn *emit, void *arg);
void audit_frontier_root(const struct audit_frontier *f, unsigned char out[AUDIT_HASH_LEN]);
size_t audit_frontier_count(int64_t size);
/* Completed subtrees collected for a commit (the arg of audit_nodes_keep, an audit_node_fn):
 * they belong to `tenant` as it is when they are kept. */
struct audit_nodes {
    struct store_audit_node *v;
    size_t n, cap;
    char *tenant;
};
void audit_nodes_keep(void *arg, int level, int64_t idx, const unsigned char hash[AUDIT_HASH_LEN]);
/* Frees the kept hashes (the array stays for the next commit). */
void audit_nodes_clear(struct audit_nodes *ns);
/* The frontier of a tree of `size` leaves from its subtrees. */
gw_err audit_frontier_build(struct audit_frontier *f, int64_t size, audit_subtree_fn *get,
                            void *arg);
/* The frontier as a JSON array of hex hashes (largest subtree first), and back (its root must
 * be root; false otherwise). */
json_t *audit_frontier_to_json(const struct audit_frontier *f);
bool audit_frontier_from_json(const json_t *arr, int64_t size, const char *root_hex,
                              struct audit_frontier *out);
gw_err audit_proof_inclusion(int64_t index, int64_t size, audit_subtree_fn *get, void *arg,
                             struct audit_proof *out);
gw_err audit_proof_consistency(int64_t size1, int64_t size2, audit_subtree_fn *get, void *arg,
                               struct audit_proof *out);
/* The root of the first `size` leaves. */
gw_err audit_range_root(int64_t size, audit_subtree_fn *get, void *arg,
                        unsigned char out[AUDIT_HASH_LEN]);
/* The store as a subtree source (audit_proof.c): stored nodes, else the events' hashes. */
struct audit_store_tree {
    struct store *st;
    const char *tenant;
};
gw_err audit_store_subtree(void *arg, int level, int64_t idx, unsigned char out[AUDIT_HASH_LEN]);

/* --- audit_keys.c ------------------------------------------------------------------------ */

/* The public keys a verifier accepts heads from. */
struct audit_keyring_key {
    char key_id[17];
    unsigned char pub[AUDIT_PUBKEY_LEN];
    char public_key[AUDIT_PUBKEY_B64_LEN + 1];
};
struct audit_keyring {
    struct audit_keyring_key *k;
    size_t n;
};

struct audit_keys {
    EVP_PKEY *pkey;                            /* Ed25519 private key */
    unsigned char pub[AUDIT_PUBKEY_LEN];       /* raw public key */
    char public_key[AUDIT_PUBKEY_B64_LEN + 1]; /* base64url of pub */
    char key_id[17];                           /* hex SHA-256(pub), 16 chars */
    unsigned char pii_key[32];                 /* HMAC key for PII fields */
    char *dir;                                 /* the data directory */
    char *node_id;                             /* recorded with new keys (cluster), or NULL */
};

/* Loads <data_dir>/audit_ed25519.pem and <data_dir>/audit_pii.key, creating them (0600) at
 * first start. A key left by an interrupted rotation (<pem>.next) is taken when the store
 * names it, else removed. */
gw_err audit_keys_load(struct audit_keys *k, const char *data_dir, struct store *st);
void audit_keys_release(struct audit_keys *k);
/* Fills out (strings malloc'd) with a head of (tenant, seq, hash, root, ts_ms) signed by k;
 * root NULL signs a hash-chain checkpoint (tests of older files). */
gw_err audit_checkpoint_sign(const struct audit_keys *k, const char *tenant, int64_t seq,
                             const char *hash, const char *root, int64_t ts_ms,
                             struct store_audit_checkpoint *out);
/* true when c->signature is a valid signature of audit_checkpoint_message(c) by pub. */
bool audit_checkpoint_check(const unsigned char pub[AUDIT_PUBKEY_LEN],
                            const struct store_audit_checkpoint *c);
/* base64url (raw 32 bytes) → bytes; false when malformed. */
bool audit_pubkey_decode(const char *b64, unsigned char out[AUDIT_PUBKEY_LEN]);
void audit_pubkey_id(const unsigned char pub[AUDIT_PUBKEY_LEN], char out[17]);
/* base64url without padding → bytes; returns the decoded length or -1. */
long audit_b64url_decode(const char *in, unsigned char *out, size_t cap);

/* The keyring: add a key (base64url; false when malformed), find one by id. */
bool audit_keyring_add(struct audit_keyring *r, const char *public_key);
const struct audit_keyring_key *audit_keyring_find(const struct audit_keyring *r,
                                                   const char *key_id);
void audit_keyring_release(struct audit_keyring *r);
/* The statement a rotation signs: the predecessor's public key ("" for the first key), the
 * key's own, and the time. Caller frees. */
char *audit_key_message(const char *prev_public_key, const char *public_key, int64_t ts_ms);
/* One rotation statement (k, signed over the predecessor's public key prev_public_key): when
 * both signatures hold and r trusts one side, r now trusts the other; true when r grew. */
bool audit_keyring_follow(struct audit_keyring *r, const struct store_audit_key *k,
                          const char *prev_public_key);
/* Follows every statement of keys[] (predecessors found by prev_key_id) until nothing
 * changes; statements with a bad signature are ignored. */
void audit_keyring_extend(struct audit_keyring *r, const struct store_audit_key *keys, size_t n);
/* Cluster mode: adds to r every key published in the store whose statement verifies (each
 * node's first key, and every rotation of any node). */
gw_err audit_keyring_published(struct audit_keyring *r, struct store *st);
/* The store's keys, with the current one first recorded when missing; r gets the current key
 * and every key linked to it. */
gw_err audit_keys_sync(struct audit_keys *k, struct store *st, struct audit_keyring *r);
/* A fresh key in <dir>/audit_ed25519.pem.next, its rotation statement signed by k and by it
 * (returned in *rec, strings malloc'd), not yet in use. */
gw_err audit_keys_prepare(const struct audit_keys *k, struct store_audit_key *rec, EVP_PKEY **next);
/* Makes the prepared key current: rename over the pem, then k takes it (next is consumed). */
gw_err audit_keys_switch(struct audit_keys *k, EVP_PKEY *next);
/* A key line of the file (type "key") and back. */
json_t *audit_key_to_json(const struct store_audit_key *k, const char *prev_public_key);
gw_err audit_key_from_json(const json_t *o, struct store_audit_key *out, char **prev_public);

/* --- audit_filter.c ---------------------------------------------------------------------- */

struct audit_policy {
    bool log_content;
    char **pii_fields; /* owned copies */
    size_t n_pii;
    int pii_handling;             /* enum cfg_pii_handling */
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
    char *path;   /* NULL: no file sink */
    int fd;       /* -1 when not open (open failed: every append fails) */
    bool regular; /* regular file: sync and cut apply */
    bool rotate_daily;
    unsigned retain_days;
    int64_t day; /* UTC day number (days since epoch) the file belongs to */
    int err;     /* errno of the last failure, for the writer's log line */
};

void audit_file_init(struct audit_file *f);
/* Opens path (mkdir -p 0700 of its parent, O_RDWR|O_APPEND|O_CREAT, 0600); on failure
 * f->fd = -1 and f->path is kept, so the sink stays configured but broken. */
gw_err audit_file_open(struct audit_file *f, const char *path, bool rotate_daily,
                       unsigned retain_days, int64_t now_ms);
void audit_file_close(struct audit_file *f);
/* Closes and forgets the path. */
void audit_file_release(struct audit_file *f);
/* true when rotate_daily is set and now_ms falls on another UTC day than the file. */
bool audit_file_rotation_due(const struct audit_file *f, int64_t now_ms);
/* Renames path to path.YYYY-MM-DD (the file's day), opens a fresh file and applies retention. */
gw_err audit_file_rotate(struct audit_file *f, int64_t now_ms);
/* Writes data in full (no sync: the store is the durable copy); on failure the file is cut
 * back to its size before the write (regular files) and GW_EAUDIT is returned. */
gw_err audit_file_append(struct audit_file *f, const char *data, size_t n);
/* fdatasync (regular files). */
gw_err audit_file_sync(struct audit_file *f);
/* Cuts the file to offset and syncs it. */
gw_err audit_file_truncate(struct audit_file *f, off_t offset);
/* Deletes path.YYYY-MM-DD[.N] files dated more than retain_days before now_ms. */
void audit_file_apply_retention(const struct audit_file *f, int64_t now_ms);
/* Renames the file aside to <path>.<tag>-<time> and opens a fresh one. */
gw_err audit_file_set_aside(struct audit_file *f, const char *tag, int64_t now_ms);

/* Reading a file's lines from the end: each call gives the previous line (without its '\n'),
 * its offset and length; 0 at the start of the file, -1 on a read error. Lines longer than
 * AUDIT_MAX_LINE come back with *line NULL. */
struct audit_tail;
struct audit_tail *audit_tail_open(int fd);
int audit_tail_prev(struct audit_tail *t, const char **line, size_t *len, off_t *offset);
void audit_tail_close(struct audit_tail *t);

/* The file sink's audit_file (the writer reconciles it). */
struct audit_file *audit_file_sink_file(struct audit_sink *s);

/* --- struct audit (audit_writer.c, audit_heads.c, audit_reconcile.c) -------------------------- */

/* One tenant's log as the writer keeps it. */
struct audit_head {
    char *tenant;
    /* writer thread only (and audit_open before the writer runs) */
    int64_t seq; /* working end: seq of the last event chained */
    char hash[65];
    struct audit_frontier tree; /* the Merkle tree's frontier at seq (unused when tainted) */
    bool tainted;               /* the start-up check failed: no head is signed any more */
    bool stale;                 /* a store commit failed: reload before the next use */
    /* under a->mu */
    int64_t committed_seq; /* durable end */
    char committed_hash[65];
    int64_t expected;        /* how far the trail must reach (a signed head said so) */
    int64_t writing;         /* the end of a commit under way, 0: none */
    struct audit_head *next; /* bucket chain */
};

#define AUDIT_BUCKETS 64

/* A published key: allocated once, never changed (borrowed pointers stay valid). */
struct audit_pubkey {
    char public_key[AUDIT_PUBKEY_B64_LEN + 1];
    char key_id[17];
    struct audit_pubkey *older;
};

struct audit_forwarder {
    const struct audit_forwarder_ops *ops;
    void *arg;
};

struct audit_file_cfg {
    char *path; /* NULL: no file sink */
    bool rotate_daily;
    unsigned retain_days;
};

struct audit {
    struct store *st;
    struct audit_keys keys;   /* the signing key: writer thread (and open/close) */
    struct gw_worker *writer; /* the "audit-writer" thread and its queue */

    pthread_rwlock_t pol_lock; /* guards pol (filtering runs in submitters) */
    struct audit_policy pol;

    pthread_mutex_t mu;
    pthread_cond_t cv; /* reconfigure and rotation wait for the writer */
    bool closed;
    struct audit_file_cfg cfg; /* wanted file options (reconfigure) */
    uint64_t reopen_gen, reopen_done_gen, rotate_gen, rotate_done_gen;
    gw_err reopen_rc, rotate_rc;
    bool healthy;
    struct audit_pubkey *_Atomic pubkey; /* the current key; older ones linked */
    struct audit_keyring ring;           /* keys whose heads are accepted */
    struct audit_head *buckets[AUDIT_BUCKETS];
    struct audit_head **all; /* every head, for iteration */
    size_t n_all, cap_all;
    pthread_mutex_t fwd_mu; /* forwarders: held while they are told of a commit */
    struct audit_forwarder fwd[AUDIT_MAX_FORWARDERS];
    size_t n_fwd;
    struct audit_integrity_failure *fails;
    size_t n_fails;
    audit_alert_fn *alert;
    void *alert_arg;

    /* writer thread only */
    struct audit_sink *file_sink, *store_sink;
    bool file_dirty;  /* reconcile the file before the next batch */
    bool file_behind; /* cluster: the store has other nodes' events the file lacks */
    bool head_moved;  /* a head of the batch was reloaded past where this node left it */
    bool adopt;       /* rows from before signed heads may be adopted (open only) */
    struct gw_buf lines;
    struct store_audit_row *rows;
    struct store_audit_checkpoint *heads; /* signed for the batch */
    size_t n_heads;
    const char **past_end; /* the batch's tainted tenants (store_audit_commit.past_end) */
    size_t n_past_end;
    struct audit_nodes nodes; /* tree nodes the batch completes */
    struct audit_undo *undo;
    size_t n_undo, cap_undo;
    EVP_MD_CTX *md;
    bool fail_logged;
    bool cluster;  /* several nodes on one store (audit_options.cluster) */
    char *node_id; /* this node's name (cluster mode), NULL otherwise */
};

/* Wall clock used for event timestamps and rotation dates; tests can pin it. */
int64_t audit_now_ms(void);
/* Test hook: ms > 0 pins the audit clock to ms, 0 returns to the real clock. */
void audit_test_set_clock(int64_t ms);

struct store *audit_store(const struct audit *a);
/* The keys a verifier of this gateway's store trusts (a copy; release it). */
void audit_trusted_keys(struct audit *a, struct audit_keyring *out);
/* Last durably committed (seq, hash) of a tenant as the writer knows it (seq 0 when none),
 * and the size the trail must reach (larger when a signed head in the file says so). */
void audit_committed_head(struct audit *a, const char *tenant, int64_t *seq, char hash[65],
                          int64_t *expected);
/* The furthest seq the writer may have in the store right now (its end, or the end of a
 * commit under way). */
int64_t audit_writing_end(struct audit *a, const char *tenant);
/* Records a failed integrity check (log, failure list, alert hook, event once running). */
void audit_integrity_fail(struct audit *a, const char *tenant, int64_t first_bad, const char *fmt,
                          ...) GW_PRINTF(4, 5);

struct audit_file_tenant;

/* --- audit_heads.c ------------------------------------------------------------------------- */

/* Caller holds a->mu or is the writer (the only one that inserts). */
struct audit_head *audit_head_find(struct audit *a, const char *tenant);
/* Loads a tenant's head from the store and checks it against its latest signed head and the
 * newest signed head of the file (ft, may be NULL): a trail that does not end where its heads
 * say is tainted (audit_integrity_fail) and never signed over. Writer, or audit_open. */
gw_err audit_head_load(struct audit *a, const char *tenant, const struct audit_file_tenant *ft,
                       struct audit_head **out);
/* Cluster mode: adds the keys other nodes published since to a->ring (writer thread, or open;
 * a->ring changes under a->mu, which audit_trusted_keys holds while it copies). */
void audit_ring_refresh(struct audit *a);
/* Reloads a stale head (after a failed commit) from the store. */
gw_err audit_head_reload(struct audit *a, struct audit_head *h);
void audit_heads_free(struct audit *a);

/* --- audit_reconcile.c --------------------------------------------------------------------- */

/* What the end of the log file says about one tenant. */
struct audit_file_tenant {
    char *tenant;
    struct store_audit_checkpoint head; /* the newest head line with a valid signature */
};
struct audit_file_scan {
    struct audit_file_tenant *t;
    size_t n;
};
const struct audit_file_tenant *audit_file_scan_find(const struct audit_file_scan *s,
                                                     const char *tenant);
void audit_file_scan_release(struct audit_file_scan *s);

/* The newest validly signed head line of each tenant, read from the end of the file until
 * every tenant of want[] has one (or the start of the file). */
gw_err audit_file_heads(struct audit_file *f, const struct audit_keyring *ring, char *const *want,
                        size_t n_want, struct audit_file_scan *out);
/* Writer: brings the file in step with the store. Lines after the last one the store holds
 * are cut (a torn or uncommitted tail), missing events and their heads appended, tenants the
 * file does not know anchored with their latest head. A file that contradicts the store is set
 * aside and a fresh one started. */
gw_err audit_reconcile(struct audit *a);

#endif
