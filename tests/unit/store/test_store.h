/* SPDX-License-Identifier: MIT
 * test_store.h — what the store's unit tests share (test_store*.c, one executable per domain):
 * a store opened on a fresh data directory per test, raw access to the database file through a
 * separate SQLite connection, and a token fixture.
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
#include <sqlite3.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

struct fx {
    char root[64];
    char data[128];
    char db[192];
    struct store *st;
};

static inline int setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_store"));
    snprintf(f->data, sizeof(f->data), "%s/data/nested", f->root);
    snprintf(f->db, sizeof(f->db), "%s/gateway.db", f->data);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    test_rmtree(f->root);
    free(f);
    return 0;
}

/* --- raw access through a separate connection ------------------------------------------- */

static inline void raw_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int e = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (e != SQLITE_OK)
        fprintf(stderr, "raw_exec: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(h);
    assert_int_equal(e, SQLITE_OK);
}

static inline int64_t raw_int(const char *db, const char *sql)
{
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
