"""Classification metrics (numpy only), confusion-matrix plots, float and int8 predictions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError
from edge.model.artifact import InputSpec
from edge.model.crops import prepare
from edge.model.tflite_model import TFLiteModel

log = logging.getLogger(__name__)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts: rows = true class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support, weighted F1 and the confusion matrix.

    Args:
        y_true: true class indices.
        y_pred: predicted class indices.
        labels: class names in index order.

    Returns:
        A JSON-ready dict. Classes without eval images get recall/F1 None and weight 0.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    matrix = confusion(y_true, y_pred, len(labels))
    tp = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    per_class: dict[str, dict[str, float | int | None]] = {}
    f1s = np.zeros(len(labels))
    for i, name in enumerate(labels):
        precision = tp[i] / predicted[i] if predicted[i] else 0.0
        recall = tp[i] / support[i] if support[i] else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if recall is not None and precision + recall > 0
            else (None if recall is None else 0.0)
        )
        f1s[i] = f1 or 0.0
        per_class[name] = {
            "precision": round(precision, 4),
            "recall": None if recall is None else round(recall, 4),
            "f1": None if f1 is None else round(f1, 4),
            "support": int(support[i]),
        }
    total = max(1, len(y_true))
    return {
        "accuracy": round(float(tp.sum() / total), 4),
        "weighted_f1": round(float((f1s * support).sum() / max(1.0, support.sum())), 4),
        "per_class": per_class,
        "confusion": matrix.tolist(),
        "size": len(y_true),
    }


def float_inputs(images: np.ndarray, spec: InputSpec) -> np.ndarray:
    """The float model inputs for uint8 RGB images, exactly as the device prepares them."""
    if len(images) == 0:
        return np.zeros((0, *spec.shape[1:]), np.float32)
    return np.concatenate([prepare(img, spec) for img in images]).astype(np.float32)


def predict_keras(model: Any, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Probabilities of a Keras model for prepared float inputs."""
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def open_tflite(tflite_path: str | Path) -> TFLiteModel:
    """The int8 artefact, loaded and checked by the device's own `TFLiteModel`.

    Raises:
        DataError: the tflite or its json is missing, truncated, or they disagree (the
            message names the file and the disagreement).
    """
    try:
        return TFLiteModel(tflite_path, num_threads=2)
    except ValueError as exc:  # ModelError is a ValueError too, and already names the file
        raise DataError(str(exc)) from exc


def predict_with(model: TFLiteModel, x: np.ndarray) -> np.ndarray:
    """Probabilities of a loaded int8 model for prepared float inputs, one row per input."""
    if len(x) == 0:
        return np.zeros((0, len(model.labels)), np.float32)
    return np.stack([model.predict(sample[None]) for sample in x])


def predict_tflite(tflite_path: str | Path, x: np.ndarray) -> np.ndarray:
    """Probabilities of the int8 artefact through the device's own `TFLiteModel`."""
    with open_tflite(tflite_path) as model:
        return predict_with(model, x)


def constant_output(probs: np.ndarray) -> bool:
    """True when a model gave the same scores to every one of at least two inputs."""
    return len(probs) >= 2 and bool(np.allclose(probs, probs[0], atol=1e-6))


def warn_if_constant(probs: np.ndarray, name: str) -> bool:
    """Log a warning when every input got the same scores (a model that learned nothing).

    Returns:
        Whether it warned.
    """
    if not constant_output(probs):
        return False
    scores = ", ".join(f"{p:.2f}" for p in probs[0])
    log.warning(
        "%s gives every one of the %d inputs the same scores (%s): it is at chance level and "
        "has learned nothing from the images; do not deploy it",
        name,
        len(probs),
        scores,
    )
    return True


def plot_confusion(matrix: np.ndarray, labels: list[str], title: str, path: str | Path) -> Path:
    """Save a confusion matrix (row-normalised colours, counts as text) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    rows = matrix.sum(axis=1, keepdims=True)
    norm = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
    side = 1.2 + 0.55 * len(labels)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    image = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                colour = "white" if norm[i, j] > 0.5 else "black"
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
