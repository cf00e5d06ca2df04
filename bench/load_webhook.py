"""Load, webhook: requests/s and latency with 1, 8 and 32 concurrent GitHub-like clients.

The real ``webhook`` function under functions-framework (gunicorn, one worker, the stack's
thread count), the Pub/Sub emulator behind it (its topic has a pull subscription that keeps
the sync requests, as git_sync's would) and the Firestore emulator (the dedupe ledger and
``sync_status/webhook``). Clients post the signed push payloads of
``shared/fixtures/formats/github`` (octokit's, whose repository and branch are configured), each
with a fresh delivery id, back to back on keep-alive connections, for a fixed time per level.

Every answer is counted by status: accepted, refused, retry (503), or a transport error. The
webhook has no rate limiter: ``logic/rate_limit.py`` paces the snapshot's ListAssets calls,
not deliveries, so a refusal here would come from the function failing, not from a limit.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Final

import requests
from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

from bench.common import stats_ms
from lzsync.devtools.emulators import EmulatorSuite
from lzsync.devtools.github_sender import GitHubSender
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.stack import StackConfig, running_stack
from lzsync.model.github import PushEvent
from lzsync.settings import RepoConfig

CLIENTS: Final = tuple(int(n) for n in os.environ.get("LOAD_CLIENTS", "1,8,32").split(","))
SECONDS_PER_LEVEL: Final = float(os.environ.get("LOAD_WEBHOOK_SECONDS", "8"))
WARMUP_DELIVERIES: Final = 50
FIXTURES: Final = project_root().parent / "shared" / "fixtures" / "formats" / "github"
RATE_LIMITER_NOTE: Final = (
    "none on the webhook path (logic/rate_limit.py paces ListAssets calls of the snapshot "
    "only); every refusal counted here is the function's own answer"
)


def _payloads() -> list[dict[str, Any]]:
    """The fixture pushes that reach the publish step: octokit's push examples."""
    payloads = []
    for path in sorted(FIXTURES.glob("octokit_push_*.json")):
        document = json.loads(path.read_text())
        PushEvent.model_validate(document)  # fail early if a fixture stops parsing
        payloads.append(document)
    if not payloads:
        raise FileNotFoundError(f"no octokit push payloads in {FIXTURES}")
    return payloads


def _repos(payloads: list[dict[str, Any]]) -> tuple[RepoConfig, ...]:
    """The payloads' repositories, configured so that each delivery is accepted (git_sync does
    not run here, so the clone URL is never fetched)."""
    names = {
        (push.repository.full_name, push.branch)
        for push in (PushEvent.model_validate(document) for document in payloads)
    }
    return tuple(
        RepoConfig(name=name, url="file:///nonexistent", branch=branch or "main")
        for name, branch in sorted(names)
    )


def _outcome(sender: GitHubSender, payload: dict[str, Any]) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        delivery = sender.deliver("push", payload, delivery_id=str(uuid.uuid4()))
    except (requests.RequestException, ValueError) as error:
        return f"error {type(error).__name__}", time.perf_counter() - started
    return f"{delivery.status} {delivery.body.get('status')}", delivery.seconds


def _level(url: str, secret: str, payloads: list[dict[str, Any]], clients: int) -> dict[str, Any]:
    """``clients`` threads, each a sender posting back to back until the level's time is up."""
    outcomes: Counter[str] = Counter()
    accepted_seconds: list[float] = []
    all_seconds: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS_PER_LEVEL

    def client(index: int) -> None:
        sender = GitHubSender(url, secret)
        n = index
        try:
            while time.perf_counter() < deadline:
                outcome, seconds = _outcome(sender, payloads[n % len(payloads)])
                n += 1
                with lock:
                    outcomes[outcome] += 1
                    all_seconds.append(seconds)
                    if outcome == "202 accepted":
                        accepted_seconds.append(seconds)
        finally:
            sender.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    total = sum(outcomes.values())
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "accepted": outcomes["202 accepted"],
        "refused_or_failed": total - outcomes["202 accepted"],
        "outcomes": dict(outcomes),
        "latency_all": stats_ms(all_seconds),
        "latency_accepted": stats_ms(accepted_seconds),
    }


def run(emulators: EmulatorSuite, work_dir: Path) -> dict[str, Any]:
    payloads = _payloads()
    secret = secrets.token_hex(16)
    config = StackConfig(
        repos=_repos(payloads),
        webhook_secret=secret,
        work_dir=work_dir,
        functions=("webhook",),
        extra_env={"LZSYNC_LOG_LEVEL": "WARNING"},
    )
    project = emulators.project_id
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, config.sync_topic)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        name=subscriber.subscription_path(project, f"{config.sync_topic}-hold"), topic=topic
    )
    subscriber.close()
    results: dict[str, Any] = {
        "function_threads": config.function_concurrency,
        "payloads": len(payloads),
        "rate_limiter": RATE_LIMITER_NOTE,
        "levels": [],
    }
    with running_stack(emulators.env(), config) as stack:
        warm = GitHubSender(stack.webhook_url, secret)
        try:
            warm_accepted = sum(
                _outcome(warm, payloads[n % len(payloads)])[0] == "202 accepted"
                for n in range(WARMUP_DELIVERIES)
            )
        finally:
            warm.close()
        for clients in CLIENTS:
            print(f"webhook: {clients} clients for {SECONDS_PER_LEVEL:.0f} s...", flush=True)
            level = _level(stack.webhook_url, secret, payloads, clients)
            print(f"  {json.dumps(level)}", flush=True)
            results["levels"].append(level)
        client = firestore.Client(project=project)
        status = client.collection("sync_status").document("webhook").get().to_dict() or {}
        counters = status.get("counters", {})
        # The function's own count (server-side increments), warm-up included: it should equal
        # what the clients saw accepted.
        results["function_counted_accepted"] = counters.get("accepted")
        results["client_counted_accepted"] = warm_accepted + sum(
            level["accepted"] for level in results["levels"]
        )
    return results
