"""Group commit hands every request its own outcome: results, retryable errors, and — when a
shared batch fails otherwise — the change that Firestore refuses, and only that one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from lzsync.adapters.event_store import AppliedChange
from lzsync.adapters.group_commit import GroupCommitter
from lzsync.errors import UpstreamUnavailable
from lzsync.model.feed import FeedChange


def _change(name: str) -> FeedChange:
    return FeedChange(
        asset_name=name,
        asset={"name": name},
        prior_asset=None,
        prior_state=None,
        start_time=datetime(2026, 12, 4, tzinfo=UTC),
        deleted=False,
    )


class RecordingStore:
    """Fails a batch containing ``refused`` (like a document Firestore rejects), or every batch
    with ``outage``; holds the first batch until released so later requests pile up."""

    def __init__(self, refused: str | None = None, outage: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.refused = refused
        self.outage = outage
        self.release = threading.Event()

    def apply_batch(self, items):
        names = [change.asset_name for change, _ in items]
        self.release.wait(5)
        self.batches.append(names)
        if self.outage:
            raise UpstreamUnavailable("firestore unavailable", upstream="firestore")
        if self.refused in names:
            raise ValueError(f"document {self.refused} refused")
        return [AppliedChange("create", "created", name) for name in names]


def _run_concurrently(committer: GroupCommitter, store: RecordingStore, names: list[str]):
    outcomes: dict[str, object] = {}

    def request(name: str) -> None:
        try:
            outcomes[name] = committer.apply(_change(name), {"name": name})
        except Exception as error:  # the request's own outcome, as the function would see it
            outcomes[name] = error

    threads = [threading.Thread(target=request, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # every request is queued behind the first, held batch
    store.release.set()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_each_request_gets_its_own_result_and_later_requests_share_a_batch():
    store = RecordingStore()
    names = [f"a{i}" for i in range(20)]
    outcomes = _run_concurrently(GroupCommitter(store, max_batch=8), store, names)

    assert {name: outcome.asset_type for name, outcome in outcomes.items()} == {
        name: name for name in names
    }
    assert sorted(name for batch in store.batches for name in batch) == sorted(names)
    assert max(len(batch) for batch in store.batches) == 8
    assert len(store.batches) < len(names)


def test_a_refused_change_fails_alone_and_the_rest_of_its_batch_commits():
    store = RecordingStore(refused="a3")
    names = [f"a{i}" for i in range(10)]
    outcomes = _run_concurrently(GroupCommitter(store, max_batch=50), store, names)

    assert isinstance(outcomes["a3"], ValueError)
    assert all(isinstance(outcomes[name], AppliedChange) for name in names if name != "a3")


def test_a_retryable_failure_reaches_every_request_of_the_batch_for_redelivery():
    store = RecordingStore(outage=True)
    names = [f"a{i}" for i in range(6)]
    outcomes = _run_concurrently(GroupCommitter(store, max_batch=50), store, names)

    assert all(isinstance(outcome, UpstreamUnavailable) for outcome in outcomes.values())
    # Retryable: not re-run one by one (Pub/Sub redelivers with backoff instead).
    assert sum(len(batch) for batch in store.batches) == len(names)


def test_the_committer_thread_survives_a_failed_batch():
    store = RecordingStore(outage=True)
    store.release.set()
    committer = GroupCommitter(store, max_batch=4)
    with pytest.raises(UpstreamUnavailable):
        committer.apply(_change("first"), {})
    store.outage = False
    assert committer.apply(_change("second"), {}).kind == "created"
