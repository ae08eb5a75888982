"""The shipped reference model: its json tells the truth about the committed .tflite."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from convert.evaluate import float_inputs, metrics
from convert.reference import LABELS, build
from convert.split import group_split
from convert.train import encode
from edge.model.tflite_model import TFLiteModel


@pytest.fixture(scope="module")
def reference(repo_root: Path) -> tuple[Path, dict]:
    path = repo_root / "models" / "gestures-image.tflite"
    return path, json.loads(path.with_suffix(".json").read_text())


def test_reference_model_meets_the_int8_acceptance(reference):
    _, raw = reference
    m = raw["metrics"]
    assert raw["labels"] == LABELS and raw["kind"] == "image"
    assert m["agreement"] >= 0.99
    assert m["float_accuracy"] - m["int8_accuracy"] <= 0.01
    assert m["parity"]["ok"] is True


def test_reference_eval_groups_were_never_trained_on(reference, datasets: Path):
    _, raw = reference
    split = raw["source"]["split"]
    data = build(datasets, raw["input"]["shape"][1], raw["source"]["seed"])
    again = group_split(data, 0.3, raw["source"]["seed"])
    assert sorted(again.eval_groups) == split["eval_groups"]
    assert not set(again.train.groups) & set(again.eval.groups)
    assert not set(split["validation"]["groups"]) & set(split["eval_groups"])


def test_reference_int8_metrics_are_recomputed_from_the_committed_files(reference, datasets):
    path, raw = reference
    data = build(datasets, raw["input"]["shape"][1], raw["source"]["seed"])
    split = group_split(data, 0.3, raw["source"]["seed"])
    y = encode(split.eval, LABELS)
    with TFLiteModel(path) as model:
        x = float_inputs(split.eval.images, model.meta.input)
        pred = np.array([model.predict(s[None]).argmax() for s in x])
    m = metrics(y, pred, LABELS)
    assert raw["metrics"]["eval_size"] == len(y)
    # integer kernels can differ in rounding across CPUs: allow a couple of near-ties to flip
    assert abs(m["accuracy"] - raw["metrics"]["int8_accuracy"]) <= 0.003
    assert np.abs(np.array(m["confusion"]) - np.array(raw["metrics"]["confusion"])).sum() <= 4
