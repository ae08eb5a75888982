"""The daemon's side of the safety chain: repeat while held, stop on release, deadman, stall."""

from __future__ import annotations

import logging

from edge.config import SafetyConfig
from edge.pipeline.commands import STOP
from edge.types import Command

log = logging.getLogger(__name__)


class SafetyGate:
    """Decides which commands reach the publisher.

    Every timer runs on `now`, monotonic seconds passed in by the loop, so a step of the Unix
    clock (NTP on a Pi without an RTC) can neither fire a false stall nor hold off the deadman;
    `ts` (Unix seconds) only goes into the commands' payload. Callers that pass no `now` use
    `ts` for both (a single timeline, as in tests of the decisions alone).

    - A new command is sent at once and re-sent every `repeat_interval` while it is held.
    - Release (the smoothed gesture maps to no command) sends `stop` once, then silence.
    - Deadman: a held command whose gesture has had no confident raw frame for `hold_timeout`
      sends `stop` once, then silence: the command is latched off until the gesture is
      released or changes, so a stray confident frame cannot restart the vehicle.
    - Stall: no frame at all for `stall_timeout` sends `stop` once per stall.
    """

    def __init__(self, cfg: SafetyConfig, now: float) -> None:
        self.cfg = cfg
        self.active: str | None = None
        self.latched: str | None = None  # stopped by the deadman; needs a release to re-arm
        self.stalled = False
        self.stalls = 0
        self._last_sent = float("-inf")
        self._last_confident = float("-inf")
        self._last_frame = now

    def on_frame(
        self,
        command: str | None,
        gesture: str,
        confidence: float,
        confident: bool,
        ts: float,
        now: float | None = None,
    ) -> list[Command]:
        """One processed frame.

        Args:
            command: the command the smoothed gesture maps to (None: no command gesture).
            gesture: the smoothed gesture label.
            confidence: its smoothed score.
            confident: this frame's raw prediction alone supports `command`.
            ts: the frame's capture time (Unix seconds, for the payload).
            now: monotonic seconds (the loop's clock); `ts` when not given.

        Returns:
            The commands to publish now (zero or one).
        """
        now = ts if now is None else now
        self._last_frame = now
        self.stalled = False
        if command is None:
            self.latched = None
            return self._stop(gesture, confidence, ts, now, "release")
        if command == self.latched:
            return []
        self.latched = None
        if confident:
            self._last_confident = now
        if now - self._last_confident > self.cfg.hold_timeout:
            return self._deadman(gesture, confidence, ts, now)
        if command != self.active:
            self.active = command
            return [self._send(command, gesture, confidence, ts, now, "gesture")]
        if now - self._last_sent >= self.cfg.repeat_interval:
            return [self._send(command, gesture, confidence, ts, now, "repeat")]
        return []

    def on_idle(self, now: float, ts: float | None = None) -> tuple[list[Command], bool]:
        """No frame arrived by `now` (monotonic); `ts` (Unix, default `now`) stamps a stop.

        Returns:
            The commands to publish (a deadman or stall `stop`), and whether a stall period
            elapsed, i.e. the camera should be reopened (again every `stall_timeout`).
        """
        ts = now if ts is None else ts
        out: list[Command] = []
        if self.active is not None and now - self._last_confident > self.cfg.hold_timeout:
            out += self._deadman("none", 0.0, ts, now)
        if now - self._last_frame <= self.cfg.stall_timeout:
            return out, False
        if not self.stalled:
            self.stalled = True
            self.stalls += 1
            if self._last_frame == float("-inf"):
                log.warning("camera failed: stop, then reopen")
            else:
                log.warning("camera stalled: no frame for %.1f s", now - self._last_frame)
            self.active = None
            out.append(self._send(STOP, "none", 0.0, ts, now, "stall"))
        self._last_frame = now  # the next reopen is due one stall_timeout from here
        return out, True

    def stall(self, now: float, ts: float | None = None) -> tuple[list[Command], bool]:
        """The camera failed outright: a stall now, without waiting for `stall_timeout`."""
        self._last_frame = float("-inf")
        return self.on_idle(now, ts)

    def shutdown(self, ts: float) -> Command:
        """The `stop` sent on SIGTERM/SIGINT, whatever the state; `ts` is Unix time."""
        self.active = None
        return Command(command=STOP, gesture="none", confidence=0.0, ts=ts, reason="shutdown")

    def _deadman(self, gesture: str, confidence: float, ts: float, now: float) -> list[Command]:
        self.latched = self.active
        return self._stop(gesture, confidence, ts, now, "deadman")

    def _stop(
        self, gesture: str, confidence: float, ts: float, now: float, reason: str
    ) -> list[Command]:
        was, self.active = self.active, None
        if was is None or was == STOP:
            return []
        log.info("%s: stop (was %s)", reason, was)
        return [self._send(STOP, gesture, confidence, ts, now, reason)]

    def _send(
        self, command: str, gesture: str, confidence: float, ts: float, now: float, reason: str
    ) -> Command:
        self._last_sent = now
        return Command(
            command=command, gesture=gesture, confidence=confidence, ts=ts, reason=reason
        )
