/* SPDX-License-Identifier: MIT
 * test_gov.h — what the spine's unit tests share (test_gov_*.c): the spine opened on its real
 * services (store, audit trail, namespace grants, agents, policies from a bundle) in a scratch
 * data directory, principals as the login methods build them, governed calls, and reading back
 * the audit rows the store holds for one request.
 */
#ifndef GW_TEST_GOV_H
#define GW_TEST_GOV_H

#include "base/prelude.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "gov/gov.h"
#include "gov/gov_action.h"
#include "ns/ns.h"
#include "store/store.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "test_tmp.h"

#define TENANT "acme"

struct fx {
    char root[64];
    char data[128];
    char log[192];
    struct cfg *cfg;
    struct store *st;
    struct audit *audit;
    struct auth_grants *grants;
    struct ns_registry *ns;
    struct gov *gov;
    struct gw_pool *pool;
    struct audit_options ao;
    unsigned next_request;
};

static inline void fx_write(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* The services on a scratch data directory: yaml is gateway.yaml without its policy section,
 * bundle the policies (policy.bundle) the spine starts with. */
static inline struct fx *fx_services(const char *yaml, const char *bundle)
{
    struct fx *f = gw_xcalloc(1, sizeof(*f));
    assert_true(test_tmpdir(f->root, sizeof(f->root), "test_gov"));
    snprintf(f->data, sizeof(f->data), "%s/data", f->root);
    snprintf(f->log, sizeof(f->log), "%s/audit.jsonl", f->root);
    char *bpath = gw_xasprintf("%s/policies.yaml", f->root);
    char *cpath = gw_xasprintf("%s/gateway.yaml", f->root);
    fx_write(bpath, bundle);
    char *text = gw_xasprintf("%spolicy:\n  bundle: %s\n  approval_ttl_s: 3600\n", yaml, bpath);
    fx_write(cpath, text);
    struct cfg_overrides ov = {.data_dir = f->data};
    struct cfg_errors errs = {0};
    gw_err rc = cfg_load(cpath, &ov, &f->cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        print_error("%s\n", errs.msgs[i]);
    cfg_errors_release(&errs);
    assert_int_equal(rc, GW_OK);
    free(text);
    free(cpath);
    free(bpath);
    assert_int_equal(gw_mkdirs(f->data, 0700), GW_OK);
    assert_int_equal(store_open(f->data, &f->st), GW_OK);
    f->ao = (struct audit_options){.data_dir = f->data,
                                   .enabled = true,
                                   .log_path = f->log,
                                   .log_content = true,
                                   .checkpoint_every = 1000};
    assert_int_equal(audit_open(f->st, &f->ao, &f->audit), GW_OK);
    assert_int_equal(auth_grants_open(f->st, f->cfg, &f->grants), GW_OK);
    assert_int_equal(ns_registry_open(f->st, f->cfg, &f->ns), GW_OK);
    f->pool = gw_pool_new();
    return f;
}

/* Opens the spine on them; deps has what the caller adds (actions, the model client, metering),
 * the fixture sets the rest. */
static inline void fx_spine(struct fx *f, struct gov_deps *deps)
{
    deps->store = f->st;
    deps->audit = f->audit;
    deps->grants = f->grants;
    deps->ns = f->ns;
    char msg[256] = "";
    if (gov_open(deps, f->cfg, &f->gov, msg, sizeof(msg)) != GW_OK)
        fail_msg("gov_open: %s", msg);
}

static inline void fx_close(struct fx *f)
{
    gw_pool_free(f->pool);
    gov_close(f->gov);
    ns_registry_close(f->ns);
    auth_grants_close(f->grants);
    audit_close(f->audit);
    store_close(f->st);
    cfg_unref(f->cfg);
    test_rmtree(f->root);
    free(f);
}

/* The audit sink fails (a full disk) or works again. */
static inline void fx_audit_broken(struct fx *f, bool broken)
{
    f->ao.log_path = broken ? "/dev/full" : f->log;
    gw_err rc = audit_reconfigure(f->audit, &f->ao);
    if (!broken)
        assert_int_equal(rc, GW_OK);
}

/* A person as single sign-on builds one: scopes (NULL: "*") capped by the role's permissions,
 * with today's namespace grants. */
static inline struct auth_principal *fx_person(struct fx *f, const char *user, const char *role,
                                               const char *org_unit, const char *team,
                                               const char **scopes, size_t n_scopes)
{
    static const char *star[] = {"*"};
    struct auth_principal *p = gw_pool_calloc(f->pool, sizeof(*p));
    size_t n_perms = 0;
    const char *const *perms = auth_role_permissions(f->cfg, role, &n_perms);
    assert_non_null(perms);
    *p = (struct auth_principal){.tenant = TENANT,
                                 .actor = user,
                                 .user = user,
                                 .role = role,
                                 .org_unit = org_unit,
                                 .team = team,
                                 .scopes = scopes ? scopes : star,
                                 .n_scopes = scopes ? n_scopes : 1,
                                 .perms = (const char **)perms,
                                 .n_perms = n_perms,
                                 .method = "session"};
    auth_principal_attach_grants(p, f->grants, f->pool);
    return p;
}

/* A governed call of p with a fresh request id, as a door makes it. */
static inline struct gov_call fx_call(struct fx *f, struct auth_principal *p)
{
    return (struct gov_call){.gov = f->gov,
                             .pool = f->pool,
                             .cfg = f->cfg,
                             .p = p,
                             .tenant = p->tenant,
                             .request_id = gw_pool_printf(f->pool, "req-%u", ++f->next_request),
                             .client_ip = "127.0.0.1"};
}

/* The rows the store holds for one request, in chain order (flushed first). */
static inline struct store_audit_row *fx_rows(struct fx *f, const char *request_id, size_t *n)
{
    assert_int_equal(audit_flush(f->audit), GW_OK);
    struct store_audit_row *rows = NULL;
    struct store_audit_filter flt = {.tenant = TENANT,
                                     .vis = STORE_AUDIT_VIS_ALL,
                                     .request_id = request_id};
    assert_int_equal(store_audit_query(f->st, &flt, 100, &rows, n), GW_OK);
    return rows;
}

/* "type type ..." of those rows (in the pool), for one assertion on what was recorded. */
static inline const char *fx_events(struct fx *f, const char *request_id)
{
    size_t n = 0;
    struct store_audit_row *rows = fx_rows(f, request_id, &n);
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(&b, "%s%s", i ? " " : "", rows[i].type);
    const char *s = gw_pool_strdup(f->pool, b.data ? b.data : "");
    gw_buf_release(&b);
    store_audit_rows_free(rows, n);
    return s;
}

/* The one row of that type for the request (caller frees it with store_audit_rows_free(r, 1)),
 * its details parsed into *details when asked. */
static inline struct store_audit_row *fx_row(struct fx *f, const char *request_id, const char *type,
                                             json_t **details)
{
    size_t n = 0;
    struct store_audit_row *rows = fx_rows(f, request_id, &n), *found = NULL;
    for (size_t i = 0; i < n && !found; i++)
        if (!strcmp(rows[i].type, type)) {
            found = gw_xcalloc(1, sizeof(*found));
            *found = rows[i];
            rows[i] = (struct store_audit_row){0};
        }
    store_audit_rows_free(rows, n);
    if (!found)
        fail_msg("no %s event for %s (events: %s)", type, request_id, fx_events(f, request_id));
    if (details)
        *details = json_loads(found->details, 0, NULL);
    return found;
}

#define assert_contains(haystack, needle)                                                          \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (!h_ || !strstr(h_, n_))                                                                \
            fail_msg("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);                    \
    } while (0)

#endif
