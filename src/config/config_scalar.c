/* SPDX-License-Identifier: MIT
 * config_scalar.c — typed reading of cfg_node values.
 *
 * One place decides what counts as an integer, a boolean or a string, so every key of every
 * section is equally strict: numbers and booleans must be unquoted (a quoted "8080" is a
 * string), integers are plain decimal, booleans are true/false, and a null value (empty, ~ or
 * null) means "not set, use the default". Nodes already reported (bad) are skipped silently so
 * one mistake yields one message.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <errno.h>
#include <math.h>

bool cfg_is_null(const struct cfg_node *n)
{
    return !n || (n->kind == CFG_NODE_SCALAR && n->null);
}

static const char *kind_name(const struct cfg_node *n)
{
    switch (n->kind) {
    case CFG_NODE_MAP:
        return "a mapping";
    case CFG_NODE_SEQ:
        return "a list";
    default:
        return n->plain ? "a plain value" : "a quoted string";
    }
}

/* The value for a message, unless it came from the environment (it may be a secret). */
static const char *shown_value(const struct cfg_node *n, const char *s, bool quote, char *buf,
                               size_t cap)
{
    char tmp[80];
    if (n->env)
        return "a value from ${...}";
    snprintf(buf, cap, quote ? "'%s'" : "%s", cfg_shown(s, tmp, sizeof(tmp)));
    return buf;
}

bool cfg_get_str(struct cfg_errlist *e, const struct cfg_node *n, const char *what, char **out)
{
    if (cfg_is_null(n))
        return true;
    if (n->bad)
        return false;
    if (n->kind != CFG_NODE_SCALAR) {
        cfg_err(e, n->line, "%s must be a string, not %s", what, kind_name(n));
        return false;
    }
    free(*out);
    *out = gw_xstrdup(n->str);
    return true;
}

bool cfg_get_int(struct cfg_errlist *e, const struct cfg_node *n, const char *what, long long lo,
                 long long hi, long long *out)
{
    char shown[100];
    if (cfg_is_null(n))
        return true;
    if (n->bad)
        return false;
    if (n->kind != CFG_NODE_SCALAR || !n->plain) {
        cfg_err(e, n->line, "%s must be an integer, not %s", what, kind_name(n));
        return false;
    }
    const char *s = n->str;
    const char *d = s[0] == '-' ? s + 1 : s;
    bool digits = d[0] != '\0';
    for (const char *p = d; *p; p++)
        digits = digits && *p >= '0' && *p <= '9';
    if (!digits || (d[0] == '0' && d[1] != '\0')) {
        cfg_err(e, n->line, "%s must be a decimal integer (got %s)", what,
                shown_value(n, s, true, shown, sizeof(shown)));
        return false;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (s[0] == '-' && (v < 0 || errno == ERANGE) && lo >= 0) {
        cfg_err(e, n->line, "%s must not be negative (got %s)", what,
                shown_value(n, s, false, shown, sizeof(shown)));
        return false;
    }
    if (errno == ERANGE || v < lo || v > hi) {
        cfg_err(e, n->line, "%s must be between %lld and %lld (got %s)", what, lo, hi,
                shown_value(n, s, false, shown, sizeof(shown)));
        return false;
    }
    *out = v;
    return true;
}

bool cfg_get_uint(struct cfg_errlist *e, const struct cfg_node *n, const char *what, unsigned lo,
                  unsigned hi, unsigned *out)
{
    long long v = 0;
    if (!cfg_get_int(e, n, what, lo, hi, &v))
        return false;
    if (!cfg_is_null(n))
        *out = (unsigned)v;
    return true;
}

bool cfg_get_size(struct cfg_errlist *e, const struct cfg_node *n, const char *what, size_t lo,
                  size_t hi, size_t *out)
{
    long long v = 0;
    if (!cfg_get_int(e, n, what, (long long)lo, (long long)hi, &v))
        return false;
    if (!cfg_is_null(n))
        *out = (size_t)v;
    return true;
}

/* Plain decimal: -?D+(.D+)?([eE][+-]?D+)? without leading zeros (as for integers). */
static bool number_syntax(const char *s)
{
    const char *p = s[0] == '-' ? s + 1 : s;
    if (!(*p >= '0' && *p <= '9'))
        return false;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

bool cfg_get_double(struct cfg_errlist *e, const struct cfg_node *n, const char *what, double lo,
                    bool lo_open, double hi, double *out)
{
    char shown[100];
    if (cfg_is_null(n))
        return true;
    if (n->bad)
        return false;
    if (n->kind != CFG_NODE_SCALAR || !n->plain) {
        cfg_err(e, n->line, "%s must be a number, not %s", what, kind_name(n));
        return false;
    }
    if (!number_syntax(n->str)) {
        cfg_err(e, n->line, "%s must be a decimal number such as 2.5 (got %s)", what,
                shown_value(n, n->str, true, shown, sizeof(shown)));
        return false;
    }
    errno = 0;
    double v = strtod(n->str, NULL);
    if (!isfinite(v) || errno == ERANGE || v < lo || (lo_open && v <= lo) || v > hi) {
        const char *got = shown_value(n, n->str, false, shown, sizeof(shown));
        if (lo_open)
            cfg_err(e, n->line, "%s must be greater than %g and at most %g (got %s)", what, lo, hi,
                    got);
        else
            cfg_err(e, n->line, "%s must be between %g and %g (got %s)", what, lo, hi, got);
        return false;
    }
    *out = v;
    return true;
}

bool cfg_get_url(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                 const char *const *schemes, unsigned flags, char **out)
{
    char *s = NULL;
    if (cfg_is_null(n))
        return true;
    if (!cfg_get_str(e, n, what, &s))
        return false;
    char list[128] = "";
    size_t o = 0, k = 0;
    while (schemes[k])
        k++;
    for (size_t i = 0; i < k && o < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s://",
                              i == 0       ? ""
                              : i + 1 == k ? " or "
                                           : ", ",
                              schemes[i]);

    /* The value itself is never quoted: a URL may carry credentials. */
    const char *rest = NULL;
    for (size_t i = 0; i < k && !rest; i++) {
        size_t sl = strlen(schemes[i]);
        if (!strncmp(s, schemes[i], sl) && !strncmp(s + sl, "://", 3))
            rest = s + sl + 3;
    }
    const char *problem = NULL;
    size_t len = strlen(s);
    if (!rest)
        problem = "must start with";
    else if (len > 2048)
        problem = "is longer than 2048 characters";
    for (const char *p = s; !problem && *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            problem = "must not contain spaces or control characters";
    size_t auth = rest ? strcspn(rest, "/?#") : 0;
    if (!problem && (auth == 0 || rest[0] == ':'))
        problem = "has no host";
    if (!problem && memchr(rest, '@', auth))
        problem = "must not contain user information (user:password@)";
    if (!problem && !(flags & CFG_URL_QUERY) && strpbrk(rest, "?#"))
        problem = "must not contain a query (?) or fragment (#)";
    if (problem) {
        if (!rest)
            cfg_err(e, n->line, "%s must be a %s URL", what, list);
        else
            cfg_err(e, n->line, "%s %s", what, problem);
        explicit_bzero(s, len);
        free(s);
        return false;
    }
    if (flags & CFG_URL_NO_SLASH)
        while (len > (size_t)(rest - s) + auth && s[len - 1] == '/')
            s[--len] = '\0';
    free(*out);
    *out = s;
    return true;
}

bool cfg_get_bool(struct cfg_errlist *e, const struct cfg_node *n, const char *what, bool *out)
{
    if (cfg_is_null(n))
        return true;
    if (n->bad)
        return false;
    if (n->kind == CFG_NODE_SCALAR && n->plain) {
        const char *s = n->str;
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            *out = true;
            return true;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            *out = false;
            return true;
        }
    }
    cfg_err(e, n->line, "%s must be true or false", what);
    return false;
}

bool cfg_get_enum(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                  const char *const *allowed, char **out)
{
    char *s = NULL;
    if (cfg_is_null(n))
        return true;
    if (!cfg_get_str(e, n, what, &s))
        return false;
    for (size_t i = 0; allowed[i]; i++)
        if (!strcmp(s, allowed[i])) {
            free(*out);
            *out = s;
            return true;
        }
    char list[256] = "", shown[100];
    size_t o = 0;
    for (size_t i = 0; allowed[i] && o < sizeof(list); i++)
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", allowed[i]);
    cfg_err(e, n->line, "%s must be one of %s (got %s)", what, list,
            shown_value(n, s, true, shown, sizeof(shown)));
    free(s);
    return false;
}

void cfg_free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

bool cfg_want_seq(struct cfg_errlist *e, const struct cfg_node *n, const char *what)
{
    if (cfg_is_null(n) || n->bad)
        return false;
    if (n->kind != CFG_NODE_SEQ) {
        cfg_err(e, n->line, "%s must be a list, not %s", what, kind_name(n));
        return false;
    }
    return true;
}

bool cfg_get_strlist(struct cfg_errlist *e, const struct cfg_node *n, const char *what, char ***out,
                     size_t *count)
{
    if (cfg_is_null(n))
        return true;
    if (!cfg_want_seq(e, n, what))
        return false;
    bool ok = true;
    char **v = gw_xcalloc(n->n + 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *it = n->vals[i];
        if (it->bad) {
            ok = false;
        } else if (it->kind != CFG_NODE_SCALAR || it->null) {
            cfg_err(e, it->line, "%s[%zu] must be a string, not %s", what, i,
                    it->kind == CFG_NODE_SCALAR ? "null" : kind_name(it));
            ok = false;
        } else {
            v[k++] = gw_xstrdup(it->str);
        }
    }
    cfg_free_strv(*out);
    *out = v;
    *count = k;
    return ok;
}

static size_t slot_of(const char *const *keys, size_t nkeys, const char *name)
{
    size_t k = 0;
    while (k < nkeys && strcmp(keys[k], name) != 0)
        k++;
    return k;
}

bool cfg_map_slots(struct cfg_errlist *e, const struct cfg_node *n, const char *section,
                   const char *const *keys, const struct cfg_node **vals, int *keyline)
{
    size_t nkeys = 0;
    while (keys[nkeys])
        nkeys++;
    for (size_t k = 0; k < nkeys; k++) {
        vals[k] = NULL;
        if (keyline)
            keyline[k] = 0;
    }
    if (cfg_is_null(n) || n->bad)
        return false;
    if (n->kind != CFG_NODE_MAP) {
        cfg_err(e, n->line, "%s must be a mapping, not %s", section, kind_name(n));
        return false;
    }
    /* the key that filled each slot: a seed alias and its house key may not both be set */
    const struct cfg_node **by = gw_xcalloc(nkeys + 1, sizeof(*by));
    for (size_t i = 0; i < n->n; i++) {
        const struct cfg_node *key = n->keys[i];
        if (key->bad)
            continue;
        size_t k = slot_of(keys, nkeys, key->str);
        const char *house = k == nkeys ? cfg_seed_alias(section, key->str) : NULL;
        if (house)
            k = slot_of(keys, nkeys, house);
        if (k == nkeys) {
            cfg_unknown_key(e, section, keys, key, n->vals[i]);
        } else if (!by[k]) {
            by[k] = key;
            vals[k] = n->vals[i];
            if (keyline)
                keyline[k] = key->line;
        } else if (strcmp(by[k]->str, key->str) != 0) { /* (a duplicate was reported already) */
            const char *alias = strcmp(key->str, keys[k]) ? key->str : by[k]->str;
            char shown[80];
            cfg_err(e, key->line,
                    "%s.%s and %s.%s are both set (%s is another name for %s): "
                    "keep one",
                    section, cfg_shown(alias, shown, sizeof(shown)), section, keys[k], shown,
                    keys[k]);
        }
    }
    free(by);
    return true;
}
