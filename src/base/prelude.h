/* SPDX-License-Identifier: MIT
 * prelude.h — included first by every .c file of the gateway.
 * Feature macros, the standard headers nearly every file needs, and small attributes.
 */
#ifndef GW_PRELUDE_H
#define GW_PRELUDE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_VERSION "0.1.0"

#define GW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GW_UNUSED(x) ((void)(x))
#define GW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define GW_NORETURN __attribute__((noreturn))
#define GW_MIN(a, b) ((a) < (b) ? (a) : (b))
#define GW_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
