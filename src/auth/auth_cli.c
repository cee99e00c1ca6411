/* SPDX-License-Identifier: MIT
 * auth_cli.c — the authorization-server side of `openclaw auth login` (see auth_cli.h):
 * strict checks of what the CLI sends (loopback redirect_uri, PKCE S256, state), one-time
 * codes bound to the confirming browser session, CLI sessions with opaque bearer tokens, and
 * refresh-token rotation with reuse detection.
 *
 * Secrets are 32 random bytes in base64url; only their SHA-256 (hex) reaches the store. A CLI
 * session keeps its public id for its whole life while its tokens rotate; its refresh token
 * ends after sso.sessions.cli_idle_timeout_s without use and never later than
 * cli_absolute_timeout_s after the sign-in. Refusals carry a reason for the caller's audit
 * event and never a secret.
 */
#include "base/prelude.h"
#include "auth/auth.h"
#include "auth/auth_int.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config.h"
#include "store/store.h"

#define TOUCH_MS 30000

/* --- pure checks ------------------------------------------------------------------------- */

static bool unreserved(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static bool b64url_char(char ch)
{
    return unreserved(ch) && ch != '.' && ch != '~';
}

static bool chars_ok(const char *s, size_t min, size_t max, bool (*ok)(char))
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return false;
    for (; *s; s++)
        if (!ok(*s))
            return false;
    return true;
}

enum auth_cli_redirect auth_cli_redirect_kind(const char *uri)
{
    if (!uri)
        return AUTH_CLI_REDIRECT_INVALID;
    if (strcmp(uri, AUTH_CLI_OOB) == 0)
        return AUTH_CLI_REDIRECT_OOB;
    if (strncmp(uri, "http://", 7) != 0)
        return AUTH_CLI_REDIRECT_INVALID;
    static const char *const hosts[] = {"127.0.0.1", "[::1]", "localhost"};
    const char *h = uri + 7;
    for (size_t i = 0; i < GW_ARRAY_LEN(hosts); i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(h, hosts[i], n) != 0 || h[n] != ':')
            continue;
        const char *p = h + n + 1;
        unsigned port = 0;
        size_t digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (unsigned)(*p - '0');
        if (digits == 0 || digits > 5 || h[n + 1] == '0' || port > 65535)
            return AUTH_CLI_REDIRECT_INVALID;
        return strcmp(p, "/callback") == 0 ? AUTH_CLI_REDIRECT_LOOPBACK : AUTH_CLI_REDIRECT_INVALID;
    }
    return AUTH_CLI_REDIRECT_INVALID;
}

bool auth_cli_challenge_ok(const char *challenge)
{
    return chars_ok(challenge, 43, 43, b64url_char);
}

bool auth_cli_verifier_ok(const char *verifier)
{
    return chars_ok(verifier, 43, 128, unreserved);
}

bool auth_cli_state_ok(const char *state)
{
    return chars_ok(state, 1, AUTH_CLI_STATE_MAX, unreserved);
}

bool auth_cli_pkce_matches(const char *verifier, const char *challenge)
{
    if (!auth_cli_verifier_ok(verifier) || !auth_cli_challenge_ok(challenge))
        return false;
    unsigned char h[GW_SHA256_LEN];
    char b64[48];
    gw_sha256(verifier, strlen(verifier), h);
    gw_b64url(h, sizeof(h), b64);
    return gw_ct_equal(b64, challenge, 43);
}

/* A secret of ours: the prefix, then 43 base64url characters. */
static bool token_shape(const char *t, const char *prefix)
{
    return t && strlen(t) == AUTH_CLI_TOKEN_LEN && strncmp(t, prefix, 4) == 0 &&
           chars_ok(t + 4, 43, 43, b64url_char);
}

bool auth_cli_is_access_token(const char *token)
{
    return token && strncmp(token, AUTH_CLI_ACCESS_PREFIX, 4) == 0;
}

/* --- secrets ------------------------------------------------------------------------------- */

/* prefix + 32 random bytes in base64url (pool); *hash gets its SHA-256 in hex. */
static const char *new_secret(struct gw_pool *pool, const char *prefix, char hash[65])
{
    unsigned char raw[32];
    char b64[48];
    gw_random(raw, sizeof(raw));
    gw_b64url(raw, sizeof(raw), b64);
    explicit_bzero(raw, sizeof(raw));
    const char *s = gw_pool_printf(pool, "%s%s", prefix, b64);
    explicit_bzero(b64, sizeof(b64));
    gw_sha256_hex(s, strlen(s), hash);
    return s;
}

static void hash_of(const char *secret, char hash[65])
{
    gw_sha256_hex(secret, strlen(secret), hash);
}

/* --- codes ---------------------------------------------------------------------------------- */

gw_err auth_cli_code_issue(struct auth_sso *sso, const struct cfg *c, const char *browser_secret,
                           const char *challenge, const char *redirect_uri, struct gw_pool *pool,
                           const char **code, const char **browser_session)
{
    struct store *st = sso->store;
    char bhash[65], chash[65];
    hash_of(browser_secret, bhash);
    struct store_session s;
    gw_err rc = store_session_get(st, bhash, &s);
    if (rc != GW_OK)
        return rc == GW_ENOTFOUND ? GW_EUNAUTH : rc;
    const char *secret = new_secret(pool, "", chash);
    int64_t now = gw_now_ms();
    int64_t ttl = auth_cli_redirect_kind(redirect_uri) == AUTH_CLI_REDIRECT_OOB
                      ? AUTH_CLI_OOB_CODE_TTL_S
                      : AUTH_CLI_CODE_TTL_S;
    struct store_cli_code row = {
        .code_hash = chash,
        .tenant = s.tenant,
        .user_id = s.user_id,
        .identity = s.identity,
        .browser_session = s.id,
        .challenge = (char *)challenge,
        .redirect_uri = (char *)redirect_uri,
        .created_ms = now,
        .expires_ms = now + ttl * 1000,
    };
    rc = store_cli_code_insert(st, &row);
    if (rc == GW_OK) {
        *code = secret;
        *browser_session = gw_pool_strdup(pool, s.id);
    }
    store_session_release(&s);
    return rc;
}

/* identity.users is checked by auth_session_principal; users provisioned from the IdP can be
 * disabled in the store. */
static bool disabled_in_store(struct store *st, const char *tenant, const char *user)
{
    struct store_sso_user u;
    if (store_sso_user_get(st, tenant, user, &u) != GW_OK)
        return false;
    bool disabled = u.disabled;
    store_sso_user_release(&u);
    return disabled;
}

/* The identity behind a grant, checked as at every use of a session. */
static gw_err grant_identity(struct store *st, const struct cfg *c, const char *tenant,
                             const char *user, const char *identity, struct gw_pool *pool,
                             struct auth_cli_grant *g, char *msg, size_t msgcap)
{
    if (disabled_in_store(st, tenant, user)) {
        snprintf(msg, msgcap, "user is disabled");
        return GW_EUNAUTH;
    }
    gw_err rc = auth_session_principal(c, tenant, user, identity, "cli", pool, &g->p, msg, msgcap);
    if (rc != GW_OK)
        return rc;
    g->user = g->p->user;
    g->tenant = g->p->tenant;
    g->identity = gw_pool_strdup(pool, identity ? identity : "{}");
    return GW_OK;
}

gw_err auth_cli_redeem_check(struct auth_sso *sso, const struct cfg *c, const char *code,
                             const char *verifier, const char *redirect_uri, struct gw_pool *pool,
                             struct auth_cli_grant *g, char *msg, size_t msgcap)
{
    struct store *st = sso->store;
    memset(g, 0, sizeof(*g));
    if (!chars_ok(code, AUTH_CLI_CODE_LEN, AUTH_CLI_CODE_LEN, b64url_char)) {
        snprintf(msg, msgcap, "code must be %d base64url characters", AUTH_CLI_CODE_LEN);
        return GW_EINVAL;
    }
    if (!auth_cli_verifier_ok(verifier)) {
        snprintf(msg, msgcap, "code_verifier must be 43-128 characters of [A-Za-z0-9._~-]");
        return GW_EINVAL;
    }
    if (auth_cli_redirect_kind(redirect_uri) == AUTH_CLI_REDIRECT_INVALID) {
        snprintf(msg, msgcap, "redirect_uri must be a loopback callback or %s", AUTH_CLI_OOB);
        return GW_EINVAL;
    }
    char chash[65];
    hash_of(code, chash);
    int64_t now = gw_now_ms();
    struct store_cli_code row;
    gw_err rc = store_cli_code_consume(st, chash, now, &row);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap, "unknown code");
        return GW_EUNAUTH;
    }
    if (rc != GW_OK) {
        snprintf(msg, msgcap, "codes cannot be read right now");
        return rc;
    }
    rc = GW_EUNAUTH;
    g->tenant = gw_pool_strdup(pool, row.tenant);
    if (row.consumed_ms) {
        /* RFC 6749 §4.1.2: a code used twice revokes what it produced */
        snprintf(msg, msgcap, "code already used%s",
                 row.cli_session ? " (the CLI session it produced is revoked)" : "");
        g->session_id = row.cli_session ? gw_pool_strdup(pool, row.cli_session) : NULL;
        g->user = gw_pool_strdup(pool, row.user_id);
        rc = GW_ECONFLICT;
    } else if (now >= row.expires_ms) {
        snprintf(msg, msgcap, "code expired (it is valid for %lld seconds)",
                 (long long)((row.expires_ms - row.created_ms) / 1000));
    } else if (!cfg_find_tenant(c, row.tenant)) {
        snprintf(msg, msgcap, "unknown code");
    } else if (strcmp(row.redirect_uri, redirect_uri) != 0) {
        snprintf(msg, msgcap, "redirect_uri differs from the one the code was issued for");
    } else if (!auth_cli_pkce_matches(verifier, row.challenge)) {
        snprintf(msg, msgcap, "code_verifier does not match the code_challenge");
    } else {
        rc = grant_identity(st, c, row.tenant, row.user_id, row.identity, pool, g, msg, msgcap);
        g->code_hash = gw_pool_strdup(pool, chash);
        g->browser_session = row.browser_session ? gw_pool_strdup(pool, row.browser_session) : NULL;
        char sid[33];
        gw_random_hex(sid, 16);
        g->session_id = gw_pool_strdup(pool, sid);
    }
    if (rc == GW_EUNAUTH && !g->user)
        g->user = gw_pool_strdup(pool, row.user_id);
    store_cli_code_release(&row);
    return rc;
}

/* A fresh pair of tokens (their hashes in ahash and rhash) for the CLI login of g, made at
 * created_ms (0: now), with their expiries. */
static void new_tokens(const struct cfg *c, const struct auth_cli_grant *g, int64_t created_ms,
                       int64_t now, struct gw_pool *pool, struct auth_cli_tokens *out,
                       char ahash[65], char rhash[65])
{
    const struct cfg_sso *s = cfg_tenant_sso(c, cfg_find_tenant(c, g->tenant));
    memset(out, 0, sizeof(*out));
    out->access_token = new_secret(pool, AUTH_CLI_ACCESS_PREFIX, ahash);
    out->refresh_token = new_secret(pool, AUTH_CLI_REFRESH_PREFIX, rhash);
    out->session_id = g->session_id;
    out->expires_ms = GW_MIN((created_ms ? created_ms : now) +
                                 (int64_t)s->cli_absolute_timeout_s * 1000,
                             now + (int64_t)s->cli_idle_timeout_s * 1000);
    out->access_expires_ms = GW_MIN(now + (int64_t)s->cli_access_ttl_s * 1000, out->expires_ms);
}

gw_err auth_cli_session_create(struct auth_sso *sso, const struct cfg *c,
                               const struct auth_cli_grant *g, const char *client_ip,
                               struct gw_pool *pool, struct auth_cli_tokens *out)
{
    struct store *st = sso->store;
    char ahash[65], rhash[65];
    int64_t now = gw_now_ms();
    new_tokens(c, g, 0, now, pool, out, ahash, rhash);
    struct store_session row = {
        .id = (char *)g->session_id,
        .hash = ahash,
        .tenant = (char *)g->tenant,
        .user_id = (char *)g->user,
        .identity = (char *)g->identity,
        .client_ip = (char *)client_ip,
        .created_ms = now,
        .last_seen_ms = now,
        .expires_ms = out->expires_ms,
        .kind = "cli",
        .refresh_hash = rhash,
        .access_expires_ms = out->access_expires_ms,
    };
    gw_err rc = store_session_insert(st, &row);
    if (rc != GW_OK)
        return rc;
    if (g->code_hash)
        (void)store_cli_code_link(st, g->code_hash, g->session_id);
    (void)store_cli_purge(st, now);
    return GW_OK;
}

/* --- refresh ---------------------------------------------------------------------------------- */

gw_err auth_cli_refresh_check(struct auth_sso *sso, const struct cfg *c, const char *refresh_token,
                              struct gw_pool *pool, struct auth_cli_grant *g, char *msg,
                              size_t msgcap)
{
    struct store *st = sso->store;
    memset(g, 0, sizeof(*g));
    if (!token_shape(refresh_token, AUTH_CLI_REFRESH_PREFIX)) {
        snprintf(msg, msgcap, "refresh_token is malformed");
        return GW_EINVAL;
    }
    char rhash[65];
    hash_of(refresh_token, rhash);
    struct store_session s;
    gw_err rc = store_cli_refresh_find(st, rhash, &s);
    if (rc == GW_ENOTFOUND) {
        snprintf(msg, msgcap, "unknown refresh token (the CLI session ended): log in again");
        return GW_EUNAUTH;
    }
    if (rc == GW_ECONFLICT && s.tenant && cfg_find_tenant(c, s.tenant)) {
        snprintf(msg, msgcap,
                 "refresh token already used: the CLI session is revoked (reuse "
                 "of a rotated refresh token means it may have been copied)");
        g->session_id = gw_pool_strdup(pool, s.id);
        g->user = s.user_id ? gw_pool_strdup(pool, s.user_id) : NULL;
        g->tenant = gw_pool_strdup(pool, s.tenant);
    } else if (rc == GW_ECONFLICT) {
        snprintf(msg, msgcap, "unknown refresh token (the CLI session ended): log in again");
        rc = GW_EUNAUTH;
    } else if (rc != GW_OK) {
        snprintf(msg, msgcap, "sessions cannot be read right now");
    } else if (!cfg_find_tenant(c, s.tenant)) {
        snprintf(msg, msgcap, "unknown refresh token (the CLI session ended): log in again");
        rc = GW_EUNAUTH;
    } else if (gw_now_ms() >= s.expires_ms) {
        snprintf(msg, msgcap, "the CLI login expired: log in again");
        store_session_delete(st, s.tenant, s.id, NULL);
        rc = GW_EUNAUTH;
    } else {
        rc = grant_identity(st, c, s.tenant, s.user_id, s.identity, pool, g, msg, msgcap);
        g->session_id = gw_pool_strdup(pool, s.id);
        g->refresh_hash = gw_pool_strdup(pool, rhash);
        g->created_ms = s.created_ms;
        if (rc != GW_OK)
            g->user = gw_pool_strdup(pool, s.user_id);
    }
    store_session_release(&s);
    return rc;
}

gw_err auth_cli_rotate(struct auth_sso *sso, const struct cfg *c, const struct auth_cli_grant *g,
                       struct gw_pool *pool, struct auth_cli_tokens *out)
{
    struct store *st = sso->store;
    char ahash[65], rhash[65];
    int64_t now = gw_now_ms();
    new_tokens(c, g, g->created_ms, now, pool, out, ahash, rhash);
    struct store_cli_rotation r = {
        .id = g->session_id,
        .old_refresh_hash = g->refresh_hash,
        .access_hash = ahash,
        .refresh_hash = rhash,
        .access_expires_ms = out->access_expires_ms,
        .expires_ms = out->expires_ms,
        .now_ms = now,
    };
    return store_cli_rotate(st, &r);
}

/* --- bearer authentication and lookup --------------------------------------------------------- */

gw_err auth_cli_authenticate(struct auth_sso *sso, const struct cfg *c, const char *token,
                             struct gw_pool *pool, struct auth_principal **out, char *msg,
                             size_t msgcap)
{
    struct store *st = sso->store;
    if (!token_shape(token, AUTH_CLI_ACCESS_PREFIX)) {
        snprintf(msg, msgcap, "malformed CLI access token");
        return GW_EUNAUTH;
    }
    char hash[65];
    hash_of(token, hash);
    static const char unknown[] = "unknown or revoked CLI access token: log in again "
                                  "(openclaw auth login)";
    struct store_session s;
    gw_err rc = auth_session_load(st, hash, &s, unknown, msg, msgcap);
    if (rc != GW_OK)
        return rc;
    int64_t now = gw_now_ms();
    rc = GW_EUNAUTH;
    if (!s.kind || strcmp(s.kind, "cli") != 0 || !cfg_find_tenant(c, s.tenant)) {
        snprintf(msg, msgcap, "%s", unknown);
    } else if (now >= s.expires_ms) {
        snprintf(msg, msgcap, "the CLI login expired: log in again (openclaw auth login)");
    } else if (now >= s.access_expires_ms) {
        snprintf(msg, msgcap, "access token expired: refresh it");
    } else if ((rc = auth_session_principal(c, s.tenant, s.user_id, s.identity, "cli", pool, out,
                                            msg, msgcap)) == GW_OK) {
        (*out)->session_id = gw_pool_strdup(pool, s.id);
        if (now - s.last_seen_ms >= TOUCH_MS)
            store_session_touch(st, hash, now);
    }
    store_session_release(&s);
    return rc;
}

gw_err auth_cli_find(struct auth_sso *sso, const struct cfg *c, const char *token,
                     struct gw_pool *pool, const char **session_id, const char **user,
                     const char **tenant)
{
    struct store *st = sso->store;
    bool access = token_shape(token, AUTH_CLI_ACCESS_PREFIX);
    if (!access && !token_shape(token, AUTH_CLI_REFRESH_PREFIX))
        return GW_ENOTFOUND;
    char hash[65];
    hash_of(token, hash);
    struct store_session s;
    gw_err rc = access ? store_session_get(st, hash, &s) : store_cli_refresh_find(st, hash, &s);
    if (rc == GW_OK && (!s.kind || strcmp(s.kind, "cli") != 0 || !cfg_find_tenant(c, s.tenant)))
        rc = GW_ENOTFOUND;
    if (rc == GW_OK) {
        *session_id = gw_pool_strdup(pool, s.id);
        *user = gw_pool_strdup(pool, s.user_id);
        *tenant = gw_pool_strdup(pool, s.tenant);
    } else if (rc == GW_ECONFLICT) {
        rc = GW_ENOTFOUND; /* a used refresh token names nothing to revoke */
    }
    store_session_release(&s);
    return rc;
}
