"""Pub/Sub delivers at least once, in no particular order, and sometimes very late: thousands of
Cloud Asset Inventory feed messages, each delivered one to three times, shuffled, a share held
back until newer changes of the same estate have landed, pushed concurrently through the
asset_events function as deployed (so group commit mixes them in shared transactions), must
leave Firestore exactly as the simulator's final version says. Poison messages mixed in must
land in ``_dead_letters``, and once fixed, the ``lzsync`` command's replay must bring the same
final state, and a second replay must change nothing.

Every plan is drawn from a seeded ``random.Random``: a failure names its seed (in the test id
and in the assertion message) and re-runs the same deliveries.
"""

from __future__ import annotations

import base64
import io
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from google.cloud import pubsub_v1
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.cli import main as lzsync_cli
from lzsync.devtools.simulator import Simulator
from tests.conftest import PROJECT_ID
from tests.helpers import (
    asset_events_function,
    expected_resources,
    inventory_mismatch,
    resource_differences,
    snapshot_of,
    stored_resources,
)

# ~2,000 assets, three version steps with high change shares: ~2,300 feed messages, ~4,600
# deliveries per plan.
SIMULATOR = Simulator(size=2_000, seed=31, update_share=0.25, delete_share=0.08, create_share=0.1)
STEPS = ((0, 1), (1, 2), (2, 3))
FINAL_VERSION = STEPS[-1][1]
CONCURRENT_REQUESTS = 32  # requests in flight at once: what lets group commit batch them
LATE_SHARE = 0.1  # deliveries of older versions held back until everything newer has landed
POISONED = 12  # messages of the last step that arrive unreadable
# A delivery the function failed (500: contention, the emulator's transaction lock timeout)
# is redelivered by Pub/Sub; this many attempts is far more than it ever needs.
MAX_ATTEMPTS = 5
WELCOME = b"You have successfully configured real time feed 'lz' on 'organizations/1'."


@dataclass(frozen=True)
class Message:
    message_id: str
    data: bytes
    asset: str
    start_time: str
    step: int
    deleted: bool


def _messages() -> list[Message]:
    messages = []
    for step, (before, after) in enumerate(STEPS):
        for number, change in enumerate(SIMULATOR.changes(before, after)):
            messages.append(
                Message(
                    message_id=f"v{after}-{number}",
                    data=json.dumps(change).encode(),
                    asset=change["asset"]["name"],
                    start_time=change["window"]["startTime"],
                    step=step,
                    deleted=bool(change.get("deleted")),
                )
            )
    return messages


MESSAGES = _messages()
EXPECTED = expected_resources(SIMULATOR, FINAL_VERSION)


def poisoned(message: Message) -> bytes:
    """The message as a broken publisher might send it: no ``window``, so no version time."""
    change = json.loads(message.data)
    del change["window"]
    return json.dumps(change).encode()


@dataclass
class Plan:
    """Who gets delivered when: ``bulk`` concurrently in shuffled order, then ``late``."""

    seed: int
    bulk: list[tuple[str, bytes]] = field(default_factory=list)
    late: list[tuple[str, bytes]] = field(default_factory=list)
    poison: dict[str, Message] = field(default_factory=dict)  # message id → the good message

    @property
    def deliveries(self) -> int:
        return len(self.bulk) + len(self.late)


def plan(seed: int, poison: int = 0) -> Plan:
    chance = random.Random(seed)
    result = Plan(seed)
    last_step = [m for m in MESSAGES if m.step == len(STEPS) - 1]
    result.poison = {m.message_id: m for m in chance.sample(last_step, poison)}
    deliveries: list[tuple[str, bytes, int]] = []
    for message in MESSAGES:
        data = poisoned(message) if message.message_id in result.poison else message.data
        deliveries += [(message.message_id, data, message.step)] * chance.randint(1, 3)
    chance.shuffle(deliveries)
    for message_id, data, step in deliveries:
        # Only older versions are held back, so each late delivery arrives after newer ones.
        late = step < len(STEPS) - 1 and chance.random() < LATE_SHARE
        (result.late if late else result.bulk).append((message_id, data))
    return result


def deliver_all(deliver: Callable[[bytes, str], int], deliveries: list[tuple[str, bytes]]) -> int:
    """Push ``deliveries`` with CONCURRENT_REQUESTS in flight; a delivery the function failed is
    redelivered, as Pub/Sub would. Returns how many redeliveries that took."""

    def push(delivery: tuple[str, bytes]) -> int:
        message_id, data = delivery
        for attempt in range(MAX_ATTEMPTS):
            if deliver(data, message_id) == 200:
                return attempt
        raise AssertionError(f"{message_id} still failing after {MAX_ATTEMPTS} deliveries")

    with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
        return sum(pool.map(push, deliveries))


def flush_status(deliver: Callable[[bytes, str], int]) -> None:
    """Make the instance write its last counters to ``sync_status/events`` (it flushes at most
    once a second here): wait out the interval, then one welcome message (ignored)."""
    time.sleep(1.1)
    assert deliver(WELCOME, "welcome") == 200


def events_activity(db) -> list[dict]:
    return [
        snapshot.to_dict()
        for snapshot in db.collection("activity")
        .where(filter=FieldFilter("layer", "==", "events"))
        .stream()
    ]


def counters(db) -> Counter:
    status = db.collection("sync_status").document("events").get().to_dict() or {}
    return Counter(status.get("counters") or {})


def assert_converged(db, seed: int) -> None:
    """Firestore holds the final version, nothing deleted survives, the inventory counts what is
    there, and no change of an asset was applied (and recorded) twice."""
    stored = stored_resources(db)
    wrong = resource_differences(stored, EXPECTED)
    assert not wrong, f"seed {seed}: {len(wrong)} assets wrong, e.g. {sorted(wrong.items())[:5]}"
    mismatch = inventory_mismatch(db, stored)
    assert not mismatch, f"seed {seed}: inventory (held, actual) {mismatch}"
    entries = events_activity(db)
    changes = {(m.asset, m.start_time): m for m in MESSAGES}
    for entry in entries:
        key = (entry["asset"], entry["time"].isoformat().replace("+00:00", "Z"))
        assert key in changes, f"seed {seed}: activity for a change never sent: {key}"
        assert (entry["kind"] == "deleted") == changes[key].deleted, f"seed {seed}: {entry}"
    # Each applied delivery writes the activity entry of its change (one id per asset and
    # version time): a change applied twice counts twice here but leaves one entry.
    assert counters(db)["applied"] == len(entries), f"seed {seed}: a change was applied twice"


@pytest.fixture
def events_function(monkeypatch, emulators, db):
    monkeypatch.setenv("LZSYNC_EVENTS_STATUS_FLUSH_SECONDS", "1")
    with asset_events_function() as deliver:
        yield deliver


@pytest.mark.parametrize("seed", [1_001, 2_002])
def test_duplicated_shuffled_and_late_deliveries_converge_to_the_final_version(
    db, events_function, seed
):
    schedule = plan(seed)
    assert snapshot_of(SIMULATOR).outcome == "complete"  # version 0, as the snapshot wrote it

    deliver_all(events_function, schedule.bulk)
    deliver_all(events_function, schedule.late)
    flush_status(events_function)

    assert_converged(db, seed)
    totals = counters(db)
    assert totals["applied"] + totals["ignored"] == schedule.deliveries + 1  # + the welcome
    assert totals["dead_lettered"] == 0
    assert totals["ignored"] >= schedule.deliveries - len(MESSAGES), "duplicates were applied"


@pytest.fixture
def replay_topic(monkeypatch, emulators, unique):
    """The events topic the CLI replays to, with a pull subscription standing in for the push
    subscription: what it receives is delivered to the function like any push."""
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT_ID, f"{unique}-asset-changes")
    publisher.create_topic(name=topic)
    subscription = subscriber.subscription_path(PROJECT_ID, f"{unique}-push")
    subscriber.create_subscription(name=subscription, topic=topic)
    monkeypatch.setenv("LZSYNC_EVENTS_TOPIC", f"{unique}-asset-changes")

    def received() -> list[tuple[str, bytes]]:
        messages: list[tuple[str, bytes]] = []
        while True:
            response = subscriber.pull(
                request={
                    "subscription": subscription,
                    "max_messages": 100,
                    "return_immediately": True,
                }
            )
            if not response.received_messages:
                return messages
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
            messages += [
                (m.message.message_id, bytes(m.message.data)) for m in response.received_messages
            ]

    return received


def cli(*argv: str) -> str:
    out = io.StringIO()
    assert lzsync_cli(list(argv), out=out) == 0
    return out.getvalue()


def firestore_state(db) -> dict[str, dict]:
    return {
        name: {snap.id: snap.to_dict() for snap in db.collection(name).stream()}
        for name in ("resources", "activity", "inventory", "_tombstones")
    }


def test_poison_messages_are_dead_lettered_and_their_fixed_replay_converges(
    db, events_function, replay_topic
):
    seed = 3_003
    schedule = plan(seed, poison=POISONED)
    assert snapshot_of(SIMULATOR).outcome == "complete"

    deliver_all(events_function, schedule.bulk)
    deliver_all(events_function, schedule.late)
    flush_status(events_function)

    # Each poisoned message is recorded once (by its message id), however often delivered.
    letters = {snap.id: snap.to_dict() for snap in db.collection("_dead_letters").stream()}
    assert sorted(letter["message_id"] for letter in letters.values()) == sorted(schedule.poison)
    poisoned_deliveries = sum(
        1 for mid, _ in schedule.bulk + schedule.late if mid in schedule.poison
    )
    assert counters(db)["dead_lettered"] == poisoned_deliveries
    # Their changes are the last of their assets, so exactly those assets are not final yet.
    wrong = resource_differences(stored_resources(db), EXPECTED)
    assert set(wrong) == {message.asset for message in schedule.poison.values()}, seed

    # The operator fixes each letter (puts the window back), then replays with the CLI.
    for doc_id, letter in letters.items():
        fixed = schedule.poison[letter["message_id"]].data
        db.collection("_dead_letters").document(doc_id).update(
            {"data_base64": base64.b64encode(fixed).decode()}
        )
    assert f"replayed {POISONED} dead letter(s)" in cli(
        "dead-letters", "replay", "--layer", "events"
    )
    republished = replay_topic()
    assert sorted(data for _, data in republished) == sorted(
        message.data for message in schedule.poison.values()
    )
    # Pub/Sub may deliver a replayed message twice as well.
    deliver_all(events_function, republished * 2)
    flush_status(events_function)

    assert_converged(db, seed)
    settled = firestore_state(db)
    assert "replayed 0 dead letter(s)" in cli("dead-letters", "replay", "--layer", "events")
    assert replay_topic() == []
    assert firestore_state(db) == settled
