# SPDX-License-Identifier: MIT
"""smtp_sink — a tiny SMTP server that keeps every message it is given (stdlib only).

It speaks enough RFC 5321 for libcurl's SMTP client (and Python's smtplib): a 220 greeting,
EHLO (advertising 8BITMIME, SIZE, AUTH PLAIN LOGIN) / HELO, optional AUTH PLAIN / AUTH LOGIN,
MAIL FROM (with parameters such as SIZE=), RCPT TO, DATA (dot-unstuffing, ends at CRLF.CRLF),
RSET, NOOP, VRFY, HELP, QUIT. No STARTTLS: a client that requires TLS will fail.

In-process:

    smtp = SmtpSink().start()        # 127.0.0.1, a free port
    smtp.port
    ... make the gateway send mail to smtp://127.0.0.1:<port> ...
    msgs = smtp.wait_for(1, timeout=5)   # AssertionError when fewer arrive in time
    msgs[0]["from"], msgs[0]["to"], msgs[0]["subject"], msgs[0]["body"], msgs[0]["data"]
    smtp.stop()

Each message is a dict: from, to (list), data (the raw message, CRLF line ends, dot-unstuffed),
subject (RFC 2047 words decoded), headers (dict, last value wins), body (text of the first
text part), helo, auth_user (None without AUTH), time, peer.

Faults: smtp.fail_next("RCPT", 550, "no such user") makes the next RCPT get that reply
(commands: MAIL, RCPT, DATA — DATA applies to the end-of-data reply, so the message is not
stored; or CONNECT for the greeting). With credentials=("user", "pass"), AUTH checks them
(535 otherwise); without, any AUTH succeeds and mail is accepted with or without AUTH.

As a process:  python3 smtp_sink.py --port 0 [--dir DIR]  prints "smtp_sink listening on
127.0.0.1:PORT" and, with --dir, writes each message as DIR/NNNN.eml plus DIR/NNNN.json
(the envelope and subject).
"""

import argparse
import base64
import email
import email.policy
import json
import os
import signal
import socketserver
import sys
import threading
import time

MAX_SIZE = 10 * 1024 * 1024


def _addr(arg):
    """The address in 'FROM:<a@b> SIZE=10' / 'TO: <c@d>'."""
    arg = arg.split(":", 1)[1] if ":" in arg else arg
    arg = arg.strip()
    if arg.startswith("<"):
        return arg[1:arg.find(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg else ""


def _parse(data):
    msg = email.message_from_string(data, policy=email.policy.default)
    headers = {k: str(v) for k, v in msg.items()}
    try:
        subject = str(msg["Subject"]) if msg["Subject"] is not None else None
    except Exception:  # noqa: BLE001 — a broken header still yields the raw text
        subject = msg.get("Subject", failobj=None)
    body = None
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is not None:
            body = part.get_content()
    except Exception:  # noqa: BLE001
        body = None
    if body is None:
        payload = msg.get_payload()
        body = payload if isinstance(payload, str) else ""
    return subject, headers, body


class _Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, code, text):
        lines = text.split("\n") if isinstance(text, str) else list(text)
        out = []
        for i, ln in enumerate(lines):
            sep = " " if i == len(lines) - 1 else "-"
            out.append("%d%s%s\r\n" % (code, sep, ln))
        self.wfile.write("".join(out).encode())
        self.wfile.flush()

    def fault(self, cmd):
        f = self.server.sink._take_fault(cmd)
        if f:
            self.reply(f[0], f[1])
            return True
        return False

    def readline(self):
        line = self.rfile.readline(MAX_SIZE + 1024)
        if not line:
            raise EOFError()
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        sink = self.server.sink
        if self.fault("CONNECT"):
            return
        self.reply(220, "localhost ESMTP smtp_sink ready")
        helo = None
        auth_user = None
        mail_from = None
        rcpts = []
        try:
            while True:
                line = self.readline()
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    helo = arg.strip()
                    mail_from, rcpts = None, []
                    self.reply(250, "localhost greets %s\n8BITMIME\nSIZE %d\nAUTH PLAIN LOGIN\n"
                                    "ENHANCEDSTATUSCODES\nHELP" % (helo or "client", MAX_SIZE))
                elif verb == "HELO":
                    helo = arg.strip()
                    mail_from, rcpts = None, []
                    self.reply(250, "localhost")
                elif verb == "AUTH":
                    auth_user = self.auth(arg)
                elif verb == "MAIL":
                    if not arg.upper().startswith("FROM:"):
                        self.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
                    elif mail_from is not None:
                        self.reply(503, "5.5.1 Error: nested MAIL command")
                    elif not self.fault("MAIL"):
                        mail_from = _addr(arg)
                        rcpts = []
                        self.reply(250, "2.1.0 Ok")
                elif verb == "RCPT":
                    if mail_from is None:
                        self.reply(503, "5.5.1 Error: need MAIL command")
                    elif not arg.upper().startswith("TO:"):
                        self.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
                    elif not self.fault("RCPT"):
                        rcpts.append(_addr(arg))
                        self.reply(250, "2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply(503, "5.5.1 Error: need RCPT command")
                        continue
                    self.reply(354, "End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        ln = self.readline()
                        if ln == ".":
                            break
                        if ln.startswith("."):
                            ln = ln[1:]
                        lines.append(ln)
                    data = "\r\n".join(lines) + "\r\n"
                    if not self.fault("DATA"):
                        sink._store(mail_from, rcpts, data, helo, auth_user,
                                    self.client_address)
                        self.reply(250, "2.0.0 Ok: queued as %d" % len(sink.messages))
                    mail_from, rcpts = None, []
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.reply(250, "2.0.0 Ok")
                elif verb == "NOOP":
                    self.reply(250, "2.0.0 Ok")
                elif verb == "VRFY":
                    self.reply(252, "2.0.0 Cannot VRFY user")
                elif verb == "HELP":
                    self.reply(214, "EHLO HELO AUTH MAIL RCPT DATA RSET NOOP VRFY QUIT")
                elif verb == "QUIT":
                    self.reply(221, "2.0.0 Bye")
                    return
                elif verb == "":
                    self.reply(500, "5.5.2 Error: empty command")
                else:
                    self.reply(502, "5.5.2 Error: command not recognized")
        except (EOFError, ConnectionError, OSError):
            return

    def auth(self, arg):
        sink = self.server.sink
        parts = arg.split()
        mech = parts[0].upper() if parts else ""
        user = password = None
        try:
            if mech == "PLAIN":
                if len(parts) > 1:
                    raw = parts[1]
                else:
                    self.reply(334, "")
                    raw = self.readline()
                fields = base64.b64decode(raw).decode("utf-8", "replace").split("\0")
                user, password = fields[-2], fields[-1]
            elif mech == "LOGIN":
                if len(parts) > 1:
                    user = base64.b64decode(parts[1]).decode("utf-8", "replace")
                else:
                    self.reply(334, "VXNlcm5hbWU6")
                    user = base64.b64decode(self.readline()).decode("utf-8", "replace")
                self.reply(334, "UGFzc3dvcmQ6")
                password = base64.b64decode(self.readline()).decode("utf-8", "replace")
            else:
                self.reply(504, "5.5.4 Unrecognized authentication type")
                return None
        except (ValueError, IndexError):
            self.reply(501, "5.5.2 Cannot decode response")
            return None
        if sink.credentials and (user, password) != tuple(sink.credentials):
            self.reply(535, "5.7.8 Authentication credentials invalid")
            return None
        self.reply(235, "2.7.0 Authentication successful")
        return user


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SmtpSink:
    def __init__(self, port=0, host="127.0.0.1", credentials=None, directory=None):
        self.host = host
        self.port = port
        self.credentials = credentials
        self.directory = directory
        self.cond = threading.Condition()
        self._messages = []
        self._faults = []
        self._server = None

    def start(self):
        self._server = _Server((self.host, self.port), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "smtp://%s:%d" % (self.host, self.port)

    @property
    def messages(self):
        with self.cond:
            return list(self._messages)

    def clear(self):
        with self.cond:
            self._messages = []
            self._faults = []

    def fail_next(self, command, code=451, text="4.3.0 Temporary failure"):
        """The next COMMAND (CONNECT, MAIL, RCPT or DATA) is answered with code/text."""
        with self.cond:
            self._faults.append((command.upper(), int(code), text))

    def _take_fault(self, command):
        with self.cond:
            for i, f in enumerate(self._faults):
                if f[0] == command:
                    self._faults.pop(i)
                    return f[1], f[2]
        return None

    def _store(self, mail_from, rcpts, data, helo, auth_user, peer):
        subject, headers, body = _parse(data)
        msg = {"from": mail_from, "to": list(rcpts), "data": data, "subject": subject,
               "headers": headers, "body": body, "helo": helo, "auth_user": auth_user,
               "time": time.time(), "peer": "%s:%d" % peer[:2]}
        with self.cond:
            self._messages.append(msg)
            n = len(self._messages)
            self.cond.notify_all()
        if self.directory:
            os.makedirs(self.directory, exist_ok=True)
            base = os.path.join(self.directory, "%04d" % n)
            with open(base + ".eml", "w", newline="") as f:
                f.write(data)
            with open(base + ".json", "w") as f:
                json.dump({k: msg[k] for k in ("from", "to", "subject", "helo", "auth_user",
                                               "time")}, f)
                f.write("\n")

    def wait_for(self, n, timeout=5.0):
        """The messages once at least n have arrived; AssertionError after timeout."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self._messages) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError("smtp_sink: expected %d message(s) within %.1fs, got %d"
                                         % (n, timeout, len(self._messages)))
                self.cond.wait(left)
            return list(self._messages)


def main(argv=None):
    ap = argparse.ArgumentParser(description="SMTP sink that stores received mail.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--dir", default=None, help="write NNNN.eml and NNNN.json per message")
    ap.add_argument("--user", default=None)
    ap.add_argument("--password", default=None)
    ap.add_argument("--port-file", default=None)
    a = ap.parse_args(argv)
    creds = (a.user, a.password or "") if a.user else None
    sink = SmtpSink(port=a.port, host=a.host, credentials=creds, directory=a.dir).start()
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write("%d\n" % sink.port)
    print("smtp_sink listening on %s:%d" % (sink.host, sink.port), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
