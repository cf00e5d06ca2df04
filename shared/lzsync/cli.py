"""``lzsync``: the operator's command line.

    lzsync status                               every layer's sync_status, one line each
    lzsync dead-letters list [--layer L] [--all]
    lzsync dead-letters show ID
    lzsync dead-letters replay [--layer L] [--id ID] [--dry-run]
    lzsync dead-letters drain SUBSCRIPTION --to-topic TOPIC
    lzsync resync                               a forced full asset snapshot (repairs drift)
    lzsync history export [--day D | --from D --to D]
                                                export days of history (default: yesterday)

It reads the same ``LZSYNC_*`` settings as the functions (and the emulator variables when they
are set). Replays publish each message exactly as it was first delivered to the topic of its
layer (git: ``LZSYNC_SYNC_TOPIC``, events: ``LZSYNC_EVENTS_TOPIC``) and mark it replayed, so a
second replay does not send it twice.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TextIO

from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from lzsync.adapters.clients import firestore_client, project_id, publisher_client
from lzsync.adapters.dead_letter_replay import DeadLetterArchive, drain_subscription, publish_raw
from lzsync.collection_names import Collections
from lzsync.errors import LzsyncError, RetryableError
from lzsync.logic.freshness import assess, stale_thresholds
from lzsync.services.asset_snapshot_http import run_snapshot
from lzsync.services.history_export_http import (
    UnexportableDay,
    parse_day,
    run_export,
    yesterday,
)
from lzsync.settings import Settings

_LAYERS = ("webhook", "git", "assets", "events", "history")


def _topic_for(settings: Settings, layer: str) -> str:
    topics = {"git": settings.sync_topic, "events": settings.events_topic}
    if layer not in topics:
        raise LzsyncError(f"no topic to replay {layer!r} dead letters to")
    return topics[layer]


def _status(settings: Settings, out: TextIO) -> int:
    client = firestore_client(project_id(settings))
    collection = client.collection(Collections(settings.collection_prefix).sync_status)
    thresholds = stale_thresholds(settings.freshness_stale_after_seconds)
    now = datetime.now(UTC)
    for layer in _LAYERS:
        data = collection.document(layer).get().to_dict()
        if data is None:
            print(f"{layer:<8} never ran", file=out)
            continue
        last_error = data.get("last_error")
        error = last_error.get("message", "") if isinstance(last_error, dict) else ""
        freshness = assess(layer, data, now, thresholds[layer])
        age = "never" if freshness.age_seconds is None else f"{freshness.age_seconds / 3600:.1f} h"
        print(
            f"{layer:<8} {data.get('state', '?'):<9} {freshness.state:<6} "
            f"last success {age} ago" + (f"  error: {error}" if error else ""),
            file=out,
        )
    return 0


def _dead_letters(settings: Settings, arguments: argparse.Namespace, out: TextIO) -> int:
    client = firestore_client(project_id(settings))
    archive = DeadLetterArchive(client, Collections(settings.collection_prefix).dead_letters)
    if arguments.action == "list":
        letters = list(archive.letters(arguments.layer, include_replayed=arguments.all))
        for letter in letters:
            flag = " (replayed)" if letter.replayed else ""
            print(
                f"{letter.doc_id}  {letter.layer:<6} {letter.recorded_at}  "
                f"{letter.error_type}: {letter.reason[:80]}{flag}",
                file=out,
            )
        print(f"{len(letters)} dead letter(s)", file=out)
        return 0
    if arguments.action == "show":
        found = archive.get(arguments.id)
        if found is None:
            print(f"no dead letter {arguments.id}", file=out)
            return 1
        letter = found
        print(f"id:         {letter.doc_id}\nlayer:      {letter.layer}", file=out)
        print(f"message id: {letter.message_id}\nrecorded:   {letter.recorded_at}", file=out)
        print(f"error:      {letter.error_type}: {letter.reason}", file=out)
        print(f"attributes: {letter.attributes}", file=out)
        print(f"data:       {letter.data[:2000].decode('utf-8', errors='replace')}", file=out)
        return 0
    publisher = publisher_client()
    project = project_id(settings)
    if arguments.action == "drain":
        topic_path = publisher.topic_path(project, arguments.to_topic)
        subscriber = pubsub_v1.SubscriberClient()
        path = subscriber.subscription_path(project, arguments.subscription)
        moved = 0
        for ack_id, data, attributes in drain_subscription(subscriber, path):
            publish_raw(publisher, topic_path, data, attributes)
            subscriber.acknowledge(request={"subscription": path, "ack_ids": [ack_id]})
            moved += 1
            print(f"\rre-published {moved}", end="", file=out, flush=True)
        print(
            f"\n{moved} message(s) moved from {arguments.subscription} to {arguments.to_topic}",
            file=out,
        )
        return 0
    letters = (
        [letter for letter in [archive.get(arguments.id)] if letter is not None]
        if arguments.id
        else list(archive.letters(arguments.layer))
    )
    replayed = 0
    for index, letter in enumerate(letters, start=1):
        topic = _topic_for(settings, letter.layer)
        if arguments.dry_run:
            print(f"would replay {letter.doc_id} to {topic}", file=out)
            continue
        message_id = publish_raw(
            publisher, publisher.topic_path(project, topic), letter.data, letter.attributes
        )
        archive.mark_replayed(letter.doc_id, topic, message_id)
        replayed += 1
        print(f"[{index}/{len(letters)}] {letter.doc_id} → {topic} ({message_id})", file=out)
    verb = "would replay" if arguments.dry_run else "replayed"
    print(f"{verb} {len(letters) if arguments.dry_run else replayed} dead letter(s)", file=out)
    return 0


def _resync(settings: Settings, out: TextIO) -> int:
    print(f"forced snapshot of {settings.asset_scope} ...", file=out, flush=True)
    outcome = run_snapshot(settings, force=True)
    print(
        f"{outcome.outcome}: {outcome.seen} assets, {outcome.written} rewritten, "
        f"{outcome.deleted} deleted, {outcome.invalid} invalid in {outcome.duration_seconds} s"
        + (f"; {outcome.error}" if outcome.error else ""),
        file=out,
    )
    return 0 if outcome.outcome == "complete" else 1


def _history(settings: Settings, arguments: argparse.Namespace, out: TextIO) -> int:
    if arguments.day and (arguments.first or arguments.last):
        raise LzsyncError("give either --day or --from/--to")
    if arguments.day:
        days = [parse_day(arguments.day)]
    else:
        first = parse_day(arguments.first) if arguments.first else yesterday()
        last = parse_day(arguments.last) if arguments.last else first
        if last < first:
            raise LzsyncError(f"--to {last} is before --from {first}")
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    failed = 0
    for index, day in enumerate(days, start=1):
        print(f"[{index}/{len(days)}] {day} ...", end=" ", file=out, flush=True)
        try:
            outcome = run_export(settings, day)
        except (UnexportableDay, RetryableError) as error:
            failed += 1
            print(f"failed: {error}", file=out, flush=True)
            continue
        rows = ", ".join(f"{name} {table['rows']}" for name, table in outcome.tables.items())
        print(
            f"{rows} rows; {outcome.bytes_loaded:,} bytes in {outcome.duration_seconds} s",
            file=out,
            flush=True,
        )
    print(f"{len(days) - failed} of {len(days)} day(s) exported", file=out)
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lzsync", description="lzsync operations")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="every layer's sync status")
    letters = commands.add_parser("dead-letters", help="inspect and replay dead letters")
    actions = letters.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--layer", choices=_LAYERS)
    listing.add_argument("--all", action="store_true", help="include replayed ones")
    actions.add_parser("show").add_argument("id")
    replay = actions.add_parser("replay")
    replay.add_argument("--layer", choices=_LAYERS)
    replay.add_argument("--id")
    replay.add_argument("--dry-run", action="store_true")
    drain = actions.add_parser("drain", help="move a dead-letter subscription back to a topic")
    drain.add_argument("subscription")
    drain.add_argument("--to-topic", required=True)
    commands.add_parser("resync", help="force a full asset snapshot")
    history = commands.add_parser("history", help="BigQuery history")
    history_actions = history.add_subparsers(dest="action", required=True)
    export = history_actions.add_parser("export", help="export (or re-export) days")
    export.add_argument("--day", help="one day, YYYY-MM-DD (default: yesterday, UTC)")
    export.add_argument("--from", dest="first", help="first day of a backfill")
    export.add_argument("--to", dest="last", help="last day of a backfill (default: --from)")
    cost = commands.add_parser(
        "cost-report", help="a simulated month on the local emulators, priced from counters"
    )
    cost.add_argument("--assets", type=int, default=10_000, help="simulated estate size")
    cost.add_argument(
        "--changes-per-day", type=float, help="CAI feed changes a day (default: 1%% of assets)"
    )
    cost.add_argument("--pushes-per-day", type=float, default=10.0, help="docs pushes a day")
    cost.add_argument("--sample-events", type=int, default=200, help="feed events to play")
    cost.add_argument("--sample-pushes", type=int, default=3, help="pushes to replay")
    cost.add_argument(
        "--scale-to", type=int, help="also price this estate size from the measurement (model)"
    )
    cost.add_argument("--firestore-location", default="nam5", help="price table row, e.g. nam5")
    cost.add_argument("--measurement", help="re-price a saved --json measurement, no simulation")
    cost.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _cost_report(arguments: argparse.Namespace, out: TextIO) -> int:
    """Imported late: the simulation needs the devtools (emulators, simulator), which the
    deployed functions never import."""
    from lzsync.devtools import cost_report
    from lzsync.logic.cost_model import Rates, price_month, scale_assets

    if arguments.measurement:
        with open(arguments.measurement, encoding="utf-8") as source:
            saved = json.load(source)
        measured = cost_report.measured_from_json(saved.get("measured", saved))
    else:
        measured = cost_report.simulate(
            arguments.assets,
            arguments.sample_pushes,
            arguments.sample_events,
            lambda line: print(f"[cost-report] {line}", file=sys.stderr, flush=True),
        )
    reports = [measured]
    if arguments.scale_to:
        reports.append(scale_assets(measured, arguments.scale_to))
    documents = []
    for each in reports:
        changes = arguments.changes_per_day
        rates = Rates(
            changes if changes is not None else each.assets / 100, arguments.pushes_per_day
        )
        report = price_month(each, rates, arguments.firestore_location)
        if arguments.json:
            documents.append(cost_report.report_json(report, each))
        else:
            print(cost_report.render(report, each) + "\n", file=out)
    if arguments.json:
        print(json.dumps(documents if len(documents) > 1 else documents[0], indent=2), file=out)
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    arguments = _parser().parse_args(argv)
    settings = Settings()
    try:
        if arguments.command == "status":
            return _status(settings, out)
        if arguments.command == "dead-letters":
            return _dead_letters(settings, arguments, out)
        if arguments.command == "cost-report":
            return _cost_report(arguments, out)
        if arguments.command == "history":
            return _history(settings, arguments, out)
        return _resync(settings, out)
    except (LzsyncError, UnexportableDay) as error:
        print(f"lzsync: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
