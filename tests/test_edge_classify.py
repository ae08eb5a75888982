"""`gesture-edge classify` and the image classifier, with the shipped int8 model on real crops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import parse_config
from edge.model.crops import read_rgb
from edge.pipeline.classify import ImageClassifier, build_classifier
from edge.pipeline.locate import FixedBoxLocator, crop_region
from edge.types import Frame

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")
GESTURES = ("none", "up", "down", "left", "right", "stop", "fist", "peace")


@pytest.fixture(scope="module")
def crops(frames_factory) -> Path:
    """6 real crops per gesture, named NNNNN_<gesture>.jpg."""
    return frames_factory("crops", [(g, 6) for g in GESTURES], seed=3)


def classify(*args) -> list[dict]:
    res = subprocess.run(
        [GESTURE_EDGE, "classify", *map(str, args)], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def truth(path: str) -> str:
    return Path(path).stem.split("_", 1)[1]


def test_classify_crops_json_names_every_image_with_a_model_label(crops, image_model):
    rows = classify("--model", image_model, "--crops", "--json", crops)
    files = sorted(str(p) for p in crops.glob("*.jpg"))
    assert sorted(r["path"] for r in rows) == files
    assert all(set(r) == {"path", "label", "score"} for r in rows)
    assert all(r["label"] in GESTURES and 0.0 <= r["score"] <= 1.0 for r in rows)
    correct = sum(r["label"] == truth(r["path"]) for r in rows)
    # held-out sessions when the model names them; a sanity floor, the report has the metrics
    assert correct / len(rows) >= 0.8, f"{correct}/{len(rows)} correct"


def test_cli_and_library_agree(crops, image_model):
    rows = {r["path"]: r for r in classify("--model", image_model, "--crops", "--json", crops)}
    classifier = build_classifier(parse_config({"model": {"path": str(image_model)}}))
    assert isinstance(classifier, ImageClassifier)
    for path in sorted(crops.glob("*.jpg"))[::5]:
        image = read_rgb(str(path))
        region = crop_region(image.shape[1], image.shape[0], classifier.crop_margin)
        pred = classifier.classify(Frame(image, 0.0), region)
        assert pred.label == rows[str(path)]["label"]
        assert pred.score == pytest.approx(rows[str(path)]["score"], abs=1e-3)
    classifier.close()


def test_the_fixed_box_crop_of_a_square_frame_is_the_whole_frame(crops, image_model):
    """With the centred-square locator, a square frame is classified exactly like a crop."""
    classifier = build_classifier(parse_config({"model": {"path": str(image_model)}}))
    locator = FixedBoxLocator(crop_margin=classifier.crop_margin)
    for path in sorted(crops.glob("*.jpg"))[::7]:
        frame = Frame(read_rgb(str(path)), 0.0)
        h, w = frame.image.shape[:2]
        a = classifier.classify(frame, locator.locate(frame))
        b = classifier.classify(frame, crop_region(w, h, classifier.crop_margin))
        assert a.label == b.label and a.score == pytest.approx(b.score)


def test_classify_whole_frames_uses_the_centred_box_and_prints_text(datasets, image_model):
    frames = sorted((datasets / "subhih-hands" / "images").glob("*.jpg"))[:3]
    args = ["classify", "--model", str(image_model), *map(str, frames)]
    res = subprocess.run([GESTURE_EDGE, *args], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3
    for line, frame in zip(lines, frames, strict=True):
        label, score, path = line.split(maxsplit=2)
        assert label in GESTURES and 0 <= float(score) <= 1 and path == str(frame)


def test_a_landmarks_model_gets_the_landmark_classifier(
    tiny_landmark_model, mediapipe_models, crops
):
    """`kind: landmarks` selects edge.hands' classifier, which finds the landmarks itself."""
    path, _, _ = tiny_landmark_model
    classifier = build_classifier(parse_config({"model": {"path": str(path)}}))
    assert type(classifier).__name__ == "LandmarkClassifier"
    image = read_rgb(str(sorted(crops.glob("*_stop.jpg"))[0]))
    pred = classifier.classify(Frame(image, 1.5), crop_region(image.shape[1], image.shape[0]))
    assert pred.labels == classifier.labels and pred.label in classifier.labels and pred.ts == 1.5
    classifier.close()
