"""checkov finds nothing in ``infra/``, and every check it skips says why, in place.

checkov runs from its own virtualenv (``make setup`` builds ``.venv-checkov``) and offline: with
``--skip-download`` and ``BC_SKIP_MAPPING`` it fetches no guidelines from its vendor, with
``CKV_SKIP_PACKAGE_UPDATE_CHECK`` it asks no index for a newer version, and where ``unshare``
can give it a network namespace of its own it has no network at all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

import pytest

from tests.infra.terraform import INFRA, ROOT

CHECKOV: Final = ROOT / ".venv-checkov" / "bin" / "checkov"
TIMEOUT_SECONDS: Final = 60
SKIP_COMMENT: Final = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z]+_\d+)(?::(.*))?")
MIN_REASON_CHARS: Final = 20


def _without_network(argv: list[str]) -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return argv
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return [unshare, "-n", *argv] if probe.returncode == 0 else argv


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup`")
    argv = [str(CHECKOV), "-d", str(INFRA), "--framework", "terraform", "--compact", "--quiet"]
    argv += ["-o", "json", "--skip-download"]
    environment = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    }
    completed = subprocess.run(
        _without_network(argv),
        capture_output=True,
        text=True,
        env=environment,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.stdout, completed.stderr
    parsed = json.loads(completed.stdout)
    # One framework gives one report object; the summary shape is checkov's JSON output.
    result: dict[str, Any] = parsed[0] if isinstance(parsed, list) else parsed
    result["_stderr"] = completed.stderr
    return result


def test_checkov_finds_no_failed_check(report: dict[str, Any]) -> None:
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for check in report["results"].get("failed_checks", [])
    ]

    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0
    assert failed == []


def test_checkov_ran_without_reaching_out(report: dict[str, Any]) -> None:
    assert "Max retries exceeded" not in report["_stderr"]
    assert "HTTPSConnection" not in report["_stderr"]


def _skip_comments() -> list[tuple[Path, str, str]]:
    found = []
    for path in sorted(INFRA.rglob("*.tf")):
        for line in path.read_text().splitlines():
            match = SKIP_COMMENT.search(line)
            if match:
                found.append((path, match.group(1), (match.group(2) or "").strip()))
    return found


def test_every_skipped_check_is_justified_in_place() -> None:
    skips = _skip_comments()

    assert skips, "expected the documented skips (CKV_GCP_83, CKV_GCP_81, CKV_GCP_62, ...)"
    for path, check, reason in skips:
        assert len(reason) >= MIN_REASON_CHARS, f"{path.name}: {check} skipped without a reason"


def test_the_count_of_skips_is_the_count_of_skip_comments(report: dict[str, Any]) -> None:
    # A skip comment that suppresses nothing (a check renamed or fixed) is clutter; one that
    # suppresses more than its resource would hide findings.
    assert report["summary"]["skipped"] == len(_skip_comments())
