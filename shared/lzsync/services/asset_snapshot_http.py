"""The HTTP shape of the asset snapshot: Cloud Scheduler calls it every 5 minutes.

Cloud Scheduler's HTTP target (with an OIDC token; the function is not public) is used rather
than Pub/Sub because the answer is the outcome: Scheduler records non-2xx as a failed run, which
is what monitoring should see. Answers: 200 complete (or skipped while the circuit is open),
409 another snapshot of the scope is running (or took the scope over from this run, which
outlived its lease) or the mass-deletion guard stopped the run,
503 partial listing (nothing deleted; retried at the next schedule), 500 misconfiguration.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from functools import lru_cache
from typing import Any

import flask
from google.cloud import firestore

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.asset_sources import (
    AssetSource,
    ExportSource,
    ListingSource,
    listing_client,
)
from lzsync.adapters.batches import OperationCounts
from lzsync.adapters.clients import firestore_client, project_id
from lzsync.adapters.constraint_store import shared_constraint_store
from lzsync.adapters.resource_store import ResourceStore
from lzsync.adapters.status import StatusBoard
from lzsync.collection_names import Collections
from lzsync.errors import ConfigError, SyncInProgress
from lzsync.logic.rate_limit import RequestPacer
from lzsync.logs import bound
from lzsync.services.asset_snapshot import AssetSnapshotService, SnapshotOutcome
from lzsync.services.scheduled_http import failure_reply, function_settings, json_reply
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.assets")
_STATUS_BY_OUTCOME = {
    "complete": 200,
    "skipped_circuit_open": 200,
    "guarded": 409,
    # Outlived its lease: another run owns the scope now (as busy, from the other side).
    "lease_lost": 409,
    "partial": 503,
    "failed": 500,
}


def build_source(
    settings: Settings, scope: str, read_time: datetime | None = None
) -> tuple[AssetSource, str]:
    """The configured source; ``read_time`` lists the estate as it was then (listing only)."""
    if settings.asset_export_uri:
        return ExportSource(settings.asset_export_uri, settings.asset_page_size), "export"
    source = ListingSource(
        client=_listing_client(settings.asset_api_endpoint),
        scope=scope,
        asset_types=settings.asset_types,
        page_size=settings.asset_page_size,
        pacer=RequestPacer(settings.asset_requests_per_minute),
        retry_schedule_seconds=settings.asset_retry_schedule_seconds,
        budget_seconds=settings.asset_run_budget_seconds,
        read_time=read_time,
    )
    return source, "listing"


@lru_cache(maxsize=2)
def _listing_client(endpoint: str | None) -> Any:
    return listing_client(endpoint)


def run_snapshot(settings: Settings, *, force: bool = False) -> SnapshotOutcome:
    """One snapshot run with the deployment's settings (also used by the CLI and the demo).
    ``force`` rewrites every listed asset, repairing documents that drifted from the
    manifest (after an outage or a manual edit)."""
    scope = settings.asset_scope
    if not scope:
        raise ConfigError("LZSYNC_ASSET_SCOPE is not set", setting="LZSYNC_ASSET_SCOPE")
    source, source_name = build_source(settings, scope)
    client = firestore_client(project_id(settings))
    return snapshot_service(settings, client, scope, source_name, force=force).run(source)


def snapshot_service(
    settings: Settings,
    client: firestore.Client,
    scope: str,
    source_name: str,
    *,
    force: bool = False,
) -> AssetSnapshotService:
    """The snapshot service with its Firestore adapters, for one scope."""
    names = Collections(settings.collection_prefix)
    store = ResourceStore(client, names, scope, settings.asset_manifest_shards, OperationCounts())
    constraints = shared_constraint_store(client, names).current()
    return AssetSnapshotService(
        settings,
        store,
        StatusBoard(client, names.sync_status),
        ActivityFeed(client, names.activity, settings.activity_ttl_days),
        scope,
        source_name,
        force=force,
        constraints=constraints,
    )


def handle(request: flask.Request) -> flask.Response:
    with bound(function="asset_snapshot"):
        try:
            outcome = run_snapshot(function_settings())
        except SyncInProgress as error:
            # Scheduler records the 409; the log says why, for whoever reads the run's logs.
            _log.warning(
                "snapshot skipped: another run holds the scope's lease",
                extra={"error": str(error)},
            )
            return json_reply(409, {"status": "busy", "error": str(error)})
        except Exception as error:
            # Before the run could record its state (misconfigured, Firestore unreachable).
            return failure_reply(error, "asset snapshot", _log)
        body = asdict(outcome)
        body["status"] = outcome.outcome
        return json_reply(_STATUS_BY_OUTCOME.get(outcome.outcome, 500), body)
