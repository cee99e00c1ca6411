/* SPDX-License-Identifier: MIT
 * cli_main.c — the `openclaw` program; everything lives in src/cli (cli_main).
 */
#include "base/prelude.h"
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
