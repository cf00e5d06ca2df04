"""The asset snapshot against the Firestore emulator, reading a simulated landing zone through
the real google-cloud-asset client pointed at the local ListAssets server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.asset_sources import ExportSource, ListingSource, listing_client
from lzsync.adapters.event_store import EventStore
from lzsync.adapters.resource_store import resource_id
from lzsync.collection_names import Collections
from lzsync.devtools.asset_server import AssetServer
from lzsync.devtools.object_server import ObjectServer
from lzsync.devtools.simulator import Simulator
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.rate_limit import RequestPacer
from lzsync.model.feed import parse_feed_message
from lzsync.services import asset_snapshot_http
from lzsync.services.asset_snapshot import SnapshotOutcome
from lzsync.settings import Settings
from tests.conftest import PROJECT_ID
from tests.helpers import FORMATS_DIR, reload_settings, scheduled_function

SIZE = 1200  # two ListAssets pages of 1,000
SHARDS = 16


@pytest.fixture
def simulator() -> Simulator:
    return Simulator(size=SIZE, seed=11)


@pytest.fixture
def server(simulator) -> Iterator[AssetServer]:
    running = AssetServer(simulator).start()
    yield running
    running.stop()


def settings(**overrides) -> Settings:
    values = {
        "project_id": PROJECT_ID,
        "asset_manifest_shards": SHARDS,
        "asset_retry_schedule_seconds": (0.01, 0.02),
        "asset_requests_per_minute": 600_000,
        "circuit_failure_threshold": 3,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def snapshot(db, server: AssetServer, simulator: Simulator, **overrides) -> SnapshotOutcome:
    config = settings(**overrides)
    source = ListingSource(
        client=listing_client(server.endpoint),
        scope=simulator.organization,
        asset_types=config.asset_types,
        page_size=config.asset_page_size,
        pacer=RequestPacer(config.asset_requests_per_minute),
        retry_schedule_seconds=config.asset_retry_schedule_seconds,
    )
    return run_service(db, config, source, simulator.organization, "listing")


def run_service(db, config, source, scope, source_name) -> SnapshotOutcome:
    return asset_snapshot_http.snapshot_service(config, db, scope, source_name).run(source)


def expected_estate(simulator: Simulator, version: int = 0) -> dict[str, str]:
    return {
        asset["name"]: resource_document(asset, source="snapshot")["content_hash"]
        for asset in simulator.assets(version)
    }


def stored_estate(db) -> dict[str, str]:
    return {
        snap.get("name"): snap.get("content_hash")
        for snap in db.collection("resources").select(["name", "content_hash"]).stream()
    }


def update_times(db) -> dict[str, object]:
    return {snap.id: snap.update_time for snap in db.collection("resources").stream()}


def assets_status(db) -> dict:
    return db.collection("sync_status").document("assets").get().to_dict()


def test_a_first_snapshot_writes_every_asset_and_the_inventory(db, server, simulator):
    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "complete"
    assert (outcome.seen, outcome.created, outcome.pages) == (SIZE, SIZE, 2)
    assert stored_estate(db) == expected_estate(simulator)
    inventory = db.collection("inventory").document("assets").get().to_dict()
    assert inventory["total"] == SIZE
    assert sum(inventory["by_type"].values()) == SIZE
    assert inventory["by_type"]["compute.googleapis.com/Instance"] > 0
    status = assets_status(db)
    assert status["state"] == "ok"
    assert status["counts"]["written"] == SIZE
    assert status["read_time"] is not None


def test_an_unchanged_rerun_reads_the_manifest_and_writes_a_handful(db, server, simulator):
    snapshot(db, server, simulator)
    before = update_times(db)

    outcome = snapshot(db, server, simulator)

    assert (outcome.written, outcome.deleted, outcome.unchanged) == (0, 0, SIZE)
    assert update_times(db) == before
    # state, manifest shards, lease, and three small queries for real-time changes and
    # tombstones (a query costs a read even when empty); nothing per asset.
    assert outcome.counts.reads <= SHARDS + 7
    # lease (2) + state + status; no resource, manifest or inventory write.
    assert outcome.counts.writes <= 5


def test_updates_creates_and_deletes_converge_to_the_new_estate(db, server, simulator):
    snapshot(db, server, simulator)
    old, new = expected_estate(simulator, 0), expected_estate(simulator, 3)
    server.version = 3

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "complete"
    assert outcome.created == len(new.keys() - old.keys()) > 0
    assert outcome.deleted == len(old.keys() - new.keys()) > 0
    assert outcome.updated == sum(1 for n in new.keys() & old.keys() if new[n] != old[n]) > 0
    assert stored_estate(db) == new
    deleted_entries = (
        db.collection("activity").where(filter=FieldFilter("kind", "==", "deleted")).get()
    )
    assert {e.get("asset") for e in deleted_entries} == old.keys() - new.keys()


def test_a_listing_that_fails_midway_deletes_nothing_and_says_partial(db, server, simulator):
    snapshot(db, server, simulator)
    server.version = 3
    server.faults[1] = [503, 503, 503]  # page 2 fails beyond the two retries

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "partial"
    assert outcome.deleted == 0
    assert expected_estate(simulator, 0).keys() <= stored_estate(db).keys()
    status = assets_status(db)
    assert (status["state"], status["partial"]) == ("degraded", True)
    assert "page 1" in status["last_error"]["message"]
    assert status["last_success"] is not None  # the Portal can tell how old the data is


def test_a_failed_page_is_retried_from_its_own_token(db, server, simulator):
    server.faults[1] = [429, 503]

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "complete"
    page_two = [path for path in server.requests if "pageToken" in path]
    assert len(page_two) == 3
    assert len(set(page_two)) == 1


def test_repeated_failures_open_the_circuit_and_skip_the_api(db, server, simulator):
    server.faults[0] = [503] * 9
    for _ in range(3):
        assert snapshot(db, server, simulator).outcome == "partial"
    assert assets_status(db)["circuit"]["state"] == "open"
    requests_before = len(server.requests)

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "skipped_circuit_open"
    assert len(server.requests) == requests_before
    assert assets_status(db)["state"] == "failing"


def test_the_mass_deletion_guard_stops_a_suspicious_run(db, server, simulator):
    snapshot(db, server, simulator)
    server.rewrite = lambda asset: asset if "instances" not in asset["name"] else None

    outcome = snapshot(db, server, simulator, asset_max_delete_share=0.1)

    assert outcome.outcome == "guarded"
    assert outcome.deleted == 0
    assert len(stored_estate(db)) == SIZE
    status = assets_status(db)
    assert status["guard"] == {"tripped": True, "would_delete": outcome.would_delete}
    assert "refusing to delete" in status["last_error"]["message"]


def to_snake_case(asset: dict) -> dict:
    resource = dict(asset["resource"])
    resource["discovery_document_uri"] = resource.pop("discoveryDocumentUri")
    resource["discovery_name"] = resource.pop("discoveryName")
    return {
        "name": asset["name"],
        "asset_type": asset["assetType"],
        "resource": resource,
        "ancestors": asset["ancestors"],
        "update_time": asset["updateTime"],
    }


def test_an_export_in_either_spelling_gives_the_same_documents(db, simulator, tmp_path):
    export = tmp_path / "export.ndjson"
    with export.open("w") as out:
        for index, asset in enumerate(simulator.assets()):
            out.write(json.dumps(to_snake_case(asset) if index % 2 else asset) + "\n")
    config = settings()

    outcome = run_service(db, config, ExportSource(str(export)), simulator.organization, "export")

    assert outcome.outcome == "complete"
    assert stored_estate(db) == expected_estate(simulator)


def test_the_real_older_export_sample_is_read(db, tmp_path):
    sample = FORMATS_DIR / "cai" / "psvc_asset-inventory_resource.json.ndjson"
    lines = sample.read_text().splitlines()

    outcome = run_service(db, settings(), ExportSource(str(sample)), "organizations/1", "export")

    assert outcome.outcome == "complete"
    assert outcome.seen == len(lines)
    types = {snap.get("asset_type") for snap in db.collection("resources").stream()}
    assert "compute.googleapis.com/Firewall" in types


def test_a_truncated_export_is_partial(db, simulator, tmp_path):
    snapshot_settings = settings()
    export = tmp_path / "export.ndjson"
    lines = [json.dumps(asset) for asset in simulator.assets()]
    export.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:40])

    outcome = run_service(
        db, snapshot_settings, ExportSource(str(export)), simulator.organization, "export"
    )

    assert outcome.outcome == "partial"
    assert outcome.invalid == 1
    assert outcome.seen == SIZE - 1


def test_odd_asset_names_are_stored_and_found_again(db, server, simulator):
    odd = {
        0: "//compute.googleapis.com/projects/p/zones/z/instances/ünïcødé-日本",
        1: "//storage.googleapis.com/" + "very-long-" * 200,
        2: "//compute.googleapis.com/projects/p///global//networks/../.",
    }
    count = iter(range(SIZE * 10))

    def rename(asset):
        index = next(count) % SIZE
        return {**asset, "name": odd[index]} if index in odd else asset

    server.rewrite = rename
    snapshot(db, server, simulator)
    stored = stored_estate(db)
    assert set(odd.values()) <= stored.keys()

    count = iter(range(SIZE * 10))
    again = snapshot(db, server, simulator)
    assert (again.written, again.deleted) == (0, 0)


def test_bad_assets_are_skipped_and_counted(db, server, simulator):
    snapshot(db, server, simulator)

    def damage(asset):
        if asset["name"].endswith("-001"):
            return {"name": asset["name"], "resource": "not an object"}  # no type
        return asset

    server.rewrite = damage
    outcome = snapshot(db, server, simulator)

    assert outcome.invalid > 0
    assert outcome.outcome == "complete"
    assert outcome.deleted == 0  # named but unusable: kept, not deleted


def test_an_asset_without_a_name_makes_the_listing_partial(db, server, simulator):
    snapshot(db, server, simulator)
    server.version = 3
    server.rewrite = lambda asset: {"assetType": "x"} if asset["name"].endswith("-002") else asset

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "partial"
    assert outcome.deleted == 0


def test_the_function_answers_with_the_outcome(monkeypatch, db, server, simulator):
    monkeypatch.setenv("LZSYNC_ASSET_SCOPE", simulator.organization)
    monkeypatch.setenv("LZSYNC_ASSET_API_ENDPOINT", server.endpoint)
    monkeypatch.setenv("LZSYNC_ASSET_MANIFEST_SHARDS", str(SHARDS))
    with scheduled_function("asset_snapshot") as client:
        response = client.post("/")
        assert response.status_code == 200
        assert response.json["status"] == "complete"
        assert response.json["created"] == SIZE

        monkeypatch.delenv("LZSYNC_ASSET_SCOPE")
        reload_settings()
        refused = client.post("/")
        assert refused.status_code == 500
        assert "LZSYNC_ASSET_SCOPE" in refused.json["error"]


@pytest.fixture
def bucket_client():
    """A real Cloud Storage client aimed at the local object server."""
    objects = ObjectServer().start()
    client = storage.Client(
        project=PROJECT_ID,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=objects.endpoint),
    )
    yield objects, client
    objects.stop()


def test_an_export_in_cloud_storage_is_read_through_the_storage_client(
    db, simulator, bucket_client
):
    objects, client = bucket_client
    body = "".join(json.dumps(asset) + "\n" for asset in simulator.assets())
    objects.objects[("lz-exports", "org/assets.ndjson")] = body.encode()
    source = ExportSource("gs://lz-exports/org/assets.ndjson", storage_client=client)

    outcome = run_service(db, settings(), source, simulator.organization, "export")

    assert outcome.outcome == "complete"
    assert stored_estate(db) == expected_estate(simulator)


def test_a_missing_export_object_is_a_partial_run_not_a_crash(db, simulator, bucket_client):
    _objects, client = bucket_client
    source = ExportSource("gs://lz-exports/missing.ndjson", storage_client=client)

    outcome = run_service(db, settings(), source, simulator.organization, "export")

    assert outcome.outcome == "partial"
    assert "missing.ndjson" in outcome.error


def apply_event(db, asset: dict, start: datetime, deleted: bool = False) -> None:
    change = parse_feed_message(
        json.dumps(
            {"asset": asset, "window": {"startTime": start.isoformat()}, "deleted": deleted}
        ).encode()
    )
    document = None if deleted else resource_document(asset, source="event")
    EventStore(db, Collections(), 3600, 1).apply(change, document)


def test_a_listing_never_overwrites_a_newer_real_time_change(db, server, simulator):
    snapshot(db, server, simulator)
    victim = next(a for a in simulator.assets() if "instances" in a["name"])
    listed_at = datetime(2026, 3, 1, tzinfo=UTC)
    event_at = datetime.now(UTC)
    listed = {**victim, "updateTime": listed_at.isoformat()}
    listed["resource"] = {
        **victim["resource"],
        "data": {**victim["resource"]["data"], "status": "STOPPING"},
    }
    newer = {**victim, "updateTime": event_at.isoformat()}
    newer["resource"] = {
        **victim["resource"],
        "data": {**victim["resource"]["data"], "status": "TERMINATED"},
    }
    apply_event(db, newer, event_at)
    server.rewrite = lambda asset: listed if asset["name"] == victim["name"] else asset

    outcome = snapshot(db, server, simulator)

    assert outcome.superseded == 1
    stored = db.collection("resources").document(resource_id(victim["name"])).get().to_dict()
    assert stored["state"] == "TERMINATED"


def test_an_asset_created_by_an_event_during_the_listing_is_not_deleted(db, server, simulator):
    snapshot(db, server, simulator)
    newcomer = {**next(simulator.assets()), "name": "//storage.googleapis.com/created-just-now"}
    apply_event(db, newcomer, datetime.now(UTC))

    outcome = snapshot(db, server, simulator)

    assert outcome.deleted == 0
    assert db.collection("resources").document(resource_id(newcomer["name"])).get().exists


def test_a_stale_listing_does_not_bring_back_an_asset_an_event_deleted(db, server, simulator):
    snapshot(db, server, simulator)
    victim = next(a for a in simulator.assets() if "buckets" in a["name"] or "storage" in a["name"])
    apply_event(db, victim, datetime.now(UTC), deleted=True)
    changed = {**victim, "updateTime": "2026-03-01T00:00:00Z"}
    changed["resource"] = {
        **victim["resource"],
        "data": {**victim["resource"]["data"], "labels": {"x": "1"}},
    }
    server.rewrite = lambda asset: changed if asset["name"] == victim["name"] else asset

    outcome = snapshot(db, server, simulator)

    assert outcome.superseded == 1
    assert not db.collection("resources").document(resource_id(victim["name"])).get().exists


def test_hostile_asset_shapes_are_stored_safely_or_counted_invalid(db, simulator, tmp_path):
    def hostile(asset):
        name = asset["name"]
        if name.endswith("-001"):
            return {**asset, "ancestors": 5}
        if name.endswith("-002"):
            return {**asset, "name": name + "\ud800"}  # not encodable: a nameless asset
        if asset["assetType"].endswith("/Project"):
            return {**asset, "resource": {**asset["resource"], "data": {"projectId": 12345}}}
        if asset["assetType"].endswith("/Instance"):
            data = {
                **asset["resource"]["data"],
                "labels": {"big": "x" * 1_100_000},
                "disks": [[1, 2]] * 5,
            }
            return {**asset, "resource": {**asset["resource"], "data": data}}
        return asset

    export = tmp_path / "hostile.ndjson"
    export.write_text("".join(json.dumps(hostile(a)) + "\n" for a in simulator.assets()))

    outcome = run_service(db, settings(), ExportSource(str(export)), simulator.organization, "x")

    assert outcome.outcome == "partial"  # the unencodable name: nothing may be deleted
    assert "usable name" in outcome.error
    instance = next(
        snap.to_dict()
        for snap in db.collection("resources").stream()
        if snap.get("asset_type") == "compute.googleapis.com/Instance"
    )
    assert len(instance["labels"]["big"]) <= 1024
    assert outcome.written == outcome.seen  # everything else was stored


def test_a_page_the_client_cannot_parse_makes_the_listing_partial(db, server, simulator):
    server.rewrite = lambda asset: (
        {**asset, "ancestors": 5} if asset["name"].endswith("-001") else asset
    )

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "partial"
    assert "not a ListAssets response" in outcome.error


def test_an_unexpected_failure_is_reported_and_counted(db, server, simulator, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("lzsync.adapters.resource_store.ResourceStore.save_manifest", broken)

    outcome = snapshot(db, server, simulator)

    assert outcome.outcome == "failed"
    status = assets_status(db)
    assert status["state"] == "degraded"
    assert "disk on fire" in status["last_error"]["message"]
    assert status["circuit"]["consecutive_failures"] == 1


def test_a_gateway_timeout_is_retried(db, server, simulator):
    server.faults[0] = [504]

    assert snapshot(db, server, simulator).outcome == "complete"


def test_an_export_with_a_byte_order_mark_and_duplicates_is_complete(db, simulator, tmp_path):
    export = tmp_path / "export.ndjson"
    lines = [json.dumps(asset) for asset in simulator.assets()]
    export.write_text("\ufeff" + "\n".join(lines + lines[:5]) + "\n", encoding="utf-8")

    outcome = run_service(db, settings(), ExportSource(str(export)), simulator.organization, "x")

    assert outcome.outcome == "complete"
    assert outcome.seen == SIZE


def test_a_small_estate_can_still_delete_within_the_minimum_allowance(db, server, simulator):
    snapshot(db, server, simulator)
    gone = {a["name"] for a in list(simulator.assets())[-3:]}
    server.rewrite = lambda asset: None if asset["name"] in gone else asset

    outcome = snapshot(db, server, simulator, asset_max_delete_share=0.0)

    assert (outcome.outcome, outcome.deleted) == ("complete", 3)
