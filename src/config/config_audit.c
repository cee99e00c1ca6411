/* SPDX-License-Identifier: MIT
 * config_audit.c — the audit section.
 *
 * Keys are seed 003's (enabled, log_path, log_level, rotate_daily, retain_days, log_content,
 * export_format) plus seed 001's piiFields/piiHandling, siem (config_siem.c), checkpoint_every
 * (no longer used: every commit is signed; accepted so older files still load) and witness
 * (url, token: where every new signed head is posted). Only these: seed 001's retentionDays,
 * backend or logLevel are refused by name rather than half-supported.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum {
    AD_ENABLED,
    AD_LOG_PATH,
    AD_LOG_LEVEL,
    AD_ROTATE,
    AD_RETAIN,
    AD_CONTENT,
    AD_EXPORT,
    AD_PII_FIELDS,
    AD_PII_HANDLING,
    AD_CHECKPOINT,
    AD_WITNESS,
    AD_SIEM,
    AD__N
};
const char *const cfg_keys_audit[] = {
    [AD_ENABLED] = "enabled",
    [AD_LOG_PATH] = "log_path",
    [AD_LOG_LEVEL] = "log_level",
    [AD_ROTATE] = "rotate_daily",
    [AD_RETAIN] = "retain_days",
    [AD_CONTENT] = "log_content",
    [AD_EXPORT] = "export_format",
    [AD_PII_FIELDS] = "piiFields",
    [AD_PII_HANDLING] = "piiHandling",
    [AD_CHECKPOINT] = "checkpoint_every",
    [AD_WITNESS] = "witness",
    [AD_SIEM] = "siem",
    [AD__N] = NULL,
};

enum { WI_URL, WI_TOKEN, WI__N };
const char *const cfg_keys_witness[] = {[WI_URL] = "url", [WI_TOKEN] = "token", [WI__N] = NULL};
static const char *const http_schemes[] = {"http", "https", NULL};

static void load_witness(struct cfg_errlist *e, const struct cfg_node *n, struct cfg *c)
{
    const struct cfg_node *v[WI__N];
    if (!cfg_map_slots(e, n, "audit.witness", cfg_keys_witness, v, NULL))
        return;
    cfg_get_url(e, v[WI_URL], "audit.witness.url", http_schemes, CFG_URL_QUERY,
                &c->audit_witness_url);
    cfg_get_str(e, v[WI_TOKEN], "audit.witness.token", &c->audit_witness_token);
    if (!c->audit_witness_url && c->audit_witness_token)
        cfg_err(e, n->line, "audit.witness.token needs audit.witness.url");
}

static const char *const log_levels[] = {"audit", "full", "metadata", NULL};
static const char *const export_formats[] = {"json", "jsonl", "csv", NULL};
static const char *const pii_modes[] = {"plain", "hash", "omit", NULL};

static bool field_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

void cfg_load_audit(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[AD__N];
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    char shown[80];
    if (!cfg_map_slots(e, n, "audit", cfg_keys_audit, v, NULL))
        return;

    cfg_get_bool(e, v[AD_ENABLED], "audit.enabled", &c->audit_enabled);
    cfg_get_path(e, v[AD_LOG_PATH], "audit.log_path", c->data_dir, &c->audit_log_path);
    cfg_get_enum(e, v[AD_LOG_LEVEL], "audit.log_level", log_levels, &c->audit_log_level);
    cfg_get_bool(e, v[AD_ROTATE], "audit.rotate_daily", &c->audit_rotate_daily);
    cfg_get_uint(e, v[AD_RETAIN], "audit.retain_days", 0, 36500, &c->audit_retain_days);
    cfg_get_bool(e, v[AD_CONTENT], "audit.log_content", &c->audit_log_content);
    cfg_get_enum(e, v[AD_EXPORT], "audit.export_format", export_formats, &c->audit_export_format);
    cfg_get_uint(e, v[AD_CHECKPOINT], "audit.checkpoint_every", 1, 1000000, &c->checkpoint_every);
    load_witness(e, v[AD_WITNESS], c);
    cfg_load_siem(L, v[AD_SIEM]);

    char *mode = NULL;
    if (cfg_get_enum(e, v[AD_PII_HANDLING], "audit.piiHandling", pii_modes, &mode) && mode)
        c->pii_handling = !strcmp(mode, "hash")   ? CFG_PII_HASH
                          : !strcmp(mode, "omit") ? CFG_PII_OMIT
                                                  : CFG_PII_PLAIN;
    free(mode);

    if (cfg_get_strlist(e, v[AD_PII_FIELDS], "audit.piiFields", &c->pii_fields, &c->n_pii_fields))
        for (size_t i = 0; i < c->n_pii_fields; i++)
            if (!field_ok(c->pii_fields[i]))
                cfg_err(e, v[AD_PII_FIELDS]->vals[i]->line,
                        "audit.piiFields[%zu] '%s' is not a field name (1-64 characters of "
                        "[A-Za-z0-9_.-])",
                        i, cfg_shown(c->pii_fields[i], shown, sizeof(shown)));
}
