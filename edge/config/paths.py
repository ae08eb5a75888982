"""Where the shipped models live, independent of the working directory (systemd runs from /)."""

from __future__ import annotations

import os
from pathlib import Path

MODELS_ENV = "GESTUREPILOT_MODELS_DIR"
MODEL_ENV = "GESTUREPILOT_MODEL"
DEFAULT_MODEL_NAME = "gestures-landmarks.tflite"  # beat gestures-image: docs/hands.md
# A source checkout keeps models/ at the repository root, beside edge/.
_CHECKOUT_MODELS = Path(__file__).resolve().parents[2] / "models"
_SYSTEM_MODELS = Path("/usr/share/gesturepilot/models")


def models_dir() -> Path:
    """The directory of shipped models.

    Returns:
        `$GESTUREPILOT_MODELS_DIR` if set, else `models/` of a source checkout when it exists,
        else `/usr/share/gesturepilot/models`.
    """
    env = os.environ.get(MODELS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    if _CHECKOUT_MODELS.is_dir():
        return _CHECKOUT_MODELS
    return _SYSTEM_MODELS


def default_model_path() -> Path:
    """`$GESTUREPILOT_MODEL`, else `gestures-landmarks.tflite` in models_dir()."""
    env = os.environ.get(MODEL_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return models_dir() / DEFAULT_MODEL_NAME
