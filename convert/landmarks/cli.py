"""`gesture-convert landmarks`: labelled images and/or keypoint CSVs -> int8 landmark classifier."""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError, concat, parse_label_map
from convert.inputs import load_data
from convert.landmarks.evaluate import LandmarkKind
from convert.landmarks.points import (
    POINTING,
    Landmarks,
    augment,
    extract,
    join,
    load_keypoint_csv,
    open_finder,
)
from convert.landmarks.train import MlpSettings, fit
from convert.reference import rotated_pointing
from convert.report import export_and_report
from convert.split import FRAMES, SOURCES, group_split
from edge.hands.keypoints import KeypointError, read_label_names

log = logging.getLogger(__name__)

SIZE = 224  # images are loaded at the landmark model's input size


def add_parser(sub: Any) -> None:
    """Register the `landmarks` sub-command on `gesture-convert`'s sub-parsers."""
    p = sub.add_parser(
        "landmarks",
        help="images / keypoint CSVs -> landmarks (device code) -> MLP -> int8 NAME.tflite",
        description="Train a landmark classifier (kind: landmarks). Images are run through the "
        "device's palm + landmark models (make models); held-out groups give the metrics.",
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        help="folder per class or box CSV (repeatable)",
    )
    p.add_argument("--images", type=Path, help="images of a box CSV (default: CSV's dir/images)")
    p.add_argument("--margin", type=float, default=0.25, help="crop margin around a hand box")
    p.add_argument("--group-pattern", help="regex whose 1st group names an image's group")
    p.add_argument("--label-map", nargs="+", metavar="SRC=DST", help="rename classes")
    p.add_argument(
        "--keypoints",
        type=Path,
        help="landmark CSV: label,x0,y0,...,x20,y20 rows (or label ids with --keypoint-labels)",
    )
    p.add_argument(
        "--keypoint-labels", type=Path, help="class name per line, for label ids in --keypoints"
    )
    p.add_argument(
        "--derive-directions",
        action="store_true",
        help="add left/right/down images by rotating the `up` images (DESIGN.md semantics)",
    )
    p.add_argument("-o", "--out", type=Path, required=True, help="NAME.tflite to write")
    p.add_argument("--labels", help="output order, comma-separated (default: sorted)")
    p.add_argument("--eval-fraction", type=float, default=0.3, help="held-out share, by group")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-presence", type=float, default=0.5, help="below: the hand is `none`")
    p.add_argument("--min-agreement", type=float, default=0.99, help="float-vs-int8 (0..1)")
    p.add_argument("--palm-model", help="default models/mediapipe/palm_detection_full.tflite")
    p.add_argument("--landmark-model", help="default models/mediapipe/hand_landmark_full.tflite")


def _from_images(args: argparse.Namespace) -> tuple[Landmarks, Landmarks, dict[str, Any], str]:
    """Landmarks of the `--data` images split by group (with rotated `up` copies if asked):
    (train hands present enough, held-out hands, the split's record, the data's name)."""
    parts = [load_data(args, SIZE, path) for path in args.data]
    data = concat(parts) if len(parts) > 1 else parts[0]
    if args.derive_directions:
        if "up" not in data.classes:
            raise DataError("--derive-directions needs an `up` class to rotate")
        data = concat([data, rotated_pointing(data)], data.source + " + rotated up")
    split = group_split(data, args.eval_fraction, args.seed)
    finder = open_finder(args.palm_model, args.landmark_model, args.min_presence)
    train = extract(split.train, finder)
    present = train.subset(train.presence >= args.min_presence)
    return present, extract(split.eval, finder), dict(split.describe()), data.source


def _keypoint_rows(args: argparse.Namespace) -> Landmarks:
    """The `--keypoints` CSV rows (label ids named by `--keypoint-labels`), relabelled."""
    try:
        names = read_label_names(args.keypoint_labels) if args.keypoint_labels else None
    except KeypointError as exc:
        raise DataError(str(exc)) from exc
    return load_keypoint_csv(args.keypoints, names, parse_label_map(args.label_map))


def _held_rows(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Rows to hold out: whole groups (sources) when there are several, else random rows
    (neighbouring frames of one recording then straddle the split: an optimistic figure)."""
    rng = np.random.default_rng(seed)
    names = np.unique(groups)
    if len(names) >= 3:
        count = max(1, round(fraction * len(names)))
        chosen = sorted(str(g) for g in rng.permutation(names)[:count])
        return np.isin(groups, chosen), {
            "kind": SOURCES,
            "method": "whole sources (repo column)",
            "eval_groups": chosen,
        }
    log.warning("keypoint rows have no sources to split by: holding out random rows (optimistic)")
    held = rng.random(len(groups)) < fraction
    return held, {
        "kind": FRAMES,
        "method": f"random rows, eval fraction {fraction} (optimistic: no sources)",
    }


def augmentation_notes(labels: list[str], derived: bool) -> list[str]:
    """The report's lines on augmentation, naming any that makes a class of its own."""
    turns = set(POINTING) <= set(labels)
    notes = [
        "Augmentation: the other hand (mirror, left/right swapped), fingers squeezed or spread, "
        "out-of-plane tilt, turns, per-point noise; "
        + (
            "pointing rows also by quarter turns, relabelled (every direction is a label)."
            if turns
            else "no quarter turns, and no row outside the labels: it makes no new class."
        )
    ]
    if derived:
        notes.append("--derive-directions: `left`/`right`/`down` = every `up` image rotated.")
    return notes


def cmd_landmarks(args: argparse.Namespace) -> int:
    """Run `gesture-convert landmarks` (see `add_parser`); returns the exit code."""
    if not args.data and not args.keypoints:
        raise DataError("give --data (images) and/or --keypoints (CSV)")
    parts: list[Landmarks] = []
    held: Landmarks | None = None
    describe: dict[str, Any] = {}
    sources: list[str] = []
    if args.data:
        train, held, describe, name = _from_images(args)
        parts.append(train)
        sources.append(name)
    if args.keypoints:
        rows = _keypoint_rows(args)
        sources.append(rows.source)
        if held is None:  # CSV only: hold out whole sources (a `repo` column) if it has them
            mask, describe = _held_rows(rows.groups, args.eval_fraction, args.seed)
            held, rows = rows.subset(mask), rows.subset(~mask)
        parts.append(rows)
    assert held is not None  # --data or --keypoints gave the held-out hands
    given = join(parts)
    labels = (  # the classes given (and derived, if asked): augmentation adds none
        [x.strip() for x in args.labels.split(",") if x.strip()]
        if args.labels
        else sorted(set(given.labels.tolist()) | set(held.labels.tolist()))
    )
    data = augment(given, seed=args.seed, classes=labels)
    settings = MlpSettings(epochs=args.epochs, seed=args.seed)
    model = fit(data, labels, settings)
    source = {
        "data": " + ".join(sources),
        "split": describe,
        "training": {**settings.as_dict(), "train_rows_augmented": len(data)},
        "notes": [
            *augmentation_notes(labels, bool(args.data and args.derive_directions)),
            f"Evaluation as the device decides: presence < {args.min_presence} → none.",
        ],
    }
    kind = LandmarkKind(data.x, gate=held, min_presence=args.min_presence)
    thresholds = replace(kind.parity, min_agreement=args.min_agreement)
    export_and_report(
        model, labels, kind, Path(args.out).with_suffix(".tflite"), source, thresholds
    )
    return 0
