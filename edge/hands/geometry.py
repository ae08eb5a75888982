"""Rotated square hand regions: from a palm detection, from landmarks, and the crop warp."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Landmarks MediaPipe uses to place the next frame's region (HandLandmarksToRectCalculator):
# wrist, thumb CMC/MCP/IP, and the MCP + PIP joint of every finger.
ROI_POINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP = 0, 5, 9, 13


@dataclass(frozen=True)
class Roi:
    """A square region of a frame turned so that the hand in it stands upright.

    `cx, cy, size` are frame pixels; `angle` is the hand's rotation in radians, 0 = fingers up,
    positive = counter-clockwise in the image (the convention of `HandRegion.angle`).
    """

    cx: float
    cy: float
    size: float
    angle: float

    @property
    def up(self) -> np.ndarray:
        """Unit vector (image x, y) from the wrist towards the fingers."""
        return np.array([-math.sin(self.angle), -math.cos(self.angle)])

    @property
    def right(self) -> np.ndarray:
        """Unit vector (image x, y) of the upright crop's x axis."""
        return np.array([math.cos(self.angle), -math.sin(self.angle)])

    def corners(self) -> np.ndarray:
        """The four corners (4, 2) in frame pixels."""
        down, right = -self.up, self.right
        h = self.size / 2
        c = np.array([self.cx, self.cy])
        return np.stack([c + h * (sx * right + sy * down) for sx, sy in _CORNER_SIGNS])

    def box(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounding box (x0, y0, x1, y1) of the rotated square."""
        pts = self.corners()
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)


_CORNER_SIGNS = ((-1, -1), (1, -1), (1, 1), (-1, 1))


def angle_between(p_from: np.ndarray, p_to: np.ndarray) -> float:
    """The hand angle (0 = up, CCW positive) of the direction p_from -> p_to in image pixels."""
    dx, dy = float(p_to[0] - p_from[0]), float(p_to[1] - p_from[1])
    return math.atan2(-dx, -dy)


def transform(roi: Roi, scale: float, shift_up: float, width: float, height: float) -> Roi:
    """Enlarge a hand rectangle the way MediaPipe's RectTransformationCalculator does.

    The centre moves `shift_up * height` towards the fingers, the long side becomes the square's
    side, which is then scaled.
    """
    c = np.array([roi.cx, roi.cy]) + shift_up * height * roi.up
    return Roi(float(c[0]), float(c[1]), max(width, height) * scale, roi.angle)


def roi_from_palm(box: np.ndarray, keypoints: np.ndarray) -> Roi:
    """Hand region from a palm box (x0, y0, x1, y1 px) and its 7 keypoints (7, 2 px).

    Rotation from keypoint 0 (wrist) to keypoint 2 (middle finger MCP); scale 2.6, shift 0.5 of
    the box height towards the fingers (palm_detection_detection_to_roi.pbtxt).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    angle = angle_between(keypoints[0], keypoints[2])
    base = Roi((x0 + x1) / 2, (y0 + y1) / 2, 0.0, angle)
    return transform(base, scale=2.6, shift_up=0.5, width=x1 - x0, height=y1 - y0)


def roi_from_landmarks(points: np.ndarray) -> Roi:
    """Next frame's hand region from 21 landmarks (frame px), as HandLandmarkLandmarksToRoi.

    Rotation from the wrist towards the mean of the middle MCP and the index/ring MCP midpoint;
    the extent of the ROI points in that rotated frame, scaled 2.0 and shifted 0.1 up.
    """
    xy = points[:, :2]
    top = ((xy[INDEX_MCP] + xy[RING_MCP]) / 2 + xy[MIDDLE_MCP]) / 2
    angle = angle_between(xy[WRIST], top)
    sub = xy[list(ROI_POINTS)]
    centre = (sub.min(axis=0) + sub.max(axis=0)) / 2
    probe = Roi(0.0, 0.0, 0.0, angle)
    right, down = probe.right, -probe.up
    rel = sub - centre
    u, v = rel @ right, rel @ down
    mid = centre + (u.max() + u.min()) / 2 * right + (v.max() + v.min()) / 2 * down
    base = Roi(float(mid[0]), float(mid[1]), 0.0, angle)
    width, height = float(u.max() - u.min()), float(v.max() - v.min())
    return transform(base, scale=2.0, shift_up=0.1, width=width, height=height)


def crop_matrix(roi: Roi, out_size: int) -> np.ndarray:
    """2x3 affine matrix mapping upright-crop pixels (out_size²) to frame pixels."""
    s = roi.size / out_size
    right, down = roi.right * s, -roi.up * s
    origin = np.array([roi.cx, roi.cy]) - (right + down) * out_size / 2
    return np.array(
        [[right[0], down[0], origin[0]], [right[1], down[1], origin[1]]], dtype=np.float64
    )


def crop_upright(
    image: np.ndarray, roi: Roi, out_size: int, full: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the rotated square out of `image` so the hand stands upright (zero border).

    With `full` (the same scene at a higher resolution: picamera2's `main` beside `lores`) the
    pixels come from it, so a far hand gets the detail the small stream lost; `roi` and the
    returned matrix stay in `image`'s pixels.

    Returns:
        (out_size×out_size crop, 2x3 matrix mapping crop pixels to `image` pixels).
    """
    scale = 1.0 if full is None else full.shape[1] / image.shape[1]
    source = image if full is None else full
    m = crop_matrix(Roi(roi.cx * scale, roi.cy * scale, roi.size * scale, roi.angle), out_size)
    crop = cv2.warpAffine(
        source,
        m,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    return crop, m / scale


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float, float, float]:
    """Fit `image` into size×size keeping its aspect ratio, centred, zero padding.

    Returns:
        (letterboxed image, scale, pad_x, pad_y): frame px = (input px - pad) / scale.
    """
    h, w = image.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.zeros((size, size, 3), dtype=image.dtype)
    px, py = (size - nw) // 2, (size - nh) // 2
    out[py : py + nh, px : px + nw] = resized
    return out, scale, float(px), float(py)
