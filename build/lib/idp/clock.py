"""One injectable clock: every expiry, lock and session age is read from it, so tests move
time instead of deleting state, and a comparison between nodes can allow a leeway."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds (UTC epoch). `advance` exists for tests; production never calls it."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def seconds(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0
