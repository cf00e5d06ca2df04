""" "What changed, in a few words" for the activity feed: the Portal-visible fields that differ
between two versions of a ``resources`` document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

_COMPARED: Final = ("display_name", "state", "location", "project_id")
_MAX_PARTS: Final = 4


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    parts = []
    for field in _COMPARED:
        if before.get(field) != after.get(field):
            parts.append(f"{field} {_short(before.get(field))} → {_short(after.get(field))}")
    old_labels, new_labels = before.get("labels") or {}, after.get("labels") or {}
    for key in sorted(old_labels.keys() | new_labels.keys()):
        if old_labels.get(key) != new_labels.get(key):
            parts.append(f"label {key} {old_labels.get(key)} → {new_labels.get(key)}")
    old_data, new_data = before.get("data") or {}, after.get("data") or {}
    for key in sorted(old_data.keys() | new_data.keys()):
        if old_data.get(key) != new_data.get(key):
            parts.append(f"{key} {_short(old_data.get(key))} → {_short(new_data.get(key))}")
    if not parts:
        return "metadata refreshed"
    extra = len(parts) - _MAX_PARTS
    shown = "; ".join(parts[:_MAX_PARTS])
    return shown + (f"; +{extra} more" if extra > 0 else "")


def compliance_turn(
    before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> tuple[str, str] | None:
    """("non_compliant" | "compliant", what) when a change makes an asset violate a constraint
    or stop violating every one; None when its compliance did not turn (or was not judged)."""
    if "violations" not in after:
        return None
    now = sorted({v["constraint"] for v in after.get("violations") or []})
    was = sorted({v["constraint"] for v in (before or {}).get("violations") or []})
    if now and not was:
        return "non_compliant", "violates " + ", ".join(now[:_MAX_PARTS])
    if was and not now:
        return "compliant", "no longer violates " + ", ".join(was[:_MAX_PARTS])
    return None
