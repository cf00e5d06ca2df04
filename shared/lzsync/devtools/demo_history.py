"""The demo's history phase: the last week exported to a local BigQuery engine and the trend
table the Portal would chart, read back from the views and from ``history/summary``.

The simulated estate's earlier versions stand in for earlier days (the listing is asked for
the end of each day, as a backfill would); the git and real-time changes the demo made all
happened today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from google.cloud import firestore
from tqdm import tqdm

from lzsync.adapters.history_summary import HistorySummaryStore
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.bigquery_emulator import running_bigquery
from lzsync.devtools.simulator import Simulator
from lzsync.services.history_export_http import history_service

DAYS: Final = 7


def _version_at(today: date, newest: int) -> Any:
    def version(read_time: datetime) -> int:
        return max(0, newest - (today - read_time.date()).days)

    return version


def _table(summary: dict[str, Any]) -> str:
    lines = [
        f"  {'period':<12} {'resources':>9} {'created':>8} {'updated':>8} {'deleted':>8} "
        f"{'doc files':>9} {'violations':>10}"
    ]
    for period in ("daily", "weekly", "monthly"):
        entries = summary.get(period) or []
        if period != "daily":
            entries = entries[-1:]
            lines.append(f"  {period} (latest):")
        for entry in entries:
            lines.append(
                f"  {entry['period_start']:<12} {entry['resources']:>9,} {entry['created']:>8,} "
                f"{entry['updated']:>8,} {entry['deleted']:>8,} {entry['doc_files_changed']:>9,} "
                f"{entry.get('violations', 0):>10,}"
            )
    return "\n".join(lines)


def history_phase(
    client: firestore.Client, project: str, simulator: Simulator, newest: int, work: Path
) -> None:
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    print(f"\nHistory: the last {DAYS} days exported to a local BigQuery engine (bqemulator)...")
    server = AssetServer(simulator, version=newest).start()
    server.version_at = _version_at(today, newest)
    try:
        with running_bigquery(project, work / "logs") as bigquery:
            settings = settings_for(server, project, bigquery_api_endpoint=bigquery.endpoint)
            service = history_service(settings, client)
            total_bytes = 0
            for day in tqdm(days, unit="day", desc="exporting history"):
                total_bytes += service.run(day).bytes_loaded
            print(f"  {total_bytes:,} bytes loaded by load jobs (free)")
            summary = HistorySummaryStore(client, "history").read() or {}
            print("  history/summary, as the Portal's trend charts read it:")
            print(_table(summary))
            environments = ", ".join(
                f"{name} {count:,}" for name, count in sorted(summary["by_environment"].items())
            )
            print(f"  resources by environment today: {environments}")
    finally:
        server.stop()
