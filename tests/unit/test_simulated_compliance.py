"""The simulator's compliance estate against the landing zone's 28 real constraints: every kind
judged on a compliant and a violating asset the simulator makes on request, and a 10,000-asset
estate whose violation counts are stated by the oracle (tests/compliance_oracle.py), not by the
engine."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from lzsync.devtools import simulated_compliance
from lzsync.devtools.simulator import Simulator
from lzsync.logic.compliance.constraints import parse_constraint
from lzsync.logic.compliance.engine import evaluate
from lzsync.logic.compliance.registry import Constraint
from tests.compliance_oracle import expected_estate, expected_violations
from tests.helpers import fixture_constraint_files

ESTATE = Simulator(size=10_000, seed=17, defect_share=0.3)
# Kinds no hardened specimen passes with the fixture's parameters: GKE 1.24+ has only
# COS_CONTAINERD images, which the template accepts only when asked to.
PARAMETER_VARIANTS = {"GCPGKEContainerOptimizedOSConstraintV1": {"cos_containerd_allowed": True}}


@pytest.fixture(scope="module")
def constraints(landing_zone_source) -> list[Constraint]:
    return [
        parse_constraint(text, path)
        for path, text in fixture_constraint_files(landing_zone_source).items()
    ]


def test_each_specimen_violates_exactly_what_its_defect_should(constraints):
    for defect, asset in Simulator(size=100, seed=3).specimens():
        result = evaluate(asset, constraints)
        assert not result.failed, (defect, asset["name"])
        assert not result.not_evaluated, (defect, asset["name"])
        found = {violation.constraint for violation in result.violations}
        assert found == expected_violations(asset["assetType"], defect), (defect, asset["name"])


def test_every_fixture_kind_is_judged_on_a_compliant_and_a_violating_specimen(constraints):
    specimens = list(Simulator(size=100, seed=3).specimens())
    passed: Counter[str] = Counter()
    violated: Counter[str] = Counter()
    variants = [
        replace(c, parameters=PARAMETER_VARIANTS[c.kind])
        for c in constraints
        if c.kind in PARAMETER_VARIANTS
    ]
    for constraint in [*constraints, *variants]:
        for _, asset in specimens:
            result = evaluate(asset, [constraint])
            if constraint.kind in {v.kind for v in result.violations}:
                violated[constraint.kind] += 1
            elif _applies(constraint, asset):
                passed[constraint.kind] += 1
    kinds = {constraint.kind for constraint in constraints}
    assert len(kinds) == 25
    assert set(violated) == kinds
    assert set(passed) == kinds


def _applies(constraint: Constraint, asset: dict) -> bool:
    from lzsync.logic.compliance.registry import ANY_ASSET_TYPE, registered

    types = registered()[constraint.kind].asset_types
    return ANY_ASSET_TYPE in types or asset["assetType"] in types


def test_the_classic_estate_is_unchanged_by_the_compliance_knob():
    classic = Simulator(size=500, seed=4)
    assert classic.workload_slots == Simulator(size=500, seed=4, defect_share=None).workload_slots
    assert all(classic.defect_at(i) is None for i in range(classic.slots()))
    assert not any("iamPolicy" in asset for asset in classic.assets())


def test_a_defect_is_redrawn_when_the_asset_changes_and_feeds_carry_no_iam_policy():
    simulator = Simulator(size=2_000, seed=9, defect_share=0.5, update_share=0.5)
    turned = [
        index
        for index in range(simulator.slots(0))
        if simulator.asset_at(index, 1) is not None
        and simulator.defect_at(index, 0) != simulator.defect_at(index, 1)
    ]
    assert turned, "some assets must turn compliant or non-compliant between versions"
    for change in simulator.changes(0, 1):
        assert "iamPolicy" not in change["asset"]
        assert "iamPolicy" not in change.get("priorAsset", {})


def test_10000_assets_under_the_fixture_constraints_give_the_oracles_counts(constraints):
    expected = expected_estate(ESTATE)
    assert expected.assets == 10_000
    assert set(expected.defects) == set(simulated_compliance.DEFECTS_BY_NAME), (
        "every defect occurs at least once, so every constraint is exercised"
    )

    by_constraint: Counter[str] = Counter()
    violating = 0
    for asset in ESTATE.assets():
        result = evaluate(asset, constraints)
        assert not result.failed
        assert not result.not_evaluated
        violating += bool(result.violations)
        by_constraint.update(violation.constraint for violation in result.violations)

    assert violating == expected.violating_assets
    assert by_constraint == expected.by_constraint
    assert len(by_constraint) == len(constraints) == 28


def test_an_excluded_folder_takes_its_assets_out_of_a_constraints_count(constraints):
    production = ESTATE.folder("production")
    rule = "restrict-firewall-rule-world-open"
    original = next(c for c in constraints if c.name == rule)
    yaml_text = _with_exclusion(original, f"{ESTATE.organization}/{production}/**")
    narrowed = parse_constraint(yaml_text, "narrowed.yaml")

    expected = expected_estate(
        ESTATE,
        constraint_names=[rule],
        excluded=lambda asset: (
            frozenset({rule}) if production in asset["ancestors"] else frozenset()
        ),
    )
    everywhere = expected_estate(ESTATE, constraint_names=[rule])
    found = sum(len(evaluate(asset, [narrowed]).violations) for asset in ESTATE.assets())

    assert found == expected.by_constraint[rule]
    assert 0 < found < everywhere.by_constraint[rule], "production holds some, not all"


def _with_exclusion(constraint: Constraint, pattern: str) -> str:
    import yaml

    return yaml.safe_dump(
        {
            "apiVersion": "constraints.gatekeeper.sh/v1alpha1",
            "kind": constraint.kind,
            "metadata": {"name": constraint.name},
            "spec": {
                "severity": constraint.severity,
                "match": {
                    "ancestries": list(constraint.scope.include),
                    "excludedAncestries": [pattern],
                },
                "parameters": dict(constraint.parameters),
            },
        }
    )


def test_every_asset_of_the_compliance_estate_has_its_own_name():
    names = [asset["name"] for asset in ESTATE.assets()]
    assert len(set(names)) == len(names) == 10_000
