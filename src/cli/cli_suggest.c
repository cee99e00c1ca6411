/* SPDX-License-Identifier: MIT
 * cli_suggest.c — "did you mean": the closest known name to a mistyped command, subcommand,
 * option or config key.
 *
 * Optimal string alignment distance (Levenshtein plus the swap of two neighbours, the most
 * common typing slip: "tokesn"), over the names of the table at hand. A suggestion is made only
 * when the distance is small for the length of the names, so a word that is nothing like any
 * of them gets the plain error.
 */
#include "base/prelude.h"
#include "cli/cli.h"

#define NAME_MAX_LEN 64 /* longer words are never a typo of one of our names */

unsigned cli_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > NAME_MAX_LEN || m > NAME_MAX_LEN)
        return 255;
    /* three rows of the dynamic programme: i-2, i-1, i */
    unsigned rows[3][NAME_MAX_LEN + 1];
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = rows[1][j] = (unsigned)j;
    for (size_t i = 1; i <= n; i++) {
        unsigned *cur = rows[i % 3], *prev = rows[(i + 2) % 3], *prev2 = rows[(i + 1) % 3];
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= m; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned d = GW_MIN(prev[j] + 1, cur[j - 1] + 1);
            d = GW_MIN(d, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d = GW_MIN(d, prev2[j - 2] + 1);
            cur[j] = d;
        }
    }
    return GW_MIN(rows[n % 3][m], 255u);
}

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    unsigned best_d = 255;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        unsigned d = cli_edit_distance(word, cands[i]);
        size_t longer = GW_MAX(wl, strlen(cands[i]));
        if (d == 0 || d > (longer + 2) / 3 || d >= wl)
            continue;
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

const char *cli_suggest_hint(const char *word, const char *const *cands, size_t n,
                             const char *prefix, char *buf, size_t cap)
{
    const char *s = cli_suggest(word, cands, n);
    if (!s || cap == 0)
        return "";
    snprintf(buf, cap, " (did you mean %s%s?)", prefix ? prefix : "", s);
    return buf;
}
