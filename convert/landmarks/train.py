"""The landmark MLP: its settings, class- and source-balanced weights, and training."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from convert.data import encode_labels
from convert.landmarks.points import Landmarks
from convert.landmarks.sources import source_of
from edge.hands.decide import SAFE
from edge.hands.features import NUM_FEATURES, expand

log = logging.getLogger(__name__)


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
