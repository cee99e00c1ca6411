/* SPDX-License-Identifier: MIT
 * api_tokens.c — run-time scoped tokens: create, list, rotate, revoke.
 *
 * Each mutation is validated completely first, then audited durably, then applied, so a token
 * never exists (or stops existing) without an audit event. Secrets appear only in the response
 * that creates them; the audit records ids and scopes, never a secret or its hash.
 */
#include "base/prelude.h"
#include "api/api_int.h"

static json_t *scopes_json(const char **scopes, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(scopes[i]));
    return arr;
}

static json_t *info_json(struct api_call *c, const struct auth_token_info *t)
{
    return json_pack("{s:s,s:s,s:s?,s:o,s:s,s:s?,s:s?,s:s?,s:s?,s:s?}", "id", t->id, "tenant",
                     t->tenant, "owner", t->owner, "scopes", scopes_json(t->scopes, t->n_scopes),
                     "source", t->source, "created_by", t->created_by, "created_at",
                     api_time(c, t->created_ms), "expires_at", api_time(c, t->expires_ms),
                     "revoked_at", api_time(c, t->revoked_ms), "last_used_at",
                     api_time(c, t->last_used_ms));
}

static void respond_registry_error(struct api_call *c, gw_err rc)
{
    if (rc == GW_ECONFLICT)
        http_respond_error(c->r, rc, "a token with this id exists");
    else if (rc == GW_ENOTFOUND)
        http_respond_error(c->r, rc, "no such token");
    else
        http_respond_error(c->r, GW_ESTORE, "the token could not be saved");
}

void api_tokens_create(struct api_call *c)
{
    if (!api_require(c, "tokens:write"))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    struct auth_token_request req = {0};
    json_t *scopes = json_object_get(body, "scopes");
    json_t *id = json_object_get(body, "id"), *owner = json_object_get(body, "owner");
    json_t *exp = json_object_get(body, "expires_in");
    const char *bad = NULL;
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val) {
        if (strcmp(key, "scopes") && strcmp(key, "id") && strcmp(key, "owner") &&
            strcmp(key, "expires_in"))
            bad = key;
    }
    if (bad) {
        http_respond_error(c->r, GW_EINVAL,
                           "unknown field '%.64s' (allowed: id, scopes, owner, expires_in)", bad);
        goto out;
    }
    if (!json_is_array(scopes) || (id && !json_is_string(id)) ||
        (owner && !json_is_string(owner)) || (exp && !json_is_integer(exp))) {
        http_respond_error(c->r, GW_EINVAL,
                           "expected {\"scopes\": [strings], \"id\"?: string, \"owner\"?: string, "
                           "\"expires_in\"?: integer seconds}");
        goto out;
    }
    req.n_scopes = json_array_size(scopes);
    req.scopes = gw_pool_calloc(c->r->pool, (req.n_scopes + 1) * sizeof(char *));
    for (size_t i = 0; i < req.n_scopes; i++) {
        req.scopes[i] = json_string_value(json_array_get(scopes, i));
        if (!req.scopes[i]) {
            http_respond_error(c->r, GW_EINVAL, "scopes must be strings");
            goto out;
        }
    }
    req.id = id ? json_string_value(id) : NULL;
    req.owner = owner ? json_string_value(owner) : NULL;
    req.expires_in_s = exp ? (int64_t)json_integer_value(exp) : 0;
    if (exp && req.expires_in_s <= 0) {
        http_respond_error(c->r, GW_EINVAL, "expires_in must be a positive number of seconds");
        goto out;
    }
    char msg[1200];
    gw_err rc = auth_token_check_create(c->d->auth, c->gc.p, &req, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    json_t *details = json_pack("{s:s?,s:O,s:s?,s:I}", "id", req.id, "scopes", scopes, "owner",
                                req.owner, "expires_in", (json_int_t)req.expires_in_s);
    if (!api_audit_sync(c, "token.created", req.id, 201, details))
        goto out;
    struct auth_token_info info;
    const char *secret = NULL;
    rc = auth_token_create(c->d->auth, c->gc.p, &req, c->r->pool, &info, &secret);
    if (rc != GW_OK) {
        api_audit_failed(c);
        respond_registry_error(c, rc);
        goto out;
    }
    json_t *resp = info_json(c, &info);
    json_object_set_new(resp, "token", json_string(secret));
    http_respond_json(c->r, 201, resp);
out:
    json_decref(body);
}

void api_tokens_list(struct api_call *c)
{
    if (!api_require(c, "tokens:read"))
        return;
    struct auth_token_info *list = NULL;
    size_t n = 0;
    auth_token_list(c->d->auth, c->gc.p, c->r->pool, &list, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, info_json(c, &list[i]));
    http_respond_json(c->r, 200, json_pack("{s:o}", "tokens", arr));
}

/* Shared start of rotate and revoke: scope, target check, durable audit event. Returns the
 * token id, or NULL after answering. */
static const char *begin_change(struct api_call *c, const char *event)
{
    if (!api_require(c, "tokens:write"))
        return NULL;
    const char *id = c->var[0];
    char msg[1200];
    gw_err rc = auth_token_check_change(c->d->auth, c->gc.p, id, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        return NULL;
    }
    return api_audit_sync(c, event, id, 200, json_pack("{s:s}", "id", id)) ? id : NULL;
}

void api_tokens_rotate(struct api_call *c)
{
    const char *id = begin_change(c, "token.rotated");
    if (!id)
        return;
    struct auth_token_info info;
    const char *secret = NULL;
    gw_err rc = auth_token_rotate(c->d->auth, c->gc.p, id, c->r->pool, &info, &secret);
    if (rc != GW_OK) {
        api_audit_failed(c);
        respond_registry_error(c, rc);
        return;
    }
    json_t *resp = info_json(c, &info);
    json_object_set_new(resp, "token", json_string(secret));
    http_respond_json(c->r, 200, resp);
}

void api_tokens_revoke(struct api_call *c)
{
    const char *id = begin_change(c, "token.revoked");
    if (!id)
        return;
    int64_t when = 0;
    gw_err rc = auth_token_revoke(c->d->auth, c->gc.p, id, &when);
    if (rc != GW_OK) {
        api_audit_failed(c);
        respond_registry_error(c, rc);
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:s}", "id", id, "revoked_at", api_time(c, when)));
}
