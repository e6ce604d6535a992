"""Waiting, bounded, for what another thread or process makes true a moment later."""

import time
from collections.abc import Callable


def until(check: Callable[[], object], seconds: float, every: float = 0.02) -> bool:
    """Whether `check()` came true within `seconds` (asked every `every` seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return bool(check())
