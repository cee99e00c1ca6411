/* SPDX-License-Identifier: MIT
 * config_siem.c — audit.siem: the destinations the audit trail is forwarded to (src/audit/fwd).
 *
 * Seed 001's block {enabled, endpoint, format: cef|leef|json, apiKey} is one destination named
 * "siem" (or its name); `destinations` lists more, each with the same keys plus a name. The
 * endpoint's scheme chooses the transport: tcp:// and tls:// are syslog (RFC 5424, octet
 * counting), https:// is an HTTP POST (http:// only on loopback). hec and ecs are HTTP-only
 * envelopes. The API key goes into a header, so it must be visible ASCII (no CR/LF); it is never
 * quoted in messages.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

enum {
    SD_NAME,
    SD_ENABLED,
    SD_ENDPOINT,
    SD_FORMAT,
    SD_API_KEY,
    SD_CA_FILE,
    SD_INDEX,
    SD_BATCH,
    SD_BACKOFF,
    SD_FACILITY,
    SD_START,
    SD_DESTS,
    SD__N
};
const char *const cfg_keys_siem[] = {
    [SD_NAME] = "name",
    [SD_ENABLED] = "enabled",
    [SD_ENDPOINT] = "endpoint",
    [SD_FORMAT] = "format",
    [SD_API_KEY] = "apiKey",
    [SD_CA_FILE] = "ca_file",
    [SD_INDEX] = "index",
    [SD_BATCH] = "batch_size",
    [SD_BACKOFF] = "max_backoff_s",
    [SD_FACILITY] = "facility",
    [SD_START] = "start",
    [SD_DESTS] = "destinations",
    [SD__N] = NULL,
};

#define SIEM_MAX_DESTS 8 /* a worker thread each */

static const char *const formats[] = {"cef", "leef", "json", "hec", "ecs", "ocsf", NULL};
static const char *const starts[] = {"oldest", "now", NULL};
static const char *const schemes[] = {"tcp", "tls", "https", "http", NULL};

static void dest_free(struct cfg_siem_dest *d)
{
    free(d->name);
    free(d->endpoint);
    free(d->format);
    if (d->api_key) /* a secret */
        explicit_bzero(d->api_key, strlen(d->api_key));
    free(d->api_key);
    free(d->ca_file);
    free(d->index);
}

void cfg_siem_free(struct cfg_siem *s)
{
    for (size_t i = 0; i < s->n_dests; i++)
        dest_free(&s->dests[i]);
    free(s->dests);
    s->dests = NULL;
    s->n_dests = 0;
}

/* One destination's keys from v (the seed block or a list entry); what names it in messages.
 * False when it has no endpoint (nothing to forward to). */
static bool load_dest(struct cfg_loader *L, const struct cfg_node *const *v, int line,
                      const char *what, struct cfg_siem_dest *d)
{
    struct cfg_errlist *e = L->errs;
    char key[96];
    bool enabled = true;
#define KEY(k) (snprintf(key, sizeof key, "%s.%s", what, k), key)
    cfg_get_bool(e, v[SD_ENABLED], KEY("enabled"), &enabled);
    cfg_get_url(e, v[SD_ENDPOINT], KEY("endpoint"), schemes, 0, &d->endpoint);
    if (d->endpoint && !strncmp(d->endpoint, "http://", 7) && !cfg_loopback_url(d->endpoint))
        cfg_err(e, v[SD_ENDPOINT]->line,
                "%s must be an https:// URL (http:// is only allowed on loopback)", key);
    cfg_get_enum(e, v[SD_FORMAT], KEY("format"), formats, &d->format);
    if (!d->format)
        d->format = gw_xstrdup("json");
    if (cfg_get_str(e, v[SD_API_KEY], KEY("apiKey"), &d->api_key) && d->api_key &&
        !*d->api_key) { /* "${KEY:-}" unset: no key */
        free(d->api_key);
        d->api_key = NULL;
    } else if (d->api_key && !cfg_visible(d->api_key, 4096))
        cfg_err(e, v[SD_API_KEY]->line, "%s must be 1-4096 visible ASCII characters", key);
    cfg_get_path(e, v[SD_CA_FILE], KEY("ca_file"), L->c->data_dir, &d->ca_file);
    if (cfg_get_str(e, v[SD_INDEX], KEY("index"), &d->index) && d->index &&
        !cfg_visible(d->index, 255))
        cfg_err(e, v[SD_INDEX]->line, "%s must be 1-255 visible ASCII characters", key);
    d->batch = 500;
    cfg_get_uint(e, v[SD_BATCH], KEY("batch_size"), 1, 10000, &d->batch);
    d->max_backoff_s = 60;
    cfg_get_uint(e, v[SD_BACKOFF], KEY("max_backoff_s"), 1, 3600, &d->max_backoff_s);
    d->facility = 13;
    cfg_get_uint(e, v[SD_FACILITY], KEY("facility"), 0, 23, &d->facility);
    char *start = NULL;
    cfg_get_enum(e, v[SD_START], KEY("start"), starts, &start);
    d->from_now = start && !strcmp(start, "now");
    free(start);
    bool http = d->endpoint && !strncmp(d->endpoint, "http", 4);
    if (d->endpoint && !http && (!strcmp(d->format, "hec") || !strcmp(d->format, "ecs")))
        cfg_err(e, v[SD_FORMAT]->line, "%s: %s is sent over HTTP: use an https:// endpoint",
                KEY("format"), d->format);
    /* an empty block configures nothing; anything else needs somewhere to send to */
    bool asked = v[SD_ENABLED] || v[SD_FORMAT] || v[SD_API_KEY] || v[SD_NAME];
    if (!d->endpoint && enabled && !v[SD_DESTS] && asked)
        cfg_err(e, line, "%s needs an endpoint", what);
#undef KEY
    return enabled && d->endpoint;
}

static void add_dest(struct cfg_siem *s, struct cfg_siem_dest *d)
{
    s->dests = gw_xrealloc(s->dests, (s->n_dests + 1) * sizeof *s->dests);
    s->dests[s->n_dests++] = *d;
}

void cfg_load_siem(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg_siem *s = &L->c->siem;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[SD__N];
    char shown[80];
    if (!cfg_map_slots(e, n, "audit.siem", cfg_keys_siem, v, NULL))
        return;
    s->enabled = true;
    cfg_get_bool(e, v[SD_ENABLED], "audit.siem.enabled", &s->enabled);
    struct cfg_siem_dest d = {0};
    if ((v[SD_ENDPOINT] || !v[SD_DESTS]) && load_dest(L, v, n->line, "audit.siem", &d)) {
        cfg_get_str(e, v[SD_NAME], "audit.siem.name", &d.name);
        if (d.name && !cfg_name_valid(d.name))
            cfg_err(e, v[SD_NAME]->line, "audit.siem.name must be [a-z0-9][a-z0-9_-]{0,62}");
        if (!d.name)
            d.name = gw_xstrdup("siem");
        add_dest(s, &d);
    } else {
        dest_free(&d);
    }
    if (!cfg_want_seq(e, v[SD_DESTS], "audit.siem.destinations"))
        goto out;
    for (size_t i = 0; i < v[SD_DESTS]->n; i++) {
        const struct cfg_node *item = v[SD_DESTS]->vals[i], *w[SD__N];
        char what[64];
        snprintf(what, sizeof what, "audit.siem.destinations[%zu]", i);
        if (!cfg_map_slots(e, item, what, cfg_keys_siem, w, NULL)) {
            if (cfg_is_null(item))
                cfg_err(e, item->line, "%s must be a mapping", what);
            continue;
        }
        if (w[SD_DESTS])
            cfg_err(e, w[SD_DESTS]->line, "%s: destinations do not nest", what);
        struct cfg_siem_dest x = {0};
        cfg_get_str(e, w[SD_NAME], "name", &x.name);
        if (!x.name || !cfg_name_valid(x.name)) {
            cfg_err(e, w[SD_NAME] ? w[SD_NAME]->line : item->line,
                    "%s.name is required: [a-z0-9][a-z0-9_-]{0,62}", what);
            dest_free(&x);
            continue;
        }
        for (size_t j = 0; j < s->n_dests; j++)
            if (!strcmp(s->dests[j].name, x.name))
                cfg_err(e, w[SD_NAME]->line, "%s.name '%s' is used twice", what,
                        cfg_shown(x.name, shown, sizeof shown));
        if (load_dest(L, w, item->line, what, &x))
            add_dest(s, &x);
        else
            dest_free(&x);
    }
out:
    if (s->n_dests > SIEM_MAX_DESTS)
        cfg_err(e, n->line, "audit.siem: at most %d destinations", SIEM_MAX_DESTS);
}
