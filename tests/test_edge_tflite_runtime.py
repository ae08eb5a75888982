"""The device side on tflite-runtime (numpy<2, no LiteRT): same labels as on LiteRT.

`make test-tflite-runtime` builds `.venv-tflite` and runs this file; without that venv the
test is skipped (the main venv cannot hold tflite-runtime: it needs numpy<2).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from devtools.scripted import write_sequence
from edge.model.artifact import read_meta

SCRIPT = [(g, 5) for g in ("none", "up", "down", "left", "right", "stop", "fist", "peace")]


def classify(python_bin, runtime: str, model, folder) -> tuple[list[dict], str]:
    args = ["--log-level", "INFO", "classify", "--crops", "--json", "--runtime", runtime]
    args += ["--model", model, folder]
    res = subprocess.run(
        [python_bin / "gesture-edge", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()], res.stderr


def test_tflite_runtime_gives_the_same_labels_as_litert(repo_root, datasets, tmp_path, image_model):
    tflite_bin = repo_root / ".venv-tflite" / "bin"
    if not (tflite_bin / "gesture-edge").exists():
        pytest.skip("no .venv-tflite: run `make test-tflite-runtime`")
    write_sequence(datasets, tmp_path, SCRIPT, read_meta(image_model).input.crop_margin)
    ours, log = classify(repo_root / ".venv" / "bin", "ai-edge-litert", image_model, tmp_path)
    assert "on ai-edge-litert" in log
    theirs, log = classify(tflite_bin, "tflite-runtime", image_model, tmp_path)
    assert "on tflite-runtime" in log
    assert [r["path"] for r in ours] == [r["path"] for r in theirs] and len(ours) == 40
    same = sum(a["label"] == b["label"] for a, b in zip(ours, theirs, strict=True))
    assert same >= 39, f"only {same}/40 labels agree"  # int8 kernels may round differently
    assert max(abs(a["score"] - b["score"]) for a, b in zip(ours, theirs, strict=True)) < 0.1
