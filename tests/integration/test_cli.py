"""The operator's command line against the emulators: dead-letter inspection and replay,
draining a dead-letter subscription, forced resync, status."""

from __future__ import annotations

import io
import json

import pytest
from google.cloud import pubsub_v1

from lzsync.adapters.dead_letters import DeadLetterBox
from lzsync.adapters.resource_store import resource_id
from lzsync.cli import main
from lzsync.devtools.asset_server import AssetServer
from lzsync.devtools.simulator import Simulator
from tests.conftest import PROJECT_ID
from tests.helpers import load_format

FEED_MESSAGE = json.dumps(load_format("cai/mia_feed_bucket-create.json")).encode()


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def topics(monkeypatch, emulators, unique):
    """An events topic with a pull subscription to see what replays publish."""
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = f"{unique}-asset-changes"
    publisher.create_topic(name=publisher.topic_path(PROJECT_ID, topic))
    watch = subscriber.subscription_path(PROJECT_ID, f"{unique}-watch")
    subscriber.create_subscription(name=watch, topic=publisher.topic_path(PROJECT_ID, topic))
    monkeypatch.setenv("LZSYNC_EVENTS_TOPIC", topic)

    def received() -> list[bytes]:
        response = subscriber.pull(
            request={"subscription": watch, "max_messages": 10, "return_immediately": True}
        )
        if response.received_messages:
            subscriber.acknowledge(
                request={
                    "subscription": watch,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
        return [bytes(m.message.data) for m in response.received_messages]

    return publisher, subscriber, topic, received


def test_dead_letters_are_listed_shown_and_replayed_once(db, topics):
    *_, received = topics
    DeadLetterBox(db, "_dead_letters").record(
        layer="events",
        message_id="m-1",
        data=FEED_MESSAGE,
        attributes={"origin": "feed"},
        reason="Firestore was down",
        error_type="UpstreamUnavailable",
    )

    code, listing = run("dead-letters", "list")
    assert code == 0
    assert "1 dead letter(s)" in listing
    letter_id = listing.split()[0]

    code, shown = run("dead-letters", "show", letter_id)
    assert "Firestore was down" in shown
    assert "storage.googleapis.com/Bucket" in shown

    code, replayed = run("dead-letters", "replay", "--layer", "events")
    assert code == 0
    assert "replayed 1 dead letter(s)" in replayed
    assert received() == [FEED_MESSAGE]

    _code, again = run("dead-letters", "replay", "--layer", "events")
    assert "replayed 0 dead letter(s)" in again
    assert received() == []
    _code, everything = run("dead-letters", "list", "--all")
    assert "(replayed)" in everything


def test_a_dry_run_replays_nothing(db, topics):
    *_, received = topics
    DeadLetterBox(db, "_dead_letters").record(
        layer="events",
        message_id="m-2",
        data=FEED_MESSAGE,
        attributes={},
        reason="r",
        error_type="E",
    )

    _code, output = run("dead-letters", "replay", "--dry-run")

    assert "would replay 1 dead letter(s)" in output
    assert received() == []


def test_a_dead_letter_subscription_is_drained_back_to_its_topic(db, topics, unique):
    publisher, subscriber, topic, received = topics
    dead_topic = publisher.topic_path(PROJECT_ID, f"{unique}-dead")
    publisher.create_topic(name=dead_topic)
    hold = subscriber.subscription_path(PROJECT_ID, f"{unique}-dead-hold")
    subscriber.create_subscription(name=hold, topic=dead_topic)
    publisher.publish(
        dead_topic, FEED_MESSAGE, CloudPubSubDeadLetterSourceDeliveryCount="5"
    ).result()

    code, output = run("dead-letters", "drain", f"{unique}-dead-hold", "--to-topic", topic)

    assert code == 0
    assert "1 message(s) moved" in output
    assert received() == [FEED_MESSAGE]


def test_resync_repairs_a_drifted_document(monkeypatch, db):
    simulator = Simulator(size=300, seed=2)
    server = AssetServer(simulator).start()
    monkeypatch.setenv("LZSYNC_ASSET_SCOPE", simulator.organization)
    monkeypatch.setenv("LZSYNC_ASSET_API_ENDPOINT", server.endpoint)
    monkeypatch.setenv("LZSYNC_ASSET_MANIFEST_SHARDS", "4")
    monkeypatch.setenv("LZSYNC_ASSET_REQUESTS_PER_MINUTE", "100000")
    try:
        assert run("resync")[0] == 0
        victim = next(simulator.assets())["name"]
        db.collection("resources").document(resource_id(victim)).update({"state": "tampered"})

        code, output = run("resync")
    finally:
        server.stop()

    assert code == 0
    assert "complete: 300 assets, 300 rewritten" in output
    stored = db.collection("resources").document(resource_id(victim)).get().to_dict()
    assert stored["state"] != "tampered"


def test_status_prints_every_layer(db):
    db.collection("sync_status").document("git").set(
        {"state": "degraded", "last_error": {"message": "remote down"}}
    )

    code, output = run("status")

    assert code == 0
    assert "git      degraded" in output
    assert "remote down" in output
    assert "history  never ran" in output


def test_status_says_how_old_and_how_fresh_each_layer_is(db):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    db.collection("sync_status").document("assets").set(
        {"state": "ok", "last_success": now - timedelta(hours=7), "expected_interval_seconds": 300}
    )
    db.collection("sync_status").document("git").set(
        {"state": "ok", "last_success": now, "expected_interval_seconds": 21600}
    )

    _code, output = run("status")

    assert "assets   ok        stale  last success 7.0 h ago" in output
    assert "git      ok        fresh  last success 0.0 h ago" in output
