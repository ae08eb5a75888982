"""Labelled image datasets: a folder per class, loaded into memory with a group per image."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.model.crops import read_rgb

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


# How an image's group was found: its own file (no group: neighbouring frames can straddle the
# split), a sub-folder of its class folder, `--group-pattern` on its name, a box CSV's session.
GROUPINGS = ("file", "folder", "pattern", "session")


class DataError(ValueError):
    """The data cannot make a usable dataset (the message names the file, folder or class)."""


@dataclass
class Dataset:
    """Images in memory, one label and one group per image.

    `group` says which images are near-duplicates of each other (a capture session, a person):
    a split never puts one group on both sides.
    """

    images: np.ndarray  # (N, S, S, 3) uint8 RGB
    labels: np.ndarray  # (N,) str
    groups: np.ndarray  # (N,) str
    source: str
    names: list[str] = field(default_factory=list)  # where each image came from
    grouped_by: tuple[str, ...] = ()  # how groups were found: GROUPINGS (convert.split.kind_of)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> list[str]:
        """The class names, sorted."""
        return sorted(set(self.labels.tolist()))

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        counter = Counter(self.labels.tolist())
        return {c: counter[c] for c in self.classes}

    def subset(self, mask: np.ndarray) -> Dataset:
        """The images where `mask` is true (a boolean array over the dataset)."""
        idx = np.flatnonzero(mask)
        return Dataset(
            self.images[idx],
            self.labels[idx],
            self.groups[idx],
            self.source,
            [self.names[i] for i in idx] if self.names else [],
            self.grouped_by,
        )


def encode_labels(labels: np.ndarray, names: list[str]) -> np.ndarray:
    """Class indices of `labels` in the order of `names` (the model's outputs).

    Raises:
        DataError: a label is not in `names`.
    """
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(labels.tolist()) - set(index))
    if unknown:
        raise DataError(f"labels {unknown} are not among the model's labels {names}")
    return np.array([index[x] for x in labels.tolist()], np.int64)


def concat(parts: list[Dataset], source: str | None = None) -> Dataset:
    """Join datasets (same image size) into one."""
    return Dataset(
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.labels for p in parts]),
        np.concatenate([p.groups for p in parts]),
        source or " + ".join(p.source for p in parts),
        [n for p in parts for n in p.names],
        tuple(sorted({g for p in parts for g in p.grouped_by})),
    )


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize to size×size, the way `edge.model.crops.prepare` does (no aspect-preserving crop)."""
    interp = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interp)


def parse_label_map(items: list[str] | None) -> dict[str, str]:
    """`["0-hand=fist", "4-hand="]` -> {"0-hand": "fist", "4-hand": ""} (empty: drop the class).

    Raises:
        DataError: an item is not SOURCE=TARGET.
    """
    out: dict[str, str] = {}
    for item in items or []:
        src, sep, dst = item.partition("=")
        if not sep or not src.strip():
            raise DataError(f"label map entry {item!r} is not SOURCE=TARGET (empty TARGET drops)")
        out[src.strip()] = dst.strip()
    return out


def _group_of(
    path: Path, class_dir: Path, pattern: re.Pattern[str] | None
) -> tuple[str, str] | None:
    """(group, how it was found: a GROUPINGS name), or None when the file has none."""
    rel = path.relative_to(class_dir)
    if len(rel.parts) > 1:
        return rel.parts[0], "folder"
    found = None if pattern is None else pattern_group(path.name, pattern)
    return None if found is None else (found, "pattern")


def pattern_group(name: str, pattern: re.Pattern[str]) -> str | None:
    """The group a `--group-pattern` regex gives a name: its first capture group, else the
    whole match; None when it does not match. One rule for folders, box CSVs and subhih."""
    match = pattern.search(name)
    if match is None:
        return None
    return match.group(1) if match.groups() else match.group(0)


def load_folder(
    path: str | Path,
    size: int,
    group_pattern: str | None = None,
    label_map: dict[str, str] | None = None,
    skip_unreadable: bool = False,
) -> Dataset:
    """Load a folder with one sub-folder per class.

    Groups: if a class folder has sub-folders, each sub-folder is a group (a session or person);
    else `group_pattern`'s first capture group (or whole match) on the file name; else each file
    is its own group, which cannot keep near-duplicate frames apart (a warning says so).

    Args:
        path: the dataset folder.
        size: images are resized to size×size RGB.
        group_pattern: regex on the file name giving its group.
        label_map: folder name -> label (unlisted folders keep their name; map to "" to skip).
        skip_unreadable: log and skip files that do not decode instead of refusing.

    Returns:
        The dataset; group names are prefixed with the class only when derived per file.

    Raises:
        DataError: missing/empty folder, a class without images, a file that is not an image,
            fewer than 2 classes.
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    label_map = label_map or {}
    pattern = re.compile(group_pattern) if group_pattern else None
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class sub-folders (expected {root}/<label>/<images>)")
    images, labels, groups, names = [], [], [], []
    per_file, found = 0, set()
    for class_dir in class_dirs:
        label = label_map.get(class_dir.name, class_dir.name)
        if not label:
            continue
        for f, rgb in _class_images(class_dir, skip_unreadable):
            group_how = _group_of(f, class_dir, pattern)
            if group_how is None:
                per_file += 1
                group_how = f"{class_dir.name}/{f.name}", "file"
            group, how = group_how
            found.add(how)
            images.append(resize_square(rgb, size))
            labels.append(label)
            groups.append(group)
            names.append(str(f))
    if per_file:
        log.warning(
            "%d images have no group (no session sub-folders, no --group-pattern match): each is "
            "its own group, so near-duplicate frames may land on both sides of the split and "
            "overstate accuracy",
            per_file,
        )
    data = Dataset(
        np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8),
        np.array(labels, dtype=str),
        np.array(groups, dtype=str),
        f"folder {root}",
        names,
        tuple(sorted(found)),
    )
    check(data)
    return data


def _class_images(class_dir: Path, skip_unreadable: bool) -> Iterator[tuple[Path, np.ndarray]]:
    """(file, RGB image) of every file under one class folder, in name order.

    Raises:
        DataError: no files, a file that is not an image, or one that does not decode (unless
            `skip_unreadable`: then it is logged and skipped).
    """
    files = sorted(p for p in class_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"{class_dir}: class {class_dir.name!r} has no images")
    for f in files:
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(f"{f}: not an image file (expected one of {', '.join(IMAGE_SUFFIXES)})")
        try:
            yield f, read_rgb(str(f))
        except ValueError as exc:
            if not skip_unreadable:
                raise DataError(f"{f}: cannot be read as an image (corrupt?)") from exc
            log.warning("skipping %s", exc)


def check(data: Dataset, min_classes: int = 2) -> None:
    """Refuse a dataset that cannot train a classifier.

    Raises:
        DataError: no images, or fewer than `min_classes` classes (naming what it found).
    """
    if len(data) == 0:
        raise DataError(f"{data.source}: no images")
    counts = data.counts()
    if len(counts) < min_classes:
        raise DataError(
            f"{data.source}: needs at least {min_classes} classes, found {len(counts)} "
            f"({', '.join(counts) or 'none'})"
        )


def log_counts(data: Dataset, title: str) -> None:
    """Log the image, group and per-class counts of a dataset."""
    counts = data.counts()
    log.info(
        "%s: %d images, %d groups, %s",
        title,
        len(data),
        len(set(data.groups.tolist())),
        ", ".join(f"{k}={v}" for k, v in counts.items()),
    )
