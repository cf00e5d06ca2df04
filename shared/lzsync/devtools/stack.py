"""The deployed shape, locally: both functions under functions-framework on loopback ports,
wired by a Pub/Sub push subscription with a dead-letter policy, against the emulators.

Used by the end-to-end tests, the demo and the benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]
from google.protobuf import duration_pb2

from lzsync.devtools.emulators import (
    LOOPBACK,
    READY_TIMEOUT_SECONDS,
    free_port,
    stop_process_group,
    wait_until_ready,
)
from lzsync.devtools.github_sender import GitHubSender
from lzsync.devtools.landing_zone import project_root
from lzsync.devtools.push_relay import PushRelay
from lzsync.settings import RepoConfig

MAX_DELIVERY_ATTEMPTS: Final = 5


# The functions the stack can run: signature type, and the topic suffix that feeds it.
FUNCTIONS: Final[dict[str, tuple[str, str | None]]] = {
    "webhook": ("http", None),
    "git_sync": ("cloudevent", "git-sync-requests"),
    "asset_events": ("cloudevent", "asset-changes"),
}


@dataclass(frozen=True)
class StackConfig:
    repos: tuple[RepoConfig, ...]
    webhook_secret: str
    work_dir: Path
    name_prefix: str = "lz"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Pub/Sub redelivery backoff of the push subscriptions (production default: 10 s to 600 s).
    min_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 10.0
    functions: tuple[str, ...] = ("git_sync", "webhook")
    # "push": the emulator's push subscription (one delivery at a time); "relay": a pull
    # subscription and a concurrent relay that posts push envelopes, as Pub/Sub does at scale.
    delivery: Literal["push", "relay"] = "push"
    relay_concurrency: int = 128
    # How long Pub/Sub waits for an acknowledgement before redelivering (10 s is its minimum):
    # also how long a pulled message whose reply was lost in a partition stays invisible.
    ack_deadline_seconds: int = 60
    # Requests one function instance serves at once (functions-framework's gunicorn threads;
    # Cloud Run's per-instance concurrency when deployed). The real-time layer's group commit
    # batches what arrives concurrently, so this bounds its batches.
    function_concurrency: int = 128

    def topic(self, function: str) -> str:
        suffix = FUNCTIONS[function][1]
        assert suffix is not None, f"{function} has no topic"
        return f"{self.name_prefix}-{suffix}"

    @property
    def sync_topic(self) -> str:
        return self.topic("git_sync")

    @property
    def events_topic(self) -> str:
        return self.topic("asset_events")

    def dead_letter_topic(self, function: str = "git_sync") -> str:
        return f"{self.topic(function)}-dead-letter"

    def dead_letter_hold(self, function: str = "git_sync") -> str:
        """The pull subscription that keeps a function's dead letters until they are replayed."""
        return f"{self.dead_letter_topic(function)}-hold"


def _function_server(
    name: str, signature: str, env: Mapping[str, str], log_dir: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    source = project_root() / "functions" / name / "main.py"
    command = [
        str(Path(sys.executable).parent / "functions-framework"),
        f"--source={source}",
        f"--target={name}",
        f"--signature-type={signature}",
        f"--host={LOOPBACK}",
        f"--port={port}",
    ]
    with (log_dir / f"{name}.log").open("wb") as log_file:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, port


class LocalStack:
    """``start()`` brings everything up; ``stop()`` takes down what this object started."""

    def __init__(self, emulator_env: Mapping[str, str], config: StackConfig) -> None:
        self._emulator_env = dict(emulator_env)
        self.config = config
        self.project_id = emulator_env["GOOGLE_CLOUD_PROJECT"]
        self._processes: list[subprocess.Popen[bytes]] = []
        self._relays: list[PushRelay] = []
        self.urls: dict[str, str] = {}

    @property
    def webhook_url(self) -> str:
        return self.urls["webhook"]

    def function_env(self) -> dict[str, str]:
        config = self.config
        return {
            **self._emulator_env,
            "LZSYNC_REPOS": json.dumps([repo.model_dump() for repo in config.repos]),
            "LZSYNC_WEBHOOK_SECRET": config.webhook_secret,
            "LZSYNC_SYNC_TOPIC": config.sync_topic,
            "LZSYNC_EVENTS_TOPIC": config.events_topic,
            "LZSYNC_GIT_CACHE_DIR": str(config.work_dir / "git-cache"),
            "LZSYNC_GIT_FETCH_BACKOFF_SECONDS": "0.2",
            "THREADS": str(config.function_concurrency),
            **config.extra_env,
        }

    def start(self) -> LocalStack:
        log_dir = self.config.work_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = self.function_env()
        try:
            started = []
            for name in self.config.functions:
                process, port = _function_server(name, FUNCTIONS[name][0], env, log_dir)
                self._processes.append(process)
                self.urls[name] = f"http://{LOOPBACK}:{port}/"
                started.append((name, process))
            for name, process in started:
                # Any HTTP answer means the server is up (GET on the webhook answers 405).
                wait_until_ready(self.urls[name], process, READY_TIMEOUT_SECONDS, any_status=True)
                if FUNCTIONS[name][1] is not None:
                    self._wire_pubsub(name)
        except BaseException:
            self.stop()
            raise
        return self

    def _wire_pubsub(self, function: str) -> None:
        """The function's topic, a push subscription to it with a dead-letter policy, and the
        dead-letter topic with a pull subscription that keeps what lands there."""
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        topic = publisher.topic_path(self.project_id, self.config.topic(function))
        dead_letter = publisher.topic_path(self.project_id, self.config.dead_letter_topic(function))
        for path in (topic, dead_letter):
            publisher.create_topic(name=path)
        subscriber.create_subscription(
            name=subscriber.subscription_path(
                self.project_id, self.config.dead_letter_hold(function)
            ),
            topic=dead_letter,
        )
        subscription = subscriber.subscription_path(
            self.project_id, f"{self.config.topic(function)}-{self.config.delivery}"
        )
        push = self.config.delivery == "push"
        subscriber.create_subscription(
            request={
                "name": subscription,
                "topic": topic,
                "push_config": {"push_endpoint": self.urls[function]} if push else {},
                "ack_deadline_seconds": self.config.ack_deadline_seconds,
                "dead_letter_policy": {
                    "dead_letter_topic": dead_letter,
                    "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS,
                },
                "retry_policy": {
                    "minimum_backoff": _duration(self.config.min_backoff_seconds),
                    "maximum_backoff": _duration(self.config.max_backoff_seconds),
                },
            }
        )
        subscriber.close()
        if not push:
            relay = PushRelay(subscription, self.urls[function], self.config.relay_concurrency)
            self._relays.append(relay.start())

    def stop(self) -> None:
        for relay in self._relays:
            relay.stop()
        self._relays.clear()
        for process in self._processes:
            stop_process_group(process)
        self._processes.clear()


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))


class StatusWatcher:
    """Follows one ``sync_status`` document with a live listener, as the Portal does."""

    def __init__(self, client: firestore.Client, collection: str, layer: str) -> None:
        self._condition = threading.Condition()
        self.latest: dict[str, Any] = {}
        self._watch = client.collection(collection).document(layer).on_snapshot(self._on_change)

    def _on_change(self, snapshots: list[Any], _changes: Any, _read_time: Any) -> None:
        with self._condition:
            for snapshot in snapshots:
                self.latest = snapshot.to_dict() or {}
            self._condition.notify_all()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        with self._condition:
            if not self._condition.wait_for(lambda: predicate(self.latest), timeout=timeout):
                raise TimeoutError(f"status never matched; last seen: {self.latest}")
            return dict(self.latest)

    def close(self) -> None:
        self._watch.unsubscribe()  # type: ignore[no-untyped-call]


@dataclass
class StackSession:
    """A running stack with what drives and observes it: a GitHub-like sender for its webhook
    and a listener on ``sync_status/git``."""

    stack: LocalStack
    client: firestore.Client
    watcher: StatusWatcher
    sender: GitHubSender


@contextmanager
def running_stack(emulator_env: Mapping[str, str], config: StackConfig) -> Iterator[LocalStack]:
    stack = LocalStack(emulator_env, config).start()
    try:
        yield stack
    finally:
        stack.stop()


@contextmanager
def stack_session(emulator_env: Mapping[str, str], config: StackConfig) -> Iterator[StackSession]:
    """Start the stack (with its webhook) on running emulators; always stop it and close its
    clients."""
    with running_stack(emulator_env, config) as stack:
        client = firestore.Client(project=stack.project_id)
        watcher = StatusWatcher(client, "sync_status", "git")
        sender = GitHubSender(stack.webhook_url, config.webhook_secret)
        try:
            yield StackSession(stack, client, watcher, sender)
        finally:
            sender.close()
            watcher.close()
