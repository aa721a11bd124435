"""A local HTTP server that replays what the networks document, so the real client code
(Mastodon.py, atproto, httpx) runs end to end against it.

Payloads under payloads/ are built from the examples on the networks' documentation pages
(payloads/README.md names each page); tests copy them and change the fields they exercise.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAYLOADS = Path(__file__).parent / "payloads"
# A 1x1 transparent PNG: the image the publication tests attach.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def payload(name: str) -> Any:
    """A fresh copy of a documented payload."""
    return copy.deepcopy(json.loads((PAYLOADS / name).read_text(encoding="utf-8")))


@dataclass
class Answer:
    """One response the server gives."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"


def image(content: bytes = PNG, content_type: str = "image/png") -> Answer:
    """An image server's answer: `content` as `content_type`."""
    return Answer(raw=content, content_type=content_type)


@dataclass
class Route:
    method: str
    path: str
    query: dict[str, str]
    answers: list[Answer]
    served: int = 0


@dataclass
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The request body as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """The request body as a form."""
        return parse_qs(self.body.decode())


class _QuietServer(ThreadingHTTPServer):
    """A server that lets a client hang up early (an image refused as too big) unreported."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ReplayServer:
    """Routes (method, path, some query values) to answers given in turn, the last repeated."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                answer = server._answer(seen)
                data = (
                    answer.raw
                    if answer.raw is not None
                    else (json.dumps(answer.body).encode() if answer.body is not None else b"")
                )
                self.send_response(answer.status)
                if data:
                    self.send_header("Content-Type", answer.content_type)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def add(
        self,
        method: str,
        path: str,
        *answers: Answer,
        query: dict[str, str] | None = None,
        body: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer `method path` (and, when given, only requests with these query values)."""
        if not answers:
            answers = (Answer(status=status, body=body, headers=headers or {}),)
        with self._lock:
            self.routes.append(Route(method, path, query or {}, list(answers)))

    def _answer(self, seen: Seen) -> Answer:
        with self._lock:
            self.requests.append(seen)
            matching = [
                route
                for route in self.routes
                if route.method == seen.method
                and route.path == seen.path
                and all(seen.query.get(k, [None])[0] == v for k, v in route.query.items())
            ]
            if not matching:
                return Answer(404, {"error": f"no replay for {seen.method} {seen.path}"})
            # The most specific route (most query values) wins, then the latest added.
            route = max(reversed(matching), key=lambda r: len(r.query))
            answer = route.answers[min(route.served, len(route.answers) - 1)]
            route.served += 1
            return answer

    def seen(self, method: str, path: str) -> list[Seen]:
        """The requests received for `method path`."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


class WebsocketReplay:
    """A local websocket server (the `websockets` library's) that sends each client the
    messages given, then closes; it keeps the path each client asked for."""

    def __init__(self, messages: list[Any]) -> None:
        from websockets.sync.server import ServerConnection, serve

        self.messages = messages
        self.paths: list[str] = []

        def handler(connection: ServerConnection) -> None:
            assert connection.request is not None
            self.paths.append(connection.request.path)
            for message in self.messages:
                connection.send(message if isinstance(message, str) else json.dumps(message))
            connection.close()

        self.server = serve(handler, "127.0.0.1", 0)
        port = self.server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
