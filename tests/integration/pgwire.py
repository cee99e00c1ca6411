# SPDX-License-Identifier: MIT
"""pgwire — just enough of PostgreSQL's frontend/backend protocol (version 3) for the tests to
look into the gateway's database the way they look into SQLite with the sqlite3 module: connect
over the Unix socket of the test cluster with trust authentication (tests/pg/cluster.sh), run
simple queries, read typed rows. Python 3 standard library only.

    c = pgwire.connect("host=/tmp/x user=postgres dbname=gw", search_path="g_ab12")
    n = c.execute("SELECT COUNT(*) FROM messages WHERE tenant = ?", ("acme",)).fetchone()[0]

Parameters are given as "?" like sqlite3 and sent as SQL literals (the tests' own values; the
server runs with standard_conforming_strings on, so quoting doubles single quotes only).
"""

import os
import socket
import struct

_INT = {20, 21, 23, 26}
_FLOAT = {700, 701}
_NUMERIC = 1700
_BOOL = 16


class Error(Exception):
    """An ErrorResponse: .sqlstate and the server's message."""

    def __init__(self, fields):
        self.sqlstate = fields.get("C", "")
        super().__init__("%s %s" % (self.sqlstate, fields.get("M", "")))


def parse_conninfo(text):
    out = {}
    for part in text.split():
        k, _, v = part.partition("=")
        out[k] = v.strip("'")
    return out


def literal(v):
    if v is None:
        return "NULL"
    if v is True or v is False:
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def substitute(sql, params):
    """sql with each ? outside quotes replaced by the next parameter's literal."""
    if not params:
        return sql
    out, it, quote = [], iter(params), None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
            out.append(ch)
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append(literal(next(it)))
        else:
            out.append(ch)
    return "".join(out)


class Row(tuple):
    """A tuple that also answers row["column"] and dict(row), like sqlite3.Row."""

    def __new__(cls, values, names):
        r = super().__new__(cls, values)
        r._names = names
        return r

    def keys(self):
        return list(self._names)

    def __getitem__(self, k):
        if isinstance(k, str):
            return tuple.__getitem__(self, self._names.index(k))
        return tuple.__getitem__(self, k)


class Cursor:
    def __init__(self, rows, rowcount):
        self.rows = rows
        self.rowcount = rowcount

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return list(self.rows)

    def __iter__(self):
        return iter(self.rows)


def _convert(oid, raw):
    if raw is None:
        return None
    s = raw.decode("utf-8")
    if oid in _INT:
        return int(s)
    if oid in _FLOAT:
        return float(s)
    if oid == _NUMERIC:
        return int(s) if s.lstrip("-").isdigit() else float(s)
    if oid == _BOOL:
        return s == "t"
    return s


class Connection:
    def __init__(self, conninfo, search_path=None, timeout=10.0):
        p = parse_conninfo(conninfo)
        host = p.get("host", "/var/run/postgresql")
        port = int(p.get("port", "5432"))
        if host.startswith("/"):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(os.path.join(host, ".s.PGSQL.%d" % port))
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        params = {"user": p.get("user", "postgres"), "database": p.get("dbname", "postgres"),
                  "client_min_messages": "warning"}
        if search_path:
            params["options"] = "-csearch_path=%s" % search_path
        body = struct.pack("!i", 196608) + b"".join(
            k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self._buf = b""
        while True:
            t, data = self._read()
            if t == b"R" and struct.unpack("!i", data[:4])[0] != 0:
                raise Error({"M": "the test cluster must use trust authentication"})
            if t == b"E":
                raise Error(self._fields(data))
            if t == b"Z":
                break

    def _recv(self, n):
        while len(self._buf) < n:
            b = self.sock.recv(65536)
            if not b:
                raise Error({"M": "server closed the connection"})
            self._buf += b
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _read(self):
        t = self._recv(1)
        n = struct.unpack("!i", self._recv(4))[0]
        return t, self._recv(n - 4)

    @staticmethod
    def _fields(data):
        out = {}
        for part in data.split(b"\0"):
            if part:
                out[chr(part[0])] = part[1:].decode("utf-8", "replace")
        return out

    def execute(self, sql, params=()):
        q = substitute(sql, params).encode("utf-8") + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(q) + 4) + q)
        rows, names, oids, rowcount, err = [], [], [], -1, None
        while True:
            t, data = self._read()
            if t == b"T":
                names, oids, off = [], [], 2
                for _ in range(struct.unpack("!h", data[:2])[0]):
                    end = data.index(b"\0", off)
                    names.append(data[off:end].decode())
                    oids.append(struct.unpack("!i", data[end + 7:end + 11])[0])
                    off = end + 19
            elif t == b"D":
                vals, off = [], 2
                for i in range(struct.unpack("!h", data[:2])[0]):
                    n = struct.unpack("!i", data[off:off + 4])[0]
                    off += 4
                    raw = None if n < 0 else data[off:off + n]
                    off += max(n, 0)
                    vals.append(_convert(oids[i], raw))
                rows.append(Row(vals, names))
            elif t == b"C":
                tag = data.rstrip(b"\0").split()
                rowcount = int(tag[-1]) if tag and tag[-1].isdigit() else -1
            elif t == b"E":
                err = Error(self._fields(data))
            elif t == b"Z":
                break
        if err:
            raise err
        return Cursor(rows, rowcount)

    def commit(self):
        pass

    def close(self):
        try:
            self.sock.sendall(b"X" + struct.pack("!i", 4))
        except OSError:
            pass
        self.sock.close()


def connect(conninfo, search_path=None, timeout=10.0):
    return Connection(conninfo, search_path, timeout)
