"""The real-time benchmarks' shared parts (``bench.asset_events``, ``bench.load_feed``): a feed
of changes in a fixed pattern, the ``asset_events`` stack that applies them, counting what was
applied, and the CPU each process spent. Kept in one place so both measure the same way."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import psutil
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.feed_player import relabelled
from lzsync.devtools.replay import percentile
from lzsync.devtools.stack import StackConfig

WATCHED: Final = 50
WATCH_EVERY: Final = 4


def events_stack(work_dir: Path, lag_window_seconds: int, name_prefix: str = "lz") -> StackConfig:
    """``asset_events`` alone under functions-framework, fed by the push relay (the emulator's
    own push delivers one message at a time), status flushed every second, and the committed
    lag percentiles over ``lag_window_seconds`` (the measured phase, not the warm-up). Stacks
    sharing one Pub/Sub emulator need their own ``name_prefix`` (it names the topics)."""
    return StackConfig(
        repos=(),
        webhook_secret=secrets.token_hex(16),  # the webhook is not started here
        work_dir=work_dir,
        name_prefix=name_prefix,
        functions=("asset_events",),
        delivery="relay",
        extra_env={
            "LZSYNC_LOG_LEVEL": "WARNING",
            "LZSYNC_EVENTS_STATUS_FLUSH_SECONDS": "1",
            "LZSYNC_EVENTS_LAG_WINDOW_SECONDS": str(lag_window_seconds),
        },
    )


def activity_count(client: firestore.Client) -> int:
    """Events applied so far: each applied change leaves one ``activity`` entry (the
    snapshot's own entries, layer ``assets``, are not counted)."""
    events = client.collection("activity").where(filter=FieldFilter("layer", "==", "events"))
    query = events.count()  # type: ignore[no-untyped-call]
    return int(query.get()[0][0].value)


def wait_for_count(client: firestore.Client, expected: int, timeout: float) -> float:
    """Poll until ``expected`` events are applied; returns the perf_counter time it happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if activity_count(client) >= expected:
            return time.perf_counter()
        time.sleep(0.5)
    raise TimeoutError(f"only {activity_count(client)} of {expected} events applied")


def _process_role(process: psutil.Process) -> str | None:
    command = " ".join(process.cmdline())
    if "functions-framework" in command:
        return "function"
    if "cloud-firestore-emulator" in command:
        return "firestore_emulator"
    if "pubsub-emulator" in command:
        return "pubsub_emulator"
    return None


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds so far of this process and of what it started (emulators, function): only
    descendants, so other emulators on a shared machine are not counted."""
    own = psutil.Process()
    totals: dict[str, float] = {"bench_process": sum(own.cpu_times()[:2])}
    for process in own.children(recursive=True):
        try:
            role = _process_role(process)
            if role is not None:
                totals[role] = totals.get(role, 0.0) + sum(process.cpu_times()[:2])
        except psutil.Error:
            continue
    return totals


@contextmanager
def cpu_per_event(events: int, into: dict[str, Any]) -> Iterator[None]:
    """CPU milliseconds each process spent per event while the block ran (the bench process
    is the publisher, the push relay and the listeners)."""
    before = _cpu_seconds()
    yield
    after = _cpu_seconds()
    into["cpu_ms_per_event"] = {
        role: round((after[role] - before.get(role, 0.0)) * 1000 / max(events, 1), 2)
        for role in after
    }


class Feed:
    """Changes in a fixed pattern: every WATCH_EVERY-th changes a watched asset (the first
    WATCHED of ``assets``); the others go round the rest, so no asset changes twice within a
    second (an out-of-order older change would be ignored, leaving no activity entry to count).
    ``latest`` keeps the newest sequence sent per asset name, for final-state checks."""

    def __init__(self, assets: list[dict[str, Any]]) -> None:
        self._assets = assets
        self._sequence = 0
        self.watched_ids = [resource_id(asset["name"]) for asset in assets[:WATCHED]]
        self.latest: dict[str, int] = {}

    def take(
        self, count: int, watched: bool = True
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str] | None]]:
        changes: list[dict[str, Any]] = []
        versions: list[tuple[str, str] | None] = []
        for _ in range(count):
            n = self._sequence
            self._sequence += 1
            if watched and n % WATCH_EVERY == 0:
                asset = self._assets[(n // WATCH_EVERY) % WATCHED]
                versions.append((resource_id(asset["name"]), str(n)))
            else:
                asset = self._assets[WATCHED + n % (len(self._assets) - WATCHED)]
                versions.append(None)
            self.latest[asset["name"]] = n
            changes.append(relabelled(asset, n))
        return changes, versions


def latencies(seen: Mapping[Any, float], sent: Mapping[Any, float]) -> list[float]:
    """Milliseconds from sending to being seen, for what was seen."""
    return [(seen[key] - at) * 1000 for key, at in sent.items() if key in seen]


def summary(latencies_ms: list[float], expected: int) -> dict[str, Any]:
    return {
        "expected": expected,
        "seen": len(latencies_ms),
        "p50_ms": round(percentile(latencies_ms, 0.5), 1) if latencies_ms else None,
        "p99_ms": round(percentile(latencies_ms, 0.99), 1) if latencies_ms else None,
        "max_ms": round(max(latencies_ms), 1) if latencies_ms else None,
    }
