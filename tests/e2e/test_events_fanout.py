"""End to end, in the deployed shape: feed messages published to the Pub/Sub emulator → push
subscription → asset_events under functions-framework → Firestore, on top of a snapshot."""

from __future__ import annotations

import json
import random
import time

import pytest
from google.cloud import pubsub_v1

from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, running_stack
from lzsync.logic.asset_normalize import resource_document
from tests.conftest import PROJECT_ID
from tests.helpers import snapshot_of

pytestmark = pytest.mark.e2e


def stored(db) -> dict[str, str]:
    return {
        snap.get("name"): snap.get("content_hash")
        for snap in db.collection("resources").select(["name", "content_hash"]).stream()
    }


def test_feed_changes_in_any_order_converge_the_snapshot_to_the_next_version(
    emulators, db, tmp_path, unique
):
    simulator = Simulator(size=600, seed=9, update_share=0.1, delete_share=0.05)
    assert snapshot_of(simulator).outcome == "complete"
    changes = [json.dumps(change).encode() for change in simulator.changes(0, 2)]
    deliveries = changes + random.Random(4).sample(changes, k=len(changes) // 4)  # duplicates
    random.Random(5).shuffle(deliveries)
    expected = {
        asset["name"]: resource_document(asset, source="event")["content_hash"]
        for asset in simulator.assets(2)
    }
    config = StackConfig(
        repos=(),
        webhook_secret="unused",
        work_dir=tmp_path,
        name_prefix=unique,
        functions=("asset_events",),
    )
    with running_stack(emulators.env(), config):
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(PROJECT_ID, config.events_topic)
        futures = [publisher.publish(topic, data) for data in deliveries]
        for future in futures:
            future.result(timeout=30)

        deadline = time.monotonic() + 90
        while stored(db) != expected and time.monotonic() < deadline:
            time.sleep(0.5)

    assert stored(db) == expected
    status = db.collection("sync_status").document("events").get().to_dict()
    assert status["state"] == "ok"
    assert status["last_event_time"] is not None
