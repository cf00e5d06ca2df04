"""Pub/Sub outages: the emulator partitioned from lzsync through its :class:`FaultProxy`
(tests/faults/conftest.py) while the webhook publishes a sync request, or while a feed burst is
being pushed to asset_events, then healed on the same port with the emulator's data intact."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app
from google.cloud import firestore, pubsub_v1

from lzsync.adapters import clients
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, running_stack
from lzsync.services import webhook_http
from lzsync.settings import load_settings
from tests.conftest import PROJECT_ID
from tests.faults.conftest import Partitionable
from tests.faults.faults import wait_until_pubsub_reachable
from tests.faults.test_delivery_chaos import WELCOME, counters, events_activity
from tests.helpers import (
    expected_resources,
    inventory_mismatch,
    resource_differences,
    snapshot_of,
    stored_resources,
)
from tests.integration.test_webhook import PUSH, REPO, SECRET, Hook, webhook_status

# The webhook waits this long for Pub/Sub's acknowledgement before answering 503 (production:
# 5 s, well inside GitHub's 10 s); shortened so the outage test fits its time budget.
PUBLISH_TIMEOUT_SECONDS = 1.5
# After the redelivery, how long the subscription is watched for a second sync request (the
# timed-out publish of the first attempt landing late).
SETTLE_SECONDS = 3.0


@pytest.fixture
def hook(
    partitionable: Partitionable, pdb: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Hook]:
    """The deployed webhook app and a pull subscription on its topic, both through the proxy."""
    name = f"t{uuid.uuid4().hex[:10]}"
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT_ID, f"{name}-sync")
    subscription = subscriber.subscription_path(PROJECT_ID, f"{name}-sync-pull")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    for key, value in {
        "LZSYNC_WEBHOOK_SECRET": SECRET,
        "LZSYNC_REPOS": json.dumps([{"name": REPO, "url": "/nowhere", "branch": "master"}]),
        "LZSYNC_SYNC_TOPIC": f"{name}-sync",
        "LZSYNC_PUBLISH_TIMEOUT_SECONDS": str(PUBLISH_TIMEOUT_SECONDS),
    }.items():
        monkeypatch.setenv(key, value)
    load_settings.cache_clear()
    webhook_http._service.cache_clear()
    source = project_root() / "functions" / "webhook" / "main.py"
    app = create_app(target="webhook", source=str(source), signature_type="http")
    try:
        yield Hook(app.test_client(), subscriber, subscription)
    finally:
        partitionable.heal()
        load_settings.cache_clear()
        webhook_http._service.cache_clear()
        subscriber.close()
        publisher.transport.close()


def sync_topic() -> str:
    """The webhook's topic, as the function reads it."""
    return str(webhook_http._service().service._publisher.topic_path)


def sync_requests(hook: Hook, settle_seconds: float) -> list[dict[str, Any]]:
    """Every sync request that reaches the subscription within ``settle_seconds``."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + settle_seconds
    while True:
        messages.extend(hook.published())
        if time.monotonic() >= deadline:
            return messages
        time.sleep(0.2)


def test_a_push_during_a_pubsub_outage_is_refused_then_its_redelivery_queues_one_sync(
    partitionable: Partitionable, pdb: firestore.Client, hook: Hook
) -> None:
    partitionable.pubsub.cut()
    started = time.monotonic()
    refused = hook.post(PUSH, delivery="d-outage")
    waited = time.monotonic() - started

    # GitHub is told to try again, within its 10 s, and nothing claims the sync was queued.
    assert refused.status_code == 503
    assert refused.json == {"status": "retry", "error": "temporarily unavailable"}
    assert waited < PUBLISH_TIMEOUT_SECONDS + 3
    assert list(pdb.collection("_deliveries").stream()) == []
    status = webhook_status(pdb)
    assert status["state"] == "degraded"
    assert status["last_error"].startswith(f"publish to projects/{PROJECT_ID}/topics/")
    assert "last_success" not in status
    assert "last_delivery" not in status
    assert status["counters"] == {"failures": 1}

    partitionable.pubsub.restore()
    wait_until_pubsub_reachable(clients.publisher_client(), sync_topic())
    accepted = hook.post(PUSH, delivery="d-outage")

    assert accepted.status_code == 202
    assert accepted.json["status"] == "accepted"
    [request] = sync_requests(hook, SETTLE_SECONDS)
    assert (request["delivery"], request["after"]) == ("d-outage", PUSH["after"])
    status = webhook_status(pdb)
    assert (status["state"], status["last_error"], status["last_delivery"]) == (
        "ok",
        None,
        "d-outage",
    )
    assert status["counters"] == {"failures": 1, "accepted": 1}
    # The same delivery once more is now a duplicate: still exactly one sync request.
    assert hook.post(PUSH, delivery="d-outage").json["status"] == "duplicate"
    assert hook.published() == []


# The burst: every change of an 800-asset estate from version 0 to 1, 284 feed messages.
SIMULATOR = Simulator(size=800, seed=41, update_share=0.25, delete_share=0.08, create_share=0.1)
# Few deliveries in flight, so the burst lasts long enough to be cut in the middle.
RELAY_CONCURRENCY = 4
CUT_AFTER_SHARE = 0.3  # of the changes applied when the partition starts
OUTAGE_SECONDS = 2.0
CONVERGE_SECONDS = 25.0


def test_a_feed_burst_cut_off_from_pubsub_midway_is_applied_exactly_once_after_restore(
    partitionable: Partitionable, pdb: firestore.Client, tmp_path: Path
) -> None:
    assert snapshot_of(SIMULATOR).outcome == "complete"  # version 0
    changes = list(SIMULATOR.changes(0, 1))
    keys = {(change["asset"]["name"], change["window"]["startTime"]) for change in changes}
    expected = expected_resources(SIMULATOR, 1)
    config = StackConfig(
        repos=(),
        webhook_secret="unused",
        work_dir=tmp_path,
        name_prefix=f"t{uuid.uuid4().hex[:10]}",
        functions=("asset_events",),
        delivery="relay",
        relay_concurrency=RELAY_CONCURRENCY,
        function_concurrency=RELAY_CONCURRENCY,
        extra_env={"LZSYNC_EVENTS_STATUS_FLUSH_SECONDS": "1"},
        # A pull whose reply the cut lost leaves its messages leased until the ack deadline:
        # Pub/Sub's minimum keeps that redelivery inside the test's budget.
        ack_deadline_seconds=10,
    )
    with running_stack(partitionable.env(), config):
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(PROJECT_ID, config.events_topic)
        for future in [publisher.publish(topic, json.dumps(c).encode()) for c in changes]:
            future.result(timeout=30)
        started = time.monotonic()
        while len(events_activity(pdb)) < CUT_AFTER_SHARE * len(changes):
            assert time.monotonic() - started < 30, "the burst never got going"
            time.sleep(0.05)
        partitionable.pubsub.cut()
        applied_at_cut = len(events_activity(pdb))
        time.sleep(OUTAGE_SECONDS)
        applied_in_outage = len(events_activity(pdb)) - applied_at_cut
        partitionable.pubsub.restore()
        healed = time.monotonic()
        while len(events_activity(pdb)) < len(changes):
            assert time.monotonic() - healed < CONVERGE_SECONDS, "the relay never resumed"
            time.sleep(0.2)
        # The counters are flushed at most once a second: wait that out, then one message.
        time.sleep(1.1)
        publisher.publish(topic, WELCOME).result(timeout=30)
        while counters(pdb)["applied"] < len(changes):
            assert time.monotonic() - healed < CONVERGE_SECONDS, "counters never flushed"
            time.sleep(0.2)

    # The outage really came mid-burst: deliveries stopped while the relay was cut off.
    assert applied_at_cut < len(changes) / 2, "the cut came after most of the burst"
    assert applied_at_cut + applied_in_outage < len(changes)
    stored = stored_resources(pdb)
    wrong = resource_differences(stored, expected)
    assert not wrong, f"{len(wrong)} assets wrong, e.g. {sorted(wrong.items())[:5]}"
    assert not inventory_mismatch(pdb, stored)
    entries = events_activity(pdb)
    assert len(entries) == len(keys)
    assert {
        (entry["asset"], entry["time"].isoformat().replace("+00:00", "Z")) for entry in entries
    } == keys
    # Each applied delivery counts once, so redelivered changes were recognised, not reapplied.
    assert counters(pdb)["applied"] == len(entries)
