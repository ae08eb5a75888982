"""OpenCV capture: a device index, a /dev/video* path, a GStreamer pipeline, or a video file."""

from __future__ import annotations

import logging
import os
import time

import cv2
import numpy as np

from edge.cameras.base import CameraError, EndOfStream, two_streams
from edge.cameras.grabber import FrameGrabber
from edge.cameras.pace import Pacer
from edge.types import Frame

log = logging.getLogger(__name__)

STAT_EVERY = 30  # frames of a looping file between checks that the file is still there


def _rgb(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _has_gstreamer() -> bool:
    return any(
        "GStreamer" in line and "YES" in line for line in cv2.getBuildInformation().splitlines()
    )


def _is_pipeline(source: str) -> bool:
    return "!" in source  # GStreamer syntax, e.g. a Jetson nvarguscamerasrc ... ! appsink


def file_rate(cap: cv2.VideoCapture, fallback: float) -> float:
    """The frame rate a video file states, or `fallback` when it states none that is usable."""
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if 0.1 <= fps <= 240 else fallback  # 0, NaN or 1000 (some muxers): not a rate


class OpenCVCamera:
    """A cv2.VideoCapture: a live source is read on a grabber thread, a video file in line.

    A video file plays in real time at the rate it states (`fps` when it states none), unless
    `realtime` is False: then as fast as the loop takes frames. Live sources ask for `fps`.
    """

    def __init__(
        self,
        source: str,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        loop: bool = False,
        is_file: bool = False,
        small: tuple[int, int] | None = None,
        realtime: bool = True,
    ) -> None:
        self._source = source
        self._size = (width, height)
        self._fps = fps
        self._loop = loop
        self._is_file = is_file
        self._small = small  # two streams: frames this size, the capture as `full`
        self._cap: cv2.VideoCapture | None = None
        self._grabber: FrameGrabber | None = None
        self._index = 0
        self._pass_frames = 0  # frames read from a looping file since its last rewind
        self._first_pass: int | None = None
        self._identity: tuple[int, int, int] | None = None  # a file's (dev, inode, size)
        self._unreadable = 0  # from grabbers already closed
        self._realtime = realtime
        self._pace = Pacer(None)

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
            hint = ""
            if _is_pipeline(src) and not _has_gstreamer():
                hint = (
                    " (this OpenCV has no GStreamer; pip wheels lack it: use apt's python3-opencv)"
                )
            raise CameraError(f"cannot open camera source {src!r}{hint}")
        if not self._is_file and not _is_pipeline(src):
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
            cap.set(cv2.CAP_PROP_FPS, self._fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale queue
        self._cap = cap
        if self._is_file and self._realtime:
            rate = file_rate(cap, self._fps)
            self._pace = Pacer(1.0 / rate)
            log.info("video %s plays at %.2f fps (real time)", src, rate)
        self._pass_frames, self._first_pass = 0, None
        if self._is_file:
            try:
                st = os.stat(src)
            except OSError as exc:
                cap.release()
                raise CameraError(f"cannot open video {src!r}: {exc}") from exc
            self._identity = (st.st_dev, st.st_ino, st.st_size)
        if not self._is_file:  # a live driver may block: read it on its own thread
            self._grabber = FrameGrabber(self._grab, _rgb, name=f"camera {src[:20]}")
        log.info("opened camera %r", src)

    @property
    def unreadable(self) -> int:
        """Failed reads of a live source (skipped; the loop's stall timer covers a dead one)."""
        return self._unreadable + (self._grabber.failed if self._grabber else 0)

    def read(self, timeout: float) -> Frame | None:
        if self._cap is None:
            raise CameraError("camera is not open")
        if self._grabber is not None:
            frame = self._grabber.read(timeout)
            return (
                frame if frame is None or self._small is None else two_streams(frame, self._small)
            )
        if not self._pace.wait(timeout):
            return None
        self._pace.take()
        ok, bgr = self._cap.read()
        if not ok:
            if not self._loop:
                raise EndOfStream
            self._check_pass()
            ok, bgr = self._cap.read()
            if not ok:
                raise CameraError(f"video {self._source!r}: no frame after rewinding")
        self._pass_frames += 1
        if self._loop and self._pass_frames % STAT_EVERY == 0:
            self._check_file()
        self._index += 1
        frame = Frame(image=_rgb(bgr), ts=time.time(), index=self._index)
        return frame if self._small is None else two_streams(frame, self._small)

    def _check_file(self) -> None:
        """A looping file that was removed, truncated or replaced is a camera that went away.

        FFmpeg can go on decoding its buffers of a truncated file (stale frames forever), so
        the file itself is checked: the same inode and size as when it was opened.
        """
        try:
            st = os.stat(self._source)
            now: tuple[int, int, int] | None = (st.st_dev, st.st_ino, st.st_size)
        except OSError:
            now = None
        if now != self._identity:
            raise CameraError(f"video {self._source!r} was removed or changed while looping")

    def _check_pass(self) -> None:
        """Rewind a looping file; one that got shorter than its first pass went away.

        A file truncated under the reader still yields FFmpeg's buffered frame after each
        rewind: a stale image forever, unless the short pass is taken as a lost camera (the
        loop stops the vehicle and reopens the file with backoff).
        """
        assert self._cap is not None
        self._check_file()
        done, self._pass_frames = self._pass_frames, 0
        if self._first_pass is None:
            self._first_pass = done
        if done < self._first_pass or not self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
            raise CameraError(
                f"video {self._source!r} went away while looping "
                f"({done} of {self._first_pass} frames in the last pass)"
            )

    def _grab(self) -> np.ndarray | None:
        cap = self._cap
        if cap is None:
            return None
        ok, bgr = cap.read()
        return bgr if ok else None

    def close(self) -> None:
        if self._grabber is not None:
            self._unreadable += self._grabber.failed
            if not self._grabber.stop(1.0):
                # The driver is stuck in read(): releasing now could crash; exit cleans up.
                log.warning("camera read is hung; leaving the device to process exit")
                self._cap = None
            self._grabber = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None
