"""One variant of the device pipeline on the bench's frames, every stage timed.

`python -m devtools.perf.stages --frames F.npy --variant lite --hands int8 --threads 1` prints
one JSON object. The stages are the daemon's own, built from a config by `edge.service.app.stages`:
locator (palm detector and landmark model timed apart, the crop/warp inside the landmark
step; hand reads answered by a still hand's reuse counted), classifier (features + model +
decision), smoothing + commands + safety, and the publisher (never connected: its code up to
the network, counted as a drop). Run in a subprocess per variant so that `taskset` pins it and
runtimes (LiteRT, tflite-runtime) can differ; it imports nothing but the device package (`edge`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge.config import LocateConfig, parse_config
from edge.hands.body.locator import BodyLocator
from edge.hands.locator import HandLocator
from edge.link.publisher import Publisher
from edge.model.runtime import load_interpreter
from edge.pipeline.classify import build_classifier
from edge.pipeline.locate import build_locator
from edge.pipeline.loop import DaemonLoop
from edge.service.app import stages
from edge.types import Frame

WARMUP = 10


def timed(fn: Callable[..., Any], bucket: list[float]) -> Callable[..., Any]:
    """`fn`, appending each call's wall seconds to `bucket`."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket.append(time.perf_counter() - t)

    return wrapper


class FloatModel:
    """The classifier's float TFLite twin (`NAME.float.tflite`) in the shape of `TFLiteModel`:
    the same features in, probabilities out, for the float-vs-int8 classifier row."""

    def __init__(self, path: str, num_threads: int) -> None:
        self._interpreter, self.runtime = load_interpreter(path, num_threads)
        self._in = self._interpreter.get_input_details()[0]["index"]
        self._out = self._interpreter.get_output_details()[0]["index"]

    def predict(self, x: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._in, np.asarray(x, np.float32))
        self._interpreter.invoke()
        return np.asarray(self._interpreter.get_tensor(self._out)[0])

    def close(self) -> None:
        self._interpreter = None


def config(args: argparse.Namespace) -> dict[str, Any]:
    """The daemon config of one variant (hand models by size and precision)."""
    mp = Path(args.models) / "mediapipe"
    suffix = "_int8" if args.hands == "int8" else ""
    model: dict[str, Any] = {"num_threads": args.threads, "runtime": args.runtime}
    if args.classifier:
        model["path"] = args.classifier
    return {
        "model": model,
        "locate": {
            "method": args.method,
            "palm_model": str(mp / f"palm_detection_{args.variant}{suffix}.tflite"),
            "landmark_model": str(mp / f"hand_landmark_{args.variant}{suffix}.tflite"),
            "redetect_every": args.redetect_every,
        },
        "mqtt": {"device_id": "bench"},
    }


def run(frames: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """Per-frame and per-stage seconds of one variant over `frames` (after a warm-up)."""
    cfg = parse_config(config(args))
    classifier = build_classifier(cfg)
    if args.float_classifier:
        classifier.model = FloatModel(args.float_classifier, args.threads)  # type: ignore[attr-defined]
    locator = build_locator(cfg, crop_margin=classifier.crop_margin)
    publisher = Publisher(cfg.mqtt, labels=classifier.labels)  # never connected
    loop = DaemonLoop(stages(cfg, None, locator, classifier, publisher))  # type: ignore[arg-type]
    for i, image in enumerate(frames[:WARMUP]):
        loop.step(Frame(image, time.time(), i))
    locator.reset()  # type: ignore[attr-defined]
    buckets = instrument(loop)
    hands = hand_models(locator)
    palm = hands.palm
    per_frame, found = [], 0
    runs_before, reused_before = palm.runs, hands.still.reused
    for i, image in enumerate(frames):
        t = time.perf_counter()
        result = loop.step(Frame(image, time.time(), WARMUP + i))
        per_frame.append(time.perf_counter() - t)
        found += result.region is not None
    classifier.close()
    locator.close()
    return {
        "runtime": classifier.runtime,
        "frames": len(frames),
        "hands_found": found,
        "palm_runs": palm.runs - runs_before,
        "reused_reads": hands.still.reused - reused_before,
        "seconds": {"frame": per_frame, **buckets},
    }


def hand_models(locator: Any) -> HandLocator:
    """The palm detector and hand landmark model of a tracker, detector or body locator."""
    hands = locator.hands if isinstance(locator, BodyLocator) else locator
    assert isinstance(hands, HandLocator)
    return hands


def instrument(loop: DaemonLoop) -> dict[str, list[float]]:
    """Wrap each stage of a loop in a timer; {stage: seconds of each call}."""
    s = loop.s
    hands = hand_models(s.locator)
    palm, marks = hands.palm, hands.landmarks
    targets: list[tuple[str, Any, str]] = [
        ("palm", palm, "detect"),
        ("landmarks", marks, "run"),
        ("classify", s.classifier, "classify"),
        ("smoothing", s.smoother, "update"),
        ("commands", s.commands, "command_for"),
        ("safety", s.safety, "on_frame"),
        ("publish", s.publisher, "command"),
        ("publish", s.publisher, "gesture"),
    ]
    if isinstance(s.locator, BodyLocator):  # the body path's own models
        body = s.locator
        targets += [
            ("pose_detector", body.detector, "detect"),
            ("pose_landmarks", body.pose, "run"),
            ("hand_recrop", body.recrop, "refine"),
        ]
    model = s.classifier.model  # type: ignore[attr-defined]
    targets += [
        ("invoke_palm", palm._interpreter, "invoke"),
        ("invoke_landmarks", marks._interpreter, "invoke"),
        ("invoke_classifier", model._interpreter, "invoke"),
    ]
    buckets: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    for name, obj, attr in targets:
        setattr(obj, attr, timed(getattr(obj, attr), buckets[name]))
    return buckets


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", required=True, help="uint8 RGB frames, N x H x W x 3, .npy")
    p.add_argument("--variant", choices=("lite", "full"), default="lite")
    p.add_argument("--hands", choices=("float", "int8"), default="int8")
    p.add_argument("--method", choices=("tracker", "detector", "body"), default="tracker")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runtime", default="auto")
    p.add_argument("--classifier", default="", help="landmark classifier (default: shipped)")
    p.add_argument("--float-classifier", default="", help="its NAME.float.tflite instead")
    p.add_argument("--models", default=str(Path(__file__).resolve().parents[2] / "models"))
    p.add_argument("--redetect-every", type=int, default=LocateConfig.redetect_every)
    args = p.parse_args(argv)
    result = run(np.load(args.frames), args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
