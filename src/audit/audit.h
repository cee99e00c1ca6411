/* SPDX-License-Identifier: MIT
 * audit.h — the tamper-evident audit trail.
 *
 * Events are appended per tenant to a hash chain: each row carries seq (1, 2, ...), prev_hash
 * and hash = hex SHA-256("openclaw-audit-v1\n" || canonical JSON of the row without "hash").
 * The canonical JSON is the row's fields as one object with sorted keys, compact (see
 * audit_row_canonical). The events of a tenant are also the leaves of a Merkle tree (RFC 6962
 * shape, audit_merkle.c), and every group commit ends with a signed head of each tenant it
 * extends: (tenant, size, root, hash of the last event, time, key id), signed with the
 * gateway's Ed25519 key (<data_dir>/audit_ed25519.pem, 0600, created at first start; rotated
 * keys stay published and accepted). Inclusion and consistency proofs are computed from the
 * store; verification rests on the signed heads and says what it relied on.
 *
 * The store is the single source of truth. One writer thread does group commit: it takes the
 * queued events, chains them, signs the heads and commits rows, heads and tree nodes in one
 * fsynced store transaction; only then are they written to the JSON Lines file (log_path), which
 * is derived: at start and after a failed write it is reconciled with the store (lines the
 * store does not hold are cut, missing ones appended), so it never holds an event that was not
 * committed and sequence numbers are never reused. A batch the store refuses changes nothing:
 * synchronous submitters get GW_EAUDIT, asynchronous events stay queued and are retried; while
 * the file cannot be written or reconciled, batches are refused before they reach the store.
 * Mutating API calls use audit_record_sync *before* applying the change, so a mutation is never
 * applied unaudited. At start every tenant's stored rows must end where its latest signed head
 * says; rows no head covers are never signed over: the tenant's integrity failure is reported
 * (log, audit_integrity_get, an audit.integrity_failure event, the alert hook).
 *
 * Details are filtered before chaining: with log_content false, content fields ("content",
 * "message", "response", "body") are replaced by {"omitted":true,"length":N}; fields listed in
 * piiFields are replaced by "hmac-sha256:<hex>" keyed with <data_dir>/audit_pii.key (0600), so
 * a hash cannot be reversed by guessing without the key.
 */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include "base/prelude.h"
#include "base/err.h"
#include "store/store.h"

#include <jansson.h>
#include <sys/types.h>

struct audit;

struct audit_options {
    const char *data_dir;          /* keys live here */
    bool enabled;                  /* false: events are still chained into the store, no file */
    const char *log_path;          /* JSONL file or NULL */
    bool rotate_daily;             /* rename to <log_path>.YYYY-MM-DD at UTC midnight */
    unsigned retain_days;          /* delete rotated files older than this, 0 = keep */
    bool log_content;              /* keep message bodies in details */
    const char *const *pii_fields; /* NULL-terminated detail keys to hash */
    int pii_handling;              /* enum cfg_pii_handling */
    unsigned checkpoint_every; /* unused: every commit is signed (kept for old configurations) */
    /* cluster mode (several nodes on one PostgreSQL store): a batch whose tenant head went stale
     * reloads it and is chained again, and heads signed by any key published in the store are
     * accepted (docs/AUDIT.md "Several nodes") */
    bool cluster;
    const char *node_id; /* this node's name, recorded with its signing keys */
};

/* One event as submitted by a subsystem. All strings are borrowed for the duration of the call;
 * details is borrowed (not stolen) and may be NULL. */
struct audit_event {
    const char *type;    /* "message.sent", "auth.failed", "token.created", ... */
    const char *outcome; /* "ok" | "denied" | "error" | "failed" */
    const char *actor;
    const char *token_id;
    const char *org_unit;
    const char *team;
    const char *resource;
    const char *request_id;
    const char *client_ip;
    const char *classification; /* NULL = "internal" */
    int status;
    json_t *details;
};

gw_err audit_open(struct store *st, const struct audit_options *o, struct audit **out);
/* Drains the queue, signs a final checkpoint, stops the writer. */
void audit_close(struct audit *a);
/* Applies new options (reload) and reopens the log file (also what SIGHUP does). */
gw_err audit_reconfigure(struct audit *a, const struct audit_options *o);

/* Durable append: returns once the event is in every sink, or GW_EAUDIT. */
gw_err audit_record_sync(struct audit *a, const char *tenant, const struct audit_event *ev);
/* Queued append for reads: never dropped; blocks while the queue is full (bounded wait),
 * GW_EAUDIT if it stays full. */
gw_err audit_record(struct audit *a, const char *tenant, const struct audit_event *ev);
/* Waits until everything queued so far is written (tests, shutdown, export consistency). */
gw_err audit_flush(struct audit *a);

struct audit_stats {
    uint64_t appended;  /* events durably written since start */
    uint64_t batches;   /* group commits */
    uint64_t failures;  /* failed batches */
    size_t queue_depth; /* events waiting */
    bool healthy;       /* last batch succeeded and the file is in step (or nothing failed) */
    bool integrity_ok;  /* no tenant's trail failed its check at start */
};
void audit_get_stats(struct audit *a, struct audit_stats *s);

/* A tenant whose stored trail did not match its signed heads at start. */
struct audit_integrity_failure {
    char tenant[128];
    int64_t first_bad_seq;
    char reason[256];
};
/* Up to cap failures into out; returns how many there are. */
size_t audit_integrity_failures(struct audit *a, struct audit_integrity_failure *out, size_t cap);

/* Called once per failure found at start, on the thread that installs it (immediately for the
 * failures found so far) or later; fn must not block. */
typedef void audit_alert_fn(void *arg, const struct audit_integrity_failure *f);
void audit_set_alert(struct audit *a, audit_alert_fn *fn, void *arg);

/* The current signing key: base64url of the raw 32-byte Ed25519 key, and its id. Borrowed. */
const char *audit_public_key(const struct audit *a);
const char *audit_key_id(const struct audit *a);
/* Every key that signed heads, oldest first, with the rotation statements that link them
 * (GET /api/v1/audit/public-key): a JSON array, new reference. */
gw_err audit_keys_json(struct audit *a, json_t **out);
/* Replaces the signing key: the new key signs every later head; the old public key stays
 * published and accepted. The rotation is a statement signed by both keys, kept in the store
 * and written to the file. *key_id receives the new key's id. */
gw_err audit_rotate_key(struct audit *a, char key_id[17]);

/* The tenant's latest signed head (after a flush; seq 0 and a fresh signature when the tenant
 * has no event yet). */
gw_err audit_head(struct audit *a, const char *tenant, struct store_audit_checkpoint *out);
/* The same in its JSON form, with the tree's frontier (a new reference): an auditor keeps it
 * and later proves, offline or against the gateway, that the log only grew from it. */
gw_err audit_head_json(struct audit *a, const char *tenant, json_t **out);

/* --- witnesses and alerts (audit_watch.c) ------------------------------------------------------
 */

struct cfg;
struct net_loop;
struct audit_watch;

/* Posts every new signed head to cfg's audit.witness.url (through net, off the commit path)
 * and sends integrity failures to the alert channels (notify/). Stop it before a closes. */
gw_err audit_watch_start(struct audit *a, const struct cfg *c, struct net_loop *net,
                         struct audit_watch **out);
void audit_watch_reload(struct audit_watch *w, const struct cfg *c);
void audit_watch_stop(struct audit_watch *w);

/* --- proofs (audit_proof.c) ------------------------------------------------------------------- */

/* Inclusion of event seq in the tree of size `size` (0: the latest signed head), and the
 * consistency of the trees of sizes `from` and `to` (0: the latest): JSON with the path and
 * the signed head of the larger tree (a new reference). GW_ENOTFOUND: no such event, or no
 * signed head of that size; GW_EINVAL: sizes out of order. */
gw_err audit_prove_inclusion(struct audit *a, const char *tenant, int64_t seq, int64_t size,
                             json_t **out);
gw_err audit_prove_consistency(struct audit *a, const char *tenant, int64_t from, int64_t to,
                               json_t **out);

/* --- reading the trail (audit_read.c) ------------------------------------------------------- */

/* What a reader may see of a tenant's trail (the caller decides it from the reader's role). */
enum audit_visibility {
    AUDIT_SEE_ALL,  /* the whole tenant */
    AUDIT_SEE_ORG,  /* events of actors in org unit `scope` or below it */
    AUDIT_SEE_TEAM, /* events of actors in team `scope` */
    AUDIT_SEE_OWN,  /* events whose actor is `scope` */
};

struct audit_query {
    const char *tenant; /* required */
    enum audit_visibility vis;
    const char *scope;
    const char *actor, *type, *resource, *outcome, *request_id; /* exact (type: prefix*) */
    int64_t since_ms, until_ms;                                 /* inclusive, 0: open */
};

/* One page, newest first, of at most limit events older than before_seq (0: the newest):
 * *events a JSON array of event objects, *next the before_seq of the next page (0: none). */
gw_err audit_page(struct audit *a, const struct audit_query *q, int64_t before_seq, size_t limit,
                  json_t **events, int64_t *next);

/* Event seq as the reader may see it (q's visibility; its filters apply too): GW_ENOTFOUND
 * when there is none or the reader may not see it. */
gw_err audit_event_json(struct audit *a, const struct audit_query *q, int64_t seq, json_t **out);

/* A streamed export in seq order, read page by page (no cap on the rows). A JSON Lines export
 * of the whole tenant (AUDIT_SEE_ALL, no filter) starts with the signing keys' lines and
 * carries each signed head after the rows it covers, so it verifies offline like the file. */
enum audit_export_format { AUDIT_EXPORT_JSONL, AUDIT_EXPORT_CSV };
struct audit_export;
/* Copies q. */
struct audit_export *audit_export_open(struct audit *a, const struct audit_query *q,
                                       enum audit_export_format fmt);
/* Up to cap bytes of the export into out: the count, 0 at the end, -1 when the store fails. */
ssize_t audit_export_read(struct audit_export *x, char *out, size_t cap);
void audit_export_close(struct audit_export *x);

/* --- verification (audit_verify.c) --------------------------------------------------------- */

/* Where the walk started: from event 1, from a signed head found in the file (the events before
 * it were not checked), or from a head the caller supplied. */
enum audit_anchor { AUDIT_ANCHOR_GENESIS, AUDIT_ANCHOR_FILE_HEAD, AUDIT_ANCHOR_SUPPLIED };

#define AUDIT_VERIFY_RANGES 8
#define AUDIT_VERIFY_SIGNERS 16 /* signing keys named in a result */

struct audit_range {
    int64_t from, to;
};

struct audit_verify_result {
    bool ok;
    int64_t first_bad_seq; /* 0 when ok */
    int64_t events_checked;
    int64_t checkpoints_checked; /* signed heads whose signature and content were checked */
    int64_t last_seq;            /* last seq seen */
    char reason[256];            /* human explanation of the first failure */
    enum audit_anchor anchor;
    int64_t anchor_seq;      /* the walk covers events anchor_seq+1 .. last_seq */
    int64_t signed_events;   /* events confirmed by a signed head */
    int64_t unsigned_events; /* events no signed head confirms */
    int64_t signed_through;  /* the largest seq s with every event up to s confirmed */
    struct audit_range unsigned_ranges[AUDIT_VERIFY_RANGES]; /* the first ones */
    size_t n_unsigned_ranges;
    bool roots_checked;    /* heads' Merkle roots were recomputed (false: chain only) */
    int64_t expected_last; /* the head the tail was checked against, 0: none */
    struct audit_signer {
        char key_id[17];
        char node_id[64]; /* the node that published the key ("": unknown, one gateway) */
    } signers[AUDIT_VERIFY_SIGNERS]; /* keys of the checked heads, first seen first */
    size_t n_signers;
};

/* What a verifier trusts and expects. Keys: the base64url public keys the caller trusts (a
 * key line or rotation statement signed by a trusted key extends the set); a supplied head
 * (JSON of a head the auditor kept, as audit_head_json gives it): the walk must reach it and
 * match its root and hash, and may start from it. expected_last_seq > 0: the log must reach at
 * least that far. tenant: only its events (NULL: every tenant's chain). */
struct audit_verify_opts {
    const char *const *keys;
    size_t n_keys;
    const char *tenant;
    int64_t expected_last_seq;
    const json_t *head;
};

/* Verifies the tenant's trail in the store against the gateway's keys and its in-memory head
 * (and opts->head, opts->expected_last_seq when given; keys and tenant are ignored). */
gw_err audit_verify_store(struct audit *a, const char *tenant, const struct audit_verify_opts *opts,
                          struct audit_verify_result *r);

/* Verifies a JSONL log or export file offline. GW_EINVAL: no usable key or a malformed head. */
gw_err audit_verify_file(const char *path, const struct audit_verify_opts *opts,
                         struct audit_verify_result *r);
/* The result as JSON (both verifiers, the API and the CLI print this). */
json_t *audit_verify_result_json(const struct audit_verify_result *r);

/* --- the Merkle tree and its proofs (audit_merkle.c, audit_bundle.c) -------------------------- */

#define AUDIT_HASH_LEN 32
#define AUDIT_TREE_LEVELS 64

/* An inclusion or consistency proof: hashes from the bottom up (RFC 9162 §2.1.3-2.1.4). */
struct audit_proof {
    size_t n;
    unsigned char h[AUDIT_TREE_LEVELS * 2][AUDIT_HASH_LEN];
};

bool audit_inclusion_verify(int64_t index, int64_t size, const unsigned char leaf[AUDIT_HASH_LEN],
                            const struct audit_proof *p, const unsigned char root[AUDIT_HASH_LEN]);
bool audit_consistency_verify(int64_t size1, int64_t size2,
                              const unsigned char root1[AUDIT_HASH_LEN],
                              const unsigned char root2[AUDIT_HASH_LEN],
                              const struct audit_proof *p);

/* Checks a proof as the API returns it (audit_prove_*), offline: the signed head with keys,
 * the event's hash and the path (inclusion), or the path from a head the auditor kept
 * (consistency: old_head is required). When trusted_head is given, the proof must be
 * against it (inclusion: the same tree) or start from it (consistency). msg says why not. */
gw_err audit_check_proof(const json_t *proof, const json_t *trusted_head, const char *const *keys,
                         size_t n_keys, char *msg, size_t cap);

/* --- serialization (shared by the store sink, the file sink, export and verify) ------------ */

/* Canonical text hashed for the row (all fields except "hash", sorted keys). Caller frees. */
char *audit_row_canonical(const struct store_audit_row *r);
/* hash = hex SHA-256("openclaw-audit-v1\n" || canonical) into out. */
void audit_row_compute_hash(const struct store_audit_row *r, char out[65]);
/* The JSONL representation (canonical fields + "hash"); new reference. */
json_t *audit_row_to_json(const struct store_audit_row *r);
/* Parses a JSONL event object back into a row (strings malloc'd). */
gw_err audit_row_from_json(const json_t *obj, struct store_audit_row *out);
/* One CSV line (with trailing \n) with cells neutralized against formula injection; caller
 * frees. audit_csv_header() is the matching header line. */
char *audit_row_to_csv(const struct store_audit_row *r);
const char *audit_csv_header(void);
/* The exact bytes a head's (or a checkpoint's) signature covers. Caller frees. */
char *audit_checkpoint_message(const struct store_audit_checkpoint *c);
json_t *audit_checkpoint_to_json(const struct store_audit_checkpoint *c);

#endif
