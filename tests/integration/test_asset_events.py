"""The asset_events function as deployed (functions-framework CloudEvent app) against the
Firestore emulator, fed real feed payloads and the simulator's change stream."""

from __future__ import annotations

import base64
import copy
import json
import random

import pytest
from functions_framework import create_app
from google.cloud.firestore_v1.base_query import FieldFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lzsync.adapters.event_store import EventStore
from lzsync.adapters.resource_store import resource_id
from lzsync.collection_names import Collections
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.simulator import Simulator
from lzsync.logic.asset_normalize import resource_document
from lzsync.model.feed import parse_feed_message
from lzsync.services import asset_events_event
from lzsync.settings import load_settings
from tests.helpers import load_format

BUCKET_CREATE = load_format("cai/mia_feed_bucket-create.json")
BUCKET_NAME = BUCKET_CREATE["asset"]["name"]


@pytest.fixture
def deliver(monkeypatch, emulators, db):
    monkeypatch.setenv("LZSYNC_EVENTS_STATUS_FLUSH_SECONDS", "0")
    load_settings.cache_clear()
    asset_events_event._service.cache_clear()
    source = project_root() / "functions" / "asset_events" / "main.py"
    client = create_app(target="asset_events", source=str(source), signature_type="cloudevent")
    client = client.test_client()
    counter = iter(range(1_000_000))

    def post(payload: dict | bytes, message_id: str | None = None) -> int:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        envelope = {
            "subscription": "projects/p/subscriptions/asset-events",
            "message": {
                "messageId": message_id or f"m-{next(counter)}",
                "data": base64.b64encode(data).decode(),
                "publishTime": "2026-12-04T12:00:00Z",
            },
        }
        return client.post("/", json=envelope).status_code

    yield post
    load_settings.cache_clear()
    asset_events_event._service.cache_clear()


def resource(db, name: str) -> dict | None:
    return db.collection("resources").document(resource_id(name)).get().to_dict()


def activity_for(db, name: str) -> list[dict]:
    query = db.collection("activity").where(filter=FieldFilter("asset", "==", name))
    return [snap.to_dict() for snap in query.stream()]


def events_status(db) -> dict:
    return db.collection("sync_status").document("events").get().to_dict() or {}


def at(payload: dict, start: str, **changes) -> dict:
    moved = copy.deepcopy(payload)
    moved["window"]["startTime"] = start
    moved["asset"]["updateTime"] = start
    moved.update(changes)
    return moved


def test_a_create_event_appears_with_its_activity_and_counts(deliver, db):
    assert deliver(BUCKET_CREATE) == 200

    stored = resource(db, BUCKET_NAME)
    assert stored["asset_type"] == "storage.googleapis.com/Bucket"
    assert stored["labels"] == {"label1": "value1", "label2": "value2"}
    assert stored["source"] == "event"
    [entry] = activity_for(db, BUCKET_NAME)
    assert (entry["kind"], entry["project"], entry["layer"]) == (
        "created",
        "projects/123123123123",
        "events",
    )
    assert entry["expires_at"] > entry["time"]
    inventory = db.collection("inventory").document("assets").get().to_dict()
    assert inventory["by_type"]["storage.googleapis.com/Bucket"] == 1
    status = events_status(db)
    assert status["counters"]["applied"] == 1
    assert status["lag_seconds"]["samples"] == 1
    assert status["last_event_time"] is not None


def test_an_update_says_what_changed(deliver, db):
    deliver(BUCKET_CREATE)
    update = at(BUCKET_CREATE, "2025-06-17T16:00:00Z", priorAssetState="PRESENT")
    update["asset"]["resource"]["data"]["labels"]["label1"] = "changed"

    deliver(update)

    kinds = {entry["kind"]: entry for entry in activity_for(db, BUCKET_NAME)}
    assert kinds["updated"]["summary"] == "label label1 value1 → changed"
    assert resource(db, BUCKET_NAME)["labels"]["label1"] == "changed"


def test_an_older_event_changes_nothing(deliver, db):
    newer = at(BUCKET_CREATE, "2025-06-18T00:00:00Z")
    newer["asset"]["resource"]["data"]["labels"]["label1"] = "newest"
    deliver(newer)

    deliver(BUCKET_CREATE)  # the original create, arriving late

    assert resource(db, BUCKET_NAME)["labels"]["label1"] == "newest"
    assert events_status(db)["counters"]["ignored"] == 1


def test_a_duplicate_is_applied_once(deliver, db):
    deliver(BUCKET_CREATE, message_id="same")
    deliver(BUCKET_CREATE, message_id="same")

    assert len(activity_for(db, BUCKET_NAME)) == 1
    counters = events_status(db)["counters"]
    assert (counters["applied"], counters["ignored"]) == (1, 1)
    inventory = db.collection("inventory").document("assets").get().to_dict()
    assert inventory["total"] == 1


def test_a_late_update_cannot_resurrect_a_deleted_asset_but_a_recreation_can(deliver, db):
    deliver(BUCKET_CREATE)
    deliver(at(BUCKET_CREATE, "2025-06-17T17:00:00Z", deleted=True))
    assert resource(db, BUCKET_NAME) is None

    deliver(at(BUCKET_CREATE, "2025-06-17T16:00:00Z"))  # older than the delete
    assert resource(db, BUCKET_NAME) is None

    deliver(at(BUCKET_CREATE, "2025-06-17T18:00:00Z"))  # created again, later
    assert resource(db, BUCKET_NAME) is not None
    kinds = sorted(entry["kind"] for entry in activity_for(db, BUCKET_NAME))
    assert kinds == ["created", "created", "deleted"]


def test_a_delete_that_overtakes_its_create_wins(deliver, db):
    deliver(at(BUCKET_CREATE, "2025-06-17T17:00:00Z", deleted=True))
    deliver(BUCKET_CREATE)

    assert resource(db, BUCKET_NAME) is None


def test_the_welcome_message_is_acknowledged_and_ignored(deliver, db):
    text = b"You have successfully configured real time feed 'lz-feed' on 'organizations/1'."

    assert deliver(text) == 200

    assert list(db.collection("_dead_letters").stream()) == []
    assert events_status(db)["counters"]["ignored"] == 1


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe not utf-8",
        b"plain text that is not the welcome",
        b'{"asset": "not an object", "window": {"startTime": "2025-01-01T00:00:00Z"}}',
        b'{"asset": {"name": "//x/y", "assetType": "t"}}',
        b'{"asset": {"name": "//x/y", "assetType": "t"}, "window": {"startTime": "yesterday"}}',
        b'{"asset": {"assetType": "t"}, "window": {"startTime": "2025-01-01T00:00:00Z"}}',
        b'{"asset": {"name": "//x/y"}, "window": {"startTime": "2025-01-01T00:00:00Z"}}',
        b"[]",
    ],
)
def test_a_poison_message_is_dead_lettered_and_acknowledged(deliver, db, data):
    assert deliver(data, message_id="poison") == 200

    [letter] = [snap.to_dict() for snap in db.collection("_dead_letters").stream()]
    assert (letter["layer"], letter["message_id"]) == ("events", "poison")
    assert base64.b64decode(letter["data_base64"]) == data
    assert list(db.collection("resources").stream()) == []
    assert events_status(db)["counters"]["dead_lettered"] == 1


def test_real_feed_samples_all_apply(deliver, db):
    for name in (
        "mia_feed_bucket-create.json",
        "mia_feed_bucketUpdateEvent.json",
        "mia_feed_func-create.json",
        "mia_feed_network-create.json",
        "psvc_vpc-flowlogs-enforcer_feed_asset_inventory.json",
    ):
        assert deliver(load_format(f"cai/{name}")) == 200
    assert len(list(db.collection("resources").stream())) == 5


# Each example runs against the emulator: a few, without hypothesis' per-example deadline.
FEW_EMULATOR_EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
SIM = Simulator(size=400, seed=5, update_share=0.3, delete_share=0.15, create_share=0.1)


def simulator_changes() -> list[bytes]:
    """Three versions of change for a few hundred assets, as feed messages."""
    messages = []
    for before, after in ((0, 1), (1, 2), (2, 3)):
        messages += [json.dumps(change).encode() for change in SIM.changes(before, after)]
    return messages


CHANGES = simulator_changes()


def expected_after_all() -> dict[str, str]:
    """Applying every change in time order to version 0 gives version 3."""
    return {
        asset["name"]: resource_document(asset, source="event")["content_hash"]
        for asset in SIM.assets(3)
    }


@FEW_EMULATOR_EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), duplicate_share=st.floats(0, 0.5))
def test_any_interleaving_and_duplication_converges(emulators, db, seed, duplicate_share):
    emulators.reset_firestore()
    store = EventStore(db, Collections(), tombstone_ttl_seconds=3600, activity_ttl_days=1)
    initial = {asset["name"]: asset for asset in SIM.assets(0)}
    shuffled = list(CHANGES)
    chance = random.Random(seed)
    shuffled += [m for m in CHANGES if chance.random() < duplicate_share]
    chance.shuffle(shuffled)
    # Version 0 as the snapshot would have written it, then the events in any order.
    for asset in initial.values():
        document = resource_document(asset, source="snapshot")
        db.collection("resources").document(resource_id(asset["name"])).set(document)
    for message in shuffled:
        change = parse_feed_message(message)
        document = None if change.deleted else resource_document(change.asset, source="event")
        store.apply(change, document)

    stored = {
        snap.get("name"): snap.get("content_hash") for snap in db.collection("resources").stream()
    }
    assert stored == expected_after_all()


def _store_version_zero(db) -> None:
    for asset in SIM.assets(0):
        document = resource_document(asset, source="snapshot")
        db.collection("resources").document(resource_id(asset["name"])).set(document)


def _items(messages: list[bytes]) -> list[tuple]:
    items = []
    for message in messages:
        change = parse_feed_message(message)
        items.append(
            (change, None if change.deleted else resource_document(change.asset, source="event"))
        )
    return items


@FEW_EMULATOR_EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), largest_batch=st.integers(2, 120))
def test_shared_transactions_converge_like_single_changes(emulators, db, seed, largest_batch):
    """Batches mixing several changes of the same asset (duplicates included) decide each
    change against the batch's earlier ones: same result as one transaction per change."""
    emulators.reset_firestore()
    store = EventStore(db, Collections(), tombstone_ttl_seconds=3600, activity_ttl_days=1)
    chance = random.Random(seed)
    shuffled = list(CHANGES) + chance.sample(CHANGES, len(CHANGES) // 4)
    chance.shuffle(shuffled)
    _store_version_zero(db)
    items = _items(shuffled)
    while items:
        size = chance.randint(1, largest_batch)
        store.apply_batch(items[:size])
        items = items[size:]

    stored = {
        snap.get("name"): snap.get("content_hash") for snap in db.collection("resources").stream()
    }
    assert stored == expected_after_all()


def test_create_then_delete_in_one_batch_leaves_tombstone_feed_and_counts(db):
    store = EventStore(db, Collections(), tombstone_ttl_seconds=3600, activity_ttl_days=1)
    created = parse_feed_message(json.dumps(BUCKET_CREATE).encode())
    deletion = copy.deepcopy(BUCKET_CREATE)
    deletion["deleted"] = True
    deletion["window"]["startTime"] = "2099-01-01T00:00:00Z"
    deleted = parse_feed_message(json.dumps(deletion).encode())

    applied = store.apply_batch(
        [(created, resource_document(created.asset, source="event")), (deleted, None)]
    )

    assert [change.kind for change in applied] == ["created", "deleted"]
    assert resource(db, BUCKET_NAME) is None
    tombstone = db.collection("_tombstones").document(resource_id(BUCKET_NAME)).get()
    assert tombstone.exists
    kinds = sorted(snap.get("kind") for snap in db.collection("activity").stream())
    assert kinds == ["created", "deleted"]
    # +1 and -1 in the same batch: the inventory is not touched at all.
    assert not db.collection("inventory").document("assets").get().exists


def test_group_committer_under_concurrent_requests_converges_with_fewer_transactions(db):
    from concurrent.futures import ThreadPoolExecutor

    from lzsync.adapters.group_commit import GroupCommitter

    store = EventStore(db, Collections(), tombstone_ttl_seconds=3600, activity_ttl_days=1)
    transactions = []

    class CountingStore:
        def apply_batch(self, items):
            transactions.append(len(items))
            return store.apply_batch(items)

    _store_version_zero(db)
    committer = GroupCommitter(CountingStore(), max_batch=50)
    items = _items(CHANGES)
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(lambda item: committer.apply(*item), items))

    stored = {
        snap.get("name"): snap.get("content_hash") for snap in db.collection("resources").stream()
    }
    assert stored == expected_after_all()
    assert sum(transactions) == len(items)
    assert len(transactions) < len(items) / 2, "concurrent changes should share transactions"
    assert max(transactions) <= 50
