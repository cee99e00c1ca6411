/* SPDX-License-Identifier: MIT
 * test_tmp.h — scratch directories of the unit tests: made private under $TMPDIR (else /tmp)
 * with mkdtemp, removed with everything in them.
 */
#ifndef GW_TEST_TMP_H
#define GW_TEST_TMP_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* A new directory "<$TMPDIR>/<name>.XXXXXX"; its path in out. */
static inline bool test_tmpdir(char *out, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    int n = snprintf(out, cap, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
    return n > 0 && (size_t)n < cap && mkdtemp(out) != NULL;
}

static inline int test_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it (symlinks are removed, not followed). */
static inline int test_rmtree(const char *dir)
{
    return nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
