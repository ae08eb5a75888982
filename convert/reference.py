"""Build and train the shipped reference model (`make reference-model`) from ../shared/datasets."""

# Vocabulary (DESIGN.md): none, up, down, left, right, stop, fist, peace.
# - subhih-hands boxes: 0-hand -> fist, 1-hand -> up, 2-hand -> peace, 5-hand -> stop,
#   3-hand / 4-hand -> none (hands that make no command), background crops -> none.
# - shimaazizi-4gest: Fist -> fist, OpenPalm -> stop, PeaceSign -> peace, ThumbsUp -> none.
# - left / right / down are the `up` crops rotated: `left` means the person points to their own
#   left, which is the IMAGE RIGHT, so an up crop turned 90° clockwise is `left`, 90°
#   counter-clockwise is `right`, 180° is `down`. Rotated copies keep their source's group, so
#   they never straddle the split.

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

from convert.boxes import load_boxes
from convert.data import Dataset, concat, load_folder
from convert.export import ParityError, Thresholds
from convert.pipeline import train_and_export
from convert.subhih import SESSION_GROUPS
from convert.train import TrainSettings

log = logging.getLogger(__name__)

LABELS = ["none", "up", "down", "left", "right", "stop", "fist", "peace"]
SUBHIH_MAP = {
    "0-hand": "fist",
    "1-hand": "up",
    "2-hand": "peace",
    "3-hand": "none",
    "4-hand": "none",
    "5-hand": "stop",
}
SHIMA_MAP = {"Fist": "fist", "OpenPalm": "stop", "PeaceSign": "peace", "ThumbsUp": "none"}
SUBHIH_GROUPS = SESSION_GROUPS  # convert.subhih: single-frame sessions join one group per source
# shimaazizi has no sessions: files FOO_1..FOO_50 are grouped by their tens digit (5 groups
# shared across the 4 classes), so neighbouring numbers, likely shot together, stay together.
SHIMA_GROUPS = r"_(\d*?)\d\.\w+$"
ROTATIONS = {  # label -> cv2 rotation of an `up` crop
    "left": cv2.ROTATE_90_CLOCKWISE,  # finger to the image right = the person's left
    "right": cv2.ROTATE_90_COUNTERCLOCKWISE,
    "down": cv2.ROTATE_180,
}
MARGIN = 0.25


def rotated_pointing(data: Dataset) -> Dataset:
    """`left`, `right` and `down` examples made by rotating every `up` image."""
    up = data.subset(data.labels == "up")
    parts = []
    for label, code in ROTATIONS.items():
        images = np.stack([cv2.rotate(img, code) for img in up.images])
        parts.append(
            Dataset(
                images,
                np.full(len(up), label),
                up.groups.copy(),
                f"{label} = rotated up",
                [f"{n}@{label}" for n in up.names],
            )
        )
    return concat(parts)


def build(datasets: Path, size: int, seed: int = 0) -> Dataset:
    """The reference dataset at `size` px, every class of `LABELS` present."""
    subhih = load_boxes(
        datasets / "subhih-hands" / "boxes.csv",
        datasets / "subhih-hands" / "images",
        size,
        MARGIN,
        SUBHIH_MAP,
        background="none",
        background_per_frame=0.35,
        group_pattern=SUBHIH_GROUPS,
        seed=seed,
    )
    subhih.groups = np.array([f"subhih:{g}" for g in subhih.groups])
    shima = load_folder(datasets / "shimaazizi-4gest", size, SHIMA_GROUPS, SHIMA_MAP)
    shima.groups = np.array([f"shimaazizi:{g or '0'}" for g in shima.groups])
    base = concat([subhih, shima])
    return concat([base, rotated_pointing(base)], "reference: subhih-hands boxes + shimaazizi")


NOTES = [
    "subhih-hands (Apache-2.0): 0-hand→fist, 1-hand→up, 2-hand→peace, 5-hand→stop, "
    "3-hand/4-hand→none, background crops overlapping no hand→none; group = session "
    "(pic*/Hand_* single frames joined per source).",
    "shimaazizi-4gest (MIT): Fist→fist, OpenPalm→stop, PeaceSign→peace, ThumbsUp→none "
    "(not a command gesture); groups = files by tens digit of their number.",
    "left/right/down = up crops rotated 90° clockwise / 90° counter-clockwise / 180° "
    "(left = the person's left = finger to the image right); they keep the up crop's group.",
]


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.reference --datasets ../shared/datasets --out models/gestures-image`."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--out", type=Path, default=Path("models/gestures-image.tflite"))
    p.add_argument("--keras-out", type=Path, default=Path("build/reference/gestures-image.keras"))
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-fraction", type=float, default=0.3)
    p.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="keep the selected checkpoint instead of retraining on train+validation groups",
    )
    p.add_argument("--save-samples", type=Path, help="write a few crops per class here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    data = build(args.datasets, args.size, args.seed)
    if args.save_samples:
        save_samples(data, args.save_samples)
    settings = TrainSettings(
        size=args.size, width=args.width, epochs=args.epochs, seed=args.seed, patience=10
    )
    try:
        train_and_export(
            data,
            args.out,
            settings,
            LABELS,
            args.eval_fraction,
            0.15,
            Thresholds(0.99, 1.0),
            crop_margin=MARGIN,
            checkpoint=args.keras_out,
            notes=NOTES,
            verbose=2,
            refit=args.refit,
        )
    except ParityError as exc:
        log.error("%s", exc)
        return 1
    return 0


def save_samples(data: Dataset, folder: Path, per_class: int = 4) -> None:
    """A few crops per class as PNG, to check the label semantics by eye."""
    folder.mkdir(parents=True, exist_ok=True)
    for label in data.classes:
        idx = np.flatnonzero(data.labels == label)[:: max(1, (data.labels == label).sum() // 4)]
        row = np.concatenate([data.images[i] for i in idx[:per_class]], axis=1)
        cv2.imwrite(str(folder / f"{label}.png"), cv2.cvtColor(row, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    sys.exit(main())
