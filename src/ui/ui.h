/* SPDX-License-Identifier: MIT
 * ui.h — the web UI: static assets built from web/ at build time and compiled into the binary.
 *
 * The router hands every GET or HEAD that matched no route and lies outside /api/ and /v1/ to
 * ui_serve. Nothing here needs a credential: the assets hold no data, and the application
 * signs in and talks to the gateway's own API from the browser.
 */
#ifndef GW_UI_H
#define GW_UI_H

#include "http/http.h"

/* Answers path (without the tenant's path prefix base, e.g. "" or "/research") when it names
 * the application ("/", "/index.html") or one of its assets; false (nothing answered) for any
 * other path, /api/ and /v1/ included. */
bool ui_serve(struct http_req *r, const char *path, const char *base);

#endif
