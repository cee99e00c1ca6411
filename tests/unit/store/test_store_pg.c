/* SPDX-License-Identifier: MIT
 * test_store_pg.c — what only the PostgreSQL backend has to prove: several nodes on one
 * database. Migrations run once while the other nodes wait on the advisory lock; two nodes
 * extending one tenant's audit chain never write the same sequence number nor fork the chain
 * (the stale one gets GW_ECONFLICT and nothing is written); a URL's password never reaches the
 * log.
 *
 * It needs a server: GWTEST_PG (as in the PostgreSQL pass of scripts/test.sh), or else a
 * cluster of its own started with tests/pg/cluster.sh (OPENCLAW_SOURCE_DIR, set by CMake).
 */
#include "base/prelude.h"
#include "test_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char conninfo[512];
static char own_dir[128]; /* the cluster this test started, if it did */

/* Runs tests/pg/cluster.sh cmd dir; its first output line into out (may be NULL). */
static bool cluster(const char *cmd, const char *dir, char *out, size_t cap)
{
    const char *src = getenv("OPENCLAW_SOURCE_DIR");
    char script[512], outfile[192];
    snprintf(script, sizeof script, "%s/tests/pg/cluster.sh", src ? src : ".");
    snprintf(outfile, sizeof outfile, "%s.out", dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char *argv[] = {script, (char *)cmd, (char *)dir, NULL};
    pid_t pid;
    int st = -1;
    bool ok = posix_spawn(&pid, script, &fa, NULL, argv, environ) == 0 &&
              waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    posix_spawn_file_actions_destroy(&fa);
    FILE *fp = out ? fopen(outfile, "r") : NULL;
    if (fp) {
        ok = ok && fgets(out, (int)cap, fp) != NULL;
        out[strcspn(out, "\n")] = '\0';
        fclose(fp);
    }
    unlink(outfile);
    return ok;
}

static int group_setup(void **state)
{
    (void)state;
    const char *pg = getenv("GWTEST_PG");
    if (pg && *pg) {
        snprintf(conninfo, sizeof conninfo, "%s", pg);
        return 0;
    }
    assert_true(test_tmpdir(own_dir, sizeof own_dir, "test_store_pg"));
    chmod(own_dir, 0755);
    char dir[192];
    snprintf(dir, sizeof dir, "%s/pg", own_dir);
    assert_true(cluster("start", dir, conninfo, sizeof conninfo));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (own_dir[0]) {
        char dir[192];
        snprintf(dir, sizeof dir, "%s/pg", own_dir);
        cluster("stop", dir, NULL, 0);
        test_rmtree(own_dir);
    }
    return 0;
}

/* A fresh schema; its URL in url. */
static void fresh_schema(char *schema, size_t scap, char *url, size_t ucap)
{
    char hex[17], sql[96];
    gw_random_hex(hex, 8);
    snprintf(schema, scap, "p_%s", hex);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    pg_admin(conninfo, sql);
    snprintf(url, ucap, "%s options='-csearch_path=%s'", conninfo, schema);
}

static void drop_schema(const char *schema)
{
    char sql[96];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    pg_admin(conninfo, sql);
}

static gw_err open_pg(const char *url, struct store **st)
{
    struct store_options o = {.backend = "postgresql", .url = url, .pool_size = 2};
    return store_open_with(NULL, &o, st);
}

/* --- migrations: once, the other nodes wait ------------------------------------------------ */

struct node {
    const char *url;
    struct store *st;
    gw_err rc;
    int done;
};

static void *node_open(void *p)
{
    struct node *n = p;
    n->rc = open_pg(n->url, &n->st);
    __atomic_store_n(&n->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_migrations_once_while_others_wait(void **state)
{
    (void)state;
    char schema[32], url[640], sql[160];
    fresh_schema(schema, sizeof schema, url, sizeof url);
    /* another node holds the migration lock of this schema */
    PGconn *holder = PQconnectdb(url);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(7031, hashtext('%s'))", schema);
    PQclear(PQexec(holder, sql));

    struct node nodes[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        nodes[i] = (struct node){.url = url};
        assert_int_equal(pthread_create(&th[i], NULL, node_open, &nodes[i]), 0);
    }
    usleep(300000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(__atomic_load_n(&nodes[i].done, __ATOMIC_SEQ_CST), 0); /* waiting */
    PQfinish(holder); /* its session ends: the lock is free */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(nodes[i].rc, GW_OK);
        assert_int_equal(store_schema_version(nodes[i].st), store_pg_latest_version());
    }
    snprintf(test_pg_url, sizeof test_pg_url, "%s", url);
    assert_int_equal(raw_int(NULL, "SELECT COUNT(*) FROM schema_migrations"),
                     (int64_t)store_pg_migration_count());
    assert_int_equal(raw_int(NULL, "SELECT COUNT(DISTINCT applied_ms) FROM schema_migrations "
                                   "WHERE version = 1"),
                     1);
    /* every node works on the one schema */
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "n%d", i);
        assert_int_equal(store_meta_put(nodes[i].st, key, "up"), GW_OK);
    }
    assert_int_equal(raw_int(NULL, "SELECT COUNT(*) FROM meta"), 4);
    for (int i = 0; i < 4; i++)
        store_close(nodes[i].st);
    test_pg_url[0] = '\0';
    drop_schema(schema);
}

/* --- two nodes, one audit chain ------------------------------------------------------------ */

#define CHAIN_ROWS 150
#define CHAIN_BATCH 5

struct writer {
    struct store *st;
    const char *name;
    int written, conflicts, failures;
};

static void chain_row(struct store_audit_row *r, const char *node, int64_t seq, const char *prev)
{
    memset(r, 0, sizeof(*r));
    r->tenant = gw_xstrdup("shared");
    r->seq = seq;
    r->ts_ms = seq;
    r->type = gw_xstrdup("message.sent");
    r->outcome = gw_xstrdup("ok");
    r->actor = gw_xstrdup(node);
    r->request_id = gw_xasprintf("%s-%" PRId64, node, seq);
    r->classification = gw_xstrdup("internal");
    r->details = gw_xstrdup("{}");
    r->prev_hash = gw_xstrdup(prev);
    r->hash = gw_xasprintf("h-%s-%" PRId64, node, seq);
}

/* Like the audit writer of one node: chain from the head it reads, append, and on a conflict
 * read the head again. */
static void *writer_main(void *p)
{
    struct writer *w = p;
    while (w->written < CHAIN_ROWS && w->failures == 0) {
        int64_t seq = 0;
        char *hash = NULL;
        if (store_audit_head(w->st, "shared", &seq, &hash) != GW_OK) {
            w->failures++;
            break;
        }
        struct store_audit_row rows[CHAIN_BATCH];
        char prev[80];
        snprintf(prev, sizeof prev, "%s", hash ? hash : "0");
        free(hash);
        for (int i = 0; i < CHAIN_BATCH; i++) {
            chain_row(&rows[i], w->name, seq + 1 + i, prev);
            snprintf(prev, sizeof prev, "%s", rows[i].hash);
        }
        gw_err rc = store_audit_append(w->st, rows, CHAIN_BATCH);
        if (rc == GW_OK)
            w->written += CHAIN_BATCH;
        else if (rc == GW_ECONFLICT)
            w->conflicts++;
        else
            w->failures++;
        for (int i = 0; i < CHAIN_BATCH; i++)
            store_audit_row_release(&rows[i]);
    }
    return NULL;
}

static void test_two_nodes_one_audit_chain(void **state)
{
    (void)state;
    char schema[32], url[640];
    fresh_schema(schema, sizeof schema, url, sizeof url);
    struct writer w[2] = {{.name = "node-a"}, {.name = "node-b"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(open_pg(url, &w[i].st), GW_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    print_message("two nodes: %d + %d rows, %d + %d conflicts (retried)\n", w[0].written,
                  w[1].written, w[0].conflicts, w[1].conflicts);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].written, CHAIN_ROWS);
    }
    /* one chain: 1..2N without a gap, each row linked to the one before */
    struct store_audit_filter f = {.tenant = "shared"};
    struct store_audit_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_query(w[0].st, &f, 10 * CHAIN_ROWS, &rows, &n), GW_OK);
    assert_int_equal(n, 2 * CHAIN_ROWS);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rows[i].seq, (int64_t)i + 1);
        if (i > 0)
            assert_string_equal(rows[i].prev_hash, rows[i - 1].hash);
    }
    store_audit_rows_free(rows, n);

    /* a node whose view is stale writes nothing: neither a duplicate seq nor a fork */
    struct store_audit_row stale;
    chain_row(&stale, "node-a", 2 * CHAIN_ROWS + 1, "not-the-head");
    assert_int_equal(store_audit_append(w[0].st, &stale, 1), GW_ECONFLICT);
    store_audit_row_release(&stale);
    chain_row(&stale, "node-a", 7, "h-node-a-6");
    assert_int_equal(store_audit_append(w[1].st, &stale, 1), GW_ECONFLICT);
    store_audit_row_release(&stale);
    int64_t seq = 0;
    char *hash = NULL;
    assert_int_equal(store_audit_head(w[1].st, "shared", &seq, &hash), GW_OK);
    assert_int_equal(seq, 2 * CHAIN_ROWS);
    free(hash);
    for (int i = 0; i < 2; i++)
        store_close(w[i].st);
    drop_schema(schema);
}

/* --- one conversation, two nodes ------------------------------------------------------------ */

#define CONV_TURNS 40

struct talker {
    struct store *st;
    const char *name;
    char id[STORE_CONV_ID_LEN];
    int failures;
};

/* Like one node serving turns of one session: open (find or create), then append a turn. */
static void *talker_main(void *p)
{
    struct talker *t = p;
    struct store_conversation c = {.tenant = (char *)"acme",
                                   .user_id = (char *)"alice",
                                   .channel = (char *)"eng/bot",
                                   .session = (char *)"s1"};
    for (int i = 0; i < CONV_TURNS; i++) {
        char msg[96];
        snprintf(msg, sizeof msg, "{\"role\":\"user\",\"content\":\"%s-%d\"}", t->name, i);
        const char *one[] = {msg};
        if (store_conversation_open(t->st, &c, 1000 + i, t->id) != GW_OK ||
            store_conversation_append(t->st, t->id, one, 1, 1000 + i) != GW_OK)
            t->failures++;
    }
    return NULL;
}

/* Two nodes serving one session agree on its conversation and number its messages 1..2N. */
static void test_two_nodes_one_conversation(void **state)
{
    (void)state;
    char schema[32], url[640];
    fresh_schema(schema, sizeof schema, url, sizeof url);
    struct talker t[2] = {{.name = "node-a"}, {.name = "node-b"}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(open_pg(url, &t[i].st), GW_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, talker_main, &t[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(t[i].failures, 0);
    assert_string_equal(t[0].id, t[1].id);
    struct store_conversation_message *m = NULL;
    size_t n = 0;
    assert_int_equal(store_conversation_messages(t[0].st, t[0].id, 0, 4 * CONV_TURNS, &m, &n),
                     GW_OK);
    assert_int_equal(n, 2 * CONV_TURNS);
    int next[2] = {0, 0};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(m[i].seq, (int64_t)i + 1);
        /* each node's turns in the order it sent them */
        int k = strstr(m[i].message, "node-a") ? 0 : 1;
        char want[32];
        snprintf(want, sizeof want, "%s-%d\"", t[k].name, next[k]++);
        assert_non_null(strstr(m[i].message, want));
    }
    store_conversation_messages_free(m, n);
    for (int i = 0; i < 2; i++)
        store_close(t[i].st);
    drop_schema(schema);
}

/* --- leases: one SIEM forwarder per destination ------------------------------------------- */

static void assert_holder(struct store *st, const char *name, const char *want)
{
    char *node = NULL;
    assert_int_equal(store_lease_holder(st, name, &node), GW_OK);
    if (want)
        assert_string_equal(node, want);
    else
        assert_null(node);
    free(node);
}

/* One holder at a time, named to every node; a cursor stored through a lease not held changes
 * nothing and a held one never moves back; the lease ends with its session (closed, or killed
 * by the server) and the next node takes it. */
static void test_lease_one_holder(void **state)
{
    (void)state;
    char schema[32], url[640], sql[160];
    fresh_schema(schema, sizeof schema, url, sizeof url);
    struct store *st[2];
    struct store_lease *l[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(open_pg(url, &st[i]), GW_OK);
        assert_int_equal(store_lease_open(st[i], "hook", i ? "node-b" : "node-a", &l[i]), GW_OK);
    }
    bool held = false;
    assert_int_equal(store_lease_hold(l[0], &held), GW_OK);
    assert_true(held);
    assert_int_equal(store_lease_hold(l[1], &held), GW_OK);
    assert_false(held);
    assert_int_equal(store_lease_hold(l[0], &held), GW_OK);
    assert_true(held);
    assert_holder(st[1], "hook", "node-a");
    assert_holder(st[1], "other", NULL);

    int64_t seq = 0;
    assert_int_equal(store_lease_cursor_set(l[0], "t1", 10, 1), GW_OK);
    assert_int_equal(store_lease_cursor_set(l[1], "t1", 20, 1), GW_ECONFLICT);
    assert_int_equal(store_lease_cursor_set(l[0], "t1", 5, 1), GW_OK);
    assert_int_equal(store_audit_cursor_get(st[1], "hook", "t1", &seq), GW_OK);
    assert_int_equal(seq, 10);

    store_lease_close(l[0]); /* graceful: the next node takes it */
    assert_holder(st[1], "hook", NULL);
    assert_int_equal(store_lease_hold(l[1], &held), GW_OK);
    assert_true(held);
    assert_holder(st[0], "hook", "node-b");

    /* the holder's session killed: it learns at its next check, and stores nothing more */
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN PERFORM pg_terminate_backend(pid::int, 5000) FROM %s.audit_fwd_leaders; "
             "END $$",
             schema);
    pg_admin(conninfo, sql);
    assert_int_not_equal(store_lease_hold(l[1], &held), GW_OK);
    assert_false(held);
    assert_int_equal(store_lease_cursor_set(l[1], "t1", 30, 1), GW_ECONFLICT);
    assert_int_equal(store_lease_open(st[0], "hook", "node-a", &l[0]), GW_OK);
    assert_int_equal(store_lease_hold(l[0], &held), GW_OK);
    assert_true(held);
    assert_int_equal(store_lease_hold(l[1], &held), GW_OK); /* reconnected: not the holder */
    assert_false(held);
    for (int i = 0; i < 2; i++) {
        store_lease_close(l[i]);
        store_close(st[i]);
    }
    drop_schema(schema);
}

/* --- secrets -------------------------------------------------------------------------------- */

static void test_url_password_never_logged(void **state)
{
    (void)state;
    char dir[128], path[160], url[1024], buf[8192] = {0};
    assert_true(test_tmpdir(dir, sizeof dir, "test_store_pg_log"));
    snprintf(path, sizeof path, "%s/log", dir);
    /* a server that is not there, and one that refuses the user */
    snprintf(url, sizeof url, "%s user=nobody_here password=Sup3r-S3cret-pw", conninfo);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    gw_log_set_level(GW_LOG_INFO);
    struct store *st = NULL;
    gw_err a = open_pg("postgresql://gw:Sup3r-S3cret-pw@127.0.0.1:1/gw?connect_timeout=2", &st);
    gw_err b = open_pg(url, &st);
    gw_log_set_level(GW_LOG_WARN);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    assert_int_equal(a, GW_ESTORE);
    assert_int_equal(b, GW_ESTORE);
    assert_null(st);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t len = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[len] = '\0';
    assert_non_null(strstr(buf, "cannot connect to PostgreSQL")); /* it did log the failures */
    assert_null(strstr(buf, "Sup3r-S3cret-pw"));
    test_rmtree(dir);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_once_while_others_wait),
        cmocka_unit_test(test_two_nodes_one_audit_chain),
        cmocka_unit_test(test_two_nodes_one_conversation),
        cmocka_unit_test(test_lease_one_holder),
        cmocka_unit_test(test_url_password_never_logged),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
