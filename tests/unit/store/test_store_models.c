/* SPDX-License-Identifier: MIT
 * test_store_models.c — unit tests of the store's run-time providers, models and agents'
 * models, on the backend GWTEST_STORE chooses (test_store.h).
 *
 * Covers: a provider inserted with its models in one transaction (a conflicting model rolls
 * the provider back), updates that change only what they name, a provider deleted with its
 * models, agent models replaced in place, GW_ENOTFOUND / GW_ECONFLICT, and rows kept across a
 * reopen.
 */
#include "base/prelude.h"
#include "test_store.h"

static struct store_model_provider provider(const char *tenant, const char *name)
{
    return (struct store_model_provider){
        .tenant = (char *)tenant,
        .name = (char *)name,
        .spec = (char *)"{\"api\":\"openai\",\"base_url\":\"http://127.0.0.1:9/v1\"}",
        .api_key = (char *)"sk-secret-1234",
        .enabled = true,
        .created_by = (char *)"admin",
        .created_ms = 10,
        .updated_by = (char *)"admin",
        .updated_ms = 10};
}

static struct store_model_entry entry(const char *tenant, const char *prov, const char *name)
{
    return (struct store_model_entry){.tenant = (char *)tenant,
                                      .provider = (char *)prov,
                                      .name = (char *)name,
                                      .upstream = (char *)name,
                                      .input_per_mtok = 2.5,
                                      .output_per_mtok = 10,
                                      .enabled = true,
                                      .created_by = (char *)"admin",
                                      .created_ms = 10,
                                      .updated_by = (char *)"admin",
                                      .updated_ms = 10};
}

static void test_providers_with_models(void **state)
{
    struct fx *f = *state;
    struct store_model_provider p = provider("acme", "local");
    struct store_model_entry m[] = {entry("acme", "local", "llama"),
                                    entry("acme", "local", "qwen")};
    assert_int_equal(store_model_provider_insert(f->st, &p, m, 2), GW_OK);
    assert_int_equal(store_model_provider_insert(f->st, &p, NULL, 0), GW_ECONFLICT);
    /* another tenant may use the same name */
    struct store_model_provider q = provider("globex", "local");
    assert_int_equal(store_model_provider_insert(f->st, &q, NULL, 0), GW_OK);
    /* a duplicate model rolls the whole insert back */
    struct store_model_provider r = provider("acme", "other");
    struct store_model_entry dup[] = {entry("acme", "other", "x"), entry("acme", "other", "x")};
    assert_int_equal(store_model_provider_insert(f->st, &r, dup, 2), GW_ECONFLICT);
    assert_int_equal(raw_int(f->db, "SELECT COUNT(*) FROM model_providers WHERE name = 'other'"),
                     0);
    /* models must belong to the provider they are inserted with */
    struct store_model_entry wrong = entry("acme", "elsewhere", "x");
    assert_int_equal(store_model_provider_insert(f->st, &r, &wrong, 1), GW_EINVAL);

    struct store_model_provider *list = NULL;
    size_t n = 0;
    assert_int_equal(store_model_provider_list(f->st, &list, &n), GW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].tenant, "acme");
    assert_string_equal(list[0].api_key, "sk-secret-1234");
    assert_true(list[0].enabled);
    store_model_providers_free(list, n);

    /* an update changes the settings, the key and the state, never the creation */
    p.spec = (char *)"{\"api\":\"ollama\",\"base_url\":\"http://127.0.0.1:9\"}";
    p.api_key = NULL;
    p.enabled = false;
    p.created_by = (char *)"someone-else";
    p.updated_by = (char *)"ops";
    p.updated_ms = 20;
    assert_int_equal(store_model_provider_update(f->st, &p), GW_OK);
    assert_int_equal(store_model_provider_list(f->st, &list, &n), GW_OK);
    assert_null(list[0].api_key);
    assert_false(list[0].enabled);
    assert_string_equal(list[0].created_by, "admin");
    assert_string_equal(list[0].updated_by, "ops");
    assert_int_equal(list[0].updated_ms, 20);
    assert_non_null(strstr(list[0].spec, "ollama"));
    store_model_providers_free(list, n);
    struct store_model_provider missing = provider("acme", "nope");
    assert_int_equal(store_model_provider_update(f->st, &missing), GW_ENOTFOUND);

    /* deleting a provider takes its models along, and only its own */
    struct store_model_entry keep = entry("globex", "local", "llama");
    assert_int_equal(store_model_entry_insert(f->st, &keep), GW_OK);
    assert_int_equal(store_model_provider_delete(f->st, "acme", "local"), GW_OK);
    assert_int_equal(store_model_provider_delete(f->st, "acme", "local"), GW_ENOTFOUND);
    struct store_model_entry *ml = NULL;
    assert_int_equal(store_model_entry_list(f->st, &ml, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ml[0].tenant, "globex");
    store_model_entries_free(ml, n);
}

static void test_models_and_agents(void **state)
{
    struct fx *f = *state;
    /* a model of a provider from the configuration file: no provider row */
    struct store_model_entry m = entry("acme", "openai", "gpt-4.1");
    assert_int_equal(store_model_entry_insert(f->st, &m), GW_OK);
    assert_int_equal(store_model_entry_insert(f->st, &m), GW_ECONFLICT);
    m.upstream = (char *)"gpt-4.1-2025-04-14";
    m.input_per_mtok = 2;
    m.enabled = false;
    m.updated_ms = 30;
    assert_int_equal(store_model_entry_update(f->st, &m), GW_OK);
    struct store_model_entry *ml = NULL;
    size_t n = 0;
    assert_int_equal(store_model_entry_list(f->st, &ml, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ml[0].upstream, "gpt-4.1-2025-04-14");
    assert_true(ml[0].input_per_mtok == 2.0 && ml[0].output_per_mtok == 10.0);
    assert_false(ml[0].enabled);
    assert_int_equal(ml[0].created_ms, 10);
    store_model_entries_free(ml, n);
    assert_int_equal(store_model_entry_delete(f->st, "acme", "openai", "gpt-4.1"), GW_OK);
    assert_int_equal(store_model_entry_delete(f->st, "acme", "openai", "gpt-4.1"), GW_ENOTFOUND);
    m.name = (char *)"nope";
    assert_int_equal(store_model_entry_update(f->st, &m), GW_ENOTFOUND);

    struct store_agent_model a = {.tenant = (char *)"acme",
                                  .agent = (char *)"eng/bot",
                                  .model = (char *)"openai/gpt-4o",
                                  .set_by = (char *)"admin",
                                  .set_ms = 5};
    assert_int_equal(store_agent_model_put(f->st, &a), GW_OK);
    a.model = (char *)"local/llama";
    assert_int_equal(store_agent_model_put(f->st, &a), GW_OK); /* replaced, not added */
    assert_int_equal(store_agent_model_put(f->st, &(struct store_agent_model){0}), GW_EINVAL);
    store_close(f->st);
    assert_int_equal(test_open(f, &f->st), GW_OK);
    struct store_agent_model *al = NULL;
    assert_int_equal(store_agent_model_list(f->st, &al, &n), GW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(al[0].model, "local/llama");
    store_agent_models_free(al, n);
    assert_int_equal(store_agent_model_delete(f->st, "acme", "eng/bot"), GW_OK);
    assert_int_equal(store_agent_model_delete(f->st, "acme", "eng/bot"), GW_ENOTFOUND);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_providers_with_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_and_agents, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
