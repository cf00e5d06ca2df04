"""Rendering the security rules and indexes: the committed files are the default rendering, and
nothing a deployment configures can change the rules' meaning beyond its three knobs."""

import json

import pytest
from pydantic import ValidationError

from lzsync.collection_names import PORTAL_COLLECTIONS, Collections
from lzsync.devtools import rules
from lzsync.devtools.landing_zone import project_root
from lzsync.errors import ConfigError
from lzsync.settings import Settings

ROOT = project_root()


def test_committed_rules_are_the_default_rendering():
    assert (ROOT / "firestore.rules").read_text() == rules.render_rules()


def test_committed_indexes_are_the_default_rendering():
    assert (ROOT / "firestore.indexes.json").read_text() == rules.render_indexes()


def test_every_public_collection_is_a_portal_collection_and_no_internal_one_is():
    properties = [n for n in dir(Collections) if isinstance(getattr(Collections, n), property)]
    names = [getattr(Collections(), n) for n in properties]
    public = {name for name in names if isinstance(name, str) and not name.startswith("_")}

    assert public <= set(PORTAL_COLLECTIONS)
    assert not any(name.startswith("_") for name in PORTAL_COLLECTIONS)


def test_the_deployments_settings_are_rendered_into_the_config_block():
    settings = Settings(
        _env_file=None,
        portal_claim="lzPortal",
        portal_email_domain="corp.example.co.uk",
        collection_prefix="staging_",
    )

    text = rules.render_for(settings)

    assert "request.auth.token.get('lzPortal', false) == true" in text
    assert ".matches('.*@corp[.]example[.]co[.]uk')" in text
    assert "'staging_documents'" in text
    assert "'documents'" not in text
    # Outside the block the template is kept as written.
    assert text.endswith(rules.render_rules().split(rules.END_MARK, 1)[1].split("\n", 1)[1])


def test_without_an_email_domain_no_email_grants_access():
    text = rules.render_rules()
    assert "function hasPortalEmail() {\n      return false;\n    }" in text
    assert "matches(" not in text


@pytest.mark.parametrize(
    "claim",
    ["email_verified", "sub", "firebase", "portal') || true || ('", "por tal", "", "1portal"],
)
def test_a_claim_that_is_a_token_field_or_not_an_identifier_is_refused(claim):
    with pytest.raises(ConfigError) as raised:
        rules.render_rules(claim=claim)
    assert raised.value.setting == "LZSYNC_PORTAL_CLAIM"


@pytest.mark.parametrize(
    "domain", ["example.com') || true || ('", "Example.com", "*.example.com", "localhost", ""]
)
def test_an_email_domain_that_is_not_a_lower_case_dns_name_is_refused(domain):
    with pytest.raises(ConfigError) as raised:
        rules.render_rules(email_domain=domain)
    assert raised.value.setting == "LZSYNC_PORTAL_EMAIL_DOMAIN"


def test_a_prefix_that_could_escape_the_string_is_refused():
    with pytest.raises(ConfigError) as raised:
        rules.render_rules(prefix="x'] || true || ['")
    assert raised.value.setting == "LZSYNC_COLLECTION_PREFIX"


@pytest.mark.parametrize(
    "field", [{"portal_claim": "a-b"}, {"portal_email_domain": "@example.com"}]
)
def test_settings_refuse_a_malformed_claim_or_domain(field):
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **field)


def test_a_template_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        rules.render_rules(template="rules_version = '2';\n")


def test_indexes_follow_the_prefix():
    index = json.loads(rules.render_indexes("staging_"))["indexes"][0]
    assert index["collectionGroup"] == "staging_activity"
    assert [field["fieldPath"] for field in index["fields"]] == ["layer", "time"]


def test_the_command_writes_rules_and_indexes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LZSYNC_PORTAL_EMAIL_DOMAIN", "example.com")
    monkeypatch.setenv("LZSYNC_COLLECTION_PREFIX", "dev_")

    rules_out, indexes_out = tmp_path / "firestore.rules", tmp_path / "firestore.indexes.json"

    status = rules.main(
        ["--claim", "staff", "--rules-out", str(rules_out), "--indexes-out", str(indexes_out)]
    )

    assert status == 0
    text = rules_out.read_text()
    assert "get('staff', false)" in text
    assert "@example[.]com" in text
    assert "'dev_history'" in text
    index = json.loads(indexes_out.read_text())["indexes"][0]
    assert index["collectionGroup"] == "dev_activity"


def test_the_command_names_the_setting_of_a_bad_value(capsys):
    with pytest.raises(SystemExit):
        rules.main(["--claim", "email_verified"])
    assert "LZSYNC_PORTAL_CLAIM" in capsys.readouterr().err
