"""Read hand-landmark CSV files: `label,x0,...,y20` rows, the kinivi layout, or a headed file."""

# One reader for training (`gesture-convert landmarks --keypoints`), for the reference data
# (community-keypoints, kinivi-keypoints) and for `gesture-edge classify --keypoints`:
# - headless rows of 43 values: a label (a name, or an id into `names`) and the 42 point values;
# - a file whose first line names its columns: `label` and `x0`, `y0` ... `x20`, `y20` are read by
#   name, and a `repo` column (if any) becomes the row's group (its source).
# Points may be in image pixels or already wrist-relative; they are normalised either way.

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.hands.features import NUM_POINT_VALUES, normalized

POINT_COLUMNS = tuple(f"{axis}{i}" for i in range(21) for axis in "xy")


class KeypointError(ValueError):
    """A keypoint CSV cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class KeypointRows:
    """Normalised points (N, 42) with their labels, groups and CSV line numbers."""

    x: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def read_label_names(path: str | Path) -> list[str]:
    """One class name per line, for label ids (kinivi's keypoint_classifier_label.csv).

    Raises:
        KeypointError: the file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeypointError(f"{path}: cannot read label names ({exc})") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_keypoints(
    path: str | Path, names: list[str] | None = None, group: str = ""
) -> KeypointRows:
    """Every row of a keypoint CSV (see the module doc).

    Args:
        path: the CSV file.
        names: class names for integer label ids (kinivi's keypoint_classifier_label.csv).
        group: the group of rows without a `repo` column (default `csv:FILE`).

    Raises:
        KeypointError: unreadable file, wrong column count, a value that is not a number, an
            unknown label id, or degenerate points; naming the file and line.
    """
    xs, labels, groups, lines = [], [], [], []
    default_group = group or f"csv:{Path(path).name}"
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            columns: dict[str, int] | None = None
            for n, row in enumerate(reader, 1):
                if not row or not "".join(row).strip():
                    continue
                if n == 1 and "x0" in row:
                    columns = _header(path, row)
                    continue
                label, values, src = _fields(path, n, row, columns)
                label = _label(path, n, label, names)
                try:
                    pts = np.array([float(v) for v in values], np.float64).reshape(21, 2)
                    xs.append(normalized(pts))
                except ValueError as exc:
                    raise KeypointError(f"{path}:{n}: bad point values ({exc})") from None
                labels.append(label)
                groups.append(src or default_group)
                lines.append(n)
    except OSError as exc:
        raise KeypointError(f"{path}: cannot read keypoint CSV ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise KeypointError(f"{path}: not a text CSV ({exc.reason})") from exc
    if not labels:
        raise KeypointError(f"{path}: no keypoint rows")
    return KeypointRows(
        np.array(xs, np.float32).reshape(len(xs), NUM_POINT_VALUES),
        np.array(labels, dtype=str),
        np.array(groups, dtype=str),
        np.array(lines, np.int64),
    )


def _header(path: str | Path, row: list[str]) -> dict[str, int]:
    index = {name.strip(): i for i, name in enumerate(row)}
    missing = [c for c in ("label", *POINT_COLUMNS) if c not in index]
    if missing:
        raise KeypointError(f"{path}:1: header lacks columns {missing[:4]}")
    return index


def _fields(
    path: str | Path, n: int, row: list[str], columns: dict[str, int] | None
) -> tuple[str, list[str], str]:
    if columns is None:
        if len(row) != 1 + NUM_POINT_VALUES:
            raise KeypointError(
                f"{path}:{n}: expected {1 + NUM_POINT_VALUES} values "
                f"(label, x0, y0, ..., x20, y20), got {len(row)}"
            )
        return row[0].strip(), row[1:], ""
    if len(row) < len(columns):
        raise KeypointError(f"{path}:{n}: expected {len(columns)} columns, got {len(row)}")
    src = row[columns["repo"]].strip() if "repo" in columns else ""
    return row[columns["label"]].strip(), [row[columns[c]] for c in POINT_COLUMNS], src


def _label(path: str | Path, n: int, label: str, names: list[str] | None) -> str:
    if names is None or not label.lstrip("-").isdigit():
        return label
    idx = int(label)
    if not 0 <= idx < len(names):
        raise KeypointError(f"{path}:{n}: label id {idx} not in {names}")
    return names[idx]
