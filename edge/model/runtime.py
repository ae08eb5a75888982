"""The one place that picks a TFLite runtime: LiteRT, then tflite-runtime, then tf.lite."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """A TFLite runtime: the module to import and the attribute path of its `Interpreter`."""

    name: str
    module: str
    attribute: str = "Interpreter"


# In order of preference (DESIGN.md). TensorFlow's `Interpreter` is `tf.lite.Interpreter`, an
# attribute of the `tensorflow` module: the `tensorflow.lite` package itself does not hold it.
RUNTIMES: tuple[Runtime, ...] = (
    Runtime("ai-edge-litert", "ai_edge_litert.interpreter"),
    Runtime("tflite-runtime", "tflite_runtime.interpreter"),
    Runtime("tensorflow", "tensorflow", "lite.Interpreter"),
)
RUNTIME_NAMES: tuple[str, ...] = tuple(r.name for r in RUNTIMES)


class RuntimeNotFound(RuntimeError):
    """No TFLite runtime could be imported."""


def _import_interpreter(runtime: Runtime) -> type:
    """The runtime's Interpreter class.

    Raises:
        RuntimeNotFound: the module does not import (any error, not only ImportError: a broken
            install can raise anything) or holds no Interpreter.
    """
    try:
        found: Any = importlib.import_module(runtime.module)
    except Exception as exc:  # a broken wheel raises OSError, AttributeError, ...
        raise RuntimeNotFound(f"{runtime.name}: cannot import {runtime.module} ({exc})") from exc
    for part in runtime.attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise RuntimeNotFound(
                f"{runtime.name}: {runtime.module} imports but has no {runtime.attribute}"
            )
    if not isinstance(found, type):
        raise RuntimeNotFound(f"{runtime.name}: {runtime.module}.{runtime.attribute} is no class")
    return found


def _interpreter_class(prefer: str | None = None) -> tuple[type, str]:
    candidates = [r for r in RUNTIMES if prefer in (None, r.name)]
    if not candidates:
        raise RuntimeNotFound(
            f"unknown runtime {prefer!r}; choose one of {', '.join(RUNTIME_NAMES)}"
        )
    errors = []
    for runtime in candidates:
        try:
            return _import_interpreter(runtime), runtime.name
        except RuntimeNotFound as exc:
            errors.append(str(exc))
    raise RuntimeNotFound(
        "no TFLite runtime found; install one with `pip install ai-edge-litert` "
        "(or tflite-runtime with numpy<2). Tried: " + "; ".join(errors)
    )


CHATTER = (b"INFO: Created TensorFlow Lite XNNPACK delegate",)  # native lines nobody acts on


@contextlib.contextmanager
def _native_chatter_to_debug_log() -> Iterator[None]:
    """Move the runtime's native info lines from file descriptor 2 to the debug log.

    The runtimes print "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++ on
    every load. Anything else written meanwhile (another thread's log line, a native warning)
    is written back to stderr unchanged; load errors reach the caller as exceptions.
    """
    fd = 2  # native code writes here whatever Python's sys.stderr is
    sys.stderr.flush()
    try:
        saved = os.dup(fd)
    except OSError:  # no stderr at all (a closed descriptor): nothing to keep quiet
        yield
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().splitlines(keepends=True):
                if line.startswith(CHATTER):
                    log.debug("runtime: %s", line.decode(errors="replace").strip())
                else:
                    os.write(fd, line)


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
        with _native_chatter_to_debug_log():
            interpreter = cls(model_path=str(model_path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"{model_path}: not a loadable TFLite model ({exc})") from exc
    log.debug("loaded %s with %s", model_path, name)
    return interpreter, name
