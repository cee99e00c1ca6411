/* SPDX-License-Identifier: MIT
 * store_lease.h — leadership of one named job across the nodes sharing a store (issue 15: the
 * SIEM forwarders run on one node at a time). Included by store.h.
 *
 * On PostgreSQL a lease is a session advisory lock (pg_try_advisory_lock, keyed by the schema
 * and the name) held on a connection of its own, never a pooled one: the lock belongs to the
 * session, so it ends when the node dies or its connection breaks, and the server grants it to
 * the next node that tries. The holder records its node id next to its backend pid
 * (audit_fwd_leaders, schema 16) so any node can tell who leads. On SQLite the data
 * directory's lock already admits one process: its lease is always held.
 */
#ifndef GW_STORE_LEASE_H
#define GW_STORE_LEASE_H

#include "base/prelude.h"
#include "base/err.h"

struct store;
struct store_lease;

/* A lease on name (a SIEM destination) for node_id; nothing is taken yet. */
gw_err store_lease_open(struct store *st, const char *name, const char *node_id,
                        struct store_lease **out);
/* Takes the lease if it is free, or checks (one round trip) that it is still held: *held.
 * A broken connection is closed (the lease is lost) and opened again on the next call. */
gw_err store_lease_hold(struct store_lease *l, bool *held);
/* The forwarding cursor of the lease's destination, stored through the session that holds
 * the lease (a deposed holder cannot store one; the cursor never moves backwards).
 * GW_ECONFLICT when the lease is not held. */
gw_err store_lease_cursor_set(struct store_lease *l, const char *tenant, int64_t seq,
                              int64_t now_ms);
/* The node that holds the lease on name now: *node_id malloc'd, NULL when nobody does. */
gw_err store_lease_holder(struct store *st, const char *name, char **node_id);
/* Whether other processes share the store (leadership can move, commits come from others). */
bool store_lease_shared(const struct store_lease *l);
/* Gives the lease up (its connection is closed) and frees. */
void store_lease_close(struct store_lease *l);

#endif
