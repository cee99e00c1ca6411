/* SPDX-License-Identifier: MIT
 * log.c — stderr logger; one write() per line so lines from threads do not interleave.
 */
#include "base/prelude.h"
#include "base/log.h"
#include "base/util.h"

#include <stdarg.h>
#include <unistd.h>

static enum gw_log_level min_level = GW_LOG_INFO;

void gw_log_set_level(enum gw_log_level lvl)
{
    min_level = lvl;
}

void gw_log(enum gw_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char line[2048], ts[40];
    gw_time_iso8601(gw_now_ms(), ts, sizeof(ts));
    int n = snprintf(line, sizeof(line), "%s level=%s ", ts, names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : GW_MIN((size_t)m, sizeof(line) - (size_t)n - 2));
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    GW_UNUSED(w);
}
