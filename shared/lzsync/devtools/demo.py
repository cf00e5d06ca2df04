"""``make demo``: the real history of a public GCP landing zone, pushed through lzsync, and a
snapshot of a simulated landing-zone estate.

Starts the Firestore and Pub/Sub emulators and both git functions on loopback, replays every
commit of the bundled landing zone as a signed GitHub push, and prints what the Portal would now
show and how fast it got there. Then snapshots a simulated estate through the real Cloud Asset
Inventory client and a local ListAssets server, re-runs it unchanged, moves the estate on, and
prints what each run changed and cost; plays live feed changes; exports the last week of
history to a local BigQuery engine and prints the trend table. Everything it starts is stopped
on exit (``--keep`` waits for Ctrl-C first, so the data can be browsed).
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Final

from google.cloud import firestore
from tqdm import tqdm

from lzsync.adapters.clients import publisher_client
from lzsync.devtools.asset_server import AssetServer, settings_for
from lzsync.devtools.demo_history import history_phase
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.feed_player import ActivityListener, play
from lzsync.devtools.landing_zone import (
    BRANCH,
    REPO_NAME,
    FixturesMissing,
    build_repository,
    fixture_path,
    history,
    project_root,
)
from lzsync.devtools.portal_server import running_portal
from lzsync.devtools.replay import PushResult, percentile, replay
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.simulator import Simulator
from lzsync.devtools.stack import StackConfig, stack_session
from lzsync.logic import docids
from lzsync.logic.signature import sign
from lzsync.services.asset_snapshot import SnapshotOutcome
from lzsync.services.asset_snapshot_http import run_snapshot
from lzsync.services.freshness_http import freshness_check
from lzsync.settings import RepoConfig, Settings

DEMO_PROJECT = "lzsync-demo"
_LIVE_RATE = 5  # changes per second: the emulator's push subscription delivers one at a time


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=0, help="replay only the first N commits")
    parser.add_argument("--keep", action="store_true", help="keep everything up until Ctrl-C")
    parser.add_argument(
        "--assets", type=int, default=5000, help="size of the simulated estate to snapshot"
    )
    parser.add_argument(
        "--live-events", type=int, default=30, help="feed changes to play in the live phase"
    )
    return parser.parse_args()


def _latency_line(label: str, seconds: list[float]) -> str:
    millis = [value * 1000 for value in seconds]
    return (
        f"{label:<16} p50 {percentile(millis, 0.5):7.1f} ms   "
        f"p99 {percentile(millis, 0.99):7.1f} ms"
    )


def _summary(client: firestore.Client, results: list[PushResult], seconds: float) -> str:
    documents = client.collection("documents").select(["kind", "flag"]).stream()
    kinds: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    for snapshot in documents:
        kinds[snapshot.get("kind")] += 1
        if snapshot.get("flag"):
            flags[snapshot.get("flag")] += 1
    lines = [
        "",
        f"Replayed {len(results)} pushes of {REPO_NAME} in {seconds:.1f} s.",
        f"documents in Firestore: {sum(kinds.values())}  by kind: "
        + ", ".join(f"{kind}={count}" for kind, count in sorted(kinds.items())),
        "recorded without text: "
        + (", ".join(f"{flag}={count}" for flag, count in sorted(flags.items())) or "none"),
        f"document writes: {sum(r.written for r in results)}, "
        f"deletes: {sum(r.deleted for r in results)}",
        _latency_line("webhook ack", [result.ack_seconds for result in results]),
        _latency_line("push -> synced", [result.synced_seconds for result in results]),
    ]
    return "\n".join(lines)


# One asset in twenty that can drift carries a defect (a public bucket, an open firewall, ...).
DEMO_DEFECT_SHARE: Final = 0.05


def _describe(label: str, outcome: SnapshotOutcome) -> str:
    return (
        f"{label:<22} {outcome.outcome}: {outcome.seen} assets in {outcome.pages} pages, "
        f"{outcome.created} created, {outcome.updated} updated, {outcome.deleted} deleted, "
        f"{outcome.unchanged} unchanged; Firestore {outcome.counts.reads} reads, "
        f"{outcome.counts.writes} writes; {outcome.duration_seconds:.1f} s"
    )


def _asset_snapshots(size: int) -> Simulator:
    """Layer 3 on a simulated landing zone: a first snapshot, then one after the estate moved.
    The estate is the simulator's compliance estate with a few defects, as a real landing zone
    drifts, so the compliance figures mean something."""
    simulator = Simulator(size, defect_share=DEMO_DEFECT_SHARE)
    server = AssetServer(simulator).start()
    try:
        settings = settings_for(server, DEMO_PROJECT)
        print(f"\nAsset snapshot of a simulated landing zone ({size:,} assets, {server.endpoint}):")
        print(_describe("first snapshot", run_snapshot(settings)))
        print(_describe("unchanged re-run", run_snapshot(settings)))
        server.version = 1
        print(_describe("after the estate moved", run_snapshot(settings)))
    finally:
        server.stop()
    return simulator


def _live_phase(
    client: firestore.Client, topic_path: str, simulator: Simulator, events: int
) -> None:
    """Layer 4: the estate keeps moving; feed messages arrive and the Portal's listener sees
    each change, with its latency from publish to visible."""
    changes = list(simulator.changes(1, 2))[:events]
    if not changes:
        return
    print(
        f"\nLive: {len(changes)} feed changes published at {_LIVE_RATE}/s, as a Portal listener "
        "sees them (publish → visible):"
    )
    sent: dict[str, float] = {}

    def show(entry: dict[str, Any], seen_at: float) -> None:
        key = docids.encode(f"event:{entry.get('asset')}:{entry['time'].isoformat()}")
        latency = (seen_at - sent[key]) * 1000 if key in sent else float("nan")
        name = str(entry.get("asset", "")).rsplit("/", 1)[-1]
        print(
            f"  {latency:6.0f} ms  {entry.get('kind', ''):<8} "
            f"{str(entry.get('asset_type', '')).split('/')[-1]:<15} {name:<24} "
            f"{entry.get('summary', '')}"
        )

    listener = ActivityListener(client, on_entry=show).start()
    try:
        play(changes, publisher_client(), topic_path, _LIVE_RATE, sent)
        deadline = time.monotonic() + 30
        while listener.count() < len(changes) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        listener.stop()
    latencies = [(listener.seen[k] - t) * 1000 for k, t in sent.items() if k in listener.seen]
    if latencies:
        print(
            f"  {len(latencies)}/{len(changes)} visible; publish → visible "
            f"p50 {percentile(latencies, 0.5):.0f} ms, p99 {percentile(latencies, 0.99):.0f} ms"
        )


def _compliance(client: firestore.Client) -> None:
    """What the landing zone's own constraints (synced from its repository) say of the estate."""
    summary = client.collection("compliance").document("summary").get().to_dict()
    if not summary:
        return
    print(
        f"\nCompliance with the repository's {len(summary['by_constraint'])} constraints: "
        f"{summary['compliant_share']:.1%} of {summary['assets_judged']:,} assets compliant, "
        f"{summary['violations']:,} violations"
    )
    ranked = sorted(
        summary["by_constraint"].items(), key=lambda item: item[1]["violations"], reverse=True
    )
    for name, item in ranked[:5]:
        if item["violations"]:
            print(f"  {item['violations']:>6,}  {item['severity']:<6} {name}")


def _freshness(client: firestore.Client) -> None:
    """The scheduled freshness check once, as the Portal's layer cards would colour it."""
    settings = Settings(_env_file=None, project_id=DEMO_PROJECT)
    outcome = freshness_check(settings, client).run()
    print("\nFreshness check (sync_status, as the Portal's cards colour it):")
    for layer in outcome.layers:
        age = "never" if layer.age_seconds is None else f"{layer.age_seconds:,.0f} s ago"
        print(f"  {layer.layer:<8} {layer.state:<6} last success {age}")
    if outcome.changes:
        print(f"  alerts raised (log line per change): {outcome.changes}")


def _signed_curl(work: Path, webhook_url: str, secret: str) -> str:
    """A ready-to-run, correctly signed request, so the kept stack can be tried by hand."""
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 4242}).encode()
    (work / "ping.json").write_bytes(body)
    return (
        f"curl -i -X POST {webhook_url} -H 'Content-Type: application/json' "
        "-H 'X-GitHub-Event: ping' -H 'X-GitHub-Delivery: demo-ping-1' "
        f"-H 'X-Hub-Signature-256: {sign(secret.encode(), body)}' "
        f"--data-binary @{work / 'ping.json'}"
    )


def main() -> None:
    arguments = _arguments()
    stop_like_ctrl_c()
    logging.basicConfig(level=logging.WARNING)
    try:
        fixture_path()
    except FixturesMissing as missing:
        raise SystemExit(f"make demo: {missing}") from None
    demo_root = project_root() / ".demo"
    demo_root.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=demo_root))
    try:
        _run(arguments, work)
    except KeyboardInterrupt:
        print("\nInterrupted.")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("Stopped the functions and emulators; removed the demo's files.")


def _run(arguments: argparse.Namespace, work: Path) -> None:
    print("Building the sample landing-zone repository from the fixture...")
    remote = build_repository(work / "landing-zone.git")
    commits = history(remote)
    if arguments.commits:
        commits = commits[: arguments.commits]
    print(f"Starting the Firestore and Pub/Sub emulators and both functions (logs: {work})...")
    config = StackConfig(
        functions=("git_sync", "webhook", "asset_events"),
        repos=(RepoConfig(name=REPO_NAME, url=str(remote), branch=BRANCH),),
        webhook_secret=secrets.token_hex(32),
        work_dir=work,
    )
    with (
        running_emulators(DEMO_PROJECT, work / "logs") as emulators,
        stack_session(emulators.env(), config) as session,
        running_portal(DEMO_PROJECT, emulators.env()["FIRESTORE_EMULATOR_HOST"]) as portal_url,
    ):
        print(f"\nThe Portal's sync-status page, live while the demo runs: {portal_url}\n")
        started = time.perf_counter()
        with tqdm(total=len(commits), unit="push", desc="replaying history") as bar:
            results = replay(
                commits,
                remote=remote,
                sender=session.sender,
                watcher=session.watcher,
                on_push=lambda _result: bar.update(1),
            )
        print(_summary(session.client, results, time.perf_counter() - started))
        simulator = _asset_snapshots(arguments.assets)
        _compliance(session.client)
        _live_phase(
            session.client,
            publisher_client().topic_path(DEMO_PROJECT, config.events_topic),
            simulator,
            arguments.live_events,
        )
        history_phase(session.client, DEMO_PROJECT, simulator, newest=2, work=work)
        _freshness(session.client)
        firestore_host = emulators.env()["FIRESTORE_EMULATOR_HOST"]
        print(
            "\nInspect: the Firestore emulator's REST API, e.g.\n"
            f"  curl 'http://{firestore_host}/v1/projects/{DEMO_PROJECT}/databases/"
            "(default)/documents/sync_status/git'\n"
            f"  curl 'http://{firestore_host}/v1/projects/{DEMO_PROJECT}/databases/"
            "(default)/documents/documents?pageSize=5'\n"
            f"  curl 'http://{firestore_host}/v1/projects/{DEMO_PROJECT}/databases/"
            "(default)/documents/inventory/assets'"
        )
        print(f"\nSync-status page: {portal_url}")
        if arguments.keep:
            url, secret = session.stack.webhook_url, config.webhook_secret
            print(f"\nWebhook: {url} (this run's secret: {secret})")
            print("Try a signed delivery:\n  " + _signed_curl(work, url, secret))
            print("Ctrl-C stops everything.")
            _wait_forever()
        else:
            print('(run `make demo ARGS="--keep"` to keep the emulators up and browse)')


def _wait_forever() -> None:
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
