/* SPDX-License-Identifier: MIT
 * store_audit.h — the audit trail's rows and signed checkpoints as stored.
 *
 * The hash chain, the Merkle tree, their serialization and the signatures are computed in
 * src/audit; the store keeps the rows, the signed heads, the tree's stored nodes and the signing
 * keys' succession, answers filtered reads and streams scans. A group commit is one atomic
 * store_audit_commit: its rows, its heads and its nodes are durable together or not at all.
 * Part of the store interface (store.h).
 */
#ifndef GW_STORE_AUDIT_H
#define GW_STORE_AUDIT_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_audit_row {
    char *tenant;
    int64_t seq; /* 1, 2, 3 ... per tenant */
    int64_t ts_ms;
    char *type;     /* e.g. "message.sent" */
    char *outcome;  /* ok | denied | error | failed */
    char *actor;    /* user id, "token:<id>" or "anonymous" */
    char *token_id; /* may be NULL */
    char *org_unit; /* actor's org unit, may be NULL */
    char *team;     /* actor's team, may be NULL */
    char *resource; /* channel, memory path, token id ...; may be NULL */
    char *request_id;
    char *client_ip;      /* may be NULL */
    char *classification; /* public | internal | confidential | restricted */
    int status;           /* HTTP status answered, 0 when not applicable */
    char *details;        /* canonical JSON object text */
    char *prev_hash;      /* hex, 64 zeros for seq 1 */
    char *hash;           /* hex */
};

void store_audit_row_release(struct store_audit_row *r);

struct store_audit_checkpoint;
struct store_audit_node;

/* One group commit: rows, the signed heads of the tenants they extend, and the tree nodes
 * they complete. */
struct store_audit_commit {
    const struct store_audit_row *rows;
    size_t n_rows;
    /* Tenants whose chain the writer continues past the store's end (its tail is missing from
     * the store: an integrity failure already reported); the others must link to that end. */
    const char *const *past_end;
    size_t n_past_end;
    const struct store_audit_checkpoint *heads;
    size_t n_heads;
    const struct store_audit_node *nodes;
    size_t n_nodes;
};

/* Writes c in one transaction with a full fsync (durable when it returns GW_OK); on any failure
 * nothing is written. A head replaces one of the same (tenant, seq). Called only from the audit
 * writer thread. */
gw_err store_audit_commit(struct store *st, const struct store_audit_commit *c);
/* store_audit_commit of rows alone. */
gw_err store_audit_append(struct store *st, const struct store_audit_row *rows, size_t n);

/* Last (seq, hash) of a tenant's chain; seq 0 and hash NULL when empty. */
gw_err store_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash);
/* Tenants that have audit rows (malloc'd array of malloc'd strings: store_strv_free). */
gw_err store_audit_tenants(struct store *st, char ***out, size_t *n);

enum store_audit_visibility {
    STORE_AUDIT_VIS_ALL,   /* enterprise admin */
    STORE_AUDIT_VIS_ORG,   /* org_unit == scope or under scope + "/" */
    STORE_AUDIT_VIS_TEAM,  /* team == scope */
    STORE_AUDIT_VIS_ACTOR, /* actor == scope */
};

struct store_audit_filter {
    const char *tenant; /* required */
    enum store_audit_visibility vis;
    const char *vis_scope;      /* org path, team id or actor, per vis */
    const char *actor;          /* exact, optional */
    const char *type;           /* exact, or prefix when it ends with '*' */
    const char *resource;       /* exact, optional (the "channel" filter) */
    const char *outcome;        /* exact, optional */
    const char *request_id;     /* exact, optional */
    int64_t since_ms, until_ms; /* inclusive range, 0 = open */
    int64_t after_seq;          /* ascending scan starts after this seq (cursor) */
    int64_t before_seq;         /* descending scan starts below this seq, 0 = from the end */
    bool descending;            /* newest first */
};

/* Returns up to limit rows matching f (malloc'd array). */
gw_err store_audit_query(struct store *st, const struct store_audit_filter *f, size_t limit,
                         struct store_audit_row **out, size_t *n);
void store_audit_rows_free(struct store_audit_row *rows, size_t n);

/* Streams every row matching f in seq order (ascending), page by page, calling fn for each;
 * fn returning non-zero stops the scan (and is returned as GW_OK). For verify and export. */
typedef int store_audit_row_fn(const struct store_audit_row *row, void *ctx);
gw_err store_audit_scan(struct store *st, const struct store_audit_filter *f,
                        store_audit_row_fn *fn, void *ctx);

/* Forwarding cursors (src/audit/fwd): the last seq of tenant's chain that destination dest
 * received; *seq 0 when none is stored. set never moves a cursor backwards. */
gw_err store_audit_cursor_get(struct store *st, const char *dest, const char *tenant, int64_t *seq);
gw_err store_audit_cursor_set(struct store *st, const char *dest, const char *tenant, int64_t seq,
                              int64_t now_ms);

/* A signed head of a tenant's log (src/audit signs them): one per group commit. Rows written
 * before heads had roots keep their "checkpoints" (root NULL, signed without it). */
struct store_audit_checkpoint {
    char *tenant;
    int64_t seq; /* the size: the head covers events 1..seq */
    char *hash;  /* hash of event seq (the chain's end) */
    int64_t ts_ms;
    char *key_id;    /* hex SHA-256 of the public key, first 16 chars */
    char *signature; /* base64url Ed25519 signature over audit_checkpoint_message() */
    char *root;      /* hex Merkle tree hash of events 1..seq; NULL: a checkpoint */
};

void store_audit_checkpoint_release(struct store_audit_checkpoint *c);
gw_err store_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c);
/* Latest head of a tenant; GW_ENOTFOUND when none. */
gw_err store_checkpoint_latest(struct store *st, const char *tenant,
                               struct store_audit_checkpoint *out);
/* All heads of a tenant in seq order (malloc'd array). */
gw_err store_checkpoint_list(struct store *st, const char *tenant,
                             struct store_audit_checkpoint **out, size_t *n);
/* Up to limit heads with seq > after_seq, in seq order (malloc'd array). */
gw_err store_checkpoint_page(struct store *st, const char *tenant, int64_t after_seq, size_t limit,
                             struct store_audit_checkpoint **out, size_t *n);
void store_checkpoint_list_free(struct store_audit_checkpoint *list, size_t n);

/* --- the Merkle tree (RFC 6962 shape; src/audit computes it) ---------------------------- */

/* A stored node: the hash of the complete subtree of 2^level leaves that starts at leaf
 * idx * 2^level. The writer stores the levels it needs to answer proofs quickly. */
struct store_audit_node {
    char *tenant;
    int level;
    int64_t idx;
    char *hash; /* hex */
};

/* A numbered hash read back: an event's (n = seq) or a node's (n = idx). */
struct store_audit_hash {
    int64_t n;
    char *hash;
};

/* Hashes of the tenant's events with seq in [first, first + count), ascending. */
gw_err store_audit_hashes(struct store *st, const char *tenant, int64_t first, size_t count,
                          struct store_audit_hash **out, size_t *n);
/* Stored nodes of one level with idx in [first, first + count), ascending. */
gw_err store_audit_nodes(struct store *st, const char *tenant, int level, int64_t first,
                         size_t count, struct store_audit_hash **out, size_t *n);
void store_audit_hashes_free(struct store_audit_hash *v, size_t n);

/* --- signing keys ------------------------------------------------------------------------ */

/* One signing key in the order they were used. A successor is named in a rotation statement
 * signed by its predecessor (sig_prev) and by itself (sig_new): a verifier who trusts any key
 * of the line can follow it both ways. The first key has no predecessor. */
struct store_audit_key {
    char *key_id;
    char *public_key;  /* base64url of the raw Ed25519 key */
    char *prev_key_id; /* NULL for the first */
    int64_t ts_ms;     /* when it was introduced */
    char *sig_prev;    /* NULL for the first */
    char *sig_new;
    char *node_id; /* the cluster node that introduced it (schema 15); NULL: one gateway */
};

void store_audit_key_release(struct store_audit_key *k);
/* GW_ECONFLICT when the key id is known. */
gw_err store_audit_key_insert(struct store *st, const struct store_audit_key *k);
/* Every key, oldest first. */
gw_err store_audit_key_list(struct store *st, struct store_audit_key **out, size_t *n);
void store_audit_key_list_free(struct store_audit_key *v, size_t n);

#endif
