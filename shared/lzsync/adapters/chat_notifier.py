"""Post an alert to a chat webhook (Slack's incoming-webhook JSON, ``{"text": ...}``, which
Google Chat, Mattermost and Teams connectors accept as well)."""

from __future__ import annotations

import logging
from typing import Final

import requests

_log = logging.getLogger("lzsync.freshness")
_TIMEOUT_SECONDS: Final = 10.0


class ChatNotifier:
    def __init__(self, url: str, session: requests.Session | None = None) -> None:
        self._url = url
        self._session = session or requests.Session()

    def send(self, text: str) -> bool:
        """True when the webhook accepted the message (2xx); False to retry at the next check."""
        try:
            response = self._session.post(self._url, json={"text": text}, timeout=_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            _log.warning("chat webhook unreachable", extra={"error": type(error).__name__})
            return False
        if not response.ok:
            _log.warning("chat webhook refused the alert", extra={"status": response.status_code})
        return response.ok
