"""Train the shipped landmark classifier (`make reference-landmarks`); compare with the image model.

Data: the image reference set (`convert.reference.build`: subhih-hands boxes + background crops,
shimaazizi-4gest, rotated `up` crops for left/right/down) split by group exactly as the image
model is (`group_split`, eval fraction 0.3, seed 0), so both are measured on the same held-out
crops from sessions neither trained on; plus the kinivi-keypoints CSV for training only.
A second measurement holds out a whole dataset (shimaazizi-4gest) to report a cross-source score.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from convert.landmarks import (
    KINIVI_MAP,
    Landmarks,
    augment,
    extract,
    join,
    load_keypoint_csv,
    open_finder,
    read_label_names,
)
from convert.landmarks_train import (
    MlpSettings,
    device_predictions,
    encode_labels,
    export_landmarks,
    fit,
)
from edge.hands import default_landmark_model, default_palm_model
from edge.hands.features import expand

log = logging.getLogger(__name__)
SIZE = 224  # crops at the landmark model's input size


def extracted(
    datasets: Path, cache: Path, palm: str | None, marks: str | None
) -> tuple[Any, Landmarks, Landmarks]:
    """(split, train landmarks, eval landmarks) of the image reference set, cached in `cache`."""
    from convert.reference import build
    from convert.split import group_split

    data = build(datasets, SIZE)
    split = group_split(data, 0.3, 0)
    out = []
    for name, part in (("train", split.train), ("eval", split.eval)):
        path = cache / f"{name}.npz"
        if path.is_file() and len(np.load(path)["labels"]) == len(part):
            z = np.load(path)
            out.append(Landmarks(z["x"], z["labels"], z["groups"], z["presence"], part.source))
            continue
        lm = extract(part, open_finder(palm, marks))
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            x=lm.x,
            labels=lm.labels,
            groups=lm.groups,
            presence=lm.presence,
            names=np.array(part.names),
        )
        out.append(lm)
    return split, out[0], out[1]


def kinivi(datasets: Path) -> Landmarks:
    root = datasets / "kinivi-keypoints"
    names = read_label_names(root / "keypoint_classifier_label.csv")
    return load_keypoint_csv(root / "keypoint.csv", names, KINIVI_MAP, "kinivi")


def usable(data: Landmarks, min_presence: float) -> Landmarks:
    """Training rows with a hand the device would classify (presence high enough)."""
    return data.subset(data.presence >= min_presence)


def image_model_scores(model_path: Path, split: Any, names: list[str]) -> dict[str, Any] | None:
    """The image model's int8 metrics on the same held-out crops (None if it is not there)."""
    from convert.evaluate import float_inputs, metrics, predict_tflite
    from convert.reference import MARGIN, build
    from edge.artifact import read_meta

    if not model_path.is_file():
        log.warning("%s not found: no image-model comparison", model_path)
        return None
    meta = read_meta(model_path)
    data = build(Path(split["datasets"]), meta.input.shape[1])
    keep = np.isin(data.groups, split["eval_groups"])
    ev = data.subset(keep)
    labels = list(meta.labels)
    probs = predict_tflite(model_path, float_inputs(ev.images, meta.input))
    pred = np.array([names.index(labels[i]) for i in probs.argmax(axis=1)])
    log.info("image model crop margin %s (reference %s)", meta.input.crop_margin, MARGIN)
    return metrics(encode_labels(ev.labels, names), pred, names)


def main(argv: list[str] | None = None) -> int:
    """`python -m convert.landmarks_reference --datasets DIR --out models/gestures-landmarks`."""
    from convert.reference import LABELS
    from convert.report import write_report

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--out", type=Path, default=Path("models/gestures-landmarks.tflite"))
    p.add_argument("--cache", type=Path, default=Path("build/landmarks"))
    p.add_argument("--image-model", type=Path, default=Path("models/gestures-image.tflite"))
    p.add_argument("--palm-model", default=None)
    p.add_argument("--landmark-model", default=None)
    p.add_argument("--min-presence", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--compare-only", action="store_true", help="re-measure the image model only (no training)"
    )
    p.add_argument(
        "--other-splits",
        type=int,
        nargs="*",
        default=[1, 2, 3],
        help="also measure (float) on the group splits of these seeds",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    names = list(LABELS)
    if args.compare_only:
        return compare_again(args, names)
    palm = args.palm_model or default_palm_model()
    marks = args.landmark_model or default_landmark_model()
    cache = args.cache / Path(marks).stem  # landmarks depend on the model that drew them
    split, train, ev = extracted(args.datasets, cache, palm, marks)
    settings = MlpSettings(epochs=args.epochs, seed=args.seed)
    extra = kinivi(args.datasets)
    train_set = augment(join([usable(train, args.min_presence), extra]), seed=args.seed)
    model = fit(train_set, names, settings)
    source = {
        "data": "subhih-hands + shimaazizi-4gest (image reference set, landmarks by edge.hands) "
        "+ kinivi-keypoints (training only)",
        "split": {**split.describe(), "method": split.method + " (the image model's split)"},
        "training": {**settings.as_dict(), "train_rows_augmented": len(train_set)},
        "landmarks_from": {"palm_model": Path(palm).name, "landmark_model": Path(marks).name},
        "notes": [
            "kinivi-keypoints (Apache-2.0): Open→stop, Close→fist, OK→none, "
            "Pointer→up/down/left/right by the index finger's direction; training only.",
            "Augmentation: mirrored hands (left/right swapped); pointing turned by quarter turns "
            "± 25° and relabelled; other shapes turned by any angle; Gaussian noise.",
            f"Evaluation as the device decides: presence < {args.min_presence} → none.",
        ],
    }
    meta = export_landmarks(model, names, train_set.x, ev, args.out, source, args.min_presence)
    write_report(args.out)
    desc = {"datasets": str(args.datasets), "eval_groups": split.eval_groups}
    compare = {
        "landmarks_int8": meta["metrics"]["int8"],
        "image_int8": image_model_scores(args.image_model, desc, names),
    }
    if args.image_model.is_file():
        image_meta = json.loads(args.image_model.with_suffix(".json").read_text())
        compare["image_model_sha256"] = image_meta["sha256"]
    compare["cross_source_shimaazizi"] = cross_source(
        train, ev, extra, names, settings, args.min_presence
    )
    compare["other_splits"] = {
        str(seed): other_split(join([train, ev]), extra, names, settings, args.min_presence, seed)
        for seed in args.other_splits
    }
    path = args.out.with_name(args.out.stem + "-comparison.json")
    path.write_text(json.dumps(compare, indent=1) + "\n")
    log.info("wrote %s", path)
    return 0


def other_split(
    every: Landmarks,
    extra: Landmarks,
    names: list[str],
    settings: MlpSettings,
    min_presence: float,
    seed: int,
) -> dict[str, Any]:
    """Float metrics on another group split (seed) of the same landmarks: the estimate's spread."""
    from convert.data import Dataset
    from convert.evaluate import metrics
    from convert.split import group_split

    blank = np.zeros((len(every), 1, 1, 3), np.uint8)  # the split only looks at labels and groups
    split = group_split(Dataset(blank, every.labels, every.groups, every.source), 0.3, seed)
    held = np.isin(every.groups, split.eval_groups)
    train, ev = every.subset(~held), every.subset(held)
    model = fit(augment(join([usable(train, min_presence), extra]), seed=0), names, settings)
    probs = np.asarray(model.predict(expand(ev.x), verbose=0))
    pred = device_predictions(probs, ev.presence, names, min_presence)
    result = metrics(encode_labels(ev.labels, names), pred, names)
    return {**result, "eval_groups": split.eval_groups}


def compare_again(args: argparse.Namespace, names: list[str]) -> int:
    """Re-measure the image model on the landmark json's eval groups, and the other splits."""
    path = args.out.with_name(args.out.stem + "-comparison.json")
    compare = json.loads(path.read_text())
    meta = json.loads(args.out.with_suffix(".json").read_text())
    desc = {"datasets": str(args.datasets), "eval_groups": meta["source"]["split"]["eval_groups"]}
    compare["image_int8"] = image_model_scores(args.image_model, desc, names)
    if args.other_splits:
        marks = args.landmark_model or default_landmark_model()
        palm = args.palm_model or default_palm_model()
        _, train, ev = extracted(args.datasets, args.cache / Path(marks).stem, palm, marks)
        every, extra = join([train, ev]), kinivi(args.datasets)
        settings = MlpSettings(epochs=args.epochs, seed=args.seed)
        compare["other_splits"] = {
            str(seed): other_split(every, extra, names, settings, args.min_presence, seed)
            for seed in args.other_splits
        }
    compare["image_model_sha256"] = json.loads(args.image_model.with_suffix(".json").read_text())[
        "sha256"
    ]
    path.write_text(json.dumps(compare, indent=1) + "\n")
    log.info("wrote %s", path)
    return 0


def cross_source(
    train: Landmarks,
    ev: Landmarks,
    extra: Landmarks,
    names: list[str],
    settings: MlpSettings,
    min_presence: float,
) -> dict[str, Any]:
    """Train without any shimaazizi-4gest image, test on all of them (float model)."""
    from convert.evaluate import metrics

    every = join([train, ev])
    shima = np.char.startswith(every.groups.astype(str), "shimaazizi")
    held = every.subset(shima)
    rest = augment(join([usable(every.subset(~shima), min_presence), extra]), seed=settings.seed)
    model = fit(rest, names, settings)
    pred = device_predictions(
        np.asarray(model.predict(expand(held.x), verbose=0)), held.presence, names, min_presence
    )
    return metrics(encode_labels(held.labels, names), pred, names)


if __name__ == "__main__":
    sys.exit(main())
