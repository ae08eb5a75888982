"""Pixels into, and floats out of, the hand models whether they are float or full-integer int8."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge.model.runtime import load_interpreter
from edge.model.tflite_model import OutputReader, quantize

__all__ = ["OutputReader", "PixelInput", "open_square", "outputs_by_shape"]


def open_square(
    model_path: str | Path, num_threads: int | None, size: int, what: str
) -> tuple[Any, str, dict[str, Any]]:
    """Load a MediaPipe model whose input is one size x size RGB image.

    Returns:
        (interpreter, runtime name, input tensor details).

    Raises:
        ValueError: the file cannot be loaded, or its input is not 1 x size x size x 3.
    """
    interpreter, runtime = load_interpreter(model_path, num_threads)
    inp = interpreter.get_input_details()[0]
    if tuple(inp["shape"]) != (1, size, size, 3):
        raise ValueError(f"{model_path}: not a {size}x{size} {what} (input {inp['shape']})")
    return interpreter, runtime, inp


def outputs_by_shape(interpreter: Any) -> dict[tuple[int, ...], OutputReader]:
    """Every output of `interpreter`, read as floats, by its shape without the batch axis."""
    return {
        tuple(int(n) for n in d["shape"][1:]): OutputReader(interpreter, d)
        for d in interpreter.get_output_details()
    }


class PixelInput:
    """Feeds uint8 RGB pixels to a model input that expects `pixel / 255`.

    float32 input: one multiply. int8 input with scale 1/255 and zero point -128 (what
    `convert.handquant` writes): `pixel - 128`, done as a bit flip with no arithmetic. Any other
    int8 input: quantized from `pixel / 255` with the tensor's own scale and zero point.
    """

    def __init__(self, detail: dict[str, Any]) -> None:
        self.index = int(detail["index"])
        self.dtype = np.dtype(detail["dtype"])
        scale, zero = detail["quantization"]
        self._scale, self._zero = float(scale), int(zero)
        if self.dtype not in (np.float32, np.int8):
            raise ValueError(f"hand model input must be float32 or int8, not {self.dtype}")
        self.exact = self.dtype == np.int8 and self._zero == -128 and abs(scale * 255 - 1) < 1e-6

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        """The input tensor (batch of one) for an HxWx3 uint8 image."""
        if self.dtype == np.float32:
            return pixels[None].astype(np.float32) * np.float32(1 / 255)
        if self.exact:
            flipped: np.ndarray = np.bitwise_xor(pixels, np.uint8(0x80))
            return flipped[None].view(np.int8)
        return quantize(pixels / 255.0, self._scale, self._zero)[None]
