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
from convert.landmarks.cli import add_parser as add_landmarks_parser
from convert.landmarks.cli import cmd_landmarks
from convert.pipeline import order_labels, quantize_and_export, train_and_export
from convert.report import write_report
from convert.train import TrainSettings, encode
from edge.artifact import ModelError
from edge.cli import version

log = logging.getLogger("convert")

EX_OK, EX_PARITY, EX_USAGE, EX_DATAERR = 0, 1, 2, 65


def _labels_arg(text: str) -> list[str]:
    labels = [x.strip() for x in text.split(",") if x.strip()]
    if len(labels) < 2:
        raise argparse.ArgumentTypeError("--labels needs at least two comma-separated names")
    return labels


def _data_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--data",
        required=required,
        type=Path,
        help="folder with one sub-folder per class, or a box CSV (filename,label,xmin,...)",
    )
    p.add_argument("--images", type=Path, help="images of a box CSV (default: CSV's dir/images)")
    p.add_argument(
        "--margin",
        type=float,
        default=0.25,
        help="crop margin around a hand box: used to cut box-CSV crops, recorded for the device",
    )
    p.add_argument(
        "--group-pattern",
        help="regex on file names (folder) or sessions (CSV) whose 1st group names the group",
    )
    p.add_argument(
        "--label-map", nargs="+", metavar="SRC=DST", help="rename classes; DST empty drops one"
    )


def _tflite_out(text: str) -> Path:
    """`-o`: the model is always a .tflite; any other suffix is a mistake, not a format."""
    path = Path(text)
    if path.suffix.lower() not in ("", ".tflite"):
        raise argparse.ArgumentTypeError(
            f"{text}: gesture-convert writes an int8 TFLite model (NAME.tflite with NAME.json), "
            f"not {path.suffix}; give -o NAME.tflite"
        )
    return path.with_suffix(".tflite")


def _threshold_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-agreement", type=float, default=0.98, help="float-vs-int8 (0..1)")
    p.add_argument("--max-accuracy-drop", type=float, default=2.0, help="points (float - int8)")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of `gesture-convert` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="gesture-convert",
        description="Turn a folder of hand photos into a verified int8 TFLite gesture model.",
        epilog="Exit codes: 0 ok, 1 int8 parity failure, 2 usage, 65 bad data or model.",
    )
    parser.add_argument("--version", action="version", version=f"gesture-convert {version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="data -> trained model -> int8 NAME.tflite/.json/.md")
    _data_args(p)
    p.add_argument("-o", "--out", type=_tflite_out, required=True, help="NAME.tflite to write")
    p.add_argument("--labels", type=_labels_arg, help="output order, comma-separated")
    p.add_argument("--size", type=int, default=96, help="input pixels (96-128 suit a Pi)")
    p.add_argument("--width", type=int, default=32, help="channels of the first block")
    p.add_argument("--blocks", type=int, default=4, help="depthwise-separable stages")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience (epochs)")
    p.add_argument("--eval-fraction", type=float, default=0.3, help="held-out share, by group")
    p.add_argument(
        "--val-fraction", type=float, default=0.15, help="share of training groups for selection"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--flip", action="store_true", help="horizontal flips (swaps left/right labels)")
    p.add_argument("--refit", action="store_true", help="then retrain on train+validation groups")
    p.add_argument("--keras-out", type=Path, help="best checkpoint (default NAME.keras)")
    p.add_argument(
        "--progress",
        choices=("bar", "epoch", "none"),
        help="training progress (default: bar on a terminal, a line per epoch otherwise)",
    )
    _threshold_args(p)

    p = sub.add_parser("quantize", help="your own .keras/.h5 model -> verified int8 artefact")
    p.add_argument("--keras", type=Path, required=True, help="trained .keras or .h5 model")
    _data_args(p)
    p.add_argument("--eval-data", type=Path, help="held-out folder (default: --data itself)")
    p.add_argument("-o", "--out", type=_tflite_out, help="NAME.tflite (default: beside --keras)")
    p.add_argument("--labels", type=_labels_arg, help="output order (default: sorted folders)")
    p.add_argument("--pixel-scale", type=float, default=1.0, help="model input = px*scale+off")
    p.add_argument("--pixel-offset", type=float, default=0.0)
    _threshold_args(p)

    p = sub.add_parser("evaluate", help="int8 model on a labelled folder, as the device runs it")
    p.add_argument("model", type=Path, help="NAME.tflite (with NAME.json)")
    _data_args(p)
    p.add_argument("--json", type=Path, help="write the metrics here (default: stdout)")
    p.add_argument("--png", type=Path, help="write the confusion matrix here")

    p = sub.add_parser("report", help="(re)write NAME.md and NAME.png from NAME.json")
    p.add_argument("model", type=Path, help="NAME.tflite")
    add_landmarks_parser(sub)
    return parser


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


COMMANDS = {"train": cmd_train, "quantize": cmd_quantize, "evaluate": cmd_evaluate}
COMMANDS["report"] = cmd_report


COMMANDS["landmarks"] = cmd_landmarks


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
