"""Train your own: the model holds the classes given, the report names what its split measures."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from convert.boxes import load_boxes
from convert.cli import main
from convert.report import split_kind, write_report
from convert.split import FRAMES, LOCKBOX, PEOPLE

pytestmark = pytest.mark.slow

# the issue's user: candir-gestures' close-up frames (UUID file names: no person, no session)
CANDIR = {"palm": "stop", "take_off": "up", "emergency": "fist", "closer": "peace"}
CANDIR |= {"no_class": "none"}
SUBHIH = {"0-hand": "fist", "1-hand": "up", "2-hand": "peace", "5-hand": "stop"}
PEOPLE_SESSIONS = ("2", "996", "3_1528505750.77", "5")  # each holds all four shapes
PER_CLASS = 10
TINY = ["--epochs", "3", "--seed", "0", "--min-agreement", "0"]


@dataclass(frozen=True)
class OwnModel:
    tflite: Path
    meta: dict
    report: str
    log: str  # what the converter logged


def _landmarks(data: Path, out: Path, models: Path, *extra: str) -> OwnModel:
    """`gesture-convert landmarks --data DATA -o OUT` (lite hand models, a few epochs)."""
    args = ["landmarks", "--data", str(data), "-o", str(out), *TINY, *extra]
    args += ["--palm-model", str(models / "palm_detection_lite.tflite")]
    args += ["--landmark-model", str(models / "hand_landmark_lite.tflite")]
    with _captured() as lines:
        code = main(args)
    text = "\n".join(lines)
    assert code == 0, text[-2000:]
    meta = json.loads(out.with_suffix(".json").read_text())
    return OwnModel(out, meta, out.with_suffix(".md").read_text(), text)


@contextlib.contextmanager
def _captured() -> Iterator[list[str]]:
    """Every log record's message while inside (module fixtures cannot use caplog)."""
    lines: list[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture(scope="module")
def user_folder(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five flat class folders of real frames, as a user makes them: no groups at all."""
    root = tmp_path_factory.mktemp("own") / "my-gestures"
    for src, label in CANDIR.items():
        (root / label).mkdir(parents=True)
        for f in sorted((datasets / "candir-gestures" / "hand" / src).glob("*.jpg"))[:PER_CLASS]:
            shutil.copy(f, root / label / f.name)
    return root


@pytest.fixture(scope="module")
def people_folder(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real subhih-hands crops in one sub-folder per person (session) inside each class."""
    root = tmp_path_factory.mktemp("own") / "by-person"
    drop = {f"{k}-hand": "" for k in (3, 4)}
    crops = load_boxes(
        datasets / "subhih-hands" / "boxes.csv",
        datasets / "subhih-hands" / "images",
        224,
        0.25,
        {**SUBHIH, **drop},
        background=None,
    )
    for person in PEOPLE_SESSIONS:
        for label in SUBHIH.values():
            idx = np.flatnonzero((crops.groups == person) & (crops.labels == label))[:5]
            folder = root / label / f"person-{person}"
            folder.mkdir(parents=True)
            for i in idx:
                cv2.imwrite(
                    str(folder / f"{i}.jpg"), cv2.cvtColor(crops.images[i], cv2.COLOR_RGB2BGR)
                )
    return root


@pytest.fixture(scope="module")
def user_model(user_folder, mediapipe_models, tmp_path_factory) -> OwnModel:
    """The issue's scenario: `gesture-convert landmarks --data my-gestures -o mine.tflite`."""
    out = tmp_path_factory.mktemp("own-model") / "mine.tflite"
    return _landmarks(user_folder, out, mediapipe_models)


@pytest.fixture(scope="module")
def people_model(people_folder, mediapipe_models, tmp_path_factory) -> OwnModel:
    out = tmp_path_factory.mktemp("own-model") / "people.tflite"
    return _landmarks(people_folder, out, mediapipe_models, "--eval-fraction", "0.3")


def test_a_model_holds_exactly_the_classes_the_user_gave(user_model: OwnModel) -> None:
    assert user_model.meta["labels"] == ["fist", "none", "peace", "stop", "up"]
    assert user_model.meta["output"]["shape"] == [1, 5]
    assert set(user_model.meta["metrics"]["per_class_f1"]) == set(CANDIR.values())
    assert "no quarter turns" in user_model.report  # the augmentation says it made no class


def test_ungrouped_photos_are_reported_as_held_out_frames_not_people(user_model: OwnModel) -> None:
    assert user_model.meta["metrics"]["split_kind"] == FRAMES
    lines = user_model.report.splitlines()
    assert lines[0] == "# Model `mine`"
    assert lines[2].startswith("> **Warning: held-out frames, not other people.**")
    assert "`--group-pattern REGEX`" in lines[2] and "sub-folder per person" in lines[2]
    assert "## Held-out frames — **not** other people" in user_model.report
    assert "lockbox" not in user_model.report.lower()
    assert "leave-one-source-out" not in user_model.report
    assert "Across people" not in user_model.report


def test_evaluation_files_are_in_the_json_and_a_collapsed_list(user_model: OwnModel) -> None:
    held = user_model.meta["source"]["split"]["eval_groups"]
    assert held and all("/" in g for g in held)  # class/file: every file its own group
    paragraphs = user_model.report.split("\n\n")
    assert not [p for p in paragraphs if held[0] in p and "<details>" not in p and "- `" not in p]
    assert f"<details><summary>The {len(held)} evaluation groups</summary>" in user_model.report


def test_the_device_logs_what_the_figures_measure(user_model: OwnModel, user_folder: Path) -> None:
    from edge.service.cli import main as edge_main

    image = sorted((user_folder / "stop").glob("*.jpg"))[0]
    with _captured() as lines:
        code = edge_main(["classify", "--model", str(user_model.tflite), "--crops", str(image)])
    assert code == 0
    assert f"model mine.tflite: its figures are on {FRAMES}" in lines


def test_per_person_sub_folders_are_reported_as_held_out_people(people_model: OwnModel) -> None:
    assert people_model.meta["labels"] == ["fist", "peace", "stop", "up"]
    assert people_model.meta["metrics"]["split_kind"] == PEOPLE
    held = people_model.meta["source"]["split"]["eval_groups"]
    assert held and set(held) <= {f"person-{p}" for p in PEOPLE_SESSIONS}
    assert "## Held-out people" in people_model.report
    assert "Warning" not in people_model.report
    assert "lockbox" not in people_model.report.lower()


def test_derive_directions_is_what_adds_left_right_down(user_folder, mediapipe_models, tmp_path):
    made = _landmarks(
        user_folder, tmp_path / "dirs.tflite", mediapipe_models, "--derive-directions"
    )
    assert set(made.meta["labels"]) == {*CANDIR.values(), "down", "left", "right"}
    assert "--derive-directions: `left`/`right`/`down`" in made.report
    assert "pointing rows also by quarter turns" in made.report


def test_the_shipped_reference_keeps_its_lockbox_wording(repo_root: Path, tmp_path: Path) -> None:
    shipped = repo_root / "models" / "gestures-landmarks"
    assert (
        "## Across people: lockbox and leave-one-source-out"
        in shipped.with_suffix(".md").read_text()
    )
    meta = json.loads(shipped.with_suffix(".json").read_text())
    assert split_kind(meta) == LOCKBOX
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "gestures-landmarks.json")
    again = write_report(tmp_path / "gestures-landmarks.tflite").read_text()  # same code path
    assert "## Across people: lockbox and leave-one-source-out" in again
    assert "## Evaluation split (validation sources)" in again
    assert "Warning" not in again and "Held-out frames" not in again
