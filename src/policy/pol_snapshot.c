/* SPDX-License-Identifier: MIT
 * pol_snapshot.c — compiled, immutable, refcounted policy sets, their chain cache, hot reload.
 *
 * A snapshot copies the active policies it is built from into its own arena and indexes them by
 * (tenant, scope, scope id). The effective policies of a chain (tenant, org path, team, user)
 * are computed on first use, level by level (enterprise, each org path prefix, team, user), each
 * level cached under its own key and sharing its parent's effective document for every domain
 * it does not change. The cache is an open-addressing table of atomic pointers: lookups take no
 * lock and allocate nothing; inserts are serialized by a mutex and never move or free an entry
 * until the snapshot dies, so a reader never sees a half-built chain. A policy change builds a
 * new snapshot (empty cache), so invalidation is the swap itself. When the cache is full new
 * chains are computed into the caller's scratch arena instead (bounded memory).
 * pol_engine holds the current snapshot: acquire = refcount under an "acquiring" counter that
 * the swapper waits on before dropping its reference, so no reader can ref a freed snapshot.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "policy/policy_int.h"

#include <sched.h>

static atomic_uint_fast64_t generation_counter;

uint64_t pol_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

bool pol_org_path_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0, depth = 0;
    if (len == 0 || len > 256)
        return false;
    for (const char *p = s;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || n > 63 || ++depth > POL_ORG_DEPTH_MAX)
            return false;
        for (size_t i = 0; i < n; i++) {
            char c = p[i];
            bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      (i > 0 && (c == '_' || c == '-'));
            if (!ok)
                return false;
        }
        if (!slash)
            return true;
        p = slash + 1;
    }
}

/* --- node index --------------------------------------------------------------------------- */

static uint64_t node_hash(const char *tenant, enum pol_scope scope, const char *scope_id)
{
    uint64_t h = pol_hash(tenant, strlen(tenant));
    h = h * 31 + (uint64_t)scope;
    if (scope_id)
        h ^= pol_hash(scope_id, strlen(scope_id)) * 0x9e3779b97f4a7c15ull;
    return h;
}

static bool node_is(const struct pol_node *n, const char *tenant, enum pol_scope scope,
                    const char *scope_id)
{
    return n->scope == scope && strcmp(n->tenant, tenant) == 0 &&
           strcmp(n->scope_id ? n->scope_id : "", scope_id ? scope_id : "") == 0;
}

const struct pol_node *pol_node_find(const struct pol_snapshot *s, const char *tenant,
                                     enum pol_scope scope, const char *scope_id)
{
    if (!s->nodes_cap)
        return NULL;
    size_t mask = s->nodes_cap - 1;
    for (size_t i = node_hash(tenant, scope, scope_id) & mask;; i = (i + 1) & mask) {
        const struct pol_node *n = s->nodes[i];
        if (!n)
            return NULL;
        if (node_is(n, tenant, scope, scope_id))
            return n;
    }
}

static struct pol_node *node_get(struct pol_snapshot *s, const char *tenant, enum pol_scope scope,
                                 const char *scope_id)
{
    size_t mask = s->nodes_cap - 1;
    size_t i = node_hash(tenant, scope, scope_id) & mask;
    for (;; i = (i + 1) & mask) {
        struct pol_node *n = s->nodes[i];
        if (!n)
            break;
        if (node_is(n, tenant, scope, scope_id))
            return n;
    }
    struct pol_node *n = gw_pool_calloc(s->pool, sizeof(*n));
    n->tenant = gw_pool_strdup(s->pool, tenant);
    n->scope = scope;
    n->scope_id = scope_id ? gw_pool_strdup(s->pool, scope_id) : NULL;
    s->nodes[i] = n;
    return n;
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

/* --- build --------------------------------------------------------------------------------- */

static struct pol_cpol *cpol_new(struct pol_snapshot *s, const struct pol_record *r)
{
    struct pol_cpol *c = gw_pool_calloc(s->pool, sizeof(*c));
    c->id = gw_pool_strdup(s->pool, r->id ? r->id : "(no id)");
    c->version = r->version;
    c->scope = r->scope;
    c->scope_id = r->scope_id ? gw_pool_strdup(s->pool, r->scope_id) : NULL;
    return c;
}

gw_err pol_snapshot_build(const struct pol_record *const *recs, size_t n,
                          const struct pol_snapshot_opts *opts, struct pol_snapshot **out,
                          struct pol_issues *errs)
{
    struct pol_snapshot *s = gw_xcalloc(1, sizeof(*s));
    atomic_init(&s->refcount, 1);
    s->generation = atomic_fetch_add(&generation_counter, 1) + 1;
    s->pool = gw_pool_new();
    s->cache_pool = gw_pool_new();
    pthread_mutex_init(&s->lock, NULL);
    s->nodes_cap = pow2_at_least(n * 2 + 1);
    s->nodes = gw_xcalloc(s->nodes_cap, sizeof(*s->nodes));
    s->cache_max = opts && opts->cache_max ? opts->cache_max : POL_CACHE_DEFAULT;
    s->slots_cap = pow2_at_least(s->cache_max * 2);
    s->slots = gw_xcalloc(s->slots_cap, sizeof(*s->slots));
    atomic_init(&s->cached, 0);

    for (size_t i = 0; i < n; i++) {
        const struct pol_record *r = recs[i];
        if (!r || r->status != POL_STATUS_ACTIVE)
            continue;
        if (!r->tenant || !*r->tenant || (unsigned)r->scope >= POL_SCOPE__COUNT ||
            (unsigned)r->domain >= POL_D__COUNT) {
            pol_issue_add(errs, r->id ? r->id : "",
                          "policy %s: no tenant, scope or domain; "
                          "skipped",
                          r->id ? r->id : "(no id)");
            continue;
        }
        struct pol_issues tmp = {0};
        char msg[200] = "";
        const char *poison = NULL;
        if (!pol_record_check(r, &tmp))
            poison = tmp.n ? tmp.v[0].msg : "invalid metadata";
        else if (!pol_doc_valid(r->content, msg, sizeof(msg)))
            poison = msg;
        else if (r->content->domain != r->domain)
            poison = "content domain differs from the record's domain";
        struct pol_node *node = node_get(s, r->tenant, r->scope,
                                         r->scope == POL_SCOPE_ENTERPRISE ? NULL : r->scope_id);
        const struct pol_cpol *prev = node->pol[r->domain];
        struct pol_cpol *c = cpol_new(s, r);
        if (prev && strcmp(prev->id, c->id) == 0 && !prev->poison) {
            if (prev->version >= r->version) { /* an older version of the same policy */
                pol_issues_release(&tmp);
                continue;
            }
        } else if (prev) {
            poison = "two active policies for the same tenant, scope, scope id and domain";
        }
        if (poison) {
            c->poison = gw_pool_printf(s->pool, "policy %s v%lld is invalid: %s", c->id,
                                       (long long)c->version, poison);
            pol_issue_add(errs, c->id, "%s (decisions through it fail closed)", c->poison);
        } else {
            c->doc = pol_doc_copy_into(s->pool, r->content);
        }
        node->pol[r->domain] = c;
        pol_issues_release(&tmp);
    }
    *out = s;
    return GW_OK;
}

struct pol_snapshot *pol_snapshot_ref(struct pol_snapshot *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refcount, 1, memory_order_relaxed);
    return s;
}

void pol_snapshot_unref(struct pol_snapshot *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refcount, 1, memory_order_acq_rel) != 1)
        return;
    gw_pool_free(s->cache_pool);
    gw_pool_free(s->pool);
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
    free(s->nodes);
    free(s);
}

uint64_t pol_snapshot_generation(const struct pol_snapshot *s)
{
    return s ? s->generation : 0;
}

size_t pol_snapshot_cached_chains(const struct pol_snapshot *s)
{
    return s ? atomic_load(&((struct pol_snapshot *)s)->cached) : 0;
}

/* --- chains --------------------------------------------------------------------------------- */

#define KEY_MAX (4 * (POL_NAME_MAX + 1) + 8)
#define SEP '\x1f'

static size_t make_key(char *buf, const char *tenant, const char *org, size_t org_len,
                       const char *team, const char *user)
{
    size_t o = 0, n;
    n = strlen(tenant);
    memcpy(buf + o, tenant, n), o += n, buf[o++] = SEP;
    memcpy(buf + o, org, org_len), o += org_len, buf[o++] = SEP;
    n = strlen(team);
    memcpy(buf + o, team, n), o += n, buf[o++] = SEP;
    n = strlen(user);
    memcpy(buf + o, user, n), o += n;
    buf[o] = '\0';
    return o;
}

static const struct pol_chain *cache_find(const struct pol_snapshot *s, uint64_t h, const char *key,
                                          size_t len)
{
    size_t mask = s->slots_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct pol_chain *c = atomic_load_explicit(&s->slots[i], memory_order_acquire);
        if (!c)
            return NULL;
        if (c->hash == h && c->keylen == len && memcmp(c->key, key, len) == 0)
            return c;
    }
}

static void cache_insert(struct pol_snapshot *s, struct pol_chain *c)
{
    size_t mask = s->slots_cap - 1;
    size_t i = c->hash & mask;
    while (atomic_load_explicit(&s->slots[i], memory_order_relaxed))
        i = (i + 1) & mask;
    atomic_store_explicit(&s->slots[i], c, memory_order_release);
    atomic_fetch_add(&s->cached, 1);
}

const struct pol_chain *pol_chain_at(const struct pol_chain *c, uint8_t depth)
{
    while (c && c->depth > depth)
        c = c->parent;
    return c && c->depth == depth ? c : NULL;
}

struct level {
    const char *tenant;
    const char *org; /* org path prefix */
    size_t org_len;
    const char *team;
    const char *user;
};

/* Builds (or finds) the chain of one level; called with s->lock held. */
static const struct pol_chain *build_level(struct pol_snapshot *s, const struct level *L,
                                           struct gw_pool *scratch)
{
    char key[KEY_MAX];
    size_t len = make_key(key, L->tenant, L->org, L->org_len, L->team, L->user);
    uint64_t h = pol_hash(key, len);
    const struct pol_chain *found = cache_find(s, h, key, len);
    if (found)
        return found;

    struct level up = *L;
    enum pol_scope scope;
    const char *scope_id_src;
    size_t scope_id_len;
    if (*L->user) {
        scope = POL_SCOPE_USER, scope_id_src = L->user, scope_id_len = strlen(L->user);
        up.user = "";
    } else if (*L->team) {
        scope = POL_SCOPE_TEAM, scope_id_src = L->team, scope_id_len = strlen(L->team);
        up.team = "";
    } else if (L->org_len) {
        scope = POL_SCOPE_ORG, scope_id_src = L->org, scope_id_len = L->org_len;
        size_t k = L->org_len;
        while (k > 0 && L->org[k - 1] != '/')
            k--;
        up.org_len = k ? k - 1 : 0;
    } else {
        scope = POL_SCOPE_ENTERPRISE, scope_id_src = NULL, scope_id_len = 0;
    }
    const struct pol_chain *parent = scope == POL_SCOPE_ENTERPRISE ? NULL
                                                                   : build_level(s, &up, scratch);
    if (parent && parent->depth + 1 >= POL_LEVELS_MAX)
        return NULL;

    size_t cached = atomic_load(&s->cached);
    /* full: into the caller's scratch; without one, overshoot a little (slots are 2x max) */
    bool cache = cached < s->cache_max ||
                 (!scratch && cached + 1 < s->slots_cap / 2 + s->cache_max / 2);
    if (!cache && !scratch)
        return NULL;
    struct gw_pool *pool = cache ? s->cache_pool : scratch;
    struct pol_chain *c = gw_pool_calloc(pool, sizeof(*c));
    c->hash = h;
    c->keylen = len;
    c->key = gw_pool_strndup(pool, key, len);
    c->parent = parent;
    c->depth = parent ? (uint8_t)(parent->depth + 1) : 0;
    c->scope = scope;
    c->scope_id = scope_id_src ? gw_pool_strndup(pool, scope_id_src, scope_id_len) : NULL;
    c->node = pol_node_find(s, L->tenant, scope, c->scope_id);
    for (int d = 0; d < POL_D__COUNT; d++) {
        const struct pol_cpol *p = c->node ? c->node->pol[d] : NULL;
        const struct pol_eff *pe = parent ? parent->eff[d] : NULL;
        if (!p) {
            c->eff[d] = pe;
            continue;
        }
        if (pe && !pe->doc) { /* poisoned above: stays poisoned */
            c->eff[d] = pe;
            continue;
        }
        struct pol_eff *e = gw_pool_calloc(pool, sizeof(*e));
        if (p->poison) {
            e->poison = p;
        } else {
            struct pol_doc *doc = gw_pool_calloc(pool, sizeof(*doc));
            if (pe)
                *doc = *pe->doc;
            else
                pol_eff_defaults(doc, (enum pol_domain)d);
            pol_eff_apply(pool, doc, p->doc, c->depth, scope == POL_SCOPE_ENTERPRISE);
            e->doc = doc;
        }
        c->eff[d] = e;
    }
    if (cache)
        cache_insert(s, c);
    return c;
}

const struct pol_chain *pol_chain_get(struct pol_snapshot *s, const char *tenant,
                                      const char *org_unit, const char *team, const char *user,
                                      struct gw_pool *scratch, char *msg, size_t cap)
{
    org_unit = org_unit ? org_unit : "";
    team = team ? team : "";
    user = user ? user : "";
    size_t tl = tenant ? strlen(tenant) : 0, ol = strlen(org_unit), ml = strlen(team),
           ul = strlen(user);
    if (!tl || tl > POL_NAME_MAX || ol > POL_NAME_MAX || ml > POL_NAME_MAX || ul > POL_NAME_MAX) {
        snprintf(msg, cap, "invalid identity: tenant missing or a name longer than %d bytes",
                 POL_NAME_MAX);
        return NULL;
    }
    char key[KEY_MAX];
    size_t len = make_key(key, tenant, org_unit, ol, team, user);
    uint64_t h = pol_hash(key, len);
    const struct pol_chain *c = cache_find(s, h, key, len);
    if (c)
        return c;

    /* miss: validate the identity, then build under the lock */
    if (memchr(key, '\0', len) || (ol && !pol_org_path_valid(org_unit)) ||
        (ml && !pol_name_valid(team)) || (ul && !pol_name_valid(user)) || !pol_name_valid(tenant)) {
        snprintf(msg, cap, "invalid identity: malformed tenant, org unit, team or user");
        return NULL;
    }
    struct level L = {.tenant = tenant, .org = org_unit, .org_len = ol, .team = team, .user = user};
    pthread_mutex_lock(&s->lock);
    c = build_level(s, &L, scratch);
    pthread_mutex_unlock(&s->lock);
    if (!c)
        snprintf(msg, cap, "policy cache exhausted (no scratch arena given)");
    return c;
}

void pol_snapshot_warm(struct pol_snapshot *s, const struct pol_snapshot *from)
{
    if (!s || !from)
        return;
    struct gw_pool *scratch = gw_pool_new();
    for (size_t i = 0; i < from->slots_cap; i++) {
        const struct pol_chain *c = atomic_load(&from->slots[i]);
        if (!c)
            continue;
        char key[KEY_MAX], *parts[4] = {NULL, NULL, NULL, NULL};
        memcpy(key, c->key, c->keylen + 1);
        char *p = key;
        int n = 0;
        for (; n < 4; n++) {
            parts[n] = p;
            char *sep = n < 3 ? strchr(p, SEP) : NULL;
            if (n < 3 && !sep)
                break;
            if (sep) {
                *sep = '\0';
                p = sep + 1;
            }
        }
        if (n < 4) /* not a key this snapshot wrote: nothing to warm */
            continue;
        char msg[128];
        pol_chain_get(s, parts[0], parts[1], parts[2], parts[3], scratch, msg, sizeof(msg));
        if (atomic_load(&s->cached) >= s->cache_max)
            break;
    }
    gw_pool_free(scratch);
}

/* --- engine ------------------------------------------------------------------------------- */

struct pol_engine {
    _Atomic(struct pol_snapshot *) cur;
    atomic_long acquiring;
    pthread_mutex_t swap_lock;
};

struct pol_engine *pol_engine_new(struct pol_snapshot *initial)
{
    struct pol_engine *e = gw_xcalloc(1, sizeof(*e));
    atomic_init(&e->cur, initial);
    atomic_init(&e->acquiring, 0);
    pthread_mutex_init(&e->swap_lock, NULL);
    return e;
}

void pol_engine_free(struct pol_engine *e)
{
    if (!e)
        return;
    pol_snapshot_unref(atomic_load(&e->cur));
    pthread_mutex_destroy(&e->swap_lock);
    free(e);
}

struct pol_snapshot *pol_engine_acquire(struct pol_engine *e)
{
    atomic_fetch_add(&e->acquiring, 1);
    struct pol_snapshot *s = pol_snapshot_ref(atomic_load(&e->cur));
    atomic_fetch_sub(&e->acquiring, 1);
    return s;
}

void pol_engine_swap(struct pol_engine *e, struct pol_snapshot *next)
{
    pthread_mutex_lock(&e->swap_lock);
    struct pol_snapshot *old = atomic_exchange(&e->cur, next);
    /* a reader that loaded old has raised `acquiring` before loading; wait for it to take
     * its reference (a few instructions) before dropping ours */
    while (atomic_load(&e->acquiring) != 0)
        sched_yield();
    pthread_mutex_unlock(&e->swap_lock);
    pol_snapshot_unref(old);
}
