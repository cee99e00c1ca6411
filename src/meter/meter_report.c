/* SPDX-License-Identifier: MIT
 * meter_report.c — cost reports: one tenant's month by workspace (with its budget), by user and
 * by model, from the store's sums plus the rows still queued for it (read under the writer's
 * consistent view, so a row is counted exactly once).
 */
#include "base/prelude.h"
#include "meter/meter_int.h"
#include "base/mem.h"
#include "base/worker.h"
#include "store/store.h"

struct acc {
    json_t *ws, *user, *model; /* key → entry object */
    double total;
    int64_t requests, prompt, completion;
};

static double round6(double v)
{
    return meter_round(v, 1e6);
}

static void entry_add(json_t *map, const char *key, const char *field, const char *value,
                      const char *extra_field, const char *extra, int64_t requests, int64_t prompt,
                      int64_t completion, double usd)
{
    json_t *e = json_object_get(map, key);
    if (!e) {
        e = json_object(); /* the name first: members keep their order on the wire */
        json_object_set_new(e, field, value ? json_string(value) : json_null());
        if (extra_field)
            json_object_set_new(e, extra_field, extra ? json_string(extra) : json_null());
        json_object_set_new(e, "total_usd", json_real(0));
        json_object_set_new(e, "requests", json_integer(0));
        json_object_set_new(e, "prompt_tokens", json_integer(0));
        json_object_set_new(e, "completion_tokens", json_integer(0));
        json_object_set_new(map, key, e);
    }
    json_real_set(json_object_get(e, "total_usd"),
                  json_real_value(json_object_get(e, "total_usd")) + usd);
    const char *ints[] = {"requests", "prompt_tokens", "completion_tokens"};
    int64_t add[] = {requests, prompt, completion};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(e, ints[i]);
        json_integer_set(v, json_integer_value(v) + add[i]);
    }
}

static void acc_add(struct acc *a, const char *workspace, const char *user, const char *provider,
                    const char *model, int64_t requests, int64_t prompt, int64_t completion,
                    double usd)
{
    a->total += usd;
    a->requests += requests;
    a->prompt += prompt;
    a->completion += completion;
    entry_add(a->ws, workspace, "workspace", workspace, NULL, NULL, requests, prompt, completion,
              usd);
    /* "\x01" cannot be a user id: it keys the rows recorded without one */
    entry_add(a->user, user ? user : "\x01", "user", user, NULL, NULL, requests, prompt, completion,
              usd);
    char *id = gw_xasprintf("%s/%s", provider, model);
    entry_add(a->model, id, "model", id, "provider", provider, requests, prompt, completion, usd);
    free(id);
}

static int by_cost_desc(const void *pa, const void *pb)
{
    const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    double x = json_real_value(json_object_get(a, "total_usd"));
    double y = json_real_value(json_object_get(b, "total_usd"));
    if (x != y)
        return x > y ? -1 : 1;
    return strcmp(json_string_value(json_object_get(a, "_key")),
                  json_string_value(json_object_get(b, "_key")));
}

/* The entries of map as an array, most expensive first (then by key), costs rounded. */
static json_t *sorted(json_t *map)
{
    size_t n = json_object_size(map), i = 0;
    json_t **v = gw_xcalloc(n ? n : 1, sizeof *v);
    const char *key;
    json_t *e;
    json_object_foreach(map, key, e) {
        json_object_set_new(e, "_key", json_string(key));
        v[i++] = e;
    }
    qsort(v, n, sizeof *v, by_cost_desc);
    json_t *arr = json_array();
    for (i = 0; i < n; i++) {
        json_object_del(v[i], "_key");
        json_real_set(json_object_get(v[i], "total_usd"),
                      round6(json_real_value(json_object_get(v[i], "total_usd"))));
        json_array_append(arr, v[i]);
    }
    free(v);
    return arr;
}

static json_t *budget_json(const struct cfg *c, const struct cfg_budget *b, double spent)
{
    if (!b)
        return json_null();
    double pct = b->monthly_usd_limit > 0 ? spent * 100 / b->monthly_usd_limit : 0;
    const char *status = "ok";
    if (b->monthly_usd_limit > 0 && spent >= b->monthly_usd_limit)
        status = "exceeded";
    else if (b->monthly_usd_limit > 0 && spent >= b->alert_threshold * b->monthly_usd_limit)
        status = "threshold";
    return json_pack("{s:f,s:f,s:s,s:f,s:s,s:b}", "monthly_usd_limit", b->monthly_usd_limit,
                     "alert_threshold", b->alert_threshold, "on_exceed",
                     b->on_exceed == CFG_EXCEED_DISABLE ? "disable" : "alert", "used_pct",
                     meter_round(pct, 10), "status", status, "enforced",
                     c->costs_enabled && b->on_exceed == CFG_EXCEED_DISABLE);
}

struct queued_filter {
    struct acc *a;
    const char *tenant, *period, *workspace;
    meter_visible_fn *visible;
    void *arg;
};

static void add_queued(void *arg, const void *item)
{
    const struct queued_filter *f = arg;
    const struct meter_row *w = item;
    if (strcmp(w->r.tenant, f->tenant) != 0 || strcmp(w->month, f->period) != 0 ||
        (f->workspace && strcmp(w->r.workspace, f->workspace) != 0) ||
        (f->visible && !f->visible(w->r.workspace, f->arg)))
        return;
    acc_add(f->a, w->r.workspace, w->r.user_id, w->r.provider, w->r.model, 1, w->r.prompt_tokens,
            w->r.completion_tokens, w->r.cost_usd);
}

json_t *meter_report(struct meter *k, const char *tenant, const char *period, const char *workspace)
{
    return meter_report_visible(k, tenant, period, workspace, NULL, NULL);
}

json_t *meter_report_visible(struct meter *k, const char *tenant, const char *period,
                             const char *workspace, meter_visible_fn *visible, void *arg)
{
    if (!k || !tenant || meter_period_parse(period) < 0)
        return NULL;
    struct acc a = {json_object(), json_object(), json_object(), 0, 0, 0, 0};
    struct store_usage_sum *sums = NULL;
    size_t n = 0;

    gw_worker_view_begin(meter_writer(k)); /* no batch moves to the store meanwhile */
    gw_err rc = store_usage_month(meter_store(k), tenant, period, workspace, &sums, &n);
    if (rc == GW_OK) {
        for (size_t i = 0; i < n; i++) {
            if (visible && !(sums[i].workspace && visible(sums[i].workspace, arg)))
                continue;
            acc_add(&a, sums[i].workspace ? sums[i].workspace : METER_NO_WORKSPACE, sums[i].user_id,
                    sums[i].provider ? sums[i].provider : METER_NO_WORKSPACE,
                    sums[i].model ? sums[i].model : METER_NO_WORKSPACE, sums[i].requests,
                    sums[i].prompt_tokens, sums[i].completion_tokens, sums[i].cost_usd);
        }
        struct queued_filter f = {&a, tenant, period, workspace, visible, arg}; /* queued */
        gw_worker_foreach(meter_writer(k), add_queued, &f);
    }
    gw_worker_view_end(meter_writer(k));
    store_usage_sums_free(sums, n);
    if (rc != GW_OK) {
        json_decref(a.ws);
        json_decref(a.user);
        json_decref(a.model);
        return NULL;
    }

    struct cfg *c = meter_config(k);
    /* budgeted workspaces appear even before their first call */
    for (size_t i = 0; i < c->n_budgets; i++) {
        const char *w = c->budgets[i].workspace;
        if ((!workspace || strcmp(workspace, w) == 0) && !json_object_get(a.ws, w) &&
            (!visible || visible(w, arg)))
            entry_add(a.ws, w, "workspace", w, NULL, NULL, 0, 0, 0, 0);
    }
    json_t *by_ws = sorted(a.ws);
    size_t i;
    json_t *e;
    json_array_foreach(by_ws, i, e) {
        const char *w = json_string_value(json_object_get(e, "workspace"));
        double usd = json_real_value(json_object_get(e, "total_usd"));
        json_object_set_new(e, "budget", budget_json(c, cfg_find_budget(c, w), usd));
    }
    json_t *out = json_pack("{s:s,s:s,s:o,s:f,s:I,s:I,s:I,s:o,s:o,s:o}", "period", period,
                            "currency", meter_currency(c), "workspace",
                            workspace ? json_string(workspace) : json_null(), "total_usd",
                            round6(a.total), "requests", (json_int_t)a.requests, "prompt_tokens",
                            (json_int_t)a.prompt, "completion_tokens", (json_int_t)a.completion,
                            "by_workspace", by_ws, "by_user", sorted(a.user), "by_model",
                            sorted(a.model));
    cfg_unref(c);
    json_decref(a.ws);
    json_decref(a.user);
    json_decref(a.model);
    return out;
}
