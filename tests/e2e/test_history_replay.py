"""End to end, in the deployed shape: signed GitHub pushes → webhook function (HTTP) → Pub/Sub
emulator push subscription → git_sync function (CloudEvent) → Firestore emulator, with both
functions running under functions-framework on loopback ports."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from lzsync.devtools.landing_zone import REPO_NAME, ZERO_SHA, push_payload
from lzsync.devtools.replay import replay
from lzsync.devtools.stack import StackConfig, StackSession, stack_session
from lzsync.settings import RepoConfig
from tests.conftest import PROJECT_ID
from tests.oracle import assert_documents_match_tree, classified_tree

pytestmark = pytest.mark.e2e
CHECKPOINT_EVERY = 50


def config(url: str, work: Path, prefix: str, **extra) -> StackConfig:
    return StackConfig(
        repos=(RepoConfig(name=REPO_NAME, url=url),),
        webhook_secret=secrets.token_hex(16),
        work_dir=work,
        name_prefix=prefix,
        **extra,
    )


@pytest.fixture
def session(emulators, db, remote, tmp_path, unique) -> Iterator[StackSession]:
    with stack_session(emulators.env(), config(str(remote), tmp_path, unique)) as running:
        yield running


def test_every_commit_of_the_real_landing_zone_reaches_firestore(
    session, db, remote, landing_zone_history
):
    held: dict[str, tuple[str, str]] = {}
    before = ZERO_SHA
    for index, commit in enumerate(landing_zone_history):
        [result] = replay(
            [commit], remote=remote, sender=session.sender, watcher=session.watcher, before=before
        )
        tree = classified_tree(remote, commit.sha)
        changed = [path for path in tree if held.get(path) != tree[path]]
        removed = [path for path in held if path not in tree]

        assert (result.written, result.deleted) == (len(changed), len(removed)), commit.sha
        last = index == len(landing_zone_history) - 1
        if index % CHECKPOINT_EVERY == 0 or last:
            assert_documents_match_tree(db, remote, commit.sha)
        held, before = tree, commit.sha
    assert len(held) == 221  # the fixture README: 221 files at the tip, all of them shown


def test_a_redelivered_push_changes_nothing(session, landing_zone_history):
    sender, watcher = session.sender, session.watcher
    newest = landing_zone_history[-1]
    payload = push_payload(landing_zone_history[-2].sha, [newest])
    assert sender.deliver("push", payload, delivery_id="once").body["status"] == "accepted"
    watcher.wait_for(lambda status: status.get("last_commit") == newest.sha, timeout=60)
    runs = watcher.latest["counters"]["runs"]

    again = sender.deliver("push", payload, delivery_id="once")

    assert (again.status, again.body["status"]) == (202, "duplicate")
    time.sleep(1.0)  # a second sync, had one been published, lands well within a second
    assert watcher.latest["counters"]["runs"] == runs


def test_a_sync_that_keeps_failing_ends_on_the_dead_letter_topic(
    emulators, db, tmp_path, unique, landing_zone_history
):
    unreachable = config(
        str(tmp_path / "unreachable.git"),
        tmp_path,
        unique,
        min_backoff_seconds=0.1,
        max_backoff_seconds=0.5,
        extra_env={"LZSYNC_GIT_FETCH_ATTEMPTS": "1", "LZSYNC_CIRCUIT_FAILURE_THRESHOLD": "50"},
    )
    subscriber = pubsub_v1.SubscriberClient()
    hold = subscriber.subscription_path(PROJECT_ID, unreachable.dead_letter_hold())
    with stack_session(emulators.env(), unreachable) as session:
        newest = landing_zone_history[-1]
        accepted = session.sender.deliver("push", push_payload(ZERO_SHA, [newest]))
        assert accepted.body["status"] == "accepted"

        received = []
        deadline = time.monotonic() + 60
        while not received and time.monotonic() < deadline:
            received = subscriber.pull(
                request={"subscription": hold, "max_messages": 1}, timeout=10
            ).received_messages

    subscriber.close()
    [letter] = received
    assert letter.message.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert newest.sha.encode() in letter.message.data
    status = db.collection("sync_status").document("git").get().to_dict()
    assert status["state"] == "degraded"
    assert status["circuit"]["consecutive_failures"] == 5
    assert status["last_error"]["type"] == "UpstreamUnavailable"
