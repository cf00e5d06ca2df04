"""The compact ``data`` subset a Portal shows per asset type.

CAI's ``resource.data`` is the whole API resource (an instance is several KB); the Portal needs a
handful of fields. Each rule is (output name, dotted path into ``data``, transform). Paths follow
the resources' REST representations (Compute Engine v1, GKE v1, Cloud Storage JSON API v1, IAM
v1, Cloud KMS v1, Resource Manager v1/v3). Types without rules keep no ``data``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from lzsync.logic import asset_types as t

Transform = Callable[[Any], Any]


def last_segment(value: Any) -> Any:
    """``https://…/zones/europe-west1-b`` → ``europe-west1-b``; other values unchanged."""
    return value.rstrip("/").rsplit("/", 1)[-1] if isinstance(value, str) else value


def count(value: Any) -> Any:
    return len(value) if isinstance(value, list) else None


def _keep(value: Any) -> Any:
    return value


Rule = tuple[str, str, Transform]

RULES: Final[Mapping[str, tuple[Rule, ...]]] = {
    t.INSTANCE: (
        ("machine_type", "machineType", last_segment),
        ("status", "status", _keep),
        ("zone", "zone", last_segment),
        ("network", "networkInterfaces.0.network", last_segment),
        ("subnetwork", "networkInterfaces.0.subnetwork", last_segment),
        ("internal_ip", "networkInterfaces.0.networkIP", _keep),
        ("has_external_ip", "networkInterfaces.0.accessConfigs", lambda v: bool(v)),
        ("can_ip_forward", "canIpForward", _keep),
        ("disk_count", "disks", count),
    ),
    t.DISK: (
        ("size_gb", "sizeGb", _keep),
        ("type", "type", last_segment),
        ("status", "status", _keep),
    ),
    t.NETWORK: (
        ("auto_create_subnetworks", "autoCreateSubnetworks", _keep),
        ("routing_mode", "routingConfig.routingMode", _keep),
        ("subnetwork_count", "subnetworks", count),
        ("mtu", "mtu", _keep),
    ),
    t.SUBNETWORK: (
        ("ip_cidr_range", "ipCidrRange", _keep),
        ("secondary_ranges", "secondaryIpRanges", lambda v: [r.get("ipCidrRange") for r in v]),
        ("network", "network", last_segment),
        ("region", "region", last_segment),
        ("private_google_access", "privateIpGoogleAccess", _keep),
        ("flow_logs", "logConfig.enable", _keep),
        ("purpose", "purpose", _keep),
    ),
    t.FIREWALL: (
        ("network", "network", last_segment),
        ("direction", "direction", _keep),
        ("priority", "priority", _keep),
        ("disabled", "disabled", _keep),
        # Exports from before Compute v1's rename spell it ``sourceRange``.
        ("source_ranges", "sourceRanges|sourceRange", _keep),
        ("destination_ranges", "destinationRanges", _keep),
        ("allowed", "allowed", _keep),
        ("denied", "denied", _keep),
        ("target_tags", "targetTags", _keep),
        ("target_service_accounts", "targetServiceAccounts", _keep),
    ),
    t.FIREWALL_POLICY: (
        ("short_name", "shortName", _keep),
        ("rule_count", "rules", count),
        ("association_count", "associations", count),
    ),
    t.ROUTER: (
        ("network", "network", last_segment),
        ("region", "region", last_segment),
        ("bgp_asn", "bgp.asn", _keep),
        ("nat_count", "nats", count),
    ),
    t.CLUSTER: (
        ("status", "status", _keep),
        ("master_version", "currentMasterVersion", _keep),
        ("node_count", "currentNodeCount", _keep),
        ("node_pool_count", "nodePools", count),
        ("network", "network", last_segment),
        ("subnetwork", "subnetwork", last_segment),
        ("private_nodes", "privateClusterConfig.enablePrivateNodes", _keep),
        ("release_channel", "releaseChannel.channel", _keep),
    ),
    t.BUCKET: (
        ("location", "location", _keep),
        ("storage_class", "storageClass", _keep),
        ("uniform_access", "iamConfiguration.uniformBucketLevelAccess.enabled", _keep),
        ("public_access_prevention", "iamConfiguration.publicAccessPrevention", _keep),
        ("versioning", "versioning.enabled", _keep),
        ("retention_seconds", "retentionPolicy.retentionPeriod", _keep),
    ),
    t.SERVICE_ACCOUNT: (
        ("email", "email", _keep),
        ("disabled", "disabled", _keep),
    ),
    t.KEY_RING: (),
    t.CRYPTO_KEY: (
        ("purpose", "purpose", _keep),
        ("rotation_period", "rotationPeriod", _keep),
        ("protection_level", "versionTemplate.protectionLevel", _keep),
        ("primary_state", "primary.state", _keep),
    ),
    t.PROJECT: (
        ("project_id", "projectId", _keep),
        ("project_number", "projectNumber", _keep),
    ),
    t.FOLDER: (("parent", "parent", _keep),),
    t.ORGANIZATION: (("domain", "owner.directoryCustomerId", _keep),),
}


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path (list indexes as numbers), or None when any step is missing.
    ``a|b`` tries ``a`` first, then ``b``."""
    if "|" in path:
        for alternative in path.split("|"):
            value = dig(data, alternative)
            if value is not None:
                return value
        return None
    current = data
    for step in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
        if current is None:
            return None
    return current


def _whole_numbers(value: Any) -> Any:
    """Integral floats as ints, recursively. ``resource.data`` is a protobuf Struct in the API,
    where every number is a double: a listing says ``3.0`` where an export says ``3``, and the
    two must hash alike."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _whole_numbers(item) for key, item in value.items()}
    return value


def summarize(asset_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The compact subset for this type; fields absent from ``data`` are left out, and a
    malformed field (a transform failing on an unexpected shape) is left out too."""
    summary: dict[str, Any] = {}
    for name, path, transform in RULES.get(asset_type, ()):
        value = dig(data, path)
        if value is None:
            continue
        try:
            summarized = transform(value)
        except (AttributeError, TypeError, ValueError):
            continue
        if summarized is not None:
            summary[name] = _whole_numbers(summarized)
    return summary
