# SPDX-License-Identifier: MIT
"""apicontract — checks the gateway's answers against its OpenAPI document (docs/openapi.json).

gwtest.http_request passes every answer it receives here: when the request's method and path
name a documented operation, the status must be one of its responses (its "default" covers errors only), the
Content-Type one of that response's media types, a required response header present, and a
JSON body (each line of an NDJSON body; each event of a text/event-stream body against the
schema of its name in the media type's "x-openclaw-events") valid against the schema. A mismatch raises
AssertionError in the test that received the answer. With GWTEST_CONTRACT_LOG=<file>, each
checked answer appends "METHOD /path/template status" to that file (what the suite covers). Paths under a tenant prefix
("/research/api/v1/...") are matched without it.

The JSON Schema subset (2020-12 keywords, as OpenAPI 3.1 uses them): $ref (local), type (one
or a list), enum, const, properties, required, additionalProperties, items, minItems,
maxItems, minLength, maxLength, pattern, minimum, maximum, allOf, anyOf, oneOf. Python 3
standard library only.
"""

import json
import os
import re
from urllib.parse import unquote

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Contract:
    def __init__(self, doc):
        self.doc = doc
        # (literal segment count, method, template segments, rest, template, operation); rest:
        # the last variable takes the rest of the path, '/' included (x-openclaw-rest)
        self.ops = []
        for template, item in doc.get("paths", {}).items():
            segs = template.split("/")[1:]
            literals = sum(1 for s in segs if not s.startswith("{"))
            for method, op in item.items():
                if method in ("get", "put", "post", "delete", "patch"):
                    rest = "{%s}" % rest_parameter(op) == segs[-1]
                    self.ops.append((literals, method.upper(), segs, rest, template, op))
        self.ops.sort(key=lambda o: -o[0])  # a literal segment wins over a variable

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def operation(self, method, path):
        """(template, operation) documented for this request, or None."""
        method = "GET" if method == "HEAD" else method
        segs = [unquote(s) for s in path.split("?", 1)[0].split("/")[1:]]
        for candidate in (segs, segs[1:]):  # as sent, then without a tenant path prefix
            for _, m, tsegs, rest, template, op in self.ops:
                got = candidate
                if rest and len(got) > len(tsegs):
                    got = got[:len(tsegs) - 1] + ["/".join(got[len(tsegs) - 1:])]
                if m == method and len(tsegs) == len(got) and all(
                        t == s or (t.startswith("{") and s) for t, s in zip(tsegs, got)):
                    return template, op
        return None

    def check(self, method, path, status, headers, body):
        """Problems of one answer (a list of strings; empty when it conforms)."""
        found = self.operation(method, path)
        if not found:
            return []
        template, op = found
        where = "%s %s (%s) answered %d" % (method, path, template, status)
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get("%dXX" % (status // 100))
        if resp is None and status >= 400:  # "default" documents the errors, not successes
            resp = responses.get("default")
        if resp is None:
            return ["%s: status not documented (documented: %s)"
                    % (where, ", ".join(sorted(responses)))]
        resp = self.resolve(resp)
        hdrs = {k.lower(): v for k, v in headers}
        problems = ["%s: header %s missing" % (where, name)
                    for name, h in resp.get("headers", {}).items()
                    if self.resolve(h).get("required") and name.lower() not in hdrs]
        content = resp.get("content")
        if method == "HEAD" or status in (204, 304) or (not body and not content):
            return problems
        if not content:
            return problems + ["%s: a body where the document has none" % where]
        ctype = hdrs.get("content-type", "").split(";")[0].strip().lower()
        media = content.get(ctype)
        if media is None:
            return problems + ["%s: Content-Type %r not documented (documented: %s)"
                               % (where, ctype, ", ".join(content))]
        texts = body.decode("utf-8", "replace")
        if ctype == "text/event-stream" and "x-openclaw-events" in media:
            return problems + self.check_events(where, texts, media["x-openclaw-events"])
        schema = media.get("schema")
        if schema is None or not (ctype.endswith("json")):
            return problems
        docs = [ln for ln in texts.split("\n") if ln.strip()] if ctype == "application/x-ndjson" \
            else [texts]
        for text in docs:
            try:
                value = json.loads(text)
            except ValueError as e:
                return problems + ["%s: body is not JSON (%s): %r" % (where, e, text[:200])]
            errs = []
            self.validate(value, schema, "$", errs)
            problems += ["%s: %s" % (where, e) for e in errs[:5]]
        return problems

    def check_events(self, where, text, schemas):
        """Server-sent events: each event's data (JSON, or "[DONE]") against the schema of its
        name ("message" when it has none) in the media type's x-openclaw-events."""
        problems = []
        for block in text.replace("\r\n", "\n").split("\n\n"):
            name, data = "message", []
            for line in block.split("\n"):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
            if not data or data == ["[DONE]"]:
                continue
            if name not in schemas:
                problems.append("%s: event %r not documented" % (where, name))
                continue
            try:
                value = json.loads("\n".join(data))
            except ValueError as e:
                problems.append("%s: event %r is not JSON (%s)" % (where, name, e))
                continue
            errs = []
            self.validate(value, schemas[name], "event %s: $" % name, errs)
            problems += ["%s: %s" % (where, e) for e in errs[:5]]
        return problems[:10]

    # --- JSON Schema (the subset above) -------------------------------------------------------

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), "only local references are supported: %s" % ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def validate(self, v, schema, at, errs):
        if schema is True or schema == {}:
            return
        if schema is False:
            errs.append("%s: no value is allowed here" % at)
            return
        s = self.resolve(schema)
        n = len(errs)
        t = s.get("type")
        if t is not None:
            kinds = t if isinstance(t, list) else [t]
            if not any(_TYPES[k](v) for k in kinds):
                errs.append("%s: expected %s, got %s" % (at, "|".join(kinds), _show(v)))
                return
        if "const" in s and v != s["const"]:
            errs.append("%s: expected %r, got %s" % (at, s["const"], _show(v)))
        if "enum" in s and v not in s["enum"]:
            errs.append("%s: %s is not one of %r" % (at, _show(v), s["enum"]))
        if isinstance(v, str):
            if len(v) < s.get("minLength", 0) or len(v) > s.get("maxLength", len(v)):
                errs.append("%s: length %d out of bounds" % (at, len(v)))
            if "pattern" in s and not re.search(s["pattern"], v):
                errs.append("%s: %r does not match %s" % (at, v[:80], s["pattern"]))
        if _TYPES["number"](v):
            if "minimum" in s and v < s["minimum"]:
                errs.append("%s: %r is below %r" % (at, v, s["minimum"]))
            if "maximum" in s and v > s["maximum"]:
                errs.append("%s: %r is above %r" % (at, v, s["maximum"]))
        if isinstance(v, list):
            if len(v) < s.get("minItems", 0) or len(v) > s.get("maxItems", len(v)):
                errs.append("%s: %d items out of bounds" % (at, len(v)))
            if "items" in s:
                for i, item in enumerate(v):
                    self.validate(item, s["items"], "%s[%d]" % (at, i), errs)
        if isinstance(v, dict):
            props = s.get("properties", {})
            for k in s.get("required", []):
                if k not in v:
                    errs.append("%s: member %r missing" % (at, k))
            extra = s.get("additionalProperties", True)
            for k, item in v.items():
                if k in props:
                    self.validate(item, props[k], "%s.%s" % (at, k), errs)
                elif extra is False:
                    errs.append("%s: member %r is not documented" % (at, k))
                elif extra is not True:
                    self.validate(item, extra, "%s.%s" % (at, k), errs)
        for sub in s.get("allOf", []):
            self.validate(v, sub, at, errs)
        for key, want in (("anyOf", None), ("oneOf", 1)):
            if key not in s:
                continue
            ok, closest = 0, None
            for sub in s[key]:
                e = []
                self.validate(v, sub, at, e)
                ok += not e
                closest = e if closest is None or len(e) < len(closest) else closest
            if ok == 0 or (want and ok != want):
                errs.append("%s: %s matches %d of the %s alternatives%s" % (
                    at, _show(v), ok, key, " (closest: %s)" % closest[0] if closest else ""))
        del errs[n + 5:]


def rest_parameter(op):
    """The name of the operation's path parameter that takes the rest of the path, or None."""
    return next((p["name"] for p in op.get("parameters", [])
                 if p.get("in") == "path" and p.get("x-openclaw-rest")), None)


def _show(v):
    text = json.dumps(v)
    return text if len(text) <= 80 else text[:77] + "..."


SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_loaded = None


def contract(source_dir=SOURCE_DIR):
    """The repository's document, loaded once per process."""
    global _loaded
    if _loaded is None:
        _loaded = Contract.load(os.path.join(source_dir, "docs", "openapi.json"))
    return _loaded


def check(source_dir, method, path, response):
    """Raises AssertionError when the answer (a gwtest.Response) does not conform."""
    check_parts(method, path, response.status, response.headers, response.body, source_dir)


def check_parts(method, path, status, headers, body, source_dir=SOURCE_DIR):
    """The same for an answer in parts: headers as (name, value) pairs; path may be a URL."""
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    c = contract(source_dir)
    problems = c.check(method, path, status, headers, body)
    log = os.environ.get("GWTEST_CONTRACT_LOG")
    found = c.operation(method, path) if log else None
    if found:  # which operations and statuses the suite exercised
        with open(log, "a") as f:
            f.write("%s %s %d\n" % ("GET" if method == "HEAD" else method, found[0], status))
    if problems:
        raise AssertionError("answer does not match docs/openapi.json: " + "; ".join(problems))
