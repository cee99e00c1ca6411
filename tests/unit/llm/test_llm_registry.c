/* SPDX-License-Identifier: MIT
 * test_llm_registry.c — the run-time providers and models (llm_registry.h) and how they merge
 * with gateway.yaml's, over a real SQLite store in a scratch directory.
 *
 * Covers: the configuration's names cannot be taken or changed; a tenant sees only its own
 * run-time entries; disabled providers and models are not served (but can be tested); a
 * configured provider's run-time model is served until the file drops the provider; fallbacks
 * must exist and be another provider's; the checks of a provider body; API keys never reach a
 * change's details; agents' models block the removal of what they use; a configuration that
 * defines a stored name is refused; a catalog held by a call outlives a change; everything
 * survives a reopen.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "llm/llm_registry.h"
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

struct fx {
    char root[64];
    char data[128];
    char cfgpath[160];
    struct store *st;
    struct llm_registry *reg;
    struct cfg *cfg;
};

static const char base_yaml[] = "models:\n"
                                "  providers:\n"
                                "    - name: openai\n"
                                "      api: openai\n"
                                "      base_url: https://api.openai.com/v1\n"
                                "      api_key: sk-config-key\n"
                                "      models:\n"
                                "        - name: gpt-4o\n";

static struct cfg *load_cfg(struct fx *f, const char *yaml)
{
    FILE *fp = fopen(f->cfgpath, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(yaml, 1, strlen(yaml), fp), strlen(yaml));
    assert_int_equal(fclose(fp), 0);
    struct cfg_overrides ov = {.data_dir = f->data};
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(f->cfgpath, &ov, &c, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_message("config error: %s\n", errs.msgs[i]);
    cfg_errors_release(&errs);
    assert_int_equal(rc, GW_OK);
    return c;
}

static int setup(void **state)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_llm_registry"));
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    snprintf(f->cfgpath, sizeof(f->cfgpath), "%s/gateway.yaml", f->root);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(llm_registry_open(f->st, &f->reg), GW_OK);
    f->cfg = load_cfg(f, base_yaml);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    llm_registry_close(f->reg);
    store_close(f->st);
    cfg_unref(f->cfg);
    test_rmtree(f->root);
    free(f);
    return 0;
}

/* Prepares and commits one change; the error of whichever step failed. */
static gw_err run(struct fx *f, enum llm_change_kind kind, const char *tenant, const char *name,
                  const char *body_json, char *msg, size_t cap)
{
    json_error_t je;
    json_t *body = body_json ? json_loads(body_json, 0, &je) : NULL;
    if (body_json)
        assert_non_null(body);
    struct llm_change_req rq = {.kind = kind,
                                .tenant = tenant,
                                .actor = "admin@acme.test",
                                .name = name,
                                .body = body};
    struct llm_change *ch = NULL;
    gw_err rc = llm_registry_prepare(f->reg, f->cfg, &rq, &ch, msg, cap);
    if (rc == GW_OK) {
        char *d = json_dumps(llm_change_details(ch), 0);
        assert_null(strstr(d, "sk-")); /* keys never reach an audit event */
        free(d);
        rc = llm_registry_commit(f->reg, f->cfg, ch, NULL, msg, cap);
    }
    llm_change_free(ch);
    json_decref(body);
    return rc;
}

#define OK(f, kind, tenant, name, body)                                                            \
    do {                                                                                           \
        char m_[400] = "";                                                                         \
        gw_err r_ = run(f, kind, tenant, name, body, m_, sizeof(m_));                              \
        if (r_ != GW_OK)                                                                           \
            fail_msg("%s: %s", gw_err_name(r_), m_);                                               \
    } while (0)

static const char local_json[] = "{\"name\":\"local\",\"api\":\"openai\","
                                 "\"base_url\":\"http://127.0.0.1:9/v1/\","
                                 "\"api_key\":\"sk-runtime-key-1234\",\"kind\":\"self_hosted\","
                                 "\"models\":[{\"name\":\"llama\",\"upstream\":\"llama3.2\"}]}";

/* find, expecting an error whose message contains want. */
static void not_found(struct fx *f, const char *tenant, const char *id, const char *want)
{
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    struct llm_target t;
    char msg[400] = "";
    assert_int_equal(llm_catalog_find(cat, f->cfg, tenant, id, &t, msg, sizeof(msg)), GW_ENOTFOUND);
    if (!strstr(msg, want))
        fail_msg("'%s' does not say '%s'", msg, want);
    llm_catalog_unref(cat);
}

static void test_config_entries_win_and_stay_read_only(void **state)
{
    struct fx *f = *state;
    char msg[400];
    assert_int_equal(run(f, LLM_PROVIDER_ADD, "acme", NULL,
                         "{\"name\":\"openai\",\"api\":\"openai\",\"base_url\":\"http://x\"}", msg,
                         sizeof(msg)),
                     GW_ECONFLICT);
    assert_non_null(strstr(msg, "gateway.yaml"));
    assert_int_equal(run(f, LLM_PROVIDER_SET, "acme", "openai", "{\"retries\":1}", msg,
                         sizeof(msg)),
                     GW_ECONFLICT);
    assert_int_equal(run(f, LLM_PROVIDER_REMOVE, "acme", "openai", NULL, msg, sizeof(msg)),
                     GW_ECONFLICT);
    assert_int_equal(run(f, LLM_MODEL_ADD, "acme", NULL, "{\"id\":\"openai/gpt-4o\"}", msg,
                         sizeof(msg)),
                     GW_ECONFLICT);
    /* a model of its own for the configured provider: served with the file's provider */
    OK(f, LLM_MODEL_ADD, "acme", NULL, "{\"id\":\"openai/gpt-4.1\",\"input_per_mtok\":2}");
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    struct llm_target t;
    assert_int_equal(llm_catalog_find(cat, f->cfg, "acme", "openai/gpt-4.1", &t, msg, sizeof(msg)),
                     GW_OK);
    assert_ptr_equal(t.provider, &f->cfg->providers[0]);
    assert_null(t.tenant); /* the file's provider: its scheduler is the file's */
    assert_string_equal(t.model->upstream, "gpt-4.1");
    assert_true(t.model->input_per_mtok == 2.0);
    /* the views say where each entry comes from, and never show a key */
    json_t *prov = llm_catalog_providers_json(cat, f->cfg, "acme", "openai");
    assert_string_equal(json_string_value(json_object_get(prov, "source")), "config");
    char *text = json_dumps(prov, 0);
    assert_null(strstr(text, "sk-config-key"));
    assert_non_null(strstr(text, "\"gpt-4.1\""));
    free(text);
    json_decref(prov);
    json_t *m = llm_catalog_models_json(cat, f->cfg, "acme", "openai/gpt-4.1", NULL);
    assert_string_equal(json_string_value(json_object_get(m, "source")), "api");
    assert_string_equal(json_string_value(json_object_get(m, "provider_source")), "config");
    json_decref(m);
    llm_catalog_unref(cat);
    /* a configuration that now defines it is refused, naming the way out */
    struct cfg *next = load_cfg(f, "models:\n"
                                   "  providers:\n"
                                   "    - name: openai\n"
                                   "      api: openai\n"
                                   "      base_url: https://api.openai.com/v1\n"
                                   "      models:\n"
                                   "        - name: gpt-4o\n"
                                   "        - name: gpt-4.1\n");
    assert_int_equal(llm_registry_conflicts(f->reg, next, msg, sizeof(msg)), GW_ECONFLICT);
    assert_non_null(strstr(msg, "openclaw models remove openai/gpt-4.1"));
    cfg_unref(next);
    /* one that drops the provider leaves the model unserved, and says why */
    cfg_unref(f->cfg);
    f->cfg = load_cfg(f, "tenant:\n  id: acme\n");
    assert_int_equal(llm_registry_conflicts(f->reg, f->cfg, msg, sizeof(msg)), GW_OK);
    not_found(f, "acme", "openai/gpt-4.1", "no longer configured");
}

static void test_runtime_provider_per_tenant(void **state)
{
    struct fx *f = *state;
    char msg[400];
    OK(f, LLM_PROVIDER_ADD, "acme", NULL, local_json);
    assert_int_equal(run(f, LLM_PROVIDER_ADD, "acme", NULL, local_json, msg, sizeof(msg)),
                     GW_ECONFLICT);
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    struct llm_target t;
    assert_int_equal(llm_catalog_find(cat, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK);
    assert_string_equal(t.provider->base_url, "http://127.0.0.1:9/v1"); /* '/' cut */
    assert_string_equal(t.provider->api_key, "sk-runtime-key-1234");
    assert_true(t.provider->self_hosted);
    assert_int_equal(t.provider->retries, 2); /* the file's defaults */
    assert_int_equal(t.provider->limits.max_concurrent, 64);
    assert_string_equal(t.model->upstream, "llama3.2");
    assert_string_equal(t.tenant, "acme");
    const char *urls[2];
    assert_int_equal(llm_catalog_urls(cat, "acme", urls, 2), 1);
    assert_string_equal(urls[0], "http://127.0.0.1:9/v1");
    assert_int_equal(llm_catalog_urls(cat, "globex", urls, 2), 0);
    json_t *p = llm_catalog_providers_json(cat, f->cfg, "acme", "local");
    json_t *key = json_object_get(p, "api_key");
    assert_true(json_is_true(json_object_get(key, "set")));
    assert_string_equal(json_string_value(json_object_get(key, "last4")), "1234");
    json_decref(p);
    llm_catalog_unref(cat);
    /* another tenant neither sees nor reaches it, and may have its own of that name */
    not_found(f, "globex", "local/llama", "not configured");
    cat = llm_registry_catalog(f->reg);
    assert_null(llm_catalog_providers_json(cat, f->cfg, "globex", "local"));
    llm_catalog_unref(cat);
    OK(f, LLM_PROVIDER_ADD, "globex", NULL,
       "{\"name\":\"local\",\"api\":\"ollama\",\"base_url\":\"http://10.0.0.1:11434\"}");
    assert_int_equal(run(f, LLM_MODEL_REMOVE, "globex", "local/llama", NULL, msg, sizeof(msg)),
                     GW_ENOTFOUND);
}

static void test_disabled_entries_are_not_served(void **state)
{
    struct fx *f = *state;
    char msg[400];
    OK(f, LLM_PROVIDER_ADD, "acme", NULL, local_json);
    OK(f, LLM_MODEL_SET, "acme", "local/llama", "{\"enabled\":false}");
    not_found(f, "acme", "local/llama", "openclaw models enable local/llama");
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    struct llm_target t;
    assert_int_equal(llm_catalog_find_any(cat, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK); /* a test before enabling it */
    llm_catalog_unref(cat);
    OK(f, LLM_MODEL_SET, "acme", "local/llama", "{\"enabled\":true,\"upstream\":\"llama3.3\"}");
    OK(f, LLM_PROVIDER_SET, "acme", "local", "{\"enabled\":false}");
    not_found(f, "acme", "local/llama", "provider 'local' is disabled");
    OK(f, LLM_PROVIDER_SET, "acme", "local", "{\"enabled\":true,\"timeout_ms\":5000}");
    cat = llm_registry_catalog(f->reg);
    assert_int_equal(llm_catalog_find(cat, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK);
    assert_string_equal(t.model->upstream, "llama3.3");
    assert_int_equal(t.provider->timeout_ms, 5000);
    assert_string_equal(t.provider->api_key, "sk-runtime-key-1234"); /* kept when not given */
    llm_catalog_unref(cat);
    OK(f, LLM_PROVIDER_SET, "acme", "local", "{\"api_key\":null}");
    cat = llm_registry_catalog(f->reg);
    assert_int_equal(llm_catalog_find(cat, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK);
    assert_null(t.provider->api_key);
    llm_catalog_unref(cat);
}

static void test_provider_bodies_are_checked(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *body, *says;
    } bad[] = {
        {"{\"name\":\"Bad Name\",\"api\":\"openai\",\"base_url\":\"http://x\"}", "name"},
        {"{\"name\":\"openclaw\",\"api\":\"openai\",\"base_url\":\"http://x\"}", "names an agent"},
        {"{\"name\":\"p\",\"api\":\"grpc\",\"base_url\":\"http://x\"}", "api"},
        {"{\"name\":\"p\",\"api\":\"openai\"}", "base_url are required"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"ftp://x\"}", "http://"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://u:pw@x\"}", "user info"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x/?a=1\"}", "query"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"timeout_ms\":5}",
         "timeout_ms"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"limits\":{\"rpmx\":1}}",
         "rpmx"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"colour\":1}", "colour"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"api_key\":\"a b\"}",
         "api_key"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"kind\":\"cloud\"}",
         "kind"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"max_classification\":\"secret\"}",
         "max_classification"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"fallback\":[\"p/m\"]}",
         "itself"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"fallback\":[\"nope/m\"]}",
         "not a model"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"models\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
         "twice"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"models\":[{\"name\":\"a/b\"}]}",
         "model name"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\","
         "\"models\":[{\"name\":\"a\",\"input_per_mtok\":-1}]}",
         "input_per_mtok"},
        {"{\"name\":\"p\",\"api\":\"openai\",\"base_url\":\"http://x\",\"enabled\":\"yes\"}",
         "enabled"},
    };
    for (size_t i = 0; i < GW_ARRAY_LEN(bad); i++) {
        char msg[400] = "";
        gw_err rc = run(f, LLM_PROVIDER_ADD, "acme", NULL, bad[i].body, msg, sizeof(msg));
        if (rc != GW_EINVAL || !strstr(msg, bad[i].says))
            fail_msg("%s: %s '%s' (wanted '%s')", bad[i].body, gw_err_name(rc), msg, bad[i].says);
    }
    /* a valid fallback names another provider's model; residency is the file's */
    OK(f, LLM_PROVIDER_ADD, "acme", NULL,
       "{\"name\":\"p\",\"api\":\"anthropic\",\"base_url\":\"https://x.test\","
       "\"fallback\":[\"openai/gpt-4o\"],\"limits\":{\"rpm\":60}}");
    cfg_unref(f->cfg);
    f->cfg = load_cfg(f, "models:\n  allowed_regions: [eu]\n");
    char msg[400];
    assert_int_equal(run(f, LLM_PROVIDER_ADD, "acme", NULL,
                         "{\"name\":\"q\",\"api\":\"openai\",\"base_url\":\"http://x\","
                         "\"region\":\"us\"}",
                         msg, sizeof(msg)),
                     GW_EINVAL);
    assert_non_null(strstr(msg, "allowed_regions"));
    OK(f, LLM_PROVIDER_ADD, "acme", NULL,
       "{\"name\":\"q\",\"api\":\"openai\",\"base_url\":\"http://x\",\"region\":\"eu\"}");
}

static void test_agents_and_their_models(void **state)
{
    struct fx *f = *state;
    char msg[400];
    OK(f, LLM_PROVIDER_ADD, "acme", NULL, local_json);
    assert_int_equal(run(f, LLM_AGENT_MODEL, "acme", "eng/helper", "{\"model\":\"nope/x\"}", msg,
                         sizeof(msg)),
                     GW_EINVAL);
    assert_int_equal(run(f, LLM_AGENT_MODEL, "acme", "eng/helper", "{\"model\":1}", msg,
                         sizeof(msg)),
                     GW_EINVAL);
    OK(f, LLM_AGENT_MODEL, "acme", "eng/helper", "{\"model\":\"local/llama\"}");
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    assert_string_equal(llm_catalog_agent_model(cat, "acme", "eng/helper"), "local/llama");
    assert_null(llm_catalog_agent_model(cat, "globex", "eng/helper"));
    llm_catalog_unref(cat);
    /* what an agent uses cannot go away under it */
    assert_int_equal(run(f, LLM_MODEL_REMOVE, "acme", "local/llama", NULL, msg, sizeof(msg)),
                     GW_ECONFLICT);
    assert_non_null(strstr(msg, "eng/helper"));
    assert_int_equal(run(f, LLM_PROVIDER_REMOVE, "acme", "local", NULL, msg, sizeof(msg)),
                     GW_ECONFLICT);
    assert_int_equal(llm_registry_forget_agent(f->reg, "acme", "eng/helper"), GW_OK);
    assert_int_equal(llm_registry_forget_agent(f->reg, "acme", "eng/helper"), GW_OK);
    OK(f, LLM_AGENT_MODEL, "acme", "eng/other", "{\"model\":\"local/llama\"}");
    OK(f, LLM_AGENT_MODEL, "acme", "eng/other", "{\"model\":null}");
    OK(f, LLM_PROVIDER_REMOVE, "acme", "local", NULL); /* with its models */
    not_found(f, "acme", "local/llama", "not configured");
    cat = llm_registry_catalog(f->reg);
    json_t *models = llm_catalog_models_json(cat, f->cfg, "acme", NULL, NULL);
    assert_int_equal(json_array_size(models), 1); /* the file's gpt-4o */
    json_decref(models);
    llm_catalog_unref(cat);
}

/* A call holds the catalog it was routed with: a change does not pull its target away. */
static void test_held_catalog_outlives_changes(void **state)
{
    struct fx *f = *state;
    char msg[400];
    OK(f, LLM_PROVIDER_ADD, "acme", NULL, local_json);
    struct llm_catalog *held = llm_registry_catalog(f->reg);
    struct llm_target t;
    assert_int_equal(llm_catalog_find(held, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK);
    OK(f, LLM_PROVIDER_SET, "acme", "local", "{\"base_url\":\"http://127.0.0.1:10/v1\"}");
    OK(f, LLM_PROVIDER_REMOVE, "acme", "local", NULL);
    assert_string_equal(t.provider->base_url, "http://127.0.0.1:9/v1");
    assert_string_equal(t.model->name, "llama");
    llm_catalog_unref(held);
}

static void test_entries_survive_a_restart(void **state)
{
    struct fx *f = *state;
    char msg[400];
    OK(f, LLM_PROVIDER_ADD, "acme", NULL, local_json);
    OK(f, LLM_PROVIDER_SET, "acme", "local", "{\"enabled\":false}");
    OK(f, LLM_AGENT_MODEL, "acme", "eng/helper", "{\"model\":\"openai/gpt-4o\"}");
    llm_registry_close(f->reg);
    store_close(f->st);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    assert_int_equal(llm_registry_open(f->st, &f->reg), GW_OK);
    not_found(f, "acme", "local/llama", "disabled");
    struct llm_catalog *cat = llm_registry_catalog(f->reg);
    assert_string_equal(llm_catalog_agent_model(cat, "acme", "eng/helper"), "openai/gpt-4o");
    struct llm_target t;
    assert_int_equal(llm_catalog_find_any(cat, f->cfg, "acme", "local/llama", &t, msg, sizeof(msg)),
                     GW_OK);
    assert_string_equal(t.provider->api_key, "sk-runtime-key-1234");
    llm_catalog_unref(cat);
    assert_int_equal(llm_registry_reload(f->reg), GW_OK);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_entries_win_and_stay_read_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_runtime_provider_per_tenant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_entries_are_not_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_provider_bodies_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agents_and_their_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_catalog_outlives_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entries_survive_a_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
