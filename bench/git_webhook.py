"""``make bench``: webhook acknowledgement latency and push → ``documents`` updated latency.

Runs the deployed shape locally (functions-framework servers, Pub/Sub push subscription,
Firestore emulator) on the bundled landing zone and writes its keys of ``bench/results.json``
(the load section's key stays). Figures are for this machine and the emulators, not for Cloud
Functions; they show where time goes and catch regressions, they do not predict production
latency.
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, machine, merge_results, stats_ms
from lzsync.devtools.emulators import running_emulators
from lzsync.devtools.landing_zone import (
    REPO_NAME,
    build_repository,
    history,
    move_branch,
    push_payload,
)
from lzsync.devtools.replay import replay
from lzsync.devtools.signals import stop_like_ctrl_c
from lzsync.devtools.stack import StackConfig, stack_session
from lzsync.settings import RepoConfig

PROJECT = "lzsync-bench"
TYPICAL_PUSHES = 60
ACK_DELIVERIES = 300


def main() -> None:
    stop_like_ctrl_c()
    work = Path(tempfile.mkdtemp(prefix="lzsync-bench-"))
    try:
        remote = build_repository(work / "lz.git")
        commits = history(remote)
        warm, typical = commits[:-TYPICAL_PUSHES], commits[-TYPICAL_PUSHES:]
        config = StackConfig(
            repos=(RepoConfig(name=REPO_NAME, url=str(remote)),),
            webhook_secret=secrets.token_hex(16),
            work_dir=work,
        )
        with (
            running_emulators(PROJECT, work / "logs") as emulators,
            stack_session(emulators.env(), config) as session,
        ):
            sender, watcher = session.sender, session.watcher
            print(f"warming up: syncing up to commit {len(warm)} of {len(commits)}...")
            move_branch(remote, warm[-1].sha)
            replay([warm[-1]], remote=remote, sender=sender, watcher=watcher)
            print(f"measuring {TYPICAL_PUSHES} typical pushes (one commit each)...")
            pushes = replay(
                typical, remote=remote, sender=sender, watcher=watcher, before=warm[-1].sha
            )
            print(f"measuring {ACK_DELIVERIES} webhook acknowledgements...")
            payload = push_payload(typical[-2].sha, [typical[-1]])
            acks = []
            for _ in range(ACK_DELIVERIES):
                delivery = sender.deliver("push", payload, delivery_id=str(uuid.uuid4()))
                acks.append(delivery.seconds)
            # Let the syncs those deliveries triggered drain before stopping.
            time.sleep(2)
        results = {
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "webhook_ack": stats_ms(acks),
            "push_to_documents_updated": stats_ms([push.synced_seconds for push in pushes]),
            "files_written_per_push_mean": round(
                sum(push.written + push.deleted for push in pushes) / len(pushes), 2
            ),
        }
        # Other sections of the file (the load benchmark's) are kept.
        merge_results(results)
        print(json.dumps(results, indent=2))
        print(f"written to {RESULTS}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
