"""Firestore document ids from natural keys (file paths, asset names), reversibly.

Firestore ids may not contain ``/``, may not be ``.`` or ``..``, may not match ``__.*__`` and
must fit in 1,500 bytes (Firestore "Usage and limits"). Keys are percent-encoded (``/`` →
``%2F``; ``:`` and ``@`` kept for readability), the reserved shapes get their first character
encoded, and a key whose encoding would exceed the limit becomes ``~`` + its SHA-256: such ids
cannot be decoded, which is why every document also stores its natural key as a field.
"""

from __future__ import annotations

import hashlib
from typing import Final
from urllib.parse import quote, unquote

MAX_ID_BYTES: Final = 1500
HASHED_PREFIX: Final = "~"


def encode(key: str) -> str:
    """A valid, unique Firestore document id for ``key``."""
    if not key:
        raise ValueError("a document key must not be empty")
    encoded = quote(key, safe=":@").replace("~", "%7E")
    if encoded in {".", ".."}:
        encoded = "%2E" + encoded[1:]
    elif encoded.startswith("__") and encoded.endswith("__"):
        encoded = "%5F" + encoded[1:]
    if len(encoded.encode()) > MAX_ID_BYTES:
        return HASHED_PREFIX + hashlib.sha256(key.encode()).hexdigest()
    return encoded


def decode(doc_id: str) -> str:
    """The key an :func:`encode` id came from; hashed ids cannot be reversed."""
    if doc_id.startswith(HASHED_PREFIX):
        raise ValueError(f"{doc_id!r} is a hashed id; read the key from the document")
    return unquote(doc_id)
