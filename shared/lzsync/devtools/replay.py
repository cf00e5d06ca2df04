"""Replay a repository's history as signed push webhooks through the local stack.

Each step moves the "remote" branch to the next commit (what ``git push`` does), delivers the
matching ``push`` webhook, and waits for ``sync_status/git`` to report that commit, the way the
Portal's listener would see it. Shared by the demo, the end-to-end test and the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lzsync.devtools.github_sender import GitHubSender
from lzsync.devtools.landing_zone import ZERO_SHA, CommitInfo, move_branch, push_payload
from lzsync.devtools.stack import StatusWatcher

SYNC_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class PushResult:
    commit: str
    ack_status: int
    ack_seconds: float
    synced_seconds: float
    written: int
    deleted: int


def replay(
    commits: Iterable[CommitInfo],
    *,
    remote: Path,
    sender: GitHubSender,
    watcher: StatusWatcher,
    before: str = ZERO_SHA,
    on_push: Callable[[PushResult], None] | None = None,
) -> list[PushResult]:
    """Push every commit in turn; returns one result per push (raises if a sync never lands)."""
    results = []
    for commit in commits:
        move_branch(remote, commit.sha)
        started = time.perf_counter()
        delivery = sender.deliver("push", push_payload(before, [commit]))
        if delivery.status != 202 or delivery.body.get("status") != "accepted":
            raise RuntimeError(f"push of {commit.sha} not accepted: {delivery}")
        status = watcher.wait_for(_reports(commit.sha), timeout=SYNC_TIMEOUT_SECONDS)
        result = PushResult(
            commit=commit.sha,
            ack_status=delivery.status,
            ack_seconds=delivery.seconds,
            synced_seconds=time.perf_counter() - started,
            written=int(status.get("counts", {}).get("written", 0)),
            deleted=int(status.get("counts", {}).get("deleted", 0)),
        )
        results.append(result)
        if on_push is not None:
            on_push(result)
        before = commit.sha
    return results


def _reports(sha: str) -> Callable[[dict[str, Any]], bool]:
    def reported(status: dict[str, Any]) -> bool:
        return status.get("last_commit") == sha

    return reported


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]
