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
    char *name; /* "<namespace>/<agent>" */
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
    char *sender; /* principal */
    char *content;
    int64_t created_ms;
};

gw_err store_message_insert(struct store *st, const struct store_message *m);

/* Newest first, page by page: at most limit messages of (tenant, channel) older than the
 * cursor (before_ms, before_id) of the last one seen (before_ms 0: the first page). */
gw_err store_message_list(struct store *st, const char *tenant, const char *channel,
                          int64_t before_ms, const char *before_id, size_t limit,
                          struct store_message **out, size_t *n);
void store_message_list_free(struct store_message *list, size_t n);

/* --- conversations: an agent's sessions per user and channel --------------------------- */

#define STORE_CONV_ID_LEN 40

/* A conversation and a summary of its messages. */
struct store_conversation {
    char *id; /* "cnv_<24 hex>" */
    char *tenant;
    char *user_id; /* the owner: a user id, or "token:<id>" */
    char *channel; /* "<namespace>/<agent>" */
    char *session;
    char *org_unit; /* the owner's when the conversation began, NULL when it had none */
    char *team;
    int64_t created_ms;
    int64_t updated_ms;
    int64_t messages; /* how many are stored (read only) */
    char *title;      /* the start of the first message's text, NULL when none (read only) */
};

void store_conversation_release(struct store_conversation *c);
/* The conversation of (tenant, user_id, channel, session), created when new with the owner's
 * org_unit and team from c; its id ("cnv_…") goes to id (STORE_CONV_ID_LEN bytes). */
gw_err store_conversation_open(struct store *st, const struct store_conversation *c, int64_t now_ms,
                               char *id);
/* Appends messages (canonical chat messages as JSON text) in one transaction; GW_ENOTFOUND
 * when the conversation is gone (deleted meanwhile). */
gw_err store_conversation_append(struct store *st, const char *id, const char *const *messages,
                                 size_t n, int64_t now_ms);
/* The last max messages, oldest first (release with store_strv_free, store.h). */
gw_err store_conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                               size_t *n);

/* Which conversations a list returns: those of the tenant matching every field that is set. */
struct store_conversation_filter {
    const char *tenant;
    const char *user_id;  /* the owner */
    const char *org_unit; /* the owner's org unit is this one or below it */
    const char *channel;
    int64_t before_ms; /* cursor: updated_ms and id of the last one seen (0: first page) */
    const char *before_id;
};

/* Most recently active first (updated_ms, then id, descending), at most limit. */
gw_err store_conversation_list(struct store *st, const struct store_conversation_filter *f,
                               size_t limit, struct store_conversation **out, size_t *n);
void store_conversation_list_free(struct store_conversation *list, size_t n);
/* GW_ENOTFOUND when the tenant has no conversation id. */
gw_err store_conversation_get(struct store *st, const char *tenant, const char *id,
                              struct store_conversation *out);

/* One stored message of a conversation. */
struct store_conversation_message {
    int64_t seq; /* 1, 2, ... in the order they were added */
    char *message;
    int64_t created_ms;
};

/* At most limit messages with seq > after_seq, oldest first. */
gw_err store_conversation_messages(struct store *st, const char *id, int64_t after_seq,
                                   size_t limit, struct store_conversation_message **out,
                                   size_t *n);
void store_conversation_messages_free(struct store_conversation_message *list, size_t n);
/* Removes the conversation and its messages (how many: *messages) in one transaction;
 * GW_ENOTFOUND when the tenant has no conversation id. */
gw_err store_conversation_delete(struct store *st, const char *tenant, const char *id,
                                 int64_t *messages);

#endif
