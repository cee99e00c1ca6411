/* SPDX-License-Identifier: MIT
 * api_costs.c — GET /api/v1/costs: model usage and spend of the caller's tenant for one month.
 *
 * Needs stats:read (org_admin and team_lead roles have it, enterprise_admin through "*").
 * enterprise_admin sees every workspace of its tenant; anyone else the workspaces it reaches as
 * namespaces and its own team's. The tenant is the principal's; period (YYYY-MM, default the
 * current UTC month) and workspace (a namespace name) are validated strictly before anything is
 * read. The report itself (totals, by workspace with its budget, by user, by model) is built by
 * meter_report.
 */
#include "base/prelude.h"
#include "api/api_int.h"
#include "http/http.h"
#include "base/util.h"
#include "meter/meter.h"

#include <time.h>

/* YYYY-MM with month 01-12 and a year from 1970. */
static bool period_valid(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return false;
    int year = (int)strtol(s, NULL, 10), mon = (s[5] - '0') * 10 + (s[6] - '0');
    return year >= 1970 && mon >= 1 && mon <= 12;
}

static bool visible(const char *workspace, void *arg)
{
    const struct auth_principal *p = arg;
    return (p->team && !strcmp(workspace, p->team)) ||
           (cfg_name_valid(workspace) && auth_allows_namespace(p, workspace));
}

void api_costs_get(struct api_call *c)
{
    if (!api_require(c, "stats:read"))
        return;
    const char *period = http_query(c->r, "period");
    const char *workspace = http_query(c->r, "workspace");
    char month[8];
    if (!period) {
        time_t now = (time_t)(gw_now_ms() / 1000);
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(month, sizeof month, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
                 (unsigned)(tm.tm_mon + 1) % 100u);
        period = month;
    } else if (!period_valid(period)) {
        http_respond_error(c->r, GW_EINVAL,
                           "period must be a month as YYYY-MM (01-12), "
                           "e.g. 2026-11");
        return;
    }
    if (workspace && !cfg_name_valid(workspace)) {
        http_respond_error(c->r, GW_EINVAL,
                           "workspace must be a namespace name "
                           "([a-z0-9][a-z0-9_-]{0,62})");
        return;
    }
    c->gc.audit.details = json_pack("{s:s,s:s?}", "period", period, "workspace", workspace);
    if (!c->d->costs) {
        http_respond_error(c->r, GW_EUNAVAIL, "usage metering is not running");
        return;
    }
    bool all = auth_allows(c->gc.p, "*") ||
               (c->gc.p->perms && !strcmp(c->gc.p->role, "enterprise_admin"));
    json_t *report = meter_report_visible(c->d->costs, c->gc.p->tenant, period, workspace,
                                          all ? NULL : visible, c->gc.p);
    if (!report) {
        http_respond_error(c->r, GW_ESTORE, "the usage records could not be read");
        return;
    }
    http_respond_json(c->r, 200, report);
}
