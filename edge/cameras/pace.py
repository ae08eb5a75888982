"""Real-time pacing for finite sources (video files, image replays): one frame per period."""

from __future__ import annotations

import time


class Pacer:
    """Hands out one slot per `period` seconds (monotonic); `period=None` never waits.

    A consumer slower than the rate gets the next slot at once, never a burst to catch up:
    every frame is delivered, later.
    """

    def __init__(self, period: float | None) -> None:
        self.period = period
        self._due = time.monotonic()

    def restart(self) -> None:
        """The first slot is now (on open)."""
        self._due = time.monotonic()

    def wait(self, timeout: float) -> bool:
        """Sleep until the next slot; False (after sleeping `timeout`) when it is further away."""
        if self.period is None:
            return True
        wait = self._due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return False
        if wait > 0:
            time.sleep(wait)
        return True

    def take(self) -> None:
        """The slot is used: the next one is a period from now (or from when it was due)."""
        if self.period is not None:
            self._due = max(self._due, time.monotonic()) + self.period
