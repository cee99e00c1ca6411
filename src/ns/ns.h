/* SPDX-License-Identifier: MIT
 * ns.h — namespaces, agents and their memory (seed 003).
 *
 * An agent "<ns>/<agent>" answers on the channel of the same name and owns one memory
 * document; each namespace owns a shared memory document. Agents come from gateway.yaml or are
 * registered at run time (persisted in the store). Memory documents are files; every access
 * walks from a trusted root directory with O_NOFOLLOW, so a symlink planted inside the memory
 * tree can neither be read through nor written through.
 */
#ifndef GW_NS_H
#define GW_NS_H

#include "base/prelude.h"
#include "base/err.h"

struct cfg;
struct gw_pool;
struct store;
struct ns_registry;

struct ns_agent_info {
    const char *name; /* "<ns>/<agent>" */
    const char *ns;
    const char *agent;
    const char *channel;
    const char *memory_path; /* absolute */
    const char *description;
    const char *source; /* "config" | "api" */
};

/* The reserved agent name that addresses a namespace's shared memory. */
#define NS_SHARED "shared"

gw_err ns_registry_open(struct store *st, const struct cfg *c, struct ns_registry **out);
void ns_registry_close(struct ns_registry *reg);
gw_err ns_registry_reload(struct ns_registry *reg, const struct cfg *c);
size_t ns_registry_count(struct ns_registry *reg);
struct shared;
/* Agents registered or deleted here are told to the other nodes through s (channel identity),
 * and theirs are read again from the store the nodes share. */
void ns_registry_share(struct ns_registry *reg, struct shared *s);
/* Reads the run-time agents again if another node's change could not be read when told. */
void ns_registry_retry_stale(struct ns_registry *reg);

/* Looks up an agent of the tenant; GW_ENOTFOUND when unknown. Strings copied into pool. */
gw_err ns_agent_find(struct ns_registry *reg, const char *tenant, const char *ns, const char *agent,
                     struct gw_pool *pool, struct ns_agent_info *out);
/* Validates a registration without changing anything (name grammar, reserved names, exists). */
gw_err ns_agent_check_register(struct ns_registry *reg, const char *tenant, const char *ns,
                               const char *agent, char *msg, size_t msgcap);
gw_err ns_agent_register(struct ns_registry *reg, const char *tenant, const char *ns,
                         const char *agent, const char *description, const char *created_by,
                         struct gw_pool *pool, struct ns_agent_info *out);
/* Removes a run-time agent and its memory document (GW_ENOTFOUND when unknown, GW_ECONFLICT
 * when it comes from the configuration file). */
gw_err ns_agent_delete(struct ns_registry *reg, const char *tenant, const char *ns,
                       const char *agent);
/* Agents declared in c that the store also holds as run-time agents: GW_ECONFLICT with a
 * message naming both (one name would stand for two agents). */
gw_err ns_registry_conflicts(struct ns_registry *reg, const struct cfg *c, char *msg,
                             size_t msgcap);
/* All agents of the tenant, optionally of one namespace (NULL = all). */
gw_err ns_agent_list(struct ns_registry *reg, const char *tenant, const char *ns,
                     struct gw_pool *pool, struct ns_agent_info **out, size_t *n);
/* Shared memory path of a tenant's namespace; GW_ENOTFOUND when the tenant has no such
 * namespace (configured namespaces belong to the primary tenant). */
gw_err ns_shared_memory_path(struct ns_registry *reg, const char *tenant, const char *ns,
                             struct gw_pool *pool, const char **path);

/* A fresh message id, "msg_<24 hex>" (cap at least 29). */
void ns_message_id(char *out, size_t cap);
/* Stores a message on a channel of the tenant (the mailbox of an agent without a model). */
gw_err ns_message_post(struct ns_registry *reg, const char *tenant, const char *id,
                       const char *channel, const char *sender, const char *content);

/* Reads a memory document (GW_ENOTFOUND when never written, GW_EFORBIDDEN on a symlink,
 * GW_ETOOBIG above max). *out is malloc'd. */
gw_err ns_memory_read(struct ns_registry *reg, const char *path, size_t max, char **out,
                      size_t *len);
/* Replaces a memory document atomically (temp file + fsync + rename), creating directories. */
gw_err ns_memory_write(struct ns_registry *reg, const char *path, const char *data, size_t len);
/* Removes a memory document (GW_OK when it never existed; GW_EFORBIDDEN on a non-file). */
gw_err ns_memory_remove(struct ns_registry *reg, const char *path);

#endif
