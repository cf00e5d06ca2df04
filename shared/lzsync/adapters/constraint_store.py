"""The landing zone's constraints, read from where git sync leaves them: ``documents`` of kind
``policy`` under ``…/policies/constraints/``. A policy change in the repository therefore
reaches the estate's evaluation with the next snapshot (and the real-time layer within a
minute), with no second copy of the rules to keep in step.

Reads stay ∝ changes: the set is re-read only when ``sync_status/git`` names a new commit, and
that one document is looked at most every ``refresh_seconds`` per instance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.collection_names import Collections
from lzsync.logic.compliance.constraints import (
    InvalidConstraint,
    is_constraint_path,
    parse_constraint,
)
from lzsync.logic.compliance.engine import evaluate, needs_iam, unsupported
from lzsync.logic.compliance.registry import Constraint

_log = logging.getLogger("lzsync.compliance")


@dataclass(frozen=True)
class ConstraintSet:
    constraints: tuple[Constraint, ...] = ()
    invalid: tuple[dict[str, str], ...] = ()
    commit: str | None = None

    @property
    def not_evaluated(self) -> list[str]:
        return unsupported(self.constraints)

    @property
    def needs_iam(self) -> bool:
        """A loaded constraint reads IAM policies: the snapshot then lists them (CAI content
        type IAM_POLICY) and the real-time layer carries the stored policy over."""
        return needs_iam(self.constraints)

    def judge(self, asset: Mapping[str, Any]) -> list[dict[str, str]] | None:
        """The asset's violations as stored on its document; None when there is nothing to
        judge by (no constraints in the repository), so documents carry no verdict at all."""
        if not self.constraints:
            return None
        result = evaluate(asset, self.constraints)
        return [
            {
                "constraint": violation.constraint,
                "kind": violation.kind,
                "severity": violation.severity,
                "message": violation.message,
            }
            for violation in result.violations
        ]

    def described(self) -> list[dict[str, str]]:
        return [
            {"name": item.name, "kind": item.kind, "severity": item.severity}
            for item in self.constraints
        ]


@dataclass
class ConstraintStore:
    client: firestore.Client
    names: Collections
    refresh_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _cached: ConstraintSet = field(default_factory=ConstraintSet)
    _checked_at: float | None = None

    def current(self) -> ConstraintSet:
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.refresh_seconds:
            return self._cached
        with transient_errors_as_retryable("firestore"):
            status = self.client.collection(self.names.sync_status).document("git").get()
        commit = (status.to_dict() or {}).get("last_commit") if status.exists else None
        if self._checked_at is None or commit != self._cached.commit:
            self._cached = self._load(commit)
        self._checked_at = now
        return self._cached

    def _load(self, commit: str | None) -> ConstraintSet:
        query = self.client.collection(self.names.documents).where(
            filter=FieldFilter("kind", "==", "policy")
        )
        constraints: list[Constraint] = []
        invalid: list[dict[str, str]] = []
        with transient_errors_as_retryable("firestore"):
            snapshots = list(query.stream())
        for snapshot in snapshots:
            document = snapshot.to_dict() or {}
            path = str(document.get("path") or "")
            if not is_constraint_path(path):
                continue
            source = f"{document.get('repo')}:{path}"
            content = document.get("content")
            if not isinstance(content, str):
                invalid.append({"path": source, "reason": f"no text ({document.get('flag')})"})
                continue
            try:
                constraints.append(parse_constraint(content, source))
            except InvalidConstraint as error:
                invalid.append({"path": source, "reason": error.reason})
        constraints.sort(key=lambda item: item.name)
        _log.info(
            "constraints loaded",
            extra={"commit": commit, "constraints": len(constraints), "invalid": len(invalid)},
        )
        return ConstraintSet(tuple(constraints), tuple(invalid), commit)


_STORES: dict[tuple[str, str], ConstraintStore] = {}


def shared_constraint_store(client: firestore.Client, names: Collections) -> ConstraintStore:
    """One store per project and prefix for the life of the instance: its cache is what keeps
    constraint reads to one document per run while the repository does not change."""
    key = (client.project, names.prefix)
    if key not in _STORES:
        _STORES[key] = ConstraintStore(client, names)
    return _STORES[key]
