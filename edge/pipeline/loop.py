"""The per-frame loop: frame -> raised hands -> the one that drives -> smoothed -> command."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge.cameras import Camera, CameraError, EndOfStream
from edge.clock import SYSTEM_CLOCK, Clock
from edge.link.probe import Instance
from edge.pipeline.choose import choose
from edge.pipeline.classify import Classifier
from edge.pipeline.commands import CommandMap
from edge.pipeline.locate import Locator
from edge.pipeline.safety import SafetyGate
from edge.pipeline.smoothing import NONE, Smoother
from edge.pipeline.stats import Stats
from edge.types import Command, Frame, FrameObserver, FrameResult

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.1  # seconds a read may block, so SIGTERM and timers are noticed quickly
MAX_BACKOFF = 30.0


class Sink(Protocol):
    """Where the loop's messages go: `edge.link.publisher.Publisher` (topics under `root`).

    Each publish returns whether it went out; `yield_to` is the earlier daemon that owns this
    device id, once one is seen (the loop then stops without a final stop).
    """

    root: str

    @property
    def yield_to(self) -> Instance | None: ...

    def confirmed(self) -> bool: ...

    def command(self, cmd: Command, force: bool = False) -> bool: ...

    def gesture(self, gesture: str, confidence: float, ts: float) -> bool: ...

    def stats(self, payload: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class LoopSettings:
    """What the loop needs besides its stages: one threshold, one interval, names for stats."""

    min_confidence: float  # a prediction this sure (and mapping to the command) is `confident`
    stats_interval: float  # seconds between `stats` payloads
    model_name: str
    runtime: str


@dataclass
class Stages:
    """The daemon's stages, in the order a frame passes through them, and the loop's settings."""

    camera: Camera
    locator: Locator
    classifier: Classifier
    smoother: Smoother
    commands: CommandMap
    safety: SafetyGate
    publisher: Sink
    stats: Stats
    settings: LoopSettings
    clock: Clock = field(default=SYSTEM_CLOCK)  # monotonic for timers, Unix for payloads


class DaemonLoop:
    """Runs the stages until stopped or a finite source ends; tells observers about each frame.

    Time comes from `stages.clock`, read once per iteration and handed to the stages as `now`
    (monotonic); Unix time only stamps payloads.
    """

    def __init__(self, stages: Stages, observers: Sequence[FrameObserver] = ()) -> None:
        self.s = stages
        self.observers = list(observers)
        self._next_stats = stages.clock.monotonic() + stages.settings.stats_interval

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set, the camera ends its stream, or another daemon owns the id."""
        clock = self.s.clock
        while not stop.is_set():
            if self.s.publisher.yield_to is not None:
                log.error(
                    "stopping: device_id %s belongs to an earlier daemon", self.s.publisher.root
                )
                return
            try:
                frame = self.s.camera.read(READ_TIMEOUT)
            except EndOfStream:
                log.info("end of the camera stream")
                return
            except CameraError as exc:
                log.error("camera error: %s", exc)
                self._idle(stop, *self.s.safety.stall(clock.monotonic(), clock.time()))
                continue
            if frame is None:
                self._idle(stop, *self.s.safety.on_idle(clock.monotonic(), clock.time()))
            else:
                self.step(frame, clock.monotonic())
            self._maybe_stats()

    def step(self, frame: Frame, now: float | None = None) -> FrameResult:
        """Process one frame through every stage and publish what the safety gate lets out.

        Args:
            frame: the camera frame (`ts`: Unix capture time, for the payloads).
            now: monotonic seconds for the safety timers (default: the stages' clock).
        """
        s = self.s
        now = s.clock.monotonic() if now is None else now
        t0 = time.perf_counter()
        regions = s.locator.locate_all(frame)
        t1 = time.perf_counter()
        choice = choose([s.classifier.classify(frame, r) for r in regions], s.commands)
        prediction = choice.prediction
        region = regions[choice.hand] if choice.hand is not None else None
        s.stats.hand(region.size if region is not None else None, len(regions))
        t2 = time.perf_counter()
        smoothed = s.smoother.update(prediction)
        command = s.commands.command_for(smoothed.gesture)
        confident = (
            prediction is not None
            and prediction.score >= s.settings.min_confidence
            and s.commands.command_for(prediction.label) == command
        )
        # Reuse of a still hand (edge.hands.still) only while nothing is in play: one hand read,
        # its raw frame agreeing with the held gesture, no gesture being entered or released.
        s.locator.steady(
            confident and len(regions) == 1 and not smoothed.changed and s.smoother.settled()
        )
        if smoothed.changed:
            s.publisher.gesture(smoothed.gesture, smoothed.confidence, frame.ts)
        out = s.safety.on_frame(
            command, smoothed.gesture, smoothed.confidence, confident, frame.ts, now
        )
        self._publish(out)
        t3 = time.perf_counter()
        s.stats.record(
            frame.index,
            {"locate": t1 - t0, "classify": t2 - t1, "decide": t3 - t2, "total": t3 - t0},
        )
        result = FrameResult(
            frame=frame,
            region=region,
            prediction=prediction,
            regions=tuple(regions),
            gesture=None if smoothed.gesture == NONE else smoothed.gesture,
            confidence=smoothed.confidence,
            command=out[-1] if out else None,
            fps=s.stats.fps(),
        )
        for observer in self.observers:
            observer.on_frame(result)
        return result

    def shutdown(self) -> None:
        """Publish the final `stop` and stats (SIGTERM/SIGINT or end of stream).

        The stop is written even while the link is unconfirmed (a late stop is harmless); when
        it cannot be, the Last Will that `Publisher.close` leads to stops the vehicles.
        """
        s = self.s
        if s.publisher.yield_to is not None:  # the vehicle follows the earlier daemon
            log.info("no final stop: device_id %s belongs to an earlier daemon", s.publisher.root)
            return
        if s.publisher.command(s.safety.shutdown(s.clock.time()), force=True):
            log.info(
                "final stop published%s", "" if s.publisher.confirmed() else " (link unconfirmed)"
            )
        else:
            log.warning("final stop not sent (MQTT down); the broker's Last Will covers it")
        self._maybe_stats(force=True)

    def _publish(self, commands: list[Command]) -> None:
        for cmd in commands:
            self.s.publisher.command(cmd)

    def _idle(self, stop: threading.Event, commands: list[Command], reopen: bool) -> None:
        self._publish(commands)
        if reopen:
            self._reopen(stop)

    def _reopen(self, stop: threading.Event) -> None:
        """Reopen a stalled camera, retrying with exponential backoff until stopped."""
        self.s.smoother.reset()  # old frames say nothing about now
        self.s.stats.reset_index()
        self._maybe_stats(force=True)
        delay = 0.5
        while not stop.is_set():
            self.s.camera.close()
            try:
                self.s.camera.open()
                log.info("camera reopened")
                return
            except CameraError as exc:
                log.warning("camera reopen failed (%s); retrying in %.1f s", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)

    def _maybe_stats(self, force: bool = False) -> None:
        now = self.s.clock.monotonic()
        if not force and now < self._next_stats:
            return
        self._next_stats = now + self.s.settings.stats_interval
        s = self.s
        s.publisher.stats(
            s.stats.snapshot(
                model=s.settings.model_name,
                runtime=s.settings.runtime,
                stalled=s.safety.stalled,
                stalls=s.safety.stalls,
                unreadable_frames=s.camera.unreadable,
                **s.locator.in_view(),
            )
        )
