"""The one settings object. Precedence, highest first: explicit arguments to ``Settings(...)``,
``LZSYNC_*`` environment variables, a ``.env`` file in the working directory, the defaults here.

Complex values (``LZSYNC_REPOS``, ``LZSYNC_CLASSIFY_RULES``) are JSON. Secrets are
``SecretStr``: their values never appear in ``repr``, logs or error messages.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lzsync.errors import ConfigError
from lzsync.logic.asset_types import DEFAULT_SNAPSHOT_TYPES

DocumentKind = Literal["doc", "policy", "runbook", "config"]

MIB: Final = 1024 * 1024
HOUR_SECONDS: Final = 3600
DAY_SECONDS: Final = 24 * HOUR_SECONDS


class ClassifyRule(BaseModel):
    """A file whose repository path matches ``pattern`` (glob, ``**`` spans folders) is a
    ``kind``. Rules are tried in order; the first match wins; no match means not synced."""

    model_config = ConfigDict(frozen=True)

    kind: DocumentKind
    pattern: str


# Runbooks first, so a Markdown runbook is not taken for a plain doc; policies before the
# generic YAML config rule for the same reason.
DEFAULT_CLASSIFY_RULES: Final[tuple[ClassifyRule, ...]] = (
    ClassifyRule(kind="runbook", pattern="**/{runbooks,runbook,playbooks}/**/*.{md,markdown}"),
    ClassifyRule(kind="runbook", pattern="**/*{runbook,RUNBOOK,playbook}*.{md,markdown}"),
    ClassifyRule(kind="policy", pattern="**/policy-library/**/*.{yaml,yml}"),
    ClassifyRule(kind="policy", pattern="**/{policies,org-policies,org-policy}/**/*.{yaml,yml}"),
    ClassifyRule(kind="doc", pattern="**/*.{md,markdown,mdx}"),
    ClassifyRule(kind="doc", pattern="**/{README,readme,Readme}"),
    ClassifyRule(kind="config", pattern="**/*.{tfvars,tfvars.json}"),
    ClassifyRule(kind="config", pattern="**/*.{yaml,yml}"),
)


class RepoConfig(BaseModel):
    """One landing-zone repository: which GitHub repo, where to fetch it, which branch and
    which paths of it the Portal shows."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="GitHub full name, owner/repo, as in push payloads")
    url: str = Field(description="clone URL: https://..., file://... or a local path")
    branch: str = "main"
    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _owner_slash_repo(cls, value: str) -> str:
        if value.count("/") != 1 or value.startswith("/") or value.endswith("/"):
            raise ValueError("name must be 'owner/repo'")
        return value


class Settings(BaseSettings):
    """Every knob of lzsync. README's configuration table documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="LZSYNC_",
        env_file=".env",
        # An empty variable (as in a copied .env.example) means "use the default".
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    project_id: str | None = Field(
        default=None, description="GCP project; falls back to GOOGLE_CLOUD_PROJECT"
    )
    collection_prefix: str = ""
    repos: tuple[RepoConfig, ...] = ()
    webhook_secret: SecretStr | None = None
    git_token: SecretStr | None = None
    webhook_max_body_bytes: int = Field(default=5 * MIB, gt=0)
    delivery_ttl_seconds: int = Field(default=4 * 24 * HOUR_SECONDS, gt=0)
    sync_topic: str = Field(default="git-sync-requests", min_length=3)
    publish_timeout_seconds: float = Field(default=5.0, gt=0)
    git_cache_dir: Path = Path("/tmp/lzsync-git")  # noqa: S108 - Cloud Functions' only writable disk
    max_document_bytes: int = Field(default=900_000, gt=0, le=1_000_000)
    classify_rules: tuple[ClassifyRule, ...] = DEFAULT_CLASSIFY_RULES
    git_fetch_attempts: int = Field(default=3, ge=1)
    git_fetch_backoff_seconds: float = Field(default=1.0, ge=0)
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_open_seconds: int = Field(default=900, ge=0)
    sync_lease_seconds: int = Field(default=540, gt=0)
    git_expected_interval_seconds: int = Field(default=6 * HOUR_SECONDS, gt=0)
    activity_ttl_days: int = Field(default=30, gt=0)
    # --- layer 3: asset snapshot ---
    asset_scope: str | None = Field(
        default=None,
        pattern=r"^(organizations/[0-9]+|folders/[0-9]+|projects/[a-z0-9-]+)$",
        description="what the snapshot lists: organizations/N, folders/N or projects/ID",
    )
    asset_types: tuple[str, ...] = DEFAULT_SNAPSHOT_TYPES
    asset_export_uri: str | None = Field(
        default=None, description="read an exportAssets NDJSON (gs://... or a path) instead"
    )
    asset_api_endpoint: str | None = Field(
        default=None, description="Cloud Asset Inventory endpoint override (local test server)"
    )
    asset_page_size: int = Field(default=1000, gt=0, le=1000)
    asset_requests_per_minute: float = Field(default=100.0, gt=0)
    asset_retry_schedule_seconds: tuple[float, ...] = (5.0, 30.0, 300.0)
    asset_manifest_shards: int = Field(default=256, gt=0, le=4096)
    asset_max_delete_share: float = Field(default=0.2, ge=0, le=1)
    asset_min_delete_allowance: int = Field(default=10, ge=0)
    asset_run_budget_seconds: float = Field(default=480.0, gt=0)
    asset_activity_max_entries: int = Field(default=500, ge=0)
    asset_expected_interval_seconds: int = Field(default=300, gt=0)
    # --- layer 4: real-time events ---
    events_topic: str = Field(default="asset-changes", min_length=3)
    events_tombstone_ttl_seconds: int = Field(default=24 * HOUR_SECONDS, gt=0)
    events_status_flush_seconds: float = Field(default=5.0, ge=0)
    events_lag_window_seconds: int = Field(default=300, gt=0)
    # ≤ 3 writes per change, plus one inventory write per batch, keeps a full batch under
    # Firestore's 500 writes per commit.
    events_batch_max: int = Field(default=100, ge=1, le=160)
    events_expected_interval_seconds: int = Field(default=HOUR_SECONDS, gt=0)
    # --- layer 5: history in BigQuery ---
    history_dataset: str = Field(default="lzsync_history", pattern=r"^[A-Za-z0-9_]{1,1024}$")
    history_project: str | None = Field(
        default=None, description="project of the dataset; default: the deployment's project"
    )
    history_location: str = "US"
    history_billing_export_table: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$",
        description="project.dataset.table of the standard Cloud Billing export (cost views)",
    )
    history_environment_labels: tuple[str, ...] = ("environment", "env")
    history_load_chunk_rows: int = Field(default=20_000, gt=0)
    history_summary_days: int = Field(default=30, gt=0, le=400)
    history_expected_interval_seconds: int = Field(default=DAY_SECONDS, gt=0)
    bigquery_api_endpoint: str | None = Field(
        default=None, description="BigQuery endpoint override (local engine in tests)"
    )
    # --- freshness check and alerts ---
    freshness_layers: tuple[Literal["webhook", "git", "assets", "events", "history"], ...] = (
        "webhook",
        "git",
        "assets",
        "events",
        "history",
    )
    freshness_stale_after_seconds: dict[str, int] = Field(
        default_factory=dict, description="per-layer stale thresholds overriding the defaults"
    )
    alert_webhook_url: SecretStr | None = None
    # --- Portal access: rendered into firestore.rules (lzsync.devtools.rules) ---
    portal_claim: str = Field(
        default="portal",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        description="Firebase Auth custom claim that must be true for a Portal user",
    )
    portal_email_domain: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        description="verified emails of this domain are Portal users too; none: claim only",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def resolved_project_id(self, detected: str | None = None) -> str:
        """The project to write to: the setting, else ``GOOGLE_CLOUD_PROJECT``, else the
        ``detected`` project of the runtime's credentials; none of them is a configuration
        error, never a guess."""
        project = self.project_id or os.environ.get("GOOGLE_CLOUD_PROJECT") or detected
        if not project:
            raise ConfigError(
                "no GCP project: set LZSYNC_PROJECT_ID or GOOGLE_CLOUD_PROJECT",
                setting="LZSYNC_PROJECT_ID",
            )
        return project

    def repo(self, name: str) -> RepoConfig | None:
        """The configured repository with this GitHub full name (case-insensitive, as GitHub)."""
        wanted = name.lower()
        return next((repo for repo in self.repos if repo.name.lower() == wanted), None)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Settings from the environment, read once per function instance."""
    return Settings()
