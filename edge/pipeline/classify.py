"""Classifiers: a hand region of a frame -> a Prediction, for image and landmark models."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from edge.model.artifact import ModelError
from edge.model.crops import crop, prepare, square_box
from edge.model.tflite_model import TFLiteModel
from edge.types import Classifier as Classifier  # re-exported: its home is edge.types
from edge.types import Frame, HandRegion, Prediction

if TYPE_CHECKING:
    from edge.config import Config

log = logging.getLogger(__name__)


def to_prediction(probs: np.ndarray, labels: tuple[str, ...], ts: float) -> Prediction:
    """The top label of a probability vector."""
    top = int(np.argmax(probs))
    return Prediction(
        label=labels[top], score=float(probs[top]), scores=probs, labels=labels, ts=ts
    )


class ImageClassifier:
    """An image model: crop the square around the region (with the model's margin), classify."""

    def __init__(self, model: TFLiteModel) -> None:
        self.model = model
        self.labels = model.labels
        self.runtime = model.runtime
        self._spec = model.meta.input
        self.crop_margin = self._spec.crop_margin

    def classify(self, frame: Frame, region: HandRegion) -> Prediction:
        box = square_box(region.box, self._spec.crop_margin)
        x = prepare(crop(frame.image, box), self._spec)
        return to_prediction(self.model.predict(x), self.labels, frame.ts)

    def close(self) -> None:
        self.model.close()


def build_classifier(cfg: Config) -> Classifier:
    """Load `[model] path` once and wrap it by its json `kind`.

    Raises:
        ModelError: the artefact is missing, corrupt, or json and tflite disagree.
        RuntimeNotFound (edge.model.runtime): no TFLite runtime is installed.
    """
    runtime = None if cfg.model.runtime == "auto" else cfg.model.runtime
    try:
        model = TFLiteModel(cfg.model.path, num_threads=cfg.model.num_threads, runtime=runtime)
    except ModelError:
        raise
    except ValueError as exc:  # the runtime cannot load the file: a corrupt artefact
        raise ModelError(str(exc)) from exc
    log.info(
        "model %s (%s, %d labels) on %s",
        model.meta.tflite_path.name,
        model.meta.kind,
        len(model.labels),
        model.runtime,
    )
    if split_kind := (model.meta.raw.get("metrics") or {}).get("split_kind"):
        log.info("model %s: its figures are on %s", model.meta.tflite_path.name, split_kind)
    if model.meta.kind == "landmarks":
        from edge.hands.classifier import HandOptions, LandmarkClassifier  # lazily: hands
        from edge.hands.decide import model_rule, with_overrides

        d = cfg.decision
        rule = with_overrides(
            model_rule(model.meta.raw),
            motion_margin=d.motion_margin,
            min_motion_score=d.min_motion_score,
            reject_below=d.reject_below,
            min_index_reach=d.min_index_reach,
        )
        log.info("decision: %s", rule)
        return LandmarkClassifier(model, HandOptions.from_config(cfg.locate, cfg.model), rule)
    return ImageClassifier(model)
