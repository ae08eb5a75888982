"""Gesture smoothing: averaged scores, hysteresis and a minimum hold; one odd frame is ignored."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge.config import SmoothingConfig
from edge.hands.decide import MOTION
from edge.types import Prediction

NONE = "none"
STOPPING = ("stop", "fist")  # explicit "halt" hands: they end a motion at once


@dataclass(frozen=True)
class Smoothed:
    """The smoothed gesture (`none` while nothing is held) and its averaged score."""

    gesture: str
    confidence: float
    changed: bool


class Smoother:
    """Sliding-window mean or EMA over per-label scores, then a small state machine.

    A frame without a hand, or whose top score is below `min_confidence`, counts as `none`.
    A gesture is entered when its averaged score reaches `enter` and stays the leader for
    `min_hold_frames` consecutive frames; it is left when its average drops below `exit`
    (or another gesture is entered). `none` is never "held": it is the absence of a gesture.
    With `instant_stop`, a single frame whose own top label is `stop` or `fist` (score at least
    `enter`) releases a held motion at once: stopping late is the costly mistake, stopping early
    only costs the `min_hold_frames` it takes to start again.
    """

    def __init__(self, cfg: SmoothingConfig, labels: tuple[str, ...]) -> None:
        self.cfg = cfg
        self.labels = labels
        self._none = np.array([lb == NONE for lb in labels], dtype=np.float32)
        self._motion = {i for i, lb in enumerate(labels) if lb in MOTION}
        self._window: deque[np.ndarray] = deque(maxlen=cfg.window)
        self._ema: np.ndarray | None = None
        self._held: int | None = None
        self._candidate: int | None = None
        self._streak = 0
        self._avg = self._none.copy()  # the last update's averaged scores

    def _vector(self, prediction: Prediction | None) -> np.ndarray:
        if prediction is None or prediction.score < self.cfg.min_confidence:
            return self._none.copy()
        return np.asarray(prediction.scores, dtype=np.float32)

    def _average(self, v: np.ndarray) -> np.ndarray:
        if self.cfg.method == "ema":
            a = self.cfg.alpha
            self._ema = v if self._ema is None else a * v + (1 - a) * self._ema
            return self._ema
        self._window.append(v)
        return np.asarray(np.mean(self._window, axis=0))

    def update(self, prediction: Prediction | None) -> Smoothed:
        """Feed one frame's prediction (None: no hand found).

        Returns:
            The smoothed gesture after this frame, and whether it changed.
        """
        avg = self._average(self._vector(prediction))
        gestures = avg * (1 - self._none)  # `none` can never be entered
        leader = int(np.argmax(gestures))
        before = self._held
        if self._held is not None and avg[self._held] < self.cfg.exit:
            self._held = None
        if self._held in self._motion and self._halts(prediction):
            self._held = None
            self._window.clear()  # the motion's old frames must not re-enter it
            self._ema = None
            avg = self._average(self._vector(prediction))
            gestures = avg * (1 - self._none)
            leader = int(np.argmax(gestures))
        if leader != self._held and gestures[leader] >= self.cfg.enter:
            self._streak = self._streak + 1 if leader == self._candidate else 1
            self._candidate = leader
            if self._streak >= self.cfg.min_hold_frames:
                self._held, self._candidate, self._streak = leader, None, 0
        else:
            self._candidate, self._streak = None, 0
        self._avg = avg
        if self._held is None:
            none_score = float(np.dot(avg, self._none)) if self._none.any() else 0.0
            return Smoothed(NONE, none_score, before is not None)
        return Smoothed(self.labels[self._held], float(avg[self._held]), before != self._held)

    def settled(self) -> bool:
        """Whether the last update left nothing in play: no gesture being entered, and the
        held one (if any) averaged at or above `enter`, clear of its release at `exit`."""
        if self._candidate is not None:
            return False
        if self._held is None:
            return True
        return float(self._avg[self._held]) >= self.cfg.enter

    def _halts(self, prediction: Prediction | None) -> bool:
        return (
            self.cfg.instant_stop
            and prediction is not None
            and prediction.label in STOPPING
            and prediction.score >= self.cfg.enter
        )

    def reset(self) -> None:
        """Forget the history (after a camera stall: old frames say nothing about now)."""
        self._window.clear()
        self._ema = None
        self._held, self._candidate, self._streak = None, None, 0
