"""Rows of the history tables, from what the other layers already produce.

Pure functions: a ``resources``-shaped document (:func:`resource_document`) becomes an
``asset_snapshots`` row, an ``activity`` entry of the asset layers an ``asset_changes`` row, a
``_doc_changes`` record a ``doc_changes`` row. Rows are JSON-ready (dates and times as ISO 8601
text), because they travel as newline-delimited JSON in load jobs. Environments come from labels
here, once, rather than in SQL: a label lookup per row in every trend query would cost bytes
scanned forever.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

UNLABELLED = "(none)"


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return None if value is None else str(value)


def environment_of(labels: Mapping[str, str] | None, keys: Sequence[str]) -> str:
    for key in keys:
        value = (labels or {}).get(key)
        if value:
            return value
    return UNLABELLED


def snapshot_row(
    document: Mapping[str, Any], day: date, environment_labels: Sequence[str]
) -> dict[str, Any]:
    labels = document.get("labels") or {}
    return {
        "snapshot_date": day.isoformat(),
        "name": document["name"],
        "asset_type": document.get("asset_type"),
        "project_id": document.get("project_id"),
        "project": document.get("project"),
        "organization": document.get("organization"),
        "folders": list(document.get("folders") or []),
        "ancestry": list(document.get("ancestry") or []),
        "location": document.get("location"),
        "environment": environment_of(labels, environment_labels),
        "labels": [{"key": key, "value": value} for key, value in sorted(labels.items())],
        "state": document.get("state"),
        "create_time": document.get("create_time"),
        "update_time": document.get("update_time"),
        "data_json": json.dumps(document.get("data") or {}, sort_keys=True, default=str),
        "content_hash": document.get("content_hash"),
        # None when no constraints judged the asset, so "unjudged" never reads as "compliant".
        "compliant": document.get("compliant"),
        "violations": [
            {
                "constraint_name": violation["constraint"],
                "kind": violation["kind"],
                "severity": violation["severity"],
            }
            for violation in document.get("violations") or []
        ],
    }


def change_row(entry_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """An asset layer's ``activity`` entry (layer ``events`` or ``assets``)."""
    time = entry["time"]
    return {
        "change_date": time.date().isoformat(),
        "change_id": entry_id,
        "time": _iso(time),
        "kind": entry.get("kind"),
        "asset": entry.get("asset"),
        "asset_type": entry.get("asset_type"),
        "project": entry.get("project"),
        "layer": entry.get("layer"),
        "source": entry.get("source"),
        "summary": entry.get("summary"),
    }


def doc_change_row(record: Mapping[str, Any]) -> dict[str, Any]:
    synced_at = record["synced_at"]
    return {
        "change_date": synced_at.date().isoformat(),
        "change_id": record["change_id"],
        "synced_at": _iso(synced_at),
        "commit_time": _iso(record.get("commit_time")),
        "repo": record["repo"],
        "commit": record["commit"],
        "path": record["path"],
        "change": record["change"],
        "previous_path": record.get("previous_path"),
        "doc_kind": record.get("doc_kind"),
    }


class CountTally:
    """Resource counts of one day by type, project and environment, tallied while the
    snapshot rows stream past: the small table every resource trend reads."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, row: Mapping[str, Any]) -> None:
        key = (row.get("asset_type") or "", row.get("project_id") or "", row["environment"])
        self._counts[key] += 1

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def rows(self, day: date) -> Iterable[dict[str, Any]]:
        for (asset_type, project_id, environment), count in sorted(self._counts.items()):
            yield {
                "day": day.isoformat(),
                "asset_type": asset_type,
                "project_id": project_id or None,
                "environment": environment,
                "resources": count,
            }
