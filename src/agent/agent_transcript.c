/* SPDX-License-Identifier: MIT
 * agent_transcript.c — a conversation as a Markdown document, for people to read and keep.
 *
 * The input is the JSON export document (agent_conv_export), so both formats say the same
 * thing. What people and models wrote is untrusted: it may contain headings, HTML, runs of
 * backticks or terminal escapes. Each text therefore goes into a fenced code block whose fence
 * is longer than any run of backticks inside it (CommonMark ends a block only at a fence at
 * least as long), which keeps it verbatim and inert; the few short fields shown inline (owner,
 * agent, tool names) are escaped character by character. A fenced block shows the raw
 * Markdown of an answer rather than rendering it: exact and safe beats pretty in an export.
 */
#include "base/prelude.h"
#include "agent/agent_int.h"
#include "base/json.h"

/* Inline text: control characters become spaces, Markdown punctuation is backslash-escaped. */
static gw_err put_inline(struct gw_buf *out, const char *s)
{
    static const char special[] = "\\`*_[]<>#|~&!";
    gw_err rc = GW_OK;
    for (const unsigned char *p = (const unsigned char *)(s ? s : "-"); *p && rc == GW_OK; p++) {
        if (*p < 0x20 || *p == 0x7f)
            rc = gw_buf_puts(out, " ");
        else if (strchr(special, *p))
            rc = gw_buf_printf(out, "\\%c", *p);
        else
            rc = gw_buf_append(out, p, 1);
    }
    return rc;
}

/* A fenced block of text with info string info: the fence is one backtick longer than the
 * longest run inside (at least three). Control characters other than newline and tab are
 * dropped, so a transcript shown in a terminal cannot drive it. */
static gw_err put_block(struct gw_buf *out, const char *info, const char *text)
{
    size_t run = 0, longest = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        run = text[i] == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t fence = longest < 3 ? 3 : longest + 1;
    gw_err rc = GW_OK;
    for (size_t i = 0; i < fence && rc == GW_OK; i++)
        rc = gw_buf_puts(out, "`");
    if (rc == GW_OK)
        rc = gw_buf_printf(out, "%s\n", info);
    size_t from = 0;
    for (size_t i = 0; i <= len && rc == GW_OK; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (i < len && ((ch >= 0x20 && ch != 0x7f) || ch == '\n' || ch == '\t'))
            continue;
        rc = gw_buf_append(out, text + from, i - from); /* the span before a dropped byte */
        from = i + 1;
    }
    if (rc == GW_OK && (out->len == 0 || out->data[out->len - 1] != '\n'))
        rc = gw_buf_puts(out, "\n");
    for (size_t i = 0; i < fence && rc == GW_OK; i++)
        rc = gw_buf_puts(out, "`");
    return rc == GW_OK ? gw_buf_puts(out, "\n\n") : rc;
}

/* "- <label>: <value>\n" with the value escaped. */
static gw_err put_fact(struct gw_buf *out, const char *label, const char *value)
{
    gw_err rc = gw_buf_printf(out, "- %s: ", label);
    if (rc == GW_OK)
        rc = put_inline(out, value);
    return rc == GW_OK ? gw_buf_puts(out, "\n") : rc;
}

static gw_err put_header(struct gw_buf *out, const json_t *doc)
{
    const json_t *c = json_object_get(doc, "conversation");
    gw_err rc = gw_buf_puts(out, "# Conversation with ");
    if (rc == GW_OK)
        rc = put_inline(out, gw_json_str(c, "agent"));
    if (rc == GW_OK)
        rc = gw_buf_puts(out, "\n\n");
    const char *const facts[][2] = {{"Conversation", "id"},         {"Owner", "user"},
                                    {"Org unit", "org_unit"},       {"Team", "team"},
                                    {"Session", "session"},         {"Started", "created_at"},
                                    {"Last activity", "updated_at"}};
    for (size_t i = 0; i < GW_ARRAY_LEN(facts) && rc == GW_OK; i++)
        if (gw_json_str(c, facts[i][1]))
            rc = put_fact(out, facts[i][0], gw_json_str(c, facts[i][1]));
    if (rc == GW_OK)
        rc = gw_buf_printf(out, "- Messages: %zu\n",
                           json_array_size(json_object_get(doc, "messages")));
    if (rc == GW_OK)
        rc = put_fact(out, "Exported", gw_json_str(doc, "exported_at"));
    if (rc == GW_OK)
        rc = put_fact(out, "Exported by", gw_json_str(doc, "exported_by"));
    return rc == GW_OK ? gw_buf_puts(out, "\n") : rc;
}

static const char *role_title(const char *role)
{
    if (!role)
        return "Message";
    if (!strcmp(role, "user"))
        return "User";
    if (!strcmp(role, "assistant"))
        return "Assistant";
    if (!strcmp(role, "tool"))
        return "Tool result";
    if (!strcmp(role, "system"))
        return "System";
    return NULL; /* shown escaped as it is */
}

/* The tool calls an assistant message asked for: name (escaped), id, arguments as a block. */
static gw_err put_tool_calls(struct gw_buf *out, const json_t *calls)
{
    gw_err rc = GW_OK;
    size_t i;
    const json_t *call;
    json_array_foreach(calls, i, call) {
        const json_t *fn = json_object_get(call, "function");
        rc = gw_buf_puts(out, "Tool call ");
        if (rc == GW_OK)
            rc = put_inline(out, gw_json_str(fn, "name"));
        if (rc == GW_OK && gw_json_str(call, "id")) {
            rc = gw_buf_puts(out, " (call ");
            if (rc == GW_OK)
                rc = put_inline(out, gw_json_str(call, "id"));
            if (rc == GW_OK)
                rc = gw_buf_puts(out, ")");
        }
        if (rc == GW_OK)
            rc = gw_buf_puts(out, ":\n\n");
        const char *args = gw_json_str(fn, "arguments");
        if (rc == GW_OK)
            rc = put_block(out, "json", args && *args ? args : "{}");
        if (rc != GW_OK)
            break;
    }
    return rc;
}

static gw_err put_message(struct gw_buf *out, const json_t *m)
{
    const char *role = gw_json_str(m, "role"), *title = role_title(role);
    gw_err rc = gw_buf_printf(out, "## %lld. ",
                              (long long)json_integer_value(json_object_get(m, "seq")));
    if (rc == GW_OK)
        rc = title ? gw_buf_puts(out, title) : put_inline(out, role);
    if (rc == GW_OK && gw_json_str(m, "tool_call_id")) {
        rc = gw_buf_puts(out, " (call ");
        if (rc == GW_OK)
            rc = put_inline(out, gw_json_str(m, "tool_call_id"));
        if (rc == GW_OK)
            rc = gw_buf_puts(out, ")");
    }
    if (rc == GW_OK && gw_json_str(m, "created_at")) {
        rc = gw_buf_puts(out, ", ");
        if (rc == GW_OK)
            rc = put_inline(out, gw_json_str(m, "created_at"));
    }
    if (rc == GW_OK)
        rc = gw_buf_puts(out, "\n\n");
    const json_t *content = json_object_get(m, "content");
    if (rc == GW_OK && json_is_string(content)) {
        bool tool = role && !strcmp(role, "tool");
        rc = put_block(out, tool ? "json" : "text", json_string_value(content));
    } else if (rc == GW_OK && content && !json_is_null(content)) {
        char *text = gw_json_compact(content); /* structured content parts */
        rc = text ? put_block(out, "json", text) : GW_EINVAL;
        free(text);
    }
    if (rc == GW_OK)
        rc = put_tool_calls(out, json_object_get(m, "tool_calls"));
    return rc;
}

gw_err agent_transcript_markdown(const json_t *doc, struct gw_buf *out)
{
    gw_err rc = put_header(out, doc);
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(doc, "messages"), i, m) {
        if (rc != GW_OK)
            break;
        rc = put_message(out, m);
    }
    return rc;
}
