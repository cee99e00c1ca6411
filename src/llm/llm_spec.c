/* SPDX-License-Identifier: MIT
 * llm_spec.c — providers and models as JSON (the API's bodies and the store's rows) checked
 * into the struct cfg_provider / cfg_model that calls use.
 *
 * The rules and defaults are those of models.providers[] in gateway.yaml (config_models.c;
 * docs/CONFIG.md), so a provider behaves the same wherever it was defined. A change is a
 * partial body applied over the current settings: a member set to null returns to its
 * default. Messages name the field and never quote a key or a URL (either may hold a secret).
 */
#include "base/prelude.h"
#include "llm/llm_int.h"
#include "base/mem.h"
#include "policy/policy.h"

#include <math.h>
#include <stddef.h>

#define KEY_MAX 4096
#define URL_MAX 2048
#define MAX_PRICE 1000000.0 /* USD per million tokens */

static const char *const apis[] = {"openai", "anthropic", "ollama"};

struct uint_field {
    const char *key;
    size_t off;
    unsigned min, max;
};

static const struct uint_field provider_uints[] = {
    {"timeout_ms", offsetof(struct cfg_provider, timeout_ms), 100, 3600000},
    {"connect_timeout_ms", offsetof(struct cfg_provider, connect_timeout_ms), 100, 60000},
    {"retries", offsetof(struct cfg_provider, retries), 0, 10},
    {"retry_base_ms", offsetof(struct cfg_provider, retry_base_ms), 1, 60000},
};

static const struct uint_field limit_uints[] = {
    {"max_concurrent", offsetof(struct cfg_provider_limits, max_concurrent), 1, 100000},
    {"rpm", offsetof(struct cfg_provider_limits, rpm), 0, 100000000},
    {"tpm", offsetof(struct cfg_provider_limits, tpm), 0, 4000000000u},
    {"max_queue", offsetof(struct cfg_provider_limits, max_queue), 0, 1000000},
    {"max_wait_ms", offsetof(struct cfg_provider_limits, max_wait_ms), 0, 3600000},
};

/* Members of a provider body that are not settings (the registry reads them). */
static const char *const provider_other[] = {"name", "api_key", "enabled", "models"};
static const char *const provider_strs[] = {"api",    "base_url", "kind",  "max_classification",
                                            "region", "fallback", "limits"};
static const char *const model_keys[] = {"id",       "name",           "enabled",
                                         "upstream", "input_per_mtok", "output_per_mtok"};

bool llm_spec_key_ok(const char *key)
{
    return key && cfg_visible(key, KEY_MAX);
}

bool llm_spec_split_id(const char *id, char *prov, size_t pcap, char *model, size_t mcap)
{
    const char *slash = id ? strchr(id, '/') : NULL;
    if (!slash || (size_t)(slash - id) >= pcap || strlen(slash + 1) >= mcap)
        return false;
    snprintf(prov, pcap, "%.*s", (int)(slash - id), id);
    snprintf(model, mcap, "%s", slash + 1);
    return cfg_name_valid(prov) && cfg_model_name_valid(model);
}

/* http(s)://host[:port][/path] without credentials, query or fragment; trailing '/' cut. */
static const char *url_problem(const char *s)
{
    const char *rest = !strncmp(s, "https://", 8)  ? s + 8
                       : !strncmp(s, "http://", 7) ? s + 7
                                                   : NULL;
    if (!rest)
        return "must be an http:// or https:// URL";
    if (strlen(s) > URL_MAX)
        return "is longer than 2048 characters";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return "must not contain spaces or control characters";
    size_t auth = strcspn(rest, "/?#");
    if (auth == 0 || rest[0] == ':')
        return "has no host";
    if (memchr(rest, '@', auth))
        return "must not contain user information (user:password@)";
    if (strpbrk(rest, "?#"))
        return "must not contain a query (?) or fragment (#)";
    return NULL;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static bool known_key(const char *key, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(key, v[i]))
            return true;
    return false;
}

/* A whole number in [min, max]; null: the default. */
static gw_err get_uint(const json_t *v, const char *what, unsigned min, unsigned max, unsigned def,
                       unsigned *out, char *msg, size_t cap)
{
    if (json_is_null(v)) {
        *out = def;
        return GW_OK;
    }
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < (json_int_t)min || i > (json_int_t)max) {
        snprintf(msg, cap, "%s must be a whole number from %u to %u", what, min, max);
        return GW_EINVAL;
    }
    *out = (unsigned)i;
    return GW_OK;
}

/* A string member (NULL when null); false with msg when it is neither. */
static bool get_str(const json_t *v, const char *what, const char **out, char *msg, size_t cap)
{
    *out = NULL;
    if (json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        snprintf(msg, cap, "%s must be a string", what);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static void replace(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? gw_xstrdup(s) : NULL;
}

static gw_err apply_limits(const json_t *v, struct cfg_provider_limits *l, char *msg, size_t cap)
{
    if (json_is_null(v)) {
        *l = cfg_provider_defaults.limits;
        return GW_OK;
    }
    if (!json_is_object(v)) {
        snprintf(msg, cap, "limits must be an object");
        return GW_EINVAL;
    }
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        const struct uint_field *f = NULL;
        for (size_t i = 0; i < GW_ARRAY_LEN(limit_uints) && !f; i++)
            if (!strcmp(key, limit_uints[i].key))
                f = &limit_uints[i];
        if (!f) {
            snprintf(msg, cap,
                     "limits has no member '%.40s' (max_concurrent, rpm, tpm, "
                     "max_queue, max_wait_ms)",
                     key);
            return GW_EINVAL;
        }
        char what[48];
        snprintf(what, sizeof(what), "limits.%s", f->key);
        unsigned *dst = (unsigned *)((char *)l + f->off);
        gw_err rc = get_uint(m, what, f->min, f->max,
                             *(const unsigned *)((const char *)&cfg_provider_defaults.limits +
                                                 f->off),
                             dst, msg, cap);
        if (rc != GW_OK)
            return rc;
    }
    return GW_OK;
}

static gw_err apply_fallback(const json_t *v, struct cfg_provider *p, char *msg, size_t cap)
{
    strv_free(p->fallback);
    p->fallback = NULL;
    p->n_fallback = 0;
    if (json_is_null(v))
        return GW_OK;
    if (!json_is_array(v) || json_array_size(v) > LLM_MAX_FALLBACKS) {
        snprintf(msg, cap, "fallback must be a list of at most %d \"<provider>/<model>\"",
                 LLM_MAX_FALLBACKS);
        return GW_EINVAL;
    }
    p->fallback = gw_xcalloc(json_array_size(v) + 1, sizeof(*p->fallback));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char prov[64], model[129];
        const char *id = json_string_value(e);
        if (!llm_spec_split_id(id, prov, sizeof(prov), model, sizeof(model))) {
            snprintf(msg, cap, "fallback[%zu] must be \"<provider>/<model>\"", i);
            return GW_EINVAL;
        }
        for (size_t j = 0; j < p->n_fallback; j++)
            if (!strcmp(p->fallback[j], id)) {
                snprintf(msg, cap, "fallback[%zu] '%s' is listed twice", i, id);
                return GW_EINVAL;
            }
        p->fallback[p->n_fallback++] = gw_xstrdup(id);
    }
    return GW_OK;
}

/* One string setting of a provider. */
static gw_err apply_str(const char *key, const json_t *v, struct cfg_provider *p, char *msg,
                        size_t cap)
{
    const char *s = NULL;
    if (!get_str(v, key, &s, msg, cap))
        return GW_EINVAL;
    if (!strcmp(key, "api")) {
        for (size_t i = 0; s && i < GW_ARRAY_LEN(apis); i++)
            if (!strcmp(s, apis[i])) {
                p->api = (enum cfg_llm_api)i;
                return GW_OK;
            }
        snprintf(msg, cap, "api must be openai, anthropic or ollama");
        return GW_EINVAL;
    }
    if (!strcmp(key, "base_url")) {
        const char *why = s ? url_problem(s) : "is required";
        if (why) {
            snprintf(msg, cap, "base_url %s", why);
            return GW_EINVAL;
        }
        replace(&p->base_url, s);
        char *path = strstr(p->base_url, "//") + 2;
        path += strcspn(path, "/"); /* a trailing '/' of the path is cut, as in the file */
        for (size_t n = strlen(path); n > 0 && path[n - 1] == '/'; n--)
            path[n - 1] = '\0';
        return GW_OK;
    }
    if (!strcmp(key, "kind")) {
        if (s && strcmp(s, "external") != 0 && strcmp(s, "self_hosted") != 0) {
            snprintf(msg, cap, "kind must be external or self_hosted");
            return GW_EINVAL;
        }
        p->self_hosted = s && !strcmp(s, "self_hosted");
        return GW_OK;
    }
    if (!strcmp(key, "max_classification")) {
        p->max_classification = s ? pol_level_parse(s) : -1;
        if (s && p->max_classification < 0) {
            snprintf(msg, cap,
                     "max_classification must be public, internal, confidential or "
                     "restricted");
            return GW_EINVAL;
        }
        return GW_OK;
    }
    if (s && !cfg_visible(s, 64)) { /* region */
        snprintf(msg, cap, "region must be 1-64 visible ASCII characters (no spaces)");
        return GW_EINVAL;
    }
    replace(&p->region, s);
    return GW_OK;
}

static void copy_provider(const struct cfg_provider *src, struct cfg_provider *dst)
{
    *dst = *src;
    dst->name = NULL;
    dst->api_key = NULL;
    dst->models = NULL;
    dst->n_models = 0;
    dst->base_url = src->base_url ? gw_xstrdup(src->base_url) : NULL;
    dst->region = src->region ? gw_xstrdup(src->region) : NULL;
    dst->fallback = NULL;
    if (src->n_fallback) {
        dst->fallback = gw_xcalloc(src->n_fallback + 1, sizeof(*dst->fallback));
        for (size_t i = 0; i < src->n_fallback; i++)
            dst->fallback[i] = gw_xstrdup(src->fallback[i]);
    }
}

gw_err llm_spec_provider(const json_t *body, const struct cfg_provider *base,
                         struct cfg_provider *out, char *msg, size_t cap)
{
    copy_provider(base ? base : &cfg_provider_defaults, out);
    gw_err rc = GW_OK;
    if (!json_is_object(body)) {
        snprintf(msg, cap, "a provider must be a JSON object");
        rc = GW_EINVAL;
        goto out;
    }
    if (!base && (!json_is_string(json_object_get(body, "api")) ||
                  !json_is_string(json_object_get(body, "base_url")))) {
        snprintf(msg, cap, "api (openai, anthropic or ollama) and base_url are required");
        rc = GW_EINVAL;
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        const struct uint_field *f = NULL;
        for (size_t i = 0; i < GW_ARRAY_LEN(provider_uints) && !f; i++)
            if (!strcmp(key, provider_uints[i].key))
                f = &provider_uints[i];
        if (f)
            rc = get_uint(v, f->key, f->min, f->max,
                          *(const unsigned *)((const char *)&cfg_provider_defaults + f->off),
                          (unsigned *)((char *)out + f->off), msg, cap);
        else if (!strcmp(key, "limits"))
            rc = apply_limits(v, &out->limits, msg, cap);
        else if (!strcmp(key, "fallback"))
            rc = apply_fallback(v, out, msg, cap);
        else if (known_key(key, provider_strs, GW_ARRAY_LEN(provider_strs)))
            rc = apply_str(key, v, out, msg, cap);
        else if (!known_key(key, provider_other, GW_ARRAY_LEN(provider_other))) {
            snprintf(msg, cap,
                     "unknown field '%.40s' (api, base_url, api_key, kind, "
                     "max_classification, region, timeout_ms, connect_timeout_ms, retries, "
                     "retry_base_ms, fallback, limits, models, enabled)",
                     key);
            rc = GW_EINVAL;
        }
        if (rc != GW_OK)
            goto out;
    }
out:
    if (rc != GW_OK)
        llm_spec_provider_release(out);
    return rc;
}

void llm_spec_provider_release(struct cfg_provider *p)
{
    free(p->name);
    free(p->base_url);
    if (p->api_key)
        explicit_bzero(p->api_key, strlen(p->api_key));
    free(p->api_key);
    free(p->region);
    strv_free(p->fallback);
    *p = (struct cfg_provider){0};
}

json_t *llm_spec_provider_json(const struct cfg_provider *p)
{
    json_t *fb = json_array();
    for (size_t i = 0; i < p->n_fallback; i++)
        json_array_append_new(fb, json_string(p->fallback[i]));
    const struct cfg_provider_limits *l = &p->limits;
    return json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:I,s:I,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "api",
                     apis[p->api], "base_url", p->base_url ? p->base_url : "", "kind",
                     p->self_hosted ? "self_hosted" : "external", "max_classification",
                     p->max_classification >= 0 ? pol_level_name(p->max_classification) : NULL,
                     "region", p->region, "timeout_ms", (json_int_t)p->timeout_ms,
                     "connect_timeout_ms", (json_int_t)p->connect_timeout_ms, "retries",
                     (json_int_t)p->retries, "retry_base_ms", (json_int_t)p->retry_base_ms,
                     "fallback", fb, "limits", "max_concurrent", (json_int_t)l->max_concurrent,
                     "rpm", (json_int_t)l->rpm, "tpm", (json_int_t)l->tpm, "max_queue",
                     (json_int_t)l->max_queue, "max_wait_ms", (json_int_t)l->max_wait_ms);
}

static gw_err get_price(const json_t *v, const char *what, double *out, char *msg, size_t cap)
{
    if (json_is_null(v)) {
        *out = 0;
        return GW_OK;
    }
    double d = json_number_value(v);
    if (!json_is_number(v) || !isfinite(d) || d < 0 || d > MAX_PRICE) {
        snprintf(msg, cap, "%s must be a number of USD per million tokens from 0 to 1000000", what);
        return GW_EINVAL;
    }
    *out = d;
    return GW_OK;
}

gw_err llm_spec_model(const json_t *body, const char *name, const struct cfg_model *base,
                      struct cfg_model *out, char *msg, size_t cap)
{
    *out = (struct cfg_model){0};
    if (base)
        *out = (struct cfg_model){.upstream = gw_xstrdup(base->upstream),
                                  .input_per_mtok = base->input_per_mtok,
                                  .output_per_mtok = base->output_per_mtok};
    out->name = gw_xstrdup(name);
    gw_err rc = GW_OK;
    if (!cfg_model_name_valid(name)) {
        snprintf(msg, cap, "model name must be 1-128 characters of [A-Za-z0-9._:-]");
        rc = GW_EINVAL;
    } else if (body && !json_is_object(body)) {
        snprintf(msg, cap, "a model must be a JSON object");
        rc = GW_EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (rc != GW_OK)
            break;
        const char *s = NULL;
        if (!strcmp(key, "upstream")) {
            if (!get_str(v, "upstream", &s, msg, cap) || (s && !cfg_visible(s, 256))) {
                snprintf(msg, cap, "upstream must be 1-256 visible ASCII characters");
                rc = GW_EINVAL;
            } else {
                replace(&out->upstream, s);
            }
        } else if (!strcmp(key, "input_per_mtok")) {
            rc = get_price(v, key, &out->input_per_mtok, msg, cap);
        } else if (!strcmp(key, "output_per_mtok")) {
            rc = get_price(v, key, &out->output_per_mtok, msg, cap);
        } else if (!known_key(key, model_keys, GW_ARRAY_LEN(model_keys))) {
            snprintf(msg, cap,
                     "unknown field '%.40s' (id, upstream, input_per_mtok, "
                     "output_per_mtok, enabled)",
                     key);
            rc = GW_EINVAL;
        }
    }
    if (rc == GW_OK && !out->upstream)
        out->upstream = gw_xstrdup(name);
    if (rc != GW_OK)
        llm_spec_model_release(out);
    return rc;
}

void llm_spec_model_release(struct cfg_model *m)
{
    free(m->name);
    free(m->upstream);
    *m = (struct cfg_model){0};
}
