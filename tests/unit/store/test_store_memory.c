/* SPDX-License-Identifier: MIT
 * test_store_memory.c — unit tests of the store's memory documents (schema 14), on the backend
 * GWTEST_STORE chooses (test_store.h).
 *
 * Covers: a document written, replaced and read back whole; GW_ENOTFOUND before the first
 * write and after a delete (a second delete is no error); the size limit of a read
 * (GW_ETOOBIG); NUL bytes and bad keys refused; documents kept across a reopen.
 */
#include "base/prelude.h"
#include "test_store.h"

static void test_write_replace_read(void **state)
{
    struct fx *f = *state;
    char *data = NULL;
    size_t len = 7;
    assert_int_equal(store_memory_get(f->st, "memory/eng/bot.md", 100, &data, &len), GW_ENOTFOUND);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(store_memory_put(f->st, "memory/eng/bot.md", "# first\n", 8, 10), GW_OK);
    assert_int_equal(store_memory_put(f->st, "memory/eng/bot.md", "# second, longer\nü\n", 20, 20),
                     GW_OK);
    assert_int_equal(store_memory_put(f->st, "memory/eng/other.md", "x", 1, 20), GW_OK);
    assert_int_equal(store_memory_get(f->st, "memory/eng/bot.md", 100, &data, &len), GW_OK);
    assert_int_equal(len, 20);
    assert_memory_equal(data, "# second, longer\nü\n", 20);
    free(data);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM memory_documents"), 2);
    /* a read is bounded */
    assert_int_equal(store_memory_get(f->st, "memory/eng/bot.md", 19, &data, &len), GW_ETOOBIG);
    assert_null(data);
    /* an empty document is a document */
    assert_int_equal(store_memory_put(f->st, "memory/eng/other.md", "", 0, 30), GW_OK);
    assert_int_equal(store_memory_get(f->st, "memory/eng/other.md", 100, &data, &len), GW_OK);
    assert_int_equal(len, 0);
    free(data);
    assert_int_equal(store_memory_delete(f->st, "memory/eng/bot.md"), GW_OK);
    assert_int_equal(store_memory_delete(f->st, "memory/eng/bot.md"), GW_OK);
    assert_int_equal(store_memory_get(f->st, "memory/eng/bot.md", 100, &data, &len), GW_ENOTFOUND);
}

static void test_refused_and_kept(void **state)
{
    struct fx *f = *state;
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(store_memory_put(f->st, "k", "a\0b", 3, 1), GW_EINVAL);
    assert_int_equal(store_memory_put(f->st, "", "a", 1, 1), GW_EINVAL);
    assert_int_equal(store_memory_put(f->st, NULL, "a", 1, 1), GW_EINVAL);
    assert_int_equal(store_memory_get(f->st, NULL, 10, &data, &len), GW_EINVAL);
    assert_int_equal(store_memory_delete(f->st, ""), GW_EINVAL);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM memory_documents"), 0);
    assert_int_equal(store_memory_put(f->st, "/srv/shared.md", "kept", 4, 1), GW_OK);
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    assert_int_equal(store_memory_get(f->st, "/srv/shared.md", 10, &data, &len), GW_OK);
    assert_string_equal(data, "kept");
    free(data);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_replace_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_and_kept, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
