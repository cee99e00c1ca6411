# SPDX-License-Identifier: MIT
"""redis_server — a real Debian redis-server for the tests: loopback, a free port, a temporary
directory, no persistence; optionally TLS only (`tls-port`, the plain port off) with a CA and a
server certificate for 127.0.0.1 made here with openssl. Python 3 standard library only."""

import atexit
import os
import socket
import subprocess
import time

import gwtest


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d, san="IP:127.0.0.1,DNS:localhost"):
    """A CA and a server certificate for san; returns (ca, cert, key)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test redis CA",
             cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=%s\n" % san)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    return (os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))


class Redis:
    def __init__(self, tls=False, password=None, san="IP:127.0.0.1,DNS:localhost"):
        self.dir = gwtest.tempdir("gwtest-redis-")
        self.port = gwtest.free_port()
        self.tls = tls
        self.password = password
        self.proc = None
        if tls:
            self.ca, self.cert, self.key = make_certs(self.dir, san)

    @property
    def url(self):
        auth = ":%s@" % self.password if self.password else ""
        return "redis://%s127.0.0.1:%d" % (auth, self.port)

    def cluster(self, node_id):
        """The cluster section of a node that uses this server."""
        redis = {"url": self.url, "tls": self.tls}
        if self.tls:
            redis["ca_file"] = self.ca
        return {"enabled": True, "node_id": node_id, "redis": redis}

    def start(self):
        argv = ["redis-server", "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--logfile",
                os.path.join(self.dir, "redis.log")]
        if self.password:
            argv += ["--requirepass", self.password]
        if self.tls:
            argv += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", self.cert,
                     "--tls-key-file", self.key, "--tls-ca-cert-file", self.ca,
                     "--tls-auth-clients", "no"]
        else:
            argv += ["--port", str(self.port)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL)
        atexit.register(self.stop)
        end = time.time() + 10
        while time.time() < end:
            assert self.proc.poll() is None, "redis-server exited: %s" % self._log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server not listening: %s" % self._log())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def _log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""
