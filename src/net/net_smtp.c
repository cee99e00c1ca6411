/* SPDX-License-Identifier: MIT
 * net_smtp.c — one e-mail through an SMTP relay: MAIL FROM, RCPT TO, DATA.
 *
 * A direct blocking libcurl transfer on the calling thread (the alert notifier's worker): SMTP
 * is rare and has nothing to gain from the loop. smtp:// upgrades with STARTTLS when the relay
 * offers it; smtps:// is TLS from the start. The relay is named in the configuration, so the
 * egress policy lets it be private; a link-local relay needs an explicit allow entry. Errors
 * carry libcurl's reason and the relay's status; the password is masked should a server echo
 * it.
 */
#include "base/prelude.h"
#include "net/net_int.h"
#include "base/mem.h"

#include <strings.h>

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = GW_MIN(size * nmemb, u->len - u->pos);
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* Replaces every occurrence of secret in msg by "***". */
static void redact(char *msg, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0)
        return;
    char *p;
    while ((p = strstr(msg, secret)) != NULL) {
        size_t rest = strlen(p + n);
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, rest + 1);
        if (n < 3) /* "***" could contain a 1-2 byte secret again */
            break;
    }
}

gw_err net_smtp_send(struct net_loop *l, const struct net_mail *m, char *why, size_t cap)
{
    gw_err rc = GW_EUPSTREAM;
    struct curl_slist *rcpt = NULL;
    char *mail_from = gw_xasprintf("<%s>", m->from);
    for (size_t i = 0; m->to && m->to[i]; i++) {
        char *bracketed = gw_xasprintf("<%s>", m->to[i]);
        rcpt = curl_slist_append(rcpt, bracketed);
        free(bracketed);
    }
    struct net_call c = {.loop = l, .egress = net_loop_egress(l)};
    char host[256];
    CURL *h = NULL;
    if (strncasecmp(m->url, "smtp://", 7) != 0 && strncasecmp(m->url, "smtps://", 8) != 0) {
        snprintf(why, cap, "only smtp and smtps URLs are allowed");
        rc = GW_EFORBIDDEN;
        goto out;
    }
    if (!rcpt || !net_url_host(m->url, host, sizeof host)) {
        snprintf(why, cap, !rcpt ? "no recipient" : "malformed URL");
        rc = GW_EINVAL;
        goto out;
    }
    c.allowed = net_egress_host_allowed(c.egress, host);
    c.trusted = net_egress_host_trusted(c.egress, host);
    h = curl_easy_init();
    if (!h) {
        snprintf(why, cap, "cannot create a libcurl handle");
        rc = GW_EINTERNAL;
        goto out;
    }
    struct upload up = {m->message, strlen(m->message), 0};
    char err[CURL_ERROR_SIZE] = "";
    unsigned timeout = m->timeout_ms ? m->timeout_ms : NET_DEFAULT_TIMEOUT_MS;
    curl_easy_setopt(h, CURLOPT_URL, m->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    if (m->user && *m->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, m->password ? m->password : "");
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, net_open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &c);
    CURLcode e = curl_easy_perform(h);
    if (e == CURLE_OK) {
        rc = GW_OK;
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (c.refused)
        snprintf(why, cap, "the egress policy refuses %s", c.refused_addr);
    else if (code)
        snprintf(why, cap, "%s (SMTP %ld)", err[0] ? err : curl_easy_strerror(e), code);
    else
        snprintf(why, cap, "%s", err[0] ? err : curl_easy_strerror(e));
    redact(why, m->password);
    rc = c.refused ? GW_EFORBIDDEN : e == CURLE_OPERATION_TIMEDOUT ? GW_EUPTIMEOUT : GW_EUPSTREAM;
out:
    if (h)
        curl_easy_cleanup(h);
    net_egress_unref(c.egress);
    curl_slist_free_all(rcpt);
    free(mail_from);
    return rc;
}
