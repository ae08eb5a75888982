"""The cost-aware decision (a motion needs a margin over stop/none/fist), its configuration,
and `gesture-edge classify --keypoints` on real landmark rows."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.config import ConfigError, parse_config
from edge.hands.decide import Decider, DecisionRule, model_rule, with_overrides
from edge.model.artifact import ModelError

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")
LABELS = ("none", "up", "down", "left", "right", "stop", "fist", "peace")


def probs(**scores: float) -> np.ndarray:
    p = np.zeros(len(LABELS), np.float32)
    for name, value in scores.items():
        p[LABELS.index(name)] = value
    return p


def winner(rule: DecisionRule, p: np.ndarray) -> str:
    return LABELS[int(Decider(LABELS, rule).labels_of(p[None])[0])]


def test_a_motion_without_its_margin_over_stop_loses_to_stop() -> None:
    rule = DecisionRule(motion_margin=0.3, min_motion_score=0.5, reject_below=0.3)
    assert winner(rule, probs(up=0.55, stop=0.4, none=0.05)) == "stop"
    assert winner(rule, probs(up=0.75, stop=0.2, none=0.05)) == "up"
    # a close call between two safe labels is not touched
    assert winner(rule, probs(stop=0.5, fist=0.45, up=0.05)) == "stop"


def test_a_weak_motion_or_an_unfamiliar_hand_is_none_and_scores_keep_their_sum() -> None:
    rule = DecisionRule(motion_margin=0.0, min_motion_score=0.8, reject_below=0.5)
    p = probs(left=0.7, none=0.2, peace=0.1)
    decided = Decider(LABELS, rule).decide(p)
    assert LABELS[int(decided.argmax())] == "none"
    assert decided[LABELS.index("left")] == 0.0
    assert decided.sum() == pytest.approx(p.sum())
    assert winner(rule, probs(peace=0.45, stop=0.3, fist=0.25)) == "none"


def test_a_vocabulary_without_safe_labels_keeps_its_plain_argmax() -> None:
    labels = ("up", "down")
    d = Decider(labels, DecisionRule(0.5, 0.9, 0.0))
    assert d.labels_of(np.array([[0.6, 0.4]], np.float32)).tolist() == [0]


def test_the_models_rule_comes_from_its_json_and_the_config_overrides_it() -> None:
    rule = model_rule({"decision": {"motion_margin": 0.2, "min_motion_score": 0.7}})
    assert rule == DecisionRule(0.2, 0.7, DecisionRule().reject_below)
    assert model_rule({}) == DecisionRule()
    cfg = parse_config({"decision": {"motion_margin": 0.5}})
    assert cfg.decision.motion_margin == 0.5 and cfg.decision.reject_below is None
    assert with_overrides(rule, motion_margin=0.5, reject_below=None).motion_margin == 0.5


@pytest.mark.parametrize(
    "table, message",
    [
        ({"motion_margin": 2.0}, "out of range"),
        ({"motion_margin": "high"}, "must be a number"),
        ({"margin": 0.2}, "unknown key"),
    ],
)
def test_a_bad_decision_key_names_the_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        parse_config({"decision": table}, Path("car.toml"))
    assert "[decision]" in str(err.value) and "car.toml" in str(err.value)


def test_a_model_json_with_a_bad_decision_is_refused() -> None:
    with pytest.raises(ModelError, match=r"decision\.motion_margin"):
        model_rule({"decision": {"motion_margin": 7}})
    with pytest.raises(ModelError, match="must hold only"):
        model_rule({"decision": {"bogus": 0.1}})


@pytest.fixture(scope="module")
def real_rows(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 real community-keypoints rows of validation sources, as `label,x0,...,y20`."""
    src = datasets / "community-keypoints" / "keypoints.csv"
    out = tmp_path_factory.mktemp("kp") / "rows.csv"
    wanted = {"stop": 10, "fist": 10, "peace": 10, "none": 10}
    with src.open(newline="") as fh, out.open("w", newline="") as dst:
        writer = csv.writer(dst)
        for row in csv.DictReader(fh):
            if row["repo"] == "BubuPenguin/OpenCV-Workshop" and wanted.get(row["label"], 0):
                wanted[row["label"]] -= 1
                pts = [row[f"{a}{i}"] for i in range(21) for a in "xy"]
                writer.writerow([row["label"], *pts])
    return out


def test_classify_keypoints_prints_one_json_object_per_row(
    real_rows: Path, mediapipe_models: Path
) -> None:
    res = subprocess.run(
        [GESTURE_EDGE, "classify", "--keypoints", str(real_rows), "--mirrored", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = [json.loads(line) for line in res.stdout.splitlines()]
    truth = [line.split(",", 1)[0] for line in real_rows.read_text().splitlines()]
    assert [o["row"] for o in out] == list(range(1, 41))
    assert all(set(o) == {"row", "label", "score"} and 0 <= o["score"] <= 1 for o in out)
    right = sum(o["label"] == t for o, t in zip(out, truth, strict=True))
    assert right >= 36
    assert not {o["label"] for o in out} & {"up", "down", "left", "right"}


def test_classify_keypoints_refuses_a_bad_csv_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    good = ",".join(str(i / 10) for i in range(42))
    bad.write_text(f"stop,{good}\nstop,1,2,3\n")
    res = subprocess.run(
        [GESTURE_EDGE, "classify", "--keypoints", str(bad)], capture_output=True, text=True
    )
    assert res.returncode == 65
    assert f"{bad}:2: expected 43 values" in res.stderr
    assert "Traceback" not in res.stderr
    nan = tmp_path / "nan.csv"
    nan.write_text("stop," + ",".join(["x"] * 42) + "\n")
    res = subprocess.run(
        [GESTURE_EDGE, "classify", "--keypoints", str(nan)], capture_output=True, text=True
    )
    assert res.returncode == 65 and f"{nan}:1: bad point values" in res.stderr


def test_classify_keypoints_needs_a_landmark_model(real_rows: Path, image_model) -> None:
    res = subprocess.run(
        [GESTURE_EDGE, "classify", "--model", str(image_model), "--keypoints", str(real_rows)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 65 and "needs a landmark model" in res.stderr
