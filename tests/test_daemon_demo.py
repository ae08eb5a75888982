"""`make demo` end to end (faster replay): private broker, simulated car, daemon, exit 0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cv2

MOVES = "forward, left, right, backward"


def run_demo(datasets, *extra: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--datasets", str(datasets), "--fps", "30", *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return res.stderr


def test_demo_runs_the_shipped_pipeline_on_whole_frames_and_drives_the_car(
    datasets, default_model, mediapipe_models, tmp_path
):
    log = run_demo(datasets, "--out", str(tmp_path))
    # what the user gets: the default model, the hand tracker, whole camera frames
    assert f"model {default_model.name}, locate tracker; replaying 130 real camera frames" in log
    assert "daemon exited with 0" in log
    assert f"car moved: {MOVES}" in log
    assert f"script asked for: {MOVES}" in log
    assert log.index("car: FORWARD") < log.index("car: LEFT") < log.index("car: RIGHT")
    assert log.index("car: RIGHT") < log.index("car: BACKWARD")
    # the pictures: an animation of what the daemon drew on every frame it saw, the car's path
    shown = re.search(r"animation: (\S+) \((\d+) KB; (\d+) of the (\d+) frames", log)
    assert shown, log
    gif, drawn = Path(shown[1]), int(shown[4])
    assert gif.parent == tmp_path and gif.is_file() and drawn == 130
    if gif.suffix == ".gif":
        ok, animation = cv2.imreadanimation(str(gif))
        assert ok and len(animation.frames) == int(shown[3]) == 22  # 30 fps, every 6th: 5 fps
        assert animation.frames[0].shape[1] == 288
    else:  # an OpenCV without a GIF writer: an MP4 of the same frames
        assert cv2.VideoCapture(str(gif)).get(cv2.CAP_PROP_FRAME_COUNT) == int(shown[3])
    assert f"car's path: {tmp_path / 'demo-path.png'}" in log
    path = cv2.imread(str(tmp_path / "demo-path.png"))
    assert path is not None and path.shape == (480, 480, 3)


def test_demo_with_crops_and_the_image_model_through_the_fixed_box(datasets, image_model, tmp_path):
    log = run_demo(
        datasets, "--crops", "--model", str(image_model), "--seed", "1", "--out", str(tmp_path)
    )
    assert f"model {image_model.name}, locate fixed; replaying 130 real hand crops" in log
    assert "daemon exited with 0" in log
    assert f"car moved: {MOVES}" in log
    assert log.index("car: FORWARD") < log.index("car: LEFT") < log.index("car: RIGHT")


def test_demo_without_the_datasets_says_where_they_should_be(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--datasets", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert "boxes.csv not found" in res.stderr and "DATASETS=" in res.stderr
    assert "Traceback" not in res.stderr
