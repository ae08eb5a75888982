"""An int8 TFLite classifier loaded once, with explicit (de)quantisation from tensor parameters."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from edge.artifact import ModelMeta, check_against_tflite, read_meta
from edge.closing import Closing
from edge.runtime import load_interpreter

log = logging.getLogger(__name__)


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
        self._out_scale, self._out_zero = self._out["quantization"]
        self.labels = self.meta.labels
        self.input_shape = tuple(int(x) for x in self._in["shape"])
        self._closed = False

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Float model input -> int8 tensor values (round to nearest, saturate)."""
        q = np.round(x / self._in_scale + self._in_zero)
        return np.asarray(np.clip(q, -128, 127), dtype=np.int8)

    def predict_quantized(self, q: np.ndarray) -> np.ndarray:
        """Run one already-quantized input (shape without or with the batch axis)."""
        self._interpreter.set_tensor(self._in["index"], q.reshape(self.input_shape))
        self._interpreter.invoke()
        out = np.asarray(self._interpreter.get_tensor(self._out["index"])[0], dtype=np.float32)
        return np.asarray((out - self._out_zero) * self._out_scale)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities (dequantized int8 output) for one float input."""
        return self.predict_quantized(self.quantize(np.asarray(x, dtype=np.float32)))

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        if not self._closed:
            self._interpreter = None
            self._closed = True
