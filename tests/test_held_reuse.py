"""Held-gesture reuse (edge.hands.still) in the daemon's own stages on real photos: a still hand
skips the landmark model, and a change of gesture during reuse is seen within the bound."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from devtools.held import held
from devtools.sequences import NoCamera, Recorder, shima_case
from edge.clock import SteppedClock
from edge.config import Config, load_config
from edge.pipeline.classify import build_classifier
from edge.pipeline.locate import build_locator
from edge.pipeline.loop import DaemonLoop
from edge.service.app import stages
from edge.types import Frame

HOLD = 15  # camera frames the first gesture is held before the change


def labels(cfg: Config, frames: list[np.ndarray]) -> tuple[list[str | None], float]:
    """The raw prediction's label per frame through the shipped stages; the reused share."""
    classifier = build_classifier(cfg)
    locator = build_locator(cfg, crop_margin=classifier.crop_margin)
    clock = SteppedClock()
    loop = DaemonLoop(stages(cfg, NoCamera(), locator, classifier, Recorder(), clock))

    out: list[str | None] = []
    try:
        for i, image in enumerate(frames):
            result = loop.step(Frame(image, clock.time(), i))
            out.append(result.prediction.label if result.prediction is not None else None)
            clock.advance(1 / 30)
        share = float(locator.in_view()["reused"])
    finally:
        locator.close()
        classifier.close()
    return out, share


@pytest.fixture(scope="module")
def photos(datasets: Path, mediapipe_models: Path) -> tuple[np.ndarray, np.ndarray]:
    """A real fist photo and a real open palm (stop), letterboxed as eval-sequences does."""
    return shima_case(datasets, "Fist", 1)[1][0], shima_case(datasets, "OpenPalm", 1)[1][0]


def fist_then_palm(photos: tuple[np.ndarray, np.ndarray], hold: int = HOLD) -> list[np.ndarray]:
    """The fist held `hold` frames, then the palm 10, sensor noise on every copy."""
    return held([photos[0]], hold, 2.0, 0) + held([photos[1]], 10, 2.0, 1)


def shipped(repo_root: Path, **still: float) -> Config:
    cfg = load_config(repo_root / "configs" / "car.toml")
    return dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, **still))


def test_a_still_held_hand_skips_the_landmark_model_and_keeps_its_answer(
    repo_root: Path, photos: tuple[np.ndarray, np.ndarray]
) -> None:
    off, none_reused = labels(shipped(repo_root, still_reuse=0), fist_then_palm(photos))
    on, share = labels(shipped(repo_root), fist_then_palm(photos))
    assert off[:HOLD] == ["fist"] * HOLD and off[HOLD:] == ["stop"] * 10, off
    assert none_reused == 0.0
    assert share >= 0.4, share  # most frames of a still hand reuse the last landmarks
    assert on == off  # ... and every frame reads as without reuse: the change at once


def test_a_change_the_thumbnail_misses_is_seen_within_the_bound(
    repo_root: Path, photos: tuple[np.ndarray, np.ndarray]
) -> None:
    cfg = shipped(repo_root, still_threshold=255.0)  # a blind stillness test: only the bound
    bound = cfg.locate.still_reuse
    assert bound >= 1
    lates = []
    for hold in range(HOLD, HOLD + bound + 1):  # the change at every phase of the reuse run
        seen, _ = labels(cfg, fist_then_palm(photos, hold))
        late = seen[hold:].index("stop")
        assert late <= bound, seen  # a real run at least every `bound` + 1 frames
        assert seen[hold + late :] == ["stop"] * (10 - late)
        lates.append(late)
    assert max(lates) > 0  # reuse was answering when the change came (the bound did the work)
