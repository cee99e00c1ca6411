/* SPDX-License-Identifier: MIT
 * config_paths.c — making paths absolute.
 *
 * Everything the gateway writes lives under one data directory, so relative paths in
 * gateway.yaml (memory files, the audit log, TLS files) are taken relative to it, never to the
 * process's working directory at the time of use. The data directory itself may not exist yet on
 * first start, so it is made absolute with realpath where possible and lexically otherwise.
 * ".." is refused in configured paths: a path that climbs out of its directory is almost always a
 * mistake, and memory isolation between namespaces depends on paths meaning what they say.
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/util.h"
#include "config/config_int.h"

#include <limits.h>
#include <unistd.h>

#define PATH_CAP 4096

/* Joins a (may be NULL) and b, then drops empty and "." components; ".." pops a component when
 * dotdot is true (only used for the data directory). The result starts with '/'. */
static char *normalize(const char *a, const char *b, bool dotdot)
{
    struct gw_buf out;
    gw_buf_init(&out, 4 * PATH_CAP);
    const char *parts[2] = {a, b};
    for (size_t k = 0; k < 2; k++) {
        const char *p = parts[k];
        while (p && *p) {
            while (*p == '/')
                p++;
            const char *s = p;
            while (*p && *p != '/')
                p++;
            size_t len = (size_t)(p - s);
            if (len == 0 || (len == 1 && s[0] == '.'))
                continue;
            if (dotdot && len == 2 && s[0] == '.' && s[1] == '.') {
                if (out.len > 0) { /* "/.." stays "/" */
                    while (out.data[out.len - 1] != '/')
                        out.len--;
                    out.len--; /* the '/' */
                    out.data[out.len] = '\0';
                }
                continue;
            }
            if (gw_buf_append(&out, "/", 1) != GW_OK || gw_buf_append(&out, s, len) != GW_OK)
                break; /* absurdly long: keep what fits, the open() will fail loudly later */
        }
    }
    if (out.len == 0)
        (void)gw_buf_append(&out, "/", 1);
    return gw_buf_detach(&out, NULL);
}

char *cfg_path_abs_dir(const char *p)
{
    char *lex;
    if (p[0] == '/') {
        lex = normalize(NULL, p, true);
    } else {
        char cwd[PATH_CAP];
        lex = normalize(getcwd(cwd, sizeof(cwd)) ? cwd : "/", p, true);
    }
    char *real = realpath(lex, NULL);
    if (real) {
        free(lex);
        return real;
    }
    /* Not there yet: resolve the parent (it usually exists) so symlinks there are followed. */
    char *slash = strrchr(lex, '/');
    if (slash && slash != lex) {
        *slash = '\0';
        char *parent = realpath(lex, NULL);
        *slash = '/';
        if (parent) {
            char *joined = normalize(parent, slash + 1, false);
            free(parent);
            free(lex);
            return joined;
        }
    }
    return lex;
}

bool cfg_path_has_dotdot(const char *p)
{
    while (*p) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (p - s == 2 && s[0] == '.' && s[1] == '.')
            return true;
        while (*p == '/')
            p++;
    }
    return false;
}

char *cfg_path_resolve(const char *base, const char *p)
{
    return p[0] == '/' ? normalize(NULL, p, false) : normalize(base, p, false);
}

bool cfg_get_path(struct cfg_errlist *e, const struct cfg_node *n, const char *what,
                  const char *data_dir, char **out)
{
    char *s = NULL;
    if (cfg_is_null(n))
        return true;
    if (!cfg_get_str(e, n, what, &s))
        return false;
    bool ok = false;
    if (s[0] == '\0')
        cfg_err(e, n->line, "%s must not be empty", what);
    else if (strlen(s) >= PATH_CAP)
        cfg_err(e, n->line, "%s is longer than %d bytes", what, PATH_CAP - 1);
    else if (cfg_path_has_dotdot(s))
        cfg_err(e, n->line, "%s must not contain '..' components", what);
    else
        ok = true;
    if (ok) {
        free(*out);
        *out = cfg_path_resolve(data_dir, s);
    }
    free(s);
    return ok;
}

bool cfg_read_file(struct cfg_loader *L, const struct cfg_node *n, const char *what, size_t max,
                   char **data, size_t *len)
{
    struct cfg_errlist *e = L->errs;
    char *path = NULL, shown[80];
    *data = NULL;
    *len = 0;
    if (!cfg_get_path(e, n, what, L->c->data_dir, &path) || !path)
        return false;
    cfg_shown(path, shown, sizeof(shown));
    gw_err rc = gw_file_read(path, max, data, len);
    if (rc == GW_ETOOBIG)
        cfg_err(e, n->line, "%s %s is larger than %zu bytes", what, shown, max);
    else if (rc != GW_OK)
        cfg_err(e, n->line, "%s %s %s", what, shown,
                rc == GW_ENOTFOUND ? "does not exist"
                                   : "cannot be read (not a readable regular file)");
    free(path);
    return rc == GW_OK;
}
