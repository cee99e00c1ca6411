/* SPDX-License-Identifier: MIT
 * store_agents.h — agents registered at run time, the messages sent to their channels, and
 * their conversations (an agent's sessions per user and channel).
 *
 * Part of the store interface (store.h); src/ns and src/agent own the meaning.
 */
#ifndef GW_STORE_AGENTS_H
#define GW_STORE_AGENTS_H

#include "base/prelude.h"
#include "base/err.h"

struct store;

/* --- agents registered at run time ------------------------------------------------------ */

struct store_agent {
    char *tenant;
    char *name;        /* "<namespace>/<agent>" */
    char *channel;
    char *memory_path; /* absolute */
    char *description;
    char *created_by;
    int64_t created_ms;
};

void store_agent_release(struct store_agent *a);
/* GW_ECONFLICT when (tenant, name) exists. */
gw_err store_agent_insert(struct store *st, const struct store_agent *a);
gw_err store_agent_list(struct store *st, struct store_agent **out, size_t *n);
void store_agent_list_free(struct store_agent *list, size_t n);
/* GW_ENOTFOUND when (tenant, name) is not a run-time agent. */
gw_err store_agent_delete(struct store *st, const char *tenant, const char *name);

/* --- channel messages ------------------------------------------------------------------- */

struct store_message {
    char *id;
    char *tenant;
    char *channel;
    char *sender;    /* principal */
    char *content;
    int64_t created_ms;
};

gw_err store_message_insert(struct store *st, const struct store_message *m);

/* --- conversations: an agent's sessions per user and channel --------------------------- */

#define STORE_CONV_ID_LEN 40
/* The conversation of (tenant, user, channel, session), created when new; its id ("cnv_…")
 * goes to id (STORE_CONV_ID_LEN bytes). */
gw_err store_conversation_open(struct store *st, const char *tenant, const char *user,
                               const char *channel, const char *session, int64_t now_ms,
                               char *id);
/* Appends messages (canonical chat messages as JSON text) in one transaction. */
gw_err store_conversation_append(struct store *st, const char *id, const char *const *messages,
                                 size_t n, int64_t now_ms);
/* The last max messages, oldest first (release with store_strv_free, store.h). */
gw_err store_conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                               size_t *n);

#endif
