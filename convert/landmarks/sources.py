"""Where each landmark row comes from, and which side of the by-source split it is on."""

# The split is written down once in `convert/landmarks/lockbox.toml` (lockbox / validation; the rest
# trains) and read only here. Groups name their source: `community:OWNER/NAME` (a
# community-keypoints repo), `kinivi`, `subhih:SESSION`, `shimaazizi:N`.

from __future__ import annotations

from pathlib import Path

import numpy as np
import tomllib

from convert.landmarks.points import KINIVI_MAP, Landmarks, extract, open_finder, relabel_pointing
from convert.reference import build
from convert.subhih import Shot
from edge.hands.features import mirror
from edge.hands.keypoints import read_keypoints, read_label_names

SPLIT_FILE = Path(__file__).with_name("lockbox.toml")
SIDES = ("train", "validation", "lockbox")


def source_of(group: str) -> str:
    """The source a group belongs to: a community repo, a dataset, or a subhih session."""
    kind, _, rest = group.partition(":")
    if kind == "community":
        return rest
    if kind == "shimaazizi":
        return "shimaazizi-4gest"
    if kind == "subhih":
        return f"subhih-hands:{rest}"
    return {"kinivi": "kinivi-keypoints"}.get(kind, group)


def split_of(groups: np.ndarray, path: Path = SPLIT_FILE) -> np.ndarray:
    """`train`, `validation` or `lockbox` for every group (by its source, never by row)."""
    table = tomllib.loads(path.read_text())
    side_of: dict[str, str] = {}
    for side in ("validation", "lockbox"):
        t = table[side]
        side_of.update({f"community:{r}": side for r in t.get("community", [])})
        side_of.update({f"subhih:{s}": side for s in t.get("subhih_sessions", [])})
        side_of.update({f"dataset:{d}": side for d in t.get("datasets", [])})

    def side_of_group(group: str) -> str:
        if group in side_of:
            return side_of[group]
        if group.startswith("shimaazizi:"):
            return side_of.get("dataset:shimaazizi-4gest", "train")
        return "train"

    return np.array([side_of_group(str(g)) for g in groups])


def shot_sides(shots: list[Shot]) -> np.ndarray:
    """`train`, `validation` or `lockbox` for each subhih-hands frame (by its session's group)."""
    return split_of(np.array([f"subhih:{s.group}" for s in shots]))


def community(datasets: Path) -> Landmarks:
    """community-keypoints rows in the camera's view (x negated back), group = their repo."""
    rows = read_keypoints(datasets / "community-keypoints" / "keypoints.csv")
    groups = np.char.add("community:", rows.groups.astype(str))
    n = len(rows)
    return Landmarks(mirror(rows.x), rows.labels, groups, np.ones(n, np.float32), "community")


def kinivi(datasets: Path) -> Landmarks:
    """kinivi-keypoints (selfie view, x negated back); Pointer -> up/down/left/right."""
    root = datasets / "kinivi-keypoints"
    names = read_label_names(root / "keypoint_classifier_label.csv")
    rows = read_keypoints(root / "keypoint.csv", names, "kinivi")
    labels = np.array([KINIVI_MAP.get(x, x) for x in rows.labels.tolist()], dtype=str)
    x = mirror(rows.x)
    return Landmarks(
        x, relabel_pointing(x, labels), rows.groups, np.ones(len(rows), np.float32), "kinivi"
    )


def photos(datasets: Path, cache: Path, palm: str, marks: str) -> Landmarks:
    """Landmarks of the photo datasets (subhih-hands boxes + backgrounds, shimaazizi-4gest,
    rotated `up` crops), drawn by the device's own hand finder; cached per hand model."""
    path = cache / "photos.npz"
    if path.is_file():
        z = np.load(path)
        return Landmarks(z["x"], z["labels"], z["groups"], z["presence"], "photos")
    data = build(datasets, 224)
    lm = extract(data, open_finder(palm, marks))
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, x=lm.x, labels=lm.labels, groups=lm.groups, presence=lm.presence)
    return Landmarks(lm.x, lm.labels, lm.groups, lm.presence, "photos")
