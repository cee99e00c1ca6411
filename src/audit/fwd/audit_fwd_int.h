/* SPDX-License-Identifier: MIT
 * audit_fwd_int.h — private to src/audit/fwd: destinations, record formats and transports.
 *
 * audit_fwd.c         the hub: the forwarder slot, the destinations, reload, status
 * audit_fwd_dest.c    one destination's worker: cursors, delivery rounds, retries
 * audit_fwd_cef.c     CEF (ArcSight)          audit_fwd_leef.c  LEEF 2.0 (QRadar)
 * audit_fwd_json.c    the row as JSON, and the Splunk HEC envelope around it
 * audit_fwd_ecs.c     Elastic Common Schema   audit_fwd_ocsf.c  OCSF API Activity, Authentication
 * audit_fwd_syslog.c  RFC 5424 over TCP or TLS with octet counting (RFC 6587)
 * audit_fwd_http.c    HTTPS: HEC, Elasticsearch bulk, generic webhook
 */
#ifndef GW_AUDIT_FWD_INT_H
#define GW_AUDIT_FWD_INT_H

#include "base/prelude.h"
#include "audit/fwd/audit_fwd.h"
#include "base/buf.h"
#include "config/config.h"
#include "store/store.h"

#include <inttypes.h>
#include <jansson.h>

#define AUDIT_FWD_VENDOR "OpenClaw"
#define AUDIT_FWD_PRODUCT "Enterprise Gateway"
#define AUDIT_FWD_APP "openclaw-gateway"
/* A string field (details, resource ...) is cut to this in every format: SIEM parsers and
 * syslog receivers refuse or truncate long messages (rsyslog's default is 8 KiB). */
#define AUDIT_FWD_MAX_FIELD 4096
#define AUDIT_FWD_MAX_RECORD ((size_t)64 << 10)
#define AUDIT_FWD_TIMEOUT_MS 5000u

/* What a format needs besides the row. */
struct audit_fwd_env {
    const char *host;  /* this gateway's host name */
    const char *node;  /* this node's id (cluster.node_id): an HTTP header names the sender */
    const char *index; /* Splunk / Elasticsearch index, or NULL */
};

/* One format: appends one record (no trailing newline) to out. */
struct audit_fwd_format {
    const char *name;         /* the audit.siem format key */
    const char *content_type; /* of an HTTP body of records, one per line */
    void (*event)(const struct audit_fwd_env *env, const struct store_audit_row *r,
                  struct gw_buf *out);
    void (*head)(const struct audit_fwd_env *env, const struct store_audit_checkpoint *c,
                 struct gw_buf *out);
};

extern const struct audit_fwd_format audit_fwd_cef, audit_fwd_leef, audit_fwd_json, audit_fwd_hec,
    audit_fwd_ecs, audit_fwd_ocsf;
const struct audit_fwd_format *audit_fwd_format_find(const char *name);

/* One record of a delivery: its text is text[off, off + len) of the batch. */
struct audit_fwd_rec {
    const char *tenant;
    int64_t seq; /* of the event, or of the head a checkpoint signs */
    bool head;   /* a signed checkpoint */
    int64_t ts_ms;
    const char *msgid; /* event type, or "audit.checkpoint" */
    int severity;      /* syslog severity 0-7 */
    size_t off, len;
};

struct audit_fwd_batch {
    struct gw_buf text;
    struct audit_fwd_rec *recs;
    size_t n, cap;
};

struct audit_fwd_dest;

/* A transport. send delivers every record or fails; alive (stream transports only) tells
 * whether what was sent since the last check may count as delivered. */
struct audit_fwd_transport {
    const char *name;
    gw_err (*send)(struct audit_fwd_dest *d, const struct audit_fwd_batch *b, char *why,
                   size_t cap);
    bool (*alive)(struct audit_fwd_dest *d);
    void (*close)(struct audit_fwd_dest *d);
};

extern const struct audit_fwd_transport audit_fwd_syslog, audit_fwd_http;

/* What a destination's worker is given (copied from the configuration). */
struct audit_fwd_dest_cfg {
    char *name, *endpoint, *api_key, *ca_file, *index;
    const struct audit_fwd_format *fmt;
    const struct audit_fwd_transport *tr;
    unsigned batch, max_backoff_s, facility;
    bool from_now;
};

struct audit_fwd_dest {
    struct audit_fwd_dest_cfg cfg;
    struct store *st;
    struct audit *audit;
    struct net_loop *net;
    struct audit_fwd_env env;
    void *conn; /* the transport's connection state */
    struct audit_fwd_dest_private *priv;
};

/* --- audit_fwd_dest.c ---------------------------------------------------------------------- */

/* Starts the worker; tenants are the chains that exist now. */
gw_err audit_fwd_dest_start(struct audit_fwd_dest *d, char **tenants, size_t n);
/* The writer committed the tenant's chain up to seq (any thread, never blocks long). */
void audit_fwd_dest_committed(struct audit_fwd_dest *d, const char *tenant, int64_t seq);
void audit_fwd_dest_stop(struct audit_fwd_dest *d);
bool audit_fwd_dest_failing(struct audit_fwd_dest *d);
json_t *audit_fwd_dest_status(struct audit_fwd_dest *d, const char *tenant);

/* --- helpers shared by the formats (audit_fwd_cef.c, audit_fwd_json.c) ---------------------- */

/* The row's details as JSON (an empty object when absent). A new reference. */
json_t *audit_fwd_details(const struct store_audit_row *r);
/* Appends obj (compact, sorted keys) and drops the reference; when the text would pass
 * AUDIT_FWD_MAX_RECORD, parent's member key is replaced by an "omitted" marker first. */
void audit_fwd_put_json(struct gw_buf *out, json_t *obj, json_t *parent, const char *key);

/* Syslog severity of an event: info for ok, warning for denied, error otherwise. */
int audit_fwd_severity(const char *outcome);
/* Appends s, at most AUDIT_FWD_MAX_FIELD bytes of it (on a UTF-8 boundary), escaping every
 * byte listed in specials and CR/LF (as \r, \n) with a backslash. */
void audit_fwd_escape(struct gw_buf *out, const char *s, const char *specials);

#endif
