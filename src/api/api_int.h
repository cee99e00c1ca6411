/* SPDX-License-Identifier: MIT
 * api_int.h — shared by the route handlers: the per-request call context and helpers.
 *
 * Audit rule: every authenticated API request becomes exactly one audit event. A mutation
 * writes its event durably with api_audit_sync *before* it changes anything (and answers 503
 * if that fails); every other request is audited asynchronously when it completes, with the
 * route's event type, the answered status and the outcome derived from it.
 */
#ifndef GW_API_INT_H
#define GW_API_INT_H

#include "api/api.h"
#include "api/api_path.h"
#include "auth/auth.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "config/config.h"
#include "gov/gov.h"

/* An HTTP request as a governed call: the spine's call first (pool, configuration snapshot,
 * principal, request id, client address, the one audit event), then what only HTTP has. */
struct api_call {
    struct gov_call gc; /* first: a struct api_call * is a struct gov_call * */
    struct api_deps *d; /* the services (api.h), owned by the daemon */
    struct http_req *r;
    const struct cfg_tenant *tenant;   /* the tenant this address serves (Host, path prefix) */
    const char *base;                  /* the path prefix that routed here ("" or "/<t>") */
    const char *var[API_MAX_SEGMENTS]; /* decoded {variables} of the route, in order */
    size_t n_var;
};

typedef void api_handler_fn(struct api_call *c);

/* gov_audit_ahead for a mutation of this request; on failure answers 503 and returns false,
 * and the caller must not apply its change. details is stolen. */
bool api_audit_sync(struct api_call *c, const char *type, const char *resource, int status,
                    json_t *details);
/* After api_audit_sync succeeded but applying the change failed. */
#define api_audit_failed(c) gov_audit_failed(&(c)->gc)
/* Too many failed authentications from the client's address: answers 429 (Retry-After) and
 * returns true. */
bool api_throttled(struct api_call *c);
/* Requires a scope/permission; answers 403 naming it and returns false when missing. */
bool api_require(struct api_call *c, const char *scope);
/* Answers 403 saying why the caller may not use channel ns/agent (agent NULL: namespace ns):
 * the missing scope, or the missing namespace grant and how to add it. */
void api_deny_channel(struct api_call *c, const char *ns, const char *agent);
/* The agent of a channel route's "{ns}/{agent}" variables (the call's audit resource), when
 * the names are valid, the caller may use the channel and the agent exists; otherwise answers
 * 400, 403 or 404 and returns false (api_agents.c). */
struct ns_agent_info;
bool api_channel_agent(struct api_call *c, struct ns_agent_info *info);
/* Parses the JSON body of a POST/PUT (content type checked); answers 4xx and returns NULL on
 * error. The result is owned by the caller. */
json_t *api_json_body(struct api_call *c);
/* The namespaces of the caller's tenant (configured, with agents, or with members), sorted
 * and unique, in the request pool; and the JSON array of those the caller reaches. */
size_t api_known_namespaces(struct api_call *c, const char ***out);
json_t *api_reachable_namespaces(struct api_call *c);
/* A new reference to the daemon's current configuration (cfg_unref it); the call's own
 * snapshot is c->gc.cfg. */
#define api_config(d) ((d)->host.config((d)->host.arg))
/* Time as RFC 3339 string in the request pool (NULL for 0). */
const char *api_time(struct api_call *c, int64_t ms);

/* Handlers (one file per family). */
api_handler_fn api_health, api_ready, api_status, api_userinfo, api_audit_public_key, api_openapi;
api_handler_fn api_tokens_create, api_tokens_list, api_tokens_rotate, api_tokens_revoke;
api_handler_fn api_agents_register, api_agents_list, api_agents_delete, api_messages_send;
api_handler_fn api_namespaces_list, api_namespaces_get, api_namespaces_member_add,
    api_namespaces_member_remove, api_scopes_list;
api_handler_fn api_memory_get, api_memory_put;
api_handler_fn api_audit_query, api_audit_export, api_audit_verify, api_audit_head,
    api_audit_proof_inclusion, api_audit_proof_consistency, api_audit_rotate_key;
api_handler_fn api_admin_reload;
api_handler_fn api_policies_create, api_policies_list, api_policies_get, api_policies_update,
    api_policies_deprecate, api_policies_history, api_policies_diff, api_policies_rollback,
    api_policies_effective, api_policies_evaluate;
api_handler_fn api_classification_get, api_classification_put, api_classification_clear;
api_handler_fn api_models_list, api_models_get, api_chat_completions;
api_handler_fn api_providers_list, api_providers_get, api_providers_add, api_providers_set,
    api_providers_remove, api_providers_test;
api_handler_fn api_catalog_list, api_catalog_get, api_catalog_add, api_catalog_set,
    api_catalog_remove, api_catalog_test, api_agents_model_set;
api_handler_fn api_tools_invoke, api_approvals_list, api_approvals_get, api_approvals_approve,
    api_approvals_reject;
api_handler_fn api_costs_get;
api_handler_fn api_conversations_list, api_conversations_get, api_conversations_export,
    api_conversations_delete, api_messages_list;
api_handler_fn api_auth_login, api_auth_callback, api_auth_logout, api_auth_sessions_list,
    api_auth_sessions_revoke, api_auth_user_sessions_revoke;
api_handler_fn api_cli_authorize, api_cli_authorize_confirm, api_cli_token, api_cli_revoke;
api_handler_fn api_saml_metadata, api_saml_acs, api_saml_slo;
api_handler_fn api_streams_resume;

/* --- resumable SSE streams (api_streams.c) --------------------------------------------------- */

#define API_STREAM_ID_LEN 40 /* "chatcmpl-" + 24 hex digits + NUL, with room */

struct shared_stream;
/* A streamed answer being produced: its id, the events sent, and its log (NULL: not logged). */
struct api_sse {
    char id[API_STREAM_ID_LEN];
    int64_t n;
    struct shared_stream *log;
    bool failed; /* a write failed: the client is gone (events are still logged) */
    bool keep;   /* the client asked (X-OpenClaw-Resumable: true) that the answer goes on when it
                    goes away, so that it can resume; otherwise a disconnect cancels it */
};

bool api_stream_id_ok(const char *id);
void api_stream_new_id(char out[API_STREAM_ID_LEN]);
/* Begins the stream id (the answer's id; a new one when it is not a well-formed stream id). */
void api_sse_begin(struct api_sse *x, struct api_call *c, const char *id);
/* Sends one SSE frame ("data: ...\n\n", or with an "event:" line) with its "id: <id>:<n>" line
 * and logs it; last: the answer ends with it. GW_ECANCELED once a write failed. */
gw_err api_sse_send(struct api_sse *x, struct http_stream *hs, const char *frame, bool last);
void api_sse_end(struct api_sse *x);

/* Identifies the caller through the login methods (auth_authn.c) from the request's
 * Authorization header, session cookie and CSRF token; sets c->gc.p (and the call's tenant)
 * and returns true, or returns false with the error in *rc and msg. With local_only (a
 * throttled address) an IdP token is refused unchecked. */
bool api_identify(struct api_call *c, bool local_only, gw_err *rc, char *msg, size_t cap);
/* The end of every successful IdP login, whatever the protocol ("oidc", "saml"): claims →
 * identity and role (403 page when unmapped or disabled) → just-in-time provisioning → new
 * session (replacing the browser's previous one) → audit "auth.login" → session and CSRF
 * cookies → 302 to return_to (a local path) or "/". Answers the request in every case. */
void api_sso_complete(struct api_call *c, const json_t *claims, const char *protocol,
                      const char *return_to);
/* The tenant whose IdP signs users in at this address: the routed tenant when it has one,
 * else the primary tenant (whose sso.tenant_claim routes users to theirs). */
const struct cfg_tenant *api_idp_tenant(const struct api_call *c);
/* Adds the SSO fields (auth_method, groups, session_id, csrf_token) to a userinfo body. */
void api_auth_userinfo_extend(struct api_call *c, json_t *body);
/* Shared by the SSO route files (api_auth.c): the browser's pre-login cookie value when
 * well-formed (else NULL), a Set-Cookie header clearing <cookie_name><suffix>, the HTML page
 * of a failed step, and the audit of a failure ({"reason"} under the given event type). */
const char *api_sso_binding(struct api_call *c);
const char *api_sso_clear_cookie(struct api_call *c, const char *suffix);
void api_sso_page(struct api_call *c, int status, const char *title, const char *reason,
                  const char *hint, const char *const *headers);
void api_sso_fail(struct api_call *c, const char *type, const char *reason);
/* SAML half of logout (api_saml.c): true when the session of this cookie value came from a SAML
 * login; *url is then the IdP's LogoutRequest URL, or NULL when the IdP has no single logout. */
bool api_saml_logout(struct api_call *c, const char *secret, const char **url);
/* The browser's session cookie value, or NULL. */
const char *api_session_cookie(struct api_call *c);
/* Appends s with the HTML special characters escaped. */
void api_html_escape(struct gw_buf *b, const char *s);

/* CLI sign-in (api_auth_cli.c): POST /api/v1/auth/logout authenticated by a CLI access
 * token ends that CLI session. */
void api_cli_logout(struct api_call *c);

/* The agent {ns}/{agent} of the route for a change (api_agents.c): agents:write, valid names,
 * the caller's reach, and an agent registered through the API (one declared in gateway.yaml is
 * 409: "<in_file> there and reload"). Answers and returns false otherwise. */
bool api_runtime_agent(struct api_call *c, const char *in_file, struct ns_agent_info *info);
/* The agent "<ns>/<agent>" of the caller's tenant as a turn runs it: the configuration's, or
 * one registered through the API with the model set at run time (api_models.c); NULL when
 * neither (unknown, or an API agent without a model). */
const struct cfg_agent *api_agent_runner(struct api_call *c, const char *name);

/* Agent turns (api_chat.c): "model": "openclaw/<ns>/<agent>" on /v1/chat/completions, and
 * channel messages to an agent that has a model. */
void api_agent_chat_openai(struct api_call *c, json_t *body, const char *agent);
void api_agent_channel_turn(struct api_call *c, const struct cfg_agent *agent, const char *text,
                            const char *session, bool stream);

#endif
