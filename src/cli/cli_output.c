/* SPDX-License-Identifier: MIT
 * cli_output.c — everything the CLI prints for humans: tables, amounts of money, the `status`
 * report, audit verification reports, and the sanitizing of strings that came from the gateway.
 *
 * Formatting functions append to a gw_buf so tests can compare exact text; the print helpers
 * write to stdout. Strings from the gateway (audit rows carry client-supplied text) never
 * reach the terminal with control characters: cli_sanitize replaces C0, DEL and C1 controls.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "audit/audit.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>

void cli_sanitize(struct gw_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *start = p;
        while (*p && *p >= 0x20 && *p != 0x7f && !(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            p++;
        (void)gw_buf_append(b, start, (size_t)(p - start));
        if (!*p)
            break;
        (void)gw_buf_puts(b, "?");
        p += *p == 0xc2 ? 2 : 1;
    }
}

void cli_sanitize_text(struct gw_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool c1 = c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                  (unsigned char)s[i + 1] <= 0x9f; /* C1 controls in UTF-8 */
        if (c1)
            i++;
        else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
            (void)gw_buf_append(b, &s[i], 1);
    }
}

char *cli_json_cell(const json_t *v)
{
    if (!v)
        return gw_xstrdup("-");
    switch (json_typeof(v)) {
    case JSON_STRING:
        return gw_xstrdup(json_string_value(v));
    case JSON_INTEGER:
        return gw_xasprintf("%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return gw_xasprintf("%g", json_real_value(v));
    case JSON_TRUE:
        return gw_xstrdup("true");
    case JSON_FALSE:
        return gw_xstrdup("false");
    case JSON_ARRAY: {
        if (json_array_size(v) == 0)
            return gw_xstrdup("-");
        struct gw_buf b;
        gw_buf_init(&b, CLI_MAX_RESPONSE);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char *c = cli_json_cell(e);
            if (i)
                (void)gw_buf_puts(&b, ", ");
            (void)gw_buf_puts(&b, c);
            free(c);
        }
        return gw_buf_detach(&b, NULL);
    }
    case JSON_OBJECT: {
        char *s = gw_json_compact(v);
        return s ? s : gw_xstrdup("{}");
    }
    case JSON_NULL:
    default:
        return gw_xstrdup("-");
    }
}

/* --- tables ------------------------------------------------------------------------------ */

void cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->headers = headers;
    t->ncols = ncols;
}

void cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = gw_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
    }
    for (size_t c = 0; c < t->ncols; c++) {
        struct gw_buf b;
        gw_buf_init(&b, CLI_MAX_RESPONSE);
        cli_sanitize(&b, cells[c] && *cells[c] ? cells[c] : "-");
        t->cells[t->nrows * t->ncols + c] = gw_buf_detach(&b, NULL);
    }
    t->nrows++;
}

void cli_table_add_json(struct cli_table *t, const json_t *obj, const char *const *keys)
{
    char **cells = gw_xcalloc(t->ncols, sizeof(char *));
    for (size_t c = 0; c < t->ncols; c++)
        cells[c] = cli_json_cell(json_object_get(obj, keys[c]));
    cli_table_add(t, (const char *const *)cells);
    for (size_t c = 0; c < t->ncols; c++)
        free(cells[c]);
    free(cells);
}

static size_t display_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w++;
    return w;
}

static void put_cell(struct gw_buf *out, const char *s, size_t width, bool last)
{
    (void)gw_buf_puts(out, s);
    if (last)
        return;
    for (size_t w = display_width(s); w < width + 2; w++)
        (void)gw_buf_puts(out, " ");
}

void cli_table_render(const struct cli_table *t, struct gw_buf *out)
{
    size_t *w = gw_xcalloc(t->ncols, sizeof(size_t));
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = display_width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++)
            w[c] = GW_MAX(w[c], display_width(t->cells[r * t->ncols + c]));
    }
    for (size_t c = 0; c < t->ncols; c++)
        put_cell(out, t->headers[c], w[c], c + 1 == t->ncols);
    (void)gw_buf_puts(out, "\n");
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++)
            put_cell(out, t->cells[r * t->ncols + c], w[c], c + 1 == t->ncols);
        (void)gw_buf_puts(out, "\n");
    }
    free(w);
}

/* --- printing ---------------------------------------------------------------------------- */

char *cli_money(double v)
{
    char s[GW_MONEY_MAX];
    gw_money(v, s);
    return gw_xstrdup(s);
}

void cli_print_raw(const char *data, size_t len)
{
    if (len)
        fwrite(data, 1, len, stdout);
    if (!len || data[len - 1] != '\n')
        fputc('\n', stdout);
}

void cli_print_json(const json_t *v)
{
    char *s = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    if (!s) {
        fprintf(stderr, "error: cannot encode the output as JSON (invalid UTF-8?)\n");
    } else {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

void cli_print_buf(const struct gw_buf *b)
{
    if (b->len)
        fwrite(b->data, 1, b->len, stdout);
}

/* --- status ------------------------------------------------------------------------------ */

void cli_field(struct gw_buf *out, int width, const char *label, const char *value)
{
    (void)gw_buf_printf(out, "%-*s", width, label);
    cli_sanitize(out, value && *value ? value : "-");
    (void)gw_buf_puts(out, "\n");
}

static void line(struct gw_buf *out, const char *label, const char *value)
{
    cli_field(out, 13, label, value);
}

/* Scopes capped by the role, namespaces reached through grants. */
static void format_access(struct gw_buf *out, const json_t *who)
{
    (void)gw_buf_puts(out, "\nAccess:\n");
    cli_field(out, 15, "  Team:", gw_json_str(who, "team"));
    char *scopes = cli_json_cell(json_object_get(who, "scopes"));
    cli_field(out, 15, "  Scopes:", scopes);
    free(scopes);
    const json_t *ns = json_object_get(who, "namespaces");
    char *names = json_array_size(ns) ? cli_json_cell(ns) : gw_xstrdup("(none granted)");
    char *shown = json_is_true(json_object_get(who, "all_namespaces"))
                      ? gw_xasprintf("every namespace of the tenant (now: %s)", names)
                      : gw_xstrdup(names);
    cli_field(out, 15, "  Namespaces:", shown);
    free(shown);
    free(names);
}

void cli_format_status(struct gw_buf *out, const char *gateway, const json_t *status,
                       const json_t *userinfo, const char *userinfo_err)
{
    line(out, "Gateway:", gateway);
    line(out, "Status:", "Connected");
    const json_t *who = userinfo;
    if (!who && !userinfo_err)
        who = json_object_get(status, "principal");
    if (who) {
        line(out, "User:", gw_json_str(who, "user"));
        line(out, "Role:", gw_json_str(who, "role"));
    } else {
        char *u = gw_xasprintf("-  (%s)", userinfo_err ? userinfo_err : "no token configured");
        line(out, "User:", u);
        free(u);
        line(out, "Role:", NULL);
    }
    const char *tenant = gw_json_str(who, "tenant");
    line(out, "Tenant:", tenant ? tenant : gw_json_str(status, "tenant"));
    line(out, "Org Unit:", gw_json_str(who, "org_unit"));
    (void)gw_buf_puts(out, "\nEnterprise Plugins:\n");
    json_t *plugins = json_object_get(status, "plugins");
    size_t i;
    json_t *p;
    if (!json_is_array(plugins) || json_array_size(plugins) == 0)
        (void)gw_buf_puts(out, "  (none reported)\n");
    json_array_foreach(plugins, i, p) {
        const char *name = gw_json_str(p, "name");
        const char *state = gw_json_str(p, "state");
        struct gw_buf n;
        gw_buf_init(&n, (size_t)1 << 20);
        cli_sanitize(&n, name ? name : "?");
        (void)gw_buf_printf(out, "  %-19s ", n.data ? n.data : "");
        cli_sanitize(out, state ? state : "unknown");
        (void)gw_buf_puts(out, "\n");
        gw_buf_release(&n);
    }
    if (json_object_get(who, "scopes")) /* after the seed's shape: what the caller may do */
        format_access(out, who);
}

void cli_format_unreachable(struct gw_buf *out, const char *gateway, const char *reason)
{
    line(out, "Gateway:", gateway);
    char *s = gw_xasprintf("Unreachable (%s)", reason && *reason ? reason : "unknown error");
    line(out, "Status:", s);
    free(s);
}

/* --- audit verification ------------------------------------------------------------------ */

json_t *cli_verify_result_json(const struct audit_verify_result *r)
{
    return audit_verify_result_json(r);
}

static void verify_line(struct gw_buf *out, const char *label, const json_t *v)
{
    if (!v || json_is_null(v))
        return;
    char *c = cli_json_cell(v);
    if (*c) {
        (void)gw_buf_printf(out, "%-21s", label);
        cli_sanitize(out, c);
        (void)gw_buf_puts(out, "\n");
    }
    free(c);
}

/* "from..to, ..." of the unsigned ranges ([from, to] pairs). */
static char *ranges_text(const json_t *ranges)
{
    struct gw_buf b;
    gw_buf_init(&b, 4096);
    size_t i;
    json_t *r;
    json_array_foreach(ranges, i, r) {
        long long from = json_integer_value(json_array_get(r, 0));
        long long to = json_integer_value(json_array_get(r, 1));
        (void)gw_buf_printf(&b, i ? ", %lld" : "%lld", from);
        if (to != from)
            (void)gw_buf_printf(&b, "..%lld", to);
    }
    return gw_buf_detach(&b, NULL);
}

void cli_format_verify(struct gw_buf *out, const json_t *result)
{
    bool ok = json_is_true(json_object_get(result, "ok"));
    (void)gw_buf_printf(out, "%-21s%s\n", "Audit chain:", ok ? "OK" : "FAILED");
    verify_line(out, "Tenant:", json_object_get(result, "tenant"));
    const json_t *anchor = json_object_get(result, "anchor");
    const char *kind = gw_json_str(anchor, "kind");
    json_int_t aseq = json_integer_value(json_object_get(anchor, "seq"));
    if (kind && strcmp(kind, "genesis") == 0)
        (void)gw_buf_printf(out, "%-21s%s\n", "Anchor:", "event 1 (the whole log)");
    else if (kind)
        (void)gw_buf_printf(out, "%-21s%s at seq %lld (events before it not checked)\n", "Anchor:",
                            strcmp(kind, "supplied_head") == 0 ? "your head"
                                                               : "a signed head in the file",
                            (long long)aseq);
    verify_line(out, "Events checked:", json_object_get(result, "events_checked"));
    verify_line(out, "Heads checked:", json_object_get(result, "checkpoints_checked"));
    const json_t *signd = json_object_get(result, "signed_events");
    if (signd)
        (void)gw_buf_printf(out, "%-21s%lld (all events through seq %lld)\n",
                            "Signed events:", (long long)json_integer_value(signd),
                            (long long)json_integer_value(
                                json_object_get(result, "signed_through")));
    const json_t *ranges = json_object_get(result, "unsigned_ranges");
    if (json_array_size(ranges)) {
        char *t = ranges_text(ranges);
        (void)gw_buf_printf(out, "%-21s%lld (%s)\n", "Not signed:",
                            (long long)json_integer_value(
                                json_object_get(result, "unsigned_events")),
                            t);
        free(t);
    }
    const json_t *roots = json_object_get(result, "roots_checked");
    if (roots)
        (void)gw_buf_printf(out, "%-21s%s\n", "Merkle roots:",
                            json_is_true(roots) ? "recomputed and matched"
                                                : "not recomputed (hash chain only)");
    verify_line(out, "Last seq:", json_object_get(result, "last_seq"));
    verify_line(out, "Expected last seq:", json_object_get(result, "expected_last_seq"));
    verify_line(out, "First bad seq:", json_object_get(result, "first_bad_seq"));
    verify_line(out, "Reason:", json_object_get(result, "reason"));
    verify_line(out, "Your head:", json_object_get(result, "consistency_reason"));
}

/* --- small input helpers ----------------------------------------------------------------- */

bool cli_json_put(json_t *o, const char *key, const char *s)
{
    json_t *v = json_string(s);
    if (!v) {
        fprintf(stderr, "error: the value for \"%s\" is not valid UTF-8\n", key);
        return false;
    }
    json_object_set_new(o, key, v);
    return true;
}

bool cli_split_channel(const char *s, char **ns, char **agent)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
        return false;
    *ns = gw_xstrndup(s, (size_t)(slash - s));
    *agent = gw_xstrdup(slash + 1);
    return true;
}

gw_err cli_read_stream(FILE *f, struct gw_buf *b)
{
    char chunk[16384];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n && gw_buf_append(b, chunk, n) != GW_OK)
            return GW_ETOOBIG;
        if (n < sizeof(chunk)) {
            if (ferror(f))
                return GW_EIO;
            if (feof(f))
                return GW_OK;
        }
    }
}

/* "(more <what>: <again> --cursor C)" on stderr when reply has a next_cursor. */
static void hint_more(const json_t *reply, const char *what, const char *again)
{
    const json_t *next = json_object_get(reply, "next_cursor");
    if (!json_is_string(next) && !json_is_integer(next))
        return;
    char *cell = cli_json_cell(next);
    struct gw_buf h;
    gw_buf_init(&h, 4096);
    cli_sanitize(&h, again);
    (void)gw_buf_puts(&h, " --cursor ");
    cli_sanitize(&h, cell);
    fprintf(stderr, "(more %s: %s)\n", what, h.data);
    gw_buf_release(&h);
    free(cell);
}

int cli_get_page(struct cli_ctx *ctx, const char *url, struct cli_response *rs,
                 cli_format_fn *format, const char *what, const char *again)
{
    struct gw_buf out;
    gw_buf_init(&out, CLI_MAX_RESPONSE * 2);
    json_t *reply = NULL;
    int rc = cli_http_json(ctx, "GET", url, NULL, rs, &reply);
    if (rc == CLI_EXIT_OK && ctx->json) {
        cli_print_raw(rs->body.data, rs->body.len);
    } else if (rc == CLI_EXIT_OK) {
        format(&out, reply);
        cli_print_buf(&out);
        hint_more(reply, what, again);
    }
    json_decref(reply);
    gw_buf_release(&out);
    return rc;
}
