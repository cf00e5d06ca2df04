"""Deliver webhooks the way GitHub does: signed raw body, event and delivery headers."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from lzsync.logic.signature import sign


@dataclass(frozen=True)
class Delivery:
    status: int
    body: dict[str, Any]
    seconds: float


class GitHubSender:
    """A webhook sender for one hook: a secret and a hook id, like one GitHub webhook."""

    def __init__(self, url: str, secret: str, hook_id: int = 4242) -> None:
        self._url = url
        self._secret = secret.encode()
        self._hook_id = hook_id
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only, whatever proxy the environment names

    def deliver(
        self,
        event: str,
        payload: dict[str, Any],
        *,
        delivery_id: str | None = None,
        form_encoded: bool = False,
    ) -> Delivery:
        raw = json.dumps(payload).encode()
        if form_encoded:
            body = urlencode({"payload": raw.decode()}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body, content_type = raw, "application/json"
        headers = {
            "Content-Type": content_type,
            "User-Agent": "GitHub-Hookshot/lzsync-devtools",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": str(self._hook_id),
            "X-Hub-Signature-256": sign(self._secret, body),
        }
        started = time.perf_counter()
        response = self._session.post(self._url, data=body, headers=headers, timeout=10)
        seconds = time.perf_counter() - started
        return Delivery(response.status_code, response.json(), seconds)

    def close(self) -> None:
        self._session.close()
