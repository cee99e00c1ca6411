/* SPDX-License-Identifier: MIT
 * pg_agents.c — agents, channel messages (schema 1) and conversations in PostgreSQL.
 *
 * A conversation is found or created in one step (insert-if-absent with a fresh id, then the
 * row's id), so two turns of one session agree on its id even on two nodes. Messages are
 * numbered per conversation inside the appending transaction, which first touches (and so
 * locks) the conversation's row: two nodes appending to one conversation take turns, and a
 * conversation deleted meanwhile gets nothing. Lists page by a cursor (row-value ranges, as in
 * SQLite); the title is the start of the first message's "content".
 */
#include "base/prelude.h"
#include "base/mem.h"
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
static const char MESSAGE_LIST[] = "SELECT " MESSAGE_COLS " FROM messages "
                                   "WHERE tenant = $1 AND channel = $2 AND (created_ms, id) < "
                                   "($3, $4) ORDER BY created_ms DESC, id DESC LIMIT $5";
/* the first STORE_CONVERSATION_INSERT_COLS columns of struct store_conversation */
static const char CONV_INSERT[] = "INSERT INTO conversations (id, tenant, user_id, channel, "
                                  "session, org_unit, team, created_ms, updated_ms) "
                                  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                                  "ON CONFLICT DO NOTHING";
static const char CONV_FIND[] = "SELECT id FROM conversations WHERE tenant = $1 AND "
                                "user_id = $2 AND channel = $3 AND session = $4";
static const char CONV_APPEND[] = "INSERT INTO conversation_messages (conversation_id, seq, "
                                  "message, created_ms) VALUES ($1, (SELECT COALESCE(MAX(seq), "
                                  "0) + 1 FROM conversation_messages WHERE conversation_id = "
                                  "$1), $2, $3)";
static const char CONV_TOUCH[] = "UPDATE conversations SET updated_ms = $1 WHERE id = $2";
static const char CONV_TAIL[] = "SELECT message FROM (SELECT seq, message FROM "
                                "conversation_messages WHERE conversation_id = $1 "
                                "ORDER BY seq DESC LIMIT $2) t ORDER BY seq";
/* the columns of struct store_conversation */
#define CONV_SELECT                                                                                \
    "SELECT c.id, c.tenant, c.user_id, c.channel, c.session, c.org_unit, c.team, "                 \
    "c.created_ms, c.updated_ms, (SELECT COUNT(*) FROM conversation_messages m WHERE "             \
    "m.conversation_id = c.id), (SELECT substr((m.message::jsonb) ->> 'content', 1, 120) "         \
    "FROM conversation_messages m WHERE m.conversation_id = c.id ORDER BY m.seq LIMIT 1) "         \
    "FROM conversations c "
/* $3..$5: the org unit and its subtree's bounds (store_org_subtree) */
#define CONV_LIST_FILTER                                                                           \
    "AND ($3::text IS NULL OR c.org_unit = $3 OR (c.org_unit >= $4 AND c.org_unit < $5)) AND "     \
    "($6::text IS NULL OR c.channel = $6) AND (c.updated_ms, c.id) < ($7, $8) "                    \
    "ORDER BY c.updated_ms DESC, c.id DESC LIMIT $9"
static const char CONV_LIST_USER[] = CONV_SELECT
    "WHERE c.tenant = $1 AND c.user_id = $2 " CONV_LIST_FILTER;
static const char CONV_LIST_ALL[] = CONV_SELECT
    "WHERE c.tenant = $1 AND $2::text IS NULL " CONV_LIST_FILTER;
static const char CONV_GET[] = CONV_SELECT "WHERE c.tenant = $1 AND c.id = $2";
static const char CONV_MESSAGES[] = "SELECT seq, message, created_ms FROM conversation_messages "
                                    "WHERE conversation_id = $1 AND seq > $2 ORDER BY seq "
                                    "LIMIT $3";
static const char CONV_DELETE_MESSAGES[] = "DELETE FROM conversation_messages WHERE "
                                           "conversation_id = (SELECT id FROM conversations "
                                           "WHERE id = $1 AND tenant = $2)";
static const char CONV_DELETE[] = "DELETE FROM conversations WHERE id = $1 AND tenant = $2";

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

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

static gw_err message_list(struct store *st, const char *tenant, const char *channel,
                           int64_t before_ms, const char *before_id, size_t limit,
                           struct store_message **out, size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = MESSAGE_LIST, .what = "message list",
                                 PG_ARGS(PG_TEXT(tenant), PG_TEXT(channel),
                                         PG_I64(before_ms ? before_ms : INT64_MAX),
                                         PG_TEXT(before_ms ? before_id : ""),
                                         PG_I64(limit_i64(limit)))),
                         &store_message_cols, out, n);
}

static gw_err conversation_open(struct store *st, const struct store_conversation *conv,
                                int64_t now_ms, char *id)
{
    struct store_pg *s = store_pg_of(st);
    char fresh[STORE_CONV_ID_LEN], hex[25], *found = NULL;
    gw_random_hex(hex, 12);
    snprintf(fresh, sizeof(fresh), "cnv_%s", hex);
    struct store_conversation row = *conv;
    row.id = fresh;
    row.created_ms = row.updated_ms = now_ms;
    struct store_pg_conn *c = store_pg_acquire(s, "conversation open");
    if (!c)
        return GW_ESTORE;
    gw_err rc = store_pg_run(c,
                             PG_CALL(.sql = CONV_INSERT, .what = "conversation open: insert",
                                     .cols = &store_conversation_cols, .row = &row,
                                     .ncols = STORE_CONVERSATION_INSERT_COLS),
                             NULL);
    if (rc == GW_OK)
        rc = store_pg_run_get(c,
                              PG_CALL(.sql = CONV_FIND, .what = "conversation open: select",
                                      PG_ARGS(PG_TEXT(conv->tenant), PG_TEXT(conv->user_id),
                                              PG_TEXT(conv->channel), PG_TEXT(conv->session))),
                              &store_str_cols, &found);
    store_pg_release(s, c);
    if (rc == GW_ENOTFOUND) /* inserted or present a moment ago, deleted since */
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
    int changes = 0;
    gw_err rc = store_pg_begin(c, "conversation append: begin");
    /* touched first: the row stays locked to the commit, and a deleted one gets nothing */
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_TOUCH, .what = "conversation append: touch",
                                  PG_ARGS(PG_I64(now_ms), PG_TEXT(id))),
                          &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_APPEND, .what = "conversation append",
                                  PG_ARGS(PG_TEXT(id), PG_TEXT(messages[i]), PG_I64(now_ms))),
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

static gw_err conversation_list(struct store *st, const struct store_conversation_filter *f,
                                size_t limit, struct store_conversation **out, size_t *n)
{
    char *ou[3];
    store_org_subtree(f->org_unit, ou);
    gw_err rc = store_pg_list(
        st,
        PG_CALL(.sql = f->user_id ? CONV_LIST_USER : CONV_LIST_ALL, .what = "conversation list",
                PG_ARGS(PG_TEXT(f->tenant), PG_TEXT(f->user_id), PG_TEXT(ou[0]), PG_TEXT(ou[1]),
                        PG_TEXT(ou[2]), PG_TEXT(f->channel),
                        PG_I64(f->before_ms ? f->before_ms : INT64_MAX),
                        PG_TEXT(f->before_ms ? f->before_id : ""), PG_I64(limit_i64(limit)))),
        &store_conversation_cols, out, n);
    for (size_t i = 0; i < 3; i++)
        free(ou[i]);
    return rc;
}

static gw_err conversation_get(struct store *st, const char *tenant, const char *id,
                               struct store_conversation *out)
{
    return store_pg_get(st,
                        PG_CALL(.sql = CONV_GET, .what = "conversation get",
                                PG_ARGS(PG_TEXT(tenant), PG_TEXT(id))),
                        &store_conversation_cols, out);
}

static gw_err conversation_messages(struct store *st, const char *id, int64_t after_seq,
                                    size_t limit, struct store_conversation_message **out,
                                    size_t *n)
{
    return store_pg_list(st,
                         PG_CALL(.sql = CONV_MESSAGES, .what = "conversation messages",
                                 PG_ARGS(PG_TEXT(id), PG_I64(after_seq), PG_I64(limit_i64(limit)))),
                         &store_conversation_message_cols, out, n);
}

static gw_err conversation_delete(struct store *st, const char *tenant, const char *id,
                                  int64_t *messages)
{
    struct store_pg *s = store_pg_of(st);
    struct store_pg_conn *c = store_pg_acquire(s, "conversation delete");
    if (!c)
        return GW_ESTORE;
    int removed = 0, changes = 0;
    gw_err rc = store_pg_begin(c, "conversation delete: begin");
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_DELETE_MESSAGES,
                                  .what = "conversation delete: messages",
                                  PG_ARGS(PG_TEXT(id), PG_TEXT(tenant))),
                          &removed);
    if (rc == GW_OK)
        rc = store_pg_run(c,
                          PG_CALL(.sql = CONV_DELETE, .what = "conversation delete",
                                  PG_ARGS(PG_TEXT(id), PG_TEXT(tenant))),
                          &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    rc = store_pg_end(c, rc, "conversation delete: commit");
    store_pg_release(s, c);
    if (rc == GW_OK)
        *messages = removed;
    return rc;
}

const struct store_agent_ops store_pg_agent_ops = {
    .agent_insert = agent_insert,
    .agent_list = agent_list,
    .agent_delete = agent_delete,
    .message_insert = message_insert,
    .message_list = message_list,
    .conversation_open = conversation_open,
    .conversation_append = conversation_append,
    .conversation_tail = conversation_tail,
    .conversation_list = conversation_list,
    .conversation_get = conversation_get,
    .conversation_messages = conversation_messages,
    .conversation_delete = conversation_delete,
};
