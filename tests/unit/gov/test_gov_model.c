/* SPDX-License-Identifier: MIT
 * test_gov_model.c — the governed model call (gov_model.c, gov_route.c), step by step, each
 * with a case that passes and one that stops it: classification of everything sent (a
 * declared floor raises it, data.default_classification fills it), routing (a model not
 * configured, an exhausted budget, a models policy that denies and names itself, data above an
 * external provider's ceiling rerouted to the self-hosted model, data residency, each fallback
 * checked like the primary) and redaction when the data policy asks for it. The calls go
 * through the real model client and outbound loop to a tiny OpenAI-compatible server on
 * loopback, which reports what it received; usage is metered on the real store.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "base/log.h"
#include "gov/gov_model.h"
#include "llm/llm_canon.h"
#include "meter/meter.h"
#include "net/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_gov.h"

/* --- a tiny OpenAI-compatible server: one connection at a time, "Connection: close" ------- */

static struct {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int requests;
    char body[8192]; /* the last request's body */
} S;

static void serve(int fd)
{
    char req[16384];
    size_t n = 0, need = 0;
    char *body = NULL;
    while (n + 1 < sizeof(req)) {
        ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        req[n] = '\0';
        char *end = strstr(req, "\r\n\r\n");
        if (end && !body) {
            body = end + 4;
            const char *cl = strcasestr(req, "\r\nContent-Length:");
            need = cl ? strtoul(cl + 17, NULL, 10) : 0;
        }
        if (body && (size_t)(req + n - body) >= need)
            break;
    }
    json_t *rq = body ? json_loads(body, 0, NULL) : NULL;
    pthread_mutex_lock(&S.mu);
    S.requests++;
    snprintf(S.body, sizeof(S.body), "%s", body ? body : "");
    pthread_mutex_unlock(&S.mu);
    json_t *answer = json_pack("{s:s,s:s,s:i,s:s?,s:[{s:i,s:{s:s,s:s},s:s}],s:{s:i,s:i,s:i}}", "id",
                               "chatcmpl-1", "object", "chat.completion", "created", 1, "model",
                               gw_json_str(rq, "model"), "choices", "index", 0, "message", "role",
                               "assistant", "content", "done", "finish_reason", "stop", "usage",
                               "prompt_tokens", 1000, "completion_tokens", 10, "total_tokens",
                               1010);
    char *text = json_dumps(answer, JSON_COMPACT);
    char head[256];
    int hn = snprintf(head, sizeof(head),
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      strlen(text));
    if (write(fd, head, (size_t)hn) == hn && write(fd, text, strlen(text)) < 0)
        print_error("the test server could not answer\n");
    free(text);
    json_decref(answer);
    json_decref(rq);
}

static void *srv_main(void *arg)
{
    GW_UNUSED(arg);
    for (;;) {
        int fd = accept(S.lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        serve(fd);
        close(fd);
    }
}

/* --- fixture ------------------------------------------------------------------------------ */

static struct net_loop *net;

static const char yaml_fmt[] =
    "tenant: {id: acme}\n"
    "identity:\n"
    "  org_units: [engineering, sales]\n"
    "  teams:\n"
    "    - {id: platform, org_unit: engineering}\n"
    "    - {id: deals, org_unit: sales}\n"
    "models:\n"
    "  allowed_regions: [eu-west-1]\n"
    "  providers:\n"
    "    - name: openai\n"
    "      api: openai\n"
    "      base_url: http://127.0.0.1:%d/v1\n"
    "      region: eu-west-1\n"
    "      retries: 0\n"
    "      fallback: [backup/gpt-b, shady/m]\n"
    "      models:\n"
    "        - {name: gpt-4o, input_per_mtok: 2.5, output_per_mtok: 10}\n"
    "    - name: backup\n"
    "      api: openai\n"
    "      base_url: http://127.0.0.1:%d/v1\n"
    "      region: eu-west-1\n"
    "      retries: 0\n"
    "      models: [{name: gpt-b}]\n"
    "    - name: shady\n"
    "      api: openai\n"
    "      base_url: http://127.0.0.1:%d/v1\n"
    "      region: eu-west-1\n"
    "      retries: 0\n"
    "      models: [{name: m}]\n"
    "    - name: local\n"
    "      api: openai\n"
    "      kind: self_hosted\n"
    "      base_url: http://127.0.0.1:%d/v1\n"
    "      region: eu-west-1\n"
    "      retries: 0\n"
    "      models: [{name: llama}]\n"
    "costManagement:\n"
    "  budgets:\n"
    "    capped: {monthlyUsdLimit: 1, onExceed: disable}\n";

/* External providers get internal data at most (above: rerouted to local/llama); shady is not
 * allowed; the team platform's data is redacted before it leaves. */
static const char policies[] = "- scope: enterprise\n"
                               "  domain: models\n"
                               "  content:\n"
                               "    allowed_providers: [openai, backup, local]\n"
                               "    allowed_models: ['*']\n"
                               "    max_classification_external: internal\n"
                               "    sensitive_data_model: local/llama\n"
                               "- scope: enterprise\n"
                               "  domain: data\n"
                               "  content: {default_classification: internal}\n"
                               "- scope: team\n"
                               "  scope_id: platform\n"
                               "  domain: data\n"
                               "  content: {redact_external: true}\n";

struct t {
    struct fx *f;
    struct llm_client *llm;
    struct meter *costs;
    struct auth_principal *alice; /* team platform: redacted */
    struct auth_principal *carol; /* team deals */
};

static int group_setup(void **state)
{
    GW_UNUSED(state);
    S.lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(S.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(S.lfd, 16), 0);
    socklen_t len = sizeof(a);
    getsockname(S.lfd, (struct sockaddr *)&a, &len);
    S.port = ntohs(a.sin_port);
    pthread_mutex_init(&S.mu, NULL);
    assert_int_equal(pthread_create(&S.th, NULL, srv_main, NULL), 0);
    assert_int_equal(net_loop_start(&net), GW_OK);
    struct net_egress *eg = NULL;
    struct net_egress_rules rules = {.allow_private = true, .proxy = ""};
    char msg[200];
    assert_int_equal(net_egress_new(&rules, &eg, msg, sizeof(msg)), GW_OK);
    net_loop_set_egress(net, eg);
    net_egress_unref(eg);
    return 0;
}

static int group_teardown(void **state)
{
    GW_UNUSED(state);
    net_loop_stop(net);
    shutdown(S.lfd, SHUT_RDWR);
    close(S.lfd);
    pthread_join(S.th, NULL);
    pthread_mutex_destroy(&S.mu);
    return 0;
}

static int setup(void **state)
{
    struct t *t = gw_xcalloc(1, sizeof(*t));
    char *yaml = gw_xasprintf(yaml_fmt, S.port, S.port, S.port, S.port);
    t->f = fx_services(yaml, policies);
    free(yaml);
    assert_int_equal(llm_client_start(net, &t->llm), GW_OK);
    assert_int_equal(meter_open(t->f->st, t->f->cfg, net, &t->costs), GW_OK);
    struct gov_deps deps = {.net = net, .llm = t->llm, .costs = t->costs};
    fx_spine(t->f, &deps);
    t->alice = fx_person(t->f, "alice", "user", "engineering", "platform", NULL, 0);
    t->carol = fx_person(t->f, "carol", "user", "sales", "deals", NULL, 0);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    llm_client_stop(t->llm);
    meter_close(t->costs);
    fx_close(t->f);
    free(t);
    return 0;
}

/* A checked chat request of one user message per text (NULL-terminated). */
static json_t *chat(const char *first, ...)
{
    json_t *msgs = json_array();
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", s));
    va_end(ap);
    json_t *rq = json_pack("{s:s,s:o}", "model", "m", "messages", msgs);
    char msg[200];
    assert_int_equal(llm_canon_check(rq, msg, sizeof(msg)), GW_OK);
    return rq;
}

struct call {
    gw_err rc;
    char msg[512];
    struct gov_model *m;
    struct gov_call gc;
};

/* gov_model_prepare of canon (stolen) to model for p, paid by workspace. */
static struct call *prepare(struct t *t, struct auth_principal *p, const char *model, json_t *canon,
                            int floor, const char *workspace)
{
    struct call *c = gw_pool_calloc(t->f->pool, sizeof(*c));
    c->gc = fx_call(t->f, p);
    struct gov_model_req rq = {.model = model,
                               .canon = canon,
                               .floor = floor,
                               .workspace = workspace};
    c->rc = gov_model_prepare(&c->gc, &rq, &c->m, c->msg, sizeof(c->msg));
    json_decref(canon);
    assert_non_null(c->m->details);
    return c;
}

static const char *routed_to(const struct call *c, size_t i)
{
    const struct llm_target *x = &c->m->route.targets[i];
    static char s[128];
    snprintf(s, sizeof(s), "%s/%s", x->provider->name, x->model->name);
    return s;
}

#define CARD "card 4111 1111 1111 1111"

/* What the door does with the outcome: the call's one event carries the route's details. The
 * stored details of that event (new reference). */
static json_t *door_event(struct t *t, struct call *c, int status)
{
    c->gc.audit.type = "model.completion";
    c->gc.audit.resource = c->m->route.routed;
    c->gc.audit.classification = pol_level_name(c->m->route.classification);
    c->gc.audit.details = c->m->details;
    c->m->details = NULL;
    gov_audit_finish(&c->gc, status, NULL);
    json_t *d = NULL;
    struct store_audit_row *r = fx_row(t->f, c->gc.request_id, "model.completion", &d);
    assert_string_equal(r->classification, pol_level_name(c->m->route.classification));
    assert_string_equal(r->actor, c->gc.p->actor);
    store_audit_rows_free(r, 1);
    return d;
}

/* --- classification ------------------------------------------------------------------------ */

static void the_whole_request_is_classified(void **state)
{
    struct t *t = *state;
    /* nothing found, nothing declared: data.default_classification (internal) → external */
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat("hello", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_int_equal(c->m->route.classification, POL_LEVEL_INTERNAL);
    assert_false(c->m->route.rerouted);
    assert_string_equal(routed_to(c, 0), "openai/gpt-4o");
    assert_string_equal(gw_json_str(c->m->details, "classification"), "internal");
    /* a card number in a later message makes it confidential: above the external ceiling */
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hello", "and " CARD, NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_int_equal(c->m->route.classification, POL_LEVEL_CONFIDENTIAL);
    assert_true(c->m->route.rerouted);
    /* a declared floor raises it too, and detectors never lower it */
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hello", NULL), POL_LEVEL_CONFIDENTIAL, "w");
    assert_int_equal(c->m->route.classification, POL_LEVEL_CONFIDENTIAL);
    assert_true(c->m->route.rerouted);
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hello", NULL), POL_LEVEL_PUBLIC, "w");
    assert_int_equal(c->m->route.classification, POL_LEVEL_PUBLIC);
    c = prepare(t, t->carol, "openai/gpt-4o", chat(CARD, NULL), POL_LEVEL_PUBLIC, "w");
    assert_int_equal(c->m->route.classification, POL_LEVEL_CONFIDENTIAL);
}

/* --- routing ------------------------------------------------------------------------------- */

static void an_unknown_model_is_refused_before_the_policy(void **state)
{
    struct t *t = *state;
    struct call *c = prepare(t, t->carol, "openai/gpt-9", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_ENOTFOUND);
    assert_contains(c->msg, "model 'openai/gpt-9' is not configured");
    assert_false(c->m->route.decided);
    assert_true(json_is_null(json_object_get(c->m->details, "policy")));
    assert_string_equal(fx_events(t->f, c->gc.request_id), "");
}

static void an_exhausted_budget_refuses_the_call(void **state)
{
    struct t *t = *state;
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "capped");
    assert_int_equal(c->rc, GW_OK);
    /* 400k prompt tokens of gpt-4o: 1 USD, the whole monthly limit */
    struct meter_usage u = {.tenant = TENANT,
                            .user = "carol",
                            .workspace = "capped",
                            .provider = "openai",
                            .model = "gpt-4o",
                            .prompt_tokens = 400000,
                            .at_ms = gw_now_ms(),
                            .request_id = "r"};
    meter_record(t->costs, &u);
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "capped");
    assert_int_equal(c->rc, GW_EPAYMENT);
    assert_contains(c->msg, "capped");
    assert_false(c->m->route.decided);
    assert_int_equal(c->m->route.n_targets, 0);
    /* another workspace still pays */
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "other");
    assert_int_equal(c->rc, GW_OK);
}

static void a_denying_policy_names_itself(void **state)
{
    struct t *t = *state;
    struct call *c = prepare(t, t->carol, "shady/m", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_EFORBIDDEN);
    assert_true(c->m->route.decided);
    const struct pol_decision *d = &c->m->route.decision;
    assert_int_equal(d->effect, POL_DENY);
    assert_non_null(d->policy_id);
    char change[128];
    snprintf(change, sizeof(change), "`openclaw policy update %s`", d->policy_id);
    assert_contains(c->msg, change);
    assert_contains(c->msg, "shady");
    json_t *ev = door_event(t, c, 403);
    json_t *pol = json_object_get(ev, "policy");
    assert_string_equal(gw_json_str(pol, "effect"), "deny");
    assert_string_equal(gw_json_str(pol, "policy_id"), d->policy_id);
    json_decref(ev);
}

static void sensitive_data_goes_to_the_self_hosted_model(void **state)
{
    struct t *t = *state;
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat(CARD, NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_true(c->m->route.rerouted);
    assert_string_equal(c->m->route.requested, "openai/gpt-4o");
    assert_string_equal(c->m->route.routed, "local/llama");
    /* only the self-hosted model: the external fallbacks of the primary do not apply */
    assert_int_equal(c->m->route.n_targets, 1);
    assert_string_equal(routed_to(c, 0), "local/llama");
    assert_true(json_is_true(json_object_get(c->m->details, "rerouted")));
    assert_string_equal(gw_json_str(c->m->details, "model"), "local/llama");
    /* and the call reaches it */
    json_t *resp = NULL;
    assert_int_equal(gov_model_wait(c->m, NULL, &resp, c->msg, sizeof(c->msg)), GW_OK);
    json_decref(resp);
    pthread_mutex_lock(&S.mu);
    json_t *sent = json_loads(S.body, 0, NULL);
    pthread_mutex_unlock(&S.mu);
    assert_string_equal(gw_json_str(sent, "model"), "llama");
    json_decref(sent);
    json_t *d = door_event(t, c, 200);
    assert_string_equal(gw_json_str(d, "requested_model"), "openai/gpt-4o");
    assert_string_equal(gw_json_str(d, "model"), "local/llama");
    assert_true(json_is_true(json_object_get(d, "rerouted")));
    assert_string_equal(gw_json_str(d, "classification"), "confidential");
    assert_string_equal(gw_json_str(d, "served_by"), "local/llama");
    json_decref(d);
}

static void fallbacks_are_checked_like_the_primary(void **state)
{
    struct t *t = *state;
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    /* backup is allowed, shady is not */
    assert_int_equal(c->m->route.n_targets, 2);
    assert_string_equal(routed_to(c, 0), "openai/gpt-4o");
    assert_string_equal(routed_to(c, 1), "backup/gpt-b");
    json_t *fb = json_object_get(c->m->details, "fallbacks");
    assert_int_equal(json_array_size(fb), 1);
    assert_string_equal(json_string_value(json_array_get(fb, 0)), "backup/gpt-b");
}

/* Data residency. A validated configuration lists only providers of allowed regions, so the
 * check is the last line of defence; the test moves a provider out of its region in its own
 * snapshot to reach it. */
static void move(struct t *t, const char *model, const char *region)
{
    const struct cfg_provider *cp = NULL;
    assert_non_null(cfg_find_model(t->f->cfg, model, &cp));
    struct cfg_provider *p = (struct cfg_provider *)cp;
    free(p->region);
    p->region = gw_xstrdup(region);
}

static void residency_keeps_data_in_the_allowed_regions(void **state)
{
    struct t *t = *state;
    move(t, "backup/gpt-b", "us-east-1");
    struct call *c = prepare(t, t->carol, "backup/gpt-b", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_EFORBIDDEN);
    assert_contains(c->msg, "region 'us-east-1', which data residency");
    /* as a fallback it is dropped */
    c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_int_equal(c->m->route.n_targets, 1);
    move(t, "backup/gpt-b", "eu-west-1");
    c = prepare(t, t->carol, "backup/gpt-b", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
}

/* --- redaction ----------------------------------------------------------------------------- */

static const char *sent_text(void)
{
    static char s[8192];
    pthread_mutex_lock(&S.mu);
    snprintf(s, sizeof(s), "%s", S.body);
    pthread_mutex_unlock(&S.mu);
    return s;
}

static void redaction_masks_findings_before_they_leave(void **state)
{
    struct t *t = *state;
    json_t *resp = NULL;
    /* alice's team redacts: the provider never sees the address */
    json_t *canon = chat("write to bob@example.com", NULL);
    struct call *c = prepare(t, t->alice, "openai/gpt-4o", json_incref(canon), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_true(c->m->route.decision.ob.redact);
    assert_int_equal(c->m->route.redacted, 1);
    assert_int_equal(json_integer_value(json_object_get(c->m->details, "redacted")), 1);
    /* the door's request is not changed */
    json_t *first = json_array_get(json_object_get(canon, "messages"), 0);
    assert_string_equal(gw_json_str(first, "content"), "write to bob@example.com");
    json_decref(canon);
    assert_int_equal(gov_model_wait(c->m, NULL, &resp, c->msg, sizeof(c->msg)), GW_OK);
    json_decref(resp);
    assert_null(strstr(sent_text(), "bob@example.com"));
    assert_contains(sent_text(), "[REDACTED:email]");
    json_t *d = door_event(t, c, 200);
    assert_int_equal(json_integer_value(json_object_get(d, "redacted")), 1);
    json_decref(d);
    /* carol's does not */
    c = prepare(t, t->carol, "openai/gpt-4o", chat("write to bob@example.com", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    assert_false(c->m->route.decision.ob.redact);
    assert_int_equal(gov_model_wait(c->m, NULL, &resp, c->msg, sizeof(c->msg)), GW_OK);
    json_decref(resp);
    assert_contains(sent_text(), "bob@example.com");
}

/* --- the call and its metering --------------------------------------------------------------- */

static void the_call_is_metered_against_the_workspace(void **state)
{
    struct t *t = *state;
    double before = -1, after = -1;
    char msg[256];
    assert_int_equal(meter_check(t->costs, TENANT, "w", &before, msg, sizeof(msg)), GW_OK);
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "w");
    json_t *resp = NULL;
    assert_int_equal(gov_model_wait(c->m, NULL, &resp, c->msg, sizeof(c->msg)), GW_OK);
    json_t *choice = json_array_get(json_object_get(resp, "choices"), 0);
    assert_string_equal(gw_json_str(json_object_get(choice, "message"), "content"), "done");
    json_decref(resp);
    /* 1000 prompt and 10 completion tokens of gpt-4o */
    double cost = 1000 * 2.5e-6 + 10 * 10e-6;
    assert_true(c->m->cost_usd > cost - 1e-9 && c->m->cost_usd < cost + 1e-9);
    assert_int_equal(c->m->usage.prompt_tokens, 1000);
    assert_string_equal(gw_json_str(c->m->details, "served_by"), "openai/gpt-4o");
    assert_int_equal(meter_check(t->costs, TENANT, "w", &after, msg, sizeof(msg)), GW_OK);
    assert_true(after - before > cost - 1e-9);
    json_t *d = door_event(t, c, 200);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(d, "usage"), "prompt_tokens")),
                     1000);
    assert_true(json_real_value(json_object_get(d, "cost_usd")) > cost - 1e-9);
    json_decref(d);
}

/* The asynchronous form (the OpenAI-compatible door): done runs once, after metering. */
struct done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    gw_err err;
    double cost;
};

static void on_done(void *arg, struct gov_model *m, const struct llm_result *res)
{
    struct done *d = arg;
    pthread_mutex_lock(&d->mu);
    d->calls++;
    d->err = res->err;
    d->cost = m->cost_usd;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void a_submitted_call_is_metered_before_done(void **state)
{
    struct t *t = *state;
    struct done d = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct call *c = prepare(t, t->carol, "openai/gpt-4o", chat("hi", NULL), -1, "w");
    assert_int_equal(c->rc, GW_OK);
    gov_model_submit(c->m, on_done, &d);
    pthread_mutex_lock(&d.mu);
    while (!d.calls)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    assert_int_equal(d.err, GW_OK);
    assert_true(d.cost > 0);
    double spent = -1;
    char msg[256];
    assert_int_equal(meter_check(t->costs, TENANT, "w", &spent, msg, sizeof(msg)), GW_OK);
    assert_true(spent >= d.cost - 1e-9);
    usleep(50 * 1000); /* exactly once */
    assert_int_equal(d.calls, 1);
    json_t *ev = door_event(t, c, 200);
    assert_string_equal(gw_json_str(ev, "served_by"), "openai/gpt-4o");
    json_decref(ev);
}

int main(void)
{
    gw_log_set_level(GW_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_whole_request_is_classified, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unknown_model_is_refused_before_the_policy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_exhausted_budget_refuses_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(a_denying_policy_names_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(sensitive_data_goes_to_the_self_hosted_model, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fallbacks_are_checked_like_the_primary, setup, teardown),
        cmocka_unit_test_setup_teardown(residency_keeps_data_in_the_allowed_regions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(redaction_masks_findings_before_they_leave, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_call_is_metered_against_the_workspace, setup, teardown),
        cmocka_unit_test_setup_teardown(a_submitted_call_is_metered_before_done, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
