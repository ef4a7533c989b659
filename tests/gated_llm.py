"""A local OpenAI-compatible endpoint whose answers wait at a gate.

A drafting worker calls the provider after its early checks and before its write, so holding the
answer holds the worker there: two workers can be lined up to race for the write, or one can be
killed mid-draft. Real HTTP on a real socket; nothing of ours is replaced.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Thanks for writing. We are looking into it and will get back to you shortly."
GATE_TIMEOUT_SECONDS = 60.0  # a request nobody opens the gate for is answered anyway, so no thread hangs


class GatedChatServer:
    def __init__(self, text: str = ANSWER):
        self.arrived = 0
        self._arrivals = threading.Condition()
        self._gate = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with server._arrivals:
                    server.arrived += 1
                    server._arrivals.notify_all()
                server._gate.wait(GATE_TIMEOUT_SECONDS)
                body = json.dumps({
                    "id": "chatcmpl-gated", "object": "chat.completion", "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520}}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker that asked was killed while it waited

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for_requests(self, count: int, timeout: float) -> bool:
        """True once `count` requests are waiting at (or went through) the gate."""
        with self._arrivals:
            return self._arrivals.wait_for(lambda: self.arrived >= count, timeout)

    def open(self) -> None:
        """Answer the waiting requests, and every later one at once."""
        self._gate.set()

    def close(self) -> None:
        self._gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
