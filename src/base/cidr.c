/* SPDX-License-Identifier: MIT
 * cidr.c — parsing and matching of IP addresses and CIDR blocks (inet_pton underneath).
 *
 * Parsing is strict on purpose: an address list decides whose forwarded headers are believed,
 * so "10.0.0.1/8" (host bits set) and prefixes out of range are refused instead of rounded.
 */
#include "base/prelude.h"
#include "base/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool gw_ip_parse(const char *s, struct gw_cidr *out)
{
    memset(out, 0, sizeof(*out));
    if (!s || strlen(s) >= INET6_ADDRSTRLEN)
        return false;
    if (inet_pton(AF_INET, s, out->addr) == 1) {
        out->bits = 32;
        return true;
    }
    if (inet_pton(AF_INET6, s, out->addr) == 1) {
        out->v6 = true;
        out->bits = 128;
        return true;
    }
    return false;
}

static bool host_bits_zero(const struct gw_cidr *c)
{
    unsigned total = c->v6 ? 128 : 32;
    for (unsigned b = c->bits; b < total; b++)
        if (c->addr[b / 8] & (0x80u >> (b % 8)))
            return false;
    return true;
}

bool gw_cidr_parse(const char *s, struct gw_cidr *out)
{
    char host[INET6_ADDRSTRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash)
        return gw_ip_parse(s, out);
    size_t n = (size_t)(slash - s);
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, s, n);
    host[n] = '\0';
    if (!gw_ip_parse(host, out))
        return false;
    const char *digits = slash + 1;
    size_t nd = strlen(digits);
    if (nd == 0 || nd > 3 || (nd > 1 && digits[0] == '0'))
        return false;
    for (size_t i = 0; i < nd; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return false;
    unsigned bits = (unsigned)strtoul(digits, NULL, 10);
    if (bits > (out->v6 ? 128u : 32u))
        return false;
    out->bits = bits;
    return host_bits_zero(out);
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool gw_cidr_contains(const struct gw_cidr *block, const struct gw_cidr *ip)
{
    if (block->v6 == ip->v6)
        return prefix_equal(block->addr, ip->addr, block->bits);
    /* an IPv4 block matches an IPv4-mapped IPv6 address */
    if (!block->v6 && ip->v6 && memcmp(ip->addr, v4_mapped, sizeof(v4_mapped)) == 0)
        return prefix_equal(block->addr, ip->addr + 12, block->bits);
    return false;
}

bool gw_cidr_list_contains(const struct gw_cidr *blocks, size_t n, const char *ip)
{
    struct gw_cidr a;
    if (!n || !gw_ip_parse(ip, &a))
        return false;
    for (size_t i = 0; i < n; i++)
        if (gw_cidr_contains(&blocks[i], &a))
            return true;
    return false;
}
