/* SPDX-License-Identifier: MIT
 * pg_lease.c — leases as session advisory locks (store_lease.h), schema 16 (audit_fwd_leaders).
 *
 * Each lease has a connection of its own, outside the pool: a session advisory lock belongs to
 * the session that took it, so a pooled connection (any thread's, any moment) cannot hold one.
 * The key is (7032, hashtext(<schema>/<name>)): 7031 is the migrations' lock, and the schema
 * keeps the nodes of one store apart from those of another on the same server. The holder
 * writes its node id and backend pid to audit_fwd_leaders; a reader believes a row only while
 * that pid holds the lock (pg_locks), so a dead holder's row never names a leader. A cursor is
 * stored through the holding session by a statement that checks the lock itself: a deposed
 * holder's store changes nothing.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/util.h"
#include "store/pg/pg_int.h"

#define KEY "7032, hashtext(current_schema() || '/' || $1)"
/* this key held by pid: pg_locks shows the two-int form as classid, objid and objsubid 2 */
#define HELD_BY(pid)                                                                               \
    "EXISTS (SELECT 1 FROM pg_locks k WHERE k.pid = " pid " AND k.locktype = 'advisory'"           \
    " AND k.granted AND k.objsubid = 2 AND k.classid::int8 = 7032"                                 \
    " AND k.objid::int8 = (hashtext(current_schema() || '/' || $1)::int8 & 4294967295)"            \
    " AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))"

static const char TRY[] = "SELECT pg_try_advisory_lock(" KEY ")::int::int8";
static const char ALIVE[] = "SELECT 1::int8";
static const char RECORD[] = "INSERT INTO audit_fwd_leaders (destination, node_id, pid, since_ms) "
                             "VALUES ($1, $2, pg_backend_pid(), $3) ON CONFLICT (destination) DO "
                             "UPDATE SET node_id = excluded.node_id, pid = excluded.pid, "
                             "since_ms = excluded.since_ms";
static const char CURSOR_SET[] =
    "INSERT INTO audit_fwd_cursors (destination, tenant, seq, updated_ms) "
    "SELECT $1, $2, $3, $4 WHERE " HELD_BY(
        "pg_backend_pid()") " ON CONFLICT (destination, "
                            "tenant) DO UPDATE SET seq = GREATEST(audit_fwd_cursors.seq, "
                            "excluded.seq), "
                            "updated_ms = excluded.updated_ms";
static const char HOLDER[] = "SELECT l.node_id FROM audit_fwd_leaders l WHERE l.destination = $1 "
                             "AND " HELD_BY("l.pid");

struct store_pg_lease {
    struct store_lease base; /* first: store_lease.c frees the whole allocation */
    struct store_pg_conn c;  /* its own session, outside the pool */
    bool held;
    bool unreachable; /* the last connection attempt failed: the next failure is not logged */
};

static struct store_pg_lease *lease_of(struct store_lease *l)
{
    return (struct store_pg_lease *)l;
}

static gw_err lease_open(struct store *st, const char *name, const char *node_id,
                         struct store_lease **out)
{
    GW_UNUSED(st);
    GW_UNUSED(name);
    GW_UNUSED(node_id);
    struct store_pg_lease *p = gw_xcalloc(1, sizeof *p);
    *out = &p->base;
    return GW_OK;
}

static void disconnect(struct store_pg_lease *p)
{
    PQfinish(p->c.pg);
    p->c = (struct store_pg_conn){0};
    p->held = false;
}

static gw_err lease_hold(struct store_lease *l, bool *held)
{
    struct store_pg_lease *p = lease_of(l);
    *held = false;
    if (p->c.pg && (p->c.broken || PQstatus(p->c.pg) != CONNECTION_OK))
        disconnect(p);
    if (!p->c.pg) {
        p->c.pg = store_pg_connect(store_pg_of(l->st), "lease", p->unreachable);
        p->unreachable = !p->c.pg;
        if (!p->c.pg)
            return GW_ESTORE;
    }
    int64_t got = 0;
    gw_err rc;
    if (p->held) { /* the session lives: the lock with it */
        rc = store_pg_run_get(&p->c, PG_CALL(.sql = ALIVE, .what = "lease check"),
                              &store_pg_i64_cols, &got);
    } else {
        rc = store_pg_run_get(&p->c,
                              PG_CALL(.sql = TRY, .what = "lease", PG_ARGS(PG_TEXT(l->name))),
                              &store_pg_i64_cols, &got);
        if (rc == GW_OK && got == 1)
            rc = store_pg_run(&p->c,
                              PG_CALL(.sql = RECORD, .what = "lease holder",
                                      PG_ARGS(PG_TEXT(l->name), PG_TEXT(l->node_id),
                                              PG_I64(gw_now_ms()))),
                              NULL);
    }
    if (rc != GW_OK) { /* the lock, if any, ends with the session */
        disconnect(p);
        return rc;
    }
    p->held = got == 1;
    *held = p->held;
    return GW_OK;
}

static gw_err lease_cursor_set(struct store_lease *l, const char *tenant, int64_t seq,
                               int64_t now_ms)
{
    struct store_pg_lease *p = lease_of(l);
    if (!p->held || !p->c.pg)
        return GW_ECONFLICT;
    int changes = 0;
    gw_err rc = store_pg_run(&p->c,
                             PG_CALL(.sql = CURSOR_SET, .what = "forwarding cursor set (lease)",
                                     PG_ARGS(PG_TEXT(l->name), PG_TEXT(tenant), PG_I64(seq),
                                             PG_I64(now_ms))),
                             &changes);
    if (rc != GW_OK) {
        disconnect(p);
        return rc;
    }
    if (changes == 0) { /* the session does not hold the lock (cannot happen while it lives) */
        p->held = false;
        return GW_ECONFLICT;
    }
    return GW_OK;
}

static gw_err lease_holder(struct store *st, const char *name, char **node_id)
{
    char **v = NULL;
    size_t n = 0;
    gw_err rc = store_pg_list(st,
                              PG_CALL(.sql = HOLDER, .what = "lease holder read",
                                      PG_ARGS(PG_TEXT(name))),
                              &store_str_cols, &v, &n);
    if (rc == GW_OK && n > 0) {
        *node_id = v[0];
        v[0] = NULL;
    }
    store_strv_free(v, n);
    return rc;
}

static void lease_close(struct store_lease *l)
{
    struct store_pg_lease *p = lease_of(l);
    /* released before close returns (the server ends a closed session a moment later): the
     * next node need not wait for it */
    if (p->held && p->c.pg && PQstatus(p->c.pg) == CONNECTION_OK)
        (void)store_pg_exec(&p->c, "SELECT pg_advisory_unlock_all()", "lease release");
    disconnect(p);
}

const struct store_lease_ops store_pg_lease_ops = {
    .open = lease_open,
    .hold = lease_hold,
    .cursor_set = lease_cursor_set,
    .holder = lease_holder,
    .close = lease_close,
};
