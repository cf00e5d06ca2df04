"""Evaluate one CAI asset against the landing zone's constraints.

A constraint applies to an asset when its kind has a registered check for the asset's type and
the asset's ancestry path is in the constraint's scope. Kinds without a check are never passed
silently: they come back as "not evaluated", so the Portal can say "we could not check this"
instead of a green tick. A check that raises on an odd asset is logged and reported as failed;
it does not stop the other constraints.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from lzsync.logic.asset_types import canonical_type
from lzsync.logic.compliance import scope
from lzsync.logic.compliance.registry import (
    ANY_ASSET_TYPE,
    Asset,
    Constraint,
    Violation,
    registered,
)

# Importing a kind module registers its checks. GKE kinds are written separately and may not be
# there yet; any other import error inside them is a real bug and is raised.
_KIND_MODULES: Final = ("lzsync.logic.compliance.kinds.resources",)
_OPTIONAL_KIND_MODULES: Final = ("lzsync.logic.compliance.kinds.gke",)

logger = logging.getLogger("lzsync.compliance")


def _load_kinds() -> None:
    for module in _KIND_MODULES:
        importlib.import_module(module)
    for module in _OPTIONAL_KIND_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise


_load_kinds()


@dataclass(frozen=True)
class EvaluationResult:
    violations: list[Violation] = field(default_factory=list)
    # Kinds of in-scope constraints that have no check (sorted, each once).
    not_evaluated: list[str] = field(default_factory=list)
    # Names of constraints whose check raised on this asset.
    failed: list[str] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        """No violation *and* every constraint in scope was actually evaluated."""
        return not self.violations and not self.not_evaluated and not self.failed


def evaluate(asset: Asset, constraints: Iterable[Constraint]) -> EvaluationResult:
    """Every violation of ``constraints`` by ``asset`` (CAI JSON, camelCase)."""
    checks = registered()
    asset_type = canonical_type(str(asset.get("assetType") or asset.get("asset_type") or ""))
    path = scope.ancestry_path(asset)
    violations: list[Violation] = []
    not_evaluated: set[str] = set()
    failed: list[str] = []
    for constraint in constraints:
        check = checks.get(constraint.kind)
        if check is not None and not (
            asset_type in check.asset_types or ANY_ASSET_TYPE in check.asset_types
        ):
            continue
        if not scope.in_scope(constraint.scope, path):
            continue
        if check is None:
            not_evaluated.add(constraint.kind)
            continue
        try:
            messages = check.check(asset, constraint)
        except Exception:
            logger.warning(
                "constraint check failed",
                exc_info=True,
                extra={"constraint": constraint.name, "asset": asset.get("name")},
            )
            failed.append(constraint.name)
            continue
        violations.extend(
            Violation(constraint.name, constraint.kind, constraint.severity, message)
            for message in messages
        )
    return EvaluationResult(violations, sorted(not_evaluated), failed)


def unsupported(constraints: Sequence[Constraint]) -> list[str]:
    """Kinds among ``constraints`` that no check evaluates (sorted, each once)."""
    checks = registered()
    return sorted({c.kind for c in constraints if c.kind not in checks})


def needs_iam(constraints: Iterable[Constraint]) -> bool:
    """Whether any of ``constraints`` is of a kind whose check reads IAM policies: only then is
    an asset's ``iamPolicy`` worth fetching (a listing of its own in CAI, a read per event)."""
    checks = registered()
    return any((check := checks.get(c.kind)) is not None and check.reads_iam for c in constraints)
