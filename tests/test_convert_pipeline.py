"""gesture-convert end to end: a real tiny model, real converter, real LiteRT, real photos."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from fixtures.convert import TINY_ARGS, TINY_SIZE, TrainedModel

from convert.cli import main
from convert.data import load_folder
from convert.evaluate import float_inputs, metrics
from convert.split import group_split
from convert.train import encode
from edge.model.artifact import read_meta, sha256_file
from edge.model.runtime import load_interpreter
from edge.model.tflite_model import TFLiteModel

pytestmark = pytest.mark.slow


def test_train_exits_zero_and_writes_the_artefact_pair_and_report(trained_model: TrainedModel):
    assert trained_model.exit_code == 0
    for suffix in (".tflite", ".json", ".md", ".png", ".keras"):
        assert trained_model.tflite.with_suffix(suffix).is_file(), suffix


def test_model_is_full_integer_with_exact_pixel_input(trained_model: TrainedModel):
    interpreter, _ = load_interpreter(trained_model.tflite, 1, None)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    assert list(inp["shape"]) == [1, TINY_SIZE, TINY_SIZE, 3]
    # raw 0..255 pixels in, Rescaling inside the model: the int8 grid is the pixel grid
    scale, zero = inp["quantization"]
    assert scale == pytest.approx(1.0) and zero == -128


def test_json_has_the_design_fields_and_the_right_sha256(trained_model: TrainedModel):
    raw = json.loads(trained_model.tflite.with_suffix(".json").read_text())
    assert raw["labels"] == ["fist", "peace", "stop"]
    assert raw["kind"] == "image"
    assert raw["sha256"] == sha256_file(trained_model.tflite)
    assert raw["input"]["pixel_scale"] == 1.0 and raw["input"]["pixel_offset"] == 0.0
    assert raw["input"]["quantization"] == {"scale": 1.0, "zero_point": -128}
    assert raw["output"]["dtype"] == "int8" and raw["output"]["shape"] == [1, 3]
    for key in ("float_accuracy", "int8_accuracy", "agreement", "per_class_f1", "eval_size"):
        assert key in raw["metrics"], key
    assert set(raw["metrics"]["per_class_f1"]) == {"fist", "peace", "stop"}
    assert raw["source"]["seed"] == 1
    assert raw["source"]["split"]["method"].startswith("group-wise")
    assert raw["source"]["class_counts"] == {"fist": 12, "peace": 12, "stop": 12}
    assert raw["created"]
    meta = read_meta(trained_model.tflite)  # the device's own reader accepts it
    assert meta.input.shape == (1, TINY_SIZE, TINY_SIZE, 3)


def test_json_metrics_are_the_ones_recomputed_from_the_files(trained_model: TrainedModel):
    import keras

    raw = json.loads(trained_model.tflite.with_suffix(".json").read_text())
    data = load_folder(trained_model.data, TINY_SIZE)
    split = group_split(data, 0.34, seed=1)
    assert sorted(split.eval_groups) == raw["source"]["split"]["eval_groups"]
    labels = raw["labels"]
    y = encode(split.eval, labels)
    with TFLiteModel(trained_model.tflite) as model:
        x = float_inputs(split.eval.images, model.meta.input)
        int8_pred = np.array([model.predict(s[None]).argmax() for s in x])
    float_pred = keras.models.load_model(trained_model.keras).predict(x, verbose=0).argmax(1)
    m_int8, m_float = metrics(y, int8_pred, labels), metrics(y, float_pred, labels)
    assert raw["metrics"]["int8_accuracy"] == m_int8["accuracy"]
    assert raw["metrics"]["float_accuracy"] == m_float["accuracy"]
    assert raw["metrics"]["eval_size"] == len(y)
    assert raw["metrics"]["confusion"] == m_int8["confusion"]
    assert raw["metrics"]["per_class_f1"] == {k: v["f1"] for k, v in m_int8["per_class"].items()}
    assert raw["metrics"]["agreement"] == round(float(np.mean(int8_pred == float_pred)), 4)


def test_report_shows_numbers_table_and_confusion_image(trained_model: TrainedModel):
    raw = json.loads(trained_model.tflite.with_suffix(".json").read_text())
    text = trained_model.tflite.with_suffix(".md").read_text()
    assert f"{100 * raw['metrics']['int8_accuracy']:.1f} %" in text
    assert "![confusion matrix](tiny.png)" in text
    assert "| **fist** |" in text  # the confusion matrix as a table
    assert "| `peace` |" in text  # the per-class table


def test_report_subcommand_rewrites_the_report(trained_model: TrainedModel):
    md = trained_model.tflite.with_suffix(".md")
    md.unlink()
    assert main(["report", str(trained_model.tflite)]) == 0
    assert md.is_file()


def test_evaluate_subcommand_prints_metrics_of_the_int8_model(
    trained_model: TrainedModel, tmp_path, capsys
):
    out_png = tmp_path / "cm.png"
    code = main(
        [
            "evaluate",
            str(trained_model.tflite),
            "--data",
            str(trained_model.data),
            "--png",
            str(out_png),
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["size"] == 36
    assert 0.0 <= result["accuracy"] <= 1.0
    assert sum(map(sum, result["confusion"])) == 36
    assert out_png.stat().st_size > 1000


def test_parity_failure_exits_1_and_says_why(trained_model: TrainedModel, tmp_path, caplog):
    args = [a for a in TINY_ARGS]
    args[args.index("--min-agreement") + 1] = "1.01"  # no model can reach it
    out = tmp_path / "strict.tflite"
    shutil.copy(trained_model.tflite, out)  # a model that was there before
    shutil.copy(trained_model.tflite.with_suffix(".json"), out.with_suffix(".json"))
    before = sha256_file(out)
    code = main(["train", "--data", str(trained_model.data), "-o", str(out), *args])
    assert code == 1
    assert "fails parity" in caplog.text
    assert sha256_file(out) == before  # a failing model never replaces the one the device loads
    rejected = out.with_name("strict.rejected.tflite")
    assert rejected.is_file() and rejected.with_suffix(".md").is_file()  # kept for inspection
    raw = json.loads(rejected.with_suffix(".json").read_text())
    assert raw["metrics"]["parity"]["ok"] is False


def test_train_on_a_box_csv_uses_sessions_as_groups_and_adds_none(datasets, tmp_path):
    import csv

    with open(datasets / "subhih-hands" / "boxes.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["session"] in ("3", "5", "15", "35")]
    small = tmp_path / "boxes.csv"
    with open(small, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows[::3])
    out = tmp_path / "boxes.tflite"
    images = datasets / "subhih-hands" / "images"
    code = main(
        [
            "train",
            "--data",
            str(small),
            "--images",
            str(images),
            "-o",
            str(out),
            *TINY_ARGS,
            "--label-map",
            "0-hand=fist",
            "5-hand=stop",
            "1-hand=",
            "2-hand=",
            "3-hand=",
            "4-hand=",
        ]
    )
    assert code == 0
    raw = json.loads(out.with_suffix(".json").read_text())
    assert raw["labels"] == ["fist", "none", "stop"]
    split = raw["source"]["split"]
    assert set(split["eval_groups"]) <= {"3", "5", "15", "35"}
    assert raw["source"]["data"].startswith("boxes ")
    assert raw["input"]["crop_margin"] == 0.25


def test_refit_trains_again_on_training_and_validation_groups(tiny_dataset, tmp_path, caplog):
    """`--refit`: the validation groups choose the epoch count, then the model learns from them."""
    data = tmp_path / "data"
    for label_dir in sorted(d for d in tiny_dataset.iterdir() if d.is_dir()):
        for i, photo in enumerate(sorted(label_dir.rglob("*.jpg"))):  # 6 sessions of 2
            session = data / label_dir.name / f"session{i // 2}"
            session.mkdir(parents=True, exist_ok=True)
            shutil.copy(photo, session / photo.name)
    out = tmp_path / "refit.tflite"
    caplog.set_level("INFO")
    args = ["train", "--data", str(data), "-o", str(out), "--refit", "--val-fraction", "0.3"]
    assert main([*args, *TINY_ARGS]) == 0
    assert "refitting on training + validation groups for" in caplog.text
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["source"]["split"]["validation"]["size"] > 0
    assert meta["source"]["training"]["refit_epochs_on_train_and_validation"] in (1, 2)
