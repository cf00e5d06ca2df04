"""A minimal Cloud Storage JSON API stand-in on loopback, for reading ``gs://`` exports.

It serves what ``google-cloud-storage``'s ``Blob.open("r")`` asks for: object metadata
(``GET /storage/v1/b/{bucket}/o/{object}``) and media downloads with ``Range``
(``GET /download/storage/v1/b/{bucket}/o/{object}?alt=media``). Objects live in memory.
"""

from __future__ import annotations

import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from lzsync.devtools.http_server import BackgroundServer, QuietHandler

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

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server names handlers so
                url = urlsplit(self.path)
                match = _OBJECT_PATH.match(url.path)
                key = (match.group(2), unquote(match.group(3))) if match else None
                if key is None or key not in server.objects:
                    error = {"error": {"code": 404, "message": "No such object"}}
                    self.reply_json(404, error)
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
                    self.reply_json(200, metadata)
                    return
                requested = _RANGE.match(self.headers.get("Range", ""))
                if requested:
                    start = int(requested.group(1))
                    end = int(requested.group(2)) if requested.group(2) else len(data) - 1
                    part = data[start : end + 1]
                    self.reply(
                        206,
                        part,
                        "application/octet-stream",
                        Content_Range=f"bytes {start}-{start + len(part) - 1}/{len(data)}",
                        x_goog_generation="1",
                    )
                else:
                    self.reply(200, data, "application/octet-stream", x_goog_generation="1")

        return Handler
