"""A user's own already-trained Keras model (pixels scaled to [0, 1] outside it) -> int8."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convert.cli import main
from convert.data import load_folder
from convert.evaluate import float_inputs
from edge.model.tflite_model import TFLiteModel

pytestmark = pytest.mark.slow
SIZE = 40
PIXEL_SCALE = "0.00392156862745098"  # 1/255


@pytest.fixture(scope="module")
def user_keras(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Sequential CNN trained (2 epochs) on x/255, saved as .keras, like a user's."""
    import keras

    data = load_folder(tiny_dataset, SIZE)
    labels = sorted(set(data.labels.tolist()))
    y = np.array([labels.index(x) for x in data.labels])
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
            keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(len(labels), activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(data.images / 255.0, y, epochs=2, verbose=0)
    path = tmp_path_factory.mktemp("user") / "theirs.keras"
    model.save(path)
    model.save(path.with_suffix(".h5"))  # the legacy format users also bring
    return path


def quantize_user_model(model: Path, data: Path, out: Path) -> int:
    """`gesture-convert quantize` on a user's model that wants pixels scaled to [0, 1]."""
    return main(
        [
            "quantize",
            "--keras",
            str(model),
            "--data",
            str(data),
            "-o",
            str(out),
            "--pixel-scale",
            PIXEL_SCALE,
            "--min-agreement",
            "0.9",
            "--max-accuracy-drop",
            "10",
        ]
    )


def test_user_model_quantizes_with_its_preprocessing_recorded(
    user_keras: Path, tiny_dataset: Path, tmp_path: Path
):
    import keras

    out = tmp_path / "theirs.tflite"
    code = quantize_user_model(user_keras, tiny_dataset, out)
    assert code == 0
    raw = json.loads(out.with_suffix(".json").read_text())
    assert raw["labels"] == ["fist", "peace", "stop"]  # read from the data folder
    assert raw["input"]["pixel_scale"] == pytest.approx(1 / 255)
    assert raw["input"]["shape"] == [1, SIZE, SIZE, 3]
    assert raw["input"]["quantization"]["scale"] == pytest.approx(1 / 255, rel=1e-5)
    assert "same images" in raw["source"]["split"]["method"]  # says it is not held out
    assert out.with_suffix(".md").is_file()
    # the device path (prepare with the recorded scale, TFLiteModel) agrees with Keras on x/255
    data = load_folder(tiny_dataset, SIZE)
    theirs = keras.models.load_model(user_keras)
    with TFLiteModel(out) as model:
        x = float_inputs(data.images, model.meta.input)
        assert x.max() <= 1.0
        int8 = np.array([model.predict(s[None]).argmax() for s in x])
    float_ = theirs.predict(data.images / 255.0, verbose=0).argmax(axis=1)
    assert np.mean(int8 == float_) == pytest.approx(raw["metrics"]["agreement"], abs=1e-4)
    assert raw["metrics"]["agreement"] >= 0.9


def test_legacy_h5_model_quantizes_too(user_keras: Path, tiny_dataset: Path, tmp_path: Path):
    out = tmp_path / "theirs-h5.tflite"
    code = quantize_user_model(user_keras.with_suffix(".h5"), tiny_dataset, out)
    assert code == 0
    with TFLiteModel(out) as model:
        assert model.labels == ("fist", "peace", "stop")
        assert model.meta.input.pixel_scale == pytest.approx(1 / 255)


def test_output_size_mismatch_with_data_of_more_classes(
    user_keras: Path, datasets: Path, tmp_path: Path, caplog
):
    from fixtures.convert import make_folder_dataset

    four = {"Fist": "fist", "OpenPalm": "stop", "PeaceSign": "peace", "ThumbsUp": "thumb"}
    data = make_folder_dataset(datasets / "shimaazizi-4gest", tmp_path / "data", four)
    code = main(["quantize", "--keras", str(user_keras), "--data", str(data)])
    assert code == 65
    assert "3 outputs but 4 labels" in caplog.text


def test_a_file_that_is_not_a_keras_model_is_refused(tiny_dataset: Path, tmp_path, caplog):
    bad = tmp_path / "model.keras"
    bad.write_bytes(b"not a zip")
    assert main(["quantize", "--keras", str(bad), "--data", str(tiny_dataset)]) == 65
    assert "cannot load as a Keras model" in caplog.text


def test_help_does_not_import_tensorflow():
    code = "import sys, convert.cli as c; c.build_parser(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
