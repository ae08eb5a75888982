"""The one place that picks a TFLite runtime: LiteRT, then tflite-runtime, then tf.lite."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Module that provides `Interpreter`, in order of preference (DESIGN.md).
RUNTIMES: tuple[tuple[str, str], ...] = (
    ("ai-edge-litert", "ai_edge_litert.interpreter"),
    ("tflite-runtime", "tflite_runtime.interpreter"),
    ("tensorflow", "tensorflow.lite"),
)


class RuntimeNotFound(RuntimeError):
    """No TFLite runtime could be imported."""


def _interpreter_class(prefer: str | None = None) -> tuple[type, str]:
    candidates = [r for r in RUNTIMES if prefer in (None, r[0])]
    if not candidates:
        names = ", ".join(name for name, _ in RUNTIMES)
        raise RuntimeNotFound(f"unknown runtime {prefer!r}; choose one of {names}")
    errors = []
    for name, module in candidates:
        try:
            return importlib.import_module(module).Interpreter, name
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise RuntimeNotFound(
        "no TFLite runtime found; install one with `pip install ai-edge-litert` "
        "(or tflite-runtime with numpy<2). Tried: " + "; ".join(errors)
    )


def load_interpreter(
    model_path: str | Path, num_threads: int | None = None, prefer: str | None = None
) -> tuple[Any, str]:
    """Create and allocate an interpreter for a .tflite file.

    Args:
        model_path: the .tflite file.
        num_threads: CPU threads for the interpreter (None: the runtime's default).
        prefer: force one runtime by name (`ai-edge-litert`, `tflite-runtime`, `tensorflow`).

    Returns:
        (interpreter with tensors allocated, runtime name).

    Raises:
        RuntimeNotFound: no runtime can be imported.
        ValueError: the file is not a model the runtime can load.
    """
    cls, name = _interpreter_class(prefer)
    try:
        interpreter = cls(model_path=str(model_path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"{model_path}: not a loadable TFLite model ({exc})") from exc
    log.debug("loaded %s with %s", model_path, name)
    return interpreter, name
