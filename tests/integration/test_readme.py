# SPDX-License-Identifier: MIT
"""The README's quick start, run as written: from an empty data directory to an answer streamed
from a local OpenAI-compatible model (mock_llm.py), with nothing but the commands and the
configuration of README.md's "Quick start" section, read from the file at test time, so that
the test fails when the README and the product drift apart.

Each fenced block of the section is taken in order: `sh` lines are run, a `yaml` block whose
first line is "# <file>" is written to that file. A line the test does not know fails it. After
the walk the gateway is started once more as the section started it: the provider added at run
time is still there, so the banner prints neither a bootstrap token nor the next step. The only
liberties, all of them places where a reader's machine differs from the test's:
  - the commands run in a scratch directory (./data and gateway.yaml go there); the README's
    repository-relative `scripts/` and `build/` point to this source tree and the build
    under test (OPENCLAW_BUILD_DIR, which scripts/run.sh honours);
  - `scripts/run.sh` gets `--port <free port>` appended (the README documents passing
    arguments), and the CLI gets that address in OPENCLAW_GATEWAY_URL;
  - `<...>` in `export OPENCLAW_TOKEN=<...>` is the token the banner printed;
  - the provider's base URL (`--base-url` or `base_url:`, a loopback address in the README) is
    the mock's;
  - "stop the gateway (Ctrl-C)" in the prose is a SIGINT before the next scripts/run.sh.
"""

import os
import re
import select
import shlex
import signal
import subprocess
import time

import gwtest
from mock_llm import MockLLM

README = os.path.join(gwtest.SOURCE_DIR, "README.md")
RUN_SH = os.path.join(gwtest.SOURCE_DIR, "scripts", "run.sh")
# scripts/run.sh checks the packages and brings the build up to date before it starts the
# daemon: generous, since the build directory may be behind the sources
START_DEADLINE_S = 240
CHUNK_GAP_MS = 700  # between the mock's stream events: the answer arrives over seconds


def quick_start_blocks():
    """[(language, text)] of the fenced blocks in README.md's "Quick start" section."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Quick start[^\n]*\n(.*?)(?=^## )", text, re.M | re.S)
    assert m, "README.md has no '## Quick start' section"
    return re.findall(r"^```([\w-]*)\n(.*?)^```", m.group(1), re.M | re.S)


class Walk:
    """The reader: a scratch directory, the environment of the second terminal, and the
    gateway that scripts/run.sh started last."""

    def __init__(self, mock):
        self.mock = mock
        self.dir = os.path.realpath(gwtest.tempdir("gwreadme-"))
        self.home = gwtest.tempdir("gwreadme-home-")
        self.port = gwtest.free_port()
        self.env = {}  # what the README exports
        self.proc = None
        self.starts = []  # stdout of each scripts/run.sh
        self.chat_out = None
        self.provider_added = False

    # --- scripts/run.sh ---------------------------------------------------------------------
    def stop(self):
        """Ctrl-C in the gateway's terminal: the daemon drains and exits 0."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(gwtest.STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("the gateway did not stop within %.0f s of Ctrl-C"
                                 % gwtest.STOP_DEADLINE_S)
        assert rc == 0, "the gateway exited %s after Ctrl-C; stderr: %s" % (rc, self.err()[-2000:])

    def out(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def err(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def run_sh(self, args):
        self.stop()
        n = len(self.starts) + 1
        self.out_path = os.path.join(self.home, "run%d.out" % n)
        self.err_path = os.path.join(self.home, "run%d.err" % n)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
        env.update(OPENCLAW_BUILD_DIR=gwtest.BUILD_DIR, HOME=self.home)
        with open(self.out_path, "wb") as o, open(self.err_path, "wb") as e:
            self.proc = subprocess.Popen([RUN_SH] + args + ["--port", str(self.port)],
                                         cwd=self.dir, env=env, stdout=o, stderr=e,
                                         stdin=subprocess.DEVNULL)
        end = time.time() + START_DEADLINE_S
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("scripts/run.sh %s exited %s; stdout: %s\nstderr: %s"
                                     % (" ".join(args), self.proc.returncode, self.out()[-2000:],
                                        self.err()[-2000:]))
            if "Listening on" in self.out():
                try:
                    if gwtest.http_request(self.port, "GET", "/readyz", timeout=2).status == 200:
                        break
                except OSError:
                    pass
            assert time.time() < end, "scripts/run.sh: no ready gateway within %d s: %s" % (
                START_DEADLINE_S, self.out()[-2000:])
            time.sleep(0.1)
        time.sleep(0.2)  # the banner's last lines follow the listener's start
        self.starts.append(self.out())

    # --- export -----------------------------------------------------------------------------
    def export(self, name, value):
        if re.fullmatch(r"<[^>]+>", value):
            assert name == "OPENCLAW_TOKEN", "a placeholder the test cannot fill: %s" % name
            m = re.search(r"Bootstrap admin token: (\S+)", "".join(self.starts))
            assert m, "the README exports the bootstrap token, but no banner printed one: %r" % (
                self.starts)
            value = m.group(1)
        self.env[name] = value

    # --- build/openclaw ---------------------------------------------------------------------
    def cli_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OPENCLAW_") and k != "XDG_CONFIG_HOME"}
        env.update(HOME=self.home, OPENCLAW_GATEWAY_URL="http://127.0.0.1:%d" % self.port)
        env.update(self.env)
        return env

    def openclaw(self, args):
        argv = [gwtest.CLI_BIN] + args
        if args[:1] == ["chat"]:
            return self.chat(argv)
        if args[:2] == ["providers", "add"]:
            argv = [gwtest.CLI_BIN] + self.local_url(args)
        p = subprocess.run(argv, env=self.cli_env(), capture_output=True, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        assert p.returncode == 0, "openclaw %s: exit %d: %s %s" % (
            " ".join(args), p.returncode, out, p.stderr.decode("utf-8", "replace"))
        if args[:1] == ["status"]:
            assert re.search(r"^Status:\s+Connected$", out, re.M), "status: %r" % out
            assert re.search(r"^Role:\s+enterprise_admin$", out, re.M), "status: %r" % out

    def chat(self, argv):
        """One line typed into the chat (standard input is a pipe), then end of input. The
        answer must arrive in pieces: its first word is printed while the model still writes."""
        line = "Hello from the README"
        want = "echo: " + line
        self.mock.script({"chunk_delay_ms": CHUNK_GAP_MS, "path": "/v1/chat/completions"})
        p = subprocess.Popen(argv, env=self.cli_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            p.stdin.write((line + "\n").encode())
            p.stdin.close()  # Ctrl-D: the chat ends after this answer
            out = b""
            partial = None  # what was printed when the first word appeared
            end = time.time() + 60
            while want.encode() not in out and time.time() < end:
                r, _, _ = select.select([p.stdout], [], [], 0.5)
                if r:
                    chunk = os.read(p.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    out += chunk
                    if partial is None and b"echo:" in out:
                        partial = out.decode("utf-8", "replace")
            rc = p.wait(30)
            out += p.stdout.read()
            err = p.stderr.read().decode("utf-8", "replace")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        text = out.decode("utf-8", "replace")
        assert rc == 0, "openclaw chat: exit %d: %r %s" % (rc, text, err)
        assert want in text, "openclaw chat printed %r, not the model's answer %r (%s)" % (
            text, want, err)
        assert partial is not None and "README" not in partial, (
            "the answer was not streamed: the first word came with the rest (%r)" % partial)
        self.chat_out = text

    def local_url(self, args):
        """args with the value of --base-url, a loopback address, replaced by the mock's."""
        i = args.index("--base-url") + 1
        assert re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?/", args[i]), (
            "the README's provider is not on this machine: %s" % args[i])
        self.provider_added = True
        return args[:i] + [self.mock.url + "/v1"] + args[i + 1:]

    # --- gateway.yaml -----------------------------------------------------------------------
    def write_file(self, text):
        first, _, body = text.partition("\n")
        m = re.fullmatch(r"#\s*([\w.-]+)", first.strip())
        assert m, "a yaml block of the quick start does not start with '# <file name>': %r" % (
            first)
        urls = re.findall(r"^(\s*base_url:\s*)(\S+)", body, re.M)
        assert len(urls) == 1, "expected one provider base_url in %s: %r" % (m.group(1), urls)
        assert re.match(r"http://(127\.0\.0\.1|localhost)(:\d+)?/", urls[0][1]), (
            "the README's provider is not on this machine: %s" % urls[0][1])
        body = body.replace(urls[0][1], self.mock.url + "/v1")
        with open(os.path.join(self.dir, m.group(1)), "w", encoding="utf-8") as f:
            f.write(first + "\n" + body)

    # --- one line of a sh block -------------------------------------------------------------
    def line(self, line):
        m = re.fullmatch(r"export (\w+)=(.*)", line)
        if m:
            return self.export(m.group(1), m.group(2))
        words = shlex.split(line, comments=True)
        if not words:
            return None
        if words[0] == "scripts/run.sh":
            return self.run_sh(words[1:])
        if words[0] == "build/openclaw":
            return self.openclaw(words[1:])
        raise AssertionError("a quick start command this test does not know: %r" % line)


def test_quick_start_from_an_empty_data_directory_to_a_streamed_answer():
    blocks = quick_start_blocks()
    mock = MockLLM().start()
    walk = Walk(mock)
    try:
        assert not os.path.exists(os.path.join(walk.dir, "data")), "data directory not empty"
        for lang, text in blocks:
            if lang == "sh":
                for line in text.splitlines():
                    walk.line(line.strip())
            elif lang == "yaml":
                walk.write_file(text)
            else:
                raise AssertionError("a quick start block of an unknown kind: %r" % lang)
        assert walk.chat_out, "the quick start never chats with an agent"
        assert walk.provider_added or any(lang == "yaml" for lang, _ in blocks), (
            "the quick start connects no model provider")
        first = walk.starts[0]
        assert re.search(r"^== built in \d+ (min \d+ )?s", first, re.M), (
            "scripts/run.sh did not print the build time: %r" % first)
        assert "Listening on http://127.0.0.1:%d" % walk.port in first, first
        assert "State:       %s/data " % walk.dir in first, "the banner names no state: %r" % first
        assert re.search(r"^Next step: +connect a model provider: `openclaw providers add`",
                         first, re.M), "the first banner names no next step: %r" % first
        sent = mock.requests("/v1/chat/completions")
        assert len(sent) >= 1 and sent[-1]["stream"] is True, "upstream requests: %r" % sent
        commands = "\n".join(t for _, t in blocks)
        upstream = re.search(r"(?:--upstream\s+|upstream:\s*)(\S+)", commands)
        assert upstream and sent[-1]["model"] == upstream.group(1), (
            "the provider got model %r, the README names %r" % (
                sent[-1]["model"], upstream and upstream.group(1)))
        # started again the way the section first started it: the state stayed
        walk.run_sh(shlex.split(re.search(r"^scripts/run\.sh.*$", commands, re.M).group(0))[1:])
        last = walk.starts[-1]
        assert "Bootstrap admin token" not in last, "a second bootstrap token: %r" % last
        assert "Next step" not in last, "a provider is connected, still told to add one: %r" % (
            last)
        walk.stop()
    finally:
        if walk.proc is not None and walk.proc.poll() is None:
            walk.proc.kill()
            walk.proc.wait()
        mock.stop()


gwtest.main(globals())
