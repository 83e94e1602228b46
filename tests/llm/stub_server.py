"""A loopback OpenAI-compatible stub server for the HTTP client tests (no network: 127.0.0.1 only)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# a behaviour gets (request number 1-based, parsed body) and returns (status, body bytes, headers)
Behaviour = Callable[[int, dict[str, Any]], tuple[int, bytes, dict[str, str]]]


def completion(texts: list[str]) -> bytes:
    return json.dumps({"object": "chat.completion", "choices": [
        {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"} for i, t in enumerate(texts)
    ]}).encode()


def replies(responder: Callable[[dict[str, Any]], str | list[str]]) -> Behaviour:
    """200 with ``responder(body)`` as the completion(s); a str is repeated ``n`` times."""

    def behave(number: int, body: dict[str, Any]):
        out = responder(body)
        texts = [out] * int(body.get("n", 1)) if isinstance(out, str) else list(out)
        return 200, completion(texts), {}

    return behave


def status(code: int, text: str = '{"error": "stub"}', headers: dict[str, str] | None = None) -> Behaviour:
    return lambda number, body: (code, text.encode(), dict(headers or {}))


def first_then(first: Behaviour, count: int, then: Behaviour) -> Behaviour:
    """``first`` for the first ``count`` requests, ``then`` afterwards."""
    return lambda number, body: first(number, body) if number <= count else then(number, body)


class StubServer:
    """``with StubServer(behaviour) as server:`` … ``server.url`` is ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, behaviour: Behaviour, delay: float = 0.0):
        self.behaviour = behaviour
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with stub._lock:
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = {}
                    stub.requests.append(body)
                    stub.headers.append(dict(self.headers))
                    number = len(stub.requests)
                try:
                    if stub.delay:
                        time.sleep(stub.delay)
                    if self.path != "/v1/chat/completions":
                        code, payload, extra = 404, b'{"error": "no such path"}', {}
                    else:
                        code, payload, extra = stub.behaviour(number, body)
                finally:
                    # the request stops counting before its answer is sent: once the client reads the answer it
                    # may send its next request at once, and that one must not overlap this one in the count
                    with stub._lock:
                        stub.in_flight -= 1
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in extra.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
