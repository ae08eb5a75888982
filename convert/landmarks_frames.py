"""Whole-frame accuracy of locator + landmark classifier on held-out subhih-hands sessions.

`python -m convert.landmarks_frames --model models/gestures-landmarks.tflite`: every frame of the
sessions the model's json lists as evaluation groups that holds exactly one hand; the hand
locator (detector mode, as the daemon runs it) finds the hand in the whole frame and the
classifier names it. Frames with an `up` hand are also turned by quarter turns (left / right /
down). A frame where no hand is found counts as `none`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from convert.evaluate import metrics
from convert.reference import LABELS, SUBHIH_MAP
from edge.crops import read_rgb
from edge.hands import default_landmark_model, default_palm_model
from edge.hands.classifier import LandmarkClassifier
from edge.hands.locator import open_locator
from edge.tflite_model import TFLiteModel
from edge.types import Frame

log = logging.getLogger(__name__)
TURNS = {"left": cv2.ROTATE_90_CLOCKWISE, "right": cv2.ROTATE_90_COUNTERCLOCKWISE}
TURNS["down"] = cv2.ROTATE_180


def held_out_frames(datasets: Path, groups: list[str]) -> list[tuple[Path, str]]:
    """(frame, label) for single-hand frames of the evaluation sessions."""
    root = datasets / "subhih-hands"
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(root / "boxes.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["filename"]].append(row)
    wanted = {g.removeprefix("subhih:") for g in groups if g.startswith("subhih:")}
    out = []
    for name, rs in sorted(rows.items()):
        session = rs[0]["session"]
        group = "Hand_" if session.startswith("Hand_") else session
        group = "pic" if group.startswith("pic") else group
        if len(rs) == 1 and group in wanted:
            out.append((root / "images" / name, SUBHIH_MAP[rs[0]["label"]]))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--model", type=Path, default=Path("models/gestures-landmarks.tflite"))
    p.add_argument("--out", type=Path, help="metrics json (default: stdout)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    model = TFLiteModel(args.model, num_threads=2)
    groups = model.meta.raw["source"]["split"]["eval_groups"]
    clf = LandmarkClassifier(model)
    loc = open_locator(default_palm_model(), default_landmark_model(), "detector", 2)
    truth, pred = [], []
    for path, label in held_out_frames(args.datasets, groups):
        image = read_rgb(str(path))
        views = [(image, label)]
        if label == "up":
            views += [(cv2.rotate(image, code), turned) for turned, code in TURNS.items()]
        for view, want in views:
            frame = Frame(np.ascontiguousarray(view), 0.0)
            region = loc.locate(frame)
            got = clf.classify(frame, region).label if region is not None else "none"
            truth.append(LABELS.index(want))
            pred.append(LABELS.index(got))
    result = metrics(np.array(truth), np.array(pred), list(LABELS))
    result["eval_groups"] = groups
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    log.info("whole frames: accuracy %.3f on %d", result["accuracy"], result["size"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
