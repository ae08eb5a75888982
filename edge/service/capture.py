"""`gesture-edge capture`: record hand crops from the live localiser to train your own gestures."""

# Crops land in `OUT/LABEL/SESSION/*.jpg`: one folder per class, as `gesture-convert` takes it,
# and one sub-folder per capture session, which `gesture-convert` uses as the group it never
# splits across train and evaluation (frames of one session are near-duplicates).

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI builds its parser from here: stay light until capture runs
    from edge.cameras import Camera
    from edge.pipeline.locate import Locator
    from edge.types import Frame

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class CaptureError(RuntimeError):
    """The capture could not finish: camera gone, stream ended, stalled, or interrupted."""


@dataclass(frozen=True)
class CaptureOptions:
    """What to record: `count` crops of `label`, `interval` seconds apart, after `countdown`."""

    label: str
    count: int
    out: Path
    interval: float = 0.5
    countdown: float = 3.0
    session: str = ""  # empty: the start time, e.g. 20260101-120000
    crop_margin: float = 0.0  # the image model's margin: crops show what the model sees
    stall_timeout: float = 5.0

    def __post_init__(self) -> None:
        for key in ("label", "session"):
            value = getattr(self, key)
            if (value or key == "label") and not NAME.match(value):
                raise ValueError(f"--{key} {value!r}: use letters, digits, '_', '-', '.'")
        if self.count < 1:
            raise ValueError(f"--count {self.count}: must be at least 1")
        if self.interval < 0 or self.countdown < 0:
            raise ValueError("--interval and --countdown must not be negative")


def capture(
    camera: Camera,
    locator: Locator,
    opts: CaptureOptions,
    stop: threading.Event,
    progress: Callable[[str], None] = log.info,
) -> list[Path]:
    """Count down, then save a crop of the located hand every `interval` until `count`.

    Frames without a hand are skipped. The camera must be open; frames in between captures are
    read and dropped so a live camera never serves a stale one.

    Args:
        camera: an opened camera.
        locator: finds the hand; its region is squared and grown by `opts.crop_margin`.
        opts: what to record and where.
        stop: set it (SIGINT) to stop early.
        progress: receives one human-readable line per event (stderr in the CLI).

    Returns:
        The written JPEG files, `opts.count` of them.

    Raises:
        CaptureError: stopped early, the stream ended, or no frame for `stall_timeout`.
    """
    import cv2  # here, not at the top: `gesture-edge --help` must not pay for OpenCV

    from edge.model.crops import crop, square_box

    session = opts.session or time.strftime("%Y%m%d-%H%M%S")
    folder = opts.out / opts.label / session
    folder.mkdir(parents=True, exist_ok=True)
    progress(f"capturing {opts.count} x {opts.label!r} into {folder}")
    reader = _Reader(camera, opts.stall_timeout, stop)
    start = time.monotonic()
    shown = math.ceil(opts.countdown) + 1
    while (left := opts.countdown - (time.monotonic() - start)) > 0:
        if math.ceil(left) < shown:
            shown = math.ceil(left)
            progress(f"show {opts.label!r} in {shown} ...")
        reader.next(max_wait=left)
    written: list[Path] = []
    due = time.monotonic()
    waiting = False
    while len(written) < opts.count:
        frame = reader.next(max_wait=max(0.0, due - time.monotonic()))
        if frame is None or time.monotonic() < due:
            continue
        region = locator.locate(frame)
        if region is None:
            if not waiting:  # once per gap, not once per frame
                progress("no hand in view, waiting")
            waiting = True
            continue
        waiting = False
        image = crop(frame.image, square_box(region.box, opts.crop_margin))
        path = folder / f"{opts.label}-{session}-{len(written):04d}.jpg"
        if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
            raise CaptureError(f"cannot write {path}")
        written.append(path)
        progress(f"{len(written)}/{opts.count} {path.name}")
        due = time.monotonic() + opts.interval
    return written


class _Reader:
    """Reads frames with a stall deadline; turns the end of a stream or a stop into errors."""

    def __init__(self, camera: Camera, stall_timeout: float, stop: threading.Event) -> None:
        self._camera = camera
        self._stall = stall_timeout
        self._stop = stop
        self._last = time.monotonic()
        self.frames = 0

    def next(self, max_wait: float) -> Frame | None:
        """The next frame, or None when none came within `max_wait` (at least one read)."""
        from edge.cameras import EndOfStream

        if self._stop.is_set():
            raise CaptureError("stopped")
        try:
            frame = self._camera.read(min(max(max_wait, 0.01), 0.5))
        except EndOfStream:
            raise CaptureError(f"the camera stream ended after {self.frames} frames") from None
        now = time.monotonic()
        if frame is None:
            if now - self._last > self._stall:
                raise CaptureError(f"no frame from the camera for {self._stall:.0f} s")
            return None
        self._last = now
        self.frames += 1
        return frame


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `capture` sub-command's options (kept here so edge/service/cli.py stays small)."""
    parser.add_argument("--label", required=True, help="the gesture's class name, e.g. stop")
    parser.add_argument("--count", required=True, type=int, help="how many crops to save")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder (class per dir)")
    parser.add_argument("--config", type=Path, help="camera, [locate] and model as the daemon")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between crops")
    parser.add_argument("--countdown", type=float, default=3.0, help="seconds before the first")
    parser.add_argument("--session", default="", help="sub-folder name (default: start time)")


def run(args: argparse.Namespace, stop: threading.Event) -> int:
    """`gesture-edge capture`: build camera and locator from the config and capture.

    Returns:
        0 when every crop was written, 2 for bad options, 1 when the capture failed.

    Raises:
        edge.config.ConfigError: the config is invalid (the CLI exits 78).
    """
    from edge.cameras import CameraError, build_camera
    from edge.config import load_config, parse_config
    from edge.model.artifact import ModelError, read_meta
    from edge.pipeline.locate import LocatorUnavailable, build_locator

    cfg = load_config(args.config) if args.config else parse_config({})
    try:
        margin = read_meta(cfg.model.path).input.crop_margin
    except ModelError as exc:
        log.warning("no model metadata (%s): crops without margin", exc)
        margin = 0.0
    try:
        opts = CaptureOptions(
            label=args.label,
            count=args.count,
            out=args.out,
            interval=args.interval,
            countdown=args.countdown,
            session=args.session,
            crop_margin=margin,
            stall_timeout=max(5.0, cfg.safety.stall_timeout),
        )
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    camera = build_camera(cfg.camera)
    try:
        locator = build_locator(cfg, crop_margin=margin)
        camera.open()
    except (CameraError, LocatorUnavailable) as exc:
        log.error("%s", exc)
        return 1
    try:
        written = capture(camera, locator, opts, stop, progress=_stderr)
    except CaptureError as exc:
        log.error("capture: %s", exc)
        return 1
    finally:
        camera.close()
        locator.close()
    _stderr(f"done: {len(written)} crops in {written[0].parent}")
    return 0


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
