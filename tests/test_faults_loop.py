"""The daemon loop under clock steps and corrupt frames, with a clock the test steps.

The stages are the real smoother, command map, safety gate and stats; the camera is scripted
(or the real replay camera over real photos with a broken file among them), the classifier
says what the script says, and the publisher records what the loop sends.
"""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from devtools import fake_picamera2
from edge.cameras import EndOfStream
from edge.cameras.picamera import Picamera2Camera
from edge.cameras.replay import ReplayCamera
from edge.clock import SYSTEM_CLOCK, Clock, SteppedClock
from edge.config import SafetyConfig, SmoothingConfig
from edge.model.crops import read_rgb
from edge.pipeline.commands import CommandMap
from edge.pipeline.loop import DaemonLoop, LoopSettings, Stages
from edge.pipeline.safety import SafetyGate
from edge.pipeline.smoothing import Smoother
from edge.pipeline.stats import Stats
from edge.types import Command, Frame, HandRegion, Prediction

LABELS = ("none", "up", "down", "left", "right", "stop", "fist", "peace")
SAFETY = SafetyConfig(hold_timeout=1.0, stall_timeout=2.0, repeat_interval=0.5)
IMAGE = np.zeros((8, 8, 3), np.uint8)


class ScriptedCamera:
    """`script`: one entry per read, a label shown to the classifier or None (no frame)."""

    def __init__(self, clock: SteppedClock, script: list[str | None], period: float = 0.1):
        self.clock, self.script, self.period = clock, list(script), period
        self.unreadable = 0
        self.steps: dict[int, float] = {}  # read number -> Unix clock step before it
        self.reads = 0

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read(self, timeout: float) -> Frame | None:
        if self.reads >= len(self.script):
            raise EndOfStream
        self.clock.step_wall(self.steps.get(self.reads, 0.0))
        label = self.script[self.reads]
        self.reads += 1
        self.clock.advance(self.period if label is not None else timeout)
        if label is None:
            return None
        return Frame(image=IMAGE, ts=self.clock.time(), index=self.reads)


class Box:
    def locate(self, frame: Frame) -> HandRegion:
        return HandRegion(box=(0, 0, 8, 8))

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        return [self.locate(frame)]

    def in_view(self) -> dict[str, int]:
        return {"hands": 1}

    def steady(self, ok: bool) -> None: ...

    def close(self) -> None: ...


class Says:
    """A classifier that reads the label the scripted camera put in the frame's slot."""

    labels = LABELS

    def __init__(self, camera: ScriptedCamera | None = None, label: str = "up"):
        self.camera, self.label = camera, label

    def classify(self, frame: Frame, region: HandRegion) -> Prediction:
        label = self.camera.script[self.camera.reads - 1] if self.camera else self.label
        scores = np.full(len(LABELS), 0.01, np.float32)
        scores[LABELS.index(label)] = 0.93
        return Prediction(label, 0.93, scores, LABELS, frame.ts)

    def close(self) -> None: ...


class Recorded:
    """Stands in for edge.link.publisher.Publisher: records commands and stats."""

    root = "gesturepilot/test"
    yield_to = None

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.stats_sent: list[dict] = []

    def command(self, cmd: Command, force: bool = False) -> bool:
        self.commands.append(cmd)
        return True

    def gesture(self, gesture: str, confidence: float, ts: float) -> bool:
        return True

    def stats(self, payload: dict) -> bool:
        self.stats_sent.append(payload)
        return True

    def confirmed(self) -> bool:
        return True

    def sent(self) -> list[tuple[str, str]]:
        return [(c.command, c.reason) for c in self.commands]


def loop_of(camera, classifier, clock: Clock) -> tuple[DaemonLoop, Recorded]:
    pub = Recorded()
    stages = Stages(
        camera=camera,
        locator=Box(),
        classifier=classifier,
        smoother=Smoother(SmoothingConfig(), LABELS),
        commands=CommandMap("car"),
        safety=SafetyGate(SAFETY, now=clock.monotonic()),
        publisher=pub,  # type: ignore[arg-type]
        stats=Stats(),
        settings=LoopSettings(0.5, stats_interval=0.5, model_name="scripted", runtime="none"),
        clock=clock,
    )
    return DaemonLoop(stages), pub


@pytest.mark.parametrize("step", [3600.0, -3600.0, 30.0, -30.0])
def test_a_unix_clock_step_fires_no_false_stall_or_deadman_while_the_gesture_is_held(step):
    clock = SteppedClock()
    camera = ScriptedCamera(clock, ["up"] * 40)
    camera.steps[20] = step  # NTP corrects the clock two seconds in
    loop, pub = loop_of(camera, Says(camera), clock)
    loop.run(threading.Event())
    reasons = [reason for _, reason in pub.sent()]
    assert "stall" not in reasons and "deadman" not in reasons, pub.sent()
    assert pub.sent()[0] == ("forward", "gesture")
    assert reasons.count("repeat") >= 6  # every 0.5 s for ~3.5 s, across the step
    payload_ts = [c.ts for c in pub.commands]
    assert any(abs(t - clock.time()) < 5 for t in payload_ts[-2:])  # payloads carry Unix time


@pytest.mark.parametrize("step", [-3600.0, 3600.0])
def test_after_a_unix_clock_step_the_deadman_and_the_stall_still_fire_on_time(step):
    clock = SteppedClock()
    camera = ScriptedCamera(clock, ["up"] * 10 + [None] * 30)  # then the camera hangs
    camera.steps[10] = step
    loop, pub = loop_of(camera, Says(camera), clock)
    loop.run(threading.Event())
    # the frames stop at t = 1.0 s: the deadman at 1.0 + hold_timeout, the stall after 2 s
    assert [r for _, r in pub.sent() if r in ("deadman", "stall")] == ["deadman", "stall"]


@pytest.fixture
def replay_with_broken_frames(datasets: Path, tmp_path: Path) -> Path:
    photos = sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[:6]
    folder = tmp_path / "replay"
    folder.mkdir()
    for i, p in enumerate(photos):
        shutil.copy(p, folder / f"{i * 2:04d}.jpg")
    (folder / "0003.jpg").write_bytes(b"this is not a jpeg")
    (folder / "0007.png").write_bytes(b"")
    return folder


def test_an_unreadable_replay_frame_is_skipped_and_counted_never_a_restart(
    replay_with_broken_frames,
):
    cam = ReplayCamera(replay_with_broken_frames, fps=100)
    cam.open()
    frames = []
    with pytest.raises(EndOfStream):
        for _ in range(50):
            frame = cam.read(0.5)
            if frame is not None:
                frames.append(frame.index)
    assert frames == [0, 1, 3, 4, 6, 7]  # indexes 2 and 5 were the broken files
    assert cam.unreadable == 2


def test_a_finite_replay_with_broken_frames_ends_without_a_stall(replay_with_broken_frames):
    cam = ReplayCamera(replay_with_broken_frames, fps=50)
    cam.open()
    loop, pub = loop_of(cam, Says(label="up"), SYSTEM_CLOCK)
    runner = threading.Thread(target=loop.run, args=(threading.Event(),), daemon=True)
    runner.start()
    runner.join(10)
    assert not runner.is_alive(), "the replay never ended (restarted on a broken frame?)"
    loop.shutdown()
    assert "stall" not in [r for _, r in pub.sent()]
    assert pub.stats_sent[-1]["unreadable_frames"] == 2 and pub.stats_sent[-1]["stalls"] == 0


def test_a_corrupt_picamera2_buffer_is_skipped_and_counted(monkeypatch, datasets):
    photo = sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[0]
    monkeypatch.setitem(sys.modules, "picamera2", fake_picamera2)
    monkeypatch.setattr(fake_picamera2, "FEED", [read_rgb(str(photo))])
    monkeypatch.setattr(fake_picamera2, "STALL_AFTER", None)
    real = fake_picamera2.CompletedRequest.make_array
    calls = []

    def flaky(self, name):
        calls.append(name)
        return np.zeros((3,), np.uint8) if len(calls) == 2 else real(self, name)

    monkeypatch.setattr(fake_picamera2.CompletedRequest, "make_array", flaky)
    cam = Picamera2Camera(160, 120)
    cam.open()
    got = [cam.read(0.5) for _ in range(3)]
    cam.close()
    assert [f is not None for f in got] == [True, False, True] and cam.unreadable == 1
