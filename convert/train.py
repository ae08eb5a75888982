"""Train the image CNN: augmentation, class weights, Adam, LR decay, early stopping, checkpoint."""

from __future__ import annotations

import logging
import os
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from convert.augment import AugmentSettings, flip_swap, make_augmenter
from convert.data import DataError, Dataset, encode_labels
from convert.model import build_model

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """Training hyper-parameters (recorded in the model's json)."""

    size: int = 96
    width: int = 32
    blocks: int = 4
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4  # keeps weight ranges tight, which int8 quantization likes
    patience: int = 8
    seed: int = 0
    class_weights: bool = True
    augment: AugmentSettings = field(default_factory=AugmentSettings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow (ops stay non-deterministic across thread counts)."""
    import keras

    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Inverse-frequency weights normalised to mean 1 (0 for classes without images)."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / n_classes, 0.0)
    return {i: float(w) for i, w in enumerate(weights)}


def encode(data: Dataset, labels: list[str]) -> np.ndarray:
    """Class indices of `data.labels` in the order of `labels` (see `encode_labels`)."""
    return encode_labels(data.labels, labels)


def _pipeline(
    data: Dataset, y: np.ndarray, settings: TrainSettings, labels: list[str], train: bool
) -> Any:
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((data.images, y))
    if train:
        ds = ds.shuffle(len(y), seed=settings.seed, reshuffle_each_iteration=True)
    ds = ds.batch(settings.batch_size).map(lambda x, t: (tf.cast(x, tf.float32), t))
    if train:
        augment = make_augmenter(settings.augment, settings.seed)
        ds = ds.map(lambda x, t: (augment(x), t))
        if settings.augment.horizontal_flip:
            mapping = flip_swap(labels)
            if mapping is None:
                raise DataError("horizontal flip needs both 'left' and 'right' labels to swap")
            swap = tf.constant(mapping, dtype=tf.int64)

            def flip(x: Any, t: Any) -> Any:
                mirror = tf.random.uniform([tf.shape(x)[0]]) < 0.5
                x = tf.where(mirror[:, None, None, None], tf.reverse(x, axis=[2]), x)
                return x, tf.where(mirror, tf.gather(swap, t), t)

            ds = ds.map(flip)
    return ds.prefetch(2)


def train(
    train_data: Dataset,
    eval_data: Dataset,
    labels: list[str],
    settings: TrainSettings,
    checkpoint: str | Path,
    verbose: int = 1,
    lr_schedule: list[float] | None = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Train a fresh model and return the best checkpoint (lowest validation loss).

    Args:
        train_data: images at `settings.size`.
        eval_data: held-out groups; drives LR decay, early stopping and the checkpoint.
        labels: class order of the model's outputs.
        settings: hyper-parameters and seed.
        checkpoint: where the best `.keras` model is saved.
        verbose: Keras progress output (1 = progress bar, 2 = a line per epoch, 0 = silent).
        lr_schedule: replay these per-epoch learning rates for a fixed number of epochs (a refit
            without validation data) and keep the final weights instead of the best ones.

    Returns:
        (the best model reloaded from `checkpoint`, the training history).
    """
    import keras

    seed_everything(settings.seed)
    y_train, y_eval = encode(train_data, labels), encode(eval_data, labels)
    model = build_model(settings.size, len(labels), settings.width, settings.blocks)
    model.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate, weight_decay=settings.weight_decay),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = class_weights(y_train, len(labels)) if settings.class_weights else None
    checkpoint = Path(checkpoint)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    callbacks = _callbacks(
        settings, checkpoint, "val_loss" if len(eval_data) else "loss", lr_schedule
    )
    log.info(
        "training %d params on %d images (%d eval), %d epochs max",
        model.count_params(),
        len(train_data),
        len(eval_data),
        settings.epochs,
    )
    history = model.fit(
        _pipeline(train_data, y_train, settings, labels, train=True),
        validation_data=_pipeline(eval_data, y_eval, settings, labels, train=False)
        if len(eval_data)
        else None,
        epochs=settings.epochs,
        class_weight=weights,
        callbacks=callbacks,
        verbose=verbose,
    )
    if lr_schedule:
        model.save(str(checkpoint))
    best = keras.models.load_model(str(checkpoint))
    return best, {k: [float(v) for v in vs] for k, vs in history.history.items()}


def _callbacks(
    settings: TrainSettings, checkpoint: Path, monitor: str, lr_schedule: list[float] | None
) -> list[Any]:
    """A replayed learning-rate schedule (a refit), else checkpoint, LR decay, early stop."""
    import keras

    if lr_schedule:
        schedule = list(lr_schedule)
        return [
            keras.callbacks.LearningRateScheduler(lambda e, _: schedule[min(e, len(schedule) - 1)])
        ]
    return [
        keras.callbacks.ModelCheckpoint(str(checkpoint), monitor=monitor, save_best_only=True),
        keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, factor=0.5, patience=max(1, settings.patience // 3), min_lr=1e-5
        ),
        keras.callbacks.EarlyStopping(
            monitor=monitor, patience=settings.patience, restore_best_weights=True
        ),
    ]
