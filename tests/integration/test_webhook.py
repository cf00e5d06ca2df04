"""The webhook function as deployed (functions-framework app) against the Firestore and
Pub/Sub emulators, fed with real GitHub payloads."""

from __future__ import annotations

import copy
import io
import json
import logging
import uuid
from urllib.parse import urlencode

import pytest
from functions_framework import create_app
from google.cloud import pubsub_v1

from lzsync.devtools.landing_zone import project_root
from lzsync.logic.signature import sign
from lzsync.logs import json_handler
from lzsync.services import webhook_http
from lzsync.settings import load_settings
from tests.conftest import PROJECT_ID
from tests.helpers import load_format

SECRET = "webhook-secret-for-tests"
REPO = "Codertocat/Hello-World"
PUSH = load_format("github/octokit_push_with-no-username-committer.json")
PING = load_format("github/octokit_ping.json")


def push_payload(**changes):
    payload = copy.deepcopy(PUSH)
    payload.update(changes)
    return payload


class Hook:
    """One GitHub webhook pointed at the function, plus a pull subscription on its topic."""

    def __init__(self, client, subscriber, subscription: str):
        self.client = client
        self._subscriber = subscriber
        self._subscription = subscription

    def post(
        self,
        payload,
        *,
        event="push",
        delivery=None,
        hook_id="77",
        secret=SECRET,
        content_type="application/json",
        body=None,
        extra_headers=None,
    ):
        if body is None:
            raw = json.dumps(payload).encode()
            if content_type == "application/x-www-form-urlencoded":
                raw = urlencode({"payload": raw.decode()}).encode()
            body = raw
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": hook_id,
            "X-Hub-Signature-256": sign(secret.encode(), body),
            **(extra_headers or {}),
        }
        return self.client.post("/", data=body, headers=headers, content_type=content_type)

    def published(self) -> list[dict]:
        """Messages on the sync topic since the last call."""
        messages = []
        while True:
            response = self._subscriber.pull(
                request={
                    "subscription": self._subscription,
                    "max_messages": 50,
                    # Publishing was acknowledged before the function answered, so the emulator
                    # already holds every message: no need to wait for more.
                    "return_immediately": True,
                },
                timeout=5,
            )
            if not response.received_messages:
                return messages
            for received in response.received_messages:
                messages.append(json.loads(received.message.data))
            self._subscriber.acknowledge(
                request={
                    "subscription": self._subscription,
                    "ack_ids": [received.ack_id for received in response.received_messages],
                }
            )


@pytest.fixture
def configure(monkeypatch, emulators, db, unique):
    """Set the function's environment, then build a fresh app (settings are read once)."""
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT_ID, f"{unique}-sync")
    subscription = subscriber.subscription_path(PROJECT_ID, f"{unique}-sync-pull")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)

    def build(**env: str) -> Hook:
        values = {
            "LZSYNC_WEBHOOK_SECRET": SECRET,
            "LZSYNC_REPOS": json.dumps([{"name": REPO, "url": "/nowhere", "branch": "master"}]),
            "LZSYNC_SYNC_TOPIC": f"{unique}-sync",
            **env,
        }
        for key, value in values.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        load_settings.cache_clear()
        webhook_http._service.cache_clear()
        source = project_root() / "functions" / "webhook" / "main.py"
        app = create_app(target="webhook", source=str(source), signature_type="http")
        return Hook(app.test_client(), subscriber, subscription)

    yield build
    load_settings.cache_clear()
    webhook_http._service.cache_clear()


def webhook_status(db) -> dict:
    snapshot = db.collection("sync_status").document("webhook").get()
    return snapshot.to_dict() or {}


def test_a_push_to_the_configured_branch_publishes_one_sync_request(configure, db):
    hook = configure()

    response = hook.post(PUSH, delivery="d-1")

    assert response.status_code == 202
    assert response.json["status"] == "accepted"
    [message] = hook.published()
    assert message["repo"] == REPO
    assert message["after"] == PUSH["after"]
    assert message["trigger"] == "webhook"
    assert message["delivery"] == "d-1"
    status = webhook_status(db)
    assert status["state"] == "ok"
    assert status["counters"]["accepted"] == 1
    assert status["last_delivery"] == "d-1"


def test_a_redelivery_is_acknowledged_but_published_once(configure, db):
    hook = configure()
    first = hook.post(PUSH, delivery="same")
    again = hook.post(PUSH, delivery="same")

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json["status"] == "duplicate"
    assert len(hook.published()) == 1
    assert webhook_status(db)["counters"]["duplicates"] == 1


def test_the_same_delivery_id_from_another_hook_is_its_own_delivery(configure):
    hook = configure()
    hook.post(PUSH, delivery="shared-id", hook_id="1")
    hook.post(PUSH, delivery="shared-id", hook_id="2")

    assert len(hook.published()) == 2


def test_delivery_records_expire_for_a_ttl_policy(configure, db):
    hook = configure()
    hook.post(PUSH, delivery="d-ttl")

    [record] = db.collection("_deliveries").get()
    data = record.to_dict()
    assert (data["expires_at"] - data["received_at"]).total_seconds() == 4 * 24 * 3600


def test_a_form_encoded_delivery_is_accepted(configure):
    hook = configure()

    response = hook.post(PUSH, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 202
    assert [message["after"] for message in hook.published()] == [PUSH["after"]]


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "wrong-secret"},
        {"extra_headers": {"X-Hub-Signature-256": ""}},
        {"extra_headers": {"X-Hub-Signature-256": "sha1=" + "0" * 40}},
    ],
)
def test_a_delivery_without_a_valid_signature_is_refused_and_writes_nothing(configure, db, tamper):
    hook = configure()

    response = hook.post(PUSH, **tamper)

    assert response.status_code == 401
    assert response.json["status"] == "refused"
    assert hook.published() == []
    assert list(db.collections()) == []


def test_without_a_configured_secret_every_delivery_is_refused(configure):
    hook = configure(LZSYNC_WEBHOOK_SECRET=None)

    response = hook.post(PUSH)

    assert response.status_code == 503
    assert "not configured" in response.json["error"]
    assert hook.published() == []


def test_other_methods_are_refused(configure):
    hook = configure()

    response = hook.client.get("/")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_a_body_over_the_cap_is_refused(configure):
    hook = configure(LZSYNC_WEBHOOK_MAX_BODY_BYTES="2000")

    response = hook.post(push_payload(padding="x" * 3000))

    assert response.status_code == 413
    assert hook.published() == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"ref": "refs/heads/master", "before": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b"payload=%7B&payload=%7D", "application/x-www-form-urlencoded"),
        (b"other=1", "application/x-www-form-urlencoded"),
    ],
)
def test_a_malformed_body_is_refused_with_400(configure, body, content_type):
    hook = configure()

    response = hook.post(None, body=body, content_type=content_type)

    assert response.status_code == 400
    assert hook.published() == []


def test_a_push_missing_a_field_names_it(configure):
    hook = configure()
    payload = push_payload()
    del payload["after"]

    response = hook.post(payload)

    assert response.status_code == 400
    assert "after" in response.json["error"]


def test_an_unsupported_content_type_is_refused(configure):
    hook = configure()

    response = hook.post(None, body=json.dumps(PUSH).encode(), content_type="text/plain")

    assert response.status_code == 415


def test_missing_github_headers_are_refused(configure):
    hook = configure()
    body = json.dumps(PUSH).encode()

    response = hook.client.post(
        "/",
        data=body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(SECRET.encode(), body)},
    )

    assert response.status_code == 400


def test_a_ping_is_answered_and_recorded(configure, db):
    hook = configure()

    response = hook.post(PING, event="ping")

    assert response.status_code == 200
    assert response.json["status"] == "pong"
    assert webhook_status(db)["last_ping_hook_id"] == PING["hook_id"]
    assert hook.published() == []


@pytest.mark.parametrize(
    ("payload", "event", "reason"),
    [
        (PUSH, "issues", "does not trigger"),
        (push_payload(repository={"full_name": "someone/else"}), "push", "not configured"),
        (push_payload(ref="refs/tags/v1.0.0"), "push", "not a branch"),
        (push_payload(ref="refs/heads/feature"), "push", "is not master"),
        (
            push_payload(after="0" * 40, deleted=True, commits=[], head_commit=None),
            "push",
            "branch deleted",
        ),
    ],
)
def test_deliveries_that_need_no_sync_are_ignored_with_a_reason(
    configure, db, payload, event, reason
):
    hook = configure()

    response = hook.post(payload, event=event)

    assert response.status_code == 202
    assert response.json["status"] == "ignored"
    assert reason in response.json["reason"]
    assert hook.published() == []
    assert webhook_status(db)["counters"]["ignored"] == 1


def test_real_push_shapes_from_github_are_accepted(configure):
    hook = configure(
        LZSYNC_REPOS=json.dumps(
            [
                {"name": REPO, "url": "/x", "branch": "master"},
            ]
        )
    )
    for name in (
        "octokit_push_with-new-branch.json",
        "octokit_push_with-no-username-committer.json",
    ):
        assert hook.post(load_format(f"github/{name}")).status_code == 202


def test_several_repositories_each_with_their_branch(configure):
    hook = configure(
        LZSYNC_REPOS=json.dumps(
            [
                {"name": REPO, "url": "/x", "branch": "master"},
                {"name": "acme/networks", "url": "/y", "branch": "prod"},
            ]
        )
    )
    other = push_payload(repository={"full_name": "acme/networks"}, ref="refs/heads/prod")

    assert hook.post(PUSH).json["status"] == "accepted"
    assert hook.post(other).json["status"] == "accepted"
    assert {message["repo"] for message in hook.published()} == {REPO, "acme/networks"}


def test_when_pubsub_refuses_the_delivery_can_be_redelivered(configure, unique):
    hook = configure(LZSYNC_SYNC_TOPIC=f"{unique}-missing-topic")

    failed = hook.post(PUSH, delivery="retry-me")
    assert failed.status_code == 503

    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=publisher.topic_path(PROJECT_ID, f"{unique}-missing-topic"))
    redelivered = hook.post(PUSH, delivery="retry-me")

    assert redelivered.status_code == 202
    assert redelivered.json["status"] == "accepted"


def test_the_secret_never_appears_in_logs(configure):
    stream = io.StringIO()
    handler = json_handler(stream)
    logging.getLogger("lzsync").addHandler(handler)
    try:
        hook = configure()
        hook.post(PUSH)
        hook.post(PUSH, secret="wrong")
        hook.post(PING, event="ping")
    finally:
        logging.getLogger("lzsync").removeHandler(handler)
    assert stream.getvalue()
    assert SECRET not in stream.getvalue()


def test_deeply_nested_json_is_a_clean_400(configure):
    hook = configure()
    body = b"[" * 100_000 + b"]" * 100_000

    response = hook.post(None, body=body)

    assert response.status_code == 400
    assert response.json["status"] == "refused"


def test_unreadable_settings_refuse_deliveries_with_a_clear_answer(configure):
    hook = configure(LZSYNC_REPOS="{not json")

    response = hook.post(PUSH)

    assert response.status_code == 503
    assert response.json["error"] == "webhook misconfigured"
