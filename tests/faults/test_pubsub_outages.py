"""Pub/Sub outages: the emulator partitioned from lzsync through its :class:`FaultProxy`
(tests/faults/conftest.py) while the webhook publishes a sync request, or while a feed burst is
being pushed to asset_events, then healed on the same port with the emulator's data intact."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from functions_framework import create_app
from google.cloud import firestore, pubsub_v1

from lzsync.adapters import clients
from lzsync.devtools.landing_zone import project_root
from lzsync.services import webhook_http
from lzsync.settings import load_settings
from tests.conftest import PROJECT_ID
from tests.faults.conftest import Partitionable
from tests.faults.faults import wait_until_pubsub_reachable
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
