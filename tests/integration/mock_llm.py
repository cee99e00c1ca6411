# SPDX-License-Identifier: MIT
"""mock_llm — a local stand-in for upstream model providers (and a webhook receiver).

One threaded HTTP/1.1 server on 127.0.0.1 speaks three documented wire formats, so the gateway's
model routes can be tested without a network. Python 3 standard library only.

Use it in-process:

    llm = MockLLM().start()          # binds 127.0.0.1, port 0 (a free one)
    llm.url                          # "http://127.0.0.1:PORT"
    llm.script({"status": 429, "retry_after": 1}, path="/v1/chat")
    ... drive the gateway ...
    llm.requests("/v1/chat/completions")   # what the gateway sent upstream
    llm.stop()

or as a process:  python3 mock_llm.py --port 0   (prints "mock_llm listening on http://...")
and drive it over HTTP with MockClient(url), which has the same helper methods.

Endpoints
  OpenAI     POST /v1/chat/completions  (stream -> SSE "data: {chunk}", then "data: [DONE]";
                                         stream_options.include_usage adds a usage chunk)
             GET  /v1/models, GET /v1/models/{id}
  Anthropic  POST /v1/messages          (needs x-api-key and anthropic-version headers and
                                         max_tokens; stream -> SSE with "event:" lines)
  Ollama     POST /api/chat             (streams NDJSON unless "stream": false, as Ollama does)
             GET  /api/tags
  Webhooks   POST /webhook..., /hook...  any body, recorded, answered 200 {"ok": true}
             (scripted faults apply to them too, so retry logic can be tested)

Model requests are checked like the real APIs: 400 without "model" or a "messages" list (and,
for Anthropic, without max_tokens / anthropic-version), 401 without x-api-key; with
MockLLM(openai_key=K) / (anthropic_key=K) the key must match too. Any model name is accepted.

Streams use chunked transfer encoding, so connections stay keep-alive; non-stream answers carry
Content-Length. A request body may be Content-Length or chunked; Expect: 100-continue works.

Replies
  * default: "echo: <text of the last user message>" (text stripped); streams send it word by
    word (each chunk is a word with its leading whitespace, so the chunks join to the reply).
  * last user message contains TOOL:<name>:<json-object>  -> a tool call of <name> with those
    arguments (OpenAI tool_calls, Anthropic tool_use, Ollama tool_calls with object arguments).
  * last message is a tool result (OpenAI/Ollama role "tool", Anthropic tool_result block)
    -> "tool said: <tool content>".
  * usage: prompt tokens = total characters of all message text (plus Anthropic's top-level
    "system") // 4 + 1; completion tokens = number of words of the reply (for a tool call:
    len(json arguments) // 4 + 1).

Control API (JSON, same port; the /_control paths are never recorded nor scripted)
  POST /_control/script    a list of actions (or {"actions": [...], "path": P} where P applies
                           to the actions that name no path, or one action object);
                           appended to a FIFO; each request to a mock endpoint (model, models
                           list, webhook) takes the first action whose "path" (a prefix,
                           optional) matches its path -- an action without "path" is taken by
                           the next request of any kind, GET /v1/models included, so give one
                           when a client makes several calls. Action fields, combinable:
      {"status": 429, "retry_after": 1, "body": {...}, "headers": {...}}  error answer
                           (default body: the provider's error shape)
      {"delay_ms": N}                     wait before answering
      {"chunk_delay_ms": N, "chunks": M}  slow stream: N ms between events; the reply is cut
                                          or padded (" w2", " w3"...) to M words; non-stream:
                                          waits N ms per event before answering
      {"truncate_after": K}               stream: close the socket after K events (SSE events /
                                          NDJSON lines), no end marker; non-stream: half a body
      {"malformed": true}                 invalid JSON body, or one invalid stream event
      {"reply": "text"}                   reply text instead of the echo
      {"tool_call": {"name": "n", "arguments": {...}}}
      {"hold": true, "hold_ms": N}        wait until POST /_control/release (or N ms, default
                                          30000)
      {"close": true}                     answer with Connection: close
      {"times": N}                        the action is queued N times
      {"path": "/v1/messages"}            only requests whose path starts with this take it
  GET  /_control/requests  list of {seq, time, method, path, query, headers (lowercased),
                           body (parsed JSON or null), raw (text when not JSON), user_text,
                           model, stream, action}; ?path=PREFIX filters
  POST /_control/reset     forget requests, script, counters; release held requests; hold off
  GET  /_control/state     counters: requests, active_requests, max_active_requests,
                           active_streams, max_active_streams, streams_started,
                           streams_completed, streams_truncated (answers cut by
                           truncate_after, stream or not), client_disconnects,
                           disconnects [{seq, path, phase}], held, held_texts, script_pending,
                           by_path {path: count}
  POST /_control/hold      {"enabled": true|false}: hold every model POST (not GETs nor
                           webhooks) until released; disabling releases all (fairness tests)
  POST /_control/release   {"count": N} releases the N oldest held requests (default: all)

A client disconnect is counted (once per request) when a write of a streaming answer fails with
BrokenPipe/ConnectionReset, or when the peer closes the connection while the request is held,
delayed, or between slow stream events (the socket is polled during waits). That is how tests
check that a client disconnect at the gateway cancels the upstream request.

Arrival order (for fairness tests) is the order of /_control/requests (field "seq"); identify
requests by their message text ("user_text", e.g. "u1-3"), not by headers.
"""

import argparse
import http.client
import json
import re
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_MODELS = ["mock-gpt", "mock-claude", "llama3.2:latest"]
DEFAULT_HOLD_MS = 30000
_TOOL_RE = re.compile(r"TOOL:([A-Za-z0-9_.\-]+):")


# --------------------------------------------------------------------------------------------
# conversation helpers

def _text_of(content):
    """The text of a message content: a string, a list of parts/blocks, or a block."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text_of(p) for p in content)
    if isinstance(content, dict):
        if content.get("type") == "tool_result":
            return _text_of(content.get("content"))
        if isinstance(content.get("text"), str):
            return content["text"]
        if "content" in content:
            return _text_of(content.get("content"))
    return ""


def _is_tool_result(msg):
    if not isinstance(msg, dict):
        return False
    if msg.get("role") == "tool":
        return True
    c = msg.get("content")
    return isinstance(c, list) and any(isinstance(b, dict) and b.get("type") == "tool_result"
                                       for b in c)


def _tool_result_text(msg):
    c = msg.get("content")
    if isinstance(c, list):
        parts = [b for b in c if isinstance(b, dict) and b.get("type") == "tool_result"]
        if parts:
            return "".join(_text_of(b.get("content")) for b in parts)
    return _text_of(c)


def _last_user_text(messages):
    for m in reversed(messages or []):
        if isinstance(m, dict) and m.get("role") == "user" and not _is_tool_result(m):
            return _text_of(m.get("content"))
    return ""


def _parse_tool_directive(text):
    m = _TOOL_RE.search(text or "")
    if not m:
        return None
    try:
        args, _ = json.JSONDecoder().raw_decode(text[m.end():])
    except ValueError:
        args = {}
    if not isinstance(args, dict):
        args = {"value": args}
    return {"name": m.group(1), "arguments": args}


def _split_words(reply):
    return re.findall(r"\s*\S+", reply)


class Plan:
    """What to answer: text (with its stream chunks) or a tool call, and the token counts."""

    def __init__(self, body, action, system_text=""):
        messages = body.get("messages") if isinstance(body.get("messages"), list) else []
        chars = len(system_text) + sum(len(_text_of(m.get("content")))
                                       for m in messages if isinstance(m, dict))
        self.prompt_tokens = chars // 4 + 1
        self.tool = None
        last = messages[-1] if messages else None
        if action.get("tool_call"):
            tc = action["tool_call"]
            self.tool = {"name": tc.get("name", "tool"), "arguments": tc.get("arguments") or {}}
        elif action.get("reply") is not None:
            self.text = str(action["reply"]).strip()
        elif last is not None and _is_tool_result(last):
            self.text = "tool said: " + _tool_result_text(last).strip()
        else:
            user = _last_user_text(messages)
            self.tool = _parse_tool_directive(user)
            if self.tool is None:
                self.text = ("echo: " + user.strip()).strip()
        if self.tool is not None:
            self.text = ""
            self.args_json = json.dumps(self.tool["arguments"])
            self.chunks = []
            self.completion_tokens = len(self.args_json) // 4 + 1
            return
        self.chunks = _split_words(self.text)
        want = action.get("chunks")
        if isinstance(want, int) and want > 0:
            self.chunks = self.chunks[:want]
            while len(self.chunks) < want:
                self.chunks.append(("" if not self.chunks else " ") + "w%d" % len(self.chunks))
            self.text = "".join(self.chunks)
        self.completion_tokens = len(self.chunks)

    def args_pieces(self):
        """The JSON arguments in up to three pieces, as streamed tool-call deltas."""
        s = self.args_json
        n = max(1, len(s) // 3)
        return [s[i:i + n] for i in range(0, len(s), n)] or [""]


def _provider(path):
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/api/"):
        return "ollama"
    return "openai"


def _error_body(provider, status, message=None):
    kinds = {400: "invalid_request_error", 401: "authentication_error",
             403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
             500: "api_error", 529: "overloaded_error"}
    message = message or "mock error %d" % status
    if provider == "anthropic":
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"),
                                           "message": message}}
    if provider == "ollama":
        return {"error": message}
    return {"error": {"message": message, "type": kinds.get(status, "server_error"),
                      "param": None, "code": None}}


def _iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + (".%06dZ" % int((t % 1) * 1e6))


# --------------------------------------------------------------------------------------------
# renderers: non-stream body, stream events (bytes), and one malformed event

def _sse(obj, event=None):
    data = json.dumps(obj)
    if event:
        return ("event: %s\ndata: %s\n\n" % (event, data)).encode()
    return ("data: %s\n\n" % data).encode()


def _openai(seq, body, plan):
    model = body.get("model", "mock-gpt")
    cid = "chatcmpl-mock%d" % seq
    created = int(time.time())
    usage = {"prompt_tokens": plan.prompt_tokens, "completion_tokens": plan.completion_tokens,
             "total_tokens": plan.prompt_tokens + plan.completion_tokens}
    finish = "tool_calls" if plan.tool else "stop"
    if plan.tool:
        call = {"id": "call_mock%d" % seq, "type": "function",
                "function": {"name": plan.tool["name"], "arguments": plan.args_json}}
        message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
    else:
        message = {"role": "assistant", "content": plan.text, "refusal": None}
    full = {"id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish}],
            "usage": usage, "system_fingerprint": None}
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta, finish_reason=None):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
             "system_fingerprint": None,
             "choices": [{"index": 0, "delta": delta, "logprobs": None,
                          "finish_reason": finish_reason}]}
        if include_usage:
            c["usage"] = None
        return _sse(c)

    events = [chunk({"role": "assistant", "content": "" if not plan.tool else None})]
    if plan.tool:
        pieces = plan.args_pieces()
        events.append(chunk({"tool_calls": [{
            "index": 0, "id": "call_mock%d" % seq, "type": "function",
            "function": {"name": plan.tool["name"], "arguments": ""}}]}))
        for p in pieces:
            events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}))
    else:
        for w in plan.chunks:
            events.append(chunk({"content": w}))
    events.append(chunk({}, finish))
    if include_usage:
        events.append(_sse({"id": cid, "object": "chat.completion.chunk", "created": created,
                            "model": model, "system_fingerprint": None, "choices": [],
                            "usage": usage}))
    events.append(b"data: [DONE]\n\n")
    bad = b'data: {"id": "' + cid.encode() + b'", "object": "chat.completion.chunk", "choices": [\n\n'
    return full, events, (1, bad)  # replaces the first content chunk


def _anthropic(seq, body, plan):
    model = body.get("model", "mock-claude")
    mid = "msg_mock%d" % seq
    stop = "tool_use" if plan.tool else "end_turn"
    if plan.tool:
        block = {"type": "tool_use", "id": "toolu_mock%d" % seq, "name": plan.tool["name"],
                 "input": plan.tool["arguments"]}
    else:
        block = {"type": "text", "text": plan.text}
    full = {"id": mid, "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": plan.prompt_tokens,
                      "output_tokens": plan.completion_tokens}}
    start_msg = {"id": mid, "type": "message", "role": "assistant", "model": model,
                 "content": [], "stop_reason": None, "stop_sequence": None,
                 "usage": {"input_tokens": plan.prompt_tokens, "output_tokens": 1}}
    events = [_sse({"type": "message_start", "message": start_msg}, "message_start")]
    if plan.tool:
        cb = {"type": "tool_use", "id": "toolu_mock%d" % seq, "name": plan.tool["name"],
              "input": {}}
    else:
        cb = {"type": "text", "text": ""}
    events.append(_sse({"type": "content_block_start", "index": 0, "content_block": cb},
                       "content_block_start"))
    events.append(_sse({"type": "ping"}, "ping"))
    if plan.tool:
        for p in [""] + plan.args_pieces():
            events.append(_sse({"type": "content_block_delta", "index": 0,
                                "delta": {"type": "input_json_delta", "partial_json": p}},
                               "content_block_delta"))
    else:
        for w in plan.chunks:
            events.append(_sse({"type": "content_block_delta", "index": 0,
                                "delta": {"type": "text_delta", "text": w}},
                               "content_block_delta"))
    events.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    events.append(_sse({"type": "message_delta",
                        "delta": {"stop_reason": stop, "stop_sequence": None},
                        "usage": {"output_tokens": plan.completion_tokens}}, "message_delta"))
    events.append(_sse({"type": "message_stop"}, "message_stop"))
    bad = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n'
    return full, events, (3, bad)  # replaces the first content_block_delta


def _ollama(seq, body, plan):
    model = body.get("model", "llama3.2:latest")
    stats = {"total_duration": 1000000 * (plan.completion_tokens + 1),
             "load_duration": 100000, "prompt_eval_count": plan.prompt_tokens,
             "prompt_eval_duration": 200000, "eval_count": plan.completion_tokens,
             "eval_duration": 700000}
    if plan.tool:
        message = {"role": "assistant", "content": "",
                   "tool_calls": [{"function": {"name": plan.tool["name"],
                                                "arguments": plan.tool["arguments"]}}]}
    else:
        message = {"role": "assistant", "content": plan.text}
    full = {"model": model, "created_at": _iso_now(), "message": message, "done": True,
            "done_reason": "stop"}
    full.update(stats)

    def line(obj):
        return (json.dumps(obj) + "\n").encode()

    events = []
    if plan.tool:
        events.append(line({"model": model, "created_at": _iso_now(), "message": message,
                            "done": False}))
    else:
        for w in plan.chunks:
            events.append(line({"model": model, "created_at": _iso_now(),
                                "message": {"role": "assistant", "content": w},
                                "done": False}))
    last = {"model": model, "created_at": _iso_now(),
            "message": {"role": "assistant", "content": ""}, "done": True,
            "done_reason": "stop"}
    last.update(stats)
    events.append(line(last))
    bad = b'{"model": "' + model.encode() + b'", "message": {"role": "assist\n'
    return full, events, (0, bad)  # replaces the first line


# --------------------------------------------------------------------------------------------
# the server

class _Gone(Exception):
    """The client went away."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MockLLM/1.0"

    def version_string(self):
        return self.server_version

    # ---- plumbing
    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("mock_llm: %s\n" % (fmt % args))

    def setup(self):
        super().setup()
        self.server.mock._conn_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.mock._conn_closed(self.connection)

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    break
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(1024)
            return out
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send_bytes(self, status, data, ctype="application/json", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status, obj, headers=None):
        self._send_bytes(status, json.dumps(obj).encode(), headers=headers)

    # ---- disconnect detection
    def _peer_closed(self):
        """True when the peer has closed (or reset) the connection; never consumes data."""
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if not r:
                return False
            data = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            return data == b""
        except BlockingIOError:
            return False
        except (ConnectionResetError, BrokenPipeError, OSError):
            return True

    def _gone(self, phase):
        self.server.mock._disconnect(self.rec, phase)
        self.close_connection = True
        raise _Gone()

    def _sleep(self, seconds, phase):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                r, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            except (OSError, ValueError):
                self._gone(phase)
            if r:
                if self._peer_closed():
                    self._gone(phase)
                # Data is waiting (a pipelined request): leave it, just sleep.
                time.sleep(min(max(end - time.monotonic(), 0), 0.05))

    # ---- dispatch
    def _dispatch(self):
        mock = self.server.mock
        path, _, query = self.path.partition("?")
        raw = self._read_body()
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        if path.startswith("/_control/"):
            return self._control(path, query, body)
        self.rec = mock._record(self, path, query, raw, body)
        mock._enter()
        try:
            self._serve(path, body if isinstance(body, dict) else {}, raw)
        except _Gone:
            pass
        except (BrokenPipeError, ConnectionResetError):
            mock._disconnect(self.rec, "write")
            self.close_connection = True
        finally:
            mock._leave()

    def _serve(self, path, body, raw):
        mock = self.server.mock
        method = self.command
        known_post = path in ("/v1/chat/completions", "/chat/completions", "/v1/messages",
                              "/api/chat") or path.startswith(("/webhook", "/hook"))
        known_get = path in ("/v1/models", "/models", "/api/tags") or path.startswith(
            ("/v1/models/", "/models/"))
        if not ((method == "POST" and known_post) or (method == "GET" and known_get)):
            self._send_json(404, _error_body(_provider(path), 404,
                                             "no route %s %s" % (method, path)))
            return
        action = mock._take_action(path)
        self.rec["action"] = action or None
        if action.get("close"):
            self.close_connection = True
        if action.get("hold") or (mock.hold_all and method == "POST"
                                  and not path.startswith(("/webhook", "/hook"))):
            mock._hold(self, action.get("hold_ms", DEFAULT_HOLD_MS))
        if action.get("delay_ms"):
            self._sleep(action["delay_ms"] / 1000.0, "delay")
        prov = _provider(path)
        if action.get("status"):
            st = int(action["status"])
            hdrs = dict(action.get("headers") or {})
            if action.get("retry_after") is not None:
                hdrs["Retry-After"] = action["retry_after"]
            if "body" in action:
                b = action["body"]
                data = b.encode() if isinstance(b, str) else json.dumps(b).encode()
            else:
                data = json.dumps(_error_body(prov, st)).encode()
            self._send_bytes(st, data, headers=hdrs)
            return
        if method == "GET":
            return self._get(path)
        if path.startswith(("/webhook", "/hook")):
            if action.get("malformed"):
                return self._send_bytes(200, b"{not json")
            return self._send_json(200, {"ok": True, "seq": self.rec["seq"]})
        # model requests: validate like the real APIs do
        if not isinstance(body, dict) or not body:
            return self._send_json(400, _error_body(prov, 400, "request body is not JSON"))
        if prov == "anthropic":
            if not self.headers.get("x-api-key"):
                return self._send_json(401, _error_body(prov, 401, "x-api-key header is required"))
            if mock.anthropic_key and self.headers.get("x-api-key") != mock.anthropic_key:
                return self._send_json(401, _error_body(prov, 401, "invalid x-api-key"))
            if not self.headers.get("anthropic-version"):
                return self._send_json(400, _error_body(
                    prov, 400, "anthropic-version: header is required"))
            if "max_tokens" not in body:
                return self._send_json(400, _error_body(prov, 400,
                                                        "max_tokens: Field required"))
        elif prov == "openai" and mock.openai_key:
            if self.headers.get("Authorization") != "Bearer " + mock.openai_key:
                return self._send_json(401, _error_body(prov, 401, "Incorrect API key provided"))
        if not body.get("model"):
            return self._send_json(400, _error_body(prov, 400, "model is required"))
        if not isinstance(body.get("messages"), list):
            return self._send_json(400, _error_body(prov, 400, "messages: Field required"))
        system_text = _text_of(body.get("system")) if prov == "anthropic" else ""
        plan = Plan(body, action, system_text)
        seq = self.rec["seq"]
        render = {"openai": _openai, "anthropic": _anthropic, "ollama": _ollama}[prov]
        full, events, bad = render(seq, body, plan)
        stream = body.get("stream", prov == "ollama")
        self.rec["stream"] = bool(stream)
        if not stream:
            if action.get("chunk_delay_ms"):
                self._sleep(action["chunk_delay_ms"] * max(len(events) - 1, 0) / 1000.0,
                            "delay")
            data = (b'{"id": "mock-malformed", "content": [' if action.get("malformed")
                    else json.dumps(full).encode())
            if action.get("truncate_after") is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:len(data) // 2])
                self._abort()
                return
            return self._send_bytes(200, data)
        ctype = "application/x-ndjson" if prov == "ollama" else "text/event-stream"
        self._stream(events, bad, ctype, action)

    def _abort(self):
        mock = self.server.mock
        with mock.lock:
            mock.counters["streams_truncated"] += 1
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _stream(self, events, bad, ctype, action):
        mock = self.server.mock
        if action.get("malformed"):
            i = min(bad[0], len(events) - 1)
            events = events[:i] + [bad[1]] + events[i + 1:]
        delay = (action.get("chunk_delay_ms") or 0) / 1000.0
        truncate = action.get("truncate_after")
        with mock.lock:
            mock.counters["streams_started"] += 1
            mock.counters["active_streams"] += 1
            mock.counters["max_active_streams"] = max(mock.counters["max_active_streams"],
                                                      mock.counters["active_streams"])
        try:
            try:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                for n, ev in enumerate(events):
                    if truncate is not None and n >= truncate:
                        self._abort()
                        return
                    if n and delay:
                        self._sleep(delay, "stream")
                    elif self._peer_closed():
                        self._gone("stream")
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self._gone("stream")
            with mock.lock:
                mock.counters["streams_completed"] += 1
        finally:
            with mock.lock:
                mock.counters["active_streams"] -= 1

    def _get(self, path):
        mock = self.server.mock
        if path in ("/v1/models", "/models"):
            return self._send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"}
                for m in mock.models]})
        if path.startswith(("/v1/models/", "/models/")):
            mid = path.split("/models/", 1)[1]
            if mid not in mock.models:
                return self._send_json(404, _error_body("openai", 404,
                                                        "The model '%s' does not exist" % mid))
            return self._send_json(200, {"id": mid, "object": "model", "created": 1700000000,
                                         "owned_by": "mock"})
        if path == "/api/tags":
            return self._send_json(200, {"models": [
                {"name": m, "model": m, "modified_at": "2024-01-01T00:00:00Z", "size": 1000000,
                 "digest": "%064x" % (i + 1),
                 "details": {"parent_model": "", "format": "gguf", "family": "llama",
                             "families": ["llama"], "parameter_size": "1B",
                             "quantization_level": "Q4_K_M"}}
                for i, m in enumerate(mock.models)]})
        return self._send_json(404, {"error": "not found"})

    # ---- control API
    def _control(self, path, query, body):
        mock = self.server.mock
        cmd = path[len("/_control/"):].strip("/")
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        if cmd == "script" and self.command == "POST":
            n = mock.script(body)
            return self._send_json(200, {"queued": n, "pending": mock.state()["script_pending"]})
        if cmd == "requests" and self.command == "GET":
            return self._send_json(200, mock.requests(q.get("path")))
        if cmd == "reset" and self.command == "POST":
            mock.reset()
            return self._send_json(200, {"ok": True})
        if cmd == "state" and self.command == "GET":
            return self._send_json(200, mock.state())
        if cmd == "hold" and self.command == "POST":
            mock.set_hold(bool((body or {}).get("enabled", True)))
            return self._send_json(200, {"ok": True, "hold": mock.hold_all})
        if cmd == "release" and self.command == "POST":
            n = mock.release((body or {}).get("count"))
            return self._send_json(200, {"released": n})
        return self._send_json(404, {"error": "unknown control %s %s" % (self.command, path)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, socket.timeout)):
            return  # a peer that went away between requests: not worth a traceback
        super().handle_error(request, client_address)


class MockLLM:
    """The in-process mock. start() binds 127.0.0.1:port (0 = a free port)."""

    def __init__(self, port=0, host="127.0.0.1", models=None, verbose=False,
                 openai_key=None, anthropic_key=None):
        self.host = host
        self.port = port
        self.models = list(models or DEFAULT_MODELS)
        self.verbose = verbose
        self.openai_key = openai_key        # when set, OpenAI routes need "Bearer <key>"
        self.anthropic_key = anthropic_key  # when set, x-api-key must equal it
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self._server = None
        self._thread = None
        self._conns = set()
        self._reset_locked()

    # ---- lifecycle
    def start(self):
        self._server = _Server((self.host, self.port), _Handler)
        self._server.mock = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def stop(self):
        """Stop listening and cut every open connection (pooled keep-alive ones too)."""
        if not self._server:
            return
        self.release()
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _conn_opened(self, c):
        with self.lock:
            self._conns.add(c)

    def _conn_closed(self, c):
        with self.lock:
            self._conns.discard(c)

    # ---- state
    def _reset_locked(self):
        self._requests = []
        self._script = []
        self._held = []
        self.hold_all = False
        self._seq = 0
        self.counters = {"requests": 0, "active_requests": 0, "max_active_requests": 0,
                         "active_streams": 0, "max_active_streams": 0, "streams_started": 0,
                         "streams_completed": 0, "streams_truncated": 0,
                         "client_disconnects": 0}
        self._disconnects = []
        self._by_path = {}

    def reset(self):
        with self.cond:
            for h in self._held:
                h["released"] = True
            active_r = self.counters["active_requests"]
            active_s = self.counters["active_streams"]
            self._reset_locked()
            # Requests still in flight keep decrementing these.
            self.counters["active_requests"] = active_r
            self.counters["active_streams"] = active_s
            self.cond.notify_all()

    def _record(self, handler, path, query, raw, body):
        headers = {}
        for k, v in handler.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        rec = {"method": handler.command, "path": path, "query": query, "headers": headers,
               "body": body, "raw": None if body is not None else raw.decode("utf-8", "replace"),
               "time": time.time(), "user_text": None, "model": None, "stream": None,
               "action": None}
        if isinstance(body, dict):
            rec["model"] = body.get("model")
            if isinstance(body.get("messages"), list):
                rec["user_text"] = _last_user_text(body["messages"])
            if "stream" in body:
                rec["stream"] = bool(body["stream"])
        with self.lock:
            self._seq += 1
            rec["seq"] = self._seq
            self._requests.append(rec)
            self.counters["requests"] += 1
            self._by_path[path] = self._by_path.get(path, 0) + 1
        return rec

    def _enter(self):
        with self.lock:
            self.counters["active_requests"] += 1
            self.counters["max_active_requests"] = max(self.counters["max_active_requests"],
                                                       self.counters["active_requests"])

    def _leave(self):
        with self.lock:
            self.counters["active_requests"] -= 1

    def _disconnect(self, rec, phase):
        with self.lock:
            if rec.get("_disconnected"):
                return
            rec["_disconnected"] = True
            self.counters["client_disconnects"] += 1
            self._disconnects.append({"seq": rec["seq"], "path": rec["path"], "phase": phase})

    def _take_action(self, path):
        with self.lock:
            for i, a in enumerate(self._script):
                if path.startswith(a.get("path") or ""):
                    return self._script.pop(i)
        return {}

    def _hold(self, handler, hold_ms):
        entry = {"seq": handler.rec["seq"], "path": handler.rec["path"],
                 "user_text": handler.rec["user_text"], "released": False}
        deadline = time.monotonic() + hold_ms / 1000.0
        with self.cond:
            self._held.append(entry)
        try:
            while True:
                with self.cond:
                    if entry["released"]:
                        return
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    self.cond.wait(min(left, 0.05))
                    if entry["released"]:
                        return
                if handler._peer_closed():
                    handler._gone("hold")
        finally:
            with self.cond:
                if entry in self._held:
                    self._held.remove(entry)

    # ---- helpers (also behind the control API)
    def script(self, *actions, path=None):
        """Queue actions: script({"status": 500}, {"reply": "hi"}) or script([...]) or
        script({"actions": [...]}). path= sets a prefix filter on actions that have none."""
        flat = []
        for a in actions:
            if isinstance(a, dict) and isinstance(a.get("actions"), list):
                outer = a.get("path")
                flat.extend(dict(x, path=x.get("path") or outer) if outer else x
                            for x in a["actions"])
            elif isinstance(a, list):
                flat.extend(a)
            elif isinstance(a, dict):
                flat.append(a)
        out = []
        for a in flat:
            a = dict(a)
            if path and not a.get("path"):
                a["path"] = path
            times = int(a.pop("times", 1) or 1)
            out.extend(dict(a) for _ in range(times))
        with self.lock:
            self._script.extend(out)
        return len(out)

    def requests(self, path=None):
        with self.lock:
            return [{k: v for k, v in r.items() if not k.startswith("_")}
                    for r in self._requests if not path or r["path"].startswith(path)]

    def last_request(self, path=None):
        r = self.requests(path)
        return r[-1] if r else None

    def user_texts(self, path=None):
        """The last-user-message text of each recorded request, in arrival order."""
        return [r["user_text"] for r in self.requests(path)]

    def state(self):
        with self.lock:
            s = dict(self.counters)
            s["disconnects"] = list(self._disconnects)
            s["held"] = len(self._held)
            s["held_texts"] = [h["user_text"] for h in self._held]
            s["hold"] = self.hold_all
            s["script_pending"] = len(self._script)
            s["by_path"] = dict(self._by_path)
            return s

    def set_hold(self, enabled=True):
        with self.cond:
            self.hold_all = bool(enabled)
            if not enabled:
                for h in self._held:
                    h["released"] = True
            self.cond.notify_all()

    def release(self, count=None):
        """Release the `count` oldest held requests (all when None); returns how many."""
        n = 0
        with self.cond:
            for h in self._held:
                if count is not None and n >= count:
                    break
                if not h["released"]:
                    h["released"] = True
                    n += 1
            self.cond.notify_all()
        return n

    def wait_until(self, fn, timeout=5.0, what="condition"):
        end = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError("mock_llm: timed out waiting for %s (state %s)"
                                     % (what, json.dumps(self.state())))
            time.sleep(0.02)

    def wait_for_requests(self, n, path=None, timeout=5.0):
        return self.wait_until(lambda: len(self.requests(path)) >= n and self.requests(path),
                               timeout, "%d requests to %s" % (n, path or "any path"))

    def wait_held(self, n, timeout=5.0):
        return self.wait_until(lambda: self.state()["held"] >= n, timeout,
                               "%d held requests" % n)

    def wait_state(self, key, value, timeout=5.0):
        return self.wait_until(lambda: self.state()[key] == value, timeout,
                               "state %s == %r" % (key, value))


class MockClient:
    """The same helpers over HTTP, for a mock_llm.py running as a separate process."""

    def __init__(self, url):
        m = re.match(r"http://([^:/]+):(\d+)", url)
        self.host, self.port = m.group(1), int(m.group(2))
        self.url = url

    def _call(self, method, path, obj=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            data = json.dumps(obj).encode() if obj is not None else None
            c.request(method, path, body=data,
                      headers={"Content-Type": "application/json"} if data else {})
            r = c.getresponse()
            return json.loads(r.read() or b"null")
        finally:
            c.close()

    def script(self, *actions, path=None):
        flat = []
        for a in actions:
            flat.extend(a if isinstance(a, list) else [a])
        if path:
            flat = [dict(a, path=a.get("path") or path) for a in flat]
        return self._call("POST", "/_control/script", flat)["queued"]

    def requests(self, path=None):
        return self._call("GET", "/_control/requests" + ("?path=" + path if path else ""))

    def user_texts(self, path=None):
        return [r["user_text"] for r in self.requests(path)]

    def state(self):
        return self._call("GET", "/_control/state")

    def reset(self):
        self._call("POST", "/_control/reset", {})

    def set_hold(self, enabled=True):
        self._call("POST", "/_control/hold", {"enabled": bool(enabled)})

    def release(self, count=None):
        return self._call("POST", "/_control/release",
                          {} if count is None else {"count": count})["released"]

    wait_until = MockLLM.wait_until
    wait_for_requests = MockLLM.wait_for_requests
    wait_held = MockLLM.wait_held
    wait_state = MockLLM.wait_state


def main(argv=None):
    ap = argparse.ArgumentParser(description="Mock OpenAI/Anthropic/Ollama upstream.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS),
                    help="comma-separated model ids for /v1/models and /api/tags")
    ap.add_argument("--openai-key", default=None)
    ap.add_argument("--anthropic-key", default=None)
    ap.add_argument("--port-file", default=None, help="write the bound port here")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    mock = MockLLM(port=a.port, host=a.host, models=[m for m in a.models.split(",") if m],
                   verbose=a.verbose, openai_key=a.openai_key,
                   anthropic_key=a.anthropic_key).start()
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write("%d\n" % mock.port)
    print("mock_llm listening on %s" % mock.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    mock.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
