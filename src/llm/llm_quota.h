/* SPDX-License-Identifier: MIT
 * llm_quota.h — a provider's limits across the nodes of a cluster, on the shared counters.
 *
 * One quota per provider per node, the gate of that provider's scheduler (llm_sched.h): the
 * scheduler keeps its fair queue per node and asks the quota before it admits the head of the
 * line. With Redis the quota counts in shared counters (keys "llm:<provider>:..."):
 *
 * - requests and tokens per minute: one fixed window of 60 s per counter, started by the
 *   first call of any node (shared_counter_incr's window). A call is admitted when its
 *   increment stays within the limit; tokens are taken on the estimate and corrected by the
 *   real usage at the end. Over the limit the head waits until the window ends. A fixed window
 *   lets at most 2 x limit through in any 60 s that straddles two windows, and exactly the
 *   limit in each window.
 * - concurrency: running calls counted in epochs of LLM_QUOTA_EPOCH_MS of wall-clock time.
 *   Each node counts its running calls in the current and the next epoch (at admission, and
 *   for all of them when it sees an epoch begin) and takes them out of both at release; a
 *   key expires after its epoch. A node that dies stops counting, so its calls vanish from the
 *   count within two epochs (the lease). Chosen over a counter per node because counters
 *   cannot be listed nor their expiry refreshed, and over one global counter because a dead
 *   node's increments would never be taken back. Nodes' clocks must agree to well under an
 *   epoch (NTP); a node that stalls longer than an epoch is recounted when it wakes.
 *
 * Each node also counts itself in "llm:nodes:<epoch>" (llm_quota_beat), the number of nodes
 * seen in the last complete epoch. When Redis cannot count (unreachable, or shared_health says the
 * node is not synced) the quota enforces a share of each limit on this node alone: limit / nodes
 * last seen, at least 1, never no limit. In-process (one node) there is no quota at all: the
 * scheduler's own buckets are today's behaviour.
 *
 * Every call is made on the thread that drives the scheduler (net-io): an admission is one
 * round trip (all its counters pipelined; a second to take them back when over a limit); a
 * release is owed and rides with the next admission, or llm_quota_tick at the end of the loop's
 * turn sends it. Each with the seam's 1 s deadline; after a failure the seam answers at once
 * (backoff).
 */
#ifndef GW_LLM_QUOTA_H
#define GW_LLM_QUOTA_H

#include "base/prelude.h"
#include "config/config.h"
#include "llm/llm_sched.h"

struct shared;

#define LLM_QUOTA_EPOCH_MS 3000 /* concurrency lease: a dead node's calls count <= 2 epochs */
#define LLM_QUOTA_POLL_MS 200   /* a head held back by the cluster's concurrency asks again */

struct llm_quota;

/* name: the provider's key ("<provider>" or "<tenant>:<provider>"), at most 150 bytes. */
struct llm_quota *llm_quota_new(struct shared *sh, const char *name,
                                const struct cfg_provider_limits *lim);
void llm_quota_set_limits(struct llm_quota *q, const struct cfg_provider_limits *lim);
void llm_quota_free(struct llm_quota *q);

/* The gate to install in the provider's scheduler (llm_sched_set_gate). */
struct llm_gate llm_quota_gate(struct llm_quota *q);

/* Sends what the node owes the counts (calls released since the last round trip, its running
 * calls in a new epoch); once the retry time after a failure has passed, asks Redis again.
 * Gives the ms until it should be called again. now_ms: wall clock (ms). Call it on every
 * turn of the loop that drives the scheduler. */
int64_t llm_quota_tick(struct llm_quota *q, int64_t now_ms);

/* Counts this node in the current epoch ("llm:nodes:<epoch>", once per epoch per node) and
 * gives the nodes seen in it or the last one, 0 when Redis did not answer. */
unsigned llm_quota_beat(struct shared *sh, int64_t now_ms);
/* The nodes last seen: the share of each limit this node enforces when Redis is unreachable. */
void llm_quota_set_nodes(struct llm_quota *q, unsigned nodes);

/* "cluster" while the shared counters count, "node-share" while this node enforces its share
 * (nodes: the nodes last seen). */
const char *llm_quota_mode(struct llm_quota *q, unsigned *nodes);

#endif
