"""A tiny OpenAI-compatible Chat Completions server for tests: it replays scripted replies
(tool calls or text), plain JSON or as a server-sent-event stream, on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]


_ids = itertools.count(1)


def tool_calls(*calls: tuple[str, dict[str, Any]]) -> Reply:
    return {
        "tool_calls": [
            {"id": f"call_{next(_ids)}", "name": n, "arguments": json.dumps(a)} for n, a in calls
        ]
    }


def text(body: str | dict[str, Any]) -> Reply:
    return {"content": body if isinstance(body, str) else json.dumps(body)}


def status(code: int) -> Reply:
    """An error answer (e.g. 429, 503) before the next scripted reply."""
    return {"status": code}


class ChatServer:
    """Serves `replies` in order; records every request body."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _next(self) -> Reply:
        with self.lock:
            if not self.replies:
                return {"status": 500, "error": "script exhausted"}
            return self.replies.pop(0)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                body = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.endswith("/models"):
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [
                                {
                                    "id": "tiny-local",
                                    "object": "model",
                                    "created": 0,
                                    "owned_by": "me",
                                }
                            ],
                        },
                    )
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append(request)
                reply = server._next()
                if "status" in reply:
                    self._json(
                        reply["status"],
                        {"error": {"message": reply.get("error", "try again"), "type": "x"}},
                        {"Retry-After": "0"},
                    )
                elif request.get("stream"):
                    self._stream(request, reply)
                else:
                    self._json(200, _completion(request, reply))

            def _stream(self, request: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for chunk in _chunks(request, reply):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler

    @contextmanager
    def running(self) -> Iterator[ChatServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join(timeout=5)


USAGE = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}


def _message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
    if "tool_calls" in reply:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in reply["tool_calls"]
        ]
    return message


def _completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    finish = "tool_calls" if "tool_calls" in reply else "stop"
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "tiny-local"),
        "choices": [{"index": 0, "message": _message(reply), "finish_reason": finish}],
        "usage": USAGE,
    }


def _chunks(request: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": request.get("model", "tiny-local"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    if "content" in reply:
        content = reply["content"]
        for i in range(0, len(content), 40):
            yield chunk({"content": content[i : i + 40]})
        yield chunk({}, "stop")
    else:
        for i, call in enumerate(reply["tool_calls"]):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": i,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": ""},
                        }
                    ]
                }
            )
            args = call["arguments"]
            for j in range(0, len(args), 30):
                yield chunk(
                    {"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 30]}}]}
                )
        yield chunk({}, "tool_calls")
    yield {**base, "choices": [], "usage": USAGE}
