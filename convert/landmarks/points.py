"""Landmark data: images -> 21 landmarks (the device's own code) -> features, and CSVs."""

# Every image goes through `edge.hands.classifier.HandInBox`, what the device runs on a fixed box or
# a `--crops` image, so the training features are the device's features. Rows of a kinivi-style
# keypoint CSV (`label_id, x0, y0, ..., x20, y20`, relative to the wrist, scaled by the largest
# absolute value) already are the normalised points (`edge.hands.features.normalized`).
# `Landmarks.x` holds those 42 values (turned and mirrored for augmentation); the model's input
# is `edge.hands.features.expand(x)`.

from __future__ import annotations

import itertools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert.data import DataError, Dataset
from edge.hands import default_landmark_model, default_palm_model
from edge.hands.classifier import HandInBox
from edge.hands.decide import MOTION, index_reach
from edge.hands.features import (
    MIRROR_SWAP,
    NUM_POINT_VALUES,
    direction_label,
    mirror,
    normalized,
    pointing_angle,
    rotate,
)
from edge.hands.keypoints import KeypointError, read_keypoints
from edge.hands.landmark import LandmarkModel
from edge.hands.palm import PalmDetector

log = logging.getLogger(__name__)

KINIVI_MAP = {"Open": "stop", "Close": "fist", "Pointer": "pointing", "OK": "none"}
POINTING = MOTION  # the pointing gestures are the motions


@dataclass
class Landmarks:
    """Feature vectors with labels and groups; `presence` is the landmark model's (1 for CSVs)."""

    x: np.ndarray  # (N, 42) float32 normalised points
    labels: np.ndarray  # (N,) str
    groups: np.ndarray  # (N,) str
    presence: np.ndarray  # (N,) float32
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> Landmarks:
        return Landmarks(
            self.x[mask], self.labels[mask], self.groups[mask], self.presence[mask], self.source
        )

    def counts(self) -> dict[str, int]:
        names, n = np.unique(self.labels, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}


def join(parts: list[Landmarks], source: str | None = None) -> Landmarks:
    """Concatenate landmark sets."""
    return Landmarks(
        np.concatenate([p.x for p in parts]).astype(np.float32),
        np.concatenate([p.labels for p in parts]),
        np.concatenate([p.groups for p in parts]),
        np.concatenate([p.presence for p in parts]).astype(np.float32),
        source or " + ".join(p.source for p in parts),
    )


def open_finder(
    palm_model: str | None = None,
    landmark_model: str | None = None,
    min_presence: float = 0.5,
    num_threads: int | None = 2,
) -> HandInBox:
    """The device's in-box hand finder with the MediaPipe models (defaults: models/mediapipe)."""
    palm = PalmDetector(palm_model or default_palm_model(), num_threads)
    marks = LandmarkModel(landmark_model or default_landmark_model(), num_threads)
    return HandInBox(palm, marks, min_presence)


def extract(data: Dataset, finder: HandInBox) -> Landmarks:
    """Landmark features of every image of `data` (each image is one hand crop or background).

    Images where the landmark model finds no usable hand keep a zero vector and their presence,
    so an evaluation can count them as `none` (what the device answers).
    """
    x = np.zeros((len(data), NUM_POINT_VALUES), np.float32)
    presence = np.zeros(len(data), np.float32)
    for i, img in enumerate(data.images):
        h, w = img.shape[:2]
        hand = finder.find(np.ascontiguousarray(img), (0.0, 0.0, float(w), float(h)))
        try:
            x[i] = normalized(hand.points)
            presence[i] = hand.presence
        except ValueError:
            presence[i] = 0.0
        if (i + 1) % 500 == 0:
            log.info("landmarks: %d / %d images", i + 1, len(data))
    return Landmarks(x, data.labels.copy(), data.groups.copy(), presence, data.source)


def load_keypoint_csv(
    path: str | Path,
    names: list[str] | None,
    label_map: dict[str, str] | None = None,
    group: str = "",
) -> Landmarks:
    """Rows of a keypoint CSV (`edge.hands.keypoints`) -> Landmarks; labels mapped through
    `label_map` (an empty target drops the class). A class mapped to `pointing` is labelled by
    the index finger's direction (up/down/left/right, DESIGN.md semantics).

    Raises:
        DataError: the CSV cannot be read (names the file and line).
    """
    label_map = label_map if label_map is not None else {}
    try:
        rows = read_keypoints(path, names, group)
    except KeypointError as exc:
        raise DataError(str(exc)) from exc
    labels = np.array([label_map.get(x, x) for x in rows.labels.tolist()], dtype=str)
    keep = labels != ""
    x, labels = rows.x[keep], relabel_pointing(rows.x[keep], labels[keep])
    n = len(labels)
    return Landmarks(x, labels, rows.groups[keep], np.ones(n, np.float32), f"keypoints {path}")


def clean_pointing(data: Landmarks, min_reach: float = 1.1) -> Landmarks:
    """Training rows without pointing rows whose index finger is not stretched.

    A `down` made by turning an `up` photo whose landmarks failed, or a kinivi `Pointer` with a
    curled index, looks like a fist: kept, it would teach the model that fists can point.
    """
    pointing = np.isin(data.labels, POINTING)
    return data.subset(~pointing | (index_reach(data.x) >= min_reach))


def relabel_pointing(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Labels with `pointing` replaced by the index finger's direction (DESIGN.md semantics)."""
    out = labels.astype(object).copy()
    for i in np.flatnonzero(labels == "pointing"):
        out[i] = direction_label(pointing_angle(x[i]))
    return out.astype(str)


def augment(
    data: Landmarks,
    copies: int = 3,
    jitter_deg: float = 25.0,
    shape_turn_deg: float = 180.0,
    noise: float = 0.015,
    seed: int = 0,
    classes: Collection[str] | None = None,
) -> Landmarks:
    """Training copies that span how real hands vary: the other hand, turns, fingers held
    together or spread, the hand tilted out of the image plane, and per-point jitter.

    Given `classes`, only rows labelled one of them are kept and the quarter turns happen only
    when every direction is among them: an `up` never becomes a `left` nobody asked for.

    Every row is also mirrored (x -> -x, `left`/`right` swapped: the other hand). Each copy then:
    squeezes or spreads the index, ring and little fingers about their knuckles (towards or away
    from the middle finger, -50 % .. +100 % of their angle to it); foreshortens the hand along a
    random axis to 30-100 % (tilted away from the camera, up to side-on); turns it (pointing
    rows by a random quarter turn ± `jitter_deg`, other shapes by up to ± `shape_turn_deg`) and
    adds Gaussian noise of `noise`. Pointing rows are relabelled by their new direction, and
    dropped when it is within 8° of a diagonal or the tilt hid the stretched index (no honest
    label).
    """
    rng = np.random.default_rng(seed)
    base = join([data, _mirrored(data)], data.source)
    xs, labels, keep_all = [base.x], [base.labels], [np.ones(len(base), bool)]
    pointing = np.isin(base.labels, POINTING)
    turns = classes is None or set(POINTING) <= set(classes)
    n = len(base)
    for _ in range(copies):
        pts = base.x.reshape(n, 21, 2).astype(np.float64)
        pts = _squeeze_fingers(pts, rng.uniform(-0.5, 1.0, n))
        pts = _foreshorten(pts, rng.uniform(0, np.pi, n), rng.uniform(0.3, 1.0, n))
        limit = np.where(pointing, jitter_deg, shape_turn_deg)
        angles = np.radians(rng.uniform(-1, 1, n) * limit)
        angles = angles + rng.integers(0, 4, n) * (np.pi / 2) * pointing * turns
        x = rotate(pts.reshape(n, NUM_POINT_VALUES).astype(np.float32), angles)
        x = x + rng.normal(0, noise, x.shape).astype(np.float32)
        lab = base.labels.copy()
        keep = np.ones(n, bool)
        for i in np.flatnonzero(pointing):
            angle = pointing_angle(x[i])
            lab[i] = direction_label(angle)
            off = abs((np.degrees(angle) % 90.0) - 45.0)
            keep[i] = off >= 8.0
        keep &= ~pointing | (index_reach(x) >= 1.1)
        xs.append(x)
        labels.append(lab)
        keep_all.append(keep)
    keep = np.concatenate(keep_all)
    if classes is not None:
        keep &= np.isin(np.concatenate(labels), list(classes))
    return Landmarks(
        np.concatenate(xs).astype(np.float32)[keep],
        np.concatenate(labels)[keep],
        np.tile(base.groups, len(xs))[keep],
        np.tile(base.presence, len(xs))[keep],
        data.source + " (augmented)",
    )


def finger_reach(x: np.ndarray) -> np.ndarray:
    """(N, 4): how far each finger's tip (index .. little) reaches from the wrist over its PIP."""
    pts = np.asarray(x, np.float64).reshape(-1, 21, 2)
    tips, pips = pts[:, [8, 12, 16, 20]], pts[:, [6, 10, 14, 18]]
    return np.linalg.norm(tips - pts[:, :1], axis=-1) / np.maximum(
        np.linalg.norm(pips - pts[:, :1], axis=-1), 1e-9
    )


def hard_views(data: Landmarks) -> Landmarks:
    """The safe hands drawn the way that fools classifiers, labels kept: every open palm with
    the fingers held together (also tilted to 60 %, as the other hand, turned 23°), and every
    fist seen side-on (flattened to 35 % and 60 % across and along the image, upright and turned
    a quarter). Rows are taken where plain finger geometry agrees with the label (a palm: every
    fingertip farther from the wrist than its PIP joint; a fist: every one nearer). Nothing here
    may ever come out as a motion."""
    parts = []
    reach = finger_reach(data.x)
    stop = data.subset((data.labels == "stop") & (reach > 1.0).all(axis=1))
    if len(stop):
        n = len(stop)
        pts = _squeeze_fingers(stop.x.reshape(n, 21, 2).astype(np.float64), np.ones(n))
        tilted = _foreshorten(pts, np.zeros(n), np.full(n, 0.6))
        flat = [v.reshape(n, NUM_POINT_VALUES).astype(np.float32) for v in (pts, tilted)]
        views = [*flat, mirror(flat[0]), rotate(flat[0], 0.4)]
        parts += [Landmarks(v, stop.labels, stop.groups, stop.presence, "") for v in views]
    fist = data.subset((data.labels == "fist") & (reach < 1.0).all(axis=1))
    if len(fist):
        n = len(fist)
        pts = fist.x.reshape(n, 21, 2).astype(np.float64)
        for axis, factor in itertools.product((0.0, np.pi / 2), (0.35, 0.6)):
            v = _foreshorten(pts, np.full(n, axis), np.full(n, factor))
            v = v.reshape(n, NUM_POINT_VALUES).astype(np.float32)
            for view in (v, rotate(v, np.pi / 2)):
                parts.append(Landmarks(view, fist.labels, fist.groups, fist.presence, ""))
    if not parts:
        return data.subset(np.zeros(len(data), bool))
    return join(parts, data.source + " (hard views)")


def pointing_views(data: Landmarks) -> Landmarks:
    """Every pointing row turned by each quarter turn and relabelled by its new direction (so a
    few real `up` rows also measure `left`, `right` and `down`); the rows themselves excluded."""
    pointing = data.subset(np.isin(data.labels, POINTING))
    parts = []
    for quarter in (1, 2, 3):
        x = rotate(pointing.x, quarter * np.pi / 2)
        labels = np.array([direction_label(pointing_angle(v)) for v in x], dtype=str)
        parts.append(Landmarks(x, labels, pointing.groups, pointing.presence, ""))
    return join(parts, data.source + " (turned pointing)") if len(pointing) else pointing


FINGER_BASES = {5: 1.0, 13: 1.0, 17: 2.0}  # index, ring, little: knuckle -> how far from middle


def _squeeze_fingers(pts: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Turn index, ring and little fingers about their knuckles towards (amount > 0) or away
    from (< 0) the middle finger's direction, by `amount` times their angle to it."""
    out = pts.copy()
    mid = pts[:, 12] - pts[:, 9]
    mid_angle = np.arctan2(mid[:, 1], mid[:, 0])
    for mcp in FINGER_BASES:
        seg = pts[:, mcp + 1 : mcp + 4] - pts[:, mcp : mcp + 1]
        d = pts[:, mcp + 3] - pts[:, mcp]
        diff = np.angle(np.exp(1j * (mid_angle - np.arctan2(d[:, 1], d[:, 0]))))
        turn = (amount * diff)[:, None]
        c, s = np.cos(turn), np.sin(turn)
        x, y = seg[..., 0], seg[..., 1]
        out[:, mcp + 1 : mcp + 4, 0] = pts[:, mcp : mcp + 1, 0] + x * c - y * s
        out[:, mcp + 1 : mcp + 4, 1] = pts[:, mcp : mcp + 1, 1] + x * s + y * c
    return out


def _foreshorten(pts: np.ndarray, axis: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Scale the points (about the wrist) by `factor` along the direction `axis` (radians)."""
    u = np.stack([np.cos(axis), np.sin(axis)], axis=-1)[:, None, :]  # (N, 1, 2)
    rel = pts - pts[:, :1]
    along = np.sum(rel * u, axis=-1, keepdims=True)
    return pts[:, :1] + rel + (factor[:, None, None] - 1.0) * along * u


def _mirrored(data: Landmarks) -> Landmarks:
    labels = np.array([MIRROR_SWAP.get(x, x) for x in data.labels.tolist()], dtype=str)
    return Landmarks(mirror(data.x), labels, data.groups, data.presence, data.source)
