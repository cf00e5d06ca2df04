"""The HTTP shape of the history export: Cloud Scheduler calls it once a day (and the CLI runs
the same code for backfills).

Which day: ``?day=YYYY-MM-DD`` or a JSON body ``{"day": "..."}``; by default yesterday (UTC),
complete by the time the schedule fires after midnight. Answers: 200 complete, 400 a day that
cannot be exported (malformed, in the future, or older than the asset listing can read),
503 BigQuery, Firestore or the asset listing unavailable (Scheduler retries), 500
misconfiguration or a failure (no stack trace; the log has it).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Final

import flask
from google.cloud import firestore

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.asset_sources import AssetSource
from lzsync.adapters.clients import firestore_client, project_id
from lzsync.adapters.constraint_store import shared_constraint_store
from lzsync.adapters.doc_change_log import DocChangeLog
from lzsync.adapters.history_summary import HistorySummaryStore
from lzsync.adapters.history_warehouse import HistoryWarehouse, history_client
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import ConfigError
from lzsync.logs import bound
from lzsync.services.asset_snapshot_http import build_source
from lzsync.services.history_export import ExportOutcome, HistoryExportService, day_bounds
from lzsync.services.scheduled_http import failure_reply, function_settings, json_reply
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.history")
# Cloud Asset Inventory answers ListAssets at a read time up to 35 days back.
LISTING_HISTORY: Final = timedelta(days=35)


class UnexportableDay(ValueError):
    """A day the export cannot produce: say why, export nothing."""


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UnexportableDay(f"day must be YYYY-MM-DD, not {text!r}") from error


def source_for_day(settings: Settings, day: date) -> AssetSource:
    """The estate at the end of ``day``: a listing at that read time (now, for today)."""
    now = datetime.now(UTC)
    if day > now.date():
        raise UnexportableDay(f"{day} is in the future")
    end = day_bounds(day)[1] - timedelta(microseconds=1)
    if settings.asset_export_uri:
        if day < now.date() - timedelta(days=1):
            raise UnexportableDay(
                "an asset export file is one moment: only today or yesterday can be exported "
                "from it; backfill older days with the listing (LZSYNC_ASSET_EXPORT_URI unset)"
            )
        return build_source(settings, "", None)[0]
    if end < now - LISTING_HISTORY + timedelta(minutes=5):
        raise UnexportableDay(f"{day} is older than the asset listing's 35 days of history")
    scope = settings.asset_scope
    if not scope:
        raise ConfigError("LZSYNC_ASSET_SCOPE is not set", setting="LZSYNC_ASSET_SCOPE")
    return build_source(settings, scope, read_time=end if end < now else None)[0]


def history_service(settings: Settings, client: firestore.Client) -> HistoryExportService:
    project = settings.history_project or project_id(settings)
    names = Collections(settings.collection_prefix)
    warehouse = HistoryWarehouse(
        history_client(project, settings.bigquery_api_endpoint),
        project,
        settings.history_dataset,
        settings.history_location,
        settings.history_load_chunk_rows,
    )
    return HistoryExportService(
        settings,
        warehouse,
        lambda day: source_for_day(settings, day),
        ActivityFeed(client, names.activity, settings.activity_ttl_days),
        DocChangeLog(client, names.doc_changes, settings.activity_ttl_days),
        HistorySummaryStore(client, names.history).write,
        StatusBoard(client, names.sync_status),
        shared_constraint_store(client, names).current(),
    )


def run_export(settings: Settings, day: date) -> ExportOutcome:
    """Export one day with the deployment's settings (the function, the CLI and the demo)."""
    source_for_day(settings, day)  # refuse an unexportable day before touching anything
    client = firestore_client(project_id(settings))
    return history_service(settings, client).run(day)


def _requested_day(request: flask.Request) -> date:
    text = request.args.get("day")
    if text is None and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and isinstance(body.get("day"), str):
            text = body["day"]
    return yesterday() if text is None else parse_day(text)


def handle(request: flask.Request) -> flask.Response:
    with bound(function="bq_export"):
        try:
            day = _requested_day(request)
            outcome = run_export(function_settings(), day)
        except UnexportableDay as error:
            return json_reply(400, {"status": "refused", "error": str(error)})
        except Exception as error:
            return failure_reply(error, "history export", _log)
        return json_reply(
            200,
            {
                "status": outcome.outcome,
                "day": outcome.day.isoformat(),
                "tables": outcome.tables,
                "bytes_loaded": outcome.bytes_loaded,
                "skipped_assets": outcome.skipped_assets,
                "duration_seconds": outcome.duration_seconds,
            },
        )
