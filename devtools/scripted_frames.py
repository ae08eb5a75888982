"""A scripted gesture sequence of WHOLE real camera frames, written for a replay camera.

What `make demo` and the end-to-end test of the default pipeline replay: the hand is wherever
the person held it, so the hand tracker has to find it. Frames come from `subhih-hands`
(480×360, boxes.csv), only single-hand frames, and a run of one gesture is consecutive frames
of one capture session (a coherent clip the tracker can follow):

- `up`: `1-hand` frames; `left`/`right`/`down`: the same frames turned 90° clockwise (the
  finger points to the IMAGE right = the person's own left, DESIGN.md), 90° counter-clockwise,
  180°. Turned frames are letterboxed back to the frame size (scaled to fit, padded black).
- `stop`: `5-hand`, `fist`: `0-hand`, `peace`: `2-hand`.
- `none`: 3- or 4-finger hands — a hand, but not a command.
- `nohand`: no hand at all: the largest region of a frame that overlaps no hand box (at the
  frame's aspect ratio), scaled up to the frame size. Its truth label is `none`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from convert.subhih import Box, in_groups, read_shots
from edge.model.crops import read_rgb

log = logging.getLogger(__name__)

SOURCE: dict[str, tuple[str, ...]] = {
    "up": ("1-hand",),
    "left": ("1-hand",),
    "right": ("1-hand",),
    "down": ("1-hand",),
}
SOURCE.update({"stop": ("5-hand",), "fist": ("0-hand",), "peace": ("2-hand",)})
SOURCE.update({"none": ("3-hand", "4-hand"), "nohand": ("0-hand", "1-hand", "2-hand", "5-hand")})
TURN = {"left": cv2.ROTATE_90_CLOCKWISE, "right": cv2.ROTATE_90_COUNTERCLOCKWISE}
TURN["down"] = cv2.ROTATE_180
FRAME_SIZE = (480, 360)  # (width, height) of subhih-hands frames

# (gesture, frames): at 10 fps about 14 s; gaps alternate between no hand and a hand that
# makes no command (3 or 4 fingers).
DEMO_FRAMES_SCRIPT: tuple[tuple[str, int], ...] = (
    ("nohand", 8),
    ("up", 15),
    ("none", 10),
    ("left", 15),
    ("nohand", 10),
    ("right", 15),
    ("none", 10),
    ("stop", 12),
    ("nohand", 10),
    ("down", 15),
    ("none", 10),
)

Shot = tuple[str, Box]  # (file name, the single hand's box)


def single_hand_shots(
    datasets: Path, groups: Iterable[str] | None = None
) -> dict[tuple[str, str], list[Shot]]:
    """Single-hand frames by (session group, boxes.csv label), in capture (file name) order.

    Args:
        datasets: the shared datasets folder.
        groups: only these split groups (`subhih:` prefixes are dropped; other datasets' groups
            match nothing); None for all.
    """
    wanted = None if groups is None else list(groups)
    out: dict[tuple[str, str], list[Shot]] = defaultdict(list)
    for shot in read_shots(datasets):
        if len(shot.boxes) != 1 or (wanted is not None and not in_groups(shot.session, wanted)):
            continue
        out[(shot.group, shot.labels[0])].append((shot.path.name, shot.boxes[0]))
    return dict(out)


def letterbox(image: np.ndarray, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """`image` scaled to fit (width, height) without distortion and padded black."""
    width, height = size
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = round(w * scale), round(h * scale)
    scaled = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA) if scale != 1 else image
    left, top = (width - nw) // 2, (height - nh) // 2
    return cv2.copyMakeBorder(
        scaled, top, height - nh - top, left, width - nw - left, cv2.BORDER_CONSTANT, value=0
    )


def hand_free(image: np.ndarray, box: Box, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """The largest region beside, above or below `box` at the frame's aspect, scaled to `size`."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (round(v) for v in box)
    aspect = size[0] / size[1]
    # free strips: (left, top, right, bottom) of the frame outside the box
    strips = [(0, 0, x0, h), (x1, 0, w, h), (0, 0, w, y0), (0, y1, w, h)]
    best: tuple[int, int, int, int] | None = None
    for sx0, sy0, sx1, sy1 in strips:
        sw, sh = sx1 - sx0, sy1 - sy0
        rw = min(sw, round(sh * aspect))
        rh = round(rw / aspect)
        if rw > 0 and rh > 0 and (best is None or rw > best[2] - best[0]):
            left, top = sx0 + (sw - rw) // 2, sy0 + (sh - rh) // 2
            best = (left, top, left + rw, top + rh)
    if best is None:
        raise ValueError("the hand box covers the whole frame")
    bx0, by0, bx1, by1 = best
    return cv2.resize(image[by0:by1, bx0:bx1], size, interpolation=cv2.INTER_CUBIC)


def _run(
    shots: dict[tuple[str, str], list[Shot]], gesture: str, count: int, rng: np.random.Generator
) -> list[Shot]:
    """`count` consecutive shots of one session showing `gesture` (cycled if the run is short)."""
    wanted = SOURCE[gesture]
    by_group: dict[str, list[Shot]] = defaultdict(list)
    for (group, label), found in shots.items():
        if label in wanted:
            by_group[group] += found
    if not by_group:
        raise ValueError(f"no single-hand frames for {gesture!r} in the chosen sessions")
    groups = sorted(by_group)
    # prefer sessions long enough for the whole run
    long = [g for g in groups if len(by_group[g]) >= count] or groups
    run = sorted(by_group[long[rng.integers(len(long))]])
    start = int(rng.integers(max(1, len(run) - count + 1)))
    run = run[start : start + count]
    return (run * count)[:count]


def frame_for(image: np.ndarray, gesture: str, box: Box) -> np.ndarray:
    """The replayed frame for one source frame: as is, turned + letterboxed, or hand-free."""
    if gesture == "nohand":
        return hand_free(image, box)
    if gesture in TURN:
        return letterbox(cv2.rotate(image, TURN[gesture]))
    return image if image.shape[1::-1] == FRAME_SIZE else letterbox(image)


def write_frame_sequence(
    datasets: Path,
    out_dir: Path,
    script: Sequence[tuple[str, int]] = DEMO_FRAMES_SCRIPT,
    seed: int = 0,
    groups: Iterable[str] | None = None,
) -> list[str]:
    """Write the script's whole frames as numbered JPEGs into `out_dir`.

    Args:
        datasets: the shared datasets folder.
        out_dir: created if missing; files are `NNNNN_<gesture>.jpg`.
        script: (gesture, frames) runs; gestures as in the module docstring.
        seed: picks the sessions and where in them each run starts.
        groups: only frames of these split groups (a model's `eval_groups`); None for all.

    Returns:
        The gesture each frame shows, in order (`nohand` counts as `none`).

    Raises:
        ValueError: a gesture has no single-hand frames in the chosen groups.
    """
    rng = np.random.default_rng(seed)
    shots = single_hand_shots(datasets, groups)
    images = datasets / "subhih-hands" / "images"
    out_dir.mkdir(parents=True, exist_ok=True)
    truth: list[str] = []
    for gesture, count in script:
        for name, box in _run(shots, gesture, count, rng):
            frame = frame_for(read_rgb(str(images / name)), gesture, box)
            path = out_dir / f"{len(truth):05d}_{gesture}.jpg"
            bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
            truth.append("none" if gesture == "nohand" else gesture)
    log.info("wrote %d whole frames to %s", len(truth), out_dir)
    return truth
