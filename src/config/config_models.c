/* SPDX-License-Identifier: MIT
 * config_models.c — the models section: upstream LLM providers, their models and prices.
 *
 * Each provider is one upstream API (openai, anthropic or ollama wire format) with its own
 * timeouts, retries, rate limits and fallbacks; clients and agents name a model as
 * "<provider>/<model>". Data residency (seed 001) is checked here: with allowed_regions set, a
 * provider outside them is refused at load rather than at the first request. Fallbacks are
 * checked once every provider is read, so they may name providers further down the file.
 * API keys come from ${ENV} or a secrets file and never appear in a message.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config_int.h"
#include "policy/policy.h"

#define API_KEY_MAX 4096 /* bytes, for api_key and api_key_file alike */

enum { MO_REGIONS, MO_ROUNDS, MO_PROVIDERS, MO__N };
const char *const cfg_keys_models[] = {[MO_REGIONS] = "allowed_regions",
                                       [MO_ROUNDS] = "max_tool_rounds",
                                       [MO_PROVIDERS] = "providers",
                                       [MO__N] = NULL};

enum {
    PR_NAME,
    PR_API,
    PR_URL,
    PR_KEY,
    PR_KEY_FILE,
    PR_KIND,
    PR_CLASS,
    PR_REGION,
    PR_TIMEOUT,
    PR_CONNECT,
    PR_RETRIES,
    PR_RETRY_BASE,
    PR_FALLBACK,
    PR_LIMITS,
    PR_MODELS,
    PR__N
};
const char *const cfg_keys_provider[] = {
    [PR_NAME] = "name",
    [PR_API] = "api",
    [PR_URL] = "base_url",
    [PR_KEY] = "api_key",
    [PR_KEY_FILE] = "api_key_file",
    [PR_KIND] = "kind",
    [PR_CLASS] = "max_classification",
    [PR_REGION] = "region",
    [PR_TIMEOUT] = "timeout_ms",
    [PR_CONNECT] = "connect_timeout_ms",
    [PR_RETRIES] = "retries",
    [PR_RETRY_BASE] = "retry_base_ms",
    [PR_FALLBACK] = "fallback",
    [PR_LIMITS] = "limits",
    [PR_MODELS] = "models",
    [PR__N] = NULL,
};

enum { LI_CONC, LI_RPM, LI_TPM, LI_QUEUE, LI_WAIT, LI__N };
const char *const cfg_keys_provider_limits[] = {
    [LI_CONC] = "max_concurrent", [LI_RPM] = "rpm",          [LI_TPM] = "tpm",
    [LI_QUEUE] = "max_queue",     [LI_WAIT] = "max_wait_ms", [LI__N] = NULL};

enum { MD_NAME, MD_UPSTREAM, MD_IN, MD_OUT, MD__N };
const char *const cfg_keys_model[] = {[MD_NAME] = "name",
                                      [MD_UPSTREAM] = "upstream",
                                      [MD_IN] = "input_per_mtok",
                                      [MD_OUT] = "output_per_mtok",
                                      [MD__N] = NULL};

static const char *const apis[] = {"openai", "anthropic", "ollama", NULL};
static const char *const kinds[] = {"external", "self_hosted", NULL};
static const char *const http_schemes[] = {"http", "https", NULL};

/* Where a kept provider came from, for the checks made once all are read. */
struct origin {
    size_t item;                     /* index in models.providers */
    int line;                        /* of the item */
    const struct cfg_node *fallback; /* or NULL */
    const struct cfg_node *region;   /* or NULL */
};

#define NAME_RULE "1-63 characters of [a-z0-9_-], starting with a letter or digit"
#define MAX_PRICE 1000000.0 /* USD per million tokens */

const struct cfg_provider cfg_provider_defaults = {
    .max_classification = -1,
    .timeout_ms = 120000,
    .connect_timeout_ms = 5000,
    .retries = 2,
    .retry_base_ms = 250,
    .limits = {.max_concurrent = 64, .max_queue = 1024, .max_wait_ms = 10000},
};

/* [A-Za-z0-9._:-]{1,128}: no '/', which separates provider and model. */
bool cfg_model_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == ':' || *s == '-'))
            return false;
    return true;
}

static void wipe_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

static void free_provider(struct cfg_provider *p)
{
    free(p->name);
    free(p->base_url);
    wipe_free(p->api_key);
    free(p->region);
    cfg_free_strv(p->fallback);
    for (size_t i = 0; i < p->n_models; i++) {
        free(p->models[i].name);
        free(p->models[i].upstream);
    }
    free(p->models);
    *p = (struct cfg_provider){0};
}

static void load_limits(struct cfg_loader *L, const struct cfg_node *n, const char *prefix,
                        struct cfg_provider_limits *l)
{
    const struct cfg_node *v[LI__N];
    struct cfg_errlist *e = L->errs;
    char what[160];
    if (!cfg_map_slots(e, n, prefix, cfg_keys_provider_limits, v, NULL))
        return;
    snprintf(what, sizeof(what), "%.120s.max_concurrent", prefix);
    cfg_get_uint(e, v[LI_CONC], what, 1, 100000, &l->max_concurrent);
    snprintf(what, sizeof(what), "%.120s.rpm", prefix);
    cfg_get_uint(e, v[LI_RPM], what, 0, 100000000, &l->rpm);
    snprintf(what, sizeof(what), "%.120s.tpm", prefix);
    cfg_get_uint(e, v[LI_TPM], what, 0, 4000000000u, &l->tpm);
    snprintf(what, sizeof(what), "%.120s.max_queue", prefix);
    cfg_get_uint(e, v[LI_QUEUE], what, 0, 1000000, &l->max_queue);
    snprintf(what, sizeof(what), "%.120s.max_wait_ms", prefix);
    cfg_get_uint(e, v[LI_WAIT], what, 0, 3600000, &l->max_wait_ms);
}

static void load_models(struct cfg_loader *L, const struct cfg_node *n, const char *prefix,
                        int line, struct cfg_provider *p)
{
    struct cfg_errlist *e = L->errs;
    char what[160], shown[80];
    snprintf(what, sizeof(what), "%s.models", prefix);
    if (cfg_is_null(n)) {
        cfg_err(e, line, "%s is required (at least one model)", what);
        return;
    }
    if (!cfg_want_seq(e, n, what))
        return;
    if (n->n == 0) {
        cfg_err(e, n->line, "%s must list at least one model", what);
        return;
    }
    p->models = gw_xcalloc(n->n, sizeof(*p->models));
    int *lines = gw_xcalloc(n->n, sizeof(*lines));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *item = n->vals[i];
        const struct cfg_node *v[MD__N];
        struct cfg_model m = {0};
        bool ok = true;
        snprintf(what, sizeof(what), "%s.models[%zu]", prefix, i);
        if (!cfg_map_slots(e, item, what, cfg_keys_model, v, NULL)) {
            if (cfg_is_null(item))
                cfg_err(e, item->line, "%s must be a mapping with a name", what);
            continue;
        }
        snprintf(what, sizeof(what), "%s.models[%zu].name", prefix, i);
        if (cfg_is_null(v[MD_NAME])) {
            cfg_err(e, item->line, "%s is required", what);
            ok = false;
        } else if (!cfg_get_str(e, v[MD_NAME], what, &m.name)) {
            ok = false;
        } else if (!cfg_model_name_valid(m.name)) {
            cfg_err(e, v[MD_NAME]->line,
                    "%s '%s' is not valid (1-128 characters of [A-Za-z0-9._:-])", what,
                    cfg_shown(m.name, shown, sizeof(shown)));
            ok = false;
        } else {
            for (size_t j = 0; j < p->n_models; j++)
                if (!strcmp(p->models[j].name, m.name)) {
                    cfg_err(e, v[MD_NAME]->line,
                            "duplicate model '%s' in %s (first defined at line %d)",
                            cfg_shown(m.name, shown, sizeof(shown)), prefix, lines[j]);
                    ok = false;
                    break;
                }
        }
        snprintf(what, sizeof(what), "%s.models[%zu].upstream", prefix, i);
        if (cfg_get_str(e, v[MD_UPSTREAM], what, &m.upstream) && m.upstream &&
            !cfg_visible(m.upstream, 256))
            cfg_err(e, v[MD_UPSTREAM]->line,
                    "%s must be 1-256 visible ASCII characters (no spaces)", what);
        snprintf(what, sizeof(what), "%s.models[%zu].input_per_mtok", prefix, i);
        cfg_get_double(e, v[MD_IN], what, 0, false, MAX_PRICE, &m.input_per_mtok);
        snprintf(what, sizeof(what), "%s.models[%zu].output_per_mtok", prefix, i);
        cfg_get_double(e, v[MD_OUT], what, 0, false, MAX_PRICE, &m.output_per_mtok);
        if (!ok) {
            free(m.name);
            free(m.upstream);
            continue;
        }
        if (!m.upstream)
            m.upstream = gw_xstrdup(m.name);
        lines[p->n_models] = v[MD_NAME]->line;
        p->models[p->n_models++] = m;
    }
    free(lines);
}

/* Reads the secret from the file; the content never appears in a message. */
static void read_key_file(struct cfg_loader *L, const struct cfg_node *n, const char *what,
                          struct cfg_provider *p)
{
    struct cfg_errlist *e = L->errs;
    char *path = NULL, *data = NULL, shown[80];
    size_t len = 0;
    if (!cfg_get_path(e, n, what, L->c->data_dir, &path) || !path)
        return;
    cfg_shown(path, shown, sizeof(shown));
    switch (gw_file_read(path, API_KEY_MAX, &data, &len)) {
    case GW_OK:
        break;
    case GW_ENOTFOUND:
        cfg_err(e, n->line, "%s %s does not exist", what, shown);
        goto out;
    case GW_ETOOBIG:
        cfg_err(e, n->line, "%s %s is larger than %d bytes", what, shown, API_KEY_MAX);
        goto out;
    default:
        cfg_err(e, n->line, "%s %s cannot be read (not a readable regular file)", what, shown);
        goto out;
    }
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        data[--len] = '\0';
    if (len != strlen(data) || !cfg_visible(data, API_KEY_MAX)) {
        cfg_err(e, n->line,
                "%s %s must hold the key alone: 1-%d visible ASCII characters and a final "
                "newline at most",
                what, shown, API_KEY_MAX);
        goto out;
    }
    p->api_key = gw_xstrdup(data);
out:
    if (data) {
        explicit_bzero(data, len);
        free(data);
    }
    free(path);
}

static bool load_provider(struct cfg_loader *L, const struct cfg_node *item, size_t i,
                          const struct origin *origins, struct cfg_provider *p, struct origin *o)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[PR__N];
    char prefix[64], what[128], shown[80];
    char *s = NULL;
    bool ok = true;

    snprintf(prefix, sizeof(prefix), "models.providers[%zu]", i);
    if (!cfg_map_slots(e, item, prefix, cfg_keys_provider, v, NULL)) {
        if (cfg_is_null(item))
            cfg_err(e, item->line, "%s must be a mapping with name, api, base_url and models",
                    prefix);
        return false;
    }
    *p = cfg_provider_defaults;

    snprintf(what, sizeof(what), "%s.name", prefix);
    if (cfg_is_null(v[PR_NAME])) {
        cfg_err(e, item->line, "%s is required", what);
        ok = false;
    } else if (!cfg_get_str(e, v[PR_NAME], what, &p->name)) {
        ok = false;
    } else if (!cfg_name_valid(p->name)) {
        cfg_err(e, v[PR_NAME]->line, "%s '%s' is not valid (" NAME_RULE ")", what,
                cfg_shown(p->name, shown, sizeof(shown)));
        ok = false;
    } else {
        for (size_t j = 0; j < c->n_providers; j++)
            if (!strcmp(c->providers[j].name, p->name)) {
                cfg_err(e, v[PR_NAME]->line, "duplicate provider '%s' (first defined at line %d)",
                        cfg_shown(p->name, shown, sizeof(shown)), origins[j].line);
                ok = false;
                break;
            }
    }

    snprintf(what, sizeof(what), "%s.api", prefix);
    if (cfg_is_null(v[PR_API]))
        cfg_err(e, item->line, "%s is required (openai, anthropic or ollama)", what);
    else if (cfg_get_enum(e, v[PR_API], what, apis, &s))
        p->api = !strcmp(s, "anthropic") ? CFG_LLM_ANTHROPIC
                 : !strcmp(s, "ollama")  ? CFG_LLM_OLLAMA
                                         : CFG_LLM_OPENAI;
    free(s);
    s = NULL;

    snprintf(what, sizeof(what), "%s.base_url", prefix);
    if (cfg_is_null(v[PR_URL]))
        cfg_err(e, item->line, "%s is required (e.g. https://api.openai.com/v1)", what);
    else
        cfg_get_url(e, v[PR_URL], what, http_schemes, CFG_URL_NO_SLASH, &p->base_url);

    snprintf(what, sizeof(what), "%s.api_key", prefix);
    if (!cfg_is_null(v[PR_KEY]) && !cfg_is_null(v[PR_KEY_FILE])) {
        cfg_err(e, v[PR_KEY_FILE]->line,
                "%s.api_key_file and %s.api_key are both set (use one of them)", prefix, prefix);
    } else if (!cfg_is_null(v[PR_KEY])) {
        if (cfg_get_str(e, v[PR_KEY], what, &p->api_key) && !cfg_visible(p->api_key, API_KEY_MAX))
            cfg_err(e, v[PR_KEY]->line, "%s must be 1-%d visible ASCII characters", what,
                    API_KEY_MAX);
    } else if (!cfg_is_null(v[PR_KEY_FILE])) {
        snprintf(what, sizeof(what), "%s.api_key_file", prefix);
        read_key_file(L, v[PR_KEY_FILE], what, p);
    }

    snprintf(what, sizeof(what), "%s.kind", prefix);
    if (cfg_get_enum(e, v[PR_KIND], what, kinds, &s) && s)
        p->self_hosted = !strcmp(s, "self_hosted");
    free(s);
    s = NULL;

    snprintf(what, sizeof(what), "%s.max_classification", prefix);
    if (cfg_get_str(e, v[PR_CLASS], what, &s) && s) {
        p->max_classification = pol_level_parse(s);
        if (p->max_classification < 0)
            cfg_err(e, v[PR_CLASS]->line,
                    "%s must be one of public, internal, confidential, restricted (got '%s')", what,
                    cfg_shown(s, shown, sizeof(shown)));
    }
    free(s);
    s = NULL;

    snprintf(what, sizeof(what), "%s.region", prefix);
    if (cfg_get_str(e, v[PR_REGION], what, &p->region) && p->region &&
        !cfg_visible(p->region, 64)) {
        cfg_err(e, v[PR_REGION]->line, "%s must be 1-64 visible ASCII characters (no spaces)",
                what);
        free(p->region);
        p->region = NULL;
    }

    snprintf(what, sizeof(what), "%s.timeout_ms", prefix);
    cfg_get_uint(e, v[PR_TIMEOUT], what, 100, 3600000, &p->timeout_ms);
    snprintf(what, sizeof(what), "%s.connect_timeout_ms", prefix);
    cfg_get_uint(e, v[PR_CONNECT], what, 100, 60000, &p->connect_timeout_ms);
    snprintf(what, sizeof(what), "%s.retries", prefix);
    cfg_get_uint(e, v[PR_RETRIES], what, 0, 10, &p->retries);
    snprintf(what, sizeof(what), "%s.retry_base_ms", prefix);
    cfg_get_uint(e, v[PR_RETRY_BASE], what, 1, 60000, &p->retry_base_ms);

    snprintf(what, sizeof(what), "%s.fallback", prefix);
    cfg_get_strlist(e, v[PR_FALLBACK], what, &p->fallback, &p->n_fallback);

    snprintf(what, sizeof(what), "%s.limits", prefix);
    load_limits(L, v[PR_LIMITS], what, &p->limits);

    load_models(L, v[PR_MODELS], prefix, item->line, p);
    *o = (struct origin){.item = i,
                         .line = item->line,
                         .fallback = v[PR_FALLBACK],
                         .region = v[PR_REGION]};
    return ok;
}

/* Every fallback names a configured "<provider>/<model>" of another provider. */
static void check_fallbacks(struct cfg_loader *L, const struct origin *origins)
{
    struct cfg *c = L->c;
    char shown[80];
    for (size_t i = 0; i < c->n_providers; i++) {
        const struct cfg_provider *p = &c->providers[i];
        if (!p->n_fallback)
            continue;
        const struct cfg_node *fb = origins[i].fallback;
        size_t item = origins[i].item;
        for (size_t j = 0, k = 0; j < fb->n && k < p->n_fallback; j++) {
            if (fb->vals[j]->bad || fb->vals[j]->kind != CFG_NODE_SCALAR || fb->vals[j]->null)
                continue; /* not copied, already reported */
            const char *id = p->fallback[k++];
            int line = fb->vals[j]->line;
            const struct cfg_provider *target = NULL;
            cfg_shown(id, shown, sizeof(shown));
            if (!cfg_find_model(c, id, &target)) {
                cfg_err(L->errs, line,
                        "models.providers[%zu].fallback[%zu] '%s' is not a configured model "
                        "(\"<provider>/<model>\" of models.providers)",
                        item, j, shown);
            } else if (target == p) {
                cfg_err(L->errs, line,
                        "models.providers[%zu].fallback[%zu] '%s' names the provider itself (a "
                        "fallback must be another provider)",
                        item, j, shown);
            } else {
                for (size_t m = 0; m + 1 < k; m++)
                    if (!strcmp(p->fallback[m], id)) {
                        cfg_err(L->errs, line,
                                "models.providers[%zu].fallback[%zu] '%s' is listed twice", item, j,
                                shown);
                        break;
                    }
            }
        }
    }
}

static void check_regions(struct cfg_loader *L, const struct origin *origins)
{
    struct cfg *c = L->c;
    char shown[80];
    for (size_t i = 0; i < c->n_providers; i++) {
        const struct cfg_provider *p = &c->providers[i];
        const struct origin *o = &origins[i];
        if (!p->region) {
            if (cfg_is_null(o->region)) /* else already reported */
                cfg_err(L->errs, o->line,
                        "models.providers[%zu] ('%s') has no region but models.allowed_regions "
                        "is set (data residency: set its region)",
                        o->item, p->name);
            continue;
        }
        bool found = false;
        for (size_t r = 0; r < c->n_allowed_regions && !found; r++)
            found = !strcmp(c->allowed_regions[r], p->region);
        if (!found)
            cfg_err(L->errs, o->region->line,
                    "models.providers[%zu].region '%s' of provider '%s' is not in "
                    "models.allowed_regions (data residency)",
                    o->item, cfg_shown(p->region, shown, sizeof(shown)), p->name);
    }
}

void cfg_load_models(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[MO__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    if (!cfg_map_slots(e, n, "models", cfg_keys_models, v, NULL))
        return;

    cfg_get_uint(e, v[MO_ROUNDS], "models.max_tool_rounds", 1, 64, &c->max_tool_rounds);

    bool regions_ok = false;
    if (cfg_get_strlist(e, v[MO_REGIONS], "models.allowed_regions", &c->allowed_regions,
                        &c->n_allowed_regions) &&
        c->allowed_regions) {
        regions_ok = true;
        if (c->n_allowed_regions == 0) {
            cfg_err(e, v[MO_REGIONS]->line,
                    "models.allowed_regions must not be empty (omit it to allow any region)");
            regions_ok = false;
        }
        for (size_t i = 0; i < c->n_allowed_regions; i++)
            if (!cfg_visible(c->allowed_regions[i], 64)) {
                cfg_err(e, v[MO_REGIONS]->vals[i]->line,
                        "models.allowed_regions[%zu] must be 1-64 visible ASCII characters", i);
                regions_ok = false;
            }
    }

    const struct cfg_node *list = v[MO_PROVIDERS];
    if (!cfg_want_seq(e, list, "models.providers"))
        return;
    c->providers = gw_xcalloc(list->n ? list->n : 1, sizeof(*c->providers));
    struct origin *origins = gw_xcalloc(list->n + 1, sizeof(*origins));
    for (size_t i = 0; i < list->n; i++) {
        struct cfg_provider p = {0};
        if (!load_provider(L, list->vals[i], i, origins, &p, &origins[c->n_providers])) {
            free_provider(&p);
            continue;
        }
        c->providers[c->n_providers++] = p;
    }
    check_fallbacks(L, origins);
    if (regions_ok)
        check_regions(L, origins);
    free(origins);
    if (c->n_providers == 0) {
        free(c->providers);
        c->providers = NULL;
    }
}
