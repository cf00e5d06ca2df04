"""A minimal Cloud Storage JSON API stand-in on loopback, for reading ``gs://`` exports.

It serves what ``google-cloud-storage``'s ``Blob.open("r")`` asks for: object metadata
(``GET /storage/v1/b/{bucket}/o/{object}``) and media downloads with ``Range``
(``GET /download/storage/v1/b/{bucket}/o/{object}?alt=media``). Objects live in memory.
"""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from lzsync.devtools.http_server import BackgroundServer

_OBJECT_PATH = re.compile(r"^(/download)?/storage/v1/b/([^/]+)/o/(.+)$")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class ObjectServer(BackgroundServer):
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        super().__init__(self._handler())

    def start(self) -> ObjectServer:
        self.start_serving()
        return self

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                match = _OBJECT_PATH.match(url.path)
                key = (match.group(2), unquote(match.group(3))) if match else None
                if key is None or key not in server.objects:
                    error = {"error": {"code": 404, "message": "No such object"}}
                    self._reply(404, json.dumps(error).encode(), "application/json")
                    return
                data = server.objects[key]
                if not match or not match.group(1):
                    metadata = {
                        "bucket": key[0],
                        "name": key[1],
                        "size": str(len(data)),
                        "generation": "1",
                        "contentType": "application/x-ndjson",
                    }
                    self._reply(200, json.dumps(metadata).encode(), "application/json")
                    return
                requested = _RANGE.match(self.headers.get("Range", ""))
                if requested:
                    start = int(requested.group(1))
                    end = int(requested.group(2)) if requested.group(2) else len(data) - 1
                    part = data[start : end + 1]
                    self._reply(
                        206,
                        part,
                        "application/octet-stream",
                        Content_Range=f"bytes {start}-{start + len(part) - 1}/{len(data)}",
                        x_goog_generation="1",
                    )
                else:
                    self._reply(200, data, "application/octet-stream", x_goog_generation="1")

        return Handler
