"""Box-CSV datasets: square hand crops (as the device cuts them) plus background crops."""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from convert.data import DataError, Dataset, check, pattern_group, resize_square
from edge.model.crops import crop, read_rgb, square_box

log = logging.getLogger(__name__)

COLUMNS = ("filename", "label", "xmin", "ymin", "xmax", "ymax")
Box = tuple[float, float, float, float]


def _read_rows(csv_path: Path) -> list[dict[str, str]]:
    try:
        with open(csv_path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{csv_path}: cannot read box CSV ({exc})") from exc
    if not rows:
        raise DataError(f"{csv_path}: no rows")
    missing = [c for c in COLUMNS if c not in rows[0]]
    if missing:
        raise DataError(f"{csv_path}: missing columns {', '.join(missing)}")
    return rows


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def background_boxes(
    shape: tuple[int, ...], hands: list[Box], side: float, rng: np.random.Generator, tries: int = 20
) -> Box | None:
    """A random square of `side` px inside the frame that overlaps none of `hands`, or None."""
    h, w = shape[:2]
    side = min(side, w, h)
    for _ in range(tries):
        x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
        box = (x0, y0, x0 + side, y0 + side)
        if not any(_overlaps(box, hb) for hb in hands):
            return box
    return None


def load_boxes(
    csv_path: str | Path,
    images_dir: str | Path,
    size: int,
    margin: float,
    label_map: dict[str, str] | None = None,
    background: str | None = "none",
    background_per_frame: float = 0.5,
    group_pattern: str | None = None,
    seed: int = 0,
) -> Dataset:
    """Square crops around each box of a CSV (`filename,label,xmin,ymin,xmax,ymax[,session]`).

    Crops are cut with `edge.model.crops.square_box(box, margin)` and `edge.model.crops.crop`,
    the device's own functions, so training crops look like what the device classifies.

    Args:
        csv_path: the box CSV.
        images_dir: where its `filename`s are.
        size: crops are resized to size×size.
        margin: square side = longer box side × (1 + margin).
        label_map: CSV label -> class (unlisted labels are kept; map to "" to drop them).
        background: class for random crops overlapping no box (None: no background crops).
        background_per_frame: expected background crops per frame (0.5 = every other frame).
        group_pattern: regex on the `session` value (or the file name when there is no session
            column); its first capture group names the group (e.g. to join frames of one video).
        seed: background crop placement.

    Returns:
        The dataset; group = the `session` column (else the file name).

    Raises:
        DataError: unreadable CSV, missing columns or image files, fewer than 2 classes.
    """
    csv_path, images_dir = Path(csv_path), Path(images_dir)
    label_map = label_map or {}
    pattern = re.compile(group_pattern) if group_pattern else None
    frames: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _read_rows(csv_path):
        frames[row["filename"]].append(row)
    rng = np.random.default_rng(seed)
    images, labels, groups, names = [], [], [], []
    found = set()
    for filename in sorted(frames):
        rows = frames[filename]
        path = images_dir / filename
        try:
            frame = read_rgb(str(path))
        except ValueError as exc:
            raise DataError(f"{path}: missing or not a readable image ({csv_path})") from exc
        session = rows[0].get("session")
        group = _group(session or filename, pattern)
        found.add("session" if session else "file" if group == filename else "pattern")
        hands = [box_of(r) for r in rows]
        for row, box in zip(rows, hands, strict=True):
            label = label_map.get(row["label"], row["label"])
            if not label:
                continue
            images.append(resize_square(crop(frame, square_box(box, margin)), size))
            labels.append(label)
            groups.append(group)
            names.append(f"{filename}#{row['label']}")
        if background and rng.random() < background_per_frame:
            bg = _background_crop(frame, hands, margin, rng)
            if bg is not None:
                images.append(resize_square(bg, size))
                labels.append(background)
                groups.append(group)
                names.append(f"{filename}#background")
    data = Dataset(
        np.stack(images),
        np.array(labels, dtype=str),
        np.array(groups, dtype=str),
        f"boxes {csv_path} (margin {margin})",
        names,
        tuple(sorted(found)),
    )
    check(data)
    return data


def box_of(row: dict[str, str]) -> Box:
    """(xmin, ymin, xmax, ymax) of one box-CSV row (every box CSV, subhih's too)."""
    xmin, ymin, xmax, ymax = (float(row[k]) for k in COLUMNS[2:])
    return xmin, ymin, xmax, ymax


def _group(name: str, pattern: re.Pattern[str] | None) -> str:
    """A frame's group: its session (or file name), or what `pattern` captures of it."""
    group = None if pattern is None else pattern_group(name, pattern)
    return name if group is None else group


def _background_crop(
    frame: np.ndarray, hands: list[Box], margin: float, rng: np.random.Generator
) -> np.ndarray | None:
    """A crop the size of the frame's largest hand crop that overlaps no hand, or None."""
    side = max(max(b[2] - b[0], b[3] - b[1]) for b in hands) * (1 + margin)
    bg = background_boxes(frame.shape, [square_box(b, 0.1) for b in hands], side, rng)
    return None if bg is None else crop(frame, bg)
