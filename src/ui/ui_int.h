/* SPDX-License-Identifier: MIT
 * ui_int.h — the asset table, generated at build time by web/build.mjs into the build
 * directory (ui_assets.c; never committed).
 */
#ifndef GW_UI_INT_H
#define GW_UI_INT_H

#include "base/prelude.h"

struct ui_asset {
    const char *path; /* "/index.html" or "/ui/<name>-<hash>.<ext>" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip of data, compressed at build time, or NULL */
    size_t gz_len;
    bool immutable; /* content-hashed name: cached for a year */
};

extern const struct ui_asset ui_assets[];
extern const size_t ui_asset_count;

#endif
