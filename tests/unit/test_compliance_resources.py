"""Each non-GKE constraint kind against compliant and violating assets in real CAI shapes."""

from __future__ import annotations

from typing import Any

import pytest

from lzsync.logic.compliance.engine import evaluate
from tests.unit.compliance_factories import asset, constraint

FIREWALL = "compute.googleapis.com/Firewall"
SUBNETWORK = "compute.googleapis.com/Subnetwork"
BUCKET = "storage.googleapis.com/Bucket"
FW_KIND = "GCPRestrictedFirewallRulesConstraintV1"
SSH_WORLD_OPEN = {
    "direction": "INGRESS",
    "source_ranges": ["0.0.0.0/0"],
    "port": "22",
    "protocol": "tcp",
    "enabled": "true",
    "rule_type": "allowed",
}
NETWORK = "https://www.googleapis.com/compute/v1/projects/prj-d-svpc/global/networks/vpc-d"


def messages(
    an_asset: dict[str, Any], kind: str, parameters: dict[str, Any] | None = None
) -> list[str]:
    return [v.message for v in evaluate(an_asset, [constraint(kind, parameters)]).violations]


def fw(name: str = "fw-test", **data: Any) -> dict[str, Any]:
    body = {"name": name, "network": NETWORK, "direction": "INGRESS", "priority": 1000}
    body.update(data)
    return asset(
        FIREWALL, f"//compute.googleapis.com/projects/prj-d-svpc/global/firewalls/{name}", body
    )


def fw_messages(firewall: dict[str, Any], **rule: Any) -> list[str]:
    return messages(firewall, FW_KIND, {"rules": [rule]})


# --- GCPRestrictedFirewallRulesConstraintV1 ----------------------------------------------------


def test_ssh_open_to_the_world_violates():
    open_ssh = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["22"]}])
    assert fw_messages(open_ssh, **SSH_WORLD_OPEN) == ["firewall allows tcp:22 from 0.0.0.0/0"]


def test_ssh_from_iap_only_is_compliant():
    iap = fw(sourceRanges=["35.235.240.0/20"], allowed=[{"IPProtocol": "tcp", "ports": ["22"]}])
    assert fw_messages(iap, **SSH_WORLD_OPEN) == []


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ([{"IPProtocol": "tcp", "ports": ["20-25"]}], True),  # range containing the port
        ([{"IPProtocol": "tcp"}], True),  # no ports: every port
        ([{"IPProtocol": "all"}], True),  # every protocol
        ([{"IPProtocol": "6", "ports": ["22"]}], True),  # protocol number
        ([{"IPProtocol": "tcp", "ports": ["80", "443"]}], False),
        ([{"IPProtocol": "udp", "ports": ["22"]}], False),
        ([{"IPProtocol": "icmp"}], False),
        ([{"IPProtocol": "tcp", "ports": ["23-25"]}], False),
    ],
)
def test_ssh_port_matching(allowed, expected):
    rule = fw(sourceRanges=["0.0.0.0/0"], allowed=allowed)
    assert bool(fw_messages(rule, **SSH_WORLD_OPEN)) is expected


def test_port_range_parameter_needs_a_rule_range_that_contains_it():
    wide = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["1000-2000"]}])
    assert fw_messages(wide, protocol="tcp", port="1500-1600")
    assert not fw_messages(wide, protocol="tcp", port="1500-2500")
    assert fw_messages(wide, protocol="tcp", port="1500") == [
        "firewall allows tcp:1500 from 0.0.0.0/0"
    ]


def test_port_all_means_the_whole_port_range():
    everything = fw(
        allowed=[{"IPProtocol": "tcp", "ports": ["0-65535"]}], sourceRanges=["10.0.0.0/8"]
    )
    some = fw(allowed=[{"IPProtocol": "tcp", "ports": ["1-1024"]}], sourceRanges=["10.0.0.0/8"])
    assert fw_messages(everything, port="all") == ["firewall allows tcp:all from 10.0.0.0/8"]
    assert fw_messages(some, port="all") == []


def test_the_world_open_constraint_flags_any_allowed_ingress_from_anywhere():
    world_open = {k: v for k, v in SSH_WORLD_OPEN.items() if k not in ("port", "protocol")}
    https = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["443"]}])
    assert fw_messages(https, **world_open) == ["firewall allows tcp:443 from 0.0.0.0/0"]


def test_an_ingress_rule_without_source_is_open_to_the_world():
    no_source = fw(allowed=[{"IPProtocol": "tcp", "ports": ["3389"]}])
    rdp = dict(SSH_WORLD_OPEN, port="3389")
    assert fw_messages(no_source, **rdp) == ["firewall allows tcp:3389 from 0.0.0.0/0"]
    tagged = fw(allowed=[{"IPProtocol": "tcp", "ports": ["3389"]}], sourceTags=["bastion"])
    assert fw_messages(tagged, **rdp) == []


def test_direction_must_match():
    egress = fw(
        direction="EGRESS",
        destinationRanges=["0.0.0.0/0"],
        allowed=[{"IPProtocol": "tcp", "ports": ["22"]}],
    )
    assert fw_messages(egress, **SSH_WORLD_OPEN) == []
    assert fw_messages(egress, direction="egress", target_ranges=["0.0.0.0/0"]) == [
        "firewall allows tcp:22 to 0.0.0.0/0"
    ]


def test_rule_type_denied_only_matches_deny_rules():
    deny_all = fw(
        direction="EGRESS", destinationRanges=["0.0.0.0/0"], denied=[{"IPProtocol": "all"}]
    )
    assert fw_messages(deny_all, rule_type="allowed") == []
    assert fw_messages(deny_all, rule_type="denied") == [
        "firewall denies all protocols to 0.0.0.0/0"
    ]


@pytest.mark.parametrize(
    ("disabled", "enabled", "expected"),
    [
        (None, "true", True),
        (False, True, True),
        (True, "true", False),
        (True, "false", True),
        (False, False, False),
        (True, "any", True),
    ],
)
def test_enabled_parameter_against_disabled_field(disabled, enabled, expected):
    data: dict[str, Any] = {"sourceRanges": ["0.0.0.0/0"], "allowed": [{"IPProtocol": "tcp"}]}
    if disabled is not None:
        data["disabled"] = disabled
    assert bool(fw_messages(fw(**data), enabled=enabled)) is expected


def test_tags_and_service_accounts_match_by_regex():
    rule = fw(
        sourceRanges=["0.0.0.0/0"],
        allowed=[{"IPProtocol": "tcp", "ports": ["22"]}],
        targetTags=["web-frontend"],
        targetServiceAccounts=["sa-app@prj.iam.gserviceaccount.com"],
    )
    assert fw_messages(rule, target_tags=["^web-"])
    assert not fw_messages(rule, target_tags=["^db-"])
    assert fw_messages(rule, target_service_accounts=["@prj\\.iam"])
    assert fw_messages(rule, target_tags=["*"])
    assert not fw_messages(rule, source_tags=["*"])
    assert not fw_messages(rule, source_service_accounts=["any-sa"])


def test_source_ranges_star_only_needs_some_range():
    rule = fw(sourceRanges=["10.0.0.0/8"], allowed=[{"IPProtocol": "tcp"}])
    assert fw_messages(rule, source_ranges=["*"]) == [
        "firewall allows tcp (all ports) from 10.0.0.0/8"
    ]


def test_source_ranges_match_exactly_not_by_cidr_containment():
    rule = fw(sourceRanges=["0.0.0.0/1", "128.0.0.0/1"], allowed=[{"IPProtocol": "tcp"}])
    assert fw_messages(rule, source_ranges=["0.0.0.0/0"]) == []


def test_several_patterns_each_report_what_they_found():
    rule = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["22", "3389"]}])
    params = {"rules": [SSH_WORLD_OPEN, dict(SSH_WORLD_OPEN, port="3389")]}
    assert messages(rule, FW_KIND, params) == [
        "firewall allows tcp:22 from 0.0.0.0/0",
        "firewall allows tcp:3389 from 0.0.0.0/0",
    ]


def test_allowlist_mode_flags_firewalls_matching_no_pattern():
    iap = {"source_ranges": ["35.235.240.0/20"], "protocol": "tcp", "port": "22"}
    params = {"mode": "allowlist", "rules": [iap]}
    inside = fw(sourceRanges=["35.235.240.0/20"], allowed=[{"IPProtocol": "tcp", "ports": ["22"]}])
    outside = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["22"]}])
    assert messages(inside, FW_KIND, params) == []
    assert messages(outside, FW_KIND, params) == [
        "firewall rule matches none of the allowed rule patterns"
    ]


def test_exemptions_skip_named_firewalls_exactly_or_by_regex():
    rule = fw("fw-legacy-open", sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "all"}])
    exact = {"rules": [{}], "exemptions": [rule["name"]]}
    regex = {"rules": [{}], "exemptions": ["fw-legacy-"], "exemptions_mode": "regex"}
    assert messages(rule, FW_KIND, exact) == []
    assert messages(rule, FW_KIND, regex) == []
    assert messages(rule, FW_KIND, {"rules": [{}], "exemptions": ["fw-legacy-"]})


def test_legacy_top_level_parameters_are_one_pattern():
    rule = fw(sourceRanges=["0.0.0.0/0"], allowed=[{"IPProtocol": "tcp", "ports": ["22"]}])
    assert messages(rule, FW_KIND, SSH_WORLD_OPEN) == ["firewall allows tcp:22 from 0.0.0.0/0"]


# --- subnetworks -------------------------------------------------------------------------------


def subnet(**data: Any) -> dict[str, Any]:
    body = {
        "name": "sb-d-1",
        "ipCidrRange": "10.0.0.0/18",
        "network": NETWORK,
        "region": "europe-west1",
    }
    body.update(data)
    return asset(
        SUBNETWORK,
        "//compute.googleapis.com/projects/prj-d-svpc/regions/europe-west1/subnetworks/sb-d-1",
        body,
    )


@pytest.mark.parametrize(
    ("data", "violates"),
    [
        ({"logConfig": {"enable": True}}, False),
        ({"enableFlowLogs": True}, False),
        ({"logConfig": {"enable": False}}, True),
        ({}, True),
        ({"purpose": "REGIONAL_MANAGED_PROXY"}, False),
    ],
)
def test_flow_logs(data, violates):
    found = messages(subnet(**data), "GCPNetworkEnableFlowLogsConstraintV1")
    assert found == (["subnetwork flow logs are disabled"] if violates else [])


@pytest.mark.parametrize(
    ("data", "violates"),
    [
        ({"privateIpGoogleAccess": True}, False),
        ({"privateIpGoogleAccess": False}, True),
        ({}, True),
        ({"purpose": "GLOBAL_MANAGED_PROXY"}, False),
    ],
)
def test_private_google_access(data, violates):
    found = messages(subnet(**data), "GCPNetworkEnablePrivateGoogleAccessConstraintV1")
    assert found == (["subnetwork has Private Google Access disabled"] if violates else [])


# --- buckets -----------------------------------------------------------------------------------


def bucket(
    iam: list[tuple[str, list[str]]] | None = None, **iam_configuration: Any
) -> dict[str, Any]:
    data = {"name": "bkt-logs", "location": "EU", "iamConfiguration": iam_configuration}
    return asset(BUCKET, "//storage.googleapis.com/bkt-logs", data, iam=iam)


@pytest.mark.parametrize(
    ("iam_configuration", "violates"),
    [
        ({"uniformBucketLevelAccess": {"enabled": True}}, False),
        ({"bucketPolicyOnly": {"enabled": True}}, False),
        ({"uniformBucketLevelAccess": {"enabled": False}}, True),
        ({}, True),
    ],
)
def test_bucket_policy_only(iam_configuration, violates):
    found = messages(bucket(**iam_configuration), "GCPStorageBucketPolicyOnlyConstraintV1")
    assert found == (["bucket does not enforce uniform bucket-level access"] if violates else [])


def test_world_readable_bucket_violates_unless_exempt():
    kind = "GCPStorageBucketWorldReadableConstraintV1"
    public = bucket([("roles/storage.objectViewer", ["allUsers", "group:ops@example.com"])])
    private = bucket([("roles/storage.objectViewer", ["group:ops@example.com"])])
    assert messages(public, kind) == ["bucket grants roles/storage.objectViewer to allUsers"]
    assert messages(private, kind) == []
    assert messages(bucket(), kind) == []
    assert messages(public, kind, {"exemptions": ["//storage.googleapis.com/bkt-logs"]}) == []


# --- IAM bindings ------------------------------------------------------------------------------

DENY_PUBLIC = {
    "mode": "denylist",
    "role": "roles/*",
    "members": ["allUsers", "allAuthenticatedUsers"],
}
IAM_KIND = "GCPIAMAllowedBindingsConstraintV3"


def test_iam_denylist_flags_public_members_of_any_role():
    public = bucket(
        [
            ("roles/storage.objectViewer", ["allAuthenticatedUsers"]),
            ("roles/storage.admin", ["user:ana@example.com"]),
        ]
    )
    assert messages(public, IAM_KIND, DENY_PUBLIC) == [
        "grants roles/storage.objectViewer to allAuthenticatedUsers"
    ]
    assert (
        messages(bucket([("roles/storage.admin", ["user:ana@example.com"])]), IAM_KIND, DENY_PUBLIC)
        == []
    )


def test_iam_role_glob_does_not_cross_slashes():
    custom = bucket([("projects/prj/roles/custom", ["allUsers"])])
    assert messages(custom, IAM_KIND, DENY_PUBLIC) == []


def test_iam_allowlist_flags_members_outside_the_list():
    params = {"mode": "allowlist", "role": "roles/owner", "members": ["group:*@example.com"]}
    granted = bucket(
        [
            ("roles/owner", ["group:admins@example.com", "user:ext@gmail.com"]),
            ("roles/viewer", ["user:x@y.z"]),
        ]
    )
    assert messages(granted, IAM_KIND, params) == ["grants roles/owner to user:ext@gmail.com"]


def test_iam_asset_type_and_names_narrow_the_check():
    public = bucket([("roles/storage.objectViewer", ["allUsers"])])
    assert (
        messages(public, IAM_KIND, dict(DENY_PUBLIC, assetType="bigquery.googleapis.com/Dataset"))
        == []
    )
    assert messages(public, IAM_KIND, dict(DENY_PUBLIC, assetType=BUCKET))
    assert (
        messages(public, IAM_KIND, dict(DENY_PUBLIC, assetNames=["//storage.googleapis.com/other"]))
        == []
    )
    assert messages(public, IAM_KIND, dict(DENY_PUBLIC, assetNames=["//storage.googleapis.com/*"]))


def test_iam_star_member_means_everyone():
    anyone = bucket([("roles/viewer", ["user:a.b@example.com"])])
    assert messages(
        anyone, IAM_KIND, {"mode": "denylist", "role": "roles/viewer", "members": ["*"]}
    )


# --- Cloud SQL ---------------------------------------------------------------------------------


def sql(ip_configuration: dict[str, Any] | None) -> dict[str, Any]:
    settings: dict[str, Any] = {"tier": "db-custom-2-7680"}
    if ip_configuration is not None:
        settings["ipConfiguration"] = ip_configuration
    data = {"name": "sql-app", "databaseVersion": "POSTGRES_16", "settings": settings}
    return asset(
        "sqladmin.googleapis.com/Instance",
        "//cloudsql.googleapis.com/projects/prj/instances/sql-app",
        data,
    )


@pytest.mark.parametrize(
    ("ip_configuration", "violates"),
    [
        ({"ipv4Enabled": False, "privateNetwork": NETWORK}, False),
        ({"ipv4Enabled": True}, True),
        ({}, True),
        (None, True),
    ],
)
def test_sql_public_ip(ip_configuration, violates):
    found = messages(sql(ip_configuration), "GCPSQLPublicIpConstraintV1")
    assert found == (["Cloud SQL instance has a public IP address"] if violates else [])


@pytest.mark.parametrize(
    ("ip_configuration", "violates"),
    [
        ({"requireSsl": True}, False),
        ({"sslMode": "ENCRYPTED_ONLY"}, False),
        ({"sslMode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"}, False),
        ({"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}, True),
        ({"requireSsl": False}, True),
        (None, True),
    ],
)
def test_sql_ssl(ip_configuration, violates):
    found = messages(sql(ip_configuration), "GCPSQLSSLConstraintV1")
    assert found == (["Cloud SQL instance does not require SSL"] if violates else [])


# --- BigQuery, DNS, App Engine, Service Usage -------------------------------------------------


def dataset(
    access: list[dict[str, str]], iam: list[tuple[str, list[str]]] | None = None
) -> dict[str, Any]:
    data = {"datasetReference": {"projectId": "prj", "datasetId": "billing"}, "access": access}
    return asset(
        "bigquery.googleapis.com/Dataset",
        "//bigquery.googleapis.com/projects/prj/datasets/billing",
        data,
        iam=iam,
    )


def test_bigquery_dataset_world_readable():
    kind = "GCPBigQueryDatasetWorldReadableConstraintV1"
    owners = [{"role": "OWNER", "specialGroup": "projectOwners"}]
    assert messages(dataset(owners), kind) == []
    assert messages(
        dataset([*owners, {"role": "READER", "specialGroup": "allAuthenticatedUsers"}]), kind
    ) == ["dataset is readable by allAuthenticatedUsers"]
    assert messages(dataset(owners, iam=[("roles/bigquery.dataViewer", ["allUsers"])]), kind) == [
        "dataset is readable by allUsers"
    ]
    exempt = {"exemptions": ["//bigquery.googleapis.com/projects/prj/datasets/billing"]}
    assert messages(dataset([{"role": "READER", "iamMember": "allUsers"}]), kind, exempt) == []


def zone(*specs: tuple[str, str]) -> dict[str, Any]:
    data = {
        "name": "public-zone",
        "dnsName": "example.com.",
        "dnssecConfig": {
            "state": "on",
            "defaultKeySpecs": [
                {"algorithm": a, "keyType": k, "keyLength": 2048} for a, k in specs
            ],
        },
    }
    return asset(
        "dns.googleapis.com/ManagedZone",
        "//dns.googleapis.com/projects/prj/managedZones/public-zone",
        data,
    )


def test_dnssec_rsasha1_by_key_type():
    kind = "GCPDNSSECPreventRSASHA1ConstraintV1"
    weak_ksk = zone(("rsasha1", "keySigning"), ("rsasha256", "zoneSigning"))
    assert messages(weak_ksk, kind, {"keyType": "KEY_SIGNING"}) == [
        "DNSSEC key-signing key uses RSASHA1"
    ]
    assert messages(weak_ksk, kind, {"keyType": "ZONE_SIGNING"}) == []
    assert messages(zone(("RSASHA1", "ZONE_SIGNING")), kind, {"keyType": "ZONE_SIGNING"}) == [
        "DNSSEC zone-signing key uses RSASHA1"
    ]
    assert len(messages(zone(("rsasha1", "keySigning"), ("rsasha1", "zoneSigning")), kind)) == 2
    assert messages(zone(("ecdsap256sha256", "keySigning")), kind) == []


def appengine_service(*versions: str) -> dict[str, Any]:
    share = 1 / max(len(versions), 1)
    data = {
        "name": "apps/app/services/default",
        "id": "default",
        "split": {"allocations": dict.fromkeys(versions, share)},
    }
    return asset(
        "appengine.googleapis.com/Service",
        "//appengine.googleapis.com/apps/app/services/default",
        data,
    )


def test_appengine_versions_beyond_the_maximum():
    kind = "GCPAppEngineServiceVersionsConstraintV1"
    assert messages(appengine_service("v1", "v2"), kind) == []
    assert messages(appengine_service("v1", "v2", "v3"), kind) == [
        "service splits traffic across 3 versions (max 2)"
    ]
    assert messages(appengine_service("v1", "v2"), kind, {"max_versions": 1}) == [
        "service splits traffic across 2 versions (max 1)"
    ]


def service(name: str, state: str = "ENABLED") -> dict[str, Any]:
    data = {
        "name": f"projects/123/services/{name}",
        "parent": "projects/123",
        "state": state,
        "config": {"name": name},
    }
    return asset(
        "serviceusage.googleapis.com/Service",
        f"//serviceusage.googleapis.com/projects/123/services/{name}",
        data,
    )


def test_service_usage_allow_mode():
    kind = "GCPServiceUsageConstraintV1"
    allow = {"mode": "allow", "services": ["compute.googleapis.com"]}
    assert messages(service("compute.googleapis.com"), kind, allow) == []
    assert messages(service("vision.googleapis.com"), kind, allow) == [
        "service vision.googleapis.com is enabled but not allowed"
    ]
    assert messages(service("vision.googleapis.com", "DISABLED"), kind, allow) == []
    assert messages(service("vision.googleapis.com"), kind, {"services": []}) != []


@pytest.mark.parametrize("mode", ["deny", "denylist"])
def test_service_usage_deny_mode(mode):
    kind = "GCPServiceUsageConstraintV1"
    deny = {"mode": mode, "services": ["vision.googleapis.com"]}
    assert messages(service("vision.googleapis.com"), kind, deny) == [
        "service vision.googleapis.com is enabled but denied"
    ]
    assert messages(service("compute.googleapis.com"), kind, deny) == []
