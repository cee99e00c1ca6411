/* SPDX-License-Identifier: MIT
 * sqlite_agents.c — agents, channel messages (schema 1) and conversations in SQLite.
 *
 * A conversation is found or created in one step under the connection lock (INSERT OR IGNORE
 * with a fresh id, then the row's id), so two turns of one session agree on its id. Messages
 * are numbered per conversation inside the appending transaction.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "store/sqlite/sqlite_int.h"

#define AGENT_COLS STORE_COL_NAMES(STORE_AGENT_COLUMNS)
#define MESSAGE_COLS STORE_COL_NAMES(STORE_MESSAGE_COLUMNS)

static const char AGENT_INSERT[] = "INSERT INTO agents (" AGENT_COLS ") "
                                   "VALUES (" STORE_COL_PARAMS(STORE_AGENT_COLUMNS) ")";
static const char AGENT_LIST[] = "SELECT " AGENT_COLS " FROM agents ORDER BY tenant, name";
static const char AGENT_DELETE[] = "DELETE FROM agents WHERE tenant = ? AND name = ?";
static const char MESSAGE_INSERT[] = "INSERT INTO messages (" MESSAGE_COLS ") "
                                     "VALUES (" STORE_COL_PARAMS(STORE_MESSAGE_COLUMNS) ")";
static const char CONV_INSERT[] = "INSERT OR IGNORE INTO conversations (id, tenant, user_id, "
                                  "channel, session, created_ms, updated_ms) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char CONV_FIND[] = "SELECT id FROM conversations WHERE tenant = ? AND "
                                "user_id = ? AND channel = ? AND session = ?";
static const char CONV_APPEND[] = "INSERT INTO conversation_messages (conversation_id, seq, "
                                  "message, created_ms) VALUES (?1, (SELECT COALESCE(MAX(seq), "
                                  "0) + 1 FROM conversation_messages WHERE conversation_id = "
                                  "?1), ?2, ?3)";
static const char CONV_TOUCH[] = "UPDATE conversations SET updated_ms = ? WHERE id = ?";
static const char CONV_TAIL[] = "SELECT message FROM (SELECT seq, message FROM "
                                "conversation_messages WHERE conversation_id = ? "
                                "ORDER BY seq DESC LIMIT ?) ORDER BY seq";

static gw_err agent_insert(struct store *st, const struct store_agent *a)
{
    return store_sqlite_insert(st, AGENT_INSERT, "agent insert", &store_agent_cols, a);
}

static gw_err agent_list(struct store *st, struct store_agent **out, size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = AGENT_LIST, .what = "agent list"),
                             &store_agent_cols, out, n);
}

static gw_err agent_delete(struct store *st, const char *tenant, const char *name)
{
    int changes = 0;
    gw_err rc = store_sqlite_write(st, SQ_CALL(.sql = AGENT_DELETE, .what = "agent delete",
                                               SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(name))),
                                   &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

static gw_err message_insert(struct store *st, const struct store_message *m)
{
    return store_sqlite_insert(st, MESSAGE_INSERT, "message insert", &store_message_cols, m);
}

static gw_err conversation_open(struct store *st, const char *tenant, const char *user,
                                const char *channel, const char *session, int64_t now_ms,
                                char *id)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    char fresh[STORE_CONV_ID_LEN], hex[25], *found = NULL;
    gw_random_hex(hex, 12);
    snprintf(fresh, sizeof(fresh), "cnv_%s", hex);
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(
        c, SQ_CALL(.sql = CONV_INSERT, .what = "conversation open: insert",
                   SQ_ARGS(SQ_TEXT(fresh), SQ_TEXT(tenant), SQ_TEXT(user), SQ_TEXT(channel),
                           SQ_TEXT(session), SQ_I64(now_ms), SQ_I64(now_ms))),
        NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run_get(
            c, SQ_CALL(.sql = CONV_FIND, .what = "conversation open: select",
                       SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(user), SQ_TEXT(channel),
                               SQ_TEXT(session))),
            &store_str_cols, &found);
    store_sqlite_unlock(c);
    if (rc == GW_ENOTFOUND) /* inserted or present a moment ago, under the same lock */
        rc = GW_ESTORE;
    if (rc == GW_OK)
        snprintf(id, STORE_CONV_ID_LEN, "%s", found ? found : "");
    free(found);
    return rc;
}

static gw_err conversation_append(struct store *st, const char *id,
                                  const char *const *messages, size_t n, int64_t now_ms)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, "conversation append: begin");
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_sqlite_run(c, SQ_CALL(.sql = CONV_APPEND, .what = "conversation append",
                                         SQ_ARGS(SQ_TEXT(id), SQ_TEXT(messages[i]),
                                                 SQ_I64(now_ms))),
                              NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run(c, SQ_CALL(.sql = CONV_TOUCH, .what = "conversation append: touch",
                                         SQ_ARGS(SQ_I64(now_ms), SQ_TEXT(id))),
                              NULL);
    rc = store_sqlite_end(c, rc, "conversation append: commit");
    store_sqlite_unlock(c);
    return rc;
}

static gw_err conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                                size_t *n)
{
    return store_sqlite_list(st, SQ_CALL(.sql = CONV_TAIL, .what = "conversation tail",
                                         SQ_ARGS(SQ_TEXT(id), SQ_I64((int64_t)max))),
                             &store_str_cols, messages, n);
}

const struct store_agent_ops store_sqlite_agent_ops = {
    .agent_insert = agent_insert, .agent_list = agent_list, .agent_delete = agent_delete,
    .message_insert = message_insert,
    .conversation_open = conversation_open, .conversation_append = conversation_append,
    .conversation_tail = conversation_tail,
};
