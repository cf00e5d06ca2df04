"""A local stand-in for the Cloud Asset Inventory API: ``ListAssets`` pages of simulated assets.

There is no CAI emulator. This server answers the REST call the real ``google-cloud-asset``
client makes (``GET /v1/{parent}/assets?contentType=1&pageSize=…&pageToken=…&assetTypes=…``,
enums as integers) with the JSON form of ``ListAssetsResponse`` (``assets``, ``nextPageToken``,
``readTime``). A page token pins the estate's version, as a real listing is pinned to its read
time; a ``readTime`` in the request (history backfills) is answered from the version
``version_at`` gives for it, and refused past 35 days as CAI does. Faults can be injected per
page: HTTP errors in Google's error format (429, 503, ...) and slow pages; ``faults`` for the
RESOURCE listing, ``iam_faults`` for the IAM_POLICY one.

Content types, as CAI answers them: the simulator's assets may carry an ``iamPolicy`` (CAI's
``Policy`` JSON). RESOURCE returns assets without it; IAM_POLICY returns only the assets that
have one, as ``name``, ``assetType``, ``ancestors``, ``updateTime`` and ``iamPolicy`` (no
``resource``); unspecified returns only ``name``, ``assetType``, ``ancestors`` and
``updateTime``. ``contentType`` is read as the enum's number (what the client sends: its REST
transport encodes enums as integers, ``$alt=json;enum-encoding=int``) or its name. Pages split
the simulator's slots, not the matching assets, so an IAM_POLICY page may hold few assets or
none and still have a next page (CAI fills its pages; the number of requests is the same).
``POST /_sim/version`` advances the estate (demo and benchmarks, which run the server in its own
process: ``python -m lzsync.devtools.asset_server --size N``).
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from lzsync.devtools.http_server import BackgroundServer, QuietHandler
from lzsync.devtools.simulator import Simulator
from lzsync.settings import Settings

MAX_PAGE_SIZE: Final = 1000  # ListAssets' documented maximum
READ_TIME_WINDOW: Final = timedelta(days=35)  # how far back ListAssets can read
_STATUS_NAMES: Final = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

AssetFilter = Callable[[dict[str, Any]], dict[str, Any] | None]

# ``ContentType`` of the CAI API (google.cloud.asset.v1): number and name, as either may be sent.
UNSPECIFIED: Final = "CONTENT_TYPE_UNSPECIFIED"
RESOURCE: Final = "RESOURCE"
IAM_POLICY: Final = "IAM_POLICY"
_CONTENT_TYPES: Final = {"0": UNSPECIFIED, "1": RESOURCE, "2": IAM_POLICY}
_ENVELOPE: Final[tuple[str, ...]] = ("name", "assetType", "ancestors", "updateTime")


def content_type(value: str | None) -> str | None:
    """The content type a ``contentType`` query value names; None when it names none we serve
    (ORG_POLICY, ACCESS_POLICY, ... or garbage)."""
    if value is None:
        return UNSPECIFIED
    name = _CONTENT_TYPES.get(value, value)
    return name if name in _CONTENT_TYPES.values() else None


def as_listed(asset: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """``asset`` as a listing of content type ``kind`` returns it; None when it is not part of
    that listing (IAM_POLICY lists only assets with a policy)."""
    if kind == RESOURCE:
        return {key: value for key, value in asset.items() if key != "iamPolicy"}
    envelope: dict[str, Any] = {key: asset[key] for key in _ENVELOPE if key in asset}
    if kind == UNSPECIFIED:
        return envelope
    if not asset.get("iamPolicy"):
        return None
    return {**envelope, "iamPolicy": asset["iamPolicy"]}


class AssetServer(BackgroundServer):
    """Serves one simulated estate on a loopback port; faults and version are adjustable."""

    def __init__(self, simulator: Simulator, version: int = 0, port: int = 0) -> None:
        self.simulator = simulator
        self.version = version
        self.requests: list[str] = []
        self.faults: dict[int, list[int]] = defaultdict(list)  # page → statuses, served in turn
        self.iam_faults: dict[int, list[int]] = defaultdict(list)  # the same, IAM_POLICY pages
        self.delays: dict[int, float] = {}  # page → seconds
        self.rewrite: AssetFilter | None = None  # lets a test corrupt or rename assets
        # Which version a listing at a past ``readTime`` sees (history backfills); without it,
        # every listing sees ``version``.
        self.version_at: Callable[[datetime], int] | None = None
        self._lock = threading.Lock()
        super().__init__(self._handler(), port)

    def start(self) -> AssetServer:
        self.start_serving()
        return self

    def _page(
        self,
        version: int,
        page: int,
        size: int,
        types: set[str],
        read_time: str | None = None,
        kind: str = RESOURCE,
    ) -> dict[str, Any]:
        slots = self.simulator.slots(version)
        start, end = page * size, min((page + 1) * size, slots)
        assets = []
        for index in range(start, end):
            asset = self.simulator.asset_at(index, version)
            if asset is None or (types and asset["assetType"] not in types):
                continue
            if self.rewrite is not None:
                asset = self.rewrite(asset)
                if asset is None:
                    continue
            listed = as_listed(asset, kind)
            if listed is not None:
                assets.append(listed)
        body: dict[str, Any] = {
            "readTime": read_time or datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "assets": assets,
        }
        if end < slots:
            pinned = {"v": version, "p": page + 1, "s": size, "t": read_time}
            token = json.dumps(pinned).encode()
            body["nextPageToken"] = base64.urlsafe_b64encode(token).decode()
        return body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def _error(self, status: int, message: str) -> None:
                self.reply_json(
                    status,
                    {
                        "error": {
                            "code": status,
                            "message": message,
                            "status": _STATUS_NAMES.get(status, "UNKNOWN"),
                        }
                    },
                )

            def do_POST(self) -> None:  # noqa: N802 - http.server names handlers so
                url = urlsplit(self.path)
                if url.path == "/_sim/version":
                    server.version = int(parse_qs(url.query)["v"][0])
                    self.reply_json(200, {"version": server.version})
                else:
                    self._error(404, "unknown path")

            def do_GET(self) -> None:  # noqa: N802 - http.server names handlers so
                url = urlsplit(self.path)
                server.requests.append(self.path)
                if not url.path.startswith("/v1/") or not url.path.endswith("/assets"):
                    self._error(404, f"unknown path {url.path}")
                    return
                query = parse_qs(url.query)
                size = min(int(query.get("pageSize", [MAX_PAGE_SIZE])[0]), MAX_PAGE_SIZE)
                version, page = server.version, 0
                read_time = query.get("readTime", [None])[0]
                if read_time is not None:
                    try:
                        at = datetime.fromisoformat(read_time)
                    except ValueError:
                        self._error(400, f"invalid readTime {read_time}")
                        return
                    if at < datetime.now(UTC) - READ_TIME_WINDOW:
                        self._error(400, "readTime must be within the last 35 days")
                        return
                    if server.version_at is not None:
                        version = server.version_at(at)
                if "pageToken" in query:
                    try:
                        token = json.loads(base64.urlsafe_b64decode(query["pageToken"][0]))
                        version, page, size = token["v"], token["p"], token["s"]
                        read_time = token.get("t")
                    except (ValueError, KeyError):
                        self._error(400, "invalid page token")
                        return
                kind = content_type(query.get("contentType", [None])[0])
                if kind is None:
                    self._error(400, f"content type {query['contentType'][0]} is not served")
                    return
                faults = server.iam_faults if kind == IAM_POLICY else server.faults
                with server._lock:
                    pending = faults.get(page)
                    fault = pending.pop(0) if pending else None
                if fault is not None:
                    self._error(fault, f"injected fault on page {page}")
                    return
                delay = server.delays.get(page)
                if delay:
                    time.sleep(delay)
                types = set(query.get("assetTypes", []))
                body = server._page(version, page, size, types, read_time, kind)
                self.reply_json(HTTPStatus.OK, body)

        return Handler


def settings_for(server: AssetServer, project_id: str, **overrides: Any) -> Settings:
    """Settings that snapshot this server's estate (no quota to respect on loopback)."""
    values: dict[str, Any] = {
        "project_id": project_id,
        "asset_scope": server.simulator.organization,
        "asset_api_endpoint": server.endpoint,
        "asset_requests_per_minute": 100_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a simulated estate as ListAssets pages")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    server = AssetServer(Simulator(arguments.size, arguments.seed), port=arguments.port).start()
    print(server.endpoint, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
