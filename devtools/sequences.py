"""`make eval-sequences`: real camera sequences through the daemon's own pipeline, scored as a
robot would feel them.

Every case is a sequence of whole frames (the hand wherever the person held it) replayed at
`--fps` through the stages `gesture-edge run` builds from `configs/car.toml`: hand tracker,
landmark classifier and its decision rule, smoother, command map, safety gate; a recording
publisher stands in for MQTT. The vehicle's state is what the commands say (moving from a
motion command until `stop`). Per sequence:
- `in_command`: share of the time the vehicle does what the person asks (moving the asked way,
  or standing while no motion is asked), and `in_command_after_reaction` without the first
  `--reaction` seconds after each change of what is asked (the smoother's deliberate lag);
- `unasked_motion_s`: seconds the vehicle moves in a way nobody asked for, beyond that reaction
  time (a motion carried past its release counts until the reaction time is over).

Cases (frames of sources the shipped model never trained on; their groups are the model json's
`eval_groups`): the demo's script and eleven more seeds of a longer script over the lockbox
subhih-hands sessions, and every shimaazizi-4gest photo held still for `--hold` frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from convert.reference import SHIMA_MAP
from devtools.scripted import eval_sessions
from devtools.scripted_frames import DEMO_FRAMES_SCRIPT, letterbox, write_frame_sequence
from edge.clock import SteppedClock
from edge.config import Config, load_config
from edge.model.crops import read_rgb
from edge.pipeline.classify import build_classifier
from edge.pipeline.commands import STOP, CommandMap
from edge.pipeline.locate import build_locator
from edge.pipeline.loop import DaemonLoop
from edge.service.app import stages
from edge.types import Command, Frame

log = logging.getLogger(__name__)

# Runs of 12 frames: long enough for the smoother, short enough that several lockbox sessions
# can supply each gesture, so the seeds give different clips (a 20-frame `up` run fits only one).
LONG_SCRIPT: tuple[tuple[str, int], ...] = (
    ("nohand", 8),
    ("up", 12),
    ("none", 8),
    ("stop", 12),
    ("left", 12),
    ("fist", 12),
    ("right", 12),
    ("nohand", 8),
    ("down", 12),
    ("none", 8),
    ("peace", 12),
    ("stop", 12),
)


@dataclass
class Recorder:
    """Stands in for the MQTT publisher (the loop's `Sink`): keeps the commands the safety
    gate let out; the link is always confirmed and no other daemon owns the device id."""

    root: str = "replay/"
    commands: list[Command] = field(default_factory=list)
    yield_to: None = None

    def confirmed(self) -> bool:
        return True

    def command(self, cmd: Command, force: bool = False) -> bool:
        self.commands.append(cmd)
        return True

    def gesture(self, gesture: str, confidence: float, ts: float) -> bool:
        return True

    def stats(self, payload: dict[str, Any]) -> bool:
        return True


class NoCamera:
    """The replay hands frames to `DaemonLoop.step` itself: the loop never reads a camera."""

    unreadable = 0

    def open(self) -> None: ...

    def read(self, timeout: float) -> None:
        raise RuntimeError("frames are stepped by the evaluation, not read")

    def close(self) -> None: ...


def replay(
    cfg: Config,
    frames: Sequence[np.ndarray | Frame],
    fps: float,
    seen: dict[str, Any] | None = None,
) -> list[str | None]:
    """The vehicle's command after each frame (None: standing), frames `1/fps` apart on a
    stepped clock, through the stages `gesture-edge run` builds (`edge.service.app.stages`).
    A frame given as a `Frame` keeps its `full` stream (its time and index are the replay's);
    `seen`, when given, receives the locator's stats (`in_view`) at the end."""
    classifier = build_classifier(cfg)
    locator = build_locator(cfg, crop_margin=classifier.crop_margin)
    recorder, clock = Recorder(), SteppedClock()
    loop = DaemonLoop(stages(cfg, NoCamera(), locator, classifier, recorder, clock))
    state: list[str | None] = []
    moving: str | None = None
    try:
        for i, image in enumerate(frames):
            before = len(recorder.commands)
            if isinstance(image, Frame):
                loop.step(dataclasses.replace(image, ts=clock.time(), index=i))
            else:
                loop.step(Frame(image, clock.time(), i))
            for cmd in recorder.commands[before:]:
                moving = None if cmd.command == STOP else cmd.command
            state.append(moving)
            clock.advance(1 / fps)
        if seen is not None:
            seen.update(loop.s.locator.in_view())
    finally:
        locator.close()
        classifier.close()
    return state


def score(
    truth: list[str], state: list[str | None], commands: CommandMap, fps: float, reaction: float
) -> dict[str, Any]:
    """The robot's view of one sequence (see the module doc)."""
    asked = [commands.command_for(g) for g in truth]
    asked = [None if a == STOP else a for a in asked]
    since_change = np.zeros(len(truth))
    for i in range(1, len(truth)):
        since_change[i] = 0.0 if asked[i] != asked[i - 1] else since_change[i - 1] + 1 / fps
    ok = np.array([a == s for a, s in zip(asked, state, strict=True)])
    settled = since_change >= reaction
    unasked = np.array([s is not None and s != a for a, s in zip(asked, state, strict=True)])
    return {
        "frames": len(truth),
        "seconds": round(len(truth) / fps, 2),
        "in_command": round(float(ok.mean()), 4),
        "in_command_after_reaction": round(float(ok[settled].mean()), 4) if settled.any() else 1.0,
        "unasked_motion_s": round(float((unasked & settled).sum()) / fps, 2),
        "unasked_motion_s_within_reaction": round(float((unasked & ~settled).sum()) / fps, 2),
        "asked_motion_s": round(sum(a is not None for a in asked) / fps, 2),
        "moved_s": round(sum(s is not None for s in state) / fps, 2),
    }


def subhih_case(
    datasets: Path, groups: list[str], script: tuple[tuple[str, int], ...], seed: int
) -> tuple[list[str], list[np.ndarray]]:
    """Whole frames of a scripted gesture sequence from the given sessions."""
    with tempfile.TemporaryDirectory() as tmp:
        truth = write_frame_sequence(datasets, Path(tmp), script, seed=seed, groups=groups)
        frames = [read_rgb(str(p)) for p in sorted(Path(tmp).glob("*.jpg"))]
    return truth, frames


def shima_case(datasets: Path, label: str, hold: int) -> tuple[list[str], list[np.ndarray]]:
    """Every shimaazizi-4gest photo of one class, each held for `hold` frames, letterboxed."""
    folder = datasets / "shimaazizi-4gest" / label
    truth, frames = [], []
    for path in sorted(folder.iterdir()):
        image = letterbox(cv2.resize(read_rgb(str(path)), (300, 300)))
        truth += [SHIMA_MAP[label]] * hold
        frames += [image] * hold
    return truth, frames


def summary(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Seconds summed, shares weighted by frames, over some sequences."""
    total = {
        k: round(sum(r[k] for r in results.values()), 2)
        for k in ("seconds", "unasked_motion_s", "unasked_motion_s_within_reaction")
    }
    weights = np.array([r["frames"] for r in results.values()], float)
    for k in ("in_command", "in_command_after_reaction"):
        vals = np.array([r[k] for r in results.values()])
        total[k] = round(float((vals * weights).sum() / weights.sum()), 4)
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--config", type=Path, default=Path("configs/car.toml"))
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--reaction", type=float, default=0.5, help="seconds allowed to react")
    p.add_argument("--hold", type=int, default=8, help="frames each still photo is held")
    p.add_argument("--seeds", type=int, default=12)
    p.add_argument("--out", type=Path, default=Path("models/gestures-landmarks-sequences.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = load_config(args.config)
    from edge.model.artifact import read_meta

    meta = read_meta(Path(cfg.model.path))
    groups = eval_sessions(meta.raw) or []
    commands = CommandMap.from_config(cfg.commands)
    cases: dict[str, tuple[list[str], list[np.ndarray]]] = {
        "demo-script": subhih_case(args.datasets, groups, DEMO_FRAMES_SCRIPT, 0)
    }
    for seed in range(1, args.seeds):
        cases[f"subhih-lockbox-seed{seed}"] = subhih_case(args.datasets, groups, LONG_SCRIPT, seed)
    if any(g.startswith("shimaazizi") for g in groups):
        for label in SHIMA_MAP:
            cases[f"shimaazizi-{label}"] = shima_case(args.datasets, label, args.hold)
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name, (truth, frames) in cases.items():
        results[name] = score(
            truth, replay(cfg, frames, args.fps), commands, args.fps, args.reaction
        )
        log.info("%s: %s", name, results[name])
    total = summary(results)
    groups_of = {
        "camera_sequences": {k: v for k, v in results.items() if not k.startswith("shimaazizi")},
        "still_photos": {k: v for k, v in results.items() if k.startswith("shimaazizi")},
    }
    by_kind = {kind: summary(rs) for kind, rs in groups_of.items() if rs}
    out = {
        "model": meta.tflite_path.name,
        "model_sha256": meta.sha256,
        "config": str(args.config),
        "fps": args.fps,
        "reaction_s": args.reaction,
        "eval_groups": groups,
        "total": total,
        "by_kind": by_kind,
        "sequences": results,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    log.info("total: %s -> %s", total, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
