"""The contract between the compliance engine and the checks of each constraint kind.

A **check** is a pure function ``(asset, constraint) -> list of messages`` registered for one
Config Validator ``kind`` and the Cloud Asset Inventory asset types it applies to. ``asset`` is
the asset as CAI returns it (JSON, camelCase: ``name``, ``assetType``, ``ancestors``,
``resource.data``, ``iamPolicy``); an empty list means compliant. The engine decides scope
(``spec.match``) before calling a check, so checks look only at the asset and the constraint's
``parameters``. A kind with no registered check is reported as "not evaluated", never passed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

Asset = Mapping[str, Any]


@dataclass(frozen=True)
class Scope:
    """``spec.match``: ancestry patterns the asset must match (``organizations/**``,
    ``organizations/1/folders/2/**``, ``**/projects/p``) and ones that exclude it."""

    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Constraint:
    name: str  # metadata.name
    kind: str
    severity: str  # spec.severity, "medium" when absent (the policy library's default)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    source: str | None = None  # the repository path it was read from


@dataclass(frozen=True)
class Violation:
    constraint: str
    kind: str
    severity: str
    message: str


Check = Callable[[Asset, Constraint], list[str]]


@dataclass(frozen=True)
class KindCheck:
    kind: str
    asset_types: tuple[str, ...]
    check: Check
    # The check reads the asset's ``iamPolicy``. CAI lists policies separately (content type
    # IAM_POLICY), so the snapshot pays for that listing only while such a kind is loaded.
    reads_iam: bool = False


_REGISTRY: dict[str, KindCheck] = {}


def kind(
    name: str, asset_types: Sequence[str], *, reads_iam: bool = False
) -> Callable[[Check], Check]:
    """Register ``check`` as the evaluation of constraint kind ``name`` for ``asset_types``;
    ``reads_iam`` when it looks at the asset's IAM policy (see :class:`KindCheck`)."""

    def register(check: Check) -> Check:
        if name in _REGISTRY:
            raise ValueError(f"constraint kind {name} registered twice")
        _REGISTRY[name] = KindCheck(name, tuple(asset_types), check, reads_iam)
        return check

    return register


def registered() -> Mapping[str, KindCheck]:
    return dict(_REGISTRY)


# A kind that applies to every asset type (IAM policy kinds: any resource can carry a policy).
ANY_ASSET_TYPE: Final = "*"
