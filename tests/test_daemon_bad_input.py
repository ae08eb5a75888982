"""Bad input to `gesture-edge`: each gets a clear message and its exit code, never a traceback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.config.paths import models_dir
from edge.model.artifact import sha256_file

GESTURE_EDGE = Path(sys.executable).with_name("gesture-edge")


def gesture_edge(*args) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [GESTURE_EDGE, *map(str, args)], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in res.stderr, res.stderr
    return res


def run_with(tmp_path: Path, toml: str) -> subprocess.CompletedProcess:
    config = tmp_path / "bad.toml"
    if "[model]" not in toml:
        toml += f'\n[model]\npath = "{models_dir() / "gestures-image.tflite"}"\n'
    config.write_text(toml + '\n[mqtt]\nhost = "127.0.0.1"\nport = 9\n')
    return gesture_edge("run", "--config", config)


@pytest.fixture
def model_copy(tmp_path, image_model) -> Path:
    """A private copy of the shipped model artefact that a test may damage."""
    dest = tmp_path / "model.tflite"
    shutil.copy(image_model, dest)
    shutil.copy(image_model.with_suffix(".json"), dest.with_suffix(".json"))
    return dest


def edit_json(model: Path, **changes) -> None:
    path = model.with_suffix(".json")
    meta = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "input_shape":
            meta["input"]["shape"] = value
        else:
            meta[key] = value
    path.write_text(json.dumps(meta))


def test_unreadable_camera_sources_exit_1_with_the_source_named(tmp_path, image_model):
    bogus = tmp_path / "clip.mp4"
    bogus.write_text("not a video")
    res = run_with(tmp_path, f'[camera]\nbackend = "video"\npath = "{bogus}"\n')
    assert (
        res.returncode == 1
        and "cannot open camera source" in res.stderr
        and "clip.mp4" in res.stderr
    )
    res = run_with(tmp_path, '[camera]\nbackend = "opencv"\ndevice = "/dev/video-gp-missing"\n')
    assert res.returncode == 1 and "/dev/video-gp-missing" in res.stderr
    (tmp_path / "empty").mkdir()
    res = run_with(tmp_path, '[camera]\nbackend = "replay"\npath = "empty"\n')
    assert res.returncode == 1 and "no image files" in res.stderr


def test_missing_model_file_is_a_config_error_78(tmp_path):
    res = run_with(tmp_path, '[model]\npath = "absent.tflite"\n')
    assert res.returncode == 78
    assert "[model] path" in res.stderr and "absent.tflite does not exist" in res.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "0" * 64}, "does not match model.tflite"),
        ({"input_shape": [1, 64, 64, 3]}, "input shape [1, 64, 64, 3] does not match"),
        ("extra label", "labels but the tflite has"),
        ({"kind": "sound"}, "kind must be one of"),
    ],
    ids=["sha256", "input-shape", "label-count", "kind"],
)
def test_model_json_that_disagrees_with_the_tflite_is_refused(
    tmp_path, model_copy, change, message
):
    if change == "extra label":
        labels = json.loads(model_copy.with_suffix(".json").read_text())["labels"]
        change = {"labels": [*labels, "wave"]}
    edit_json(model_copy, **change)
    (tmp_path / "frames").mkdir()
    res = run_with(tmp_path, f'[model]\npath = "{model_copy}"\n[camera]\nbackend = "opencv"\n')
    assert res.returncode == 65, res.stderr
    assert message in res.stderr
    res = gesture_edge("classify", "--model", model_copy, "--crops", model_copy.parent)
    assert res.returncode == 65 and message in res.stderr


def test_corrupt_tflite_is_refused(tmp_path, model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:1000])
    edit_json(model_copy, sha256=sha256_file(model_copy))
    res = gesture_edge("classify", "--model", model_copy, "--crops", tmp_path)
    assert res.returncode == 65 and "not a loadable TFLite model" in res.stderr


def test_classify_bad_paths(tmp_path, image_model):
    res = gesture_edge("classify", "--model", image_model, "--crops", tmp_path / "nowhere")
    assert res.returncode == 2 and "no such file" in res.stderr
    (tmp_path / "empty").mkdir()
    res = gesture_edge("classify", "--model", image_model, "--crops", tmp_path / "empty")
    assert res.returncode == 2 and "no image files in" in res.stderr
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 not really a jpeg")
    res = gesture_edge("classify", "--model", image_model, "--crops", "--json", broken)
    assert res.returncode == 1 and "broken.jpg: not a readable image" in res.stderr
    res = gesture_edge("classify", "--model", tmp_path / "none.tflite", broken)
    assert res.returncode == 65 and "model file not found" in res.stderr


def test_preview_port_in_use_exits_1_naming_the_address(tmp_path, image_model):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (tmp_path / "frames").mkdir()
        cv2.imwrite(str(tmp_path / "frames" / "f.png"), np.zeros((64, 64, 3), np.uint8))
        camera = '[camera]\nbackend = "replay"\npath = "frames"\n'
        res = run_with(tmp_path, camera + f"[preview]\nenabled = true\nport = {port}\n")
    assert res.returncode == 1 and f"[preview] cannot listen on 127.0.0.1:{port}" in res.stderr
