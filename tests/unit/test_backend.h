/* SPDX-License-Identifier: MIT
 * test_backend.h — the store backend of a unit test, as the environment names it, and raw SQL
 * on it behind the gateway's back. GWTEST_STORE=postgresql with GWTEST_PG (a libpq conninfo,
 * tests/pg/cluster.sh prints one) gives each test a schema of its own (search_path in its URL),
 * dropped afterwards; otherwise the store is SQLite in the test's data directory. Shared by
 * tests/unit/store/ (test_store.h) and tests/unit/audit/ (test_audit_fx.h).
 */
#ifndef GW_TEST_BACKEND_H
#define GW_TEST_BACKEND_H

#include "base/prelude.h"
#include "base/util.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static inline bool test_pg(void)
{
    const char *b = getenv("GWTEST_STORE");
    return b && strcmp(b, "postgresql") == 0;
}

static inline void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql on a fresh connection to conninfo (the server's database, not a test schema). */
static inline void pg_admin(const char *conninfo, const char *sql)
{
    PGconn *pg = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PQsetNoticeProcessor(pg, pg_quiet, NULL);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "pg_admin: %s", PQresultErrorMessage(r));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(pg);
}

/* PostgreSQL: a fresh schema named in schema, the URL that selects it in url (its
 * application_name is the schema too); SQLite: both "". */
static inline void test_schema_new(char *schema, size_t scap, char *url, size_t ucap)
{
    schema[0] = url[0] = '\0';
    if (!test_pg())
        return;
    const char *base = getenv("GWTEST_PG");
    assert_non_null(base);
    char hex[17], sql[96];
    gw_random_hex(hex, 8);
    snprintf(schema, scap, "t_%s", hex);
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    pg_admin(base, sql);
    int n = snprintf(url, ucap, "%s options='-csearch_path=%s' application_name=%s", base, schema,
                     schema);
    assert_true(n > 0 && (size_t)n < ucap);
}

static inline void test_schema_drop(const char *schema)
{
    if (!schema[0])
        return;
    char sql[96];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    pg_admin(getenv("GWTEST_PG"), sql);
}

/* The store in data: on PostgreSQL at url, on SQLite when url is "". */
static inline gw_err test_store_open(const char *data, const char *url, struct store **st)
{
    if (!url[0])
        return store_open(data, st);
    struct store_options o = {.backend = "postgresql", .url = url, .pool_size = 4};
    return store_open_with(data, &o, st);
}

/* One statement with n text parameters ($1..$n, NULL for SQL NULL), or with n == 0 a script of
 * several, on a connection of its own: at url on PostgreSQL, else in the SQLite file db. */
static inline void test_sql(const char *url, const char *db, const char *sql, int n,
                            const char *const *params)
{
    if (url[0]) {
        PGconn *pg = PQconnectdb(url);
        assert_int_equal(PQstatus(pg), CONNECTION_OK);
        PQsetNoticeProcessor(pg, pg_quiet, NULL);
        PGresult *r = n ? PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0) : PQexec(pg, sql);
        ExecStatusType e = PQresultStatus(r);
        if (e != PGRES_COMMAND_OK && e != PGRES_TUPLES_OK)
            fail_msg("postgresql: %s(%s)", PQresultErrorMessage(r), sql);
        PQclear(r);
        PQfinish(pg);
        return;
    }
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int e = SQLITE_OK;
    if (n == 0) {
        e = sqlite3_exec(h, sql, NULL, NULL, &msg);
    } else {
        sqlite3_stmt *q = NULL;
        e = sqlite3_prepare_v2(h, sql, -1, &q, NULL);
        for (int i = 0; e == SQLITE_OK && i < n; i++) {
            char name[16];
            snprintf(name, sizeof name, "$%d", i + 1);
            int at = sqlite3_bind_parameter_index(q, name);
            e = at > 0 ? sqlite3_bind_text(q, at, params[i], -1, SQLITE_STATIC) : SQLITE_RANGE;
        }
        if (e == SQLITE_OK && (e = sqlite3_step(q)) == SQLITE_DONE)
            e = SQLITE_OK;
        sqlite3_finalize(q);
    }
    if (e != SQLITE_OK)
        fail_msg("sqlite: %s (%s)", msg ? msg : sqlite3_errmsg(h), sql);
    sqlite3_free(msg);
    sqlite3_close(h);
}

#endif
