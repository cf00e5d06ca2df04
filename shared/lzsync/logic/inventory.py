"""The ``inventory`` summary: counts the Portal shows without counting documents itself."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lzsync.logic.asset_normalize import content_hash


@dataclass
class InventoryTally:
    by_type: Counter[str] = field(default_factory=Counter)
    by_project: Counter[str] = field(default_factory=Counter)
    by_location: Counter[str] = field(default_factory=Counter)

    def add(self, document: dict[str, Any]) -> None:
        self.by_type[document["asset_type"]] += 1
        self.by_project[document.get("project_id") or document.get("project") or "(none)"] += 1
        self.by_location[document.get("location") or "(none)"] += 1

    def summary(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "total": sum(self.by_type.values()),
            "by_type": dict(sorted(self.by_type.items())),
            "by_project": dict(sorted(self.by_project.items())),
            "by_location": dict(sorted(self.by_location.items())),
        }
        result["summary_hash"] = content_hash(result)
        return result
