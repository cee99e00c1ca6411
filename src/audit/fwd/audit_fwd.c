/* SPDX-License-Identifier: MIT
 * audit_fwd.c — the SIEM forwarding hub: one forwarder in the audit writer's slot that wakes
 * every destination's worker, the destinations built from audit.siem, reload and status.
 *
 * The writer calls committed() after each batch under its own lock; the hub only takes a read
 * lock and kicks workers, so a slow SIEM never holds up a commit. A reload that changes the
 * destinations takes the list out under the write lock, stops the old workers outside it (each
 * may be finishing a delivery), then starts the new ones from the stored cursors.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "audit/audit_sink.h"
#include "base/log.h"
#include "base/mem.h"

#include <pthread.h>
#include <unistd.h>

struct audit_fwd {
    struct audit *audit;
    struct store *st;
    struct net_loop *net;
    char host[256];
    char *node;            /* cluster.node_id: names the leader of each destination */
    pthread_rwlock_t lock; /* guards dests and the configuration they came from */
    struct audit_fwd_dest *dests;
    size_t n;
    struct cfg_siem cfg; /* a copy of what dests were built from (names, endpoints ...) */
};

static void committed(void *arg, const char *tenant, int64_t seq)
{
    struct audit_fwd *f = arg;
    pthread_rwlock_rdlock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        audit_fwd_dest_committed(&f->dests[i], tenant, seq);
    pthread_rwlock_unlock(&f->lock);
}

static const struct audit_forwarder_ops hub_ops = {.name = "siem", .committed = committed};

static char *dup_or_null(const char *s)
{
    return s ? gw_xstrdup(s) : NULL;
}

static void dest_cfg_free(struct audit_fwd_dest_cfg *c)
{
    free(c->name);
    free(c->endpoint);
    if (c->api_key)
        explicit_bzero(c->api_key, strlen(c->api_key));
    free(c->api_key);
    free(c->ca_file);
    free(c->index);
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_cfg(const struct cfg_siem *a, const struct cfg_siem *b)
{
    size_t na = a->enabled ? a->n_dests : 0, nb = b->enabled ? b->n_dests : 0;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const struct cfg_siem_dest *x = &a->dests[i], *y = &b->dests[i];
        if (!same_str(x->name, y->name) || !same_str(x->endpoint, y->endpoint) ||
            !same_str(x->format, y->format) || !same_str(x->api_key, y->api_key) ||
            !same_str(x->ca_file, y->ca_file) || !same_str(x->index, y->index) ||
            x->batch != y->batch || x->max_backoff_s != y->max_backoff_s ||
            x->facility != y->facility || x->from_now != y->from_now)
            return false;
    }
    return true;
}

static void copy_cfg(struct cfg_siem *to, const struct cfg_siem *c)
{
    to->enabled = c->enabled;
    to->n_dests = c->enabled ? c->n_dests : 0;
    to->dests = gw_xcalloc(to->n_dests + 1, sizeof *to->dests);
    for (size_t i = 0; i < to->n_dests; i++) {
        const struct cfg_siem_dest *x = &c->dests[i];
        to->dests[i] = *x;
        to->dests[i].name = gw_xstrdup(x->name);
        to->dests[i].endpoint = gw_xstrdup(x->endpoint);
        to->dests[i].format = gw_xstrdup(x->format);
        to->dests[i].api_key = dup_or_null(x->api_key);
        to->dests[i].ca_file = dup_or_null(x->ca_file);
        to->dests[i].index = dup_or_null(x->index);
    }
}

static void free_cfg(struct cfg_siem *c)
{
    for (size_t i = 0; i < c->n_dests; i++) {
        struct cfg_siem_dest *x = &c->dests[i];
        struct audit_fwd_dest_cfg tmp = {.name = x->name,
                                         .endpoint = x->endpoint,
                                         .api_key = x->api_key,
                                         .ca_file = x->ca_file,
                                         .index = x->index};
        dest_cfg_free(&tmp);
        free(x->format);
    }
    free(c->dests);
    memset(c, 0, sizeof *c);
}

/* Builds and starts the workers of c's destinations. */
static struct audit_fwd_dest *start_dests(struct audit_fwd *f, const struct cfg_siem *c, size_t *n)
{
    char **tenants = NULL;
    size_t nt = 0;
    *n = c->enabled ? c->n_dests : 0;
    if (*n && store_audit_tenants(f->st, &tenants, &nt) != GW_OK)
        gw_warn("siem: cannot list the audit chains; forwarding starts with the next event");
    struct audit_fwd_dest *d = gw_xcalloc(*n + 1, sizeof *d);
    for (size_t i = 0; i < *n; i++) {
        const struct cfg_siem_dest *x = &c->dests[i];
        bool stream = strncmp(x->endpoint, "http", 4) != 0;
        d[i] = (struct audit_fwd_dest){
            .cfg = {.name = gw_xstrdup(x->name),
                    .endpoint = gw_xstrdup(x->endpoint),
                    .api_key = dup_or_null(x->api_key),
                    .ca_file = dup_or_null(x->ca_file),
                    .index = dup_or_null(x->index),
                    .fmt = audit_fwd_format_find(x->format),
                    .tr = stream ? &audit_fwd_syslog : &audit_fwd_http,
                    .batch = x->batch,
                    .max_backoff_s = x->max_backoff_s,
                    .facility = x->facility,
                    .from_now = x->from_now},
            .st = f->st,
            .audit = f->audit,
            .net = f->net,
            .env = {.host = f->host, .node = f->node, .index = NULL},
        };
        d[i].env.index = d[i].cfg.index;
        if (!d[i].cfg.fmt)
            d[i].cfg.fmt = &audit_fwd_json;
        if (audit_fwd_dest_start(&d[i], tenants, nt) != GW_OK)
            gw_error("siem %s: cannot start its worker", x->name);
        else
            gw_info("siem %s: forwarding %s to %s", x->name, d[i].cfg.fmt->name, x->endpoint);
    }
    store_strv_free(tenants, nt);
    return d;
}

static void stop_dests(struct audit_fwd_dest *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        audit_fwd_dest_stop(&d[i]);
        dest_cfg_free(&d[i].cfg);
    }
    free(d);
}

gw_err audit_fwd_open(struct audit *a, struct store *st, struct net_loop *net,
                      const struct cfg_siem *c, const char *node_id, struct audit_fwd **out)
{
    struct audit_fwd *f = gw_xcalloc(1, sizeof *f);
    f->node = gw_xstrdup(node_id && node_id[0] ? node_id : "node");
    f->audit = a;
    f->st = st;
    f->net = net;
    if (gethostname(f->host, sizeof f->host - 1) != 0 || !f->host[0])
        snprintf(f->host, sizeof f->host, "openclaw-gateway");
    pthread_rwlock_init(&f->lock, NULL);
    copy_cfg(&f->cfg, c);
    f->dests = start_dests(f, &f->cfg, &f->n);
    gw_err rc = audit_forwarder_add(a, &hub_ops, f);
    if (rc != GW_OK) {
        audit_fwd_close(f);
        return rc;
    }
    *out = f;
    return GW_OK;
}

void audit_fwd_reload(struct audit_fwd *f, const struct cfg_siem *c)
{
    if (same_cfg(&f->cfg, c))
        return;
    /* the old workers stop before the new ones start, so no destination runs twice; commits
     * meanwhile are found by the new workers' first look at the store */
    pthread_rwlock_wrlock(&f->lock);
    struct audit_fwd_dest *old = f->dests;
    size_t n_old = f->n;
    f->dests = NULL;
    f->n = 0;
    pthread_rwlock_unlock(&f->lock);
    stop_dests(old, n_old);
    struct cfg_siem next = {0};
    copy_cfg(&next, c);
    size_t n = 0;
    struct audit_fwd_dest *d = start_dests(f, &next, &n);
    pthread_rwlock_wrlock(&f->lock);
    struct cfg_siem old_cfg = f->cfg;
    f->dests = d;
    f->n = n;
    f->cfg = next;
    pthread_rwlock_unlock(&f->lock);
    free_cfg(&old_cfg);
    gw_info("siem: %zu destination(s) after reload", n);
}

void audit_fwd_close(struct audit_fwd *f)
{
    if (!f)
        return;
    audit_forwarder_remove(f->audit, f);
    stop_dests(f->dests, f->n);
    free_cfg(&f->cfg);
    pthread_rwlock_destroy(&f->lock);
    free(f->node);
    free(f);
}

const char *audit_fwd_state(struct audit_fwd *f)
{
    if (!f)
        return "disabled";
    pthread_rwlock_rdlock(&f->lock);
    const char *s = f->n ? "healthy" : "disabled";
    for (size_t i = 0; i < f->n; i++)
        if (f->dests[i].priv && audit_fwd_dest_failing(&f->dests[i]))
            s = "degraded";
    pthread_rwlock_unlock(&f->lock);
    return s;
}

json_t *audit_fwd_status(struct audit_fwd *f, const char *tenant)
{
    json_t *a = json_array();
    if (!f)
        return a;
    pthread_rwlock_rdlock(&f->lock);
    for (size_t i = 0; i < f->n; i++)
        if (f->dests[i].priv)
            json_array_append_new(a, audit_fwd_dest_status(&f->dests[i], tenant));
    pthread_rwlock_unlock(&f->lock);
    return a;
}
