/* SPDX-License-Identifier: MIT
 * config_env.c — ${VAR} and ${VAR:-default} substitution in scalar values.
 *
 * Secrets (tokens, client secrets) belong in the environment or a vault that injects it, not in
 * gateway.yaml, so every value may reference variables anywhere in its text. A variable that is
 * unset, with no default, is an error: starting with an empty secret would be worse. As in the
 * shell, ":-" also applies the default when the variable is set but empty. "$${" is a literal
 * "${". The value of a variable never appears in a message (it may be a secret).
 */
#include "base/prelude.h"
#include "base/buf.h"
#include "config/config_int.h"

#define VAR_NAME_MAX 128

static bool name_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool name_char(char ch)
{
    return name_start(ch) || (ch >= '0' && ch <= '9');
}

char *cfg_env_expand(const char *s, size_t len, struct cfg_errlist *errs, int line, size_t *budget)
{
    struct gw_buf b;
    gw_buf_init(&b, CFG_MAX_SCALAR_BYTES);
    bool ok = true, toobig = false;
    size_t i = 0;

    while (i < len && !toobig) {
        if (s[i] != '$') {
            size_t j = i;
            while (j < len && s[j] != '$')
                j++;
            toobig = gw_buf_append(&b, s + i, j - i) != GW_OK;
            i = j;
            continue;
        }
        if (i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            toobig = gw_buf_puts(&b, "${") != GW_OK;
            i += 3;
            continue;
        }
        if (i + 1 >= len || s[i + 1] != '{') {
            toobig = gw_buf_append(&b, "$", 1) != GW_OK;
            i++;
            continue;
        }
        /* ${NAME} or ${NAME:-default} */
        size_t ns = i + 2, j = ns;
        while (j < len && name_char(s[j]))
            j++;
        size_t nlen = j - ns;
        const char *def = NULL;
        size_t deflen = 0, end;
        if (nlen == 0 || !name_start(s[ns]) || nlen > VAR_NAME_MAX) {
            cfg_err(errs, line,
                    "invalid variable reference (expected ${NAME} or "
                    "${NAME:-default}, NAME made of letters, digits and _)");
            ok = false;
            break;
        }
        if (j < len && s[j] == '}') {
            end = j;
        } else if (j + 1 < len && s[j] == ':' && s[j + 1] == '-') {
            def = s + j + 2;
            const char *close = memchr(def, '}', len - (j + 2));
            if (!close) {
                cfg_err(errs, line, "unterminated ${%.*s:-...} (missing '}')", (int)nlen, s + ns);
                ok = false;
                break;
            }
            deflen = (size_t)(close - def);
            end = (size_t)(close - s);
        } else {
            cfg_err(errs, line, "invalid variable reference ${%.*s... (expected '}' or ':-')",
                    (int)nlen, s + ns);
            ok = false;
            break;
        }
        char name[VAR_NAME_MAX + 1];
        memcpy(name, s + ns, nlen);
        name[nlen] = '\0';
        const char *val = getenv(name);
        if (def && (!val || !*val)) {
            toobig = gw_buf_append(&b, def, deflen) != GW_OK;
        } else if (!val) {
            cfg_err(errs, line, "environment variable %s is not set", name);
            ok = false; /* keep scanning: report every missing variable of the value */
        } else {
            toobig = gw_buf_puts(&b, val) != GW_OK;
        }
        i = end + 1;
    }

    if (toobig) {
        cfg_err(errs, line, "value is longer than %zu bytes after substitution",
                CFG_MAX_SCALAR_BYTES);
        ok = false;
    } else if (ok && b.len > *budget) {
        cfg_err(errs, line, "environment substitution produced more than %zu bytes in total",
                CFG_MAX_EXPANDED_BYTES);
        *budget = 0;
        ok = false;
    }
    if (!ok) {
        gw_buf_release(&b);
        return NULL;
    }
    *budget -= b.len;
    return gw_buf_detach(&b, NULL);
}
