"""The real-time layer (``asset_events``) under faults: a burst of feed messages delivered
through the function as deployed (functions-framework CloudEvent app, group commit) while
Firestore is partitioned or the process dies mid-burst. Every failed delivery must answer
non-2xx (Pub/Sub redelivers); redelivering what was not acknowledged, some of it more than
once, must leave exactly the simulator's next version: no change lost, none applied twice
(one activity entry per change, exact inventory counts)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from functions_framework import create_app
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters import clients
from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.simulator import Simulator
from lzsync.logic import docids
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.inventory import InventoryTally
from lzsync.model.feed import parse_feed_message
from lzsync.services import asset_events_event
from lzsync.settings import load_settings
from tests.conftest import PROJECT_ID
from tests.faults.conftest import Partitionable
from tests.faults.faults import (
    compress_retries,
    crash_after,
    lose_reply_after_commit,
    partition_after,
    wait_until_reachable,
)

SIM = Simulator(size=300, seed=11, update_share=0.1, delete_share=0.05, create_share=0.05)
# 54 changes: 23 updates, 16 deletions, 15 creations.
CHANGES: list[bytes] = [json.dumps(change).encode() for change in SIM.changes(0, 1)]
WORKERS = 8  # concurrent deliveries: Pub/Sub pushes many at once, so group commit batches

Deliver = Callable[[int], int]


@pytest.fixture
def deliver(
    partitionable: Partitionable, pdb: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deliver]:
    """POST message ``i`` of the burst as a push envelope to the deployed function (one
    instance, kept warm until :func:`restart`); returns the HTTP status."""
    monkeypatch.setenv("LZSYNC_EVENTS_STATUS_FLUSH_SECONDS", "0")
    restart()
    _store_version_zero(pdb)
    source = project_root() / "functions" / "asset_events" / "main.py"
    app = create_app(target="asset_events", source=str(source), signature_type="cloudevent")

    def post(index: int) -> int:
        envelope = {
            "subscription": "projects/p/subscriptions/asset-events",
            "message": {
                "messageId": f"m-{index}",
                "data": base64.b64encode(CHANGES[index]).decode(),
                "publishTime": "2026-12-04T12:00:00Z",
            },
        }
        return int(app.test_client().post("/", json=envelope).status_code)

    yield post
    restart()


def restart() -> None:
    """A new function instance: settings, service, group committer and clients built afresh."""
    load_settings.cache_clear()
    asset_events_event._service.cache_clear()
    clients.firestore_client.cache_clear()


def _store_version_zero(db: firestore.Client) -> None:
    """Version 0 as a snapshot leaves it: every resource document and the inventory."""
    tally = InventoryTally()
    batch = db.batch()
    for asset in SIM.assets(0):
        document = resource_document(asset, source="snapshot")
        tally.add(document)
        batch.set(db.collection("resources").document(resource_id(asset["name"])), document)
    batch.commit()
    db.collection("inventory").document("assets").set(tally.summary())


def burst(deliver: Deliver, indices: list[int]) -> dict[int, int]:
    """Deliver these messages concurrently; the status each one got."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(zip(indices, pool.map(deliver, indices), strict=True))


def redeliver(deliver: Deliver, statuses: dict[int, int], rounds: int = 5) -> int:
    """As Pub/Sub does: every message not acknowledged (non-2xx) again, until all are; with
    every acknowledged one duplicated once as well (at-least-once delivery). Returns how
    many deliveries that took."""
    failed = [index for index, status in statuses.items() if not 200 <= status < 300]
    acknowledged = [index for index, status in statuses.items() if 200 <= status < 300]
    deliveries = 0
    pending = failed + acknowledged[::3]
    for _ in range(rounds):
        if not pending:
            return deliveries
        again = burst(deliver, pending)
        deliveries += len(again)
        pending = [index for index, status in again.items() if not 200 <= status < 300]
    raise AssertionError(f"{len(pending)} messages never acknowledged")


def assert_exactly_version_one(db: firestore.Client) -> None:
    expected = {
        asset["name"]: resource_document(asset, source="event")["content_hash"]
        for asset in SIM.assets(1)
    }
    stored = {
        snap.get("name"): snap.get("content_hash")
        for snap in db.collection("resources").select(["name", "content_hash"]).stream()
    }
    assert stored == expected
    # One activity entry per change, under the id that change owns.
    events = db.collection("activity").where(filter=FieldFilter("layer", "==", "events"))
    entries = {
        snap.id: snap.to_dict()
        for snap in events.stream()
        if snap.get("kind") in {"created", "updated", "deleted"}
    }
    owned = {
        docids.encode(f"event:{change.asset_name}:{change.start_time_text}")
        for change in map(parse_feed_message, CHANGES)
    }
    assert set(entries) == owned
    tally = InventoryTally()
    for asset in SIM.assets(1):
        tally.add(resource_document(asset, source="snapshot"))
    inventory = db.collection("inventory").document("assets").get().to_dict() or {}
    want = tally.summary()
    assert (inventory["total"], inventory["by_type"]) == (want["total"], want["by_type"])


def events_status(db: firestore.Client) -> dict:
    return db.collection("sync_status").document("events").get().to_dict() or {}


def failures(statuses: dict[int, int]) -> list[int]:
    return [index for index, status in statuses.items() if not 200 <= status < 300]


def test_replies_lost_after_commits_change_neither_documents_nor_counts(
    deliver: Deliver, pdb: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit lands, then its caller fails (lost reply; process dead right after it). The
    redelivery finds the change applied and must not count it again, nor miss its count."""
    with lose_reply_after_commit(monkeypatch, commits={1, 5, 9, 14, 20, 31}) as lost:
        statuses = {index: deliver(index) for index in range(len(CHANGES))}  # one at a time

    assert lost.lost == 6
    assert len(failures(statuses)) == 6
    redeliver(deliver, statuses)
    assert_exactly_version_one(pdb)


@pytest.mark.parametrize("writes", [0, 45, 120])
def test_a_burst_cut_short_by_a_crash_converges_on_redelivery(
    deliver: Deliver, pdb: firestore.Client, monkeypatch: pytest.MonkeyPatch, writes: int
) -> None:
    """The instance dies after ``writes`` Firestore writes of a concurrent burst: every
    delivery from then on fails (non-2xx); a new instance gets the redeliveries."""
    indices = list(range(len(CHANGES)))
    with crash_after(monkeypatch, writes) as crash:
        statuses = burst(deliver, indices)
    assert crash.tripped
    assert failures(statuses), "a dead instance acknowledged everything"
    restart()

    redeliver(deliver, statuses)

    assert_exactly_version_one(pdb)


def test_a_burst_through_a_firestore_partition_converges_and_reports_the_failure(
    deliver: Deliver,
    pdb: firestore.Client,
    partitionable: Partitionable,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Firestore is partitioned after 40 writes of a concurrent burst, until the burst is
    over. Deliveries that met the outage answer 500 (Pub/Sub redelivers). ``sync_status``
    lives in Firestore, so nothing can mark it ``degraded`` during the outage: the function
    logs each failure and keeps the failed count, which the first flush after the outage
    writes (``degraded``, with the error); the redeliveries then converge exactly and the
    status is ``ok`` again, with the failures it could count kept."""
    monkeypatch.setattr(logging.getLogger("lzsync"), "propagate", True)
    deliver(0)  # warm the instance, then give its client a short retry deadline
    function_client = clients.firestore_client(PROJECT_ID)
    compress_retries(function_client, 1.0)
    indices = list(range(1, len(CHANGES)))
    with partition_after(monkeypatch, partitionable.firestore, 40) as partition:
        statuses = burst(deliver, indices)
    assert partition.cut_at is not None
    failed = failures(statuses)
    assert failed
    assert all(statuses[index] == 500 for index in failed)
    logged = [record.getMessage() for record in caplog.records]
    assert "feed message not applied; redelivery expected" in logged
    assert "sync_status/events not updated" in logged
    partitionable.heal()
    wait_until_reachable(function_client)

    first_after = deliver(failed[0])
    assert 200 <= first_after < 300
    shown = events_status(pdb)
    assert shown["state"] == "degraded"
    assert 1 <= shown["counters"]["failed"] <= len(failed)
    assert "firestore unavailable" in shown["last_error"]
    redeliver(deliver, statuses)

    assert_exactly_version_one(pdb)
    after = events_status(pdb)
    assert after["state"] == "ok"
    assert after["counters"]["failed"] == shown["counters"]["failed"]
