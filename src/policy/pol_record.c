/* SPDX-License-Identifier: MIT
 * pol_record.c — one version of one policy: metadata checks and pure JSON (de)serialization.
 *
 * A record is what the store persists and the API returns: id, tenant, scope and scope id,
 * domain, version, typed content, author, creation time, mandatory change reason and status.
 * pol_record_to_json / pol_record_from_json are pure functions (no I/O, no global state), so
 * the lead can persist records in any store and reload them with pol_set_load.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/json.h"
#include "base/util.h"
#include "policy/policy_int.h"

#define REASON_MAX 2000
#define AUTHOR_MAX 255

static bool id_valid(const char *s)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return n <= POL_ID_MAX;
}

static bool blank(const char *s)
{
    if (!s)
        return true;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

bool pol_record_check(const struct pol_record *r, struct pol_issues *errs)
{
    size_t before = errs ? errs->n : 0;
    bool ok = true;
#define BAD(field, ...) (pol_issue_add(errs, field, __VA_ARGS__), ok = false)
    if (!r) {
        pol_issue_add(errs, "", "no record");
        return false;
    }
    if (!id_valid(r->id))
        BAD("id", "id: expected 1-%d characters of [A-Za-z0-9_-]", POL_ID_MAX);
    if (!r->tenant || !pol_name_valid(r->tenant))
        BAD("tenant", "tenant: missing or invalid");
    if ((unsigned)r->scope >= POL_SCOPE__COUNT)
        BAD("scope", "scope: expected enterprise, org, team or user");
    else if (r->scope == POL_SCOPE_ENTERPRISE && r->scope_id && *r->scope_id)
        BAD("scope_id", "scope_id: an enterprise policy has no scope_id");
    else if (r->scope == POL_SCOPE_ORG && !pol_org_path_valid(r->scope_id))
        BAD("scope_id", "scope_id: an org policy needs an org unit path "
                        "(segments of [a-z0-9][a-z0-9_-]* separated by '/')");
    else if ((r->scope == POL_SCOPE_TEAM || r->scope == POL_SCOPE_USER) &&
             !pol_name_valid(r->scope_id))
        BAD("scope_id", "scope_id: a %s policy needs a %s id", pol_scope_name(r->scope),
            pol_scope_name(r->scope));
    if ((unsigned)r->domain >= POL_D__COUNT)
        BAD("domain", "domain: unknown");
    if (r->version < 1)
        BAD("version", "version: must be 1 or more");
    if (!r->content)
        BAD("content", "content: missing");
    else if (r->content->domain != r->domain)
        BAD("content", "content: parsed for domain %s, record says %s",
            pol_domain_name(r->content->domain), pol_domain_name(r->domain));
    if (blank(r->author) || strlen(r->author) > AUTHOR_MAX)
        BAD("author", "author: missing");
    if (blank(r->change_reason))
        BAD("change_reason", "change_reason: mandatory, and must not be empty");
    else if (strlen(r->change_reason) > REASON_MAX)
        BAD("change_reason", "change_reason: longer than %d bytes", REASON_MAX);
    if (r->status != POL_STATUS_ACTIVE && r->status != POL_STATUS_DEPRECATED)
        BAD("status", "status: expected active or deprecated");
#undef BAD
    return ok && (!errs || errs->n == before);
}

void pol_record_free(struct pol_record *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->tenant);
    free(r->scope_id);
    pol_doc_free(r->content);
    free(r->author);
    free(r->change_reason);
    free(r);
}

static char *dup0(const char *s)
{
    return s ? gw_xstrdup(s) : NULL;
}

struct pol_record *pol_record_clone(const struct pol_record *r)
{
    struct pol_record *c = gw_xcalloc(1, sizeof(*c));
    *c = *r;
    c->id = dup0(r->id);
    c->tenant = dup0(r->tenant);
    c->scope_id = dup0(r->scope_id);
    c->content = pol_doc_clone(r->content);
    c->author = dup0(r->author);
    c->change_reason = dup0(r->change_reason);
    return c;
}

json_t *pol_record_to_json(const struct pol_record *r)
{
    json_t *o = json_object();
    char ts[40];
    gw_time_iso8601(r->created_ms, ts, sizeof(ts));
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "tenant", json_string(r->tenant));
    json_object_set_new(o, "scope", json_string(pol_scope_name(r->scope)));
    json_object_set_new(o, "scope_id", r->scope_id ? json_string(r->scope_id) : json_null());
    json_object_set_new(o, "domain", json_string(pol_domain_name(r->domain)));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "content", r->content ? pol_doc_to_json(r->content) : json_null());
    json_object_set_new(o, "author", json_string(r->author ? r->author : ""));
    json_object_set_new(o, "created_at", json_string(ts));
    json_object_set_new(o, "change_reason", json_string(r->change_reason ? r->change_reason : ""));
    json_object_set_new(o, "status",
                        json_string(r->status == POL_STATUS_ACTIVE ? "active" : "deprecated"));
    return o;
}

static const char *const record_keys[] = {"id",         "tenant",        "scope",   "scope_id",
                                          "domain",     "version",       "content", "author",
                                          "created_at", "change_reason", "status"};

struct pol_record *pol_record_from_json(const json_t *j, struct pol_issues *errs)
{
    if (!json_is_object(j)) {
        pol_issue_add(errs, "", "a policy record must be a JSON object");
        return NULL;
    }
    bool ok = true, known = true;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        size_t k = 0;
        while (k < GW_ARRAY_LEN(record_keys) && strcmp(record_keys[k], key) != 0)
            k++;
        if (k == GW_ARRAY_LEN(record_keys)) {
            pol_issue_add(errs, key, "%.64s: unknown field of a policy record", key);
            known = false;
        }
    }
    struct pol_record *r = gw_xcalloc(1, sizeof(*r));
    r->id = dup0(gw_json_str(j, "id"));
    r->tenant = dup0(gw_json_str(j, "tenant"));
    int scope = pol_scope_parse(gw_json_str(j, "scope"));
    int domain = pol_domain_parse(gw_json_str(j, "domain"));
    const char *sid = gw_json_str(j, "scope_id");
    r->scope_id = sid && *sid ? gw_xstrdup(sid) : NULL;
    r->author = dup0(gw_json_str(j, "author"));
    r->change_reason = dup0(gw_json_str(j, "change_reason"));
    const char *status = gw_json_str(j, "status");
    if (scope < 0) {
        pol_issue_add(errs, "scope", "scope: expected enterprise, org, team or user");
        ok = false;
        scope = 0;
    }
    if (domain < 0) {
        pol_issue_add(errs, "domain",
                      "domain: unknown (expected one of models, actions, "
                      "integrations, agent-to-agent, features, data, audit)");
        ok = false;
        domain = 0;
    }
    r->scope = (enum pol_scope)scope;
    r->domain = (enum pol_domain)domain;
    json_t *ver = json_object_get(j, "version");
    if (!json_is_integer(ver)) {
        pol_issue_add(errs, "version", "version: expected an integer");
        ok = false;
    } else {
        r->version = json_integer_value(ver);
    }
    const char *ts = gw_json_str(j, "created_at");
    if (!ts || !gw_time_parse(ts, &r->created_ms)) {
        pol_issue_add(errs, "created_at", "created_at: expected an ISO 8601 UTC time");
        ok = false;
    }
    if (status && strcmp(status, "active") == 0) {
        r->status = POL_STATUS_ACTIVE;
    } else if (status && strcmp(status, "deprecated") == 0) {
        r->status = POL_STATUS_DEPRECATED;
    } else {
        pol_issue_add(errs, "status", "status: expected active or deprecated");
        ok = false;
    }
    if (ok) {
        r->content = pol_doc_from_json(r->domain, json_object_get(j, "content"), errs);
        ok = r->content != NULL && pol_record_check(r, errs);
    }
    if (!ok || !known) {
        pol_record_free(r);
        return NULL;
    }
    return r;
}
