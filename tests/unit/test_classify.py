import pytest

from lzsync.logic.classify import Classifier
from lzsync.settings import DEFAULT_CLASSIFY_RULES, ClassifyRule

DEFAULT = Classifier(DEFAULT_CLASSIFY_RULES)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("README.md", "doc"),
        ("docs/GLOSSARY.md", "doc"),
        ("0-bootstrap/README.md", "doc"),
        ("docs/runbooks/restore-state.md", "runbook"),
        ("ops/playbooks/incident.md", "runbook"),
        ("docs/upgrade-runbook.md", "runbook"),
        ("policy-library/policies/constraints/serviceusage_allow_basic_apis.yaml", "policy"),
        ("policy-library/policies/templates/gcp_storage_location_v1.yaml", "policy"),
        ("org/org-policies/restrict-ip.yml", "policy"),
        ("0-bootstrap/terraform.example.tfvars", "config"),
        ("3-networks-svpc/envs/shared/common.auto.tfvars", "config"),
        ("env/settings.tfvars.json", "config"),
        ("build/cloudbuild.yaml", "config"),
        (".github/workflows/ci.yml", "config"),
    ],
)
def test_default_rules_classify_landing_zone_paths(path, kind):
    assert DEFAULT.kind_of(path) == kind


@pytest.mark.parametrize("path", ["main.tf", "scripts/deploy.sh", "logo.png", "go.mod"])
def test_files_the_portal_does_not_show_are_not_classified(path):
    assert DEFAULT.kind_of(path) is None


def test_include_and_exclude_limit_a_repository_to_some_paths():
    classifier = Classifier(DEFAULT_CLASSIFY_RULES, include=["docs/**"], exclude=["docs/drafts/**"])
    assert classifier.kind_of("docs/guide.md") == "doc"
    assert classifier.kind_of("README.md") is None
    assert classifier.kind_of("docs/drafts/wip.md") is None


def test_first_matching_rule_wins():
    rules = [ClassifyRule(kind="config", pattern="**/*.md"), ClassifyRule(kind="doc", pattern="**")]
    assert Classifier(rules).kind_of("a/b.md") == "config"
    assert Classifier(rules).kind_of("a/b.txt") == "doc"
