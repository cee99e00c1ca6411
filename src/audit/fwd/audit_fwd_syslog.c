/* SPDX-License-Identifier: MIT
 * audit_fwd_syslog.c — syslog over TCP or TLS: RFC 5424 messages, framed by octet counting
 * (RFC 6587 3.4.1, "<length> <message>"; RFC 5425 for TLS).
 *
 * <PRI>1 TIMESTAMP HOSTNAME openclaw-gateway PROCID MSGID [openclaw@32473 tenant="" seq=""] MSG
 * PRI is facility * 8 + severity; MSGID the event type (at most 32 characters); the structured
 * data element names the record's tenant and seq, so a receiver that got an event twice (the
 * transport is at least once) can tell; MSG is the formatted record. 32473 is the private
 * enterprise number RFC 5612 reserves for documentation: a deployment may have its own.
 *
 * Syslog has no acknowledgement: a write that succeeded may still die in the receiver's
 * socket buffer. So what a connection took counts as delivered only once the connection was
 * still open a moment later (alive); a connection found closed makes the worker send again
 * from the last delivered event.
 */
#include "base/prelude.h"
#include "audit/fwd/audit_fwd_int.h"
#include "base/util.h"
#include "base/log.h"
#include "net/net.h"

#include <unistd.h>

/* An SD-PARAM value: '"', '\' and ']' escaped (RFC 5424 6.3.3). */
static void sd_value(struct gw_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\' || *v == ']')
            gw_buf_append(b, "\\", 1);
        gw_buf_append(b, v, 1);
    }
}

/* A header field: printable US-ASCII without spaces, at most max characters, "-" when empty. */
static void field(struct gw_buf *b, const char *v, size_t max)
{
    size_t n = 0;
    for (; v && v[n] && n < max; n++)
        gw_buf_append(b, (unsigned char)v[n] > 32 && (unsigned char)v[n] < 127 ? &v[n] : "_", 1);
    if (n == 0)
        gw_buf_append(b, "-", 1);
    gw_buf_append(b, " ", 1);
}

static void message(struct audit_fwd_dest *d, const struct audit_fwd_batch *b,
                    const struct audit_fwd_rec *r, struct gw_buf *m)
{
    char ts[40], num[32];
    gw_time_iso8601(r->ts_ms, ts, sizeof ts);
    gw_buf_printf(m, "<%u>1 %s ", d->cfg.facility * 8 + (unsigned)r->severity, ts);
    field(m, d->env.host, 255);
    field(m, AUDIT_FWD_APP, 48);
    snprintf(num, sizeof num, "%ld", (long)getpid());
    field(m, num, 128);
    field(m, r->msgid, 32);
    gw_buf_puts(m, "[openclaw@32473 tenant=\"");
    sd_value(m, r->tenant);
    gw_buf_printf(m, "\" seq=\"%" PRId64 "\"%s] ", r->seq, r->head ? " head=\"1\"" : "");
    gw_buf_append(m, b->text.data + r->off, r->len);
}

static gw_err send_batch(struct audit_fwd_dest *d, const struct audit_fwd_batch *b, char *why,
                         size_t cap)
{
    gw_err rc = GW_OK;
    if (!d->conn) {
        rc = net_stream_open(d->net, d->cfg.endpoint, d->cfg.ca_file, AUDIT_FWD_TIMEOUT_MS,
                             (struct net_stream **)&d->conn, why, cap);
        if (rc != GW_OK)
            return rc;
    }
    struct gw_buf frames, m;
    gw_buf_init(&frames, (size_t)1 << 30);
    gw_buf_init(&m, AUDIT_FWD_MAX_RECORD + 1024);
    for (size_t i = 0; i < b->n; i++) {
        gw_buf_reset(&m);
        message(d, b, &b->recs[i], &m);
        gw_buf_printf(&frames, "%zu ", m.len);
        gw_buf_append(&frames, m.data, m.len);
    }
    rc = net_stream_write(d->conn, frames.data, frames.len, why, cap);
    if (rc != GW_OK) {
        net_stream_close(d->conn);
        d->conn = NULL;
    }
    gw_buf_release(&m);
    gw_buf_release(&frames);
    return rc;
}

static bool alive(struct audit_fwd_dest *d)
{
    if (d->conn && net_stream_alive(d->conn))
        return true;
    net_stream_close(d->conn);
    d->conn = NULL;
    return false;
}

static void close_conn(struct audit_fwd_dest *d)
{
    net_stream_close(d->conn);
    d->conn = NULL;
}

const struct audit_fwd_transport audit_fwd_syslog = {
    .name = "syslog",
    .send = send_batch,
    .alive = alive,
    .close = close_conn,
};
