/* SPDX-License-Identifier: MIT
 * agent_conversations.c — reading conversations back: lists, pages of messages, exports and
 * deletion, under one access rule (agent.h), and the mailboxes of agents without a model.
 *
 * Who may read what is decided here from the principal alone, never from a parameter: the
 * owner key is the caller's (agent_history_owner), and an administrator's reach is its role
 * and org unit. Reads of someone else's conversations are audited durably before anything is
 * returned, so an administrator cannot read without a trace even when the audit sink fails.
 * An export is a data export: the detectors classify what it contains and the data policy
 * decides (gov_export_check) before a byte leaves. Lists page by opaque cursors
 * ("<ms>.<id>"), so a page never shifts under rows added meanwhile.
 */
#include "base/prelude.h"
#include "agent/agent_int.h"
#include "auth/auth.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "gov/gov_enforce.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>

#define READ_ALL "conversations:read_all"

/* --- who reads what ------------------------------------------------------------------------- */

static bool is_enterprise_admin(const struct auth_principal *p)
{
    return p->role && !strcmp(p->role, "enterprise_admin");
}

/* Is an owner of org unit ou within p's reach (read_all held)? */
static bool in_reach(const struct auth_principal *p, const char *ou)
{
    if (is_enterprise_admin(p))
        return true;
    if (!p->org_unit || !ou)
        return false;
    size_t n = strlen(p->org_unit);
    while (n > 1 && p->org_unit[n - 1] == '/')
        n--;
    return !strncmp(ou, p->org_unit, n) && (ou[n] == '\0' || ou[n] == '/');
}

static bool owns(const struct auth_principal *p, const struct store_conversation *c)
{
    return !strcmp(c->user_id, agent_history_owner(p));
}

/* Loads conversation id when p may read it (*others: it is someone else's); GW_ENOTFOUND
 * otherwise, the same answer as for a conversation that does not exist. */
static gw_err readable(struct agent_history *h, const struct auth_principal *p, const char *id,
                       struct store_conversation *c, bool *others, char *msg, size_t cap)
{
    gw_err rc = strlen(id) < AGENT_CONVERSATION_ID_LEN
                    ? store_conversation_get(h->st, p->tenant, id, c)
                    : GW_ENOTFOUND;
    if (rc == GW_OK) {
        *others = !owns(p, c);
        if (*others && !(auth_allows(p, READ_ALL) && in_reach(p, c->org_unit))) {
            store_conversation_release(c);
            rc = GW_ENOTFOUND;
        }
    }
    if (rc == GW_ENOTFOUND)
        snprintf(msg, cap, "no conversation %s", id);
    else if (rc != GW_OK)
        snprintf(msg, cap, "the conversation could not be read");
    return rc;
}

/* --- rendering ------------------------------------------------------------------------------ */

static json_t *summary_json(const struct store_conversation *c)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:o,s:o,s:I,s:s?}", "id", c->id, "agent",
                     c->channel, "session", c->session, "user", c->user_id, "org_unit", c->org_unit,
                     "team", c->team, "created_at", gw_json_time(c->created_ms), "updated_at",
                     gw_json_time(c->updated_ms), "messages", (json_int_t)c->messages, "title",
                     c->title);
}

/* A stored canonical message as the API shows it (only the members it defines). */
static json_t *message_json(const struct store_conversation_message *m)
{
    json_t *out = json_pack("{s:I,s:o}", "seq", (json_int_t)m->seq, "created_at",
                            gw_json_time(m->created_ms));
    json_t *v = json_loads(m->message, JSON_REJECT_DUPLICATES, NULL);
    static const char *const keys[] = {"role", "content", "tool_calls", "tool_call_id"};
    for (size_t i = 0; i < GW_ARRAY_LEN(keys); i++) {
        json_t *x = json_object_get(v, keys[i]);
        if (x || i < 2)
            json_object_set(out, keys[i], x ? x : json_null());
    }
    json_decref(v);
    return out;
}

/* --- cursors: "<ms>.<id>" of the last row of a page ----------------------------------------- */

static bool cursor_parse(const char *s, int64_t *ms, char id[AGENT_CONVERSATION_ID_LEN])
{
    *ms = 0;
    id[0] = '\0';
    if (!s)
        return true;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '.' || v <= 0 || !isdigit((unsigned char)s[0]))
        return false;
    const char *p = end + 1;
    size_t n = strlen(p);
    if (n == 0 || n >= AGENT_CONVERSATION_ID_LEN ||
        strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return false;
    *ms = v;
    memcpy(id, p, n + 1);
    return true;
}

static json_t *cursor_json(bool full, int64_t ms, const char *id)
{
    return full ? json_sprintf("%lld.%s", (long long)ms, id) : json_null();
}

/* --- lists ------------------------------------------------------------------------------------ */

/* The store filter for f from p's rights; GW_EFORBIDDEN when f asks beyond them. */
static gw_err list_filter(const struct auth_principal *p, const struct agent_conv_filter *f,
                          struct store_conversation_filter *sf, char *msg, size_t cap)
{
    const char *own = agent_history_owner(p);
    sf->tenant = p->tenant;
    sf->channel = f->agent;
    if (!f->user || !strcmp(f->user, own)) {
        sf->user_id = own;
        return GW_OK;
    }
    if (!auth_allows(p, READ_ALL)) {
        snprintf(msg, cap, "missing scope %s (only your own conversations can be listed)",
                 READ_ALL);
        return GW_EFORBIDDEN;
    }
    sf->user_id = strcmp(f->user, "*") ? f->user : NULL;
    if (!is_enterprise_admin(p)) {
        if (!p->org_unit) {
            snprintf(msg, cap, "%s reaches the org unit of the reader, and you have none",
                     READ_ALL);
            return GW_EFORBIDDEN;
        }
        sf->org_unit = p->org_unit;
    }
    return GW_OK;
}

gw_err agent_conv_list(struct agent_history *h, struct gov_call *gc,
                       const struct agent_conv_filter *f, json_t **page, char *msg, size_t cap)
{
    *page = NULL;
    struct store_conversation_filter sf = {0};
    char before_id[AGENT_CONVERSATION_ID_LEN];
    if (!cursor_parse(f->cursor, &sf.before_ms, before_id)) {
        snprintf(msg, cap, "invalid cursor (use next_cursor of the page before)");
        return GW_EINVAL;
    }
    sf.before_id = sf.before_ms ? before_id : NULL;
    gw_err rc = list_filter(gc->p, f, &sf, msg, cap);
    if (rc != GW_OK)
        return rc;
    struct store_conversation *list = NULL;
    size_t n = 0;
    rc = store_conversation_list(h->st, &sf, f->limit, &list, &n);
    if (rc != GW_OK) {
        snprintf(msg, cap, "the conversations could not be read");
        return rc;
    }
    json_t *arr = json_array(), *owners = json_array();
    const char *own = agent_history_owner(gc->p);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, summary_json(&list[i]));
        bool seen = !strcmp(list[i].user_id, own);
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(list[j].user_id, list[i].user_id);
        if (!seen) /* each other owner once */
            json_array_append_new(owners, json_string(list[i].user_id));
    }
    *page = json_pack("{s:o,s:o}", "conversations", arr, "next_cursor",
                      cursor_json(n && n == f->limit, n ? list[n - 1].updated_ms : 0,
                                  n ? list[n - 1].id : ""));
    store_conversation_list_free(list, n);
    /* whose conversations were shown is on the record before the answer is */
    json_t *details = json_pack("{s:s?,s:s?,s:I,s:o}", "user", f->user, "agent", f->agent,
                                "returned", (json_int_t)n, "others", owners);
    if (json_array_size(owners) &&
        gov_audit_ahead(gc, "conversation.listed", NULL, 200, details) != GW_OK) {
        snprintf(msg, cap, "the audit trail cannot be written; nothing was returned");
        json_decref(*page);
        *page = NULL;
        return GW_EAUDIT;
    }
    if (!gc->audit.done) {
        json_decref(gc->audit.details);
        gc->audit.details = details;
    }
    return GW_OK;
}

/* The call's event for a read of conversation c: durable first when it is someone else's. */
static gw_err audit_read(struct gov_call *gc, const char *type, const struct store_conversation *c,
                         bool others, json_t *details, char *msg, size_t cap)
{
    json_object_set_new(details, "owner", json_string(c->user_id));
    json_object_set_new(details, "agent", json_string(c->channel));
    json_object_set_new(details, "others", json_boolean(others));
    if (others && gov_audit_ahead(gc, type, c->id, 200, details) != GW_OK) {
        snprintf(msg, cap, "the audit trail cannot be written; nothing was returned");
        return GW_EAUDIT;
    }
    if (!others) {
        gc->audit.type = type;
        gc->audit.resource = gw_pool_strdup(gc->pool, c->id);
        json_decref(gc->audit.details);
        gc->audit.details = details;
    }
    return GW_OK;
}

gw_err agent_conv_read(struct agent_history *h, struct gov_call *gc, const char *id, int64_t after,
                       size_t limit, json_t **page, char *msg, size_t cap)
{
    *page = NULL;
    struct store_conversation c;
    bool others = false;
    gw_err rc = readable(h, gc->p, id, &c, &others, msg, cap);
    if (rc != GW_OK)
        return rc;
    struct store_conversation_message *list = NULL;
    size_t n = 0;
    rc = store_conversation_messages(h->st, c.id, after, limit, &list, &n);
    if (rc != GW_OK) {
        snprintf(msg, cap, "the conversation could not be read");
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, message_json(&list[i]));
    bool more = n && n == limit && list[n - 1].seq < c.messages;
    int64_t last = n ? list[n - 1].seq : 0;
    store_conversation_messages_free(list, n);
    rc = audit_read(gc, "conversation.read", &c, others,
                    json_pack("{s:I,s:I}", "after", (json_int_t)after, "returned", (json_int_t)n),
                    msg, cap);
    if (rc != GW_OK) {
        json_decref(arr);
        goto out;
    }
    *page = json_pack("{s:o,s:o,s:o}", "conversation", summary_json(&c), "messages", arr,
                      "next_cursor", more ? json_integer(last) : json_null());
out:
    store_conversation_release(&c);
    return rc;
}

/* --- export ----------------------------------------------------------------------------------- */

/* Every message of c (bounded by AGENT_CONV_EXPORT_MAX stored bytes) and the classification the
 * detectors find in them. */
static gw_err export_messages(struct agent_history *h, const struct store_conversation *c,
                              json_t *arr, int *level, char *msg, size_t cap)
{
    size_t bytes = 0;
    *level = POL_LEVEL_INTERNAL;
    for (int64_t after = 0;;) {
        struct store_conversation_message *list = NULL;
        size_t n = 0;
        gw_err rc = store_conversation_messages(h->st, c->id, after, AGENT_CONV_MESSAGES_MAX, &list,
                                                &n);
        if (rc != GW_OK) {
            snprintf(msg, cap, "the conversation could not be read");
            return rc;
        }
        for (size_t i = 0; i < n && rc == GW_OK; i++) {
            size_t len = strlen(list[i].message);
            bytes += len;
            if (bytes > AGENT_CONV_EXPORT_MAX) {
                snprintf(msg, cap, "the conversation is larger than %zu MiB: read it page by page",
                         AGENT_CONV_EXPORT_MAX >> 20);
                rc = GW_ETOOBIG;
                break;
            }
            /* the stored text holds every string of the message: classify it whole */
            *level = pol_classify_raise(*level, list[i].message, len);
            json_array_append_new(arr, message_json(&list[i]));
            after = list[i].seq;
        }
        store_conversation_messages_free(list, n);
        if (rc != GW_OK || n < AGENT_CONV_MESSAGES_MAX)
            return rc;
    }
}

static gw_err render(const json_t *doc, enum agent_export_format fmt, char **text, size_t *len,
                     char *msg, size_t cap)
{
    struct gw_buf b;
    gw_buf_init(&b, AGENT_CONV_EXPORT_MAX * 2); /* escaping and fences add to the stored size */
    gw_err rc = fmt == AGENT_EXPORT_MARKDOWN ? agent_transcript_markdown(doc, &b) : GW_OK;
    if (fmt == AGENT_EXPORT_JSON) {
        char *s = json_dumps(doc, JSON_INDENT(2));
        rc = s ? gw_buf_puts(&b, s) : GW_EINTERNAL;
        if (rc == GW_OK)
            rc = gw_buf_puts(&b, "\n");
        free(s);
    }
    if (rc != GW_OK) {
        snprintf(msg, cap, "the export could not be written (%s)", gw_err_message(rc));
        gw_buf_release(&b);
        return rc;
    }
    *text = gw_buf_detach(&b, len);
    return GW_OK;
}

gw_err agent_conv_export(struct agent_history *h, struct gov_call *gc, const char *id,
                         enum agent_export_format fmt, bool external, char **text, size_t *len,
                         char *msg, size_t cap)
{
    *text = NULL;
    *len = 0;
    struct store_conversation c;
    bool others = false;
    gw_err rc = readable(h, gc->p, id, &c, &others, msg, cap);
    if (rc != GW_OK)
        return rc;
    json_t *msgs = json_array(), *doc = NULL;
    int level = POL_LEVEL_INTERNAL;
    rc = export_messages(h, &c, msgs, &level, msg, cap);
    if (rc != GW_OK)
        goto out;
    rc = gov_export_check(gc, "conversation", level, external, msg, cap);
    if (rc != GW_OK)
        goto out;
    doc = json_pack("{s:o,s:O,s:o,s:s}", "conversation", summary_json(&c), "messages", msgs,
                    "exported_at", gw_json_time(gw_now_ms()), "exported_by",
                    agent_history_owner(gc->p));
    rc = render(doc, fmt, text, len, msg, cap);
    if (rc != GW_OK)
        goto out;
    /* an export is always on the record before it leaves */
    gc->audit.classification = pol_level_name(level);
    json_t *details = json_pack("{s:s,s:s,s:s,s:s,s:I,s:b}", "owner", c.user_id, "agent", c.channel,
                                "format", fmt == AGENT_EXPORT_MARKDOWN ? "markdown" : "json",
                                "destination", external ? "external" : "internal", "messages",
                                (json_int_t)json_array_size(msgs), "others", others);
    if (gov_audit_ahead(gc, "conversation.exported", c.id, 200, details) != GW_OK) {
        snprintf(msg, cap, "the audit trail cannot be written; nothing was exported");
        rc = GW_EAUDIT;
        free(*text);
        *text = NULL;
        *len = 0;
    }
out:
    json_decref(doc);
    json_decref(msgs);
    store_conversation_release(&c);
    return rc;
}

/* --- deletion ----------------------------------------------------------------------------- */

gw_err agent_conv_delete(struct agent_history *h, struct gov_call *gc, const char *id,
                         json_t **result, char *msg, size_t cap)
{
    *result = NULL;
    struct store_conversation c;
    bool others = false;
    gw_err rc = readable(h, gc->p, id, &c, &others, msg, cap);
    if (rc != GW_OK)
        return rc;
    if (others) {
        snprintf(msg, cap, "conversation %s belongs to %s: only its owner can delete it", id,
                 c.user_id);
        rc = GW_EFORBIDDEN;
        goto out;
    }
    json_t *details = json_pack("{s:s,s:s,s:s,s:I}", "owner", c.user_id, "agent", c.channel,
                                "session", c.session, "messages", (json_int_t)c.messages);
    if (gov_audit_ahead(gc, "conversation.deleted", c.id, 200, details) != GW_OK) {
        snprintf(msg, cap, "the audit trail cannot be written; nothing was changed");
        rc = GW_EAUDIT;
        goto out;
    }
    int64_t removed = 0;
    rc = store_conversation_delete(h->st, gc->p->tenant, c.id, &removed);
    if (rc != GW_OK) {
        gov_audit_failed(gc);
        snprintf(msg, cap,
                 rc == GW_ENOTFOUND ? "no conversation %s" : "conversation %s could not be deleted",
                 id);
        goto out;
    }
    *result = json_pack("{s:s,s:b,s:I}", "id", c.id, "deleted", 1, "messages", (json_int_t)removed);
out:
    store_conversation_release(&c);
    return rc;
}

/* --- mailboxes ------------------------------------------------------------------------------ */

gw_err agent_mailbox_page(struct agent_history *h, const char *tenant, const char *channel,
                          const char *cursor, size_t limit, json_t **page, char *msg, size_t cap)
{
    *page = NULL;
    int64_t before_ms = 0;
    char before_id[AGENT_CONVERSATION_ID_LEN];
    if (!cursor_parse(cursor, &before_ms, before_id)) {
        snprintf(msg, cap, "invalid cursor (use next_cursor of the page before)");
        return GW_EINVAL;
    }
    struct store_message *list = NULL;
    size_t n = 0;
    gw_err rc = store_message_list(h->st, tenant, channel, before_ms, before_ms ? before_id : NULL,
                                   limit, &list, &n);
    if (rc != GW_OK) {
        snprintf(msg, cap, "the messages could not be read");
        return rc;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s?,s:s?,s:o}", "id", list[i].id, "channel",
                                             list[i].channel, "sender", list[i].sender, "content",
                                             list[i].content, "created_at",
                                             gw_json_time(list[i].created_ms)));
    *page = json_pack("{s:o,s:o}", "messages", arr, "next_cursor",
                      cursor_json(n && n == limit, n ? list[n - 1].created_ms : 0,
                                  n ? list[n - 1].id : ""));
    store_message_list_free(list, n);
    return GW_OK;
}
