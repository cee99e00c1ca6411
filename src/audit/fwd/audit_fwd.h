/* SPDX-License-Identifier: MIT
 * audit_fwd.h — SIEM forwarding: the committed audit trail, read by cursor, delivered to the
 * destinations of audit.siem (CEF, LEEF 2.0, JSON, Splunk HEC, Elastic ECS, OCSF; syslog over
 * TCP or TLS, HTTPS).
 *
 * Each destination has its own worker (base/worker.h), woken by the audit writer's forwarder
 * slot (audit_sink.h) after every commit. It keeps a cursor per tenant, reads the chain after
 * it from the store (the log is the spool: nothing is queued in memory), formats, sends, and
 * moves the cursor (persisted with store_audit_cursor_set) only once the receiver took the
 * events: at least once across restarts, crashes and receiver outages, with bounded retries
 * (exponential backoff up to max_backoff_s). After each delivery the newest signed checkpoint
 * that covers only delivered events follows them, so the SIEM holds what a witness needs.
 *
 * On a shared store (PostgreSQL, several nodes) each destination is led by one node at a time:
 * its worker sends only while it holds the destination's lease, checked before every batch,
 * stores cursors through the lease's session (fenced), polls the store's heads for commits
 * of other nodes, and a node that does not lead tries again every second.
 */
#ifndef GW_AUDIT_FWD_H
#define GW_AUDIT_FWD_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

struct audit;
struct store;
struct net_loop;
struct cfg_siem;
struct audit_fwd;

/* Starts a worker per enabled destination and registers with the audit trail's forwarder
 * slot. The destinations are copied. node_id (cluster.node_id) names this node: on a shared
 * store only the node that holds a destination's lease sends to it (store_lease.h). */
gw_err audit_fwd_open(struct audit *a, struct store *st, struct net_loop *net,
                      const struct cfg_siem *c, const char *node_id, struct audit_fwd **out);
/* A new configuration: when the destinations changed, the workers are replaced (cursors are
 * persisted, so nothing is lost or skipped). */
void audit_fwd_reload(struct audit_fwd *f, const struct cfg_siem *c);
/* Unregisters, stops the workers (each finishes the delivery in progress) and frees. */
void audit_fwd_close(struct audit_fwd *f);

/* "disabled" (no destination), "healthy", or "degraded" (a destination is failing). */
const char *audit_fwd_state(struct audit_fwd *f);
/* Back-pressure per destination: cursor, head, lag in events and seconds, last error; only
 * the tenant's cursors (NULL: every tenant). A new reference. */
json_t *audit_fwd_status(struct audit_fwd *f, const char *tenant);

#endif
