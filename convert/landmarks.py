"""Landmark classifier data: images -> 21 landmarks (the device's own code) -> features, and CSVs.

Every image goes through `edge.hands.classifier.HandInBox`, what the device runs on a fixed box or
a `--crops` image, so the training features are the device's features. Rows of a kinivi-style
keypoint CSV (`label_id, x0, y0, ..., x20, y20`, relative to the wrist, scaled by the largest
absolute value) already are the normalised points (`edge.hands.features.normalized`).
`Landmarks.x` holds those 42 values (turned and mirrored for augmentation); the model's input
is `edge.hands.features.expand(x)`.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convert.data import DataError, Dataset
from edge.hands import default_landmark_model, default_palm_model
from edge.hands.classifier import HandInBox
from edge.hands.features import (
    MIRROR_SWAP,
    NUM_POINT_VALUES,
    direction_label,
    mirror,
    normalized,
    pointing_angle,
    rotate,
)
from edge.hands.landmark import LandmarkModel
from edge.hands.palm import PalmDetector

log = logging.getLogger(__name__)

KINIVI_MAP = {"Open": "stop", "Close": "fist", "Pointer": "pointing", "OK": "none"}
POINTING = ("up", "down", "left", "right")


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
    path: str | Path, names: list[str], label_map: dict[str, str] | None = None, group: str = ""
) -> Landmarks:
    """Rows `label_id, 42 values` -> features; `names[label_id]` mapped through `label_map`.

    A class mapped to `pointing` is labelled by the index finger's direction (up/down/left/right,
    DESIGN.md semantics) measured on the points themselves.

    Raises:
        DataError: unreadable file, wrong column count, or an unknown label id.
    """
    label_map = label_map if label_map is not None else {}
    xs, labels = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for n, row in enumerate(csv.reader(fh), 1):
                if not row:
                    continue
                if len(row) != 1 + NUM_POINT_VALUES:
                    raise DataError(
                        f"{path}:{n}: expected {1 + NUM_POINT_VALUES} values, got {len(row)}"
                    )
                idx = int(row[0])
                if not 0 <= idx < len(names):
                    raise DataError(f"{path}:{n}: label id {idx} not in {names}")
                pts = np.array([float(v) for v in row[1:]], np.float32).reshape(21, 2)
                label = label_map.get(names[idx], names[idx])
                if not label:
                    continue
                feat = normalized(pts)
                if label == "pointing":
                    label = direction_label(pointing_angle(feat))
                xs.append(feat)
                labels.append(label)
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: cannot read keypoint CSV ({exc})") from exc
    n = len(labels)
    return Landmarks(
        np.array(xs, np.float32).reshape(n, NUM_POINT_VALUES),
        np.array(labels, dtype=str),
        np.full(n, group or f"csv:{Path(path).name}"),
        np.ones(n, np.float32),
        f"keypoints {path}",
    )


def read_label_names(path: str | Path) -> list[str]:
    """One class name per line (kinivi's keypoint_classifier_label.csv)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    return [line.strip() for line in text.splitlines() if line.strip()]


def augment(
    data: Landmarks,
    copies: int = 3,
    jitter_deg: float = 25.0,
    shape_turn_deg: float = 180.0,
    noise: float = 0.015,
    seed: int = 0,
) -> Landmarks:
    """Training copies: mirrored hands (left/right swapped), turned and jittered.

    Pointing examples are turned by every quarter turn (plus jitter) and relabelled by their new
    direction, so `left`, `right` and `down` come from every `up`; other classes are turned by
    up to ±`jitter_deg`. Every copy gets Gaussian noise of `noise` (feature units).
    """
    rng = np.random.default_rng(seed)
    base = join([data, _mirrored(data)], data.source)
    xs, labels = [base.x], [base.labels]
    pointing = np.isin(base.labels, POINTING)
    for _ in range(copies):
        limit = np.where(pointing, jitter_deg, shape_turn_deg)
        jitter = np.radians(rng.uniform(-1, 1, len(base)) * limit)
        quarter = rng.integers(0, 4, len(base)) * (np.pi / 2) * pointing
        angles = jitter + quarter
        x = np.stack([rotate(f, a) for f, a in zip(base.x, angles, strict=True)])
        x = x + rng.normal(0, noise, x.shape).astype(np.float32)
        lab = base.labels.copy()
        for i in np.flatnonzero(pointing):
            lab[i] = direction_label(pointing_angle(x[i]))
        xs.append(x)
        labels.append(lab)
    n = len(xs)
    return Landmarks(
        np.concatenate(xs).astype(np.float32),
        np.concatenate(labels),
        np.tile(base.groups, n),
        np.tile(base.presence, n),
        data.source + " (augmented)",
    )


def _mirrored(data: Landmarks) -> Landmarks:
    labels = np.array([MIRROR_SWAP.get(x, x) for x in data.labels.tolist()], dtype=str)
    return Landmarks(mirror(data.x), labels, data.groups, data.presence, data.source)
