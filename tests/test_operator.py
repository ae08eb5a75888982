"""One operator among several hands, on real frames with two hands, through the daemon's stages."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devtools.sequences import NoCamera, Recorder
from devtools.two_hands import person, two_hand_frames, two_people
from edge.clock import SteppedClock
from edge.config import ConfigError, parse_config
from edge.link import schemas
from edge.pipeline.classify import build_classifier
from edge.pipeline.locate import build_locator
from edge.pipeline.loop import DaemonLoop
from edge.service.app import stages
from edge.service.cli import main
from edge.types import Frame, FrameResult

# What edge.link.publisher.Publisher adds to the loop's stats payload (the link's counters).
PUBLISHER_KEYS = {
    "publishes_dropped": 0,
    "commands_dropped_unconfirmed": 0,
    "link_losses": 0,
    "reconnects": 0,
    "duplicate_device": None,
}
FPS = 10.0
HOLD = 1.0  # [safety] hold_timeout
# Two people side by side: the operator on the left (a session with peace, up and 3-finger
# frames), another person on the right pointing up (which drives `forward` in the car profile).
OPERATOR, OTHER = "3_1528499009.07", "2"


@dataclass
class StatsRecorder(Recorder):
    payloads: list[dict[str, Any]] = field(default_factory=list)

    def stats(self, payload: dict[str, Any]) -> bool:
        self.payloads.append(payload)
        return True


@dataclass
class Run:
    loop: DaemonLoop
    recorder: StatsRecorder
    clock: SteppedClock
    results: list[FrameResult] = field(default_factory=list)

    def play(self, frames: list[np.ndarray]) -> None:
        for image in frames:
            index = len(self.results)
            self.results.append(self.loop.step(Frame(image, self.clock.time(), index)))
            self.clock.advance(1 / FPS)

    def commands(self) -> list[tuple[int, str]]:
        """(frame index, command) of every published command."""
        t0 = self.results[0].frame.ts
        return [(round((c.ts - t0) * FPS), c.command) for c in self.recorder.commands]

    def stats(self) -> dict[str, Any]:
        self.loop._maybe_stats(force=True)
        return self.recorder.payloads[-1]


@contextmanager
def daemon(method: str = "tracker", **operator: Any) -> Iterator[Run]:
    """The stages `gesture-edge run` builds (tracker, shipped model, car profile)."""
    cfg = parse_config(
        {
            "locate": {"method": method},
            "operator": operator,
            "safety": {"hold_timeout": HOLD},
        }
    )
    classifier = build_classifier(cfg)
    locator = build_locator(cfg, crop_margin=classifier.crop_margin)
    recorder, clock = StatsRecorder(), SteppedClock()
    loop = DaemonLoop(stages(cfg, NoCamera(), locator, classifier, recorder, clock))
    try:
        yield Run(loop, recorder, clock)
    finally:
        locator.close()
        classifier.close()


def test_a_second_persons_motion_is_ignored_before_and_while_the_operator_holds_control(
    datasets: Path,
):
    other = person(datasets, OTHER, "1-hand", 23)
    frames = two_people(person(datasets, OPERATOR, "2-hand", 8), other[:8])
    frames += two_people(person(datasets, OPERATOR, "3-hand", 15), other[8:])
    with daemon(enabled=True) as run:
        run.play(frames)
        assert run.commands() == []  # the pointing hand never drives
        stats = run.stats()
    assert stats["hands"] == 2
    assert stats["operator_held"] is True
    assert schemas.errors("stats", {**stats, **PUBLISHER_KEYS}) == []
    lefts = [r.region.box[2] <= 240 for r in run.results[5:] if r.region is not None]
    assert lefts and all(lefts), "only the operator's (left) hand is followed"


def test_without_an_operator_the_same_frames_let_the_second_person_drive(datasets: Path):
    other = person(datasets, OTHER, "1-hand", 23)
    frames = two_people(person(datasets, OPERATOR, "2-hand", 8), other[:8])
    frames += two_people(person(datasets, OPERATOR, "3-hand", 15), other[8:])
    with daemon(enabled=False) as run:
        run.play(frames)
    assert "forward" in [c for _, c in run.commands()]  # why [operator] exists


def test_before_anyone_takes_control_nothing_but_stop_is_published(datasets: Path):
    frames = two_people(
        person(datasets, OPERATOR, "nohand", 20), person(datasets, OTHER, "1-hand", 20)
    )
    with daemon(enabled=True) as run:
        run.play(frames)
        assert {c for _, c in run.commands()} <= {"stop"}
        assert run.stats()["operator_held"] is False


def test_losing_the_operator_stops_within_hold_timeout_and_releases_control(datasets: Path):
    other = person(datasets, OTHER, "1-hand", 43)
    frames = two_people(person(datasets, OPERATOR, "2-hand", 8), other[:8])
    frames += two_people(person(datasets, OPERATOR, "1-hand", 15), other[8:23])
    frames += two_people(person(datasets, OPERATOR, "nohand", 20), other[23:])
    with daemon(enabled=True) as run:
        run.play(frames)
        commands = run.commands()
        assert run.stats()["operator_held"] is False
    assert "forward" in [c for i, c in commands if i < 23], "the operator drives"
    # frame 23: the operator has left; the smoother may repeat `forward` for a frame or two
    stops = [i for i, c in commands if i >= 23 and c == "stop"]
    assert stops and stops[0] <= 23 + HOLD * FPS
    assert all(c == "stop" for i, c in commands if i > stops[0]), "the second person never drives"


@pytest.mark.parametrize(("which", "method"), [(0, "tracker"), (1, "tracker"), (1, "detector")])
def test_largest_policy_follows_the_larger_hand_of_a_real_two_hand_frame(datasets, which, method):
    pairs = two_hand_frames(datasets, ("5-hand", "0-hand"))[which * 12 : which * 12 + 6]
    with daemon(method, enabled=True, policy="largest") as run:
        run.play([image for image, _ in pairs])
        stats = run.stats()
    for result, (_, boxes) in zip(run.results, pairs, strict=True):
        assert result.region is not None
        big = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        cx = (result.region.box[0] + result.region.box[2]) / 2
        assert big[0] <= cx <= big[2], "control goes to the larger hand, and stays with it"
    assert stats["hands"] == 2 and stats["operator_held"] is True


def test_take_control_on_real_two_hand_frames_goes_to_the_hand_holding_the_gesture(datasets):
    pairs = two_hand_frames(datasets, ("5-hand", "0-hand"))[:8]
    with daemon(enabled=True, take_control="stop", take_frames=3) as run:
        run.play([image for image, _ in pairs])
    assert all(r.region is None for r in run.results[:2])
    followed = [r for r in run.results[2:] if r.region is not None]
    assert followed and all(r.prediction and r.prediction.label == "stop" for r in followed)


def model_runs(frames: list[np.ndarray], **operator: Any) -> tuple[int, int]:
    """(palm detector, landmark model) runs over `frames` after the first 8."""
    with daemon(**operator) as run:
        loc = run.loop.s.locator
        hands = getattr(loc, "_loc", loc)  # the HandLocator (inside the OperatorLocator)
        run.play(frames[:8])
        palm, marks = hands.palm.runs, hands.landmarks.runs
        run.play(frames[8:])
        return hands.palm.runs - palm, hands.landmarks.runs - marks


PALM_COST = 2


def test_a_held_operator_costs_what_one_tracked_hand_costs_even_with_a_second_hand(datasets):
    operator = person(datasets, OPERATOR, "2-hand", 68)
    alone = two_people(operator, person(datasets, OTHER, "nohand", 68))
    crowd = two_people(operator, person(datasets, OTHER, "1-hand", 68))
    single = model_runs(alone, enabled=False)  # today's tracker, one hand in view
    held = model_runs(crowd, enabled=True)

    # Cost in landmark-run units: a palm detection costs about two landmark runs (lite, int8
    # or float; `make bench`, bench/README.md: palm vs landmark invoke p50).
    def cost(runs: tuple[int, int]) -> int:
        return PALM_COST * runs[0] + runs[1]

    assert cost(held) <= 1.1 * cost(single), (held, single)
    assert held[1] <= 60 * 1.5, "one landmark run per tracked frame, plus re-finds"


def test_the_daemon_over_mqtt_reports_two_hands_and_the_held_operator_and_never_drives(
    datasets: Path, tmp_path: Path, broker, recorder_factory
):
    other = person(datasets, OTHER, "1-hand", 23)
    frames = two_people(person(datasets, OPERATOR, "2-hand", 8), other[:8])
    frames += two_people(person(datasets, OPERATOR, "3-hand", 15), other[8:])
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, image in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    device = f"op-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "op.toml"
    config.write_text(
        f'[camera]\nbackend = "replay"\npath = "{folder}"\nfps = 10\n'
        '[locate]\nmethod = "tracker"\n[operator]\nenabled = true\n[stats]\ninterval = 0.5\n'
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\ndevice_id = "{device}"\n'
    )
    rec = recorder_factory(f"gesturepilot/{device}/#")
    exe = Path(sys.executable).with_name("gesture-edge")
    run = subprocess.run([exe, "run", "--config", config], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "operator takes control" in run.stderr
    time.sleep(0.3)
    commands = [m.json() for m in rec.on("command")]
    assert [(c["command"], c["reason"]) for c in commands] == [("stop", "shutdown")]
    stats = [m.json() for m in rec.on("stats")]
    assert all(schemas.errors("stats", p) == [] for p in stats)
    assert stats[-1]["hands"] == 2 and stats[-1]["operator_held"] is True
    assert stats[-1]["operator_policy"] == "take_control"


BAD = [
    ({"operator": {"enabled": True}}, "[operator] enabled: needs [locate] method"),
    ({"operator": {"policy": "loudest"}}, "[operator] policy: 'loudest' is not one of"),
    ({"operator": {"take_frames": 0}}, "[operator] take_frames: 0 out of range"),
    (
        {"operator": {"enabled": True, "take_control": "wave"}, "locate": {"method": "tracker"}},
        "[operator] take_control: 'wave' is not a label of the model",
    ),
    (
        {
            "operator": {"enabled": True},
            "locate": {"method": "tracker"},
            "commands": {"profile": "drone"},
        },
        "[operator] take_control: 'peace' is the command 'takeoff'",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m.split(":")[1] for _, m in BAD])
def test_a_bad_operator_section_is_refused_naming_the_key(tmp_path: Path, caplog, data, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data)
    path = tmp_path / "op.toml"
    lines = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {v!r}".replace("True", "true") for k, v in table.items()]
    path.write_text("\n".join(lines) + "\n")
    assert main(["check-config", "--config", str(path)]) == 78
    assert message in caplog.text
