/* SPDX-License-Identifier: MIT
 * ns_int.h — private state of the namespace registry.
 */
#ifndef GW_NS_INT_H
#define GW_NS_INT_H

#include "ns/ns.h"

#include <pthread.h>
#include <stdatomic.h>

struct ns_agent {
    char *tenant, *name, *ns, *agent, *channel, *memory_path, *description;
    bool from_config;
};

struct ns_registry {
    pthread_rwlock_t lock;
    struct store *st;
    struct cfg *cfg; /* ref held: namespaces and shared memory paths */
    char *data_dir;
    struct ns_agent *agents; /* config agents first, then run-time ones */
    size_t n, cap;
    struct shared *shared; /* changes told to the other nodes, theirs read again */
    bool memory_in_store;  /* cluster mode: memory documents in the store (ns_memory.c) */
    atomic_bool stale;     /* another node's change could not be read yet: read again */
    atomic_uint changes;   /* this node's own changes, counted under the write lock */
};

#endif
