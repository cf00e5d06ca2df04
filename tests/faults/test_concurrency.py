"""Runs that overlap: two snapshots of one scope, and a snapshot racing the real-time layer.

The snapshot takes the scope's lease (``_locks``) so two runs never interleave their writes: a
second run meanwhile answers 409 ``busy`` and changes nothing. If a run outlives its lease
(forced here with a one-second lease), the next run takes over and both write; they must still
leave the newest listing in Firestore. A snapshot listing version N while feed events of
version N+1 land must end with N+1 (newer wins), without resurrecting what the events deleted,
and with ``inventory`` counting the documents that are there.

Pages are slowed with ``AssetServer.delays`` so the overlaps happen, every time, where the
test says.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.simulator import Simulator
from lzsync.services.asset_snapshot import SnapshotOutcome
from lzsync.services.asset_snapshot_http import run_snapshot
from tests.conftest import PROJECT_ID
from tests.helpers import (
    asset_events_function,
    expected_resources,
    inventory_mismatch,
    resource_differences,
    scheduled_function,
    stored_resources,
)

SIMULATOR = Simulator(size=1_000, seed=41, update_share=0.3, delete_share=0.1, create_share=0.1)
PAGE_SIZE = 100  # 10-11 pages: room to slow a listing down page by page
SHARDS = 8


def snapshot_settings(server: AssetServer, **overrides):
    return settings_for(
        server, PROJECT_ID, asset_manifest_shards=SHARDS, asset_page_size=PAGE_SIZE, **overrides
    )


class Background:
    """A snapshot run in its own thread (as another function instance would run it)."""

    def __init__(self, run: Callable[[], SnapshotOutcome]) -> None:
        self.outcome: SnapshotOutcome | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(run,), daemon=True)
        self._thread.start()

    def _run(self, run: Callable[[], SnapshotOutcome]) -> None:
        try:
            self.outcome = run()
        except BaseException as error:  # handed to the test by result()
            self.error = error

    def result(self, timeout_seconds: float = 60) -> SnapshotOutcome:
        self._thread.join(timeout_seconds)
        assert not self._thread.is_alive(), "the snapshot run did not finish"
        if self.error is not None:
            raise self.error
        assert self.outcome is not None
        return self.outcome


def wait_for(condition: Callable[[], bool], timeout_seconds: float = 20) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def pages_served(server: AssetServer) -> int:
    return len(server.requests)


def pages(version: int) -> int:
    """ListAssets pages of one listing of ``version``."""
    return -(-SIMULATOR.slots(version) // PAGE_SIZE)


@pytest.fixture
def server() -> Iterator[AssetServer]:
    running = AssetServer(SIMULATOR).start()
    yield running
    running.stop()


@pytest.fixture
def snapshot_log() -> Iterator[list[str]]:
    """Messages the snapshot logs (``lzsync`` loggers do not propagate to pytest's capture:
    they write JSON lines of their own)."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler, logger = Keep(), logging.getLogger("lzsync.assets")
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


def assert_holds(db, version: int) -> None:
    stored = stored_resources(db)
    wrong = resource_differences(stored, expected_resources(SIMULATOR, version))
    assert not wrong, f"{len(wrong)} assets wrong, e.g. {sorted(wrong.items())[:5]}"
    mismatch = inventory_mismatch(db, stored)
    assert not mismatch, f"inventory (held, actual): {mismatch}"


def test_a_second_snapshot_while_the_first_holds_the_lease_answers_busy_and_writes_nothing(
    db, server, monkeypatch, snapshot_log
):
    server.delays = dict.fromkeys(range(20), 0.15)
    first = Background(lambda: run_snapshot(snapshot_settings(server)))
    wait_for(lambda: pages_served(server) >= 2)  # the first run holds the lease and is writing

    for name, value in {
        "LZSYNC_PROJECT_ID": PROJECT_ID,
        "LZSYNC_ASSET_SCOPE": SIMULATOR.organization,
        "LZSYNC_ASSET_API_ENDPOINT": server.endpoint,
        "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
        "LZSYNC_ASSET_MANIFEST_SHARDS": str(SHARDS),
        "LZSYNC_ASSET_PAGE_SIZE": str(PAGE_SIZE),
    }.items():
        monkeypatch.setenv(name, value)
    served_before = pages_served(server)
    with scheduled_function("asset_snapshot") as client:
        reply = client.post("/")

    assert reply.status_code == 409
    assert reply.get_json()["status"] == "busy"
    assert SIMULATOR.organization in reply.get_json()["error"]
    assert "snapshot skipped: another run holds the scope's lease" in snapshot_log
    assert first.result().outcome == "complete"
    # The refused run listed nothing (only the first run's pages were served) and recorded
    # no run of its own.
    assert pages_served(server) - served_before < 20
    status = db.collection("sync_status").document("assets").get().to_dict()
    assert status["counters"] == {"runs_complete": 1}
    assert_holds(db, 0)


def test_a_snapshot_that_outlived_its_lease_stops_before_writing_over_its_successor(db, server):
    """The first run lists version 1 with a one-second lease and stalls on a page for longer
    than that; meanwhile the estate moves to version 2 and a second run takes the expired lease
    and lists it. Both write; the stalled run, once its page comes, must find its lease gone
    and stop (``lease_lost``: no more writes, no deletions, no status of its own) rather than
    put version 1 back over version 2."""
    assert run_snapshot(snapshot_settings(server)).outcome == "complete"  # version 0 held
    server.version = 1
    server.delays = {2: 3.0}
    stalled = Background(lambda: run_snapshot(snapshot_settings(server, sync_lease_seconds=1)))
    wait_for(lambda: pages_served(server) >= pages(0) + 3)  # the stalled run asked for page 2
    time.sleep(1.1)  # its lease has expired
    newer = AssetServer(SIMULATOR, version=2).start()
    try:
        successor = run_snapshot(snapshot_settings(newer, sync_lease_seconds=1))
    finally:
        newer.stop()

    assert successor.outcome == "complete"
    stopped = stalled.result()
    assert_holds(db, 2)
    assert stopped.outcome == "lease_lost"
    status = db.collection("sync_status").document("assets").get().to_dict()
    assert status["last_outcome"] == "complete"
    assert status["counters"] == {"runs_complete": 2}


def feed_time_shift(simulator: Simulator, version: int) -> timedelta:
    """How far to move the simulator's clock so that ``version``'s changes happened a minute
    ago: a real feed stamps ``window.startTime`` as changes happen, and the snapshot looks for
    recent real-time writes by that time."""
    change = next(iter(simulator.changes(version - 1, version)))
    start = datetime.fromisoformat(change["window"]["startTime"].replace("Z", "+00:00"))
    return datetime.now(UTC) - timedelta(minutes=1) - start


def shifted_time(text: str, shift: timedelta) -> str:
    moved = datetime.fromisoformat(text.replace("Z", "+00:00")) + shift
    return moved.isoformat().replace("+00:00", "Z")


def shifted_asset(asset: dict, shift: timedelta) -> dict:
    return {**asset, "updateTime": shifted_time(asset["updateTime"], shift)}


def feed_messages(before: int, after: int, seed: int, shift: timedelta) -> list[tuple[str, bytes]]:
    """Version ``before`` → ``after`` as feed deliveries with shifted times: each once or
    twice, shuffled."""
    chance = random.Random(seed)
    deliveries = []
    for number, change in enumerate(SIMULATOR.changes(before, after)):
        change["window"]["startTime"] = shifted_time(change["window"]["startTime"], shift)
        change["asset"] = shifted_asset(change["asset"], shift)
        data = json.dumps(change).encode()
        deliveries += [(f"v{after}-{number}", data)] * chance.randint(1, 2)
    chance.shuffle(deliveries)
    return deliveries


def test_events_of_the_next_version_landing_during_a_snapshot_win(db, server, monkeypatch):
    """A snapshot lists version 1 page by page while the feed delivers version 2's changes
    (each once or twice, shuffled, concurrently): version 2 must be what stays, assets the
    events deleted must stay deleted, and the inventory the snapshot writes must count the
    documents there. The listing's last page is held until the feed is through, so its end
    (deletions, inventory) sees every event."""
    from concurrent.futures import ThreadPoolExecutor

    shift = feed_time_shift(SIMULATOR, 2)
    server.rewrite = lambda asset: shifted_asset(asset, shift)
    assert run_snapshot(snapshot_settings(server)).outcome == "complete"  # version 0 held
    last_listed = list(SIMULATOR.assets(1))[-1]["name"]
    feed_through = threading.Event()

    def listed(asset: dict) -> dict:
        if asset["name"] == last_listed:
            assert feed_through.wait(60)
        return shifted_asset(asset, shift)

    server.version, server.rewrite = 1, listed
    server.delays = dict.fromkeys(range(20), 0.1)
    monkeypatch.setenv("LZSYNC_EVENTS_STATUS_FLUSH_SECONDS", "60")
    deliveries = feed_messages(1, 2, seed=7, shift=shift)
    with asset_events_function() as deliver:
        listing = Background(lambda: run_snapshot(snapshot_settings(server)))
        wait_for(lambda: pages_served(server) >= pages(0) + 2)  # the racing listing has begun

        def push(delivery: tuple[str, bytes]) -> None:
            message_id, data = delivery
            while deliver(data, message_id) != 200:  # Pub/Sub redelivers a failed one
                time.sleep(0.05)

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(push, deliveries))
        feed_through.set()
        outcome = listing.result()

    assert outcome.outcome == "complete"
    assert outcome.superseded > 0, "the race did not happen: the listing never met an event"
    stored = stored_resources(db)
    expected = expected_resources(SIMULATOR, 2, lambda asset: shifted_asset(asset, shift))
    wrong = resource_differences(stored, expected)
    assert not wrong, f"{len(wrong)} assets wrong, e.g. {sorted(wrong.items())[:5]}"
    mismatch = inventory_mismatch(db, stored)
    assert not mismatch, f"inventory (held, actual): {mismatch}"
