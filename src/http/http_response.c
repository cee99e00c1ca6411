/* SPDX-License-Identifier: MIT
 * http_response.c — building and queueing responses, header/query access, path decoding.
 *
 * Every response carries X-Request-Id and conservative security headers; errors always use the
 * one JSON envelope {"error":{"code","message","request_id"}}.
 */
#include "base/prelude.h"
#include "base/json.h"
#include "http/http_int.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"

#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>

const char *http_header(struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_query(struct http_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void add_standard_headers(struct http_req *r, struct MHD_Response *resp,
                                 const char *content_type, const char *const *extra)
{
    bool own_cache = false; /* a caller's Cache-Control replaces the default no-store */
    for (size_t i = 0; extra && extra[i] && !own_cache; i++)
        own_cache = strncasecmp(extra[i], "Cache-Control:", 14) == 0;
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (!own_cache)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    for (size_t i = 0; extra && extra[i]; i++) {
        const char *colon = strchr(extra[i], ':');
        if (!colon)
            continue;
        char *name = gw_pool_strndup(r->pool, extra[i], (size_t)(colon - extra[i]));
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header(resp, name, value);
    }
}

static void queue(struct http_req *r, int status, struct MHD_Response *resp)
{
    r->responded = true;
    r->status = status;
    if (r->deferred) {
        /* answered on a blocking worker: MHD takes it when the connection resumes */
        r->stored = resp;
        r->stored_status = status;
        return;
    }
    if (MHD_queue_response(r->conn, (unsigned)status, resp) != MHD_YES)
        gw_debug("http: could not queue response %d for %s", status, r->request_id);
    MHD_destroy_response(resp);
}

void http_response_finish(struct http_req *r, int status, struct MHD_Response *resp,
                          const char *content_type, const char *const *extra_headers)
{
    add_standard_headers(r, resp, content_type, extra_headers);
    queue(r, status, resp);
}

static void respond_buffer(struct http_req *r, int status, const char *content_type,
                           const void *body, size_t len, const char *const *extra_headers,
                           enum MHD_ResponseMemoryMode mode)
{
    if (r->responded)
        return;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
    add_standard_headers(r, resp, content_type, extra_headers);
    queue(r, status, resp);
}

void http_respond(struct http_req *r, int status, const char *content_type, const void *body,
                  size_t len, const char *const *extra_headers)
{
    respond_buffer(r, status, content_type, body, len, extra_headers, MHD_RESPMEM_MUST_COPY);
}

void http_respond_static(struct http_req *r, int status, const char *content_type, const void *body,
                         size_t len, const char *const *extra_headers)
{
    respond_buffer(r, status, content_type, body, len, extra_headers, MHD_RESPMEM_PERSISTENT);
}

void http_respond_json(struct http_req *r, int status, json_t *body)
{
    char *text = gw_json_compact(body);
    json_decref(body);
    if (r->responded) {
        free(text);
        return;
    }
    size_t len = strlen(text);
    text = gw_xrealloc(text, len + 2);
    text[len++] = '\n';
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    add_standard_headers(r, resp, "application/json", NULL);
    queue(r, status, resp);
}

/* The "type" of OpenAI's error envelope, which SDKs map to their exception classes. */
static const char *openai_error_type(gw_err code)
{
    switch (gw_err_http_status(code)) {
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 429:
        return "rate_limit_error";
    default:
        return gw_err_http_status(code) >= 500 ? "api_error" : "invalid_request_error";
    }
}

__attribute__((format(printf, 4, 0))) static void respond_error_v(struct http_req *r, gw_err code,
                                                                  const char *const *extra,
                                                                  const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    json_t *body = r->openai_errors
                       ? json_pack("{s:{s:s,s:s,s:n,s:s,s:s}}", "error", "message",
                                   msg[0] ? msg : gw_err_message(code), "type",
                                   openai_error_type(code), "param", "code", gw_err_name(code),
                                   "request_id", r->request_id)
                       : json_pack("{s:{s:s,s:s,s:s}}", "error", "code", gw_err_name(code),
                                   "message", msg[0] ? msg : gw_err_message(code), "request_id",
                                   r->request_id);
    if (r->responded) {
        json_decref(body);
        return;
    }
    char *text = gw_json_compact(body);
    json_decref(body);
    size_t len = strlen(text);
    text = gw_xrealloc(text, len + 2);
    text[len++] = '\n';
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    add_standard_headers(r, resp, "application/json", extra);
    /* the store or the audit trail is away for a moment (a restart, a failover): a client that
     * retries at once would most likely be refused again */
    if ((code == GW_ESTORE || code == GW_EAUDIT) && !MHD_get_response_header(resp, "Retry-After"))
        MHD_add_response_header(resp, "Retry-After", "1");
    queue(r, gw_err_http_status(code), resp);
}

void http_respond_error(struct http_req *r, gw_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    respond_error_v(r, code, NULL, fmt, ap);
    va_end(ap);
}

void http_respond_error_h(struct http_req *r, gw_err code, const char *const *extra_headers,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    respond_error_v(r, code, extra_headers, fmt, ap);
    va_end(ap);
}

void http_raw_error(int fd, gw_err code, const char *message)
{
    char rid[33];
    gw_random_hex(rid, 16);
    json_t *e = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", gw_err_name(code), "message",
                          message, "request_id", rid);
    char *body = gw_json_compact(e);
    json_decref(e);
    int status = gw_err_http_status(code);
    char *resp = gw_xasprintf("HTTP/1.1 %d %s\r\nConnection: close\r\n"
                              "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                              "X-Request-Id: %s\r\nCache-Control: no-store\r\n"
                              "X-Content-Type-Options: nosniff\r\n\r\n%s\n",
                              status, MHD_get_reason_phrase_for((unsigned)status), strlen(body) + 1,
                              rid, body);
    ssize_t w = send(fd, resp, strlen(resp), MSG_NOSIGNAL | MSG_DONTWAIT);
    GW_UNUSED(w);
    free(resp);
    free(body);
}

struct stream_ctx {
    http_stream_fill_fn *fill;
    http_stream_free_fn *free_ctx;
    void *ctx;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_ctx *sc = cls;
    ssize_t n = sc->fill(sc->ctx, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void stream_free(void *cls)
{
    struct stream_ctx *sc = cls;
    if (sc->free_ctx)
        sc->free_ctx(sc->ctx);
    free(sc);
}

void http_respond_stream(struct http_req *r, int status, const char *content_type,
                         http_stream_fill_fn *fill, http_stream_free_fn *free_ctx, void *ctx,
                         const char *const *extra_headers)
{
    if (r->responded) {
        if (free_ctx)
            free_ctx(ctx);
        return;
    }
    struct stream_ctx *sc = gw_xmalloc(sizeof(*sc));
    sc->fill = fill;
    sc->free_ctx = free_ctx;
    sc->ctx = ctx;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                                  stream_reader, sc, stream_free);
    add_standard_headers(r, resp, content_type, extra_headers);
    queue(r, status, resp);
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool http_pct_decode(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return false;
            int hi = hexdigit(in[i + 1]), lo = hexdigit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return false;
            i += 2;
        }
        if (o + 1 >= cap)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}
