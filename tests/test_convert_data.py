"""Loading real photos into datasets, box crops, group-wise splits, and refusing bad data."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from fixtures.convert import make_folder_dataset

from convert.augment import flip_swap
from convert.boxes import load_boxes
from convert.cli import main
from convert.data import DataError, load_folder, parse_label_map
from convert.reference import ROTATIONS, rotated_pointing
from convert.split import group_split
from convert.subhih import read_rows
from edge.model.crops import crop, read_rgb, square_box


def test_folder_with_session_subfolders_gives_one_group_per_session(tiny_dataset: Path):
    data = load_folder(tiny_dataset, 40)
    assert data.images.shape == (36, 40, 40, 3) and data.images.dtype == np.uint8
    assert data.counts() == {"fist": 12, "peace": 12, "stop": 12}
    assert set(data.groups.tolist()) == {"session0", "session1", "session2"}


def test_group_pattern_names_groups_of_flat_folders(datasets: Path, tmp_path: Path):
    for cls in ("Fist", "ThumbsUp"):
        (tmp_path / cls).mkdir()
        for f in sorted((datasets / "shimaazizi-4gest" / cls).glob("*_1?.jpg")):
            shutil.copy(f, tmp_path / cls / f.name)
    data = load_folder(tmp_path, 24, group_pattern=r"_(\d*?)\d\.jpg$", label_map={"Fist": "x"})
    assert set(data.labels.tolist()) == {"x", "ThumbsUp"}
    assert set(data.groups.tolist()) == {"1"}


def test_flat_folder_without_pattern_warns_about_near_duplicates(
    datasets: Path, tmp_path: Path, caplog
):
    for cls in ("Fist", "OpenPalm"):
        (tmp_path / cls).mkdir()
        for f in sorted((datasets / "shimaazizi-4gest" / cls).glob("*.jpg"))[:3]:
            shutil.copy(f, tmp_path / cls / f.name)
    data = load_folder(tmp_path, 24)
    assert len(set(data.groups.tolist())) == 6
    assert "near-duplicate" in caplog.text


def _box_rows(datasets: Path, sessions: tuple[str, ...], per_session: int) -> list[dict]:
    rows = read_rows(datasets)
    out = []
    for s in sessions:
        out += [r for r in rows if r["session"] == s][:per_session]
    return out


def test_box_csv_crops_like_the_device_and_adds_background(datasets: Path, tmp_path: Path):
    rows = _box_rows(datasets, ("3", "5", "15"), 6)
    path = tmp_path / "boxes.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    images = datasets / "subhih-hands" / "images"
    mapping = {"0-hand": "fist", "3-hand": ""}
    data = load_boxes(path, images, 48, 0.25, mapping, "none", 1.0, seed=3)
    hands = [r for r in rows if r["label"] != "3-hand"]
    assert (data.labels != "none").sum() == len(hands)
    assert "3-hand" not in data.labels and "fist" in data.labels
    assert (data.labels == "none").sum() > 0  # background crops overlapping no hand
    assert set(data.groups.tolist()) == {"3", "5", "15"}
    first = hands[0]
    box = tuple(float(first[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    expected = crop(read_rgb(str(images / first["filename"])), square_box(box, 0.25))
    i = data.names.index(f"{first['filename']}#{first['label']}")
    import cv2

    assert np.array_equal(data.images[i], cv2.resize(expected, (48, 48), interpolation=3))


def test_group_split_never_puts_a_session_on_both_sides_and_is_seeded(datasets: Path):
    csv_path = datasets / "subhih-hands" / "boxes.csv"
    data = load_boxes(csv_path, csv_path.parent / "images", 24, 0.25, background=None)
    split = group_split(data, 0.3, seed=5)
    train_groups, eval_groups = set(split.train.groups), set(split.eval.groups)
    assert train_groups and eval_groups and not train_groups & eval_groups
    assert len(split.train) + len(split.eval) == len(data)
    for label, n in data.counts().items():  # every class on both sides, roughly 30 % held out
        assert 0 < split.eval.counts().get(label, 0) < n
    assert 0.15 < len(split.eval) / len(data) < 0.45
    again = group_split(data, 0.3, seed=5)
    assert again.eval_groups == split.eval_groups


def test_rotated_pointing_classes_follow_the_design_semantics():
    # a synthetic "up" crop: bright finger at the top centre, dark elsewhere
    up = np.zeros((1, 9, 9, 3), np.uint8)
    up[0, 0:4, 4] = 255
    from convert.data import Dataset

    data = Dataset(up, np.array(["up"]), np.array(["g"]), "synthetic", ["a"])
    out = rotated_pointing(data)
    where = {lab: np.argwhere(img[..., 0] == 255).mean(axis=0) for img, lab in
             zip(out.images, out.labels, strict=True)}  # fmt: skip
    assert where["left"][1] > 5  # the person's left = the finger points to the IMAGE right
    assert where["right"][1] < 3
    assert where["down"][0] > 5
    assert set(out.groups.tolist()) == {"g"} and set(ROTATIONS) == {"left", "right", "down"}


def test_horizontal_flip_swaps_left_and_right_or_is_refused():
    assert flip_swap(["left", "none", "right"]) == [2, 1, 0]
    assert flip_swap(["none", "stop"]) == [0, 1]
    assert flip_swap(["left", "stop"]) is None


def test_label_map_entries_must_be_source_equals_target():
    assert parse_label_map(["0-hand=fist", "3-hand= none", "4-hand="]) == {
        "0-hand": "fist",
        "3-hand": "none",
        "4-hand": "",
    }
    with pytest.raises(DataError, match="SOURCE=TARGET"):
        parse_label_map(["fist"])
    with pytest.raises(DataError, match="SOURCE=TARGET"):
        parse_label_map(["=fist"])


# --- bad data: clear message, exit code 65 ---------------------------------------------------


def _train(data: Path, out: Path) -> int:
    return main(["train", "--data", str(data), "-o", str(out / "m.tflite"), "--epochs", "1"])


def test_empty_folder_is_refused(tmp_path: Path, caplog):
    (tmp_path / "data").mkdir()
    assert _train(tmp_path / "data", tmp_path) == 65
    assert "no class sub-folders" in caplog.text


def test_missing_folder_is_refused(tmp_path: Path, caplog):
    assert _train(tmp_path / "nope", tmp_path) == 65
    assert "not a folder" in caplog.text


def test_one_class_is_refused_naming_it(datasets: Path, tmp_path: Path, caplog):
    make_folder_dataset(datasets / "shimaazizi-4gest", tmp_path / "data", {"Fist": "fist"})
    assert _train(tmp_path / "data", tmp_path) == 65
    assert "at least 2 classes" in caplog.text and "fist" in caplog.text


def test_empty_class_folder_is_refused_naming_it(datasets: Path, tmp_path: Path, caplog):
    data = make_folder_dataset(datasets / "shimaazizi-4gest", tmp_path / "data")
    (data / "thumbs").mkdir()
    assert _train(data, tmp_path) == 65
    assert "'thumbs' has no images" in caplog.text


def test_corrupt_jpeg_is_refused_naming_the_file(datasets: Path, tmp_path: Path, caplog):
    data = make_folder_dataset(datasets / "shimaazizi-4gest", tmp_path / "data")
    bad = data / "fist" / "session0" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    assert _train(data, tmp_path) == 65
    assert "broken.jpg" in caplog.text and "cannot be read" in caplog.text


def test_non_image_file_is_refused_naming_it(datasets: Path, tmp_path: Path, caplog):
    data = make_folder_dataset(datasets / "shimaazizi-4gest", tmp_path / "data")
    (data / "stop" / "session1" / "notes.txt").write_text("taken on Monday")
    assert _train(data, tmp_path) == 65
    assert "notes.txt" in caplog.text and "not an image file" in caplog.text


def test_labels_naming_a_class_without_images_are_refused(tiny_dataset: Path, tmp_path, caplog):
    code = main(
        [
            "train",
            "--data",
            str(tiny_dataset),
            "-o",
            str(tmp_path / "m.tflite"),
            "--labels",
            "fist,peace,stop,left",
        ]
    )
    assert code == 65
    assert "['left'] have no images" in caplog.text


def test_flip_without_a_left_right_pair_is_refused(tiny_dataset: Path, tmp_path, caplog):
    # labels fist/peace/stop have no mirror pair: flipping is fine; add a lone "left" class
    data = tmp_path / "data"
    shutil.copytree(tiny_dataset, data)
    (data / "fist").rename(data / "left")
    code = main(
        [
            "train",
            "--data",
            str(data),
            "-o",
            str(tmp_path / "m.tflite"),
            "--flip",
            "--epochs",
            "1",
            "--size",
            "32",
            "--width",
            "8",
            "--blocks",
            "1",
            "--progress",
            "none",
        ]
    )
    assert code == 65
    assert "swap" in caplog.text


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["train", "--data", "x"]) == 2  # no --out
    assert main(["--help"]) == 0
    assert "gesture-convert" in capsys.readouterr().out
