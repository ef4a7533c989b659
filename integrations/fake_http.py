"""The HTTP layer the fake Zoho and the fake shop share (integrations/zoho/fake.py,
integrations/shopify/fake.py): a real local server that hands each request, read whole, to the fake's
`app(request) -> Response`, and a route table of (methods, path regex, handler) that `dispatch` walks
in order. A verb the server does not serve at all gets the HTTP server's own 501, as before."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    match: re.Match | None = None  # the route's match, set by dispatch

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]

    def json(self) -> dict:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    content_length: int | None = None  # more than len(body): the connection breaks off mid-body


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(payload).encode(), dict(headers or {}))


Handler = Callable[..., Response]
Route = tuple[frozenset[str], re.Pattern, Handler]


def route(methods: str, pattern: str, handler: Handler) -> Route:
    """One row of a route table: "GET" or "GET PUT", a regex the whole path must match, the handler."""
    return frozenset(methods.split()), re.compile(pattern), handler


def dispatch(routes: list[Route], fake, request: Request, path: str | None = None) -> Response | None:
    """The first route whose method and pattern fit answers `handler(fake, request)`; None if none does.
    `path` is matched instead of request.path when given (the part after a fixed prefix)."""
    target = request.path if path is None else path
    for methods, pattern, handler in routes:
        if request.method in methods and (m := pattern.fullmatch(target)):
            request.match = m
            return handler(fake, request)
    return None


def serve(app: Callable[[Request], Response], methods: tuple[str, ...]) -> tuple[ThreadingHTTPServer, str]:
    """Start a server on a free local port in a daemon thread; each request of one of `methods` is
    read whole and answered by `app`."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _handle(self):
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._write(app(Request(self.command, url.path, parse_qs(url.query), self.headers, body)))

        def _write(self, response: Response):
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            length = len(response.body) if response.content_length is None else response.content_length
            self.send_header("Content-Length", str(length))
            for k, v in response.headers.items():
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(response.body)
                if response.content_length is not None:
                    self.wfile.flush()
                    self.close_connection = True
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests): what the real service would see too

    for method in methods:
        setattr(Handler, f"do_{method}", Handler._handle)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
