/* SPDX-License-Identifier: MIT
 * gwd.h — the daemon: the composition root. It owns every subsystem, opens them in the order
 * of a table of modules (gwd_modules.c), hands the HTTP adapters their services and walks the
 * table again to reload, drain and close. Only main/ includes this header; no subsystem calls
 * back into core/.
 */
#ifndef GW_GWD_H
#define GW_GWD_H

#include "base/prelude.h"

/* Entry point of openclaw-gateway. */
int gwd_main(int argc, char **argv);

#endif
