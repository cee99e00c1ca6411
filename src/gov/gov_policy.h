/* SPDX-License-Identifier: MIT
 * gov_policy.h — the policy engine at run time: versions persisted in the store, the current
 * compiled snapshot, and the serialized write path.
 *
 * Writes (create, update, deprecate, rollback) are serialized by one mutex: validate against
 * the current snapshot (write-time rejection of loosening), record the new version in the
 * in-memory set, persist it, then compile and swap a new snapshot, so the next decision sees
 * the change while decisions in flight finish on the snapshot they hold. Reads take a
 * snapshot reference and never block writers.
 */
#ifndef GW_GOV_POLICY_H
#define GW_GOV_POLICY_H

#include "base/prelude.h"
#include "base/err.h"
#include "policy/policy.h"

struct cfg;
struct store;
struct gov_policy;

/* Loads every stored version, then applies the configured bundle (policy.bundle), which is
 * authoritative at start: an empty slot gets the bundle's policy, a different one a new
 * version. Without a bundle, the first start of an empty store writes the starter set (once;
 * policy.starter: false skips it); its records are appended to created (may be NULL) for the
 * audit. msg explains a failure (unreadable or invalid bundle). */
gw_err gov_policy_open(struct store *st, const struct cfg *c, struct gov_policy **out,
                       json_t *created, char *msg, size_t msgcap);
void gov_policy_close(struct gov_policy *p);
struct shared;
/* Writes are told to the other nodes through s, and theirs make this node reload every version
 * from the store (a store shared by the nodes); NULL stops listening (before close). */
void gov_policy_share(struct gov_policy *p, struct shared *s);

/* Current snapshot with a reference (pol_snapshot_unref when done); never NULL. */
struct pol_snapshot *gov_policy_acquire(struct gov_policy *p);

enum gov_policy_op {
    GOV_POLICY_CREATE,
    GOV_POLICY_UPDATE,
    GOV_POLICY_DEPRECATE,
    GOV_POLICY_ROLLBACK
};

/* One write. For UPDATE/DEPRECATE/ROLLBACK `id` names the policy; ROLLBACK takes `to`.
 * Loosening is reported in issues with GW_EPOLICY; parse/metadata problems with GW_EINVAL.
 * On success *record is the new version as JSON (new reference). */
gw_err gov_policy_write(struct gov_policy *p, enum gov_policy_op op, const char *id, int64_t to,
                        const struct pol_change *ch, const struct pol_position *pos,
                        json_t **record, struct pol_issues *issues);

/* Reads (JSON, new references; NULL when absent). */
json_t *gov_policy_get(struct gov_policy *p, const char *tenant, const char *id, int64_t version);
json_t *gov_policy_history(struct gov_policy *p, const char *tenant, const char *id);
json_t *gov_policy_diff(struct gov_policy *p, const char *tenant, const char *id, int64_t from,
                        int64_t to);
/* Latest version of every policy of the tenant (optionally one scope / domain; -1 = any). */
json_t *gov_policy_list(struct gov_policy *p, const char *tenant, int scope, int domain);
/* Slot metadata of an existing policy, for authorization of a write: GW_ENOTFOUND if absent.
 * Strings are copied into the caller's buffers. */
gw_err gov_policy_slot(struct gov_policy *p, const char *tenant, const char *id,
                       enum pol_scope *scope, char *scope_id, size_t cap, enum pol_domain *d);
size_t gov_policy_count(struct gov_policy *p);

#endif
