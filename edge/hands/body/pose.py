"""MediaPipe's BlazePose: the person detector and the 33-point body landmark model, in numpy."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.geometry import Roi, angle_between, crop_upright, letterbox
from edge.hands.palm import decode, sigmoid, ssd_anchors
from edge.hands.tensors import PixelInput, open_square, outputs_by_shape

log = logging.getLogger(__name__)

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
# pose_detection_cpu.pbtxt: SsdAnchorsCalculator (5 layers) and 4 keypoints per detection:
# mid-hip, a point that scales the full body, mid-shoulder, one that scales the upper body.
STRIDES = (8, 16, 32, 32, 32)
NUM_KEYPOINTS = 4
ROI_SCALE = 1.25  # pose_detection_to_roi / pose_landmarks_to_roi: RectTransformation scale
NUM_POINTS = 33  # body landmarks; the model emits 39 (33 + 2 alignment points + 4 unused)

# BlazePose topology (the image's left/right are the person's right/left in an unmirrored view).
NOSE = 0
SHOULDER = {"left": 11, "right": 12}
ELBOW = {"left": 13, "right": 14}
WRIST = {"left": 15, "right": 16}
PINKY = {"left": 17, "right": 18}
INDEX = {"left": 19, "right": 20}
HIP = {"left": 23, "right": 24}

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Body:
    """One person's body landmarks in frame pixels.

    `points` (33, 2) frame pixels; `visibility` (33,) probability that each point is in view and
    not occluded; `score` the model's person-presence probability; `roi` where it looked.
    """

    points: np.ndarray
    visibility: np.ndarray
    score: float
    roi: Roi
    next_roi: Roi


def views(width: int, height: int) -> list[Box]:
    """Where the person detector looks, one per try: the whole frame, then its half-size parts
    (the centre first, then the eight around it, half overlapping), which see a far person
    twice as large."""
    w, h = width // 2, height // 2
    parts = [(x, y) for y in (0, h // 2, h) for x in (0, w // 2, w)]
    parts.sort(key=lambda p: p != (w // 2, h // 2))
    return [(0, 0, width, height), *((x, y, x + w, y + h) for x, y in parts)]


def body_roi(centre: np.ndarray, scale_point: np.ndarray) -> Roi:
    """The person's square region from the mid-hip and the full-body scale point (both px)."""
    size = 2.0 * float(np.linalg.norm(scale_point - centre)) * ROI_SCALE
    return Roi(float(centre[0]), float(centre[1]), size, angle_between(centre, scale_point))


class PoseDetector:
    """Runs pose_detection.tflite on a whole frame: each person's region, best first.

    Args:
        model_path: the pose detector.
        num_threads: interpreter threads.
        min_score: detections below this (after sigmoid) are dropped.
    """

    def __init__(
        self, model_path: str | Path, num_threads: int | None = None, min_score: float = 0.5
    ) -> None:
        self._interpreter, self.runtime, inp = open_square(
            model_path, num_threads, DETECTOR_SIZE, "pose detector"
        )
        if np.dtype(inp["dtype"]) != np.float32:
            raise ValueError(f"{model_path}: the pose detector must take float32 input")
        self._index = int(inp["index"])
        outs = outputs_by_shape(self._interpreter)
        try:
            self._regressors, self._classifiers = outs[(2254, 12)], outs[(2254, 1)]
        except KeyError as exc:
            msg = f"{model_path}: unexpected pose detector outputs {list(outs)}"
            raise ValueError(msg) from exc
        self.anchors = ssd_anchors(DETECTOR_SIZE, STRIDES)
        self.min_score = min_score
        self.runs = 0

    def detect(self, image: np.ndarray, view: Box | None = None) -> list[Roi]:
        """Each person's body region in an RGB uint8 frame, best first (frame pixels).

        `view` (x0, y0, x1, y1 px) looks only there, at that part's own scale: a person far
        away, a few dozen pixels tall in the whole frame, is found in a zoomed part of it.
        """
        self.runs += 1
        x0, y0 = (0, 0) if view is None else view[:2]
        part = image if view is None else image[view[1] : view[3], view[0] : view[2]]
        boxed, scale, pad_x, pad_y = letterbox(part, DETECTOR_SIZE)
        # pose_detection_cpu.pbtxt feeds pixels mapped to [-1, 1].
        x = boxed[None].astype(np.float32) * np.float32(1 / 127.5) - np.float32(1.0)
        self._interpreter.set_tensor(self._index, x)
        self._interpreter.invoke()
        found = []
        for _box, kp, _score in decode(
            self._regressors()[0],
            self._classifiers()[0, :, 0],
            self.anchors,
            DETECTOR_SIZE,
            self.min_score,
        ):
            kp_px = (kp * DETECTOR_SIZE - [pad_x, pad_y]) / scale + [x0, y0]
            found.append(body_roi(kp_px[0], kp_px[1]))
        return found

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None


class PoseLandmarkModel:
    """Runs pose_landmark_full.tflite on a person's region: 33 body points and the next region.

    Args:
        model_path: the pose landmark model.
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: str | Path, num_threads: int | None = None) -> None:
        self._interpreter, self.runtime, inp = open_square(
            model_path, num_threads, LANDMARK_SIZE, "pose landmark model"
        )
        self._in = PixelInput(inp)
        outs = outputs_by_shape(self._interpreter)
        try:
            self._points, self._flag = outs[(195,)], outs[(1,)]
        except KeyError as exc:
            msg = f"{model_path}: unexpected pose landmark outputs {list(outs)}"
            raise ValueError(msg) from exc
        self.runs = 0

    def run(self, image: np.ndarray, roi: Roi, full: np.ndarray | None = None) -> Body:
        """The body in `roi` of an RGB uint8 frame (cut from `full` when given)."""
        self.runs += 1
        crop, m = crop_upright(image, roi, LANDMARK_SIZE, full)
        self._interpreter.set_tensor(self._in.index, self._in(crop))
        self._interpreter.invoke()
        raw = self._points()[0].reshape(39, 5)
        xy = raw[:, :2] @ m[:, :2].T + m[:, 2]
        visibility = sigmoid(raw[:NUM_POINTS, 3])
        score = float(self._flag()[0, 0])
        return Body(xy[:NUM_POINTS], visibility, score, roi, body_roi(xy[33], xy[34]))

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None
