"""Palm detector, landmark stage and tracker on the real MediaPipe models and real frames."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.boxes import background_boxes
from devtools.fetch import FetchError, ensure_models, extract, models_ok, read_pins
from edge.hands.geometry import Roi, crop_upright, roi_from_landmarks
from edge.hands.locator import open_locator
from edge.hands.palm import ssd_anchors
from edge.model.crops import crop, read_rgb
from edge.types import Frame


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def test_models_are_pinned_and_fetch_is_idempotent(mediapipe_models: Path) -> None:
    pins = read_pins()
    assert set(pins) == {
        "palm_detection_lite.tflite",
        "palm_detection_full.tflite",
        "hand_landmark_lite.tflite",
        "hand_landmark_full.tflite",
        "pose_detection.tflite",
        "pose_landmark_full.tflite",
        "hand_recrop.tflite",
    }
    assert models_ok(mediapipe_models, pins)
    assert "Apache License" in (mediapipe_models / "LICENSE").read_text()
    before = {p.name: p.stat().st_mtime_ns for p in mediapipe_models.glob("*.tflite")}
    ensure_models(mediapipe_models)  # present and matching: nothing is fetched or rewritten
    assert before == {p.name: p.stat().st_mtime_ns for p in mediapipe_models.glob("*.tflite")}


def test_a_model_that_does_not_match_its_pin_is_refused(tmp_path: Path) -> None:
    import zipfile

    fake = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as zf:
        for member in (
            "palm_detection/palm_detection_lite",
            "palm_detection/palm_detection_full",
            "hand_landmark/hand_landmark_lite",
            "hand_landmark/hand_landmark_full",
        ):
            zf.writestr(f"mediapipe/modules/{member}.tflite", b"not the pinned model")
    with pytest.raises(FetchError, match="does not match the pin"):
        extract(fake, tmp_path / "out", read_pins())


def test_anchor_grid_matches_the_model_outputs() -> None:
    anchors = ssd_anchors()
    assert anchors.shape == (2016, 2)
    # 24x24 cells x 2 anchors at stride 8, then 12x12 cells x 6 anchors at stride 16
    assert np.allclose(anchors[0], [0.5 / 24, 0.5 / 24])
    assert np.allclose(anchors[1152], [0.5 / 12, 0.5 / 12])


def test_detector_box_overlaps_the_annotated_hand(hand_locator, single_hand_sample) -> None:
    hits = 0
    for f in single_hand_sample:
        region = hand_locator.locate(Frame(read_rgb(str(f.path)), 0.0))
        hits += region is not None and iou(region.box, f.boxes[0]) >= 0.5
    assert hits / len(single_hand_sample) >= 0.90


def test_background_crops_give_no_hand(hand_locator, single_hand_sample) -> None:
    rng = np.random.default_rng(1)
    found = total = 0
    for f in single_hand_sample:
        image = read_rgb(str(f.path))
        box = background_boxes(image.shape, f.boxes, rng.uniform(100, 200), rng)
        if box is None:
            continue
        total += 1
        found += hand_locator.locate(Frame(np.ascontiguousarray(crop(image, box)), 0.0)) is not None
    assert total >= 100
    assert found / total <= 0.05


def test_landmarks_keep_the_hands_true_direction(hand_locator, subhih_frames) -> None:
    """The crop is turned upright for the model, the points are turned back into the frame."""
    frame = next(f for f in subhih_frames if f.labels == ["1-hand"])
    image = read_rgb(str(frame.path))
    tips = []
    for k in range(4):  # the frame turned by k quarter turns counter-clockwise
        rotated = np.ascontiguousarray(np.rot90(image, k))
        region = hand_locator.locate(Frame(rotated, 0.0))
        assert region is not None and region.landmarks is not None
        wrist, tip = region.landmarks[0, :2], region.landmarks[8, :2]
        tips.append((tip - wrist) / np.linalg.norm(tip - wrist))
        assert abs((np.degrees(region.angle) - 90 * k + 180) % 360 - 180) < 30
    expected = [(0, -1), (-1, 0), (0, 1), (1, 0)]  # up, image left, down, image right
    for got, want in zip(tips, expected, strict=True):
        assert np.dot(got, want) > 0.8


def test_upright_crop_puts_the_hand_centre_in_the_middle() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    cv2.circle(image, (220, 60), 10, (255, 255, 255), -1)
    out, m = crop_upright(image, Roi(220, 60, 80, np.pi / 2), 64)
    assert out[32, 32].sum() > 600
    assert np.allclose(m @ [32, 32, 1], [220, 60])


def test_tracker_runs_the_palm_detector_rarely(mediapipe_models: Path, subhih_frames) -> None:
    session = [f for f in subhih_frames if f.session == "1528664299.56"][:60]
    loc = open_locator(
        mediapipe_models / "palm_detection_lite.tflite",
        mediapipe_models / "hand_landmark_lite.tflite",
        "tracker",
        num_threads=2,
        redetect_every=30,
    )
    first, found = None, 0
    for i, f in enumerate(session):
        region = loc.locate(Frame(read_rgb(str(f.path)), float(i), i))
        found += region is not None
        if region is not None and first is None:
            first, runs_at_first = i, loc.palm_runs
    loc.close()
    assert first is not None
    assert found >= 0.9 * len(session)
    frames_after = len(session) - first - 1
    assert (loc.palm_runs - runs_at_first) <= 0.20 * frames_after


def test_roi_from_landmarks_follows_the_hand(hand_locator, single_hand_sample) -> None:
    f = single_hand_sample[0]
    image = read_rgb(str(f.path))
    hand = hand_locator.find(image)
    assert hand is not None
    roi = roi_from_landmarks(hand.points)
    x0, y0, x1, y1 = roi.box()
    xy = hand.points[:, :2]
    assert (xy[:, 0] > x0).all() and (xy[:, 0] < x1).all()
    assert (xy[:, 1] > y0).all() and (xy[:, 1] < y1).all()


def test_tracker_still_runs_the_palm_detector_every_n_frames(
    mediapipe_models: Path, subhih_frames
) -> None:
    session = [f for f in subhih_frames if f.session == "1528664299.56"][:40]
    loc = open_locator(
        mediapipe_models / "palm_detection_lite.tflite",
        mediapipe_models / "hand_landmark_lite.tflite",
        "tracker",
        num_threads=2,
        redetect_every=10,
    )
    found = sum(
        loc.locate(Frame(read_rgb(str(f.path)), float(i), i)) is not None
        for i, f in enumerate(session)
    )
    loc.close()
    assert found >= 36
    assert loc.palm_runs >= 40 // 11  # a safety-net detection at least every 11th frame


def test_config_builds_the_tracker_with_the_models_the_classifier_was_trained_on(
    mediapipe_models: Path, subhih_frames
):
    from edge.config import parse_config
    from edge.pipeline.locate import build_locator

    cfg = parse_config({"locate": {"method": "tracker", "redetect_every": 5}})
    meta = json.loads(Path(cfg.model.path).with_suffix(".json").read_text())
    told = meta["source"]["landmarks_from"]
    assert Path(cfg.locate.landmark_model).name == told["landmark_model"]
    assert Path(cfg.locate.palm_model).name == told["palm_model"]
    locator = build_locator(cfg)
    try:
        frame = next(f for f in subhih_frames if f.labels == ["5-hand"])
        region = locator.locate(Frame(read_rgb(str(frame.path)), 0.0))
        assert region is not None and region.landmarks.shape == (21, 3)
        assert iou(region.box, frame.boxes[0]) >= 0.5
        assert locator.redetect_every == 5
    finally:
        locator.close()
