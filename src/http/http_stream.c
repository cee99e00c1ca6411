/* SPDX-License-Identifier: MIT
 * http_stream.c — responses fed by a producer on another thread (SSE from an upstream model).
 *
 * The producer appends to a buffer under the stream's lock; MHD pulls from it through the
 * content reader callback. When the buffer is empty the reader suspends the connection and
 * returns 0, so an idle stream costs no polling; the next write resumes it. Suspend and resume
 * both happen under the stream's lock, so a resume can never overtake the suspend it answers.
 *
 * Two owners share the stream: the producer (until http_stream_close) and the MHD response
 * (until MHD frees it: after the end of the stream, or when the client went away). If the
 * response is freed first, the client is gone and further writes fail with GW_ECANCELED.
 */
#include "base/prelude.h"
#include "http/http_int.h"
#include "base/mem.h"

struct http_stream {
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    char *data; /* pending bytes: data[head, len) */
    size_t head, len, cap;
    bool suspended;  /* the reader suspended the connection, waiting for data */
    bool closed, ok; /* producer finished (normally when ok) */
    bool gone;       /* MHD freed the response */
    int refs;        /* under lock */
};

static void stream_unref_locked(struct http_stream *s)
{
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last) {
        pthread_mutex_destroy(&s->lock);
        free(s->data);
        free(s);
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    size_t avail = s->len - s->head;
    if (avail) {
        size_t n = avail < max ? avail : max;
        memcpy(buf, s->data + s->head, n);
        s->head += n;
        if (s->head == s->len)
            s->head = s->len = 0;
        pthread_mutex_unlock(&s->lock);
        return (ssize_t)n;
    }
    if (s->closed) {
        bool ok = s->ok;
        pthread_mutex_unlock(&s->lock);
        return ok ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
    }
    s->suspended = true;
    MHD_suspend_connection(s->conn);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static void response_freed(void *cls)
{
    struct http_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    s->gone = true;
    stream_unref_locked(s);
}

struct http_stream *http_stream_open(struct http_req *r, int status, const char *content_type,
                                     const char *const *extra_headers)
{
    struct http_stream *s = gw_xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->conn = r->conn;
    s->refs = 2;
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                                  reader, s, response_freed);
    http_response_finish(r, status, resp, content_type, extra_headers);
    return s;
}

gw_err http_stream_write(struct http_stream *s, const void *data, size_t len)
{
    pthread_mutex_lock(&s->lock);
    if (s->gone || s->closed) {
        pthread_mutex_unlock(&s->lock);
        return GW_ECANCELED;
    }
    if (s->len - s->head + len > HTTP_STREAM_MAX_BUFFERED) {
        pthread_mutex_unlock(&s->lock);
        return GW_ETOOBIG;
    }
    if (s->len + len > s->cap) {
        if (s->head) { /* compact before growing */
            memmove(s->data, s->data + s->head, s->len - s->head);
            s->len -= s->head;
            s->head = 0;
        }
        if (s->len + len > s->cap) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap < s->len + len)
                cap *= 2;
            s->data = gw_xrealloc(s->data, cap);
            s->cap = cap;
        }
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
    pthread_mutex_unlock(&s->lock);
    return GW_OK;
}

void http_stream_close(struct http_stream *s, bool ok)
{
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    s->ok = ok;
    if (s->suspended && !s->gone) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
    stream_unref_locked(s);
}
