"""``_dead_letters``: messages that can never succeed, kept with what is needed to replay them.

A permanent failure is recorded here and acknowledged, so Pub/Sub stops redelivering it; a
message that keeps failing transiently ends on the subscription's dead-letter topic instead.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from google.cloud import firestore

from lzsync.adapters.clients import transient_errors_as_retryable
from lzsync.logic import docids

# Base64 grows data by a third: 512 KiB of data stays well inside a 1 MiB document.
MAX_DATA_BYTES: Final = 512 * 1024
# A reason quotes the input (a repository name, say), which can be as large as the message.
MAX_REASON_CHARS: Final = 4096


class DeadLetterBox:
    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._collection = client.collection(collection)

    def record(
        self,
        *,
        layer: str,
        message_id: str,
        data: bytes,
        attributes: Mapping[str, str],
        reason: str,
        error_type: str,
    ) -> str:
        message_id = _storable(message_id)
        doc_id = docids.encode(f"{layer}:{message_id}")
        entry: dict[str, Any] = {
            "layer": layer,
            "message_id": message_id,
            # Pub/Sub carries up to 10 MB, a Firestore document 1 MiB: keep the head of a huge
            # message and say so, rather than fail the letter and retry the message forever.
            "data_base64": base64.b64encode(data[:MAX_DATA_BYTES]).decode(),
            "data_bytes": len(data),
            "data_truncated": len(data) > MAX_DATA_BYTES,
            "attributes": {_storable(key): _storable(value) for key, value in attributes.items()},
            "reason": _storable(reason[:MAX_REASON_CHARS]),
            "error_type": error_type,
            "recorded_at": datetime.now(UTC),
            "replayed": False,
        }
        with transient_errors_as_retryable("firestore"):
            self._collection.document(doc_id).set(entry)
        return doc_id


def _storable(text: str) -> str:
    """``text`` as Firestore stores it: a lone surrogate (a forged message can carry one)
    would make the letter itself fail, and the message retry forever instead of resting here."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
