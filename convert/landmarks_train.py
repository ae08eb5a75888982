"""Train the landmark MLP, quantize it to int8 and write the artefact (`kind: landmarks`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError
from convert.evaluate import metrics
from convert.export import metrics_block, tensor_info
from convert.landmarks import Landmarks
from convert.quantize import float_tflite_size, to_int8_tflite, write_tflite
from edge.artifact import write_meta
from edge.hands.classifier import NONE
from edge.hands.features import FEATURES, NUM_FEATURES, expand

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MlpSettings:
    """The landmark classifier's size and training schedule."""

    hidden: tuple[int, ...] = (96, 48)
    dropout: float = 0.25
    epochs: int = 60
    batch_size: int = 128
    learning_rate: float = 2e-3
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


def fit(train: Landmarks, names: list[str], settings: MlpSettings, verbose: int = 0) -> Any:
    """Train the MLP on `train` (class-balanced weights) for a fixed number of epochs.

    Returns:
        The trained Keras model.
    """
    import keras

    keras.utils.set_random_seed(settings.seed)
    y = encode_labels(train.labels, names)
    counts = np.bincount(y, minlength=len(names)).astype(float)
    weights = {i: float(len(y) / (len(names) * c)) if c else 0.0 for i, c in enumerate(counts)}
    model = build_mlp(len(names), settings)
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        expand(train.x),
        y,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        class_weight=weights,
        shuffle=True,
        verbose=verbose,
    )
    return model


def device_predictions(
    probs: np.ndarray, presence: np.ndarray, names: list[str], min_presence: float
) -> np.ndarray:
    """What the device answers: the argmax, or `none` where presence is below `min_presence`."""
    pred = probs.argmax(axis=1)
    if NONE in names:
        pred = np.where(presence < min_presence, names.index(NONE), pred)
    return pred


def predict_int8(tflite_path: Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of the int8 artefact through the device's `TFLiteModel`."""
    from edge.tflite_model import TFLiteModel

    with TFLiteModel(tflite_path, num_threads=1) as model:
        return np.stack([model.predict(v[None]) for v in x]) if len(x) else np.zeros((0, 0))


def export_landmarks(
    model: Any,
    names: list[str],
    calibration: np.ndarray,
    evaluation: Landmarks,
    out: str | Path,
    source: dict[str, Any],
    min_presence: float = 0.5,
    min_agreement: float = 0.99,
) -> dict[str, Any]:
    """Quantize to NAME.tflite, evaluate float and int8 as the device decides, write NAME.json.

    `calibration` and `evaluation.x` are normalised points; the model sees `expand` of them.

    Returns:
        The json written.

    Raises:
        ParityError: int8 agrees with float on fewer than `min_agreement` of the eval set
            (the files are still written for inspection).
    """
    out = Path(out).with_suffix(".tflite")
    data = to_int8_tflite(model, expand(calibration), max_samples=500)
    write_tflite(data, out)
    write_meta(out, _meta(names, out, source, {}, {}))  # provisional: TFLiteModel validates it
    y = encode_labels(evaluation.labels, names)
    x_eval = expand(evaluation.x)
    probs = np.asarray(model.predict(x_eval, verbose=0))
    p_float = device_predictions(probs, evaluation.presence, names, min_presence)
    p_int8 = device_predictions(predict_int8(out, x_eval), evaluation.presence, names, min_presence)
    m_float, m_int8 = metrics(y, p_float, names), metrics(y, p_int8, names)
    agreement = float(np.mean(p_float == p_int8)) if len(y) else 1.0
    sizes = {"float_tflite_bytes": float_tflite_size(model), "int8_tflite_bytes": len(data)}
    m = {
        **metrics_block(m_float, m_int8, agreement),
        "per_class_recall": {k: v["recall"] for k, v in m_int8["per_class"].items()},
        "parity": {
            "ok": agreement >= min_agreement,
            "min_agreement": min_agreement,
            "max_accuracy_drop_points": 1.0,
            "accuracy_drop_points": round(100 * (m_float["accuracy"] - m_int8["accuracy"]), 2),
        },
    }
    meta = write_meta(out, _meta(names, out, source, m, sizes))
    log.info(
        "%s: float %.3f int8 %.3f agreement %.3f on %d",
        out,
        m["float_accuracy"],
        m["int8_accuracy"],
        agreement,
        len(y),
    )
    if agreement < min_agreement:
        from convert.export import ParityError

        raise ParityError(
            f"{out}: int8 agrees with float on only {agreement:.3f} (min {min_agreement}); "
            "files written for inspection"
        )
    return {"path": str(meta), **_meta(names, out, source, m, sizes)}


def _meta(
    names: list[str], out: Path, source: dict[str, Any], m: dict[str, Any], sizes: dict[str, int]
) -> dict[str, Any]:
    info = tensor_info(out)
    return {
        "name": out.stem,
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
        "metrics": m,
        "sizes": sizes,
        "source": source,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
