"""``make bench`` (history): one day of a 10,000- and a 100,000-asset estate exported to BigQuery.

The estate is served by the local ListAssets server in its own process; the export runs in a
fresh Python process (so its peak RSS is the export's own) against the Firestore emulator and
the local BigQuery engine (bqemulator: DuckDB behind BigQuery's REST API, so times say little
about BigQuery's own, while rows, bytes and memory carry over). Run twice: the second run
replaces the same day's partitions.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.child import measure_in_child, serve_estate
from lzsync.devtools.bigquery_emulator import running_bigquery
from lzsync.devtools.emulators import running_emulators, stop_process_group
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator

PROJECT = "lzsync-bench-history"
SIZES = (10_000, 100_000)
RESULTS = project_root() / "bench" / "results-history.json"


def _run_once() -> None:
    """Child process: export today with the environment's settings; prints a JSON line."""
    from lzsync.services.history_export_http import run_export
    from lzsync.settings import Settings

    started = time.perf_counter()
    outcome = run_export(Settings(), datetime.now(UTC).date())
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "outcome": outcome.outcome,
                "rows": {name: table["rows"] for name, table in outcome.tables.items()},
                "load_jobs": sum(table["load_jobs"] for table in outcome.tables.values()),
                "bytes_loaded": outcome.bytes_loaded,
                "wall_seconds": round(seconds, 2),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )


def main() -> None:
    stop_like_ctrl_c()
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "sizes": {}}
    with (
        tempfile.TemporaryDirectory() as work,
        running_emulators(PROJECT, Path(work)) as emulators,
        running_bigquery(PROJECT, Path(work)) as bigquery,
    ):
        for size in SIZES:
            server, endpoint = serve_estate(size)
            try:
                env = {
                    **os.environ,
                    **emulators.env(),
                    "LZSYNC_ASSET_SCOPE": Simulator(size).organization,
                    "LZSYNC_ASSET_API_ENDPOINT": endpoint,
                    "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
                    "LZSYNC_BIGQUERY_API_ENDPOINT": bigquery.endpoint,
                    "LZSYNC_HISTORY_DATASET": f"history_{size}",
                    "LZSYNC_LOG_LEVEL": "WARNING",
                }
                runs: dict[str, Any] = {}
                for run in ("first_export", "re_export_same_day"):
                    print(f"{size:,} assets: {run.replace('_', ' ')}...", flush=True)
                    runs[run] = measure_in_child("bench.history_export", env)
                    print(f"  {runs[run]}", flush=True)
                results["sizes"][str(size)] = runs
            finally:
                stop_process_group(server)  # type: ignore[arg-type]
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    if "--child" in sys.argv:
        _run_once()
    else:
        main()
