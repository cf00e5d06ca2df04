"""``make bench-load`` (also part of ``make bench``): the load section.

One pair of emulators for the three parts, each with its own stack and a reset database: the
webhook under concurrent clients (``bench.load_webhook``), the feed held at fixed rates and a
100,000-asset snapshot during a feed (``bench.load_feed``). Results go under the ``load`` key of
``bench/results.json`` (other keys kept); ``bench.report`` turns them into docs/benchmarks.md.

Knobs (environment): ``LOAD_SECONDS`` (feed duration per rate, 60), ``LOAD_RATES`` (offered
events/s, "200,300": the highest sustained here, then one above), ``LOAD_CLIENTS`` ("1,8,32"),
``LOAD_WEBHOOK_SECONDS`` (8 per level), ``LOAD_SNAPSHOT_ASSETS`` (100000),
``LOAD_BASELINE_SECONDS`` (10), ``LOAD_NOTE`` (free text kept with the figures, e.g. that the
machine was shared). Every process shares this machine's cores: the load average before and
after is recorded so a noisy run can be told apart.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load_feed, load_webhook
from bench.common import RESULTS, machine, merge_results
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.signals import stop_like_ctrl_c

PROJECT = "lzsync-bench-load"
CO_LOCATED = (
    "Firestore and Pub/Sub emulators, the function under functions-framework, the push relay, "
    "the publisher, the load clients and the listeners (bench process), the ListAssets server "
    "and the snapshot (own processes)"
)


def _config() -> dict[str, Any]:
    return {
        "webhook_clients": list(load_webhook.CLIENTS),
        "webhook_seconds_per_level": load_webhook.SECONDS_PER_LEVEL,
        "feed_seconds": load_feed.SECONDS,
        "feed_rates": list(load_feed.RATES),
        "snapshot_assets": load_feed.SNAPSHOT_ASSETS,
        "snapshot_baseline_seconds": load_feed.BASELINE_SECONDS,
    }


def main() -> None:
    stop_like_ctrl_c()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "co_located": CO_LOCATED,
        "note": os.environ.get("LOAD_NOTE", ""),
        "config": _config(),
        "load_average_before": [round(value, 2) for value in os.getloadavg()],
    }
    with (
        tempfile.TemporaryDirectory(prefix="lzsync-load-") as work,
        running_emulators(PROJECT, Path(work) / "logs") as emulators,
    ):
        results["webhook"] = load_webhook.run(emulators, Path(work) / "webhook")
        results["feed_sustained"] = load_feed.run_sustained(emulators, Path(work) / "feed")
        results["snapshot_during_feed"] = load_feed.run_snapshot_during_feed(
            emulators, Path(work) / "snapshot"
        )
    results["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
    results["section_seconds"] = round(time.perf_counter() - started, 1)
    merge_results({"load": results})
    print(json.dumps(results["config"]), f"{results['section_seconds']} s", flush=True)
    print(f"written to {RESULTS} (key 'load')")


if __name__ == "__main__":
    main()
