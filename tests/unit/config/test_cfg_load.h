/* SPDX-License-Identifier: MIT
 * test_cfg_load.h — the configuration tests' loader: writes a YAML text to <dir>/cfg.yaml and
 * loads it with <dir>/data as the data directory; and a search of the error list.
 * Include after cmocka.h.
 */
#ifndef GW_TEST_CFG_LOAD_H
#define GW_TEST_CFG_LOAD_H

#include <limits.h>
#include <stdio.h>
#include <string.h>

static inline gw_err test_cfg_load(const char *dir, const char *yaml, struct cfg **out,
                                   struct cfg_errors *errs)
{
    char path[PATH_MAX + 16], data[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/cfg.yaml", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    struct cfg_overrides ov = {.data_dir = data};
    return cfg_load(path, &ov, out, errs);
}

/* Some message of the list contains text. */
static inline bool test_cfg_has_error(const struct cfg_errors *e, const char *text)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], text))
            return true;
    return false;
}

#endif
