"""Real frames with two hands from subhih-hands: its own two-hand frames, two people side by side.

subhih-hands holds 173 frames with two hand boxes (both hands of one person: fists, open palms,
peace, 3/4 fingers), but none where one hand points. For the cases that need a second person
making a different gesture, `two_people` puts the halves of two real frames side by side
(240 px strips centred on each hand, at the frames' own scale): a 480×360 frame, like the
dataset's, in which the palm detector and the landmark model find both hands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from convert.subhih import Box, read_shots
from devtools.scripted_frames import hand_free, single_hand_shots
from edge.model.crops import read_rgb

STRIP = 240  # half of the dataset's 480 px frame width


def two_hand_frames(datasets: Path, labels: tuple[str, str]) -> list[tuple[np.ndarray, list[Box]]]:
    """The dataset's own frames with exactly two hands labelled `labels` (in either order),
    in file name order, with their boxes."""
    out = []
    for shot in sorted(read_shots(datasets), key=lambda s: s.path.name):
        if len(shot.boxes) == 2 and sorted(shot.labels) == sorted(labels):
            out.append((read_rgb(str(shot.path)), shot.boxes))
    return out


def strip(image: np.ndarray, box: Box, width: int = STRIP) -> np.ndarray:
    """A full-height strip of `width` pixels centred on `box` (clamped to the frame)."""
    cx = (box[0] + box[2]) / 2
    x0 = int(min(max(cx - width / 2, 0), image.shape[1] - width))
    return image[:, x0 : x0 + width]


def person(datasets: Path, group: str, label: str, count: int) -> list[np.ndarray]:
    """`count` strips of one person: consecutive single-hand frames of `group` showing `label`
    (a boxes.csv label, or `nohand` for strips of the hand-free part of those frames),
    cycled when the session is shorter."""
    shots = single_hand_shots(datasets, [group])
    source = ("0-hand", "1-hand", "2-hand", "5-hand") if label == "nohand" else (label,)
    found = sorted(s for (_, lab), run in shots.items() if lab in source for s in run)
    if not found:
        raise ValueError(f"no single-hand {label} frames in group {group}")
    images = datasets / "subhih-hands" / "images"
    out = []
    for name, box in (found * count)[:count]:
        image = read_rgb(str(images / name))
        out.append(hand_free(image, box)[:, :STRIP] if label == "nohand" else strip(image, box))
    return out


def two_people(left: list[np.ndarray], right: list[np.ndarray]) -> list[np.ndarray]:
    """Frames with `left`'s strip beside `right`'s, pairwise (lists of one length)."""
    return [np.ascontiguousarray(np.hstack([a, b])) for a, b in zip(left, right, strict=True)]
