"""Helpers for scripts/arm64-check.sh: pick a fixed image set, and compare host vs aarch64 labels.

`images DATASETS OUT`: copies a reproducible set of real images into OUT:
  frames/   whole subhih-hands frames with exactly one hand box (N per label, evenly spread by name)
  crops/    the hand crop of each of those frames (square box, the models' crop margin)
  4gest/    shimaazizi-4gest crops (N per class, evenly spread by name)
  people/   candir-gestures frames of people 1.5 m and 4 m away (N per class), for the body path
`compare HOST.jsonl ARM.jsonl [--tag NAME]`: one `gesture-edge classify --json` record per line,
each carrying a `run` key; prints agreement and the largest score difference, exits 1 on any
label disagreement or a missing record.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import cv2

from edge.model.crops import crop, read_rgb, square_box

log = logging.getLogger("arm64_check")
CROP_MARGIN = 0.25  # both shipped models' input.crop_margin


def _spread(items: list, n: int) -> list:
    """`n` items evenly spaced through `items` (all of them if there are fewer)."""
    return [items[i * len(items) // n] for i in range(n)] if len(items) > n else list(items)


def pick_images(datasets: Path, out: Path, per_label: int) -> int:
    """Copy the fixed image set into `out` (see the module docstring).

    Args:
        datasets: the shared datasets folder.
        out: destination folder (created).
        per_label: how many images per label / class.

    Returns:
        The number of image files written.
    """
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(datasets / "subhih-hands" / "boxes.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["filename"]].append(row)
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for name in sorted(rows):
        if len(rows[name]) == 1:
            by_label[rows[name][0]["label"]].append(rows[name][0])
    for sub in ("frames", "crops", "4gest"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    count = 0
    for label in sorted(by_label):
        for row in _spread(by_label[label], per_label):
            src = datasets / "subhih-hands" / "images" / row["filename"]
            if not src.is_file():
                src = next((datasets / "subhih-hands").rglob(row["filename"]))
            shutil.copyfile(src, out / "frames" / f"{label}_{row['filename']}")
            box = tuple(float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            rgb = crop(read_rgb(str(src)), square_box(box, CROP_MARGIN))
            dst = out / "crops" / f"{label}_{Path(row['filename']).stem}.png"
            cv2.imwrite(str(dst), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            count += 2
    (out / "people").mkdir(exist_ok=True)  # the body path: people 1.5 m and 4 m away
    with open(datasets / "candir-gestures" / "manifest.csv", newline="") as f:
        by_class: dict[str, list[str]] = defaultdict(list)
        for row in csv.DictReader(f):
            by_class[f"{row['kind']}-{row['source_class']}"].append(row["path"])
    for cls in ("hand-palm", "hand-take_off", "hand-emergency", "hand-closer", "body-no_class"):
        for rel in _spread(sorted(by_class[cls]), per_label):
            dst = out / "people" / f"{cls}_{Path(rel).name}"
            shutil.copyfile(datasets / "candir-gestures" / rel, dst)
            count += 1
    gest = datasets / "shimaazizi-4gest"
    for cls in sorted(p for p in gest.iterdir() if p.is_dir()):
        for src in _spread(sorted(cls.glob("*.jpg")), per_label):
            shutil.copyfile(src, out / "4gest" / f"{cls.name}_{src.name}")
            count += 1
    return count + pick_keypoints(datasets, out / "keypoints.csv", 10 * per_label)


def pick_keypoints(datasets: Path, out: Path, per_label: int) -> int:
    """`per_label` community-keypoints rows per class, spread over the file, as
    `label,x0,...,y20` (selfie view, as recorded: classify them with `--mirrored`)."""
    with open(datasets / "community-keypoints" / "keypoints.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row["label"]].append(row)
    columns = [f"{a}{i}" for i in range(21) for a in "xy"]
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        picked = [r for label in sorted(by_label) for r in _spread(by_label[label], per_label)]
        for row in picked:
            writer.writerow([row["label"], *(row[c] for c in columns)])
    return len(picked)


def _load(path: Path) -> dict[tuple[str, str], dict]:
    records = {}
    for line in path.read_text().splitlines():
        if line.strip().startswith("{"):
            rec = json.loads(line)
            records[(rec["run"], rec.get("path") or f"row {rec['row']}")] = rec
    return records


def compare(host: Path, arm: Path, tag: str) -> int:
    """Compare two classify logs; print a summary per run and overall.

    Args:
        host: the x86 host's records.
        arm: the aarch64 records.
        tag: a name for the aarch64 side in the summary (e.g. pi4).

    Returns:
        0 when every host record has an aarch64 record with the same label, else 1.
    """
    h, a = _load(host), _load(arm)
    runs: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
    bad = []
    for key, rec in sorted(h.items()):
        other = a.get(key)
        if other is None:
            bad.append(f"{key[0]} {key[1]}: no aarch64 result")
            continue
        diff = abs(rec["score"] - other["score"])
        runs[key[0]].append((rec["label"], other["label"], diff))
        if rec["label"] != other["label"]:
            bad.append(
                f"{key[0]} {key[1]}: host {rec['label']} {rec['score']:.4f}, "
                f"{tag} {other['label']} {other['score']:.4f}"
            )
    total = agree = 0
    max_diff = 0.0
    for run, items in sorted(runs.items()):
        same = sum(x == y for x, y, _ in items)
        md = max(d for _, _, d in items)
        print(f"  {tag} {run:<22} {same}/{len(items)} labels agree, max |score diff| {md:.4f}")
        total, agree, max_diff = total + len(items), agree + same, max(max_diff, md)
    n_img = len({p for _, p in h})
    print(
        f"{tag}: {n_img} images, {total} classifications, {agree}/{total} labels agree, "
        f"max |score diff| {max_diff:.4f}, missing {len(h) - total}"
    )
    for line in bad:
        print(f"  DISAGREE {line}")
    return 1 if bad or not total else 0


def main(argv: list[str] | None = None) -> int:
    """Command line of this helper; returns the exit code."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    img = sub.add_parser("images")
    img.add_argument("datasets", type=Path)
    img.add_argument("out", type=Path)
    img.add_argument("--per-label", type=int, default=4)
    cmp = sub.add_parser("compare")
    cmp.add_argument("host", type=Path)
    cmp.add_argument("arm", type=Path)
    cmp.add_argument("--tag", default="arm64")
    args = p.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(message)s")
    if args.cmd == "images":
        n = pick_images(args.datasets, args.out, args.per_label)
        log.info("wrote %d images to %s", n, args.out)
        return 0
    return compare(args.host, args.arm, args.tag)


if __name__ == "__main__":
    sys.exit(main())
