/* SPDX-License-Identifier: MIT
 * fuzz_forwarded.c — the real client behind trusted proxies (http_forwarded_client,
 * src/http/http_forwarded.c, and the address parsing of src/base/cidr.c): Forwarded,
 * X-Forwarded-For and X-Forwarded-Proto as a client and its proxies wrote them.
 *
 * The input is "<Forwarded>\n<X-Forwarded-For>\n<X-Forwarded-Proto>"; an empty part is an
 * absent header. The TCP peer is 10.0.0.1, one of the trusted proxies (10.0.0.0/8,
 * 192.168.1.1, 2001:db8::/32).
 * Checks: the client is the peer or an address written in the headers; and what a client
 * writes to the left cannot move the answer: when the answer is not a trusted proxy, one more
 * element in front of the list (a client-chosen address) changes nothing.
 */
#include "base/prelude.h"
#include "base/cidr.h"
#include "http/http.h"
#include "fuzz.h"

#define PEER "10.0.0.1"

static struct gw_cidr trusted[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FUZZ_CHECK(gw_cidr_parse("10.0.0.0/8", &trusted[0]) &&
               gw_cidr_parse("192.168.1.1", &trusted[1]) &&
               gw_cidr_parse("2001:db8::/32", &trusted[2]));
    return 0;
}

/* The client for these headers (NULL: absent). */
static void client_of(const char *fwd, const char *xff, const char *proto, char *client, size_t cap,
                      bool *https)
{
    snprintf(client, cap, "%s", PEER);
    *https = false;
    http_forwarded_client(fwd, xff, proto, trusted, GW_ARRAY_LEN(trusted), client, cap, https);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size), *parts[3] = {in, NULL, NULL};
    for (size_t i = 1; i < 3 && parts[i - 1]; i++) {
        char *nl = strchr(parts[i - 1], '\n');
        if (nl)
            *nl = '\0';
        parts[i] = nl ? nl + 1 : NULL;
    }
    const char *fwd = parts[0] && *parts[0] ? parts[0] : NULL;
    const char *xff = parts[1] && *parts[1] ? parts[1] : NULL;
    const char *proto = parts[2] && *parts[2] ? parts[2] : NULL;
    char client[64], again[64];
    bool https, https2;
    client_of(fwd, xff, proto, client, sizeof(client), &https);
    struct gw_cidr ip;
    FUZZ_CHECK(gw_ip_parse(client, &ip));
    const char *src = fwd ? fwd : xff;
    FUZZ_CHECK(strcmp(client, PEER) == 0 || (src && strstr(src, client)));
    if (src && !gw_cidr_list_contains(trusted, GW_ARRAY_LEN(trusted), client)) {
        char *longer = gw_xasprintf("%s%s", fwd ? "for=203.0.113.9, " : "203.0.113.9, ", src);
        if (strlen(longer) < 1024) {
            client_of(fwd ? longer : NULL, fwd ? xff : longer, proto, again, sizeof(again),
                      &https2);
            FUZZ_CHECK(strcmp(client, again) == 0);
        }
        free(longer);
    }
    free(in);
    return 0;
}
