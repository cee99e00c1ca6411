/* SPDX-License-Identifier: MIT
 * config_auth.c — the auth section: scoped gateway tokens (seed 003) and login throttling.
 *
 * Token ids must be unique (they are the audit identity of the token) and so must the secrets:
 * two entries with one secret would make the gateway pick one identity arbitrarily. Scopes are
 * checked against the same grammar the API uses. Secrets never appear in a message, only the
 * token id and the line. Loaded after identity so owners can be checked.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config_int.h"

#define TOKEN_MIN_LEN 8
#define TOKEN_MAX_LEN 512

enum { AU_TOKENS, AU_BOOTSTRAP, AU_FAILED, AU__N };
const char *const cfg_keys_auth[] = {[AU_TOKENS] = "tokens",
                                     [AU_BOOTSTRAP] = "bootstrap_token",
                                     [AU_FAILED] = "failed_auth_limit",
                                     [AU__N] = NULL};

enum { TK_ID, TK_TOKEN, TK_SCOPES, TK_OWNER, TK_EXPIRES, TK__N };
const char *const cfg_keys_token[] = {
    [TK_ID] = "id",       [TK_TOKEN] = "token",        [TK_SCOPES] = "scopes",
    [TK_OWNER] = "owner", [TK_EXPIRES] = "expires_at", [TK__N] = NULL};

/* Visible ASCII only: the secret travels in an Authorization header. */
static bool secret_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < TOKEN_MIN_LEN || n > TOKEN_MAX_LEN)
        return false;
    for (; *s; s++)
        if (*s < 0x21 || *s > 0x7e)
            return false;
    return true;
}

static void free_token(struct cfg_token *t)
{
    free(t->id);
    if (t->token)
        explicit_bzero(t->token, strlen(t->token));
    free(t->token);
    cfg_free_strv(t->scopes);
    free(t->owner);
}

/* Returns false when the entry cannot be kept (no usable id or secret). */
static bool load_token(struct cfg_loader *L, const struct cfg_node *item, size_t i,
                       const int *lines, struct cfg_token *t)
{
    struct cfg *c = L->c;
    struct cfg_errlist *e = L->errs;
    const struct cfg_node *v[TK__N];
    char what[96], shown[80];
    bool ok = true;

    snprintf(what, sizeof(what), "auth.tokens[%zu]", i);
    if (!cfg_map_slots(e, item, what, cfg_keys_token, v, NULL)) {
        if (cfg_is_null(item))
            cfg_err(e, item->line, "%s must be a mapping with id, token and scopes", what);
        return false;
    }

    snprintf(what, sizeof(what), "auth.tokens[%zu].id", i);
    if (cfg_is_null(v[TK_ID])) {
        cfg_err(e, item->line, "%s is required", what);
        ok = false;
    } else if (!cfg_get_str(e, v[TK_ID], what, &t->id)) {
        ok = false;
    } else if (!cfg_name_valid(t->id)) {
        cfg_err(e, v[TK_ID]->line,
                "%s '%s' is not valid (1-63 characters of [a-z0-9_-], starting with a letter or "
                "digit)",
                what, cfg_shown(t->id, shown, sizeof(shown)));
        ok = false;
    } else {
        for (size_t j = 0; j < c->n_tokens; j++)
            if (!strcmp(c->tokens[j].id, t->id)) {
                cfg_err(e, v[TK_ID]->line, "duplicate token id '%s' (first defined at line %d)",
                        cfg_shown(t->id, shown, sizeof(shown)), lines[j]);
                ok = false;
                break;
            }
    }

    snprintf(what, sizeof(what), "auth.tokens[%zu].token", i);
    if (cfg_is_null(v[TK_TOKEN])) {
        cfg_err(e, item->line, "%s (the secret) is required", what);
        ok = false;
    } else if (!cfg_get_str(e, v[TK_TOKEN], what, &t->token)) {
        ok = false;
    } else if (!secret_ok(t->token)) {
        cfg_err(e, v[TK_TOKEN]->line, "%s must be %d to %d visible ASCII characters", what,
                TOKEN_MIN_LEN, TOKEN_MAX_LEN);
        ok = false;
    } else {
        for (size_t j = 0; j < c->n_tokens; j++)
            if (!strcmp(c->tokens[j].token, t->token)) {
                cfg_err(e, v[TK_TOKEN]->line,
                        "%s: the same secret is already used by token '%s' (line %d)", what,
                        cfg_shown(c->tokens[j].id, shown, sizeof(shown)), lines[j]);
                ok = false;
                break;
            }
    }

    snprintf(what, sizeof(what), "auth.tokens[%zu].scopes", i);
    if (cfg_is_null(v[TK_SCOPES])) {
        cfg_err(e, item->line, "%s is required (e.g. [\"channels:engineering/*\"])", what);
    } else if (cfg_get_strlist(e, v[TK_SCOPES], what, &t->scopes, &t->n_scopes)) {
        if (t->n_scopes == 0)
            cfg_err(e, v[TK_SCOPES]->line, "%s must not be empty", what);
        for (size_t j = 0; j < t->n_scopes; j++)
            cfg_scope_check(e, v[TK_SCOPES]->vals[j]->line, what, j, t->scopes[j], "scope");
    }

    snprintf(what, sizeof(what), "auth.tokens[%zu].owner", i);
    if (cfg_get_str(e, v[TK_OWNER], what, &t->owner) && t->owner && !cfg_find_user(c, t->owner))
        cfg_err(e, v[TK_OWNER]->line, "%s: unknown user '%s' (declare it under identity.users)",
                what, cfg_shown(t->owner, shown, sizeof(shown)));

    snprintf(what, sizeof(what), "auth.tokens[%zu].expires_at", i);
    char *exp = NULL;
    if (cfg_get_str(e, v[TK_EXPIRES], what, &exp) && exp &&
        (!gw_time_parse(exp, &t->expires_ms) || t->expires_ms <= 0))
        cfg_err(e, v[TK_EXPIRES]->line,
                "%s must be an RFC 3339 UTC time such as 2026-01-31T00:00:00Z (got '%s')", what,
                cfg_shown(exp, shown, sizeof(shown)));
    free(exp);
    return ok;
}

static void load_tokens(struct cfg_loader *L, const struct cfg_node *n)
{
    struct cfg *c = L->c;
    if (!cfg_want_seq(L->errs, n, "auth.tokens"))
        return;
    c->tokens = gw_xcalloc(n->n, sizeof(*c->tokens));
    int *lines = gw_xcalloc(n->n, sizeof(*lines));
    for (size_t i = 0; i < n->n; i++) {
        struct cfg_token t = {0};
        if (!load_token(L, n->vals[i], i, lines, &t)) {
            free_token(&t);
            continue;
        }
        lines[c->n_tokens] = n->vals[i]->line;
        c->tokens[c->n_tokens++] = t;
    }
    free(lines);
}

void cfg_load_auth(struct cfg_loader *L, const struct cfg_node *n)
{
    const struct cfg_node *v[AU__N];
    struct cfg_errlist *e = L->errs;
    if (!cfg_map_slots(e, n, "auth", cfg_keys_auth, v, NULL))
        return;
    load_tokens(L, v[AU_TOKENS]);
    cfg_get_bool(e, v[AU_BOOTSTRAP], "auth.bootstrap_token", &L->c->bootstrap_token);
    cfg_get_uint(e, v[AU_FAILED], "auth.failed_auth_limit", 1, 1000000, &L->c->failed_auth_limit);
}
