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
from collections.abc import Mapping
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


def content_hash(document: Mapping[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:CONTENT_HASH_HEX]


def resource_document(asset: Any, *, source: str) -> dict[str, Any]:
    """The ``resources`` document for one asset; InvalidPayload names what is missing."""
    if not isinstance(asset, Mapping):
        raise InvalidPayload("asset is not an object")
    name = asset.get("name")
    raw_type = _field(asset, "assetType", "asset_type")
    if not isinstance(name, str) or not name:
        raise InvalidPayload("asset has no name", field="name")
    if not isinstance(raw_type, str) or not raw_type:
        raise InvalidPayload(f"asset {name} has no type", field="assetType")
    resource = _mapping(asset.get("resource"))
    data = _mapping(resource.get("data"))
    ancestors = [a for a in asset.get("ancestors") or [] if isinstance(a, str)]
    asset_type = canonical_type(raw_type)
    labels = data.get("labels")
    location = resource.get("location") or _first(data, _LOCATION_FIELDS)
    state = _first(data, _STATE_FIELDS)
    created = _first(data, _CREATED_FIELDS)
    display = _first(data, _NAME_FIELDS)
    document: dict[str, Any] = {
        "name": name,
        "asset_type": asset_type,
        "display_name": str(display) if display is not None else last_segment(name),
        "project": next((a for a in ancestors if a.startswith("projects/")), None),
        # A project's own name holds its number; its id is in the data.
        "project_id": data.get("projectId") if asset_type == PROJECT else _project_id(name),
        "ancestry": ancestors,
        "folders": [a for a in ancestors if a.startswith("folders/")],
        "organization": next((a for a in ancestors if a.startswith("organizations/")), None),
        "location": last_segment(location) if isinstance(location, str) else None,
        "labels": {str(k): str(v) for k, v in labels.items()}
        if isinstance(labels, Mapping)
        else {},
        "state": str(state) if state is not None else None,
        "create_time": str(created) if created is not None else None,
        "update_time": _field(asset, "updateTime", "update_time"),
        "data": summarize(asset_type, data),
    }
    document["content_hash"] = content_hash(document)
    document["source"] = source
    return document
