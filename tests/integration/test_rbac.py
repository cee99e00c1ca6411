# SPDX-License-Identifier: MIT
"""Custom roles with permission patterns (seed 001 rbac.roles) and the rule that a token never
grants more than its owner's role: a "*" token owned by a developer is still only a developer."""

import os

import gwtest
from gwtest import ADMIN_TOKEN, assert_error

DEV_TOKEN = "dev-owned-star-token-" + "d" * 24
SUPPORT_TOKEN = "support-owned-token-" + "s" * 24


def _make():
    cfg = gwtest.seed_config()
    cfg["rbac"] = {
        "roles": {
            "developer": {"description": "Development team access",
                          "permissions": ["channels:engineering/*", "memory:read",
                                          "workspace:use:dev-*", "stats:read", "sessions:own"]},
            "support": {"description": "Customer support staff",
                        "permissions": ["workspace:use:support", "sessions:read"]},
        },
        "groupMappings": {"CN=Developers,OU=Groups,DC=company,DC=com": "developer",
                          "CN=Support,OU=Groups,DC=company,DC=com": "support"},
    }
    cfg["identity"] = {"users": [{"id": "dana@company.com", "role": "developer"},
                                 {"id": "sam@company.com", "role": "support"}]}
    # both may use engineering (a grant); what they may do there is their roles' business
    cfg["namespaces"]["engineering"]["members"] = {"users": ["dana@company.com",
                                                             "sam@company.com"]}
    cfg["auth"]["tokens"] += [
        {"id": "dana-star", "token": DEV_TOKEN, "scopes": ["*"], "owner": "dana@company.com"},
        {"id": "sam-star", "token": SUPPORT_TOKEN, "scopes": ["*"], "owner": "sam@company.com"},
    ]
    g = gwtest.Gateway(cfg).start()
    r = g.post("/api/v1/agents", body={"name": "engineering/code-reviewer"}, token=ADMIN_TOKEN)
    assert r.status in (201, 409), r
    return g


GW = gwtest.Lazy(_make)
MEM = "/api/v1/memory/engineering/code-reviewer"


def test_userinfo_reports_role_and_its_permissions():
    g = GW()
    j = g.get("/api/v1/auth/userinfo", token=DEV_TOKEN).json()
    assert j["role"] == "developer" and j["user"] == "dana@company.com", j
    assert "workspace:use:dev-*" in j["permissions"] and "*" not in j["permissions"], j


def test_role_caps_a_star_token():
    g = GW()
    # the role grants engineering channels and memory:read ...
    assert g.get(MEM, token=DEV_TOKEN).status in (200, 404)
    # ... but not memory:write, tokens or audit, although the token says "*"
    r = g.put_memory("engineering/code-reviewer", "nope", DEV_TOKEN)
    assert_error(r, 403, "forbidden", "memory:write")
    assert_error(g.get("/api/v1/tokens", token=DEV_TOKEN), 403, "forbidden", "tokens:read")
    assert_error(g.get("/api/v1/audit", token=DEV_TOKEN), 403, "forbidden", "audit:read")
    # and no marketing channel
    r = g.post("/api/v1/channels/marketing/content-writer/messages", body={"content": "x"},
               token=DEV_TOKEN)
    assert_error(r, 403, "forbidden")


def test_role_without_channel_permissions_reaches_no_channel():
    g = GW()
    r = g.post("/api/v1/channels/engineering/code-reviewer/messages", body={"content": "hi"},
               token=SUPPORT_TOKEN)
    assert_error(r, 403, "forbidden", "channels:engineering/code-reviewer")
    assert_error(g.get(MEM, token=SUPPORT_TOKEN), 403, "forbidden")


def test_owner_cannot_mint_beyond_role():
    g = GW()
    # tokens:write is not in the developer role: no token at all
    r = g.post("/api/v1/tokens", body={"scopes": ["memory:read"]}, token=DEV_TOKEN)
    assert_error(r, 403, "forbidden", "tokens:write")


def test_unknown_role_in_group_mapping_is_a_config_error():
    d = gwtest.tempdir()
    path = os.path.join(d, "bad.yaml")
    with open(path, "w") as f:
        f.write("rbac:\n  groupMappings:\n    \"CN=X\": no-such-role\n")
    rc, out, err = gwtest.check_config(path)
    assert rc == 78 and "bad.yaml:3:" in err and "no-such-role" in err, (rc, err)


if __name__ == "__main__":
    gwtest.main(globals())
