/* SPDX-License-Identifier: MIT
 * cli_suggest.c — "did you mean": the closest known name to a mistyped command, subcommand,
 * option or config key.
 *
 * gw_edit_distance (base/util.h) over the names of the table at hand. A suggestion is made only
 * when the distance is small for the length of the names, so a word that is nothing like any
 * of them gets the plain error.
 */
#include "base/prelude.h"
#include "cli/cli.h"
#include "base/util.h"

const char *cli_suggest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    unsigned best_d = 255;
    size_t wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        unsigned d = gw_edit_distance(word, cands[i]);
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
