/* SPDX-License-Identifier: MIT
 * gwd_policy.h — the policy engine at run time: versions persisted in the store, the current
 * compiled snapshot, and the serialized write path.
 *
 * Writes (create, update, deprecate, rollback) are serialized by one mutex: validate against
 * the current snapshot (write-time rejection of loosening), record the new version in the
 * in-memory set, persist it, then compile and swap a new snapshot, so the next decision sees
 * the change while decisions in flight finish on the snapshot they hold. Reads take a
 * snapshot reference and never block writers.
 */
#ifndef GW_GWD_POLICY_H
#define GW_GWD_POLICY_H

#include "base/prelude.h"
#include "base/err.h"
#include "policy/policy.h"

struct cfg;
struct store;
struct gwd_policy;

/* Loads every stored version, then applies the configured bundle (policy.bundle), which is
 * authoritative at start: an empty slot gets the bundle's policy, a different one a new
 * version. msg explains a failure (unreadable or invalid bundle). */
gw_err gwd_policy_open(struct store *st, const struct cfg *c, struct gwd_policy **out,
                       char *msg, size_t msgcap);
void gwd_policy_close(struct gwd_policy *p);

/* Current snapshot with a reference (pol_snapshot_unref when done); never NULL. */
struct pol_snapshot *gwd_policy_acquire(struct gwd_policy *p);

enum gwd_policy_op { GWD_POLICY_CREATE, GWD_POLICY_UPDATE, GWD_POLICY_DEPRECATE,
                     GWD_POLICY_ROLLBACK };

/* One write. For UPDATE/DEPRECATE/ROLLBACK `id` names the policy; ROLLBACK takes `to`.
 * Loosening is reported in issues with GW_EPOLICY; parse/metadata problems with GW_EINVAL.
 * On success *record is the new version as JSON (new reference). */
gw_err gwd_policy_write(struct gwd_policy *p, enum gwd_policy_op op, const char *id, int64_t to,
                        const struct pol_change *ch, const struct pol_position *pos,
                        json_t **record, struct pol_issues *issues);

/* Reads (JSON, new references; NULL when absent). */
json_t *gwd_policy_get(struct gwd_policy *p, const char *tenant, const char *id, int64_t version);
json_t *gwd_policy_history(struct gwd_policy *p, const char *tenant, const char *id);
json_t *gwd_policy_diff(struct gwd_policy *p, const char *tenant, const char *id, int64_t from,
                        int64_t to);
/* Latest version of every policy of the tenant (optionally one scope / domain; -1 = any). */
json_t *gwd_policy_list(struct gwd_policy *p, const char *tenant, int scope, int domain);
/* Slot metadata of an existing policy, for authorization of a write: GW_ENOTFOUND if absent.
 * Strings are copied into the caller's buffers. */
gw_err gwd_policy_slot(struct gwd_policy *p, const char *tenant, const char *id,
                       enum pol_scope *scope, char *scope_id, size_t cap, enum pol_domain *d);
size_t gwd_policy_count(struct gwd_policy *p);

/* --- the enforcement hook (gwd_enforce.c) --------------------------------------------------- */

struct gwd;
struct gw_pool;
struct auth_principal;

/* What every subsystem calls before it acts (tool call, connector read/write, model call,
 * agent-to-agent message, feature use, export). Decides with the built-in engine and, when
 * policy.opa_url is set, with OPA too (the stricter answer wins; an unreachable or malformed
 * OPA denies). The decision is audited ("policy.decision") with its reason. Identity and tenant
 * come from the authenticated principal, never from arguments chosen by a model. */
enum pol_effect gwd_policy_enforce(struct gwd *g, const struct auth_principal *p,
                                   enum pol_action action, const char *resource, int level,
                                   const struct pol_kv *ctx, size_t n_ctx,
                                   const char *request_id, struct gw_pool *pool,
                                   struct pol_decision *out);
/* (The strings of *out are copied into pool: valid for the caller's request.) */

/* The same decision without its own audit event, for callers that record the decision in
 * the audit event of the request it belongs to (the model proxy: one event per call). */
enum pol_effect gwd_policy_decide(struct gwd *g, const struct auth_principal *p,
                                  enum pol_action action, const char *resource, int level,
                                  const struct pol_kv *ctx, size_t n_ctx, struct gw_pool *pool,
                                  struct pol_decision *out);

/* One OPA query (gwd_opa.c): POST {"input": input} to url; fills effect and reason from
 * {"result": {"allow", "require_approval", "reason"}}. Any failure returns GW_EUPSTREAM with
 * the cause in reason. */
struct net_loop;
gw_err gwd_opa_decide(struct net_loop *net, const char *url, unsigned timeout_ms,
                      const json_t *input, enum pol_effect *effect, char *reason, size_t cap);

#endif
