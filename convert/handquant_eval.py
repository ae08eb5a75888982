"""How far the int8 hand models are from the float ones, on frames the calibration never saw."""

# `python -m convert.handquant_eval --datasets ../shared/datasets` (what `make eval-hand-int8`
# runs) writes `models/hand-models-int8.json`. Per MediaPipe size (lite, full), on the validation
# and the lockbox subhih-hands sessions (whole camera frames, their labelled hand boxes):
# - palm detector: recall of the labelled hands (a hand is found when a detected palm's hand
#   region is centred in its box), float and int8, and the IoU of each int8 palm box with the
#   float one it matches;
# - landmark model, on the region the tracker would crop (from the float landmarks): the mean
#   point distance int8 vs float over the hand's size (the larger side of the float points' box),
#   mean and p95, how often both agree on presence (>= 0.5), and on the gesture the shipped
#   classifier decides from each (the daemon's own path: tracker crops of whole frames);
# - gestures on the photo rows, through the shipped classifier and its decision rule as the
#   device decides (tight crops searched by the in-box finder: its hardest path): the rows of
#   every side (subhih boxes and backgrounds, shimaazizi-4gest), accuracy with
#   float and with int8 hand models and their agreement.

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from convert.handquant import int8_name
from convert.landmarks.evaluate import device_predictions, predict_int8
from convert.landmarks.points import Landmarks
from convert.landmarks.sources import photos, shot_sides, split_of
from convert.subhih import Shot, read_shots
from edge.config.paths import models_dir
from edge.hands.classifier import LandmarkClassifier
from edge.hands.decide import model_rule
from edge.hands.features import expand
from edge.hands.geometry import roi_from_landmarks
from edge.hands.landmark import HandLandmarks, LandmarkModel
from edge.hands.locator import region_from
from edge.hands.palm import PalmDetection, PalmDetector, box_iou
from edge.model.artifact import read_meta
from edge.model.crops import read_rgb
from edge.model.tflite_model import TFLiteModel
from edge.types import Frame

log = logging.getLogger(__name__)

TARGETS = {
    "landmark_error_mean_max": 0.02,
    "palm_recall_ratio_min": 0.99,
    "gesture_agreement_min": 0.99,
    "lockbox_accuracy_drop_max_points": 1.0,
}


def _found(boxes: list[tuple[float, float, float, float]], palms: list[PalmDetection]) -> int:
    return sum(
        any(b[0] <= p.roi.cx <= b[2] and b[1] <= p.roi.cy <= b[3] for p in palms) for b in boxes
    )


def landmark_error(ref: np.ndarray, got: np.ndarray) -> float:
    """Mean point distance of `got` from `ref` (21 x 2+ pixels) over the larger side of
    `ref`'s box (the hand's size)."""
    xy = ref[:, :2]
    size = float((xy.max(axis=0) - xy.min(axis=0)).max())
    return float(np.linalg.norm(got[:, :2] - xy, axis=1).mean()) / size


def _label(clf: LandmarkClassifier, image: np.ndarray, hand: HandLandmarks) -> str:
    """The gesture the daemon decides for a located hand (presence gate, then the rule)."""
    return clf.classify(Frame(image, 0.0), region_from(hand, image.shape)).label


def frame_metrics(
    shots: list[Shot],
    fp: PalmDetector,
    qp: PalmDetector,
    fl: LandmarkModel,
    ql: LandmarkModel,
    clf: LandmarkClassifier,
) -> dict[str, Any]:
    """Palm recall and IoU, landmark error, presence and gesture agreement, int8 vs float."""
    hands = found_f = found_q = 0
    ious: list[float] = []
    errors: list[float] = []
    agree: list[bool] = []
    same_gesture: list[bool] = []
    for shot in shots:
        image = read_rgb(str(shot.path))
        palms_f, palms_q = fp.detect(image), qp.detect(image)
        hands += len(shot.boxes)
        found_f += _found(shot.boxes, palms_f)
        found_q += _found(shot.boxes, palms_q)
        for palm in palms_f:
            boxes = np.array([q.box for q in palms_q]).reshape(-1, 4)
            ious.append(float(box_iou(palm.box, boxes).max()) if len(boxes) else 0.0)
        for palm in palms_f[:2]:
            roi = roi_from_landmarks(fl.run(image, palm.roi).points)
            ref, got = fl.run(image, roi), ql.run(image, roi)
            errors.append(landmark_error(ref.points, got.points))
            agree.append((ref.presence >= 0.5) == (got.presence >= 0.5))
            same_gesture.append(_label(clf, image, ref) == _label(clf, image, got))
    err = np.array(errors)
    return {
        "frames": len(shots),
        "hands": hands,
        "palm_recall_float": round(found_f / max(hands, 1), 4),
        "palm_recall_int8": round(found_q / max(hands, 1), 4),
        "palm_recall_ratio": round(found_q / max(found_f, 1), 4),
        "palm_iou_mean": round(float(np.mean(ious)), 4) if ious else None,
        "palm_iou_p5": round(float(np.percentile(ious, 5)), 4) if ious else None,
        "landmark_crops": len(errors),
        "landmark_error_mean": round(float(err.mean()), 5) if len(err) else None,
        "landmark_error_p95": round(float(np.percentile(err, 95)), 5) if len(err) else None,
        "presence_agreement": round(float(np.mean(agree)), 4) if agree else None,
        "gesture_agreement": round(float(np.mean(same_gesture)), 4) if same_gesture else None,
    }


def predictions(rows: Landmarks, classifier: Path) -> np.ndarray:
    """The device's decided label index for each photo row."""
    meta = read_meta(classifier)
    names = list(meta.labels)
    probs = predict_int8(classifier, expand(rows.x))
    return device_predictions(probs, rows.presence, names, 0.5, model_rule(meta.raw), rows.x)


def gesture_metrics(float_rows: Landmarks, int8_rows: Landmarks, classifier: Path) -> dict:
    """Accuracy of the photo rows with float and int8 hand models, and their agreement, by side."""
    names = list(read_meta(classifier).labels)
    y = np.array([names.index(str(label)) for label in float_rows.labels])
    pf, pq = predictions(float_rows, classifier), predictions(int8_rows, classifier)
    side = split_of(float_rows.groups)
    out = {}
    for name in ("train", "validation", "lockbox"):
        m = side == name
        out[name] = {
            "rows": int(m.sum()),
            "accuracy_float": round(float(np.mean(pf[m] == y[m])), 4),
            "accuracy_int8": round(float(np.mean(pq[m] == y[m])), 4),
            "agreement": round(float(np.mean(pf[m] == pq[m])), 4),
        }
    return out


def evaluate(datasets: Path, mp: Path, variant: str, classifier: Path, cache: Path) -> dict:
    """Every figure of one MediaPipe size, int8 against float."""
    palm, marks = f"palm_detection_{variant}.tflite", f"hand_landmark_{variant}.tflite"
    fp, qp = PalmDetector(mp / palm, 2), PalmDetector(mp / int8_name(palm), 2)
    fl, ql = LandmarkModel(mp / marks, 2), LandmarkModel(mp / int8_name(marks), 2)
    clf = LandmarkClassifier(TFLiteModel(classifier, 1))
    shots = read_shots(datasets)
    sides = shot_sides(shots)
    frames = {
        name: frame_metrics(
            [s for s, x in zip(shots, sides, strict=True) if x == name], fp, qp, fl, ql, clf
        )
        for name in ("validation", "lockbox")
    }
    rows = {
        kind: photos(datasets, cache / Path(m).stem, str(mp / p), str(mp / m))
        for kind, p, m in (
            ("float", palm, marks),
            ("int8", int8_name(palm), int8_name(marks)),
        )
    }
    return {"frames": frames, "gestures": gesture_metrics(rows["float"], rows["int8"], classifier)}


def verdict(result: dict[str, Any]) -> dict[str, bool]:
    """Which targets one size holds, judged on validation (lockbox reported, never chosen on)."""
    val, gest = result["frames"]["validation"], result["gestures"]["validation"]
    return {
        "frame_gesture_agreement": val["gesture_agreement"] >= TARGETS["gesture_agreement_min"],
        "landmark_error": val["landmark_error_mean"] <= TARGETS["landmark_error_mean_max"],
        "palm_recall": val["palm_recall_ratio"] >= TARGETS["palm_recall_ratio_min"],
        "photo_gesture_agreement": gest["agreement"] >= TARGETS["gesture_agreement_min"],
        "accuracy_drop": 100 * (gest["accuracy_float"] - gest["accuracy_int8"])
        <= TARGETS["lockbox_accuracy_drop_max_points"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--models", type=Path, default=models_dir())
    p.add_argument("--cache", type=Path, default=Path("build/landmarks"))
    p.add_argument("--variants", nargs="+", default=["lite", "full"])
    p.add_argument("--out", type=Path, default=models_dir() / "hand-models-int8.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    classifier = args.models / "gestures-landmarks.tflite"
    report: dict[str, Any] = {"targets": TARGETS, "classifier": classifier.name, "variants": {}}
    for variant in args.variants:
        result = evaluate(args.datasets, args.models / "mediapipe", variant, classifier, args.cache)
        result["holds_on_validation"] = verdict(result)
        report["variants"][variant] = result
        log.info("%s: %s", variant, json.dumps(result))
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
