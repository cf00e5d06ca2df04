"""The bad-input corpus: every case under ``tests/corpus/<entry point>/`` through the real
entry point (the deployed function's functions-framework app, against the emulators), checked
for its documented outcome (``docs/reliability.md``, "Bad input").

A case is ``<name>.yaml`` (what to send and what must happen) plus, when the input is not
inline, ``<name>.body`` (raw bytes) or ``<name>.fi`` (a ``git fast-import`` stream building
the repository git sync reads). Beyond each case's own expectations, every case asserts:

- the status is the documented one, and no answer carries a stack trace;
- Firestore holds exactly what it held before, except the collections the case names
  (``changes``): refused input writes nothing, not even a part;
- every log line lzsync wrote is a structured JSON object with ``severity`` and ``message``,
  and nothing printed a traceback.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from functions_framework import create_app
from google.cloud import firestore, pubsub_v1

from lzsync.adapters import constraint_store
from lzsync.devtools.landing_zone import project_root
from lzsync.logic import docids
from lzsync.logic.signature import sign
from lzsync.logs import json_handler
from lzsync.services import (
    asset_events_event,
    git_sync_event,
    webhook_http,
)
from lzsync.settings import load_settings
from tests.conftest import PROJECT_ID
from tests.helpers import load_format, reload_settings

CORPUS = Path(__file__).parent
SECRET = "corpus-webhook-secret"
REPO = "Codertocat/Hello-World"
GIT_REPO = "acme/corpus"
SCOPE = "organizations/123"
SIGNATURE = "X-Hub-Signature-256"
# The body the ``other-body`` signature mode signs instead of the one sent.
OTHER_BODY = b'{"zen": "a different body"}'


@dataclass(frozen=True)
class Case:
    entry: str
    name: str
    spec: dict[str, Any]
    directory: Path

    def sibling(self, suffix: str) -> Path:
        return self.directory / f"{self.name}{suffix}"

    def body(self) -> bytes | None:
        """The raw input: ``<name>.body``, else ``body`` (text) or ``body_json`` inline."""
        if self.sibling(".body").exists():
            return self.sibling(".body").read_bytes()
        if "body" in self.spec:
            return str(self.spec["body"]).encode("utf-8", "surrogatepass")
        if "body_json" in self.spec:
            return _dumps(self.spec["body_json"])
        return None


def _dumps(value: Any) -> bytes:
    """JSON bytes; ``surrogatepass`` keeps a lone surrogate a case spells on purpose."""
    return json.dumps(value).encode("utf-8", "surrogatepass")


def _expand(value: Any) -> Any:
    """Inline generators: ``{"$repeat": [text, n]}`` is ``text * n`` (huge values stay small
    on disk)."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, times = value["$repeat"]
            return text * times
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def discover() -> list[Case]:
    cases = []
    for manifest in sorted(CORPUS.glob("*/*.yaml")):
        spec = _expand(yaml.safe_load(manifest.read_text()))
        cases.append(Case(manifest.parent.name, manifest.stem, spec, manifest.parent))
    return cases


CASES = discover()


def firestore_state(db: firestore.Client) -> dict[str, dict[str, Any]]:
    """Every document of every collection (the emulator holds only this test's data)."""
    state: dict[str, dict[str, Any]] = {}
    for collection in db.collections():
        state[collection.id] = {snap.id: snap.to_dict() for snap in collection.stream()}
    return state


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What lzsync logs during the case. The function's own stdout handler (installed once
    per process, on whatever ``sys.stdout`` was then) is set aside so that it is installed
    again on this test's captured stdout, which the case also checks line by line."""
    logger = logging.getLogger("lzsync")
    saved = list(logger.handlers)
    for handler in saved:
        logger.removeHandler(handler)
    stream = io.StringIO()
    logger.addHandler(json_handler(stream))
    yield stream
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in saved:
        logger.addHandler(handler)


@pytest.fixture
def env(monkeypatch, tmp_path) -> Iterator[Any]:
    """``env(case, **defaults)``: the function's settings, the case's ``env`` winning."""

    def apply(case: Case, **defaults: str) -> None:
        for key, value in {**defaults, **case.spec.get("env", {})}.items():
            if value is None:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, str(value))
        monkeypatch.setenv("LZSYNC_GIT_CACHE_DIR", str(tmp_path / "git-cache"))
        monkeypatch.setattr(constraint_store, "_STORES", {})
        reset()

    def reset() -> None:
        load_settings.cache_clear()
        reload_settings()
        webhook_http._service.cache_clear()
        git_sync_event._wiring.cache_clear()
        asset_events_event._service.cache_clear()

    yield apply
    reset()


def app_for(function: str, signature_type: str) -> Any:
    source = project_root() / "functions" / function / "main.py"
    return create_app(target=function, source=str(source), signature_type=signature_type)


# --- entry points -----------------------------------------------------------------------------


def run_webhook(case: Case, env: Any, unique: str) -> tuple[Any, dict[str, Any]]:
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT_ID, f"{unique}-sync")
    subscription = subscriber.subscription_path(PROJECT_ID, f"{unique}-pull")
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=subscription, topic=topic)
    env(
        case,
        LZSYNC_WEBHOOK_SECRET=SECRET,
        LZSYNC_REPOS=json.dumps([{"name": REPO, "url": "/nowhere", "branch": "master"}]),
        LZSYNC_SYNC_TOPIC=f"{unique}-sync",
    )
    client = app_for("webhook", "http").test_client()
    spec = case.spec
    body = case.body()
    if body is None:
        payload = copy.deepcopy(
            load_format(spec.get("base", "github/octokit_push_with-no-username-committer.json"))
        )
        payload.update(spec.get("set", {}))
        for key in spec.get("drop", []):
            payload.pop(key, None)
        body = _dumps(payload)
    signed = {
        "valid": lambda: sign(SECRET.encode(), body),
        "absent": lambda: None,
        "sha1": lambda: "sha1=" + sign(SECRET.encode(), body)[7:47],
        "upper": lambda: "sha256=" + sign(SECRET.encode(), body)[7:].upper(),
        "other-body": lambda: sign(SECRET.encode(), OTHER_BODY),
        "empty-secret": lambda: sign(b"", body),
    }[spec.get("signature", "valid")]()
    headers: list[tuple[str, str]] = [
        ("X-GitHub-Event", spec.get("event", "push")),
        ("X-GitHub-Delivery", spec.get("delivery", str(uuid.uuid4()))),
        ("X-GitHub-Hook-ID", "77"),
    ]
    if signed is not None:
        headers.append((SIGNATURE, signed))
    drop = {name.lower() for name in spec.get("drop_headers", [])}
    headers = [(name, value) for name, value in headers if name.lower() not in drop]
    headers += [(name, value) for name, value in spec.get("headers", [])]
    content_type = spec.get("content_type", "application/json")
    before = None
    response = None
    for _ in range(spec.get("repeat", 1)):
        before = firestore_state(firestore.Client(project=PROJECT_ID))
        response = client.open(
            "/",
            method=spec.get("method", "POST"),
            data=body,
            headers=headers,
            content_type=content_type,
        )
    published = subscriber.pull(
        request={"subscription": subscription, "max_messages": 10, "return_immediately": True},
        timeout=5,
    )
    return response, {"before": before, "published": len(published.received_messages)}


def push_envelope(case: Case) -> dict[str, Any] | bytes:
    """The push body: ``envelope`` inline, ``<name>.body`` as is, or ``data``/``data_json``
    (message data) wrapped in the envelope Pub/Sub sends."""
    spec = case.spec
    if "envelope" in spec:
        return spec["envelope"]
    if case.sibling(".body").exists() and spec.get("raw", False):
        return case.sibling(".body").read_bytes()
    envelope = load_format("pubsub/gce_binary_MessagePublishedData-complex.json")
    data = case.body()
    if "data" in spec:
        data = str(spec["data"]).encode("utf-8", "surrogatepass")
    if "data_json" in spec:
        data = _dumps(spec["data_json"])
    envelope["message"]["data"] = base64.b64encode(data or b"").decode()
    envelope["message"]["messageId"] = f"corpus-{case.name}"
    return envelope


def post_event(client: Any, envelope: dict[str, Any] | bytes) -> Any:
    if isinstance(envelope, bytes):
        return client.post("/", data=envelope, content_type="application/json")
    return client.post("/", data=_dumps(envelope), content_type="application/json")


def run_git_sync(case: Case, env: Any, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    url = "/nowhere"
    if case.sibling(".fi").exists():
        repo = tmp_path / "remote.git"
        subprocess.run(["git", "init", "--quiet", "--bare", str(repo)], check=True)
        subprocess.run(
            ["git", "-C", str(repo), "fast-import", "--quiet"],
            input=case.sibling(".fi").read_bytes(),
            check=True,
        )
        url = str(repo)
    env(
        case,
        LZSYNC_REPOS=json.dumps([{"name": GIT_REPO, "url": url, "branch": "main"}]),
        LZSYNC_GIT_FETCH_ATTEMPTS="1",
    )
    client = app_for("git_sync", "cloudevent").test_client()
    envelope = push_envelope(case)
    if case.sibling(".fi").exists() and isinstance(envelope, dict):
        # A tree case is synced by an ordinary request: the tree is the bad input.
        request = _dumps({"trigger": "webhook", "repo": GIT_REPO})
        envelope["message"]["data"] = base64.b64encode(request).decode()
    return post_event(client, envelope), {}


def run_asset_events(case: Case, env: Any) -> tuple[Any, dict[str, Any]]:
    env(case, LZSYNC_EVENTS_STATUS_FLUSH_SECONDS="3600")
    client = app_for("asset_events", "cloudevent").test_client()
    return post_event(client, push_envelope(case)), {}


def run_asset_snapshot(case: Case, env: Any, tmp_path: Path, db: Any) -> tuple[Any, dict]:
    export = tmp_path / "export.ndjson"
    export.write_bytes(case.body() or b"")
    for path, text in case.spec.get("constraints", {}).items():
        db.collection("documents").document(docids.encode(f"{GIT_REPO}:{path}")).set(
            {"repo": GIT_REPO, "path": path, "kind": "policy", "content": text}
        )
        db.collection("sync_status").document("git").set({"last_commit": "c1"}, merge=True)
    env(case, LZSYNC_ASSET_EXPORT_URI=str(export), LZSYNC_ASSET_SCOPE=SCOPE)
    client = app_for("asset_snapshot", "http").test_client()
    before = firestore_state(db)
    return client.post("/"), {"before": before}


def run_scheduled(case: Case, env: Any, function: str) -> tuple[Any, dict[str, Any]]:
    env(case, LZSYNC_ASSET_SCOPE=SCOPE)
    client = app_for(function, "http").test_client()
    spec = case.spec
    return client.open(
        "/" + spec.get("query", ""),
        method=spec.get("method", "POST"),
        data=case.body(),
        content_type=spec.get("content_type", "application/json"),
    ), {}


# --- expectations -----------------------------------------------------------------------------


def check_documents(db: Any, expected: dict[str, Any]) -> None:
    """``documents``: path → expected fields (``null``: the path must not be synced)."""
    held = {
        (snap.to_dict() or {}).get("path"): snap.to_dict()
        for snap in db.collection("documents").stream()
    }
    for path, fields in expected.items():
        if fields is None:
            assert path not in held, f"{path!r} should not have been synced"
            continue
        assert path in held, f"{path!r} was not synced; synced: {sorted(held)}"
        for key, value in fields.items():
            assert held[path].get(key) == value, (path, key, held[path].get(key))


def check_counts(db: Any, counts: dict[str, int]) -> None:
    for collection, count in counts.items():
        assert len(list(db.collection(collection).stream())) == count, collection


def check_logs(stream: io.StringIO, captured: Any, framework_error: bool) -> None:
    """Every line lzsync logged, and every line on stdout, is one JSON object Cloud Logging
    reads (``severity``, ``message``); nothing printed a traceback — except, for a case marked
    ``framework_error``, the one Flask logs when functions-framework itself fails on the body
    before lzsync runs (see docs/reliability.md)."""
    lines = stream.getvalue().splitlines() + captured.out.splitlines()
    for line in lines:
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert record.get("severity"), line
        assert "message" in record, line
    if not framework_error:
        assert "Traceback" not in captured.err, captured.err


@pytest.mark.parametrize("case", CASES, ids=[f"{case.entry}/{case.name}" for case in CASES])
def test_bad_input_has_its_documented_outcome(
    case: Case, emulators, db, env, unique, tmp_path, log_lines, capfd
):
    expect = case.spec["expect"]
    before = firestore_state(db)
    if case.entry == "webhook":
        response, extra = run_webhook(case, env, unique)
    elif case.entry in {"git_sync", "git_trees"}:
        response, extra = run_git_sync(case, env, tmp_path)
    elif case.entry == "asset_events":
        response, extra = run_asset_events(case, env)
    elif case.entry in {"asset_snapshot", "constraints"}:
        response, extra = run_asset_snapshot(case, env, tmp_path, db)
    else:
        response, extra = run_scheduled(case, env, case.entry)
    before = extra.get("before") or before

    text = response.get_data(as_text=True)
    assert response.status_code == expect["status"], text[:500]
    assert "Traceback" not in text
    assert 'File "' not in text
    if "answer" in expect:
        answer = response.get_json(silent=True) or {}
        for key, value in expect["answer"].items():
            assert answer.get(key) == value, (key, answer)
    if "error_contains" in expect:
        assert expect["error_contains"] in json.dumps(response.get_json(silent=True))
    if "published" in expect:
        assert extra["published"] == expect["published"]
    after = firestore_state(db)
    allowed = set(expect.get("changes", []))
    for collection in set(before) | set(after):
        if collection not in allowed:
            assert before.get(collection, {}) == after.get(collection, {}), f"{collection} changed"
    dead = list(after.get("_dead_letters", {}).values())
    if "dead_letter" in expect:
        [letter] = dead
        assert expect["dead_letter"] in letter["reason"], letter["reason"]
    elif "_dead_letters" not in allowed:
        assert dead == [] or dead == list(before.get("_dead_letters", {}).values())
    check_documents(db, expect.get("documents", {}))
    check_counts(db, expect.get("counts", {}))
    if "invalid_constraint" in expect:
        summary = db.collection("compliance").document("summary").get().to_dict() or {}
        reasons = json.dumps(summary.get("invalid_constraints", summary.get("invalid")))
        assert expect["invalid_constraint"] in reasons, summary
    check_logs(log_lines, capfd.readouterr(), expect.get("framework_error", False))
