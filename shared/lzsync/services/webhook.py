"""Layer 1: turn a GitHub delivery into at most one sync request, in milliseconds.

Named steps, in order: authenticate (signature) → validate (headers, body) → decide (event,
repository, branch, redelivery) → handle (publish). The sync itself never runs inside the
request: GitHub waits only 10 s for an answer. Unauthenticated requests cause no Firestore
write, so a flood of forged requests costs nothing but the function's own time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs

from pydantic import ValidationError

from lzsync.adapters.deliveries import DeliveryLedger
from lzsync.adapters.publisher import JsonPublisher
from lzsync.adapters.status import StatusBoard
from lzsync.errors import InvalidPayload, RetryableError
from lzsync.logic.signature import SIGNATURE_HEADER, is_valid_signature
from lzsync.logs import audit, bound
from lzsync.model.github import PingEvent, PushEvent
from lzsync.model.sync_request import SyncRequest
from lzsync.settings import Settings

_log = logging.getLogger("lzsync.webhook")

EVENT_HEADER: Final = "X-GitHub-Event"
DELIVERY_HEADER: Final = "X-GitHub-Delivery"
HOOK_ID_HEADER: Final = "X-GitHub-Hook-ID"
_FORM_TYPE: Final = "application/x-www-form-urlencoded"
_JSON_TYPE: Final = "application/json"


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _refuse(status: int, error: str) -> WebhookResponse:
    return WebhookResponse(status, {"status": "refused", "error": error})


def _ignore(reason: str, delivery: str) -> WebhookResponse:
    return WebhookResponse(202, {"status": "ignored", "reason": reason, "delivery": delivery})


def _decode_body(content_type: str, body: bytes) -> Any:
    """The JSON document of a delivery sent as ``application/json`` or form-encoded."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if media_type == _FORM_TYPE:
            fields = parse_qs(text, keep_blank_values=True, strict_parsing=True)
            payloads = fields.get("payload", [])
            if len(payloads) != 1:
                raise InvalidPayload("form body must carry exactly one 'payload' field")
            text = payloads[0]
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as error:
        if isinstance(error, InvalidPayload):
            raise
        raise InvalidPayload(f"body is not valid JSON: {error}") from error


class WebhookService:
    def __init__(
        self,
        settings: Settings,
        ledger: DeliveryLedger,
        publisher: JsonPublisher,
        status: StatusBoard,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._publisher = publisher
        self._status = status

    def handle(self, headers: Mapping[str, str], content_type: str, body: bytes) -> WebhookResponse:
        """Answer one POSTed delivery (method and size were checked by the HTTP adapter)."""
        # HTTP header names are case-insensitive (RFC 9110, 5.1).
        headers = {name.lower(): value for name, value in headers.items()}
        secret = self._settings.webhook_secret
        if secret is None or not secret.get_secret_value():
            _log.error("refusing delivery: LZSYNC_WEBHOOK_SECRET is not configured")
            return WebhookResponse(
                503,
                {"status": "refused", "error": "webhook secret not configured; failing closed"},
            )
        signature = headers.get(SIGNATURE_HEADER.lower())
        if not is_valid_signature(secret.get_secret_value().encode(), body, signature):
            _log.warning(
                "refusing delivery: bad or missing signature",
                extra={"signature_present": signature is not None},
            )
            return _refuse(401, f"missing or invalid {SIGNATURE_HEADER}")
        event = headers.get(EVENT_HEADER.lower(), "").strip()
        delivery = headers.get(DELIVERY_HEADER.lower(), "").strip()
        if not event or not delivery:
            return _refuse(400, f"{EVENT_HEADER} and {DELIVERY_HEADER} headers are required")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in {_JSON_TYPE, _FORM_TYPE}:
            return _refuse(415, f"content type must be {_JSON_TYPE} or {_FORM_TYPE}")
        with bound(
            delivery=delivery, github_event=event, hook_id=headers.get(HOOK_ID_HEADER.lower())
        ):
            try:
                document = _decode_body(content_type, body)
                return self._decide(event, delivery, headers.get(HOOK_ID_HEADER.lower()), document)
            except InvalidPayload as error:
                _log.warning("refusing malformed delivery", extra={"error": str(error)})
                return _refuse(400, str(error))
            except RetryableError as error:
                _log.error("delivery not accepted: upstream failure", extra={"error": str(error)})
                return WebhookResponse(503, {"status": "retry", "error": "temporarily unavailable"})

    def _decide(
        self, event: str, delivery: str, hook_id: str | None, document: Any
    ) -> WebhookResponse:
        if not isinstance(document, dict):
            raise InvalidPayload("payload must be a JSON object")
        now = datetime.now(UTC)
        if event == "ping":
            ping = self._parse(PingEvent, document)
            self._note_status({"last_ping": now, "last_ping_hook_id": ping.hook_id}, "pings")
            audit("webhook_ping", outcome="recorded", hook=ping.hook_id)
            return WebhookResponse(200, {"status": "pong", "delivery": delivery})
        if event != "push":
            return self._ignored(delivery, f"event {event!r} does not trigger a sync", now)
        push = self._parse(PushEvent, document)
        with bound(repo=push.repository.full_name, ref=push.ref, after=push.after):
            return self._decide_push(push, delivery, hook_id, now)

    @staticmethod
    def _parse(model: type[PushEvent] | type[PingEvent], document: dict[str, Any]) -> Any:
        try:
            return model.model_validate(document)
        except ValidationError as error:
            first = error.errors()[0]
            location = ".".join(str(part) for part in first["loc"])
            raise InvalidPayload(f"{location}: {first['msg']}", field=location) from error

    def _decide_push(
        self, push: PushEvent, delivery: str, hook_id: str | None, now: datetime
    ) -> WebhookResponse:
        repo = self._settings.repo(push.repository.full_name)
        if repo is None:
            return self._ignored(
                delivery, f"repository {push.repository.full_name} not configured", now
            )
        if push.branch is None:
            return self._ignored(delivery, f"{push.ref} is not a branch", now)
        if push.branch != repo.branch:
            return self._ignored(delivery, f"branch {push.branch} is not {repo.branch}", now)
        if push.is_branch_deletion:
            # Deleting the synced branch must not blank the Portal: keep the last synced state.
            return self._ignored(delivery, "branch deleted; last synced state kept", now)
        key = self._ledger.key(hook_id, delivery)
        if not self._ledger.claim(key, repo=repo.name, event="push"):
            self._note_status({"last_attempt": now}, "duplicates")
            audit("webhook_push", outcome="duplicate", repo=repo.name, delivery=delivery)
            return WebhookResponse(202, {"status": "duplicate", "delivery": delivery})
        request = SyncRequest(
            trigger="webhook",
            repo=repo.name,
            after=push.after,
            delivery=delivery,
            actor=push.actor,
            requested_at=now,
        )
        try:
            message_id = self._publisher.publish(request.model_dump(mode="json"), repo=repo.name)
        except RetryableError as error:
            self._ledger.release(key)
            # Firestore answered the claim just now: record why the push was not queued, so
            # the Portal does not show the webhook as healthy while syncs are being lost.
            self._note_status(
                {"state": "degraded", "last_attempt": now, "last_error": str(error)}, "failures"
            )
            raise
        self._note_status(
            {
                "state": "ok",
                "last_attempt": now,
                "last_success": now,
                "last_delivery": delivery,
                "last_repo": repo.name,
                "last_after": push.after,
                "last_error": None,
            },
            "accepted",
        )
        audit(
            "webhook_push",
            outcome="accepted",
            repo=repo.name,
            delivery=delivery,
            after=push.after,
            actor=push.actor,
            forced=push.forced,
            message_id=message_id,
        )
        return WebhookResponse(
            202, {"status": "accepted", "delivery": delivery, "message_id": message_id}
        )

    def _ignored(self, delivery: str, reason: str, now: datetime) -> WebhookResponse:
        self._note_status({"last_attempt": now}, "ignored")
        audit("webhook_delivery", outcome="ignored", reason=reason, delivery=delivery)
        return _ignore(reason, delivery)

    def _note_status(self, fields: dict[str, Any], counter: str) -> None:
        """Best effort: the answer to GitHub must not depend on the status board."""
        try:
            self._status.update("webhook", fields, increments={counter: 1})
        except RetryableError as error:
            _log.warning("sync_status/webhook not updated", extra={"error": str(error)})
