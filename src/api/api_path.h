/* SPDX-License-Identifier: MIT
 * api_path.h — request paths: split into decoded segments, matched against route patterns.
 * Apart from the router so that the fuzz targets (tests/fuzz) reach them.
 */
#ifndef GW_API_PATH_H
#define GW_API_PATH_H

#include "base/prelude.h"

#define API_MAX_SEGMENTS 8
#define API_MAX_SEGMENT 128

struct gw_pool;

/* Splits path on '/' and percent-decodes each segment into pool memory (at most
 * API_MAX_SEGMENTS segments of API_MAX_SEGMENT bytes). False with the reason in *why on a
 * segment we refuse: malformed, ".", "..", or containing '/', '\', control or non-ASCII bytes. */
bool api_path_split(struct gw_pool *pool, const char *path, char **seg, size_t *nseg,
                    const char **why);
/* Matches segments against a pattern of literal segments and "{}" variables (a variable never
 * matches an empty segment); on success var[0..*n_var) are the variables' segments, in order
 * (var has room for API_MAX_SEGMENTS). */
bool api_path_match(const char *pattern, char *const *seg, size_t nseg, const char **var,
                    size_t *n_var);
/* Decodes the rest of a path (after a "{*}" route's prefix) into one variable that may hold
 * '/' however the client wrote it ("%2F" or not): a model id "<provider>/<model>". Each part
 * between slashes is non-empty, not "." or "..", printable ASCII without '\'; the whole is at
 * most 2 * API_MAX_SEGMENT bytes and does not end in '/'. NULL with the reason in *why. */
char *api_path_rest(struct gw_pool *pool, const char *rest, const char **why);

#endif
