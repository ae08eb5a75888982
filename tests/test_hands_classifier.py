"""Landmark features and the landmark classifier: real models, real crops, the shipped artefact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.boxes import background_boxes
from convert.landmarks.evaluate import predict_int8
from edge.hands.classifier import LandmarkClassifier
from edge.hands.features import (
    DIRECTION,
    FEATURES,
    OWN_FRAME,
    SHAPE,
    FeatureError,
    check_recipe,
    direction_label,
    expand,
    features,
    mirror,
    normalized,
    pointing_angle,
    rotate,
)
from edge.model.crops import crop, read_rgb, square_box
from edge.model.tflite_model import TFLiteModel
from edge.types import Frame, HandRegion

MOTION = {"up", "down", "left", "right"}


@pytest.fixture(scope="session")
def shipped_landmarks(repo_root: Path, mediapipe_models: Path):
    """The committed reference landmark classifier, ready to classify crops."""
    model = TFLiteModel(repo_root / "models" / "gestures-landmarks.tflite", num_threads=2)
    clf = LandmarkClassifier(model)
    yield clf
    clf.close()


def whole(image: np.ndarray) -> HandRegion:
    """A region covering a crop, without landmarks (what `classify --crops` hands over)."""
    return HandRegion(box=(0.0, 0.0, float(image.shape[1]), float(image.shape[0])))


def test_features_ignore_position_and_size_but_keep_direction() -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(50, 150, (21, 2))
    moved = pts * 2.5 + [300, -40]
    assert np.allclose(features(pts), features(moved), atol=1e-5)
    turned = normalized(pts)
    assert not np.allclose(rotate(turned, np.pi / 2), turned, atol=0.05)
    # the hand-shape values are the same however the hand is turned or mirrored; the hand in its
    # own frame ignores turns; the directions follow the turn
    f, f_turned, f_mirror = (
        expand(v[None])[0] for v in (turned, rotate(turned, 1.0), mirror(turned))
    )
    assert np.allclose(f_turned[SHAPE], f[SHAPE], atol=1e-4)
    assert np.allclose(f_mirror[SHAPE], f[SHAPE], atol=1e-4)
    assert np.allclose(f_turned[OWN_FRAME], f[OWN_FRAME], atol=1e-4)
    assert not np.allclose(f_turned[DIRECTION], f[DIRECTION], atol=0.05)


def test_direction_labels_follow_design_semantics() -> None:
    up = np.zeros((21, 2))
    up[5], up[8] = (0, -1), (0, -3)  # index MCP and tip straight above
    x = normalized(up + 10.0)
    assert direction_label(pointing_angle(x)) == "up"
    # turned 90° clockwise the finger points to the IMAGE RIGHT: the person's left
    assert direction_label(pointing_angle(rotate(x, -np.pi / 2))) == "left"
    assert direction_label(pointing_angle(rotate(x, np.pi / 2))) == "right"
    assert direction_label(pointing_angle(rotate(x, np.pi))) == "down"


def test_a_model_with_another_feature_recipe_is_refused() -> None:
    check_recipe(FEATURES)
    with pytest.raises(FeatureError, match="gesturepilot-landmarks/1"):
        check_recipe("gesturepilot-landmarks/1")


def test_int8_agrees_with_float_on_the_evaluation_set(tiny_landmark_model, kinivi_split) -> None:
    path, model, meta = tiny_landmark_model
    _, ev = kinivi_split
    x = expand(ev.x)
    p_float = np.asarray(model.predict(x, verbose=0)).argmax(axis=1)
    p_int8 = predict_int8(path, x).argmax(axis=1)
    assert np.mean(p_float == p_int8) >= 0.99
    assert meta["kind"] == "landmarks" and meta["input"]["features"] == FEATURES
    assert meta["metrics"]["agreement"] >= 0.99


def test_turning_a_pointing_up_crop_gives_left_and_right(
    shipped_landmarks: LandmarkClassifier, subhih_frames, repo_root: Path
) -> None:
    meta = json.loads((repo_root / "models" / "gestures-landmarks.json").read_text())
    held_out = {g.removeprefix("subhih:") for g in meta["source"]["split"]["eval_groups"]}
    ups = [f for f in subhih_frames if f.session in held_out and f.labels == ["1-hand"]][:10]
    checked = correct = 0
    for f in ups:
        hand = np.ascontiguousarray(crop(read_rgb(str(f.path)), square_box(f.boxes[0], 0.25)))
        if shipped_landmarks.classify(Frame(hand, 0.0), whole(hand)).label != "up":
            continue
        checked += 1
        cw = np.ascontiguousarray(cv2.rotate(hand, cv2.ROTATE_90_CLOCKWISE))
        ccw = np.ascontiguousarray(cv2.rotate(hand, cv2.ROTATE_90_COUNTERCLOCKWISE))
        correct += shipped_landmarks.classify(Frame(cw, 0.0), whole(cw)).label == "left"
        correct += shipped_landmarks.classify(Frame(ccw, 0.0), whole(ccw)).label == "right"
    assert checked >= 5
    assert correct >= 0.9 * 2 * checked


def test_no_hand_gives_none_never_a_motion_command(
    shipped_landmarks: LandmarkClassifier, single_hand_sample
) -> None:
    rng = np.random.default_rng(2)
    labels = []
    for f in single_hand_sample[:60]:
        image = read_rgb(str(f.path))
        box = background_boxes(image.shape, f.boxes, rng.uniform(100, 200), rng)
        if box is not None:
            bg = np.ascontiguousarray(crop(image, box))
            labels.append(shipped_landmarks.classify(Frame(bg, 0.0), whole(bg)).label)
    assert len(labels) >= 40
    assert sum(x == "none" for x in labels) >= 0.95 * len(labels)
    assert not MOTION & set(labels)
    blank = np.zeros((160, 160, 3), np.uint8)
    pred = shipped_landmarks.classify(Frame(blank, 1.5), whole(blank))
    assert pred.label == "none" and pred.score > 0.5 and pred.ts == 1.5


def test_regions_with_landmarks_skip_the_hand_search(
    shipped_landmarks: LandmarkClassifier, hand_locator, subhih_frames
) -> None:
    frame = next(f for f in subhih_frames if f.labels == ["5-hand"])
    image = read_rgb(str(frame.path))
    region = hand_locator.locate(Frame(image, 0.0))
    assert region is not None and region.landmarks is not None
    pred = shipped_landmarks.classify(Frame(image, 0.0), region)
    assert pred.labels == shipped_landmarks.model.labels and pred.label in pred.labels
    low = HandRegion(region.box, 0.1, region.angle, region.landmarks, region.handedness)
    assert shipped_landmarks.classify(Frame(image, 0.0), low).label == "none"


def test_gesture_convert_landmarks_from_a_keypoint_csv(datasets: Path, tmp_path: Path) -> None:
    root = datasets / "kinivi-keypoints"
    out = tmp_path / "kp.tflite"
    cmd = [sys.executable, "-m", "convert.cli", "landmarks", "--epochs", "3", "-o", str(out)]
    cmd += ["--keypoints", str(root / "keypoint.csv")]
    cmd += ["--keypoint-labels", str(root / "keypoint_classifier_label.csv")]
    cmd += ["--label-map", "Open=stop", "Close=fist", "Pointer=pointing", "OK=none"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with TFLiteModel(out) as model:
        assert model.meta.kind == "landmarks"
        assert set(model.labels) == {"none", "up", "down", "left", "right", "stop", "fist"}
    assert out.with_suffix(".md").is_file()


def test_gesture_convert_landmarks_refuses_bad_data(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1,2,3\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("Open\n")
    cmd = [sys.executable, "-m", "convert.cli", "landmarks", "--keypoints", str(bad)]
    cmd += ["--keypoint-labels", str(labels), "-o", str(tmp_path / "x.tflite")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 65
    assert "expected 43 values" in done.stderr


def test_a_landmark_model_at_chance_level_is_warned_about(kinivi_split, tmp_path: Path, caplog):
    import keras

    from convert.export import export
    from convert.landmarks.evaluate import LandmarkKind
    from edge.hands.features import NUM_FEATURES

    train, ev = kinivi_split
    names = ["none", "up", "down", "left", "right", "stop", "fist"]
    inputs = keras.Input((NUM_FEATURES,))
    zero = keras.layers.Dense(len(names), activation="softmax", kernel_initializer="zeros")
    model = keras.Model(inputs, zero(inputs))  # learned nothing: the same scores for every hand
    with caplog.at_level("WARNING"):
        export(model, names, LandmarkKind(train.x[:200], gate=ev), tmp_path / "z.tflite", {})
    assert "at chance level" in caplog.text and "do not deploy it" in caplog.text


def test_a_landmark_model_that_loses_accuracy_is_kept_as_rejected(kinivi_split, tmp_path: Path):
    """The landmark kind goes through the one exporter: the accuracy drop is enforced too, and
    a failing model is staged as NAME.rejected.* while NAME.tflite stays as it was."""
    import keras

    from convert.export import ParityError, Thresholds, export
    from convert.landmarks.evaluate import LandmarkKind
    from edge.hands.features import NUM_FEATURES

    train, ev = kinivi_split
    names = ["none", "up", "down", "left", "right", "stop", "fist"]
    inputs = keras.Input((NUM_FEATURES,))
    model = keras.Model(inputs, keras.layers.Dense(len(names), activation="softmax")(inputs))
    out = tmp_path / "z.tflite"
    out.write_bytes(b"the good model")
    no_drop_allowed = Thresholds(min_agreement=0.0, max_accuracy_drop=-1.0)
    with pytest.raises(ParityError, match="accuracy drop"):
        export(model, names, LandmarkKind(train.x[:200], gate=ev), out, {}, no_drop_allowed)
    assert out.read_bytes() == b"the good model"
    rejected = json.loads((tmp_path / "z.rejected.json").read_text())
    assert rejected["kind"] == "landmarks" and rejected["metrics"]["parity"]["ok"] is False
    assert rejected["metrics"]["parity"]["max_accuracy_drop_points"] == -1.0
