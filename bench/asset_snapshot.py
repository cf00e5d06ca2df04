"""``make bench`` (assets): snapshot cost and speed at 10,000 and 100,000 simulated assets.

For each size: a fresh Firestore emulator database, the simulated estate served by the local
ListAssets server in its own process, then a first snapshot and an unchanged re-run, each in a
fresh Python process so that its peak RSS is the snapshot's own. Firestore operations are the
reads and writes lzsync performs (counted by its adapters, what Firestore would bill).
ListAssets pacing is lifted (``LZSYNC_ASSET_REQUESTS_PER_MINUTE``) to measure lzsync itself; at
the default quota of 100 requests/min a listing takes at least 0.6 s per 1,000 assets.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.child import measure_in_child, serve_estate
from lzsync.devtools.emulators import running_emulators, stop_process_group
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator

PROJECT = "lzsync-bench-assets"
SIZES = (10_000, 100_000)
RESULTS = project_root() / "bench" / "results-assets.json"


def _run_once() -> None:
    """Child process: one snapshot with the environment's settings; prints a JSON line."""
    from lzsync.services.asset_snapshot_http import run_snapshot
    from lzsync.settings import Settings

    started = time.perf_counter()
    outcome = run_snapshot(Settings())
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "outcome": outcome.outcome,
                "seen": outcome.seen,
                "written": outcome.written,
                "superseded": outcome.superseded,
                "wall_seconds": round(seconds, 2),
                "assets_per_second": round(outcome.seen / seconds),
                "peak_rss_mib": round(peak_kib / 1024, 1),
                "firestore_reads": outcome.counts.reads,
                "firestore_writes": outcome.counts.writes,
            }
        )
    )


def main() -> None:
    stop_like_ctrl_c()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "sizes": {}}
    with (
        tempfile.TemporaryDirectory() as work,
        running_emulators(PROJECT, Path(work)) as emulators,
    ):
        for size in SIZES:
            emulators.reset_firestore()
            server, endpoint = serve_estate(size)
            try:
                env = {
                    **os.environ,
                    **emulators.env(),
                    "LZSYNC_ASSET_SCOPE": Simulator(size).organization,
                    "LZSYNC_ASSET_API_ENDPOINT": endpoint,
                    "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
                    "LZSYNC_LOG_LEVEL": "WARNING",
                }
                print(f"{size:,} assets: first snapshot...", flush=True)
                first = measure_in_child("bench.asset_snapshot", env)
                print(f"  {first}", flush=True)
                print(f"{size:,} assets: unchanged re-run...", flush=True)
                rerun = measure_in_child("bench.asset_snapshot", env)
                print(f"  {rerun}", flush=True)
            finally:
                stop_process_group(server)  # type: ignore[arg-type]
            results["sizes"][str(size)] = {"first_run": first, "unchanged_rerun": rerun}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _run_once()
    else:
        main()
