# SPDX-License-Identifier: MIT
"""The `openclaw` CLI end to end against a real daemon: version, config file (0600) and
environment overrides, `status` in the seed-000 shape, tokens/agents/send/memory/audit with
--json, and the exit codes (usage 2, 401 -> 3, 403 -> 4, unreachable -> 7)."""

import json
import os
import re
import stat

import gwtest
from gwtest import ADMIN_TOKEN, ENG_TOKEN, MKT_TOKEN, TENANT, cli

GW = gwtest.Lazy(lambda: gwtest.Gateway(gwtest.allow_exports(gwtest.seed_config())).start())


def test_version():
    r = cli("--version")
    assert r.rc == 0, repr(r)
    assert re.search(r"\b0\.1\.0\b", r.out), "--version output %r" % r.out


def test_usage_errors_exit_2():
    for args in (("no-such-command",), ("tokens", "frobnicate"), ("--no-such-flag",), ("memory", "get"),
                 ("send",)):
        r = cli(*args, url="http://127.0.0.1:1", token=ADMIN_TOKEN)
        assert r.rc == 2, "openclaw %s: exit %d (want 2): %r" % (" ".join(args), r.rc, r)
        assert r.err.strip(), "usage error without a message on stderr"


def test_config_set_get_file_mode_and_env_override():
    home = gwtest.tempdir("gwcli-home-")
    r = cli("config", "set", "gateway_url", "http://127.0.0.1:9", home=home)
    assert r.rc == 0, repr(r)
    r = cli("config", "get", "gateway_url", home=home)
    assert r.rc == 0 and r.out.strip() == "http://127.0.0.1:9", "config get: %r" % r
    path = os.path.join(home, ".openclaw", "config.yaml")
    assert os.path.isfile(path), "config file not at ~/.openclaw/config.yaml: %r" % os.listdir(home)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    assert mode == 0o600, "config file mode %o, want 600" % mode
    r = cli("config", "set", "token", ENG_TOKEN, home=home)
    assert r.rc == 0, repr(r)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    r = cli("config", "get", "token", home=home)
    assert r.rc == 0, repr(r)
    # the environment wins over the file
    g = GW()
    r = cli("status", "--json", home=home, env={"OPENCLAW_GATEWAY_URL": g.url})
    assert r.rc == 0, "OPENCLAW_GATEWAY_URL did not override the file (file points at :9): %r" % r
    # the file alone: the unreachable :9
    r = cli("status", home=home)
    assert r.rc == 7, "status against an unreachable gateway: %r" % r
    # file token is used
    cli("config", "set", "gateway_url", g.url, home=home)
    r = cli("memory", "get", "marketing/content-writer", home=home)
    assert r.rc == 4, "file token (engineering) on marketing memory: %r" % r
    r = cli("config", "get", "no_such_key", home=home)
    assert r.rc != 0, "unknown config key accepted: %r" % r


def test_status_seed000_shape():
    g = GW()
    r = cli("status", url=g.url, token=ADMIN_TOKEN)
    assert r.rc == 0, repr(r)
    out = r.out
    for label in ("Gateway:", "Status:", "User:", "Role:", "Tenant:", "Org Unit:", "Enterprise Plugins:"):
        assert re.search(r"^%s" % re.escape(label), out, re.M), "status output lacks %r:\n%s" % (label, out)
    assert re.search(r"^Gateway:\s+%s\s*$" % re.escape(g.url), out, re.M), "Gateway line:\n%s" % out
    assert re.search(r"^Status:\s+Connected\s*$", out, re.M), "Status line:\n%s" % out
    assert re.search(r"^User:\s+token:admin\s*$", out, re.M), "User line:\n%s" % out
    assert re.search(r"^Tenant:\s+%s\s*$" % TENANT, out, re.M), "Tenant line:\n%s" % out
    plugins = re.findall(r"^\s{2,}([a-z-]+)\s+(\S+)\s*$", out.split("Enterprise Plugins:", 1)[1], re.M)
    names = [p[0] for p in plugins]
    assert sorted(names) == sorted(gwtest.SEED_PLUGINS), "plugin lines %r" % plugins
    states = dict(plugins)
    api = {p["name"]: p["state"] for p in g.get("/api/v1/status").json()["plugins"]}
    assert states == api, "CLI plugin states %r differ from /api/v1/status %r" % (states, api)
    j = cli("status", "--json", url=g.url, token=ADMIN_TOKEN)
    assert j.rc == 0, repr(j)
    jj = j.json()
    tenant = jj.get("tenant") or (jj.get("status") or {}).get("tenant")
    assert tenant == TENANT, "status --json tenant: %r" % jj


def test_tokens_agents_send_memory_audit_json():
    g = GW()
    U, T = g.url, ADMIN_TOKEN
    r = cli("tokens", "create", "--id", "cli-e2e", "--scope", "channels:engineering/*", "--scope", "memory:read",
            "--scope", "memory:write", "--json", url=U, token=T)
    assert r.rc == 0, repr(r)
    tok = r.json()
    assert tok["id"] == "cli-e2e" and tok["token"] and sorted(tok["scopes"]) == ["channels:engineering/*", "memory:read", "memory:write"], repr(tok)
    r = cli("tokens", "list", "--json", url=U, token=T)
    assert r.rc == 0 and any(t["id"] == "cli-e2e" for t in r.json()["tokens"]), repr(r)
    assert tok["token"] not in r.out
    r = cli("agents", "register", "engineering/cli-agent", "--description", "from the CLI", "--json", url=U, token=T)
    assert r.rc == 0 and r.json().get("name") == "engineering/cli-agent", repr(r)
    r = cli("agents", "list", "--json", url=U, token=T)
    assert r.rc == 0 and any(a["name"] == "engineering/cli-agent" for a in r.json()["agents"]), repr(r)
    r = cli("send", "engineering/cli-agent", "hello from the CLI", "--json", url=U, token=tok["token"])
    assert r.rc == 0, repr(r)
    m = r.json()
    assert m.get("id", "").startswith("msg_") and m.get("status") == "stored", repr(m)
    text = "CLI memory — ünïcode ✓\n"
    r = cli("memory", "put", "engineering/cli-agent", "-", "--json", url=U, token=tok["token"], stdin=text)
    assert r.rc == 0 and r.json().get("bytes") == len(text.encode()), "memory put from stdin: %r" % r
    r = cli("memory", "get", "engineering/cli-agent", url=U, token=tok["token"])
    assert r.rc == 0 and r.out == text, "memory get: %r" % r
    assert g.get("/api/v1/memory/engineering/cli-agent", token=ENG_TOKEN).text == text
    r = cli("audit", "query", "--event", "message.*", "--limit", "50", "--json", url=U, token=T)
    assert r.rc == 0, repr(r)
    ev = r.json()["events"]
    assert any(e["type"] == "message.sent" and e["resource"] == "engineering/cli-agent" for e in ev), repr(ev[:3])
    r = cli("audit", "export", "--format", "jsonl", url=U, token=T)
    assert r.rc == 0, repr(r)
    lines = [json.loads(x) for x in r.out.splitlines() if x.strip()]
    assert any(x.get("type") == "message.sent" for x in lines), "export via CLI"
    r = cli("audit", "export", "--format", "csv", url=U, token=T)
    assert r.rc == 0 and r.out.splitlines()[0].count(",") >= 5, repr(r)
    r = cli("audit", "verify", "--json", url=U, token=T)
    assert r.rc == 0 and r.json().get("ok") is True, repr(r)
    r = cli("tokens", "rotate", "cli-e2e", "--json", url=U, token=T)
    assert r.rc == 0 and r.json()["token"] != tok["token"], repr(r)
    assert cli("memory", "get", "engineering/cli-agent", url=U, token=tok["token"]).rc == 3, "old token after rotate"
    r = cli("tokens", "revoke", "cli-e2e", "--json", url=U, token=T)
    assert r.rc == 0, repr(r)


def test_exit_codes_401_403_unreachable():
    g = GW()
    r = cli("memory", "get", "engineering/code-reviewer", url=g.url, token="wrong-token-" + "w" * 20)
    assert r.rc == 3, "401 -> exit %d (want 3): %r" % (r.rc, r)
    r = cli("memory", "get", "engineering/code-reviewer", url=g.url)
    assert r.rc == 3, "no token -> exit %d (want 3): %r" % (r.rc, r)
    r = cli("memory", "get", "marketing/content-writer", url=g.url, token=ENG_TOKEN)
    assert r.rc == 4, "403 -> exit %d (want 4): %r" % (r.rc, r)
    assert "channels:marketing/content-writer" in r.err, "403 message not shown: %r" % r.err
    r = cli("send", "marketing/content-writer", "x", url=g.url, token=ENG_TOKEN)
    assert r.rc == 4, "send 403 -> exit %d: %r" % (r.rc, r)
    r = cli("tokens", "list", url=g.url, token=MKT_TOKEN)
    assert r.rc == 4, "tokens list without tokens:read -> %d" % r.rc
    port = gwtest.free_port()
    r = cli("status", url="http://127.0.0.1:%d" % port, token=ADMIN_TOKEN, timeout=30)
    assert r.rc == 7, "unreachable -> exit %d (want 7): %r" % (r.rc, r)
    r = cli("memory", "get", "engineering/code-reviewer", url="http://127.0.0.1:%d" % port, token=ADMIN_TOKEN)
    assert r.rc == 7, "unreachable memory get -> %d" % r.rc
    assert ADMIN_TOKEN not in r.err and ADMIN_TOKEN not in r.out, "CLI printed the token"


if __name__ == "__main__":
    gwtest.main(globals())
