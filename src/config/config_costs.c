/* SPDX-License-Identifier: MIT
 * config_costs.c — the costManagement section (seed 001 key names): monthly budgets per
 * workspace (= namespace), when to alert and what to do once a budget is spent.
 *
 * Prices are USD (models.providers[].models[]), so USD is the only currency: another one is
 * refused rather than silently treated as dollars. Per-budget alertThreshold and alertEmail
 * fall back to the section's values here, at load, so readers of a budget need not look
 * anywhere else. The SMTP password never appears in a message.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum { CO_ENABLED, CO_CURRENCY, CO_THRESHOLD, CO_EMAIL, CO_WEBHOOK, CO_SMTP, CO_BUDGETS, CO__N };
const char *const cfg_keys_costs[] = {
    [CO_ENABLED] = "enabled",          [CO_CURRENCY] = "currency",
    [CO_THRESHOLD] = "alertThreshold", [CO_EMAIL] = "alertEmail",
    [CO_WEBHOOK] = "alertWebhook",     [CO_SMTP] = "smtp",
    [CO_BUDGETS] = "budgets",          [CO__N] = NULL,
};

enum { SM_URL, SM_FROM, SM_USER, SM_PASSWORD, SM__N };
const char *const cfg_keys_smtp[] = {[SM_URL] = "url",
                                     [SM_FROM] = "from",
                                     [SM_USER] = "username",
                                     [SM_PASSWORD] = "password",
                                     [SM__N] = NULL};

enum { BU_LIMIT, BU_EXCEED, BU_THRESHOLD, BU_EMAIL, BU__N };
const char *const cfg_keys_budget[] = {[BU_LIMIT] = "monthlyUsdLimit",
                                       [BU_EXCEED] = "onExceed",
                                       [BU_THRESHOLD] = "alertThreshold",
                                       [BU_EMAIL] = "alertEmail",
                                       [BU__N] = NULL};

static const char *const on_exceed[] = {"alert", "disable", NULL};
static const char *const http_schemes[] = {"http", "https", NULL};
static const char *const smtp_schemes[] = {"smtp", "smtps", NULL};

#define MAX_MONTHLY_USD 1e12

/* Printable, no spaces, one '@' with text on both sides. */
static bool email_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 3 || n > 256 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

static void get_email(struct cfg_errlist *e, const struct cfg_node *n, const char *what, char **out)
{
    if (cfg_get_str(e, n, what, out) && *out && !cfg_is_null(n) && !email_ok(*out)) {
        cfg_err(e, n->line, "%s is not an e-mail address", what);
        free(*out);
        *out = NULL;
    }
}

static void load_smtp(struct cfg_loader *L, const struct cfg_node *n, int keyline)
{
    const struct cfg_node *v[SM__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    if (!cfg_map_slots(e, n, "costManagement.smtp", cfg_keys_smtp, v, NULL))
        return;
    cfg_get_url(e, v[SM_URL], "costManagement.smtp.url", smtp_schemes, CFG_URL_NO_SLASH,
                &c->smtp_url);
    get_email(e, v[SM_FROM], "costManagement.smtp.from", &c->smtp_from);
    cfg_get_str(e, v[SM_USER], "costManagement.smtp.username", &c->smtp_username);
    cfg_get_str(e, v[SM_PASSWORD], "costManagement.smtp.password", &c->smtp_password);

    if (cfg_is_null(v[SM_URL])) {
        if (!cfg_is_null(v[SM_FROM]) || !cfg_is_null(v[SM_USER]) || !cfg_is_null(v[SM_PASSWORD]))
            cfg_err(e, keyline,
                    "costManagement.smtp.url is required when smtp is configured "
                    "(smtp://host:port or smtps://host:port)");
        return;
    }
    if (cfg_is_null(v[SM_FROM]))
        cfg_err(e, v[SM_URL]->line,
                "costManagement.smtp.from is required when costManagement.smtp.url is set");
    if (cfg_is_null(v[SM_USER]) != cfg_is_null(v[SM_PASSWORD]))
        cfg_err(e, keyline, "costManagement.smtp.username and password must be set together");
}

static void load_budgets(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80], what[128];
    if (cfg_is_null(n) || n->bad)
        return;
    if (n->kind != CFG_NODE_MAP) {
        cfg_err(e, n->line, "costManagement.budgets must be a mapping of workspace to budget");
        return;
    }
    c->budgets = gw_xcalloc(n->n ? n->n : 1, sizeof(*c->budgets));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *key = n->keys[i], *item = n->vals[i];
        const struct cfg_node *v[BU__N];
        if (key->bad)
            continue;
        cfg_shown(key->str, shown, sizeof(shown));
        if (!cfg_name_valid(key->str)) {
            cfg_err(e, key->line,
                    "costManagement.budgets: workspace name '%s' is not valid (1-63 characters "
                    "of [a-z0-9_-], starting with a letter or digit)",
                    shown);
            continue;
        }
        if (cfg_find_budget(c, key->str))
            continue; /* duplicate key, reported by the parser */
        snprintf(what, sizeof(what), "costManagement.budgets.%s", shown);
        if (!cfg_map_slots(e, item, what, cfg_keys_budget, v, NULL)) {
            if (cfg_is_null(item))
                cfg_err(e, key->line, "%s must be a mapping with monthlyUsdLimit", what);
            continue;
        }
        struct cfg_budget b = {.on_exceed = CFG_EXCEED_ALERT,
                               .alert_threshold = c->alert_threshold};
        snprintf(what, sizeof(what), "costManagement.budgets.%s.monthlyUsdLimit", shown);
        if (cfg_is_null(v[BU_LIMIT]))
            cfg_err(e, key->line, "%s is required (USD per calendar month, > 0)", what);
        else
            cfg_get_double(e, v[BU_LIMIT], what, 0, true, MAX_MONTHLY_USD, &b.monthly_usd_limit);

        char *s = NULL;
        snprintf(what, sizeof(what), "costManagement.budgets.%s.onExceed", shown);
        if (cfg_get_enum(e, v[BU_EXCEED], what, on_exceed, &s) && s)
            b.on_exceed = !strcmp(s, "disable") ? CFG_EXCEED_DISABLE : CFG_EXCEED_ALERT;
        free(s);

        snprintf(what, sizeof(what), "costManagement.budgets.%s.alertThreshold", shown);
        cfg_get_double(e, v[BU_THRESHOLD], what, 0, true, 1, &b.alert_threshold);
        snprintf(what, sizeof(what), "costManagement.budgets.%s.alertEmail", shown);
        get_email(e, v[BU_EMAIL], what, &b.alert_email);
        if (!b.alert_email && c->alert_email && cfg_is_null(v[BU_EMAIL]))
            b.alert_email = gw_xstrdup(c->alert_email);

        b.workspace = gw_xstrdup(key->str);
        c->budgets[c->n_budgets++] = b;
    }
    if (c->n_budgets == 0) {
        free(c->budgets);
        c->budgets = NULL;
    }
}

void cfg_load_costs(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[CO__N];
    int keyline[CO__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80];
    if (!cfg_map_slots(e, n, "costManagement", cfg_keys_costs, v, keyline))
        return;

    cfg_get_bool(e, v[CO_ENABLED], "costManagement.enabled", &c->costs_enabled);
    char *cur = NULL;
    if (cfg_get_str(e, v[CO_CURRENCY], "costManagement.currency", &cur) && cur) {
        if (strcmp(cur, "USD") != 0)
            cfg_err(e, v[CO_CURRENCY]->line,
                    "costManagement.currency '%s' is not supported: model prices and budgets "
                    "are in USD (the only currency)",
                    cfg_shown(cur, shown, sizeof(shown)));
        free(cur);
    }
    cfg_get_double(e, v[CO_THRESHOLD], "costManagement.alertThreshold", 0, true, 1,
                   &c->alert_threshold);
    get_email(e, v[CO_EMAIL], "costManagement.alertEmail", &c->alert_email);
    cfg_get_url(e, v[CO_WEBHOOK], "costManagement.alertWebhook", http_schemes, CFG_URL_QUERY,
                &c->alert_webhook);
    load_smtp(L, v[CO_SMTP], keyline[CO_SMTP]);
    load_budgets(L, v[CO_BUDGETS]); /* last: budgets default to the values above */
}
