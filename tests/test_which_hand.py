"""Which hand drives (DESIGN.md): the rule over raised hands, and the body path that tells raised
from resting, on real frames of people the classifier never saw (candir-gestures)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_daemon_e2e import Daemon, collapse

from edge.config import load_config
from edge.hands.geometry import roi_from_landmarks
from edge.model.crops import read_rgb
from edge.pipeline.choose import choose
from edge.pipeline.commands import CommandMap
from edge.types import Frame, Prediction

LABELS = ("none", "up", "down", "left", "right", "stop", "fist", "peace")
CAR = CommandMap("car")
DRONE = CommandMap("drone")


def said(label: str, score: float = 0.9) -> Prediction:
    scores = np.full(len(LABELS), (1 - score) / (len(LABELS) - 1), np.float32)
    scores[LABELS.index(label)] = score
    return Prediction(label, score, scores, LABELS, 0.0)


@pytest.mark.parametrize(
    ("hands", "drives"),
    [
        (["up"], "up"),
        (["up", "none"], "up"),
        (["none", "left"], "left"),
        (["up", "stop"], "stop"),
        (["fist", "right"], "fist"),
        (["up", "left"], "stop"),
        (["up", "up"], "up"),
        (["none", "none"], "none"),
        (["peace", "none"], "peace"),  # unmapped in the car profile: neither drives nor blocks
        (["peace", "up"], "up"),
    ],
)
def test_two_raised_hands_follow_the_rule_in_design(hands: list[str], drives: str) -> None:
    choice = choose([said(h) for h in hands], CAR)
    assert choice.prediction is not None
    assert choice.prediction.label == drives
    assert choice.conflict == (sorted(hands) == ["left", "up"])


def test_two_different_motions_give_a_stop_the_smoother_can_hold() -> None:
    choice = choose([said("up", 0.8), said("left", 0.95)], CAR)
    assert choice.hand is None and choice.conflict
    assert choice.prediction is not None and choice.prediction.label == "stop"
    assert choice.prediction.scores.argmax() == LABELS.index("stop")
    assert choice.prediction.score == pytest.approx(0.95)


def test_drone_land_and_takeoff_on_two_hands_is_a_conflict_not_a_takeoff() -> None:
    choice = choose([said("peace"), said("up")], DRONE)  # takeoff and up: two commands
    assert choice.prediction is not None and choice.prediction.label == "stop"
    assert choose([said("fist"), said("up")], DRONE).prediction.label == "fist"  # type: ignore[union-attr]


def test_no_raised_hand_is_no_prediction() -> None:
    assert choose([], CAR).prediction is None


def candir(datasets: Path, source_class: str, count: int) -> list[Path]:
    root = datasets / "candir-gestures"
    with (root / "manifest.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["source_class"] == source_class]
    paths = sorted(root / r["path"] for r in rows if r["kind"] == "hand")
    return paths[:: max(1, len(paths) // count)][:count]


@pytest.fixture(scope="module")
def body_stages(repo_root: Path, mediapipe_models: Path):
    from edge.pipeline.classify import build_classifier
    from edge.pipeline.locate import build_locator

    cfg = load_config(repo_root / "configs" / "car.toml")
    cfg = dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, method="body"))
    classifier = build_classifier(cfg)
    locator = build_locator(cfg, classifier.crop_margin)
    yield locator, classifier
    locator.close()
    classifier.close()


def test_body_path_reads_the_raised_hand_and_never_the_hanging_one(body_stages, datasets) -> None:
    locator, classifier = body_stages
    for path in candir(datasets, "take_off", 6):  # index up with one hand, the other hangs
        locator.reset()
        frame = Frame(read_rgb(str(path)), 0.0)
        regions = locator.locate_all(frame)
        assert len(regions) == 1, path
        assert classifier.classify(frame, regions[0]).label == "up", path
        view = locator.in_view()
        assert view["hands_raised"] == 1 and view["body"] is True
        resting = [a for a in locator.arms if not a.raised]
        assert len(resting) == 1 and resting[0].side != regions[0].side


def test_a_hand_cut_from_the_full_stream_lands_on_the_same_points(body_stages, datasets) -> None:
    from edge.hands.locator import HandLocator

    locator, _ = body_stages
    marks = locator.hands.landmarks
    path = candir(datasets, "palm", 1)[0]
    full = read_rgb(str(path))
    small = cv2.resize(full, (320, 240), interpolation=cv2.INTER_AREA)
    locator.reset()
    [region] = locator.locate_all(Frame(small, 0.0, full=full))
    assert region.side is not None and region.body is not None
    roi = roi_from_landmarks(region.landmarks)
    from_small = marks.run(small, roi)
    from_full = marks.run(small, roi, full)
    assert isinstance(locator.hands, HandLocator)
    err = np.linalg.norm(from_small.points[:, :2] - from_full.points[:, :2], axis=1)
    assert np.median(err) < 0.05 * region.size  # same hand, same frame coordinates


def test_a_person_three_times_farther_is_still_read_with_the_full_stream(
    body_stages, datasets
) -> None:
    from devtools.scenes import scene

    locator, classifier = body_stages
    read = []
    for path in candir(datasets, "take_off", 5):
        frame = scene(read_rgb(str(path)), 3.0, 2)
        locator.reset()
        regions = locator.locate_all(frame)
        read += [classifier.classify(frame, r).label for r in regions]
        assert all(r.size < 30 for r in regions)  # about 25 px tall in the small stream
    assert read.count("up") >= 4, read


def test_check_config_says_how_far_hands_are_read_and_warns_below_four_metres(
    tmp_path: Path, repo_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from edge.service.cli import main

    text = (repo_root / "configs" / "car.toml").read_text()
    ok = tmp_path / "car.toml"
    ok.write_text(text)
    small = tmp_path / "small.toml"
    small.write_text(
        text.replace("width = 640 ", "width = 320 ")
        .replace("height = 480", "height = 240")
        .replace("full_scale = 2", "full_scale = 1")
    )
    with caplog.at_level("INFO"):
        assert main(["check-config", "--config", str(ok)]) == 0
    assert "hands read to" in caplog.text and "below the" not in caplog.text
    caplog.clear()
    with caplog.at_level("INFO"):
        assert main(["check-config", "--config", str(small)]) == 0
    assert "a hand 4 m away is about 13 px, below the 24 px" in caplog.text


def test_body_method_without_its_models_is_a_config_error_naming_the_key(
    tmp_path: Path, repo_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from edge.exits import EX_CONFIG
    from edge.service.cli import main

    cfg = tmp_path / "body.toml"
    missing = tmp_path / "nowhere.tflite"
    cfg.write_text(
        (repo_root / "configs" / "car.toml")
        .read_text()
        .replace('method = "body"', f'method = "body"\npose_landmark_model = "{missing}"')
    )
    assert main(["check-config", "--config", str(cfg)]) == EX_CONFIG
    assert f"[locate] pose_landmark_model: {missing} does not exist" in caplog.text


def scene_frames(folder: Path, datasets: Path) -> Path:
    """candir frames in video order: nobody gesturing, `up` (the other hand hanging in view),
    an open palm, nobody again."""
    from devtools.scenes import as_video, candir_shots

    shots = candir_shots(datasets, 1)
    folder.mkdir()
    n = 0
    for label, count in (("none", 6), ("up", 14), ("stop", 10), ("none", 8)):
        pool = sorted((s for s in shots if s.kind == "hand" and s.label == label), key=str)
        for shot in as_video(pool, 0, count):
            (folder / f"{n:04d}.jpg").symlink_to(shot.path)
            n += 1
    return folder


def test_the_daemon_drives_from_the_raised_hand_of_a_person_at_a_distance(
    tmp_path, broker, datasets, mediapipe_models, recorder_factory, daemons
) -> None:
    frames = scene_frames(tmp_path / "frames", datasets)
    d = Daemon(
        tmp_path,
        broker,
        frames,
        camera={"width": 320, "height": 240, "full_scale": 2, "fps": 10},
        model={"path": ""},
        locate={"method": "body"},
    )
    daemons.append(d)
    rec = recorder_factory(f"{d.root}/#")
    assert d.start().wait() == 0, d.log
    commands = [m.json()["command"] for m in rec.on("command")]
    assert collapse(commands) == ["forward", "stop"], d.log
    stats = [m.json() for m in rec.on("stats")]
    assert any(s["hands_raised"] == 1 and s["body"] for s in stats), stats
    assert any(s["hands_resting"] == 1 for s in stats), stats
    seen = [s["hand_px"] for s in stats if s["hand_px"] is not None]
    assert seen and all(10 < px < 120 for px in seen)  # in the 320x240 stream's pixels


def test_operator_with_the_body_path_is_a_config_error_that_says_why() -> None:
    from edge.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as err:
        parse_config({"locate": {"method": "body"}, "operator": {"enabled": True}})
    assert "[operator] enabled: needs [locate] method = 'detector' or 'tracker'" in str(err.value)
    assert "follows one person already" in str(err.value)


def test_a_person_four_times_farther_is_found_by_a_zoomed_view_within_ten_tries(
    body_stages, datasets
) -> None:
    from devtools.scenes import scene

    locator, classifier = body_stages
    for path in candir(datasets, "palm", 3):
        frame = scene(read_rgb(str(path)), 4.0, 2)
        locator.reset()
        regions = []
        for _ in range(10):  # two tries per view: the palm detector takes every other frame
            if regions := locator.locate_all(frame):
                break
        assert regions, f"{path.name}: nobody found in 10 frames"
        assert classifier.classify(frame, regions[0]).label == "stop"
        assert regions[0].size < 35  # in the small stream's pixels (about 20 px tall)
