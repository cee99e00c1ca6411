/* SPDX-License-Identifier: MIT
 * test_store.c — unit tests of src/store (SQLite backend) against a temporary data directory:
 * the store itself and its small domains.
 *
 * Covers: file/dir modes, migrations (applied once, idempotent, future version refused), ping,
 * meta, tokens, agents, messages (and mailbox pages), conversations (lists, pages, deletion)
 * and policy versions. The other domains have
 * their own test_store_<domain>.c.
 */
#include "base/prelude.h"
#include "test_store.h"

#include <sys/stat.h>
#include <unistd.h>

static int file_mode(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (int)(sb.st_mode & 07777);
}

/* --- lifecycle and migrations ------------------------------------------------------------ */

/* PostgreSQL: the same versions as SQLite, applied once, nothing re-applied on reopen. */
static void pg_migrations(struct fx *f)
{
    int latest = store_pg_latest_version();
    assert_int_equal(latest, store_sqlite_latest_version());
    assert_int_equal(store_pg_migration_count(), store_sqlite_migration_count());
    assert_int_equal(store_schema_version(f->st), latest);
    assert_string_equal(store_backend(f->st), "postgresql");
    int64_t applied = raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations");
    for (int i = 0; i < 2; i++) {
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(test_open(f, &f->st), GW_OK);
        assert_int_equal(store_schema_version(f->st), latest);
        assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM schema_migrations"),
                         (int64_t)store_pg_migration_count());
        assert_int_equal(raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations"), applied);
    }
}

static void test_open_modes_and_migrations(void **state)
{
    struct fx *f = *state;
    if (test_pg()) {
        pg_migrations(f);
        return;
    }
    int latest = store_sqlite_latest_version();
    int nmig = (int)store_sqlite_migration_count();
    assert_true(latest >= 1);
    assert_int_equal(store_schema_version(f->st), latest);
    assert_int_equal(file_mode(f->data), 0700);
    assert_int_equal(file_mode(f->db), 0600);
    assert_int_equal(store_ping(f->st), GW_OK);
    /* SQLite gives the -wal and -shm files the mode of the database file. */
    assert_int_equal(store_meta_put(f->st, "k", "v"), GW_OK);
    char side[256];
    snprintf(side, sizeof(side), "%s-wal", f->db);
    assert_int_equal(file_mode(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", f->db);
    assert_int_equal(file_mode(side), 0600);

    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM schema_migrations"), nmig);
    assert_int_equal(raw_int(f->db, "SELECT MAX(version) FROM schema_migrations"), latest);
    int64_t applied = raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations");
    /* WAL mode is persistent in the file header. */
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(h);

    /* Reopen twice: nothing re-applied. */
    for (int i = 0; i < 2; i++) {
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(test_open(f, &f->st), GW_OK);
        assert_int_equal(store_schema_version(f->st), latest);
        assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM schema_migrations"), nmig);
        assert_int_equal(raw_int(f->db, "SELECT SUM(applied_ms) FROM schema_migrations"), applied);
        assert_int_equal(file_mode(f->db), 0600);
    }

    /* An existing file with a loose mode is tightened. */
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(chmod(f->db, 0644), 0);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(file_mode(f->db), 0600);
}

static void test_future_version_refused(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    f->st = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO schema_migrations (version, description, applied_ms) "
             "VALUES (%d, 'from the future', 1)",
             store_sqlite_latest_version() + 1);
    raw_exec(f->db, sql);
    struct store *st = (struct store *)1;
    assert_int_equal(test_open(f, &st), GW_ESTORE);
    assert_null(st);
    /* Removing the future row makes it openable again. */
    raw_exec(f->db, "DELETE FROM schema_migrations WHERE description = 'from the future'");
    assert_int_equal(test_open(f, &f->st), GW_OK);
}

static void test_not_a_database(void **state)
{
    struct fx *f = *state;
    char dir[128], path[192];
    snprintf(dir, sizeof(dir), "%s/junk", f->root);
    snprintf(path, sizeof(path), "%s/gateway.db", dir);
    assert_int_equal(gw_mkdirs(dir, 0700), GW_OK);
    const char junk[] = "this is not an SQLite database, just some bytes...........";
    assert_int_equal(gw_file_write_atomic(path, junk, sizeof(junk), 0600), GW_OK);
    struct store *st = NULL;
    assert_int_equal(store_open(dir, &st), GW_ESTORE);
    assert_null(st);
}

static void test_ping_file_removed(void **state)
{
    struct fx *f = *state;
    assert_int_equal(store_ping(f->st), GW_OK);
    if (test_pg()) { /* the server ends every connection of the pool: the next ones are new */
        char sql[192];
        snprintf(sql, sizeof(sql),
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name = '%s' AND pid <> pg_backend_pid()",
                 f->schema);
        raw_exec(f->db, sql);
        snprintf(sql, sizeof(sql),
                 "SELECT COUNT(*) FROM pg_stat_activity "
                 "WHERE application_name = '%s' AND pid <> pg_backend_pid()",
                 f->schema);
        for (int i = 0; i < 200 && raw_int(f->db, sql) > 0; i++)
            usleep(10000); /* the backends are gone: their sockets say so */
        assert_int_equal(store_ping(f->st), GW_OK);
        assert_int_equal(store_meta_put(f->st, "after", "reconnect"), GW_OK);
        return;
    }
    assert_int_equal(unlink(f->db), 0);
    assert_int_equal(store_ping(f->st), GW_ESTORE);
}

/* --- meta -------------------------------------------------------------------------------- */

static void test_meta(void **state)
{
    struct fx *f = *state;
    char *v = (char *)"untouched";
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_ENOTFOUND);
    assert_null(v);
    assert_int_equal(store_meta_put(f->st, "bootstrap_done", "1"), GW_OK);
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_OK);
    assert_string_equal(v, "1");
    free(v);
    assert_int_equal(store_meta_put(f->st, "bootstrap_done", "2'; DROP TABLE meta; --"), GW_OK);
    assert_int_equal(store_meta_get(f->st, "bootstrap_done", &v), GW_OK);
    assert_string_equal(v, "2'; DROP TABLE meta; --");
    free(v);
    assert_int_equal(store_meta_put(f->st, "empty", ""), GW_OK);
    assert_int_equal(store_meta_get(f->st, "empty", &v), GW_OK);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(store_meta_put(f->st, "k", NULL), GW_EINVAL);
}

/* --- tokens ------------------------------------------------------------------------------ */

static const struct store_token *find_tok(const struct store_token *l, size_t n, const char *tenant,
                                          const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i].tenant, tenant) && !strcmp(l[i].id, id))
            return &l[i];
    return NULL;
}

static void test_tokens(void **state)
{
    struct fx *f = *state;
    struct store_token a = tok("acme", "t1", "alice", "h1", 100);
    struct store_token b = tok("acme", "t2", NULL, "h2", 200);
    struct store_token c = tok("globex", "t1", "bob", "h3", 300);
    assert_int_equal(store_token_insert(f->st, &a), GW_OK);
    assert_int_equal(store_token_insert(f->st, &b), GW_OK);
    assert_int_equal(store_token_insert(f->st, &c), GW_OK); /* same id, other tenant */

    struct store_token dup_id = tok("acme", "t1", "x", "h-other", 1);
    assert_int_equal(store_token_insert(f->st, &dup_id), GW_ECONFLICT);
    struct store_token dup_hash = tok("acme", "t9", "x", "h2", 1);
    assert_int_equal(store_token_insert(f->st, &dup_hash), GW_ECONFLICT);
    struct store_token no_hash = tok("acme", "t8", "x", NULL, 1);
    assert_int_equal(store_token_insert(f->st, &no_hash), GW_EINVAL);

    /* rotation */
    assert_int_equal(store_token_set_hash(f->st, "acme", "t1", "h1b"), GW_OK);
    assert_int_equal(store_token_set_hash(f->st, "acme", "t1", "h3"), GW_ECONFLICT);
    assert_int_equal(store_token_set_hash(f->st, "acme", "nope", "h9"), GW_ENOTFOUND);
    assert_int_equal(store_token_set_hash(f->st, "initech", "t1", "h9"), GW_ENOTFOUND);

    /* touch keeps the max */
    assert_int_equal(store_token_touch(f->st, "acme", "t1", 5000), GW_OK);
    assert_int_equal(store_token_touch(f->st, "acme", "t1", 4000), GW_OK);
    assert_int_equal(store_token_touch(f->st, "acme", "nope", 4000), GW_ENOTFOUND);

    /* revoke: twice is OK and keeps the first time; absent is not found */
    assert_int_equal(store_token_revoke(f->st, "acme", "t2", 7000), GW_OK);
    assert_int_equal(store_token_revoke(f->st, "acme", "t2", 8000), GW_OK);
    assert_int_equal(store_token_revoke(f->st, "acme", "nope", 8000), GW_ENOTFOUND);
    assert_int_equal(store_token_set_hash(f->st, "acme", "t2", "h2b"), GW_ENOTFOUND);

    struct store_token *l = NULL;
    size_t n = 0;
    assert_int_equal(store_token_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    const struct store_token *t1 = find_tok(l, n, "acme", "t1");
    const struct store_token *t2 = find_tok(l, n, "acme", "t2");
    const struct store_token *g1 = find_tok(l, n, "globex", "t1");
    assert_non_null(t1);
    assert_non_null(t2);
    assert_non_null(g1);
    assert_string_equal(t1->hash, "h1b");
    assert_string_equal(t1->owner, "alice");
    assert_string_equal(t1->scopes, "[\"memory:read\",\"channels:write\"]");
    assert_string_equal(t1->created_by, "admin");
    assert_int_equal(t1->created_ms, 100);
    assert_int_equal(t1->expires_ms, 1100);
    assert_int_equal(t1->revoked_ms, 0);
    assert_int_equal(t1->last_used_ms, 5000);
    assert_null(t2->owner);
    assert_string_equal(t2->hash, "h2");
    assert_int_equal(t2->revoked_ms, 7000);
    assert_int_equal(t2->last_used_ms, 0);
    assert_string_equal(g1->hash, "h3");
    store_token_list_free(l, n);

    /* mutations survive a reopen */
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(store_token_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(find_tok(l, n, "acme", "t1")->hash, "h1b");
    store_token_list_free(l, n);
}

/* --- agents and messages ----------------------------------------------------------------- */

static void test_agents(void **state)
{
    struct fx *f = *state;
    struct store_agent a = {
        .tenant = (char *)"acme",
        .name = (char *)"support/triage",
        .channel = (char *)"support",
        .memory_path = (char *)"/var/lib/openclaw/acme/support/triage",
        .description = (char *)"first line",
        .created_by = (char *)"alice",
        .created_ms = 42,
    };
    assert_int_equal(store_agent_insert(f->st, &a), GW_OK);
    assert_int_equal(store_agent_insert(f->st, &a), GW_ECONFLICT);
    struct store_agent b = {.tenant = (char *)"acme", .name = (char *)"eng/bot", .created_ms = 7};
    assert_int_equal(store_agent_insert(f->st, &b), GW_OK);
    struct store_agent c = a;
    c.tenant = (char *)"globex";
    assert_int_equal(store_agent_insert(f->st, &c), GW_OK);

    struct store_agent *l = NULL;
    size_t n = 0;
    assert_int_equal(store_agent_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 3);
    /* ordered by tenant, name */
    assert_string_equal(l[0].tenant, "acme");
    assert_string_equal(l[0].name, "eng/bot");
    assert_null(l[0].channel);
    assert_null(l[0].memory_path);
    assert_null(l[0].description);
    assert_null(l[0].created_by);
    assert_int_equal(l[0].created_ms, 7);
    assert_string_equal(l[1].name, "support/triage");
    assert_string_equal(l[1].channel, "support");
    assert_string_equal(l[1].memory_path, "/var/lib/openclaw/acme/support/triage");
    assert_string_equal(l[1].description, "first line");
    assert_string_equal(l[1].created_by, "alice");
    assert_int_equal(l[1].created_ms, 42);
    assert_string_equal(l[2].tenant, "globex");
    store_agent_list_free(l, n);
}

static void test_messages(void **state)
{
    struct fx *f = *state;
    struct store_message m = {
        .id = (char *)"m1",
        .tenant = (char *)"acme",
        .channel = (char *)"general",
        .sender = (char *)"alice",
        .content = (char *)"hello 'world'",
        .created_ms = 1234,
    };
    assert_int_equal(store_message_insert(f->st, &m), GW_OK);
    assert_int_equal(store_message_insert(f->st, &m), GW_ECONFLICT);
    m.id = (char *)"m2";
    m.sender = NULL;
    assert_int_equal(store_message_insert(f->st, &m), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM messages WHERE tenant = 'acme' "
                                    "AND channel = 'general' AND created_ms = 1234"),
                     2);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM messages WHERE sender IS NULL"), 1);
}

/* A mailbox reads newest first, page by page through the (created_ms, id) cursor. */
static void test_message_list(void **state)
{
    struct fx *f = *state;
    const char *ids[] = {"msg_a", "msg_b", "msg_c"};
    const int64_t at[] = {100, 200, 200};
    for (size_t i = 0; i < 3; i++) {
        struct store_message m = {.id = (char *)ids[i],
                                  .tenant = (char *)"acme",
                                  .channel = (char *)"eng/bot",
                                  .sender = (char *)"alice",
                                  .content = (char *)ids[i],
                                  .created_ms = at[i]};
        assert_int_equal(store_message_insert(f->st, &m), GW_OK);
    }
    struct store_message other = {.id = (char *)"msg_z",
                                  .tenant = (char *)"globex",
                                  .channel = (char *)"eng/bot",
                                  .created_ms = 300};
    assert_int_equal(store_message_insert(f->st, &other), GW_OK);
    struct store_message *l = NULL;
    size_t n = 0;
    assert_int_equal(store_message_list(f->st, "acme", "eng/bot", 0, NULL, 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].id, "msg_c");
    assert_string_equal(l[1].id, "msg_b");
    assert_string_equal(l[1].sender, "alice");
    store_message_list_free(l, n);
    assert_int_equal(store_message_list(f->st, "acme", "eng/bot", 200, "msg_b", 2, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, "msg_a");
    store_message_list_free(l, n);
    assert_int_equal(store_message_list(f->st, "acme", "eng/bot", 200, NULL, 2, &l, &n), GW_EINVAL);
}

static void open_conv(struct fx *f, const char *user, const char *ou, const char *channel,
                      const char *session, int64_t now, char id[STORE_CONV_ID_LEN])
{
    struct store_conversation c = {.tenant = (char *)"acme",
                                   .user_id = (char *)user,
                                   .org_unit = (char *)ou,
                                   .team = (char *)"platform",
                                   .channel = (char *)channel,
                                   .session = (char *)session};
    assert_int_equal(store_conversation_open(f->st, &c, now, id), GW_OK);
}

/* One conversation per (tenant, user, channel, session); messages come back oldest first. */
static void test_conversations(void **state)
{
    struct fx *f = *state;
    char id[STORE_CONV_ID_LEN], again[STORE_CONV_ID_LEN], other[STORE_CONV_ID_LEN];
    open_conv(f, "alice", "eng", "support", "s1", 10, id);
    assert_int_equal(strncmp(id, "cnv_", 4), 0);
    open_conv(f, "alice", "eng", "support", "s1", 20, again);
    assert_string_equal(again, id);
    open_conv(f, "alice", "eng", "support", "s2", 20, other);
    assert_string_not_equal(other, id);

    const char *first[] = {"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"};
    const char *second[] = {"{\"n\":4}", "{\"n\":5}"};
    assert_int_equal(store_conversation_append(f->st, id, first, 3, 30), GW_OK);
    assert_int_equal(store_conversation_append(f->st, id, second, 2, 40), GW_OK);
    assert_int_equal(store_conversation_append(f->st, id, NULL, 0, 50), GW_OK);
    assert_int_equal(raw_int(f->db, "SELECT MAX(updated_ms) FROM conversations"), 40);
    char **msgs = NULL;
    size_t n = 0;
    assert_int_equal(store_conversation_tail(f->st, id, 3, &msgs, &n), GW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(msgs[0], "{\"n\":3}");
    assert_string_equal(msgs[2], "{\"n\":5}");
    store_strv_free(msgs, n);
    assert_int_equal(store_conversation_tail(f->st, id, 100, &msgs, &n), GW_OK);
    assert_int_equal(n, 5);
    assert_string_equal(msgs[0], "{\"n\":1}");
    store_strv_free(msgs, n);
    assert_int_equal(store_conversation_tail(f->st, other, 100, &msgs, &n), GW_OK);
    assert_int_equal(n, 0);
    store_strv_free(msgs, n);

    /* pages of messages after a seq */
    struct store_conversation_message *m = NULL;
    assert_int_equal(store_conversation_messages(f->st, id, 2, 2, &m, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(m[0].seq, 3);
    assert_string_equal(m[1].message, "{\"n\":4}");
    assert_int_equal(m[1].created_ms, 40);
    store_conversation_messages_free(m, n);
}

/* Lists filter by owner, org subtree and agent, newest activity first, through a cursor; a
 * conversation is read and deleted only inside its tenant; nothing is appended to a deleted
 * one. */
static void test_conversation_lists_and_delete(void **state)
{
    struct fx *f = *state;
    char a[STORE_CONV_ID_LEN], b[STORE_CONV_ID_LEN], c[STORE_CONV_ID_LEN], d[STORE_CONV_ID_LEN];
    open_conv(f, "alice", "eng/platform", "eng/bot", "main", 10, a);
    open_conv(f, "bob", "eng", "eng/bot", "main", 20, b);
    open_conv(f, "carol", "engineering", "eng/other", "main", 30, c); /* not under "eng" */
    open_conv(f, "dave", NULL, "eng/bot", "main", 40, d);
    const char *hello[] = {"{\"role\":\"user\",\"content\":\"hello there\"}",
                           "{\"role\":\"assistant\",\"content\":\"hi\"}"};
    assert_int_equal(store_conversation_append(f->st, a, hello, 2, 50), GW_OK);

    struct store_conversation *l = NULL;
    size_t n = 0;
    struct store_conversation_filter all = {.tenant = "acme"};
    assert_int_equal(store_conversation_list(f->st, &all, 10, &l, &n), GW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(l[0].id, a); /* most recent activity first */
    assert_int_equal(l[0].messages, 2);
    assert_string_equal(l[0].title, "hello there");
    assert_string_equal(l[0].org_unit, "eng/platform");
    assert_string_equal(l[0].team, "platform");
    assert_string_equal(l[1].id, d);
    assert_null(l[1].title);
    store_conversation_list_free(l, n);

    struct store_conversation_filter sub = {.tenant = "acme", .org_unit = "eng/"};
    assert_int_equal(store_conversation_list(f->st, &sub, 10, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(l[0].user_id, "alice");
    assert_string_equal(l[1].user_id, "bob");
    store_conversation_list_free(l, n);

    struct store_conversation_filter page = {.tenant = "acme", .channel = "eng/bot"};
    assert_int_equal(store_conversation_list(f->st, &page, 2, &l, &n), GW_OK);
    assert_int_equal(n, 2);
    page.before_ms = l[1].updated_ms;
    page.before_id = d;
    store_conversation_list_free(l, n);
    assert_int_equal(store_conversation_list(f->st, &page, 2, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].id, b);
    store_conversation_list_free(l, n);

    struct store_conversation_filter mine = {.tenant = "acme", .user_id = "bob"};
    assert_int_equal(store_conversation_list(f->st, &mine, 10, &l, &n), GW_OK);
    assert_int_equal(n, 1);
    store_conversation_list_free(l, n);

    struct store_conversation one;
    assert_int_equal(store_conversation_get(f->st, "acme", a, &one), GW_OK);
    assert_string_equal(one.user_id, "alice");
    assert_int_equal(one.created_ms, 10);
    assert_int_equal(one.updated_ms, 50);
    store_conversation_release(&one);
    assert_int_equal(store_conversation_get(f->st, "globex", a, &one), GW_ENOTFOUND);

    int64_t removed = -1;
    assert_int_equal(store_conversation_delete(f->st, "globex", a, &removed), GW_ENOTFOUND);
    assert_int_equal(removed, 0);
    assert_int_equal(store_conversation_delete(f->st, "acme", a, &removed), GW_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM conversation_messages"), 0);
    assert_int_equal(store_conversation_get(f->st, "acme", a, &one), GW_ENOTFOUND);
    assert_int_equal(store_conversation_append(f->st, a, hello, 1, 60), GW_ENOTFOUND);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM conversation_messages"), 0);
    assert_int_equal(store_conversation_delete(f->st, "acme", a, &removed), GW_ENOTFOUND);
}

/* --- policies ---------------------------------------------------------------------------- */

static void test_policies(void **state)
{
    struct fx *f = *state;
    /* inserted out of order: the list sorts by tenant, id, version */
    assert_int_equal(store_policy_insert(f->st, "globex", "p1", 1, "{\"g\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 2, "{\"a\":2}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 1, "{\"a\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p0", 1, "{\"z\":1}"), GW_OK);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 10, "{\"a\":10}"), GW_OK);

    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 2, "{\"other\":1}"), GW_ECONFLICT);
    assert_int_equal(store_policy_insert(f->st, NULL, "p1", 3, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", NULL, 3, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 3, NULL), GW_EINVAL);
    assert_int_equal(store_policy_insert(f->st, "acme", "p1", 0, "{}"), GW_EINVAL);
    assert_int_equal(store_policy_list(f->st, NULL, NULL), GW_EINVAL);

    struct store_policy_version *l = NULL;
    size_t n = 0;
    assert_int_equal(store_policy_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 5);
    static const struct {
        const char *tenant, *id;
        int64_t version;
        const char *record;
    } want[] = {
        {"acme", "p0", 1, "{\"z\":1}"},   {"acme", "p1", 1, "{\"a\":1}"},
        {"acme", "p1", 2, "{\"a\":2}"},   {"acme", "p1", 10, "{\"a\":10}"}, /* numeric order */
        {"globex", "p1", 1, "{\"g\":1}"},
    };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l[i].tenant, want[i].tenant);
        assert_string_equal(l[i].id, want[i].id);
        assert_int_equal(l[i].version, want[i].version);
        assert_string_equal(l[i].record, want[i].record);
    }
    store_policy_list_free(l, n);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM policy_versions WHERE created_ms > 0"),
                     5);

    /* durable across a reopen */
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(store_policy_list(f->st, &l, &n), GW_OK);
    assert_int_equal(n, 5);
    assert_string_equal(l[3].record, "{\"a\":10}");
    store_policy_list_free(l, n);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_modes_and_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ping_file_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversation_lists_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
