"""``make bench`` (real-time): publish → visible-to-a-listener latency at 20 and 200 events/s
for 30 s each, and the most events/s one ``asset_events`` instance sustains.

The function runs under functions-framework behind a Pub/Sub emulator push subscription, on top
of a snapshot of a simulated estate; the listener is a real ``on_snapshot`` query on
``activity``, as the Portal's feed would use. Each event updates one asset (a newer version).
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.feed_player import ActivityListener, play, relabelled
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.replay import percentile
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, running_stack
from lzsync.services.asset_snapshot_http import run_snapshot

PROJECT = "lzsync-bench-events"
ESTATE = 2_000
# 200/s is the target; 20/s shows the latency of an unsaturated instance.
RATES = (20, 200)
SECONDS = 30
BURST = 3_000
DRAIN_SECONDS = 240
RESULTS = project_root() / "bench" / "results-events.json"


def _wait_for(listener: ActivityListener, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while listener.count() < expected and time.monotonic() < deadline:
        time.sleep(0.05)


def main() -> None:
    stop_like_ctrl_c()
    simulator = Simulator(ESTATE)
    assets = list(simulator.assets())
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
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
            extra_env={"LZSYNC_LOG_LEVEL": "WARNING"},
        )
        with running_stack(emulators.env(), config):
            client = firestore.Client(project=PROJECT)
            listener = ActivityListener(client).start()
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(PROJECT, config.events_topic)
            try:
                sequence = 0
                for rate in RATES:
                    total = rate * SECONDS
                    print(f"latency: {total} events at {rate}/s...", flush=True)
                    changes = [
                        relabelled(assets[(sequence + i) % ESTATE], sequence + i)
                        for i in range(total)
                    ]
                    sequence += total
                    before = listener.count()
                    sent = play(changes, publisher, topic, rate)
                    _wait_for(listener, before + total, timeout=DRAIN_SECONDS)
                    latencies = [
                        (listener.seen[key] - at) * 1000
                        for key, at in sent.items()
                        if key in listener.seen
                    ]
                    results[f"latency_at_{rate}_per_second"] = {
                        "events": total,
                        "visible_within_drain": len(latencies),
                        "drain_seconds": DRAIN_SECONDS,
                        "p50_ms": round(percentile(latencies, 0.5), 1),
                        "p99_ms": round(percentile(latencies, 0.99), 1),
                        "max_ms": round(max(latencies), 1),
                    }
                    print(f"  {results[f'latency_at_{rate}_per_second']}", flush=True)

                print(f"throughput: {BURST} events published at once...", flush=True)
                before = listener.count()
                burst = [relabelled(assets[i % ESTATE], sequence + i) for i in range(BURST)]
                started = time.perf_counter()
                play(burst, publisher, topic, per_second=100_000)
                _wait_for(listener, before + BURST, timeout=300)
                elapsed = max(listener.seen.values()) - started
                applied = listener.count() - before
                results["sustained_one_instance"] = {
                    "events": BURST,
                    "applied": applied,
                    "seconds": round(elapsed, 2),
                    "events_per_second": round(applied / elapsed, 1),
                }
                print(f"  {results['sustained_one_instance']}", flush=True)
            finally:
                listener.stop()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
