/* SPDX-License-Identifier: MIT
 * sqlite_agents.c — agents, channel messages (schema 1) and conversations in SQLite.
 *
 * A conversation is found or created in one step under the connection lock (INSERT OR IGNORE
 * with a fresh id, then the row's id), so two turns of one session agree on its id. Messages
 * are numbered per conversation inside the appending transaction. Lists page by a cursor
 * (the sort key of the last row seen) rather than an offset, so rows added meanwhile do not
 * shift a page; the filters are fixed statements with optional parameters (NULL: any).
 */
#include "base/prelude.h"
#include "base/mem.h"
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
/* Pages: rows before the cursor (the sort key of the last row seen) as a row-value range, so
 * the index seeks to it; no cursor is (INT64_MAX, ""), before every row. */
static const char MESSAGE_LIST[] = "SELECT " MESSAGE_COLS " FROM messages "
                                   "WHERE tenant = ?1 AND channel = ?2 AND (created_ms, id) < "
                                   "(?3, ?4) ORDER BY created_ms DESC, id DESC LIMIT ?5";
/* the first STORE_CONVERSATION_INSERT_COLS columns of struct store_conversation */
static const char CONV_INSERT[] = "INSERT OR IGNORE INTO conversations (id, tenant, user_id, "
                                  "channel, session, org_unit, team, created_ms, updated_ms) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
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
/* the columns of struct store_conversation; the title is the first message's text, cut */
#define CONV_SELECT                                                                                \
    "SELECT c.id, c.tenant, c.user_id, c.channel, c.session, c.org_unit, c.team, "                 \
    "c.created_ms, c.updated_ms, (SELECT COUNT(*) FROM conversation_messages m WHERE "             \
    "m.conversation_id = c.id), (SELECT substr(json_extract(m.message, '$.content'), 1, 120) "     \
    "FROM conversation_messages m WHERE m.conversation_id = c.id ORDER BY m.seq LIMIT 1) "         \
    "FROM conversations c "
/* ?3..?5: the org unit, then the bounds of its subtree ("ou/" <= x < "ou0": '0' follows '/').
 * A list by owner has a statement of its own, so that it seeks in conversations_by_user. */
#define CONV_LIST_FILTER                                                                           \
    "AND (?3 IS NULL OR c.org_unit = ?3 OR (c.org_unit >= ?4 AND c.org_unit < ?5)) AND (?6 IS "    \
    "NULL OR c.channel = ?6) AND (c.updated_ms, c.id) < (?7, ?8) ORDER BY c.updated_ms DESC, "     \
    "c.id DESC LIMIT ?9"
static const char CONV_LIST_USER[] = CONV_SELECT
    "WHERE c.tenant = ?1 AND c.user_id = ?2 " CONV_LIST_FILTER;
static const char CONV_LIST_ALL[] = CONV_SELECT
    "WHERE c.tenant = ?1 AND ?2 IS NULL " CONV_LIST_FILTER;
static const char CONV_GET[] = CONV_SELECT "WHERE c.tenant = ? AND c.id = ?";
static const char CONV_MESSAGES[] = "SELECT seq, message, created_ms FROM conversation_messages "
                                    "WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?";
static const char CONV_DELETE_MESSAGES[] = "DELETE FROM conversation_messages WHERE "
                                           "conversation_id = (SELECT id FROM conversations "
                                           "WHERE id = ?1 AND tenant = ?2)";
static const char CONV_DELETE[] = "DELETE FROM conversations WHERE id = ? AND tenant = ?";

static int64_t limit_i64(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

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
    gw_err rc = store_sqlite_write(st,
                                   SQ_CALL(.sql = AGENT_DELETE, .what = "agent delete",
                                           SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(name))),
                                   &changes);
    return rc == GW_OK && changes == 0 ? GW_ENOTFOUND : rc;
}

static gw_err message_insert(struct store *st, const struct store_message *m)
{
    return store_sqlite_insert(st, MESSAGE_INSERT, "message insert", &store_message_cols, m);
}

static gw_err message_list(struct store *st, const char *tenant, const char *channel,
                           int64_t before_ms, const char *before_id, size_t limit,
                           struct store_message **out, size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = MESSAGE_LIST, .what = "message list",
                                     SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(channel),
                                             SQ_I64(before_ms ? before_ms : INT64_MAX),
                                             SQ_TEXT(before_ms ? before_id : ""),
                                             SQ_I64(limit_i64(limit)))),
                             &store_message_cols, out, n);
}

static gw_err conversation_open(struct store *st, const struct store_conversation *conv,
                                int64_t now_ms, char *id)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    char fresh[STORE_CONV_ID_LEN], hex[25], *found = NULL;
    gw_random_hex(hex, 12);
    snprintf(fresh, sizeof(fresh), "cnv_%s", hex);
    struct store_conversation row = *conv;
    row.id = fresh;
    row.created_ms = row.updated_ms = now_ms;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_run(c,
                                 SQ_CALL(.sql = CONV_INSERT, .what = "conversation open: insert",
                                         .cols = &store_conversation_cols, .row = &row,
                                         .ncols = STORE_CONVERSATION_INSERT_COLS),
                                 NULL);
    if (rc == GW_OK)
        rc = store_sqlite_run_get(c,
                                  SQ_CALL(.sql = CONV_FIND, .what = "conversation open: select",
                                          SQ_ARGS(SQ_TEXT(conv->tenant), SQ_TEXT(conv->user_id),
                                                  SQ_TEXT(conv->channel), SQ_TEXT(conv->session))),
                                  &store_str_cols, &found);
    store_sqlite_unlock(c);
    if (rc == GW_ENOTFOUND) /* inserted or present a moment ago, under the same lock */
        rc = GW_ESTORE;
    if (rc == GW_OK)
        snprintf(id, STORE_CONV_ID_LEN, "%s", found ? found : "");
    free(found);
    return rc;
}

static gw_err conversation_append(struct store *st, const char *id, const char *const *messages,
                                  size_t n, int64_t now_ms)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    int changes = 0;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, "conversation append: begin");
    /* touched first: a conversation deleted meanwhile gets nothing */
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = CONV_TOUCH, .what = "conversation append: touch",
                                      SQ_ARGS(SQ_I64(now_ms), SQ_TEXT(id))),
                              &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    for (size_t i = 0; i < n && rc == GW_OK; i++)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = CONV_APPEND, .what = "conversation append",
                                      SQ_ARGS(SQ_TEXT(id), SQ_TEXT(messages[i]), SQ_I64(now_ms))),
                              NULL);
    rc = store_sqlite_end(c, rc, "conversation append: commit");
    store_sqlite_unlock(c);
    return rc;
}

static gw_err conversation_tail(struct store *st, const char *id, size_t max, char ***messages,
                                size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = CONV_TAIL, .what = "conversation tail",
                                     SQ_ARGS(SQ_TEXT(id), SQ_I64((int64_t)max))),
                             &store_str_cols, messages, n);
}

static gw_err conversation_list(struct store *st, const struct store_conversation_filter *f,
                                size_t limit, struct store_conversation **out, size_t *n)
{
    char *ou[3];
    store_org_subtree(f->org_unit, ou);
    gw_err rc = store_sqlite_list(
        st,
        SQ_CALL(.sql = f->user_id ? CONV_LIST_USER : CONV_LIST_ALL, .what = "conversation list",
                SQ_ARGS(SQ_TEXT(f->tenant), SQ_TEXT(f->user_id), SQ_TEXT(ou[0]), SQ_TEXT(ou[1]),
                        SQ_TEXT(ou[2]), SQ_TEXT(f->channel),
                        SQ_I64(f->before_ms ? f->before_ms : INT64_MAX),
                        SQ_TEXT(f->before_ms ? f->before_id : ""), SQ_I64(limit_i64(limit)))),
        &store_conversation_cols, out, n);
    for (size_t i = 0; i < 3; i++)
        free(ou[i]);
    return rc;
}

static gw_err conversation_get(struct store *st, const char *tenant, const char *id,
                               struct store_conversation *out)
{
    return store_sqlite_get(st,
                            SQ_CALL(.sql = CONV_GET, .what = "conversation get",
                                    SQ_ARGS(SQ_TEXT(tenant), SQ_TEXT(id))),
                            &store_conversation_cols, out);
}

static gw_err conversation_messages(struct store *st, const char *id, int64_t after_seq,
                                    size_t limit, struct store_conversation_message **out,
                                    size_t *n)
{
    return store_sqlite_list(st,
                             SQ_CALL(.sql = CONV_MESSAGES, .what = "conversation messages",
                                     SQ_ARGS(SQ_TEXT(id), SQ_I64(after_seq),
                                             SQ_I64(limit_i64(limit)))),
                             &store_conversation_message_cols, out, n);
}

static gw_err conversation_delete(struct store *st, const char *tenant, const char *id,
                                  int64_t *messages)
{
    struct store_sqlite_conn *c = &store_sqlite_of(st)->main;
    int removed = 0, changes = 0;
    store_sqlite_lock(c);
    gw_err rc = store_sqlite_begin(c, "conversation delete: begin");
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = CONV_DELETE_MESSAGES,
                                      .what = "conversation delete: messages",
                                      SQ_ARGS(SQ_TEXT(id), SQ_TEXT(tenant))),
                              &removed);
    if (rc == GW_OK)
        rc = store_sqlite_run(c,
                              SQ_CALL(.sql = CONV_DELETE, .what = "conversation delete",
                                      SQ_ARGS(SQ_TEXT(id), SQ_TEXT(tenant))),
                              &changes);
    if (rc == GW_OK && changes == 0)
        rc = GW_ENOTFOUND;
    rc = store_sqlite_end(c, rc, "conversation delete: commit");
    store_sqlite_unlock(c);
    if (rc == GW_OK)
        *messages = removed;
    return rc;
}

const struct store_agent_ops store_sqlite_agent_ops = {
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
