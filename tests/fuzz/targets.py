"""Fuzz targets: each takes raw bytes, drives one parser the entry points use, and may raise
only the parser's documented error types. Anything else escaping is a crash: the input becomes
a corpus case under ``tests/corpus/`` and the library is fixed.

The same targets run under atheris (coverage-guided, ``make fuzz``) and under hypothesis (the
smoke test in ``make test``, and ``make fuzz`` where atheris is not installed). Targets also
check that what a parser accepted can be stored: Firestore's own encoder (no network) must take
every document and dead letter a parser produces, so a value Firestore refuses at write time
(a lone surrogate, say) is found here and not in production.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any, Final

from google.cloud.firestore_v1 import _helpers as firestore_encoding

from lzsync.adapters.asset_sources import parse_export_line
from lzsync.errors import InvalidPayload
from lzsync.logic import docids
from lzsync.logic.asset_normalize import resource_document
from lzsync.logic.classify import Classifier
from lzsync.logic.compliance.constraints import InvalidConstraint, parse_constraint
from lzsync.logic.file_content import describe
from lzsync.logic.signature import is_valid_signature, sign
from lzsync.model.feed import WelcomeMessage, parse_feed_message
from lzsync.model.github import PingEvent, PushEvent
from lzsync.model.pubsub import PubsubMessage
from lzsync.services.git_sync_event import parse_request
from lzsync.services.history_export_http import UnexportableDay, parse_day
from lzsync.services.webhook import WebhookService, _decode_body
from lzsync.settings import DEFAULT_CLASSIFY_RULES

Target = Callable[[bytes], None]
_CLASSIFIER: Final = Classifier(DEFAULT_CLASSIFY_RULES)
_PUSH_TYPES: Final = ("application/json", "application/x-www-form-urlencoded")


def _storable(document: dict[str, Any]) -> None:
    """Raise if Firestore's encoder would refuse ``document`` (the write would fail)."""
    firestore_encoding.encode_dict(document)


def _split(data: bytes, parts: int) -> list[bytes]:
    """``data`` cut at its first ``parts - 1`` NUL bytes (missing parts are empty)."""
    pieces = data.split(b"\0", parts - 1)
    return pieces + [b""] * (parts - len(pieces))


def signature(data: bytes) -> None:
    secret, body, header = _split(data, 3)
    header_text = header.decode("utf-8", "replace")
    if is_valid_signature(secret, body, header_text):
        assert secret, "accepted a signature with no secret"
        assert header_text == sign(secret, body), "accepted a wrong signature"
    if secret:
        good = sign(secret, body)
        assert is_valid_signature(secret, body, good)
        assert not is_valid_signature(secret, body, good.upper())
        assert not is_valid_signature(secret, body + b"x", good)


def webhook_payload(data: bytes) -> None:
    content_type = _PUSH_TYPES[data[0] % 2] if data else _PUSH_TYPES[0]
    try:
        document = _decode_body(content_type, data[1:])
        if not isinstance(document, dict):
            return  # refused as "payload must be a JSON object" before parsing
        for model in (PushEvent, PingEvent):
            WebhookService._parse(model, document)
    except InvalidPayload:
        return


def pubsub_envelope(data: bytes) -> None:
    try:
        envelope = json.loads(data)
    except (ValueError, RecursionError):
        return
    try:
        message = PubsubMessage.from_event_data(envelope)
    except InvalidPayload:
        return
    _storable({"attributes": dict(message.attributes), "message_id": message.message_id})
    docids.encode(f"events:{message.message_id}")
    try:
        parse_request(message)
    except InvalidPayload:
        return


def feed_message(data: bytes) -> None:
    try:
        change = parse_feed_message(data)
        document = None if change.deleted else resource_document(change.asset, source="event")
    except (InvalidPayload, WelcomeMessage):
        return
    docids.encode(change.asset_name)
    _storable({"name": change.asset_name, "time": change.start_time.astimezone(UTC)})
    if document is not None:
        _storable(document)


def export_line(data: bytes) -> None:
    try:
        line = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    asset = parse_export_line(line)
    if asset is None:
        return
    try:
        document = resource_document(asset, source="snapshot")
    except InvalidPayload:
        return
    docids.encode(document["name"])
    _storable(document)


def constraint(data: bytes) -> None:
    try:
        parse_constraint(data.decode("utf-8", "replace"), "fuzz.yaml")
    except InvalidConstraint:
        return


def tree_path(data: bytes) -> None:
    try:
        path = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # git_mirror skips non-UTF-8 paths with a warning before classifying
    if not path:
        return
    _CLASSIFIER.kind_of(path)
    key = f"acme/lz:{path}"
    doc_id = docids.encode(key)
    if not doc_id.startswith(docids.HASHED_PREFIX):
        assert docids.decode(doc_id) == key, "document id does not round-trip"
    described = describe(data, mode=0o100644, max_text_bytes=1 << 20)
    if described.text is not None:
        _storable({"path": path, "content": described.text, "title": described.title})


def scheduled_day(data: bytes) -> None:
    try:
        parse_day(data.decode("utf-8", "replace"))
    except UnexportableDay:
        return


TARGETS: Final[dict[str, Target]] = {
    "signature": signature,
    "webhook_payload": webhook_payload,
    "pubsub_envelope": pubsub_envelope,
    "feed_message": feed_message,
    "export_line": export_line,
    "constraint": constraint,
    "tree_path": tree_path,
    "scheduled_day": scheduled_day,
}
