"""Keras model -> verified int8 artefact: quantize, evaluate float and int8, write the json."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from convert.data import DataError, Dataset
from convert.evaluate import (
    float_inputs,
    metrics,
    predict_keras,
    predict_tflite,
    warn_if_constant,
)
from convert.quantize import float_tflite_size, to_int8_tflite, write_tflite
from convert.train import encode
from edge.artifact import InputSpec, write_meta
from edge.runtime import load_interpreter

log = logging.getLogger(__name__)


REJECTED = ".rejected"


class ParityError(RuntimeError):
    """The int8 model disagrees with the float model more than allowed."""


@dataclass(frozen=True)
class Thresholds:
    min_agreement: float = 0.98  # float-vs-int8 top-1 agreement
    max_accuracy_drop: float = 2.0  # percentage points


def input_spec_for(model: Any, pixel_scale: float, pixel_offset: float, margin: float) -> InputSpec:
    """The device's recipe for this model's input (shape from the model, transform given).

    Raises:
        DataError: the model's input is not an (H, W, 3) image.
    """
    shape = tuple(int(x) if x is not None else 1 for x in model.input_shape)
    if len(shape) != 4 or shape[3] != 3:
        raise DataError(f"model input shape {model.input_shape} is not (batch, H, W, 3)")
    return InputSpec(shape, "RGB", pixel_scale, pixel_offset, margin)


def check_output(model: Any, labels: list[str]) -> None:
    """Raises DataError when the model's output size differs from the label count."""
    n_out = int(model.output_shape[-1])
    if n_out != len(labels):
        raise DataError(
            f"the model has {n_out} outputs but {len(labels)} labels were given ({labels})"
        )


def _full_range(spec: InputSpec) -> np.ndarray:
    """One input holding every pixel value 0..255: the input range becomes exactly the pixel
    range, so the int8 input scale is `pixel_scale` (raw pixels: scale 1, zero point -128)."""
    h, w = spec.shape[1], spec.shape[2]
    ramp = np.linspace(0, 255, h * w).round().reshape(h, w).astype(np.float32)
    return (np.repeat(ramp[..., None], 3, axis=2) * spec.pixel_scale + spec.pixel_offset)[None]


def tensor_info(tflite_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Shape, dtype and (scale, zero_point) of a model's input and output, for its json."""
    interpreter, _ = load_interpreter(tflite_path, 1, None)
    out = []
    for det in (interpreter.get_input_details()[0], interpreter.get_output_details()[0]):
        scale, zero = det["quantization"]
        out.append(
            {
                "shape": [int(x) for x in det["shape"]],
                "dtype": det["dtype"].__name__,
                "quantization": {"scale": float(scale), "zero_point": int(zero)},
            }
        )
    return out[0], out[1]


def export(
    model: Any,
    labels: list[str],
    calibration: Dataset,
    evaluation: Dataset,
    spec: InputSpec,
    out: str | Path,
    source: dict[str, Any],
    thresholds: Thresholds = Thresholds(),
    seed: int = 0,
) -> dict[str, Any]:
    """Quantize `model` to NAME.tflite, evaluate float and int8 on `evaluation`, write NAME.json.

    Both models see identical inputs, prepared by `edge.crops.prepare` as on the device; the
    int8 model runs through `edge.tflite_model.TFLiteModel`.

    Args:
        model: a Keras model whose input is `spec`'s float input.
        labels: output class names, in order.
        calibration: images for the representative dataset (the TRAIN split).
        evaluation: held-out images for the metrics.
        spec: how pixels become the model's input (recorded in the json).
        out: NAME.tflite path (NAME.json is written beside it).
        source: what the model was made from (data, split, counts, settings).
        thresholds: parity limits.
        seed: which calibration samples are used.

    Returns:
        The json dict that was written.

    Raises:
        DataError: output size differs from the label count, or a label is unknown.
        ParityError: agreement or accuracy drop break `thresholds`; the pair is then kept as
            NAME.rejected.{tflite,json} and an existing NAME.tflite is left as it was.
    """
    check_output(model, labels)
    final = Path(out).with_suffix(".tflite")
    out = rejected_path(final)  # staged here; moved to `final` only when parity holds
    y_eval = encode(evaluation, labels)
    log.info("quantizing (calibration: %d training images)", len(calibration))
    data = to_int8_tflite(
        model, float_inputs(calibration.images, spec), seed=seed, always=_full_range(spec)
    )
    write_tflite(data, out)
    x_eval = float_inputs(evaluation.images, spec)
    p_float = predict_keras(model, x_eval).argmax(axis=1)
    p_int8 = predict_tflite_after_meta(out, labels, spec, source, x_eval, final.name)
    m_float, m_int8 = metrics(y_eval, p_float, labels), metrics(y_eval, p_int8, labels)
    agreement = float(np.mean(p_float == p_int8)) if len(p_float) else 1.0
    drop = 100.0 * (m_float["accuracy"] - m_int8["accuracy"])
    sizes = {"float_tflite_bytes": float_tflite_size(model), "int8_tflite_bytes": len(data)}
    meta = _meta(labels, spec, out, source, m_float, m_int8, agreement, sizes)
    log.info(
        "float accuracy %.3f, int8 accuracy %.3f, agreement %.3f on %d eval images; "
        "%.1f KiB float -> %.1f KiB int8",
        m_float["accuracy"],
        m_int8["accuracy"],
        agreement,
        len(y_eval),
        sizes["float_tflite_bytes"] / 1024,
        sizes["int8_tflite_bytes"] / 1024,
    )
    return publish_if_parity(out, final, meta, agreement, drop, thresholds)


def publish_if_parity(
    staged: Path,
    final: Path,
    meta: dict[str, Any],
    agreement: float,
    drop: float,
    thresholds: Thresholds,
) -> dict[str, Any]:
    """The one parity rule: record it in the json, then move the staged pair to `final`.

    Raises:
        ParityError: agreement below `min_agreement` or accuracy drop above
            `max_accuracy_drop`; the staged pair stays (NAME.rejected.*), `final` is untouched.
    """
    ok = agreement >= thresholds.min_agreement and drop <= thresholds.max_accuracy_drop
    meta["metrics"]["parity"] = {
        "ok": ok,
        "min_agreement": thresholds.min_agreement,
        "max_accuracy_drop_points": thresholds.max_accuracy_drop,
        "agreement": round(agreement, 4),
        "accuracy_drop_points": round(drop, 2),
    }
    write_meta(staged, meta)
    if not ok:
        raise ParityError(
            f"int8 model fails parity: agreement {agreement:.3f} (min "
            f"{thresholds.min_agreement}), accuracy drop {drop:.1f} points (max "
            f"{thresholds.max_accuracy_drop}); kept for inspection as {staged} ({final} untouched)"
        )
    for suffix in (".md", ".png"):  # a stale report of an earlier rejected attempt
        staged.with_suffix(suffix).unlink(missing_ok=True)
    staged.with_suffix(".json").replace(final.with_suffix(".json"))
    staged.replace(final)
    log.info("wrote %s (%.1f KiB) and its json", final, final.stat().st_size / 1024)
    return meta


def rejected_path(tflite_path: Path) -> Path:
    """Where a model that fails the parity check is kept: NAME.rejected.tflite."""
    return tflite_path.with_name(f"{tflite_path.stem}{REJECTED}.tflite")


def predict_tflite_after_meta(
    out: Path,
    labels: list[str],
    spec: InputSpec,
    source: dict[str, Any],
    x: np.ndarray,
    name: str,
) -> np.ndarray:
    """Write a provisional json (TFLiteModel validates it) and run the int8 model on `x`.

    A model that scores every input alike is warned about under `name` (the file it becomes).
    """
    write_meta(out, _meta(labels, spec, out, source, None, None, None, {}))
    if not len(x):
        return np.zeros(0, np.int64)
    probs = predict_tflite(out, x)
    warn_if_constant(probs, name)
    return np.asarray(probs.argmax(axis=1))


def _meta(
    labels: list[str],
    spec: InputSpec,
    out: Path,
    source: dict[str, Any],
    m_float: dict[str, Any] | None,
    m_int8: dict[str, Any] | None,
    agreement: float | None,
    sizes: dict[str, int],
) -> dict[str, Any]:
    in_info, out_info = tensor_info(out)
    meta: dict[str, Any] = {
        "name": out.stem.removesuffix(REJECTED),
        "labels": list(labels),
        "kind": "image",
        "input": {
            "shape": list(spec.shape),
            "color": spec.color,
            "pixel_scale": spec.pixel_scale,
            "pixel_offset": spec.pixel_offset,
            "crop_margin": spec.crop_margin,
            "features": None,
            "dtype": in_info["dtype"],
            "quantization": in_info["quantization"],
        },
        "output": out_info,
        "metrics": {},
        "sizes": sizes,
        "source": source,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if m_float is not None and m_int8 is not None:
        meta["metrics"] = metrics_block(m_float, m_int8, float(agreement or 0.0))
    return meta


def metrics_block(
    m_float: dict[str, Any], m_int8: dict[str, Any], agreement: float
) -> dict[str, Any]:
    """The json's `metrics` (DESIGN.md) from the float and int8 evaluations of one split."""
    return {
        "float_accuracy": m_float["accuracy"],
        "int8_accuracy": m_int8["accuracy"],
        "agreement": round(agreement, 4),
        "per_class_f1": {k: v["f1"] for k, v in m_int8["per_class"].items()},
        "weighted_f1": m_int8["weighted_f1"],
        "float_weighted_f1": m_float["weighted_f1"],
        "eval_size": m_int8["size"],
        "confusion": m_int8["confusion"],
        "float": m_float,
        "int8": m_int8,
    }
