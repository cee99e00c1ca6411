/* SPDX-License-Identifier: MIT
 * audit.h — the tamper-evident audit trail.
 *
 * Events are appended per tenant to a hash chain: each row carries seq (1, 2, ...), prev_hash
 * and hash = hex SHA-256("openclaw-audit-v1\n" || canonical JSON of the row without "hash").
 * The canonical JSON is the row's fields as one object with sorted keys, compact (see
 * audit_row_canonical). Every checkpoint_every events, at each log file start and at shutdown
 * the writer signs a checkpoint (tenant, seq, hash, ts) with the gateway's Ed25519 key, which is
 * created at first start (<data_dir>/audit_ed25519.pem, 0600) and published by the API.
 *
 * One writer thread does group commit: it takes every queued event, chains them, appends them
 * to the store in one fsynced transaction and to the JSON Lines file (log_path, one event per
 * line, checkpoints as lines with "type":"checkpoint") with fdatasync, and only then wakes the
 * submitters. If either sink fails, nothing of the batch is kept (the store transaction is
 * rolled back, the file truncated back), the chain head is restored, and synchronous submitters
 * get GW_EAUDIT; asynchronous events stay queued and are retried. Mutating API calls use
 * audit_record_sync *before* applying the change, so a mutation is never applied unaudited.
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
    const char *data_dir;     /* keys live here */
    bool enabled;             /* false: events are still chained into the store, no file */
    const char *log_path;     /* JSONL file or NULL */
    bool rotate_daily;        /* rename to <log_path>.YYYY-MM-DD at UTC midnight */
    unsigned retain_days;     /* delete rotated files older than this, 0 = keep */
    bool log_content;         /* keep message bodies in details */
    const char *const *pii_fields; /* NULL-terminated detail keys to hash */
    int pii_handling;         /* enum cfg_pii_handling */
    unsigned checkpoint_every;/* events between signed checkpoints (default 1000) */
};

/* One event as submitted by a subsystem. All strings are borrowed for the duration of the call;
 * details is borrowed (not stolen) and may be NULL. */
struct audit_event {
    const char *type;           /* "message.sent", "auth.failed", "token.created", ... */
    const char *outcome;        /* "ok" | "denied" | "error" | "failed" */
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
    uint64_t appended;     /* events durably written since start */
    uint64_t batches;      /* group commits */
    uint64_t failures;     /* failed batches */
    size_t queue_depth;    /* events waiting */
    bool healthy;          /* last batch succeeded (or nothing failed yet) */
};
void audit_get_stats(struct audit *a, struct audit_stats *s);

/* Public key (base64url of the raw 32-byte Ed25519 key) and its id. Borrowed. */
const char *audit_public_key(const struct audit *a);
const char *audit_key_id(const struct audit *a);
/* A freshly signed checkpoint of the tenant's current head (after a flush). */
gw_err audit_head(struct audit *a, const char *tenant, struct store_audit_checkpoint *out);

/* The tenant's head as a freshly signed checkpoint, in its JSON form (new reference). */
gw_err audit_head_json(struct audit *a, const char *tenant, json_t **out);

/* --- reading the trail (audit_read.c) ------------------------------------------------------- */

/* What a reader may see of a tenant's trail (the caller decides it from the reader's role). */
enum audit_visibility {
    AUDIT_SEE_ALL,   /* the whole tenant */
    AUDIT_SEE_ORG,   /* events of actors in org unit `scope` or below it */
    AUDIT_SEE_TEAM,  /* events of actors in team `scope` */
    AUDIT_SEE_OWN,   /* events whose actor is `scope` */
};

struct audit_query {
    const char *tenant;                    /* required */
    enum audit_visibility vis;
    const char *scope;
    const char *actor, *type, *resource, *outcome, *request_id; /* exact (type: prefix*) */
    int64_t since_ms, until_ms;            /* inclusive, 0: open */
};

/* One page, newest first, of at most limit events older than before_seq (0: the newest):
 * *events a JSON array of event objects, *next the before_seq of the next page (0: none). */
gw_err audit_page(struct audit *a, const struct audit_query *q, int64_t before_seq,
                  size_t limit, json_t **events, int64_t *next);

/* A streamed export in seq order, read page by page (no cap on the rows). A JSON Lines export
 * of the whole tenant (AUDIT_SEE_ALL, no filter) carries the stored signed checkpoints after
 * the rows they cover, so it verifies offline like the log file. */
enum audit_export_format { AUDIT_EXPORT_JSONL, AUDIT_EXPORT_CSV };
struct audit_export;
/* Copies q. */
struct audit_export *audit_export_open(struct audit *a, const struct audit_query *q,
                                       enum audit_export_format fmt);
/* Up to cap bytes of the export into out: the count, 0 at the end, -1 when the store fails. */
ssize_t audit_export_read(struct audit_export *x, char *out, size_t cap);
void audit_export_close(struct audit_export *x);

/* --- verification ------------------------------------------------------------------------ */

struct audit_verify_result {
    bool ok;
    int64_t first_bad_seq;   /* 0 when ok */
    int64_t events_checked;
    int64_t checkpoints_checked;
    int64_t last_seq;        /* last seq seen */
    char reason[256];        /* human explanation of the first failure */
};

/* Verifies the tenant's chain in the store: hashes, links, sequence, checkpoint signatures and
 * truncation (store head vs. latest checkpoint and the writer's in-memory head). */
gw_err audit_verify_store(struct audit *a, const char *tenant, struct audit_verify_result *r);

/* Verifies a JSONL log or export file offline. public_key is base64url (raw Ed25519);
 * expected_last_seq > 0 (the gateway's head, when known) detects truncation of the tail.
 * Only events of `tenant` are checked when tenant is non-NULL. */
gw_err audit_verify_file(const char *path, const char *public_key, const char *tenant,
                         int64_t expected_last_seq, struct audit_verify_result *r);

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
/* The exact bytes a checkpoint signature covers. Caller frees. */
char *audit_checkpoint_message(const struct store_audit_checkpoint *c);
json_t *audit_checkpoint_to_json(const struct store_audit_checkpoint *c);

#endif
