/* SPDX-License-Identifier: MIT
 * store_audit.h — the audit trail's rows and signed checkpoints as stored.
 *
 * The hash chain, its serialization and the signatures are computed in src/audit; the store
 * keeps the rows, answers filtered reads and streams scans. Part of the store interface
 * (store.h).
 */
#ifndef GW_STORE_AUDIT_H
#define GW_STORE_AUDIT_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

struct store_audit_row {
    char *tenant;
    int64_t seq;           /* 1, 2, 3 ... per tenant */
    int64_t ts_ms;
    char *type;            /* e.g. "message.sent" */
    char *outcome;         /* ok | denied | error | failed */
    char *actor;           /* user id, "token:<id>" or "anonymous" */
    char *token_id;        /* may be NULL */
    char *org_unit;        /* actor's org unit, may be NULL */
    char *team;            /* actor's team, may be NULL */
    char *resource;        /* channel, memory path, token id ...; may be NULL */
    char *request_id;
    char *client_ip;       /* may be NULL */
    char *classification;  /* public | internal | confidential | restricted */
    int status;            /* HTTP status answered, 0 when not applicable */
    char *details;         /* canonical JSON object text */
    char *prev_hash;       /* hex, 64 zeros for seq 1 */
    char *hash;            /* hex */
};

void store_audit_row_release(struct store_audit_row *r);

/* Appends rows in one transaction with a full fsync (durable when it returns GW_OK); on any
 * failure nothing is written. Called only from the audit writer thread. */
gw_err store_audit_append(struct store *st, const struct store_audit_row *rows, size_t n);

/* Last (seq, hash) of a tenant's chain; seq 0 and hash NULL when empty. */
gw_err store_audit_head(struct store *st, const char *tenant, int64_t *seq, char **hash);
/* Tenants that have audit rows (malloc'd array of malloc'd strings: store_strv_free). */
gw_err store_audit_tenants(struct store *st, char ***out, size_t *n);

enum store_audit_visibility {
    STORE_AUDIT_VIS_ALL,      /* enterprise admin */
    STORE_AUDIT_VIS_ORG,      /* org_unit == scope or under scope + "/" */
    STORE_AUDIT_VIS_TEAM,     /* team == scope */
    STORE_AUDIT_VIS_ACTOR,    /* actor == scope */
};

struct store_audit_filter {
    const char *tenant;          /* required */
    enum store_audit_visibility vis;
    const char *vis_scope;       /* org path, team id or actor, per vis */
    const char *actor;           /* exact, optional */
    const char *type;            /* exact, or prefix when it ends with '*' */
    const char *resource;        /* exact, optional (the "channel" filter) */
    const char *outcome;         /* exact, optional */
    const char *request_id;      /* exact, optional */
    int64_t since_ms, until_ms;  /* inclusive range, 0 = open */
    int64_t after_seq;           /* ascending scan starts after this seq (cursor) */
    int64_t before_seq;          /* descending scan starts below this seq, 0 = from the end */
    bool descending;             /* newest first */
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
gw_err store_audit_cursor_get(struct store *st, const char *dest, const char *tenant,
                              int64_t *seq);
gw_err store_audit_cursor_set(struct store *st, const char *dest, const char *tenant,
                              int64_t seq, int64_t now_ms);

/* Signed checkpoints of the chain (src/audit signs them). */
struct store_audit_checkpoint {
    char *tenant;
    int64_t seq;      /* the chain covers 1..seq */
    char *hash;       /* hash of event seq */
    int64_t ts_ms;
    char *key_id;     /* hex SHA-256 of the public key, first 16 chars */
    char *signature;  /* base64url Ed25519 signature over audit_checkpoint_message() */
};

void store_audit_checkpoint_release(struct store_audit_checkpoint *c);
gw_err store_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c);
/* Latest checkpoint of a tenant; GW_ENOTFOUND when none. */
gw_err store_checkpoint_latest(struct store *st, const char *tenant,
                               struct store_audit_checkpoint *out);
/* All checkpoints of a tenant in seq order (malloc'd array). */
gw_err store_checkpoint_list(struct store *st, const char *tenant,
                             struct store_audit_checkpoint **out, size_t *n);
void store_checkpoint_list_free(struct store_audit_checkpoint *list, size_t n);

#endif
