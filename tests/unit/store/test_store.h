/* SPDX-License-Identifier: MIT
 * test_store.h — what the store's unit tests share (test_store*.c, one executable per domain):
 * a store opened on a fresh data directory per test, raw access to the database through a
 * separate connection, and a token fixture.
 *
 * The backend comes from the environment (test_backend.h): PostgreSQL in a schema of each
 * test's own, or SQLite in the data directory.
 */
#ifndef GW_TEST_STORE_H
#define GW_TEST_STORE_H

#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/store.h"
#include "store/store_int.h"

#include <inttypes.h>

#include "test_backend.h"
#include "test_tmp.h"

struct fx {
    char root[64];
    char data[128];
    char db[192];
    char schema[32]; /* PostgreSQL: this test's schema */
    struct store *st;
};

/* PostgreSQL: the URL of this test's schema ("" with SQLite); raw_* use it. */
static char test_pg_url[1024];

/* The store of this test (the same database every time it is called). */
static inline gw_err test_open(struct fx *f, struct store **st)
{
    return test_store_open(f->data, test_pg_url, st);
}

static inline int setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_store"));
    snprintf(f->data, sizeof(f->data), "%s/data/nested", f->root);
    snprintf(f->db, sizeof(f->db), "%s/gateway.db", f->data);
    test_schema_new(f->schema, sizeof(f->schema), test_pg_url, sizeof(test_pg_url));
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    test_schema_drop(f->schema);
    test_rmtree(f->root);
    free(f);
    return 0;
}

/* --- raw access through a separate connection ------------------------------------------- */

static inline PGresult *raw_pg(const char *sql)
{
    PGconn *pg = PQconnectdb(test_pg_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *r = PQexec(pg, sql);
    ExecStatusType e = PQresultStatus(r);
    if (e != PGRES_COMMAND_OK && e != PGRES_TUPLES_OK)
        fprintf(stderr, "raw_pg: %s", PQresultErrorMessage(r));
    PQfinish(pg);
    assert_true(e == PGRES_COMMAND_OK || e == PGRES_TUPLES_OK);
    return r;
}

static inline void raw_exec(const char *db, const char *sql)
{
    test_sql(test_pg_url, db, sql, 0, NULL);
}

static inline int64_t raw_int(const char *db, const char *sql)
{
    if (test_pg_url[0]) {
        PGresult *r = raw_pg(sql);
        assert_true(PQntuples(r) >= 1);
        int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
        return v;
    }
    sqlite3 *h = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

/* A token of tenant with fixed scopes, expiring 1000 ms after it was created. */
static inline struct store_token tok(const char *tenant, const char *id, const char *owner,
                                     const char *hash, int64_t created)
{
    struct store_token t = {
        .id = (char *)id,
        .tenant = (char *)tenant,
        .owner = (char *)owner,
        .hash = (char *)hash,
        .scopes = (char *)"[\"memory:read\",\"channels:write\"]",
        .created_by = (char *)"admin",
        .created_ms = created,
        .expires_ms = created + 1000,
    };
    return t;
}

#endif
