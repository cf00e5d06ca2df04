"""Every deployable package, as a deploy would use it: its pinned requirements installed into a
clean virtual environment (no lzsync there: the library must come from the package), then the
function served by that environment's functions-framework from the unpacked zip and given one
real request or Pub/Sub push, against the emulators. A broken package fails here, not in a
deploy."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from lzsync.adapters.resource_store import resource_id
from lzsync.devtools.asset_server import AssetServer
from lzsync.devtools.emulators import free_port, stop_process_group
from lzsync.devtools.package import FUNCTIONS, package
from lzsync.devtools.simulator import Simulator
from lzsync.logic.signature import sign
from tests.helpers import load_format

SIGNATURES = {
    "webhook": "http",
    "git_sync": "cloudevent",
    "asset_snapshot": "http",
    "asset_events": "cloudevent",
    "bq_export": "http",
    "freshness_check": "http",
}
SECRET = "package-test-secret"
SIM = Simulator(size=150, seed=3)


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> Path:
    return package(tmp_path_factory.mktemp("dist"))[0].parent


@pytest.fixture(scope="module")
def clean_python(packages, tmp_path_factory) -> Path:
    """A virtual environment holding exactly the packages' pinned requirements."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *("-r", str(packages / "webhook" / "requirements.txt")),
        ],
        check=True,
        timeout=600,
    )
    return venv / "bin"


def test_every_function_has_a_reproducible_archive_with_the_same_pins(packages, tmp_path):
    again = package(tmp_path / "again")[0].parent
    requirements = {(packages / name / "requirements.txt").read_text() for name in FUNCTIONS}
    assert len(requirements) == 1
    [pins] = requirements
    assert "functions-framework==" in pins
    assert all("==" in line for line in pins.splitlines())
    for name in FUNCTIONS:
        first = hashlib.sha256((packages / f"{name}.zip").read_bytes()).digest()
        second = hashlib.sha256((again / f"{name}.zip").read_bytes()).digest()
        assert first == second, f"{name}.zip differs between two builds"
        names = zipfile.ZipFile(packages / f"{name}.zip").namelist()
        assert "main.py" in names
        assert not any("devtools" in entry for entry in names)


def _serve(bin_dir: Path, source: Path, name: str, env: dict[str, str], logs: Path):
    port = free_port()
    log = (logs / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [
            str(bin_dir / "functions-framework"),
            f"--target={name}",
            "--source=main.py",
            f"--signature-type={SIGNATURES[name]}",
            "--host=127.0.0.1",
            f"--port={port}",
        ],
        cwd=source,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}/"
        if process.poll() is not None:
            break
        time.sleep(0.1)
    stop_process_group(process)  # type: ignore[arg-type]
    raise AssertionError(f"{name} did not start: {(logs / f'{name}.log').read_text()[-2000:]}")


def _push(data: bytes) -> dict:
    return {
        "subscription": "projects/lzsync-test/subscriptions/package-test",
        "message": {
            "data": base64.b64encode(data).decode(),
            "messageId": f"m-{time.monotonic_ns()}",
            "publishTime": datetime.now(UTC).isoformat(),
        },
    }


def test_each_package_serves_a_real_request_from_a_clean_environment(
    packages, clean_python, emulators, db, bigquery, tmp_path
):
    server = AssetServer(SIM).start()
    session = requests.Session()
    session.trust_env = False
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "NO_GCE_CHECK": "True",
        **emulators.env(),
        "LZSYNC_WEBHOOK_SECRET": SECRET,
        "LZSYNC_REPOS": "[]",
        "LZSYNC_ASSET_SCOPE": SIM.organization,
        "LZSYNC_ASSET_API_ENDPOINT": server.endpoint,
        "LZSYNC_ASSET_REQUESTS_PER_MINUTE": "100000",
        "LZSYNC_BIGQUERY_API_ENDPOINT": bigquery.endpoint,
        "LZSYNC_HISTORY_DATASET": f"pkg_{time.monotonic_ns()}",
        "LZSYNC_FRESHNESS_LAYERS": '["assets"]',
    }
    ping = json.dumps({"zen": "Packages import alone.", "hook_id": 7}).encode()
    feed = json.dumps(load_format("cai/mia_feed_bucket-create.json")).encode()
    calls = {
        "webhook": lambda url: session.post(
            url,
            data=ping,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": "package-test-1",
                "X-Hub-Signature-256": sign(SECRET.encode(), ping),
            },
        ),
        "git_sync": lambda url: session.post(url, json=_push(b'{"trigger": "schedule"}')),
        "asset_snapshot": lambda url: session.post(url),
        "asset_events": lambda url: session.post(url, json=_push(feed)),
        "bq_export": lambda url: session.post(
            url, json={"day": (datetime.now(UTC).date() - timedelta(days=1)).isoformat()}
        ),
        "freshness_check": lambda url: session.post(url),
    }
    answers = {}
    try:
        for name in FUNCTIONS:
            unpacked = tmp_path / name
            zipfile.ZipFile(packages / f"{name}.zip").extractall(unpacked)
            process, url = _serve(clean_python, unpacked, name, env, tmp_path)
            try:
                answers[name] = calls[name](url)
            finally:
                stop_process_group(process)  # type: ignore[arg-type]
    finally:
        server.stop()

    statuses = {name: reply.status_code // 100 for name, reply in answers.items()}
    assert statuses == dict.fromkeys(FUNCTIONS, 2), {n: r.text[:300] for n, r in answers.items()}
    assert answers["asset_snapshot"].json()["status"] == "complete"
    assert answers["bq_export"].json()["status"] == "complete"
    assert answers["freshness_check"].json()["layers"]["assets"]["state"] == "fresh"
    bucket = load_format("cai/mia_feed_bucket-create.json")["asset"]["name"]
    assert db.collection("resources").document(resource_id(bucket)).get().exists
    assert db.collection("sync_status").document("webhook").get().get("last_ping_hook_id") == 7
