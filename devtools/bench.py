"""`make bench`: per-stage and per-frame time of the daemon's pipeline on real frames.

Default: the shipped pipeline (default model, `[locate] method = "tracker"` with the full
MediaPipe models) on whole camera frames (devtools.scripted_frames) scaled to `--frame-size`.
`--frames crops --locate fixed --model models/gestures-image.tflite` times the image model on
centred hand crops (devtools.scripted) through the fixed box.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devtools.scripted import DEMO_SCRIPT, eval_sessions, write_sequence
from devtools.scripted_frames import DEMO_FRAMES_SCRIPT, write_frame_sequence
from edge.cameras.replay import image_files
from edge.classify import build_classifier
from edge.commands import CommandMap
from edge.config import parse_config
from edge.crops import read_rgb
from edge.locate import build_locator
from edge.loop import DaemonLoop, LoopSettings, Stages
from edge.mqtt import Publisher
from edge.paths import default_model_path
from edge.safety import SafetyGate
from edge.smoothing import Smoother
from edge.stats import Stats
from edge.types import Frame

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parents[1]


def as_camera_frame(crop: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A square crop scaled to the frame height and centred in a (width, height) frame.

    The fixed centred box then cuts out exactly the crop, at a camera's resolution.
    """
    width, height = size
    square = cv2.resize(crop, (height, height), interpolation=cv2.INTER_LINEAR)
    left = (width - height) // 2
    return cv2.copyMakeBorder(square, 0, 0, left, width - height - left, cv2.BORDER_REPLICATE)


def bench(
    model: str,
    frames_dir: Path,
    passes: int,
    num_threads: int,
    runtime: str,
    frame_size: tuple[int, int] = (640, 480),
    locate: str = "fixed",
    whole_frames: bool = False,
) -> dict[str, Any]:
    """Run every frame through the daemon's stages `passes` times (no pacing, no camera).

    A Publisher that is never connected stands in for MQTT: each publish is the daemon's real
    code path up to the network (a counted drop), which keeps the numbers about the device.

    Args:
        locate: `[locate] method` (fixed, detector, tracker; default MediaPipe models).
        whole_frames: frames are whole camera frames, scaled to `frame_size`; otherwise square
            crops centred in a frame of that size (see `as_camera_frame`).
    """
    cfg = parse_config(
        {
            "model": {"path": model, "num_threads": num_threads, "runtime": runtime},
            "locate": {"method": locate},
        }
    )
    classifier = build_classifier(cfg)
    locator = build_locator(cfg, crop_margin=classifier.crop_margin)
    paths = image_files([frames_dir])
    t0 = time.perf_counter()
    if whole_frames:
        images = [
            cv2.resize(read_rgb(str(p)), frame_size, interpolation=cv2.INTER_LINEAR) for p in paths
        ]
    else:
        images = [as_camera_frame(read_rgb(str(p)), frame_size) for p in paths]
    decode_ms = (time.perf_counter() - t0) * 1000 / len(images)
    loop = DaemonLoop(
        Stages(
            camera=None,  # type: ignore[arg-type]  # frames are fed to step() directly
            locator=locator,
            classifier=classifier,
            smoother=Smoother(cfg.smoothing, classifier.labels),
            commands=CommandMap.from_config(cfg.commands),
            safety=SafetyGate(cfg.safety, now=time.time()),
            publisher=Publisher(cfg.mqtt),
            stats=Stats(),
            settings=LoopSettings(
                min_confidence=cfg.smoothing.min_confidence,
                stats_interval=3600,
                model_name=Path(model).name,
                runtime=classifier.runtime,
            ),
        )
    )
    for image in images[:10]:  # warm-up: first invocations allocate
        loop.step(Frame(image=image, ts=time.time()))
    loop.s.stats = stats = Stats(window=passes * len(images))  # forget the warm-up
    palm_before = getattr(locator, "palm_runs", 0)
    wall = []
    for n in range(passes):
        for i, image in enumerate(images):
            start = time.perf_counter()
            loop.step(Frame(image=image, ts=time.time(), index=n * len(images) + i))
            wall.append((time.perf_counter() - start) * 1000)
    palm_runs = getattr(locator, "palm_runs", None)  # the hand locators count detections
    classifier.close()
    if hasattr(locator, "close"):
        locator.close()
    return {
        "machine": platform.machine(),
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "model": Path(model).name,
        "runtime": classifier.runtime,
        "locate": locate,
        "frames_kind": "whole camera frames" if whole_frames else "hand crops centred in a frame",
        "num_threads": num_threads,
        "frames": len(wall),
        "palm_detector_runs": None if palm_runs is None else palm_runs - palm_before,
        "frame_size": [images[0].shape[1], images[0].shape[0]],
        "per_frame_ms": {"median": round(statistics.median(wall), 3), "p95": round(_p95(wall), 3)},
        "per_stage_ms": stats.latency_ms(),
        "decode_and_scale_ms_mean": round(decode_ms, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    """Write the benchmark to `--out` (JSON) and log a one-line summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--model", default=str(default_model_path()))
    p.add_argument("--locate", default="tracker", choices=("fixed", "detector", "tracker"))
    p.add_argument("--frames", default="whole", choices=("whole", "crops"))
    p.add_argument("--out", type=Path, default=REPO / "bench" / "daemon-default.json")
    p.add_argument("--passes", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtime", default="auto")
    p.add_argument("--frame-size", default="640x480", help="WIDTHxHEIGHT of the camera frames")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("edge").setLevel(logging.WARNING)  # the loop's per-command logs
    width, height = (int(v) for v in args.frame_size.lower().split("x"))
    from edge.artifact import read_meta

    meta = read_meta(args.model)
    whole = args.frames == "whole"
    with tempfile.TemporaryDirectory(prefix="gesturepilot-bench-") as tmp:
        if whole:
            groups = eval_sessions(meta.raw)
            write_frame_sequence(args.datasets, Path(tmp), DEMO_FRAMES_SCRIPT, groups=groups)
        else:
            write_sequence(args.datasets, Path(tmp), DEMO_SCRIPT, meta.input.crop_margin)
        result = bench(
            args.model,
            Path(tmp),
            args.passes,
            args.threads,
            args.runtime,
            (width, height),
            locate=args.locate,
            whole_frames=whole,
        )
    result = {"command": " ".join(["python -m devtools.bench", *(argv or sys.argv[1:])]), **result}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    stages = ", ".join(f"{k} {v['p50']:.2f}" for k, v in result["per_stage_ms"].items())
    log.info(
        "%s, locate %s, %d %s on %s (%d threads): per frame median %.2f ms; stage p50 ms: %s -> %s",
        result["model"],
        args.locate,
        result["frames"],
        result["frames_kind"],
        result["runtime"],
        args.threads,
        result["per_frame_ms"]["median"],
        stages,
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
