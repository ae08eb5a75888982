"""Hand localisation and landmark classification with MediaPipe's palm and landmark models."""

# Stages: `palm.PalmDetector` (whole frame -> palms + rotated hand regions),
# `landmark.LandmarkModel` (upright crop -> 21 points in frame pixels), `locator.HandLocator`
# (detector or tracker), `features` (points -> classifier input, shared with training),
# `classifier.LandmarkClassifier`.

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.config.paths import models_dir

if TYPE_CHECKING:
    from edge.config import LocateConfig
    from edge.hands.body.locator import BodyLocator
    from edge.hands.locator import HandLocator

DEFAULT_PALM_MODEL = "palm_detection_full.tflite"
DEFAULT_LANDMARK_MODEL = "hand_landmark_full.tflite"


def default_palm_model() -> str:
    """The palm detector used when the config names none."""
    return str(models_dir() / "mediapipe" / DEFAULT_PALM_MODEL)


def default_landmark_model() -> str:
    """The landmark model used when the config names none."""
    return str(models_dir() / "mediapipe" / DEFAULT_LANDMARK_MODEL)


def build_hand_locator(
    locate_cfg: LocateConfig, num_threads: int | None = None
) -> HandLocator | BodyLocator:
    """The `Locator` for `[locate] method = "detector"`, `"tracker"` or `"body"`.

    Args:
        locate_cfg: the `[locate]` section (method, palm_model, landmark_model,
            min_detection_score, min_presence, redetect_every).
        num_threads: interpreter threads.

    Returns:
        A `edge.hands.locator.HandLocator`, or for `body` an `edge.hands.body.BodyLocator`.

    Raises:
        ValueError: unknown method, or a model file cannot be loaded.
    """
    from edge.hands.locator import open_locator
    from edge.hands.still import StillOptions

    hands = open_locator(
        locate_cfg.palm_model or default_palm_model(),
        locate_cfg.landmark_model or default_landmark_model(),
        method="tracker" if locate_cfg.method == "body" else locate_cfg.method,
        num_threads=num_threads,
        min_detection_score=locate_cfg.min_detection_score,
        min_presence=locate_cfg.min_presence,
        redetect_every=locate_cfg.redetect_every,
        still=StillOptions(locate_cfg.still_reuse, locate_cfg.still_threshold),
    )
    if locate_cfg.method != "body":
        return hands
    from edge.hands.body import open_body_locator

    return open_body_locator(locate_cfg, hands, num_threads)
