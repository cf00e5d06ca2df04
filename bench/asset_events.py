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
import tempfile
import time
from pathlib import Path
from typing import Any

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from bench.feed import (
    Feed,
    activity_count,
    cpu_per_event,
    events_stack,
    latencies,
    summary,
    wait_for_count,
)
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.feed_player import ActivityListener, ResourceListener, play
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import running_stack
from lzsync.services.asset_snapshot_http import run_snapshot

PROJECT = "lzsync-bench-events"
ESTATE = 8_000  # the burst changes each asset at most once: one activity entry each
RATE = 200
SECONDS = 30
WARMUP_SECONDS = 10
BURST = 6_000
RESULTS = project_root() / "bench" / "results-events.json"


def _steady_rate(
    client: firestore.Client, publisher: Any, topic: str, feed: Feed, listener: str
) -> dict[str, Any]:
    """200 events/s for 30 s watched by one kind of listener: ``documents`` (the watched
    resources) or ``activity`` (the feed query). One kind at a time: both Python listeners and
    the emulator's query matching spend CPU that the pipeline under test shares."""
    total = RATE * SECONDS
    changes, versions = feed.take(total)
    documents = ResourceListener(client, feed.watched_ids) if listener == "documents" else None
    activity = ActivityListener(client) if listener == "activity" else None
    measured: dict[str, Any] = {"events": total, "rate_per_second": RATE}
    before = activity_count(client)
    (documents or activity).start()  # type: ignore[union-attr]
    try:
        time.sleep(2)  # listener attached and through its initial snapshot
        sent_in_order: list[float] = []
        with cpu_per_event(total, measured):
            sent = play(changes, publisher, topic, RATE, sent_in_order=sent_in_order)
            wait_for_count(client, before + total, timeout=300)
        time.sleep(3)  # the last listener callbacks and one more status flush
    finally:
        (documents or activity).stop()  # type: ignore[union-attr]
    if documents is not None:
        watched_sent = {
            version: at for version, at in zip(versions, sent_in_order, strict=True) if version
        }
        measured["document_listener"] = summary(
            latencies(documents.seen, watched_sent), len(watched_sent)
        )
    if activity is not None:
        measured["activity_query_listener"] = summary(latencies(activity.seen, sent), total)
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
    feed = Feed(list(simulator.assets()))
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
        # Only the measured phase in the lag percentiles, not the warm-up.
        config = events_stack(Path(work), lag_window_seconds=SECONDS)
        results["function_concurrency"] = config.function_concurrency
        with running_stack(emulators.env(), config):
            client = firestore.Client(project=PROJECT)
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(PROJECT, config.events_topic)

            print(f"warm-up: {RATE}/s for {WARMUP_SECONDS} s...", flush=True)
            warm, _ = feed.take(RATE * WARMUP_SECONDS)
            before = activity_count(client)
            play(warm, publisher, topic, RATE)
            wait_for_count(client, before + len(warm), timeout=300)

            for listener in ("documents", "activity"):
                print(f"publish → {listener} listener: {RATE}/s, {SECONDS} s...", flush=True)
                key = f"at_200_per_second_{listener}_listener"
                results[key] = _steady_rate(client, publisher, topic, feed, listener)
                print(f"  {json.dumps(results[key])}", flush=True)

            print(f"sustained: {BURST} events published at once...", flush=True)
            burst, _ = feed.take(BURST, watched=False)
            sustained: dict[str, Any] = {"events": BURST}
            before = activity_count(client)
            with cpu_per_event(BURST, sustained):
                started = time.perf_counter()
                play(burst, publisher, topic, per_second=100_000)
                finished = wait_for_count(client, before + BURST, timeout=600)
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
