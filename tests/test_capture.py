"""`gesture-edge capture` records located hand crops into a folder gesture-convert takes as is."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
from fixtures.service import copy_frames, write_config

from convert.data import load_folder
from edge.cameras.replay import ReplayCamera
from edge.model.crops import read_rgb
from edge.service.capture import CaptureOptions, capture


def capture_cli(config: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "edge.service.cli", "capture", "--config", str(config)]
    cmd += ["--out", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def replay_config(tmp_path: Path, frames: Path, model: Path, name: str) -> Path:
    return write_config(
        tmp_path / f"{name}.toml",
        {
            "camera": {"backend": "replay", "path": str(frames), "fps": 30.0},
            "model": {"path": str(model)},
        },
    )


def test_capture_writes_count_crops_per_class_that_convert_loads(datasets, trained_model, tmp_path):
    palms = sorted((datasets / "shimaazizi-4gest/OpenPalm").glob("*.jpg"))[:12]
    fists = sorted((datasets / "shimaazizi-4gest/Fist").glob("*.jpg"))[:12]
    out = tmp_path / "mydata"
    for label, photos in (("stop", palms), ("fist", fists)):
        frames = copy_frames(photos, tmp_path / f"frames-{label}")
        config = replay_config(tmp_path, frames, trained_model.tflite, label)
        proc = capture_cli(
            config, out, "--label", label, "--count", "4", "--interval", "0",
            "--countdown", "0.1", "--session", "kitchen",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert f"show '{label}' in 1" in proc.stderr  # the countdown
        assert "4/4" in proc.stderr  # progress
    stops = sorted((out / "stop/kitchen").glob("*.jpg"))
    assert len(stops) == 4
    assert len(list((out / "fist/kitchen").glob("*.jpg"))) == 4
    # The fixed box is the model's view of the frame: each crop is a replayed photo itself
    # (the countdown drops the first frames, so which ones depends on timing).
    originals = [read_rgb(str(p)).astype(int) for p in palms]
    for crop_path in stops:
        crop = read_rgb(str(crop_path)).astype(int)
        assert crop.shape == originals[0].shape
        assert min(np.abs(crop - o).mean() for o in originals) < 4  # JPEG q95
    data = load_folder(out, size=32)
    assert sorted(set(data.labels)) == ["fist", "stop"]
    assert len(data.labels) == 8
    assert {g.split("/")[-1] for g in data.groups} == {"kitchen"}


def test_capture_fails_when_the_stream_ends_early(datasets, trained_model, tmp_path):
    photos = sorted((datasets / "shimaazizi-4gest/PeaceSign").glob("*.jpg"))[:3]
    config = replay_config(tmp_path, copy_frames(photos, tmp_path / "f"), trained_model.tflite, "c")
    proc = capture_cli(
        config, tmp_path / "out", "--label", "peace", "--count", "10",
        "--interval", "0", "--countdown", "0", "--session", "s",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "stream ended" in proc.stderr
    assert len(list((tmp_path / "out/peace/s").glob("*.jpg"))) == 3  # what it got is kept


def test_capture_rejects_a_label_that_is_not_a_folder_name(trained_model, tmp_path, datasets):
    photos = sorted((datasets / "shimaazizi-4gest/Fist").glob("*.jpg"))[:1]
    config = replay_config(tmp_path, copy_frames(photos, tmp_path / "f"), trained_model.tflite, "c")
    proc = capture_cli(config, tmp_path / "out", "--label", "../up", "--count", "1")
    assert proc.returncode == 2
    assert "--label '../up'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_frames_without_a_hand_are_skipped_with_one_notice(hand_locator, subhih_frames, tmp_path):
    hands = [f.path for f in subhih_frames if len(f.boxes) == 1][:3]
    blank = tmp_path / "blank.png"  # a grey wall: nothing for the palm detector
    cv2.imwrite(str(blank), np.full((360, 480, 3), 128, np.uint8))
    camera = ReplayCamera([hands[0], blank, blank, hands[1], hands[2]], fps=100.0)
    camera.open()
    lines: list[str] = []
    opts = CaptureOptions(
        label="stop", count=3, out=tmp_path / "out", interval=0, countdown=0, session="s"
    )
    try:
        written = capture(camera, hand_locator, opts, threading.Event(), progress=lines.append)
    finally:
        camera.close()
    assert len(written) == 3
    assert lines.count("no hand in view, waiting") == 1
    for path in written:
        crop = read_rgb(str(path))
        assert abs(crop.shape[0] - crop.shape[1]) <= 1  # the square the classifier sees
        assert 40 <= crop.shape[0] <= 360
