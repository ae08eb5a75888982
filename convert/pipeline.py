"""The common path in one call: data -> split -> train -> quantize + verify -> report."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError, Dataset, log_counts
from convert.export import Thresholds
from convert.images import ImageKind, input_spec_for
from convert.report import export_and_report
from convert.split import group_split
from convert.train import TrainSettings, train
from edge.model.artifact import InputSpec

log = logging.getLogger(__name__)


def order_labels(data: Dataset, labels: list[str] | None) -> list[str]:
    """The model's label order: `labels` if given (each must have images), else sorted.

    Raises:
        DataError: a given label has no images, or the data has labels not listed.
    """
    counts = data.counts()
    if not labels:
        return sorted(counts)
    empty = [x for x in labels if not counts.get(x)]
    if empty:
        raise DataError(f"class(es) {empty} have no images in {data.source}")
    extra = sorted(set(counts) - set(labels))
    if extra:
        raise DataError(f"data has classes {extra} that are not in --labels {labels}")
    if len(set(labels)) != len(labels):
        raise DataError(f"--labels has duplicates: {labels}")
    return list(labels)


def train_and_export(
    data: Dataset,
    out: str | Path,
    settings: TrainSettings,
    labels: list[str] | None = None,
    eval_fraction: float = 0.3,
    val_fraction: float = 0.15,
    thresholds: Thresholds | None = None,
    crop_margin: float = 0.0,
    checkpoint: str | Path | None = None,
    notes: list[str] | None = None,
    verbose: int = 1,
    refit: bool = False,
) -> dict[str, Any]:
    """Split by group, train, quantize, evaluate float and int8, write NAME.{tflite,json,md,png}.

    Args:
        data: images at `settings.size`.
        out: NAME.tflite.
        settings: training settings (seed included).
        labels: output order (default: sorted class names).
        eval_fraction: share of each class held out, by group.
        val_fraction: share of the training split (by group) that drives early stopping, LR
            decay and the checkpoint, so the evaluation split never influences training.
        thresholds: parity limits for the int8 model.
        crop_margin: margin the device must use around a hand box (recorded in the json).
        checkpoint: where the best `.keras` goes (default NAME.keras beside `out`).
        notes: extra lines for the report's data section.
        verbose: Keras progress (1 bar, 2 line per epoch, 0 silent).
        refit: after selection, train afresh on training + validation groups for the best
            epoch count (the evaluation groups stay unseen).

    Returns:
        The json written beside the model.

    Raises:
        DataError: bad data. ParityError: int8 fails the thresholds (files are still written).
    """
    out = Path(out).with_suffix(".tflite")
    labels = order_labels(data, labels)
    log_counts(data, "dataset")
    split = group_split(data, eval_fraction, settings.seed)
    log_counts(split.train, "train split")
    log_counts(split.eval, "eval split")
    if len(split.eval) == 0:
        raise DataError(f"{data.source}: the evaluation split is empty (too few groups)")
    fit_data, val_data, validation = validation_split(
        split.train, split.eval, val_fraction, settings.seed
    )
    checkpoint = Path(checkpoint) if checkpoint else out.with_suffix(".keras")
    model, history = train(fit_data, val_data, labels, settings, checkpoint, verbose)
    refit_epochs = None
    if refit and validation["size"]:
        # the validation groups chose the epoch count; now learn from them too
        refit_epochs = int(np.argmin(history["val_loss"])) + 1
        model = _refit(split.train, labels, settings, history, refit_epochs, checkpoint, verbose)
    spec = input_spec_for(model, 1.0, 0.0, crop_margin)
    source = {
        "data": data.source,
        "class_counts": data.counts(),
        "split": {**split.describe(), "validation": validation},
        "training": {
            **settings.as_dict(),
            "epochs_run": len(history.get("loss", [])),
            "best_val_loss": min(history.get("val_loss", [float("nan")])),
            "refit_epochs_on_train_and_validation": refit_epochs,
        },
        "keras_model": str(checkpoint),
        "seed": settings.seed,
        "notes": notes or [],
    }
    return export_and_report(
        model, labels, ImageKind(split.train, split.eval, spec), out, source, thresholds
    )


def quantize_and_export(
    model: Any,
    model_path: Path,
    labels: list[str],
    calibration: Dataset,
    evaluation: Dataset,
    spec: InputSpec,
    out: Path,
    thresholds: Thresholds,
) -> dict[str, Any]:
    """A model trained elsewhere -> NAME.{tflite,json,md,png} (`gesture-convert quantize`).

    Args:
        model: the loaded Keras model.
        model_path: where it came from (recorded).
        labels: output class names.
        calibration: images for the representative dataset.
        evaluation: images for the metrics (may be `calibration` itself; the json says so).
        spec: the input recipe, with the user's pixel scale and offset.
        out: NAME.tflite.
        thresholds: parity limits.

    Returns:
        The json written.

    Raises:
        DataError: bad labels. ParityError: int8 fails the thresholds (files still written).
    """
    held_out = evaluation is not calibration
    source = {
        "data": calibration.source,
        "class_counts": calibration.counts(),
        "split": {
            "method": f"separate evaluation data: {evaluation.source}"
            if held_out
            else "none: calibration and evaluation on the same images (the model was trained "
            "elsewhere; pass --eval-data for a held-out set)",
            "train_counts": calibration.counts(),
            "eval_counts": evaluation.counts(),
            "eval_groups": [],
        },
        "keras_model": str(model_path),
        "training": None,
        "seed": 0,
        "notes": [f"user model {model_path.name}; its preprocessing recorded as given"],
    }
    kind = ImageKind(calibration, evaluation, spec)
    return export_and_report(model, labels, kind, out, source, thresholds)


def validation_split(
    train_data: Dataset, eval_data: Dataset, val_fraction: float, seed: int
) -> tuple[Dataset, Dataset, dict[str, Any]]:
    """Carve a validation split out of the training groups (for model selection).

    With fewer than 4 training groups there is nothing to spare: the evaluation split then
    selects the model, and the returned record says its numbers are optimistic.

    Returns:
        (data to fit, validation data, a record for the json).
    """
    n_groups = len(set(train_data.groups.tolist()))
    if n_groups >= 4 and val_fraction > 0:
        try:
            inner = group_split(train_data, val_fraction, seed + 1)
        except DataError as exc:
            log.warning("no separate validation split (%s)", exc)
        else:
            if len(inner.eval):
                return (
                    inner.train,
                    inner.eval,
                    {
                        "method": f"groups held out of training, fraction {val_fraction}",
                        "groups": sorted(inner.eval_groups),
                        "size": len(inner.eval),
                    },
                )
    log.warning(
        "only %d training groups: the evaluation split also selects the model (early stopping,"
        " checkpoint), so its numbers are optimistic; add groups (sessions) to avoid this",
        n_groups,
    )
    return (
        train_data,
        eval_data,
        {
            "method": "none: the evaluation split selected the model (too few groups)",
            "groups": [],
            "size": 0,
        },
    )


def _refit(
    data: Dataset,
    labels: list[str],
    settings: TrainSettings,
    history: dict[str, list[float]],
    epochs: int,
    checkpoint: Path,
    verbose: int,
) -> Any:
    """Train afresh on `data` (training + validation groups) for `epochs`, replaying the
    learning rates of the selected run; nothing is held out for selection."""
    log.info("refitting on training + validation groups for %d epochs", epochs)
    no_eval = data.subset(np.zeros(len(data), dtype=bool))
    rates = history["learning_rate"][:epochs]
    model, _ = train(
        data, no_eval, labels, replace(settings, epochs=epochs), checkpoint, verbose, rates
    )
    return model
