/* SPDX-License-Identifier: MIT
 * pg_agents.c — agents, channel messages (schema 1) and conversations in PostgreSQL.
 *
 * A conversation is found or created in one step (insert-if-absent with a fresh id, then the
 * row's id), so two turns of one session agree on its id even on two nodes. Messages are
 * numbered per conversation inside the appending transaction, which first locks the
 * conversation's row: two nodes appending to one conversation take turns.
 */
#include "base/prelude.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

#define AGENT_COLS STORE_COL_NAMES(STORE_AGENT_COLUMNS)
#define MESSAGE_COLS STORE_COL_NAMES(STORE_MESSAGE_COLUMNS)

static const char AGENT_INSERT[] = "INSERT INTO agents (" AGENT_COLS ") "
                                   "VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char AGENT_LIST[] = "SELECT " AGENT_COLS " FROM agents ORDER BY tenant, name";
static const char AGENT_DELETE[] = "DELETE FROM agents WHERE tenant = $1 AND name = $2";
static const char MESSAGE_INSERT[] = "INSERT INTO messages (" MESSAGE_COLS ") "
                                     "VALUES ($1, $2, $3, $4, $5, $6)";
static const char CONV_INSERT[] = "INSERT INTO conversations (id, tenant, user_id, channel, "
                                  "session, created_ms, updated_ms) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
static const char CONV_FIND[] = "SELECT id FROM conversations WHERE tenant = $1 AND "
                                "user_id = $2 AND channel = $3 AND session = $4";
static const char CONV_LOCK[] = "SELECT id FROM conversations WHERE id = $1 FOR UPDATE";
static const char CONV_APPEND[] = "INSERT INTO conversation_messages (conversation_id, seq, "
                                  "message, created_ms) VALUES ($1, (SELECT COALESCE(MAX(seq), "
                                  "0) + 1 FROM conversation_messages WHERE conversation_id = "
                                  "$1), $2, $3)";
static const char CONV_TOUCH[] = "UPDATE conversations SET updated_ms = $1 WHERE id = $2";
static const char CONV_TAIL[] = "SELECT message FROM (SELECT seq, message FROM "
                                "conversation_messages WHERE conversation_id = $1 "
                                "ORDER BY seq DESC LIMIT $2) t ORDER BY seq";

static gw_err agent_insert(struct store *st, const struct store_agent *a)
{
    return store_pg_insert(st, AGENT_INSERT, "agent insert", &store_agent_cols, a);
}

static gw_err agent_list(struct store *st, struct store_agent **out, size_t *n)
{
    return store_pg_list(st, PG_CALL(.sql = AGENT_LIST, .what = "agent list"), &store_agent_cols,
                         out, n);
}

static gw_err agent_delete(struct store *st, const char *tenant, const char *name)
{
    int changes = 0;
    gw_err rc = store_pg_write(st,
                               PG_CALL(.sql = AGENT_DELETE, .what = "agent delete",
                                       PG_ARGS(PG_TEXT(tenant), PG_TEXT(name))),
                               &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

static gw_err message_insert(struct store *st, const struct store_message *m)
{
    return store_pg_insert(st, MESSAGE_INSERT, "message insert", &store_message_cols, m);
}

static gw_err conversation_open(struct store *st, const char *tenant, const char *user,
                                const char *channel, const char *session, int64_t now_ms, char *id)
{
    struct store_pg *s = store_pg_of(st);
    char fresh[STORE_CONV_ID_LEN], hex[25], *found = NULL;
    gw_random_hex(hex, 12);
    snprintf(fresh, sizeof(fresh), "cnv_%s", hex);
    struct store_pg_conn *c = store_pg_acquire(s, "conversation open");
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run(c,
                             PG_CALL(.sql = CONV_INSERT, .what = "conversation open: insert",
                                     PG_ARGS(PG_TEXT(fresh), PG_TEXT(tenant), PG_TEXT(user),
                                             PG_TEXT(channel), PG_TEXT(session), PG_I64(now_ms),
                                             PG_I64(now_ms))),
                             NULL);
    if (rc == GW_OK)
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = CONV_FIND, .what = "conversation open: select",
                                      PG_ARGS(PG_TEXT(tenant), PG_TEXT(user), PG_TEXT(channel),
                                              PG_TEXT(session))),
                              &store_str_cols, &found);
    store_pg_release(s, c);
    if (rc == GW_ENOTFOUND) /* inserted or present a moment ago; conversations stay */
        rc = GW_ESTORE;
    if (rc == GW_OK)
        snprintf(id, STORE_CONV_ID_LEN, "%s", found ? found : "");
    free(found);
    return rc;
}

static gw_err conversation_append(struct store *st, const char *id, const char *const *messages,
                                  size_t n, int64_t now_ms)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "conversation append");
    if (!c)
        return GW_ESTORE;
    char *locked = NULL;
    gw_err rc = store_pg_begin(c, "conversation append: begin");
    if (rc == GW_OK) /* absent: the insert below fails on the foreign key, as in SQLite */
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = CONV_LOCK, .what = "conversation append: lock",
                                      PG_ARGS(PG_TEXT(id))),
                              &store_str_cols, &locked);
    if (rc == GW_ENOTFOUND)
        rc = GW_OK;
    free(locked);
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_APPEND, .what = "conversation append",
                                  PG_ARGS(PG_TEXT(id), PG_TEXT(messages[i]), PG_I64(now_ms))),
                          NULL);
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_TOUCH, .what = "conversation append: touch",
                                  PG_ARGS(PG_I64(now_ms), PG_TEXT(id))),
                          NULL);
    rc = store_pg_end(c, rc, "conversation append: commit");
    store_pg_release(s, c);
    return rc;
}

static gw_err conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                                size_t *n)
{
    int64_t lim = max > INT32_MAX ? INT32_MAX : (int64_t)max;
    return store_pg_list(st,
                         PG_CALL(.sql = CONV_TAIL, .what = "conversation tail",
                                 PG_ARGS(PG_TEXT(id), PG_I64(lim))),
                         &store_str_cols, messages, n);
}

const struct store_agent_ops store_pg_agent_ops = {
    .agent_insert = agent_insert,
    .agent_list = agent_list,
    .agent_delete = agent_delete,
    .message_insert = message_insert,
    .conversation_open = conversation_open,
    .conversation_append = conversation_append,
    .conversation_tail = conversation_tail,
};
