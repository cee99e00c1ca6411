/* SPDX-License-Identifier: MIT
 * cli_http.c — the CLI's only way to talk to the gateway: one request at a time, on this thread
 * (net_perform, src/net/).
 *
 * Fixed policy for every request: connect and total timeouts (streamed exports use a stall
 * timeout instead of a total one), no redirects, http/https only,
 * no dot-segment squashing, response bodies capped at 64 MiB unless streamed to a sink, and
 * the bearer token only when one is configured — never in a message. Non-2xx replies are
 * turned into an exit code and the gateway's error envelope is printed on stderr. A token
 * from `openclaw auth login` is refreshed here, before a request when it has run out and
 * after a 401 (then the request is sent once more).
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"
#include "net/net.h"

#include <errno.h>
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
    json_t *v = gw_json_parse(rs->body.data ? rs->body.data : "", rs->body.len,
                              GW_JSON_MAX_DEPTH, msg, sizeof(msg));
    if (!v) {
        fprintf(stderr, "error: the gateway sent a response that is not valid JSON (%s)\n", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        fprintf(stderr, "error: the gateway sent a JSON response that is not an object\n");
        json_decref(v);
        return NULL;
    }
    return v;
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

static void on_header(void *arg, const char *p, size_t n)
{
    struct xfer *x = arg;
    static const char rid[] = "x-request-id:";
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after 1xx) */
        x->rs->request_id[0] = '\0';
    } else if (n > sizeof(rid) - 1 && strncasecmp(p, rid, sizeof(rid) - 1) == 0) {
        size_t j = 0;
        for (size_t i = sizeof(rid) - 1; i < n && j + 1 < sizeof(x->rs->request_id); i++) {
            char c = p[i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-')
                x->rs->request_id[j++] = c;
        }
        x->rs->request_id[j] = '\0';
    }
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
    const char *headers[6];
    size_t nh = 0;
    headers[nh++] = reqid_hdr = gw_xasprintf("X-Request-Id: %s", reqid);
    headers[nh++] = "Expect:";
    headers[nh++] = "User-Agent: openclaw/" GW_VERSION;
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
    struct net_request nr = {
        .url = rq->url, .method = m, .body = has_body ? (rq->body ? rq->body : "") : NULL,
        .body_len = has_body ? rq->body_len : 0, .headers = headers,
        .timeout_ms = (unsigned)ctx->timeout * 1000, .stall_timeout = streaming,
        .path_as_is = true, .on_data = streaming ? on_body : NULL, .on_header = on_header,
        .arg = &x,
    };
    struct net_result res;
    gw_err err = net_perform(&nr, &rs->body, &res);
    rs->status = res.status;
    if (!rs->request_id[0] && rs->status)
        snprintf(rs->request_id, sizeof(rs->request_id), "%s", reqid);
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
            snprintf(rs->reason, sizeof(rs->reason), "%s", res.msg);
            rc = err == GW_EUPSTREAM || err == GW_EUPTIMEOUT ? CLI_EXIT_UNREACHABLE
                                                              : CLI_EXIT_FAIL;
            rs->unreachable = rc == CLI_EXIT_UNREACHABLE;
        }
        if (!rq->quiet) {
            struct gw_buf b;
            gw_buf_init(&b, sizeof(rs->reason) * 4 + CLI_MAX_URL * 4);
            if (rs->unreachable) {
                (void)gw_buf_puts(&b, "gateway ");
                cli_sanitize(&b, ctx->set.gateway_url ? ctx->set.gateway_url : "");
                (void)gw_buf_puts(&b, " unreachable: ");
            }
            cli_sanitize(&b, rs->reason);
            fprintf(stderr, "error: %s\n", b.data);
            gw_buf_release(&b);
        }
        goto out;
    }
    rc = cli_exit_for_status(rs->status);
    if (rc != CLI_EXIT_OK && !rq->quiet && !defer_status)
        cli_print_http_error(rs);
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
        cli_print_http_error(rs);
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
