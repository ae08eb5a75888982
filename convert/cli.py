"""`gesture-convert`: train, quantize, evaluate and report gesture models on a workstation."""

# Exit codes: 0 ok; 1 the int8 model fails the parity check (files are still written);
# 2 usage; 65 bad data or model input (EX_DATAERR).

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from convert.augment import AugmentSettings
from convert.data import DataError
from convert.evaluate import (
    float_inputs,
    metrics,
    open_tflite,
    plot_confusion,
    predict_with,
    warn_if_constant,
)
from convert.export import ParityError, Thresholds, check_output
from convert.images import input_spec_for
from convert.inputs import load_data
from convert.landmarks.cli import cmd_landmarks
from convert.parser import build_parser
from convert.pipeline import order_labels, quantize_and_export, train_and_export
from convert.report import write_report
from convert.train import TrainSettings, encode
from edge.model.artifact import ModelError

log = logging.getLogger("convert")

EX_OK, EX_PARITY, EX_USAGE, EX_DATAERR = 0, 1, 2, 65


def cmd_train(args: argparse.Namespace) -> int:
    """`train`: data -> split -> train -> int8 artefact + report."""
    settings = TrainSettings(
        size=args.size,
        width=args.width,
        blocks=args.blocks,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        patience=args.patience,
        seed=args.seed,
        augment=AugmentSettings(horizontal_flip=args.flip),
    )
    data = load_data(args, args.size)
    train_and_export(
        data,
        args.out,
        settings,
        args.labels,
        args.eval_fraction,
        args.val_fraction,
        Thresholds(args.min_agreement, args.max_accuracy_drop),
        crop_margin=args.margin,
        checkpoint=args.keras_out,
        verbose={"bar": 1, "epoch": 2, "none": 0}[args.progress or _default_progress()],
        refit=args.refit,
    )
    _summary(args.out)
    return EX_OK


def _default_progress() -> str:
    """A progress bar only where someone watches it: bars written into a log are noise."""
    return "bar" if sys.stdout.isatty() else "epoch"


def _load_keras(path: Path) -> Any:
    import keras

    if not path.is_file():
        raise DataError(f"{path}: model file not found")
    try:
        return keras.models.load_model(str(path), compile=False)
    except Exception as exc:  # Keras raises many types for a bad file
        raise DataError(f"{path}: cannot load as a Keras model ({exc})") from exc


def cmd_quantize(args: argparse.Namespace) -> int:
    """`quantize`: a user's .keras/.h5 -> verified int8 artefact + report."""
    model = _load_keras(args.keras)
    spec = input_spec_for(model, args.pixel_scale, args.pixel_offset, args.margin)
    size = spec.shape[1]
    data = load_data(args, size)
    labels = order_labels(data, args.labels)
    check_output(model, labels)
    evaluation = load_data(args, size, args.eval_data) if args.eval_data else data
    out = (args.out or args.keras).with_suffix(".tflite")
    thresholds = Thresholds(args.min_agreement, args.max_accuracy_drop)
    quantize_and_export(model, args.keras, labels, data, evaluation, spec, out, thresholds)
    _summary(out)
    return EX_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    """`evaluate`: the int8 model on a labelled folder, as the device runs it."""
    with open_tflite(args.model) as model:  # a broken or mismatched artefact: 65, first
        meta = model.meta
        labels = list(meta.labels)
        data = load_data(args, meta.input.shape[1])
        y = encode(data, labels)
        probs = predict_with(model, float_inputs(data.images, meta.input))
    warn_if_constant(probs, args.model.name)
    result = metrics(y, probs.argmax(axis=1), labels)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    if args.png:
        plot_confusion(result["confusion"], labels, f"{args.model.stem} on {args.data}", args.png)
    log.info("accuracy %.3f, weighted F1 %.3f on %d images", result["accuracy"],
             result["weighted_f1"], result["size"])  # fmt: skip
    return EX_OK


def cmd_report(args: argparse.Namespace) -> int:
    """`report`: rewrite NAME.md/NAME.png from NAME.json."""
    try:
        write_report(args.model)
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{args.model}: cannot report ({exc})") from exc
    return EX_OK


def _summary(out: Path) -> None:
    meta = json.loads(out.with_suffix(".json").read_text())
    m = meta["metrics"]
    log.info(
        "done: %s (+ .json, .md, .png): int8 accuracy %.3f (float %.3f), agreement %.3f",
        out,
        m["int8_accuracy"],
        m["float_accuracy"],
        m["agreement"],
    )


COMMANDS = {
    "train": cmd_train,
    "quantize": cmd_quantize,
    "evaluate": cmd_evaluate,
    "report": cmd_report,
    "landmarks": cmd_landmarks,
}


def main(argv: list[str] | None = None) -> int:
    """Run `gesture-convert`; returns the exit code (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info chatter
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    try:
        return COMMANDS[args.command](args)
    except DataError as exc:
        log.error("bad data: %s", exc)
        return EX_DATAERR
    except ModelError as exc:
        log.error("bad model: %s", exc)
        return EX_DATAERR
    except ParityError as exc:
        log.error("%s", exc)
        return EX_PARITY


if __name__ == "__main__":
    sys.exit(main())
