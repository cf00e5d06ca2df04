"""Activity entries for assets the snapshot finds turned non-compliant or compliant again.

The real-time layer records a turn as its event lands. The snapshot sees the turns events
cannot: a policy change in the repository re-judging the estate, or a change whose event was
lost. It compares each asset it is about to rewrite with the document Firestore holds now (not
with its manifest, which lags behind the events), so a turn an event already recorded is not
recorded twice. That costs one read per rewritten asset that existed before, and nothing for
the unchanged majority.

A policy change can turn thousands of assets at once: the first
``asset_activity_max_entries`` get an entry each, the rest one summary entry, so the feed stays
readable and the run's writes stay bounded.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from lzsync.adapters.activity import ActivityFeed
from lzsync.adapters.resource_store import ResourceStore
from lzsync.logic.change_summary import compliance_turn
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.assets")


class ComplianceTurns:
    def __init__(self, store: ResourceStore, activity: ActivityFeed, settings: Settings) -> None:
        self._store = store
        self._activity = activity
        self._limit = settings.asset_activity_max_entries
        self._pending: list[tuple[dict[str, Any], str, str]] = []
        self._recorded = 0
        self._overflow: Counter[str] = Counter()

    def observe(
        self, documents: Sequence[dict[str, Any]], previous: Mapping[str, str | None]
    ) -> None:
        """Before ``documents`` are written: find which of them turn, against what is stored.
        Assets new to the manifest are creations, whose verdict the feed shows as they are;
        documents without a verdict (no constraints loaded) never turn."""
        judged = [
            doc["name"]
            for doc in documents
            if "violations" in doc and previous.get(doc["name"]) is not None
        ]
        if not judged:
            return
        held = {doc["name"]: doc for doc in self._store.read(judged)}
        for document in documents:
            turned = compliance_turn(held.get(document["name"]), document)
            if document["name"] in held and turned is not None:
                self._pending.append((document, *turned))

    def record(self, refused: set[str]) -> None:
        """After the write: an entry for each turn whose document Firestore accepted."""
        for document, kind, summary in self._pending:
            if document["name"] in refused:
                continue
            if self._recorded >= self._limit:
                self._overflow[kind] += 1
                continue
            self._activity.record(
                f"compliance:{document['name']}:{document['content_hash']}",
                {
                    "layer": "assets",
                    "kind": kind,
                    "asset": document["name"],
                    "asset_type": document.get("asset_type"),
                    "project": document.get("project_id") or document.get("project"),
                    "summary": summary,
                    "source": "snapshot",
                },
            )
            self._store.counts.writes += 1
            self._recorded += 1
        self._pending.clear()

    def finish(self) -> None:
        """One entry for the turns beyond the cap, so none goes unmentioned."""
        if not self._overflow:
            return
        parts = [
            f"{count:,} more assets turned {kind.replace('_', '-')}"
            for kind, count in sorted(self._overflow.items())
        ]
        key = "compliance:overflow:" + ":".join(
            f"{k}={v}" for k, v in sorted(self._overflow.items())
        )
        self._activity.record(
            f"{key}:{self._recorded}",
            {
                "layer": "assets",
                "kind": "compliance_turns",
                "summary": "; ".join(parts) + " (listed individually up to "
                f"{self._limit:,} per snapshot)",
                "source": "snapshot",
                "count": sum(self._overflow.values()),
            },
        )
        self._store.counts.writes += 1
        _log.info("compliance turns beyond the activity cap", extra=dict(self._overflow))
