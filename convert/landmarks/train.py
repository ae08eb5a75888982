"""Train the landmark MLP, quantize it to int8 and write the artefact (`kind: landmarks`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError
from convert.evaluate import warn_if_constant
from convert.export import (
    REJECTED,
    Thresholds,
    metrics_block,
    publish_if_parity,
    rejected_path,
    tensor_info,
)
from convert.landmarks.evaluate import device_predictions, scored
from convert.landmarks.points import Landmarks
from convert.landmarks.sources import source_of
from convert.quantize import float_tflite_size, to_int8_tflite, write_tflite
from edge.artifact import write_meta
from edge.hands.decide import SAFE, DecisionRule
from edge.hands.features import FEATURES, NUM_FEATURES, expand
from edge.tflite_model import TFLiteModel

log = logging.getLogger(__name__)
LANDMARK_PARITY = Thresholds(min_agreement=0.99, max_accuracy_drop=1.0)
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


@dataclass(frozen=True)
class MlpSettings:
    """The landmark classifier's size and training schedule."""

    hidden: tuple[int, ...] = (128, 64)
    dropout: float = 0.2
    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 2e-3
    label_smoothing: float = 0.05
    safe_weight: float = (
        2.0  # stop/none/fist weigh this many motion classes: misreading them costs more
    )
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hidden": list(self.hidden)}


def encode_labels(labels: np.ndarray, names: list[str]) -> np.ndarray:
    """Class indices in `names` order.

    Raises:
        DataError: a label is not in `names`.
    """
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(labels.tolist()) - set(index))
    if unknown:
        raise DataError(f"labels {unknown} are not among the model's labels {names}")
    return np.array([index[x] for x in labels.tolist()], np.int64)


def build_mlp(n_classes: int, settings: MlpSettings) -> Any:
    """A small dense network on the 42 features, softmax output."""
    import keras

    inputs = keras.Input((NUM_FEATURES,), name="landmarks")
    x = inputs
    for width in settings.hidden:
        x = keras.layers.Dense(width, activation="relu")(x)
        x = keras.layers.Dropout(settings.dropout)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="landmark_mlp")


def balance_weights(
    labels: np.ndarray, groups: np.ndarray, names: list[str], safe_weight: float = 1.0
) -> np.ndarray:
    """Per-row weights: every class weighs the same in total (the safe classes stop/none/fist
    `safe_weight` times as much: reading them as a motion is the costly mistake), and within a
    class every source weighs by the square root of its rows (one prolific recorder cannot
    drown the others)."""
    sources = np.array([source_of(str(g)) for g in groups])
    w = np.zeros(len(labels), np.float64)
    present = [c for c in names if np.any(labels == c)]
    for c in present:
        in_c = labels == c
        for src in np.unique(sources[in_c]):
            rows = in_c & (sources == src)
            w[rows] = np.sqrt(rows.sum()) / rows.sum()
        w[in_c] *= (safe_weight if c in SAFE else 1.0) / w[in_c].sum()
    return (w * len(labels) / w.sum()).astype(np.float32)


def fit(train: Landmarks, names: list[str], settings: MlpSettings, verbose: int = 0) -> Any:
    """Train the MLP on `train` (class- and source-balanced weights) for a fixed schedule.

    Returns:
        The trained Keras model.
    """
    import keras

    keras.utils.set_random_seed(settings.seed)
    y = encode_labels(train.labels, names)
    weights = balance_weights(train.labels, train.groups, names, settings.safe_weight)
    model = build_mlp(len(names), settings)
    steps = settings.epochs * int(np.ceil(len(y) / settings.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, max(1, steps))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing),
        metrics=["accuracy"],
    )
    model.fit(
        expand(train.x),
        keras.utils.to_categorical(y, len(names)),
        sample_weight=weights,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        shuffle=True,
        verbose=verbose,
    )
    return model


def predict_int8(tflite_path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of the int8 artefact through the device's `TFLiteModel`."""
    with TFLiteModel(tflite_path, num_threads=1) as model:
        return np.stack([model.predict(v[None]) for v in x]) if len(x) else np.zeros((0, 0))


@dataclass(frozen=True)
class EvalSets:
    """Where an exported landmark model is measured.

    `gate` decides parity (int8 vs float) and is the json's top-level evaluation; `lockbox`
    (by source, never used for a choice) fills `metrics.lockbox` (the gate split when None).
    """

    gate: Landmarks
    lockbox: Landmarks | None = None
    min_presence: float = 0.5
    rule: DecisionRule = field(default_factory=DecisionRule)


def export_landmarks(
    model: Any,
    names: list[str],
    calibration: np.ndarray,
    sets: EvalSets,
    out: str | Path,
    source: dict[str, Any],
    thresholds: Thresholds = LANDMARK_PARITY,
) -> dict[str, Any]:
    """Quantize, measure float and int8 as the device decides, write NAME.tflite + NAME.json.

    `calibration` and the sets' `x` are normalised points; the model sees `expand` of them.
    The pair is staged as NAME.rejected.* and moved to NAME.* only when parity holds.

    Returns:
        The json written.

    Raises:
        ParityError: int8 disagrees with float beyond `thresholds` on the gate split.
    """
    final = Path(out).with_suffix(".tflite")
    staged = rejected_path(final)
    data = to_int8_tflite(model, expand(calibration), max_samples=1000)
    write_tflite(data, staged)
    write_meta(staged, _meta(names, staged, source, {}, {}, sets.rule))  # TFLiteModel reads it
    gate_float, gate_int8, agreement = _measure(model, staged, sets.gate, names, sets)
    m = {
        **metrics_block(gate_float, gate_int8, agreement),
        "per_class_recall": gate_int8["per_class_recall"],
        "unasked_motion_rate": gate_int8["unasked_motion_rate"],
    }
    if sets.lockbox is None:  # a user's model: its one held-out split is also the lockbox
        lock, lock_float, lock_int8, lock_agree = sets.gate, gate_float, gate_int8, agreement
    else:
        lock = sets.lockbox
        lock_float, lock_int8, lock_agree = _measure(model, staged, lock, names, sets)
    m["lockbox"] = {
        "accuracy": lock_int8["accuracy"],
        "float_accuracy": lock_float["accuracy"],
        "agreement": round(lock_agree, 4),
        **{k: lock_int8[k] for k in LOCKBOX_KEYS},
        "sources": sorted({source_of(str(g)) for g in lock.groups}),
    }
    sizes = {"float_tflite_bytes": float_tflite_size(model), "int8_tflite_bytes": len(data)}
    meta = _meta(names, staged, source, m, sizes, sets.rule)
    drop = 100 * (gate_float["accuracy"] - gate_int8["accuracy"])
    log.info(
        "%s: gate split float %.3f int8 %.3f agreement %.3f on %d (lockbox: see the json)",
        final,
        gate_float["accuracy"],
        gate_int8["accuracy"],
        agreement,
        gate_int8["size"],
    )
    meta = publish_if_parity(staged, final, meta, agreement, drop, thresholds)
    return {"path": str(final.with_suffix(".json")), **meta}


def _measure(
    model: Any, tflite: Path, part: Landmarks, names: list[str], sets: EvalSets
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """(float, int8, agreement) of one split, as the device decides."""
    y = encode_labels(part.labels, names)
    x = expand(part.x)
    probs = np.asarray(model.predict(x, verbose=0))
    warn_if_constant(probs, f"{tflite.stem.removesuffix(REJECTED)} (float)")
    p_float = device_predictions(
        probs,
        part.presence,
        names,
        sets.min_presence,
        sets.rule,
        part.x,
    )
    p_int8 = device_predictions(
        predict_int8(tflite, x), part.presence, names, sets.min_presence, sets.rule, part.x
    )
    agreement = float(np.mean(p_float == p_int8)) if len(y) else 1.0
    return scored(y, p_float, names), scored(y, p_int8, names), agreement


def _meta(
    names: list[str],
    out: Path,
    source: dict[str, Any],
    m: dict[str, Any],
    sizes: dict[str, int],
    rule: DecisionRule,
) -> dict[str, Any]:
    info = tensor_info(out)
    return {
        "name": out.stem.removesuffix(REJECTED),
        "labels": list(names),
        "kind": "landmarks",
        "input": {
            **info[0],
            "color": "RGB",
            "pixel_scale": 1.0,
            "pixel_offset": 0.0,
            "crop_margin": 0.25,
            "features": FEATURES,
        },
        "output": info[1],
        "decision": asdict(rule),
        "metrics": m,
        "sizes": sizes,
        "source": source,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
