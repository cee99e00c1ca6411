/* SPDX-License-Identifier: MIT
 * test_auth_shared.c — sessions ended on another node of a cluster: a node refuses a session
 * that its own store still holds once the shared state says it ended (the in-process seam
 * stands for Redis here: one handle shared by the two sso services plays the cluster), and
 * every session of a user revoked at once is told too.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_sso.h"
#include "base/mem.h"
#include "config/config.h"
#include "shared/shared.h"
#include "store/store.h"
#include "test_tmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char yaml[] = "tenant: {id: acme}\n"
                           "sso:\n"
                           "  oidc:\n"
                           "    issuer: https://idp.example.com\n"
                           "    client_id: gw\n"
                           "    client_secret: s3cret-for-tests\n"
                           "    redirect_uri: https://gw.example.com/api/v1/auth/callback\n";

static struct auth_grants *grants;

static gw_err identify(struct auth_sso *sso, const struct cfg *c, const char *cookie,
                       struct gw_pool *pool, char *msg, size_t cap)
{
    struct auth_ctx x = {.sso = sso, .cfg = c, .idp = &c->tenants[0], .grants = grants};
    struct auth_credentials cr = {.session_cookie = cookie};
    struct auth_principal *p = NULL;
    return auth_identify(&x, &cr, pool, &p, msg, cap);
}

static void session_ended_elsewhere(void **state)
{
    (void)state;
    char dir[256], path[300], msg[200];
    assert_true(test_tmpdir(dir, sizeof(dir), "gw-auth-shared"));
    snprintf(path, sizeof(path), "%s/gateway.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    struct cfg *c = NULL;
    struct cfg_errors errs = {0};
    struct cfg_overrides ov = {.data_dir = dir};
    assert_int_equal(cfg_load(path, &ov, &c, &errs), GW_OK);
    struct store *st = NULL;
    assert_int_equal(store_open(dir, &st), GW_OK);
    assert_int_equal(auth_grants_open(st, c, &grants), GW_OK);
    struct shared *cluster = NULL;
    assert_int_equal(shared_open(NULL, &cluster), GW_OK);
    struct auth_sso *a = auth_sso_new(st, NULL), *b = auth_sso_new(st, NULL);
    auth_sso_share(a, cluster);
    auth_sso_share(b, cluster);
    struct gw_pool *pool = gw_pool_new();
    struct auth_sso_identity id = {.tenant = "acme",
                                   .user = "ann@acme.test",
                                   .email = "ann@acme.test",
                                   .role = "user",
                                   .mapped_by = "default_role",
                                   .protocol = "oidc"};
    const char *secret = NULL, *sid = NULL, *secret2 = NULL, *sid2 = NULL;
    assert_int_equal(auth_session_create(b, c, &id, "127.0.0.1", pool, &secret, &sid), GW_OK);
    assert_int_equal(auth_session_create(b, c, &id, "127.0.0.1", pool, &secret2, &sid2), GW_OK);
    assert_int_equal(identify(b, c, secret, pool, msg, sizeof(msg)), GW_OK);

    /* node a ended it (its own store delete is a's business): b refuses it at once */
    auth_session_shared_end(a, sid);
    assert_int_equal(identify(b, c, secret, pool, msg, sizeof(msg)), GW_EUNAUTH);
    assert_string_equal(msg, "session has ended");
    assert_int_equal(identify(b, c, secret2, pool, msg, sizeof(msg)), GW_OK);

    /* every session of the user at once: each one told */
    size_t n = 0;
    assert_int_equal(auth_session_revoke_user(a, "acme", "ann@acme.test", &n), GW_OK);
    assert_int_equal(n, 2);
    bool revoked = false;
    char key[64];
    snprintf(key, sizeof(key), "session:%s", sid2);
    assert_int_equal(shared_revoked(cluster, key, &revoked), GW_OK);
    assert_true(revoked);

    gw_pool_free(pool);
    auth_sso_free(a);
    auth_sso_free(b);
    shared_close(cluster);
    auth_grants_close(grants);
    store_close(st);
    cfg_unref(c);
    test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(session_ended_elsewhere)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
