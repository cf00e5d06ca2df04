"""The compliance engine's core: reading constraints, matching scopes, applying checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from lzsync.devtools import landing_zone
from lzsync.logic.compliance import engine, registry, scope
from lzsync.logic.compliance.constraints import (
    InvalidConstraint,
    is_constraint_path,
    parse_constraint,
)
from lzsync.logic.compliance.engine import evaluate, unsupported
from lzsync.logic.compliance.registry import Constraint, Scope, registered
from tests.unit.compliance_factories import FOLDER, ORG, PROJECT, asset, constraint

CONSTRAINTS_DIR = "policy-library/policies/constraints/"
BUCKET = "storage.googleapis.com/Bucket"
BUCKET_NAME = "//storage.googleapis.com/bkt-logs"
POLICY_ONLY = "GCPStorageBucketPolicyOnlyConstraintV1"


def _bucket(*, uniform: bool, ancestors: list[str] | None = None, legacy: bool = False) -> dict:
    data = {
        "name": "bkt-logs",
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": uniform}},
    }
    result = asset(BUCKET, BUCKET_NAME, data, ancestors=ancestors)
    if legacy:
        result["assetType"] = "google.cloud.storage.Bucket"
    return result


def _yaml(match: str = "", spec_extra: str = "") -> str:
    return (
        "apiVersion: constraints.gatekeeper.sh/v1alpha1\n"
        "kind: GCPStorageBucketPolicyOnlyConstraintV1\n"
        "metadata:\n  name: require_bucket_policy_only\n"
        f"spec:\n{spec_extra}{match}  parameters: {{}}\n"
    )


# --- the fixture's constraints ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_constraints(landing_zone_source: Path) -> dict[str, Constraint]:
    paths = landing_zone.git(
        landing_zone_source, "ls-tree", "--name-only", landing_zone.BRANCH, CONSTRAINTS_DIR
    ).split()
    return {
        path: parse_constraint(
            landing_zone.git(landing_zone_source, "show", f"{landing_zone.BRANCH}:{path}"), path
        )
        for path in paths
    }


def test_every_constraint_of_the_landing_zone_is_read(fixture_constraints):
    assert len(fixture_constraints) == 28
    kinds = {c.kind for c in fixture_constraints.values()}
    assert len(kinds) == 25
    assert all(c.source == path for path, c in fixture_constraints.items())
    assert all(c.severity in {"high", "medium"} for c in fixture_constraints.values())


def test_fixture_constraint_fields_are_read_as_written(fixture_constraints):
    ssh = fixture_constraints[CONSTRAINTS_DIR + "restrict_fw_rules_ssh_world_open.yaml"]
    assert ssh.name == "restrict-firewall-rule-ssh-world-open"
    assert ssh.kind == "GCPRestrictedFirewallRulesConstraintV1"
    assert ssh.severity == "high"
    assert ssh.parameters["rules"][0]["port"] == "22"
    assert ssh.scope == Scope(("organizations/**",), ())


def test_fixture_constraint_without_severity_gets_medium(fixture_constraints):
    versions = fixture_constraints[CONSTRAINTS_DIR + "appengine_versions.yaml"]
    assert versions.severity == "medium"


def test_fixture_target_nested_under_gcp_is_read(fixture_constraints):
    flow_logs = fixture_constraints[CONSTRAINTS_DIR + "network_enable_flow_logs.yaml"]
    assert flow_logs.scope.include == ("organizations/**",)


def test_fixture_constraint_without_match_applies_everywhere(fixture_constraints):
    sql_ssl = fixture_constraints[CONSTRAINTS_DIR + "sql_ssl.yaml"]
    assert sql_ssl.scope == Scope(("**",), ())


def test_every_kind_of_the_fixture_has_a_check(fixture_constraints):
    assert unsupported(list(fixture_constraints.values())) == []


# --- parsing -----------------------------------------------------------------------------------


def test_current_match_keys_are_includes_and_excludes():
    match = (
        "  match:\n    ancestries: ['organizations/5/**']\n"
        "    excludedAncestries: ['**/projects/123']\n"
    )
    parsed = parse_constraint(_yaml(match), "p.yaml")
    assert parsed.scope == Scope(("organizations/5/**",), ("**/projects/123",))


def test_legacy_match_keys_are_includes_and_excludes():
    match = "  match:\n    target: ['organizations/**']\n    exclude: ['**/folders/4/**']\n"
    assert parse_constraint(_yaml(match)).scope == Scope(
        ("organizations/**",), ("**/folders/4/**",)
    )


def test_severity_is_read_and_lowercased():
    assert parse_constraint(_yaml(spec_extra="  severity: HIGH\n")).severity == "high"


def test_comment_setters_are_ignored():
    setter = '# {"$ref":"#/definitions/io.k8s.cli.setters.target"}'
    match = f"  match:\n    target: {setter}\n    - organizations/**\n"
    assert parse_constraint(_yaml(match)).scope.include == ("organizations/**",)


def test_empty_target_list_matches_nothing():
    parsed = parse_constraint(_yaml("  match:\n    target: []\n"))
    assert not scope.in_scope(parsed.scope, f"{ORG}/{PROJECT}")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("kind: a: b\n", "not valid YAML (line 1"),
        ("- a list\n", "not a mapping"),
        (
            "apiVersion: templates.gatekeeper.sh/v1alpha1\nkind: ConstraintTemplate\n",
            "not a constraint",
        ),
        ("apiVersion: constraints.gatekeeper.sh/v1alpha1\nmetadata: {name: x}\n", "no kind"),
        ("apiVersion: constraints.gatekeeper.sh/v1alpha1\nkind: K\n", "no metadata.name"),
        (
            _yaml("  match:\n    target: ['a']\n    ancestries: ['b']\n"),
            "both ancestries and target",
        ),
        (_yaml("  match:\n    target: organizations/**\n"), "must be a list of strings"),
        (_yaml("  match:\n    target: ['flubber/*']\n"), "'flubber' is not organizations"),
        (_yaml("  match:\n    exclude: ['projects/1/folders/2']\n"), "cannot sit below"),
        (_yaml(spec_extra="  severity: 3\n"), "spec.severity must be a string"),
        (_yaml() + "---\n" + _yaml(), "expected one YAML document, found 2"),
        ("", "expected one YAML document, found 0"),
    ],
)
def test_a_file_that_is_not_a_constraint_raises_naming_its_path(text, reason):
    with pytest.raises(InvalidConstraint, match=r"^policies/constraints/x\.yaml: ") as raised:
        parse_constraint(text, "policies/constraints/x.yaml")
    assert reason in raised.value.reason
    assert raised.value.path == "policies/constraints/x.yaml"
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("policy-library/policies/constraints/sql_ssl.yaml", True),
        ("policies/constraints/x.yml", True),
        ("policy-library/policies/templates/gcp_sql_ssl_v1.yaml", False),
        ("policy-library/policies/constraints/README.md", False),
    ],
)
def test_constraint_paths_are_recognised(path, expected):
    assert is_constraint_path(path) is expected


# --- scope ------------------------------------------------------------------------------------


def test_ancestry_path_reads_cai_ancestors_from_the_top():
    assert scope.ancestry_path({"ancestors": [PROJECT, FOLDER, ORG]}) == f"{ORG}/{FOLDER}/{PROJECT}"
    assert scope.ancestry_path({}) == ""


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**", "organizations/1/folders/2", True),
        ("organizations/1", "organizations/1", True),
        ("organizations/1/**", "organizations/1", False),
        ("organizations/1/*", "organizations/12", False),
        ("organizations/1/**", "organizations/1/folders/2/projects/3", True),
        ("organizations/1/*", "organizations/1/folders/2/projects/3", False),
        ("**/folders/2/**", "organizations/1/folders/2", False),
        ("**/folders/2/**", "organizations/1/folders/22/projects/2", False),
        ("**/folders/2/**", "organizations/1/folders/2/folders/7", True),
        ("**/projects/3", "organizations/1/folders/2/projects/3", True),
        ("**/projects/*", "organizations/1/folders/2/projects/3", True),
        ("organizations/*/projects/3", "organizations/1/projects/3", True),
        ("organizations/1/{folders,projects}/3", "organizations/1/projects/3", True),
        ("organizations/1/projects/?", "organizations/1/projects/3", True),
        ("organizations/1/projects/[!3]", "organizations/1/projects/3", False),
    ],
)
def test_patterns_follow_config_validator_globs(pattern, path, expected):
    assert scope.matches(pattern, path) is expected


def test_an_exclusion_wins_over_an_inclusion():
    path = f"{ORG}/{FOLDER}/{PROJECT}"
    assert scope.in_scope(Scope(("**",), ()), path)
    assert not scope.in_scope(Scope(("**",), ("**/projects/123",)), path)


def test_dot_separated_glob_does_not_cross_dots():
    assert scope.glob_match("user:*@example.com", "user:ana@example.com", ".")
    assert not scope.glob_match("user:*@example.com", "user:ana.b@example.com", ".")


# --- the engine --------------------------------------------------------------------------------


def test_a_violation_names_constraint_kind_and_severity():
    result = evaluate(_bucket(uniform=False), [constraint(POLICY_ONLY, name="require-ubla")])
    assert [(v.constraint, v.kind, v.severity) for v in result.violations] == [
        ("require-ubla", POLICY_ONLY, "high")
    ]
    assert not result.compliant


def test_a_compliant_asset_has_no_violations():
    result = evaluate(_bucket(uniform=True), [constraint(POLICY_ONLY)])
    assert result.violations == []
    assert result.compliant


def test_a_constraint_for_another_asset_type_does_not_apply():
    firewall_kind = "GCPRestrictedFirewallRulesConstraintV1"
    result = evaluate(_bucket(uniform=False), [constraint(firewall_kind, {"rules": [{}]})])
    assert result.violations == []
    assert result.not_evaluated == []


def test_an_asset_outside_the_scope_is_not_checked():
    outside = constraint(POLICY_ONLY, include=("organizations/999/**",))
    assert evaluate(_bucket(uniform=False), [outside]).violations == []


def test_an_excluded_asset_is_not_checked():
    excluded = constraint(POLICY_ONLY, exclude=("**/folders/4/**",))
    assert evaluate(_bucket(uniform=False), [excluded]).violations == []


def test_an_asset_without_ancestors_is_outside_organization_scopes():
    assert (
        evaluate(_bucket(uniform=False, ancestors=[]), [constraint(POLICY_ONLY)]).violations == []
    )
    everywhere = constraint(POLICY_ONLY, include=("**",))
    assert evaluate(_bucket(uniform=False, ancestors=[]), [everywhere]).violations


def test_legacy_asset_type_names_are_evaluated():
    result = evaluate(_bucket(uniform=False, legacy=True), [constraint(POLICY_ONLY)])
    assert len(result.violations) == 1


def test_an_unknown_kind_in_scope_is_not_evaluated_rather_than_passed():
    unknown = constraint("GCPSomethingNewConstraintV9")
    result = evaluate(_bucket(uniform=True), [unknown, unknown])
    assert result.not_evaluated == ["GCPSomethingNewConstraintV9"]
    assert not result.compliant


def test_an_unknown_kind_out_of_scope_is_not_listed():
    unknown = constraint("GCPSomethingNewConstraintV9", include=("organizations/999/**",))
    assert evaluate(_bucket(uniform=True), [unknown]).not_evaluated == []


def test_unsupported_lists_each_unknown_kind_once():
    constraints = [constraint("B"), constraint("A"), constraint("B"), constraint(POLICY_ONLY)]
    assert unsupported(constraints) == ["A", "B"]


def test_a_check_that_raises_is_reported_failed_and_others_still_run(monkeypatch):
    def broken(asset, constraint):
        raise KeyError("surprise")

    real = registered()[POLICY_ONLY]
    monkeypatch.setitem(
        registry._REGISTRY, POLICY_ONLY, registry.KindCheck(POLICY_ONLY, real.asset_types, broken)
    )
    world = "GCPStorageBucketWorldReadableConstraintV1"
    public = _bucket(uniform=False)
    public["iamPolicy"] = {
        "bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]
    }
    result = evaluate(public, [constraint(POLICY_ONLY, name="broken"), constraint(world)])
    assert result.failed == ["broken"]
    assert len(result.violations) == 1


def test_any_asset_type_kinds_apply_to_every_type():
    project = asset(
        "cloudresourcemanager.googleapis.com/Project",
        "//cloudresourcemanager.googleapis.com/projects/123",
        {"projectNumber": "123", "projectId": "prj-c-logging"},
        iam=[("roles/viewer", ["allUsers"])],
    )
    deny_public = constraint(
        "GCPIAMAllowedBindingsConstraintV3",
        {"mode": "denylist", "role": "roles/*", "members": ["allUsers", "allAuthenticatedUsers"]},
    )
    assert [v.message for v in evaluate(project, [deny_public]).violations] == [
        "grants roles/viewer to allUsers"
    ]


def test_a_missing_gke_module_is_tolerated_but_other_import_errors_are_not(monkeypatch):
    def fail(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

    missing = "lzsync.logic.compliance.kinds.gke"
    monkeypatch.setattr(engine.importlib, "import_module", fail)
    with pytest.raises(ModuleNotFoundError):  # resources itself is required
        engine._load_kinds()
    monkeypatch.setattr(engine, "_KIND_MODULES", ())
    engine._load_kinds()  # gke absent: fine
    missing = "some_dependency_gke_needs"
    with pytest.raises(ModuleNotFoundError):
        engine._load_kinds()
