"""A fake Anthropic Messages API for the VS Code end-to-end test (stdlib only, 127.0.0.1).

It plays a scripted "Implement endpoint" conversation, whatever the prompt says:

* turn 1 (no assistant message yet): two ``create`` calls of the text editor tool, one per new file
  (``app/routers/refunds.py`` and ``app/refund_service.py``);
* any later turn: a short text and ``end_turn``.

Both non-streaming and streaming (SSE, ``"stream": true``) requests are answered. The key is accepted as
``x-api-key`` or ``Authorization: Bearer``; with ``--key`` anything else gets a 401. Every request is logged
(one JSON line: path, model, stream, turn, tool names, tool_result errors) to ``--log``.

usage: python fake_anthropic.py [--port 0] [--port-file FILE] [--log FILE] [--key test]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EDIT_TOOL = "str_replace_based_edit_tool"

REFUNDS_ROUTER = """\
from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from app.refund_service import RefundError, refund_order

router = APIRouter(prefix="/orders", tags=["refunds"])


class RefundOut(BaseModel):
    order_id: int
    amount_cents: int


@router.post("/{order_id}/refunds", response_model=RefundOut, status_code=201)
def create_refund(order_id: int):
    try:
        amount_cents = refund_order(order_id)
    except RefundError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return RefundOut(order_id=order_id, amount_cents=amount_cents)
"""

REFUND_SERVICE = '''\
class RefundError(Exception):
    """The order cannot be refunded (already refunded, or unknown)."""


_refunded: set[int] = set()


def refund_order(order_id: int) -> int:
    """Refunds an order once; returns the amount refunded in cents."""
    if order_id in _refunded:
        raise RefundError(f"order {order_id} is already refunded")
    _refunded.add(order_id)
    return 0
'''

NEW_FILES = {
    "app/routers/refunds.py": REFUNDS_ROUTER,
    "app/refund_service.py": REFUND_SERVICE,
}


def edit_tool_name(body: dict) -> str:
    for tool in body.get("tools") or []:
        if str(tool.get("type", "")).startswith("text_editor"):
            return tool.get("name", EDIT_TOOL)
    return EDIT_TOOL


def script_turn(body: dict) -> tuple[list[dict], str]:
    """The content blocks and stop reason for this request."""
    turn = sum(1 for m in body.get("messages") or [] if m.get("role") == "assistant")
    if turn == 0:
        tool = edit_tool_name(body)
        blocks: list[dict] = [{"type": "text", "text": "I will add the refund endpoint and its service."}]
        for i, (path, text) in enumerate(NEW_FILES.items(), start=1):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_e2e_{i:02d}",
                    "name": tool,
                    "input": {"command": "create", "path": path, "file_text": text},
                }
            )
        return blocks, "tool_use"
    return [{"type": "text", "text": "Added POST /orders/{order_id}/refunds with its service."}], "end_turn"


def usage(output_tokens: int) -> dict:
    return {
        "input_tokens": 1200,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def summarize(body: dict) -> dict:
    results = []
    for m in body.get("messages") or []:
        content = m.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    text = block.get("content")
                    if isinstance(text, list):
                        text = " ".join(str(b.get("text", "")) for b in text if isinstance(b, dict))
                    results.append({"is_error": bool(block.get("is_error")), "content": str(text)[:300]})
    return {
        "model": body.get("model"),
        "stream": bool(body.get("stream")),
        "messages": len(body.get("messages") or []),
        "tools": [t.get("name") for t in body.get("tools") or []],
        "tool_results": results,
    }


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-anthropic/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:  # quiet: we keep our own log
        pass

    def _log(self, entry: dict) -> None:
        log_path = self.server.log_path  # type: ignore[attr-defined]
        line = json.dumps(entry)
        with self.server.lock:  # type: ignore[attr-defined]
            if log_path:
                with open(log_path, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            print("fake-anthropic: " + line[:400], file=sys.stderr, flush=True)

    def _send_json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", "req_e2e")
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        key = self.server.key  # type: ignore[attr-defined]
        if not key:
            return True
        bearer = self.headers.get("authorization", "")
        return self.headers.get("x-api-key") == key or bearer == f"Bearer {key}"

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/healthz"):
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad json"}})
            return
        path = self.path.split("?", 1)[0]
        if not self._authorized():
            self._log({"path": path, "status": 401})
            self._send_json(
                401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            )
            return
        if path.endswith("/messages/count_tokens"):
            self._log({"path": path, "status": 200})
            self._send_json(200, {"input_tokens": 1200})
            return
        if not path.endswith("/v1/messages"):
            self._log({"path": path, "status": 404})
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": path}})
            return
        blocks, stop = script_turn(body)
        entry = {"path": path, "status": 200, "reply": stop, **summarize(body)}
        self._log(entry)
        model = body.get("model") or "claude-e2e"
        if body.get("stream"):
            self._stream(model, blocks, stop)
        else:
            self._send_json(
                200,
                {
                    "id": "msg_e2e",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": usage(50),
                },
            )

    def _stream(self, model: str, blocks: list[dict], stop: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.send_header("request-id", "req_e2e")
        self.end_headers()
        self.close_connection = True

        def event(name: str, data: dict) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_e2e",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage(1),
                },
            },
        )
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": block["text"]},
                    },
                )
            else:
                event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
                    },
                )
                payload = json.dumps(block["input"])
                half = len(payload) // 2
                for part in (payload[:half], payload[half:]):
                    event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": part},
                        },
                    )
            event("content_block_stop", {"type": "content_block_stop", "index": index})
        event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 50},
            },
        )
        event("message_stop", {"type": "message_stop"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--log", type=Path)
    parser.add_argument("--key", default="", help="the only accepted API key (default: any)")
    args = parser.parse_args(argv)

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    httpd.log_path = args.log  # type: ignore[attr-defined]
    httpd.key = args.key  # type: ignore[attr-defined]
    httpd.lock = threading.Lock()  # type: ignore[attr-defined]
    port = httpd.server_address[1]
    if args.port_file:
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.replace(args.port_file)
    print(f"fake-anthropic: listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
