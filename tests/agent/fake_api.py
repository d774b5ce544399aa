"""A fake Anthropic Messages API on 127.0.0.1, scripted per test, for the real `anthropic` SDK.

Each POST /v1/messages takes the next scripted step: a reply (content blocks + stop reason), an error
(status, type, message, headers) or a function of the request body returning one of those. Replies are sent as
JSON, or as server-sent events when the request asks to stream (`"stream": true`), optionally slowly. Every
request is recorded (headers and body) so tests can assert what was, and was not, sent.

Usage is reported like the real API's prompt caching: the first request with a given tools + system prefix
creates the cache, later ones read it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EDITOR = "str_replace_based_edit_tool"
_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": arguments}


def view(path: str, **extra: Any) -> dict[str, Any]:
    return tool(EDITOR, command="view", path=path, **extra)


def str_replace(path: str, old: str, new: str) -> dict[str, Any]:
    return tool(EDITOR, command="str_replace", path=path, old_str=old, new_str=new)


def create(path: str, content: str) -> dict[str, Any]:
    return tool(EDITOR, command="create", path=path, file_text=content)


@dataclass
class Reply:
    content: list[dict[str, Any]]
    stop_reason: str | None = None
    delay: float = 0.0  # seconds before each streamed event (or before the JSON body)

    def reason(self) -> str:
        if self.stop_reason:
            return self.stop_reason
        return "tool_use" if any(block["type"] == "tool_use" for block in self.content) else "end_turn"


@dataclass
class Failure:
    status: int
    error_type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Step = Reply | Failure | Callable[[dict[str, Any]], "Reply | Failure"]


@dataclass
class Recorded:
    headers: dict[str, str]
    body: dict[str, Any]


class FakeMessagesAPI:
    def __init__(self, key: str = "test-key") -> None:
        self.key = key
        self.script: list[Step] = []
        self.requests: list[Recorded] = []
        self._prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMessagesAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ scripting

    def reply(self, *blocks: dict[str, Any], stop_reason: str | None = None, delay: float = 0.0) -> None:
        self.script.append(Reply(list(blocks), stop_reason, delay))

    def fail(self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None,
             times: int = 1) -> None:
        for _ in range(times):
            self.script.append(Failure(status, error_type, message, headers or {}))

    def then(self, step: Callable[[dict[str, Any]], Reply | Failure]) -> None:
        self.script.append(step)

    def sent_text(self) -> str:
        """Everything the client sent, as one string (to assert that a secret never left)."""
        return "\n".join(json.dumps(request.body) for request in self.requests)

    # ------------------------------------------------------------------ serving

    def _next(self, body: dict[str, Any]) -> Reply | Failure:
        with self._lock:
            step = self.script.pop(0) if self.script else Failure(500, "api_error", "the fake API's script is empty")
        return step(body) if callable(step) else step

    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        prefix = json.dumps([body.get("tools"), body.get("system")], sort_keys=True)
        prefix_tokens = len(prefix) // 4
        rest_tokens = max(1, len(json.dumps(body.get("messages"))) // 4)
        key = hashlib.sha256(prefix.encode()).hexdigest()
        with self._lock:
            seen = key in self._prefixes
            self._prefixes.add(key)
        return {"input_tokens": rest_tokens,
                "cache_read_input_tokens": prefix_tokens if seen else 0,
                "cache_creation_input_tokens": 0 if seen else prefix_tokens}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with api._lock:
                    api.requests.append(Recorded({k.lower(): v for k, v in self.headers.items()}, body))
                if not self.path.split("?")[0].endswith("/v1/messages"):
                    self._json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                    return
                if not self._authorised():
                    self._json(401, {"type": "error", "error": {"type": "authentication_error",
                                                                 "message": "invalid x-api-key"}})
                    return
                step = api._next(body)
                try:
                    if isinstance(step, Failure):
                        time.sleep(step.delay)
                        self._json(step.status, {"type": "error", "error": {"type": step.error_type,
                                                                             "message": step.message}}, step.headers)
                    elif body.get("stream"):
                        self._stream(step, body)
                    else:
                        time.sleep(step.delay)
                        self._json(200, api._message(step, body))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (cancelled): nothing to do

            def _authorised(self) -> bool:
                given = self.headers.get("x-api-key") or ""
                bearer = self.headers.get("authorization") or ""
                if bearer.lower().startswith("bearer "):
                    given = given or bearer[7:]
                return given == api.key

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", "req_fake")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                for event, data in api._events(reply, body):
                    time.sleep(reply.delay)
                    self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                    self.wfile.flush()

        return Handler

    def _message(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        usage = self._usage(body)
        usage["output_tokens"] = 10 * len(reply.content) + 5
        return {"id": f"msg_{next(_ids)}", "type": "message", "role": "assistant", "model": body.get("model", "m"),
                "content": reply.content, "stop_reason": reply.reason(), "stop_sequence": None, "usage": usage}

    def _events(self, reply: Reply, body: dict[str, Any]):
        usage = self._usage(body)
        start = {"id": f"msg_{next(_ids)}", "type": "message", "role": "assistant", "model": body.get("model", "m"),
                 "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}
        for index, block in enumerate(reply.content):
            if block["type"] == "text":
                yield "content_block_start", {"type": "content_block_start", "index": index,
                                              "content_block": {"type": "text", "text": ""}}
                half = len(block["text"]) // 2
                for piece in (block["text"][:half], block["text"][half:]):
                    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "text_delta", "text": piece}}
            else:
                yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}
                encoded = json.dumps(block["input"])
                half = len(encoded) // 2
                for piece in (encoded[:half], encoded[half:]):
                    yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}}
            yield "content_block_stop", {"type": "content_block_stop", "index": index}
        yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": reply.reason(),
                                                                   "stop_sequence": None},
                                "usage": {"output_tokens": 10 * len(reply.content) + 5}}
        yield "message_stop", {"type": "message_stop"}


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the request's last user message."""
    last = body.get("messages", [{}])[-1]
    content = last.get("content", [])
    return [block for block in content if isinstance(block, dict) and block.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))
