/* SPDX-License-Identifier: MIT
 * pol_doc.c — policy documents: YAML or JSON text into typed values, and back to JSON.
 *
 * Both formats go through one JSON tree: YAML is read with libyaml's event API into jansson
 * values (anchors, aliases, tags, duplicate keys and deep nesting rejected; plain scalars
 * true/false, null and digits are typed, quoted scalars stay strings), then the tree is checked
 * against the field table of the domain. Every problem is reported with the dotted field name
 * ("connectors.github.permissions: ..."), and all of them are reported, not just the first.
 * A parsed document owns a pool holding all its strings, lists and maps.
 */
#include "base/prelude.h"
#include "base/mem.h"
#include "base/json.h"
#include "policy/policy_int.h"

#include <yaml.h>

#define DOC_MAX_DEPTH 16
#define LIST_MAX 4096

/* --- names ------------------------------------------------------------------------------- */

bool pol_name_valid(const char *s)
{
    size_t n = 0;
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+'))
            return false;
    }
    return n <= POL_NAME_MAX;
}

/* --- YAML -> JSON ------------------------------------------------------------------------- */

struct ysrc {
    yaml_parser_t p;
    struct pol_issues *errs;
    bool failed;
};

static bool ynext(struct ysrc *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->p, ev))
        return true;
    pol_issue_add(y->errs, "", "YAML syntax error at line %zu: %s", y->p.problem_mark.line + 1,
                  y->p.problem ? y->p.problem : "invalid YAML");
    y->failed = true;
    return false;
}

static json_t *yscalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(v, len);
    if (len == 0 || (len == 1 && v[0] == '~') || (len == 4 && !memcmp(v, "null", 4)))
        return json_null();
    if (len == 4 && !memcmp(v, "true", 4))
        return json_true();
    if (len == 5 && !memcmp(v, "false", 5))
        return json_false();
    bool digits = len <= 18;
    for (size_t i = 0; i < len && digits; i++)
        digits = (v[i] >= '0' && v[i] <= '9') || (i == 0 && v[i] == '-' && len > 1);
    if (digits)
        return json_integer(strtoll(v, NULL, 10));
    return json_stringn(v, len);
}

static json_t *ybuild(struct ysrc *y, yaml_event_t *ev, int depth)
{
    size_t line = ev->start_mark.line + 1;
    json_t *out = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        pol_issue_add(y->errs, "", "line %zu: YAML aliases are not allowed", line);
        y->failed = true;
        break;
    case YAML_SCALAR_EVENT:
        if (ev->data.scalar.anchor || (ev->data.scalar.tag && !ev->data.scalar.plain_implicit &&
                                       !ev->data.scalar.quoted_implicit)) {
            pol_issue_add(y->errs, "", "line %zu: YAML anchors and tags are not allowed", line);
            y->failed = true;
        } else if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
            pol_issue_add(y->errs, "", "line %zu: NUL characters are not allowed", line);
            y->failed = true;
        } else {
            out = yscalar(ev);
        }
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
                                        : ev->data.sequence_start.anchor;
        if (anchor) {
            pol_issue_add(y->errs, "", "line %zu: YAML anchors are not allowed", line);
            y->failed = true;
            break;
        }
        if (depth >= DOC_MAX_DEPTH) {
            pol_issue_add(y->errs, "", "line %zu: nested deeper than %d levels", line,
                          DOC_MAX_DEPTH);
            y->failed = true;
            break;
        }
        out = map ? json_object() : json_array();
        for (;;) {
            yaml_event_t e;
            if (!ynext(y, &e))
                break;
            if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            if (!map) {
                json_t *v = ybuild(y, &e, depth + 1);
                if (!v)
                    break;
                json_array_append_new(out, v);
                continue;
            }
            size_t kline = e.start_mark.line + 1;
            json_t *k = ybuild(y, &e, depth + 1);
            if (!k)
                break;
            if (!json_is_string(k)) {
                pol_issue_add(y->errs, "", "line %zu: mapping keys must be strings", kline);
                y->failed = true;
                json_decref(k);
                break;
            }
            yaml_event_t ve;
            if (!ynext(y, &ve)) {
                json_decref(k);
                break;
            }
            json_t *v = ybuild(y, &ve, depth + 1);
            if (!v) {
                json_decref(k);
                break;
            }
            if (json_object_get(out, json_string_value(k))) {
                pol_issue_add(y->errs, json_string_value(k), "line %zu: duplicate key '%s'", kline,
                              json_string_value(k));
                y->failed = true;
                json_decref(v);
            } else {
                json_object_set_new(out, json_string_value(k), v);
            }
            json_decref(k);
            if (y->failed)
                break;
        }
        if (y->failed) {
            json_decref(out);
            out = NULL;
        }
        break;
    }
    default:
        pol_issue_add(y->errs, "", "line %zu: unexpected YAML structure", line);
        y->failed = true;
        break;
    }
    yaml_event_delete(ev);
    return out;
}

json_t *pol_yaml_to_json(const char *text, size_t len, struct pol_issues *errs)
{
    struct ysrc y = {.errs = errs};
    json_t *root = NULL;
    yaml_event_t ev;
    if (!yaml_parser_initialize(&y.p)) {
        pol_issue_add(errs, "", "cannot initialize the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
    int docs = 0;
    while (!y.failed && ynext(&y, &ev)) {
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            pol_issue_add(errs, "", "only one YAML document is allowed");
            y.failed = true;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
            json_t *v = ybuild(&y, &ev, 0);
            if (v && !root)
                root = v;
            else
                json_decref(v);
            continue;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y.p);
    if (y.failed) {
        json_decref(root);
        return NULL;
    }
    if (!root || json_is_null(root)) {
        json_decref(root);
        root = json_object(); /* empty document: sets nothing */
    }
    return root;
}

/* --- JSON -> typed values ---------------------------------------------------------------- */

struct pol_doc *pol_doc_alloc(enum pol_domain d)
{
    struct gw_pool *pool = gw_pool_new();
    struct pol_doc *doc = gw_pool_calloc(pool, sizeof(*doc));
    doc->pool = pool;
    doc->domain = d;
    return doc;
}

static const char *json_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a decimal number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static void names_list(const struct pol_field *f, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->n_names && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", f->names[i]);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool parse_scalar(struct gw_pool *pool, const struct pol_field *f, const char *path,
                         const json_t *j, struct pol_val *v, struct pol_issues *errs)
{
    char names[160];
    switch (f->type) {
    case POL_T_BOOL:
        if (!json_is_boolean(j)) {
            pol_issue_add(errs, path, "%s: expected true or false, got %s", path, json_kind(j));
            return false;
        }
        v->i = json_is_true(j);
        break;
    case POL_T_INT:
        if (json_is_string(j) && strcmp(json_string_value(j), "unlimited") == 0) {
            v->i = POL_INT_UNLIMITED;
            break;
        }
        if (!json_is_integer(j) || json_integer_value(j) < 0) {
            pol_issue_add(errs, path,
                          "%s: expected a non-negative integer or \"unlimited\", got %s", path,
                          json_is_integer(j) ? "a negative integer" : json_kind(j));
            return false;
        }
        v->i = json_integer_value(j);
        break;
    case POL_T_ENUM:
    case POL_T_LEVEL: {
        int k = -1;
        if (json_is_string(j))
            for (size_t i = 0; i < f->n_names; i++)
                if (strcmp(f->names[i], json_string_value(j)) == 0)
                    k = (int)i;
        if (k < 0) {
            names_list(f, names, sizeof(names));
            if (json_is_string(j))
                pol_issue_add(errs, path, "%s: unknown value '%.64s' (expected one of: %s)", path,
                              json_string_value(j), names);
            else
                pol_issue_add(errs, path, "%s: expected one of %s, got %s", path, names,
                              json_kind(j));
            return false;
        }
        v->i = k;
        break;
    }
    case POL_T_STRING:
        if (json_is_null(j) || (json_is_string(j) && !*json_string_value(j))) {
            v->u.s = NULL;
            break;
        }
        if (!json_is_string(j) || !pol_name_valid(json_string_value(j))) {
            pol_issue_add(errs, path,
                          "%s: expected a name ([A-Za-z0-9._:/@+-], at most %d "
                          "characters) or null, got %s",
                          path, POL_NAME_MAX, json_is_string(j) ? "an invalid name" : json_kind(j));
            return false;
        }
        v->u.s = gw_pool_strdup(pool, json_string_value(j));
        break;
    case POL_T_LIST: {
        if (!json_is_array(j)) {
            pol_issue_add(errs, path, "%s: expected a list of names, got %s", path, json_kind(j));
            return false;
        }
        size_t n = json_array_size(j);
        if (n > LIST_MAX) {
            pol_issue_add(errs, path, "%s: more than %d items", path, LIST_MAX);
            return false;
        }
        struct pol_list *l = gw_pool_calloc(pool, sizeof(*l));
        const char **items = gw_pool_calloc(pool, (n ? n : 1) * sizeof(*items));
        bool ok = true;
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(j, i);
            const char *s = json_string_value(e);
            if (s && strcmp(s, "*") == 0) {
                l->any = true;
                continue;
            }
            if (!s || !pol_name_valid(s)) {
                pol_issue_add(errs, path, "%s[%zu]: expected a name ([A-Za-z0-9._:/@+-]), got %s",
                              path, i, s ? "an invalid name" : json_kind(e));
                ok = false;
                continue;
            }
            items[l->n++] = gw_pool_strdup(pool, s);
        }
        if (l->any && l->n) {
            pol_issue_add(errs, path, "%s: \"*\" (any) cannot be combined with names", path);
            ok = false;
        }
        qsort(items, l->n, sizeof(*items), cmp_str);
        for (size_t i = 1; i < l->n; i++)
            if (strcmp(items[i - 1], items[i]) == 0) {
                pol_issue_add(errs, path, "%s: '%s' is listed twice", path, items[i]);
                ok = false;
            }
        l->items = items;
        v->u.l = l;
        if (!ok)
            return false;
        break;
    }
    case POL_T_MAP:
        return false; /* handled by parse_map */
    }
    v->set = true;
    return true;
}

static bool parse_value(struct gw_pool *pool, const struct pol_field *f, const char *path,
                        const json_t *j, struct pol_val *v, struct pol_issues *errs);

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct pol_entry *)a)->name, ((const struct pol_entry *)b)->name);
}

static bool parse_map(struct gw_pool *pool, const struct pol_field *f, const char *path,
                      const json_t *j, struct pol_val *v, struct pol_issues *errs)
{
    if (!json_is_object(j)) {
        pol_issue_add(errs, path, "%s: expected a mapping of name -> %s, got %s", path,
                      f->n_sub == 1 ? f->sub[0].name : "settings", json_kind(j));
        return false;
    }
    size_t n = json_object_size(j);
    if (n > LIST_MAX) {
        pol_issue_add(errs, path, "%s: more than %d entries", path, LIST_MAX);
        return false;
    }
    struct pol_map *m = gw_pool_calloc(pool, sizeof(*m));
    m->e = gw_pool_calloc(pool, (n ? n : 1) * sizeof(*m->e));
    bool ok = true;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)j, key, val) {
        char sub_path[600];
        snprintf(sub_path, sizeof(sub_path), "%s.%.255s", path, key);
        if (!pol_name_valid(key)) {
            pol_issue_add(errs, sub_path, "%s: invalid name", sub_path);
            ok = false;
            continue;
        }
        struct pol_entry *e = &m->e[m->n++];
        e->name = gw_pool_strdup(pool, key);
        if (f->n_sub == 1) { /* shorthand: name: value */
            ok &= parse_value(pool, &f->sub[0], sub_path, val, &e->v[0], errs);
            continue;
        }
        if (!json_is_object(val)) {
            pol_issue_add(errs, sub_path, "%s: expected a mapping, got %s", sub_path,
                          json_kind(val));
            ok = false;
            continue;
        }
        const char *sk;
        json_t *sv;
        json_object_foreach(val, sk, sv) {
            char leaf[900];
            snprintf(leaf, sizeof(leaf), "%s.%.255s", sub_path, sk);
            size_t k = 0;
            while (k < f->n_sub && strcmp(f->sub[k].name, sk) != 0)
                k++;
            if (k == f->n_sub) {
                char known[160];
                size_t o = 0;
                known[0] = '\0';
                for (size_t i = 0; i < f->n_sub && o < sizeof(known); i++)
                    o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "",
                                          f->sub[i].name);
                pol_issue_add(errs, leaf, "%s: unknown field (known: %s)", leaf, known);
                ok = false;
                continue;
            }
            ok &= parse_value(pool, &f->sub[k], leaf, sv, &e->v[k], errs);
        }
    }
    qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
    v->u.m = m;
    v->set = ok;
    return ok;
}

static bool parse_value(struct gw_pool *pool, const struct pol_field *f, const char *path,
                        const json_t *j, struct pol_val *v, struct pol_issues *errs)
{
    if (f->type == POL_T_MAP)
        return parse_map(pool, f, path, j, v, errs);
    return parse_scalar(pool, f, path, j, v, errs);
}

struct pol_doc *pol_doc_from_json(enum pol_domain d, const json_t *obj, struct pol_issues *errs)
{
    if ((unsigned)d >= POL_D__COUNT) {
        pol_issue_add(errs, "", "unknown domain");
        return NULL;
    }
    if (!json_is_object(obj)) {
        pol_issue_add(errs, "", "a %s policy must be a mapping of fields, got %s",
                      pol_schema[d].name, obj ? json_kind(obj) : "nothing");
        return NULL;
    }
    struct pol_doc *doc = pol_doc_alloc(d);
    bool ok = true;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int idx = pol_field_index(d, key);
        if (idx < 0) {
            char known[400];
            size_t o = 0;
            known[0] = '\0';
            for (size_t i = 0; i < pol_schema[d].n && o < sizeof(known); i++)
                o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "",
                                      pol_schema[d].fields[i].name);
            pol_issue_add(errs, key, "%.128s: unknown field of domain %s (known: %s)", key,
                          pol_schema[d].name, known);
            ok = false;
            continue;
        }
        ok &= parse_value(doc->pool, &pol_schema[d].fields[idx], key, val, &doc->v[idx], errs);
    }
    if (!ok) {
        pol_doc_free(doc);
        return NULL;
    }
    struct pol_doc *compact = pol_doc_clone(doc);
    pol_doc_free(doc);
    return compact;
}

struct pol_doc *pol_doc_parse(enum pol_domain d, const char *text, size_t len, enum pol_format fmt,
                              struct pol_issues *errs)
{
    if (len > POL_DOC_MAX_BYTES) {
        pol_issue_add(errs, "", "document larger than %d bytes", POL_DOC_MAX_BYTES);
        return NULL;
    }
    if (fmt == POL_FMT_AUTO) {
        size_t i = 0;
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
            i++;
        fmt = i < len && text[i] == '{' ? POL_FMT_JSON : POL_FMT_YAML;
    }
    json_t *root;
    if (fmt == POL_FMT_JSON) {
        char msg[200];
        root = gw_json_parse(text, len, DOC_MAX_DEPTH, msg, sizeof(msg));
        if (!root) {
            pol_issue_add(errs, "", "invalid JSON: %s", msg);
            return NULL;
        }
    } else {
        root = pol_yaml_to_json(text, len, errs);
        if (!root)
            return NULL;
    }
    struct pol_doc *doc = pol_doc_from_json(d, root, errs);
    json_decref(root);
    return doc;
}

void pol_doc_free(struct pol_doc *doc)
{
    if (doc && doc->pool)
        gw_pool_free(doc->pool);
    else if (doc && doc->block)
        free(doc);
}

enum pol_domain pol_doc_domain(const struct pol_doc *doc)
{
    return doc->domain;
}

/* --- copies -------------------------------------------------------------------------------- */

static void copy_val(struct gw_pool *pool, const struct pol_field *f, struct pol_val *dst,
                     const struct pol_val *src)
{
    *dst = *src;
    if (!src->set)
        return;
    if (f->type == POL_T_STRING && src->u.s) {
        dst->u.s = gw_pool_strdup(pool, src->u.s);
    } else if (f->type == POL_T_LIST && src->u.l) {
        struct pol_list *l = gw_pool_calloc(pool, sizeof(*l));
        l->any = src->u.l->any;
        l->n = src->u.l->n;
        l->items = gw_pool_calloc(pool, (l->n ? l->n : 1) * sizeof(*l->items));
        for (size_t i = 0; i < l->n; i++)
            l->items[i] = gw_pool_strdup(pool, src->u.l->items[i]);
        dst->u.l = l;
    } else if (f->type == POL_T_MAP && src->u.m) {
        struct pol_map *m = gw_pool_calloc(pool, sizeof(*m));
        m->n = src->u.m->n;
        m->e = gw_pool_calloc(pool, (m->n ? m->n : 1) * sizeof(*m->e));
        for (size_t i = 0; i < m->n; i++) {
            m->e[i].name = gw_pool_strdup(pool, src->u.m->e[i].name);
            for (size_t k = 0; k < f->n_sub; k++)
                copy_val(pool, &f->sub[k], &m->e[i].v[k], &src->u.m->e[i].v[k]);
        }
        dst->u.m = m;
    }
}

struct pol_doc *pol_doc_copy_into(struct gw_pool *pool, const struct pol_doc *doc)
{
    struct pol_doc *d = gw_pool_calloc(pool, sizeof(*d));
    d->domain = doc->domain;
    d->pool = NULL;
    const struct pol_domain_schema *sc = &pol_schema[doc->domain];
    for (size_t i = 0; i < sc->n; i++)
        copy_val(pool, &sc->fields[i], &d->v[i], &doc->v[i]);
    return d;
}

/* Compact copies: one exact-size block (a pool would keep an 8 KiB chunk per document, and a
 * history keeps every version of every policy). */
struct bump {
    char *p;
    size_t used;
};

static size_t al(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static void *bump(struct bump *b, size_t n)
{
    void *r = b->p + b->used;
    b->used += al(n);
    return r;
}

static const char *bump_str(struct bump *b, const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(bump(b, n), s, n);
}

static size_t val_size(const struct pol_field *f, const struct pol_val *v)
{
    size_t n = 0;
    if (!v->set)
        return 0;
    if (f->type == POL_T_STRING && v->u.s)
        n += al(strlen(v->u.s) + 1);
    else if (f->type == POL_T_LIST && v->u.l) {
        n += al(sizeof(struct pol_list)) + al((v->u.l->n + 1) * sizeof(char *));
        for (size_t i = 0; i < v->u.l->n; i++)
            n += al(strlen(v->u.l->items[i]) + 1);
    } else if (f->type == POL_T_MAP && v->u.m) {
        n += al(sizeof(struct pol_map)) + al((v->u.m->n + 1) * sizeof(struct pol_entry));
        for (size_t i = 0; i < v->u.m->n; i++) {
            n += al(strlen(v->u.m->e[i].name) + 1);
            for (size_t k = 0; k < f->n_sub; k++)
                n += val_size(&f->sub[k], &v->u.m->e[i].v[k]);
        }
    }
    return n;
}

static void val_bump(struct bump *b, const struct pol_field *f, struct pol_val *dst,
                     const struct pol_val *src)
{
    *dst = *src;
    if (!src->set)
        return;
    if (f->type == POL_T_STRING && src->u.s) {
        dst->u.s = bump_str(b, src->u.s);
    } else if (f->type == POL_T_LIST && src->u.l) {
        struct pol_list *l = bump(b, sizeof(*l));
        l->any = src->u.l->any;
        l->n = src->u.l->n;
        l->items = bump(b, (l->n + 1) * sizeof(*l->items));
        for (size_t i = 0; i < l->n; i++)
            l->items[i] = bump_str(b, src->u.l->items[i]);
        dst->u.l = l;
    } else if (f->type == POL_T_MAP && src->u.m) {
        struct pol_map *m = bump(b, sizeof(*m));
        m->n = src->u.m->n;
        m->e = bump(b, (m->n + 1) * sizeof(*m->e));
        memset(m->e, 0, (m->n + 1) * sizeof(*m->e));
        for (size_t i = 0; i < m->n; i++) {
            m->e[i].name = bump_str(b, src->u.m->e[i].name);
            for (size_t k = 0; k < f->n_sub; k++)
                val_bump(b, &f->sub[k], &m->e[i].v[k], &src->u.m->e[i].v[k]);
        }
        dst->u.m = m;
    }
}

struct pol_doc *pol_doc_clone(const struct pol_doc *doc)
{
    if (!doc)
        return NULL;
    const struct pol_domain_schema *sc = &pol_schema[doc->domain];
    size_t size = al(sizeof(struct pol_doc));
    for (size_t i = 0; i < sc->n; i++)
        size += val_size(&sc->fields[i], &doc->v[i]);
    struct bump b = {.p = gw_xmalloc(size)};
    struct pol_doc *d = bump(&b, sizeof(*d));
    memset(d, 0, sizeof(*d));
    d->domain = doc->domain;
    d->block = true;
    for (size_t i = 0; i < sc->n; i++)
        val_bump(&b, &sc->fields[i], &d->v[i], &doc->v[i]);
    return d;
}

/* --- typed values -> JSON ---------------------------------------------------------------- */

json_t *pol_val_to_json(const struct pol_field *f, const struct pol_val *v)
{
    if (!v->set)
        return json_null();
    switch (f->type) {
    case POL_T_BOOL:
        return json_boolean(v->i);
    case POL_T_INT:
        return v->i == POL_INT_UNLIMITED ? json_string("unlimited") : json_integer(v->i);
    case POL_T_ENUM:
    case POL_T_LEVEL:
        return v->i >= 0 && (size_t)v->i < f->n_names ? json_string(f->names[v->i]) : json_null();
    case POL_T_STRING:
        return v->u.s ? json_string(v->u.s) : json_null();
    case POL_T_LIST: {
        json_t *a = json_array();
        if (v->u.l && v->u.l->any)
            json_array_append_new(a, json_string("*"));
        for (size_t i = 0; v->u.l && !v->u.l->any && i < v->u.l->n; i++)
            json_array_append_new(a, json_string(v->u.l->items[i]));
        return a;
    }
    case POL_T_MAP: {
        json_t *o = json_object();
        for (size_t i = 0; v->u.m && i < v->u.m->n; i++) {
            const struct pol_entry *e = &v->u.m->e[i];
            if (f->n_sub == 1) {
                json_object_set_new(o, e->name, pol_val_to_json(&f->sub[0], &e->v[0]));
                continue;
            }
            json_t *eo = json_object();
            for (size_t k = 0; k < f->n_sub; k++)
                if (e->v[k].set)
                    json_object_set_new(eo, f->sub[k].name, pol_val_to_json(&f->sub[k], &e->v[k]));
            json_object_set_new(o, e->name, eo);
        }
        return o;
    }
    }
    return json_null();
}

json_t *pol_doc_to_json(const struct pol_doc *doc)
{
    json_t *o = json_object();
    const struct pol_domain_schema *sc = &pol_schema[doc->domain];
    for (size_t i = 0; i < sc->n; i++)
        if (doc->v[i].set)
            json_object_set_new(o, sc->fields[i].name, pol_val_to_json(&sc->fields[i], &doc->v[i]));
    return o;
}

json_t *pol_doc_diff(const struct pol_doc *from, const struct pol_doc *to)
{
    json_t *out = json_array();
    enum pol_domain d = from ? from->domain : to ? to->domain : POL_D__COUNT;
    if (d >= POL_D__COUNT)
        return out;
    const struct pol_domain_schema *sc = &pol_schema[d];
    for (size_t i = 0; i < sc->n; i++) {
        const struct pol_field *f = &sc->fields[i];
        json_t *a = from && from->domain == d ? pol_val_to_json(f, &from->v[i]) : json_null();
        json_t *b = to && to->domain == d ? pol_val_to_json(f, &to->v[i]) : json_null();
        if (!json_equal(a, b)) {
            json_t *c = json_object();
            json_object_set_new(c, "field", json_string(f->name));
            json_object_set(c, "from", a);
            json_object_set(c, "to", b);
            json_array_append_new(out, c);
        }
        json_decref(a);
        json_decref(b);
    }
    return out;
}
