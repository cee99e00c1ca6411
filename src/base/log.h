/* SPDX-License-Identifier: MIT
 * log.h — operational log (stderr, one line per event, logfmt-like).
 *
 * This is the daemon's diagnostic log, not the audit trail (see src/audit). Never pass secrets
 * or request bodies to it.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include "base/prelude.h"

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR };

void gw_log_set_level(enum gw_log_level lvl);
void gw_log(enum gw_log_level lvl, const char *fmt, ...) GW_PRINTF(2, 3);

#define gw_debug(...) gw_log(GW_LOG_DEBUG, __VA_ARGS__)
#define gw_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)

#endif
