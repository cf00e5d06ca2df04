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
from typing import Any, Final

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
from lzsync.settings import RepoConfig

MAX_DELIVERY_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class StackConfig:
    repos: tuple[RepoConfig, ...]
    webhook_secret: str
    work_dir: Path
    name_prefix: str = "lz"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Pub/Sub redelivery backoff of the push subscription (production default: 10 s to 600 s).
    min_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 10.0

    @property
    def sync_topic(self) -> str:
        return f"{self.name_prefix}-git-sync-requests"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.sync_topic}-dead-letter"

    @property
    def dead_letter_hold(self) -> str:
        """The pull subscription that keeps dead letters until they are replayed."""
        return f"{self.dead_letter_topic}-hold"


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
        self.webhook_url = ""
        self.git_sync_url = ""

    def function_env(self) -> dict[str, str]:
        config = self.config
        return {
            **self._emulator_env,
            "LZSYNC_REPOS": json.dumps([repo.model_dump() for repo in config.repos]),
            "LZSYNC_WEBHOOK_SECRET": config.webhook_secret,
            "LZSYNC_SYNC_TOPIC": config.sync_topic,
            "LZSYNC_GIT_CACHE_DIR": str(config.work_dir / "git-cache"),
            "LZSYNC_GIT_FETCH_BACKOFF_SECONDS": "0.2",
            **config.extra_env,
        }

    def start(self) -> LocalStack:
        log_dir = self.config.work_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = self.function_env()
        try:
            for name, signature in (("git_sync", "cloudevent"), ("webhook", "http")):
                process, port = _function_server(name, signature, env, log_dir)
                self._processes.append(process)
                url = f"http://{LOOPBACK}:{port}/"
                if name == "webhook":
                    self.webhook_url = url
                else:
                    self.git_sync_url = url
            for process, url in zip(
                self._processes, (self.git_sync_url, self.webhook_url), strict=True
            ):
                # Any HTTP answer means the server is up (GET on the webhook answers 405).
                wait_until_ready(url, process, READY_TIMEOUT_SECONDS, any_status=True)
            self._wire_pubsub()
        except BaseException:
            self.stop()
            raise
        return self

    def _wire_pubsub(self) -> None:
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        topic = publisher.topic_path(self.project_id, self.config.sync_topic)
        dead_letter = publisher.topic_path(self.project_id, self.config.dead_letter_topic)
        for path in (topic, dead_letter):
            publisher.create_topic(name=path)
        # A pull subscription keeps dead letters until someone replays them.
        subscriber.create_subscription(
            name=subscriber.subscription_path(self.project_id, self.config.dead_letter_hold),
            topic=dead_letter,
        )
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(
                    self.project_id, f"{self.config.name_prefix}-git-sync-push"
                ),
                "topic": topic,
                "push_config": {"push_endpoint": self.git_sync_url},
                "ack_deadline_seconds": 60,
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

    def stop(self) -> None:
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
def stack_session(emulator_env: Mapping[str, str], config: StackConfig) -> Iterator[StackSession]:
    """Start the stack on running emulators; always stop it and close its clients."""
    stack = LocalStack(emulator_env, config).start()
    client = firestore.Client(project=stack.project_id)
    watcher = StatusWatcher(client, "sync_status", "git")
    sender = GitHubSender(stack.webhook_url, config.webhook_secret)
    try:
        yield StackSession(stack, client, watcher, sender)
    finally:
        sender.close()
        watcher.close()
        stack.stop()
