"""A threaded HTTP server on a free loopback port, run in the background for tests and demos."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lzsync.devtools.emulators import LOOPBACK


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers bytes or JSON in one call."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        """Send ``body``; header names in ``headers`` use ``_`` for ``-``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status: int, body: Any) -> None:
        self.reply(status, json.dumps(body).encode(), "application/json; charset=UTF-8")


class BackgroundServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self._server = ThreadingHTTPServer((LOOPBACK, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def start_serving(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
