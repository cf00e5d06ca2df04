"""``make bench`` (real-time): how fast feed changes reach Firestore and a Portal listener.

The function runs under functions-framework behind a Pub/Sub emulator subscription (delivered
by the push relay, as Pub/Sub pushes concurrently), on top of a snapshot of a simulated estate;
every process — emulators, relay, function, publisher, listeners — shares this machine's cores.
Each event updates one asset to a newer version. After a short warm-up (the emulators' JIT):

1. 200 events/s for 30 s, measuring publish → visible to real ``on_snapshot`` listeners:
   document listeners on 50 watched resources (every 4th event changes one of them: about one
   write per second per document), as a Portal page showing those resources holds; then again
   with a query listener on the newest ``activity`` entries instead, as a Portal feed would
   hold. Each time also publish → committed as the function records it (``sync_status/events``);
2. the most events/s one instance sustains: a burst published at once, until all applied; and
   the CPU each process spent per event, which says what one instance would sustain on a vCPU
   of its own.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.feed_player import ActivityListener, ResourceListener, play, relabelled
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.replay import percentile
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, running_stack
from lzsync.services.asset_snapshot_http import run_snapshot

PROJECT = "lzsync-bench-events"
ESTATE = 8_000  # the burst changes each asset at most once: one activity entry each
WATCHED = 50
WATCH_EVERY = 4
RATE = 200
SECONDS = 30
WARMUP_SECONDS = 10
BURST = 6_000
RESULTS = project_root() / "bench" / "results-events.json"


def _activity_count(client: firestore.Client) -> int:
    return int(client.collection("activity").count().get()[0][0].value)


def _wait_for_count(client: firestore.Client, expected: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _activity_count(client) >= expected:
            return time.perf_counter()
        time.sleep(0.5)
    raise TimeoutError(f"only {_activity_count(client)} of {expected} events applied")


def _process_role(process: psutil.Process) -> str | None:
    command = " ".join(process.cmdline())
    if "functions-framework" in command:
        return "function"
    if "cloud-firestore-emulator" in command:
        return "firestore_emulator"
    if "pubsub-emulator" in command:
        return "pubsub_emulator"
    return None


def _cpu_seconds() -> dict[str, float]:
    totals: dict[str, float] = {"bench_process": sum(psutil.Process().cpu_times()[:2])}
    for process in psutil.process_iter():
        try:
            role = _process_role(process)
            if role is not None:
                totals[role] = totals.get(role, 0.0) + sum(process.cpu_times()[:2])
        except psutil.Error:
            continue
    return totals


@contextmanager
def _cpu_per_event(events: int, into: dict[str, Any]) -> Iterator[None]:
    """CPU milliseconds each process spent per event while the block ran (the bench process
    is the publisher, the push relay and the listeners)."""
    before = _cpu_seconds()
    yield
    after = _cpu_seconds()
    into["cpu_ms_per_event"] = {
        role: round((after[role] - before.get(role, 0.0)) * 1000 / events, 2) for role in after
    }


class _Feed:
    """Changes in a fixed pattern: every WATCH_EVERY-th changes a watched asset (about once a
    second at 200/s); the others, and a burst's, go round the rest of the estate, so no asset
    changes twice within a second (an out-of-order older change would be ignored, leaving no
    activity entry to count)."""

    def __init__(self, assets: list[dict[str, Any]]) -> None:
        self._assets = assets
        self._sequence = 0
        self.watched_ids = [resource_id(asset["name"]) for asset in assets[:WATCHED]]

    def take(
        self, count: int, watched: bool = True
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str] | None]]:
        changes, versions = [], []
        for _ in range(count):
            n = self._sequence
            self._sequence += 1
            if watched and n % WATCH_EVERY == 0:
                asset = self._assets[(n // WATCH_EVERY) % WATCHED]
                versions.append((resource_id(asset["name"]), str(n)))
            else:
                asset = self._assets[WATCHED + n % (ESTATE - WATCHED)]
                versions.append(None)
            changes.append(relabelled(asset, n))
        return changes, versions


def _latencies(seen: dict[Any, float], sent: dict[Any, float]) -> list[float]:
    return [(seen[key] - at) * 1000 for key, at in sent.items() if key in seen]


def _summary(latencies: list[float], expected: int) -> dict[str, Any]:
    return {
        "expected": expected,
        "seen": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1) if latencies else None,
    }


def _steady_rate(
    client: firestore.Client, publisher: Any, topic: str, feed: _Feed, listener: str
) -> dict[str, Any]:
    """200 events/s for 30 s watched by one kind of listener: ``documents`` (the watched
    resources) or ``activity`` (the feed query). One kind at a time: both Python listeners and
    the emulator's query matching spend CPU that the pipeline under test shares."""
    total = RATE * SECONDS
    changes, versions = feed.take(total)
    documents = ResourceListener(client, feed.watched_ids) if listener == "documents" else None
    activity = ActivityListener(client) if listener == "activity" else None
    measured: dict[str, Any] = {"events": total, "rate_per_second": RATE}
    before = _activity_count(client)
    (documents or activity).start()  # type: ignore[union-attr]
    try:
        time.sleep(2)  # listener attached and through its initial snapshot
        sent_in_order: list[float] = []
        with _cpu_per_event(total, measured):
            sent = play(changes, publisher, topic, RATE, sent_in_order=sent_in_order)
            _wait_for_count(client, before + total, timeout=300)
        time.sleep(3)  # the last listener callbacks and one more status flush
    finally:
        (documents or activity).stop()  # type: ignore[union-attr]
    if documents is not None:
        watched_sent = {
            version: at for version, at in zip(versions, sent_in_order, strict=True) if version
        }
        measured["document_listener"] = _summary(
            _latencies(documents.seen, watched_sent), len(watched_sent)
        )
    if activity is not None:
        measured["activity_query_listener"] = _summary(_latencies(activity.seen, sent), total)
    status = client.collection("sync_status").document("events").get().to_dict() or {}
    lag = status.get("lag_seconds", {})
    measured["committed_lag_ms"] = {
        "p50": round(lag.get("p50", float("nan")) * 1000, 1),
        "p99": round(lag.get("p99", float("nan")) * 1000, 1),
        "samples": lag.get("samples"),
    }
    return measured


def main() -> None:
    stop_like_ctrl_c()
    simulator = Simulator(ESTATE)
    feed = _Feed(list(simulator.assets()))
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "note": "emulators, relay, function, publisher and listeners share these cores",
        }
    }
    with (
        tempfile.TemporaryDirectory() as work,
        running_emulators(PROJECT, Path(work) / "logs") as emulators,
    ):
        server = AssetServer(simulator).start()
        try:
            run_snapshot(settings_for(server, PROJECT))
        finally:
            server.stop()
        config = StackConfig(
            repos=(),
            webhook_secret=secrets.token_hex(16),  # the webhook is not started here
            work_dir=Path(work),
            functions=("asset_events",),
            delivery="relay",
            extra_env={
                "LZSYNC_LOG_LEVEL": "WARNING",
                "LZSYNC_EVENTS_STATUS_FLUSH_SECONDS": "1",
                # Only the measured phase in the lag percentiles, not the warm-up.
                "LZSYNC_EVENTS_LAG_WINDOW_SECONDS": str(SECONDS),
            },
        )
        results["function_concurrency"] = config.function_concurrency
        with running_stack(emulators.env(), config):
            client = firestore.Client(project=PROJECT)
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(PROJECT, config.events_topic)

            print(f"warm-up: {RATE}/s for {WARMUP_SECONDS} s...", flush=True)
            warm, _ = feed.take(RATE * WARMUP_SECONDS)
            before = _activity_count(client)
            play(warm, publisher, topic, RATE)
            _wait_for_count(client, before + len(warm), timeout=300)

            for listener in ("documents", "activity"):
                print(f"publish → {listener} listener: {RATE}/s, {SECONDS} s...", flush=True)
                key = f"at_200_per_second_{listener}_listener"
                results[key] = _steady_rate(client, publisher, topic, feed, listener)
                print(f"  {json.dumps(results[key])}", flush=True)

            print(f"sustained: {BURST} events published at once...", flush=True)
            burst, _ = feed.take(BURST, watched=False)
            sustained: dict[str, Any] = {"events": BURST}
            before = _activity_count(client)
            with _cpu_per_event(BURST, sustained):
                started = time.perf_counter()
                play(burst, publisher, topic, per_second=100_000)
                finished = _wait_for_count(client, before + BURST, timeout=600)
            sustained["seconds"] = round(finished - started, 2)
            sustained["events_per_second"] = round(BURST / (finished - started), 1)
            function_ms = sustained["cpu_ms_per_event"]["function"]
            sustained["function_events_per_cpu_second"] = round(1000 / function_ms, 1)
            results["sustained_one_instance"] = sustained
            print(f"  {json.dumps(sustained)}", flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
