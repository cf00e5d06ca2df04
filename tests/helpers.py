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


# --- the real-time function and the state it must converge to -------------------------------
# Fields of a ``resources`` document that say when or by which layer it was written, not what
# the asset is: a snapshot-written and an event-written document of one version differ there.
WRITE_FIELDS = frozenset({"source", "synced_at", "event_time", "event_synced_at"})


def feed_envelope(data: bytes, message_id: str) -> dict[str, Any]:
    """The push envelope Pub/Sub posts for one message (what functions-framework receives)."""
    import base64

    return {
        "subscription": "projects/p/subscriptions/asset-events",
        "message": {
            "messageId": message_id,
            "data": base64.b64encode(data).decode(),
            "publishTime": "2026-12-04T12:00:00Z",
        },
    }


@contextmanager
def asset_events_function() -> Iterator[Any]:
    """``deliver(data, message_id) -> HTTP status``: one Pub/Sub delivery to the asset_events
    function as deployed (functions-framework CloudEvent app, one instance: one group
    committer), reading the environment as it is now. Safe to call from many threads at once
    (each thread gets its own test client), which is how requests come to share a batch."""
    import threading

    from functions_framework import create_app

    from lzsync.devtools.landing_zone import project_root
    from lzsync.services import asset_events_event

    reload_settings()
    asset_events_event._service.cache_clear()
    source = project_root() / "functions" / "asset_events" / "main.py"
    app = create_app(target="asset_events", source=str(source), signature_type="cloudevent")
    local = threading.local()

    def deliver(data: bytes, message_id: str) -> int:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = app.test_client()
        return int(client.post("/", json=feed_envelope(data, message_id)).status_code)

    try:
        yield deliver
    finally:
        reload_settings()
        asset_events_event._service.cache_clear()


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A ``resources`` document without the fields that record how it was written."""
    return {key: value for key, value in document.items() if key not in WRITE_FIELDS}


def expected_resources(
    simulator: Any, version: int, rewrite: Any = None
) -> dict[str, dict[str, Any]]:
    """What ``resources`` must hold once ``version`` of the estate is synced, by asset name,
    normalised the way lzsync normalises (no constraints loaded: nothing judged); ``rewrite``
    is the same rewrite the test applied to listed assets and feed messages, if any."""
    from lzsync.logic.asset_normalize import resource_document

    assets = simulator.assets(version)
    if rewrite is not None:
        assets = (rewrite(asset) for asset in assets)
    return {
        asset["name"]: comparable(resource_document(asset, source="expected")) for asset in assets
    }


def stored_resources(db: Any) -> dict[str, dict[str, Any]]:
    return {
        document["name"]: comparable(document)
        for document in (snapshot.to_dict() for snapshot in db.collection("resources").stream())
    }


def resource_differences(
    stored: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """Asset name → what is wrong with it (missing, resurrected, or which fields differ)."""
    wrong: dict[str, str] = {}
    for name in stored.keys() | expected.keys():
        held, wanted = stored.get(name), expected.get(name)
        if held is None:
            wrong[name] = "missing"
        elif wanted is None:
            wrong[name] = "present but deleted in the estate"
        elif held != wanted:
            fields = sorted(k for k in held.keys() | wanted.keys() if held.get(k) != wanted.get(k))
            wrong[name] = f"fields differ: {', '.join(fields)}"
    return wrong


def inventory_mismatch(db: Any, documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """How ``inventory/assets`` disagrees with ``documents`` on the counts both layers keep
    (the total and the counts by type; empty when it agrees). The real-time layer moves only
    those; by project and by location are the snapshot's recount."""
    from collections import Counter

    inventory = db.collection("inventory").document("assets").get().to_dict() or {}
    by_type = Counter(document["asset_type"] for document in documents.values())
    held_by_type = {k: v for k, v in (inventory.get("by_type") or {}).items() if v}
    mismatch: dict[str, Any] = {}
    if inventory.get("total") != len(documents):
        mismatch["total"] = (inventory.get("total"), len(documents))
    for asset_type in held_by_type.keys() | by_type.keys():
        if held_by_type.get(asset_type, 0) != by_type.get(asset_type, 0):
            mismatch[asset_type] = (held_by_type.get(asset_type, 0), by_type.get(asset_type, 0))
    return mismatch
