"""Layer 5: one day of history into BigQuery, and the trend summary back to Firestore.

For day D (UTC) a run replaces D's partition of each table with exactly what D holds:

- ``asset_snapshots``: every asset as listed by Cloud Asset Inventory at the end of D (``read
  time``; CAI keeps 35 days, which bounds backfills), streamed page by page into load jobs;
- ``resource_counts``: those rows counted by type, project and environment, tallied on the way
  (the small table every resource trend reads);
- ``asset_changes``: the asset layers' ``activity`` entries timed in D;
- ``doc_changes``: the file changes git sync logged in ``_doc_changes`` during D.

Then it refreshes the views, writes ``history/summary`` (last days, weeks and months of
headline numbers, so the Portal draws charts without querying BigQuery) and
``sync_status/history``. A failure before a table's swap leaves that table's day as it was;
the status says what failed. Re-running a day gives the same partitions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any, Final

from google.cloud import bigquery

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.asset_sources import AssetSource, ListingIncomplete
from lzsync.adapters.constraint_store import ConstraintSet
from lzsync.adapters.doc_change_log import DocChangeLog
from lzsync.adapters.history_warehouse import DayLoad, HistoryWarehouse
from lzsync.adapters.status import StatusBoard
from lzsync.errors import InvalidPayload
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.history_rows import CountTally, change_row, doc_change_row, snapshot_row
from lzsync.logic.history_views import environment_query, summary_queries, view_definitions
from lzsync.logs import audit, bound
from lzsync.services.asset_policies import PolicyIndex, policies_for
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.history")

ASSET_LAYERS: Final = frozenset({"events", "assets"})
WEEKS: Final = 12
MONTHS: Final = 12

SourceForDay = Callable[[date], AssetSource]


@dataclass
class ExportOutcome:
    day: date
    outcome: str = "failed"  # complete | failed
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped_assets: int = 0
    duration_seconds: float = 0.0
    error: str | None = None

    @property
    def bytes_loaded(self) -> int:
        return sum(table["bytes_loaded"] for table in self.tables.values())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, day_time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _as_date(value: Any) -> date:
    """Period starts as dates (the local engine returns DATE_TRUNC of a DATE as a datetime)."""
    return value.date() if isinstance(value, datetime) else value


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class HistoryExportService:
    def __init__(
        self,
        settings: Settings,
        warehouse: HistoryWarehouse,
        source_for_day: SourceForDay,
        activity: ActivityFeed,
        doc_changes: DocChangeLog,
        summary_store: Callable[[dict[str, Any]], None],
        status: StatusBoard,
        constraints: ConstraintSet | None = None,
    ) -> None:
        self._constraints = constraints or ConstraintSet()
        self._settings = settings
        self._warehouse = warehouse
        self._source_for_day = source_for_day
        self._activity = activity
        self._doc_changes = doc_changes
        self._write_summary = summary_store
        self._status = status

    def run(self, day: date) -> ExportOutcome:
        with bound(function="bq_export", day=day.isoformat()):
            started = time.monotonic()
            outcome = ExportOutcome(day)
            try:
                self._export(day, outcome)
                outcome.outcome = "complete"
            except Exception as error:
                outcome.error = f"{type(error).__name__}: {error}"
                outcome.duration_seconds = round(time.monotonic() - started, 3)
                self._record(outcome)
                raise
            outcome.duration_seconds = round(time.monotonic() - started, 3)
            self._record(outcome)
            audit(
                "history_export",
                outcome=outcome.outcome,
                day=day.isoformat(),
                rows={name: table["rows"] for name, table in outcome.tables.items()},
                bytes_loaded=outcome.bytes_loaded,
            )
            return outcome

    def _export(self, day: date, outcome: ExportOutcome) -> None:
        settings = self._settings
        self._warehouse.ensure(
            view_definitions(self._warehouse.dataset_path, settings.history_billing_export_table)
        )
        tally = CountTally()
        loads = [
            self._warehouse.replace_day(
                "asset_snapshots", day, self._snapshot_rows(day, tally, outcome)
            ),
            self._warehouse.replace_day("resource_counts", day, tally.rows(day)),
        ]
        start, end = day_bounds(day)
        changes = (
            change_row(entry_id, entry)
            for entry_id, entry in self._activity.between(start, end, ASSET_LAYERS)
        )
        loads.append(self._warehouse.replace_day("asset_changes", day, changes))
        files = (doc_change_row(record) for record in self._doc_changes.synced_between(start, end))
        loads.append(self._warehouse.replace_day("doc_changes", day, files))
        outcome.tables = {load.table: _load_fields(load) for load in loads}
        self._write_summary(self.summary(day))

    def _snapshot_rows(
        self, day: date, tally: CountTally, outcome: ExportOutcome
    ) -> Iterator[dict[str, Any]]:
        labels = self._settings.history_environment_labels
        source = self._source_for_day(day)
        policies = self._policies(source)
        for page in source.pages():
            for listed in page.assets:
                asset = listed if policies is None else policies.attach(listed)
                try:
                    document = resource_document(
                        asset, source="history", violations=self._constraints.judge(asset)
                    )
                except InvalidPayload as error:
                    # The snapshot layer records such assets; history counts what it can name.
                    outcome.skipped_assets += 1
                    _log.warning("asset skipped", extra={"error": str(error)})
                    continue
                row = snapshot_row(document, day, labels)
                tally.add(row)
                yield row

    def _policies(self, source: AssetSource) -> PolicyIndex | None:
        """The day's IAM policies, listed as the snapshot lists them, while a constraint reads
        IAM: without them the day's rows would under-count IAM violations. An incomplete
        listing fails the export (Scheduler retries it; the day is replaced whole) rather than
        store a count known to be short."""
        policies = policies_for(source, self._constraints.needs_iam)
        if policies is not None and not policies.complete:
            raise ListingIncomplete(
                f"IAM policy listing failed: {policies.error}", pages_read=policies.pages
            )
        return policies

    def summary(self, day: date) -> dict[str, Any]:
        """Headline numbers per day, week and month up to ``day``, read from the views."""
        since = {
            "daily": day - timedelta(days=self._settings.history_summary_days - 1),
            "weekly": _week_start(day) - timedelta(weeks=WEEKS - 1),
            "monthly": _months_back(day, MONTHS - 1),
        }
        summary: dict[str, Any] = {"as_of": day.isoformat(), "generated_at": datetime.now(UTC)}
        for period, first in since.items():
            summary[period] = self._period_numbers(period, first, day)
        summary["by_environment"] = {
            row["environment"]: row["resources"]
            for row in self._warehouse.run(
                environment_query(self._warehouse.dataset_path),
                [bigquery.ScalarQueryParameter("day", "DATE", day)],
            )
        }
        return summary

    def _period_numbers(self, period: str, first: date, last: date) -> list[dict[str, Any]]:
        queries = summary_queries(
            self._warehouse.dataset_path,
            period,
            with_cost=self._settings.history_billing_export_table is not None,
        )
        parameters = [
            bigquery.ScalarQueryParameter("first", "DATE", first),
            bigquery.ScalarQueryParameter("last", "DATE", last),
        ]
        numbers: dict[date, dict[str, Any]] = {}
        for measure, sql in queries.items():
            for row in self._warehouse.run(sql, parameters):
                start = _as_date(row["period_start"])
                slot = numbers.setdefault(start, _empty_period(start))
                value = row["n"] or 0
                if measure == "resources":
                    slot["resources"] = int(value)
                elif measure == "docs":
                    slot["doc_files_changed"] = int(value)
                elif measure == "violations":
                    slot["violations"] = int(value)
                elif measure == "cost":
                    slot["net_cost"] = round(float(value), 2)
                elif row["kind"] in ("created", "updated", "deleted"):
                    slot[row["kind"]] = int(value)
        return [numbers[start] for start in sorted(numbers)]

    def _record(self, outcome: ExportOutcome) -> None:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "state": "ok" if outcome.outcome == "complete" else "failing",
            "last_attempt": now,
            "last_outcome": outcome.outcome,
            "last_error": {"message": outcome.error, "at": now} if outcome.error else None,
            "duration_seconds": outcome.duration_seconds,
            "expected_interval_seconds": self._settings.history_expected_interval_seconds,
        }
        if outcome.outcome == "complete":
            fields.update(
                last_success=now,
                last_partition=outcome.day.isoformat(),
                tables=outcome.tables,
                bytes_loaded=outcome.bytes_loaded,
                skipped_assets=outcome.skipped_assets,
            )
        self._status.update("history", fields, increments={"runs": 1})


def _empty_period(start: date) -> dict[str, Any]:
    return {
        "period_start": start.isoformat(),
        "resources": 0,
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "doc_files_changed": 0,
        "violations": 0,
    }


def _load_fields(load: DayLoad) -> dict[str, int]:
    return {"rows": load.rows, "bytes_loaded": load.bytes_loaded, "load_jobs": load.load_jobs}
