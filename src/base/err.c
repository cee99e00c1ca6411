/* SPDX-License-Identifier: MIT
 * err.c — lookups into the error table of err.h.
 */
#include "base/prelude.h"
#include "base/err.h"

static const struct {
    int status;
    const char *name;
    const char *message;
} err_table[] = {
#define GW_ERR_ROW(code, status, name, msg) {status, name, msg},
    GW_ERR_MAP(GW_ERR_ROW)
#undef GW_ERR_ROW
};

int gw_err_http_status(gw_err e)
{
    return (unsigned)e < GW_ERR__COUNT ? err_table[e].status : 500;
}

const char *gw_err_name(gw_err e)
{
    return (unsigned)e < GW_ERR__COUNT ? err_table[e].name : "internal_error";
}

const char *gw_err_message(gw_err e)
{
    return (unsigned)e < GW_ERR__COUNT ? err_table[e].message : "internal error";
}
