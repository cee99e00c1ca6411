/* SPDX-License-Identifier: MIT
 * audit_verify.c — checks a tenant's hash chain in the store or in a JSONL file.
 *
 * One algorithm for both sources: rows are walked in order; each must carry the next seq, link
 * to the previous row's hash and hash to its stored value. Signed checkpoints must verify with
 * the gateway's public key and match the row they name; a file may start with a checkpoint
 * (the anchor written at every file start), which then stands for the rows before it. The tail
 * is checked against the highest checkpoint, the writer's in-memory head (store) or the head
 * the caller knows (file). The lowest bad seq is reported, with a human reason.
 */
#include "base/prelude.h"
#include "audit/audit_int.h"
#include "base/json.h"
#include "base/mem.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#define RING 1024 /* recent hashes kept to check a checkpoint that names an earlier row */

struct pending {
    int64_t seq;
    char hash[65];
};

struct chain {
    char *tenant;
    int64_t expected;        /* next seq */
    char prev[65];           /* hash the next row must link to */
    bool broken;             /* a row failed: stop checking rows */
    int64_t bad;             /* lowest bad seq so far, 0 = none */
    char reason[256];
    int64_t events, checkpoints, last_seq, max_cp_seq;
    char (*ring)[65];        /* ring[seq % RING] = hash of seq, for seq > expected - 1 - RING */
    struct pending *pend;    /* checkpoints naming rows not seen yet, ascending seq */
    size_t n_pend, cap_pend, cur_pend;
    struct chain *next;
};

static struct chain *chain_new(const char *tenant)
{
    struct chain *c = gw_xcalloc(1, sizeof *c);
    c->tenant = gw_xstrdup(tenant ? tenant : "");
    c->expected = 1;
    memcpy(c->prev, AUDIT_ZERO_HASH, 65);
    c->ring = gw_xcalloc(RING, sizeof *c->ring);
    return c;
}

static void chain_free(struct chain *c)
{
    free(c->tenant);
    free(c->ring);
    free(c->pend);
    free(c);
}

static void GW_PRINTF(3, 4) chain_fail(struct chain *c, int64_t seq, const char *fmt, ...)
{
    if (c->bad != 0 && c->bad <= seq)
        return;
    c->bad = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof c->reason, fmt, ap);
    va_end(ap);
}

static void pend_add(struct chain *c, int64_t seq, const char *hash)
{
    if (c->n_pend == c->cap_pend) {
        c->cap_pend = c->cap_pend ? 2 * c->cap_pend : 16;
        c->pend = gw_xrealloc(c->pend, c->cap_pend * sizeof *c->pend);
    }
    size_t i = c->n_pend++;
    while (i > c->cur_pend && c->pend[i - 1].seq > seq) {
        c->pend[i] = c->pend[i - 1];
        i--;
    }
    c->pend[i].seq = seq;
    snprintf(c->pend[i].hash, sizeof c->pend[i].hash, "%s", hash);
}

/* A checkpoint (signature already checked) against the chain; anchor: may start the chain. */
static void chain_checkpoint_match(struct chain *c, const struct store_audit_checkpoint *cp,
                                   bool anchor)
{
    if (anchor && c->events == 0 && c->expected == 1 && cp->seq > 0 && !c->broken) {
        c->expected = cp->seq + 1;
        snprintf(c->prev, sizeof c->prev, "%s", cp->hash);
        c->last_seq = cp->seq;
        c->checkpoints++;
        return;
    }
    int64_t last = c->expected - 1;
    if (cp->seq > last || c->broken) {
        pend_add(c, cp->seq, cp->hash);
        return;
    }
    const char *want = NULL;
    if (cp->seq == last)
        want = c->prev;
    else if (cp->seq == 0)
        want = AUDIT_ZERO_HASH;
    else if (cp->seq > last - RING && c->ring[cp->seq % RING][0])
        want = c->ring[cp->seq % RING];
    if (!want)
        return; /* names a row too far back to check; its signature was checked */
    c->checkpoints++;
    if (strcmp(want, cp->hash) != 0)
        chain_fail(c, cp->seq, "signed checkpoint at seq %lld does not match event %lld "
                   "(event modified or chain rewritten)", (long long)cp->seq, (long long)cp->seq);
}

static bool checkpoint_valid(struct chain *c, const struct store_audit_checkpoint *cp,
                             const unsigned char pub[AUDIT_PUBKEY_LEN], const char *key_id)
{
    if (strcmp(cp->key_id, key_id) != 0) {
        chain_fail(c, GW_MAX(cp->seq, 1), "checkpoint at seq %lld was signed by key %s, not %s",
                   (long long)cp->seq, cp->key_id, key_id);
        return false;
    }
    if (!audit_checkpoint_check(pub, cp)) {
        chain_fail(c, GW_MAX(cp->seq, 1), "checkpoint at seq %lld has an invalid signature",
                   (long long)cp->seq);
        return false;
    }
    if (cp->seq > c->max_cp_seq)
        c->max_cp_seq = cp->seq;
    return true;
}

static void chain_row(struct chain *c, int64_t seq, const char *prev_hash, const char *stored,
                      const char *computed)
{
    c->events++;
    c->last_seq = seq;
    if (c->broken)
        return;
    if (seq > c->expected) {
        c->broken = true;
        chain_fail(c, c->expected,
                   "expected event %lld, found %lld: missing (deleted) or reordered event",
                   (long long)c->expected, (long long)seq);
        return;
    }
    if (seq < c->expected) {
        /* a seq seen again: the extra copy is the inserted (or moved) event; name it */
        c->broken = true;
        chain_fail(c, seq, "event %lld appears again after event %lld: inserted or reordered event",
                   (long long)seq, (long long)c->expected - 1);
        return;
    }
    if (strcmp(prev_hash, c->prev) != 0) {
        c->broken = true;
        chain_fail(c, seq, "event %lld does not link to the hash of event %lld "
                   "(inserted, replaced or reordered event)", (long long)seq, (long long)seq - 1);
        return;
    }
    if (strcmp(stored, computed) != 0) {
        c->broken = true;
        chain_fail(c, seq, "event %lld modified (its content does not match its hash)",
                   (long long)seq);
        return;
    }
    snprintf(c->prev, sizeof c->prev, "%s", stored);
    memcpy(c->ring[seq % RING], c->prev, 65);
    c->expected = seq + 1;
    while (c->cur_pend < c->n_pend && c->pend[c->cur_pend].seq <= seq) {
        struct pending *p = &c->pend[c->cur_pend++];
        if (p->seq < seq)
            continue; /* only possible for a chain that did not start at 1 */
        c->checkpoints++;
        if (strcmp(p->hash, stored) != 0)
            chain_fail(c, seq, "signed checkpoint at seq %lld does not match event %lld "
                       "(event modified or chain rewritten)", (long long)seq, (long long)seq);
    }
}

/* Truncation: the chain must reach every head known to exist. */
static void chain_finish(struct chain *c, int64_t head, const char *what)
{
    if (c->max_cp_seq > c->last_seq && c->max_cp_seq >= head)
        chain_fail(c, c->last_seq + 1, "truncated: the chain ends at seq %lld but a signed "
                   "checkpoint covers seq %lld", (long long)c->last_seq, (long long)c->max_cp_seq);
    else if (head > c->last_seq)
        chain_fail(c, c->last_seq + 1, "truncated: the chain ends at seq %lld but %s is seq %lld",
                   (long long)c->last_seq, what, (long long)head);
}

static void result_from(struct audit_verify_result *r, struct chain *chains, bool name_tenant)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    for (struct chain *c = chains; c; c = c->next) {
        r->events_checked += c->events;
        r->checkpoints_checked += c->checkpoints;
        if (c->last_seq > r->last_seq)
            r->last_seq = c->last_seq;
        if (c->bad && (r->ok || c->bad < r->first_bad_seq)) {
            r->ok = false;
            r->first_bad_seq = c->bad;
            if (name_tenant)
                snprintf(r->reason, sizeof r->reason, "tenant %.64s: %.180s", c->tenant,
                         c->reason);
            else
                snprintf(r->reason, sizeof r->reason, "%s", c->reason);
        }
    }
}

/* --- store ------------------------------------------------------------------------------------- */

static int store_row_cb(const struct store_audit_row *row, void *ctx)
{
    struct chain *c = ctx;
    char computed[65];
    if (!c->broken)
        audit_row_compute_hash(row, computed);
    else
        computed[0] = '\0';
    chain_row(c, row->seq, row->prev_hash ? row->prev_hash : "", row->hash ? row->hash : "",
              computed);
    return 0;
}

gw_err audit_verify_store(struct audit *a, const char *tenant, struct audit_verify_result *r)
{
    memset(r, 0, sizeof *r);
    if (!a || !tenant)
        return GW_EINVAL;
    const struct audit_keys *k = audit_get_keys(a);
    /* Read the durable head first: the store holds at least that much from now on. */
    int64_t head;
    char head_hash[65];
    audit_committed_head(a, tenant, &head, head_hash);

    struct chain *c = chain_new(tenant);
    struct store_audit_checkpoint *cps = NULL;
    size_t ncp = 0;
    gw_err rc = store_checkpoint_list(audit_store(a), tenant, &cps, &ncp);
    if (rc != GW_OK)
        goto out;
    for (size_t i = 0; i < ncp; i++)
        if (checkpoint_valid(c, &cps[i], k->pub, k->key_id))
            chain_checkpoint_match(c, &cps[i], false);
    struct store_audit_filter f = {.tenant = tenant, .vis = STORE_AUDIT_VIS_ALL};
    rc = store_audit_scan(audit_store(a), &f, store_row_cb, c);
    if (rc != GW_OK)
        goto out;
    chain_finish(c, head, "the writer's head");
    result_from(r, c, false);
out:
    store_checkpoint_list_free(cps, ncp);
    chain_free(c);
    return rc;
}

/* --- files ------------------------------------------------------------------------------------- */

struct reader {
    int fd;
    char *buf;
    size_t cap, start, end, scanned;
    bool eof;
};

enum { LINE_EOF = 0, LINE_OK = 1, LINE_TOO_LONG = -1, LINE_IO = -2 };

static int next_line(struct reader *rd, char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(rd->buf + rd->scanned, '\n', rd->end - rd->scanned);
        if (nl) {
            *line = rd->buf + rd->start;
            *len = (size_t)(nl - *line);
            rd->start = rd->scanned = (size_t)(nl - rd->buf) + 1;
            return *len > AUDIT_MAX_LINE ? LINE_TOO_LONG : LINE_OK;
        }
        rd->scanned = rd->end;
        if (rd->end - rd->start > AUDIT_MAX_LINE)
            return LINE_TOO_LONG;
        if (rd->eof) {
            if (rd->start == rd->end)
                return LINE_EOF;
            *line = rd->buf + rd->start;
            *len = rd->end - rd->start;
            rd->start = rd->scanned = rd->end;
            return LINE_OK;
        }
        if (rd->start > 0) {
            memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
            rd->end -= rd->start;
            rd->scanned -= rd->start;
            rd->start = 0;
        }
        ssize_t n = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return LINE_IO;
        if (n == 0)
            rd->eof = true;
        rd->end += (size_t)n;
    }
}

static struct chain *chain_get(struct chain **chains, const char *tenant)
{
    struct chain **pp = chains;
    for (; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->tenant, tenant) == 0)
            return *pp;
    *pp = chain_new(tenant);
    return *pp;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* One parsed line of the file; false stops the walk (malformed). */
static bool file_line(struct chain **chains, struct chain **current, json_t *obj, size_t lineno,
                      const char *tenant, const unsigned char *pub, const char *key_id)
{
    const char *t = gw_json_str(obj, "tenant");
    if (!t) {
        chain_fail(*current, (*current)->expected, "line %zu has no tenant", lineno);
        return false;
    }
    if (tenant && strcmp(t, tenant) != 0)
        return true;
    struct chain *c = *current = chain_get(chains, t);
    if (audit_json_is_checkpoint(obj)) {
        struct store_audit_checkpoint cp;
        if (audit_checkpoint_from_json(obj, &cp) != GW_OK) {
            chain_fail(c, c->expected, "line %zu is a malformed checkpoint", lineno);
            return false;
        }
        bool anchor_slot = c->events == 0 && c->expected == 1 && cp.seq > 0;
        /* A forged anchor still positions the walk, so the report names the checkpoint
         * rather than every event before it. */
        if (checkpoint_valid(c, &cp, pub, key_id) || anchor_slot)
            chain_checkpoint_match(c, &cp, true);
        store_audit_checkpoint_release(&cp);
        return true;
    }
    json_t *seq = json_object_get(obj, "seq");
    const char *prev = gw_json_str(obj, "prev_hash"), *hash = gw_json_str(obj, "hash");
    if (!json_is_integer(seq) || !prev || !hash) {
        chain_fail(c, c->expected, "line %zu is not an audit event (seq, prev_hash, hash)",
                   lineno);
        return false;
    }
    char computed[65] = "";
    char *stored = gw_xstrdup(hash);
    if (!c->broken) {
        json_object_del(obj, "hash");
        audit_hash_object(obj, computed);
    }
    chain_row(c, json_integer_value(seq), prev, stored, computed);
    free(stored);
    return true;
}

gw_err audit_verify_file(const char *path, const char *public_key, const char *tenant,
                         int64_t expected_last_seq, struct audit_verify_result *r)
{
    memset(r, 0, sizeof *r);
    unsigned char pub[AUDIT_PUBKEY_LEN];
    char key_id[17];
    if (!path || !audit_pubkey_decode(public_key, pub))
        return GW_EINVAL;
    audit_pubkey_id(pub, key_id);
    struct reader rd = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
    if (rd.fd < 0)
        return errno == ENOENT ? GW_ENOTFOUND : GW_EIO;
    rd.cap = 2 * AUDIT_MAX_LINE + 2;
    rd.buf = gw_xmalloc(rd.cap);

    struct chain *chains = NULL;
    struct chain *current = chain_get(&chains, tenant ? tenant : "");
    gw_err rc = GW_OK;
    size_t lineno = 0;
    char *line;
    size_t len;
    for (;;) {
        int got = next_line(&rd, &line, &len);
        if (got == LINE_EOF)
            break;
        lineno++;
        if (got == LINE_IO) {
            rc = GW_EIO;
            break;
        }
        if (got == LINE_TOO_LONG) {
            chain_fail(current, current->expected, "line %zu is longer than %u bytes", lineno,
                       AUDIT_MAX_LINE);
            break;
        }
        if (blank(line, len))
            continue;
        char msg[128];
        json_t *obj = gw_json_parse(line, len, GW_JSON_MAX_DEPTH, msg, sizeof msg);
        if (!json_is_object(obj)) {
            chain_fail(current, current->expected, "line %zu is not a JSON object%s%s", lineno,
                       obj ? "" : ": ", obj ? "" : msg);
            json_decref(obj);
            break;
        }
        bool go_on = file_line(&chains, &current, obj, lineno, tenant, pub, key_id);
        json_decref(obj);
        if (!go_on)
            break;
    }
    close(rd.fd);
    free(rd.buf);
    if (rc == GW_OK) {
        /* Drop the placeholder chain of an unfiltered file that never named it. */
        if (!tenant && chains && chains->events == 0 && chains->checkpoints == 0 &&
            chains->bad == 0 && chains->next) {
            struct chain *c = chains;
            chains = c->next;
            chain_free(c);
        }
        for (struct chain *c = chains; c; c = c->next)
            chain_finish(c, expected_last_seq, "the expected last seq");
        result_from(r, chains, !tenant && chains && chains->next);
    }
    while (chains) {
        struct chain *c = chains;
        chains = c->next;
        chain_free(c);
    }
    return rc;
}
