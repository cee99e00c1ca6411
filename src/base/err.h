/* SPDX-License-Identifier: MIT
 * err.h — the one error type of the program.
 *
 * Every fallible function returns a gw_err. The table below is the single place where a code,
 * its HTTP status, its wire name (used in the JSON error envelope and by the CLI) and its
 * default message are declared; nothing else maps codes to statuses.
 */
#ifndef GW_ERR_H
#define GW_ERR_H

#include "base/prelude.h"

/* clang-format off */
/*        code          http  wire name               default message */
#define GW_ERR_MAP(X)                                                                          \
    X(OK,              200, "ok",                    "ok")                                   \
    X(EINVAL,          400, "invalid_request",       "invalid request")                     \
    X(EJSON,           400, "invalid_json",          "request body is not valid JSON")      \
    X(EUNAUTH,         401, "unauthenticated",       "missing or invalid credentials")      \
    X(EPAYMENT,        402, "budget_exceeded",       "budget exceeded")                     \
    X(EFORBIDDEN,      403, "forbidden",             "forbidden")                           \
    X(ENOTFOUND,       404, "not_found",             "not found")                           \
    X(EMETHOD,         405, "method_not_allowed",    "method not allowed")                  \
    X(ETIMEOUT,        408, "request_timeout",       "request took too long")               \
    X(ECONFLICT,       409, "conflict",              "conflict")                            \
    X(ETOOBIG,         413, "payload_too_large",     "request body too large")              \
    X(EMEDIA,          415, "unsupported_media_type","unsupported media type")              \
    X(EPOLICY,         422, "policy_violation",      "the policy would loosen a policy above it") \
    X(EHEADERS,        431, "headers_too_large",     "request headers too large")           \
    X(ETHROTTLED,      429, "too_many_requests",     "too many requests")                   \
    X(EINTERNAL,       500, "internal_error",        "internal error")                      \
    X(EUPSTREAM,       502, "bad_gateway",           "upstream error")                      \
    X(EUPTIMEOUT,      504, "upstream_timeout",      "upstream did not answer in time")     \
    X(ECANCELED,       499, "canceled",              "the client went away")                \
    X(EUNAVAIL,        503, "unavailable",           "service unavailable")                 \
    X(EAUDIT,          503, "audit_unavailable",     "audit trail cannot be written; "      \
                                                     "nothing was changed")                 \
    X(ESTORE,          503, "store_unavailable",     "store unavailable")                   \
    X(ECONFIG,         500, "config_error",          "configuration error")                 \
    X(EIO,             500, "io_error",              "i/o error")                           \
    X(ENOMEM,          500, "out_of_memory",         "out of memory")

typedef enum {
#define GW_ERR_ENUM(code, status, name, msg) GW_##code,
    GW_ERR_MAP(GW_ERR_ENUM)
#undef GW_ERR_ENUM
    GW_ERR__COUNT
} gw_err;
/* clang-format on */

/* HTTP status for an error code. */
int gw_err_http_status(gw_err e);
/* Stable wire name, e.g. "forbidden". */
const char *gw_err_name(gw_err e);
/* Default human message. */
const char *gw_err_message(gw_err e);

#endif
