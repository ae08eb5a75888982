"""`gesture-edge`: run the daemon, check a config, classify images (docs/daemon.md)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge import ha_discovery, vehicle
from edge.artifact import ModelError, read_meta
from edge.config import Config, ConfigError, load_config
from edge.runtime import RUNTIME_NAMES, RuntimeNotFound

if TYPE_CHECKING:
    from edge.classify import Classifier
    from edge.locate import Locator

log = logging.getLogger("edge")

EX_OK, EX_USAGE, EX_RUNTIME, EX_DATAERR, EX_CONFIG = 0, 2, 1, 65, 78
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def version() -> str:
    """The installed gesturepilot version ("unknown" when run from an uninstalled tree)."""
    try:
        return importlib.metadata.version("gesturepilot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gesture-edge",
        description=__doc__,
        epilog="Exit codes: 0 ok, 1 runtime failure, 2 usage, 65 bad model or data, "
        "78 bad configuration.",
    )
    p.add_argument("--version", action="version", version=f"gesture-edge {version()}")
    p.add_argument("--log-level", choices=LEVELS, help="overrides [log] level (default INFO)")
    sub = p.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", required=True, type=Path, help="TOML config file")
    run.add_argument("--preview", action="store_true", help="serve the MJPEG preview")
    check = sub.add_parser("check-config", help="validate a config file and exit (78 if invalid)")
    check.add_argument("--config", required=True, type=Path)
    cls = sub.add_parser("classify", help="classify image files or folders, or landmark rows")
    cls.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    cls.add_argument(
        "--keypoints",
        type=Path,
        metavar="CSV",
        help="classify landmark rows (label,x0,y0,...,x20,y20 or the kinivi layout) instead",
    )
    cls.add_argument("--keypoint-labels", type=Path, help="class name per line, for label ids")
    cls.add_argument(
        "--mirrored", action="store_true", help="the rows' x is mirrored (selfie-view recordings)"
    )
    cls.add_argument("--model", type=Path, help="a .tflite with its .json (default: shipped model)")
    cls.add_argument("--config", type=Path, help="take model and [locate] from this config")
    cls.add_argument("--crops", action="store_true", help="each image is already a hand crop")
    cls.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    cls.add_argument(
        "--runtime",
        choices=("auto", *RUNTIME_NAMES),
        help="force a TFLite runtime",
    )
    cap = sub.add_parser("capture", help="record hand crops for training into OUT/LABEL/SESSION/")
    from edge.capture import add_arguments  # light: its camera and cv2 imports are lazy

    add_arguments(cap)
    vehicle.add_parser(sub)  # `subscribe`: the vehicle side (edge.vehicle)
    ha_discovery.add_parser(sub)  # `ha-remove`: clear the Home Assistant discovery configs
    return p


def _logging(level: str) -> None:
    # stderr only: journald records it; no timestamps, journald adds its own.
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `gesture-edge`; returns the process exit code."""
    args = _parser().parse_args(argv)
    handlers = {
        "run": cmd_run,
        "check-config": cmd_check,
        "classify": cmd_classify,
        "capture": cmd_capture,
        "subscribe": vehicle.cmd_subscribe,
        "ha-remove": ha_discovery.cmd_remove,
    }
    try:
        return handlers[args.cmd](args)
    except ConfigError as exc:
        _logging(args.log_level or "INFO")
        log.error("%s", exc)
        return EX_CONFIG
    except ModelError as exc:
        _logging(args.log_level or "INFO")
        log.error("model: %s", exc)
        return EX_DATAERR
    except RuntimeNotFound as exc:
        _logging(args.log_level or "INFO")
        log.error("%s", exc)
        return EX_RUNTIME
    except BrokenPipeError:  # `gesture-edge classify ... | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_OK


def cmd_check(args: argparse.Namespace) -> int:
    """`check-config`: the config (78 if invalid), then its models, loaded as `run` would (65)."""
    from edge.classify import build_classifier
    from edge.locate import LocatorUnavailable, build_locator

    cfg = load_config(args.config)
    _logging(args.log_level or cfg.log.level)
    classifier = build_classifier(cfg)
    classifier.close()
    try:
        build_locator(cfg, crop_margin=classifier.crop_margin).close()
    except LocatorUnavailable as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    op = cfg.operator
    who = (
        f"{op.take_control!r} held {op.take_frames} frames" if op.policy != "largest" else "largest"
    )
    log.info(
        "%s: configuration is valid (model %s: %s on %s; camera %s; operator %s)",
        args.config,
        cfg.model.path,
        ", ".join(classifier.labels),
        classifier.runtime,
        cfg.camera.backend,
        who if op.enabled else "off",
    )
    return EX_OK


def cmd_run(args: argparse.Namespace) -> int:
    from edge.app import PreviewUnavailable, run  # the daemon's imports are only paid by `run`
    from edge.cameras import CameraError
    from edge.locate import LocatorUnavailable

    cfg = load_config(args.config)
    _logging(args.log_level or cfg.log.level)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    try:
        run(cfg, stop, preview=args.preview)
    except (CameraError, LocatorUnavailable, PreviewUnavailable) as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    return EX_OK


def cmd_capture(args: argparse.Namespace) -> int:
    from edge import capture  # camera and crops are only paid by `capture`

    _logging(args.log_level or "INFO")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, _frame: stop.set())
    return capture.run(args, stop)


def cmd_classify(args: argparse.Namespace) -> int:
    """`classify`: image files/folders (or `--keypoints` rows), one line or JSON object each."""
    from edge.config import parse_config
    from edge.paths import default_model_path

    _logging(args.log_level or "WARNING")
    model = args.model or (None if args.config else default_model_path())
    if model is not None and not model.is_file():
        raise ModelError(
            f"model file not found: {model}" + ("" if args.model else " (use --model)")
        )
    if model is not None:
        read_meta(model)  # a missing or broken json is the model's fault, not a config's
    cfg = load_config(args.config) if args.config else parse_config({"model": {"path": str(model)}})
    cfg = _with_model(cfg, args.model, args.runtime)
    if args.keypoints is not None:
        return _classify_keypoints(args, cfg)
    if not args.paths:
        log.error("give image files or folders, or --keypoints FILE.csv")
        return EX_USAGE
    return _classify_images(args, cfg)


def _classify_images(args: argparse.Namespace, cfg: Config) -> int:
    """`classify PATH...`: locate (or take `--crops` whole) and classify every image."""
    from edge.cameras import CameraError
    from edge.cameras.replay import image_files
    from edge.classify import build_classifier
    from edge.locate import LocatorUnavailable, build_locator

    classifier = build_classifier(cfg)
    try:
        files = image_files(args.paths)
    except CameraError as exc:
        log.error("%s", exc)
        return EX_USAGE
    if not files:
        log.error("no image files in %s", ", ".join(map(str, args.paths)))
        return EX_USAGE
    try:
        locator = None if args.crops else build_locator(cfg, crop_margin=classifier.crop_margin)
    except LocatorUnavailable as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    failures = sum(not _classify_image(path, classifier, locator, args.json) for path in files)
    classifier.close()
    if locator is not None:
        locator.close()
    return EX_RUNTIME if failures else EX_OK


def _classify_image(
    path: Path, classifier: Classifier, locator: Locator | None, as_json: bool
) -> bool:
    """Print one image's label and score (the whole image is the crop without a locator);
    False when it cannot be read."""
    from edge.crops import read_rgb
    from edge.locate import crop_region
    from edge.types import Frame, HandRegion

    try:
        rgb = read_rgb(str(path))
    except ValueError as exc:
        log.error("%s", exc)
        return False
    frame = Frame(image=rgb, ts=0.0)
    region: HandRegion | None
    if locator is None:
        region = crop_region(rgb.shape[1], rgb.shape[0], classifier.crop_margin)
    else:
        region = locator.locate(frame)
    pred = classifier.classify(frame, region) if region is not None else None
    label, score = (pred.label, pred.score) if pred else ("none", 0.0)
    if as_json:
        print(json.dumps({"path": str(path), "label": label, "score": round(score, 4)}))
    else:
        print(f"{label:>8} {score:.2f}  {path}")
    return True


def _classify_keypoints(args: argparse.Namespace, cfg: Config) -> int:
    """`classify --keypoints`: one {"row", "label", "score"} per CSV row (row = its line)."""
    from edge.classify import build_classifier
    from edge.hands.classifier import LandmarkClassifier
    from edge.hands.features import mirror
    from edge.hands.keypoints import KeypointError, read_keypoints, read_label_names

    try:
        names = read_label_names(args.keypoint_labels) if args.keypoint_labels else None
        rows = read_keypoints(args.keypoints, names)
    except KeypointError as exc:
        log.error("%s", exc)
        return EX_DATAERR
    classifier = build_classifier(cfg)
    try:
        if not isinstance(classifier, LandmarkClassifier):
            log.error("--keypoints needs a landmark model (kind: landmarks): %s", cfg.model.path)
            return EX_DATAERR
        points = mirror(rows.x) if args.mirrored else rows.x
        for line, x, truth in zip(rows.lines, points, rows.labels, strict=True):
            pred = classifier.classify_points(x.reshape(21, 2))
            out = {"row": int(line), "label": pred.label, "score": round(pred.score, 4)}
            if args.json:
                print(json.dumps(out))
            else:
                print(f"{pred.label:>8} {pred.score:.2f}  row {line} ({truth})")
    finally:
        classifier.close()
    return EX_OK


def _with_model(cfg: Config, model: Path | None, runtime: str | None) -> Config:
    """`cfg` with the model path and runtime given on the command line, when given."""
    section = cfg.model
    if model is not None:
        section = dataclasses.replace(section, path=str(model.resolve()))
    if runtime:
        section = dataclasses.replace(section, runtime=runtime)
    return cfg if section is cfg.model else dataclasses.replace(cfg, model=section)


if __name__ == "__main__":
    sys.exit(main())
