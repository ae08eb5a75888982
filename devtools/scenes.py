"""`make eval-scenes`: what a car's camera sees - the driver 1.5-4 m away, the other hand in view.

Real frames of people the shipped classifier never trained on (candir-gestures: three people,
two rooms; its `hand/` frames hold the driver about 1.5 m away, upper body in view, one hand
raised and the other hanging or resting, often in view; `body/no_class` the whole person about
4 m away with idle hands). Each frame is read on its own (locator reset) by the daemon's stages
built from `configs/car.toml` with `[locate] method` set per variant, the raised hands' readings
combined by the "which hand drives" rule (edge.choose), as `gesture-edge run` does per frame.

- distance: every frame shrunk by k (1, 1.5, 2, 3, 4) into a canvas of its own size (border
  pixels repeated, so no second person appears), as if the person stood k times farther away;
  accuracy, per-class recall, unasked motions (a stop/fist/none frame read as a motion) and the
  driving hand's size in pixels;
- resting hands: frames where the body model saw the second hand in view and resting, read by
  each variant (does the resting hand take over?);
- sequences: scripted runs of consecutive frames of each asked gesture (the other hand resting in
  view on most of them) replayed through the daemon's stages (devtools.sequences: smoother,
  safety gate, the car's state) at k = 1 and 3, scored as the robot feels them.

No threshold or option was chosen on these frames: they are an evaluation set only.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devtools.sequences import replay, score, summary
from edge.pipeline.choose import choose
from edge.pipeline.classify import Classifier, build_classifier
from edge.pipeline.commands import STOP, CommandMap
from edge.config import Config, load_config
from edge.model.crops import read_rgb
from edge.hands.body.locator import BodyLocator
from edge.hands.locator import HandLocator
from edge.pipeline.locate import build_locator
from edge.types import Frame

log = logging.getLogger(__name__)

SCALES = (1.0, 1.5, 2.0, 3.0, 4.0)
SEQUENCE_SCALES = (1.0, 3.0)
# Runs long enough for the smoother and the 0.5 s reaction allowance; `up` is candir's one motion.
SCRIPT: tuple[tuple[str, int], ...] = (
    ("none", 10),
    ("up", 15),
    ("stop", 10),
    ("up", 15),
    ("none", 10),
    ("fist", 10),
    ("up", 15),
    ("peace", 10),
    ("up", 15),
    ("stop", 10),
)
VARIANTS = {"tracker": "tracker", "body": "body"}  # name -> [locate] method


@dataclasses.dataclass(frozen=True)
class Shot:
    """One evaluation frame: its file, the asked gesture, where it comes from."""

    path: Path
    label: str
    kind: str  # candir `hand` (about 1.5 m) or `body` (about 4 m)


def candir_shots(datasets: Path, every: int) -> list[Shot]:
    """Every `every`-th labelled candir frame of each class, in file name order."""
    root = datasets / "candir-gestures"
    by_class: dict[tuple[str, str], list[Shot]] = defaultdict(list)
    with (root / "manifest.csv").open() as f:
        for row in csv.DictReader(f):
            if row["label"] and not (row["kind"] == "body" and row["label"] != "none"):
                shot = Shot(root / row["path"], row["label"], row["kind"])
                by_class[(row["kind"], row["source_class"])].append(shot)
    return [s for k in sorted(by_class) for s in sorted(by_class[k], key=lambda s: s.path)[::every]]


def shrink(image: np.ndarray, k: float) -> np.ndarray:
    """`image` k times smaller, centred in a canvas of its own size (edge pixels repeated)."""
    if k == 1:
        return image
    h, w = image.shape[:2]
    nw, nh = round(w / k), round(h / k)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    top, left = (h - nh) // 2, (w - nw) // 2
    return cv2.copyMakeBorder(small, top, h - nh - top, left, w - nw - left, cv2.BORDER_REPLICATE)


@dataclasses.dataclass
class Reading:
    """What one variant made of one frame."""

    label: str
    hands: int  # raised hands read
    size: float | None  # the driving hand's size in px
    resting_in_view: bool  # body variant: the body model saw a resting hand in view


def read_frame(
    locator: HandLocator | BodyLocator, classifier: Classifier, commands: CommandMap, image: Any
) -> Reading:
    """The gesture the rule lets drive for a frame read on its own."""
    locator.reset()
    frame = Frame(image, 0.0)
    regions = locator.locate_all(frame)
    choice = choose([classifier.classify(frame, r) for r in regions], commands)
    label = choice.prediction.label if choice.prediction is not None else "none"
    driving = regions[choice.hand] if choice.hand is not None else None
    resting = isinstance(locator, BodyLocator) and any(
        a.visible and not a.raised for a in locator.arms
    )
    return Reading(label, len(regions), driving.size if driving else None, resting)


def tally(shots: list[Shot], readings: list[Reading], commands: CommandMap) -> dict[str, Any]:
    """Accuracy, per-class recall, unasked motions and hand sizes of one variant at one k."""
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: Counter[str] = Counter()
    unasked = 0
    for shot, r in zip(shots, readings, strict=True):
        recall[shot.label][0] += r.label == shot.label
        recall[shot.label][1] += 1
        confusion[f"{shot.label}->{r.label}"] += 1
        asked = commands.command_for(shot.label)
        got = commands.command_for(r.label)
        unasked += got not in (None, STOP) and got != asked
    sizes = [r.size for r in readings if r.size is not None]
    return {
        "frames": len(shots),
        "accuracy": round(sum(v[0] for v in recall.values()) / max(len(shots), 1), 4),
        "per_class_recall": {k: round(v[0] / v[1], 4) for k, v in sorted(recall.items())},
        "unasked_motion": unasked,
        "hand_px_median": round(float(np.median(sizes)), 1) if sizes else None,
        "confusion": dict(sorted(confusion.items())),
    }


def evaluate(cfg: Config, shots: list[Shot], scales: tuple[float, ...]) -> dict[str, Any]:
    """Every variant at every k (see the module doc)."""
    commands = CommandMap.from_config(cfg.commands)
    out: dict[str, Any] = {}
    images = [read_rgb(str(s.path)) for s in shots]
    resting_idx: list[int] = []
    for name, method in VARIANTS.items():
        vcfg = dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, method=method))
        classifier = build_classifier(vcfg)
        locator = build_locator(vcfg, classifier.crop_margin)
        assert isinstance(locator, HandLocator | BodyLocator)
        started = time.perf_counter()
        out[name] = {"by_scale": {}}
        try:
            for k in scales:
                readings = [
                    read_frame(locator, classifier, commands, shrink(im, k)) for im in images
                ]
                out[name]["by_scale"][str(k)] = tally(shots, readings, commands)
                log.info("%s k=%s: %s", name, k, out[name]["by_scale"][str(k)]["accuracy"])
                if k == 1 and name == "body":
                    resting_idx = [i for i, r in enumerate(readings) if r.resting_in_view]
                    out[name]["resting_in_view"] = len(resting_idx)
        finally:
            locator.close()
            classifier.close()
        out[name]["ms_per_frame"] = round(
            (time.perf_counter() - started) * 1e3 / (len(images) * len(scales)), 1
        )
    return {"variants": out, "resting_frames": resting_idx}


def resting_tables(cfg: Config, shots: list[Shot], idx: list[int]) -> dict[str, dict[str, Any]]:
    """Each variant on the frames where a resting hand was in view beside the raised one."""
    commands = CommandMap.from_config(cfg.commands)
    sub = [shots[i] for i in idx]
    out = {}
    for name, method in VARIANTS.items():
        vcfg = dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, method=method))
        classifier = build_classifier(vcfg)
        locator = build_locator(vcfg, classifier.crop_margin)
        assert isinstance(locator, HandLocator | BodyLocator)
        try:
            readings = [
                read_frame(locator, classifier, commands, read_rgb(str(s.path))) for s in sub
            ]
        finally:
            locator.close()
            classifier.close()
        out[name] = tally(sub, readings, commands)
    return out


def scripted(shots: list[Shot], seed: int) -> tuple[list[str], list[Path]]:
    """A run of consecutive frames (file name order) of each scripted gesture, from a random
    start per run."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Shot]] = defaultdict(list)
    for shot in shots:
        if shot.kind == "hand":
            by_label[shot.label].append(shot)
    truth: list[str] = []
    paths: list[Path] = []
    for label, count in SCRIPT:
        pool = sorted(by_label[label], key=lambda s: s.path)
        run = as_video(pool, int(rng.integers(0, len(pool))), count)
        truth += [label] * count
        paths += [s.path for s in run]
    return truth, paths


def thumb(path: Path) -> np.ndarray:
    """A 32x24 grey thumbnail: frames of one video look alike at this size."""
    grey = cv2.cvtColor(read_rgb(str(path)), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (32, 24), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()


def as_video(pool: list[Shot], start: int, count: int) -> list[Shot]:
    """`count` frames from `start` on, each the unused frame that looks most like the last one:
    the file names carry no video or time, so this puts a video's frames back next to each
    other (a camera sees a person move a little between frames, not jump between rooms)."""
    thumbs = np.stack([thumb(s.path) for s in pool])
    order, left = [start], set(range(len(pool))) - {start}
    while len(order) < count and left:
        cand = sorted(left)
        dist = np.abs(thumbs[cand] - thumbs[order[-1]]).mean(axis=1)
        order.append(cand[int(np.argmin(dist))])
        left.discard(order[-1])
    return [pool[i] for i in order]


def sequences(cfg: Config, shots: list[Shot], seeds: int, fps: float) -> dict[str, Any]:
    """Each variant's scripted sequences at each k in SEQUENCE_SCALES (see the module doc)."""
    commands = CommandMap.from_config(cfg.commands)
    cases = [scripted(shots, seed) for seed in range(seeds)]
    out: dict[str, Any] = {}
    for name, method in VARIANTS.items():
        vcfg = dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, method=method))
        for k in SEQUENCE_SCALES:
            runs = {}
            for seed, (truth, paths) in enumerate(cases):
                frames = [shrink(read_rgb(str(p)), k) for p in paths]
                runs[f"seed{seed}"] = score(truth, replay(vcfg, frames, fps), commands, fps, 0.5)
            out[f"{name}_k{k:g}"] = {"total": summary(runs), "runs": runs}
            log.info("sequences %s k=%s: %s", name, k, out[f"{name}_k{k:g}"]["total"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--config", type=Path, default=Path("configs/car.toml"))
    p.add_argument("--every", type=int, default=3, help="every n-th frame of each class")
    p.add_argument("--scales", type=float, nargs="+", default=list(SCALES))
    p.add_argument("--seeds", type=int, default=8, help="scripted sequences per variant and k")
    p.add_argument("--fps", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=Path("models/scenes.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = load_config(args.config)
    shots = candir_shots(args.datasets, args.every)
    started = time.perf_counter()
    result = evaluate(cfg, shots, tuple(args.scales))
    result["resting"] = resting_tables(cfg, shots, result.pop("resting_frames"))
    result["sequences"] = sequences(cfg, shots, args.seeds, args.fps)
    result.update(
        config=str(args.config),
        frames={k: v for k, v in sorted(Counter(f"{s.kind}/{s.label}" for s in shots).items())},
        every=args.every,
        wall_s=round(time.perf_counter() - started, 1),
    )
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log.info("-> %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
