"""The subhih-hands dataset, read in one place: its boxes, its frames and how sessions group."""

# `boxes.csv` holds one row per hand (`filename,width,height,label,xmin,ymin,xmax,ymax,session`);
# a frame may hold two hands. Frames of one capture session share `session`; the single-frame
# sessions named after their file (`pic00054.jpg`, `Hand_0000889.jpg`) are neighbouring video
# frames of two sources, so they join one group each (`pic`, `Hand_`). Every split, the replayed
# demo frames, the sequence evaluation and the tests use `group_of`.

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from convert.boxes import Box as Box  # re-exported: the box-CSV row format is convert.boxes'
from convert.boxes import box_of as box_of
from convert.data import pattern_group

SESSION_GROUPS = r"^(pic|Hand_)\d+\.jpg$"  # for `load_boxes(group_pattern=...)`
_SINGLE = re.compile(SESSION_GROUPS)


@dataclass(frozen=True)
class Shot:
    """One frame with all its hands: boxes and labels in CSV order."""

    path: Path
    boxes: list[Box]
    labels: list[str]
    session: str

    @property
    def group(self) -> str:
        return group_of(self.session)


def group_of(session: str) -> str:
    """The split group of a session (`pic`/`Hand_` for the single-frame ones)."""
    group = pattern_group(session, _SINGLE)
    return session if group is None else group


def in_groups(session: str, groups: list[str] | set[str]) -> bool:
    """Whether a session belongs to one of `groups` (`subhih:` prefixes allowed)."""
    return group_of(session) in {g.removeprefix("subhih:") for g in groups}


def read_rows(datasets: Path) -> list[dict[str, str]]:
    """The rows of `subhih-hands/boxes.csv`, one per hand."""
    with (datasets / "subhih-hands" / "boxes.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def read_shots(datasets: Path) -> list[Shot]:
    """Every frame with its hands, in file-name (capture) order."""
    frames: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in read_rows(datasets):
        frames[row["filename"]].append(row)
    images = datasets / "subhih-hands" / "images"
    return [
        Shot(images / name, [box_of(r) for r in rs], [r["label"] for r in rs], rs[0]["session"])
        for name, rs in sorted(frames.items())
    ]
