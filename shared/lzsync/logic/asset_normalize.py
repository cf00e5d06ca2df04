"""One shape for every asset, whichever source and era it came from.

Inputs: the JSON form of a ListAssets ``Asset`` or of a feed's ``asset`` (camelCase), and
``exportAssets`` NDJSON lines, current (camelCase) or older (snake_case envelope, e.g.
``asset_type``, ``discovery_name``, ``update_time``). Only the envelope is spelled differently:
``resource.data`` is the API resource itself and keeps its own spelling.

The result is the ``resources`` document the Portal reads, plus a content hash over everything
but bookkeeping fields, so a snapshot can tell "changed" from "seen again" without a read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from lzsync.errors import InvalidPayload
from lzsync.logic.asset_summary import last_segment, summarize
from lzsync.logic.asset_types import PROJECT, canonical_type

CONTENT_HASH_HEX: Final = 16
_STATE_FIELDS: Final = ("status", "state", "lifecycleState")
_CREATED_FIELDS: Final = ("creationTimestamp", "createTime", "timeCreated", "creationTime")
_LOCATION_FIELDS: Final = ("zone", "region", "location")
_NAME_FIELDS: Final = ("displayName", "name", "email")


def _field(source: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = source.get(camel)
    return source.get(snake) if value is None else value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(data: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return value
    return None


def _project_id(name: str) -> str | None:
    """``//compute.googleapis.com/projects/my-proj/zones/...`` → ``my-proj``."""
    parts = name.split("/")
    if "projects" in parts:
        index = parts.index("projects")
        if index + 1 < len(parts) and parts[index + 1]:
            return parts[index + 1]
    return None


# Firestore: a document ≤ 1 MiB, nesting ≤ 20 levels, no array directly inside an array.
_MAX_LIST_ITEMS: Final = 200
_MAX_TEXT_CHARS: Final = 1024
_MAX_DEPTH: Final = 8
_MAX_LABELS: Final = 64


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        # JSON may spell a lone surrogate (``"\\ud800"``), which Firestore refuses at write
        # time; it becomes U+FFFD so one odd field cannot fail a whole batch or transaction.
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text if len(text) <= _MAX_TEXT_CHARS else text[: _MAX_TEXT_CHARS - 1] + "…"


def firestore_safe(value: Any, depth: int = 0) -> Any:
    """A value Firestore accepts, whatever CAI returned: strings and lists capped, nesting
    capped, arrays inside arrays turned into text (Firestore rejects them)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _text(value)
    if depth >= _MAX_DEPTH:
        return _text(json.dumps(value, default=str))
    if isinstance(value, Mapping):
        return {_text(key): firestore_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [
            _text(json.dumps(item, default=str))
            if isinstance(item, list | tuple)
            else firestore_safe(item, depth + 1)
            for item in value[:_MAX_LIST_ITEMS]
        ]
    return _text(value)


def _valid_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidPayload("asset has no name", field="name")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidPayload("asset name is not valid Unicode", field="name") from error
    return name


def _optional_text(value: Any) -> str | None:
    return None if value is None or isinstance(value, Mapping | list) else _text(value)


def policy_bindings(policy: Any) -> list[dict[str, Any]] | None:
    """An IAM policy (CAI ``Policy`` JSON, or the bindings list a document stores) reduced to
    what compliance reads: ``[{role, members}]``, members sorted and bindings sorted, so equal
    grants hash equal whatever order IAM returned them in. ``etag``, ``version`` and
    ``auditConfigs`` are dropped (they decide nothing); a binding's ``condition`` is dropped
    too, so a conditional grant counts as a grant (the checks ignore conditions as well). None
    when there is no binding: an empty policy judges like no policy.

    No list cap, unlike :func:`firestore_safe`: a truncated member list could hide a public
    member, and IAM's own limit (1,500 principals per policy) keeps a policy far below
    Firestore's document size."""
    if isinstance(policy, Mapping):
        policy = policy.get("bindings")
    if not isinstance(policy, list):
        return None
    bindings = []
    for binding in policy:
        if not isinstance(binding, Mapping):
            continue
        members = binding.get("members")
        bindings.append(
            {
                "role": _text(binding.get("role") or ""),
                "members": sorted(
                    {_text(m) for m in (members if isinstance(members, list) else [])}
                ),
            }
        )
    bindings.sort(key=lambda item: (item["role"], item["members"]))
    return bindings or None


def asset_policy(asset: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The asset's IAM policy as :func:`policy_bindings` stores it (either field spelling)."""
    return policy_bindings(_field(asset, "iamPolicy", "iam_policy"))


def content_hash(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:CONTENT_HASH_HEX]


def resource_document(
    asset: Any, *, source: str, violations: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The ``resources`` document for one asset; InvalidPayload names what is missing.

    ``violations`` (the compliance engine's findings, when constraints are loaded) become part
    of the document and of its content hash, so a change of compliance is a change the layers
    write, like any other; None leaves both fields out (no constraints: nothing judged).

    The asset's ``iamPolicy``, when it has one, is stored as ``iam_policy`` (bindings only, see
    :func:`policy_bindings`), in the hash too: it is the policy the verdict was reached with,
    and what the real-time layer judges the next change of the asset with (feed messages of
    content type RESOURCE carry no policy)."""
    if not isinstance(asset, Mapping):
        raise InvalidPayload("asset is not an object")
    name = _valid_name(asset.get("name"))
    raw_type = _field(asset, "assetType", "asset_type")
    if not isinstance(raw_type, str) or not raw_type:
        raise InvalidPayload(f"asset {name} has no type", field="assetType")
    resource = _mapping(asset.get("resource"))
    data = _mapping(resource.get("data"))
    raw_ancestors = asset.get("ancestors")
    ancestors = [
        _text(a)
        for a in (raw_ancestors if isinstance(raw_ancestors, list) else [])
        if isinstance(a, str)
    ]
    asset_type = canonical_type(_text(raw_type))
    labels = data.get("labels")
    location = resource.get("location") or _first(data, _LOCATION_FIELDS)
    state = _first(data, _STATE_FIELDS)
    created = _first(data, _CREATED_FIELDS)
    display = _first(data, _NAME_FIELDS)
    document: dict[str, Any] = {
        "name": name,
        "asset_type": asset_type,
        "display_name": _optional_text(display) or _text(last_segment(name)),
        "project": next((a for a in ancestors if a.startswith("projects/")), None),
        # A project's own name holds its number; its id is in the data.
        "project_id": _optional_text(data.get("projectId"))
        if asset_type == PROJECT
        else _project_id(name),
        "ancestry": ancestors,
        "folders": [a for a in ancestors if a.startswith("folders/")],
        "organization": next((a for a in ancestors if a.startswith("organizations/")), None),
        "location": last_segment(_text(location)) if isinstance(location, str) else None,
        "labels": {_text(k): _text(v) for k, v in list(labels.items())[:_MAX_LABELS]}
        if isinstance(labels, Mapping)
        else {},
        "state": _optional_text(state),
        "create_time": _optional_text(created),
        "update_time": _optional_text(_field(asset, "updateTime", "update_time")),
        "data": firestore_safe(summarize(asset_type, data)),
    }
    policy = asset_policy(asset)
    if policy is not None:
        document["iam_policy"] = policy
    if violations is not None:
        document["violations"] = [dict(violation) for violation in violations]
        document["compliant"] = not violations
    document["content_hash"] = content_hash(document)
    document["source"] = source
    return document
