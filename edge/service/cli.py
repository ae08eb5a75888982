"""`gesture-edge`: run the daemon, check a config, classify images (docs/daemon.md)."""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edge.config import ConfigError, load_config
from edge.config.reach import reach_m, reach_warning
from edge.exits import EX_CONFIG, EX_DATAERR, EX_OK, EX_RUNTIME
from edge.link import ha_discovery
from edge.model.artifact import ModelError
from edge.model.runtime import RUNTIME_NAMES, RuntimeNotFound

if TYPE_CHECKING:
    from edge.types import FrameObserver

log = logging.getLogger("edge")

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
    from edge.service.capture import add_arguments  # light: its camera and cv2 imports are lazy

    add_arguments(cap)
    # `subscribe`: the vehicle side, whose command lives with the vehicles (subscribers.cli);
    # the only import of subscribers/ in edge/ (tests/test_import_graph.py)
    from subscribers.cli import add_parser as add_subscribe

    add_subscribe(sub)
    ha_discovery.add_parser(sub)  # `ha-remove`: clear the Home Assistant discovery configs
    return p


def _logging(level: str) -> None:
    # stderr only: journald records it; no timestamps, journald adds its own.
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None, observers: Sequence[FrameObserver] = ()) -> int:
    """Entry point of `gesture-edge`; returns the process exit code.

    `observers` watch every frame of `run` besides the daemon's own (`make demo`'s recorder).
    """
    args = _parser().parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": lambda run_args: cmd_run(run_args, observers),
        "check-config": cmd_check,
        "classify": cmd_classify,
        "capture": cmd_capture,
        "subscribe": cmd_subscribe,
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
    from edge.pipeline.classify import build_classifier
    from edge.pipeline.locate import LocatorUnavailable, build_locator

    cfg = load_config(args.config)
    _logging(args.log_level or cfg.log.level)
    classifier = build_classifier(cfg)
    classifier.close()
    try:
        build_locator(cfg, crop_margin=classifier.crop_margin).close()
    except LocatorUnavailable as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    if (far := reach_warning(cfg.camera)) is not None and cfg.locate.method != "fixed":
        log.warning("%s", far)
    op = cfg.operator
    who = (
        f"{op.take_control!r} held {op.take_frames} frames" if op.policy != "largest" else "largest"
    )
    log.info(
        "%s: configuration is valid (model %s: %s on %s; camera %s, hands read to %.1f m; "
        "operator %s)",
        args.config,
        cfg.model.path,
        ", ".join(classifier.labels),
        classifier.runtime,
        cfg.camera.backend,
        reach_m(cfg.camera),
        who if op.enabled else "off",
    )
    return EX_OK


def cmd_run(args: argparse.Namespace, observers: Sequence[FrameObserver] = ()) -> int:
    from edge.cameras import CameraError
    from edge.pipeline.locate import LocatorUnavailable
    from edge.service.app import (  # the daemon's imports are only paid by `run`
        PreviewUnavailable,
        run,
    )

    cfg = load_config(args.config)
    _logging(args.log_level or cfg.log.level)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())
    try:
        run(cfg, stop, preview=args.preview, observers=observers)
    except (CameraError, LocatorUnavailable, PreviewUnavailable) as exc:
        log.error("%s", exc)
        return EX_RUNTIME
    return EX_OK


def cmd_capture(args: argparse.Namespace) -> int:
    from edge.service import capture  # camera and crops are only paid by `capture`

    _logging(args.log_level or "INFO")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, _frame: stop.set())
    return capture.run(args, stop)


def cmd_subscribe(args: argparse.Namespace) -> int:
    from subscribers.cli import cmd_subscribe as subscribe  # the vehicle side (subscribers/)

    return subscribe(args)


def cmd_classify(args: argparse.Namespace) -> int:
    from edge.service import classify_files  # image decoding, hand models: only for `classify`

    _logging(args.log_level or "WARNING")
    return classify_files.run(args)


if __name__ == "__main__":
    sys.exit(main())
