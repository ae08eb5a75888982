"""Which hand drives (DESIGN.md): the rule over raised hands, and the body path that tells raised
from resting, on real frames of people the classifier never saw (candir-gestures)."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from edge.pipeline.choose import choose
from edge.pipeline.commands import CommandMap
from edge.config import load_config
from edge.model.crops import read_rgb
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
