/* SPDX-License-Identifier: MIT
 * config_yaml.c — gateway.yaml text into a tree of cfg_node, with a line on every node.
 *
 * libyaml's event API is used rather than its document API because the document API resolves
 * aliases silently and keeps duplicate keys; here both are errors. Anchors, aliases and explicit
 * tags are rejected (a config needs none of them, and aliases allow "billion laughs" blow-ups),
 * as are duplicate keys, non-scalar keys, NUL characters, more than one document and nesting
 * deeper than CFG_MAX_DEPTH. ${ENV} is substituted in values here, once, so every later reader
 * sees the final text and every substitution error carries its line.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "config/config_int.h"

#include <yaml.h>

struct yp {
    yaml_parser_t parser;
    struct cfg_errlist *errs;
    bool fatal;    /* syntax error: no more events */
    size_t budget; /* for cfg_env_expand */
};

static int mark_line(yaml_mark_t m)
{
    return m.line + 1 > (size_t)INT32_MAX ? INT32_MAX : (int)(m.line + 1);
}

static bool next_event(struct yp *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->parser, ev))
        return true;
    const yaml_parser_t *p = &y->parser;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->context)
        cfg_err(y->errs, mark_line(p->problem_mark), "YAML syntax error: %s (%s at line %d)",
                problem, p->context, mark_line(p->context_mark));
    else
        cfg_err(y->errs, mark_line(p->problem_mark), "YAML syntax error: %s", problem);
    y->fatal = true;
    return false;
}

void cfg_node_free(struct cfg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            cfg_node_free(n->keys[i]);
        cfg_node_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    if (n->str) /* values may be token secrets */
        explicit_bzero(n->str, strlen(n->str));
    free(n->str);
    free(n);
}

static void check_props(struct yp *y, int line, const yaml_char_t *anchor, const yaml_char_t *tag,
                        bool implicit_tag)
{
    char shown[80];
    if (anchor)
        cfg_err(y->errs, line, "anchor '&%s' is not allowed: aliases are not allowed",
                cfg_shown((const char *)anchor, shown, sizeof(shown)));
    if (tag && !implicit_tag)
        cfg_err(y->errs, line, "tag '%s' is not allowed",
                cfg_shown((const char *)tag, shown, sizeof(shown)));
}

static bool is_null_text(const char *s, size_t len)
{
    return len == 0 || (len == 1 && s[0] == '~') ||
           (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static void push(struct cfg_node *parent, size_t *cap, struct cfg_node *key, struct cfg_node *val)
{
    if (parent->n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        parent->vals = gw_xrealloc(parent->vals, *cap * sizeof(*parent->vals));
        if (parent->kind == CFG_NODE_MAP)
            parent->keys = gw_xrealloc(parent->keys, *cap * sizeof(*parent->keys));
    }
    if (parent->kind == CFG_NODE_MAP)
        parent->keys[parent->n] = key;
    parent->vals[parent->n++] = val;
}

/* Sorting key indexes finds duplicates in O(n log n), so a mapping with many keys stays cheap.
 * qsort has no context argument; thread-local keeps concurrent loads (reloads) independent. */
static _Thread_local const struct cfg_node *const *sort_keys;

static int cmp_key_idx(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const struct cfg_node *kx = sort_keys[x], *ky = sort_keys[y];
    int r = strcmp(kx->str ? kx->str : "", ky->str ? ky->str : "");
    if (r)
        return r;
    return x < y ? -1 : x > y;
}

static void check_duplicates(struct yp *y, const struct cfg_node *map)
{
    if (map->n < 2)
        return;
    size_t *idx = gw_xmalloc(map->n * sizeof(*idx));
    for (size_t i = 0; i < map->n; i++)
        idx[i] = i;
    sort_keys = (const struct cfg_node *const *)map->keys;
    qsort(idx, map->n, sizeof(*idx), cmp_key_idx);
    sort_keys = NULL;
    size_t first = idx[0];
    for (size_t i = 1; i < map->n; i++) {
        const struct cfg_node *prev = map->keys[first], *cur = map->keys[idx[i]];
        if (prev->kind == CFG_NODE_SCALAR && cur->kind == CFG_NODE_SCALAR && !prev->bad &&
            !cur->bad && strcmp(prev->str, cur->str) == 0) {
            char shown[80];
            cfg_err(y->errs, cur->line, "duplicate key '%s' (first defined at line %d)",
                    cfg_shown(cur->str, shown, sizeof(shown)), prev->line);
        } else {
            first = idx[i];
        }
    }
    free(idx);
}

/* Builds the node that starts with ev (consumed). Returns NULL only when fatal. */
static struct cfg_node *build(struct yp *y, yaml_event_t *ev, int depth, bool is_key)
{
    struct cfg_node *n = gw_xcalloc(1, sizeof(*n));
    n->line = mark_line(ev->start_mark);
    size_t cap = 0;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        cfg_err(y->errs, n->line, "aliases are not allowed");
        n->kind = CFG_NODE_SCALAR;
        n->bad = true;
        n->str = gw_xstrdup("");
        yaml_event_delete(ev);
        return n;

    case YAML_SCALAR_EVENT: {
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        n->kind = CFG_NODE_SCALAR;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->null = n->plain && is_null_text(v, len);
        check_props(y, n->line, ev->data.scalar.anchor, ev->data.scalar.tag,
                    ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit);
        if (memchr(v, '\0', len)) {
            cfg_err(y->errs, n->line, "NUL characters are not allowed");
            n->bad = true;
            n->str = gw_xstrdup("");
        } else if (is_key || n->null) {
            n->str = gw_xstrndup(v, len);
        } else {
            n->env = memmem(v, len, "${", 2) != NULL;
            n->str = cfg_env_expand(v, len, y->errs, n->line, &y->budget);
            if (!n->str) {
                n->bad = true;
                n->str = gw_xstrdup("");
            }
        }
        yaml_event_delete(ev);
        return n;
    }

    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        n->kind = map ? CFG_NODE_MAP : CFG_NODE_SEQ;
        if (map)
            check_props(y, n->line, ev->data.mapping_start.anchor, ev->data.mapping_start.tag,
                        ev->data.mapping_start.implicit);
        else
            check_props(y, n->line, ev->data.sequence_start.anchor, ev->data.sequence_start.tag,
                        ev->data.sequence_start.implicit);
        yaml_event_delete(ev);
        if (depth >= CFG_MAX_DEPTH) {
            cfg_err(y->errs, n->line, "nesting deeper than %d levels", CFG_MAX_DEPTH);
            y->fatal = true;
            cfg_node_free(n);
            return NULL;
        }
        for (;;) {
            yaml_event_t e;
            if (!next_event(y, &e))
                break;
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            struct cfg_node *key = NULL, *val;
            if (map) {
                key = build(y, &e, depth + 1, true);
                if (!key)
                    break;
                if (key->kind != CFG_NODE_SCALAR) {
                    cfg_err(y->errs, key->line, "mapping keys must be plain strings");
                    key->bad = true;
                }
                if (!next_event(y, &e)) {
                    cfg_node_free(key);
                    break;
                }
            }
            val = build(y, &e, depth + 1, false);
            if (!val) {
                cfg_node_free(key);
                break;
            }
            push(n, &cap, key, val);
        }
        if (y->fatal) {
            cfg_node_free(n);
            return NULL;
        }
        if (map)
            check_duplicates(y, n);
        return n;
    }

    default:
        /* The parser only produces node events here; anything else is a libyaml bug. */
        cfg_err(y->errs, n->line, "unexpected YAML event");
        yaml_event_delete(ev);
        y->fatal = true;
        cfg_node_free(n);
        return NULL;
    }
}

/* Reads the next event and checks its type; false (and fatal) otherwise. */
static bool expect(struct yp *y, yaml_event_type_t type, yaml_event_t *ev)
{
    if (!next_event(y, ev))
        return false;
    if (ev->type != type) {
        cfg_err(y->errs, mark_line(ev->start_mark), "unexpected YAML structure");
        yaml_event_delete(ev);
        y->fatal = true;
        return false;
    }
    return true;
}

bool cfg_yaml_parse(const char *data, size_t len, struct cfg_errlist *errs, struct cfg_node **root)
{
    struct yp y = {.errs = errs, .budget = CFG_MAX_EXPANDED_BYTES};
    yaml_event_t ev;
    struct cfg_node *doc = NULL;

    *root = NULL;
    if (!yaml_parser_initialize(&y.parser)) {
        cfg_err(errs, 0, "cannot initialize the YAML parser");
        return false;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)data, len);

    if (!expect(&y, YAML_STREAM_START_EVENT, &ev))
        goto out;
    yaml_event_delete(&ev);
    if (!next_event(&y, &ev))
        goto out;
    if (ev.type == YAML_STREAM_END_EVENT) { /* empty file */
        yaml_event_delete(&ev);
        goto out;
    }
    if (ev.type != YAML_DOCUMENT_START_EVENT) {
        cfg_err(errs, mark_line(ev.start_mark), "unexpected YAML structure");
        yaml_event_delete(&ev);
        y.fatal = true;
        goto out;
    }
    yaml_event_delete(&ev);
    if (!next_event(&y, &ev))
        goto out;
    doc = build(&y, &ev, 0, false);
    if (!doc)
        goto out;
    if (!expect(&y, YAML_DOCUMENT_END_EVENT, &ev))
        goto out;
    yaml_event_delete(&ev);
    if (!next_event(&y, &ev))
        goto out;
    if (ev.type == YAML_DOCUMENT_START_EVENT)
        cfg_err(errs, mark_line(ev.start_mark),
                "only one YAML document is allowed (remove the second '---')");
    yaml_event_delete(&ev);

out:
    yaml_parser_delete(&y.parser);
    if (y.fatal) {
        cfg_node_free(doc);
        return false;
    }
    *root = doc;
    return true;
}
