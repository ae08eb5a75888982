"""The image model kind for the exporter: its input recipe, calibration and float/int8 scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from convert.data import DataError, Dataset, encode_labels
from convert.evaluate import float_inputs, metrics, predict_keras, predict_tflite, warn_if_constant
from convert.export import Thresholds, agreement_of, metrics_block
from edge.model.artifact import InputSpec


def input_spec_for(model: Any, pixel_scale: float, pixel_offset: float, margin: float) -> InputSpec:
    """The device's recipe for this model's input (shape from the model, transform given).

    Raises:
        DataError: the model's input is not an (H, W, 3) image.
    """
    shape = tuple(int(x) if x is not None else 1 for x in model.input_shape)
    if len(shape) != 4 or shape[3] != 3:
        raise DataError(f"model input shape {model.input_shape} is not (batch, H, W, 3)")
    return InputSpec(shape, "RGB", pixel_scale, pixel_offset, margin)


def full_range(spec: InputSpec) -> np.ndarray:
    """One input holding every pixel value 0..255: the input range becomes exactly the pixel
    range, so the int8 input scale is `pixel_scale` (raw pixels: scale 1, zero point -128)."""
    h, w = spec.shape[1], spec.shape[2]
    ramp = np.linspace(0, 255, h * w).round().reshape(h, w).astype(np.float32)
    return (np.repeat(ramp[..., None], 3, axis=2) * spec.pixel_scale + spec.pixel_offset)[None]


@dataclass(frozen=True)
class ImageKind:
    """An image classifier: inputs prepared by `edge.model.crops.prepare` exactly as on the device,
    the int8 model run through the device's `TFLiteModel`.

    `calibration` feeds the representative dataset (the TRAIN split); `evaluation` is held out
    and gives the metrics; `seed` picks the calibration samples.
    """

    calibration_data: Dataset
    evaluation: Dataset
    spec: InputSpec
    seed: int = 0
    kind: ClassVar[str] = "image"
    parity: ClassVar[Thresholds] = Thresholds()

    def calibration(self) -> tuple[np.ndarray, dict[str, Any]]:
        inputs = float_inputs(self.calibration_data.images, self.spec)
        return inputs, {"seed": self.seed, "always": full_range(self.spec)}

    def input_block(self, tensor: dict[str, Any]) -> dict[str, Any]:
        return {
            "shape": list(self.spec.shape),
            "color": self.spec.color,
            "pixel_scale": self.spec.pixel_scale,
            "pixel_offset": self.spec.pixel_offset,
            "crop_margin": self.spec.crop_margin,
            "features": None,
            "dtype": tensor["dtype"],
            "quantization": tensor["quantization"],
        }

    def extra_meta(self) -> dict[str, Any]:
        return {}

    def measure(self, model: Any, tflite: Path, labels: list[str], name: str) -> dict[str, Any]:
        y = encode_labels(self.evaluation.labels, labels)
        x = float_inputs(self.evaluation.images, self.spec)
        p_float = predict_keras(model, x).argmax(axis=1)
        probs = predict_tflite(tflite, x)
        warn_if_constant(probs, name)
        p_int8 = probs.argmax(axis=1) if len(x) else np.zeros(0, np.int64)
        m_float, m_int8 = metrics(y, p_float, labels), metrics(y, p_int8, labels)
        return metrics_block(m_float, m_int8, agreement_of(p_float, p_int8))
