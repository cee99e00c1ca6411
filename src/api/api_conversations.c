/* SPDX-License-Identifier: MIT
 * api_conversations.c — conversations read back over HTTP, and the mailboxes of agents
 * without a model.
 *
 * Thin adapters over the conversation service (agent.h): parse and bound the query, require
 * the scope (conversations:read to read, conversations:write to delete), call the service,
 * render. Whose conversations the caller may see, the audit of reading someone else's, and the
 * data policy's say on exports are the service's. A mailbox is read with the channel's own
 * access (its channels: scope and namespace reach), like sending to it.
 */
#include "base/prelude.h"
#include "agent/agent.h"
#include "api/api_int.h"
#include "ns/ns.h"

#include <errno.h>

/* The integer query parameter name in [lo, hi] (def when absent); answers 400 and returns
 * false when it is malformed. */
static bool query_int(struct api_call *c, const char *name, int64_t lo, int64_t hi, int64_t def,
                      int64_t *out)
{
    const char *s = http_query(c->r, name);
    *out = def;
    if (!s)
        return true;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        http_respond_error(c->r, GW_EINVAL, "%s must be an integer from %lld to %lld", name,
                           (long long)lo, (long long)hi);
        return false;
    }
    *out = v;
    return true;
}

/* A query string parameter of at most max bytes (NULL when absent); answers 400 otherwise. */
static bool query_str(struct api_call *c, const char *name, size_t max, const char **out)
{
    *out = http_query(c->r, name);
    if (!*out || (**out && strlen(*out) <= max))
        return true;
    http_respond_error(c->r, GW_EINVAL, "%s must be 1 to %zu characters", name, max);
    return false;
}

static void fail(struct api_call *c, gw_err rc, const char *msg)
{
    http_respond_error(c->r, rc, "%s", msg);
}

void api_conversations_list(struct api_call *c)
{
    if (!api_require(c, "conversations:read"))
        return;
    struct agent_conv_filter f = {0};
    int64_t limit;
    if (!query_int(c, "limit", 1, AGENT_CONV_PAGE_MAX, 50, &limit) ||
        !query_str(c, "user", 256, &f.user) || !query_str(c, "agent", 128, &f.agent) ||
        !query_str(c, "cursor", AGENT_CURSOR_MAX, &f.cursor))
        return;
    f.limit = (size_t)limit;
    json_t *page = NULL;
    char msg[300];
    gw_err rc = agent_conv_list(c->d->history, &c->gc, &f, &page, msg, sizeof(msg));
    if (rc != GW_OK)
        fail(c, rc, msg);
    else
        http_respond_json(c->r, 200, page);
}

void api_conversations_get(struct api_call *c)
{
    if (!api_require(c, "conversations:read"))
        return;
    int64_t limit, after;
    if (!query_int(c, "limit", 1, AGENT_CONV_MESSAGES_MAX, 100, &limit) ||
        !query_int(c, "cursor", 0, INT64_MAX, 0, &after))
        return;
    json_t *page = NULL;
    char msg[300];
    gw_err rc = agent_conv_read(c->d->history, &c->gc, c->var[0], after, (size_t)limit, &page, msg,
                                sizeof(msg));
    if (rc != GW_OK)
        fail(c, rc, msg);
    else
        http_respond_json(c->r, 200, page);
}

void api_conversations_export(struct api_call *c)
{
    if (!api_require(c, "conversations:read"))
        return;
    const char *fmt = http_query(c->r, "format"), *dest = http_query(c->r, "destination");
    bool md = fmt && (!strcmp(fmt, "markdown") || !strcmp(fmt, "md"));
    if (fmt && !md && strcmp(fmt, "json") != 0) {
        http_respond_error(c->r, GW_EINVAL, "format must be json or markdown");
        return;
    }
    if (dest && strcmp(dest, "internal") != 0 && strcmp(dest, "external") != 0) {
        http_respond_error(c->r, GW_EINVAL, "destination must be internal or external");
        return;
    }
    char *text = NULL, msg[POL_REASON_MAX + 100];
    size_t len = 0;
    gw_err rc = agent_conv_export(c->d->history, &c->gc, c->var[0],
                                  md ? AGENT_EXPORT_MARKDOWN : AGENT_EXPORT_JSON,
                                  dest && !strcmp(dest, "external"), &text, &len, msg, sizeof(msg));
    if (rc != GW_OK) {
        fail(c, rc, msg);
        return;
    }
    /* the id was found in the store, so it is a safe file name */
    char disp[128];
    snprintf(disp, sizeof(disp), "Content-Disposition: attachment; filename=\"%s.%s\"", c->var[0],
             md ? "md" : "json");
    const char *hdrs[] = {disp, NULL};
    http_respond(c->r, 200, md ? "text/markdown; charset=utf-8" : "application/json", text, len,
                 hdrs);
    free(text);
}

void api_conversations_delete(struct api_call *c)
{
    if (!api_require(c, "conversations:write"))
        return;
    json_t *result = NULL;
    char msg[300];
    gw_err rc = agent_conv_delete(c->d->history, &c->gc, c->var[0], &result, msg, sizeof(msg));
    if (rc != GW_OK)
        fail(c, rc, msg);
    else
        http_respond_json(c->r, 200, result);
}

void api_messages_list(struct api_call *c)
{
    struct ns_agent_info info;
    if (!api_channel_agent(c, &info))
        return;
    int64_t limit;
    const char *cursor;
    if (!query_int(c, "limit", 1, AGENT_MAILBOX_PAGE_MAX, 50, &limit) ||
        !query_str(c, "cursor", AGENT_CURSOR_MAX, &cursor))
        return;
    json_t *page = NULL;
    char msg[300];
    gw_err rc = agent_mailbox_page(c->d->history, c->gc.p->tenant, info.channel, cursor,
                                   (size_t)limit, &page, msg, sizeof(msg));
    if (rc != GW_OK) {
        fail(c, rc, msg);
        return;
    }
    c->gc.audit.details = json_pack("{s:I}", "returned",
                                    (json_int_t)json_array_size(json_object_get(page, "messages")));
    http_respond_json(c->r, 200, page);
}
