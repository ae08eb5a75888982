"""The training data a command line names: a folder per class, or a box CSV with its images."""

from __future__ import annotations

import argparse
from pathlib import Path

from convert.boxes import load_boxes
from convert.data import Dataset, load_folder, parse_label_map


def load_data(args: argparse.Namespace, size: int, path: Path | None = None) -> Dataset:
    """A folder-per-class directory or a box CSV, per the command-line arguments."""
    path = path or args.data
    label_map = parse_label_map(args.label_map)
    if path.is_file() and path.suffix.lower() == ".csv":
        images = args.images or path.parent / "images"
        return load_boxes(
            path, images, size, args.margin, label_map, "none", 0.5, args.group_pattern
        )
    return load_folder(path, size, args.group_pattern, label_map)
