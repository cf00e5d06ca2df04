"""Load, real-time feed: fixed offered rates held for a minute, and a big snapshot during a feed.

Both run ``asset_events`` as ``bench.asset_events`` does (functions-framework, push relay, both
emulators, all on this machine's cores) and see changes through ``on_snapshot`` document
listeners on 50 watched resources (every 4th event changes one of them).

1. Sustained: for each offered rate, events published at that rate for ``LOAD_SECONDS``;
   publish → listener latency, events/s applied while publishing, the backlog (published minus
   applied) sampled every few seconds and at the end (growth = the pipeline does not keep up),
   and how long the backlog then takes to drain.
2. Snapshot during a feed: a fresh database, the feed at the first rate for a baseline, then a
   first snapshot of ``LOAD_SNAPSHOT_ASSETS`` assets (its own process: duration, peak RSS) while
   the feed goes on; events' latency before vs during the snapshot; and the final state: every
   asset an event changed must hold that event's version, not the older listing's.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from bench.child import measure_in_child, serve_estate
from bench.feed import Feed, activity_count, cpu_per_event, events_stack, latencies, summary
from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.emulators import EmulatorSuite, stop_process_group
from lzsync.devtools.feed_player import ResourceListener, play
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import running_stack
from lzsync.logic import docids
from lzsync.model.feed import parse_timestamp
from lzsync.services.asset_snapshot_http import run_snapshot

SECONDS: Final = int(os.environ.get("LOAD_SECONDS", "60"))
# Highest rate this 2-vCPU box sustained without backlog growth, then one above it.
RATES: Final = tuple(int(n) for n in os.environ.get("LOAD_RATES", "200,300").split(","))
SNAPSHOT_ASSETS: Final = int(os.environ.get("LOAD_SNAPSHOT_ASSETS", "100000"))
SUSTAINED_ESTATE: Final = 8_000
WARMUP_SECONDS: Final = 5
BASELINE_SECONDS: Final = int(os.environ.get("LOAD_BASELINE_SECONDS", "10"))
SAMPLE_EVERY_SECONDS: Final = max(2.0, SECONDS / 12)
DRAIN_TIMEOUT_SECONDS: Final = 90.0
STALL_SECONDS: Final = 10.0
# Sustained = no queue growth: the backlog's trend while publishing (least-squares slope of
# the samples after the first few seconds' ramp-up) stays under this share of the offered rate.
SUSTAINED_GROWTH_SHARE: Final = 0.05
RAMP_UP_SECONDS: Final = 4.0
_GET_ALL_CHUNK: Final = 300


def _drain(client: firestore.Client, expected: int) -> tuple[float | None, int]:
    """(seconds until ``expected`` events are applied, or None; events still unapplied). Gives
    up after the timeout, or once the count has not moved for a while: a change that reached
    the function after a newer one for the same asset is ignored (newer wins) and leaves no
    activity entry, so a few events may never count."""
    started = last_change = time.perf_counter()
    last = -1
    while True:
        count, now = activity_count(client), time.perf_counter()
        if count >= expected:
            return round(now - started, 2), 0
        if count != last:
            last, last_change = count, now
        if now - last_change > STALL_SECONDS or now - started > DRAIN_TIMEOUT_SECONDS:
            return None, expected - count
        time.sleep(0.5)


class _BacklogSampler:
    """Published minus applied every few seconds while publishing: a queue that grows shows here
    before the end does."""

    def __init__(self, client: firestore.Client, sent: dict[str, float], base: int) -> None:
        self._client, self._sent, self._base = client, sent, base
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.perf_counter()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_SECONDS):
            published = len(self._sent)
            applied = activity_count(self._client) - self._base
            self.samples.append(
                {
                    "at_seconds": round(time.perf_counter() - self._started, 1),
                    "published": published,
                    "backlog": published - applied,
                }
            )

    def __enter__(self) -> _BacklogSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def backlog_growth_per_second(samples: list[dict[str, float]]) -> float | None:
    """Least-squares slope of backlog over time (events/s), ramp-up excluded."""
    points = [(s["at_seconds"], s["backlog"]) for s in samples if s["at_seconds"] > RAMP_UP_SECONDS]
    if len(points) < 2:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_b = sum(b for _, b in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return round(sum((t - mean_t) * (b - mean_b) for t, b in points) / spread, 1)


def _one_rate(
    client: firestore.Client, publisher: Any, topic: str, feed: Feed, rate: int
) -> dict[str, Any]:
    total = rate * SECONDS
    changes, versions = feed.take(total)
    listener = ResourceListener(client, feed.watched_ids).start()
    measured: dict[str, Any] = {"offered_per_second": rate, "seconds": SECONDS, "events": total}
    try:
        time.sleep(2)  # listeners attached and through their initial snapshot
        before = activity_count(client)
        sent: dict[str, float] = {}
        sent_in_order: list[float] = []
        with cpu_per_event(total, measured), _BacklogSampler(client, sent, before) as sampler:
            started = time.perf_counter()
            play(changes, publisher, topic, rate, sent=sent, sent_in_order=sent_in_order)
            publishing = time.perf_counter() - started
            applied = activity_count(client) - before
        measured["publishing_seconds"] = round(publishing, 2)
        measured["applied_per_second"] = round(applied / publishing, 1)
        measured["backlog_at_end"] = total - applied
        measured["backlog_samples"] = sampler.samples
        measured["drain_seconds"], measured["unapplied_after_drain"] = _drain(
            client, before + total
        )
        time.sleep(2)  # the last listener callbacks
    finally:
        listener.stop()
    watched = {v: at for v, at in zip(versions, sent_in_order, strict=True) if v is not None}
    measured["document_listener"] = summary(latencies(listener.seen, watched), len(watched))
    growth = backlog_growth_per_second(sampler.samples)
    measured["backlog_growth_per_second"] = growth
    measured["sustained"] = growth is not None and growth <= rate * SUSTAINED_GROWTH_SHARE
    return measured


def run_sustained(emulators: EmulatorSuite, work_dir: Path) -> dict[str, Any]:
    emulators.reset_firestore()
    simulator = Simulator(SUSTAINED_ESTATE)
    feed = Feed(list(simulator.assets()))
    server = AssetServer(simulator).start()
    try:
        run_snapshot(settings_for(server, emulators.project_id))  # events update, not create
    finally:
        server.stop()
    results: dict[str, Any] = {
        "estate": SUSTAINED_ESTATE,
        "sustained_rule": (
            f"backlog growth while publishing <= {SUSTAINED_GROWTH_SHARE:.0%} of the offered rate"
        ),
        "rates": [],
    }
    with running_stack(emulators.env(), events_stack(work_dir, SECONDS, "lzfeed")) as stack:
        client = firestore.Client(project=emulators.project_id)
        publisher = pubsub_v1.PublisherClient()
        topic = publisher.topic_path(emulators.project_id, stack.config.events_topic)
        print(f"feed warm-up: {RATES[0]}/s for {WARMUP_SECONDS} s...", flush=True)
        warm, _ = feed.take(RATES[0] * WARMUP_SECONDS)
        before = activity_count(client)
        play(warm, publisher, topic, RATES[0])
        _drain(client, before + len(warm))
        for rate in RATES:
            print(f"feed: {rate}/s for {SECONDS} s...", flush=True)
            measured = _one_rate(client, publisher, topic, feed, rate)
            print(f"  {json.dumps(measured)}", flush=True)
            results["rates"].append(measured)
    return results


def _newest_events(
    changes: list[dict[str, Any]], sent: dict[str, float]
) -> dict[str, tuple[str, str]]:
    """Asset name → (the ``updateTime`` its newest change was stamped with, that change's
    activity id). ``play`` keys what it sent by the activity id, ``event:<name>:<time>``, in the
    order of ``changes``."""
    newest = {}
    for change, key in zip(changes, sent, strict=True):
        name = change["asset"]["name"]
        newest[name] = (docids.decode(key)[len(f"event:{name}:") :], key)
    return newest


def _stale_documents(
    client: firestore.Client, newest: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    """Documents whose ``update_time`` is older than the newest event sent for them, split by
    whether that event was applied (its activity entry exists): applied, then overwritten by
    the older listing; or never applied (the feed had not drained when the check ran)."""
    resources = client.collection("resources")
    names = list(newest)
    missing = 0
    stale: list[str] = []
    for start in range(0, len(names), _GET_ALL_CHUNK):
        refs = [
            resources.document(resource_id(name)) for name in names[start : start + _GET_ALL_CHUNK]
        ]
        for snapshot in client.get_all(refs):
            document = snapshot.to_dict()
            if document is None:
                missing += 1
                continue
            held = parse_timestamp(document.get("update_time"), "update_time")
            if held < parse_timestamp(newest[document["name"]][0], "updateTime"):
                stale.append(document["name"])
    activity = client.collection("activity")
    applied: set[str] = set()
    for start in range(0, len(stale), _GET_ALL_CHUNK):
        refs = [
            activity.document(newest[name][1]) for name in stale[start : start + _GET_ALL_CHUNK]
        ]
        applied.update(snapshot.id for snapshot in client.get_all(refs) if snapshot.exists)
    overwritten = [name for name in stale if newest[name][1] in applied]
    return {
        "checked": len(names),
        "older_than_event": len(stale),
        "overwritten_by_listing": len(overwritten),
        "event_not_applied": len(stale) - len(overwritten),
        "examples": overwritten[:3],
        "missing": missing,
    }


def _feed_until(
    done: Callable[[], bool], play_second: Callable[[], None], minimum_seconds: int
) -> None:
    for second in itertools.count():
        if second >= minimum_seconds and done():
            return
        play_second()


def run_snapshot_during_feed(emulators: EmulatorSuite, work_dir: Path) -> dict[str, Any]:
    emulators.reset_firestore()
    rate = RATES[0]
    simulator = Simulator(SNAPSHOT_ASSETS)
    # Events spread over the whole estate, so they meet every part of the listing.
    spread = max(1, SNAPSHOT_ASSETS // 20_000)
    feed = Feed(list(itertools.islice(simulator.assets(), 0, None, spread)))
    server, endpoint = serve_estate(SNAPSHOT_ASSETS)
    child_env = {
        **os.environ,
        **emulators.env(),
        "LZSYNC_ASSET_SCOPE": simulator.organization,
        "LZSYNC_ASSET_API_ENDPOINT": endpoint,
        "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
        "LZSYNC_LOG_LEVEL": "WARNING",
    }
    snapshot: dict[str, Any] = {}
    marks: dict[str, float] = {}

    def snapshot_run() -> None:
        marks["started"] = time.perf_counter()
        snapshot.update(measure_in_child("bench.asset_snapshot", child_env))
        marks["finished"] = time.perf_counter()

    results: dict[str, Any] = {"assets": SNAPSHOT_ASSETS, "offered_per_second": rate}
    try:
        config = events_stack(work_dir, SECONDS, name_prefix="lzsnap")
        with running_stack(emulators.env(), config) as stack:
            client = firestore.Client(project=emulators.project_id)
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(emulators.project_id, stack.config.events_topic)
            listener = ResourceListener(client, feed.watched_ids).start()
            changes: list[dict[str, Any]] = []
            versions: list[tuple[str, str] | None] = []
            sent: dict[str, float] = {}
            sent_in_order: list[float] = []
            runner = threading.Thread(target=snapshot_run)

            def play_second() -> None:
                more, more_versions = feed.take(rate)
                changes.extend(more)
                versions.extend(more_versions)
                play(more, publisher, topic, rate, sent=sent, sent_in_order=sent_in_order)

            try:
                time.sleep(2)
                print(f"snapshot under load: {rate}/s for {BASELINE_SECONDS} s...", flush=True)
                _feed_until(lambda: True, play_second, BASELINE_SECONDS)
                print(f"  + first snapshot of {SNAPSHOT_ASSETS:,} assets...", flush=True)
                runner.start()
                _feed_until(lambda: not runner.is_alive(), play_second, 1)
                runner.join()
                results["feed_seconds"] = round(sent_in_order[-1] - sent_in_order[0], 2)
                results["backlog_at_end"] = len(changes) - activity_count(client)
                results["drain_seconds"], results["unapplied_after_drain"] = _drain(
                    client, len(changes)
                )
                time.sleep(2)
            finally:
                listener.stop()
                runner.join()
    finally:
        stop_process_group(server)  # type: ignore[arg-type]
    results["snapshot"] = snapshot
    results["events"] = len(changes)
    # Before = the baseline only: events sent after the snapshot ended still queue behind
    # what it delayed, so they belong to neither side.
    during: dict[Any, float] = {}
    before: dict[Any, float] = {}
    for version, at in zip(versions, sent_in_order, strict=True):
        if version is not None and at < marks["started"]:
            before[version] = at
        elif version is not None and at <= marks["finished"]:
            during[version] = at
    results["latency_without_snapshot"] = summary(latencies(listener.seen, before), len(before))
    results["latency_during_snapshot"] = summary(latencies(listener.seen, during), len(during))
    results["final_state"] = _stale_documents(client, _newest_events(changes, sent))
    print(f"  {json.dumps(results)}", flush=True)
    return results
