"""A stand-in for the `picamera2` module (its API shape only) for machines without a Pi camera.

Tests put it in `sys.modules["picamera2"]`. It serves `FEED` (RGB images) as the `lores`
stream in YUV420, stamps SensorTimestamp like libcamera (CLOCK_BOOTTIME ns), and can be told to
stall after a number of frames (`STALL_AFTER`) to exercise the daemon's stall handling.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np

FEED: list[np.ndarray] = []  # RGB uint8 images, served in a loop
STALL_AFTER: int | None = None  # per started camera: frames before capture_request times out
INSTANCES: list[Picamera2] = []


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
        self.config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.frames = 0
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

    def start(self) -> None:
        if self.config is None:
            raise RuntimeError("Camera must be configured before start")
        self.started = True

    def capture_request(self, wait: float | None = None, flush: Any = None) -> CompletedRequest:
        if not self.started:
            raise RuntimeError("Camera is not running")
        if not FEED or (STALL_AFTER is not None and self.frames >= STALL_AFTER):
            time.sleep(wait if wait is not None else 1.0)
            raise TimeoutError("capture_request timed out")
        assert self.config is not None  # configure() ran before start()
        w, h = self.config["lores"]["size"]
        rgb = cv2.resize(FEED[self.frames % len(FEED)], (w, h))
        self.frames += 1
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
        ts_ns = int(time.clock_gettime(time.CLOCK_BOOTTIME) * 1e9)
        return CompletedRequest({"lores": yuv, "main": rgb[..., ::-1]}, {"SensorTimestamp": ts_ns})

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.started = False
        self.closed = True
