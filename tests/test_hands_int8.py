"""The int8 hand models that `make models` writes (convert.handquant), on real frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convert.handquant import fold_float16, int8_name
from convert.landmarks.sources import shot_sides
from convert.subhih import Shot
from edge.config import parse_config
from edge.hands.geometry import roi_from_landmarks
from edge.hands.landmark import LandmarkModel
from edge.hands.palm import PalmDetector
from edge.hands.tensors import PixelInput
from edge.model.crops import read_rgb
from edge.model.runtime import load_interpreter

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def int8_models(mediapipe_models: Path) -> Path:
    missing = [
        n
        for n in ("palm_detection_lite", "hand_landmark_lite")
        if not (mediapipe_models / int8_name(f"{n}.tflite")).is_file()
    ]
    if missing:
        pytest.fail(f"int8 hand models missing ({missing}): run `make models`")
    return mediapipe_models


@pytest.fixture(scope="module")
def validation_shots(subhih_frames: list[Shot]) -> list[Shot]:
    """Frames of the validation sessions (the calibration saw training sessions only)."""
    sides = shot_sides(subhih_frames)
    val = [s for s, side in zip(subhih_frames, sides, strict=True) if side == "validation"]
    return val[::6]


def test_int8_hand_models_take_pixels_minus_128_and_give_int8(int8_models: Path) -> None:
    for name in ("palm_detection_lite", "hand_landmark_lite"):
        interp, _ = load_interpreter(int8_models / int8_name(f"{name}.tflite"), 1)
        feed = PixelInput(interp.get_input_details()[0])
        assert feed.exact, f"{name}: input scale must be 1/255 with zero point -128"
        assert {d["dtype"] for d in interp.get_output_details()} == {np.int8}


def test_pixel_input_bit_flip_equals_quantizing_pixels_over_255() -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, axis=2)
    exact = PixelInput({"index": 0, "dtype": np.int8, "quantization": (1 / 255, -128)})
    coarse = PixelInput({"index": 0, "dtype": np.int8, "quantization": (2 / 255, -128)})
    assert exact.exact and not coarse.exact
    quantized = np.clip(np.round(pixels / 255 / (1 / 255) - 128), -128, 127)
    assert np.array_equal(exact(pixels)[0], quantized.astype(np.int8))
    halved = np.clip(np.round(pixels / 255 / (2 / 255) - 128), -128, 127)
    assert np.array_equal(coarse(pixels)[0], halved.astype(np.int8))


def test_folding_float16_weights_keeps_the_float_model_outputs(
    mediapipe_models: Path, tmp_path: Path
) -> None:
    source = mediapipe_models / "hand_landmark_lite.tflite"
    folded = tmp_path / "folded.tflite"
    folded.write_bytes(fold_float16(source))
    x = np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32)
    outs = []
    for path in (source, folded):
        interp, _ = load_interpreter(path, 1)
        interp.set_tensor(interp.get_input_details()[0]["index"], x)
        interp.invoke()
        details = sorted(interp.get_output_details(), key=lambda d: d["name"])
        outs.append([interp.get_tensor(d["index"]).copy() for d in details])
    for a, b in zip(*outs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-4)


def test_int8_landmarks_stay_within_3_percent_of_hand_size_and_agree_on_presence(
    int8_models: Path, validation_shots: list[Shot]
) -> None:
    fp = PalmDetector(int8_models / "palm_detection_lite.tflite", 2)
    qp = PalmDetector(int8_models / int8_name("palm_detection_lite.tflite"), 2)
    fl = LandmarkModel(int8_models / "hand_landmark_lite.tflite", 2)
    ql = LandmarkModel(int8_models / int8_name("hand_landmark_lite.tflite"), 2)
    errors, agree, found = [], [], [0, 0]
    for shot in validation_shots:
        image = read_rgb(str(shot.path))
        palms_f, palms_q = fp.detect(image), qp.detect(image)
        found[0] += bool(palms_f)
        found[1] += bool(palms_q)
        for palm in palms_f[:1]:
            roi = roi_from_landmarks(fl.run(image, palm.roi).points)
            ref, got = fl.run(image, roi), ql.run(image, roi)
            size = (ref.points[:, :2].max(0) - ref.points[:, :2].min(0)).max()
            errors.append(
                np.linalg.norm(got.points[:, :2] - ref.points[:, :2], axis=1).mean() / size
            )
            agree.append((ref.presence >= 0.5) == (got.presence >= 0.5))
    assert len(errors) >= 10
    assert float(np.mean(errors)) < 0.03
    assert np.mean(agree) >= 0.9
    assert found[1] >= found[0] - 1, f"int8 palm detector found {found[1]} frames, float {found[0]}"


def test_hand_precision_picks_the_int8_or_float_files_the_classifier_was_trained_with() -> None:
    def resolved(precision: str) -> tuple[str, str]:
        loc = parse_config({"locate": {"method": "tracker", "hand_precision": precision}}).locate
        return Path(loc.palm_model).name, Path(loc.landmark_model).name

    palm_int8, marks_int8 = resolved("int8")
    palm_float, marks_float = resolved("float")
    assert palm_int8.endswith("_int8.tflite") and marks_int8.endswith("_int8.tflite")
    assert palm_float == palm_int8.replace("_int8", "")
    assert marks_float == marks_int8.replace("_int8", "")
    assert resolved("model") in {(palm_int8, marks_int8), (palm_float, marks_float)}
