"""A scripted gesture sequence of real hand crops, written as frames for a replay camera.

Used by `python -m devtools.demo --crops`, the end-to-end tests and `make bench` (image model).
Crops come from `subhih-hands` (boxes.csv): `1-hand` is `up`, and `left`/`right`/`down` are
`up` crops rotated per DESIGN.md (`left` = the finger points to the IMAGE right); `5-hand` is
`stop`, `0-hand` `fist`, `2-hand` `peace`; `none` is a square of the same frames that overlaps
no hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from convert.boxes import background_boxes
from convert.subhih import Box, box_of, in_groups, read_rows
from edge.model.crops import crop, read_rgb, square_box

log = logging.getLogger(__name__)

SOURCE_CLASS = {"up": "1-hand", "left": "1-hand", "right": "1-hand", "down": "1-hand"}
SOURCE_CLASS.update({"stop": "5-hand", "fist": "0-hand", "peace": "2-hand"})
ROTATION = {"left": cv2.ROTATE_90_CLOCKWISE, "right": cv2.ROTATE_90_COUNTERCLOCKWISE}
ROTATION["down"] = cv2.ROTATE_180

# (gesture, frames): at 10 fps about 12 s, with gaps of no hand between gestures.
DEMO_SCRIPT: tuple[tuple[str, int], ...] = (
    ("none", 8),
    ("up", 15),
    ("none", 10),
    ("left", 15),
    ("none", 10),
    ("right", 15),
    ("none", 10),
    ("stop", 12),
    ("none", 10),
    ("down", 15),
    ("none", 10),
)


def crops_for(
    datasets: Path,
    gesture: str,
    count: int,
    margin: float,
    rng: np.random.Generator,
    sessions: Iterable[str] | None = None,
) -> list[np.ndarray]:
    """`count` different square RGB crops showing `gesture` (see module docstring).

    Args:
        datasets: the shared datasets folder.
        gesture: one of none, up, down, left, right, stop, fist, peace.
        count: how many crops (distinct while the data lasts).
        margin: crop margin around the hand box (the model's `input.crop_margin`).
        rng: picks the crops.
        sessions: only frames from these capture sessions (e.g. a model's evaluation split).
    """
    every = read_rows(datasets)
    groups = None if sessions is None else list(sessions)
    rows = [r for r in every if groups is None or in_groups(r["session"], groups)]
    images = datasets / "subhih-hands" / "images"
    out: list[np.ndarray] = []
    if gesture == "none":
        by_file: dict[str, list[Box]] = {}
        for r in rows or every:
            by_file.setdefault(r["filename"], []).append(box_of(r))
        files = sorted(by_file)
        for i in rng.permutation(len(files)):
            image = read_rgb(str(images / files[i]))
            side = float(np.mean([max(b[2] - b[0], b[3] - b[1]) for b in by_file[files[i]]]))
            bg = background_boxes(image.shape, by_file[files[i]], side * (1 + margin), rng, 30)
            if bg is not None:
                out.append(crop(image, bg))
            if len(out) == count:
                break
        return out
    source = [r for r in rows if r["label"] == SOURCE_CLASS[gesture]]
    source = source or [r for r in every if r["label"] == SOURCE_CLASS[gesture]]
    for i in rng.permutation(len(source))[:count]:
        r = source[i]
        c = crop(read_rgb(str(images / r["filename"])), square_box(box_of(r), margin))
        out.append(cv2.rotate(c, ROTATION[gesture]) if gesture in ROTATION else c)
    return out


def write_sequence(
    datasets: Path,
    out_dir: Path,
    script: Sequence[tuple[str, int]] = DEMO_SCRIPT,
    margin: float = 0.25,
    size: int = 192,
    seed: int = 0,
    sessions: Iterable[str] | None = None,
) -> list[str]:
    """Write the script's frames as numbered JPEGs into `out_dir`.

    Returns:
        The gesture shown in each frame, in order.
    """
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    sessions = list(sessions) if sessions is not None else None
    truth: list[str] = []
    for gesture, count in script:
        crops = crops_for(datasets, gesture, count, margin, rng, sessions)
        for c in (crops * count)[:count]:
            rgb = cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA)
            path = out_dir / f"{len(truth):05d}_{gesture}.jpg"
            cv2.imwrite(
                str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
            )
            truth.append(gesture)
    log.info("wrote %d frames to %s", len(truth), out_dir)
    return truth


def eval_sessions(meta_raw: dict) -> list[str] | None:
    """The evaluation-split groups a model's json records (`eval_groups`), if any.

    Groups may carry a dataset prefix (`subhih:35`); other datasets' groups match nothing here.
    """
    stack: list[object] = [meta_raw]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            groups = item.get("eval_groups")
            if isinstance(groups, list) and groups:
                return [str(g) for g in groups]
            stack.extend(item.values())
    return None
