"""From a body to its hands: each arm's hand region (hand_recrop refines it), raised or resting."""

# A hand talks to the vehicle only when it is raised (DESIGN.md, "Which hand drives"). The body
# says so better than the hand: a hand hanging at the side or resting on a knee has its wrist
# well below its elbow; a hand held up in front of the body - pointing up, sideways or down, an
# open palm, a fist - has its wrist at or above the elbow's height. `RAISED_SLACK` (a share of
# the upper arm's length) lets a forearm held level, or pointing down in front of the chest,
# still count.

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.body.pose import ELBOW, HIP, INDEX, NOSE, PINKY, SHOULDER, WRIST, Body
from edge.hands.geometry import Roi, angle_between, crop_upright, transform
from edge.hands.tensors import OutputReader, PixelInput, open_square

SIDES = ("left", "right")  # the person's own left and right
RAISED_SLACK = 0.25
# A hand before the chest (its wrist within the middle FRONT share of the shoulders' span:
# never where a hanging arm's hand is) may sit lower: pointing down is held there.
FRONT = 0.8
FRONT_SLACK = 0.25
MIN_WRIST_VISIBILITY = 0.5
RECROP_SIZE = 256
POSE_TO_RECROP_SCALE = 2.7  # hand_landmarks_from_pose_to_recrop_roi: RectTransformation


@dataclass(frozen=True)
class Arm:
    """One arm of a body: where its hand is and whether it is raised.

    `roi` is the hand's region from the body's wrist, index and pinky points (before recrop);
    `visible` whether the wrist is in view; `raised` as `is_raised`; `wrist` frame pixels.
    """

    side: str
    roi: Roi
    visible: bool
    raised: bool
    wrist: np.ndarray


def is_raised(body: Body, side: str, slack: float = RAISED_SLACK) -> bool:
    """Whether `side`'s hand is held up: wrist at most `slack` upper arms below the elbow and,
    when the hip is in view, above it (a hand on a table or a knee, forearm level)."""
    p = body.points
    wrist, elbow, shoulder, hip = p[WRIST[side]], p[ELBOW[side]], p[SHOULDER[side]], p[HIP[side]]
    upper = float(np.linalg.norm(elbow - shoulder))
    above_hip = wrist[1] < hip[1] or body.visibility[HIP[side]] < MIN_WRIST_VISIBILITY
    xs = sorted(float(p[SHOULDER[s]][0]) for s in SIDES)
    inner = (xs[1] - xs[0]) * (1 - FRONT) / 2
    in_front = xs[0] + inner <= wrist[0] <= xs[1] - inner  # before the chest, not at the side
    reach = slack + (FRONT_SLACK if in_front else 0.0)
    return bool(wrist[1] <= elbow[1] + reach * upper and above_hip)


def upright(body: Body) -> bool:
    """Whether the body stands or sits upright: shoulders above the hips, the nose above the
    shoulders. A hand filling the frame can make the body model draw a person upside down or
    lying; its arms then say nothing about raised or resting."""
    p = body.points
    shoulders = (p[SHOULDER["left"]][1] + p[SHOULDER["right"]][1]) / 2
    hips = (p[HIP["left"]][1] + p[HIP["right"]][1]) / 2
    return bool(p[NOSE][1] < shoulders < hips)


def shoulder_width(body: Body) -> float:
    """The distance between the shoulders in frame pixels."""
    return float(np.linalg.norm(body.points[SHOULDER["left"]] - body.points[SHOULDER["right"]]))


def hand_roi(body: Body, side: str) -> Roi:
    """The search region for `side`'s hand (HandDetectionsFromPoseToRects, then x2.7)."""
    p = body.points
    wrist, index, pinky = p[WRIST[side]], p[INDEX[side]], p[PINKY[side]]
    middle = (2 * index + pinky) / 3
    size = 2.0 * float(np.linalg.norm(middle - wrist))
    base = Roi(float(middle[0]), float(middle[1]), 0.0, angle_between(wrist, middle))
    return transform(base, POSE_TO_RECROP_SCALE, 0.0, size, size)


def arms(body: Body) -> list[Arm]:
    """Both arms of `body`, left then right."""
    return [
        Arm(
            side,
            hand_roi(body, side),
            bool(body.visibility[WRIST[side]] >= MIN_WRIST_VISIBILITY),
            is_raised(body, side),
            body.points[WRIST[side]].copy(),
        )
        for side in SIDES
    ]


class HandRecrop:
    """Runs hand_recrop.tflite: a rough hand region from the body -> a tight one for landmarks.

    Args:
        model_path: holistic_landmark/hand_recrop.tflite.
        num_threads: interpreter threads.
    """

    def __init__(self, model_path: str | Path, num_threads: int | None = None) -> None:
        self._interpreter, self.runtime, inp = open_square(
            model_path, num_threads, RECROP_SIZE, "hand recrop model"
        )
        self._in = PixelInput(inp)
        out = self._interpreter.get_output_details()
        if len(out) != 1 or int(np.prod(out[0]["shape"])) != 4:
            raise ValueError(f"{model_path}: unexpected hand recrop outputs")
        self._out = OutputReader(self._interpreter, out[0])
        self.runs = 0

    def refine(self, image: np.ndarray, roi: Roi, full: np.ndarray | None = None) -> Roi:
        """The hand's region inside `roi` (hand_recrop_by_roi: centre and scale points), cut
        from `full` when given (as LandmarkModel.run)."""
        self.runs += 1
        crop, m = crop_upright(image, roi, RECROP_SIZE, full)
        self._interpreter.set_tensor(self._in.index, self._in(crop))
        self._interpreter.invoke()
        pts = self._out().reshape(2, 2)  # crop pixels
        centre, scale = pts @ m[:, :2].T + m[:, 2]
        size = 2.0 * float(np.linalg.norm(scale - centre))
        # The scale point lies towards the wrist (target angle -90 degrees): up is the other way.
        base = Roi(float(centre[0]), float(centre[1]), 0.0, angle_between(scale, centre))
        return transform(base, 1.0, 0.1, size, size)

    def close(self) -> None:
        """Release the interpreter; safe to call twice."""
        self._interpreter = None
