# SPDX-License-Identifier: MIT
"""The seeds' configuration blocks through `openclaw-gateway --check-config`, key by key.

tests/fixtures/seeds/ holds seed 001's blocks (JSON written as YAML) and seed 003's
gateway.yaml snippets, one file per block. OUTCOMES below gives every key of every fixture one
outcome, and the test fails on a fixture key without one:

- ("accepted", house): the key is taken, as the house key `house` (`[]` stands for a list
  index). Checked twice: the fixture as written gets no message at the key's line, and the
  fixture with that key's value replaced by a mapping gets an error naming `house` there (so
  an alias that landed on the wrong key fails too);
- a string: the exact message at the key's line (the seed key is refused with what to write
  instead, or "not available in this build" and the issue that brings it);
- COVERED: a key inside a refused one (its parent's message answers it).

SECTION gives the messages a fixture gets about a mapping as a whole (keys the house needs
that the seed does not have); they are reported at the mapping's first line. The messages of
each fixture as written must be exactly the expected ones.
"""

import json
import os
import re
import subprocess

import cfgkeys
import gwtest

FIXTURES = os.path.join(gwtest.SOURCE_DIR, "tests", "fixtures", "seeds")

# The ${VARIABLES} of the seeds' blocks, as an operator would export them.
ENV = {
    "SAML_IDP_CERT": "MIIC8DCCAdigAwIBAgIQ",
    "OIDC_CLIENT_ID": "openclaw-gateway",
    "OIDC_CLIENT_SECRET": "oidc-client-secret-0123456789",
    "AUDIT_DB_URL": "postgresql://audit@db.yourcompany.com/openclaw",
    "SIEM_API_KEY": "siem-api-key-0123456789",
    "REDIS_CLUSTER_URL": "rediss://redis.yourcompany.com:6379",
}

COVERED = "covered"


def ok(house):
    return ("accepted", house)


CLUSTER = "cluster mode (issue 15) brings it"
SINGLE = ("this build shares only the store between nodes (store.backend: postgresql); each node "
          "keeps its own caches, throttling and counters")

OUTCOMES = {
    "001_sso_saml.yaml": {
        "auth": ok("auth"),
        "auth.provider": ok("sso.default_protocol"),
        "auth.saml": ok("sso.saml"),
        "auth.saml.entryPoint": "sso.saml.entryPoint: use sso.saml.idp_metadata instead "
                                "(the IdP's metadata file names its sign-in URL)",
        "auth.saml.issuer": ok("sso.saml.sp_entity_id"),
        "auth.saml.cert": "sso.saml.cert: use sso.saml.idp_metadata instead (the IdP's signing "
                          "certificates are read from its metadata file)",
        "auth.saml.callbackUrl": ok("sso.saml.acs_url"),
        "auth.saml.attributeMapping": ok("sso.saml.attributeMapping"),
        "auth.saml.attributeMapping.userId": ok("sso.saml.attributeMapping.userId"),
        "auth.saml.attributeMapping.email": ok("sso.saml.attributeMapping.email"),
        "auth.saml.attributeMapping.groups": ok("sso.saml.attributeMapping.groups"),
    },
    "001_sso_oidc.yaml": {
        "auth": ok("auth"),
        "auth.provider": ok("sso.default_protocol"),
        "auth.oidc": ok("sso.oidc"),
        "auth.oidc.issuer": ok("sso.oidc.issuer"),
        "auth.oidc.clientId": ok("sso.oidc.client_id"),
        "auth.oidc.clientSecret": ok("sso.oidc.client_secret"),
        "auth.oidc.redirectUri": ok("sso.oidc.redirect_uri"),
        "auth.oidc.scopes": ok("sso.oidc.scopes"),
    },
    "001_rbac.yaml": {
        "rbac": ok("rbac"),
        "rbac.roles": ok("rbac.roles"),
        "rbac.roles.<role>": ok("rbac.roles.<role>"),
        "rbac.roles.<role>.description": ok("rbac.roles.<role>.description"),
        "rbac.roles.<role>.permissions": ok("rbac.roles.<role>.permissions"),
        "rbac.groupMappings": ok("rbac.groupMappings"),
        "rbac.groupMappings.<group>": ok("rbac.groupMappings['<group>']"),
    },
    "001_audit.yaml": {
        "audit": ok("audit"),
        "audit.enabled": ok("audit.enabled"),
        "audit.backend": ok("store.backend"),
        "audit.connectionString": ok("store.url"),
        "audit.retentionDays": ok("audit.retain_days"),
        "audit.logLevel": ok("audit.log_level"),
        "audit.piiFields": ok("audit.piiFields"),
        "audit.piiHandling": ok("audit.piiHandling"),
    },
    "001_audit_siem.yaml": {
        "audit": ok("audit"),
        "audit.siem": ok("audit.siem"),
        "audit.siem.enabled": ok("audit.siem.enabled"),
        "audit.siem.endpoint": ok("audit.siem.endpoint"),
        "audit.siem.format": ok("audit.siem.format"),
        "audit.siem.apiKey": ok("audit.siem.apiKey"),
    },
    "001_data_residency.yaml": {
        "dataResidency": COVERED,  # answered key by key
        "dataResidency.region": "dataResidency.region: use models.allowed_regions instead "
                                "(every provider must then declare a region from that list)",
        "dataResidency.providers": COVERED,
        "dataResidency.providers.anthropic": COVERED,
        "dataResidency.providers.anthropic.apiEndpoint":
            "dataResidency.providers.anthropic.apiEndpoint: use models.providers[].base_url "
            "instead (of the provider with that name)",
        "dataResidency.providers.anthropic.dataProcessingRegion":
            "dataResidency.providers.anthropic.dataProcessingRegion: use "
            "models.providers[].region instead (of the provider with that name)",
        "dataResidency.storageRegion": "dataResidency.storageRegion: use gateway.data_dir "
                                       "instead (the store and the memory documents live "
                                       "there: keep it on storage in that region)",
        "dataResidency.logStorageRegion": "dataResidency.logStorageRegion: use audit.log_path "
                                          "instead (the audit trail lives in the store and in "
                                          "that file: keep both in that region)",
    },
    "001_cluster.yaml": {
        "cluster": "cluster is not available in this build: " + CLUSTER + "; " + SINGLE,
        "cluster.enabled": COVERED,
        "cluster.nodeId": COVERED,
        "cluster.redis": COVERED,
        "cluster.redis.url": COVERED,
        "cluster.redis.tls": COVERED,
        "sessionStore": "sessionStore is not available in this build: " + CLUSTER +
                        " as cluster.redis; sessions are kept in the gateway's store",
        "workspaceStore": "workspaceStore is not available in this build: " + CLUSTER +
                          " as cluster.redis; namespaces and memory documents are kept in the "
                          "data directory",
    },
    "001_cost_management.yaml": {
        "costManagement": ok("costManagement"),
        "costManagement.enabled": ok("costManagement.enabled"),
        "costManagement.currency": ok("costManagement.currency"),
        "costManagement.budgets": ok("costManagement.budgets"),
        "costManagement.budgets.<workspace>": ok("costManagement.budgets.<workspace>"),
        "costManagement.budgets.<workspace>.monthlyUsdLimit":
            ok("costManagement.budgets.<workspace>.monthlyUsdLimit"),
        "costManagement.budgets.<workspace>.onExceed":
            ok("costManagement.budgets.<workspace>.onExceed"),
        "costManagement.alertEmail": ok("costManagement.alertEmail"),
        "costManagement.alertThreshold": ok("costManagement.alertThreshold"),
    },
    "003_gateway.yaml": {
        "gateway": ok("gateway"),
        "gateway.port": ok("gateway.port"),
        "gateway.tls": ok("gateway.tls"),
        "gateway.tls_cert": ok("gateway.tls_cert"),
        "gateway.tls_key": ok("gateway.tls_key"),
        "auth": ok("auth"),
        "auth.tokens": ok("auth.tokens"),
        "auth.tokens.id": ok("auth.tokens[].id"),
        "auth.tokens.token": ok("auth.tokens[].token"),
        "auth.tokens.scopes": ok("auth.tokens[].scopes"),
        "audit": ok("audit"),
        "audit.enabled": ok("audit.enabled"),
        "audit.log_path": ok("audit.log_path"),
        "audit.log_level": ok("audit.log_level"),
    },
    "003_agent.yaml": {
        "agent": "agent: use agents instead (a list: each agent: block of seed 003 is one item)",
        "agent.name": COVERED,
        "agent.channel": COVERED,
        "agent.memory_path": COVERED,
    },
    "003_namespaces.yaml": {
        "namespaces": ok("namespaces"),
        "namespaces.<ns>": ok("namespaces.<ns>"),
        "namespaces.<ns>.shared_memory_path": ok("namespaces.<ns>.shared_memory_path"),
    },
    "003_audit.yaml": {
        "audit": ok("audit"),
        "audit.enabled": ok("audit.enabled"),
        "audit.log_path": ok("audit.log_path"),
        "audit.rotate_daily": ok("audit.rotate_daily"),
        "audit.retain_days": ok("audit.retain_days"),
        "audit.export_format": ok("audit.export_format"),
        "audit.log_content": ok("audit.log_content"),
    },
}

# Messages about a mapping as a whole, at its first line: what the house needs besides.
SECTION = {
    "001_sso_saml.yaml": {
        "auth.saml": [
            "sso.saml.idp_metadata is required (the IdP's SAML metadata file)",
            "sso.saml.sp_key_file and sso.saml.sp_cert_file are required (the SP signs its "
            "requests and publishes the certificate in its metadata)",
        ],
    },
}

# Keys whose names vary (role names, groups, workspaces, namespaces) are matched by pattern.
NAMES = {
    "001_rbac.yaml": [("rbac.roles.", "<role>"), ("rbac.groupMappings.", "<group>")],
    "001_cost_management.yaml": [("costManagement.budgets.", "<workspace>")],
    "003_namespaces.yaml": [("namespaces.", "<ns>")],
}


def _generic(fixture, path):
    """path with its variable component replaced: rbac.roles.admin.description ->
    rbac.roles.<role>.description; the name itself in *name."""
    for prefix, placeholder in NAMES.get(fixture, []):
        if path.startswith(prefix) and len(path) > len(prefix):
            rest = path[len(prefix):]
            name, sep, tail = rest.partition(".")
            return prefix + placeholder + sep + tail, name
    return path, None


def _check(path):
    env = dict(os.environ)
    env.update(ENV)
    p = subprocess.run([gwtest.GATEWAY_BIN, "--check-config", "--config", path], env=env,
                       capture_output=True, timeout=10)
    msgs = []
    prefix = re.escape(path) + r":(\d+): (.*)"
    for line in p.stderr.decode("utf-8", "replace").splitlines():
        m = re.match(prefix, line)
        if m:
            msgs.append((int(m.group(1)), m.group(2)))
    return p.returncode, msgs


def _fixtures():
    names = sorted(f for f in os.listdir(FIXTURES) if f.endswith(".yaml"))
    assert names == sorted(OUTCOMES), "fixtures %s, outcomes for %s" % (names, sorted(OUTCOMES))
    return names


def _keys(fixture):
    with open(os.path.join(FIXTURES, fixture)) as f:
        text = f.read()
    return text, cfgkeys.yaml_keys(text)


def test_every_fixture_key_has_an_outcome():
    for fixture in _fixtures():
        _, keys = _keys(fixture)
        missing = sorted({_generic(fixture, p)[0] for p, _ in keys} - set(OUTCOMES[fixture]))
        unused = sorted(set(OUTCOMES[fixture]) - {_generic(fixture, p)[0] for p, _ in keys})
        assert not missing and not unused, "%s: keys without an outcome %s; outcomes of no key %s" \
            % (fixture, missing, unused)


def test_seed_blocks_as_written():
    for fixture in _fixtures():
        text, keys = _keys(fixture)
        expected = []
        for path, line in keys:
            outcome = OUTCOMES[fixture][_generic(fixture, path)[0]]
            if isinstance(outcome, str) and outcome != COVERED:
                expected.append((line, outcome))
        for mapping, msgs in SECTION.get(fixture, {}).items():
            first = min(line for p, line in keys if p.startswith(mapping + "."))
            expected += [(first, m) for m in msgs]
        rc, got = _check(os.path.join(FIXTURES, fixture))
        assert sorted(got) == sorted(expected), "%s:\n  expected %s\n  got      %s" % (
            fixture, "\n           ".join(map(repr, sorted(expected))),
            "\n           ".join(map(repr, sorted(got))))
        assert rc == (78 if expected else 0), "%s: exit %d" % (fixture, rc)


def _with_values(text, lines, value):
    """text with the value of the key at each of lines replaced by value; the lines of its
    block are emptied, so that every line keeps its number."""
    out = text.split("\n")
    for line in lines:
        m = re.match(r'(\s*((?:- )*)(?:"[^"]*"|[^:\s]+)\s*:)', out[line - 1])
        indent = len(m.group(1)) - len(m.group(1).lstrip()) + len(m.group(2))
        out[line - 1] = m.group(1) + " " + value
        end = line
        while end < len(out) and (not out[end].strip() or
                                  len(out[end]) - len(out[end].lstrip()) > indent):
            out[end] = ""
            end += 1
    return "\n".join(out)


def test_accepted_keys_land_on_their_house_key():
    # one run per fixture and depth: keys of one depth are never inside one another
    d = gwtest.tempdir()
    checked = 0
    for fixture in _fixtures():
        text, keys = _keys(fixture)
        rounds = {}
        for path, line in keys:
            generic, name = _generic(fixture, path)
            outcome = OUTCOMES[fixture][generic]
            if isinstance(outcome, tuple):
                pattern = re.escape(outcome[1]).replace(r"\[\]", r"\[\d+\]")
                for _, placeholder in NAMES.get(fixture, []):
                    pattern = pattern.replace(re.escape(placeholder), re.escape(name or ""))
                rounds.setdefault(path.count("."), []).append((path, line, outcome[1], pattern))
        for depth, items in sorted(rounds.items()):
            probe = os.path.join(d, fixture)
            with open(probe, "w") as f:
                f.write(_with_values(text, [line for _, line, _, _ in items], "{zz_probe: 1}"))
            rc, got = _check(probe)
            for path, line, house, pattern in items:
                at = [m for n, m in got if n == line]
                assert rc == 78 and any(re.search(r"(^|\W)%s(\W|$)" % pattern, m) for m in at), \
                    "%s:%d %s: a mapping as its value gives no message naming %s: %s" % (
                        fixture, line, path, house, at or got)
                checked += 1
    assert checked >= 60, "only %d accepted keys checked" % checked


def test_seed_json_as_it_is():
    # JSON is YAML: a block pasted as the seed prints it (seed 001's OIDC block) is read the same
    block = {"auth": {"provider": "oidc", "oidc": {
        "issuer": "https://accounts.yourcompany.com", "clientId": "${OIDC_CLIENT_ID}",
        "clientSecret": "${OIDC_CLIENT_SECRET}",
        "redirectUri": "https://openclaw.yourcompany.com/auth/callback",
        "scopes": ["openid", "email", "profile", "groups"]}}}
    path = os.path.join(gwtest.tempdir(), "gateway.json")
    with open(path, "w") as f:
        json.dump(block, f, indent=2)
    rc, got = _check(path)
    assert rc == 0 and not got, "seed 001's OIDC block as JSON: exit %d %r" % (rc, got)
    block["auth"]["oidc"]["clientID"] = "x"
    with open(path, "w") as f:
        json.dump(block, f, indent=2)
    rc, got = _check(path)
    assert rc == 78 and [m for _, m in got] == [
        "unknown key 'clientID' in sso.oidc: did you mean 'client_id'? (valid keys: issuer, "
        "client_id, client_secret, client_secret_file, auth_method, redirect_uri, scopes, claims, "
        "allowed_algs, clock_skew_s, jwks_cache_s, userinfo, accept_bearer_jwt, bearer_audience, "
        "post_logout_redirect_uri, ca_file, timeout_ms, client_key_file, client_key_id, "
        "bearer_validation, introspection_cache_s)"], "a misspelt seed key: %r" % got


def test_docs_list_every_seed_key():
    with open(os.path.join(gwtest.SOURCE_DIR, "docs", "CONFIG.md")) as f:
        doc = f.read()
    section = doc[doc.index("## Aliases and seed keys"):]
    section = section[:section.index("\n## ", 4)]
    listed = re.findall(r"`([^`]+)`", section)
    missing = []
    for fixture in _fixtures():
        paths = [p for p, _ in _keys(fixture)[1]]
        for path in paths:
            outcome = OUTCOMES[fixture][_generic(fixture, path)[0]]
            parent = any(p.startswith(path + ".") for p in paths)
            if outcome == COVERED or (parent and isinstance(outcome, tuple)):
                continue  # a mapping taken as it is: its keys are listed
            if not any(cfgkeys.matches(t, path) for t in listed):
                missing.append("%s (%s)" % (path, fixture))
    assert not missing, "docs/CONFIG.md 'Aliases and seed keys' does not list " + \
        ", ".join(sorted(set(missing)))


if __name__ == "__main__":
    gwtest.main(globals())
