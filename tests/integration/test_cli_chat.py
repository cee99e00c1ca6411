# SPDX-License-Identifier: MIT
"""`openclaw chat` on a terminal, driven through a pseudo-terminal (Python's pty module) against
the real gateway and a slow streaming model (mock_llm.py): line editing (arrow keys edit the
line instead of reaching the model), history (up arrow, a 0600 file that a later chat reads,
--no-history), Ctrl-C cancelling the answer being streamed -- the gateway drops its model call
-- while the chat goes on, Ctrl-C at the prompt discarding the line, /exit and Ctrl-D."""

import os
import pty
import re
import select
import signal
import stat
import time

import gwtest
from mock_llm import MockLLM

MOCK = MockLLM().start()


def _config():
    cfg = gwtest.seed_config()
    cfg["models"] = {"providers": [{"name": "openai", "api": "openai", "base_url": MOCK.url + "/v1",
                                    "models": [{"name": "gpt-4o"}], "api_key": "sk-test",
                                    "retries": 0}]}
    bundle = os.path.join(gwtest.tempdir(), "policies.yaml")
    with open(bundle, "w") as f:
        f.write(gwtest.to_yaml([{"scope": "enterprise", "domain": "models",
                                 "content": {"allowed_providers": ["*"],
                                             "allowed_models": ["*"]}}]) + "\n")
    cfg["policy"] = {"bundle": bundle}
    cfg["agents"] = cfg["agents"] + [
        {"name": "engineering/assistant", "channel": "engineering/assistant",
         "memory_path": "./memory/engineering/assistant.md", "model": "openai/gpt-4o"}]
    return cfg


GW = gwtest.Lazy(lambda: gwtest.Gateway(_config()).start())
HOME = gwtest.tempdir("gwcli-chat-home-")
HISTORY = os.path.join(HOME, ".config", "openclaw", "chat_history")


class Term:
    """The CLI on the slave side of a pseudo-terminal; the test types on the master side."""

    def __init__(self, *args):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OPENCLAW_") and k != "XDG_CONFIG_HOME"}
        env.update(HOME=HOME, TERM="xterm", OPENCLAW_GATEWAY_URL=GW().url,
                   OPENCLAW_TOKEN=gwtest.ADMIN_TOKEN)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the CLI, the pty as its controlling terminal
            os.execve(gwtest.CLI_BIN, [gwtest.CLI_BIN, "chat"] + list(args), env)
        self.out = b""
        self.mark = 0

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if not r:
                continue
            try:
                d = os.read(self.fd, 65536)
            except OSError:
                return
            if not d:
                return
            self.out += d

    def expect(self, text, timeout=10):
        """Waits until text appears after the last expectation; moves the mark past it."""
        end = time.time() + timeout
        want = text.encode()
        while True:
            i = self.out.find(want, self.mark)
            if i >= 0:
                self.mark = i + len(want)
                return
            if time.time() > end:
                raise AssertionError("terminal never showed %r; it shows %r"
                                     % (text, self.out[self.mark:][-800:]))
            self.pump(0.05)

    def type(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def wait(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            self.pump(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("chat did not end; the terminal shows %r" % self.out[-800:])


def _user_texts():
    return MOCK.user_texts("/v1/chat")


def test_line_editing_history_and_exit():
    GW()
    MOCK.reset()
    t = Term("engineering/assistant", "--session", "tty")
    t.expect("Ctrl-D or /exit ends the chat")
    t.expect("you> ")
    t.type("first question\r")
    t.expect("echo: first question")
    t.expect("you> ")
    # "helo", cursor left, "l": the line is edited, no escape sequence reaches the model
    t.type("helo\x1b[Dl\r")
    t.expect("echo: hello")
    t.expect("you> ")
    # the up arrow brings the previous lines back
    t.type("\x1b[A\x1b[A\r")
    t.expect("echo: first question")
    t.expect("you> ")
    t.type("/exit\r")
    assert t.wait() == 0, t.out[-500:]
    texts = _user_texts()
    assert texts == ["first question", "hello", "first question"], texts
    assert not any("\x1b" in x for x in texts), texts
    st = os.stat(HISTORY)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(HISTORY)).st_mode) == 0o700
    with open(HISTORY) as f:  # libedit's format: a header, then lines with vis(3) escapes
        lines = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), x)
                 for x in f.read().splitlines()]
    assert "hello" in lines and "first question" in lines and "/exit" not in lines, lines


def test_history_survives_and_no_history_ignores_it():
    GW()
    MOCK.reset()
    t = Term("engineering/assistant", "--session", "tty")
    t.expect("you> ")
    t.type("\x1b[A\r")  # the last line of the previous chat
    t.expect("echo: first question")
    t.expect("you> ")
    t.type("\x04")  # Ctrl-D on an empty line ends the chat
    assert t.wait() == 0, t.out[-500:]
    before = open(HISTORY).read()
    t = Term("engineering/assistant", "--no-history")
    t.expect("you> ")
    t.type("\x1b[A\r")  # no history: the up arrow recalls nothing, the empty line is skipped
    t.type("private line\r")
    t.expect("echo: private line")
    t.expect("you> ")
    t.type("/quit\r")
    assert t.wait() == 0
    assert _user_texts() == ["first question", "private line"], _user_texts()
    assert open(HISTORY).read() == before, "--no-history wrote the history file"


def test_ctrl_c_cancels_the_answer_and_the_chat_goes_on():
    GW()
    MOCK.reset()
    t = Term("engineering/assistant", "--session", "tty-cancel", "--no-history")
    t.expect("you> ")
    MOCK.script({"chunk_delay_ms": 200, "chunks": 100}, path="/v1/chat")
    t.type("tell me a long story\r")
    t.expect("echo: tell me")
    t.expect(" w6")  # streaming, far from its end (100 words, 20 s)
    t0 = time.time()
    t.type("\x03")
    t.expect("[answer cancelled]", timeout=5)
    t.expect("you> ", timeout=5)
    assert time.time() - t0 < 3, "the cancel took %.1f s" % (time.time() - t0)
    # the gateway noticed the client was gone and dropped the model call
    gwtest.wait_until(lambda: MOCK.state()["client_disconnects"] >= 1, timeout=10,
                      what="the gateway to cancel the upstream stream")
    assert MOCK.state()["streams_completed"] == 0, MOCK.state()
    # Ctrl-C at the prompt discards the line being typed
    t.type("never sent")
    t.expect("never sent")
    t.type("\x03")
    t.expect("you> ")
    t.type("\r")
    t.type("after the cancel\r")
    t.expect("echo: after the cancel")
    t.expect("you> ")
    t.type("\x04")
    assert t.wait() == 0, t.out[-500:]
    texts = _user_texts()
    assert texts == ["tell me a long story", "after the cancel"], texts


if __name__ == "__main__":
    gwtest.main(globals())
