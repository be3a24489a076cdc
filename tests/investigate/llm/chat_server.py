"""A tiny OpenAI-compatible Chat Completions server for tests, on 127.0.0.1.

It replays scripted replies in order (tool calls, text, error statuses, raw bodies, a reply cut
off at the output limit, a request that is never answered), plain JSON or as a server-sent
event stream. Like vLLM, Ollama and llama.cpp's server it speaks HTTP/1.1 and keeps every
connection open (each answer has a Content-Length), so a client that reuses its connection pool
across event loops fails here as it would against them. `context` makes it report a context
size the way one of those servers does (`context_at`: llama.cpp's `/props`, vLLM's `/models`,
Ollama's `/api/ps`); `hang_all` makes it accept every request and answer none.
"""

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


def tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> Reply:
    """Tool calls; a `str` argument is sent as is (e.g. JSON that a strict parser refuses)."""
    return {
        "tool_calls": [
            {
                "id": f"call_{next(_ids)}",
                "name": n,
                "arguments": a if isinstance(a, str) else json.dumps(a),
            }
            for n, a in calls
        ]
    }


def text(body: str | dict[str, Any]) -> Reply:
    return {"content": body if isinstance(body, str) else json.dumps(body)}


def status(code: int, error: str = "try again") -> Reply:
    """An error answer (e.g. 429, 503) before the next scripted reply."""
    return {"status": code, "error": error}


def raw(body: str, content_type: str = "application/json") -> Reply:
    """A 200 answer with this body as is (e.g. something that is not JSON)."""
    return {"raw": body, "content_type": content_type}


def cut_off(reply: Reply) -> Reply:
    """`reply` with `finish_reason: length`: the server stopped at the output limit."""
    return {**reply, "finish": "length"}


def trickle(reply: Reply, seconds_per_byte: float = 0.2) -> Reply:
    """`reply` (plain or streamed) sent one byte at a time, `seconds_per_byte` apart: a body
    that keeps arriving, slower than any timeout between reads would notice."""
    return {**reply, "trickle": seconds_per_byte}


def hang() -> Reply:
    """Accept the request and never answer it (until the server shuts down)."""
    return {"hang": True}


class ChatServer:
    """Serves `replies` in order; records every request body (and every connection opened)."""

    def __init__(
        self,
        replies: list[Reply],
        context: int | None = None,
        context_at: str = "props",
        hang_all: bool = False,
        usage: bool = True,
        web_ui: bool = False,
    ) -> None:
        self.replies = list(replies)
        self.usage = usage
        self.context = context
        self.context_at = context_at
        #: Every GET answers a web page, as a web UI's root given as the base URL does.
        self.web_ui = web_ui
        #: Bytes of trickled bodies sent, and of the bodies there were to send.
        self.trickled = 0
        self.to_trickle = 0
        self.hang_all = hang_all
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _next(self) -> Reply:
        with self.lock:
            if not self.replies:
                return {"status": 500, "error": "script exhausted"}
            return self.replies.pop(0)

    def _models(self) -> dict[str, Any]:
        model: dict[str, Any] = {"id": "tiny-local", "object": "model", "created": 0}
        if self.context is not None and self.context_at == "models":
            model["max_model_len"] = self.context  # vLLM
        return {"object": "list", "data": [model]}

    def _context(self, path: str) -> dict[str, Any] | None:
        if self.context is None:
            return None
        if path.endswith("/props") and self.context_at == "props":  # llama.cpp
            return {"default_generation_settings": {"n_ctx": self.context}, "total_slots": 1}
        if path.endswith("/api/ps") and self.context_at == "ps":  # Ollama
            entry = {"name": "tiny-local", "model": "tiny-local", "context_length": self.context}
            return {"models": [entry]}
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections += 1

            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self, code: int, body: bytes, content_type: str, pace: float = 0.0, **headers: str
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if not pace:
                    self.wfile.write(body)
                    self.wfile.flush()
                    return
                server.to_trickle += len(body)
                for i in range(len(body)):
                    if server.stopping.wait(pace):
                        break
                    try:
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up on it
                        break
                    server.trickled += 1
                self.close_connection = True

            def _json(self, code: int, payload: Any, **headers: str) -> None:
                self._send(code, json.dumps(payload).encode(), "application/json", **headers)

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append({"GET": self.path})
                if server.hang_all:
                    server.stopping.wait()
                    self.close_connection = True
                elif server.web_ui:
                    self._send(200, b"<!doctype html><html><title>Chat UI</title>", "text/html")
                elif self.path.endswith("/models"):
                    self._json(200, server._models())
                elif (context := server._context(self.path)) is not None:
                    self._json(200, context)
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append(request)
                reply = server._next()
                if reply.get("hang"):
                    server.stopping.wait()
                    self.close_connection = True
                elif "status" in reply:
                    self._json(
                        reply["status"],
                        {"error": {"message": reply["error"], "type": "x"}},
                        **{"Retry-After": "0"},
                    )
                elif "raw" in reply:
                    self._send(200, reply["raw"].encode(), reply["content_type"])
                elif request.get("stream"):
                    chunks = _chunks(request, reply, server.usage)
                    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
                    self._send(
                        200,
                        (body + "data: [DONE]\n\n").encode(),
                        "text/event-stream",
                        pace=reply.get("trickle", 0.0),
                    )
                else:
                    completion = json.dumps(_completion(request, reply, server.usage)).encode()
                    self._send(200, completion, "application/json", reply.get("trickle", 0.0))

        return Handler

    @contextmanager
    def running(self) -> Iterator[ChatServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join(timeout=5)

    @property
    def chat(self) -> list[dict[str, Any]]:
        """The Chat Completions requests received."""
        return [r for r in self.requests if "messages" in r]


USAGE = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}


def _finish(reply: Reply) -> str:
    return str(reply.get("finish") or ("tool_calls" if "tool_calls" in reply else "stop"))


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


def _completion(request: dict[str, Any], reply: Reply, usage: bool) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "tiny-local"),
        "choices": [{"index": 0, "message": _message(reply), "finish_reason": _finish(reply)}],
        **({"usage": USAGE} if usage else {}),
    }


def _chunks(request: dict[str, Any], reply: Reply, usage: bool) -> Iterator[dict[str, Any]]:
    """The reply as stream chunks; usage comes last, and only if the client asked for it."""
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": request.get("model", "tiny-local"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": ""})
    if reply.get("content"):
        content = reply["content"]
        for i in range(0, len(content), 40):
            yield chunk({"content": content[i : i + 40]})
    for i, call in enumerate(reply.get("tool_calls", [])):
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
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": args[j : j + 30]}}]})
    yield chunk({}, _finish(reply))
    if usage and (request.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": USAGE}
