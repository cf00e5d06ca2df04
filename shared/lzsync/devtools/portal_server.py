"""Serve the built sync-status page (``portal/dist``) on a free loopback port, with a
``config.json`` made for the running Firestore emulator.

The page reads its Firebase settings from ``config.json`` at start-up, so the one build that
``make setup`` made serves any emulator: this server answers that one path itself and every
other path from the build. Used by the browser test and the demo; never deployed.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import unquote

from lzsync.devtools.http_server import BackgroundServer, QuietHandler
from lzsync.devtools.landing_zone import project_root

CONFIG_PATH: Final = "/config.json"
# Portal users carry the custom claim portal: true (the security rules' test for a reader); the
# emulator takes this unsigned token in place of a Firebase Auth sign-in.
MOCK_PORTAL_USER: Final[dict[str, Any]] = {"sub": "portal-dev", "portal": True}


class PortalBuildMissing(FileNotFoundError):
    """``portal/dist`` has not been built (``make setup`` builds it)."""


def portal_dist() -> Path:
    return project_root() / "portal" / "dist"


def emulator_config(
    project_id: str, firestore_host: str, *, collection_prefix: str = ""
) -> dict[str, Any]:
    """The page's config for an emulator at ``firestore_host`` (``host:port``, the form of
    ``FIRESTORE_EMULATOR_HOST``). The web SDK wants an API key and app id even though the
    emulator checks neither."""
    host, _, port = firestore_host.rpartition(":")
    return {
        "firebase": {
            "apiKey": "emulator-only",
            "projectId": project_id,
            "authDomain": f"{project_id}.firebaseapp.com",
            "appId": "emulator-only",
        },
        "emulator": {"host": host, "port": int(port), "mockUserToken": MOCK_PORTAL_USER},
        "collectionPrefix": collection_prefix,
    }


class _PortalHandler(QuietHandler):
    # Set on the subclass that serve_portal makes for one server.
    root: ClassVar[Path]
    config_body: ClassVar[bytes]

    def do_GET(self) -> None:  # noqa: N802 - http.server names handlers so
        path = unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if path == CONFIG_PATH:
            self.reply(200, self.config_body, "application/json", Cache_Control="no-store")
            return
        file = self._file(path)
        if file is None:
            self.reply(404, b"not found\n", "text/plain")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        self.reply(200, file.read_bytes(), content_type, Cache_Control="no-store")

    def _file(self, path: str) -> Path | None:
        """The build's file for a URL path; None outside the build (no ``..`` escapes)."""
        relative = path.lstrip("/") or "index.html"
        candidate = (self.root / relative).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate


def serve_portal(
    project_id: str,
    firestore_host: str,
    *,
    collection_prefix: str = "",
    dist: Path | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start serving the page for this emulator; returns its URL and a function that stops it."""
    root = (dist or portal_dist()).resolve()
    if not (root / "index.html").is_file():
        raise PortalBuildMissing(f"{root / 'index.html'} missing: run `make setup`")
    config = emulator_config(project_id, firestore_host, collection_prefix=collection_prefix)
    handler = type(
        "PortalHandler",
        (_PortalHandler,),
        {"root": root, "config_body": json.dumps(config).encode()},
    )
    server = BackgroundServer(handler)
    server.start_serving()
    return f"{server.endpoint}/", server.stop


@contextmanager
def running_portal(
    project_id: str, firestore_host: str, *, collection_prefix: str = ""
) -> Iterator[str]:
    """``serve_portal`` as a context manager: yields the page's URL, always stops serving."""
    url, stop = serve_portal(project_id, firestore_host, collection_prefix=collection_prefix)
    try:
        yield url
    finally:
        stop()
