"""The simulator's compliance estate: hardened assets, and known defects injected on request.

A landing zone worth testing compliance on holds both kinds of asset: the hardened ones its
foundation deploys and the drift teams add later. With ``Simulator(defect_share=...)`` every
asset starts from the hardened shape below (what the landing zone's constraints ask for), and
a deterministic share of them carries exactly one named defect from :data:`DEFECTS`.

Defects are named by what is wrong with the asset (``bucket_public``), never by the constraint
expected to catch it: which constraints should fire is the tests' oracle to state, so the
engine is checked against an independent expectation rather than against itself.

One hardened trait is deliberately not compliant with the fixture: GKE 1.24+ only offers
``COS_CONTAINERD`` node images, which the landing zone's ``gke_container_optimized_os``
constraint (empty parameters, template default) refuses. Real clusters look like this, so the
simulated ones do too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from lzsync.logic import asset_types as t
from lzsync.logic.asset_types import (
    APPENGINE_SERVICE,
    BIGQUERY_DATASET,
    DNS_MANAGED_ZONE,
    SERVICE_USAGE,
    SQL_INSTANCE,
)

# The workload slots the compliance estate adds to each workload project, after the classic
# ones: the types the remaining constraint kinds judge, and a firewall rule and a subnet each
# project asks the shared-VPC host for.
COMPLIANCE_SLOTS: Final[tuple[str, ...]] = (
    SQL_INSTANCE,
    BIGQUERY_DATASET,
    DNS_MANAGED_ZONE,
    APPENGINE_SERVICE,
    SERVICE_USAGE,
    SERVICE_USAGE,
    SERVICE_USAGE,
    t.FIREWALL,
    t.SUBNETWORK,
)
# The APIs each workload project shows, in its SERVICE_USAGE slots. The last is not on the
# landing zone's allowed list: it is present but disabled unless the ``api_enabled`` defect
# turns it on.
PROJECT_SERVICES: Final = ("compute.googleapis.com", "storage.googleapis.com", "ml.googleapis.com")
PLATFORM_GROUP: Final = "group:gcp-platform-admins@example.com"
NODE_SCOPES: Final = (
    "https://www.googleapis.com/auth/devstorage.read_only",
    "https://www.googleapis.com/auth/logging.write",
    "https://www.googleapis.com/auth/monitoring",
)
CORPORATE_RANGE: Final = "35.187.118.0/24"
_CLOUD_SQL_NAME: Final = "//cloudsql.googleapis.com"


@dataclass(frozen=True)
class Placement:
    """Where a workload asset lives: its project, the environment's shared-VPC host, region."""

    project_id: str
    project_number: int
    host_project_id: str
    code: str
    region: str
    ordinal: int


Mutation = Callable[[dict[str, Any]], None]


def _data(asset: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = asset["resource"]["data"]
    return data


def _policy(*bindings: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "version": 1,
        "etag": "BwYsim0=",
        "bindings": [{"role": role, "members": members} for role, members in bindings],
    }


def _add_binding(asset: dict[str, Any], role: str, member: str) -> None:
    policy = asset.setdefault("iamPolicy", _policy())
    policy["bindings"].append({"role": role, "members": [member]})


def _pool(asset: dict[str, Any]) -> dict[str, Any]:
    pool: dict[str, Any] = _data(asset)["nodePools"][0]
    return pool


# --- defects ---------------------------------------------------------------------------------
def _firewall_open(port: str | None) -> Mutation:
    def mutate(asset: dict[str, Any]) -> None:
        data = _data(asset)
        data["sourceRanges"] = ["0.0.0.0/0"]
        data["allowed"] = [{"IPProtocol": "tcp", **({"ports": [port]} if port else {})}]

    return mutate


def _cluster_dashboard(asset: dict[str, Any]) -> None:
    _data(asset).setdefault("addonsConfig", {})["kubernetesDashboard"] = {"disabled": False}


def _cluster_routes_based(asset: dict[str, Any]) -> None:
    _data(asset)["ipAllocationPolicy"] = {"useIpAliases": False}


def _cluster_open_master(asset: dict[str, Any]) -> None:
    blocks = _data(asset)["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    blocks.append({"displayName": "anywhere", "cidrBlock": "0.0.0.0/0"})


def _cluster_no_network_policy(asset: dict[str, Any]) -> None:
    _data(asset)["networkConfig"]["datapathProvider"] = "LEGACY_DATAPATH"


def _dns_rsasha1(key_type: str) -> Mutation:
    def mutate(asset: dict[str, Any]) -> None:
        for spec in _data(asset)["dnssecConfig"]["defaultKeySpecs"]:
            if spec["keyType"] == key_type:
                spec["algorithm"] = "rsasha1"

    return mutate


def _sql_no_ssl(asset: dict[str, Any]) -> None:
    ip_configuration = _data(asset)["settings"]["ipConfiguration"]
    ip_configuration["sslMode"] = "ALLOW_UNENCRYPTED_AND_ENCRYPTED"
    ip_configuration.pop("requireSsl", None)


def _subnet_no_private_access(asset: dict[str, Any]) -> None:
    # CAI drops false booleans: an API-side `false` arrives as a missing field.
    _data(asset).pop("privateIpGoogleAccess", None)


_MUTATIONS: Final[dict[str, Mutation]] = {
    "bucket_public": lambda a: _add_binding(a, "roles/storage.objectViewer", "allUsers"),
    "bucket_fine_grained_acl": lambda a: _data(a)["iamConfiguration"].update(
        uniformBucketLevelAccess={"enabled": False}
    ),
    "project_viewer_to_everyone": lambda a: _add_binding(
        a, "roles/viewer", "allAuthenticatedUsers"
    ),
    "service_account_public_token_creator": lambda a: _add_binding(
        a, "roles/iam.serviceAccountTokenCreator", "allUsers"
    ),
    "cluster_public_nodes": lambda a: _data(a)["privateClusterConfig"].update(
        enablePrivateNodes=False
    ),
    "cluster_default_service_account": lambda a: _pool(a)["config"].update(
        serviceAccount="default"
    ),
    "cluster_legacy_metadata": lambda a: _pool(a)["config"]["metadata"].update(
        {"disable-legacy-endpoints": "false"}
    ),
    "cluster_no_auto_repair": lambda a: _pool(a)["management"].update(autoRepair=False),
    "cluster_no_auto_upgrade": lambda a: _pool(a)["management"].update(autoUpgrade=False),
    "cluster_dashboard": _cluster_dashboard,
    "cluster_legacy_abac": lambda a: _data(a).update(legacyAbac={"enabled": True}),
    "cluster_routes_based": _cluster_routes_based,
    "cluster_master_open": _cluster_open_master,
    "cluster_client_certificate": lambda a: _data(a)["masterAuth"].update(
        clientCertificateConfig={"issueClientCertificate": True}
    ),
    "cluster_no_network_policy": _cluster_no_network_policy,
    "cluster_wide_scopes": lambda a: _pool(a)["config"]["oauthScopes"].append(
        "https://www.googleapis.com/auth/cloud-platform"
    ),
    "sql_public_ip": lambda a: _data(a)["settings"]["ipConfiguration"].update(ipv4Enabled=True),
    "sql_no_ssl": _sql_no_ssl,
    "dataset_public": lambda a: _data(a)["access"].append(
        {"role": "READER", "specialGroup": "allAuthenticatedUsers"}
    ),
    "dns_rsasha1_key_signing": _dns_rsasha1("keySigning"),
    "dns_rsasha1_zone_signing": _dns_rsasha1("zoneSigning"),
    "appengine_many_versions": lambda a: _data(a)["split"].update(
        allocations={"v3": 0.5, "v2": 0.3, "v1": 0.2}
    ),
    "api_enabled": lambda a: _data(a).update(state="ENABLED"),
    "firewall_ssh_world": _firewall_open("22"),
    "firewall_rdp_world": _firewall_open("3389"),
    "firewall_all_tcp_world": _firewall_open(None),
    "subnet_no_flow_logs": lambda a: _data(a).update(logConfig={"enable": False}),
    "subnet_no_private_access": _subnet_no_private_access,
}

# The defects each asset type can carry (instances and disks carry none: no constraint of the
# landing zone reads them).
DEFECTS: Final[dict[str, tuple[str, ...]]] = {
    t.BUCKET: ("bucket_public", "bucket_fine_grained_acl"),
    t.PROJECT: ("project_viewer_to_everyone",),
    t.SERVICE_ACCOUNT: ("service_account_public_token_creator",),
    t.CLUSTER: tuple(name for name in _MUTATIONS if name.startswith("cluster_")),
    SQL_INSTANCE: ("sql_public_ip", "sql_no_ssl"),
    BIGQUERY_DATASET: ("dataset_public",),
    DNS_MANAGED_ZONE: ("dns_rsasha1_key_signing", "dns_rsasha1_zone_signing"),
    APPENGINE_SERVICE: ("appengine_many_versions",),
    SERVICE_USAGE: ("api_enabled",),
    t.FIREWALL: ("firewall_ssh_world", "firewall_rdp_world", "firewall_all_tcp_world"),
    t.SUBNETWORK: ("subnet_no_flow_logs", "subnet_no_private_access"),
}


def defects_for(asset_type: str, ordinal: int) -> tuple[str, ...]:
    """The defects the ``ordinal``-th workload asset of this type can carry. Of a project's
    services only the one off the allowed list can: enabling an allowed API is no defect."""
    if asset_type == SERVICE_USAGE and PROJECT_SERVICES[ordinal] != PROJECT_SERVICES[-1]:
        return ()
    return DEFECTS.get(asset_type, ())


def apply_defect(asset: dict[str, Any], defect: str) -> None:
    _MUTATIONS[defect](asset)


def with_defect(asset: dict[str, Any], defect: str) -> dict[str, Any]:
    """A copy of ``asset`` carrying ``defect``."""
    result = copy.deepcopy(asset)
    apply_defect(result, defect)
    return result


# --- hardened shapes of the classic types ------------------------------------------------------
def harden(asset: dict[str, Any], place: Placement) -> None:
    """Bring a classic workload asset to the shape the landing zone's constraints ask for."""
    asset_type = asset["assetType"]
    if asset_type == t.PROJECT:
        asset["iamPolicy"] = _policy(
            ("roles/owner", [PLATFORM_GROUP]),
            ("roles/viewer", [f"group:{place.project_id}-developers@example.com"]),
        )
    elif asset_type == t.BUCKET:
        asset["iamPolicy"] = _policy(("roles/storage.admin", [PLATFORM_GROUP]))
    elif asset_type == t.CLUSTER:
        _harden_cluster(_data(asset), place)


def _harden_cluster(data: dict[str, Any], place: Placement) -> None:
    node_account = f"sa-gke-nodes@{place.project_id}.iam.gserviceaccount.com"
    data["nodePools"] = [
        {
            "name": "default",
            "config": {
                "machineType": "e2-standard-4",
                "imageType": "COS_CONTAINERD",
                "serviceAccount": node_account,
                "oauthScopes": list(NODE_SCOPES),
                "metadata": {"disable-legacy-endpoints": "true"},
                "shieldedInstanceConfig": {"enableSecureBoot": True},
            },
            "management": {"autoRepair": True, "autoUpgrade": True},
            "status": "RUNNING",
        }
    ]
    data["privateClusterConfig"] = {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": False,
        "masterIpv4CidrBlock": f"172.16.{place.project_number % 250}.0/28",
    }
    data["masterAuthorizedNetworksConfig"] = {
        "enabled": True,
        "cidrBlocks": [{"displayName": "corporate", "cidrBlock": CORPORATE_RANGE}],
    }
    data["masterAuth"] = {"clientCertificateConfig": {}}
    data["ipAllocationPolicy"] = {
        "useIpAliases": True,
        "clusterSecondaryRangeName": "pods",
    }
    data["networkConfig"] = {"datapathProvider": "ADVANCED_DATAPATH"}
    data["legacyAbac"] = {}
    data["addonsConfig"] = {"httpLoadBalancing": {}, "horizontalPodAutoscaling": {}}


# --- the types only the compliance estate has ------------------------------------------------
def compliance_shape(asset_type: str, place: Placement) -> tuple[str, dict[str, Any], str]:
    """``(name, resource.data, location)`` of a hardened asset in a compliance slot."""
    pid, number, code = place.project_id, place.project_number, place.code
    # prj-d-bu1-app1-1a2b → bu1-app1: unique within an environment's shared-VPC host.
    app = "-".join(pid.split("-")[2:4])
    if asset_type == SQL_INSTANCE:
        name = f"sql-{code}-{app}"
        return (
            f"{_CLOUD_SQL_NAME}/projects/{pid}/instances/{name}",
            {
                "name": name,
                "project": pid,
                "databaseVersion": "POSTGRES_15",
                "region": place.region,
                "state": "RUNNABLE",
                "settings": {
                    "tier": "db-custom-2-7680",
                    "availabilityType": "REGIONAL" if code == "p" else "ZONAL",
                    "ipConfiguration": {
                        "ipv4Enabled": False,
                        "privateNetwork": f"projects/{place.host_project_id}/global/networks/"
                        f"vpc-{code}-svpc",
                        "requireSsl": True,
                        "sslMode": "ENCRYPTED_ONLY",
                    },
                    "backupConfiguration": {"enabled": True},
                },
            },
            place.region,
        )
    if asset_type == BIGQUERY_DATASET:
        dataset = f"ds_{app.replace('-', '_')}_{code}"
        return (
            f"//bigquery.googleapis.com/projects/{pid}/datasets/{dataset}",
            {
                "datasetReference": {"projectId": pid, "datasetId": dataset},
                "location": "EU",
                "access": [
                    {"role": "OWNER", "specialGroup": "projectOwners"},
                    {"role": "READER", "groupByEmail": f"{pid}-analysts@example.com"},
                ],
            },
            "eu",
        )
    if asset_type == DNS_MANAGED_ZONE:
        zone = f"{app}-{code}-example-com"
        return (
            f"//dns.googleapis.com/projects/{pid}/managedZones/{zone}",
            {
                "name": zone,
                "dnsName": f"{app}.{code}.example.com.",
                "visibility": "public",
                "dnssecConfig": {
                    "state": "on",
                    "defaultKeySpecs": [
                        {"keyType": "keySigning", "algorithm": "rsasha256", "keyLength": 2048},
                        {"keyType": "zoneSigning", "algorithm": "rsasha256", "keyLength": 1024},
                    ],
                },
            },
            "global",
        )
    if asset_type == APPENGINE_SERVICE:
        return (
            f"//appengine.googleapis.com/apps/{pid}/services/default",
            {
                "name": f"apps/{pid}/services/default",
                "id": "default",
                "split": {"allocations": {"v1": 1}},
            },
            place.region,
        )
    if asset_type == SERVICE_USAGE:
        service = PROJECT_SERVICES[place.ordinal]
        allowed = service != PROJECT_SERVICES[-1]
        return (
            f"//serviceusage.googleapis.com/projects/{number}/services/{service}",
            {
                "name": f"projects/{number}/services/{service}",
                "parent": f"projects/{number}",
                "state": "ENABLED" if allowed else "DISABLED",
                "config": {"name": service},
            },
            "global",
        )
    if asset_type == t.FIREWALL:
        name = f"fw-{code}-{app}-allow-internal-web"
        return (
            f"//compute.googleapis.com/projects/{place.host_project_id}/global/firewalls/{name}",
            {
                "name": name,
                "network": f"projects/{place.host_project_id}/global/networks/vpc-{code}-svpc",
                "direction": "INGRESS",
                "priority": 1000,
                "disabled": False,
                "sourceRanges": ["10.0.0.0/8"],
                "targetTags": [app],
                "allowed": [{"IPProtocol": "tcp", "ports": ["80", "443"]}],
            },
            "global",
        )
    if asset_type == t.SUBNETWORK:
        name = f"sb-{code}-{app}-{place.region}"
        host = place.host_project_id
        return (
            f"//compute.googleapis.com/projects/{host}/regions/{place.region}/subnetworks/{name}",
            {
                "name": name,
                "ipCidrRange": f"10.{128 + number % 100}.{number // 100 % 250}.0/24",
                "network": f"projects/{host}/global/networks/vpc-{code}-svpc",
                "region": place.region,
                "privateIpGoogleAccess": True,
                "purpose": "PRIVATE",
                "logConfig": {"enable": True, "aggregationInterval": "INTERVAL_5_SEC"},
            },
            place.region,
        )
    raise ValueError(f"no compliance shape for {asset_type}")


DEFECTS_BY_NAME: Final = frozenset(_MUTATIONS)
