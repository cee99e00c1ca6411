/* SPDX-License-Identifier: MIT
 * api_memory.c — agent and namespace shared memory documents.
 *
 * /memory/{ns}/{agent} needs the channel scope of that agent, /memory/{ns}/shared any channel
 * scope inside the namespace; reads also need memory:read, writes memory:write. Paths come
 * from the registry, never from the request, and file access is symlink-safe (ns_memory.c).
 */
#include "base/prelude.h"
#include "config/config.h"
#include "api/api_int.h"
#include "base/util.h"
#include "ns/ns.h"

#include <stdlib.h>
#include <strings.h>

/* Resolves the document and checks scopes; answers and returns NULL on failure. */
static const char *resolve(struct api_call *c, const char *need)
{
    const char *ns = c->var[0], *agent = c->var[1];
    if (!cfg_name_valid(ns) || !cfg_name_valid(agent)) {
        http_respond_error(c->r, GW_EINVAL,
                           "namespace and agent must be 1-63 characters of [a-z0-9_-] starting "
                           "with a letter or digit");
        return NULL;
    }
    c->gc.audit.resource = gw_pool_printf(c->r->pool, "%s/%s", ns, agent);
    bool shared = strcmp(agent, NS_SHARED) == 0;
    bool allowed = shared ? auth_allows_namespace(c->gc.p, ns)
                          : auth_allows_channel(c->gc.p, ns, agent);
    if (!allowed) {
        api_deny_channel(c, ns, shared ? NULL : agent);
        return NULL;
    }
    if (!api_require(c, need))
        return NULL;
    const char *path = NULL;
    if (shared) {
        if (ns_shared_memory_path(c->d->ns, c->gc.p->tenant, ns, c->r->pool, &path) != GW_OK) {
            http_respond_error(c->r, GW_ENOTFOUND, "no namespace %s", ns);
            return NULL;
        }
    } else {
        struct ns_agent_info info;
        if (ns_agent_find(c->d->ns, c->gc.p->tenant, ns, agent, c->r->pool, &info) != GW_OK) {
            http_respond_error(c->r, GW_ENOTFOUND, "no agent %s/%s", ns, agent);
            return NULL;
        }
        path = info.memory_path;
    }
    return path;
}

static void respond_io(struct api_call *c, gw_err rc)
{
    switch (rc) {
    case GW_ENOTFOUND:
        http_respond_error(c->r, rc, "this memory has not been written yet");
        break;
    case GW_EFORBIDDEN:
        http_respond_error(
            c->r, rc,
            "memory path is not a regular file inside the memory tree (symlinks are refused)");
        break;
    case GW_ETOOBIG:
        http_respond_error(c->r, rc, "memory document larger than the configured limit");
        break;
    default:
        http_respond_error(c->r, GW_EIO, "memory could not be accessed");
    }
}

void api_memory_get(struct api_call *c)
{
    const char *path = resolve(c, "memory:read");
    if (!path)
        return;
    char *data = NULL;
    size_t len = 0;
    gw_err rc = ns_memory_read(c->d->ns, path, c->gc.cfg->limits.max_memory_bytes, &data, &len);
    if (rc != GW_OK) {
        respond_io(c, rc);
        return;
    }
    c->gc.audit.details = json_pack("{s:I}", "bytes", (json_int_t)len);
    http_respond(c->r, 200, "text/markdown; charset=utf-8", data, len, NULL);
    free(data);
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    json_t *probe = json_stringn((const char *)s, n); /* jansson validates UTF-8 */
    bool ok = probe != NULL;
    json_decref(probe);
    return ok;
}

void api_memory_put(struct api_call *c)
{
    const char *path = resolve(c, "memory:write");
    if (!path)
        return;
    const char *ct = http_header(c->r, "Content-Type");
    if (ct && strncasecmp(ct, "text/markdown", 13) != 0 && strncasecmp(ct, "text/plain", 10) != 0) {
        http_respond_error(c->r, GW_EMEDIA,
                           "memory is text: use Content-Type text/markdown or text/plain");
        return;
    }
    const char *data = c->r->body.data ? c->r->body.data : "";
    size_t len = c->r->body.len;
    if (len > c->gc.cfg->limits.max_memory_bytes) {
        http_respond_error(c->r, GW_ETOOBIG, "memory documents are limited to %zu bytes",
                           c->gc.cfg->limits.max_memory_bytes);
        return;
    }
    if (memchr(data, '\0', len) || !utf8_valid((const unsigned char *)data, len)) {
        http_respond_error(c->r, GW_EINVAL, "memory must be UTF-8 text without NUL bytes");
        return;
    }
    char digest[65];
    gw_sha256_hex(data, len, digest);
    json_t *details = json_pack("{s:I,s:s}", "bytes", (json_int_t)len, "sha256", digest);
    if (!api_audit_sync(c, "memory.written", c->gc.audit.resource, 200, details))
        return;
    gw_err rc = ns_memory_write(c->d->ns, path, data, len);
    if (rc != GW_OK) {
        api_audit_failed(c);
        respond_io(c, rc);
        return;
    }
    http_respond_json(c->r, 200,
                      json_pack("{s:s,s:I}", "path", c->gc.audit.resource, "bytes",
                                (json_int_t)len));
}
