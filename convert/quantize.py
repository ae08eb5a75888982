"""Full-integer int8 conversion with the TFLite converter, and the float-vs-int8 parity check."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def to_int8_tflite(
    model: object,
    representative: np.ndarray,
    max_samples: int = 300,
    seed: int = 0,
    always: np.ndarray | None = None,
) -> bytes:
    """Convert a Keras model to a full-integer int8 TFLite flatbuffer.

    Args:
        model: a built `keras.Model` whose input is what `representative` holds.
        representative: float inputs drawn from the training split (N, *input_shape[1:]).
        max_samples: how many of them calibrate the activation ranges.
        seed: which samples are picked, reproducibly.
        always: extra inputs that calibrate every time (e.g. one spanning the full pixel range,
            which pins the int8 input quantization to the exact pixel grid).

    Returns:
        The .tflite bytes, with int8 input and output tensors.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(representative))[:max_samples]
    samples = representative[idx].astype(np.float32)
    if always is not None:
        samples = np.concatenate([samples, np.asarray(always, np.float32)])

    def calibration() -> Iterator[list[np.ndarray]]:
        for sample in samples:
            yield [sample[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return _quietly(converter.convert)


def to_float_tflite(model: object) -> bytes:
    """The same model converted without quantisation (its size for the report; the bench's
    float-vs-int8 classifier row)."""
    import tensorflow as tf

    return _quietly(tf.lite.TFLiteConverter.from_keras_model(model).convert)


def float_tflite_size(model: object) -> int:
    """Size in bytes of the same model converted without quantisation (for the report)."""
    return len(to_float_tflite(model))


def _quietly(convert: Callable[[], bytes]) -> bytes:
    """Run the converter with Keras' export chatter (printed to stdout) sent to the debug log."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        data = convert()
    log.debug("converter output:\n%s", captured.getvalue())
    return data


def write_tflite(data: bytes, path: str | Path) -> Path:
    """Write .tflite bytes (creating the folder); the exporter names the file it keeps."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    log.debug("staged %s (%.1f KiB)", path, len(data) / 1024)
    return path
