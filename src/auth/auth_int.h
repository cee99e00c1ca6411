/* SPDX-License-Identifier: MIT
 * auth_int.h — private to src/auth: helpers the single sign-on files share.
 */
#ifndef GW_AUTH_INT_H
#define GW_AUTH_INT_H

#include "base/prelude.h"

/* A value from an IdP fit to show and store: 1..max bytes, no control characters (UTF-8 and
 * other bytes >= 0x80 allowed). */
bool auth_text_ok(const char *s, size_t max);

#endif
