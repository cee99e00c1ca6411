/* SPDX-License-Identifier: MIT
 * api.h — the /api/v1 routes (docs/API.md) behind the HTTP server.
 */
#ifndef GW_API_H
#define GW_API_H

#include "http/http.h"

#include <stdio.h>

/* http_dispatch_fn / http_done_fn with ctx = struct gwd *. */
void api_dispatch(struct http_req *r, void *gwd);
void api_done(struct http_req *r, void *gwd);
/* http_inline_fn: the routes that never block (the model proxy hands its work to the model
 * client and answers from there) skip the blocking workers. */
bool api_inline(struct http_req *r, void *gwd);
/* Writes the route table, one "METHOD PATTERN ACCESS" line per route (ACCESS: public, anon
 * or auth), for `openclaw-gateway --list-routes` and the tests that must cover every route. */
void api_routes_print(FILE *f);
/* Expires overdue approval requests (called once a second by the daemon). */
struct gwd;
void api_approvals_expire(struct gwd *g);

#endif
