# SPDX-License-Identifier: MIT
"""docs/CONFIG.md, gateway.example.yaml and the loader agree on every key.

- gateway.example.yaml passes `openclaw-gateway --check-config` as written, in an environment
  without any of the variables it names, and the daemon serves it;
- every key of docs/CONFIG.md's key tables appears in the example (commented-out sections
  count: an IdP, secrets or an OPA server cannot be part of a file valid as written);
- for every section the tables document, the keys the loader takes are exactly the documented
  ones: the daemon is asked with a key it cannot know (`zz_probe`) and its answer lists the
  section's valid keys.
"""

import json
import os
import re
import subprocess

import cfgkeys
import gwtest

CONFIG_MD = os.path.join(gwtest.SOURCE_DIR, "docs", "CONFIG.md")
EXAMPLE = os.path.join(gwtest.SOURCE_DIR, "gateway.example.yaml")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _check(text_or_path, cwd):
    """(exit status, stderr) of --check-config with an environment of PATH alone."""
    path = text_or_path
    if "\n" in text_or_path or text_or_path.startswith("{"):
        path = os.path.join(cwd, "probe.yaml")
        with open(path, "w") as f:
            f.write(text_or_path + "\n")
    p = subprocess.run([gwtest.GATEWAY_BIN, "--check-config", "--config", path], cwd=cwd,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                       capture_output=True, timeout=10)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_example_valid_as_written():
    names = sorted(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", _read(EXAMPLE))))
    rc, err = _check(EXAMPLE, gwtest.tempdir())
    assert rc == 0, "gateway.example.yaml is refused as written (variables it names: %s): %s" % (
        ", ".join(names), err[-2000:])


def test_example_starts_as_written():
    g = gwtest.Gateway(config_text=_read(EXAMPLE)).start()
    try:
        token = g.bootstrap_token()
        assert token, "no bootstrap token in the banner: %r" % g.stdout()[-500:]
        r = g.get("/api/v1/agents", token=token)
        assert r.status == 200, "agents with the bootstrap token: %r" % r
        names = {a.get("name") for a in r.json().get("agents", [])}
        assert {"engineering/code-reviewer", "marketing/content-writer"} <= names, \
            "the example's agents are not served: %r" % sorted(names)
    finally:
        g.stop()


def test_example_shows_every_documented_key():
    documented = cfgkeys.doc_keys(_read(CONFIG_MD))
    assert len(documented) > 150, "docs/CONFIG.md key tables not found (%d keys)" % len(documented)
    shown = [p for p, _ in cfgkeys.yaml_keys(_read(EXAMPLE))]
    missing = ["%s (CONFIG.md line %d)" % (k, line) for k, line in documented
               if not any(cfgkeys.matches(k, p) for p in shown)]
    assert not missing, "documented in docs/CONFIG.md but missing from gateway.example.yaml: " + \
        ", ".join(missing)


def _documented_sections():
    """{section path (with [] and <name>): set of documented keys}, "" for the top level."""
    sections = {}
    for path, _ in cfgkeys.doc_keys(_read(CONFIG_MD)):
        parts = path.split(".")
        for i in range(len(parts)):
            key = parts[i][:-2] if parts[i].endswith("[]") else parts[i]
            if key.startswith("<"):
                continue
            sections.setdefault(".".join(parts[:i]), set()).add(key)
    return sections


def _probe_document(section):
    """A configuration whose only key under section is zz_probe, as JSON (which is YAML)."""
    doc = {"zz_probe": 1}
    for part in reversed(section.split(".") if section else []):
        if part.endswith("[]"):
            doc = {part[:-2]: [doc]}
        elif part.startswith("<"):
            doc = {"probe": doc}
        else:
            doc = {part: doc}
    return json.dumps(doc)


def test_loader_takes_exactly_the_documented_keys():
    d = gwtest.tempdir()
    problems = []
    sections = _documented_sections()
    assert {"", "gateway", "sso.oidc", "auth.tokens[]", "models.providers[].models[]"} <= \
        set(sections), "sections read from docs/CONFIG.md: %s" % sorted(sections)
    for section, keys in sorted(sections.items()):
        rc, err = _check(_probe_document(section), d)
        m = re.search(r"unknown key 'zz_probe' in [^\n]*\(valid keys: ([^)\n]*)\)", err)
        if rc != 78 or not m:
            problems.append("%s: no unknown-key answer for the probe: %s" % (section or "top level",
                                                                             err[-300:]))
            continue
        valid = set(m.group(1).split(", "))
        if valid != keys:
            problems.append("%s: the loader takes %s; docs/CONFIG.md documents %s" % (
                section or "top level", sorted(valid - keys) or "nothing more",
                sorted(keys - valid) or "nothing more"))
    assert not problems, "\n  ".join([""] + problems)


if __name__ == "__main__":
    gwtest.main(globals())
