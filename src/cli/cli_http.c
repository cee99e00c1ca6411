/* SPDX-License-Identifier: MIT
 * cli_http.c — the CLI's only way to talk to the gateway: one request at a time, on this thread
 * (net_perform, src/net/).
 *
 * Fixed policy for every request: connect and total timeouts
 * (streamed exports use a stall timeout instead of a total one; agent turns a longer default),
 * no redirects, http/https only, no dot-segment squashing, response bodies capped at 64 MiB
 * unless streamed to a sink, extra CA certificates when configured, and the bearer token only
 * when one is configured — never in a message. Non-2xx replies are turned into an exit code and
 * the gateway's error envelope is printed on stderr; failures are told apart in words that say
 * what to do (no connection, no answer in time, which certificate problem, not a gateway at
 * all, no token). A token from `openclaw auth login` is refreshed here, before a request when
 * it has run out and after a 401 (then the request is sent once more). A request can be
 * cancelled from a signal handler (`chat` on Ctrl-C) through rq->cancel.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/net.h"

#include <errno.h>
#include <openssl/x509.h>
#include <strings.h>

int cli_exit_for_status(long status)
{
    if (status >= 200 && status < 300)
        return CLI_EXIT_OK;
    if (status == 401)
        return CLI_EXIT_AUTH;
    if (status == 403)
        return CLI_EXIT_FORBIDDEN;
    if (status >= 400 && status < 500)
        return CLI_EXIT_CLIENT;
    if (status >= 500 && status < 600)
        return CLI_EXIT_SERVER;
    return CLI_EXIT_FAIL;
}

/* --- URLs -------------------------------------------------------------------------------- */

void cli_url_begin(struct gw_buf *u, const struct cli_ctx *ctx, const char *fixed_path)
{
    gw_buf_init(u, (size_t)64 << 10);
    (void)gw_buf_puts(u, ctx->set.gateway_url ? ctx->set.gateway_url : CLI_DEFAULT_GATEWAY);
    (void)gw_buf_puts(u, fixed_path);
}

void cli_url_fixed(struct gw_buf *u, const char *fixed)
{
    (void)gw_buf_puts(u, fixed);
}

void cli_url_segment(struct gw_buf *u, const char *seg)
{
    (void)gw_buf_puts(u, "/");
    if (!strcmp(seg, ".") || !strcmp(seg, "..")) { /* escaping keeps dots */
        (void)gw_buf_puts(u, seg[1] ? "%2E%2E" : "%2E");
        return;
    }
    char *e = net_url_escape(seg);
    (void)gw_buf_puts(u, e);
    free(e);
}

void cli_url_messages(struct gw_buf *u, const struct cli_ctx *ctx, const char *ns,
                      const char *agent)
{
    cli_url_begin(u, ctx, "/api/v1/channels");
    cli_url_segment(u, ns);
    cli_url_segment(u, agent);
    cli_url_fixed(u, "/messages");
}

void cli_url_query(struct gw_buf *u, const char *key, const char *value)
{
    if (!value)
        return;
    bool first = !u->data || !strchr(u->data, '?');
    char *e = net_url_escape(value);
    (void)gw_buf_printf(u, "%c%s=%s", first ? '?' : '&', key, e);
    free(e);
}

/* --- responses --------------------------------------------------------------------------- */

void cli_response_init(struct cli_response *rs)
{
    memset(rs, 0, sizeof(*rs));
    gw_buf_init(&rs->body, CLI_MAX_RESPONSE);
}

void cli_response_release(struct cli_response *rs)
{
    gw_buf_release(&rs->body);
}

json_t *cli_response_json(const struct cli_response *rs)
{
    char msg[160];
    json_t *v = gw_json_parse(rs->body.data ? rs->body.data : "", rs->body.len, GW_JSON_MAX_DEPTH,
                              msg, sizeof(msg));
    if (!v) {
        fprintf(stderr,
                "error: the answer is not an OpenClaw gateway's JSON (%s: %s); check the "
                "gateway URL (openclaw config show)\n",
                rs->content_type[0] ? rs->content_type : "no content type", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        fprintf(stderr, "error: the gateway sent a JSON response that is not an object\n");
        json_decref(v);
        return NULL;
    }
    return v;
}

/* ": <the first line of a plain-text body>", at most 200 bytes, sanitized. */
static void plain_excerpt(struct gw_buf *b, const struct cli_response *rs)
{
    size_t n = strcspn(rs->body.data, "\r\n");
    char *line = gw_xstrndup(rs->body.data, GW_MIN(n, (size_t)200));
    (void)gw_buf_puts(b, ": ");
    cli_sanitize(b, line);
    free(line);
}

void cli_print_http_error(const struct cli_response *rs)
{
    struct gw_buf b;
    gw_buf_init(&b, (size_t)64 << 10);
    char msg[160];
    json_t *v = rs->body.len ? gw_json_parse(rs->body.data, rs->body.len, GW_JSON_MAX_DEPTH, msg,
                                             sizeof(msg))
                             : NULL;
    json_t *e = json_object_get(v, "error");
    const char *code = gw_json_str(e, "code");
    const char *message = gw_json_str(e, "message");
    const char *rid = gw_json_str(e, "request_id");
    if (!rid && rs->request_id[0])
        rid = rs->request_id;
    (void)gw_buf_puts(&b, "error: ");
    if (code) {
        cli_sanitize(&b, code);
        (void)gw_buf_puts(&b, ": ");
        cli_sanitize(&b, message ? message : "(no message)");
    } else {
        (void)gw_buf_printf(&b, "HTTP %ld", rs->status);
        if (rs->status >= 300 && rs->status < 400)
            (void)gw_buf_puts(&b, ": the gateway answered with a redirect, which is not "
                                  "followed (check the gateway URL)");
        else if (!v && rs->body.len && !strncasecmp(rs->content_type, "text/plain", 10))
            plain_excerpt(&b, rs); /* what a proxy or a plain-text answer says */
    }
    if (rid) {
        (void)gw_buf_puts(&b, " (request ");
        cli_sanitize(&b, rid);
        (void)gw_buf_puts(&b, ")");
    }
    fprintf(stderr, "%s\n", b.data);
    json_decref(v);
    gw_buf_release(&b);
}

bool cli_reply_is_json(const struct cli_response *rs)
{
    char msg[160];
    json_t *v = rs->body.len ? gw_json_parse(rs->body.data, rs->body.len, GW_JSON_MAX_DEPTH, msg,
                                             sizeof(msg))
                             : NULL;
    json_decref(v);
    return v != NULL;
}

void cli_hint_not_gateway(const struct cli_ctx *ctx, const struct cli_response *rs)
{
    struct gw_buf b;
    gw_buf_init(&b, 8192);
    (void)gw_buf_puts(&b, "hint: ");
    cli_sanitize(&b, ctx->set.gateway_url ? ctx->set.gateway_url : "");
    (void)gw_buf_printf(&b, " answered HTTP %ld with ", rs->status);
    cli_sanitize(&b, rs->content_type[0] ? rs->content_type : "no content type");
    (void)gw_buf_puts(&b, ", not the JSON of an OpenClaw gateway: check the gateway URL "
                          "(openclaw config show) or the proxy in front of it\n");
    fputs(b.data, stderr);
    gw_buf_release(&b);
}

/* The error of a non-2xx reply, with a hint when no token was sent or when the reply did not
 * come from a gateway at all. */
static void print_status_error(const struct cli_ctx *ctx, const struct cli_response *rs)
{
    cli_print_http_error(rs);
    if (rs->status == 401 && !ctx->set.token)
        fputs("hint: no token: run `openclaw auth login` or set OPENCLAW_TOKEN (or `openclaw "
              "config set token -`)\n",
              stderr);
    else if (!cli_reply_is_json(rs) && (rs->status < 300 || rs->status >= 400))
        cli_hint_not_gateway(ctx, rs);
}

void cli_print_failure(const struct cli_ctx *ctx, const struct cli_response *rs)
{
    if (rs->status >= 200 && rs->status < 300)
        return;
    if (rs->status) {
        print_status_error(ctx, rs);
        return;
    }
    /* transport failures: the gateway URL, then why (sanitized: it may quote the server) */
    struct gw_buf b;
    gw_buf_init(&b, sizeof(rs->reason) * 4 + CLI_MAX_URL * 4);
    (void)gw_buf_puts(&b, "error: ");
    if (rs->unreachable) {
        cli_sanitize(&b, ctx->set.gateway_url ? ctx->set.gateway_url : "");
        (void)gw_buf_puts(&b, ": ");
    }
    cli_sanitize(&b, rs->reason);
    fprintf(stderr, "%s\n", b.data);
    gw_buf_release(&b);
}

long cli_timeout(const struct cli_ctx *ctx, bool turn)
{
    if (ctx->timeout > 0)
        return ctx->timeout;
    return turn ? CLI_DEFAULT_TURN_TIMEOUT : CLI_DEFAULT_TIMEOUT;
}

/* --- transfer ---------------------------------------------------------------------------- */

struct xfer {
    const struct cli_request *rq;
    struct cli_response *rs;
    int sink_errno;
    bool sink_failed;
};

/* A 2xx body of a streamed request (net_perform keeps every other body in rs->body). */
static bool on_body(void *arg, long status, const char *p, size_t n)
{
    GW_UNUSED(status);
    struct xfer *x = arg;
    if (x->rq->on_data) {
        if (!x->rq->on_data(x->rq->on_data_arg, p, n))
            return false;
    } else if (n && fwrite(p, 1, n, x->rq->sink) != n) {
        x->sink_failed = true;
        x->sink_errno = errno;
        return false;
    }
    x->rs->streamed += n;
    return true;
}

/* Copies the value of header line p (of n bytes) named name (lower case, with the colon) into
 * out, keeping only the bytes keep() accepts; false when p is another header. */
static bool header_value(const char *p, size_t n, const char *name, char *out, size_t cap,
                         bool (*keep)(char c))
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(p, name, nl) != 0)
        return false;
    size_t i = nl, j = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    for (; i < n && p[i] != '\r' && p[i] != '\n' && j + 1 < cap; i++)
        if (keep(p[i]))
            out[j++] = p[i];
    out[j] = '\0';
    return true;
}

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static bool printable(char c)
{
    return (unsigned char)c >= 0x20 && c != 0x7f;
}

static void on_header(void *arg, const char *p, size_t n)
{
    struct xfer *x = arg;
    struct cli_response *rs = x->rs;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after 1xx) */
        rs->request_id[0] = rs->content_type[0] = '\0';
        return;
    }
    if (!header_value(p, n, "x-request-id:", rs->request_id, sizeof(rs->request_id), id_char))
        (void)header_value(p, n, "content-type:", rs->content_type, sizeof(rs->content_type),
                           printable);
}

static bool loopback_host(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    size_t n = strcspn(h, ":/");
    if (h[0] == '[')
        return strncmp(h, "[::1]", 5) == 0;
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) || strncmp(h, "127.", 4) == 0;
}

/* A certificate the gateway presented and was refused: the reason (curl's words, which carry
 * OpenSSL's, else OpenSSL's for the verify result) and what to do about it. */
static void describe_tls(const struct cli_ctx *ctx, const struct net_result *res,
                         struct cli_response *rs)
{
    static const char problem[] = "SSL certificate problem: ";
    const char *msg = res->msg;
    long vr = res->tls_verify;
    const char *why = !strncmp(msg, problem, sizeof(problem) - 1)
                          ? msg + sizeof(problem) - 1
                          : X509_verify_cert_error_string(vr);
    if (strstr(msg, "host name")) { /* the chain was fine: the name check failed */
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the gateway's certificate is not valid "
                 "for this host name (%s); use the name it was issued for in the gateway URL",
                 msg);
    } else if (vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID ||
               strstr(why, "expired") || strstr(why, "not yet valid")) {
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the gateway's certificate was refused: "
                 "%s; the gateway needs a valid certificate",
                 why);
    } else if (ctx->set.ca_bundle) {
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the gateway's certificate was refused: "
                 "%s; the CA bundle %.200s (from %s) does not vouch for it",
                 why, ctx->set.ca_bundle, ctx->set.ca_source);
    } else {
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the gateway's certificate was refused: "
                 "%s; if a private CA signed it, trust that CA with --cacert FILE, "
                 "OPENCLAW_CA_BUNDLE=FILE or `openclaw config set ca_bundle FILE`",
                 why);
    }
}

/* Why a transfer failed (rs->reason), told apart the way a user acts on it; the exit code. */
static int describe_failure(const struct cli_ctx *ctx, const struct cli_request *rq, gw_err err,
                            const struct net_result *res, struct cli_response *rs)
{
    const char *msg = res->msg;
    long t = cli_timeout(ctx, rq->turn);
    bool plain = strncmp(rq->url, "http://", 7) == 0;
    rs->unreachable = true;
    switch (res->failure) {
    case NET_FAIL_TIMEOUT:
        if (!res->connected && !rs->status)
            snprintf(rs->reason, sizeof(rs->reason),
                     "cannot connect to the gateway: no "
                     "answer to the connection within %ld s (%s)",
                     ctx->timeout > 0 ? ctx->timeout : CLI_DEFAULT_TIMEOUT, msg);
        else if (rq->sink || rq->on_data)
            snprintf(rs->reason, sizeof(rs->reason),
                     "the gateway sent nothing for %ld s; "
                     "raise --timeout for a slow model or a long export",
                     t);
        else if (rq->turn)
            snprintf(rs->reason, sizeof(rs->reason),
                     "the gateway did not answer within %ld s; "
                     "the agent's turn may still finish there (raise --timeout for a slow "
                     "model)",
                     t);
        else
            snprintf(rs->reason, sizeof(rs->reason),
                     "the gateway did not answer within %ld s "
                     "(it accepted the connection; raise --timeout if it is busy)",
                     t);
        return CLI_EXIT_UNREACHABLE;
    case NET_FAIL_RESOLVE:
    case NET_FAIL_CONNECT:
        snprintf(rs->reason, sizeof(rs->reason), "cannot connect to the gateway (%s)", msg);
        return CLI_EXIT_UNREACHABLE;
    case NET_FAIL_TLS_VERIFY:
        describe_tls(ctx, res, rs);
        return CLI_EXIT_UNREACHABLE;
    case NET_FAIL_TLS_CA_FILE:
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the CA bundle %.200s (from %s) cannot "
                 "be used (%s)",
                 ctx->set.ca_bundle ? ctx->set.ca_bundle : "?",
                 ctx->set.ca_source ? ctx->set.ca_source : "?", msg);
        return CLI_EXIT_UNREACHABLE;
    case NET_FAIL_TLS_HANDSHAKE:
        snprintf(rs->reason, sizeof(rs->reason),
                 "TLS: the handshake with the gateway failed "
                 "(%s)%s",
                 msg,
                 strstr(msg, "wrong version number")
                     ? "; the port does not speak TLS: use http:// for it"
                     : "");
        return CLI_EXIT_UNREACHABLE;
    case NET_FAIL_NO_ANSWER:
        snprintf(rs->reason, sizeof(rs->reason),
                 "the gateway closed the connection without "
                 "answering%s (%s)",
                 plain ? "; if it serves TLS on this port, use https://" : "", msg);
        return CLI_EXIT_UNREACHABLE;
    default:
        snprintf(rs->reason, sizeof(rs->reason), "%s", msg);
        rs->unreachable = err == GW_EUPSTREAM;
        return rs->unreachable ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAIL;
    }
}

/* One transfer (net_perform: on this thread, no egress policy, http(s) only, no redirects); a
 * non-2xx status is printed unless rq->quiet or defer_status. */
static int transfer(struct cli_ctx *ctx, const struct cli_request *rq, struct cli_response *rs,
                    bool defer_status)
{
    int rc = CLI_EXIT_OK;
    char *auth = NULL, *ct = NULL, *reqid_hdr = NULL;
    struct xfer x = {.rq = rq, .rs = rs};
    bool send_token = rq->auth && ctx->set.token;
    if (send_token && !ctx->warned_plaintext && strncmp(rq->url, "http://", 7) == 0 &&
        !loopback_host(rq->url)) {
        fprintf(stderr, "warning: sending the token over unencrypted http to a non-local "
                        "gateway; use https\n");
        ctx->warned_plaintext = true;
    }

    char reqid[40] = "cli-";
    gw_random_hex(reqid + 4, 12);
    const char *headers[7];
    size_t nh = 0;
    headers[nh++] = reqid_hdr = gw_xasprintf("X-Request-Id: %s", reqid);
    headers[nh++] = "Expect:";
    headers[nh++] = "User-Agent: openclaw/" GW_VERSION;
    if (rq->cancel) /* Ctrl-C cancels the answer, also in a cluster (docs/API.md) */
        headers[nh++] = "X-OpenClaw-Resumable: false";
    if (send_token)
        headers[nh++] = auth = gw_xasprintf("Authorization: Bearer %s", ctx->set.token);
    /* no form-urlencoded default */
    headers[nh++] = ct = gw_xasprintf("Content-Type:%s%s", rq->content_type ? " " : "",
                                      rq->content_type ? rq->content_type : "");
    headers[nh] = NULL;

    const char *m = rq->method ? rq->method : "GET";
    bool streaming = rq->sink || rq->on_data;
    bool has_body = strcmp(m, "GET") != 0 && strcmp(m, "DELETE") != 0;
    /* streamed: an error envelope at most, not an export */
    rs->body.max = streaming ? (size_t)1 << 20 : CLI_MAX_RESPONSE;
    long connect_s = ctx->timeout > 0 ? ctx->timeout : CLI_DEFAULT_TIMEOUT;
    struct net_request nr = {
        .url = rq->url,
        .method = m,
        .body = has_body ? (rq->body ? rq->body : "") : NULL,
        .body_len = has_body ? rq->body_len : 0,
        .headers = headers,
        .ca_file = ctx->set.ca_bundle,
        .timeout_ms = (unsigned)cli_timeout(ctx, rq->turn) * 1000,
        .connect_timeout_ms = (unsigned)connect_s * 1000,
        .stall_timeout = streaming,
        .path_as_is = true,
        .cancel = rq->cancel,
        .on_data = streaming ? on_body : NULL,
        .on_header = on_header,
        .arg = &x,
    };
    struct net_result res;
    gw_err err = net_perform(&nr, &rs->body, &res);
    rs->status = res.status;
    if (!rs->request_id[0] && rs->status)
        snprintf(rs->request_id, sizeof(rs->request_id), "%s", reqid);
    if (err != GW_OK && rq->cancel && *rq->cancel) {
        rs->cancelled = true;
        snprintf(rs->reason, sizeof(rs->reason), "cancelled");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (err != GW_OK) {
        if (err == GW_ETOOBIG) {
            snprintf(rs->reason, sizeof(rs->reason), "response larger than %zu MiB",
                     CLI_MAX_RESPONSE >> 20);
            rc = CLI_EXIT_FAIL;
        } else if (x.sink_failed) {
            snprintf(rs->reason, sizeof(rs->reason), "writing the output failed: %s",
                     strerror(x.sink_errno ? x.sink_errno : EIO));
            rc = CLI_EXIT_FAIL;
        } else if (err == GW_EINVAL || err == GW_EFORBIDDEN) {
            snprintf(rs->reason, sizeof(rs->reason), "invalid gateway URL: %s", res.msg);
            rc = CLI_EXIT_USAGE;
        } else {
            rc = describe_failure(ctx, rq, err, &res, rs);
        }
        if (!rq->quiet)
            cli_print_failure(ctx, rs);
        goto out;
    }
    rc = cli_exit_for_status(rs->status);
    if (rc != CLI_EXIT_OK && !rq->quiet && !defer_status)
        print_status_error(ctx, rs);
out:
    free(reqid_hdr);
    free(ct);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    return rc;
}

int cli_http(struct cli_ctx *ctx, const struct cli_request *rq, struct cli_response *rs)
{
    /* with the stored login of `openclaw auth login`: refresh it when it has run out or the
     * gateway says so (401), then send the request again once */
    bool login = rq->auth && ctx->login;
    if (login && ctx->login_expires_at <= gw_now_ms() / 1000 + CLI_LOGIN_REFRESH_MARGIN_S)
        (void)cli_login_refresh(ctx);
    int rc = transfer(ctx, rq, rs, login);
    if (login && rs->status == 401 && ctx->login && cli_login_refresh(ctx) == CLI_EXIT_OK) {
        cli_response_release(rs);
        cli_response_init(rs);
        return transfer(ctx, rq, rs, false);
    }
    if (login && rc != CLI_EXIT_OK && rs->status && !rq->quiet)
        print_status_error(ctx, rs);
    return rc;
}

int cli_http_json(struct cli_ctx *ctx, const char *method, const char *url, const json_t *body,
                  struct cli_response *rs, json_t **out)
{
    char *text = body ? gw_json_compact(body) : NULL;
    if (body && !text) {
        fprintf(stderr, "error: cannot encode the request (invalid UTF-8?)\n");
        return CLI_EXIT_FAIL;
    }
    struct cli_request rq = {
        .method = method,
        .url = url,
        .content_type = body ? "application/json" : NULL,
        .body = text,
        .body_len = text ? strlen(text) : 0,
        .auth = true,
    };
    int rc = cli_http(ctx, &rq, rs);
    free(text);
    if (rc == CLI_EXIT_OK && out) {
        *out = cli_response_json(rs);
        if (!*out)
            rc = CLI_EXIT_FAIL;
    }
    return rc;
}
