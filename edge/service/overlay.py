"""What the daemon saw, drawn on the frame: body, hands, which hand drives, gesture, command."""

from __future__ import annotations

import cv2
import numpy as np

from edge.types import FrameResult, HandRegion

# MediaPipe's 21-point hand skeleton: wrist, then 4 joints per finger from thumb to pinky.
HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
    (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19),
    (19, 20),
)  # fmt: skip
# BlazePose's upper body: shoulders, arms to the wrists, the hips.
BODY_EDGES = ((11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24))
DRIVES, RAISED, BODY = (0, 220, 0), (0, 165, 255), (200, 200, 200)  # BGR


def _hand(image: np.ndarray, region: HandRegion, colour: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = (round(v) for v in region.box)
    cv2.rectangle(image, (x0, y0), (x1, y1), colour, 2)
    if region.side is not None:
        cv2.putText(image, region.side, (x0, max(y0 - 4, 10)), 0, 0.45, colour, 1, cv2.LINE_AA)
    if region.landmarks is not None:
        points = [(round(x), round(y)) for x, y in np.asarray(region.landmarks)[:, :2]]
        for a, b in HAND_EDGES:
            cv2.line(image, points[a], points[b], (255, 200, 0), 1, cv2.LINE_AA)
        for point in points:
            cv2.circle(image, point, 3, (0, 0, 255), -1, cv2.LINE_AA)


def _body(image: np.ndarray, points: np.ndarray) -> None:
    pts = [(round(x), round(y)) for x, y in np.asarray(points)[:, :2]]
    for a, b in BODY_EDGES:
        cv2.line(image, pts[a], pts[b], BODY, 2, cv2.LINE_AA)


def draw_overlay(result: FrameResult) -> np.ndarray:
    """Draw the body, every raised hand (green: the one that drives), and the loop's decision
    on a copy of the frame.

    Args:
        result: the loop's record of one frame (RGB image).

    Returns:
        A BGR uint8 image ready for `cv2.imencode`.
    """
    image = cv2.cvtColor(result.frame.image, cv2.COLOR_RGB2BGR)
    regions = result.regions or ((result.region,) if result.region is not None else ())
    bodies = {id(r.body): r.body for r in regions if r.body is not None}
    for points in bodies.values():
        _body(image, points)
    for region in regions:
        _hand(image, region, DRIVES if region is result.region else RAISED)
    lines = [f"{result.state}  {result.fps:.1f} fps"]
    if result.prediction is not None:
        lines.append(f"sees {result.prediction.label} {result.prediction.score:.2f}")
    if len(regions) > 1:
        who = "conflict: stop" if result.region is None else "green drives"
        lines.append(f"{len(regions)} hands up, {who}")
    if result.gesture is not None:
        lines.append(f"gesture {result.gesture} {result.confidence:.2f}")
    if result.command is not None:
        lines.append(f"command {result.command.command}")
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.55
    width = max(cv2.getTextSize(text, font, scale, 1)[0][0] for text in lines)
    cv2.rectangle(image, (0, 0), (width + 14, 10 + 20 * len(lines)), (0, 0, 0), -1)
    for i, text in enumerate(lines):
        cv2.putText(image, text, (7, 22 + 20 * i), font, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return image
