"""``compliance/summary``: the estate's compliance in one small document the Portal listens to,
tallied from the judged ``resources`` documents while a snapshot streams past them.

Counts violations by constraint (with its kind and severity), by severity and by project, and
the compliant share of the assets that were judged. Kinds no check exists for are listed as not
evaluated, and constraints that could not be read as invalid: neither is ever counted as a
pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lzsync.logic.asset_normalize import content_hash


@dataclass
class ComplianceTally:
    assets: int = 0
    violating_assets: int = 0
    by_constraint: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_project: Counter[str] = field(default_factory=Counter)
    constraint_meta: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, document: Mapping[str, Any]) -> None:
        violations = document.get("violations")
        if violations is None:
            return  # not judged (no constraints loaded)
        self.assets += 1
        if not violations:
            return
        self.violating_assets += 1
        project = document.get("project_id") or document.get("project") or "(none)"
        for violation in violations:
            name = violation["constraint"]
            self.by_constraint[name] += 1
            self.by_severity[violation["severity"]] += 1
            self.by_project[project] += 1
            self.constraint_meta.setdefault(
                name, {"kind": violation["kind"], "severity": violation["severity"]}
            )

    def summary(
        self,
        constraints: Sequence[Mapping[str, str]],
        not_evaluated: Sequence[str],
        invalid: Sequence[Mapping[str, str]],
        commit: str | None,
    ) -> dict[str, Any]:
        """``constraints``: every loaded constraint (name, kind, severity), listed even when
        nothing violates it, so the Portal can show "0" rather than nothing."""
        by_constraint = {
            item["name"]: {
                "kind": item["kind"],
                "severity": item["severity"],
                "violations": self.by_constraint.get(item["name"], 0),
                "evaluated": item["kind"] not in not_evaluated,
            }
            for item in constraints
        }
        result: dict[str, Any] = {
            "assets_judged": self.assets,
            "violating_assets": self.violating_assets,
            "compliant_share": round(1 - self.violating_assets / self.assets, 4)
            if self.assets
            else None,
            "violations": sum(self.by_constraint.values()),
            "by_constraint": dict(sorted(by_constraint.items())),
            "by_severity": dict(sorted(self.by_severity.items())),
            "by_project": dict(sorted(self.by_project.items())),
            "not_evaluated": sorted(set(not_evaluated)),
            "invalid_constraints": list(invalid),
            "constraints_commit": commit,
        }
        result["summary_hash"] = content_hash(result)
        return result
