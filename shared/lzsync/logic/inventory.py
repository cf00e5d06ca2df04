"""The ``inventory`` summary: counts the Portal shows without counting documents itself."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lzsync.logic.asset_normalize import content_hash

_Key = tuple[str, str, str]  # type, project, location


def _key(document: dict[str, Any]) -> _Key:
    project = document.get("project_id") or document.get("project") or "(none)"
    return (document["asset_type"], project, document.get("location") or "(none)")


@dataclass
class InventoryTally:
    """Counts by type, project and location, remembering what each asset added.

    Why per asset: assets the real-time layer created, changed or deleted while a snapshot
    listed the estate must be counted as Firestore holds them at the end of the run, not as
    the listing saw them, so :meth:`replace` takes an asset's contribution back out. The key
    tuples share their (few distinct) strings, so this costs about as much as the manifest's
    names, not more."""

    by_type: Counter[str] = field(default_factory=Counter)
    by_project: Counter[str] = field(default_factory=Counter)
    by_location: Counter[str] = field(default_factory=Counter)
    _keys: dict[str, _Key] = field(default_factory=dict)
    _interned: dict[_Key, _Key] = field(default_factory=dict)

    def add(self, document: dict[str, Any]) -> None:
        self.replace(document["name"], document)

    def replace(self, name: str, document: dict[str, Any] | None) -> None:
        """Count ``name`` as ``document`` (None: not at all) instead of what it was."""
        old = self._keys.pop(name, None)
        if old is not None:
            self._move(old, -1)
        if document is not None:
            key = _key(document)
            key = self._interned.setdefault(key, key)
            self._keys[name] = key
            self._move(key, 1)

    def _move(self, key: _Key, step: int) -> None:
        asset_type, project, location = key
        for counter, value in (
            (self.by_type, asset_type),
            (self.by_project, project),
            (self.by_location, location),
        ):
            counter[value] += step
            if not counter[value]:
                del counter[value]

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "total": sum(self.by_type.values()),
            "by_type": dict(sorted(self.by_type.items())),
            "by_project": dict(sorted(self.by_project.items())),
            "by_location": dict(sorted(self.by_location.items())),
        }
        result["summary_hash"] = content_hash(result)
        return result
