"""Landmarks -> classifier input, the same recipe on the device and in training."""

# Recipe `gesturepilot-landmarks/3`, from the 21 (x, y) points (image pixels, or the kinivi layout:
# relative to the wrist, divided by the largest absolute value): values that say WHICH fingers
# are stretched and where they point, not how far apart the fingers are, so a palm with the
# fingers held together reads like one with them spread.
#
# - bend at every finger joint (cosine of the angle between consecutive bones, 15 values);
# - each fingertip's reach: distance to the wrist over its PIP joint's (> 1 when stretched) and
#   over the palm length (10 values);
# - thumb state and pinches: thumb tip to index and pinky knuckles, to the index and middle tips;
#   neighbouring fingertips (7 values, palm lengths);
# - direction: the palm's axis (wrist -> middle knuckle) and every finger (knuckle -> tip) as unit
#   vectors in the image (12 values), so up, down, left and right stay different;
# - the hand's shape in its own frame: the points turned so the palm's axis points up, in palm
#   lengths (40 values, clipped), which no turn of the hand changes.
#
# Every value is bounded to about [-1, 1]. Left and right hands are both handled by training on
# mirrored copies (x -> -x, `left` and `right` swapped).

from __future__ import annotations

import numpy as np

from edge.model.artifact import ModelError

FEATURES = "gesturepilot-landmarks/3"
NUM_POINT_VALUES = 42
TIPS, PIPS, MCPS = (4, 8, 12, 16, 20), (3, 6, 10, 14, 18), (2, 5, 9, 13, 17)
CHAINS = tuple((0, b, b + 1, b + 2, b + 3) for b in (1, 5, 9, 13, 17))  # wrist -> each tip
PAIRS = ((4, 5), (4, 17), (4, 8), (4, 12), (8, 12), (12, 16), (16, 20))
NUM_FEATURES = 15 + 10 + len(PAIRS) + 12 + 40
SHAPE = slice(
    0, 15 + 10 + len(PAIRS)
)  # bends, reach, pinches: no turn, mirror or scale changes them
DIRECTION = slice(SHAPE.stop, SHAPE.stop + 12)  # palm and finger directions in the image
OWN_FRAME = slice(DIRECTION.stop, NUM_FEATURES)  # the points in the hand's upright frame
MIRROR_SWAP = {"left": "right", "right": "left"}


class FeatureError(ModelError):
    """A model asks for a feature recipe this code does not know (a bad model: exit 65)."""


def features(points: np.ndarray) -> np.ndarray:
    """Feature vector (NUM_FEATURES,) float32 from landmarks (21, 2 or 3) in image pixels.

    Raises:
        ValueError: not 21 points, or all points coincide.
    """
    return np.asarray(expand(normalized(points)[None])[0])


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6))


def expand(norm: np.ndarray) -> np.ndarray:
    """(N, 42) normalised points -> (N, NUM_FEATURES) classifier input (see the module doc)."""
    pts = np.asarray(norm, dtype=np.float64).reshape(len(norm), 21, 2)
    chains = pts[:, np.array(CHAINS)]  # (N, 5 fingers, 5 points, 2)
    bones = _unit(np.diff(chains, axis=2))  # (N, 5, 4, 2)
    bend = np.sum(bones[:, :, 1:] * bones[:, :, :-1], axis=-1).reshape(len(pts), 15)
    palm = np.maximum(np.linalg.norm(pts[:, 9] - pts[:, 0], axis=-1), 1e-6)[:, None]
    tip_d = np.linalg.norm(pts[:, TIPS] - pts[:, :1], axis=-1)
    pip_d = np.maximum(np.linalg.norm(pts[:, PIPS] - pts[:, :1], axis=-1), 1e-6)
    reach = np.concatenate([tip_d / pip_d / 2.0, tip_d / palm / 2.5], axis=1)
    a, b = np.array(PAIRS).T
    pinch = np.linalg.norm(pts[:, a] - pts[:, b], axis=-1) / palm / 2.0
    axis = _unit(pts[:, 9] - pts[:, 0])  # (N, 2) palm axis, wrist -> middle knuckle
    fingers = _unit(pts[:, TIPS] - pts[:, MCPS]).reshape(len(pts), 10)
    # the hand in its own frame: the palm axis turned to point up (-y), in palm lengths
    ux, uy = axis[:, :1], axis[:, 1:]
    rel = (pts[:, 1:] - pts[:, :1]) / palm[:, :, None]
    own_x = rel[..., 0] * (-uy) + rel[..., 1] * ux
    own_y = -(rel[..., 0] * ux + rel[..., 1] * uy)
    own = np.stack([own_x, own_y], axis=-1).reshape(len(pts), 40) / 2.5
    out = np.concatenate(
        [
            bend,
            np.clip(reach, 0, 1.5),
            np.clip(pinch, 0, 1.5),
            axis,
            fingers,
            np.clip(own, -1.5, 1.5),
        ],
        axis=1,
    )
    return out.astype(np.float32)


def normalized(points: np.ndarray) -> np.ndarray:
    """The 42 point values (21, 2 or 3 landmarks in image pixels -> wrist-relative, max-abs 1).

    Raises:
        ValueError: not 21 points, or all points coincide.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] != 21 or pts.shape[1] < 2:
        raise ValueError(f"expected (21, 2+) landmarks, got {pts.shape}")
    rel = (pts[:, :2] - pts[0, :2]).ravel()
    scale = np.abs(rel).max()
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError("degenerate landmarks (all points at the wrist)")
    return np.asarray(rel / scale, dtype=np.float32)


def check_recipe(name: str | None) -> None:
    """Refuse a model whose `input.features` is not this recipe.

    Raises:
        FeatureError: naming what the model wants and what is supported.
    """
    if name != FEATURES:
        raise FeatureError(f"landmark model wants features {name!r}; this code makes {FEATURES!r}")


def mirror(feats: np.ndarray) -> np.ndarray:
    """The mirror-image hand (x -> -x) of normalised points, (42,) or (N, 42)."""
    out = np.array(feats, dtype=np.float32, copy=True)
    out[..., 0::2] *= -1
    return out


def rotate(feats: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Normalised points (42,) or (N, 42) turned by `angle` radians counter-clockwise (a scalar
    or one angle per row).

    Image y points down, so a visual counter-clockwise turn is x' = x cos + y sin,
    y' = -x sin + y cos. Re-normalised by the largest absolute value.
    """
    pts = np.asarray(feats, dtype=np.float64).reshape(*np.shape(feats)[:-1], 21, 2)
    turn = np.asarray(angle, dtype=np.float64)[..., None]
    c, s = np.cos(turn), np.sin(turn)
    x, y = pts[..., 0], pts[..., 1]
    out = np.stack([x * c + y * s, -x * s + y * c], axis=-1).reshape(*np.shape(feats))
    scale = np.abs(out).max(axis=-1, keepdims=True)
    return np.asarray(out / np.maximum(scale, 1e-9), dtype=np.float32)


def pointing_angle(feats: np.ndarray) -> float:
    """Direction of the index finger (MCP 5 -> tip 8) of normalised points, 0 = up, CCW +."""
    pts = np.asarray(feats).reshape(21, 2)
    dx, dy = pts[8] - pts[5]
    return float(np.arctan2(-dx, -dy))


def direction_label(angle: float) -> str:
    """`up`/`left`/`right`/`down` for a pointing angle (DESIGN.md: `left` = image right).

    A finger turned counter-clockwise from up points to the IMAGE LEFT, which is the person's
    right (camera facing them), so +90° is `right` and -90° is `left`.
    """
    quarter = int(np.round(angle / (np.pi / 2))) % 4
    return ("up", "right", "down", "left")[quarter]
