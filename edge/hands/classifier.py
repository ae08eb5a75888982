"""Classify a hand from its 21 landmarks with a tiny int8 model (`kind: landmarks`)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge.hands import default_landmark_model, default_palm_model
from edge.hands.decide import Decider, DecisionRule, index_reach, model_rule
from edge.hands.features import check_recipe, features
from edge.hands.geometry import Roi, roi_from_landmarks
from edge.hands.landmark import HandLandmarks, LandmarkModel
from edge.hands.palm import PalmDetector
from edge.model.artifact import ModelError
from edge.model.crops import square_box
from edge.model.tflite_model import TFLiteModel
from edge.types import Frame, HandRegion, Prediction

if TYPE_CHECKING:
    from edge.config import LocateConfig, ModelConfig

log = logging.getLogger(__name__)

NONE = "none"
BOX_MARGIN = 0.25  # around a fixed box or crop before looking for the hand in it
SEARCH_TURNS = (0.0, np.pi / 2, np.pi, -np.pi / 2)


class HandInBox:
    """Palm detector + landmark model restricted to one box of a frame (fixed box, crops).

    The box (squared, with a margin) is searched with the palm detector; if it finds no palm
    (a tight crop can hide the palm's context), the landmark model runs on the whole square,
    upright and then turned by quarter turns until it finds a hand, and once more on the region
    that hand's points give (which turns it upright). Costs nothing extra when a palm is found.
    """

    def __init__(self, palm: PalmDetector, marks: LandmarkModel, min_presence: float) -> None:
        self.palm, self.marks, self.min_presence = palm, marks, min_presence

    def find(self, image: np.ndarray, box: tuple[float, float, float, float]) -> HandLandmarks:
        """The best hand in `box` of an RGB frame (check `.presence` before trusting it)."""
        x0, y0, x1, y1 = square_box(box, BOX_MARGIN)
        h, w = image.shape[:2]
        cx0, cy0 = max(0, int(x0)), max(0, int(y0))
        cx1, cy1 = min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))
        sub = image[cy0:cy1, cx0:cx1] if (cx1 - cx0) > 8 and (cy1 - cy0) > 8 else image
        off = np.array([cx0, cy0]) if sub is not image else np.zeros(2)
        palms = self.palm.detect(np.ascontiguousarray(sub))
        best = None
        if palms:
            r = palms[0].roi
            best = self.marks.run(image, Roi(r.cx + off[0], r.cy + off[1], r.size, r.angle))
            if best.presence >= self.min_presence:
                return best
        # No palm found: the landmark model only sees upright hands, so try the square upright,
        # then turned by quarter turns; the points of the first hand found give its true region.
        for angle in SEARCH_TURNS:
            hand = self.marks.run(image, Roi((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, angle))
            if hand.presence >= self.min_presence:
                refined = self.marks.run(image, roi_from_landmarks(hand.points))
                hand = refined if refined.presence >= hand.presence else hand
                return hand
            if best is None or hand.presence > best.presence:
                best = hand
        assert best is not None
        return best


@dataclass(frozen=True)
class HandOptions:
    """How a LandmarkClassifier finds the hand in a region that comes without landmarks.

    Empty model paths mean the default MediaPipe models (`edge.hands.default_*_model`).
    """

    palm_model: str = ""
    landmark_model: str = ""
    min_detection_score: float = 0.5
    min_presence: float = 0.5
    num_threads: int | None = None

    @classmethod
    def from_config(cls, locate: LocateConfig, model: ModelConfig) -> HandOptions:
        """The options of the daemon's `[locate]` and `[model]` sections."""
        return cls(
            palm_model=locate.palm_model,
            landmark_model=locate.landmark_model,
            min_detection_score=locate.min_detection_score,
            min_presence=locate.min_presence,
            num_threads=model.num_threads,
        )


class LandmarkClassifier:
    """The classifier for model artefacts of `kind: landmarks`.

    Args:
        model: the int8 landmark classifier (its json's `input.features` must be this code's).
        options: the MediaPipe models and thresholds used for regions that come without
            landmarks (fixed box, `--crops`); `min_presence` also gates regions that have them.
        rule: the decision rule (default: the one the model's json was calibrated with).

    Raises:
        FeatureError: the model wants another feature recipe.
        ModelError: the MediaPipe palm or landmark model file is missing.
    """

    def __init__(
        self,
        model: TFLiteModel,
        options: HandOptions | None = None,
        rule: DecisionRule | None = None,
    ) -> None:
        opts = options if options is not None else HandOptions()
        check_recipe(model.meta.input.features)
        self.model = model
        self.labels = tuple(model.labels)
        self.rule = rule if rule is not None else model_rule(model.meta.raw)
        self._decider = Decider(self.labels, self.rule)
        self.runtime = model.runtime
        self.crop_margin = 0.0  # a region's box is searched as it is (with BOX_MARGIN around it)
        self.min_presence = opts.min_presence
        self.min_score = opts.min_detection_score
        self._palm_model = opts.palm_model or default_palm_model()
        self._landmark_model = opts.landmark_model or default_landmark_model()
        self._threads = opts.num_threads
        for path in (self._palm_model, self._landmark_model):
            if not Path(path).is_file():
                raise ModelError(f"{path}: MediaPipe hand model missing (run `make models`)")
        self._in_box: HandInBox | None = None
        self._last: tuple[np.ndarray, Prediction] | None = None  # points -> their prediction

    def _finder(self) -> HandInBox:
        if self._in_box is None:  # only needed when regions come without landmarks
            palm = PalmDetector(self._palm_model, self._threads, self.min_score)
            marks = LandmarkModel(self._landmark_model, self._threads)
            self._in_box = HandInBox(palm, marks, self.min_presence)
        return self._in_box

    def none(self, ts: float, score: float = 1.0) -> Prediction:
        """`none` (no hand, or too unsure it is one): never a motion command."""
        scores = np.zeros(len(self.labels), np.float32)
        if NONE in self.labels:
            scores[self.labels.index(NONE)] = score
        return Prediction(NONE, float(score), scores, self.labels, ts)

    def classify_points(self, points: np.ndarray, ts: float = 0.0) -> Prediction:
        """Prediction for landmarks (21, 2+) in image pixels, as the decision rule decides.

        The very same points (a still hand's reused landmarks, edge.hands.still) get the last
        answer again, restamped, without running the model.
        """
        if self._last is not None and self._last[0] is points:
            return dataclasses.replace(self._last[1], ts=ts)
        try:
            x = features(points)
        except ValueError:
            return self.none(ts)
        probs = self._decider.decide(self.model.predict(x[None]), index_reach(points))
        i = int(np.argmax(probs))
        prediction = Prediction(self.labels[i], float(probs[i]), probs, self.labels, ts)
        self._last = (points, prediction)
        return prediction

    def classify(self, frame: Frame, region: HandRegion | None) -> Prediction:
        """Classify the hand in `region` of `frame`.

        Regions from the hand locator carry landmarks; for one without (fixed box, a crop), the
        palm and landmark models run inside its box first. No hand, or presence below
        `min_presence`, gives `none` with score 1 - presence.
        """
        if region is None:
            return self.none(frame.ts)
        points, presence = region.landmarks, region.score
        if points is None:
            hand = self._finder().find(frame.image, region.box)
            points, presence = hand.points, hand.presence
        if presence < self.min_presence:
            return self.none(frame.ts, 1.0 - float(presence))
        return self.classify_points(points, frame.ts)

    def close(self) -> None:
        """Release the interpreters; safe to call twice."""
        if self._in_box is not None:
            self._in_box.palm.close()
            self._in_box.marks.close()
            self._in_box = None
        self.model.close()
