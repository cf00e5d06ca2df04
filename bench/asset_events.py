"""``make bench`` (real-time): how fast feed changes reach Firestore and a Portal listener.

The function runs under functions-framework behind a Pub/Sub emulator subscription (delivered
by the push relay, as Pub/Sub pushes concurrently), on top of a snapshot of a simulated estate.
Each event updates one asset to a newer version. Three measurements:

1. publish → committed, at 200 events/s for 30 s: the lag the function itself records
   (now - ``window.startTime`` when the transaction committed; ``sync_status/events``);
2. publish → visible to a listener, at 20 events/s for 30 s: a real ``on_snapshot`` query on the
   newest ``activity`` entries, as a Portal feed would listen;
3. the most events/s one instance sustains: 3,000 events published at once, until all applied.
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
SECONDS = 30
COMMIT_RATE = 200
LISTENER_RATE = 20
BURST = 3_000
RESULTS = project_root() / "bench" / "results-events.json"


def _activity_count(client: firestore.Client) -> int:
    return int(client.collection("activity").count().get()[0][0].value)


def _wait_for_count(client: firestore.Client, expected: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _activity_count(client) >= expected:
            return time.perf_counter()
        time.sleep(0.25)
    raise TimeoutError(f"only {_activity_count(client)} of {expected} events applied")


def main() -> None:
    stop_like_ctrl_c()
    simulator = Simulator(ESTATE)
    assets = list(simulator.assets())
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    sequence = 0

    def changes(count: int) -> list[dict[str, Any]]:
        nonlocal sequence
        made = [relabelled(assets[(sequence + i) % ESTATE], sequence + i) for i in range(count)]
        sequence += count
        return made

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
                "LZSYNC_EVENTS_LAG_WINDOW_SECONDS": str(SECONDS + 30),
            },
        )
        with running_stack(emulators.env(), config):
            client = firestore.Client(project=PROJECT)
            publisher = pubsub_v1.PublisherClient()
            topic = publisher.topic_path(PROJECT, config.events_topic)

            total = COMMIT_RATE * SECONDS
            print(f"publish → committed: {total} events at {COMMIT_RATE}/s...", flush=True)
            play(changes(total), publisher, topic, COMMIT_RATE)
            _wait_for_count(client, total, timeout=300)
            time.sleep(2)  # one more status flush
            status = client.collection("sync_status").document("events").get().to_dict() or {}
            lag = status.get("lag_seconds", {})
            results["commit_lag_at_200_per_second"] = {
                "events": total,
                "p50_ms": round(lag.get("p50", float("nan")) * 1000, 1),
                "p99_ms": round(lag.get("p99", float("nan")) * 1000, 1),
                "samples": lag.get("samples"),
            }
            print(f"  {results['commit_lag_at_200_per_second']}", flush=True)

            listened = LISTENER_RATE * SECONDS
            print(f"publish → listener: {listened} events at {LISTENER_RATE}/s...", flush=True)
            listener = ActivityListener(client).start()
            try:
                sent = play(changes(listened), publisher, topic, LISTENER_RATE)
                deadline = time.monotonic() + 120
                while listener.count() < listened and time.monotonic() < deadline:
                    time.sleep(0.1)
                latencies = [
                    (listener.seen[key] - at) * 1000
                    for key, at in sent.items()
                    if key in listener.seen
                ]
            finally:
                listener.stop()
            results["listener_latency_at_20_per_second"] = {
                "events": listened,
                "seen": len(latencies),
                "p50_ms": round(percentile(latencies, 0.5), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
            }
            print(f"  {results['listener_latency_at_20_per_second']}", flush=True)

            print(f"sustained: {BURST} events published at once...", flush=True)
            before = _activity_count(client)
            started = time.perf_counter()
            play(changes(BURST), publisher, topic, per_second=100_000)
            finished = _wait_for_count(client, before + BURST, timeout=600)
            results["sustained_one_instance"] = {
                "events": BURST,
                "seconds": round(finished - started, 2),
                "events_per_second": round(BURST / (finished - started), 1),
            }
            print(f"  {results['sustained_one_instance']}", flush=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
