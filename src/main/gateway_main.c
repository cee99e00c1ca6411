/* SPDX-License-Identifier: MIT
 * gateway_main.c — the openclaw-gateway daemon; everything lives in libgw (src/core/gwd.c).
 */
#include "base/prelude.h"
#include "core/gwd.h"

int main(int argc, char **argv)
{
    return gwd_main(argc, argv);
}
