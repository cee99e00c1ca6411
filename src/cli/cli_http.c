/* SPDX-License-Identifier: MIT
 * cli_http.c — the CLI's only way to talk to the gateway: one libcurl easy request at a time.
 *
 * Fixed policy for every request: no signals (CURLOPT_NOSIGNAL), connect and total timeouts
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

#include <curl/curl.h>
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
    if (!strcmp(seg, ".") || !strcmp(seg, "..")) { /* curl_easy_escape keeps dots */
        (void)gw_buf_puts(u, seg[1] ? "%2E%2E" : "%2E");
        return;
    }
    char *e = curl_easy_escape(NULL, seg, (int)strlen(seg));
    if (!e)
        abort();
    (void)gw_buf_puts(u, e);
    curl_free(e);
}

void cli_url_query(struct gw_buf *u, const char *key, const char *value)
{
    if (!value)
        return;
    bool first = !u->data || !strchr(u->data, '?');
    char *e = curl_easy_escape(NULL, value, (int)strlen(value));
    if (!e)
        abort();
    (void)gw_buf_printf(u, "%c%s=%s", first ? '?' : '&', key, e);
    curl_free(e);
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
        fprintf(stderr, "error: the answer is not an OpenClaw gateway's JSON (%s: %s); check the "
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
              "config set token -`)\n", stderr);
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
    CURL *h;
    int mode; /* 0 undecided, 1 sink, 2 buffer */
    bool too_big;
    int sink_errno;
    bool sink_failed;
};

static bool cancelled(struct xfer *x)
{
    if (x->rq->cancel && *x->rq->cancel)
        x->rs->cancelled = true;
    return x->rs->cancelled;
}

/* libcurl calls it often (at least once a second, and when a signal interrupts its wait). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    return cancelled(arg) ? 1 : 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (cancelled(x))
        return 0;
    if (x->mode == 0) {
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        bool streaming = x->rq->sink || x->rq->on_data;
        x->mode = streaming && code >= 200 && code < 300 ? 1 : 2;
        if (x->mode == 2 && streaming)
            x->rs->body.max = (size_t)1 << 20; /* an error envelope, not an export */
    }
    if (x->mode == 1 && x->rq->on_data) {
        if (!x->rq->on_data(x->rq->on_data_arg, p, n))
            return 0;
        x->rs->streamed += n;
        return n;
    }
    if (x->mode == 1) {
        if (n && fwrite(p, 1, n, x->rq->sink) != n) {
            x->sink_failed = true;
            x->sink_errno = errno;
            return 0;
        }
        x->rs->streamed += n;
        return n;
    }
    if (gw_buf_append(&x->rs->body, p, n) != GW_OK) {
        x->too_big = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
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
    return n;
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

static bool transport_error(CURLcode c)
{
    switch (c) {
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_NOT_BUILT_IN:
        return false;
    default:
        return true;
    }
}

/* A certificate the gateway presented and libcurl refused: the reason (curl's words, which
 * carry OpenSSL's, else OpenSSL's for the verify result) and what to do about it. */
static void describe_tls(const struct cli_ctx *ctx, CURL *h, const char *curl_msg,
                         struct cli_response *rs)
{
    static const char problem[] = "SSL certificate problem: ";
    long vr = 0;
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &vr);
    const char *why = !strncmp(curl_msg, problem, sizeof(problem) - 1)
                          ? curl_msg + sizeof(problem) - 1
                          : X509_verify_cert_error_string(vr);
    if (strstr(curl_msg, "host name")) { /* the chain was fine: curl's name check failed */
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the gateway's certificate is not valid "
                 "for this host name (%s); use the name it was issued for in the gateway URL",
                 curl_msg);
    } else if (vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID ||
               strstr(why, "expired") || strstr(why, "not yet valid")) {
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the gateway's certificate was refused: "
                 "%s; the gateway needs a valid certificate", why);
    } else if (ctx->set.ca_bundle) {
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the gateway's certificate was refused: "
                 "%s; the CA bundle %.200s (from %s) does not vouch for it", why,
                 ctx->set.ca_bundle, ctx->set.ca_source);
    } else {
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the gateway's certificate was refused: "
                 "%s; if a private CA signed it, trust that CA with --cacert FILE, "
                 "OPENCLAW_CA_BUNDLE=FILE or `openclaw config set ca_bundle FILE`", why);
    }
}

/* Why a transfer failed (rs->reason), told apart the way a user acts on it; the exit code. */
static int describe_failure(const struct cli_ctx *ctx, const struct cli_request *rq, CURL *h,
                            CURLcode cc, const char *errbuf, struct cli_response *rs)
{
    const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    long t = cli_timeout(ctx, rq->turn);
    curl_off_t connected_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
    bool plain = strncmp(rq->url, "http://", 7) == 0;
    rs->unreachable = true;
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        if (connected_us <= 0 && !rs->status)
            snprintf(rs->reason, sizeof(rs->reason), "cannot connect to the gateway: no "
                     "answer to the connection within %ld s (%s)",
                     ctx->timeout > 0 ? ctx->timeout : CLI_DEFAULT_TIMEOUT, msg);
        else if (rq->sink || rq->on_data)
            snprintf(rs->reason, sizeof(rs->reason), "the gateway sent nothing for %ld s; "
                     "raise --timeout for a slow model or a long export", t);
        else if (rq->turn)
            snprintf(rs->reason, sizeof(rs->reason), "the gateway did not answer within %ld s; "
                     "the agent's turn may still finish there (raise --timeout for a slow "
                     "model)", t);
        else
            snprintf(rs->reason, sizeof(rs->reason), "the gateway did not answer within %ld s "
                     "(it accepted the connection; raise --timeout if it is busy)", t);
        return CLI_EXIT_UNREACHABLE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        snprintf(rs->reason, sizeof(rs->reason), "cannot connect to the gateway (%s)", msg);
        return CLI_EXIT_UNREACHABLE;
    case CURLE_PEER_FAILED_VERIFICATION:
        describe_tls(ctx, h, msg, rs);
        return CLI_EXIT_UNREACHABLE;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the CA bundle %.200s (from %s) cannot "
                 "be used (%s)", ctx->set.ca_bundle ? ctx->set.ca_bundle : "?",
                 ctx->set.ca_source ? ctx->set.ca_source : "?", msg);
        return CLI_EXIT_UNREACHABLE;
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(rs->reason, sizeof(rs->reason), "TLS: the handshake with the gateway failed "
                 "(%s)%s", msg, strstr(msg, "wrong version number")
                                   ? "; the port does not speak TLS: use http:// for it"
                                   : "");
        return CLI_EXIT_UNREACHABLE;
    case CURLE_GOT_NOTHING:
        snprintf(rs->reason, sizeof(rs->reason), "the gateway closed the connection without "
                 "answering%s (%s)", plain ? "; if it serves TLS on this port, use https://" : "",
                 msg);
        return CLI_EXIT_UNREACHABLE;
    default:
        snprintf(rs->reason, sizeof(rs->reason), "%s", msg);
        rs->unreachable = transport_error(cc);
        return rs->unreachable ? CLI_EXIT_UNREACHABLE : CLI_EXIT_FAIL;
    }
}

/* One transfer; a non-2xx status is printed unless rq->quiet or defer_status. */
static int transfer(struct cli_ctx *ctx, const struct cli_request *rq, struct cli_response *rs,
                    bool defer_status)
{
    int rc = CLI_EXIT_OK;
    char errbuf[CURL_ERROR_SIZE] = "";
    char *auth = NULL;
    struct curl_slist *hdrs = NULL;
    struct xfer x = {.rq = rq, .rs = rs};
    CURL *h = curl_easy_init();
    if (!h) {
        fprintf(stderr, "error: cannot create a libcurl handle\n");
        return CLI_EXIT_FAIL;
    }
    x.h = h;
    bool send_token = rq->auth && ctx->set.token;
    if (send_token && !ctx->warned_plaintext && strncmp(rq->url, "http://", 7) == 0 &&
        !loopback_host(rq->url)) {
        fprintf(stderr, "warning: sending the token over unencrypted http to a non-local "
                        "gateway; use https\n");
        ctx->warned_plaintext = true;
    }

    char reqid[40] = "cli-";
    gw_random_hex(reqid + 4, 12);
    char *reqid_hdr = gw_xasprintf("X-Request-Id: %s", reqid);
    hdrs = curl_slist_append(hdrs, reqid_hdr);
    free(reqid_hdr);
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (send_token) {
        auth = gw_xasprintf("Authorization: Bearer %s", ctx->set.token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (rq->content_type) {
        char *ct = gw_xasprintf("Content-Type: %s", rq->content_type);
        hdrs = curl_slist_append(hdrs, ct);
        free(ct);
    } else {
        hdrs = curl_slist_append(hdrs, "Content-Type:"); /* no form-urlencoded default */
    }
    if (!hdrs)
        abort();

    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     ctx->timeout > 0 ? ctx->timeout : CLI_DEFAULT_TIMEOUT);
    long limit = cli_timeout(ctx, rq->turn);
    if (rq->sink || rq->on_data) {
        /* exports and streams have no total time limit; a stall of --timeout seconds aborts */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, limit);
    } else {
        curl_easy_setopt(h, CURLOPT_TIMEOUT, limit);
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_MAX_RESPONSE);
    }
    if (ctx->set.ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, ctx->set.ca_bundle);
    if (rq->cancel) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "openclaw/" GW_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);

    const char *m = rq->method ? rq->method : "GET";
    if (!strcmp(m, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (!strcmp(m, "DELETE")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
    }

    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
    const char *ct = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        snprintf(rs->content_type, sizeof(rs->content_type), "%s", ct);
    if (!rs->request_id[0] && rs->status)
        snprintf(rs->request_id, sizeof(rs->request_id), "%s", reqid);
    if (cc != CURLE_OK && rs->cancelled) {
        snprintf(rs->reason, sizeof(rs->reason), "cancelled");
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (cc != CURLE_OK) {
        if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(rs->reason, sizeof(rs->reason), "response larger than %zu MiB",
                     CLI_MAX_RESPONSE >> 20);
            rc = CLI_EXIT_FAIL;
        } else if (x.sink_failed) {
            snprintf(rs->reason, sizeof(rs->reason), "writing the output failed: %s",
                     strerror(x.sink_errno ? x.sink_errno : EIO));
            rc = CLI_EXIT_FAIL;
        } else if (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL) {
            snprintf(rs->reason, sizeof(rs->reason), "invalid gateway URL: %s",
                     errbuf[0] ? errbuf : curl_easy_strerror(cc));
            rc = CLI_EXIT_USAGE;
        } else {
            rc = describe_failure(ctx, rq, h, cc, errbuf, rs);
        }
        if (!rq->quiet)
            cli_print_failure(ctx, rs);
        goto out;
    }
    rc = cli_exit_for_status(rs->status);
    if (rc != CLI_EXIT_OK && !rq->quiet && !defer_status)
        print_status_error(ctx, rs);
out:
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if (auth) {
        volatile char *p = auth;
        while (*p)
            *p++ = 0;
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
