"""What a subscriber believes of a command: bounded parsing, freshness without synced clocks, seq.

Message Expiry starts at the broker, so a broker that hangs can deliver a burst of old commands
with a fresh expiry (DESIGN.md safety chain, item 7). `Freshness` therefore judges each command
by its own receive time against the daemon's `ts`: it keeps the offset between the two clocks
(the smallest recent `receive - ts`, i.e. the fastest delivery seen) and drops a command that
arrives more than `max_age` later than that. No single message moves the offset or the
sequence far: a new offset or a new sequence is adopted only when messages that disagree with
the old one agree with each other for `settle` seconds of receive time (a daemon whose clock
stepped, or that restarted), which a burst never does (it arrives all at once).
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

MAX_PAYLOAD = 2048  # bytes; a daemon command is ~150
MAX_BRACKETS = 8  # '[' and '{' in a payload: a command is one flat object
MAX_SEQ = 2**53  # the daemon's seq (Unix ms at start + count) stays far below
MIN_TS = 1_577_836_800.0  # 2020-01-01: a clock before that was never set
MAX_COMMAND_LEN = 32
SETTLE = 1.0  # seconds of receive time a new clock offset or sequence must hold
SETTLE_COUNT = 3  # messages in that time (the daemon repeats a held command every 0.5 s)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number here")


def parse_command(payload: bytes) -> dict[str, Any] | None:
    """A command payload as a dict, or None when it is not a well-formed command.

    Size and nesting are bounded before json sees the bytes (a 100,000-deep `[[[` is refused
    without recursion); NaN and Infinity are refused; `seq` must be an int in [0, 2^53], `ts`
    a finite number, `command` a short plain name.
    """
    if not isinstance(payload, (bytes, bytearray)) or len(payload) > MAX_PAYLOAD:
        return None
    if payload.count(b"[") + payload.count(b"{") > MAX_BRACKETS:
        return None
    try:
        message = json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    command, seq, ts = message.get("command"), message.get("seq"), message.get("ts")
    if not isinstance(command, str) or not 0 < len(command) <= MAX_COMMAND_LEN:
        return None
    if not command.replace("_", "").replace("-", "").isalnum() or not command.isascii():
        return None
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        return None
    if not isinstance(ts, (int, float)) or isinstance(ts, bool):
        return None
    try:
        if not math.isfinite(float(ts)):
            return None
    except OverflowError:  # an int too large for a float
        return None
    return message


@dataclass
class _Run:
    """Consecutive messages that disagree with the current belief but agree with each other."""

    first: float = 0.0  # receive time of the first one
    anchor: float = 0.0  # its value
    last_value: float = 0.0
    count: int = 0

    def add(self, received: float, value: float, agrees: bool) -> bool:
        """Count one more; True once `SETTLE_COUNT` of them span `SETTLE` seconds."""
        if self.count == 0 or not agrees:
            self.first, self.anchor, self.count = received, value, 0
        self.count += 1
        self.last_value = value
        return self.count >= SETTLE_COUNT and received - self.first >= SETTLE

    def clear(self) -> None:
        self.count = 0


class Freshness:
    """Judges a command's `ts` against the subscriber's own clocks.

    `offset` is `monotonic receive time - ts`, the smallest seen over the last `window`
    seconds of accepted commands; a command is fresh when its own offset is within `max_age`
    of it. Until an offset is known (start-up) the local Unix clock is the reference, so with
    synchronised clocks the first command acts at once; with unsynchronised ones after
    `SETTLE` s of consistent commands. `max_skew` bounds `ts` against the local Unix clock
    (a clock an hour off is a fault, not a daemon).
    """

    def __init__(self, max_age: float, max_skew: float = 300.0, window: float = 10.0) -> None:
        self.max_age = max_age
        self.max_skew = max_skew
        self.window = window
        self.offset: float | None = None
        self._recent: deque[tuple[float, float]] = deque()
        self._run = _Run()

    def judge(self, ts: float, received: float, wall: float) -> str | None:
        """None when fresh (then call `learn`), else why the command is not."""
        ts = float(ts)
        if not math.isfinite(ts) or ts < MIN_TS:
            return f"implausible ts {ts!r}"
        if abs(ts - wall) > self.max_skew:
            return f"ts {ts - wall:+.0f} s from this clock (max_skew {self.max_skew:g} s)"
        offset = received - ts
        age = wall - ts if self.offset is None else offset - self.offset
        if -self.max_age <= age <= self.max_age:
            self._run.clear()
            return None
        # a live stream holds its offset; a burst of old ones drifts (ts outpaces arrival)
        agrees = abs(offset - self._run.anchor) <= self.max_age
        if self._run.add(received, offset, agrees):
            # the daemon's clock stepped (or it restarted with another): follow it
            self._run.clear()
            self._recent.clear()
            self.offset = offset
            return None
        if age > 0:
            return f"stale: {age:.2f} s later than the fastest delivery"
        return f"ts {-age:.2f} s ahead of the daemon's clock as seen so far"

    def learn(self, ts: float, received: float) -> None:
        """Record an accepted command's offset (the estimate is the recent minimum)."""
        offset = received - float(ts)
        self._recent.append((received, offset))
        while len(self._recent) > 1 and self._recent[0][0] < received - self.window:
            self._recent.popleft()
        while len(self._recent) > 512:
            self._recent.popleft()
        self.offset = min(o for _, o in self._recent)


class Sequence:
    """`seq` must grow; a lower one is adopted only once it keeps growing for `SETTLE` s."""

    def __init__(self) -> None:
        self.last: int | None = None
        self._run = _Run()

    def judge(self, seq: int, received: float) -> str | None:
        """None when `seq` may be accepted (then call `commit`), else why not."""
        if self.last is None or seq > self.last:
            self._run.clear()
            return None
        grows = seq > self._run.last_value
        if self._run.add(received, seq, grows):
            self._run.clear()
            return None  # a restarted daemon (or a forged huge seq before): a new sequence
        return f"seq {seq} after {self.last} dropped (duplicate or out of order)"

    def commit(self, seq: int) -> None:
        self.last = seq
