"""Termination signals stop devtools runs the way Ctrl-C does, so the emulators and servers they
started are always stopped (their context managers run) instead of outliving them."""

from __future__ import annotations

import signal
from types import FrameType


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP (a closed terminal, a cancelled job) raise KeyboardInterrupt."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
