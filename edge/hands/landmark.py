"""MediaPipe's hand landmark model on an upright hand crop, with points mapped back to the frame."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.geometry import Roi, crop_upright
from edge.hands.tensors import OutputReader, PixelInput, open_square

log = logging.getLogger(__name__)

INPUT_SIZE = 224
NUM_LANDMARKS = 21


@dataclass(frozen=True)
class HandLandmarks:
    """The landmark model's answer for one region.

    `points` is (21, 3) in frame pixels (z in the same pixel scale, relative to the wrist's
    depth, smaller = nearer the camera); `presence` is the model's hand-presence probability;
    `handedness` the probability of a right hand in an unmirrored camera image.
    """

    points: np.ndarray
    presence: float
    handedness: float
    roi: Roi


class LandmarkModel:
    """Runs hand_landmark_{lite,full}.tflite on a rotated square region of a frame.

    The crop is turned so the hand stands upright (the model was trained on upright hands; fed a
    sideways hand it draws an upright one), then the points are turned back, so they keep the
    hand's true direction in the frame.

    Args:
        model_path: the hand landmark model.
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: str | Path, num_threads: int | None = None) -> None:
        self._interpreter, self.runtime, inp = open_square(
            model_path, num_threads, INPUT_SIZE, "landmark model"
        )
        self._in = PixelInput(inp)
        # Outputs by name order: Identity (63 landmarks), _1 presence, _2 handedness, _3 world.
        outs = sorted(self._interpreter.get_output_details(), key=lambda d: d["name"])
        shapes = [tuple(d["shape"][1:]) for d in outs]
        if shapes[:3] != [(63,), (1,), (1,)]:
            raise ValueError(f"{model_path}: unexpected landmark model outputs {shapes}")
        self._points, self._presence, self._handedness = (
            OutputReader(self._interpreter, d) for d in outs[:3]
        )
        self.runs = 0

    def run(self, image: np.ndarray, roi: Roi, full: np.ndarray | None = None) -> HandLandmarks:
        """Landmarks of the hand in `roi` of an RGB uint8 frame (cropped from `full`, the
        frame's full-resolution twin, when given; points in `image` pixels either way)."""
        self.runs += 1
        crop, m = crop_upright(image, roi, INPUT_SIZE, full)
        self._interpreter.set_tensor(self._in.index, self._in(crop))
        self._interpreter.invoke()
        raw = self._points()[0].reshape(NUM_LANDMARKS, 3)
        presence = float(self._presence()[0, 0])
        handedness = float(self._handedness()[0, 0])
        xy = raw[:, :2] @ m[:, :2].T + m[:, 2]
        z = raw[:, 2:3] * (roi.size / INPUT_SIZE)  # roi is in `image` pixels
        return HandLandmarks(np.concatenate([xy, z], axis=1), presence, handedness, roi)

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None
