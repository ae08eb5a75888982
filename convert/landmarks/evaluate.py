"""The landmark model kind: measured as the device decides, with the safety figure and lockbox."""

# The safety figure (`unasked_motion_rate`) is the share of hands that ask for no motion (`stop`,
# `none`, `fist`) that come out as a motion gesture (up/down/left/right), with the worst such
# (true, predicted) pair: the mistake that drives a car nobody asked to move.

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from convert.data import encode_labels
from convert.evaluate import metrics, warn_if_constant
from convert.export import Thresholds, agreement_of, metrics_block
from convert.landmarks.points import Landmarks
from convert.landmarks.sources import source_of
from edge.hands.classifier import NONE
from edge.hands.decide import MOTION, SAFE, Decider, DecisionRule, index_reach
from edge.hands.features import FEATURES, expand
from edge.model.tflite_model import TFLiteModel

LOCKBOX_KEYS = (  # what `metrics.lockbox` carries of the int8 scores (DESIGN.md)
    "per_class_recall",
    "unasked_motion_rate",
    "unasked_motion_count",
    "safe_hands",
    "worst_unasked_pair",
    "size",
    "confusion",
    "per_class",
)


def device_predictions(
    probs: np.ndarray,
    presence: np.ndarray,
    names: list[str],
    min_presence: float,
    rule: DecisionRule | None = None,
    points: np.ndarray | None = None,
) -> np.ndarray:
    """What the device answers: the decided label (the rule sees the points' index reach when
    given), or `none` where presence is too low."""
    reach = index_reach(points) if points is not None else None
    pred = (
        Decider(names, rule).labels_of(probs, reach) if rule is not None else probs.argmax(axis=1)
    )
    if NONE in names:
        pred = np.where(presence < min_presence, names.index(NONE), pred)
    return pred


def unasked_motion(y: np.ndarray, pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Share of safe hands (stop/none/fist) read as a motion, and the worst such pair."""
    safe = np.isin(np.array(names)[y], SAFE)
    motion = np.isin(np.array(names)[pred], MOTION)
    pairs: dict[tuple[str, str], int] = {}
    for t, p in zip(y[safe & motion], pred[safe & motion], strict=True):
        key = (names[t], names[p])
        pairs[key] = pairs.get(key, 0) + 1
    worst = max(pairs.items(), key=lambda kv: kv[1]) if pairs else None
    return {
        "unasked_motion_rate": round(float((safe & motion).sum() / max(1, safe.sum())), 5),
        "unasked_motion_count": int((safe & motion).sum()),
        "safe_hands": int(safe.sum()),
        "worst_unasked_pair": (
            {"true": worst[0][0], "predicted": worst[0][1], "count": worst[1]} if worst else None
        ),
    }


def scored(y: np.ndarray, pred: np.ndarray, names: list[str]) -> dict[str, Any]:
    """`metrics` plus per-class recall and the safety figure."""
    m = metrics(y, pred, names)
    recall = {k: v["recall"] for k, v in m["per_class"].items() if v["recall"] is not None}
    return {**m, "per_class_recall": recall, **unasked_motion(y, pred, names)}


def predict_int8(tflite_path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of the int8 artefact through the device's `TFLiteModel`."""
    with TFLiteModel(tflite_path, num_threads=1) as model:
        return np.stack([model.predict(v[None]) for v in x]) if len(x) else np.zeros((0, 0))


@dataclass(frozen=True)
class LandmarkKind:
    """A landmark classifier for the exporter (`kind: landmarks`).

    `points` (normalised, the training split) calibrate; the model sees `expand` of them.
    `gate` decides parity (int8 vs float) and is the json's top-level evaluation; `lockbox`
    (by source, never used for a choice) fills `metrics.lockbox` (the gate split when None).
    Both are scored as the device decides: `rule`, and `none` below `min_presence`.
    """

    points: np.ndarray
    gate: Landmarks
    lockbox: Landmarks | None = None
    min_presence: float = 0.5
    rule: DecisionRule = field(default_factory=DecisionRule)
    kind: ClassVar[str] = "landmarks"
    parity: ClassVar[Thresholds] = Thresholds(min_agreement=0.99, max_accuracy_drop=1.0)

    def calibration(self) -> tuple[np.ndarray, dict[str, Any]]:
        return expand(self.points), {"max_samples": 1000}

    def input_block(self, tensor: dict[str, Any]) -> dict[str, Any]:
        return {
            **tensor,
            "color": "RGB",
            "pixel_scale": 1.0,
            "pixel_offset": 0.0,
            "crop_margin": 0.25,
            "features": FEATURES,
        }

    def extra_meta(self) -> dict[str, Any]:
        return {"decision": asdict(self.rule)}

    def measure(self, model: Any, tflite: Path, labels: list[str], name: str) -> dict[str, Any]:
        gate_float, gate_int8, agreement = self._scores(model, tflite, self.gate, labels, name)
        m = {
            **metrics_block(gate_float, gate_int8, agreement),
            "per_class_recall": gate_int8["per_class_recall"],
            "unasked_motion_rate": gate_int8["unasked_motion_rate"],
        }
        lock = self.lockbox if self.lockbox is not None else self.gate
        if self.lockbox is None:  # a user's model: its one held-out split is also the lockbox
            lock_float, lock_int8, lock_agree = gate_float, gate_int8, agreement
        else:
            lock_float, lock_int8, lock_agree = self._scores(model, tflite, lock, labels, name)
        m["lockbox"] = {
            "accuracy": lock_int8["accuracy"],
            "float_accuracy": lock_float["accuracy"],
            "agreement": round(lock_agree, 4),
            **{k: lock_int8[k] for k in LOCKBOX_KEYS},
            "sources": sorted({source_of(str(g)) for g in lock.groups}),
        }
        return m

    def _scores(
        self, model: Any, tflite: Path, part: Landmarks, labels: list[str], name: str
    ) -> tuple[dict[str, Any], dict[str, Any], float]:
        """(float, int8, agreement) of one split, as the device decides."""
        y = encode_labels(part.labels, labels)
        x = expand(part.x)
        probs = np.asarray(model.predict(x, verbose=0))
        warn_if_constant(probs, f"{name} (float)")
        decide = (part.presence, labels, self.min_presence, self.rule, part.x)
        p_float = device_predictions(probs, *decide)
        p_int8 = device_predictions(predict_int8(tflite, x), *decide)
        return scored(y, p_float, labels), scored(y, p_int8, labels), agreement_of(p_float, p_int8)
