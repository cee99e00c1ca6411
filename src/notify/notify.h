/* SPDX-License-Identifier: MIT
 * notify.h — operator notifications: e-mail and webhook channels on one background worker.
 *
 * notify/ owns the channels (an RFC 5322 e-mail through the SMTP relay, a JSON POST to the
 * webhook, both sent through net/ under its egress policy), their attempts and backoff, and the
 * queue; it may include base/, config/ (the relay and webhook settings, read at send time from
 * its configuration reference) and net/. What a notification says is its sender's business
 * (meter/ for budget alerts).
 *
 * A posted notification is copied and handled on the "costs-notify" thread, one at a time: an
 * optional claim first (at most once: a notification claimed before is skipped as a duplicate),
 * then the e-mail and the webhook, each with NOTIFY_ATTEMPTS attempts and a doubling backoff.
 * The queue is bounded: beyond NOTIFY_QUEUE_CAP notifications are dropped (logged). At stop
 * every queued notification gets one attempt per channel.
 */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

#include "base/prelude.h"
#include "base/err.h"

#include <jansson.h>

#define NOTIFY_QUEUE_CAP 1024  /* queued notifications; more are dropped (logged) */
#define NOTIFY_ATTEMPTS 3      /* per channel */
#define NOTIFY_BACKOFF_MS 1000 /* before the 2nd attempt, doubled for the next */
#define NOTIFY_TIMEOUT_S 10L   /* whole SMTP / webhook transfer */

struct cfg;
struct net_loop;
struct notifier;

/* On the notifier's thread, before anything is sent: GW_OK sends, GW_ECONFLICT skips it (it was
 * sent before: a duplicate). */
typedef gw_err notify_claim_fn(void *arg);

struct notify_msg {
    const char *type;     /* "budget.threshold": X-OpenClaw-Alert header */
    const char *about;    /* in log lines: "the threshold alert of workspace 'dev-team'" */
    const char *log;      /* logged (warn) when it is sent, or NULL */
    const char *email_to; /* recipients, comma-separated; NULL: no e-mail */
    const char *subject;
    const char *text;       /* e-mail body, CRLF line ends (a signature is added) */
    int64_t at_ms;          /* the e-mail's Date */
    const json_t *webhook;  /* the webhook's JSON body; NULL: no webhook */
    notify_claim_fn *claim; /* optional */
    void *claim_arg;        /* one malloc'd block, owned (freed) by the notifier once posted */
};

struct notify_stats {
    uint64_t handled;    /* notifications handled */
    uint64_t delivered;  /* every channel succeeded */
    uint64_t duplicates; /* skipped: claimed before */
    uint64_t failures;   /* a channel gave up */
    uint64_t dropped;    /* queue full or stopped */
};

/* Starts the thread; it keeps a reference to c (the SMTP relay and the webhook URL). */
gw_err notify_start(const struct cfg *c, struct net_loop *net, struct notifier **out);
/* Attempts every queued notification once more (no retries), then stops the thread. */
void notify_stop(struct notifier *n);
void notify_reload(struct notifier *n, const struct cfg *c);
/* Queues a copy of m; dropped with a warning when the queue is full. */
void notify_post(struct notifier *n, const struct notify_msg *m);
/* Waits until every notification posted before the call was handled. */
void notify_flush(struct notifier *n);
void notify_get_stats(struct notifier *n, struct notify_stats *s);

/* The RFC 5322 message sent to `to` (comma-separated addresses): Date (at_ms), From, To,
 * Subject, Message-ID, MIME headers, Auto-Submitted, X-OpenClaw-Alert: type, then text and a
 * signature; CRLF line ends. Caller frees. */
char *notify_email(const char *from, const char *to, const char *subject, const char *type,
                   const char *text, int64_t at_ms);

#endif
