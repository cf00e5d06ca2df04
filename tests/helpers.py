"""Small factories and paths shared by the tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lzsync.devtools.landing_zone import shared_dir

SHARED_DIR = shared_dir()
FORMATS_DIR = SHARED_DIR / "fixtures" / "formats"


def load_format(relative: str) -> Any:
    """A real payload from ``../shared/fixtures/formats``."""
    return json.loads((FORMATS_DIR / relative).read_text())


def load_format_bytes(relative: str) -> bytes:
    return (FORMATS_DIR / relative).read_bytes()


CONSTRAINTS_DIR = "policy-library/policies/constraints/"


def fixture_constraint_files(landing_zone_source: Path) -> dict[str, str]:
    """The landing zone's 28 constraint files at the head of its history: path → YAML text."""
    from lzsync.devtools import landing_zone

    paths = landing_zone.git(
        landing_zone_source, "ls-tree", "--name-only", landing_zone.BRANCH, CONSTRAINTS_DIR
    ).split()
    files = {
        path: landing_zone.git(landing_zone_source, "show", f"{landing_zone.BRANCH}:{path}")
        for path in paths
    }
    assert len(files) == 28
    return files


def publish_policies(db: Any, files: dict[str, str], commit: str) -> None:
    """What git sync leaves behind for the constraint files of ``commit``."""
    from lzsync.logic import docids

    for snapshot in db.collection("documents").stream():
        snapshot.reference.delete()
    for path, text in files.items():
        db.collection("documents").document(docids.encode(f"acme/lz:{path}")).set(
            {"repo": "acme/lz", "path": path, "kind": "policy", "content": text}
        )
    db.collection("sync_status").document("git").set({"last_commit": commit}, merge=True)


def reload_settings() -> None:
    """Make the next request read the environment again (settings are cached per instance)."""
    from lzsync.services.scheduled_http import function_settings
    from lzsync.settings import load_settings

    load_settings.cache_clear()
    function_settings.cache_clear()


@contextmanager
def scheduled_function(target: str) -> Iterator[Any]:
    """A test client of the HTTP function ``target`` as deployed (functions-framework app),
    reading the environment as it is now; the cached settings are dropped again afterwards."""
    from functions_framework import create_app

    from lzsync.devtools.landing_zone import project_root

    reload_settings()
    source = project_root() / "functions" / target / "main.py"
    try:
        yield create_app(target=target, source=str(source), signature_type="http").test_client()
    finally:
        reload_settings()


def snapshot_of(simulator: Any) -> Any:
    """One asset snapshot of ``simulator``'s estate (version 0), served by the local ListAssets
    server for the duration; 8 manifest shards keep a small estate's run short."""
    from lzsync.devtools.asset_server import AssetServer, settings_for
    from lzsync.services.asset_snapshot_http import run_snapshot
    from tests.conftest import PROJECT_ID

    server = AssetServer(simulator).start()
    try:
        return run_snapshot(settings_for(server, PROJECT_ID, asset_manifest_shards=8))
    finally:
        server.stop()
