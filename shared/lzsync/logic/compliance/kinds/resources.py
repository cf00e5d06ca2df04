"""Checks for the landing zone's non-GKE constraint kinds.

Each check follows its policy-library template (``policies/templates/gcp_*.yaml``, the Rego in
``validator/``); where we read the asset differently it is said at the check and collected in
``docs/compliance.md``. Assets are CAI JSON in camelCase (``iamPolicy``, ``resource.data``);
the snake_case of Config Validator's own input (``iam_policy``) is read too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from lzsync.logic import asset_types as t
from lzsync.logic.asset_types import (
    APPENGINE_SERVICE,
    BIGQUERY_DATASET,
    DNS_MANAGED_ZONE,
    SERVICE_USAGE,
    SQL_INSTANCE,
    canonical_type,
)
from lzsync.logic.compliance import firewall, scope
from lzsync.logic.compliance.registry import ANY_ASSET_TYPE, Asset, Constraint, kind

PUBLIC_MEMBERS: Final = ("allUsers", "allAuthenticatedUsers")
# Subnets Google runs proxies in: flow logs and Private Google Access do not apply to them.
PROXY_SUBNET_PURPOSES: Final = frozenset(
    {"REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER"}
)
DEFAULT_MAX_APPENGINE_VERSIONS: Final = 2
# Cloud SQL's sslMode values that refuse unencrypted connections (successor of requireSsl).
SQL_SSL_ENFORCED_MODES: Final = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})


def _data(asset: Asset) -> Mapping[str, Any]:
    resource = asset.get("resource") or {}
    return resource.get("data") or {}


def _bindings(asset: Asset) -> Iterator[tuple[str, str]]:
    """``(role, member)`` for every member of every binding of the asset's IAM policy."""
    policy = asset.get("iamPolicy") or asset.get("iam_policy") or {}
    for binding in policy.get("bindings") or []:
        for member in binding.get("members") or []:
            yield str(binding.get("role", "")), str(member)


def _exempt(asset: Asset, constraint: Constraint, *, regex: bool = False) -> bool:
    """``parameters.exemptions``: asset names the constraint skips (exactly, or by regex)."""
    exemptions = [str(e) for e in constraint.parameters.get("exemptions") or []]
    name = str(asset.get("name", ""))
    if regex:
        return any(re.search(pattern, name) for pattern in exemptions)
    return name in exemptions


def _public_bindings(asset: Asset) -> list[tuple[str, str]]:
    return [(role, member) for role, member in _bindings(asset) if member in PUBLIC_MEMBERS]


@kind("GCPAppEngineServiceVersionsConstraintV1", [APPENGINE_SERVICE])
def appengine_service_versions(asset: Asset, constraint: Constraint) -> list[str]:
    """Too many versions serving one App Engine service (``split.allocations``)."""
    maximum = int(constraint.parameters.get("max_versions", DEFAULT_MAX_APPENGINE_VERSIONS))
    serving = len((_data(asset).get("split") or {}).get("allocations") or {})
    if serving > maximum:
        return [f"service splits traffic across {serving} versions (max {maximum})"]
    return []


@kind("GCPBigQueryDatasetWorldReadableConstraintV1", [BIGQUERY_DATASET], reads_iam=True)
def bigquery_dataset_world_readable(asset: Asset, constraint: Constraint) -> list[str]:
    """A dataset anyone can read: public members in its IAM policy or its ``access`` list (the
    template looks at the IAM policy only; CAI reports the ACL form in ``access``)."""
    if _exempt(asset, constraint):
        return []
    members = {member for _, member in _public_bindings(asset)}
    for entry in _data(asset).get("access") or []:
        for key in ("specialGroup", "iamMember"):
            if entry.get(key) in PUBLIC_MEMBERS:
                members.add(str(entry[key]))
    return [f"dataset is readable by {member}" for member in sorted(members)]


def _dns_word(value: Any) -> str:
    """``KEY_SIGNING`` (policy-library) and ``keySigning`` (Cloud DNS API) compare equal."""
    return str(value).replace("_", "").lower()


@kind("GCPDNSSECPreventRSASHA1ConstraintV1", [DNS_MANAGED_ZONE])
def dnssec_prevent_rsasha1(asset: Asset, constraint: Constraint) -> list[str]:
    """DNSSEC signing with RSASHA1, for the ``keyType`` asked (both when absent)."""
    key_type = constraint.parameters.get("keyType")
    messages = []
    for spec in (_data(asset).get("dnssecConfig") or {}).get("defaultKeySpecs") or []:
        if _dns_word(spec.get("algorithm")) != "rsasha1":
            continue
        if key_type is not None and _dns_word(spec.get("keyType")) != _dns_word(key_type):
            continue
        label = {"keysigning": "key-signing", "zonesigning": "zone-signing"}.get(
            _dns_word(spec.get("keyType")), "signing"
        )
        messages.append(f"DNSSEC {label} key uses RSASHA1")
    return messages


@kind("GCPIAMAllowedBindingsConstraintV3", [ANY_ASSET_TYPE], reads_iam=True)
def iam_allowed_bindings(asset: Asset, constraint: Constraint) -> list[str]:
    """Members granted a role matching ``role``: in ``denylist`` mode any member matching
    ``members`` is a violation, in ``allowlist`` mode (default) any member matching none."""
    params = constraint.parameters
    asset_type = canonical_type(str(asset.get("assetType") or asset.get("asset_type") or ""))
    if "assetType" in params and canonical_type(str(params["assetType"])) != asset_type:
        return []
    names = [str(n) for n in params.get("assetNames") or []]
    if names and not any(scope.matches(n, str(asset.get("name", ""))) for n in names):
        return []
    role_pattern = str(params.get("role", "**"))
    # A lone "*" means everyone (the template widens it); other member globs use OPA's
    # default "." delimiter, exactly as the template calls glob.match(pattern, [], member).
    patterns = ["**" if str(m) == "*" else str(m) for m in params.get("members") or []]
    denylist = str(params.get("mode", "allowlist")) == "denylist"
    messages = []
    for role, member in _bindings(asset):
        if not scope.matches(role_pattern, role):
            continue
        listed = any(scope.glob_match(p, member, ".") for p in patterns)
        if listed == denylist:
            messages.append(f"grants {role} to {member}")
    return messages


def _subnet_is_proxy(asset: Asset) -> bool:
    return str(_data(asset).get("purpose", "")) in PROXY_SUBNET_PURPOSES


@kind("GCPNetworkEnableFlowLogsConstraintV1", [t.SUBNETWORK])
def network_enable_flow_logs(asset: Asset, constraint: Constraint) -> list[str]:
    """VPC flow logs off: ``logConfig.enable`` (current API) or ``enableFlowLogs`` (the legacy
    field the template reads) must be true."""
    data = _data(asset)
    if _subnet_is_proxy(asset):
        return []
    if (data.get("logConfig") or {}).get("enable") is True or data.get("enableFlowLogs") is True:
        return []
    return ["subnetwork flow logs are disabled"]


@kind("GCPNetworkEnablePrivateGoogleAccessConstraintV1", [t.SUBNETWORK])
def network_enable_private_google_access(asset: Asset, constraint: Constraint) -> list[str]:
    """Private Google Access off; a missing field is off too (CAI drops false booleans)."""
    if _subnet_is_proxy(asset) or _data(asset).get("privateIpGoogleAccess") is True:
        return []
    return ["subnetwork has Private Google Access disabled"]


@kind("GCPRestrictedFirewallRulesConstraintV1", [t.FIREWALL])
def restricted_firewall_rules(asset: Asset, constraint: Constraint) -> list[str]:
    """``denylist`` (default): a firewall matching any of ``rules`` is a violation;
    ``allowlist``: a firewall matching none of them is. ``exemptions`` skips asset names
    (``exemptions_mode`` ``exact``, default, or ``regex``)."""
    params = constraint.parameters
    regex = str(params.get("exemptions_mode", "exact")) == "regex"
    if _exempt(asset, constraint, regex=regex):
        return []
    patterns = params.get("rules")
    if patterns is None:  # the template's first version put one rule's fields at the top
        patterns = [params]
    found = [
        m for p in patterns if isinstance(p, Mapping) and (m := firewall.match(_data(asset), p))
    ]
    if str(params.get("mode", "denylist")) == "allowlist":
        return [] if found else ["firewall rule matches none of the allowed rule patterns"]
    return [m.describe() for m in dict.fromkeys(found)]


@kind("GCPSQLPublicIpConstraintV1", [SQL_INSTANCE])
def sql_public_ip(asset: Asset, constraint: Constraint) -> list[str]:
    """A public IPv4 address; Cloud SQL enables one unless ``ipv4Enabled`` is false."""
    settings = _data(asset).get("settings") or {}
    if (settings.get("ipConfiguration") or {}).get("ipv4Enabled", True) is False:
        return []
    return ["Cloud SQL instance has a public IP address"]


@kind("GCPSQLSSLConstraintV1", [SQL_INSTANCE])
def sql_ssl(asset: Asset, constraint: Constraint) -> list[str]:
    """Unencrypted connections accepted: neither ``requireSsl`` (the field the template reads)
    nor an encrypted-only ``sslMode`` (its successor) is set."""
    ip_configuration = (_data(asset).get("settings") or {}).get("ipConfiguration") or {}
    if ip_configuration.get("requireSsl") is True:
        return []
    if ip_configuration.get("sslMode") in SQL_SSL_ENFORCED_MODES:
        return []
    return ["Cloud SQL instance does not require SSL"]


@kind("GCPServiceUsageConstraintV1", [SERVICE_USAGE])
def service_usage(asset: Asset, constraint: Constraint) -> list[str]:
    """An enabled API outside the allow list (``mode: allow``, default) or on the deny list
    (``mode: deny``); ``allowlist``/``denylist`` are read as the same modes."""
    data = _data(asset)
    if str(data.get("state", "")) != "ENABLED":
        return []
    service = str(data.get("name") or asset.get("name", "")).rsplit("/", 1)[-1]
    listed = service in {str(s) for s in constraint.parameters.get("services") or []}
    mode = str(constraint.parameters.get("mode", "allow")).lower()
    if mode in ("deny", "denylist"):
        return [f"service {service} is enabled but denied"] if listed else []
    return [] if listed else [f"service {service} is enabled but not allowed"]


@kind("GCPStorageBucketPolicyOnlyConstraintV1", [t.BUCKET])
def storage_bucket_policy_only(asset: Asset, constraint: Constraint) -> list[str]:
    """Uniform bucket-level access off (``uniformBucketLevelAccess``, or its former name
    ``bucketPolicyOnly`` that the template reads)."""
    iam_configuration = _data(asset).get("iamConfiguration") or {}
    for key in ("uniformBucketLevelAccess", "bucketPolicyOnly"):
        if (iam_configuration.get(key) or {}).get("enabled") is True:
            return []
    return ["bucket does not enforce uniform bucket-level access"]


@kind("GCPStorageBucketWorldReadableConstraintV1", [t.BUCKET], reads_iam=True)
def storage_bucket_world_readable(asset: Asset, constraint: Constraint) -> list[str]:
    """Public members in the bucket's IAM policy, unless the bucket is in ``exemptions``."""
    if _exempt(asset, constraint):
        return []
    return [f"bucket grants {role} to {member}" for role, member in _public_bindings(asset)]
