/* SPDX-License-Identifier: MIT
 * cidr.h — IPv4/IPv6 addresses and CIDR blocks ("10.0.0.0/8", "2001:db8::/32", "127.0.0.1").
 *
 * Used wherever the gateway decides by address: trusted reverse proxies (gateway.trusted_proxies)
 * today. IPv4 blocks also match IPv4-mapped IPv6 addresses ("::ffff:10.1.2.3"), because a
 * dual-stack listener reports IPv4 peers in that form.
 */
#ifndef GW_CIDR_H
#define GW_CIDR_H

#include "base/prelude.h"

struct gw_cidr {
    unsigned char addr[16]; /* network address; IPv4 in the first 4 bytes */
    unsigned bits;          /* prefix length: 0-32 (IPv4) or 0-128 (IPv6) */
    bool v6;
};

/* Parses "addr" or "addr/bits"; host bits must be zero ("10.0.0.1/8" is refused as ambiguous). */
bool gw_cidr_parse(const char *s, struct gw_cidr *out);
/* Parses a bare address (no prefix) into a /32 or /128 block. */
bool gw_ip_parse(const char *s, struct gw_cidr *out);
/* Does the block contain the address (a /32 or /128 from gw_ip_parse)? */
bool gw_cidr_contains(const struct gw_cidr *block, const struct gw_cidr *ip);
/* Any of n blocks contains the textual address (false when it does not parse). */
bool gw_cidr_list_contains(const struct gw_cidr *blocks, size_t n, const char *ip);

#endif
