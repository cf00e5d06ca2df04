"""Small factories and paths shared by the tests."""

from __future__ import annotations

import json
from typing import Any

from lzsync.devtools.landing_zone import shared_dir

SHARED_DIR = shared_dir()
FORMATS_DIR = SHARED_DIR / "fixtures" / "formats"


def load_format(relative: str) -> Any:
    """A real payload from ``../shared/fixtures/formats``."""
    return json.loads((FORMATS_DIR / relative).read_text())


def load_format_bytes(relative: str) -> bytes:
    return (FORMATS_DIR / relative).read_bytes()
