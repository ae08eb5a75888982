"""Held-gesture reuse: while a tracked hand's crop stays still, its last landmarks stand in."""

# A person driving holds a gesture for seconds; the hand barely moves and the answer does not
# change. Before each tracked landmark run, a small grey thumbnail of the hand's region is
# compared with the one taken, at the same region, right after the last real run: when no
# thumbnail pixel moved more than `threshold` grey levels, the last landmarks are returned
# (the same object, so the classifier's answer is reused too). Bounded: at most `max_reuse`
# frames in a row, then a real run; and only while the loop says the gesture is steady
# (`permit`): not while it changes, not while a held motion nears its release, not with a
# second hand being read.

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.hands.geometry import Roi, roi_from_landmarks
from edge.hands.landmark import HandLandmarks

THUMB = 16  # thumbnail side: each pixel averages a few dozen of the hand region's


@dataclass(frozen=True)
class StillOptions:
    """`max_reuse`: consecutive frames a still hand may skip the landmark model (0: never);
    `threshold`: grey levels a thumbnail pixel may move and the crop still count as still."""

    max_reuse: int = 0
    threshold: float = 12.0


def thumbnail(image: np.ndarray, roi: Roi) -> np.ndarray | None:
    """THUMB² grey, area-averaged thumbnail of `roi`'s upright bounding box (None: off frame)."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = roi.box()
    cx0, cy0 = max(0, int(x0)), max(0, int(y0))
    cx1, cy1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
    if cx1 - cx0 < THUMB or cy1 - cy0 < THUMB:
        return None
    small = cv2.resize(image[cy0:cy1, cx0:cx1], (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
    return grey.astype(np.int16)


class StillHand:
    """Decides, per tracked landmark read, whether the last landmarks may stand in for a run.

    `reuse(image, roi)` answers the last landmarks or None (run the model); `remember(image,
    hand)` follows each real run; `forget()` follows a palm detection or a lost hand.
    """

    def __init__(self, opts: StillOptions) -> None:
        self.opts = opts
        self.reused = 0  # frames answered by reuse since start
        self.runs = 0  # real tracked runs remembered since start
        self._permitted = False
        self._last: HandLandmarks | None = None
        self._next: Roi | None = None  # the region the last landmarks give the next frame
        self._ref: np.ndarray | None = None  # the last run's frame, thumbnailed at `_next`
        self._streak = 0

    def permit(self, steady: bool) -> None:
        """The loop's word on the frame just processed: reuse may answer the next one."""
        self._permitted = steady and self.opts.max_reuse > 0

    def reuse(self, image: np.ndarray, roi: Roi) -> HandLandmarks | None:
        """The last landmarks if `roi` is the region they gave and the crop has not moved."""
        if (
            not self._permitted
            or self._last is None
            or self._ref is None
            or roi != self._next
            or self._streak >= self.opts.max_reuse
        ):
            return None
        now = thumbnail(image, roi)
        if now is None or int(np.abs(now - self._ref).max()) > self.opts.threshold:
            return None
        self._streak += 1
        self.reused += 1
        return self._last

    def remember(self, image: np.ndarray, hand: HandLandmarks) -> None:
        """A real run on `image` gave `hand`: the reference for the frames that follow."""
        self.runs += 1
        self._streak = 0
        if self.opts.max_reuse <= 0:
            return
        self._last, self._next = hand, roi_from_landmarks(hand.points)
        self._ref = thumbnail(image, self._next)

    def forget(self) -> None:
        """No reference (a detection, a lost hand): the next read runs the model."""
        self._last, self._next, self._ref, self._streak = None, None, None, 0

    def share(self) -> float:
        """Share of tracked reads that reuse answered, since start."""
        total = self.reused + self.runs
        return self.reused / total if total else 0.0
