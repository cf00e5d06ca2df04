"""The Terraform module keeps its rules: each rule holds on ``infra/`` as committed, and each
catches a copy of the module broken the way the rule forbids."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lzsync.devtools.package import FUNCTIONS
from lzsync.logic.asset_types import DEFAULT_SNAPSHOT_TYPES
from lzsync.settings import Settings
from tests.infra.terraform import (
    INFRA,
    Module,
    problems_asset_feed,
    problems_environment,
    problems_functions,
    problems_invokers,
    problems_primitive_roles,
    problems_public_access,
    problems_schedules,
    problems_secret_access,
    problems_secrets,
    problems_service_accounts,
    problems_subscriptions,
    problems_ttl,
    read_sources,
    readme_schedules,
)

SOURCES = read_sources(INFRA)
SUBMODULE_SOURCES = read_sources(INFRA / "modules" / "function")

Rule = Callable[[Module, Module], list[str]]

RULES: dict[str, Rule] = {
    "functions": lambda root, _sub: problems_functions(root, FUNCTIONS),
    "service_accounts": lambda root, _sub: problems_service_accounts(root),
    "subscriptions": lambda root, _sub: problems_subscriptions(root),
    "primitive_roles": lambda root, sub: (
        problems_primitive_roles(root) + problems_primitive_roles(sub)
    ),
    "public_access": lambda root, sub: problems_public_access(root) + problems_public_access(sub),
    "invokers": lambda root, _sub: problems_invokers(root),
    "schedules": lambda root, _sub: problems_schedules(root, readme_schedules()),
    "secrets": lambda root, sub: problems_secrets(root, sub),
    "environment": lambda root, _sub: problems_environment(root),
    "secret_access": lambda root, _sub: problems_secret_access(root),
    "ttl": lambda root, _sub: problems_ttl(root),
    "asset_feed": lambda root, _sub: problems_asset_feed(root, DEFAULT_SNAPSHOT_TYPES),
}

# (rule, file, text in it, replacement): one realistic way to break each rule.
BREAKAGES = [
    ("functions", "functions.tf", 'entry_point           = "bq_export"', 'entry_point = "export"'),
    (
        "functions",
        "functions.tf",
        '"${local.source_dir}/freshness_check"',
        '"${local.source_dir}/x"',
    ),
    (
        "service_accounts",
        "functions.tf",
        "google_service_account.asset_events.email",
        "google_service_account.asset_snapshot.email",
    ),
    (
        "service_accounts",
        "scheduler.tf",
        "service_account_email = google_service_account.scheduler.email\n      audience"
        "              = module.bq_export.uri",
        "service_account_email = google_service_account.bq_export.email\n      audience"
        "              = module.bq_export.uri",
    ),
    (
        "subscriptions",
        "pubsub.tf",
        "  dead_letter_policy {\n    dead_letter_topic     = google_pubsub_topic."
        "asset_changes_dead_letter.id",
        "  dummy {\n    dead_letter_topic     = google_pubsub_topic.asset_changes_dead_letter.id",
    ),
    (
        "subscriptions",
        "pubsub.tf",
        "dead_letter_topic     = google_pubsub_topic.git_sync_requests_dead_letter.id",
        "dead_letter_topic     = google_pubsub_topic.git_sync_requests.id",
    ),
    ("primitive_roles", "iam.tf", '"roles/bigquery.jobUser"', '"roles/editor"'),
    (
        "public_access",
        "iam.tf",
        "${google_service_account.scheduler.email}",
        "allAuthenticatedUsers",
    ),
    (
        "public_access",
        "iam.tf",
        "name     = module.webhook.service_name",
        "name = module.git_sync.service_name",
    ),
    (
        "invokers",
        "functions.tf",
        'ingress               = "ALLOW_INTERNAL_ONLY"',
        'ingress = "ALLOW_ALL"',
    ),
    ("invokers", "scheduler.tf", "uri         = module.freshness_check.uri", 'uri = "https://x"'),
    (
        "invokers",
        "pubsub.tf",
        "push_endpoint = module.asset_events.uri",
        'push_endpoint = "https://x"',
    ),
    ("schedules", "variables.tf", 'default     = "*/15 * * * *"', 'default = "*/30 * * * *"'),
    ("schedules", "variables.tf", 'default     = "Etc/UTC"', 'default = "Europe/Paris"'),
    (
        "schedules",
        "scheduler.tf",
        '{\\"trigger\\":\\"schedule\\"}',
        '{\\"trigger\\":\\"webhook\\"}',
    ),
    (
        "secrets",
        "secrets.tf",
        'resource "google_secret_manager_secret" "alert_webhook_url" {',
        'resource "google_secret_manager_secret_version" "v" {\n'
        "  secret      = google_secret_manager_secret.git_token.id\n"
        '  secret_data = "hunter2"\n}\n\n'
        'resource "google_secret_manager_secret" "alert_webhook_url" {',
    ),
    ("environment", "functions.tf", "LZSYNC_SYNC_TOPIC =", "LZSYNC_SYNC_TOPIK ="),
    ("environment", "functions.tf", "LZSYNC_EVENTS_TOPIC =", "LZSYNC_WEBHOOK_SECRET ="),
    (
        "secret_access",
        "iam.tf",
        "secret_id = google_secret_manager_secret.git_token.secret_id",
        "secret_id = google_secret_manager_secret.webhook_secret.secret_id",
    ),
    ("ttl", "firestore.tf", '"_tombstones", ', ""),
    ("ttl", "firestore.tf", 'field      = "expires_at"', 'field = "time"'),
    ("asset_feed", "asset_feed.tf", 'content_type    = "RESOURCE"', 'content_type = "IAM_POLICY"'),
    ("asset_feed", "variables.tf", '    "cloudkms.googleapis.com/CryptoKey",\n', ""),
]


def _parse(sources: dict[str, str]) -> Module:
    return Module.parse(sources)


@pytest.fixture(scope="module")
def submodule() -> Module:
    return _parse(SUBMODULE_SOURCES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_module_keeps_the_rule(rule: str, submodule: Module) -> None:
    assert RULES[rule](_parse(SOURCES), submodule) == []


@pytest.mark.parametrize(
    ("rule", "file", "old", "new"), BREAKAGES, ids=[f"{b[0]}-{i}" for i, b in enumerate(BREAKAGES)]
)
def test_the_rule_catches_a_broken_module(
    rule: str, file: str, old: str, new: str, submodule: Module
) -> None:
    assert old in SOURCES[file], f"breakage no longer applies: {old!r} not in {file}"
    broken = {**SOURCES, file: SOURCES[file].replace(old, new, 1)}

    assert RULES[rule](_parse(broken), submodule) != []


def test_every_rule_is_shown_to_catch_a_breakage() -> None:
    assert {breakage[0] for breakage in BREAKAGES} == set(RULES)


def test_readme_documents_the_four_schedules() -> None:
    assert readme_schedules() == {
        "lzsync-git-reconcile": "0 */6 * * *",
        "lzsync-asset-snapshot": "*/5 * * * *",
        "lzsync-freshness-check": "*/15 * * * *",
        "lzsync-bq-export": "30 0 * * *",
    }


def test_topics_are_the_settings_defaults() -> None:
    topics = {body["name"] for body in _parse(SOURCES).resources("google_pubsub_topic").values()}
    defaults = Settings.model_fields

    assert defaults["sync_topic"].default in topics
    assert defaults["events_topic"].default in topics
    assert {f"{topic}-dead-letter" for topic in ("git-sync-requests", "asset-changes")} <= topics


def test_versions_pin_terraform_and_the_google_provider() -> None:
    (terraform,) = _parse({"versions.tf": SOURCES["versions.tf"]}).files["versions.tf"]["terraform"]
    (providers,) = terraform["required_providers"]

    assert terraform["required_version"] == ">= 1.5"
    assert providers["google"]["version"] == "~> 6.0"
