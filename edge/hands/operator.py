"""One operator among several hands: who takes control, following only them, release on loss."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from edge.hands.geometry import Roi, roi_from_landmarks
from edge.hands.landmark import HandLandmarks
from edge.hands.locator import HandLocator, region_from
from edge.types import Classifier, Frame, HandRegion

if TYPE_CHECKING:
    from edge.clock import Clock
    from edge.config import Config

log = logging.getLogger(__name__)

# A palm or hand whose centre lies within this share of a tracked region's side is that hand.
# Two people's hands in the real two-hand frames stand >1 region apart; a hand moves far less
# between two frames.
MATCH_RADIUS = 0.5


@dataclass(frozen=True)
class OperatorOptions:
    """What `[operator]` and `[safety] hold_timeout` decide (see OperatorLocator)."""

    policy: str = "take_control"  # or "largest"
    take_control: str = "peace"
    take_frames: int = 5
    max_hands: int = 2
    release_after: float = 1.0  # seconds without the operator before control is released
    min_confidence: float = 0.5

    @classmethod
    def from_config(cls, cfg: Config) -> OperatorOptions:
        op = cfg.operator
        return cls(
            op.policy,
            op.take_control,
            op.take_frames,
            op.max_hands,
            cfg.safety.hold_timeout,
            cfg.smoothing.min_confidence,
        )


@dataclass(frozen=True)
class _Candidate:
    """A hand seen while nobody holds control, and how many frames it has held take-control."""

    hand: HandLandmarks
    roi: Roi
    streak: int


def nearest(rois: Sequence[Roi], to: Roi) -> int | None:
    """Index of the region whose centre is nearest `to`'s, within MATCH_RADIUS of its side."""
    best, best_d = None, to.size * MATCH_RADIUS
    for i, roi in enumerate(rois):
        d = math.hypot(roi.cx - to.cx, roi.cy - to.cy)
        if d <= best_d:
            best, best_d = i, d
    return best


class OperatorLocator:
    """The `Locator` when `[operator] enabled`: with several hands in view, follows one.

    Nobody in control: the palm detector runs on every frame and the landmark model on up to
    `max_hands` palms. `largest` hands control to the largest hand at once; `take_control` to the
    first hand whose gesture is `take_control` (score >= min_confidence) for `take_frames`
    frames in a row, and returns no hand before that (so nothing but a stop is published).
    Operator held: only the operator's region is tracked (one landmark run per frame, as
    HandLocator); the palm detector runs only where HandLocator's would (every `redetect_every`
    frames, or when the tracker loses the hand); it then re-finds the operator as the palm
    nearest its last region and only counts the others. Other hands are never classified.
    Operator not seen for `release_after` seconds: control is released (the safety gate has
    stopped the vehicle by then: its deadman uses the same `hold_timeout`).
    `clock` is the loop's (monotonic; a stepped one in tests).
    """

    def __init__(
        self, hands: HandLocator, classifier: Classifier, opts: OperatorOptions, clock: Clock
    ) -> None:
        self._loc = hands
        self._classifier = classifier
        self.opts = opts
        self._clock = clock
        self._operator: Roi | None = None
        self._last_seen = -math.inf
        self._since_detect = 0
        self._candidates: list[_Candidate] = []
        self.hands = 0  # hands at the last palm detection (the tracked operator included)

    @property
    def held(self) -> bool:
        """Whether an operator holds control."""
        return self._operator is not None

    def locate(self, frame: Frame) -> HandRegion | None:
        """The operator's hand, or None (no operator, or the operator is not seen)."""
        now = self._clock.monotonic()
        taking = self._operator is None
        hand = self._acquire(frame) if taking else self._follow(frame.image)
        if hand is not None:
            if taking:
                log.info(
                    "operator takes control (%s, %d hands in view)", self.opts.policy, self.hands
                )
            self._operator, self._last_seen = roi_from_landmarks(hand.points), now
            return region_from(hand, frame.image.shape)
        if self._operator is not None and now - self._last_seen >= self.opts.release_after:
            log.info("operator not seen for %.2f s: control released", now - self._last_seen)
            self._operator = None
        return None

    def locate_all(self, frame: Frame) -> list[HandRegion]:
        """The hand as a list (this locator follows one)."""
        region = self.locate(frame)
        return [region] if region is not None else []

    def steady(self, ok: bool) -> None:
        """Several people may be in view: this locator never reuses landmarks."""

    def in_view(self) -> dict[str, Any]:
        """For the stats payload: hands seen, whether an operator is held, the policy."""
        return {
            "hands": self.hands,
            "operator_held": self.held,
            "operator_policy": self.opts.policy,
        }

    def _landmarks(self, image: np.ndarray, roi: Roi) -> HandLandmarks | None:
        hand = self._loc.landmarks.run(image, roi)
        return hand if hand.presence >= self._loc.min_presence else None

    def _follow(self, image: np.ndarray) -> HandLandmarks | None:
        assert self._operator is not None
        tracked = self._loc.track and self._since_detect < self._loc.redetect_every
        if tracked:
            self._since_detect += 1
            hand = self._landmarks(image, self._operator)
            if hand is not None:
                return hand
        palms = [p.roi for p in self._loc.palm.detect(image)]
        self._since_detect = 0
        match = nearest(palms, self._operator)
        hand = self._landmarks(image, palms[match]) if match is not None else None
        if hand is None and self._loc.track and not tracked:
            hand = self._landmarks(image, self._operator)  # the safety net missed the operator
        self.hands = len(palms) + (1 if hand is not None and match is None else 0)
        if hand is None:  # lost: look with the palm detector next frame, not the stale region
            self._since_detect = self._loc.redetect_every
        return hand

    def _acquire(self, frame: Frame) -> HandLandmarks | None:
        palms = self._loc.palm.detect(frame.image)
        self.hands = len(palms)
        found = [self._landmarks(frame.image, p.roi) for p in palms[: self.opts.max_hands]]
        hands = [h for h in found if h is not None]
        if self.opts.policy == "largest":
            return max(hands, key=lambda h: roi_from_landmarks(h.points).size, default=None)
        self._candidates = [self._candidate(frame, h) for h in hands]
        ready = [c for c in self._candidates if c.streak >= self.opts.take_frames]
        if not ready:
            return None
        self._candidates = []
        return max(ready, key=lambda c: (c.streak, c.roi.size)).hand

    def _candidate(self, frame: Frame, hand: HandLandmarks) -> _Candidate:
        """The hand with its take-control streak (carried over from the same hand last frame)."""
        roi = roi_from_landmarks(hand.points)
        before = nearest([c.roi for c in self._candidates], roi)
        streak = self._candidates[before].streak if before is not None else 0
        pred = self._classifier.classify(frame, region_from(hand, frame.image.shape))
        holds = pred.label == self.opts.take_control and pred.score >= self.opts.min_confidence
        return _Candidate(hand, roi, streak + 1 if holds else 0)

    def close(self) -> None:
        """Release the hand models (the HandLocator's close); safe to call twice."""
        self._loc.close()
