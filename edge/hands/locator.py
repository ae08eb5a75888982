"""Find the hand anywhere in the frame: palm detector + landmark model, optionally tracking."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge.closing import Closing
from edge.hands.geometry import Roi, roi_from_landmarks
from edge.hands.landmark import HandLandmarks, LandmarkModel
from edge.hands.palm import PalmDetector
from edge.hands.still import StillHand, StillOptions
from edge.types import Frame, HandRegion

log = logging.getLogger(__name__)

# A hand the tracker lost is looked for once in its last region grown this much (a landmark
# run, about a third of a palm detection) before the palm detector runs on the whole frame.


def region_from(hand: HandLandmarks, shape: tuple[int, ...]) -> HandRegion:
    """A `HandRegion` whose box is the landmarks' bounding box, clipped to the frame."""
    h, w = shape[:2]
    xy = hand.points[:, :2]
    x0, y0 = np.clip(xy.min(axis=0), 0, [w, h])
    x1, y1 = np.clip(xy.max(axis=0), 0, [w, h])
    nxt = roi_from_landmarks(hand.points)
    return HandRegion(
        box=(float(x0), float(y0), float(x1), float(y1)),
        score=hand.presence,
        angle=nxt.angle,
        landmarks=hand.points,
        handedness=hand.handedness,
    )


class HandLocator(Closing):
    """The `Locator` for `[locate] method = "detector"` and `"tracker"`.

    detector: palm detector then landmark model on every frame.
    tracker: the landmark model runs on the region derived from the previous frame's landmarks;
    the palm detector runs only when the hand's presence drops below `min_presence`, when there is
    no hand yet, or every `redetect_every` frames as a safety net. While the loop says the
    gesture is steady, a still hand's tracked reads may reuse its last landmarks
    (edge.hands.still).

    Args:
        palm: the palm detector stage.
        landmarks: the landmark stage.
        track: tracker (True) or detector (False).
        min_presence: landmark presence below this means no hand.
        redetect_every: tracker: force a palm detection after this many tracked frames.
        still: held-gesture reuse (default: never reuse).
    """

    def __init__(
        self,
        palm: PalmDetector,
        landmarks: LandmarkModel,
        track: bool = True,
        min_presence: float = 0.5,
        redetect_every: int = 90,
        still: StillHand | None = None,
    ) -> None:
        self.palm = palm
        self.landmarks = landmarks
        self.track = track
        self.min_presence = min_presence
        self.redetect_every = redetect_every
        self.still = still if still is not None else StillHand(StillOptions())
        self._roi: Roi | None = None
        self._tracked = 0
        self.hands = 0  # palms at the last detection (at least the tracked hand)

    @property
    def palm_runs(self) -> int:
        """How many times the palm detector has run."""
        return self.palm.runs

    def _detect(self, image: np.ndarray, full: np.ndarray | None) -> HandLandmarks | None:
        palms = self.palm.detect(image)
        self.hands = len(palms)
        self.still.forget()
        for palm in palms[:1]:
            hand = self.landmarks.run(image, palm.roi, full)
            if hand.presence >= self.min_presence:
                self.still.remember(image, hand)
                return hand
        return None

    def find(self, image: np.ndarray, full: np.ndarray | None = None) -> HandLandmarks | None:
        """The hand's landmarks in an RGB frame, or None when there is no hand (`full`: the
        frame's full-resolution twin, which the landmark model crops from)."""
        tracking = self.track and self._roi is not None
        hand = None
        if tracking and self._tracked < self.redetect_every:
            hand = self._track(image, full)
        if hand is None:
            hand = self._detect(image, full)
            if hand is None and tracking and self._tracked >= self.redetect_every:
                hand = self._track(image, full)  # the safety-net detection missed it
            self._tracked = 0
        self._roi = roi_from_landmarks(hand.points) if hand is not None else None
        if hand is not None:
            self.hands = max(self.hands, 1)
        return hand

    def read(self, image: np.ndarray, roi: Roi, full: np.ndarray | None) -> HandLandmarks:
        """A tracked read of `roi`: the still hand's last landmarks, else a landmark run."""
        hand = self.still.reuse(image, roi)
        if hand is not None:
            return hand
        hand = self.landmarks.run(image, roi, full)
        if hand.presence >= self.min_presence:
            self.still.remember(image, hand)
        else:
            self.still.forget()
        return hand

    def _track(self, image: np.ndarray, full: np.ndarray | None) -> HandLandmarks | None:
        assert self._roi is not None
        self._tracked += 1
        hand = self.read(image, self._roi, full)
        return hand if hand.presence >= self.min_presence else None

    def steady(self, ok: bool) -> None:
        """The loop's word on the last frame (edge.pipeline.locate.Locator.steady): with one
        hand in view, a still hand may reuse its last landmarks on the next frame."""
        self.still.permit(ok and self.hands <= 1)

    def locate(self, frame: Frame) -> HandRegion | None:
        """The hand in a frame (box, angle, landmarks, handedness), or None."""
        hand = self.find(frame.image, frame.full)
        return None if hand is None else region_from(hand, frame.image.shape)

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        """The hand as a list (this locator follows one)."""
        region = self.locate(frame)
        return [region] if region is not None else []

    def in_view(self) -> dict[str, Any]:
        """For the stats payload: hands at the last palm detection (this locator follows one),
        and the share of tracked reads that a still hand's reuse answered."""
        return {"hands": self.hands, "reused": round(self.still.share(), 3)}

    def reset(self) -> None:
        """Forget the tracked hand (the next frame runs the palm detector)."""
        self._roi = None
        self.still.forget()

    def follow(self, roi: Roi) -> None:
        """Track the hand in `roi` from the next frame on (a hand another path was following)."""
        self._roi, self._tracked = roi, 0

    def close(self) -> None:
        """Release both interpreters; safe to call twice."""
        self.palm.close()
        self.landmarks.close()


def open_locator(
    palm_model: str | Path,
    landmark_model: str | Path,
    method: str = "tracker",
    num_threads: int | None = None,
    min_detection_score: float = 0.5,
    min_presence: float = 0.5,
    redetect_every: int = 90,
    still: StillOptions | None = None,
) -> HandLocator:
    """Load both MediaPipe models and return a `HandLocator` (`still`: held-gesture reuse).

    Raises:
        ValueError: `method` is not detector/tracker, or a model cannot be loaded.
    """
    if method not in ("detector", "tracker"):
        raise ValueError(f"hand locator method must be detector or tracker, not {method!r}")
    palm = PalmDetector(palm_model, num_threads, min_detection_score)
    marks = LandmarkModel(landmark_model, num_threads)
    reuse = StillHand(still if still is not None else StillOptions())
    return HandLocator(palm, marks, method == "tracker", min_presence, redetect_every, reuse)
