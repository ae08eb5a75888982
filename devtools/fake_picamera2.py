"""A stand-in for the `picamera2` module (its API shape only) for machines without a Pi camera.

Tests put it in `sys.modules["picamera2"]`. It serves `FEED` (RGB images) as the `lores`
stream in YUV420, stamps SensorTimestamp like libcamera (CLOCK_BOOTTIME ns), and can be told to
stall after a number of frames (`STALL_AFTER`) to exercise the daemon's stall handling.
A daemon in a subprocess drives it through the environment: `GP_FAKE_PICAMERA2_FEED` (a folder
of images to serve) and `GP_FAKE_PICAMERA2_GONE` (a path: while it exists the camera is
unplugged, so `Picamera2()` and `capture_request` raise as libcamera does).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

FEED: list[np.ndarray] = []  # RGB uint8 images, served in a loop
STALL_AFTER: int | None = None  # per started camera: frames before capture_request times out
INSTANCES: list[Picamera2] = []
FEED_ENV = "GP_FAKE_PICAMERA2_FEED"
GONE_ENV = "GP_FAKE_PICAMERA2_GONE"


def unplugged() -> bool:
    """Whether the file named by GP_FAKE_PICAMERA2_GONE exists (the camera is pulled)."""
    path = os.environ.get(GONE_ENV, "")
    return bool(path) and Path(path).exists()


def _feed() -> list[np.ndarray]:
    folder = os.environ.get(FEED_ENV, "")
    if not FEED and folder:
        images = sorted(p for p in Path(folder).iterdir() if p.suffix in (".jpg", ".png"))
        for p in images:
            bgr = cv2.imread(str(p))
            if bgr is not None:
                FEED.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return FEED


class CompletedRequest:
    def __init__(self, arrays: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:
        self._arrays = arrays
        self._metadata = metadata
        self.released = False

    def make_array(self, name: str) -> np.ndarray:
        return self._arrays[name].copy()

    def get_metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def release(self) -> None:
        self.released = True


class Picamera2:
    def __init__(self, camera_num: int = 0) -> None:
        if unplugged():
            raise IndexError("list index out of range")  # picamera2 with no camera attached
        self.config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.frames = 0
        self._period = 0.0
        self._due = 0.0
        INSTANCES.append(self)

    def create_video_configuration(
        self,
        main: dict | None = None,
        lores: dict | None = None,
        controls: dict | None = None,
        buffer_count: int = 6,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return {"main": main or {}, "lores": lores, "controls": controls or {}}

    def configure(self, config: dict[str, Any]) -> None:
        if config["lores"] and config["lores"].get("format") not in (
            "YUV420",
            "RGB888",
            "XBGR8888",
        ):
            raise RuntimeError("lores format not supported")
        self.config = config
        rate = config["controls"].get("FrameRate") if os.environ.get(FEED_ENV) else None
        self._period = 1.0 / rate if rate else 0.0

    def start(self) -> None:
        if self.config is None:
            raise RuntimeError("Camera must be configured before start")
        self.started = True

    def capture_request(self, wait: float | None = None, flush: Any = None) -> CompletedRequest:
        if not self.started:
            raise RuntimeError("Camera is not running")
        if unplugged():
            raise RuntimeError("Camera frontend has timed out!")
        feed = _feed()
        if self._period:  # paced like the sensor, so a subprocess daemon does not spin
            time.sleep(max(0.0, self._due - time.monotonic()))
            self._due = max(self._due, time.monotonic()) + self._period
        if not feed or (STALL_AFTER is not None and self.frames >= STALL_AFTER):
            time.sleep(wait if wait is not None else 1.0)
            raise TimeoutError("capture_request timed out")
        assert self.config is not None  # configure() ran before start()
        w, h = self.config["lores"]["size"]
        rgb = cv2.resize(feed[self.frames % len(feed)], (w, h))
        self.frames += 1
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        ts_ns = int(time.clock_gettime(time.CLOCK_BOOTTIME) * 1e9)
        return CompletedRequest({"lores": yuv, "main": rgb[..., ::-1]}, {"SensorTimestamp": ts_ns})

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False
        self.closed = True
