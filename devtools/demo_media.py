"""`make demo`'s pictures: the annotated animation of the run and the simulated car's path."""

# OpenCV only (the demo runs in the device-side venv: no Pillow, no matplotlib). The animation
# is a GIF where this OpenCV writes one (cv2.imwriteanimation, OpenCV >= 4.11), else an MP4.

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devtools.demo_record import read_index
from subscribers.sim_car import MOTION, SPEED, TURN_RATE, SimCar

MOVING, STOPPED = (40, 160, 40), (40, 40, 200)  # BGR
COLOURS = {"forward": (40, 160, 40), "backward": (200, 120, 0), "left": (160, 0, 160)}
COLOURS["right"] = (0, 140, 220)


@dataclass(frozen=True)
class CarEvent:
    """What the car did and where it was when it did it (`ts`: Unix time, as frames carry)."""

    ts: float
    command: str
    x: float
    y: float
    heading: float


class TracedCar(SimCar):
    """The simulated car, keeping each action with its time and pose (for the pictures)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[CarEvent] = []

    def act(self, command: str, message: dict[str, Any]) -> None:
        super().act(command, message)
        now = time.time()
        self.events.append(CarEvent(now, self.actions[-1][0], self.x, self.y, self.heading))


def car_at(events: list[CarEvent], ts: float) -> CarEvent | None:
    """The car at Unix time `ts`: its last command and where it has got to by then (None
    before its first action). Between actions it drives straight or turns on the spot."""
    done = [e for e in events if e.ts <= ts]
    if not done:
        return None
    e = done[-1]
    speed, turn = MOTION.get(e.command, (0, 0))
    dt = ts - e.ts
    if turn:
        return CarEvent(ts, e.command, e.x, e.y, e.heading + turn * TURN_RATE * dt)
    step = speed * SPEED * dt
    x, y = e.x + step * math.cos(e.heading), e.y + step * math.sin(e.heading)
    return CarEvent(ts, e.command, x, y, e.heading)


def _banner(image: np.ndarray, event: CarEvent | None) -> np.ndarray:
    """The frame with a strip below it saying what the car is doing."""
    w = image.shape[1]
    strip = np.full((26, w, 3), 30, np.uint8)
    command = event.command if event else "stop"
    text = f"car: {command.upper()}"
    if event is not None:
        text += (
            f"   x {event.x:+.2f} m  y {event.y:+.2f} m  {math.degrees(event.heading):+4.0f} deg"
        )
    colour = STOPPED if command == "stop" else MOVING
    cv2.rectangle(strip, (0, 0), (8, 25), colour, -1)
    cv2.putText(strip, text, (14, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return np.vstack([image, strip])


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    return image


def write_animation(
    frames: Path, events: list[CarEvent], out: Path, fps: float, max_fps: float = 5.0
) -> tuple[Path, int]:
    """The recorded frames with the car's state below each, as `out` (.gif, or .mp4 when this
    OpenCV has no GIF writer); returns the path written and how many frames it shows. Played
    at the run's own pace: every frame up to `max_fps`, every n-th above (webcam GIFs are big).

    Raises:
        ValueError: the recording holds no frames.
    """
    rows = read_index(frames)
    if not rows:
        raise ValueError(f"{frames}: no recorded frames")
    step = max(1, round(fps / max_fps))
    # what the car does while the frame is shown: the command it decided arrives within ms
    images = [
        _banner(_read(frames / r["file"]), car_at(events, float(r["ts"]) + 0.5 / fps))
        for r in rows[::step]
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    if hasattr(cv2, "imwriteanimation") and out.suffix == ".gif":
        animation = cv2.Animation()
        animation.frames = images
        animation.durations = [round(1000 * step / fps)] * len(images)
        # the smallest palette work: ~3x smaller than the default, still legible text
        if cv2.imwriteanimation(str(out), animation, [cv2.IMWRITE_GIF_QUALITY, 1]):
            return out, len(images)
    out = out.with_suffix(".mp4")
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps / step, (w, h))
    for image in images:
        writer.write(image)
    writer.release()
    return out, len(images)


def write_path(events: list[CarEvent], out: Path, title: str, size: int = 480) -> Path:
    """A PNG of the car's path on the floor, seen from above, each stretch coloured by command.

    Between two actions the car either drives straight or turns on the spot (subscribers/
    sim_car.py), so the poses at its actions trace the path exactly.
    """
    poses = [(0.0, 0.0, 0.0, "stop"), *((e.x, e.y, e.heading, e.command) for e in events)]
    xs, ys = [p[0] for p in poses], [p[1] for p in poses]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 0.5) * 1.25
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    top, pad = 40, 30
    scale = (size - 2 * pad - top) / span

    def px(x: float, y: float) -> tuple[int, int]:
        return (
            round(size / 2 + (x - cx) * scale),
            round(top + (size - top) / 2 - (y - cy) * scale),
        )

    image = np.full((size, size, 3), 255, np.uint8)
    step = 0.25
    for i in range(-20, 21):
        v = i * step
        colour = (200, 200, 200) if i else (150, 150, 150)
        cv2.line(image, px(v, cy - span), px(v, cy + span), colour, 1)
        cv2.line(image, px(cx - span, v), px(cx + span, v), colour, 1)
    cv2.rectangle(image, (0, 0), (size, top), (255, 255, 255), -1)
    for a, b in itertools.pairwise(poses):
        cv2.line(image, px(a[0], a[1]), px(b[0], b[1]), COLOURS.get(a[3], (0, 0, 0)), 3)
    turns = [(a, b) for a, b in itertools.pairwise(poses) if a[3] in ("left", "right")]
    for i, (a, b) in enumerate(turns):  # a turn on the spot: its angle, beside the point
        u, v = px(a[0], a[1])
        label = f"{a[3]} {math.degrees(b[2] - a[2]):+.0f} deg"
        cv2.putText(
            image, label, (u + 8, v - 10 + 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.4, COLOURS[a[3]], 1
        )
    cv2.circle(image, px(0, 0), 6, (0, 0, 0), -1)
    x, y, heading, _ = poses[-1]
    tip = (x + 0.08 * math.cos(heading), y + 0.08 * math.sin(heading))
    cv2.arrowedLine(image, px(x, y), px(*tip), (0, 0, 200), 2, tipLength=0.4)
    cv2.putText(image, title, (10, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, "dot: start, arrow: end; grid 0.25 m;", (10, 34), font, 0.38, (60, 60, 60))
    x0 = 10 + cv2.getTextSize("dot: start, arrow: end; grid 0.25 m; ", font, 0.38, 1)[0][0]
    for name, colour in COLOURS.items():
        cv2.putText(image, name, (x0, 34), font, 0.38, colour, 1)
        x0 += cv2.getTextSize(name + " ", font, 0.38, 1)[0][0]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), image)
    return out
