"""CAI-shaped assets and constraints for the compliance tests (``Asset`` JSON, camelCase)."""

from __future__ import annotations

from typing import Any

from lzsync.logic.compliance.registry import Constraint, Scope

ORG = "organizations/5"
FOLDER = "folders/4"
PROJECT = "projects/123"
DISCOVERY = {
    "compute.googleapis.com": "https://www.googleapis.com/discovery/v1/apis/compute/v1/rest",
    "storage.googleapis.com": "https://www.googleapis.com/discovery/v1/apis/storage/v1/rest",
    "sqladmin.googleapis.com": "https://sqladmin.googleapis.com/$discovery/rest",
    "bigquery.googleapis.com": "https://bigquery.googleapis.com/$discovery/rest",
    "dns.googleapis.com": "https://dns.googleapis.com/$discovery/rest",
    "appengine.googleapis.com": "https://appengine.googleapis.com/$discovery/rest",
    "serviceusage.googleapis.com": "https://serviceusage.googleapis.com/$discovery/rest",
    "cloudresourcemanager.googleapis.com": (
        "https://cloudresourcemanager.googleapis.com/$discovery/rest"
    ),
}


def asset(
    asset_type: str,
    name: str,
    data: dict[str, Any],
    *,
    ancestors: list[str] | None = None,
    iam: list[tuple[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """One asset as ``ListAssets``/feeds return it; ``iam`` is ``[(role, members), ...]``."""
    service = asset_type.split("/", 1)[0]
    result: dict[str, Any] = {
        "name": name,
        "assetType": asset_type,
        "resource": {
            "version": "v1",
            "discoveryDocumentUri": DISCOVERY.get(service, ""),
            "discoveryName": asset_type.rsplit("/", 1)[1],
            "parent": f"//cloudresourcemanager.googleapis.com/{PROJECT}",
            "data": data,
            "location": "global",
        },
        "ancestors": ancestors if ancestors is not None else [PROJECT, FOLDER, ORG],
        "updateTime": "2026-01-05T09:00:00Z",
    }
    if iam is not None:
        result["iamPolicy"] = {
            "version": 1,
            "etag": "BwXhq1",
            "bindings": [{"role": role, "members": members} for role, members in iam],
        }
    return result


def constraint(
    kind: str,
    parameters: dict[str, Any] | None = None,
    *,
    name: str = "test-constraint",
    include: tuple[str, ...] = ("organizations/**",),
    exclude: tuple[str, ...] = (),
) -> Constraint:
    return Constraint(
        name=name,
        kind=kind,
        severity="high",
        parameters=parameters or {},
        scope=Scope(include, exclude),
    )
