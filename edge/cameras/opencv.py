"""OpenCV capture: a device index, a /dev/video* path, a GStreamer pipeline, or a video file."""

from __future__ import annotations

import logging
import time

import cv2

from edge.cameras import CameraError, EndOfStream
from edge.types import Frame

log = logging.getLogger(__name__)


def _is_pipeline(source: str) -> bool:
    return "!" in source  # GStreamer syntax, e.g. a Jetson nvarguscamerasrc ... ! appsink


class OpenCVCamera:
    """A cv2.VideoCapture. For a live source, `read` may block up to the driver's timeout."""

    def __init__(
        self,
        source: str,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        loop: bool = False,
        is_file: bool = False,
    ) -> None:
        self._source = source
        self._size = (width, height)
        self._fps = fps
        self._loop = loop
        self._is_file = is_file
        self._cap: cv2.VideoCapture | None = None
        self._index = 0

    def open(self) -> None:
        src = self._source
        if self._is_file:
            cap = cv2.VideoCapture(src)
        elif _is_pipeline(src):
            cap = cv2.VideoCapture(src, cv2.CAP_GSTREAMER)
        else:
            cap = cv2.VideoCapture(int(src) if src.isdigit() else src)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open camera source {src!r}")
        if not self._is_file and not _is_pipeline(src):
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
            cap.set(cv2.CAP_PROP_FPS, self._fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale queue
        self._cap = cap
        log.info("opened camera %r", src)

    def read(self, timeout: float) -> Frame | None:
        if self._cap is None:
            raise CameraError("camera is not open")
        ok, bgr = self._cap.read()
        ts = time.time()
        if not ok:
            if self._is_file:
                if not self._loop or not self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
                    raise EndOfStream
                ok, bgr = self._cap.read()
            if not ok:
                time.sleep(min(timeout, 0.05))
                return None
        self._index += 1
        return Frame(image=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), ts=ts, index=self._index)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
