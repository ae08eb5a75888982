"""`gesture-convert`'s argument parser: every sub-command and its options."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from convert.landmarks.cli import add_parser as add_landmarks_parser
from edge.service.cli import version


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

    _train_parser(sub)
    _quantize_parser(sub)
    _evaluate_parser(sub)
    _report_parser(sub)
    add_landmarks_parser(sub)
    return parser


def _train_parser(sub: Any) -> None:
    """`train`: data -> split -> train -> int8 artefact."""
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


def _quantize_parser(sub: Any) -> None:
    """`quantize`: a user's Keras model -> verified int8 artefact."""
    p = sub.add_parser("quantize", help="your own .keras/.h5 model -> verified int8 artefact")
    p.add_argument("--keras", type=Path, required=True, help="trained .keras or .h5 model")
    _data_args(p)
    p.add_argument("--eval-data", type=Path, help="held-out folder (default: --data itself)")
    p.add_argument("-o", "--out", type=_tflite_out, help="NAME.tflite (default: beside --keras)")
    p.add_argument("--labels", type=_labels_arg, help="output order (default: sorted folders)")
    p.add_argument("--pixel-scale", type=float, default=1.0, help="model input = px*scale+off")
    p.add_argument("--pixel-offset", type=float, default=0.0)
    _threshold_args(p)


def _evaluate_parser(sub: Any) -> None:
    """`evaluate`: an int8 model on labelled data."""
    p = sub.add_parser("evaluate", help="int8 model on a labelled folder, as the device runs it")
    p.add_argument("model", type=Path, help="NAME.tflite (with NAME.json)")
    _data_args(p)
    p.add_argument("--json", type=Path, help="write the metrics here (default: stdout)")
    p.add_argument("--png", type=Path, help="write the confusion matrix here")


def _report_parser(sub: Any) -> None:
    """`report`: rewrite NAME.md/.png from NAME.json."""
    p = sub.add_parser("report", help="(re)write NAME.md and NAME.png from NAME.json")
    p.add_argument("model", type=Path, help="NAME.tflite")
