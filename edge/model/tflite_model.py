"""An int8 TFLite classifier loaded once, with explicit (de)quantisation from tensor parameters."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge.closing import Closing
from edge.model.artifact import ModelMeta, check_against_tflite, read_meta
from edge.model.runtime import load_interpreter

log = logging.getLogger(__name__)


def quantize(x: np.ndarray, scale: float, zero: int) -> np.ndarray:
    """Float values -> int8 tensor values (round to nearest, saturate)."""
    return np.asarray(np.clip(np.round(x / scale + zero), -128, 127), dtype=np.int8)


class OutputReader:
    """Reads one output tensor as float32 (dequantized from int8 with its scale/zero point)."""

    def __init__(self, interpreter: Any, detail: dict[str, Any]) -> None:
        self._interpreter = interpreter
        self.index = int(detail["index"])
        scale, zero = detail["quantization"]
        self._quantized = np.dtype(detail["dtype"]) == np.int8
        self._scale, self._zero = np.float32(scale), np.float32(zero)

    def __call__(self) -> np.ndarray:
        raw = self._interpreter.get_tensor(self.index)
        if not self._quantized:
            return np.asarray(raw, dtype=np.float32)
        values: np.ndarray = (raw.astype(np.float32) - self._zero) * self._scale
        return values


class TFLiteModel(Closing):
    """A validated model artefact ready to run.

    Loads the interpreter once, checks the json against the tflite, and caches tensor details.
    `predict` takes the float input the Keras model would take and returns probabilities.
    """

    def __init__(
        self, tflite_path: str | Path, num_threads: int | None = None, runtime: str | None = None
    ) -> None:
        self.meta: ModelMeta = read_meta(tflite_path)
        self._interpreter, self.runtime = load_interpreter(tflite_path, num_threads, runtime)
        self._in = self._interpreter.get_input_details()[0]
        self._out = self._interpreter.get_output_details()[0]
        check_against_tflite(self.meta, self._in, self._out)
        self._in_scale, self._in_zero = self._in["quantization"]
        self._read = OutputReader(self._interpreter, self._out)
        self.labels = self.meta.labels
        self.input_shape = tuple(int(x) for x in self._in["shape"])
        self._closed = False

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float model input -> int8 tensor values (round to nearest, saturate)."""
        return quantize(x, self._in_scale, self._in_zero)

    def predict_quantized(self, q: np.ndarray) -> np.ndarray:
        """Run one already-quantized input (shape without or with the batch axis)."""
        self._interpreter.set_tensor(self._in["index"], q.reshape(self.input_shape))
        self._interpreter.invoke()
        return np.asarray(self._read()[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities (dequantized int8 output) for one float input."""
        return self.predict_quantized(self.quantize(np.asarray(x, dtype=np.float32)))

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        if not self._closed:
            self._interpreter = None
            self._closed = True
