# SPDX-License-Identifier: MIT
"""cfgkeys — the keys of a gateway.yaml and of docs/CONFIG.md's key tables, as dotted paths.

Python's standard library has no YAML parser, and the checks need the commented-out parts of
gateway.example.yaml too, so this reads the block-style YAML the repository writes, line by
line: a key is `name:` (or `"quoted name":`) at the start of a line or of a `- ` list item, its
parent the nearest key above with less indentation; `{a: 1, b: {c: 2}}` flow mappings on one
line add their keys under the key they are the value of. Lines that are comments are read as
YAML with the `#` removed (`#   oidc:` is `oidc` two columns deeper than `# sso:`), so
commented-out configuration counts; prose comments can only add paths nobody asks for. List
items add no component: `auth.tokens[].id` is `auth.tokens.id`.
"""

import re

_KEY = re.compile(r'(?:"([^"]*)"|([A-Za-z_][A-Za-z0-9_.-]*))\s*:(?:\s|$)')


def _uncomment(line):
    """(indent, text) of a line, comment markers removed and their columns kept."""
    indent = 0
    while True:
        stripped = line.lstrip(" ")
        indent += len(line) - len(stripped)
        if not stripped.startswith("#"):
            return indent, stripped
        line = stripped[1:]
        if line.startswith(" "):
            line = line[1:]


def _strip_comment(text):
    """text without a trailing ` # comment` (outside quotes)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and i > 0 and text[i - 1] in " \t":
            return text[:i]
    return text


def _flow_tokens(text):
    """The flow-style tokens of text: '{', '}', '[', ']', ',', ':' and scalars (as str)."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "{}[],":
            yield ("sym", ch)
            i += 1
        elif ch == ":" and (i + 1 == len(text) or text[i + 1] in " ,}]"):
            yield ("sym", ":")
            i += 1
        elif ch in "\"'":
            j = text.find(ch, i + 1)
            j = len(text) if j < 0 else j
            yield ("str", text[i + 1:j])
            i = j + 1
        else:  # a plain scalar: a ':' inside it (URLs, llama3.1:8b) is not an indicator
            m = re.match(r"(?:[^,{}\[\]:]|:(?![\s,}\]]|$))+", text[i:])
            yield ("str", m.group(0).strip())
            i += len(m.group(0))


def _flow_keys(text, base, out, line):
    """Keys of the flow collection text (a value on one line), added under the path base."""
    tokens = list(_flow_tokens(text))
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else ("end", None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def value(path):
        kind, tok = take()
        if (kind, tok) == ("sym", "{"):
            while peek() not in (("sym", "}"), ("end", None)):
                k = take()
                if k[0] != "str":
                    continue
                out.append((".".join(path + [k[1]]), line))
                if peek() == ("sym", ":"):
                    take()
                    if peek()[0] == "str" or peek() in (("sym", "{"), ("sym", "[")):
                        value(path + [k[1]])
                if peek() == ("sym", ","):
                    take()
            take()
        elif (kind, tok) == ("sym", "["):
            while peek() not in (("sym", "]"), ("end", None)):
                value(path)  # list items add no component
                if peek() == ("sym", ","):
                    take()
            take()

    value(list(base))


def yaml_keys(text):
    """[(dotted path, line number)] of every key in text, commented-out ones included."""
    out, stack = [], []  # stack of (indent, key)
    for number, raw in enumerate(text.splitlines(), 1):
        indent, body = _uncomment(raw)
        body = _strip_comment(body).rstrip()
        while body.startswith("- "):  # list items: the mapping starts after the dash
            indent += 2
            body = body[2:].lstrip()
        if body.startswith("{"):  # a list item that is a flow mapping
            while stack and stack[-1][0] >= indent:
                stack.pop()
            _flow_keys(body, [k for _, k in stack], out, number)
            continue
        m = _KEY.match(body)
        if not m:
            continue
        key = m.group(1) if m.group(1) is not None else m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = [k for _, k in stack] + [key]
        out.append((".".join(path), number))
        value = body[m.end():].strip()
        if value.startswith("{"):
            _flow_keys(value, path, out, number)
        stack.append((indent, key))
    return out


def doc_keys(markdown):
    """[(dotted path, line)] of docs/CONFIG.md's key tables.

    A key table starts with a `| key |` header row under a heading that names its section in
    backticks (`## \\`gateway\\``, `### \\`auth.tokens[]\\``); its rows' first cells name keys
    relative to it, `a.b` / `c` meaning a.b and a.c. `[]` stays in the paths (list items);
    `<name>` stands for any name; a `.*` row is the section the row names."""
    out, section, in_table = [], None, False
    for number, line in enumerate(markdown.splitlines(), 1):
        m = re.match(r"#{2,4} (.*)", line)
        if m:
            h = re.fullmatch(r"`([^`]+)`", m.group(1).strip())
            section, in_table = (h.group(1) if h else None), False
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "key":
            in_table = section is not None
            continue
        if not in_table or set(cells[0]) <= set("-: "):
            continue
        names = re.findall(r"`([^`]+)`", cells[0])
        if not names:
            continue
        first = names[0]
        parent = first.rsplit(".", 1)[0] + "." if "." in first else ""
        for i, name in enumerate(names):
            rel = name if i == 0 else parent + name
            if rel.endswith(".*"):
                rel = rel[:-2]
            out.append((section + "." + rel, number))
    return out


def plain(path):
    """The path without list markers: auth.tokens[].id is auth.tokens.id."""
    return path.replace("[]", "")


def matches(pattern, path):
    """pattern (a documented path, `<name>` matching any component) names path."""
    a, b = plain(pattern).split("."), path.split(".")
    return len(a) == len(b) and all(x == y or (x.startswith("<") and x.endswith(">"))
                                    for x, y in zip(a, b))
