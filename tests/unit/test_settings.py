import json

import pytest
from pydantic import ValidationError

from lzsync.devtools.landing_zone import project_root
from lzsync.errors import ConfigError
from lzsync.settings import Settings


def test_repositories_come_from_json_in_the_environment(monkeypatch):
    repos = [{"name": "acme/lz", "url": "https://github.com/acme/lz.git", "branch": "prod"}]
    monkeypatch.setenv("LZSYNC_REPOS", json.dumps(repos))

    settings = Settings(_env_file=None)

    assert settings.repos[0].branch == "prod"
    assert settings.repo("ACME/LZ") is settings.repos[0]
    assert settings.repo("acme/other") is None


def test_explicit_arguments_beat_the_environment(monkeypatch):
    monkeypatch.setenv("LZSYNC_SYNC_TOPIC", "from-env")
    assert Settings(_env_file=None, sync_topic="explicit").sync_topic == "explicit"


def test_secrets_never_show_in_repr(monkeypatch):
    monkeypatch.setenv("LZSYNC_WEBHOOK_SECRET", "hunter2-webhook")
    monkeypatch.setenv("LZSYNC_GIT_TOKEN", "ghp_tokenvalue")

    text = repr(Settings(_env_file=None)) + str(Settings(_env_file=None).model_dump())

    assert "hunter2-webhook" not in text
    assert "ghp_tokenvalue" not in text


def test_a_repository_name_must_be_owner_slash_repo():
    with pytest.raises(ValidationError, match="owner/repo"):
        Settings(_env_file=None, repos=[{"name": "just-a-name", "url": "/x"}])


def test_a_missing_project_is_a_config_error_naming_the_setting(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("LZSYNC_PROJECT_ID", raising=False)
    with pytest.raises(ConfigError) as raised:
        Settings(_env_file=None).resolved_project_id()
    assert raised.value.setting == "LZSYNC_PROJECT_ID"


def test_a_document_limit_above_firestores_is_refused():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, max_document_bytes=2_000_000)


def test_a_copied_env_example_leaves_every_default_in_place(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((project_root() / ".env.example").read_text())

    assert Settings(_env_file=env_file) == Settings(_env_file=None)
