"""The git_sync function as deployed (functions-framework CloudEvent app): what is acked, what
is retried and what is dead-lettered, for the shapes Pub/Sub and Eventarc deliver."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from functions_framework import create_app

from lzsync.devtools.landing_zone import REPO_NAME, project_root
from lzsync.services import git_sync_event
from lzsync.settings import load_settings
from tests.helpers import load_format
from tests.oracle import assert_documents_match_tree


@pytest.fixture
def function(monkeypatch, emulators, db, tmp_path, remote):
    def build(url: str | None = None):
        repo = {"name": REPO_NAME, "url": url or str(remote), "branch": "main"}
        monkeypatch.setenv("LZSYNC_REPOS", json.dumps([repo]))
        monkeypatch.setenv("LZSYNC_GIT_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("LZSYNC_GIT_FETCH_ATTEMPTS", "1")
        load_settings.cache_clear()
        git_sync_event._wiring.cache_clear()
        source = project_root() / "functions" / "git_sync" / "main.py"
        return create_app(target="git_sync", source=str(source), signature_type="cloudevent")

    yield build
    load_settings.cache_clear()
    git_sync_event._wiring.cache_clear()


def push_envelope(data: bytes, message_id: str = "m-1", spelling: str = "messageId") -> dict:
    """The body a Pub/Sub push subscription POSTs (google-cloudevents MessagePublishedData)."""
    envelope = load_format("pubsub/gce_binary_MessagePublishedData-complex.json")
    envelope["message"].pop("messageId", None)
    envelope["message"][spelling] = message_id
    envelope["message"]["data"] = base64.b64encode(data).decode()
    return envelope


def structured_event(data: bytes) -> dict:
    event = load_format("pubsub/gce_structured_CloudEvent_MessagePublished.json")
    event["data"]["message"]["data"] = base64.b64encode(data).decode()
    return event


def sync_request(**fields) -> bytes:
    return json.dumps({"trigger": "webhook", "repo": REPO_NAME, **fields}).encode()


def dead_letters(db) -> list[dict]:
    return [snapshot.to_dict() for snapshot in db.collection("_dead_letters").stream()]


def test_a_push_delivery_syncs_the_repository(function, db, remote: Path, landing_zone_history):
    client = function().test_client()

    response = client.post("/", json=push_envelope(sync_request()))

    assert response.status_code == 200
    assert_documents_match_tree(db, remote, landing_zone_history[-1].sha, check_content=False)


def test_a_structured_cloudevent_with_message_id_spelled_in_snake_case_works(function, db):
    client = function().test_client()
    envelope = push_envelope(sync_request(), spelling="message_id")
    event = structured_event(b"")
    event["data"] = envelope

    response = client.post(
        "/", json=event, headers={"Content-Type": "application/cloudevents+json"}
    )

    assert response.status_code == 200
    assert db.collection("sync_status").document("git").get().get("state") == "ok"


def test_a_scheduled_message_syncs_every_repository(function, db):
    client = function().test_client()

    response = client.post("/", json=push_envelope(b'{"trigger": "schedule"}'))

    assert response.status_code == 200
    assert db.collection("documents").limit(1).get()


@pytest.mark.parametrize(
    "data",
    [
        b"not json at all",
        b"\xff\xfe\x00",
        b'{"trigger": "sometimes"}',
        b'["a", "list"]',
        json.dumps({"trigger": "webhook", "repo": "someone/unknown"}).encode(),
    ],
)
def test_a_poison_message_is_dead_lettered_and_acknowledged(function, db, data):
    client = function().test_client()

    response = client.post("/", json=push_envelope(data, message_id="poison-1"))

    assert response.status_code == 200
    [letter] = dead_letters(db)
    assert letter["message_id"] == "poison-1"
    assert base64.b64decode(letter["data_base64"]) == data
    assert letter["layer"] == "git"
    assert letter["reason"]
    assert db.collection("documents").limit(1).get() == []


def test_an_event_without_a_message_is_dead_lettered(function, db):
    client = function().test_client()
    event = structured_event(b"")
    event["data"] = {"subscription": "projects/p/subscriptions/s"}

    response = client.post(
        "/", json=event, headers={"Content-Type": "application/cloudevents+json"}
    )

    assert response.status_code == 200
    assert dead_letters(db)[0]["error_type"] == "InvalidPayload"


def test_an_unreachable_remote_is_retried_by_pubsub(function, db, tmp_path):
    client = function(url=str(tmp_path / "gone.git")).test_client()

    response = client.post("/", json=push_envelope(sync_request()))

    assert response.status_code == 500
    assert dead_letters(db) == []
    assert db.collection("sync_status").document("git").get().get("state") == "degraded"
