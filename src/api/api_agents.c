/* SPDX-License-Identifier: MIT
 * api_agents.c — agent registration and listing, and messages sent to channels.
 *
 * A channel is "<namespace>/<agent>"; sending needs the matching channels: scope. The message
 * is audited durably, then stored; the model reply arrives with the model gateway.
 */
#include "base/prelude.h"
#include "config/config.h"
#include "api/api_int.h"
#include "base/util.h"
#include "llm/llm_registry.h"
#include "ns/ns.h"

static json_t *agent_json(const struct ns_agent_info *a)
{
    /* "memory" is the memory API address, never the server-side file path */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:s}", "name", a->name, "namespace", a->ns, "agent",
                     a->agent, "channel", a->channel, "memory", a->name, "description",
                     a->description, "source", a->source);
}

void api_agents_register(struct api_call *c)
{
    if (!api_require(c, "agents:write"))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    const char *name = gw_json_str(body, "name");
    json_t *desc = json_object_get(body, "description");
    const char *slash = name ? strchr(name, '/') : NULL;
    if (!slash || (desc && !json_is_string(desc)) ||
        (desc && strlen(json_string_value(desc)) > 1024)) {
        http_respond_error(c->r, GW_EINVAL,
                           "expected {\"name\": \"<namespace>/<agent>\", \"description\"?: string "
                           "(at most 1024 bytes)}");
        goto out;
    }
    char *ns = gw_pool_strndup(c->r->pool, name, (size_t)(slash - name));
    const char *agent = slash + 1;
    char msg[200];
    gw_err rc = ns_agent_check_register(c->d->ns, c->gc.p->tenant, ns, agent, msg, sizeof(msg));
    if (rc != GW_OK) {
        http_respond_error(c->r, rc, "%s", msg);
        goto out;
    }
    if (!auth_allows_channel(c->gc.p, ns, agent)) {
        api_deny_channel(c, ns, agent);
        goto out;
    }
    const char *d = desc ? json_string_value(desc) : NULL;
    if (!api_audit_sync(c, "agent.registered", name, 201,
                        json_pack("{s:s,s:s?}", "name", name, "description", d)))
        goto out;
    struct ns_agent_info info;
    rc = ns_agent_register(c->d->ns, c->gc.p->tenant, ns, agent, d, c->gc.p->actor, c->r->pool,
                           &info);
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, rc == GW_ECONFLICT ? rc : GW_ESTORE,
                           "agent could not be registered");
        goto out;
    }
    http_respond_json(c->r, 201, agent_json(&info));
out:
    json_decref(body);
}

void api_agents_list(struct api_call *c)
{
    if (!api_require(c, "agents:read"))
        return;
    const char *ns = http_query(c->r, "namespace");
    if (ns && !cfg_name_valid(ns)) {
        http_respond_error(c->r, GW_EINVAL, "invalid namespace name");
        return;
    }
    struct ns_agent_info *list = NULL;
    size_t n = 0;
    ns_agent_list(c->d->ns, c->gc.p->tenant, ns, c->r->pool, &list, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (auth_allows_channel(c->gc.p, list[i].ns, list[i].agent))
            json_array_append_new(arr, agent_json(&list[i]));
    http_respond_json(c->r, 200, json_pack("{s:o}", "agents", arr));
}

bool api_runtime_agent(struct api_call *c, const char *in_file, struct ns_agent_info *info)
{
    const char *ns = c->var[0], *agent = c->var[1];
    if (!api_require(c, "agents:write"))
        return false;
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        http_respond_error(c->r, GW_EINVAL,
                           "namespace and agent must be 1-63 characters of "
                           "[a-z0-9_-] starting with a letter or digit");
        return false;
    }
    const char *name = c->gc.audit.resource = gw_pool_printf(c->r->pool, "%s/%s", ns, agent);
    if (!auth_allows_channel(c->gc.p, ns, agent)) {
        api_deny_channel(c, ns, agent);
        return false;
    }
    if (ns_agent_find(c->d->ns, c->gc.p->tenant, ns, agent, c->r->pool, info) != GW_OK) {
        http_respond_error(c->r, GW_ENOTFOUND, "no agent %s", name);
        return false;
    }
    if (strcmp(info->source, "config") == 0) {
        http_respond_error(c->r, GW_ECONFLICT,
                           "agent %s is declared in the configuration "
                           "file; %s there and reload",
                           name, in_file);
        return false;
    }
    return true;
}

void api_agents_delete(struct api_call *c)
{
    const char *ns = c->var[0], *agent = c->var[1];
    struct ns_agent_info info;
    if (!api_runtime_agent(c, "remove it", &info))
        return;
    const char *name = info.name;
    if (!api_audit_sync(c, "agent.deleted", name, 200, json_pack("{s:s}", "name", name)))
        return;
    gw_err rc = ns_agent_delete(c->d->ns, c->gc.p->tenant, ns, agent);
    if (rc == GW_OK) /* a later agent of this name starts without it */
        rc = llm_registry_forget_agent(c->d->models, c->gc.p->tenant, name);
    if (rc != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, rc == GW_ENOTFOUND ? rc : GW_ESTORE,
                           "agent %s could not be deleted", name);
        return;
    }
    http_respond_json(c->r, 200, json_pack("{s:s,s:b}", "name", name, "deleted", 1));
}

bool api_channel_agent(struct api_call *c, struct ns_agent_info *info)
{
    const char *ns = c->var[0], *agent = c->var[1];
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        http_respond_error(c->r, GW_EINVAL,
                           "namespace and agent must be 1-63 characters of [a-z0-9_-] starting "
                           "with a letter or digit");
        return false;
    }
    c->gc.audit.resource = gw_pool_printf(c->r->pool, "%s/%s", ns, agent);
    if (!auth_allows_channel(c->gc.p, ns, agent)) {
        api_deny_channel(c, ns, agent);
        return false;
    }
    if (ns_agent_find(c->d->ns, c->gc.p->tenant, ns, agent, c->r->pool, info) != GW_OK) {
        http_respond_error(c->r, GW_ENOTFOUND, "no agent %s/%s", ns, agent);
        return false;
    }
    return true;
}

void api_messages_send(struct api_call *c)
{
    struct ns_agent_info info;
    if (!api_channel_agent(c, &info))
        return;
    json_t *body = api_json_body(c);
    if (!body)
        return;
    json_t *content = json_object_get(body, "content");
    json_t *stream = json_object_get(body, "stream");
    json_t *session = json_object_get(body, "session");
    if (!json_is_string(content) || (stream && !json_is_boolean(stream)) ||
        (session && (!json_is_string(session) || !cfg_name_valid(json_string_value(session)))) ||
        json_object_size(body) != 1u + (stream != NULL) + (session != NULL)) {
        http_respond_error(c->r, GW_EINVAL,
                           "expected {\"content\": string, \"stream\"?: bool, "
                           "\"session\"?: name}");
        goto out;
    }
    size_t len = json_string_length(content);
    if (len == 0 || len > c->gc.cfg->limits.max_message_bytes) {
        http_respond_error(c->r, len ? GW_ETOOBIG : GW_EINVAL, "content must be 1 to %zu bytes",
                           c->gc.cfg->limits.max_message_bytes);
        goto out;
    }
    /* an agent with a model answers: the message runs a turn */
    const struct cfg_agent *runner = api_agent_runner(c, info.name);
    if (runner && runner->model) {
        const char *accept = http_header(c->r, "Accept");
        bool sse = json_is_true(stream) || (accept && strstr(accept, "text/event-stream"));
        c->gc.audit.type = "agent.turn";
        api_agent_channel_turn(c, runner, json_string_value(content),
                               session ? json_string_value(session) : "main", sse);
        goto out;
    }
    char id[40];
    ns_message_id(id, sizeof(id));
    json_t *details = json_pack("{s:s,s:O}", "message_id", id, "content", content);
    if (!api_audit_sync(c, "message.sent", info.channel, 202, details))
        goto out;
    if (ns_message_post(c->d->ns, c->gc.p->tenant, id, info.channel, c->gc.p->actor,
                        json_string_value(content)) != GW_OK) {
        api_audit_failed(c);
        http_respond_error(c->r, GW_ESTORE, "the message could not be stored");
        goto out;
    }
    /* nothing answers: say so, and how to read the mailbox and to give the agent a model */
    bool file = !strcmp(info.source, "config");
    const char *hint = gw_pool_printf(c->r->pool,
                                      "%s has no model, so nothing answers: the "
                                      "message waits in its mailbox (openclaw messages list "
                                      "%s). Give it one: %s%s%s",
                                      info.name, info.name,
                                      file ? "its agents[].model in gateway.yaml, then openclaw "
                                             "admin reload"
                                           : "openclaw models assign ",
                                      file ? "" : info.name, file ? "" : " <provider>/<model>");
    http_respond_json(c->r, 202,
                      json_pack("{s:s,s:s,s:s,s:n,s:s}", "id", id, "channel", info.channel,
                                "status", "stored", "model", "hint", hint));
out:
    json_decref(body);
}
