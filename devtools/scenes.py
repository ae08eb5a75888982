"""`make eval-scenes`: what a car's camera sees - the driver 1.5-6 m away, the other hand in view.

Real frames of people the shipped classifier never trained on (candir-gestures: three people,
two rooms; its `hand/` frames hold the driver about 1.5 m away, upper body in view, one hand
raised and the other hanging or resting, often in view; `body/no_class` the whole person about
4 m away with idle hands). Variants: today's palm tracker, the body path on the small stream,
and the body path cutting hands from a stream twice as large (a Pi camera's `main` beside
`lores`, `[camera] full_scale = 2`).

- frames: each frame read on its own (locator reset) by the stages built from `configs/car.toml`,
  the raised hands' readings combined by the which-hand-drives rule (edge.pipeline.choose), at
  k = 1, 1.5, 2, 3, 4 (the frame shrunk k times into a canvas of its own size, border pixels
  repeated, as if the person stood k times farther away): accuracy, per-class recall, unasked
  motions (a stop/fist/none frame read as a motion) and the driving hand's size in pixels;
- resting: the same on the frames where the body model saw a second, resting hand in view;
- sequences: scripted runs of each asked gesture (frames put back in video order, the other hand
  resting in view on most of them) replayed through the daemon's own loop, smoother and safety
  gate (devtools.sequences) at k = 1 and 3, scored as the car feels them.

No threshold or option was chosen on these frames: they are an evaluation set only.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devtools.sequences import replay, score, summary
from edge.config import Config, load_config
from edge.hands.body.locator import BodyLocator
from edge.hands.locator import HandLocator
from edge.model.crops import read_rgb
from edge.pipeline.choose import choose
from edge.pipeline.classify import Classifier, build_classifier
from edge.pipeline.commands import STOP, CommandMap
from edge.pipeline.locate import build_locator
from edge.types import Frame

log = logging.getLogger(__name__)

SCALES = (1.0, 1.5, 2.0, 3.0, 4.0)
SETTLE = 20  # frames (2/3 s at 30 FPS): long enough for the person detector's ten views
SEQUENCE_SCALES = (1.0, 3.0)
# name -> ([locate] method, [camera] full_scale)
VARIANTS = {"tracker": ("tracker", 1), "body": ("body", 1), "body_full": ("body", 2)}
# Runs long enough for the smoother and the 0.5 s reaction allowance; `up` is candir's motion.
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


def shrink(image: np.ndarray, k: float, canvas: int = 1) -> np.ndarray:
    """`image` k times smaller, centred in a canvas `canvas` times its size (border pixels
    repeated, so no second person appears)."""
    h, w = image.shape[:2]
    if k == canvas == 1:
        return image
    nw, nh = round(w * canvas / k), round(h * canvas / k)
    small = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    ch, cw = h * canvas, w * canvas
    top, left = (ch - nh) // 2, (cw - nw) // 2
    return cv2.copyMakeBorder(small, top, ch - nh - top, left, cw - nw - left, cv2.BORDER_REPLICATE)


def scene(image: np.ndarray, k: float, full_scale: int) -> Frame:
    """What a camera sees of the person k times farther away: the small stream, and with
    `full_scale` > 1 the same scene that many times larger as `full` (only where k >=
    full_scale: nearer, the large stream would hold upscaled pixels, no more detail)."""
    if full_scale == 1 or k < full_scale:
        return Frame(shrink(image, k), 0.0)
    full = shrink(image, k, full_scale)
    h, w = image.shape[:2]
    return Frame(cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA), 0.0, full=full)


def variant_config(cfg: Config, method: str) -> Config:
    """`cfg` with `[locate] method` set."""
    return dataclasses.replace(cfg, locate=dataclasses.replace(cfg.locate, method=method))


@contextmanager
def variant(cfg: Config, method: str) -> Iterator[tuple[HandLocator | BodyLocator, Classifier]]:
    """The locator and classifier `gesture-edge run` builds for `method`, closed after."""
    vcfg = variant_config(cfg, method)
    classifier = build_classifier(vcfg)
    locator = build_locator(vcfg, classifier.crop_margin)
    assert isinstance(locator, HandLocator | BodyLocator)
    try:
        yield locator, classifier
    finally:
        locator.close()
        classifier.close()


@dataclasses.dataclass(frozen=True)
class Reading:
    """What one variant made of one frame."""

    label: str
    size: float | None  # the driving hand's size in px
    resting_in_view: bool  # body variants: the body model saw a resting hand in view


def read_frame(
    locator: HandLocator | BodyLocator, classifier: Classifier, commands: CommandMap, frame: Frame
) -> Reading:
    """The gesture the rule lets drive for a frame read on its own: the locator starts afresh
    and sees the frame as a still camera would for up to SETTLE frames (the person detector
    tries a zoomed view on each; a palm tracker would see the same on every one) until it
    finds a hand."""
    locator.reset()
    for _ in range(SETTLE if isinstance(locator, BodyLocator) else 1):  # a tracker: the same
        regions = locator.locate_all(frame)
        if regions:
            break
    choice = choose([classifier.classify(frame, r) for r in regions], commands)
    label = choice.prediction.label if choice.prediction is not None else "none"
    driving = regions[choice.hand] if choice.hand is not None else None
    resting = isinstance(locator, BodyLocator) and any(
        a.visible and not a.raised for a in locator.arms
    )
    return Reading(label, driving.size if driving else None, resting)


def tally(shots: list[Shot], readings: list[Reading], commands: CommandMap) -> dict[str, Any]:
    """Accuracy, per-class recall, unasked motions and hand sizes of one variant at one k."""
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusion: Counter[str] = Counter()
    unasked = 0
    for shot, r in zip(shots, readings, strict=True):
        recall[shot.label][0] += r.label == shot.label
        recall[shot.label][1] += 1
        confusion[f"{shot.label}->{r.label}"] += 1
        got = commands.command_for(r.label)
        unasked += got not in (None, STOP) and got != commands.command_for(shot.label)
    sizes = [r.size for r in readings if r.size is not None]
    return {
        "frames": len(shots),
        "accuracy": round(sum(v[0] for v in recall.values()) / max(len(shots), 1), 4),
        "per_class_recall": {k: round(v[0] / v[1], 4) for k, v in sorted(recall.items())},
        "unasked_motion": unasked,
        "hand_px_median": round(float(np.median(sizes)), 1) if sizes else None,
        "confusion": dict(sorted(confusion.items())),
    }


def frames_table(cfg: Config, shots: list[Shot], scales: tuple[float, ...]) -> dict[str, Any]:
    """Every variant at every k, and each on the frames with a resting hand in view."""
    commands = CommandMap.from_config(cfg.commands)
    images = [read_rgb(str(s.path)) for s in shots]
    out: dict[str, Any] = {}
    resting: list[int] = []
    # The body variant first: its view of each frame says where a resting hand is in view.
    for name in sorted(VARIANTS, key=lambda n: n != "body"):
        method, full_scale = VARIANTS[name]
        started, runs = time.perf_counter(), 0
        out[name] = {"method": method, "full_scale": full_scale, "by_scale": {}}
        with variant(cfg, method) as (locator, classifier):
            for k in scales:
                frames = (scene(im, k, full_scale) for im in images)
                readings = [read_frame(locator, classifier, commands, f) for f in frames]
                runs += len(readings)
                out[name]["by_scale"][f"{k:g}"] = tally(shots, readings, commands)
                log.info("%s k=%s: %s", name, k, out[name]["by_scale"][f"{k:g}"]["accuracy"])
                if k == 1 and name == "body":
                    resting = [i for i, r in enumerate(readings) if r.resting_in_view]
            sub = [shots[i] for i in resting]
            if sub:
                again = [scene(images[i], 1.0, full_scale) for i in resting]
                got = [read_frame(locator, classifier, commands, f) for f in again]
                out[name]["resting_in_view"] = tally(sub, got, commands)
        out[name]["ms_per_frame"] = round((time.perf_counter() - started) * 1e3 / runs, 1)
    return {name: out[name] for name in VARIANTS}


@functools.cache
def thumb(path: Path) -> np.ndarray:
    """A 32x24 grey thumbnail: frames of one video look alike at this size (each file is read
    once, however many runs of the script draw from its class)."""
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


def scripted(shots: list[Shot], seed: int) -> tuple[list[str], list[Path]]:
    """SCRIPT as frames: for each run, frames of that gesture in video order from a random
    start."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[Shot]] = defaultdict(list)
    for shot in shots:
        if shot.kind == "hand":
            by_label[shot.label].append(shot)
    truth: list[str] = []
    paths: list[Path] = []
    for label, count in SCRIPT:
        pool = sorted(by_label[label], key=lambda s: s.path)
        truth += [label] * count
        paths += [s.path for s in as_video(pool, int(rng.integers(0, len(pool))), count)]
    return truth, paths


def sequences(cfg: Config, shots: list[Shot], seeds: int, fps: float) -> dict[str, Any]:
    """Each variant's scripted sequences at each k in SEQUENCE_SCALES (see the module doc)."""
    commands = CommandMap.from_config(cfg.commands)
    cases = [scripted(shots, seed) for seed in range(seeds)]
    images = [[read_rgb(str(p)) for p in paths] for _, paths in cases]  # read once, for all
    out: dict[str, Any] = {}
    for name, (method, full_scale) in VARIANTS.items():
        vcfg = variant_config(cfg, method)
        for k in SEQUENCE_SCALES:
            runs = {}
            for seed, ((truth, _), case) in enumerate(zip(cases, images, strict=True)):
                frames = [scene(image, k, full_scale) for image in case]
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
    result = {
        "config": str(args.config),
        "frames": dict(sorted(Counter(f"{s.kind}/{s.label}" for s in shots).items())),
        "every": args.every,
        "variants": frames_table(cfg, shots, tuple(args.scales)),
        "sequences": sequences(cfg, candir_shots(args.datasets, 1), args.seeds, args.fps),
    }
    result["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log.info("-> %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
