"""Full-integer int8 copies of MediaPipe's palm and landmark models, calibrated on real frames."""

# `python -m convert.handquant --datasets ../shared/datasets` (what `make models` runs after the
# fetch) writes `models/mediapipe/{palm_detection,hand_landmark}_{lite,full}_int8.tflite` beside
# the float files. MediaPipe stores its weights as float16 behind DEQUANTIZE ops and gives its
# models no signature; ai-edge-quantizer needs float constants and a signature, so each model is
# first rewritten with the float16 weights folded into float32 constants (`fold_float16`), then
# quantized with the static int8 recipe (int8 weights per channel, int8 activations, int8 input
# and outputs). Calibration uses frames of the training sources only
# (convert/landmarks/lockbox.toml), the palm detector's letterboxed frames and the landmark
# model's upright crops as the device cuts them; the lockbox and validation sessions are never
# seen here.

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter
from ai_edge_litert.tools import flatbuffer_utils
from ai_edge_quantizer import quantizer, recipe

from convert.landmarks.sources import shot_sides
from convert.quiet import progress_bars, quiet_third_party
from convert.subhih import Shot, read_shots
from edge.config.paths import models_dir
from edge.hands.geometry import Roi, crop_upright, letterbox, roi_from_landmarks
from edge.hands.landmark import INPUT_SIZE as LANDMARK_SIZE
from edge.hands.landmark import LandmarkModel
from edge.hands.palm import INPUT_SIZE as PALM_SIZE
from edge.hands.palm import PalmDetector
from edge.model.crops import read_rgb

log = logging.getLogger(__name__)

SIGNATURE = "serving_default"
VARIANTS = ("lite", "full")
CALIBRATION_FRAMES = 200
RANDOM_CROPS = 1  # per frame, beside the hands' own crops


def int8_name(float_name: str) -> str:
    """`hand_landmark_lite.tflite` -> `hand_landmark_lite_int8.tflite`."""
    return float_name.removesuffix(".tflite") + "_int8.tflite"


def fold_float16(path: Path) -> bytes:
    """The model with float16 weights folded into float32 constants and a signature added.

    Every DEQUANTIZE op whose input is a float16 constant is removed; its output tensor gets the
    weights as float32 data. Tensors no op uses any more are dropped and indices renumbered.
    """
    model = flatbuffer_utils.read_model(str(path))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    graph = model.subgraphs[0]
    kept = []
    for op in graph.operators:
        source = graph.tensors[op.inputs[0]]
        data = model.buffers[source.buffer].data
        if (
            codes[op.opcodeIndex] == schema.BuiltinOperator.DEQUANTIZE
            and source.type == schema.TensorType.FLOAT16
            and data is not None
            and len(data)
        ):
            weights = np.frombuffer(np.asarray(data, np.uint8).tobytes(), np.float16)
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(weights.astype(np.float32).tobytes(), np.uint8)
            model.buffers.append(buffer)
            graph.tensors[op.outputs[0]].buffer = len(model.buffers) - 1
            model.buffers[source.buffer].data = None
        else:
            kept.append(op)
    _drop_unused_tensors(graph, kept)
    model.signatureDefs = [_signature(graph)]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _drop_unused_tensors(graph: Any, ops: list[Any]) -> None:
    used = {i for op in ops for i in [*op.inputs, *op.outputs] if i >= 0}
    used |= {*graph.inputs, *graph.outputs}
    order = sorted(used)
    new = {old: i for i, old in enumerate(order)}
    graph.tensors = [graph.tensors[i] for i in order]
    for op in ops:
        op.inputs = [new[i] if i >= 0 else i for i in op.inputs]
        op.outputs = [new[i] for i in op.outputs]
    graph.inputs = [new[i] for i in graph.inputs]
    graph.outputs = [new[i] for i in graph.outputs]
    graph.operators = ops


def _signature(graph: Any) -> Any:
    def tensor_maps(indices: list[int]) -> list[Any]:
        maps = []
        for i in indices:
            entry = schema.TensorMapT()
            name = graph.tensors[i].name
            entry.name = name.decode() if isinstance(name, bytes) else name
            entry.tensorIndex = i
            maps.append(entry)
        return maps

    sig = schema.SignatureDefT()
    sig.signatureKey = SIGNATURE
    sig.subgraphIndex = 0
    sig.inputs = tensor_maps(list(graph.inputs))
    sig.outputs = tensor_maps(list(graph.outputs))
    return sig


def training_shots(datasets: Path, count: int = CALIBRATION_FRAMES) -> list[Shot]:
    """`count` subhih-hands frames of the training sessions, spread evenly over them."""
    shots = read_shots(datasets)
    sides = shot_sides(shots)
    train = [s for s, side in zip(shots, sides, strict=True) if side == "train"]
    step = max(1, len(train) // count)
    return train[::step][:count]


def calibration_inputs(
    frames: list[np.ndarray], palm: PalmDetector, marks: LandmarkModel
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The float models' own inputs on real frames: letterboxed frames and upright crops.

    Crops are cut from the palm detector's region and from the region the tracker derives from
    the landmarks (the two kinds the device feeds the landmark model), and from random regions
    that hold no hand or part of one: without them the presence logit's range would cover hands
    only, and int8 would clip every "no hand" to presence 0.5.
    """
    rng = np.random.default_rng(0)
    palm_inputs: list[np.ndarray] = []
    crops: list[np.ndarray] = []
    for image in frames:
        h, w = image.shape[:2]
        for _ in range(RANDOM_CROPS):
            size = float(rng.uniform(0.15, 0.8) * min(h, w))
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            roi = Roi(float(cx), float(cy), size, float(rng.uniform(-np.pi, np.pi)))
            crops.append(crop_upright(image, roi, LANDMARK_SIZE)[0].astype(np.float32)[None] / 255)
        palm_inputs.append(letterbox(image, PALM_SIZE)[0].astype(np.float32)[None] / 255.0)
        for found in palm.detect(image)[:2]:
            hand = marks.run(image, found.roi)
            for roi in (found.roi, roi_from_landmarks(hand.points)):
                crop = crop_upright(image, roi, LANDMARK_SIZE)[0]
                crops.append(crop.astype(np.float32)[None] / 255.0)
    return palm_inputs, crops


def quantize(float_path: Path, samples: list[np.ndarray], out: Path, full_range: bool) -> None:
    """Static int8 quantization (int8 weights and activations, int8 input/outputs).

    `full_range`: activations take their true min/max over the samples (`true_ranges`, for the
    landmark model) instead of the quantizer's averaged ranges (kept for the palm detector:
    with true ranges its recall on validation frames fell from 97.4 % to 92.2 %).
    """
    with tempfile.TemporaryDirectory() as tmp:
        folded = Path(tmp) / float_path.name
        folded.write_bytes(fold_float16(float_path))
        qt = quantizer.Quantizer(str(folded))
        qt.load_quantization_recipe(recipe.static_wi8_ai8())
        name = _input_name(folded)
        calibration = dict(qt.calibrate({SIGNATURE: [{name: x} for x in samples]}))
        if full_range:
            calibration.update(true_ranges(folded, samples))
        calibration[name] = _unit_range(calibration[name])
        result = qt.quantize(calibration, enable_progress_bar=progress_bars())
    out.write_bytes(bytes(result.quantized_model))
    log.info("%s: %d bytes from %d calibration inputs", out, out.stat().st_size, len(samples))


def true_ranges(model: Path, samples: list[np.ndarray]) -> dict[str, dict]:
    """The true min/max over all samples of every float activation tensor.

    The quantizer averages each sample's min and max. A tensor of one value per sample (the
    presence logit) then gets the range of its mean, and int8 clips every other value to it
    (presence 0.5 for every crop with no hand); feature maps lose their tails, which the
    presence head reads (tracked hands dropped below presence 0.5 in 27 of 300 frames where the
    float model never does; with true ranges, 1). Weights keep the recipe's per-channel ranges.
    """
    constants = _constant_names(model)  # weights keep the recipe's per-channel ranges
    interp = Interpreter(model_path=str(model), experimental_preserve_all_tensors=True)
    interp.allocate_tensors()
    tensors = [
        d
        for d in interp.get_tensor_details()
        if d["dtype"] == np.float32 and d["name"] not in constants
    ]
    rank = {d["name"]: len(d["shape"]) for d in tensors}
    lo = {d["name"]: np.inf for d in tensors}
    hi = {d["name"]: -np.inf for d in tensors}
    index = interp.get_input_details()[0]["index"]
    for x in samples:
        interp.set_tensor(index, x)
        interp.invoke()
        for d in tensors:
            try:
                value = interp.get_tensor(d["index"])
            except ValueError:  # a constant folded away, or no data kept
                continue
            lo[d["name"]] = min(lo[d["name"]], float(value.min()))
            hi[d["name"]] = max(hi[d["name"]], float(value.max()))
    return {
        name: {
            "min": np.full([1] * rank[name], lo[name], np.float32),
            "max": np.full([1] * rank[name], hi[name], np.float32),
        }
        for name in lo
        if np.isfinite(lo[name])
    }


def _constant_names(model: Path) -> set[str]:
    flat = flatbuffer_utils.read_model(str(model))
    names = set()
    for t in flat.subgraphs[0].tensors:
        data = flat.buffers[t.buffer].data
        if data is not None and len(data):
            names.add(t.name.decode() if isinstance(t.name, bytes) else t.name)
    return names


def _unit_range(qsv: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The input's range fixed to [0, 1] (pixels / 255), whatever calibration saw.

    Then the int8 input's scale is exactly 1/255 with zero point -128, so the device feeds a
    uint8 pixel as `pixel - 128` (`edge.hands.quant.pixels_to_input`) without arithmetic.
    """
    return {
        **qsv,
        "min": np.zeros_like(qsv["min"], dtype=np.float32),
        "max": np.ones_like(qsv["max"], dtype=np.float32),
    }


def _input_name(path: Path) -> str:
    inputs = Interpreter(model_path=str(path)).get_signature_list()[SIGNATURE]["inputs"]
    return str(inputs[0])


def build(datasets: Path, dest: Path, variants: tuple[str, ...] = VARIANTS) -> list[Path]:
    """Write the int8 palm and landmark models of each variant into `dest`; their paths."""
    frames = [read_rgb(str(s.path)) for s in training_shots(datasets)]
    written = []
    for variant in variants:
        palm_path = dest / f"palm_detection_{variant}.tflite"
        marks_path = dest / f"hand_landmark_{variant}.tflite"
        palm, marks = PalmDetector(palm_path, 2), LandmarkModel(marks_path, 2)
        palm_inputs, crops = calibration_inputs(frames, palm, marks)
        for path, samples, full in ((palm_path, palm_inputs, False), (marks_path, crops, True)):
            out = dest / int8_name(path.name)
            quantize(path, samples, out, full)
            written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--dest", type=Path, default=models_dir() / "mediapipe")
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    quiet_third_party()
    try:
        build(args.datasets, args.dest, tuple(args.variants))
    except (OSError, ValueError) as exc:
        log.error("%s", exc)
        return 65
    return 0


if __name__ == "__main__":
    sys.exit(main())
