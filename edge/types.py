"""Typed values passed between the daemon's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One camera frame. `image` is RGB uint8 (H, W, 3); `ts` is the capture time (Unix seconds).

    `full`, when the camera has a second stream (`[camera] full_scale`), is the same scene at
    a higher resolution: hands are found in `image` and cut from `full`. Every coordinate the
    stages hand on is in `image`'s pixels.
    """

    image: np.ndarray
    ts: float
    index: int = 0
    full: np.ndarray | None = None


@dataclass(frozen=True)
class HandRegion:
    """Where the hand is in a frame.

    `box` is (x0, y0, x1, y1) in frame pixels, axis aligned. `angle` is the hand's rotation in
    radians (0 = fingers up, positive = counter-clockwise in the image) when a detector knows it.
    `landmarks` is (21, 3) in frame pixels (x, y, z) when a landmark model ran. `side` is the
    person's own `left` or `right` hand when a body was seen (`[locate] method = "body"`).
    """

    box: tuple[float, float, float, float]
    score: float = 1.0
    angle: float | None = None
    landmarks: np.ndarray | None = None
    handedness: float | None = None  # probability of a right hand, when known
    side: str | None = None
    body: np.ndarray | None = None  # the person's 33 body points (frame px) when a body was seen

    @property
    def size(self) -> float:
        """The hand's size in frame pixels: the longer side of its box."""
        x0, y0, x1, y1 = self.box
        return max(x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Prediction:
    """A classifier's answer for one frame; `scores` follows the model's label order."""

    label: str
    score: float
    scores: np.ndarray
    labels: tuple[str, ...]
    ts: float


@dataclass(frozen=True)
class Command:
    """A command ready to publish; `ts` is the capture time of the frame that decided it."""

    command: str
    gesture: str
    confidence: float
    ts: float
    reason: str = field(default="gesture", compare=False)


@dataclass(frozen=True)
class FrameResult:
    """Everything the loop decided about one frame, handed to observers (preview, watchdog).

    `gesture` is the smoothed gesture (None while nothing is held); `command` is what was
    published for this frame, if anything. `regions` are every raised hand read; `region` is
    the one that drives (edge.pipeline.choose; None when none does or two hands conflict).
    """

    frame: Frame
    region: HandRegion | None
    prediction: Prediction | None
    gesture: str | None
    confidence: float
    command: Command | None
    fps: float
    state: str = "running"
    regions: tuple[HandRegion, ...] = ()


class FrameObserver(Protocol):
    """Something that watches the loop: sd_notify watchdog, MJPEG preview, capture."""

    def on_frame(self, result: FrameResult) -> None: ...


class Classifier(Protocol):
    """Names the gesture in a hand region.

    `labels` are the loaded model's, in output order; `runtime` names the TFLite runtime it runs
    on; `crop_margin` is the margin its crops add around a region (the fixed box takes it off).
    """

    labels: tuple[str, ...]
    runtime: str
    crop_margin: float

    def classify(self, frame: Frame, region: HandRegion) -> Prediction: ...

    def close(self) -> None: ...
