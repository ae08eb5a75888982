"""Per-stage time of the hand pipeline on real frames: palm detector, landmark model, classifier.

`python -m devtools.hands_bench --datasets ../shared/datasets --out bench/hands.json` (what
`make bench-hands` runs). Times are wall-clock milliseconds per call (median and p95).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from convert.subhih import read_rows
from edge.crops import read_rgb
from edge.hands.classifier import LandmarkClassifier
from edge.hands.landmark import LandmarkModel
from edge.hands.locator import HandLocator
from edge.hands.palm import PalmDetector
from edge.paths import models_dir
from edge.tflite_model import TFLiteModel
from edge.types import Frame

log = logging.getLogger(__name__)
T = TypeVar("T")


def _stats(times: list[float]) -> dict[str, float]:
    ms = np.array(times) * 1000
    return {
        "p50_ms": round(float(np.median(ms)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "n": len(ms),
    }


def _timed(fn: Callable[[], T], times: list[float]) -> T:
    t = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - t)
    return out


def session_frames(datasets: Path, n: int) -> list[np.ndarray]:
    """The first `n` frames (file-name order) of the largest subhih-hands session."""
    root = datasets / "subhih-hands"
    rows = read_rows(datasets)
    sessions: dict[str, set[str]] = {}
    for r in rows:
        sessions.setdefault(r["session"], set()).add(r["filename"])
    best = max(sessions.values(), key=len)
    return [read_rgb(str(root / "images" / f)) for f in sorted(best)[:n]]


def bench_variant(frames: list[np.ndarray], variant: str, classifier: Path, threads: int) -> dict:
    """Stage times for one MediaPipe variant (`lite` or `full`)."""
    mp = models_dir() / "mediapipe"
    palm = PalmDetector(mp / f"palm_detection_{variant}.tflite", threads)
    marks = LandmarkModel(mp / f"hand_landmark_{variant}.tflite", threads)
    clf = LandmarkClassifier(TFLiteModel(classifier, threads))
    t_palm: list[float] = []
    t_marks: list[float] = []
    t_clf: list[float] = []
    for image in frames:
        palms = _timed(partial(palm.detect, image), t_palm)
        if palms:
            hand = _timed(partial(marks.run, image, palms[0].roi), t_marks)
            _timed(partial(clf.classify_points, hand.points), t_clf)
    out = {
        "palm_detector": _stats(t_palm),
        "landmarks": _stats(t_marks),
        "classifier": _stats(t_clf),
    }
    for method in ("detector", "tracker"):
        loc = HandLocator(palm, marks, track=method == "tracker")
        palm.runs = 0
        t_loc: list[float] = []
        for i, image in enumerate(frames):
            _timed(partial(loc.locate, Frame(image, 0.0, i)), t_loc)
        out[f"locate_{method}"] = {**_stats(t_loc), "palm_runs": palm.runs}
    clf.close()
    palm.close()
    marks.close()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    p.add_argument("--classifier", type=Path, default=models_dir() / "gestures-landmarks.tflite")
    p.add_argument("--frames", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("bench/hands.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    frames = session_frames(args.datasets, args.frames)
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
        "threads": args.threads,
        "frames": len(frames),
        "frame_size": list(frames[0].shape[:2]),
        "variants": {
            v: bench_variant(frames, v, args.classifier, args.threads) for v in ("lite", "full")
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
