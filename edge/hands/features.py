"""Landmarks -> classifier input, the same recipe on the device and in training.

Recipe `gesturepilot-landmarks/2`: (1) the 21 (x, y) points in image pixels, relative to the
wrist, flattened (x0, y0, x1, y1, ...) and divided by their largest absolute value (the layout of
the kinivi-keypoints CSV, `normalized`); (2) 12 hand-shape values that no turn, mirror or scale
changes (how far each finger reaches out, how far the thumb tip is from the index and pinky
knuckles, how far apart the index and middle tips are), in palm lengths / 3. The hand is NOT
turned upright, so a finger pointing left and one pointing down stay different. Left and right
hands are both handled by training on mirrored copies (x -> -x, `left` and `right` swapped).
"""

from __future__ import annotations

import numpy as np

FEATURES = "gesturepilot-landmarks/2"
NUM_POINT_VALUES = 42
TIPS, PIPS, MCPS = (4, 8, 12, 16, 20), (3, 6, 10, 14, 18), (2, 5, 9, 13, 17)
NUM_FEATURES = NUM_POINT_VALUES + 12
MIRROR_SWAP = {"left": "right", "right": "left"}


class FeatureError(ValueError):
    """A model asks for a feature recipe this code does not know."""


def features(points: np.ndarray) -> np.ndarray:
    """Feature vector (54,) float32 from landmarks (21, 2 or 3) in image pixels.

    Raises:
        ValueError: not 21 points, or all points coincide.
    """
    return expand(normalized(points)[None])[0]


def expand(norm: np.ndarray) -> np.ndarray:
    """(N, 42) normalised points -> (N, 54) features: the points plus the hand-shape values."""
    pts = np.asarray(norm, dtype=np.float64).reshape(len(norm), 21, 2)

    def dist(a: int | tuple[int, ...], b: int | tuple[int, ...]) -> np.ndarray:
        ia = [a] if isinstance(a, int) else list(a)
        ib = [b] if isinstance(b, int) else list(b)
        return np.linalg.norm(pts[:, ia] - pts[:, ib], axis=-1)  # (N, max(len a, len b))

    palm = np.maximum(dist(0, 9), 1e-6)
    reach = dist(0, TIPS) / np.maximum(dist(0, PIPS), 1e-6)  # > 1 when a finger is stretched
    spread = np.concatenate([dist(4, 5), dist(4, 17), dist(8, 12)], axis=1) / palm
    tip_palm = dist(9, TIPS[1:]) / palm
    shape = np.concatenate([reach, spread, tip_palm], axis=1) / 3.0
    return np.concatenate([pts.reshape(len(norm), -1), np.clip(shape, 0, 1.3)], 1).astype(
        np.float32
    )


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
    return (rel / scale).astype(np.float32)


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


def rotate(feats: np.ndarray, angle: float) -> np.ndarray:
    """Normalised points (42,) of the hand turned by `angle` radians counter-clockwise.

    Image y points down, so a visual counter-clockwise turn is x' = x cos + y sin,
    y' = -x sin + y cos. Re-normalised by the largest absolute value.
    """
    pts = np.asarray(feats, dtype=np.float64).reshape(*np.shape(feats)[:-1], 21, 2)
    c, s = np.cos(angle), np.sin(angle)
    x, y = pts[..., 0], pts[..., 1]
    out = np.stack([x * c + y * s, -x * s + y * c], axis=-1).reshape(*np.shape(feats))
    scale = np.abs(out).max(axis=-1, keepdims=True)
    return (out / np.maximum(scale, 1e-9)).astype(np.float32)


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
