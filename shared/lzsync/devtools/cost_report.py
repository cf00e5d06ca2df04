"""``lzsync cost-report``: a month of lzsync, priced from counters, not from estimates.

Runs a sample of every layer through the real code paths against local emulators (Firestore,
Pub/Sub, BigQuery engine), a simulated estate served by a local ListAssets server and the
bundled landing-zone repository: the initial git sync and first snapshot (one-off), scheduled
git runs, pushes (webhook + git sync), unchanged snapshots, real-time feed events, a snapshot
after those changes, a day's history export and a freshness check. Each unit's counters
(:mod:`lzsync.metrics`) are read, scaled to a 30-day month by the deployed schedules, and
priced with :mod:`lzsync.pricing` by :mod:`lzsync.logic.cost_model`.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import flask
from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from lzsync import metrics, pricing
from lzsync.adapters.clients import firestore_client
from lzsync.adapters.firestore_metering import stored_document_size
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.bigquery_emulator import running_bigquery
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.feed_player import stamped
from lzsync.devtools.landing_zone import (
    BRANCH,
    REPO_NAME,
    build_repository,
    history,
    move_branch,
    push_payload,
)
from lzsync.devtools.simulator import Simulator
from lzsync.logic.cost_model import Measured, Report, Unit, by_service
from lzsync.logic.signature import sign
from lzsync.services import asset_events_event, git_sync_event, webhook_http
from lzsync.services.asset_snapshot_http import run_snapshot
from lzsync.services.freshness_http import freshness_check
from lzsync.services.history_export_http import history_service

PROJECT: Final = "lzsync-cost"
DEFECT_SHARE: Final = 0.05
# The production default pace of ListAssets (LZSYNC_ASSET_REQUESTS_PER_MINUTE): the snapshot's
# wall time, and so its GB-seconds, includes waiting for the quota as a deployment would.
PRODUCTION_PAGES_PER_MINUTE: Final = 100.0

Progress = Callable[[str], None]
_APP: Final = flask.Flask("lzsync-cost-report")


def _measure(name: str, function: str | None, work: Callable[[], Any]) -> tuple[Unit, Any]:
    metrics.reset()
    started = time.perf_counter()
    if function is None:
        result = work()
    else:
        with metrics.invocation(function):
            result = work()
    return Unit(name, 1, metrics.snapshot(), time.perf_counter() - started), result


def _merge(name: str, units: list[Unit]) -> Unit:
    totals: dict[str, float] = {}
    for unit in units:
        for key, value in unit.counters.items():
            totals[key] = totals.get(key, 0) + value
    return Unit(name, sum(u.count for u in units), totals, sum(u.seconds for u in units))


def _event_data(data: bytes, message_id: str, attributes: dict[str, str] | None = None) -> Any:
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "messageId": message_id,
            "attributes": attributes or {},
        }
    }


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _quiet_logs(path: Path) -> None:
    """Keep the functions' JSON lines (which are counted) out of the report, in a file."""
    from lzsync.logs import configure

    configure()
    for handler in logging.getLogger("lzsync").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(path.open("a", encoding="utf-8"))


def _firestore_state(client: firestore.Client) -> tuple[int, int, dict[str, int]]:
    """Documents and stored bytes (by Firestore's size rules) the simulation left behind, read
    with a client that is not metered; and the mean size per collection."""
    documents = total = 0
    mean: dict[str, int] = {}
    for collection in client.collections():
        count = size = 0
        for snapshot in collection.stream():
            count += 1
            size += stored_document_size(snapshot.reference.path, snapshot.to_dict() or {})
        documents += count
        total += size
        mean[collection.id] = size // max(1, count)
    return documents, total, mean


def simulate(
    assets: int,
    sample_pushes: int,
    sample_events: int,
    progress: Progress,
) -> Measured:
    """Run the sample; return every unit's counters."""
    work = Path(tempfile.mkdtemp(prefix="lzsync-cost-"))
    units: dict[str, Unit] = {}
    try:
        progress("building the landing-zone repository from the fixture")
        remote = build_repository(work / "landing-zone.git")
        commits = history(remote)
        sample_pushes = max(1, min(sample_pushes, len(commits) - 1))
        move_branch(remote, commits[-sample_pushes - 1].sha)
        progress("starting the Firestore, Pub/Sub and BigQuery emulators")
        with (
            running_emulators(PROJECT, work / "logs") as emulators,
            running_bigquery(PROJECT, work / "logs") as bigquery,
        ):
            secret = secrets.token_hex(16)
            env = {
                **emulators.env(),
                "LZSYNC_PROJECT_ID": PROJECT,
                "LZSYNC_WEBHOOK_SECRET": secret,
                "LZSYNC_REPOS": json.dumps(
                    [{"name": REPO_NAME, "url": str(remote), "branch": BRANCH}]
                ),
                "LZSYNC_GIT_CACHE_DIR": str(work / "git-cache"),
            }
            with _environment(env):
                _quiet_logs(work / "functions.log")
                units = _phases(
                    remote,
                    commits[-sample_pushes - 1 :],
                    secret,
                    assets,
                    sample_events,
                    bigquery.endpoint,
                    progress,
                )
                documents, stored, mean = _firestore_state(firestore.Client(project=PROJECT))
        return Measured(
            assets=assets,
            units=units,
            firestore_documents=documents,
            firestore_stored_bytes=stored,
            activity_entry_bytes=mean.get("activity", 0),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _phases(
    remote: Path,
    commits: list[Any],
    secret: str,
    assets: int,
    sample_events: int,
    bigquery_endpoint: str,
    progress: Progress,
) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, "git-sync-requests")
    publisher.create_topic(name=topic)
    subscription = subscriber.subscription_path(PROJECT, "cost-report-sync")
    subscriber.create_subscription(name=subscription, topic=topic)
    schedule = json.dumps({"trigger": "schedule"}).encode()

    def git_schedule() -> Any:
        metrics.count_published(schedule)  # Cloud Scheduler publishes it
        return git_sync_event.handle_event("schedule", _event_data(schedule, uuid.uuid4().hex))

    progress("git: initial sync of the repository (one-off)")
    units["git_initial"], _ = _measure("git_initial", "git_sync", git_schedule)
    progress("git: a scheduled safety-net run (nothing new)")
    units["git_schedule"], _ = _measure("git_schedule", "git_sync", git_schedule)

    pushes: list[Unit] = []
    for number, commit in enumerate(commits[1:], 1):
        progress(f"git: push {number}/{len(commits) - 1} through the webhook and git sync")
        before = commits[number - 1].sha
        move_branch(remote, commit.sha)
        body = json.dumps(push_payload(before, [commit])).encode()
        hook, answer = _measure("webhook", "webhook", _bind(_deliver, body, secret))
        if answer.status_code != 202:
            raise RuntimeError(f"webhook answered {answer.status_code}: {answer.get_data()}")
        received = subscriber.pull(subscription=subscription, max_messages=10).received_messages
        subscriber.acknowledge(subscription=subscription, ack_ids=[m.ack_id for m in received])
        synced = [
            _measure(
                "git_push",
                "git_sync",
                _bind(_sync_message, item.message),
            )[0]
            for item in received
        ]
        merged = _merge("push", [hook, *synced])
        merged.count = 1  # one push: its webhook call and the sync it caused
        pushes.append(merged)
    units["push"] = _merge("push", pushes)

    simulator = Simulator(assets, defect_share=DEFECT_SHARE)
    server = AssetServer(simulator).start()
    try:
        settings = settings_for(
            server,
            PROJECT,
            asset_requests_per_minute=PRODUCTION_PAGES_PER_MINUTE,
            bigquery_api_endpoint=bigquery_endpoint,
        )
        client = firestore_client(PROJECT)
        progress(f"assets: first snapshot of {assets:,} assets (one-off)")
        units["snapshot_initial"], _ = _measure(
            "snapshot_initial", "asset_snapshot", lambda: run_snapshot(settings)
        )
        unchanged = []
        for number in (1, 2):
            progress(f"assets: unchanged snapshot {number}/2")
            unchanged.append(
                _measure("snapshot", "asset_snapshot", lambda: run_snapshot(settings))[0]
            )
        units["snapshot_unchanged"] = _merge("snapshot_unchanged", unchanged)

        changes = list(simulator.changes(0, 1))
        played = changes[:sample_events]
        events = []
        for number, change in enumerate(played):
            if number % 50 == 0:
                progress(f"events: feed change {number + 1}/{len(played)}")
            data = stamped(change, datetime.now(UTC))

            def deliver(data: bytes = data, number: int = number) -> Any:
                metrics.count_published(data)  # the CAI feed publishes it to our topic
                return asset_events_event.handle_event(str(number), _event_data(data, str(number)))

            events.append(_measure("event", "asset_events", deliver)[0])
        units["event"] = _merge("event", events)

        server.version = 1
        progress(f"assets: snapshot after {len(changes):,} changes")
        moved, outcome = _measure(
            "snapshot_changed", "asset_snapshot", lambda: run_snapshot(settings)
        )
        moved.count = 1
        units["snapshot_changed"] = moved
        units["snapshot_changes"] = Unit(
            "changed assets", len(changes), {"changes": float(len(changes))}, 0.0
        )
        _ = outcome

        progress("history: a day's export to the BigQuery engine")
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
        units["history"], _ = _measure(
            "history", "bq_export", lambda: history_service(settings, client).run(yesterday)
        )
        progress("freshness: one check")
        units["freshness"], _ = _measure(
            "freshness", "freshness_check", lambda: freshness_check(settings, client).run()
        )
    finally:
        server.stop()
    return units


def _bind(function: Callable[..., Any], *arguments: Any) -> Callable[[], Any]:
    return lambda: function(*arguments)


def _sync_message(message: Any) -> Any:
    data = _event_data(message.data, message.message_id, dict(message.attributes))
    return git_sync_event.handle_event(message.message_id, data)


def _deliver(body: bytes, secret: str) -> flask.Response:
    """The webhook's HTTP handler on a signed push, as functions-framework would call it."""
    headers = [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", uuid.uuid4().hex),
        ("X-GitHub-Hook-ID", "4242"),
        ("X-Hub-Signature-256", sign(secret.encode(), body)),
    ]
    with _APP.test_request_context("/", method="POST", data=body, headers=headers):
        return webhook_http.handle(flask.request)


# --- the report ---------------------------------------------------------------------------


def measured_json(measured: Measured) -> dict[str, Any]:
    return {
        "assets": measured.assets,
        "scaled_from": measured.scaled_from,
        "firestore_documents": measured.firestore_documents,
        "firestore_stored_bytes": measured.firestore_stored_bytes,
        "activity_entry_bytes": measured.activity_entry_bytes,
        "units": {
            name: {"count": u.count, "seconds": round(u.seconds, 3), "counters": u.counters}
            for name, u in measured.units.items()
        },
    }


def measured_from_json(data: dict[str, Any]) -> Measured:
    units = {
        name: Unit(name, int(u["count"]), dict(u["counters"]), float(u["seconds"]))
        for name, u in data["units"].items()
    }
    return Measured(
        assets=int(data["assets"]),
        units=units,
        firestore_documents=int(data["firestore_documents"]),
        firestore_stored_bytes=int(data["firestore_stored_bytes"]),
        activity_entry_bytes=int(data["activity_entry_bytes"]),
        scaled_from=data.get("scaled_from"),
    )


def report_json(report: Report, measured: Measured) -> dict[str, Any]:
    return {
        "assets": report.assets,
        "measured_at_assets": measured.scaled_from or measured.assets,
        "scaled": measured.scaled_from is not None,
        "changes_per_day": report.rates.changes_per_day,
        "pushes_per_day": report.rates.pushes_per_day,
        "firestore_location": report.location,
        "prices_read_on": pricing.PRICES_READ_ON,
        "free_tiers_applied": True,
        "original_estimate_usd": pricing.ORIGINAL_ESTIMATE_USD_PER_MONTH,
        "total_usd": round(report.total_billed, 4),
        "total_list_usd": round(report.total_list, 4),
        "by_service": {
            service: {"list_usd": round(listed, 4), "billed_usd": round(billed, 4)}
            for service, (listed, billed) in by_service(report).items()
        },
        "lines": [
            {
                "service": line.service,
                "item": line.item,
                "quantity": round(line.quantity, 3),
                "unit": line.unit,
                "list_usd": round(line.list_usd, 4),
                "billed_usd": round(line.billed_usd, 4),
                "source": line.source,
            }
            for line in report.lines
        ],
        "monthly_counters": {key: round(value, 3) for key, value in sorted(report.monthly.items())},
        "measured": measured_json(measured),
    }


def render(report: Report, measured: Measured) -> str:
    how = (
        f"measured at {measured.scaled_from:,} assets, scaled by the model"
        if measured.scaled_from
        else "measured"
    )
    lines = [
        f"lzsync monthly cost: {report.assets:,} assets ({how}), "
        f"{report.rates.changes_per_day:,.0f} changes/day, "
        f"{report.rates.pushes_per_day:,.0f} pushes/day, Firestore {report.location}",
        f"prices read {pricing.PRICES_READ_ON} (lzsync/pricing.py); free tiers applied",
        "",
        f"  {'service':<22} {'item':<24} {'quantity/month':>16} {'unit':<10} "
        f"{'list $':>9} {'billed $':>9}",
    ]
    for line in report.lines:
        lines.append(
            f"  {line.service:<22} {line.item:<24} {line.quantity:>16,.1f} {line.unit:<10} "
            f"{line.list_usd:>9.2f} {line.billed_usd:>9.2f}"
        )
    lines.append("")
    for service, (listed, billed) in by_service(report).items():
        lines.append(f"  {service:<22} list ${listed:>8.2f}   billed ${billed:>8.2f}")
    lines.append(
        f"  {'total':<22} list ${report.total_list:>8.2f}   billed ${report.total_billed:>8.2f}"
        f"   (original design estimate: ${pricing.ORIGINAL_ESTIMATE_USD_PER_MONTH:,.0f})"
    )
    return "\n".join(lines)
