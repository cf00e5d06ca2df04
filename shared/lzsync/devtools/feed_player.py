"""Play a simulated feed: publish change messages to the events topic at a steady rate and
watch them arrive in Firestore through a live listener on ``activity``, as the Portal would.

Each change's ``window.startTime`` (and ``updateTime``) is set to the moment it is published,
as a real feed would stamp it, so the measured latency is publish → visible to a listener.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.logic import docids

# Entries a feed listener keeps; deep enough that reordered deliveries still enter it.
_FEED_WINDOW: Final = 300


@dataclass
class ActivityListener:
    """Records when each real-time change becomes visible (its activity entry arrives)."""

    client: firestore.Client
    on_entry: Callable[[dict[str, Any], float], None] | None = None
    seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watch: Any = None

    def start(self) -> ActivityListener:
        # What a Portal feed listens to: the newest entries only. A listener on the whole,
        # growing collection would cost the client (and the emulator) O(n) per change.
        query = (
            self.client.collection("activity")
            .where(filter=FieldFilter("layer", "==", "events"))
            .order_by("time", direction=firestore.Query.DESCENDING)
            .limit(_FEED_WINDOW)
        )
        self._watch = query.on_snapshot(self._on_change)
        return self

    def _on_change(self, _docs: Any, changes: Any, _read_time: Any) -> None:
        now = time.perf_counter()
        with self._lock:
            for change in changes:
                if change.type.name == "ADDED" and change.document.id not in self.seen:
                    self.seen[change.document.id] = now
                    if self.on_entry is not None:
                        self.on_entry(change.document.to_dict() or {}, now)

    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.unsubscribe()


@dataclass
class ResourceListener:
    """Records when each version of a few ``resources`` documents becomes visible: one document
    listener per asset, as a Portal page showing that resource would hold. Versions are told
    apart by the ``sequence`` label :func:`relabelled` sets."""

    client: firestore.Client
    doc_ids: list[str]
    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watches: list[Any] = field(default_factory=list)

    def start(self) -> ResourceListener:
        collection = self.client.collection("resources")
        for doc_id in self.doc_ids:
            self._watches.append(collection.document(doc_id).on_snapshot(self._on_change))
        return self

    def _on_change(self, docs: Any, _changes: Any, _read_time: Any) -> None:
        now = time.perf_counter()
        with self._lock:
            for doc in docs:
                sequence = ((doc.to_dict() or {}).get("labels") or {}).get("sequence")
                if sequence is not None:
                    self.seen.setdefault((doc.id, str(sequence)), now)

    def stop(self) -> None:
        for watch in self._watches:
            watch.unsubscribe()


def relabelled(asset: dict[str, Any], sequence: int) -> dict[str, Any]:
    """An update of ``asset`` (a label carries the sequence number), as a feed change."""
    updated = copy.deepcopy(asset)
    data = updated["resource"].setdefault("data", {})
    data["labels"] = {**(data.get("labels") or {}), "sequence": str(sequence)}
    return {"asset": updated, "priorAsset": asset, "priorAssetState": "PRESENT"}


def stamped(change: dict[str, Any], when: datetime) -> bytes:
    moved = copy.deepcopy(change)
    text = when.isoformat().replace("+00:00", "Z")
    moved["window"] = {"startTime": text}
    moved["asset"]["updateTime"] = text
    return json.dumps(moved).encode()


def play(
    changes: Iterable[dict[str, Any]],
    publisher: pubsub_v1.PublisherClient,
    topic_path: str,
    per_second: float,
    sent: dict[str, float] | None = None,
    sent_in_order: list[float] | None = None,
) -> dict[str, float]:
    """Publish at ``per_second``; returns the perf_counter time each asset's change was sent,
    keyed like the activity entries the change will produce (filled in as it goes into
    ``sent`` when given, so a listener can match arrivals while publishing continues).
    ``sent_in_order`` receives the same times in the order of ``changes``."""
    sent = {} if sent is None else sent
    interval = 1.0 / per_second
    started = time.perf_counter()
    futures = []
    for index, change in enumerate(changes):
        due = started + index * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        now = datetime.now(UTC)
        data = stamped(change, now)
        key = docids.encode(f"event:{change['asset']['name']}:{now.isoformat()}")
        sent[key] = time.perf_counter()
        if sent_in_order is not None:
            sent_in_order.append(sent[key])
        futures.append(publisher.publish(topic_path, data))
    for future in futures:
        future.result(timeout=60)
    return sent
