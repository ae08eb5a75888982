"""The two clocks: monotonic for every timer, Unix time only for payloads (DESIGN.md safety 8)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """What the daemon and the subscribers read time from; tests pass one they can step."""

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (timers, timeouts, deadman, stall)."""
        ...

    def time(self) -> float:
        """Unix seconds (payload `ts` only: it may step when NTP corrects it)."""
        ...


class SystemClock:
    """The real clocks: `time.monotonic()` and `time.time()`."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class SteppedClock:
    """A clock a test drives: `advance()` moves both, `step_wall()` jumps Unix time only."""

    def __init__(self, mono: float = 1000.0, wall: float = 1_700_000_000.0) -> None:
        self.mono = mono
        self.wall = wall

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds

    def step_wall(self, seconds: float) -> None:
        """An NTP correction or an RTC-less boot: Unix time jumps, monotonic time does not."""
        self.wall += seconds


SYSTEM_CLOCK = SystemClock()
